package stacks

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Stack names. The forwarders carry their region so several can live side by side.
const (
	AuditorStackName   = "Sek"
	forwarderStackName = "SekEvents-"
)

// ForwarderStackName is the stack id of the forwarder in region.
func ForwarderStackName(region string) string { return forwarderStackName + region }

// Build adds the auditor stack and one forwarder per extra region to app.
func Build(app awscdk.App, cfg Config, readActions []string) (*AuditorStack, []*ForwarderStack, error) {
	if err := cfg.CheckSkips(RegistryCheckIDs()); err != nil {
		return nil, nil, err
	}
	var env *awscdk.Environment
	if cfg.HomeRegion != "" {
		env = &awscdk.Environment{Region: jsii.String(cfg.HomeRegion)}
		if acct := os.Getenv("CDK_DEFAULT_ACCOUNT"); acct != "" {
			env.Account = jsii.String(acct)
		}
	}
	home, err := NewAuditorStack(app, AuditorStackName, AuditorProps{
		StackProps:  awscdk.StackProps{Env: env},
		Config:      cfg,
		ReadActions: readActions,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("auditor stack: %w", err)
	}
	var fws []*ForwarderStack
	for _, r := range cfg.ForwarderRegions() {
		var fenv *awscdk.Environment
		if env != nil && env.Account != nil {
			fenv = &awscdk.Environment{Account: env.Account}
		}
		f, err := NewForwarderStack(app, ForwarderStackName(r), ForwarderProps{
			StackProps: awscdk.StackProps{Env: fenv},
			Region:     r,
			HomeRegion: cfg.HomeRegion,
			Config:     cfg,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("forwarder stack for %s: %w", r, err)
		}
		fws = append(fws, f)
	}
	return home, fws, nil
}

// ApplyNag runs cdk-nag's AwsSolutions pack over everything in the app at synthesis. Findings
// become error/warning annotations; suppressed ones carry their reason in the template metadata.
func ApplyNag(app awscdk.App) {
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

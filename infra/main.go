// Command infra is Sek's CDK app. The CDK CLI runs it for `cdk synth|deploy|destroy` (see
// cdk.json); `make synth` runs it directly with CDK_OUTDIR=cdk.out, no CLI or network needed.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/sek-dev/sek/infra/stacks"
)

func main() {
	err := run()
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sek infra:", err)
		os.Exit(1)
	}
}

func run() error {
	props := &awscdk.AppProps{}
	// The CLI passes cdk.json's context (plus -c overrides) in CDK_CONTEXT_JSON. Run directly,
	// the app reads cdk.json itself so `make synth` honours the same settings.
	if os.Getenv("CDK_CONTEXT_JSON") == "" {
		ctx, err := cdkJSONContext("cdk.json")
		if err != nil {
			return err
		}
		props.Context = &ctx
	}
	app := awscdk.NewApp(props)
	cfg, err := stacks.FromContext(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) })
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if _, _, err := stacks.Build(app, cfg, stacks.RegistryReadActions()); err != nil {
		return err
	}
	// The organization stacks join the app when sek:org:organizationId is set (docs/organization.md).
	orgCfg, withOrg, err := stacks.OrgFromContext(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) })
	if err != nil {
		return fmt.Errorf("organization configuration: %w", err)
	}
	if withOrg {
		if _, _, err := stacks.BuildOrganization(app, cfg, orgCfg, stacks.RegistryReadActions()); err != nil {
			return err
		}
	}
	stacks.ApplyNag(app)
	asm := app.Synth(nil)
	// cdk-nag reports through error annotations, which the CDK CLI turns into a failed synth
	// but a direct run would only write to the assembly. Fail here too, naming each finding.
	var findings []string
	for _, st := range *asm.Stacks() {
		for _, m := range *st.Messages() {
			if m.Entry != nil && *m.Entry.Type == "aws:cdk:error" {
				findings = append(findings, fmt.Sprintf("%s: %v", *m.Id, m.Entry.Data))
			}
		}
	}
	if len(findings) > 0 {
		return fmt.Errorf("synthesis reported %d error(s):\n  %s", len(findings), strings.Join(findings, "\n  "))
	}
	return nil
}

func cdkJSONContext(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]any{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w (it must be valid JSON)", path, err)
	}
	if doc.Context == nil {
		doc.Context = map[string]any{}
	}
	return doc.Context, nil
}

package cli

import (
	"fmt"
	"regexp"
	"sort"

	"github.com/spf13/cobra"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks"
	"github.com/sek-dev/sek/pkg/report"
)

// Security Hub actions `sek scan --publish` calls. Import is scoped to the account's default
// product and the rest to its hub, which is as narrow as Security Hub's IAM resource types allow.
var (
	publishImportActions = []string{"securityhub:BatchImportFindings"}
	publishHubActions    = []string{"securityhub:BatchUpdateFindings", "securityhub:DescribeHub", "securityhub:GetFindings"}
)

var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// scopedReads are read actions that return data rather than configuration, granted only on what
// the checks read; the Lambda role (infra/stacks/permissions.go) scopes them the same way. The
// node-group check reads only AWS's public AMI release parameters, never the account's own.
var scopedReads = map[string]string{
	"ssm:GetParameter": "arn:%s:ssm:*::parameter/aws/service/*",
}

// policyDocument is an IAM identity-based policy.
type policyDocument struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

type policyStatement struct {
	Sid      string   `json:"Sid"`
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource []string `json:"Resource"`
}

// iamPolicy builds the least-privilege policy for scanning (and, with publish, publishing) from
// the check registry, so a new check cannot need an action the policy lacks.
func iamPolicy(checks []audit.Check, publish bool, partition, account string) policyDocument {
	var wildcard []string
	scoped := map[string][]string{} // resource → actions
	for _, a := range audit.Permissions(checks, eks.BasePermissions()...) {
		if r, ok := scopedReads[a]; ok {
			res := fmt.Sprintf(r, partition)
			scoped[res] = append(scoped[res], a)
			continue
		}
		wildcard = append(wildcard, a)
	}
	doc := policyDocument{Version: "2012-10-17", Statement: []policyStatement{{
		Sid:    "SekReadOnlyAudit",
		Effect: "Allow",
		Action: wildcard,
		// Describe/List/Get calls on EKS, EC2, KMS and friends are account-wide reads of
		// configuration; most have no resource-level scoping, and the scan must see every cluster.
		Resource: []string{"*"},
	}}}
	resources := make([]string, 0, len(scoped))
	for r := range scoped {
		resources = append(resources, r)
	}
	sort.Strings(resources)
	for i, r := range resources {
		doc.Statement = append(doc.Statement, policyStatement{Sid: fmt.Sprintf("SekReadScoped%d", i+1), Effect: "Allow", Action: scoped[r], Resource: []string{r}})
	}
	if publish {
		doc.Statement = append(doc.Statement,
			policyStatement{Sid: "SekImportOwnFindings", Effect: "Allow", Action: publishImportActions,
				Resource: []string{fmt.Sprintf("arn:%s:securityhub:*:%s:product/%s/default", partition, account, account)}},
			policyStatement{Sid: "SekManageOwnFindings", Effect: "Allow", Action: publishHubActions,
				Resource: []string{fmt.Sprintf("arn:%s:securityhub:*:%s:hub/default", partition, account)}},
		)
	}
	return doc
}

func newIAMPolicyCmd(streams IO) *cobra.Command {
	var (
		publish            bool
		account, partition string
	)
	cmd := &cobra.Command{
		Use:   "iam-policy",
		Short: "Print the least-privilege IAM policy sek needs",
		Long: `Print an IAM policy document (JSON) with exactly the read actions the check catalog needs.
With --publish it adds the Security Hub actions of 'sek scan --publish', scoped to the account's
default product and hub; --account is then required. It needs no AWS credentials.`,
		Example: `  sek iam-policy > sek-read.json
  sek iam-policy --publish --account 123456789012 > sek-publish.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if publish && account == "" {
				return usageErr("--publish needs --account: the Security Hub resources are named by the account id (for example --account 123456789012)")
			}
			if account != "" && !accountIDPattern.MatchString(account) {
				return usageErr("--account: %q is not an AWS account id: use the 12 digits, for example 123456789012", account)
			}
			switch partition {
			case "aws", "aws-cn", "aws-us-gov":
			default:
				return usageErr("--partition: unknown partition %q: use aws, aws-cn or aws-us-gov", partition)
			}
			return report.WriteJSON(streams.Stdout, iamPolicy(checksOf(), publish, partition, account))
		},
	}
	f := cmd.Flags()
	f.BoolVar(&publish, "publish", false, "add the Security Hub actions that scan --publish needs (default false)")
	f.StringVar(&account, "account", "", "12-digit account id that owns the Security Hub findings; required with --publish (default: none)")
	f.StringVar(&partition, "partition", "aws", "AWS partition: aws, aws-cn or aws-us-gov")
	return cmd
}

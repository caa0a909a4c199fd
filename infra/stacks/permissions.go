package stacks

import (
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks"
)

// RegistryReadActions is the union of the IAM actions every registered check and discovery
// need. The role's read statement is built from it, so a new check cannot ship without its
// permission reaching the deployed role.
func RegistryReadActions() []string {
	return audit.Permissions(eks.Checks(), eks.BasePermissions()...)
}

// RegistryCheckIDs are the ids of every registered check, which skip lists must name.
func RegistryCheckIDs() []string {
	var ids []string
	for _, c := range eks.Checks() {
		ids = append(ids, c.ID)
	}
	sort.Strings(ids)
	return ids
}

// Security Hub actions the publisher needs. Import is scoped to the account's own default
// product; the others act on the account's hub.
const (
	ActionImportFindings = "securityhub:BatchImportFindings"
	ActionGetFindings    = "securityhub:GetFindings"
	ActionUpdateFindings = "securityhub:BatchUpdateFindings"
	ActionDescribeHub    = "securityhub:DescribeHub"
	ActionInvokeFunction = "lambda:InvokeFunction"
)

// readVerbs are the action-name prefixes IAM uses for calls that change nothing.
var readVerbs = []string{"Describe", "List", "Get", "BatchGet"}

// IsReadAction reports whether an IAM action only reads ("ec2:DescribeRegions"). Anything else
// is treated as a write and may never be granted on "*".
func IsReadAction(action string) bool {
	_, name, ok := strings.Cut(action, ":")
	if !ok {
		return false
	}
	for _, v := range readVerbs {
		// The verb must be a whole word: "ListClusters", not "Listen".
		if strings.HasPrefix(name, v) && len(name) > len(v) && unicode.IsUpper(rune(name[len(v)])) {
			return true
		}
	}
	return false
}

// validateReadActions refuses the registry's actions if any is malformed, not read-only, or a
// read of data (secrets, object content) without a narrower resource in scopedReadResources:
// the read statement grants them on every resource.
func validateReadActions(actions []string) ([]string, error) {
	if len(actions) == 0 {
		return nil, fmt.Errorf("no read actions: the check registry returned no permissions, so the auditor could not discover anything")
	}
	out := append([]string(nil), actions...)
	sort.Strings(out)
	var bad []string
	for _, a := range out {
		svc, name, ok := strings.Cut(a, ":")
		switch {
		case !ok || svc == "" || name == "" || strings.ContainsAny(a, "* "):
			bad = append(bad, fmt.Sprintf("%q is not a single IAM action", a))
		case !IsReadAction(a):
			bad = append(bad, fmt.Sprintf("%q is not read-only; a check that needs it must get its own resource-scoped statement", a))
		case isDataRead(a) && scopedReadResources[a] == nil:
			bad = append(bad, fmt.Sprintf("%q reads data, not configuration; add its resources to scopedReadResources in infra/stacks/permissions.go", a))
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("check registry permissions: %s", strings.Join(bad, "; "))
	}
	return out, nil
}

// dataReads return secrets or content rather than configuration, so they are never granted on
// "*", even though their names read like any other Get.
var dataReads = []string{
	"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory",
	"secretsmanager:GetSecretValue", "s3:GetObject", "lambda:GetFunction", "dynamodb:GetItem",
	"dynamodb:BatchGetItem", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
}

func isDataRead(action string) bool {
	for _, d := range dataReads {
		if action == d {
			return true
		}
	}
	return false
}

// scopedReadResources narrows read actions to what the checks actually read. The node group
// version check reads only AWS's public AMI release parameters (/aws/service/...), which live
// under an account-less ARN in every region, not the account's own parameters and secrets.
var scopedReadResources = map[string][]string{
	"ssm:GetParameter": {"arn:%[1]s:ssm:*::parameter/aws/service/*"},
}

// splitReads separates the actions granted on "*" from those with narrower resources, which it
// groups by resource list.
func splitReads(actions []string) (wildcard []string, scoped map[string][]string) {
	scoped = map[string][]string{}
	for _, a := range actions {
		res, ok := scopedReadResources[a]
		if !ok {
			wildcard = append(wildcard, a)
			continue
		}
		key := strings.Join(res, ",")
		scoped[key] = append(scoped[key], a)
	}
	return wildcard, scoped
}

// addReadStatements grants the registry's read actions to a role: configuration reads on "*",
// scoped reads on their narrower resources, with the cdk-nag reason for the latter's wildcards.
// Every role that carries the registry's permissions uses it, so they all scope alike.
func addReadStatements(role awsiam.Role, reads []string) {
	wildcard, scoped := splitReads(reads)
	role.AddToPolicy(readStatement(wildcard))
	for _, st := range scopedReadStatements(scoped) {
		role.AddToPolicy(st)
	}
	var findings []string
	for _, a := range reads {
		for _, r := range scopedReadResources[a] {
			findings = append(findings, "Resource::"+fmt.Sprintf(r, "<AWS::Partition>"))
		}
	}
	if len(findings) > 0 {
		suppress(role, true, nagIAM5,
			"Scoped reads: ssm:GetParameter only on AWS's public parameters (/aws/service/*, e.g. the EKS AMI release versions) in any region the auditor scans, never the account's own parameters.",
			findings...)
	}
}

// scopedReadStatements grants the narrowed read actions, one statement per resource list.
func scopedReadStatements(scoped map[string][]string) []awsiam.PolicyStatement {
	part := *awscdk.Aws_PARTITION()
	keys := make([]string, 0, len(scoped))
	for k := range scoped {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []awsiam.PolicyStatement
	for i, k := range keys {
		var res []string
		for _, r := range strings.Split(k, ",") {
			res = append(res, fmt.Sprintf(r, part))
		}
		out = append(out, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String(fmt.Sprintf("ReadScopedFromCheckRegistry%d", i+1)),
			Actions:   jsii.Strings(scoped[k]...),
			Resources: jsii.Strings(res...),
		}))
	}
	return out
}

// readStatement grants the registry's read actions. They use "*" because most of them (eks
// ListClusters, ec2 DescribeRegions/DescribeSubnets, sts GetCallerIdentity, ...) have no
// resource-level support, and the auditor must see every cluster in every region.
func readStatement(actions []string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadInventoryFromCheckRegistry"),
		Actions:   jsii.Strings(actions...),
		Resources: jsii.Strings("*"),
	})
}

// securityHubStatements let the auditor publish into the calling account's Security Hub in any
// region (findings go to the region of the cluster) and nowhere else.
func securityHubStatements(stack awscdk.Stack) []awsiam.PolicyStatement {
	acct, part := *awscdk.Aws_ACCOUNT_ID(), *awscdk.Aws_PARTITION()
	product := fmt.Sprintf("arn:%s:securityhub:*:%s:product/%s/default", part, acct, acct)
	hub := fmt.Sprintf("arn:%s:securityhub:*:%s:hub/default", part, acct)
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ImportOwnFindings"),
			Actions:   jsii.Strings(ActionImportFindings),
			Resources: jsii.Strings(product),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReconcileOwnFindings"),
			Actions:   jsii.Strings(ActionDescribeHub, ActionGetFindings, ActionUpdateFindings),
			Resources: jsii.Strings(hub),
		}),
	}
}

// selfInvokeStatement lets the function start copies of itself, one per region, and nothing
// else. The ARN is built from the fixed function name, not from the function construct, so the
// role does not depend on the function that depends on the role. It is the unqualified ARN
// only: the Lambda must invoke itself by AWS_LAMBDA_FUNCTION_NAME, not by a version or alias.
func selfInvokeStatement(stack awscdk.Stack, functionName string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:     jsii.String("FanOutToItself"),
		Actions: jsii.Strings(ActionInvokeFunction),
		Resources: &[]*string{stack.FormatArn(&awscdk.ArnComponents{
			Service:      jsii.String("lambda"),
			Resource:     jsii.String("function"),
			ResourceName: jsii.String(functionName),
			ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
		})},
	})
}

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

// validateReadActions refuses the registry's actions if any is malformed or not read-only: the
// read statement grants them on every resource, which must never include a write.
func validateReadActions(actions []string) ([]string, error) {
	if len(actions) == 0 {
		return nil, fmt.Errorf("no read actions: the check registry returned no permissions, so the auditor could not discover anything")
	}
	out := append([]string(nil), actions...)
	sort.Strings(out)
	var bad []string
	for _, a := range out {
		svc, name, ok := strings.Cut(a, ":")
		if !ok || svc == "" || name == "" || strings.ContainsAny(a, "* ") {
			bad = append(bad, fmt.Sprintf("%q is not a single IAM action", a))
		} else if !IsReadAction(a) {
			bad = append(bad, fmt.Sprintf("%q is not read-only; a check that needs it must get its own resource-scoped statement", a))
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("check registry permissions: %s", strings.Join(bad, "; "))
	}
	return out, nil
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

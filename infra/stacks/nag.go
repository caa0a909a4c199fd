package stacks

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// cdk-nag AwsSolutions rule ids this app suppresses, each with its reason at the call site.
const (
	nagIAM5 = "AwsSolutions-IAM5" // wildcard in an IAM policy
	nagSQS3 = "AwsSolutions-SQS3" // queue without a dead-letter queue
)

// suppress records a cdk-nag suppression with its reason. appliesTo narrows an IAM5
// suppression to the listed wildcard findings, so a new wildcard is still reported.
func suppress(c constructs.IConstruct, children bool, rule, reason string, appliesTo ...string) {
	s := &cdknag.NagPackSuppression{Id: jsii.String(rule), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		a := make([]any, len(appliesTo))
		for i, v := range appliesTo {
			a[i] = v
		}
		s.AppliesTo = &a
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{s}, jsii.Bool(children))
}

// suppressAuditorFindings documents the auditor role's deliberate wildcards.
func suppressAuditorFindings(s *AuditorStack) {
	suppress(s.Role, true, nagIAM5,
		"Read-only Describe/List/Get actions generated from the check registry: most (eks:ListClusters, ec2:DescribeRegions, sts:GetCallerIdentity, ...) have no resource-level permissions, and the auditor must read every cluster in the account. No write action is granted on *.",
		"Resource::*")
	suppress(s.Role, true, nagIAM5,
		"Security Hub import/reconcile is limited to this account's own default product and hub; the region is * because each finding is published in its cluster's region.",
		"Resource::arn:<AWS::Partition>:securityhub:*:<AWS::AccountId>:product/<AWS::AccountId>/default",
		"Resource::arn:<AWS::Partition>:securityhub:*:<AWS::AccountId>:hub/default")
}

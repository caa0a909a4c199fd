package asff

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/sek-dev/sek/pkg/audit"
)

// FuzzResourceTypeFromARN feeds arbitrary resource ARNs (they come from AWS responses) to the
// ASFF resource typing: it never panics, names a type only for a well-formed ARN, and always
// yields one of the types Security Hub accepts.
func FuzzResourceTypeFromARN(f *testing.F) {
	for _, s := range []string{
		"arn:aws:eks:us-east-1:123456789012:cluster/prod",
		"arn:aws:eks:us-east-1:123456789012:nodegroup/prod/ng/uuid",
		"arn:aws-us-gov:iam::123456789012:role/x",
		"arn:aws:kms:eu-west-1:123456789012:key/1234",
		"arn:aws:eks:us-east-1:123456789012:",
		"arn:::::",
		"arn:aws:eks",
		"not an arn",
		"arn:aws:ec2:us-east-1:123456789012:security-group/sg-1:extra:colons",
		"",
	} {
		f.Add(s)
	}
	known := map[string]bool{ResourceAccount: true, ResourceOther: true}
	for _, t := range arnTypes {
		known[t] = true
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := ResourceType(audit.Result{ResourceARN: s, AccountID: "123456789012"})
		if !known[got] {
			t.Fatalf("ResourceType(%q) = %q, not an ASFF type Sek uses", s, got)
		}
		if _, err := arn.Parse(s); err != nil && arnType(s) != "" {
			t.Fatalf("arnType(%q) = %q for a string that is not an ARN", s, arnType(s))
		}
	})
}

package collect

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// FuzzAccountFromARN: the account of an ARN from an API response decides whether a principal or
// key is cross-account. Any input is safe, and only a well-formed ARN yields an account.
func FuzzAccountFromARN(f *testing.F) {
	for _, s := range []string{
		"arn:aws:eks:us-east-1:123456789012:cluster/prod",
		"arn:aws:iam::123456789012:role/a:b",
		"arn:aws:kms:us-east-1::key/1",
		"arn:aws:eks:us-east-1:123456789012",
		"a:b:c:d:e:f",
		"", ":::::", "arn:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := accountFromARN(s)
		a, err := arn.Parse(s)
		switch {
		case err != nil && got != "":
			t.Fatalf("accountFromARN(%q) = %q for a string that is not an ARN", s, got)
		case err == nil && got != a.AccountID:
			t.Fatalf("accountFromARN(%q) = %q, want %q", s, got, a.AccountID)
		case strings.Contains(got, ":"):
			t.Fatalf("account %q contains a separator", got)
		}
	})
}

package auditor

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzClusterFromARN: resource ARNs in CloudTrail events are attacker-influenced text (any caller
// can make a failing EKS call). The cluster name taken from one is either "" or a valid cluster
// name that really is in the ARN.
func FuzzClusterFromARN(f *testing.F) {
	for _, s := range []string{
		"arn:aws:eks:us-east-1:123456789012:cluster/prod",
		"arn%3Aaws%3Aeks%3Aus-east-1%3A123456789012%3Acluster%2Fprod",
		"arn:aws:eks:us-east-1:123456789012:nodegroup/prod/ng/1",
		"arn:aws:eks:us-east-1:123456789012:cluster/../../etc",
		"arn:aws:eks:us-east-1:123456789012:cluster/",
		"arn:aws:iam::123456789012:role/cluster/prod",
		"%", "arn:aws:eks", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := ClusterFromARN(s)
		if got == "" {
			return
		}
		if !ValidClusterName(got) {
			t.Fatalf("ClusterFromARN(%q) = %q, not a valid cluster name", s, got)
		}
		u, err := url.PathUnescape(s)
		if err != nil {
			u = s
		}
		if !strings.Contains(u, "/"+got) || !strings.HasPrefix(u, "arn:") {
			t.Fatalf("ClusterFromARN(%q) = %q, which is not the ARN's cluster", s, got)
		}
	})
}

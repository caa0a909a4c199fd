package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sek-dev/sek/pkg/audit"
)

func TestTableOfSeveralAccounts(t *testing.T) {
	rep := &audit.Report{
		Regions: []string{"us-east-1"},
		Results: []audit.Result{
			{AccountID: "111111111111", Region: "us-east-1", ClusterName: "shared", CheckID: "EKS_A", Status: audit.Fail, Severity: audit.High, ResourceType: "AwsEksCluster"},
			{AccountID: "222222222222", Region: "us-east-1", ClusterName: "shared", CheckID: "EKS_A", Status: audit.Pass, Severity: audit.High, ResourceType: "AwsEksCluster"},
		},
		Errors:    []audit.ScanError{{Scope: audit.ScopeRef{AccountID: "333333333333"}, Stage: "assume-role", Message: "AccessDenied"}},
		Completed: []audit.ScopeRef{{AccountID: "111111111111", Region: "us-east-1"}, {AccountID: "222222222222", Region: "us-east-1"}},
	}
	accounts := audit.SummarizeAccounts(rep, []string{"111111111111", "222222222222", "333333333333"})
	accounts[0].Name = "payments"
	var b bytes.Buffer
	if err := Table(&b, rep, TableOptions{Accounts: accounts}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "ACCOUNT") || !strings.HasPrefix(lines[1], "111111111111") {
		t.Fatalf("the findings table lacks the account column:\n%s", out)
	}
	for _, want := range []string{
		"Per account:",
		"111111111111  payments  complete",
		"333333333333  -         failed",
		// Same-named clusters of two accounts are two rows.
		"111111111111/us-east-1/shared", "222222222222/us-east-1/shared",
		"across 2 clusters in 1 regions of 3 accounts.",
		"333333333333 [assume-role]: AccessDenied",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// A single-account table keeps its columns.
	b.Reset()
	if err := Table(&b, rep, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(b.String(), "ACCOUNT") || strings.Contains(b.String(), "Per account:") {
		t.Errorf("single-account table changed:\n%s", b.String())
	}
}

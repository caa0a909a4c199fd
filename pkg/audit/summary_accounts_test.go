package audit

import "testing"

func TestSummarizeAccounts(t *testing.T) {
	r := &Report{
		Results: []Result{
			{AccountID: "111111111111", Region: "us-east-1", ClusterName: "shared", Status: Fail, Severity: High},
			{AccountID: "111111111111", Region: "us-east-1", ClusterName: "shared", Status: Pass},
			{AccountID: "222222222222", Region: "us-east-1", ClusterName: "shared", Status: Fail, Severity: Low, Muted: true},
			{AccountID: "222222222222", Region: "eu-west-1", ClusterName: "etl", Status: Error},
		},
		Errors: []ScanError{
			{Scope: ScopeRef{AccountID: "222222222222", Region: "eu-west-1", Target: "etl2"}, Stage: "collect"},
			{Scope: ScopeRef{AccountID: "333333333333"}, Stage: "assume-role"},
		},
		Completed: []ScopeRef{
			{AccountID: "111111111111", Region: "us-east-1"}, {AccountID: "111111111111", Region: "us-east-1", Target: "shared"},
			{AccountID: "222222222222", Region: "us-east-1"}, {AccountID: "222222222222", Region: "eu-west-1", Target: "etl"},
			{AccountID: "444444444444", Region: "us-east-1"},
		},
	}
	got := SummarizeAccounts(r, []string{"111111111111", "222222222222", "333333333333", "444444444444"})
	if len(got) != 4 {
		t.Fatalf("got %d summaries", len(got))
	}
	a, b, c, d := got[0], got[1], got[2], got[3]
	if a.Status != AccountComplete || a.Clusters != 1 || a.Regions != 1 || a.ByStatus[Fail] != 1 || a.FailedBy[High] != 1 {
		t.Errorf("account a: %+v", a)
	}
	if b.Status != AccountIncomplete || b.Clusters != 2 || b.Regions != 1 || b.Muted != 1 || b.FailedBy[Low] != 0 || b.ScopeErrors != 1 {
		t.Errorf("account b: %+v", b)
	}
	if c.Status != AccountFailed || c.ScopeErrors != 1 || c.Total != 0 {
		t.Errorf("account c: %+v", c)
	}
	if d.Status != AccountComplete || d.Total != 0 || d.Regions != 1 {
		t.Errorf("an account with no clusters is complete: %+v", d)
	}
	// Same-named clusters of two accounts are two clusters in the overall summary.
	if s := Summarize(r); s.Clusters != 3 {
		t.Errorf("Summarize clusters = %d, want 3: %v", s.Clusters, s.ByCluster)
	}
}

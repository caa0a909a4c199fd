package securityhub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/sek-dev/sek/pkg/asff"
	"github.com/sek-dev/sek/pkg/audit"
)

const (
	acct   = "123456789012"
	region = "eu-west-1"
)

var checks = []audit.Check{
	{ID: "CHECK_A", Title: "Check A", Severity: audit.High, Remediation: audit.Remediation{Text: "Fix A.", URL: "https://example.com/a"}},
	{ID: "CHECK_B", Title: "Check B", Severity: audit.Medium, Remediation: audit.Remediation{Text: "Fix B.", URL: "https://example.com/b"}},
}

func clusterARN(name string) string { return "arn:aws:eks:" + region + ":" + acct + ":cluster/" + name }

func result(cluster, check string, status audit.Status) audit.Result {
	return audit.Result{
		CheckID: check, Title: "Title of " + check, Severity: audit.High, Status: status,
		ResourceARN: clusterARN(cluster), ResourceType: "AwsEksCluster", Region: region, AccountID: acct,
		ClusterName: cluster, Message: check + " on " + cluster + " is " + string(status),
		Scope: audit.ScopeRef{AccountID: acct, Region: region, Target: cluster},
	}
}

func id(cluster, check string) string { return asff.FindingID(clusterARN(cluster), check) }

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newPublisher(t *testing.T, hubs map[string]*fakeHub, c *clock, mod func(*Options)) *Publisher {
	t.Helper()
	opts := Options{
		Client: func(r string) API {
			if h, ok := hubs[r]; ok {
				return h
			}
			t.Fatalf("no fake hub for region %s", r)
			return nil
		},
		AccountID: acct, Version: "test", Checks: checks, Now: c.now,
		ImportRate: 1000, GetRate: 1000, UpdateRate: 1000, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
	}
	if mod != nil {
		mod(&opts)
	}
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func publish(t *testing.T, p *Publisher, rep *audit.Report, po PublishOptions) *Outcome {
	t.Helper()
	out, err := p.Publish(context.Background(), rep, po)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func assertValidImports(t *testing.T, h *fakeHub) {
	t.Helper()
	for _, err := range h.invalid {
		t.Errorf("publisher sent an invalid finding: %v", err)
	}
}

func regionScope() audit.ScopeRef { return audit.ScopeRef{AccountID: acct, Region: region} }
func clusterScope(n string) audit.ScopeRef {
	return audit.ScopeRef{AccountID: acct, Region: region, Target: n}
}
func rep(rs []audit.Result, done ...audit.ScopeRef) *audit.Report {
	return &audit.Report{Results: rs, Completed: done}
}

func TestBatchesRespectCountAndBytes(t *testing.T) {
	mk := func(sizes ...int) []sized {
		out := make([]sized, len(sizes))
		for i, s := range sizes {
			out[i] = sized{f: shtypes.AwsSecurityFinding{Id: aws.String(fmt.Sprint(i))}, size: s}
		}
		return out
	}
	count := func(bs [][]sized) []int {
		var n []int
		for _, b := range bs {
			n = append(n, len(b))
		}
		return n
	}
	many := make([]int, 250)
	for i := range many {
		many[i] = 10
	}
	if got := count(batches(mk(many...), 100, 1<<20)); !slices.Equal(got, []int{100, 100, 50}) {
		t.Errorf("250 small findings batched as %v, want [100 100 50]", got)
	}
	// Budget 100 bytes: envelope 15 + 40 + 1 + 40 = 96 fits, a third does not.
	if got := count(batches(mk(40, 40, 40, 40, 40), 100, 100)); !slices.Equal(got, []int{2, 2, 1}) {
		t.Errorf("byte-limited batches %v, want [2 2 1]", got)
	}
	if got := count(batches(mk(500, 10), 100, 100)); !slices.Equal(got, []int{1, 1}) {
		t.Errorf("oversized finding batched as %v, want it alone", got)
	}
	if got := batches(nil, 100, 100); got != nil {
		t.Errorf("no findings gave %d batches", len(got))
	}
}

func TestPublishBatchesByCountAndBytes(t *testing.T) {
	h := newFakeHub()
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	var rs []audit.Result
	for i := range 230 {
		rs = append(rs, result(fmt.Sprintf("c%03d", i), "CHECK_A", audit.Fail))
	}
	p := newPublisher(t, map[string]*fakeHub{region: h}, c, nil)
	out := publish(t, p, rep(rs), PublishOptions{})
	if out.Imported != 230 || out.Created != 230 || len(out.Failed) != 0 {
		t.Fatalf("outcome %+v", out)
	}
	var sizes []int
	for _, call := range h.importCalls {
		sizes = append(sizes, len(call.ids))
	}
	// Batches are sent several at a time, so they may arrive in any order.
	slices.Sort(sizes)
	if !slices.Equal(sizes, []int{30, 100, 100}) {
		t.Errorf("import batch sizes %v, want 100, 100 and 30", sizes)
	}

	// Now a byte budget that fits about ten findings per request.
	h2 := newFakeHub()
	one, _ := asff.Size(mustMap(t, rs[0]))
	limit := one*10 + 200
	p2 := newPublisher(t, map[string]*fakeHub{region: h2}, c, func(o *Options) { o.MaxBatchBytes = limit })
	out = publish(t, p2, rep(rs[:50]), PublishOptions{})
	if out.Imported != 50 {
		t.Fatalf("imported %d of 50: %+v", out.Imported, out.Failed)
	}
	if len(h2.importCalls) < 5 {
		t.Errorf("%d requests for 50 findings under a %d-byte budget; want at least 5", len(h2.importCalls), limit)
	}
	for _, call := range h2.importCalls {
		if call.bytes > limit {
			t.Errorf("request of %d bytes exceeds the %d-byte budget", call.bytes, limit)
		}
	}
	assertValidImports(t, h)
	assertValidImports(t, h2)
}

func mustMap(t *testing.T, r audit.Result) shtypes.AwsSecurityFinding {
	t.Helper()
	f, err := asff.NewMapper("test", checks).Map(r, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestDefaultPacingMatchesQuotas(t *testing.T) {
	p, err := New(Options{Client: func(string) API { return newFakeHub() }, AccountID: acct})
	if err != nil {
		t.Fatal(err)
	}
	l := p.regionLimits(region)
	if l.importL.Limit() != 10 || l.getL.Limit() != 3 || l.updateL.Limit() != 10 {
		t.Errorf("rates import=%v get=%v update=%v, want 10/3/10", l.importL.Limit(), l.getL.Limit(), l.updateL.Limit())
	}
	if l.importL.Burst() > 30 || l.getL.Burst() > 6 {
		t.Errorf("bursts import=%d get=%d exceed the quotas 30/6", l.importL.Burst(), l.getL.Burst())
	}
}

func TestCallsArePaced(t *testing.T) {
	h := newFakeHub()
	h.pageSize = 10
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	for i := range 50 {
		f := mustMap(t, result(fmt.Sprintf("old%02d", i), "CHECK_A", audit.Fail))
		h.put(f)
	}
	var rs []audit.Result
	for i := range 500 {
		rs = append(rs, result(fmt.Sprintf("c%03d", i), "CHECK_B", audit.Fail))
	}
	// 20 imports/s and 10 reads/s, burst 1: 5 import calls need ≥ 200 ms, 5 pages ≥ 400 ms.
	p := newPublisher(t, map[string]*fakeHub{region: h}, c, func(o *Options) {
		o.ImportRate, o.ImportBurst, o.GetRate, o.GetBurst = 20, 1, 10, 1
	})
	publish(t, p, rep(rs), PublishOptions{})
	if len(h.getCalls) != 5 || len(h.importCalls) != 5 {
		t.Fatalf("got %d GetFindings and %d imports, want 5 and 5", len(h.getCalls), len(h.importCalls))
	}
	gaps := func(ts []time.Time) time.Duration { return ts[len(ts)-1].Sub(ts[0]) }
	var importTimes []time.Time
	for _, call := range h.importCalls {
		importTimes = append(importTimes, call.at)
	}
	if g := gaps(h.getCalls); g < 380*time.Millisecond {
		t.Errorf("5 GetFindings at 10/s took %v, want ≥ 400ms", g)
	}
	if g := gaps(importTimes); g < 190*time.Millisecond {
		t.Errorf("5 imports at 20/s took %v, want ≥ 200ms", g)
	}
}

func TestPartialFailedFindingsAreRetriedOrReported(t *testing.T) {
	h := newFakeHub()
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	rs := []audit.Result{
		result("a", "CHECK_A", audit.Fail), result("b", "CHECK_A", audit.Fail),
		result("c", "CHECK_A", audit.Fail), result("d", "CHECK_A", audit.Fail),
	}
	h.rejectAlways[id("a", "CHECK_A")] = "InvalidInput"
	h.rejectTimes[id("b", "CHECK_A")] = 2 // retryable, succeeds on the third try
	h.rejectTimes[id("c", "CHECK_A")] = 99
	p := newPublisher(t, map[string]*fakeHub{region: h}, c, func(o *Options) { o.MaxAttempts = 4 })
	out := publish(t, p, rep(rs), PublishOptions{})

	if out.Imported != 2 {
		t.Errorf("imported %d, want 2 (b after retries, d)", out.Imported)
	}
	if _, ok := h.get(id("b", "CHECK_A")); !ok {
		t.Error("b was never stored despite retries")
	}
	byID := map[string]Failure{}
	for _, f := range out.Failed {
		byID[f.FindingID] = f
	}
	if f := byID[id("a", "CHECK_A")]; f.Code != "InvalidInput" || f.Operation != "import" {
		t.Errorf("a failure = %+v, want InvalidInput on import", f)
	}
	if f := byID[id("c", "CHECK_A")]; f.Code != "RetriesExhausted" || !strings.Contains(f.Message, "4 attempts") {
		t.Errorf("c failure = %+v, want RetriesExhausted after 4 attempts", f)
	}
	if len(out.Failed) != 2 {
		t.Errorf("failures %+v, want exactly a and c", out.Failed)
	}
	// a was tried once; b three times; c four times.
	tries := map[string]int{}
	for _, call := range h.importCalls {
		for _, i := range call.ids {
			tries[i]++
		}
	}
	if tries[id("a", "CHECK_A")] != 1 || tries[id("b", "CHECK_A")] != 3 || tries[id("c", "CHECK_A")] != 4 || tries[id("d", "CHECK_A")] != 1 {
		t.Errorf("attempts per finding %v", tries)
	}
	assertValidImports(t, h)
}

func TestThrottledCallsAreRetried(t *testing.T) {
	h := newFakeHub()
	h.throttle = 3 // the first three GetFindings/import calls are throttled
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newPublisher(t, map[string]*fakeHub{region: h}, c, func(o *Options) { o.MaxAttempts = 5 })
	out := publish(t, p, rep([]audit.Result{result("a", "CHECK_A", audit.Fail)}), PublishOptions{})
	if out.Imported != 1 || out.Problems() != 0 {
		t.Fatalf("outcome %+v; throttling should have been retried", out)
	}
	if len(h.getCalls) < 2 && len(h.importCalls) < 2 {
		t.Errorf("no call was repeated: %d gets, %d imports", len(h.getCalls), len(h.importCalls))
	}

	h2 := newFakeHub()
	h2.throttle = 1000
	p2 := newPublisher(t, map[string]*fakeHub{region: h2}, c, func(o *Options) { o.MaxAttempts = 3 })
	out = publish(t, p2, rep([]audit.Result{result("a", "CHECK_A", audit.Fail)}), PublishOptions{})
	if len(out.Errors) != 1 || !strings.Contains(out.Errors[0].Message, "TooManyRequests") || out.NotPublished != 1 {
		t.Errorf("persistent throttling outcome %+v, want one region error and the finding counted unpublished", out)
	}
}

func TestInvalidBatchIsSplitToIsolateTheBadFinding(t *testing.T) {
	h := newFakeHub()
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	var rs []audit.Result
	for i := range 8 {
		rs = append(rs, result(fmt.Sprintf("c%d", i), "CHECK_A", audit.Fail))
	}
	h.poison[id("c5", "CHECK_A")] = true
	p := newPublisher(t, map[string]*fakeHub{region: h}, c, nil)
	out := publish(t, p, rep(rs), PublishOptions{})
	if out.Imported != 7 || len(out.Failed) != 1 || out.Failed[0].FindingID != id("c5", "CHECK_A") || out.Failed[0].Code != "InvalidInputException" {
		t.Errorf("outcome imported=%d failed=%+v; want 7 imported and only c5 failed", out.Imported, out.Failed)
	}
}

func TestRegionWithoutSecurityHubIsSkipped(t *testing.T) {
	on, off := newFakeHub(), newFakeHub()
	off.disabled = true
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	rOff := result("x", "CHECK_A", audit.Fail)
	rOff.Region, rOff.ResourceARN, rOff.Scope.Region = "ap-south-2", "arn:aws:eks:ap-south-2:123456789012:cluster/x", "ap-south-2"
	empty := newFakeHub() // scanned, no clusters, no hub: nothing is lost there
	empty.disabled = true
	p := newPublisher(t, map[string]*fakeHub{region: on, "ap-south-2": off, "ca-central-1": empty}, c, nil)
	out := publish(t, p, rep([]audit.Result{result("a", "CHECK_A", audit.Fail), rOff},
		audit.ScopeRef{AccountID: acct, Region: "ap-south-2"}, audit.ScopeRef{AccountID: acct, Region: "ca-central-1"}), PublishOptions{})
	if out.Imported != 1 || len(out.SkippedRegions) != 2 || out.NotPublished != 1 {
		t.Fatalf("outcome %+v", out)
	}
	if e := out.SkippedRegions[1]; e.Region != "ca-central-1" || e.Findings != 0 {
		t.Errorf("empty region recorded as %+v", e)
	}
	s := out.SkippedRegions[0]
	if s.Region != "ap-south-2" || s.Findings != 1 || !strings.Contains(s.Reason, "not enabled") || !strings.Contains(s.Reason, "enable-security-hub") {
		t.Errorf("skipped region %+v lacks a clear reason", s)
	}
	if len(off.importCalls) != 0 || len(off.getCalls) != 0 {
		t.Error("the disabled region was called beyond DescribeHub")
	}
	if out.Problems() != 1 {
		t.Errorf("Problems() = %d, want 1: the region that lost findings counts, the empty one does not", out.Problems())
	}
}

func TestLifecycleAcrossRuns(t *testing.T) {
	h := newFakeHub()
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newPublisher(t, map[string]*fakeHub{region: h}, c, nil)
	first := []audit.Result{
		result("prod", "CHECK_A", audit.Fail), result("prod", "CHECK_B", audit.Fail),
		result("dev", "CHECK_A", audit.Fail), result("dev", "CHECK_B", audit.Pass),
	}
	out := publish(t, p, rep(first, regionScope(), clusterScope("prod"), clusterScope("dev")), PublishOptions{})
	if out.Created != 4 || out.Archived != 0 {
		t.Fatalf("first run %+v", out)
	}
	created := aws.ToString(mustGet(t, h, id("prod", "CHECK_A")).CreatedAt)
	if f := mustGet(t, h, id("dev", "CHECK_B")); f.Workflow.Status != shtypes.WorkflowStatusResolved {
		t.Errorf("a finding born passing has workflow %s, want RESOLVED", f.Workflow.Status)
	}

	// Run 2: prod's CHECK_A is fixed; the customer suppressed prod's CHECK_B, which passes too;
	// dev was deleted.
	h.setWorkflow(id("prod", "CHECK_B"), shtypes.WorkflowStatusSuppressed)
	c.advance(24 * time.Hour)
	second := []audit.Result{result("prod", "CHECK_A", audit.Pass), result("prod", "CHECK_B", audit.Pass)}
	out = publish(t, p, rep(second, regionScope(), clusterScope("prod")), PublishOptions{})
	if out.Created != 0 || out.Imported != 2 || out.Resolved != 1 || out.Archived != 2 || out.Problems() != 0 {
		t.Fatalf("second run %+v", out)
	}
	a := mustGet(t, h, id("prod", "CHECK_A"))
	if aws.ToString(a.CreatedAt) != created || aws.ToString(a.FirstObservedAt) != created {
		t.Errorf("CreatedAt/FirstObservedAt moved: %s/%s, want %s", aws.ToString(a.CreatedAt), aws.ToString(a.FirstObservedAt), created)
	}
	if got, want := aws.ToString(a.UpdatedAt), asff.FormatTime(c.t); got != want || aws.ToString(a.LastObservedAt) != want {
		t.Errorf("UpdatedAt %s, want %s", got, want)
	}
	if a.Compliance.Status != shtypes.ComplianceStatusPassed || a.Workflow.Status != shtypes.WorkflowStatusResolved {
		t.Errorf("fixed finding is %s/%s, want PASSED/RESOLVED", a.Compliance.Status, a.Workflow.Status)
	}
	if got := h.resolvedIDs(); !slices.Equal(got, []string{id("prod", "CHECK_A")}) {
		t.Errorf("BatchUpdateFindings touched %v, want only prod CHECK_A (never the SUPPRESSED one)", got)
	}
	if b := mustGet(t, h, id("prod", "CHECK_B")); b.Workflow.Status != shtypes.WorkflowStatusSuppressed {
		t.Errorf("suppressed finding now %s", b.Workflow.Status)
	}
	for _, check := range []string{"CHECK_A", "CHECK_B"} {
		f := mustGet(t, h, id("dev", check))
		if f.RecordState != shtypes.RecordStateArchived {
			t.Errorf("deleted cluster's %s is %s, want ARCHIVED", check, f.RecordState)
		}
	}
	if h.ignoredStale != 0 {
		t.Errorf("%d updates were silently ignored as stale", h.ignoredStale)
	}

	// Run 3 with a clock that went backwards: updates must still be later than the stored ones.
	c.advance(-48 * time.Hour)
	out = publish(t, p, rep(second, regionScope()), PublishOptions{})
	if out.Imported != 2 || h.ignoredStale != 0 {
		t.Errorf("backwards clock: imported %d, %d stale updates ignored", out.Imported, h.ignoredStale)
	}
	assertValidImports(t, h)
}

func mustGet(t *testing.T, h *fakeHub, id string) shtypes.AwsSecurityFinding {
	t.Helper()
	f, ok := h.get(id)
	if !ok {
		t.Fatalf("finding %s not stored", id)
	}
	return f
}

func TestArchiveSentWithoutServiceOwnedFields(t *testing.T) {
	h := newFakeHub()
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newPublisher(t, map[string]*fakeHub{region: h}, c, nil)
	publish(t, p, rep([]audit.Result{result("gone", "CHECK_A", audit.Fail)}), PublishOptions{})
	c.advance(time.Hour)
	h.importCalls = nil
	out := publish(t, p, rep(nil, regionScope()), PublishOptions{})
	if out.Archived != 1 {
		t.Fatalf("archived %d, want 1", out.Archived)
	}
	assertValidImports(t, h) // Validate rejects aws/ keys, so a copied service field would show here
}

func TestIncompleteScansArchiveNothing(t *testing.T) {
	seed := func(t *testing.T) (*fakeHub, *Publisher, *clock) {
		h := newFakeHub()
		c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
		p := newPublisher(t, map[string]*fakeHub{region: h}, c, nil)
		publish(t, p, rep([]audit.Result{
			result("prod", "CHECK_A", audit.Fail), result("prod", "CHECK_B", audit.Fail), result("dev", "CHECK_A", audit.Fail),
		}), PublishOptions{})
		c.advance(time.Hour)
		return h, p, c
	}
	tests := []struct {
		name string
		rep  *audit.Report
		po   PublishOptions
		want int
	}{
		{"region scope failed at discovery", &audit.Report{Errors: []audit.ScanError{{Scope: audit.ScopeRef{Region: region}, Stage: "discover"}}}, PublishOptions{}, 0},
		{"region reported complete but a target failed", &audit.Report{
			Completed: []audit.ScopeRef{regionScope()},
			Errors:    []audit.ScanError{{Scope: clusterScope("dev"), Stage: "collect"}},
		}, PublishOptions{}, 0},
		{"only prod completed: dev is left alone", &audit.Report{
			Results:   []audit.Result{result("prod", "CHECK_A", audit.Pass)},
			Completed: []audit.ScopeRef{clusterScope("prod")},
		}, PublishOptions{}, 1},
		{"narrowed scan: region scope ignored", &audit.Report{
			Results:   []audit.Result{result("prod", "CHECK_A", audit.Pass), result("prod", "CHECK_B", audit.Pass)},
			Completed: []audit.ScopeRef{clusterScope("prod"), regionScope()},
		}, PublishOptions{TargetsNarrowed: true}, 0},
		{"check could not run: ERROR protects its finding", &audit.Report{
			Results:   []audit.Result{result("prod", "CHECK_A", audit.Error), result("prod", "CHECK_B", audit.Pass), result("dev", "CHECK_A", audit.Fail)},
			Completed: []audit.ScopeRef{regionScope(), clusterScope("prod"), clusterScope("dev")},
		}, PublishOptions{}, 0},
		{"skipped check is not archived", &audit.Report{
			Results:   []audit.Result{result("prod", "CHECK_A", audit.Fail), result("dev", "CHECK_A", audit.Fail)},
			Completed: []audit.ScopeRef{regionScope()},
		}, PublishOptions{SkippedChecks: []string{"CHECK_B"}}, 0},
		{"retired check is archived", &audit.Report{
			Results:   []audit.Result{result("prod", "CHECK_A", audit.Fail), result("dev", "CHECK_A", audit.Fail)},
			Completed: []audit.ScopeRef{regionScope()},
		}, PublishOptions{}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, p, _ := seed(t)
			before := mustGet(t, h, id("prod", "CHECK_A"))
			out := publish(t, p, tc.rep, tc.po)
			if out.Archived != tc.want {
				t.Errorf("archived %d, want %d", out.Archived, tc.want)
			}
			if tc.name == "check could not run: ERROR protects its finding" {
				after := mustGet(t, h, id("prod", "CHECK_A"))
				if aws.ToString(after.UpdatedAt) != aws.ToString(before.UpdatedAt) || after.RecordState != shtypes.RecordStateActive {
					t.Errorf("finding behind an ERROR result changed: %s %s", aws.ToString(after.UpdatedAt), after.RecordState)
				}
			}
			assertValidImports(t, h)
		})
	}
}

func TestForeignFindingsAreNeverTouched(t *testing.T) {
	h := newFakeHub()
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	base := mustMap(t, result("prod", "CHECK_A", audit.Fail))
	other := func(mut func(*shtypes.AwsSecurityFinding)) {
		f := base
		f.ProductFields = map[string]string{}
		for k, v := range base.ProductFields {
			f.ProductFields[k] = v
		}
		mut(&f)
		h.put(f)
	}
	other(func(f *shtypes.AwsSecurityFinding) { // another custom integration in the same product
		f.Id = aws.String("other-tool/1")
		f.ProductFields = map[string]string{"ProviderName": "OtherTool"}
	})
	other(func(f *shtypes.AwsSecurityFinding) { // a linked region's finding seen in the aggregation region
		f.Id = aws.String("sek/CHECK_A/linked")
		f.Region = aws.String("us-east-1")
	})
	other(func(f *shtypes.AwsSecurityFinding) { // a partner product
		f.Id = aws.String("prowler-1")
		f.ProductArn = aws.String("arn:aws:securityhub:eu-west-1::product/prowler/prowler")
	})
	p := newPublisher(t, map[string]*fakeHub{region: h}, c, nil)
	out := publish(t, p, rep(nil, regionScope()), PublishOptions{})
	if out.Archived != 0 || len(h.importCalls) != 0 {
		t.Errorf("archived %d foreign findings in %d calls", out.Archived, len(h.importCalls))
	}
}

func TestReadFailurePublishesNothing(t *testing.T) {
	h := newFakeHub()
	h.getErr = errors.New("connection reset")
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newPublisher(t, map[string]*fakeHub{region: h}, c, nil)
	out := publish(t, p, rep([]audit.Result{result("a", "CHECK_A", audit.Fail)}, regionScope()), PublishOptions{})
	if len(h.importCalls) != 0 || out.NotPublished != 1 || len(out.Errors) != 1 || !strings.Contains(out.Errors[0].Message, "GetFindings") {
		t.Errorf("outcome %+v with %d imports; want nothing imported and a region error naming GetFindings", out, len(h.importCalls))
	}
}

func TestOtherAccountsResultsAreReported(t *testing.T) {
	h := newFakeHub()
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := result("a", "CHECK_A", audit.Fail)
	r.AccountID = "210987654321"
	p := newPublisher(t, map[string]*fakeHub{region: h}, c, nil)
	out := publish(t, p, rep([]audit.Result{r}), PublishOptions{})
	if len(out.Failed) != 1 || !strings.Contains(out.Failed[0].Message, "210987654321") {
		t.Errorf("failed %+v, want the foreign-account result reported", out.Failed)
	}
}

func TestArchiveScope(t *testing.T) {
	h := newFakeHub()
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newPublisher(t, map[string]*fakeHub{region: h}, c, nil)
	publish(t, p, rep([]audit.Result{result("gone", "CHECK_A", audit.Fail), result("gone", "CHECK_B", audit.Pass), result("stays", "CHECK_A", audit.Fail)}), PublishOptions{})
	c.advance(time.Minute)
	out, err := p.ArchiveScope(context.Background(), audit.ScopeRef{Region: region, Target: "gone"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Archived != 2 {
		t.Errorf("archived %d, want 2", out.Archived)
	}
	if f := mustGet(t, h, id("stays", "CHECK_A")); f.RecordState != shtypes.RecordStateActive {
		t.Error("another cluster's finding was archived")
	}
	if _, err := p.ArchiveScope(context.Background(), audit.ScopeRef{Region: region}); err == nil {
		t.Error("ArchiveScope without a target archived a whole region")
	}
	assertValidImports(t, h)
}

func TestNewRejectsBadOptions(t *testing.T) {
	if _, err := New(Options{AccountID: acct}); err == nil {
		t.Error("no client factory accepted")
	}
	if _, err := New(Options{Client: func(string) API { return nil }, AccountID: "abc"}); err == nil || !strings.Contains(err.Error(), "12 digits") {
		t.Errorf("bad account error = %v", err)
	}
}

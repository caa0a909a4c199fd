package fault

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/sek-dev/sek/internal/demo"
	"github.com/sek-dev/sek/pkg/securityhub"
	"github.com/sek-dev/sek/test/harness"
	"github.com/sek-dev/sek/test/invariants"
)

var hubOnce sync.Once

// publishing points Sek at a fault proxy in front of the Security Hub test proxy (which adds
// BatchUpdateFindings, missing from moto) in front of moto. The first publishing case first
// publishes a fault-free scan, so every case starts from a Security Hub that holds findings a
// faulty run could wrongly archive or resolve.
func (f *fixture) publishing() *harness.FaultProxy {
	f.t.Helper()
	hub := harness.StartProxy(f.t, moto.URL)
	hubOnce.Do(func() {
		f.endpoint = hub.URL
		run := f.sek(regionArgs("--publish")...)
		if run.Code != 0 {
			f.t.Fatalf("the fault-free publish failed (exit %d):\n%s", run.Code, run.Stderr)
		}
	})
	p := harness.StartFaultProxy(f.t, hub.URL)
	f.endpoint = p.URL
	f.hub = hub
	f.closers = append(f.closers, hub.Close, p.Close)
	return p
}

func snapshot(t *testing.T) invariants.Hub {
	return invariants.SnapshotHub(t, moto.URL, demo.Regions()...)
}

func outcome(t *testing.T, run invariants.Run) securityhub.Outcome {
	t.Helper()
	var o securityhub.Outcome
	if run.Doc == nil || len(run.Doc.Publish) == 0 {
		t.Fatalf("no publish outcome in the output (exit %d):\n%s", run.Code, run.Stderr)
	}
	if err := json.Unmarshal(run.Doc.Publish, &o); err != nil {
		t.Fatalf("publish outcome: %v", err)
	}
	return o
}

// A scan fault during a publishing run: DescribeCluster of analytics fails for good. Its scope is
// reported, its findings stay exactly as they were (not archived, not resolved, not updated), and
// every other finding is imported.
func TestScanFaultNeverArchivesTheUnscannedClustersFindings(t *testing.T) {
	f := newFixture(t)
	p := f.publishing()
	p.Add(&harness.Rule{Name: "deny", Match: harness.OnResource(analytics.Cluster, harness.Op("eks", "DescribeCluster")), Action: harness.AccessDenied()})
	before := snapshot(t)
	run := f.sek(regionArgs("--publish")...)
	f.finish(run)
	after := snapshot(t)

	invariants.ScanFinished(t, run, prod, dev, edge)
	invariants.Unreachable(t, run, "AccessDeniedException", analytics)
	invariants.NothingArchivedOrResolved(t, before, after)
	analyticsIDs := idsOfCluster(before, analytics)
	if len(analyticsIDs) == 0 {
		t.Fatal("the baseline publish left no analytics findings to protect")
	}
	invariants.Untouched(t, before, after, analyticsIDs)
	want, _ := invariants.FindingIDs(run, prod, dev, edge)
	invariants.NoFindingLost(t, run, before, after, want)
	if o := outcome(t, run); o.Archived != 0 {
		t.Errorf("archived %d findings during a scan with a failed scope", o.Archived)
	}
}

// idsOfCluster returns the Ids of the findings about one cluster (Ids embed the cluster ARN).
func idsOfCluster(h invariants.Hub, s invariants.Scope) map[string]bool {
	out := map[string]bool{}
	for id, f := range h {
		if f.Region == s.Region && strings.Contains(id, ":cluster/"+s.Cluster) {
			out[id] = true
		}
	}
	return out
}

// Security Hub is not enabled in one region (InvalidAccessException on every call there): the
// region is skipped with the reason and its finding count, the exit code is 3, and its existing
// findings are untouched; the other regions publish.
func TestSecurityHubNotEnabledInOneRegion(t *testing.T) {
	f := newFixture(t)
	p := f.publishing()
	p.Add(&harness.Rule{Name: "nohub", Match: harness.InRegion(analytics.Region, harness.Service("securityhub")), Action: harness.HubNotEnabled("123456789012")})
	before := snapshot(t)
	run := f.sek(regionArgs("--publish")...)
	f.finish(run)
	after := snapshot(t)

	invariants.ScanFinished(t, run, all...)
	invariants.NothingArchivedOrResolved(t, before, after)
	invariants.Untouched(t, before, after, regionIDs(before, analytics.Region))
	want, _ := invariants.FindingIDs(run, prod, dev, edge)
	invariants.NoFindingLost(t, run, before, after, want)
	o := outcome(t, run)
	if len(o.SkippedRegions) != 1 || o.SkippedRegions[0].Region != analytics.Region || !strings.Contains(o.SkippedRegions[0].Reason, "not subscribed") {
		t.Errorf("skipped regions %+v, want %s with the service's reason", o.SkippedRegions, analytics.Region)
	}
	if run.Code != invariants.ExitIncomplete || !strings.Contains(run.Stderr, "Security Hub not enabled in "+analytics.Region) {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 3 naming the region", run.Code, run.Stderr)
	}
}

func regionIDs(h invariants.Hub, region string) map[string]bool {
	out := map[string]bool{}
	for id, f := range h {
		if f.Region == region {
			out[id] = true
		}
	}
	return out
}

// BatchImportFindings answers 200 with some findings in FailedFindings: a few rejected for good
// (InvalidInput), others once with a retryable code. The retryable ones are sent again and stored;
// the others are reported by Id with Security Hub's code and message; nothing is lost.
func TestPartialFailedFindingsAreRetriedOrReportedByID(t *testing.T) {
	f := newFixture(t)
	p := f.publishing()
	var mu sync.Mutex
	seen := map[string]int{}
	injected := map[string]int{} // code → findings rejected with it
	n := 0
	p.Add(&harness.Rule{Name: "partial", Match: harness.Op("securityhub", "BatchImportFindings"), Action: harness.PartialImport(func(id string) (string, string) {
		mu.Lock()
		defer mu.Unlock()
		seen[id]++
		if seen[id] > 1 {
			return "", ""
		}
		n++
		switch {
		case n%7 == 0:
			injected["InvalidInput"]++
			return "InvalidInput", "Finding does not adhere to Amazon Finding Format. data.Title should NOT be longer than 256 characters"
		case n%3 == 0:
			injected["ThrottlingException"]++
			return "ThrottlingException", "Rate exceeded"
		}
		return "", ""
	})})
	before := snapshot(t)
	run := f.sek(regionArgs("--publish")...)
	f.finish(run)
	after := snapshot(t)

	sent, _ := invariants.ImportedIDs(p.Calls())
	if injected["InvalidInput"] == 0 || injected["ThrottlingException"] == 0 {
		t.Fatalf("rejections injected: %v", injected)
	}
	invariants.ScanFinished(t, run, all...)
	invariants.NothingArchivedOrResolved(t, before, after)
	want, _ := invariants.FindingIDs(run)
	for id := range sent {
		want[id] = true
	}
	invariants.NoFindingLost(t, run, before, after, want)
	o := outcome(t, run)
	permanent := 0
	for _, fl := range o.Failed {
		if fl.Code != "InvalidInput" || !strings.Contains(fl.Message, "Amazon Finding Format") {
			t.Errorf("failure %+v: want the service's InvalidInput code and message", fl)
		}
		permanent++
	}
	if permanent != injected["InvalidInput"] {
		t.Errorf("%d findings reported failed, want the %d rejected as InvalidInput", permanent, injected["InvalidInput"])
	}
	if run.Code != invariants.ExitIncomplete {
		t.Errorf("exit %d, want 3 when findings were not accepted", run.Code)
	}
}

// GetFindings is throttled for good while the publisher reads the stored findings it reconciles
// against. Without them it could neither keep creation times nor decide what to archive or
// resolve, so the region is not published, the error is reported, and nothing changes.
func TestGetFindingsThrottledDuringReconciliation(t *testing.T) {
	f := newFixture(t)
	p := f.publishing()
	p.Add(&harness.Rule{Name: "throttle", Match: harness.InRegion(dev.Region, harness.Op("securityhub", "GetFindings")), Action: harness.Throttle()})
	before := snapshot(t)
	run := f.sek(regionArgs("--publish", "--max-attempts", "2")...)
	f.finish(run)
	after := snapshot(t)

	if p.Fired("throttle") == 0 {
		t.Fatal("GetFindings was never called")
	}
	invariants.ScanFinished(t, run, all...)
	invariants.NothingArchivedOrResolved(t, before, after)
	invariants.Untouched(t, before, after, regionIDs(before, dev.Region))
	want, _ := invariants.FindingIDs(run, analytics, edge)
	invariants.NoFindingLost(t, run, before, after, want)
	o := outcome(t, run)
	found := false
	for _, e := range o.Errors {
		if e.Region == dev.Region && strings.Contains(e.Message, "TooManyRequestsException") {
			found = true
		}
	}
	if !found || o.NotPublished == 0 {
		t.Errorf("publish errors %+v (not published %d): want %s reported with the throttling error", o.Errors, o.NotPublished, dev.Region)
	}
	if run.Code != invariants.ExitIncomplete {
		t.Errorf("exit %d, want 3", run.Code)
	}
}

// A throttling storm on Security Hub: every call is throttled on its first attempt. Retries
// absorb it; every finding is imported and nothing is archived.
func TestSecurityHubThrottlingStormIsAbsorbed(t *testing.T) {
	f := newFixture(t)
	p := f.publishing()
	p.Add(&harness.Rule{Name: "throttle", Match: harness.FirstAttempt(harness.Service("securityhub")), Action: harness.Throttle()})
	before := snapshot(t)
	run := f.sek(regionArgs("--publish")...)
	f.finish(run)
	after := snapshot(t)

	for _, op := range []string{"GetFindings", "BatchImportFindings"} {
		hit := false
		for _, c := range p.Calls() {
			hit = hit || (c.Operation == op && c.Fault != "")
		}
		if !hit {
			t.Errorf("%s was never throttled", op)
		}
	}
	invariants.Complete(t, run)
	invariants.NothingArchivedOrResolved(t, before, after)
	want, _ := invariants.FindingIDs(run)
	invariants.NoFindingLost(t, run, before, after, want)
}

// BatchImportFindings fails with 500 in one region for good: every finding of that region is
// reported by Id, the exit code is 3, and the region's stored findings are untouched.
func TestImportServerErrorsReportEveryFindingByID(t *testing.T) {
	f := newFixture(t)
	p := f.publishing()
	p.Add(&harness.Rule{Name: "500", Match: harness.InRegion(edge.Region, harness.Op("securityhub", "BatchImportFindings")), Action: harness.ServerError(http.StatusInternalServerError)})
	before := snapshot(t)
	run := f.sek(regionArgs("--publish", "--max-attempts", "2")...)
	f.finish(run)
	after := snapshot(t)

	invariants.ScanFinished(t, run, all...)
	invariants.NothingArchivedOrResolved(t, before, after)
	invariants.Untouched(t, before, after, regionIDs(before, edge.Region))
	want, _ := invariants.FindingIDs(run)
	invariants.NoFindingLost(t, run, before, after, want)
	o := outcome(t, run)
	edgeIDs, _ := invariants.FindingIDs(run, invariants.Scope{Region: edge.Region})
	reported := map[string]bool{}
	for _, fl := range o.Failed {
		reported[fl.FindingID] = true
	}
	for id := range edgeIDs {
		if !reported[id] {
			t.Errorf("finding %s of the failing region is not reported by Id", id)
		}
	}
	if run.Code != invariants.ExitIncomplete {
		t.Errorf("exit %d, want 3", run.Code)
	}
}

// The connection drops in the middle of the first answer to every Security Hub call, after
// Security Hub has already acted on it (an import applied, a page read). The calls are retried;
// re-sending an applied import is harmless because findings are addressed by Id. The publish
// completes, nothing is archived or resolved, and no finding is lost.
func TestSecurityHubAnswersLostMidResponseAreRetried(t *testing.T) {
	f := newFixture(t)
	p := f.publishing()
	p.Add(&harness.Rule{Name: "cut", Match: harness.FirstAttempt(harness.Service("securityhub")), Action: harness.CutMidResponse()})
	before := snapshot(t)
	run := f.sek(regionArgs("--publish")...)
	f.finish(run)
	after := snapshot(t)

	cut := map[string]bool{}
	for _, c := range p.Calls() {
		if c.Fault != "" {
			cut[c.Operation] = true
		}
	}
	if !cut["BatchImportFindings"] || !cut["GetFindings"] {
		t.Fatalf("answers cut: %v; want BatchImportFindings and GetFindings among them", cut)
	}
	invariants.Complete(t, run)
	invariants.NothingArchivedOrResolved(t, before, after)
	want, _ := invariants.FindingIDs(run)
	invariants.NoFindingLost(t, run, before, after, want)
	if o := outcome(t, run); o.Imported != len(want) || len(o.Failed) != 0 {
		t.Errorf("imported %d of %d findings, %d failed", o.Imported, len(want), len(o.Failed))
	}
}

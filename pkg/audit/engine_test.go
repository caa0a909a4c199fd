package audit

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSnapshot is a provider-neutral snapshot: proof that the engine is not EKS-shaped.
type fakeSnapshot struct {
	name  string
	value int
}

type fakeProvider struct {
	targets    map[string][]string // region → target names
	failOpen   map[string]bool
	failList   map[string]bool
	failTarget map[string]bool
	rules      []Rule[fakeSnapshot]
	inFlight   atomic.Int32
	maxFlight  atomic.Int32
	delay      time.Duration
}

func (p *fakeProvider) Name() string    { return "fake" }
func (p *fakeProvider) Checks() []Check { return Meta(p.rules) }
func (p *fakeProvider) Open(_ context.Context, region string) (Session, error) {
	if p.failOpen[region] {
		return nil, fmt.Errorf("open %s: %w", region, errors.New("region not opted in"))
	}
	return &fakeSession{p: p, region: region}, nil
}

type fakeSession struct {
	p      *fakeProvider
	region string
}

func (s *fakeSession) Discover(_ context.Context, names []string) ([]Target, error) {
	if s.p.failList[s.region] {
		return nil, errors.New("AccessDenied: list")
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []Target
	for _, n := range s.p.targets[s.region] {
		if len(want) == 0 || want[n] {
			out = append(out, Target{Kind: "thing", Name: n, ARN: "arn:fake:" + s.region + ":" + n, ResourceType: "Other", AccountID: "111122223333", Region: s.region, Cluster: n})
		}
	}
	return out, nil
}

func (s *fakeSession) Collect(ctx context.Context, t Target) (Evaluator, error) {
	n := s.p.inFlight.Add(1)
	defer s.p.inFlight.Add(-1)
	for {
		m := s.p.maxFlight.Load()
		if n <= m || s.p.maxFlight.CompareAndSwap(m, n) {
			break
		}
	}
	select {
	case <-time.After(s.p.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if s.p.failTarget[t.Name] {
		return nil, errors.New("throttled beyond retries")
	}
	return Bind(s.p.rules, fakeSnapshot{name: t.Name, value: len(t.Name)}, t), nil
}

func evenRule() Rule[fakeSnapshot] {
	return Rule[fakeSnapshot]{
		Check: Check{ID: "EVEN", Title: "even", Severity: Medium, Parameters: []Parameter{{Name: "mod", Default: 2}}},
		Evaluate: func(env Env, s fakeSnapshot) []Finding {
			if s.value%env.Params.Int("mod") == 0 {
				return []Finding{Passf("%d is divisible", s.value)}
			}
			return []Finding{Failf("%d is not divisible", s.value)}
		},
	}
}

func panicRule() Rule[fakeSnapshot] {
	return Rule[fakeSnapshot]{
		Check:    Check{ID: "PANICS", Title: "panics", Severity: Low},
		Evaluate: func(Env, fakeSnapshot) []Finding { panic("boom") },
	}
}

func TestEngineRunsEveryRegionAndRecordsCompletedScopes(t *testing.T) {
	p := &fakeProvider{
		targets:    map[string][]string{"r1": {"aa", "bbb"}, "r2": {"cc"}, "r3": {"dd"}, "r4": {"ee"}},
		failOpen:   map[string]bool{"r3": true},
		failTarget: map[string]bool{"ee": true},
		rules:      []Rule[fakeSnapshot]{evenRule(), panicRule()},
	}
	rep, err := NewEngine(p).Run(context.Background(), Options{Regions: []string{"r1", "r2", "r3", "r4"}})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]Status{}
	for _, r := range rep.Results {
		status[r.ClusterName+"/"+r.CheckID] = r.Status
	}
	want := map[string]Status{"aa/EVEN": Pass, "bbb/EVEN": Fail, "cc/EVEN": Pass, "aa/PANICS": Error, "bbb/PANICS": Error, "cc/PANICS": Error}
	for k, w := range want {
		if status[k] != w {
			t.Errorf("%s = %q, want %q", k, status[k], w)
		}
	}
	if len(rep.Results) != len(want) {
		t.Errorf("got %d results, want %d", len(rep.Results), len(want))
	}
	completed := map[string]bool{}
	for _, s := range rep.Completed {
		completed[s.String()] = true
	}
	for _, s := range []string{"111122223333/r1", "111122223333/r1/aa", "111122223333/r1/bbb", "111122223333/r2", "111122223333/r2/cc"} {
		if !completed[s] {
			t.Errorf("scope %s should be complete; completed = %v", s, completed)
		}
	}
	// r3 failed to open and r4 lost a target: neither region may count as complete.
	for _, s := range []string{"r3", "111122223333/r4", "111122223333/r4/ee"} {
		if completed[s] {
			t.Errorf("scope %s must not be complete", s)
		}
	}
	if len(rep.Errors) != 2 {
		t.Fatalf("errors = %+v, want r3 open and r4/ee collect", rep.Errors)
	}
}

func TestEngineBoundsTargetConcurrency(t *testing.T) {
	names := make([]string, 20)
	for i := range names {
		names[i] = fmt.Sprintf("t%02d", i)
	}
	p := &fakeProvider{targets: map[string][]string{"r1": names}, rules: []Rule[fakeSnapshot]{evenRule()}, delay: 5 * time.Millisecond}
	if _, err := NewEngine(p).Run(context.Background(), Options{Regions: []string{"r1"}, TargetConcurrency: 3}); err != nil {
		t.Fatal(err)
	}
	if got := p.maxFlight.Load(); got > 3 || got < 2 {
		t.Fatalf("max concurrent collections = %d, want ≤3 (and >1)", got)
	}
}

func TestEngineStopsStartingTargetsAfterBudget(t *testing.T) {
	p := &fakeProvider{targets: map[string][]string{"r1": {"a", "b", "c", "d"}}, rules: []Rule[fakeSnapshot]{evenRule()}, delay: 30 * time.Millisecond}
	rep, err := NewEngine(p).Run(context.Background(), Options{
		Regions: []string{"r1"}, TargetConcurrency: 1, StopStartingAt: time.Now().Add(10 * time.Millisecond),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) == 0 || len(rep.Results) == 4 {
		t.Fatalf("want some but not all targets scanned, got %d results", len(rep.Results))
	}
	for _, s := range rep.Completed {
		if s.Target == "" {
			t.Fatal("a region with unstarted targets must not be complete")
		}
	}
	notStarted := 0
	for _, e := range rep.Errors {
		if e.Stage == "not-started" {
			notStarted++
		}
	}
	if notStarted+len(rep.Results) != 4 {
		t.Fatalf("every target must be scanned or reported: results %d, not started %d", len(rep.Results), notStarted)
	}
}

func TestEngineReportsRequestedTargetsNotFound(t *testing.T) {
	p := &fakeProvider{targets: map[string][]string{"r1": {"a"}, "r2": {"b"}}, rules: []Rule[fakeSnapshot]{evenRule()}}
	rep, err := NewEngine(p).Run(context.Background(), Options{Regions: []string{"r1", "r2"}, Targets: []string{"b", "zz"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 1 || rep.Results[0].ClusterName != "b" {
		t.Fatalf("results %+v", rep.Results)
	}
	if len(rep.Errors) != 1 || rep.Errors[0].Scope.Target != "zz" {
		t.Fatalf("want one not-found error for zz, got %+v", rep.Errors)
	}
	for _, s := range rep.Completed {
		if s.Target == "" {
			t.Fatalf("a scan narrowed to named targets must not complete a whole region: %v", s)
		}
	}
}

func TestEvaluateAppliesSkipParamsAndSeverityOverride(t *testing.T) {
	sevRule := Rule[fakeSnapshot]{
		Check: Check{ID: "SEV", Severity: Medium},
		Evaluate: func(Env, fakeSnapshot) []Finding {
			f := Failf("bad")
			f.Severity = Critical
			return []Finding{f.On("arn:other", "Other").With("k", "v")}
		},
	}
	ev := Bind([]Rule[fakeSnapshot]{evenRule(), sevRule}, fakeSnapshot{value: 3}, Target{Kind: "thing", ARN: "arn:t"})
	res := ev.Evaluate(EvalOptions{Params: map[string]map[string]any{"EVEN": {"mod": "3"}}})
	if len(res) != 2 || res[0].Status != Pass {
		t.Fatalf("param override from a string not applied: %+v", res)
	}
	if res[1].Severity != Critical || res[1].ResourceARN != "arn:other" || res[1].Facts["k"] != "v" {
		t.Fatalf("finding overrides not applied: %+v", res[1])
	}
	res = ev.Evaluate(EvalOptions{Skip: map[string]bool{"EVEN": true}})
	if len(res) != 1 || res[0].CheckID != "SEV" {
		t.Fatalf("skip not applied: %+v", res)
	}
}

func TestMutesAndFailOn(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	rep := &Report{Results: []Result{
		{CheckID: "A", ClusterName: "dev-1", Status: Fail, Severity: High},
		{CheckID: "A", ClusterName: "prod", Status: Fail, Severity: Low},
	}}
	ApplyMutes(rep.Results, []MuteRule{
		{Cluster: "dev-*", Check: "A", Reason: "sandbox", Expires: now.AddDate(0, 1, 0)},
		{Cluster: "prod", Check: "A", Reason: "expired", Expires: now.AddDate(0, 0, -1)},
	}, now)
	if !rep.Results[0].Muted || rep.Results[0].MuteReason != "sandbox" || rep.Results[1].Muted {
		t.Fatalf("mutes: %+v", rep.Results)
	}
	if FailsAtOrAbove(rep, High) {
		t.Fatal("a muted HIGH failure must not fail the exit code")
	}
	if !FailsAtOrAbove(rep, Low) || FailsAtOrAbove(rep, SeverityUnset) {
		t.Fatal("fail-on thresholds wrong")
	}
}

func TestParseSeverity(t *testing.T) {
	for in, want := range map[string]Severity{"high": High, "CRITICAL": Critical, "info": Informational, "none": SeverityUnset, "": SeverityUnset} {
		if got, err := ParseSeverity(in); err != nil || got != want {
			t.Errorf("ParseSeverity(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseSeverity("urgent"); err == nil {
		t.Error("want an error for an unknown severity")
	}
}

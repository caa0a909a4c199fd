// Package invariants holds the assertions every fault case must pass, written once so each case
// states its fault and its expectations and nothing else:
//
//  1. the scan finishes for every scope it could reach;
//  2. unreachable scopes are reported, with the reason, in the output, the exit code and the
//     metrics;
//  3. no finding is archived or resolved because of a fault;
//  4. no finding is lost: every failed import is retried or reported by Id;
//  5. no goroutine leaks and nothing panics.
package invariants

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/sek-dev/sek/pkg/asff"
	"github.com/sek-dev/sek/pkg/audit"
)

// ExitIncomplete is the CLI's exit code for a run where some scope was not scanned or published.
const ExitIncomplete = 3

// Document is the part of `sek scan --output json` the invariants read.
type Document struct {
	Results []audit.Result  `json:"results"`
	Errors  []ScanError     `json:"errors"`
	Summary audit.Summary   `json:"summary"`
	Publish json.RawMessage `json:"publish"`
}

// ScanError is one entry of the JSON document's errors.
type ScanError struct {
	Scope   string `json:"scope"`
	Region  string `json:"region"`
	Target  string `json:"target"`
	Stage   string `json:"stage"`
	Message string `json:"message"`
}

// Run is what one Sek run produced.
type Run struct {
	Code           int
	Stdout, Stderr string
	// Doc is the parsed JSON document, when the run printed one.
	Doc *Document
	// Panic is the recovered panic value, if the run panicked; Stack is where.
	Panic any
	Stack string
	// Metrics are metric name → value as the run reported them (the Lambda's EMF metrics);
	// empty for CLI runs, whose metrics are the JSON summary.
	Metrics map[string]float64
}

// Output is everything the run printed.
func (r Run) Output() string { return r.Stdout + "\n" + r.Stderr }

// Guard runs f, turning a panic into a recorded Run.Panic instead of a crashed test binary.
func Guard(f func() Run) (run Run) {
	defer func() {
		if p := recover(); p != nil {
			run.Panic = p
			run.Stack = string(debug.Stack())
		}
	}()
	return f()
}

// ParseDocument fills run.Doc from stdout when it is a JSON document.
func ParseDocument(run *Run) error {
	out := bytes.TrimSpace([]byte(run.Stdout))
	if len(out) == 0 || out[0] != '{' {
		return fmt.Errorf("stdout is not a JSON document: %.300s", run.Stdout)
	}
	var d Document
	if err := json.Unmarshal(out, &d); err != nil {
		return fmt.Errorf("parse JSON document: %w", err)
	}
	run.Doc = &d
	return nil
}

// Scope names a region, or a cluster in a region.
type Scope struct {
	Region  string
	Cluster string
}

func (s Scope) String() string {
	if s.Cluster == "" {
		return s.Region
	}
	return s.Region + "/" + s.Cluster
}

// NoPanic is invariant 5's second half.
func NoPanic(t testing.TB, run Run) {
	t.Helper()
	if run.Panic != nil {
		t.Fatalf("sek panicked: %v\n%s", run.Panic, run.Stack)
	}
	for _, s := range []string{run.Stdout, run.Stderr} {
		if strings.Contains(s, "panic:") || strings.Contains(s, "goroutine ") && strings.Contains(s, "[running]") {
			t.Fatalf("sek output shows a panic:\n%s", s)
		}
	}
}

func doc(t testing.TB, run Run) *Document {
	t.Helper()
	if run.Doc == nil {
		t.Fatalf("the run printed no JSON document (exit %d); output:\n%s", run.Code, run.Output())
	}
	return run.Doc
}

// ScanFinished is invariant 1: every reachable scope was scanned to the end, so it has results
// and no scope-level error.
func ScanFinished(t testing.TB, run Run, reachable ...Scope) {
	t.Helper()
	d := doc(t, run)
	for _, s := range reachable {
		n := 0
		for _, r := range d.Results {
			if r.Region == s.Region && (s.Cluster == "" || r.ClusterName == s.Cluster) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("invariant 1: reachable scope %s has no results", s)
		}
		for _, e := range d.Errors {
			if e.Region == s.Region && (e.Target == "" || s.Cluster == "" || e.Target == s.Cluster) {
				t.Errorf("invariant 1: reachable scope %s was reported unscanned: %+v", s, e)
			}
		}
	}
}

// Unreachable is invariant 2: each scope is in the document's errors with a message containing
// reason; the summary and any metrics count it; the exit code is 3; stderr says the run is
// incomplete and names the first scopes.
func Unreachable(t testing.TB, run Run, reason string, scopes ...Scope) {
	t.Helper()
	d := doc(t, run)
	for _, s := range scopes {
		found := false
		for _, e := range d.Errors {
			if e.Region == s.Region && e.Target == s.Cluster && strings.Contains(e.Message, reason) {
				found = true
			}
		}
		if !found {
			t.Errorf("invariant 2: unreachable scope %s is not reported with reason %q; errors: %+v", s, reason, d.Errors)
		}
	}
	if d.Summary.ScopeErrors != len(d.Errors) || d.Summary.ScopeErrors < len(scopes) {
		t.Errorf("invariant 2: summary.scopeErrors = %d, want %d (one per reported scope, at least %d)", d.Summary.ScopeErrors, len(d.Errors), len(scopes))
	}
	if run.Code != ExitIncomplete {
		t.Errorf("invariant 2: exit code %d, want %d for an incomplete scan", run.Code, ExitIncomplete)
	}
	if !strings.Contains(run.Stderr, "incomplete") {
		t.Errorf("invariant 2: stderr does not say the run was incomplete:\n%s", run.Stderr)
	}
	if run.Metrics != nil && run.Metrics["ScopeErrors"] < float64(len(scopes)) {
		t.Errorf("invariant 2: metric ScopeErrors = %v, want ≥ %d", run.Metrics["ScopeErrors"], len(scopes))
	}
}

// Complete asserts a fault-free outcome: exit 0 (or 1 with --fail-on) and no scope errors.
func Complete(t testing.TB, run Run) {
	t.Helper()
	d := doc(t, run)
	if len(d.Errors) != 0 {
		t.Errorf("the scan should have absorbed the fault, but reported %d scope errors, first: %+v", len(d.Errors), d.Errors[0])
	}
	if run.Code != 0 {
		t.Errorf("exit code %d, want 0; stderr:\n%s", run.Code, run.Stderr)
	}
}

// ResultStatus asserts the status of one check on one cluster.
func ResultStatus(t testing.TB, run Run, s Scope, checkID string, want audit.Status) audit.Result {
	t.Helper()
	for _, r := range doc(t, run).Results {
		if r.Region == s.Region && r.ClusterName == s.Cluster && r.CheckID == checkID {
			if r.Status != want {
				t.Errorf("%s %s: status %s, want %s (%s)", s, checkID, r.Status, want, r.Message)
			}
			return r
		}
	}
	t.Errorf("%s %s: no result", s, checkID)
	return audit.Result{}
}

// FindingIDs returns the Security Hub finding Id of every result of the run in the given scopes
// (all scopes when none are given), split into publishable results and ERROR results.
func FindingIDs(run Run, scopes ...Scope) (publishable, errored map[string]bool) {
	publishable, errored = map[string]bool{}, map[string]bool{}
	if run.Doc == nil {
		return
	}
	for _, r := range run.Doc.Results {
		in := len(scopes) == 0
		for _, s := range scopes {
			if r.Region == s.Region && (s.Cluster == "" || r.ClusterName == s.Cluster) {
				in = true
			}
		}
		if !in {
			continue
		}
		if asff.Publishable(r) {
			publishable[asff.ResultFindingID(r)] = true
		} else {
			errored[asff.ResultFindingID(r)] = true
		}
	}
	return
}

// NothingReachable is invariant 2 for a run that could reach no scope at all: no document, exit
// code 3, and stderr gives the reason.
func NothingReachable(t testing.TB, run Run, reason string) {
	t.Helper()
	if run.Code != ExitIncomplete {
		t.Errorf("invariant 2: exit code %d, want %d when nothing could be scanned", run.Code, ExitIncomplete)
	}
	if !strings.Contains(run.Stderr, reason) {
		t.Errorf("invariant 2: stderr does not give the reason %q:\n%s", reason, run.Stderr)
	}
}

// SameVerdicts asserts that a run under a fault reached the verdicts of a fault-free baseline
// run on every result both have, in the given scopes, except the results named in becameError
// ("cluster/CHECK_ID"), which must now be ERROR. A fault may only ever turn a verdict into ERROR;
// it must never invent a PASS or a FAIL.
func SameVerdicts(t testing.TB, baseline, run Run, scopes []Scope, becameError ...string) {
	t.Helper()
	short := func(r audit.Result) string { return r.ClusterName + "/" + r.CheckID }
	in := func(r audit.Result) bool {
		for _, s := range scopes {
			if r.Region == s.Region && (s.Cluster == "" || r.ClusterName == s.Cluster) {
				return true
			}
		}
		return false
	}
	want := map[string]bool{}
	for _, k := range becameError {
		want[k] = true
	}
	base := map[string]audit.Status{}
	for _, r := range doc(t, baseline).Results {
		if in(r) {
			base[r.Region+"|"+r.ResourceARN+"|"+r.CheckID] = r.Status
		}
	}
	seen := map[string]bool{}
	for _, r := range doc(t, run).Results {
		if !in(r) {
			continue
		}
		b, ok := base[r.Region+"|"+r.ResourceARN+"|"+r.CheckID]
		if !ok {
			continue
		}
		seen[short(r)] = true
		switch {
		case want[short(r)]:
			if r.Status != audit.Error {
				t.Errorf("%s: status %s, want ERROR under the fault (%s)", short(r), r.Status, r.Message)
			}
		case r.Status != b:
			t.Errorf("%s: the fault changed the verdict from %s to %s (%s)", short(r), b, r.Status, r.Message)
		}
	}
	for k := range want {
		if !seen[k] {
			t.Errorf("%s: no result in the run", k)
		}
	}
}

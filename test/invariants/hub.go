package invariants

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sh "github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/sek-dev/sek/test/harness"
)

// Finding is the lifecycle state of one Security Hub finding.
type Finding struct {
	ID          string
	Region      string
	RecordState string
	Workflow    string
	Compliance  string
	UpdatedAt   string
	CreatedAt   string
}

// Hub is the state of every Security Hub finding, by Id.
type Hub map[string]Finding

// SnapshotHub reads every finding of every given region straight from moto (never through a
// fault), so before/after comparisons see the truth.
func SnapshotHub(t testing.TB, motoURL string, regions ...string) Hub {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	out := Hub{}
	for _, region := range regions {
		client := sh.New(sh.Options{
			Region:       region,
			BaseEndpoint: aws.String(motoURL),
			Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
			HTTPClient:   hc,
		})
		p := sh.NewGetFindingsPaginator(client, &sh.GetFindingsInput{MaxResults: aws.Int32(100)})
		for p.HasMorePages() {
			page, err := p.NextPage(context.Background())
			if err != nil {
				if strings.Contains(err.Error(), "InvalidAccessException") {
					break // Security Hub is not enabled in this region: no findings
				}
				t.Fatalf("snapshot Security Hub in %s: %v", region, err)
			}
			for _, f := range page.Findings {
				id := aws.ToString(f.Id)
				st := Finding{ID: id, Region: region, RecordState: string(f.RecordState),
					UpdatedAt: aws.ToString(f.UpdatedAt), CreatedAt: aws.ToString(f.CreatedAt)}
				if f.Workflow != nil {
					st.Workflow = string(f.Workflow.Status)
				}
				if f.Compliance != nil {
					st.Compliance = string(f.Compliance.Status)
				}
				out[id] = st
			}
		}
	}
	return out
}

// NothingArchivedOrResolved is invariant 3 for a run whose estate did not change: every finding
// that existed before still exists with the same record state, workflow and compliance status.
func NothingArchivedOrResolved(t testing.TB, before, after Hub) {
	t.Helper()
	for _, id := range sortedIDs(before) {
		b := before[id]
		a, ok := after[id]
		switch {
		case !ok:
			t.Errorf("invariant 3: finding %s disappeared", id)
		case a.RecordState != b.RecordState:
			t.Errorf("invariant 3: finding %s went from %s to %s", id, b.RecordState, a.RecordState)
		case a.Workflow != b.Workflow:
			t.Errorf("invariant 3: finding %s workflow went from %s to %s", id, b.Workflow, a.Workflow)
		case a.Compliance != b.Compliance:
			t.Errorf("invariant 3: finding %s compliance went from %s to %s", id, b.Compliance, a.Compliance)
		}
	}
}

// Untouched asserts that the given findings were not updated at all (ERROR results and
// unreachable scopes leave their previous findings exactly as they were).
func Untouched(t testing.TB, before, after Hub, ids map[string]bool) {
	t.Helper()
	for id := range ids {
		b, ok := before[id]
		if !ok {
			continue
		}
		if a := after[id]; a != b {
			t.Errorf("invariant 3: finding %s of a faulted scope was changed: %+v → %+v", id, b, a)
		}
	}
}

// ImportedIDs returns the Ids of findings sent to BatchImportFindings through the proxy, and
// the subset the proxy made Security Hub reject (FailedFindings) or whose whole call failed.
func ImportedIDs(calls []harness.CallRecord) (sent, rejected map[string]bool) {
	sent, rejected = map[string]bool{}, map[string]bool{}
	for _, c := range calls {
		if c.Service != "securityhub" || c.Operation != "BatchImportFindings" {
			continue
		}
		var in struct{ Findings []struct{ Id string } }
		_ = json.Unmarshal(c.Body, &in)
		for _, f := range in.Findings {
			sent[f.Id] = true
			if c.Fault != "" || c.Status/100 != 2 {
				rejected[f.Id] = true
			}
		}
	}
	return sent, rejected
}

// NoFindingLost is invariant 4. Every Id in want (the run's publishable results, and every Id
// that was sent or rejected) is either stored in Security Hub after the run with this run's
// update, or named in the run's output as not published.
func NoFindingLost(t testing.TB, run Run, before, after Hub, want map[string]bool) {
	t.Helper()
	out := run.Output()
	lost := 0
	for _, id := range sortedIDs(want) {
		a, stored := after[id]
		updated := stored && (before[id].UpdatedAt == "" || a.UpdatedAt != before[id].UpdatedAt)
		if updated {
			continue
		}
		if strings.Contains(out, id) || strings.Contains(out, jsonEscaped(id)) {
			continue
		}
		lost++
		if lost <= 5 {
			t.Errorf("invariant 4: finding %s was neither imported nor reported by Id", id)
		}
	}
	if lost > 5 {
		t.Errorf("invariant 4: %d findings lost in all", lost)
	}
}

func jsonEscaped(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

func sortedIDs[V any](m map[string]V) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

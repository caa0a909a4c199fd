package report

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/sek-dev/sek/pkg/audit"
)

// TestJSONStreamsTheSameBytesAsTheEncoder pins the streamed JSON to what encoding/json writes
// for the whole document, so streaming cannot change the contract.
func TestJSONStreamsTheSameBytesAsTheEncoder(t *testing.T) {
	res := []audit.Result{
		{CheckID: "EKS_A", Title: "a <b> & c", Severity: audit.High, Status: audit.Fail, ResourceARN: "arn:aws:eks:us-east-1:1:cluster/x",
			Region: "us-east-1", AccountID: "111111111111", ClusterName: "x", Message: "quote \" and \u2028 line",
			References: []audit.Reference{{Standard: "CIS", Control: "5.4.1", URL: "https://example.com/?a=1&b=2"}}, Facts: map[string]string{"z": "1", "a": "2"}},
		{CheckID: "EKS_B", Status: audit.Pass, Muted: true, MuteReason: "ok"},
	}
	rep := &audit.Report{StartedAt: time.Unix(0, 0).UTC(), FinishedAt: time.Unix(60, 0).UTC(), Regions: []string{"us-east-1"}, Results: res,
		Errors: []audit.ScanError{{Scope: audit.ScopeRef{Region: "us-west-2"}, Stage: "discover", Message: "denied"}}}
	for name, d := range map[string]Document{
		"full":        NewDocument(rep, "v1"),
		"empty":       NewDocument(&audit.Report{}, "v1"),
		"withPublish": func() Document { d := NewDocument(rep, "v1"); d.Publish = map[string]int{"imported": 2}; return d }(),
	} {
		var want, got bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(d); err != nil {
			t.Fatal(err)
		}
		if err := JSON(&got, d); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("%s: streamed JSON differs from encoding/json:\n--- got\n%s\n--- want\n%s", name, got.String(), want.String())
		}
	}
}

package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sek-dev/sek/pkg/audit"
)

func sampleReport() *audit.Report {
	return &audit.Report{
		StartedAt: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), FinishedAt: time.Date(2026, 11, 25, 10, 0, 3, 0, time.UTC),
		Regions: []string{"eu-west-1"},
		Results: []audit.Result{
			{CheckID: "EKS_A", Title: "a", Severity: audit.High, Status: audit.Fail, ResourceARN: "arn:aws:eks:eu-west-1:111122223333:cluster/prod",
				ResourceType: "AwsEksCluster", Region: "eu-west-1", AccountID: "111122223333", ClusterName: "prod", Message: "public, with \"quotes\", and commas",
				References: []audit.Reference{{Standard: "AWS Foundational Security Best Practices", Control: "EKS.1", URL: "https://x"}}},
			{CheckID: "EKS_B", Title: "b", Severity: audit.Low, Status: audit.Pass, ResourceARN: "arn:aws:eks:eu-west-1:111122223333:cluster/prod",
				ResourceType: "AwsEksCluster", Region: "eu-west-1", AccountID: "111122223333", ClusterName: "prod", Message: "fine"},
		},
		Errors: []audit.ScanError{{Scope: audit.ScopeRef{Region: "us-east-1"}, Stage: "discover", Message: "AccessDenied"}},
	}
}

func TestJSONContract(t *testing.T) {
	var buf bytes.Buffer
	if err := JSON(&buf, NewDocument(sampleReport(), "v1")); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	results := doc["results"].([]any)
	first := results[0].(map[string]any)
	if first["severity"] != "HIGH" || first["status"] != "FAIL" || first["checkId"] != "EKS_A" {
		t.Fatalf("result fields: %v", first)
	}
	ref := first["references"].([]any)[0].(map[string]any)
	if ref["standard"] != "AWS Foundational Security Best Practices" || ref["control"] != "EKS.1" || ref["url"] != "https://x" {
		t.Fatalf("reference shape: %v", ref)
	}
	errs := doc["errors"].([]any)[0].(map[string]any)
	if errs["scope"] != "us-east-1" || errs["message"] != "AccessDenied" {
		t.Fatalf("error shape: %v", errs)
	}
	sum := doc["summary"].(map[string]any)
	if sum["total"].(float64) != 2 || sum["failedBySeverity"].(map[string]any)["HIGH"].(float64) != 1 {
		t.Fatalf("summary: %v", sum)
	}
}

func TestCSVQuotesAndColumns(t *testing.T) {
	var buf bytes.Buffer
	if err := CSV(&buf, sampleReport().Results); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1][10] != `public, with "quotes", and commas` || rows[0][0] != "checkId" {
		t.Fatalf("rows: %q", rows)
	}
}

func TestTableShowsFailuresSummaryAndScopeErrors(t *testing.T) {
	var buf bytes.Buffer
	if err := Table(&buf, sampleReport(), TableOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"FAIL", "EKS_A", "eu-west-1/prod", "HIGH 1", "Could not scan 1 scope(s)", "us-east-1 [discover]: AccessDenied"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "EKS_B") {
		t.Error("passing rows are hidden unless ShowPassed")
	}
	if strings.Contains(out, "\033[") {
		t.Error("no colour codes without a terminal")
	}
	buf.Reset()
	_ = Table(&buf, sampleReport(), TableOptions{Color: true, ShowPassed: true})
	if !strings.Contains(buf.String(), "\033[31m") || !strings.Contains(buf.String(), "EKS_B") {
		t.Error("colour and passed rows expected")
	}
}

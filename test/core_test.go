package test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/sek-dev/sek/internal/cli"
	"github.com/sek-dev/sek/internal/demo"
	"github.com/sek-dev/sek/pkg/awsclient"
	"github.com/sek-dev/sek/test/harness"
)

// seededMoto starts moto, points the SDK at it, and seeds the demo estate.
func seededMoto(t *testing.T) *harness.Moto {
	t.Helper()
	m := harness.StartMoto(t)
	m.SetEnv(t)
	ctx := context.Background()
	base, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfgFor := awsclient.NewFactory(base).Config
	if err := demo.Seed(ctx, cfgFor, demo.Clusters()); err != nil {
		t.Fatalf("seed: %v", err)
	}
	return m
}

type jsonDoc struct {
	Results []map[string]any `json:"results"`
	Errors  []map[string]any `json:"errors"`
	Summary map[string]any   `json:"summary"`
}

func runSek(t *testing.T, args ...string) (int, jsonDoc, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), args, cli.IO{Stdout: &out, Stderr: &errb, Environ: os.Environ()})
	var doc jsonDoc
	if strings.Contains(strings.Join(args, " "), "--output json") {
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatalf("sek %v: stdout is not JSON: %v\n%s\nstderr: %s", args, err, out.String(), errb.String())
		}
	}
	return code, doc, out.String() + errb.String()
}

// TestScanAcrossRegionsGivesExpectedVerdicts seeds clusters in three regions of moto and checks every
// core check's verdict on every cluster, plus the JSON contract.
func TestScanAcrossRegionsGivesExpectedVerdicts(t *testing.T) {
	seededMoto(t)
	args := []string{"scan", "--output", "json"}
	for _, r := range demo.Regions() {
		args = append(args, "--region", r)
	}
	code, doc, logs := runSek(t, args...)
	if code != cli.ExitOK {
		t.Fatalf("exit code %d, want 0 (no --fail-on); output: %s", code, logs)
	}
	if len(doc.Errors) != 0 {
		t.Fatalf("unexpected scan errors: %v", doc.Errors)
	}
	got := map[string]string{} // cluster/check → status
	for _, r := range doc.Results {
		for _, field := range []string{"checkId", "title", "severity", "status", "resourceArn", "resourceType", "region", "accountId", "clusterName", "message", "references"} {
			if _, ok := r[field]; !ok {
				t.Errorf("result %v lacks field %q", r["checkId"], field)
			}
		}
		got[r["clusterName"].(string)+"/"+r["checkId"].(string)] = r["status"].(string)
	}
	want := map[string]string{
		"prod-payments/EKS_ENDPOINT_PUBLIC_ENABLED":   "PASS",
		"prod-payments/EKS_ENDPOINT_PUBLIC_OPEN":      "PASS",
		"prod-payments/EKS_ENDPOINT_PRIVATE_DISABLED": "PASS",
		"prod-payments/EKS_VERSION_SUPPORTED":         "PASS",
		"prod-payments/EKS_SECRETS_ENCRYPTION":        "PASS",
		"prod-payments/EKS_SECRETS_KMS_KEY_HEALTH":    "PASS",
		"prod-payments/EKS_AUDIT_LOGGING":             "PASS",
		"prod-payments/EKS_CONTROL_PLANE_LOGGING_ALL": "PASS",

		"dev-sandbox/EKS_ENDPOINT_PUBLIC_ENABLED":   "FAIL",
		"dev-sandbox/EKS_ENDPOINT_PUBLIC_OPEN":      "FAIL",
		"dev-sandbox/EKS_ENDPOINT_PRIVATE_DISABLED": "FAIL",
		"dev-sandbox/EKS_VERSION_SUPPORTED":         "FAIL",
		"dev-sandbox/EKS_SECRETS_ENCRYPTION":        "FAIL",
		"dev-sandbox/EKS_SECRETS_KMS_KEY_HEALTH":    "NOT_APPLICABLE",
		"dev-sandbox/EKS_AUDIT_LOGGING":             "FAIL",
		"dev-sandbox/EKS_CONTROL_PLANE_LOGGING_ALL": "FAIL",

		"analytics/EKS_ENDPOINT_PUBLIC_ENABLED":   "FAIL",
		"analytics/EKS_ENDPOINT_PUBLIC_OPEN":      "PASS",
		"analytics/EKS_ENDPOINT_PRIVATE_DISABLED": "PASS",
		"analytics/EKS_VERSION_SUPPORTED":         "FAIL",
		"analytics/EKS_SECRETS_ENCRYPTION":        "PASS",
		"analytics/EKS_SECRETS_KMS_KEY_HEALTH":    "FAIL",
		"analytics/EKS_AUDIT_LOGGING":             "PASS",
		"analytics/EKS_CONTROL_PLANE_LOGGING_ALL": "FAIL",

		"edge/EKS_ENDPOINT_PUBLIC_OPEN":      "FAIL",
		"edge/EKS_ENDPOINT_PRIVATE_DISABLED": "PASS",
		"edge/EKS_AUDIT_LOGGING":             "PASS",
		"edge/EKS_CONTROL_PLANE_LOGGING_ALL": "FAIL",
		"edge/EKS_SECRETS_ENCRYPTION":        "FAIL",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: got %q, want %q", k, got[k], w)
		}
	}
}

func TestScanExitCodes(t *testing.T) {
	seededMoto(t)
	cases := []struct {
		name string
		args []string
		want int
		msg  string
	}{
		{"a high failure with --fail-on high exits 1", []string{"scan", "--region", "us-east-1", "--fail-on", "high", "--output", "json"}, cli.ExitFindings, ""},
		{"--fail-on critical is met by the unsupported version", []string{"scan", "--region", "us-east-1", "--cluster", "dev-sandbox", "--fail-on", "critical", "--output", "json"}, cli.ExitFindings, ""},
		{"the hardened cluster passes --fail-on low", []string{"scan", "--region", "us-east-1", "--cluster", "prod-payments", "--fail-on", "low", "--output", "json"}, cli.ExitOK, ""},
		{"--fail-on-error turns checks moto cannot serve into an incomplete scan", []string{"scan", "--region", "us-east-1", "--cluster", "prod-payments", "--fail-on-error", "--output", "json"}, cli.ExitIncomplete, "could not be evaluated: "},
		{"an unknown cluster is an incomplete scan", []string{"scan", "--region", "us-east-1", "--cluster", "nope", "--output", "json"}, cli.ExitIncomplete, `"nope" was not found`},
		{"an invalid region is a usage error", []string{"scan", "--region", "mars-1"}, cli.ExitUsage, `invalid region "mars-1"`},
		{"an unknown skip id is a usage error", []string{"scan", "--skip", "EKS_NOPE"}, cli.ExitUsage, `unknown check id "EKS_NOPE"`},
		{"a bad --fail-on is a usage error", []string{"scan", "--fail-on", "urgent"}, cli.ExitUsage, `unknown severity "urgent"`},
		{"--all-regions with --region is a usage error", []string{"scan", "--all-regions", "--region", "us-east-1"}, cli.ExitUsage, "mutually exclusive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, out := runSek(t, tc.args...)
			if code != tc.want {
				t.Fatalf("exit %d, want %d; output:\n%s", code, tc.want, out)
			}
			if tc.msg != "" && !strings.Contains(out, tc.msg) {
				t.Fatalf("output lacks %q:\n%s", tc.msg, out)
			}
		})
	}
}

func TestAllRegionsScansOnlyEnabledRegions(t *testing.T) {
	seededMoto(t)
	code, doc, out := runSek(t, "scan", "--all-regions", "--output", "json", "--skip", "EKS_VERSION_SUPPORTED")
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	clusters := map[string]bool{}
	for _, r := range doc.Results {
		clusters[r["clusterName"].(string)] = true
		if r["checkId"] == "EKS_VERSION_SUPPORTED" {
			t.Fatalf("skipped check appeared in results")
		}
	}
	for _, c := range demo.Clusters() {
		if !clusters[c.Name] {
			t.Errorf("cluster %s in %s was not scanned by --all-regions", c.Name, c.Region)
		}
	}
}

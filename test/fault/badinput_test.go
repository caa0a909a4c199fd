package fault

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/test/harness"
	"github.com/sek-dev/sek/test/invariants"
)

// badInput is one row of the bad-input table in docs/reliability.md: what the user (or the API)
// gave Sek, and the exact text the user then sees.
type badInput struct {
	input string
	args  []string
	// yaml, when set, is written to a config file passed with --config ({file} in want is its
	// path, {dir} its directory).
	yaml string
	// edit rewrites moto's answer to DescribeCluster of the edge cluster.
	edit harness.Action
	exit int
	// want is the exact line on stderr, or with check set, the exact message of that check's
	// result on edge (status wantStatus).
	want       string
	check      string
	wantStatus audit.Status
}

func badInputs() []badInput {
	edgeScan := []string{"scan", "--output", "json", "--no-progress", "--region", edge.Region, "--publish"}
	return []badInput{
		{input: "unknown check id in --skip", args: []string{"scan", "--skip", "EKS_NOPE"}, exit: 2,
			want: `sek: skip: unknown check id "EKS_NOPE"; valid ids are: ECR_LIFECYCLE, `},
		{input: "unknown check id in a mute", yaml: "mutes:\n  - check: EKS_NOPE\n    reason: accepted risk\n", exit: 2,
			want: `sek: mutes[0]: check: unknown check id "EKS_NOPE"; valid ids are: ECR_LIFECYCLE, `},
		{input: "unknown check id in params", yaml: "params:\n  EKS_NOPE:\n    days: 3\n", exit: 2,
			want: `sek: params.EKS_NOPE: unknown check id "EKS_NOPE"; valid ids are: ECR_LIFECYCLE, `},
		{input: "invalid region", args: []string{"scan", "--region", "mars-1"}, exit: 2,
			want: `sek: regions: invalid region "mars-1": expected a region name such as us-east-1 or eu-west-2`},
		{input: "cluster name that does not exist", args: []string{"scan", "--region", "us-east-1", "--cluster", "nope"}, exit: 3,
			want: `sek: incomplete: us-east-1/nope ("nope" was not found in any scanned region (us-east-1); check the name and the --region flags)`},
		{input: "cluster name EKS cannot have", args: []string{"scan", "--region", "us-east-1", "--cluster", "prod payments"}, exit: 2,
			want: `sek: clusters: "prod payments" cannot be an EKS cluster name: use 1 to 100 letters, digits, hyphens and underscores, starting with a letter or digit`},
		{input: "invalid YAML", yaml: "regions: [us-east-1\n", exit: 2,
			want: `sek: config file {file}: invalid YAML: yaml: line 1: did not find expected ',' or ']'`},
		{input: "YAML that is not a mapping", yaml: "- us-east-1\n", exit: 2,
			want: `sek: config file {file}: invalid YAML: yaml: unmarshal errors:`},
		{input: "misspelt key", yaml: "regoins: [us-east-1]\n", exit: 2,
			want: `sek: invalid configuration: has unknown keys: regoins (see docs/configuration.md for every valid key)`},
		{input: "value of the wrong kind", yaml: "timeout: forever\n", exit: 2,
			want: `sek: invalid configuration: 'timeout' is not a duration: use a value such as 90s, 30m or 1h (see docs/configuration.md for every valid key)`},
		{input: "mute without a reason", yaml: "mutes:\n  - check: EKS_AUDIT_LOGGING\n", exit: 2,
			want: `sek: mutes[0]: reason is required: say why the result is accepted`},
		{input: "mute expiry that is not a date", yaml: "mutes:\n  - check: EKS_AUDIT_LOGGING\n    reason: r\n    expires: next week\n", exit: 2,
			want: `sek: mutes[0]: expires: "next week" is not a date: use YYYY-MM-DD`},
		{input: "--config file that does not exist", args: []string{"scan", "--config", "{dir}/missing.yaml"}, exit: 2,
			want: `sek: config file {dir}/missing.yaml: cannot read it (stat {dir}/missing.yaml: no such file or directory); check the --config path`},
		{input: "unknown --fail-on severity", args: []string{"scan", "--fail-on", "urgent"}, exit: 2,
			want: `sek: fail_on: unknown severity "urgent": use one of none, informational, low, medium, high, critical`},

		{input: "API: a 100 KB tag value", args: edgeScan, exit: 0, edit: harness.RewriteJSON(func(d map[string]any) {
			cluster(d)["tags"] = map[string]any{"owner": strings.Repeat("x", 100_000)}
		}), check: "EKS_CLUSTER_TAGGED", wantStatus: audit.Pass, want: "The cluster has 1 tag(s)."},
		{input: "API: 10,000 public access CIDRs", args: edgeScan, exit: 0, edit: harness.RewriteJSON(func(d map[string]any) {
			cidrs := []any{}
			for i := range 10_000 {
				cidrs = append(cidrs, fmt.Sprintf("10.%d.%d.0/24", i/256, i%256))
			}
			cluster(d)["resourcesVpcConfig"].(map[string]any)["publicAccessCidrs"] = append(cidrs, "0.0.0.0/0")
		}), check: "EKS_ENDPOINT_PUBLIC_OPEN", wantStatus: audit.Fail, want: "The public endpoint accepts connections from 0.0.0.0/0."},
		{input: "API: bytes that are not UTF-8 in a tag value", args: edgeScan, exit: 0, edit: harness.RewriteBody(func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"tags": {}`), []byte("\"tags\": {\"note\": \"\xff\xfe\xc3\x28\"}"), 1)
		}), check: "EKS_CLUSTER_TAGGED", wantStatus: audit.Pass, want: "The cluster has 1 tag(s)."},
		{input: "API: resourcesVpcConfig is null", args: edgeScan, exit: 0, edit: harness.RewriteJSON(func(d map[string]any) {
			cluster(d)["resourcesVpcConfig"] = nil
		}), check: "EKS_ENDPOINT_PUBLIC_ENABLED", wantStatus: audit.Error,
			want: "Could not evaluate: eks:DescribeCluster resourcesVpcConfig: missing from the response, so the endpoint settings are unknown"},
		{input: "API: accessConfig is null", args: edgeScan, exit: 0, edit: harness.RewriteJSON(func(d map[string]any) {
			cluster(d)["accessConfig"] = nil
		}), check: "EKS_AUTH_MODE_API", wantStatus: audit.Error, want: "eks:DescribeCluster did not return accessConfig.authenticationMode."},
		{input: "API: a response cut short (invalid JSON)", args: edgeScan, exit: 3, edit: harness.RewriteBody(func(b []byte) []byte {
			return []byte(`{"cluster": {"name": "edge", "arn": "arn:aws:eks:ap-southeast-2:123456789012:cluster/edge"`)
		}), want: `sek: incomplete: 123456789012/ap-southeast-2/edge (describe cluster "edge" in ap-southeast-2 (eks:DescribeCluster): operation error EKS: DescribeCluster, https response error StatusCode: 200, RequestID: {id}, deserialization failed, unexpected end of JSON input)`},
		{input: "API: a field of the wrong type", args: edgeScan, exit: 3, edit: harness.RewriteBody(func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"endpointPublicAccess": true`), []byte(`"endpointPublicAccess": "yes"`), 1)
		}), want: `sek: incomplete: 123456789012/ap-southeast-2/edge (describe cluster "edge" in ap-southeast-2 (eks:DescribeCluster): operation error EKS: DescribeCluster, https response error StatusCode: 200, RequestID: {id}, deserialization failed, expected bool, got "yes")`},
	}
}

func cluster(d map[string]any) map[string]any { return d["cluster"].(map[string]any) }

// TestBadInputTable runs every row of the bad-input table: Sek never panics, exits with the
// documented code and shows exactly the documented text; docs/reliability.md carries each row.
func TestBadInputTable(t *testing.T) {
	doc, err := os.ReadFile("../../docs/reliability.md")
	if err != nil {
		t.Fatalf("read docs/reliability.md: %v", err)
	}
	for _, tc := range badInputs() {
		t.Run(tc.input, func(t *testing.T) {
			f := newFixture(t)
			dir := t.TempDir()
			file := filepath.Join(dir, "sek.yaml")
			args := tc.args
			if tc.yaml != "" {
				if err := os.WriteFile(file, []byte(tc.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
				args = []string{"scan", "--config", file}
			}
			for i := range args {
				args[i] = strings.ReplaceAll(args[i], "{dir}", dir)
			}
			if tc.edit != nil {
				p := f.publishing()
				p.Add(&harness.Rule{Name: "edit", Match: harness.OnResource(edge.Cluster, harness.Op("eks", "DescribeCluster")), Action: tc.edit})
			}
			run := f.sek(args...)
			f.finish(run)
			if run.Code != tc.exit {
				t.Errorf("exit %d, want %d; stderr:\n%s", run.Code, tc.exit, run.Stderr)
			}
			want := strings.NewReplacer("{file}", file, "{dir}", dir).Replace(tc.want)
			if tc.check != "" {
				r := invariants.ResultStatus(t, run, edge, tc.check, tc.wantStatus)
				if r.Message != want {
					t.Errorf("%s says %.300q, want %q", tc.check, r.Message, want)
				}
				if !utf8.ValidString(run.Stdout) {
					t.Error("the JSON output is not valid UTF-8")
				}
				if f.hub != nil {
					for _, v := range f.hub.Invalid() {
						t.Errorf("a published finding broke the ASFF limits: %s", v)
					}
				}
			} else if !hasLine(run.Stderr, want) {
				t.Errorf("stderr lacks the line %q:\n%s", want, run.Stderr)
			}
			docText := strings.NewReplacer("{file}", "<file>", "{dir}", "<dir>", "{id}", "<id>").Replace(tc.want)
			if !strings.Contains(string(doc), tc.input) || !strings.Contains(string(doc), mdEscape(docText)) {
				t.Errorf("docs/reliability.md lacks the row %q with %q", tc.input, mdEscape(docText))
			}
		})
	}
}

// hasLine reports whether some line of s starts with want ({id} matches a request id).
func hasLine(s, want string) bool {
	pre, post, hasID := strings.Cut(want, "{id}")
	for _, line := range strings.Split(s, "\n") {
		if !hasID && strings.HasPrefix(line, want) {
			return true
		}
		if hasID && strings.HasPrefix(line, pre) && strings.HasSuffix(line, post) {
			return true
		}
	}
	return false
}

// mdEscape is how a message appears inside a Markdown table cell in backquotes.
func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sek-dev/sek/pkg/audit"
)

func catalog() []audit.Check {
	return []audit.Check{
		{ID: "EKS_A", Parameters: []audit.Parameter{{Name: "warnDays", Default: 90}}},
		{ID: "EKS_B"},
	}
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sek.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPrecedenceFlagsOverEnvOverFile(t *testing.T) {
	file := writeFile(t, "regions: [eu-west-1]\nfail_on: low\noutput: csv\nconcurrency:\n  regions: 2\n")
	cfg, err := Load(Sources{File: file, FileRequired: true,
		Environ: []string{"SEK_FAIL_ON=medium", "SEK_OUTPUT=json", "SEK_CONCURRENCY__CLUSTERS=3", "SEK_SKIP=EKS_B"},
		Flags:   map[string]any{"output": "table"}}, catalog())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Regions[0] != "eu-west-1" || cfg.FailOn != "medium" || cfg.Output != "table" {
		t.Fatalf("precedence wrong: %+v", cfg)
	}
	if cfg.Concurrency.Regions != 2 || cfg.Concurrency.Clusters != 3 || len(cfg.Skip) != 1 {
		t.Fatalf("nested keys wrong: %+v", cfg)
	}
}

func TestMissingDefaultFileIsFine(t *testing.T) {
	cfg, err := Load(Sources{File: filepath.Join(t.TempDir(), "sek.yaml"), Environ: []string{}}, catalog())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Output != "table" || cfg.Concurrency.Clusters != 8 {
		t.Fatalf("defaults not applied: %+v", cfg)
	}
}

func TestBadInputNamesTheKey(t *testing.T) {
	cases := []struct {
		name, yaml string
		env        []string
		want       string
	}{
		{"unknown key", "regoins: [us-east-1]\n", nil, "regoins"},
		{"invalid YAML", "regions: [us-east-1\n", nil, "invalid YAML"},
		{"bad region", "regions: [useast1]\n", nil, `regions: invalid region "useast1"`},
		{"unknown skip id", "skip: [EKS_Z]\n", nil, `skip: unknown check id "EKS_Z"; valid ids are: EKS_A, EKS_B`},
		{"unknown param check", "params:\n  EKS_Z:\n    x: 1\n", nil, "params.EKS_Z"},
		{"unknown param name", "params:\n  EKS_A:\n    warnDay: 1\n", nil, "params.EKS_A.warnDay: unknown parameter; valid parameters: warnDays"},
		{"mute without reason", "mutes:\n  - check: EKS_A\n", nil, "mutes[0]: reason is required"},
		{"mute with bad date", "mutes:\n  - check: EKS_A\n    reason: x\n    expires: soon\n", nil, `mutes[0]: expires: "soon" is not a date`},
		{"bad duration", "", []string{"SEK_TIMEOUT=forever"}, "timeout"},
		{"bad concurrency", "", []string{"SEK_CONCURRENCY__REGIONS=0"}, "concurrency"},
		{"bad output", "output: xml\n", nil, `output: unknown format "xml"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(Sources{File: writeFile(t, tc.yaml), FileRequired: true, Environ: tc.env}, catalog())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestMuteRulesParse(t *testing.T) {
	file := writeFile(t, "mutes:\n  - cluster: dev-*\n    check: EKS_A\n    reason: sandbox\n    expires: 2027-01-31\n")
	cfg, err := Load(Sources{File: file, FileRequired: true, Environ: []string{}}, catalog())
	if err != nil {
		t.Fatal(err)
	}
	rules, err := cfg.MuteRules(catalog())
	if err != nil || len(rules) != 1 || rules[0].Expires.Format("2006-01-02") != "2027-01-31" {
		t.Fatalf("rules %+v err %v", rules, err)
	}
}

func TestLambdaSettingsFromEnv(t *testing.T) {
	cfg, err := Load(Sources{Environ: []string{}}, catalog())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Lambda.SafetyMargin != 60*time.Second || cfg.Lambda.ClusterCost != 2*time.Second || !cfg.Lambda.FanOut {
		t.Fatalf("lambda defaults wrong: %+v", cfg.Lambda)
	}
	cfg, err = Load(Sources{Environ: []string{"SEK_LAMBDA__SAFETY_MARGIN=45s", "SEK_LAMBDA__CLUSTER_COST=500ms", "SEK_LAMBDA__FAN_OUT=false"}}, catalog())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Lambda.SafetyMargin != 45*time.Second || cfg.Lambda.ClusterCost != 500*time.Millisecond || cfg.Lambda.FanOut {
		t.Fatalf("lambda env not applied: %+v", cfg.Lambda)
	}
	if _, err := Load(Sources{Environ: []string{"SEK_LAMBDA__CLUSTER_COST=0s"}}, catalog()); err == nil || !strings.Contains(err.Error(), "lambda.cluster_cost") {
		t.Fatalf("zero cluster cost accepted or error unclear: %v", err)
	}
}

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary config files and one arbitrary SEK_* variable to Load. Bad input
// never panics and always gives an error that says where the problem is; what Load accepts
// passes validation.
func FuzzLoad(f *testing.F) {
	for _, seed := range []struct{ yaml, env string }{
		{"regions: [eu-west-1]\nfail_on: high\n", "SEK_OUTPUT=json"},
		{"mutes:\n  - cluster: dev-*\n    check: EKS_A\n    reason: sandbox\n    expires: 2027-01-31\n", ""},
		{"params:\n  EKS_A:\n    warnDays: 30\n", "SEK_CONCURRENCY__REGIONS=2"},
		{"regions: eu-west-1\n", "SEK_REGIONS=us-east-1,,"},
		{"regions: [mars-1]\n", ""},
		{"skip: [EKS_NOPE]\n", ""},
		{"timeout: forever\n", "SEK_CALL_TIMEOUT=-1s"},
		{"concurrency: 3\n", ""},
		{"mutes: {}\n", ""},
		{"mutes:\n  - check: '['\n", ""},
		{"params:\n  EKS_A: [1, 2]\n", ""},
		{"regions: [\n", ""},
		{":\n\t- x", ""},
		{"a: &a [*a]\n", ""},
		{"\xff\xfe", "SEK_LOG_LEVEL=\xff"},
		{"max_attempts: 1e400\n", "SEK_MAX_ATTEMPTS=NaN"},
		{"publish: maybe\n", "SEK_PUBLISH=yes"},
		{"", "SEK_UNKNOWN=1"},
		{"lambda:\n  safety_margin: 0s\n", ""},
	} {
		f.Add(seed.yaml, seed.env)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, yamlText, envVar string) {
		path := filepath.Join(dir, "sek.yaml")
		if err := os.WriteFile(path, []byte(yamlText), 0o600); err != nil {
			t.Fatal(err)
		}
		var environ []string
		if strings.HasPrefix(envVar, EnvPrefix) {
			environ = []string{envVar}
		}
		cfg, err := Load(Sources{File: path, FileRequired: true, Environ: environ}, catalog())
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if verr := cfg.Validate(catalog()); verr != nil {
			t.Fatalf("Load accepted a config that does not validate: %v", verr)
		}
		if _, err := cfg.MuteRules(catalog()); err != nil {
			t.Fatalf("Load accepted mutes that do not convert: %v", err)
		}
	})
}

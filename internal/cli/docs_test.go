package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sek-dev/sek/pkg/config"
	"github.com/sek-dev/sek/pkg/report"
)

// TestChecksDocIsCurrent keeps docs/checks.md generated from the registry.
func TestChecksDocIsCurrent(t *testing.T) {
	var want bytes.Buffer
	if err := report.ChecksMarkdown(&want, checksOf()); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../docs/checks.md")
	if err != nil {
		t.Fatalf("read docs/checks.md: %v (run `make docs`)", err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("docs/checks.md is out of date with the check registry: run `make docs` and commit the result")
	}
}

// TestConfigurationDocIsCurrent keeps docs/configuration.md generated from config.Keys(), the
// check parameters and the flags.
func TestConfigurationDocIsCurrent(t *testing.T) {
	var want bytes.Buffer
	if err := ConfigurationMarkdown(&want); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatalf("read docs/configuration.md: %v (run `make docs`)", err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("docs/configuration.md is out of date with config.Keys(), the checks or the flags: run `make docs` and commit the result")
	}
}

// TestConfigurationDocCoversEveryKey guards the generator itself: every key, env variable and
// flag in config.Keys() appears, and the example file loads with the real loader.
func TestConfigurationDocCoversEveryKey(t *testing.T) {
	var doc bytes.Buffer
	if err := ConfigurationMarkdown(&doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range config.Keys() {
		for _, s := range []string{k.Name, k.Env, k.Flag} {
			if s != "" && !strings.Contains(doc.String(), "`"+s+"`") {
				t.Errorf("docs/configuration.md lacks %q", s)
			}
		}
	}
	for _, c := range checksOf() {
		for _, p := range c.Parameters {
			if !strings.Contains(doc.String(), "| `"+p.Name+"` |") {
				t.Errorf("docs/configuration.md lacks parameter %s.%s", c.ID, p.Name)
			}
		}
	}
	file := filepath.Join(t.TempDir(), "sek.yaml")
	if err := os.WriteFile(file, []byte(ExampleConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.Sources{File: file, FileRequired: true, Environ: []string{}}, checksOf())
	if err != nil {
		t.Fatalf("the documented example sek.yaml does not load: %v", err)
	}
	if cfg.FailOn != "high" || len(cfg.Mutes) != 1 || len(cfg.Regions) != 2 {
		t.Errorf("example loaded as %+v", cfg)
	}
}

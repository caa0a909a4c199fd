package cli

import (
	"bytes"
	"os"
	"testing"

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

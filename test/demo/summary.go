package main

import (
	"encoding/json"
	"fmt"
	"strings"
)

// summariseJSON prints the parts of the JSON document a newcomer should look at.
func summariseJSON(out []byte) string {
	var doc struct {
		Summary map[string]any `json:"summary"`
		Publish any            `json:"publish"`
		Errors  []any          `json:"errors"`
		Results []any          `json:"results"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return fmt.Sprintf("could not parse sek's JSON: %v", err)
	}
	var b strings.Builder
	s, _ := json.MarshalIndent(doc.Summary, "", "  ")
	fmt.Fprintf(&b, "results: %d\nsummary: %s\n", len(doc.Results), s)
	p, _ := json.MarshalIndent(doc.Publish, "", "  ")
	fmt.Fprintf(&b, "publish: %s\nerrors: %d\n", p, len(doc.Errors))
	return b.String()
}

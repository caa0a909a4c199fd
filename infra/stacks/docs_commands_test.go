package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// deployCommand matches the `make deploy|destroy|synth …` lines of the user docs.
var deployCommand = regexp.MustCompile(`(?m)^\s*make (deploy|destroy|synth)\b(.*)$`)

// shellWords splits a command line as the shell would for the simple quoting the docs use.
func shellWords(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unclosed %c in %q", c, s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			i = len(s)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}

// TestDocumentedDeployCommandsAreValid checks every `make deploy CDK_ARGS=…` in README.md and
// docs/deploy.md without an AWS account: each `-c key=value` must be a key the app reads, and
// the context it gives on top of cdk.json must pass the same validation `cdk deploy` runs.
func TestDocumentedDeployCommandsAreValid(t *testing.T) {
	t.Setenv("CDK_DEFAULT_REGION", "eu-west-1")
	raw, err := os.ReadFile("../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var cdk struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &cdk); err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, k := range allContextKeys {
		known[k] = true
	}
	found := 0
	for _, doc := range []string{"../../README.md", "../../docs/deploy.md"} {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range deployCommand.FindAllStringSubmatch(string(data), -1) {
			found++
			words, err := shellWords(m[2])
			if err != nil {
				t.Errorf("%s: make %s%s: %v", doc, m[1], m[2], err)
				continue
			}
			ctx := map[string]any{}
			for k, v := range cdk.Context {
				ctx[k] = v
			}
			for _, w := range words {
				args, ok := strings.CutPrefix(w, "CDK_ARGS=")
				if !ok {
					t.Errorf("%s: make %s%s: unexpected argument %q", doc, m[1], m[2], w)
					continue
				}
				cdkArgs, err := shellWords(args)
				if err != nil {
					t.Errorf("%s: %v", doc, err)
					continue
				}
				for i := 0; i < len(cdkArgs); i++ {
					if cdkArgs[i] != "-c" && cdkArgs[i] != "--context" {
						continue
					}
					if i+1 >= len(cdkArgs) {
						t.Errorf("%s: -c without a value in %q", doc, args)
						break
					}
					k, v, ok := strings.Cut(cdkArgs[i+1], "=")
					if !ok || !known[k] {
						t.Errorf("%s: make %s%s: -c %s is not a context key the app reads", doc, m[1], m[2], cdkArgs[i+1])
					}
					ctx[k] = v
					i++
				}
			}
			if _, err := FromContext(func(k string) any { return ctx[k] }); err != nil {
				t.Errorf("%s: make %s%s: the app would reject this context: %v", doc, m[1], m[2], err)
			}
		}
	}
	if found < 3 {
		t.Errorf("found only %d make deploy/destroy/synth commands in the docs; the extraction is broken", found)
	}
}

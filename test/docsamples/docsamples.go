// Package docsamples renders the output samples shown in README.md and docs/samples/ from the
// estate `make demo` seeds, so the documentation shows real output. `make docs` writes them
// (test/gendoc samples) and test/docs_test.go regenerates and compares them, so they cannot rot.
//
// A sample is a documented command line: `sek …`, optionally piped through jq, head or the
// like. sek runs in-process with the clock pinned to Today (version support and mute expiry
// depend on the date); the rest of the pipeline runs in bash. Volatile values (timestamps, ids
// that moto makes up) are normalised so that reruns are byte-identical.
package docsamples

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/sek-dev/sek/internal/cli"
)

// Today is the date the samples are rendered for.
var Today = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// Sample is one documented command and where its output goes.
type Sample struct {
	// Name identifies the sample: docs/samples/<Name>.txt, or a README.md block between
	// <!-- sample:<Name> --> and <!-- /sample:<Name> -->.
	Name string
	// Command is shown exactly as written, after "$ ".
	Command string
	// InReadme selects a README block rather than a file under docs/samples.
	InReadme bool
	// Doc, when set, is the Markdown file (relative to the repository) holding the block, in
	// place of README.md.
	Doc string
	// Fault, when set, puts a proxy in front of moto that answers some requests itself: how
	// troubleshooting.md shows the exact messages of AccessDenied, throttling and the like.
	Fault FaultRule
	// Env overrides process environment variables while the sample runs ("" unsets one).
	Env map[string]string
	// Stderr interleaves sek's standard error with its output, as a terminal shows them.
	Stderr bool
	// Exit is the exit code the sample must end with; the default accepts 0 and 1.
	Exit int
}

// Block reports whether the sample lives in a Markdown block rather than docs/samples.
func (s Sample) Block() bool { return s.InReadme || s.Doc != "" }

// DocFile is the Markdown file that holds a block sample.
func (s Sample) DocFile() string {
	if s.Doc != "" {
		return s.Doc
	}
	return "README.md"
}

var demoRegions = "--region us-east-1 --region eu-west-1 --region ap-southeast-2"

// Samples lists every sample, in the order the docs show them.
func Samples() []Sample {
	return append([]Sample{
		// Full outputs of the scan `make demo` runs.
		{Name: "table", Command: "sek scan " + demoRegions},
		{Name: "json", Command: "sek scan " + demoRegions + " --output json"},
		{Name: "csv", Command: "sek scan " + demoRegions + " --output csv"},
		{Name: "asff", Command: "sek scan " + demoRegions + " --output asff"},
		// Short excerpts for the README, one cluster of the estate.
		{Name: "readme-table", InReadme: true, Command: "sek scan --region eu-west-1 --cluster analytics"},
		{Name: "readme-json", InReadme: true, Command: "sek scan --region eu-west-1 --cluster analytics --output json | jq '{firstFailure: ([.results[] | select(.status == \"FAIL\")][0]), summary}'"},
		{Name: "readme-csv", InReadme: true, Command: "sek scan --region eu-west-1 --cluster analytics --output csv | head -n 3"},
		{Name: "readme-asff", InReadme: true, Command: `sek scan --region eu-west-1 --cluster analytics --output asff | jq '.[] | select(.GeneratorId == "EKS_ENDPOINT_PUBLIC_ENABLED")'`},
	}, troubleshooting()...)
}

const troubleshootingDoc = "docs/troubleshooting.md"

// troubleshooting renders the exact messages of the faults docs/troubleshooting.md explains, by
// answering the relevant calls with AWS's own error shapes.
func troubleshooting() []Sample {
	keyARN := regexp.MustCompile(`"KeyId":\s*"([^"]+)"`)
	return []Sample{
		{
			Name: "ts-denied-one-action", Doc: troubleshootingDoc, Stderr: true,
			Command: `sek scan --region eu-west-1 --cluster analytics --output json | jq '.results[] | select(.checkId == "EKS_SECRETS_KMS_KEY_HEALTH")'`,
			Fault: func(c Call) *Reply {
				if c.Service == "kms" && c.Operation == "GetKeyRotationStatus" {
					key := "*"
					if m := keyARN.FindSubmatch(c.Body); m != nil {
						key = string(m[1])
					}
					return AccessDenied("kms:GetKeyRotationStatus", key)
				}
				return nil
			},
		},
		{
			Name: "ts-denied-region", Doc: troubleshootingDoc, Stderr: true, Exit: cli.ExitIncomplete,
			Command: "sek scan --region eu-west-1",
			Fault: func(c Call) *Reply {
				if c.Service == "eks" && c.Region == "eu-west-1" && c.Method == "GET" && c.Path == "/clusters" {
					return AccessDenied("eks:ListClusters", "arn:aws:eks:eu-west-1:123456789012:cluster/*")
				}
				return nil
			},
		},
		{
			Name: "ts-hub-not-enabled", Doc: troubleshootingDoc, Stderr: true, Exit: cli.ExitIncomplete,
			Command: "sek scan --region eu-west-1 --publish --output json | jq .publish",
			Fault: func(c Call) *Reply {
				if c.Service == "securityhub" && c.Region == "eu-west-1" {
					return &Reply{Status: 401, Code: "InvalidAccessException", Message: "Account 123456789012 is not subscribed to AWS Security Hub"}
				}
				return nil
			},
		},
		{
			Name: "ts-no-credentials", Doc: troubleshootingDoc, Stderr: true, Exit: cli.ExitIncomplete,
			Command: "sek scan --region eu-west-1",
			Env:     map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""},
		},
		{
			Name: "ts-throttled", Doc: troubleshootingDoc, Stderr: true, Exit: cli.ExitIncomplete,
			Command: "sek scan --region eu-west-1 --cluster analytics --max-attempts 3",
			Fault: func(c Call) *Reply {
				if c.Service == "eks" && c.Method == "GET" && strings.HasPrefix(c.Path, "/clusters/") {
					return &Reply{Status: 429, Code: "ThrottlingException", Message: "Rate exceeded"}
				}
				return nil
			},
		},
		{
			Name: "ts-region-not-enabled", Doc: troubleshootingDoc, Stderr: true, Exit: cli.ExitIncomplete,
			Command: "sek scan --region ap-east-1",
			Fault: func(c Call) *Reply {
				if c.Region == "ap-east-1" {
					return &Reply{Status: 403, Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."}
				}
				return nil
			},
		},
	}
}

// Render runs a sample's command and returns "$ command\n" followed by its normalised output.
// The caller has pointed the AWS SDK at a seeded moto through the process environment
// (AWS_ENDPOINT_URL and friends); environ is what sek sees as its own environment (SEK_*).
// Samples run one at a time: a fault or Env override changes the process environment.
func Render(ctx context.Context, s Sample, environ []string) ([]byte, error) {
	first, rest, piped := strings.Cut(s.Command, "|")
	args := strings.Fields(first)
	if len(args) == 0 || args[0] != "sek" {
		return nil, fmt.Errorf("sample %s: command must start with sek: %q", s.Name, s.Command)
	}
	env := map[string]string{}
	for k, v := range s.Env {
		env[k] = v
	}
	if s.Fault != nil {
		proxy, err := startFaultProxy(os.Getenv("AWS_ENDPOINT_URL"), s.Fault)
		if err != nil {
			return nil, fmt.Errorf("sample %s: %w", s.Name, err)
		}
		defer proxy.Close()
		env["AWS_ENDPOINT_URL"] = proxy.URL
	}
	restore := setEnv(env)
	defer restore()

	var out, errb bytes.Buffer
	stderr := &errb
	if s.Stderr && !piped {
		stderr = &out
	}
	dir, err := os.MkdirTemp("", "sek-sample-")
	if err != nil {
		return nil, fmt.Errorf("sample %s: %w", s.Name, err)
	}
	defer os.RemoveAll(dir)
	code := cli.Main(ctx, args[1:], cli.IO{
		Stdout: &out, Stderr: stderr, Environ: environ,
		Getwd: func() (string, error) { return dir, nil }, // no stray sek.yaml
		Now:   func() time.Time { return Today },
	})
	switch {
	case s.Exit != 0 && code != s.Exit:
		return nil, fmt.Errorf("sample %s: sek exited %d, want %d:\n%s%s", s.Name, code, s.Exit, out.String(), errb.String())
	case s.Exit == 0 && code != cli.ExitOK && code != cli.ExitFindings:
		return nil, fmt.Errorf("sample %s: sek exited %d: %s", s.Name, code, errb.String())
	}
	text := out.Bytes()
	if piped {
		cmd := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", rest)
		cmd.Stdin = bytes.NewReader(text)
		cmd.Dir = dir
		var perr bytes.Buffer
		cmd.Stderr = &perr
		if text, err = cmd.Output(); err != nil {
			return nil, fmt.Errorf("sample %s: %s: %w: %s", s.Name, rest, err, perr.String())
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "$ %s\n", s.Command)
	if s.Stderr && piped {
		// In a pipeline, the filter prints only after sek has exited, so sek's messages come first.
		b.Write(Normalise(errb.Bytes()))
	}
	b.Write(Normalise(text))
	return b.Bytes(), nil
}

// setEnv applies overrides to the process environment and returns a function that undoes them.
func setEnv(env map[string]string) func() {
	type prev struct {
		v  string
		ok bool
	}
	saved := map[string]prev{}
	for k, v := range env {
		old, ok := os.LookupEnv(k)
		saved[k] = prev{old, ok}
		if v == "" {
			os.Unsetenv(k)
		} else {
			os.Setenv(k, v)
		}
	}
	return func() {
		for k, p := range saved {
			if p.ok {
				os.Setenv(k, p.v)
			} else {
				os.Unsetenv(k)
			}
		}
	}
}

var (
	timestamp = regexp.MustCompile(`\b20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})`)
	// moto invents these per run; the AWS documentation's example ids stand in for them.
	uuid      = regexp.MustCompile(`\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)
	awsID     = regexp.MustCompile(`\b(sg|vpc|subnet|igw|rtb|acl|eni|i|lt|ami|snap|vol|nat|vpce|fl)-[0-9a-f]{8,17}\b`)
	versionKV = regexp.MustCompile(`("version": ")[^"]*(")`)
)

// Normalise replaces the values that change from run to run with stable stand-ins. The same
// original value always maps to the same stand-in within one output, so relations stay visible.
func Normalise(b []byte) []byte {
	b = timestamp.ReplaceAll(b, []byte(Today.Format(time.RFC3339)))
	b = versionKV.ReplaceAll(b, []byte("${1}dev${2}"))
	b = stableReplace(b, uuid, func(i int) string { return fmt.Sprintf("1234abcd-12ab-34cd-56ef-%012d", i) })
	b = stableReplace(b, awsID, nil)
	return b
}

func stableReplace(b []byte, re *regexp.Regexp, stand func(i int) string) []byte {
	seen := map[string]string{}
	return re.ReplaceAllFunc(b, func(m []byte) []byte {
		k := string(m)
		if v, ok := seen[k]; ok {
			return []byte(v)
		}
		var v string
		if stand != nil {
			v = stand(len(seen) + 1)
		} else {
			prefix, _, _ := strings.Cut(k, "-")
			v = fmt.Sprintf("%s-0%016d", prefix, len(seen)+1)
		}
		seen[k] = v
		return []byte(v)
	})
}

// ReplaceBlock returns doc with the body between <!-- sample:name --> and <!-- /sample:name -->
// replaced by a console code block holding content.
func ReplaceBlock(doc []byte, name string, content []byte) ([]byte, error) {
	start, end := []byte("<!-- sample:"+name+" -->\n"), []byte("<!-- /sample:"+name+" -->")
	i := bytes.Index(doc, start)
	j := bytes.Index(doc, end)
	if i < 0 || j < i {
		return nil, fmt.Errorf("no block <!-- sample:%s --> … <!-- /sample:%s -->", name, name)
	}
	var b bytes.Buffer
	b.Write(doc[:i+len(start)])
	b.WriteString("```console\n")
	b.Write(content)
	if !bytes.HasSuffix(content, []byte("\n")) {
		b.WriteString("\n")
	}
	b.WriteString("```\n")
	b.Write(doc[j:])
	return b.Bytes(), nil
}

// DemoSample is the README's view of Security Hub at the end of `make demo`: the console state
// after a fix and a deleted cluster were published. It comes from the demo program itself.
var DemoSample = Sample{Name: "readme-securityhub", InReadme: true, Command: "make demo   # the end of its output"}

const demoSection = "== Security Hub after the second publish"

// RenderDemo runs the demo (test/demo, as `make demo` does) with the sek binary at sekBin, in the
// repository at root, and returns the README excerpt: the per-cluster table after the second
// publish.
func RenderDemo(ctx context.Context, root, sekBin string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", "run", "./test/demo", sekBin)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("run the demo: %w\n%s", err, stderr.String())
	}
	lines := strings.Split(string(out), "\n")
	start := -1
	for i, l := range lines {
		if l == demoSection {
			start = i
		}
	}
	if start < 0 {
		return nil, fmt.Errorf("the demo's output has no %q section:\n%s", demoSection, out)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "$ %s\n%s\n", DemoSample.Command, demoSection)
	// The table's rows; the lines after it name single findings with their timestamps.
	for _, l := range lines[start+1:] {
		if !strings.HasPrefix(l, "  ") || strings.HasPrefix(l, "  sek/") {
			break
		}
		b.WriteString(l + "\n")
	}
	return Normalise(b.Bytes()), nil
}

package test

// Tests that keep the documentation true: every command a reader can copy runs, every sample
// output is what sek prints today, and every link and diagram is well formed.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sek-dev/sek/pkg/config"
	"github.com/sek-dev/sek/pkg/runner"
	"github.com/sek-dev/sek/test/docsamples"
)

const repoRoot = ".."

// docFiles returns README.md and every Markdown file under docs/.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md", "CHANGELOG.md"}
	err := filepath.WalkDir(filepath.Join(repoRoot, "docs"), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") {
			rel, _ := filepath.Rel(repoRoot, p)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// fence is one fenced code block and the HTML comment just above it, if any.
type fence struct {
	file, lang, note string
	line             int
	body             string
}

var noteRe = regexp.MustCompile(`^<!--\s*(.*?)\s*-->$`)

func fences(t *testing.T, file string) []fence {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, file))
	if err != nil {
		t.Fatal(err)
	}
	var out []fence
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		// A fence may be indented, inside a list item; its body then carries the same indent.
		l := strings.TrimLeft(lines[i], " ")
		indent := len(lines[i]) - len(l)
		if !strings.HasPrefix(l, "```") {
			continue
		}
		f := fence{file: file, lang: strings.Fields(strings.TrimPrefix(l, "```") + " x")[0], line: i + 1}
		if f.lang == "x" {
			f.lang = ""
		}
		if i > 0 {
			if m := noteRe.FindStringSubmatch(strings.TrimSpace(lines[i-1])); m != nil {
				f.note = m[1]
			}
		}
		var body []string
		closed := false
		for i++; i < len(lines); i++ {
			if strings.TrimSpace(lines[i]) == "```" {
				closed = true
				break
			}
			body = append(body, strings.TrimPrefix(lines[i], strings.Repeat(" ", indent)))
		}
		if !closed {
			t.Errorf("%s:%d: code block is never closed", file, f.line)
		}
		f.body = strings.Join(body, "\n")
		out = append(out, f)
	}
	return out
}

// shellLines splits a shell block into commands: continuation lines joined, comments dropped.
func shellLines(body string) []string {
	var out []string
	cur := ""
	for _, l := range strings.Split(body, "\n") {
		if strings.HasSuffix(l, "\\") {
			cur += strings.TrimSuffix(l, "\\") + " "
			continue
		}
		l = strings.TrimSpace(cur + l)
		cur = ""
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// documented is one command a reader can copy, with where it came from.
type documented struct {
	file, where, cmd string
	// files are written into the working directory before the command runs (<!-- file: X -->).
	files map[string]string
}

func documentedCommands(t *testing.T) []documented {
	t.Helper()
	var out []documented
	for _, file := range docFiles(t) {
		files := map[string]string{}
		for _, f := range fences(t, file) {
			where := fmt.Sprintf("%s:%d", f.file, f.line)
			var cmds []string
			switch {
			case strings.HasPrefix(f.note, "file: "):
				files[strings.TrimPrefix(f.note, "file: ")] = f.body + "\n"
				continue
			case strings.HasPrefix(f.note, "ci: "):
				continue // TestCIExamplesRun runs them as whole jobs
			case f.lang == "sh" || f.lang == "bash" || f.lang == "shell":
				cmds = shellLines(f.body)
			case f.lang == "console":
				for _, l := range strings.Split(f.body, "\n") {
					if c, ok := strings.CutPrefix(l, "$ "); ok {
						cmds = append(cmds, c)
					}
				}
			}
			for _, c := range cmds {
				snapshot := map[string]string{}
				for k, v := range files {
					snapshot[k] = v
				}
				out = append(out, documented{file: file, where: where, cmd: c, files: snapshot})
			}
		}
	}
	return out
}

// makeTargets are the make targets the docs name, and what in `make test` runs or checks each.
var makeTargets = map[string]string{
	"demo":             "the test-docs target runs `make demo`",
	"test":             "it is `make test`",
	"docs":             "TestDocSamplesAreCurrent and internal/cli's docs tests fail unless its output is committed",
	"tools":            "`make test` depends on it",
	"release-snapshot": "test-release runs `goreleaser check` on its configuration and TestGoReleaserBuildsStampedBinary builds sek with it",
	"synth":            "test-infra synthesizes the same stacks and lints them; infra's TestDocumentedDeployCommandsAreValid checks each documented context",
	"deploy":           "needs an AWS account; test-infra synthesizes the same stacks, and infra's TestDocumentedDeployCommandsAreValid validates each documented CDK_ARGS context",
	"destroy":          "needs an AWS account; infra's TestDocumentedDeployCommandsAreValid checks the command",
	"invoke":           "test-e2e (TestLambdaEndToEnd) runs the same bootstrap under aws-lambda-rie against moto; pkg/auditor's tests decode and handle every file in events/",
	"lambda":           "test-e2e builds the same function for this machine; TestGoReleaserBuildsStampedBinary's configuration builds it for linux/arm64 in releases",
	"bench":            "takes minutes, so not in make test; test-perf runs the same harness (TestHarnessSmoke through runner.Scan, TestEveryAPIDecodesThroughTheSDK) on a small estate",
}

// notRunHere are documented commands that cannot run in a test, and why. A key ending in "*"
// matches by prefix. Each must still be in the docs (a stale entry fails), so the list shrinks
// as the docs change.
var notRunHere = map[string]string{
	"go install github.com/sek-dev/sek/cmd/sek@latest": "the module is not published; TestGoInstallReportsSaneVersion installs the same way from a local module proxy",
	`git tag -a v0.1.0 -m "sek v0.1.0"`:                "tags the repository; a release step",
	"git push origin v0.1.0":                           "publishes a tag; a release step",
	"goreleaser release --clean":                       "publishes a release; TestGoReleaserBuildsStampedBinary builds with the same configuration",
	"sha256sum --ignore-missing --check checksums.txt": "needs a downloaded release",
	"npx aws-cdk@2 bootstrap*":                         "bootstraps a real AWS account for the CDK",
	"cd infra && npx aws-cdk@2 deploy *":               "deploys to a real AWS account; test-infra synthesizes and checks the same stacks",
	"EXT=$(openssl rand -hex 16)":                      "sets a variable for the deploy command after it, which needs an AWS account",
	"sek scan --organization *":                        "needs an AWS Organization with that OU; test/org_test.go runs --organization, --ou and --account-tag against an organization in moto",
	"go run ./test/bench/cmd/sekbench *":               "takes minutes at 100 ms per call (make bench runs it); test-perf's TestHarnessSmoke runs the same harness on a small estate",
	"go run ./test/bench/cmd/lambdabench*":             "builds two Lambda bootstraps and cold-starts each under aws-lambda-rie seven times; test-e2e runs the auditor under aws-lambda-rie",
}

// notRunReason returns why a documented command is not run, and the notRunHere key it matched.
func notRunReason(cmd string) (reason, key string) {
	if r, ok := notRunHere[cmd]; ok {
		return r, cmd
	}
	for k, r := range notRunHere {
		if p, ok := strings.CutSuffix(k, "*"); ok && strings.HasPrefix(cmd, p) {
			return r, k
		}
	}
	return "", ""
}

// trailingComment is a shell comment after a command (`make demo   # …`).
var trailingComment = regexp.MustCompile(`\s+#[^"']*$`)

var sekBin struct {
	once sync.Once
	dir  string
	err  error
}

// sekOnPath builds the real sek binary once and returns a directory to put first on PATH.
func sekOnPath(t *testing.T) string {
	t.Helper()
	sekBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "sek-bin-")
		if err != nil {
			sekBin.err = err
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "sek"), "./cmd/sek")
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			sekBin.err = fmt.Errorf("go build ./cmd/sek: %v\n%s", err, out)
		}
		sekBin.dir = dir
	})
	if sekBin.err != nil {
		t.Fatal(sekBin.err)
	}
	return sekBin.dir
}

// TestDocumentedCommandsRun runs every command in README.md and docs/ that needs no AWS account
// against moto seeded with the demo estate, through bash, with the real sek binary on PATH. A
// command may find failures (exit 1) but must not be a usage error or an incomplete scan.
func TestDocumentedCommandsRun(t *testing.T) {
	m := seededMoto(t)
	bin := sekOnPath(t)
	env := append(os.Environ(), m.Env()...)
	// The AWS CLI v1 reads its region from AWS_DEFAULT_REGION only.
	env = append(env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "AWS_DEFAULT_REGION=us-east-1")
	makefile, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	workdirs := map[string]string{}
	ran := 0
	for _, d := range documentedCommands(t) {
		if d.file == addingACheckDoc {
			continue // its commands need the guide's code applied: TestAddingACheckGuideWorks runs them
		}
		bare := trailingComment.ReplaceAllString(d.cmd, "")
		first := strings.Fields(d.cmd)[0]
		if reason, key := notRunReason(bare); reason != "" {
			seen[key] = true
			continue
		}
		switch {
		case first == "make":
			target := strings.Fields(d.cmd)[1]
			if makeTargets[target] == "" {
				t.Errorf("%s: %q: make %s is not known to be exercised by make test: add it to makeTargets with what runs it", d.where, d.cmd, target)
			}
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(target) + `:`).Match(makefile) {
				t.Errorf("%s: the Makefile has no target %q", d.where, target)
			}
			continue
		case first == "sek" || first == "aws" || strings.HasPrefix(d.cmd, "source <(sek "):
		default:
			t.Errorf("%s: documented command %q is neither run by this test nor listed in notRunHere with a reason", d.where, d.cmd)
			continue
		}
		ran++
		// A reader runs a document's commands in order in one directory, so a later command may
		// use a file an earlier one wrote.
		dir, ok := workdirs[d.file]
		if !ok {
			dir = t.TempDir()
			workdirs[d.file] = dir
		}
		t.Run(d.cmd, func(t *testing.T) {
			for name, body := range d.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.CommandContext(context.Background(), "bash", "-o", "pipefail", "-c", d.cmd)
			cmd.Dir, cmd.Env = dir, env
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := cmd.ProcessState.ExitCode()
			if code == 141 && strings.Contains(d.cmd, "| head") {
				// head closed the pipe early and sek got SIGPIPE: what any shell shows as success.
				err, code = nil, 0
			}
			if err != nil && code != 1 {
				t.Fatalf("%s: %q exited %d (%v)\nstdout:\n%s\nstderr:\n%s", d.where, d.cmd, code, err, stdout.String(), stderr.String())
			}
			if code == 1 && !strings.HasPrefix(d.cmd, "sek scan") {
				t.Fatalf("%s: %q exited 1; only a scan may exit 1 (findings)\nstderr:\n%s", d.where, d.cmd, stderr.String())
			}
		})
	}
	for cmd := range notRunHere {
		if !seen[cmd] {
			t.Errorf("notRunHere lists %q, which no document contains any more: remove it", cmd)
		}
	}
	if ran < 5 {
		t.Errorf("ran only %d documented commands; the extraction is broken", ran)
	}
}

// ciJob is one CI job from docs/ci.md: its shell lines in order, its environment, and the
// artifact it must leave behind.
type ciJob struct {
	where    string
	env      map[string]string
	lines    []string
	artifact string
}

// ciJobs reads the GitHub Actions and GitLab CI examples. For GitHub, the
// aws-actions/configure-aws-credentials step is replaced by what it amounts to for the AWS SDK:
// web-identity settings for its role and region.
func ciJobs(t *testing.T) []ciJob {
	t.Helper()
	var jobs []ciJob
	for _, f := range fences(t, "docs/ci.md") {
		if !strings.HasPrefix(f.note, "ci: ") {
			continue
		}
		where := fmt.Sprintf("%s:%d", f.file, f.line)
		var doc map[string]any
		if err := yaml.Unmarshal([]byte(f.body), &doc); err != nil {
			t.Fatalf("%s: the %s example is not valid YAML: %v", where, f.note, err)
		}
		switch strings.TrimPrefix(f.note, "ci: ") {
		case "github":
			perms, _ := doc["permissions"].(map[string]any)
			if perms["id-token"] != "write" {
				t.Errorf("%s: the workflow does not grant id-token: write, so it cannot get an OIDC token", where)
			}
			ghJobs, _ := doc["jobs"].(map[string]any)
			for name, j := range ghJobs {
				job := ciJob{where: where + " job " + name, env: map[string]string{}}
				steps, _ := j.(map[string]any)["steps"].([]any)
				for _, st := range steps {
					step, _ := st.(map[string]any)
					uses, _ := step["uses"].(string)
					with, _ := step["with"].(map[string]any)
					switch {
					case strings.HasPrefix(uses, "aws-actions/configure-aws-credentials@"):
						job.env["AWS_ROLE_ARN"], _ = with["role-to-assume"].(string)
						job.env["AWS_REGION"], _ = with["aws-region"].(string)
						job.env["AWS_WEB_IDENTITY_TOKEN_FILE"] = "$PWD/.oidc-token"
						job.lines = append(job.lines, `echo "$CI_OIDC_TOKEN" > "$AWS_WEB_IDENTITY_TOKEN_FILE"`)
					case strings.HasPrefix(uses, "actions/upload-artifact@"):
						job.artifact, _ = with["path"].(string)
						if step["if"] != "always()" {
							t.Errorf("%s: the report is uploaded only when the job passes; use if: always()", where)
						}
					}
					if run, ok := step["run"].(string); ok {
						job.lines = append(job.lines, shellLines(run)...)
					}
				}
				jobs = append(jobs, job)
			}
		case "gitlab":
			for name, j := range doc {
				jm, ok := j.(map[string]any)
				if !ok || jm["script"] == nil {
					continue
				}
				job := ciJob{where: where + " job " + name, env: map[string]string{}}
				if _, ok := jm["id_tokens"].(map[string]any)["AWS_OIDC_TOKEN"]; !ok {
					t.Errorf("%s: the job requests no AWS_OIDC_TOKEN id token", where)
				}
				vars, _ := jm["variables"].(map[string]any)
				for k, v := range vars {
					job.env[k] = strings.ReplaceAll(fmt.Sprint(v), "$CI_PROJECT_DIR", "$PWD")
				}
				job.env["AWS_OIDC_TOKEN"] = "$CI_OIDC_TOKEN"
				for _, line := range jm["script"].([]any) {
					job.lines = append(job.lines, shellLines(fmt.Sprint(line))...)
				}
				art, _ := jm["artifacts"].(map[string]any)
				if art["when"] != "always" {
					t.Errorf("%s: artifacts are kept only when the job passes; use when: always", where)
				}
				if paths, _ := art["paths"].([]any); len(paths) > 0 {
					job.artifact = fmt.Sprint(paths[0])
				}
				jobs = append(jobs, job)
			}
		}
	}
	return jobs
}

// TestCIExamplesRun runs each CI example's job against moto: its shell lines in order, in one
// bash, with no static AWS keys, so sek must get its credentials through
// AssumeRoleWithWebIdentity exactly as it would in the pipeline.
func TestCIExamplesRun(t *testing.T) {
	m := seededMoto(t)
	bin := sekOnPath(t)
	jobs := ciJobs(t)
	if len(jobs) != 2 {
		t.Fatalf("found %d CI jobs in docs/ci.md, want the GitHub and the GitLab one", len(jobs))
	}
	for _, job := range jobs {
		t.Run(job.where, func(t *testing.T) {
			dir := t.TempDir()
			var script strings.Builder
			script.WriteString("set -o pipefail\n")
			for k, v := range job.env {
				fmt.Fprintf(&script, "export %s=\"%s\"\n", k, v)
			}
			for i, l := range job.lines {
				if reason, _ := notRunReason(l); reason != "" {
					continue
				}
				// A CI runner fails the job on the first failing line; exit 1 of a scan is the
				// gate doing its job, which the test accepts.
				ok := "0"
				if strings.HasPrefix(l, "sek scan") {
					ok = "0|1"
				}
				fmt.Fprintf(&script, "%s\nrc=$?; case $rc in %s) ;; *) echo \"failed with exit code $rc: line %d\" >&2; exit $rc;; esac\n", l, ok, i+1)
			}
			cmd := exec.Command("bash", "-c", script.String())
			cmd.Dir = dir
			cmd.Env = ciEnv(m.Env(), bin)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s\nscript:\n%s", err, out, script.String())
			}
			if job.artifact == "" {
				t.Fatal("the job keeps no artifact")
			}
			report, err := os.ReadFile(filepath.Join(dir, job.artifact))
			if err != nil {
				t.Fatalf("the job's artifact: %v", err)
			}
			var doc jsonDoc
			if err := json.Unmarshal(report, &doc); err != nil || len(doc.Results) == 0 {
				t.Fatalf("the artifact %s is not a sek JSON report with results (%v):\n%s", job.artifact, err, report)
			}
		})
	}
}

// ciEnv is the environment of a CI job: moto's endpoint and region, a stand-in OIDC token, and
// no static AWS keys.
func ciEnv(motoEnv []string, bin string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	for _, kv := range motoEnv {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "AWS_ENDPOINT_URL":
			// The SDK builds the web-identity STS client before it applies AWS_ENDPOINT_URL, so
			// the emulator needs the service-specific variable too.
			env = append(env, kv, "AWS_ENDPOINT_URL_STS="+v)
		case "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED":
			env = append(env, kv)
		}
	}
	return append(env, "CI_OIDC_TOKEN=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWstZG9jcyJ9.c2lnbmF0dXJl",
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// TestDocSamplesAreCurrent regenerates every sample output against the demo estate and compares
// it with docs/samples and README.md.
func TestDocSamplesAreCurrent(t *testing.T) {
	m := seededMoto(t)
	for _, s := range docsamples.Samples() {
		got, err := docsamples.Render(context.Background(), s, m.Env())
		if err != nil {
			t.Fatal(err)
		}
		if s.Block() {
			doc, err := os.ReadFile(filepath.Join(repoRoot, s.DocFile()))
			if err != nil {
				t.Fatal(err)
			}
			want, err := docsamples.ReplaceBlock(doc, s.Name, got)
			if err != nil {
				t.Fatalf("%s: %v", s.DocFile(), err)
			}
			if !bytes.Equal(want, doc) {
				t.Errorf("%s: sample %q is not what `%s` prints today: run `make docs` and commit the result\n%s", s.DocFile(), s.Name, s.Command, firstDiff(doc, want))
			}
			continue
		}
		file := filepath.Join(repoRoot, "docs", "samples", s.Name+".txt")
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (run `make docs`)", err)
		}
		if !bytes.Equal(want, got) {
			t.Errorf("docs/samples/%s.txt is not what `%s` prints today: run `make docs` and commit the result\n%s", s.Name, s.Command, firstDiff(want, got))
		}
	}
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("first difference at line %d:\n  committed: %s\n  now:       %s", i+1, x, y)
		}
	}
	return ""
}

var (
	linkRe    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	headingRe = regexp.MustCompile(`(?m)^#{1,6} (.+)$`)
)

// anchor is GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestDocsAreWellFormed checks what makes Markdown render badly or mislead: unclosed code
// blocks, relative links to files or headings that do not exist, and broken Mermaid diagrams.
func TestDocsAreWellFormed(t *testing.T) {
	anchors := map[string][]string{}
	headingsOf := func(file string) []string {
		if a, ok := anchors[file]; ok {
			return a
		}
		data, err := os.ReadFile(filepath.Join(repoRoot, file))
		if err != nil {
			return nil
		}
		var out []string
		for _, m := range headingRe.FindAllStringSubmatch(stripFences(string(data)), -1) {
			out = append(out, anchor(m[1]))
		}
		anchors[file] = out
		return out
	}
	mermaid := 0
	for _, file := range docFiles(t) {
		data, err := os.ReadFile(filepath.Join(repoRoot, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fences(t, file) {
			if f.lang == "json" && !json.Valid([]byte(f.body)) {
				t.Errorf("%s:%d: the JSON example does not parse", file, f.line)
			}
			if f.lang == "mermaid" {
				mermaid++
				if err := checkMermaid(f.body); err != nil {
					t.Errorf("%s:%d: Mermaid diagram: %v", file, f.line, err)
				}
			}
		}
		for _, m := range linkRe.FindAllStringSubmatch(stripFences(string(data)), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, frag, _ := strings.Cut(target, "#")
			resolved := file
			if path != "" {
				resolved = filepath.Join(filepath.Dir(file), path)
				if _, err := os.Stat(filepath.Join(repoRoot, resolved)); err != nil {
					t.Errorf("%s: link to %s: no such file", file, target)
					continue
				}
			}
			if frag != "" && strings.HasSuffix(resolved, ".md") && !slices.Contains(headingsOf(resolved), frag) {
				t.Errorf("%s: link to %s: %s has no heading with anchor #%s", file, target, resolved, frag)
			}
		}
	}
	if mermaid == 0 {
		t.Error("no Mermaid diagram found; docs/architecture.md should have one")
	}
}

func stripFences(s string) string {
	var b strings.Builder
	in := false
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, " "), "```") {
			in = !in
			continue
		}
		if !in {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

var (
	mermaidNode = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	mermaidEdge = regexp.MustCompile(`\s*(-->|-\.->|==>|---|--\s*[^-]+?\s*-->|-->\|[^|]*\|)\s*`)
)

// checkMermaid is a small structural check of a flowchart: a known header, balanced subgraphs,
// balanced brackets and quotes on each line, and edges between well-formed node ids.
func checkMermaid(body string) error {
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if len(lines) == 0 || !regexp.MustCompile(`^(flowchart|graph) (TD|TB|BT|LR|RL)$`).MatchString(strings.TrimSpace(lines[0])) {
		return fmt.Errorf("first line must be `flowchart LR` (or TD, TB, BT, RL), got %q", lines[0])
	}
	depth := 0
	for i, raw := range lines[1:] {
		l := strings.TrimSpace(raw)
		n := i + 2
		switch {
		case l == "" || strings.HasPrefix(l, "%%"):
			continue
		case strings.HasPrefix(l, "subgraph "):
			depth++
			continue
		case l == "end":
			depth--
			if depth < 0 {
				return fmt.Errorf("line %d: `end` without subgraph", n)
			}
			continue
		case strings.HasPrefix(l, "direction "), strings.HasPrefix(l, "classDef "), strings.HasPrefix(l, "class "), strings.HasPrefix(l, "style "), strings.HasPrefix(l, "click "):
			continue
		}
		if strings.Count(l, `"`)%2 != 0 {
			return fmt.Errorf("line %d: unbalanced quotes: %s", n, l)
		}
		unquoted := regexp.MustCompile(`"[^"]*"`).ReplaceAllString(l, `""`)
		for _, pair := range []string{"[]", "()", "{}"} {
			if strings.Count(unquoted, pair[:1]) != strings.Count(unquoted, pair[1:]) {
				return fmt.Errorf("line %d: unbalanced %s: %s", n, pair, l)
			}
		}
		for _, part := range mermaidEdge.Split(unquoted, -1) {
			id := regexp.MustCompile(`^([^\[\](){}>]+)`).FindString(strings.TrimSpace(part))
			for _, node := range strings.Split(id, "&") {
				if node = strings.TrimSpace(node); node != "" && !mermaidNode.MatchString(node) {
					return fmt.Errorf("line %d: %q is not a valid node id: %s", n, node, l)
				}
			}
		}
	}
	if depth != 0 {
		return fmt.Errorf("%d subgraph(s) without `end`", depth)
	}
	return nil
}

const addingACheckDoc = "docs/adding-a-check.md"

// TestAddingACheckGuideWorks follows docs/adding-a-check.md: it applies the guide's new files and
// edits to the real package through a build overlay (the working tree is not touched), runs the
// package's tests with them, and runs the guide's commands against a sek built with them.
func TestAddingACheckGuideWorks(t *testing.T) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	overlay := map[string]string{}
	tmp := t.TempDir()
	var commands []string
	for i, f := range fences(t, addingACheckDoc) {
		switch {
		case strings.HasPrefix(f.note, "new file: "):
			path := filepath.Join(root, strings.TrimPrefix(f.note, "new file: "))
			if _, err := os.Stat(path); err == nil {
				t.Fatalf("%s:%d: %s already exists; the guide must add a check the catalog does not have", f.file, f.line, path)
			}
			overlay[path] = writeTemp(t, tmp, fmt.Sprintf("new%d.go", i), f.body+"\n")
		case strings.HasPrefix(f.note, "edit: "):
			path := filepath.Join(root, strings.TrimPrefix(f.note, "edit: "))
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%s:%d: %v", f.file, f.line, err)
			}
			lines := strings.Split(f.body, "\n")
			anchor := lines[0] + "\n"
			if strings.Count(string(orig), anchor) != 1 {
				t.Fatalf("%s:%d: the edit's first line %q must appear exactly once in %s", f.file, f.line, lines[0], path)
			}
			edited := strings.Replace(string(orig), anchor, f.body+"\n", 1)
			overlay[path] = writeTemp(t, tmp, fmt.Sprintf("edit%d.go", i), edited)
		case f.lang == "sh":
			commands = append(commands, shellLines(f.body)...)
		}
	}
	if len(overlay) != 3 {
		t.Fatalf("the guide should add a check file and its test and edit the registry; found %d changes", len(overlay))
	}
	ov, err := json.Marshal(map[string]any{"Replace": overlay})
	if err != nil {
		t.Fatal(err)
	}
	ovFile := writeTemp(t, tmp, "overlay.json", string(ov))
	bin := filepath.Join(tmp, "bin")
	build := exec.Command("go", "build", "-overlay", ovFile, "-o", filepath.Join(bin, "sek"), "./cmd/sek")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build with the guide's code: %v\n%s", err, out)
	}
	ran := 0
	for _, c := range commands {
		bare := trailingComment.ReplaceAllString(c, "")
		fields := strings.Fields(bare)
		switch {
		case fields[0] == "make":
			if makeTargets[fields[1]] == "" {
				t.Errorf("%s: make %s is not known to be exercised by make test", addingACheckDoc, fields[1])
			}
			continue
		case strings.HasPrefix(bare, "go test "):
			bare = "go test -overlay " + ovFile + " -count=1 " + strings.TrimPrefix(bare, "go test ")
		case fields[0] != "sek":
			t.Errorf("%s: command %q is neither run by this test nor a make target", addingACheckDoc, c)
			continue
		}
		cmd := exec.Command("bash", "-o", "pipefail", "-c", bare)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s: %q with the guide's code applied: %v\n%s", addingACheckDoc, bare, err, out)
		}
		ran++
	}
	if ran < 2 {
		t.Errorf("ran only %d of the guide's commands", ran)
	}
}

func writeTemp(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestREADMECheckCountIsCurrent keeps the number of checks the README states equal to the catalog.
func TestREADMECheckCountIsCurrent(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`lists (\d+) checks`).FindSubmatch(data)
	if m == nil {
		t.Fatal("README.md no longer says how many checks `sek checks` lists; update this test")
	}
	if want := fmt.Sprint(len(runner.Checks())); string(m[1]) != want {
		t.Errorf("README.md says sek checks lists %s checks; the catalog has %s", m[1], want)
	}
}

// TestDemoSampleIsCurrent runs the demo, as `make demo` does, and compares the README's view of
// Security Hub after the second publish with what the demo prints today.
func TestDemoSampleIsCurrent(t *testing.T) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	got, err := docsamples.RenderDemo(context.Background(), root, filepath.Join(sekOnPath(t), "sek"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := docsamples.ReplaceBlock(readme, docsamples.DemoSample.Name, got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, readme) {
		t.Errorf("README.md's Security Hub view is not what `make demo` prints today: run `make docs` and commit the result\n%s", firstDiff(readme, want))
	}
}

// TestArchitectureDefaultsAreCurrent keeps the defaults docs/architecture.md computes the fan-out
// threshold from equal to the code's.
func TestArchitectureDefaultsAreCurrent(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	def := config.Defaults()
	for key, want := range map[string]string{
		"lambda.cluster_cost":  fmt.Sprintf("%d s", int(def.Lambda.ClusterCost.Seconds())),
		"concurrency.clusters": fmt.Sprint(def.Concurrency.Clusters),
		"concurrency.regions":  fmt.Sprint(def.Concurrency.Regions),
	} {
		m := regexp.MustCompile("`" + regexp.QuoteMeta(key) + "` ([0-9]+( s)?)").FindSubmatch(data)
		if m == nil {
			t.Errorf("docs/architecture.md no longer states the default of %s; update this test", key)
		} else if string(m[1]) != want {
			t.Errorf("docs/architecture.md says %s is %s by default; the code says %s", key, m[1], want)
		}
	}
}

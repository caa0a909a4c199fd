package test

// Tests of how sek is built and versioned: the GoReleaser configuration really builds a stamped
// binary, and `go install module@version` gives `sek version` sane values.

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

type versionInfo struct {
	Version, Commit, Date, Go string
}

func sekVersion(t *testing.T, bin string) versionInfo {
	t.Helper()
	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatalf("%s version --json: %v", bin, err)
	}
	var v versionInfo
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("sek version --json printed %q: %v", out, err)
	}
	return v
}

func goreleaserPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("goreleaser"); err == nil {
		return p
	}
	gopath, _ := exec.Command("go", "env", "GOPATH").Output()
	p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "goreleaser")
	if _, err := os.Stat(p); err != nil {
		t.Fatal("goreleaser is not installed: run `make tools`")
	}
	return p
}

// TestGoReleaserBuildsStampedBinary builds sek for this machine with the real .goreleaser.yaml
// (a snapshot, nothing published) and checks that the binary reports the snapshot version, the
// commit being built and the commit's date.
func TestGoReleaserBuildsStampedBinary(t *testing.T) {
	gr := goreleaserPath(t)
	// GoReleaser reads the commit from git and wants a remote, as in a release job; a clone of
	// the committed HEAD has both, and leaves the working tree's dist/ alone.
	clone := filepath.Join(t.TempDir(), "sek")
	if out, err := exec.Command("git", "clone", "-q", repoRoot, clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	bin := filepath.Join(t.TempDir(), "sek")
	cmd := exec.Command(gr, "build", "--snapshot", "--single-target", "--id", "sek", "--output", bin)
	cmd.Dir = clone
	cmd.Env = append(os.Environ(), "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("goreleaser build: %v\n%s", err, out)
	}
	head, err := exec.Command("git", "-C", clone, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	v := sekVersion(t, bin)
	if !strings.Contains(v.Version, "-snapshot+") {
		t.Errorf("version %q is not GoReleaser's snapshot version", v.Version)
	}
	if v.Commit != strings.TrimSpace(string(head)) {
		t.Errorf("commit %q, want HEAD %s", v.Commit, head)
	}
	if _, err := time.Parse(time.RFC3339, v.Date); err != nil {
		t.Errorf("date %q is not an RFC 3339 time: %v", v.Date, err)
	}
}

// TestGoInstallReportsSaneVersion does what a user's `go install github.com/sek-dev/sek/cmd/sek@v…`
// does, from a local module proxy holding this checkout as a tagged version and as an untagged
// commit (a pseudo-version), and checks what `sek version` says for each.
func TestGoInstallReportsSaneVersion(t *testing.T) {
	proxy := t.TempDir()
	const tagged = "v0.99.0"
	pseudo := "v0.0.0-20261125174530-0123456789ab"
	for _, v := range []string{tagged, pseudo} {
		writeModuleVersion(t, proxy, v)
	}
	for _, tc := range []struct {
		version              string
		wantCommit, wantDate string
	}{
		{tagged, "unknown", "unknown"},
		{pseudo, "0123456789ab", "2026-11-25T17:45:30Z"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			gobin := t.TempDir()
			cmd := exec.Command("go", "install", "github.com/sek-dev/sek/cmd/sek@"+tc.version)
			cmd.Dir = t.TempDir()
			cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=-mod=mod",
				// Only sek comes from the local proxy; its dependencies are in the module cache.
				"GOPROXY=file://"+proxy+",off", "GONOSUMDB=github.com/sek-dev/sek", "GONOSUMCHECK=1",
				"GOSUMDB=off", "GOTOOLCHAIN=local")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go install: %v\n%s", err, out)
			}
			v := sekVersion(t, filepath.Join(gobin, "sek"))
			if v.Version != tc.version || v.Commit != tc.wantCommit || v.Date != tc.wantDate || !strings.HasPrefix(v.Go, "go1.") {
				t.Errorf("sek version: %+v, want version %s, commit %s, date %s", v, tc.version, tc.wantCommit, tc.wantDate)
			}
		})
	}
}

// writeModuleVersion lays out this checkout as version v of github.com/sek-dev/sek in a
// GOPROXY directory: the .info, .mod and .zip files the go command fetches.
func writeModuleVersion(t *testing.T, proxy, v string) {
	t.Helper()
	dir := filepath.Join(proxy, "github.com", "sek-dev", "sek", "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	info := fmt.Sprintf(`{"Version":%q,"Time":"2026-11-25T17:45:30Z"}`, v)
	for name, body := range map[string][]byte{v + ".info": []byte(info), v + ".mod": mod} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Create(filepath.Join(dir, v+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	prefix := "github.com/sek-dev/sek@" + v + "/"
	// Go's module zips hold the module's files, without nested modules (infra/ has its own
	// go.mod), VCS data or build output.
	skip := regexp.MustCompile(`^(\.git|bin|dist|node_modules|cdk\.out)$`)
	err = filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repoRoot, p)
		if d.IsDir() {
			if rel != "." && (skip.MatchString(d.Name()) || fileExists(filepath.Join(p, "go.mod"))) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		w, err := zw.Create(prefix + filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "list"), []byte(v+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

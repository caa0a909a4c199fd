// Package version reports the build's version, commit and date. Release builds stamp them with
// -ldflags; `go install` builds fall back to the module and VCS data Go embeds.
package version

import (
	"fmt"
	"regexp"
	"runtime/debug"
	"time"
)

// Stamped by the linker: -X github.com/sek-dev/sek/internal/version.version=v1.2.3 etc.
var (
	version = ""
	commit  = ""
	date    = ""
)

// Info describes the running build.
type Info struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
	Go      string `json:"go"`
}

// Get returns the build info, filling gaps from debug.ReadBuildInfo.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(Info{Version: version, Commit: commit, Date: date}, bi)
}

// pseudoVersion matches Go's pseudo-versions (vX.Y.Z-yyyymmddhhmmss-abcdefabcdef and the
// pre-release forms), which carry the commit time and hash of an untagged `go install`.
var pseudoVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+-(?:[0-9A-Za-z.]+\.)?(?:0\.)?([0-9]{14})-([0-9a-f]{12})(?:\+incompatible)?$`)

// resolve fills what the linker did not stamp: from the VCS data of a build inside a checkout,
// else from the module version that `go install module@version` records (a pseudo-version
// names its commit and time; a tag names neither).
func resolve(i Info, bi *debug.BuildInfo) Info {
	if bi != nil {
		i.Go = bi.GoVersion
		if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version
		}
		modified, fromVCS := false, false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if i.Commit == "" {
					i.Commit, fromVCS = s.Value, true
				}
			case "vcs.time":
				if i.Date == "" {
					i.Date = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if m := pseudoVersion.FindStringSubmatch(i.Version); m != nil {
			if i.Commit == "" {
				i.Commit = m[2]
			}
			if t, err := time.Parse("20060102150405", m[1]); err == nil && i.Date == "" {
				i.Date = t.UTC().Format(time.RFC3339)
			}
		}
		if fromVCS && modified {
			// A `go build` or `go install ./cmd/sek` in a checkout with uncommitted changes.
			i.Commit += "-dirty"
		}
	}
	if i.Version == "" {
		i.Version = "dev"
	}
	if i.Commit == "" {
		i.Commit = "unknown"
	}
	if i.Date == "" {
		i.Date = "unknown"
	}
	return i
}

func (i Info) String() string {
	return fmt.Sprintf("sek %s (commit %s, built %s, %s)", i.Version, i.Commit, i.Date, i.Go)
}

// Package version reports the build's version, commit and date. Release builds stamp them with
// -ldflags; `go install` builds fall back to the module and VCS data Go embeds.
package version

import (
	"fmt"
	"runtime/debug"
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
	i := Info{Version: version, Commit: commit, Date: date}
	if bi, ok := debug.ReadBuildInfo(); ok {
		i.Go = bi.GoVersion
		if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if i.Commit == "" {
					i.Commit = s.Value
				}
			case "vcs.time":
				if i.Date == "" {
					i.Date = s.Value
				}
			}
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

package version

import (
	"runtime/debug"
	"testing"
)

func settings(kv ...string) []debug.BuildSetting {
	var out []debug.BuildSetting
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
	}
	return out
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stamped Info
		bi      *debug.BuildInfo
		want    Info
	}{
		{
			name:    "release build stamped by ldflags wins over everything Go embeds",
			stamped: Info{Version: "v1.4.0", Commit: "0123abc", Date: "2026-11-20T10:00:00Z"},
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
				Settings: settings("vcs.revision", "ffffffffffffffffffffffffffffffffffffffff", "vcs.time", "2020-01-01T00:00:00Z", "vcs.modified", "true")},
			want: Info{Version: "v1.4.0", Commit: "0123abc", Date: "2026-11-20T10:00:00Z", Go: "go1.26.8"},
		},
		{
			name: "go install module@v1.2.3 of a tag records only the version",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/sek-dev/sek", Version: "v1.2.3"}},
			want: Info{Version: "v1.2.3", Commit: "unknown", Date: "unknown", Go: "go1.26.8"},
		},
		{
			name: "go install module@latest of an untagged commit: the pseudo-version names commit and time",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261125174530-1603460abcde"}},
			want: Info{Version: "v0.0.0-20261125174530-1603460abcde", Commit: "1603460abcde", Date: "2026-11-25T17:45:30Z", Go: "go1.26.8"},
		},
		{
			name: "pseudo-version after a pre-release tag",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.3.0-rc.1.0.20261101120000-abcdefabcdef"}},
			want: Info{Version: "v1.3.0-rc.1.0.20261101120000-abcdefabcdef", Commit: "abcdefabcdef", Date: "2026-11-01T12:00:00Z", Go: "go1.26.8"},
		},
		{
			name: "go build in a clean checkout uses the VCS stamp",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
				Settings: settings("vcs.revision", "1603460", "vcs.time", "2026-11-25T17:00:00Z", "vcs.modified", "false")},
			want: Info{Version: "dev", Commit: "1603460", Date: "2026-11-25T17:00:00Z", Go: "go1.26.8"},
		},
		{
			name: "go build in a checkout with local changes says so",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
				Settings: settings("vcs.revision", "1603460", "vcs.time", "2026-11-25T17:00:00Z", "vcs.modified", "true")},
			want: Info{Version: "dev", Commit: "1603460-dirty", Date: "2026-11-25T17:00:00Z", Go: "go1.26.8"},
		},
		{
			name: "no build info at all",
			want: Info{Version: "dev", Commit: "unknown", Date: "unknown"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := resolve(tc.stamped, tc.bi); got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

package inventory

import (
	"strconv"
	"strings"
	"time"
)

// EmbeddedVersionsAsOf dates the fallback table below. Checks report it, so a reader knows how
// old the data behind a verdict is when eks:DescribeClusterVersions was unavailable.
var EmbeddedVersionsAsOf = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// EmbeddedVersions returns the fallback catalog. Status is derived from the dates and now, so the
// verdict is right on the day the scan runs, not on the day this table was written.
func EmbeddedVersions(now time.Time, reason string) *VersionCatalog {
	rows := []struct {
		v              string
		std, ext       string
		defaultVersion bool
	}{
		{"1.35", "2027-03-27", "2028-03-27", true},
		{"1.34", "2026-12-02", "2027-12-02", false},
		{"1.33", "2026-07-29", "2027-07-29", false},
		{"1.32", "2026-03-23", "2027-03-23", false},
		{"1.31", "2025-11-26", "2026-11-26", false},
		{"1.30", "2025-07-23", "2026-07-23", false},
		{"1.29", "2025-03-23", "2026-03-23", false},
		{"1.28", "2024-11-26", "2025-11-26", false},
	}
	cat := &VersionCatalog{Source: "embedded", AsOf: EmbeddedVersionsAsOf, Versions: map[string]VersionInfo{}, FallbackReason: reason}
	for _, r := range rows {
		std, _ := time.Parse(time.DateOnly, r.std)
		ext, _ := time.Parse(time.DateOnly, r.ext)
		info := VersionInfo{Version: r.v, EndOfStandardSupport: std, EndOfExtendedSupport: ext, DefaultVersion: r.defaultVersion}
		switch {
		case now.Before(std):
			info.Status = "STANDARD_SUPPORT"
		case now.Before(ext):
			info.Status = "EXTENDED_SUPPORT"
		default:
			info.Status = "UNSUPPORTED"
		}
		cat.Versions[r.v] = info
	}
	return cat
}

// CompareRelease orders AMI release strings such as "1.29.0-20240202" or "1.20.3-5d9ac849":
// the dotted version numerically, then a numeric build date suffix.
func CompareRelease(a, b string) int {
	av, as, _ := strings.Cut(a, "-")
	bv, bs, _ := strings.Cut(b, "-")
	ap, bp := strings.Split(av, "."), strings.Split(bv, ".")
	for i := 0; i < len(ap) || i < len(bp); i++ {
		var x, y int
		if i < len(ap) {
			x, _ = strconv.Atoi(ap[i])
		}
		if i < len(bp) {
			y, _ = strconv.Atoi(bp[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	x, errA := strconv.Atoi(as)
	y, errB := strconv.Atoi(bs)
	if errA == nil && errB == nil && x != y {
		if x < y {
			return -1
		}
		return 1
	}
	return 0
}

package inventory

import "time"

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

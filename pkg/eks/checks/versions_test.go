package checks

import (
	"testing"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

func onVersion(v string) *inventory.Cluster {
	return with(func(c *inventory.Cluster) { c.Version = v })
}

func TestVersionSupported(t *testing.T) {
	runClusterCases(t, "EKS_VERSION_SUPPORTED", []clusterCase{
		{name: "a version in standard support for months passes", c: hardened(), want: []want{{status: audit.Pass, msg: "2027-03-27"}}},
		{name: "standard support ending within warnDays fails LOW", c: onVersion("1.34"), want: []want{{status: audit.Fail, sev: audit.Low, msg: "leaves standard support in 6 days"}}},
		{name: "extended support fails HIGH", c: onVersion("1.33"), want: []want{{status: audit.Fail, sev: audit.High, msg: "extended support"}}},
		{name: "an unsupported version fails CRITICAL", c: onVersion("1.31"), want: []want{{status: audit.Fail, sev: audit.Critical, msg: "out of support"}}},
		{name: "a version the API does not list fails CRITICAL", c: onVersion("1.19"), want: []want{{status: audit.Fail, sev: audit.Critical, msg: "not listed"}}},
		{name: "the embedded table is used and named when the API is unavailable", c: with(func(c *inventory.Cluster) {
			c.Version = "1.32"
			c.Versions = inventory.EmbeddedVersions(testNow, "eks:DescribeClusterVersions failed: AccessDeniedException")
		}), want: []want{{status: audit.Fail, sev: audit.High, msg: "embedded support table dated"}}},
		{name: "no version data at all is an error", c: with(func(c *inventory.Cluster) { c.Versions = nil }), want: []want{{status: audit.Error, msg: "eks:DescribeClusterVersions"}}},
	})
}

func TestVersionLatest(t *testing.T) {
	runClusterCases(t, "EKS_VERSION_LATEST", []clusterCase{
		{name: "the newest version passes", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "two minors behind fails and says so", c: onVersion("1.33"), want: []want{{status: audit.Fail, sev: audit.Low, msg: "2 minor version(s) behind"}}},
		{name: "no version data is an error", c: with(func(c *inventory.Cluster) { c.Versions = nil }), want: []want{{status: audit.Error}}},
	})
}

func TestVersionOldestSupported(t *testing.T) {
	runClusterCases(t, "EKS_VERSION_OLDEST_SUPPORTED", []clusterCase{
		{name: "a version newer than the oldest supported passes", c: hardened(), want: []want{{status: audit.Pass, msg: "1.32"}}},
		{name: "the oldest supported version fails", c: onVersion("1.32"), want: []want{{status: audit.Fail, msg: "oldest supported: 1.32"}}},
		{name: "a catalog without supported versions is an error", c: with(func(c *inventory.Cluster) {
			c.Versions = &inventory.VersionCatalog{Source: "api", Versions: map[string]inventory.VersionInfo{"1.31": {Status: "UNSUPPORTED"}}}
		}), want: []want{{status: audit.Error}}},
	})
}

func TestPlatformVersionLatest(t *testing.T) {
	runClusterCases(t, "EKS_PLATFORM_VERSION_LATEST", []clusterCase{
		{name: "the default platform version passes", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "eks.6 behind eks.7 fails, comparing numbers not strings", c: with(func(c *inventory.Cluster) { c.PlatformVersion = "eks.6" }), want: []want{{status: audit.Fail, msg: "eks.7"}}},
		{name: "eks.10 is not behind eks.9", c: with(func(c *inventory.Cluster) { c.Version, c.PlatformVersion = "1.34", "eks.10" }), want: []want{{status: audit.Pass}}},
		{name: "the embedded table has no platform versions, so it is an error", c: with(func(c *inventory.Cluster) {
			c.Versions = inventory.EmbeddedVersions(testNow, "eks:DescribeClusterVersions failed: 404")
		}), want: []want{{status: audit.Error, msg: "404"}}},
	})
}

func TestUpgradePolicy(t *testing.T) {
	runClusterCases(t, "EKS_UPGRADE_POLICY", []clusterCase{
		{name: "standard support far from its end passes", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "a version in extended support is reported for its cost", c: onVersion("1.33"), want: []want{{status: audit.Fail, sev: audit.Informational, msg: "extra cost"}}},
		{name: "STANDARD policy days before the end warns of the automatic upgrade", c: onVersion("1.34"), want: []want{{status: audit.Fail, msg: "automatically"}}},
		{name: "EXTENDED policy near the end of standard support does not warn", c: with(func(c *inventory.Cluster) { c.Version, c.UpgradeSupportType = "1.34", "EXTENDED" }),
			want: []want{{status: audit.Pass}}},
		{name: "a version missing from the data is an error", c: onVersion("1.19"), want: []want{{status: audit.Error}}},
	})
}

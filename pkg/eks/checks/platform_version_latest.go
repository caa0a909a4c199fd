package checks

import (
	"strconv"
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// PlatformVersionLatest compares the cluster's platform version with the default EKS reports for
// its Kubernetes version. CloudSploit uses a hard-coded map that stopped at 1.29; this reads
// eks:DescribeClusterVersions, so it is current on the day of the scan.
func PlatformVersionLatest() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_PLATFORM_VERSION_LATEST",
			Title:        "EKS cluster is on the current platform version",
			Severity:     audit.Low,
			ResourceType: inventory.TypeCluster,
			Description: "Fails at LOW severity when the cluster's platform version (eks.N) is older than the defaultPlatformVersion that eks:DescribeClusterVersions reports for its Kubernetes version. " +
				"EKS updates platform versions automatically, so a lag is informational; it is an ERROR when the API is unavailable, because the embedded table has no platform versions.",
			Rationale: "Platform versions carry control-plane security fixes and new features; a lasting lag can mean the automatic update is blocked.",
			Remediation: audit.Remediation{
				Text:    "Nothing is usually needed: EKS rolls platform versions forward. If the lag persists, check the cluster's health issues or update its configuration to trigger the rollout.",
				Console: "EKS console → Clusters → <cluster> → Overview → Platform version",
				CLI:     "aws eks describe-cluster-versions --cluster-versions <version> --query 'clusterVersions[0].defaultPlatformVersion'",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/platform-versions.html",
			},
			References:  refs(bpg("Cluster upgrades", bpgUpgradesURL)),
			Permissions: []string{describeCluster, "eks:DescribeClusterVersions"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			cat := c.Versions
			if cat == nil || cat.Source != "api" {
				reason := "no version data"
				if cat != nil {
					reason = cat.FallbackReason
				}
				return one(audit.Errorf("Platform versions come only from eks:DescribeClusterVersions, which was unavailable (%s).", reason))
			}
			info, ok := cat.Versions[c.Version]
			if !ok || info.DefaultPlatformVersion == "" {
				return one(audit.Errorf("eks:DescribeClusterVersions reports no default platform version for Kubernetes %s.", c.Version))
			}
			have, errH := platformNumber(c.PlatformVersion)
			want, errW := platformNumber(info.DefaultPlatformVersion)
			if errH != nil || errW != nil {
				return one(audit.Errorf("Cannot compare platform versions %q and %q.", c.PlatformVersion, info.DefaultPlatformVersion))
			}
			f := audit.Passf("Platform version %s is current for Kubernetes %s.", c.PlatformVersion, c.Version)
			if have < want {
				f = audit.Failf("Platform version %s is behind the current %s for Kubernetes %s.", c.PlatformVersion, info.DefaultPlatformVersion, c.Version)
			}
			return one(f.With("platformVersion", c.PlatformVersion).With("defaultPlatformVersion", info.DefaultPlatformVersion))
		},
	}
}

func platformNumber(v string) (int, error) {
	return strconv.Atoi(strings.TrimPrefix(v, "eks."))
}

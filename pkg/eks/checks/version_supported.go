package checks

import (
	"fmt"
	"time"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// VersionSupported judges the cluster's Kubernetes version against EKS's support calendar on the
// day of the scan, from eks:DescribeClusterVersions or, failing that, the dated embedded table.
func VersionSupported() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_VERSION_SUPPORTED",
			Title:        "EKS cluster runs a Kubernetes version in standard support",
			Severity:     audit.High,
			ResourceType: inventory.TypeCluster,
			Description: "Fails CRITICAL when the version is out of all support, HIGH when it is in extended support (as Security Hub EKS.2 does today), " +
				"and LOW when standard support ends within warnDays days. Support data comes from eks:DescribeClusterVersions; " +
				"when that API is unavailable, a dated embedded table is used and the result says so.",
			Rationale: "Unsupported versions stop receiving security patches; extended support costs extra and ends in a forced upgrade.",
			Remediation: audit.Remediation{
				Text:    "Upgrade the control plane one minor version at a time, then the node groups and add-ons.",
				Console: "EKS console → Clusters → <cluster> → Upgrade now",
				CLI:     "aws eks update-cluster-version --name <cluster> --kubernetes-version <next-minor>",
				IaC:     "CloudFormation AWS::EKS::Cluster Version: <next-minor>",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html",
			},
			References: refs(fsbp("EKS.2"),
				bpg("Cluster upgrades", "https://docs.aws.amazon.com/eks/latest/best-practices/cluster-upgrades.html")),
			Parameters:  []audit.Parameter{{Name: "warnDays", Default: 90, Description: "Warn this many days before standard support ends."}},
			Permissions: []string{describeCluster, "eks:DescribeClusterVersions"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(env audit.Env, c *inventory.Cluster) []audit.Finding {
			cat := c.Versions
			if cat == nil || len(cat.Versions) == 0 {
				return []audit.Finding{audit.Errorf("No Kubernetes version support data is available (eks:DescribeClusterVersions).")}
			}
			src := "eks:DescribeClusterVersions"
			if cat.Source == "embedded" {
				src = fmt.Sprintf("the embedded support table dated %s (%s)", cat.AsOf.Format(time.DateOnly), cat.FallbackReason)
			}
			info, ok := cat.Versions[c.Version]
			if !ok {
				if cat.Source == "embedded" && inventory.CompareVersions(c.Version, cat.Latest()) > 0 {
					return []audit.Finding{audit.Passf("Version %s is newer than every version in %s, so it is assumed to be in standard support.", c.Version, src).
						With("version", c.Version).With("supportSource", cat.Source)}
				}
				f := audit.Failf("Version %s is not listed as supported by %s.", c.Version, src).With("version", c.Version).With("supportSource", cat.Source)
				f.Severity = audit.Critical
				return []audit.Finding{f}
			}
			f := judgeVersion(env, c.Version, info, src)
			return []audit.Finding{f.With("version", c.Version).With("versionStatus", info.Status).With("supportSource", cat.Source)}
		},
	}
}

func judgeVersion(env audit.Env, version string, info inventory.VersionInfo, src string) audit.Finding {
	now := env.Now
	switch info.Status {
	case "UNSUPPORTED":
		f := audit.Failf("Version %s is out of support (extended support ended %s, per %s).", version, dateOr(info.EndOfExtendedSupport), src)
		f.Severity = audit.Critical
		return f
	case "EXTENDED_SUPPORT":
		return audit.Failf("Version %s is in extended support since %s (extra cost; support ends %s, per %s).",
			version, dateOr(info.EndOfStandardSupport), dateOr(info.EndOfExtendedSupport), src)
	}
	warn := env.Params.Int("warnDays")
	if !info.EndOfStandardSupport.IsZero() && warn > 0 {
		left := int(info.EndOfStandardSupport.Sub(now).Hours() / 24)
		if left < warn {
			f := audit.Failf("Version %s leaves standard support in %d days, on %s (warning threshold %d days, per %s).",
				version, left, dateOr(info.EndOfStandardSupport), warn, src)
			f.Severity = audit.Low
			return f
		}
	}
	return audit.Passf("Version %s is in standard support until %s (per %s).", version, dateOr(info.EndOfStandardSupport), src)
}

func dateOr(t time.Time) string {
	if t.IsZero() {
		return "an unpublished date"
	}
	return t.Format(time.DateOnly)
}

func parseMajorMinor(v string, major, minor *int) {
	p := splitVersionParts(v)
	*major, *minor = p[0], p[1]
}

func splitVersionParts(v string) [2]int {
	var out [2]int
	_, _ = fmt.Sscanf(v, "%d.%d", &out[0], &out[1]) // what does not parse stays 0
	return out
}

func itoa(n int) string { return fmt.Sprint(n) }

package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// VersionLatest reports clusters behind the newest Kubernetes version EKS offers in the region.
// ElectricEye's version of this check always fails (it compares a list's string form); this one
// reads eks:DescribeClusterVersions.
func VersionLatest() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_VERSION_LATEST",
			Title:        "EKS cluster runs the newest available Kubernetes version",
			Severity:     audit.Low,
			ResourceType: inventory.TypeCluster,
			Description: "Fails at LOW severity when the cluster's version is older than the newest version listed by eks:DescribeClusterVersions " +
				"(or the dated embedded table when that API is unavailable). The message says how many minor versions behind the cluster is.",
			Rationale: "Staying close to the newest version keeps upgrades small and leaves the whole standard-support window ahead.",
			Remediation: audit.Remediation{
				Text:    "Plan an upgrade to the next minor version; upgrade one minor at a time.",
				Console: "EKS console → Clusters → <cluster> → Upgrade now",
				CLI:     "aws eks update-cluster-version --name <cluster> --kubernetes-version <next-minor>",
				IaC:     "CloudFormation AWS::EKS::Cluster Version: <next-minor>",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/update-cluster.html",
			},
			References:  refs(bpg("Cluster upgrades", bpgUpgradesURL)),
			Permissions: []string{describeCluster, "eks:DescribeClusterVersions"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			cat := c.Versions
			if cat == nil || len(cat.Versions) == 0 {
				return one(audit.Errorf("No Kubernetes version data is available (eks:DescribeClusterVersions)."))
			}
			latest := cat.Latest()
			if inventory.CompareVersions(c.Version, latest) >= 0 {
				return one(audit.Passf("Version %s is the newest available (%s, per %s).", c.Version, latest, versionSource(cat)).With("latestVersion", latest))
			}
			behind := minorsBehind(c.Version, latest)
			return one(audit.Failf("Version %s is %d minor version(s) behind the newest available, %s (per %s).", c.Version, behind, latest, versionSource(cat)).
				With("latestVersion", latest).With("version", c.Version))
		},
	}
}

func versionSource(cat *inventory.VersionCatalog) string {
	if cat.Source == "embedded" {
		return "the embedded support table dated " + cat.AsOf.Format("2006-01-02") + ", because " + cat.FallbackReason
	}
	return "eks:DescribeClusterVersions"
}

// minorsBehind counts minor versions from a to b within one major version.
func minorsBehind(a, b string) int {
	var am, an, bm, bn int
	parseMajorMinor(a, &am, &an)
	parseMajorMinor(b, &bm, &bn)
	if am != bm {
		return (bm-am)*100 + bn - an
	}
	return bn - an
}

package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// VersionOldestSupported is the AWS Config rule eks-cluster-oldest-supported-version: the oldest
// version still supported is the next one to leave support, so running it is a warning.
func VersionOldestSupported() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_VERSION_OLDEST_SUPPORTED",
			Title:        "EKS cluster does not run the oldest supported Kubernetes version",
			Severity:     audit.Low,
			ResourceType: inventory.TypeCluster,
			Description: "Fails when the cluster runs the oldest version that EKS still supports (standard or extended), or an older one, " +
				"as the AWS Config rule eks-cluster-oldest-supported-version does. EKS_VERSION_SUPPORTED judges the support status itself.",
			Rationale: "The oldest supported version is the next to reach end of support and a forced upgrade.",
			Remediation: audit.Remediation{
				Text:    "Upgrade the cluster to a newer minor version.",
				Console: "EKS console → Clusters → <cluster> → Upgrade now",
				CLI:     "aws eks update-cluster-version --name <cluster> --kubernetes-version <next-minor>",
				IaC:     "CloudFormation AWS::EKS::Cluster Version: <next-minor>",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html",
			},
			References:  refs(config("eks-cluster-oldest-supported-version"), bpg("Cluster upgrades", bpgUpgradesURL)),
			Permissions: []string{describeCluster, "eks:DescribeClusterVersions"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			cat := c.Versions
			if cat == nil || len(cat.Versions) == 0 {
				return one(audit.Errorf("No Kubernetes version data is available (eks:DescribeClusterVersions)."))
			}
			oldest := ""
			for v, info := range cat.Versions {
				if info.Status == "UNSUPPORTED" {
					continue
				}
				if oldest == "" || inventory.CompareVersions(v, oldest) < 0 {
					oldest = v
				}
			}
			if oldest == "" {
				return one(audit.Errorf("The version data (%s) lists no supported version.", versionSource(cat)))
			}
			if inventory.CompareVersions(c.Version, oldest) <= 0 {
				return one(audit.Failf("Version %s is the oldest supported version or older (oldest supported: %s, per %s).", c.Version, oldest, versionSource(cat)).
					With("oldestSupported", oldest))
			}
			return one(audit.Passf("Version %s is newer than the oldest supported version, %s.", c.Version, oldest).With("oldestSupported", oldest))
		},
	}
}

package checks

import (
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// NodegroupVersionSkew judges node-group version skew and AMI currency.
func NodegroupVersionSkew() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_NODEGROUP_VERSION_SKEW",
			Title:        "EKS node groups run a current AMI within the version skew limit",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeNodegroup,
			Description: "For each managed node group, fails MEDIUM when its Kubernetes version is more than maxMinorSkew minors behind the cluster (the upstream limit is 3), " +
				"LOW when its releaseVersion is older than the release EKS recommends in the public SSM parameter for its version and AMI type, " +
				"and LOW for Amazon Linux 2 AMI types, for which EKS publishes no AMIs from Kubernetes 1.33 on.",
			Rationale: "Old node AMIs miss kernel and container-runtime security fixes, and a large skew blocks the next control-plane upgrade.",
			Remediation: audit.Remediation{
				Text:    "Update the node group to the cluster's version and the latest AMI release; move AL2 node groups to AL2023 or Bottlerocket.",
				Console: "EKS console → Clusters → <cluster> → Compute → <node group> → Update now",
				CLI:     "aws eks update-nodegroup-version --cluster-name <cluster> --nodegroup-name <name>",
				IaC:     "CloudFormation AWS::EKS::Nodegroup {Version: <cluster-version>, ReleaseVersion: <latest>, AmiType: AL2023_x86_64_STANDARD}",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/update-managed-node-group.html",
			},
			References:  refs(bpg("Protecting the infrastructure: keep your worker node OS updated", bpgInfraURL)),
			Parameters:  []audit.Parameter{{Name: "maxMinorSkew", Default: 2, Description: "Most minor versions a node group may lag the cluster."}},
			Permissions: []string{describeCluster, "eks:ListNodegroups", "eks:DescribeNodegroup", "ssm:GetParameter"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(env audit.Env, c *inventory.Cluster) []audit.Finding {
			return forNodeGroups(c, func(ng inventory.NodeGroup) audit.Finding {
				var p problems
				if skew := minorsBehind(ng.Version, c.Version); skew > env.Params.Int("maxMinorSkew") {
					p.add(audit.Medium, "node group %s runs %s, %d minor versions behind the cluster's %s", ng.Name, ng.Version, skew, c.Version)
				}
				if ng.RecommendedRelease != "" && inventory.CompareRelease(ng.ReleaseVersion, ng.RecommendedRelease) < 0 {
					p.add(audit.Low, "node group %s runs AMI release %s, older than the recommended %s", ng.Name, ng.ReleaseVersion, ng.RecommendedRelease)
				}
				if strings.HasPrefix(ng.AMIType, "AL2_") {
					p.add(audit.Low, "node group %s uses %s; Amazon Linux 2 AMIs end with Kubernetes 1.32", ng.Name, ng.AMIType)
				}
				if !p.any() {
					if f, bad := missing(ng.Errors, "ssm:GetParameter"); bad {
						return f
					}
				}
				return p.finding("Node group "+ng.Name+" runs "+ng.Version+" ("+ng.ReleaseVersion+"), within skew and current.").
					With("releaseVersion", ng.ReleaseVersion).With("recommendedRelease", ng.RecommendedRelease)
			})
		},
	}
}

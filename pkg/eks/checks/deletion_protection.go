package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// DeletionProtection requires the cluster's deletion protection flag (only Prowler has it).
func DeletionProtection() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_DELETION_PROTECTION",
			Title:        "EKS cluster has deletion protection enabled",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeCluster,
			Description:  "Fails when deletionProtection is false. When DescribeCluster does not return the field (older partitions), the check reports ERROR rather than guessing.",
			Rationale:    "Deleting a cluster destroys its control plane and etcd state irrecoverably; protection turns a mistaken or malicious DeleteCluster into a two-step change.",
			Remediation: audit.Remediation{
				Text:    "Enable deletion protection on the cluster.",
				Console: "EKS console → Clusters → <cluster> → Overview → Deletion protection → Enable",
				CLI:     "aws eks update-cluster-config --name <cluster> --deletion-protection",
				IaC:     "CloudFormation AWS::EKS::Cluster DeletionProtection: true",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/deletion-protection.html",
			},
			References:  refs(guide("Protect EKS clusters from accidental deletion", "https://docs.aws.amazon.com/eks/latest/userguide/deletion-protection.html")),
			Permissions: []string{describeCluster},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			switch {
			case c.DeletionProtection == nil:
				return one(audit.Errorf("eks:DescribeCluster did not return deletionProtection, so it cannot be judged in this region or partition."))
			case *c.DeletionProtection:
				return one(audit.Passf("Deletion protection is enabled."))
			}
			return one(audit.Failf("Deletion protection is disabled (deletionProtection=false)."))
		},
	}
}

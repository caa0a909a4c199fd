package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// BootstrapAdmin fails when the cluster creator keeps the implicit cluster-admin EKS grants by
// default.
func BootstrapAdmin() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_BOOTSTRAP_ADMIN",
			Title:        "The EKS cluster creator does not keep implicit cluster-admin",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeCluster,
			Description: "Fails when accessConfig.bootstrapClusterCreatorAdminPermissions is true. ERROR when DescribeCluster does not return the field, " +
				"because the creator's implicit access cannot then be seen from AWS APIs.",
			Rationale: "The creating principal (often a CI role or a person) otherwise holds cluster-admin forever, outside any reviewed access entry.",
			Remediation: audit.Remediation{
				Text:    "Create clusters with bootstrapClusterCreatorAdminPermissions=false and grant administrators explicit access entries; for an existing cluster, delete the creator's access entry after granting others.",
				Console: "EKS console → Clusters → <cluster> → Access → IAM access entries → <creator> → Delete",
				CLI:     "aws eks delete-access-entry --cluster-name <cluster> --principal-arn <creator-arn>",
				IaC:     "CloudFormation AWS::EKS::Cluster AccessConfig.BootstrapClusterCreatorAdminPermissions: false",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html",
			},
			References:  refs(bpg("Identity and access management: remove the cluster-admin permissions from the cluster creator", bpgIAMURL)),
			Permissions: []string{describeCluster},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			switch {
			case c.BootstrapAdmin == nil:
				return one(audit.Errorf("eks:DescribeCluster did not return accessConfig.bootstrapClusterCreatorAdminPermissions."))
			case *c.BootstrapAdmin:
				return one(audit.Failf("The cluster creator was granted implicit cluster-admin (bootstrapClusterCreatorAdminPermissions=true)."))
			}
			return one(audit.Passf("The cluster creator was not granted implicit cluster-admin."))
		},
	}
}

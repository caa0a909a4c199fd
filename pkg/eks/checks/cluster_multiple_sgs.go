package checks

import (
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// ClusterMultipleSGs is Steampipe's eks_cluster_no_multiple_security_groups, a hygiene check.
func ClusterMultipleSGs() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_CLUSTER_MULTIPLE_SGS",
			Title:        "EKS cluster uses at most one additional security group",
			Severity:     audit.Low,
			ResourceType: inventory.TypeCluster,
			Description:  "Fails when resourcesVpcConfig.securityGroupIds lists more than one additional security group (the EKS-created cluster security group is not counted).",
			Rationale:    "Every extra group widens what can reach the control-plane interfaces and makes the effective rule set harder to review.",
			Remediation: audit.Remediation{
				Text:    "Consolidate the rules into the cluster security group or a single additional group.",
				Console: "EKS console → Clusters → <cluster> → Networking → Manage networking",
				CLI:     "aws eks update-cluster-config --name <cluster> --resources-vpc-config securityGroupIds=<one-sg>",
				IaC:     "CloudFormation AWS::EKS::Cluster ResourcesVpcConfig.SecurityGroupIds: [<one-sg>]",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html",
			},
			References:  refs(bpg("Network security: security groups", bpgNetworkURL)),
			Permissions: []string{describeCluster},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			ids := c.Endpoint.SecurityGroupIDs
			if len(ids) > 1 {
				return one(audit.Failf("The cluster has %d additional security groups: %s.", len(ids), strings.Join(ids, ", ")))
			}
			return one(audit.Passf("The cluster has %d additional security group(s).", len(ids)))
		},
	}
}

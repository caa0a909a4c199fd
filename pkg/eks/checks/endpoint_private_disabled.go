package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// EndpointPrivateDisabled fails when the private endpoint is off, so nodes reach the API server
// over the internet.
func EndpointPrivateDisabled() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_ENDPOINT_PRIVATE_DISABLED",
			Title:        "EKS cluster private endpoint is enabled",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeCluster,
			Description:  "Fails when endpointPrivateAccess is false. Without it, node and pod traffic to the API server leaves the VPC.",
			Rationale:    "Keeping control-plane traffic inside the VPC avoids exposing it to the internet and lets you close the public endpoint.",
			Remediation: audit.Remediation{
				Text:    "Enable private endpoint access.",
				Console: "EKS console → Clusters → <cluster> → Networking → Manage endpoint access → Public and private",
				CLI:     "aws eks update-cluster-config --name <cluster> --resources-vpc-config endpointPrivateAccess=true",
				IaC:     "CloudFormation AWS::EKS::Cluster ResourcesVpcConfig.EndpointPrivateAccess: true",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html",
			},
			References:  refs(cis("5.4.2"), cis("5.4.3")),
			Permissions: []string{describeCluster},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			if f, bad := missing(c.Errors, inventory.FactEndpoint); bad {
				return one(f)
			}
			if c.Endpoint.PrivateAccess {
				return []audit.Finding{audit.Passf("The private endpoint is enabled.")}
			}
			return []audit.Finding{audit.Failf("The private endpoint is disabled (endpointPrivateAccess=false).")}
		},
	}
}

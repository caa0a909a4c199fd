package checks

import (
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// EndpointPublicEnabled follows Security Hub EKS.1: any public endpoint fails, whatever its CIDRs.
// Prowler maps EKS.1 to a CIDR-only test, which is laxer; EndpointPublicOpen covers that reading.
func EndpointPublicEnabled() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_ENDPOINT_PUBLIC_ENABLED",
			Title:        "EKS cluster API endpoint is not publicly accessible",
			Severity:     audit.High,
			ResourceType: inventory.TypeCluster,
			Description: "Fails when the cluster's public API server endpoint is enabled, regardless of the allowed CIDRs. " +
				"This is the stricter reading used by Security Hub EKS.1 and CIS 5.4.2; Prowler only fails 0.0.0.0/0 (see EKS_ENDPOINT_PUBLIC_OPEN).",
			Rationale: "A public endpoint exposes the Kubernetes API server to the internet, where credential theft or an API server vulnerability can be exploited from anywhere.",
			Remediation: audit.Remediation{
				Text:    "Enable the private endpoint and disable public access; reach the API from inside the VPC, a VPN or a bastion.",
				Console: "EKS console → Clusters → <cluster> → Networking → Manage endpoint access → Private",
				CLI:     "aws eks update-cluster-config --name <cluster> --resources-vpc-config endpointPublicAccess=false,endpointPrivateAccess=true",
				IaC:     "CloudFormation AWS::EKS::Cluster ResourcesVpcConfig: {EndpointPublicAccess: false, EndpointPrivateAccess: true}",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html",
			},
			References: refs(fsbp("EKS.1"), cis("5.4.2"),
				bpg("Identity and access management: make the EKS cluster endpoint private", "https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html")),
			Permissions: []string{describeCluster},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			if f, bad := missing(c.Errors, inventory.FactEndpoint); bad {
				return one(f)
			}
			e := c.Endpoint
			if !e.PublicAccess {
				return []audit.Finding{audit.Passf("The public endpoint is disabled (private access: %t).", e.PrivateAccess).
					With("endpointPublicAccess", "false")}
			}
			return []audit.Finding{audit.Failf("The public endpoint is enabled for %s.", describeCIDRs(e.PublicAccessCIDRs)).
				With("endpointPublicAccess", "true").With("publicAccessCidrs", strings.Join(e.PublicAccessCIDRs, ","))}
		},
	}
}

func describeCIDRs(cidrs []string) string {
	if len(cidrs) == 0 {
		return "0.0.0.0/0 (no CIDR list, the EKS default)"
	}
	return strings.Join(cidrs, ", ")
}

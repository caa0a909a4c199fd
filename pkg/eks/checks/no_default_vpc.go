package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// NoDefaultVPC is Steampipe's eks_cluster_no_default_vpc.
func NoDefaultVPC() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_NO_DEFAULT_VPC",
			Title:        "EKS cluster is not in the default VPC",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeCluster,
			Description:  "Reads the cluster's VPC with ec2:DescribeVpcs and fails when IsDefault is true.",
			Rationale:    "The default VPC has only public subnets with automatic public addresses, and is shared with whatever else was launched without a network design.",
			Remediation: audit.Remediation{
				Text:    "Recreate the cluster in a purpose-built VPC with private subnets; a cluster's VPC cannot be changed.",
				Console: "VPC console → Create VPC → VPC and more (private subnets with NAT), then create the cluster there",
				CLI:     "aws eks create-cluster --name <cluster> --resources-vpc-config subnetIds=<private-subnets> ...",
				IaC:     "CloudFormation AWS::EKS::Cluster ResourcesVpcConfig.SubnetIds: subnets of a dedicated AWS::EC2::VPC",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html",
			},
			References:  refs(bpg("Network security", bpgNetworkURL)),
			Permissions: []string{describeCluster, "ec2:DescribeVpcs"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			if f, bad := missing(c.Errors, "ec2:DescribeVpcs"); bad {
				return one(f)
			}
			if c.Network == nil || c.Network.VPC == nil {
				return one(audit.Errorf("The cluster's VPC %q was not collected.", c.Endpoint.VPCID))
			}
			v := c.Network.VPC
			if v.IsDefault {
				return one(audit.Failf("The cluster is in the default VPC %s.", v.ID).With("vpcId", v.ID))
			}
			return one(audit.Passf("The cluster is in VPC %s, which is not the default VPC.", v.ID).With("vpcId", v.ID))
		},
	}
}

package checks

import (
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// ECRPrivateEndpoint looks for the VPC endpoints that let nodes pull images and get credentials
// without leaving the VPC. It is judged per cluster because endpoints belong to the VPC.
func ECRPrivateEndpoint() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "ECR_PRIVATE_ENDPOINT",
			Title:        "The EKS cluster's VPC has ECR, S3 and STS endpoints",
			Severity:     audit.Informational,
			ResourceType: inventory.TypeCluster,
			Description: "Reads ec2:DescribeVpcEndpoints for the cluster's VPC and fails when any of the ecr.api, ecr.dkr, s3 and sts endpoints is missing or not available. " +
				"Severity is INFORMATIONAL, and MEDIUM for a cluster whose public endpoint is disabled, where nodes without a NAT path cannot pull images at all.",
			Rationale: "Endpoints keep image pulls and credential requests on the AWS network, and endpoint policies can restrict which registries nodes pull from.",
			Remediation: audit.Remediation{
				Text:    "Create interface endpoints for ecr.api, ecr.dkr and sts, and a gateway endpoint for s3, in the cluster's VPC.",
				Console: "VPC console → Endpoints → Create endpoint → com.amazonaws.<region>.ecr.dkr (and ecr.api, sts, s3)",
				CLI:     "aws ec2 create-vpc-endpoint --vpc-id <vpc-id> --vpc-endpoint-type Interface --service-name com.amazonaws.<region>.ecr.dkr --subnet-ids <subnets> --security-group-ids <sg>",
				IaC:     "CloudFormation AWS::EC2::VPCEndpoint {ServiceName: com.amazonaws.<region>.ecr.dkr, VpcEndpointType: Interface}",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/private-clusters.html",
			},
			References:  refs(bpg("Image security: consider using ECR private endpoints", bpgImageURL)),
			Permissions: []string{describeCluster, "ec2:DescribeVpcEndpoints"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			if f, bad := missing(c.Errors, "ec2:DescribeVpcEndpoints"); bad {
				return one(f)
			}
			if c.Network == nil {
				return one(audit.Errorf("The cluster's VPC %q was not collected.", c.Endpoint.VPCID))
			}
			have := map[string]bool{}
			for _, e := range c.Network.Endpoints {
				if e.State == "" || strings.EqualFold(e.State, "available") {
					parts := strings.Split(e.ServiceName, ".")
					// com.amazonaws.<region>.<service...>
					if len(parts) >= 4 {
						have[strings.Join(parts[3:], ".")] = true
					}
				}
			}
			var absent []string
			for _, s := range []string{"ecr.api", "ecr.dkr", "s3", "sts"} {
				if !have[s] {
					absent = append(absent, s)
				}
			}
			if len(absent) == 0 {
				return one(audit.Passf("VPC %s has ecr.api, ecr.dkr, s3 and sts endpoints.", c.Endpoint.VPCID))
			}
			f := audit.Failf("VPC %s lacks available endpoints for %s.", c.Endpoint.VPCID, strings.Join(absent, ", "))
			if !c.Endpoint.PublicAccess {
				f.Severity = audit.Medium
			}
			return one(f.With("missingEndpoints", strings.Join(absent, ",")))
		},
	}
}

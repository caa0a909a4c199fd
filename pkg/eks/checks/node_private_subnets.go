package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// NodePrivateSubnets is CIS 5.4.3 judged on node-group and Fargate subnets, launch templates and
// running instances.
func NodePrivateSubnets() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_NODE_PRIVATE_SUBNETS",
			Title:        "EKS nodes run in private subnets without public addresses",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeNodegroup,
			Description: "For each managed node group and Fargate profile, fails when one of its subnets is public (a 0.0.0.0/0 route to an internet gateway, or MapPublicIpOnLaunch), " +
				"when the node group's launch template requests a public address, or when one of its running instances has a public IP.",
			Rationale: "Nodes with public addresses can be reached from the internet directly, bypassing the load balancers and security controls in front of them.",
			Remediation: audit.Remediation{
				Text:    "Create node groups and Fargate profiles in private subnets with a NAT gateway or VPC endpoints for egress.",
				Console: "EKS console → Clusters → <cluster> → Compute → Add node group → Subnets: private subnets only",
				CLI:     "aws eks create-nodegroup --cluster-name <cluster> --nodegroup-name <name> --subnets <private-subnet-ids> ...",
				IaC:     "CloudFormation AWS::EKS::Nodegroup Subnets: [<private-subnet-ids>]",
				URL:     "https://docs.aws.amazon.com/eks/latest/best-practices/protecting-the-infrastructure.html",
			},
			References:  refs(cis("5.4.3"), bpg("Protecting the infrastructure: deploy workers onto private subnets", bpgInfraURL)),
			Permissions: []string{describeCluster, "eks:ListNodegroups", "eks:DescribeNodegroup", "eks:ListFargateProfiles", "eks:DescribeFargateProfile", "ec2:DescribeSubnets", "ec2:DescribeRouteTables", "ec2:DescribeLaunchTemplateVersions", "ec2:DescribeInstances"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			subnetsErr, _ := missing(c.Errors, "ec2:DescribeSubnets", "ec2:DescribeRouteTables")
			judgeSubnets := func(p *problems, ids []string) []string {
				var unknown []string
				for _, id := range ids {
					var s *inventory.Subnet
					if c.Network != nil {
						s = c.Network.Subnets[id]
					}
					switch {
					case s == nil:
						unknown = append(unknown, id)
					case s.InternetRoute != "":
						p.add(audit.Medium, "subnet %s routes to internet gateway %s", id, s.InternetRoute)
					case s.MapPublicIPOnLaunch:
						p.add(audit.Medium, "subnet %s assigns public IPs on launch", id)
					}
				}
				return unknown
			}
			conclude := func(p *problems, unknown []string, pass string) audit.Finding {
				if !p.any() && len(unknown) > 0 {
					if subnetsErr.Status != "" {
						return subnetsErr
					}
					return audit.Errorf("Subnets %s were not found in VPC %s.", joinOr(unknown, ""), c.Endpoint.VPCID)
				}
				return p.finding(pass)
			}
			ngErr, fpErr := c.Errors.Get("eks:ListNodegroups"), c.Errors.Get("eks:ListFargateProfiles")
			if ngErr == nil && fpErr == nil && len(c.NodeGroups) == 0 && len(c.FargateProfiles) == 0 {
				return one(audit.NotApplicablef("The cluster has neither managed node groups nor Fargate profiles."))
			}
			var out []audit.Finding
			if ngErr != nil || len(c.NodeGroups) > 0 {
				out = forNodeGroups(c, func(ng inventory.NodeGroup) audit.Finding {
					var p problems
					unknown := judgeSubnets(&p, ng.Subnets)
					if lt := ng.LaunchTemplate; lt != nil && lt.Data != nil && lt.Data.AssociatePublicIP {
						p.add(audit.Medium, "launch template %s requests public IP addresses", lt.ID)
					}
					for _, inst := range c.Instances {
						if inst.NodeGroup == ng.Name && inst.PublicIP != "" {
							p.add(audit.Medium, "instance %s has public IP %s", inst.ID, inst.PublicIP)
						}
					}
					return conclude(&p, unknown, "Node group "+ng.Name+" runs in private subnets without public addresses.")
				})
			}
			if fpErr != nil {
				// The cluster resource carries at most one ERROR: a failed node-group listing
				// already reported it.
				if ngErr == nil {
					f, _ := missing(c.Errors, "eks:ListFargateProfiles")
					out = append(out, f)
				}
				return out
			}
			for _, fp := range c.FargateProfiles {
				if fp.ARN == "" {
					out = append(out, audit.Errorf("Fargate profile %s could not be described (eks:DescribeFargateProfile).", fp.Name).On(subARN(c, "fargateprofile", fp.Name), inventory.TypeFargateProfile))
					continue
				}
				var p problems
				unknown := judgeSubnets(&p, fp.Subnets)
				out = append(out, conclude(&p, unknown, "Fargate profile "+fp.Name+" uses private subnets.").On(fp.ARN, inventory.TypeFargateProfile).With("fargateProfile", fp.Name))
			}
			return out
		},
	}
}

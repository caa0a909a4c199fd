package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// NetworkExposure is CloudSploit's eksNetworkExposure composite: a cluster subnet with a route to
// an internet gateway combined with a cluster security group open to the internet.
func NetworkExposure() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_NETWORK_EXPOSURE",
			Title:        "EKS cluster network interfaces are not exposed to the internet",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeCluster,
			Description: "Fails when one of the cluster's subnets routes 0.0.0.0/0 or ::/0 to an internet gateway and a cluster security group admits ingress from 0.0.0.0/0 or ::/0. " +
				"Network ACLs are not evaluated, so a NACL that blocks the traffic is not credited: the stricter reading.",
			Rationale: "Together, a public route and an open security group make the control-plane network interfaces reachable from the internet.",
			Remediation: audit.Remediation{
				Text:    "Place the cluster's network interfaces in private subnets, or remove internet-wide ingress from the cluster security groups.",
				Console: "EC2 console → Security Groups → <cluster-sg> → Inbound rules; VPC console → Route tables",
				CLI:     "aws ec2 revoke-security-group-ingress --group-id <sg-id> --ip-permissions IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}]",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html",
			},
			References:  refs(bpg("Network security", bpgNetworkURL)),
			Permissions: []string{describeCluster, "ec2:DescribeSubnets", "ec2:DescribeRouteTables", "ec2:DescribeSecurityGroups"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			if f, bad := missing(c.Errors, "ec2:DescribeSubnets", "ec2:DescribeRouteTables", "ec2:DescribeSecurityGroups"); bad {
				return one(f)
			}
			if c.Network == nil {
				return one(audit.Errorf("The cluster's VPC %q was not collected.", c.Endpoint.VPCID))
			}
			var public []string
			for _, id := range c.Endpoint.SubnetIDs {
				if s := c.Network.Subnets[id]; s != nil && s.InternetRoute != "" {
					public = append(public, id+"→"+s.InternetRoute)
				}
			}
			sgs, _ := securityGroups(c, append([]string{c.Endpoint.ClusterSecurityGroupID}, c.Endpoint.SecurityGroupIDs...))
			var open []string
			for _, sg := range sgs {
				for _, r := range sg.Ingress {
					if isOpenCIDR(r.CIDR) {
						open = append(open, sg.ID+" "+describeRule(r))
					}
				}
			}
			if len(public) > 0 && len(open) > 0 {
				return one(audit.Failf("Subnets %s route to an internet gateway and security groups allow %s.", joinOr(public, ""), joinOr(open, "")))
			}
			return one(audit.Passf("No path from the internet: public subnets [%s], internet-open security group rules [%s].", joinOr(public, "none"), joinOr(open, "none")))
		},
	}
}

package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// ClusterSGRestricted combines CloudSploit's eksSecurityGroups (only 443 inbound) with the
// original Sek's service-security-groups (no all-traffic from 0.0.0.0/0), on the cluster security
// group and every additional group.
func ClusterSGRestricted() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_CLUSTER_SG_RESTRICTED",
			Title:        "EKS cluster security groups do not allow unrestricted ingress",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeCluster,
			Description: "Reads the cluster security group and the additional security groups. Fails HIGH when any ingress rule admits 0.0.0.0/0 or ::/0 on any port, " +
				"and MEDIUM when any CIDR-sourced rule admits a port other than 443. Rules whose source is a security group (such as the cluster group's self-reference, the EKS default) are not judged.",
			Rationale: "The control-plane network interfaces only need HTTPS from the nodes and administrators; anything wider exposes the API server and the nodes' traffic to more of the network.",
			Remediation: audit.Remediation{
				Text:    "Remove the offending ingress rules; allow 443 only, from the node security groups or known CIDRs.",
				Console: "EC2 console → Security Groups → <group> → Inbound rules → Edit inbound rules",
				CLI:     "aws ec2 revoke-security-group-ingress --group-id <sg-id> --ip-permissions IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}]",
				IaC:     "CloudFormation AWS::EC2::SecurityGroupIngress {IpProtocol: tcp, FromPort: 443, ToPort: 443, SourceSecurityGroupId: <node-sg>}",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html",
			},
			References:  refs(bpg("Network security: security groups", bpgNetworkURL)),
			Permissions: []string{describeCluster, "ec2:DescribeSecurityGroups"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			if f, bad := missing(c.Errors, "ec2:DescribeSecurityGroups"); bad {
				return one(f)
			}
			ids := append([]string{c.Endpoint.ClusterSecurityGroupID}, c.Endpoint.SecurityGroupIDs...)
			sgs, unknown := securityGroups(c, ids)
			var p problems
			for _, sg := range sgs {
				for _, r := range sg.Ingress {
					switch {
					case r.CIDR == "":
					case isOpenCIDR(r.CIDR):
						p.add(audit.High, "%s allows %s", sg.ID, describeRule(r))
					case !(r.Protocol == "tcp" && r.FromPort == 443 && r.ToPort == 443):
						p.add(audit.Medium, "%s allows %s (only 443 is needed)", sg.ID, describeRule(r))
					}
				}
			}
			if !p.any() && len(unknown) > 0 {
				return one(audit.Errorf("Security groups %s were not found in VPC %s (ec2:DescribeSecurityGroups).", joinOr(unknown, ""), c.Endpoint.VPCID))
			}
			return one(p.finding("No cluster security group (" + joinOr(idsOf(sgs), "none") + ") allows CIDR ingress other than 443 or from the whole internet."))
		},
	}
}

func idsOf(sgs []*inventory.SecurityGroup) []string {
	out := make([]string, len(sgs))
	for i, s := range sgs {
		out[i] = s.ID
	}
	return out
}

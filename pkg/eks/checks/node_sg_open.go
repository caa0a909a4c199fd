package checks

import (
	"fmt"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// NodeSGOpen is the original Sek's planned node-sgs check: no administrative port open to the
// internet on any security group the node group's instances get.
func NodeSGOpen() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_NODE_SG_OPEN",
			Title:        "EKS node security groups have no internet-open administrative ingress",
			Severity:     audit.High,
			ResourceType: inventory.TypeNodegroup,
			Description: "For each managed node group, judges the security groups its nodes get: those of its launch template (or the cluster security group when the template sets none), " +
				"the remote-access group EKS created, and those of its running instances. Fails when an ingress rule from 0.0.0.0/0 or ::/0 covers one of adminPorts (default SSH 22, RDP 3389, kubelet 10250) or all ports.",
			Rationale: "SSH, RDP and the kubelet API open to the internet give an attacker a direct path to the node and every pod on it.",
			Remediation: audit.Remediation{
				Text:    "Remove internet-wide ingress from node security groups; reach nodes through SSM Session Manager.",
				Console: "EC2 console → Security Groups → <node-sg> → Inbound rules → Edit inbound rules",
				CLI:     "aws ec2 revoke-security-group-ingress --group-id <sg-id> --protocol tcp --port 22 --cidr 0.0.0.0/0",
				IaC:     "CloudFormation AWS::EC2::SecurityGroup SecurityGroupIngress without 0.0.0.0/0 sources on 22, 3389 or 10250",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html",
			},
			References:  refs(bpg("Network security: security groups", bpgNetworkURL), bpg("Protecting the infrastructure: minimize access to worker nodes", bpgInfraURL)),
			Parameters:  []audit.Parameter{{Name: "adminPorts", Default: []string{"22", "3389", "10250"}, Description: "TCP ports that must not be open to the internet."}},
			Permissions: []string{describeCluster, "eks:ListNodegroups", "eks:DescribeNodegroup", "ec2:DescribeLaunchTemplateVersions", "ec2:DescribeSecurityGroups", "ec2:DescribeInstances"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(env audit.Env, c *inventory.Cluster) []audit.Finding {
			var ports []int
			for _, s := range env.Params.Strings("adminPorts") {
				var n int
				if _, err := fmt.Sscanf(s, "%d", &n); err != nil {
					return one(audit.Errorf("parameter adminPorts: %q is not a port number", s))
				}
				ports = append(ports, n)
			}
			if f, bad := missing(c.Errors, "ec2:DescribeSecurityGroups"); bad {
				return one(f)
			}
			return forNodeGroups(c, func(ng inventory.NodeGroup) audit.Finding {
				var ids []string
				if lt := ng.LaunchTemplate; lt != nil {
					if lt.Data == nil {
						if f, bad := missing(ng.Errors, "ec2:DescribeLaunchTemplateVersions"); bad {
							return f
						}
					} else {
						ids = append(ids, lt.Data.SecurityGroupIDs...)
					}
				}
				if len(ids) == 0 {
					ids = append(ids, c.Endpoint.ClusterSecurityGroupID)
				}
				if ng.RemoteAccess != nil {
					ids = append(ids, ng.RemoteAccess.SecurityGroupID)
				}
				for _, inst := range c.Instances {
					if inst.NodeGroup == ng.Name {
						ids = append(ids, inst.SecurityGroupIDs...)
					}
				}
				sgs, unknown := securityGroups(c, ids)
				var p problems
				for _, sg := range sgs {
					for _, r := range sg.Ingress {
						if !isOpenCIDR(r.CIDR) {
							continue
						}
						if allPorts(r) {
							p.add(audit.High, "%s allows %s", sg.ID, describeRule(r))
							continue
						}
						for _, port := range ports {
							if coversPort(r, port) {
								p.add(audit.High, "%s allows %s (port %d)", sg.ID, describeRule(r), port)
								break
							}
						}
					}
				}
				if !p.any() && len(unknown) > 0 {
					return audit.Errorf("Security groups %s of node group %s were not found in VPC %s (ec2:DescribeSecurityGroups).", joinOr(unknown, ""), ng.Name, c.Endpoint.VPCID)
				}
				return p.finding("Node group " + ng.Name + " security groups (" + joinOr(idsOf(sgs), "none") + ") open no administrative port to the internet.")
			})
		},
	}
}

package checks

import (
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// NodegroupSSHOpen is Checkov's CKV_AWS_100 on live state, plus the BPG's preference for SSM.
func NodegroupSSHOpen() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_NODEGROUP_SSH_OPEN",
			Title:        "EKS node group remote access is not open to the internet",
			Severity:     audit.High,
			ResourceType: inventory.TypeNodegroup,
			Description: "For each managed node group, fails HIGH when remoteAccess sets an SSH key without sourceSecurityGroups (EKS then opens port 22 to 0.0.0.0/0), " +
				"and LOW when an SSH key is set at all, because Systems Manager Session Manager removes the need for SSH.",
			Rationale: "SSH open to the internet invites brute force and exposes nodes that hold credentials for every pod they run.",
			Remediation: audit.Remediation{
				Text:    "Recreate the node group without remote access (it cannot be changed in place) and use SSM Session Manager; if SSH is required, restrict it to source security groups.",
				Console: "EKS console → Clusters → <cluster> → Compute → Add node group → Node group remote access: off",
				CLI:     "aws eks create-nodegroup --cluster-name <cluster> --nodegroup-name <name> ... (no --remote-access)",
				IaC:     "CloudFormation AWS::EKS::Nodegroup without RemoteAccess, or RemoteAccess.SourceSecurityGroups: [<bastion-sg>]",
				URL:     "https://docs.aws.amazon.com/eks/latest/APIReference/API_RemoteAccessConfig.html",
			},
			References:  refs(bpg("Protecting the infrastructure: minimize access to worker nodes", bpgInfraURL)),
			Permissions: []string{describeCluster, "eks:ListNodegroups", "eks:DescribeNodegroup"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			return forNodeGroups(c, func(ng inventory.NodeGroup) audit.Finding {
				ra := ng.RemoteAccess
				switch {
				case ra == nil || ra.SSHKey == "":
					return audit.Passf("Node group %s has no SSH remote access.", ng.Name)
				case len(ra.SourceSecurityGroups) == 0:
					return audit.Failf("Node group %s allows SSH with key %s from 0.0.0.0/0 (no source security groups).", ng.Name, ra.SSHKey).With("ec2SshKey", ra.SSHKey)
				}
				return failAt(audit.Low, "Node group %s allows SSH with key %s from security groups %s; prefer SSM Session Manager.",
					ng.Name, ra.SSHKey, strings.Join(ra.SourceSecurityGroups, ", ")).With("ec2SshKey", ra.SSHKey)
			})
		},
	}
}

package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// NodeEBSEncrypted is the original Sek's planned node-volumes check.
func NodeEBSEncrypted() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_NODE_EBS_ENCRYPTED",
			Title:        "EKS node volumes are encrypted",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeNodegroup,
			Description: "For each managed node group, passes when the region's EBS encryption by default is on. Otherwise fails when the launch template has an EBS mapping without Encrypted=true, " +
				"has no EBS mapping (the AMI's unencrypted root volume is used), or the node group has no custom launch template (EKS's template does not request encryption).",
			Rationale: "Node volumes hold container images, logs, emptyDir data and sometimes secrets; unencrypted volumes and their snapshots expose that data.",
			Remediation: audit.Remediation{
				Text:    "Turn on EBS encryption by default in the region, or set Encrypted=true (with a KMS key) on every launch-template block device, and roll the nodes.",
				Console: "EC2 console → Settings → Data protection and security → EBS encryption → Always encrypt new EBS volumes",
				CLI:     "aws ec2 enable-ebs-encryption-by-default --region <region>",
				IaC:     "CloudFormation AWS::EC2::LaunchTemplate BlockDeviceMappings: [{DeviceName: /dev/xvda, Ebs: {Encrypted: true, KmsKeyId: <key>}}]",
				URL:     "https://docs.aws.amazon.com/ebs/latest/userguide/work-with-ebs-encr.html",
			},
			References:  refs(bpg("Data encryption and secrets management: encryption at rest", bpgDataURL)),
			Permissions: []string{describeCluster, "eks:ListNodegroups", "eks:DescribeNodegroup", "ec2:DescribeLaunchTemplateVersions", "ec2:GetEbsEncryptionByDefault"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			return forNodeGroups(c, func(ng inventory.NodeGroup) audit.Finding {
				if d := c.EBSEncryptionByDefault; d != nil && *d {
					return audit.Passf("EBS encryption by default is on in %s, so node group %s's volumes are encrypted.", c.Region, ng.Name)
				}
				var p problems
				lt := ng.LaunchTemplate
				switch {
				case lt == nil:
					p.add(audit.Medium, "node group %s uses the EKS-generated launch template, which does not request encryption", ng.Name)
				case lt.Data == nil:
					if f, bad := missing(ng.Errors, "ec2:DescribeLaunchTemplateVersions"); bad {
						return f
					}
				case len(lt.Data.BlockDevices) == 0:
					p.add(audit.Medium, "launch template %s has no EBS mapping, so the AMI's unencrypted root volume is used", lt.ID)
				default:
					for _, b := range lt.Data.BlockDevices {
						if b.Encrypted == nil || !*b.Encrypted {
							p.add(audit.Medium, "launch template %s maps %s with Encrypted=%s", lt.ID, b.DeviceName, boolPtrString(b.Encrypted))
						}
					}
				}
				if p.any() {
					if f, bad := missing(c.Errors, "ec2:GetEbsEncryptionByDefault"); bad {
						return f
					}
					p.items[len(p.items)-1] += " and EBS encryption by default is off"
				}
				return p.finding("Every EBS mapping of node group " + ng.Name + "'s launch template is encrypted.")
			})
		},
	}
}

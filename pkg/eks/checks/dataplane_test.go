package checks

import (
	"testing"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

func noNodeGroups(c *inventory.Cluster) { c.NodeGroups = nil }

func listNodegroupsDenied(c *inventory.Cluster) {
	c.NodeGroups = nil
	c.Errors["eks:ListNodegroups"] = errDenied
}

func ng0(fn func(ng *inventory.NodeGroup)) *inventory.Cluster {
	return with(func(c *inventory.Cluster) { fn(&c.NodeGroups[0]) })
}

func TestNodegroupSSHOpen(t *testing.T) {
	runClusterCases(t, "EKS_NODEGROUP_SSH_OPEN", []clusterCase{
		{name: "no remote access passes on the node group", c: hardened(), want: []want{{status: audit.Pass, on: "nodegroup/prod/workers"}}},
		{name: "an SSH key without source groups fails HIGH", c: ng0(func(ng *inventory.NodeGroup) { ng.RemoteAccess = &inventory.RemoteAccess{SSHKey: "ops"} }),
			want: []want{{status: audit.Fail, sev: audit.High, msg: "0.0.0.0/0", on: "nodegroup"}}},
		{name: "an SSH key limited to a bastion group fails LOW", c: ng0(func(ng *inventory.NodeGroup) {
			ng.RemoteAccess = &inventory.RemoteAccess{SSHKey: "ops", SourceSecurityGroups: []string{"sg-bastion"}}
		}), want: []want{{status: audit.Fail, sev: audit.Low, msg: "SSM"}}},
		{name: "a cluster without node groups is not applicable", c: with(noNodeGroups), want: []want{{status: audit.NotApplicable, on: "cluster/prod"}}},
		{name: "denied ListNodegroups is an error naming the action", c: with(listNodegroupsDenied), want: []want{{status: audit.Error, msg: "eks:ListNodegroups"}}},
		{name: "a node group that cannot be described is an error for that group only", c: with(func(c *inventory.Cluster) {
			c.NodeGroups = append(c.NodeGroups, inventory.NodeGroup{Name: "broken", Errors: inventory.Errors{"eks:DescribeNodegroup": errDenied}})
		}), want: []want{{status: audit.Pass, on: "nodegroup/prod/workers/"}, {status: audit.Error, msg: "broken", on: "nodegroup/prod/broken"}}},
		{name: "two undescribed node groups give two errors on distinct resources", c: with(func(c *inventory.Cluster) {
			c.NodeGroups = []inventory.NodeGroup{{Name: "a", Errors: inventory.Errors{"eks:DescribeNodegroup": errDenied}}, {Name: "b", Errors: inventory.Errors{"eks:DescribeNodegroup": errDenied}}}
		}), want: []want{{status: audit.Error, on: "nodegroup/prod/a"}, {status: audit.Error, on: "nodegroup/prod/b"}}},
	})
}

func TestNodeIMDS(t *testing.T) {
	noLTMetadata := func(ng *inventory.NodeGroup) { ng.LaunchTemplate = nil }
	runClusterCases(t, "EKS_NODE_IMDS", []clusterCase{
		{name: "IMDSv2 with hop limit 1 passes", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "optional tokens fail HIGH", c: ng0(func(ng *inventory.NodeGroup) { ng.LaunchTemplate.Data.Metadata.HTTPTokens = "optional" }), want: []want{{status: audit.Fail, sev: audit.High, msg: "IMDSv1"}}},
		{name: "hop limit 2 fails MEDIUM by default", c: ng0(func(ng *inventory.NodeGroup) { ng.LaunchTemplate.Data.Metadata.HopLimit = 2 }), want: []want{{status: audit.Fail, sev: audit.Medium}}},
		{name: "hop limit 2 passes when allowed", c: ng0(func(ng *inventory.NodeGroup) { ng.LaunchTemplate.Data.Metadata.HopLimit = 2 }), params: map[string]any{"maxHopLimit": 2}, want: []want{{status: audit.Pass}}},
		{name: "without a template the running instances are judged", c: with(func(c *inventory.Cluster) {
			noLTMetadata(&c.NodeGroups[0])
			c.Instances = []inventory.Instance{{ID: "i-1", NodeGroup: "workers", Metadata: inventory.MetadataOptions{HTTPTokens: "optional", HopLimit: 2}}}
		}), want: []want{{status: audit.Fail, sev: audit.High, msg: "instance i-1"}}},
		{name: "without a template or instances nothing enforces IMDSv2", c: ng0(noLTMetadata), want: []want{{status: audit.Fail, sev: audit.Medium, msg: "not enforced"}}},
		{name: "an unreadable launch template is an error", c: ng0(func(ng *inventory.NodeGroup) {
			ng.LaunchTemplate.Data = nil
			ng.Errors["ec2:DescribeLaunchTemplateVersions"] = errDenied
		}), want: []want{{status: audit.Error, msg: "ec2:DescribeLaunchTemplateVersions"}}},
		{name: "no node groups is not applicable", c: with(noNodeGroups), want: []want{{status: audit.NotApplicable}}},
	})
}

func TestNodePrivateSubnets(t *testing.T) {
	runClusterCases(t, "EKS_NODE_PRIVATE_SUBNETS", []clusterCase{
		{name: "private node group and Fargate subnets pass", c: hardened(), want: []want{{status: audit.Pass, on: "nodegroup"}, {status: audit.Pass, on: "fargateprofile"}}},
		{name: "a node group in a subnet routed to an internet gateway fails", c: ng0(func(ng *inventory.NodeGroup) { ng.Subnets = []string{"subnet-a", "subnet-p"} }),
			want: []want{{status: audit.Fail, msg: "igw-1"}, {status: audit.Pass}}},
		{name: "a node with a public IP fails", c: with(func(c *inventory.Cluster) {
			c.Instances = []inventory.Instance{{ID: "i-9", NodeGroup: "workers", PublicIP: "54.1.2.3"}}
		}), want: []want{{status: audit.Fail, msg: "54.1.2.3"}, {status: audit.Pass}}},
		{name: "a Fargate profile in a public subnet fails on the profile", c: with(func(c *inventory.Cluster) {
			c.Network.Subnets["subnet-b"] = &inventory.Subnet{ID: "subnet-b", MapPublicIPOnLaunch: true}
			c.NodeGroups[0].Subnets = []string{"subnet-a"}
		}), want: []want{{status: audit.Pass}, {status: audit.Fail, on: "fargateprofile", msg: "public IPs"}}},
		{name: "Fargate only is judged without a node-group result", c: with(noNodeGroups), want: []want{{status: audit.Pass, on: "fargateprofile"}}},
		{name: "neither node groups nor Fargate is not applicable", c: with(func(c *inventory.Cluster) { c.NodeGroups, c.FargateProfiles = nil, nil }), want: []want{{status: audit.NotApplicable}}},
		{name: "unlisted Fargate profiles with no node groups give one error on the cluster", c: with(func(c *inventory.Cluster) {
			c.NodeGroups, c.FargateProfiles = nil, nil
			c.Errors["eks:ListFargateProfiles"] = errDenied
		}), want: []want{{status: audit.Error, msg: "eks:ListFargateProfiles", on: "cluster/prod"}}},
		{name: "unreadable subnets are an error", c: with(func(c *inventory.Cluster) {
			c.Network.Subnets = nil
			c.Errors["ec2:DescribeSubnets"] = errDenied
		}), want: []want{{status: audit.Error, msg: "ec2:DescribeSubnets"}, {status: audit.Error, on: "fargateprofile"}}},
	})
}

func TestNodeSGOpen(t *testing.T) {
	runClusterCases(t, "EKS_NODE_SG_OPEN", []clusterCase{
		{name: "a node group open only to the cluster group passes", c: hardened(), want: []want{{status: audit.Pass, msg: "sg-node"}}},
		{name: "SSH from the internet fails", c: with(func(c *inventory.Cluster) {
			c.Network.SecurityGroups["sg-node"].Ingress = append(c.Network.SecurityGroups["sg-node"].Ingress, openRule("0.0.0.0/0", "tcp", 22, 22))
		}), want: []want{{status: audit.Fail, sev: audit.High, msg: "port 22"}}},
		{name: "the kubelet port inside a range fails", c: with(func(c *inventory.Cluster) {
			c.Network.SecurityGroups["sg-node"].Ingress = append(c.Network.SecurityGroups["sg-node"].Ingress, openRule("::/0", "tcp", 10000, 11000))
		}), want: []want{{status: audit.Fail, msg: "port 10250"}}},
		{name: "HTTPS from the internet is not an administrative port", c: with(func(c *inventory.Cluster) {
			c.Network.SecurityGroups["sg-node"].Ingress = append(c.Network.SecurityGroups["sg-node"].Ingress, openRule("0.0.0.0/0", "tcp", 443, 443))
		}), want: []want{{status: audit.Pass}}},
		{name: "without a template the cluster security group is judged", c: with(func(c *inventory.Cluster) {
			c.NodeGroups[0].LaunchTemplate = nil
			c.Network.SecurityGroups["sg-cluster"].Ingress = append(c.Network.SecurityGroups["sg-cluster"].Ingress, openRule("0.0.0.0/0", "-1", -1, -1))
		}), want: []want{{status: audit.Fail, msg: "sg-cluster"}}},
		{name: "a remote-access group that does not exist is an error", c: ng0(func(ng *inventory.NodeGroup) {
			ng.RemoteAccess = &inventory.RemoteAccess{SSHKey: "k", SecurityGroupID: "sg-gone"}
		}), want: []want{{status: audit.Error, msg: "sg-gone"}}},
		{name: "no node groups is not applicable", c: with(noNodeGroups), want: []want{{status: audit.NotApplicable}}},
	})
}

func TestNodeEBSEncrypted(t *testing.T) {
	defaultOff := func(c *inventory.Cluster) { c.EBSEncryptionByDefault = ptr(false) }
	runClusterCases(t, "EKS_NODE_EBS_ENCRYPTED", []clusterCase{
		{name: "encryption by default passes", c: hardened(), want: []want{{status: audit.Pass, msg: "by default"}}},
		{name: "encrypted template mappings pass without the default", c: with(defaultOff), want: []want{{status: audit.Pass}}},
		{name: "an unencrypted mapping fails without the default", c: with(func(c *inventory.Cluster) {
			defaultOff(c)
			c.NodeGroups[0].LaunchTemplate.Data.BlockDevices[0].Encrypted = nil
		}), want: []want{{status: audit.Fail, msg: "Encrypted=unset"}}},
		{name: "the EKS-generated template fails without the default", c: with(func(c *inventory.Cluster) { defaultOff(c); c.NodeGroups[0].LaunchTemplate = nil }),
			want: []want{{status: audit.Fail, msg: "EKS-generated"}}},
		{name: "an unknown default with an unencrypted template is an error", c: with(func(c *inventory.Cluster) {
			c.EBSEncryptionByDefault = nil
			c.Errors["ec2:GetEbsEncryptionByDefault"] = errDenied
			c.NodeGroups[0].LaunchTemplate = nil
		}), want: []want{{status: audit.Error, msg: "ec2:GetEbsEncryptionByDefault"}}},
		{name: "no node groups is not applicable", c: with(noNodeGroups), want: []want{{status: audit.NotApplicable}}},
	})
}

func TestNodegroupVersionSkew(t *testing.T) {
	runClusterCases(t, "EKS_NODEGROUP_VERSION_SKEW", []clusterCase{
		{name: "the cluster's version on the recommended AMI passes", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "three minors behind fails MEDIUM", c: ng0(func(ng *inventory.NodeGroup) { ng.Version = "1.32"; ng.RecommendedRelease = "" }),
			want: []want{{status: audit.Fail, sev: audit.Medium, msg: "3 minor versions"}}},
		{name: "an older AMI release fails LOW", c: ng0(func(ng *inventory.NodeGroup) { ng.ReleaseVersion = "1.35.0-20260901" }), want: []want{{status: audit.Fail, sev: audit.Low, msg: "20261101"}}},
		{name: "an AL2 AMI type fails LOW", c: ng0(func(ng *inventory.NodeGroup) { ng.AMIType = "AL2_x86_64" }), want: []want{{status: audit.Fail, sev: audit.Low, msg: "Amazon Linux 2"}}},
		{name: "a denied AMI parameter without other problems is an error", c: ng0(func(ng *inventory.NodeGroup) {
			ng.RecommendedRelease = ""
			ng.Errors["ssm:GetParameter"] = errDenied
		}), want: []want{{status: audit.Error, msg: "ssm:GetParameter"}}},
		{name: "no node groups is not applicable", c: with(noNodeGroups), want: []want{{status: audit.NotApplicable}}},
	})
}

func TestHealthIssues(t *testing.T) {
	runClusterCases(t, "EKS_HEALTH_ISSUES", []clusterCase{
		{name: "a healthy cluster passes on every resource", c: hardened(),
			want: []want{{status: audit.Pass, on: "cluster/prod"}, {status: audit.Pass, on: "nodegroup"}, {status: audit.Pass, on: "fargateprofile"}, {status: audit.Pass, on: "addon/prod/vpc-cni"}, {status: audit.Pass, on: "addon/prod/coredns"}}},
		{name: "issues are reported on the resource that has them", c: with(func(c *inventory.Cluster) {
			c.Health = []inventory.HealthIssue{{Code: "Ec2SecurityGroupNotFound", Message: "sg-1 was deleted"}}
			c.NodeGroups[0].Health = []inventory.HealthIssue{{Code: "AccessDenied", Message: "role"}}
			c.Addons[1].Status = "DEGRADED"
		}), want: []want{{status: audit.Fail, msg: "Ec2SecurityGroupNotFound"}, {status: audit.Fail, on: "nodegroup", msg: "AccessDenied"}, {status: audit.Pass}, {status: audit.Pass}, {status: audit.Fail, on: "coredns", msg: "DEGRADED"}}},
		{name: "an add-on that cannot be described is an error on its own resource", c: with(func(c *inventory.Cluster) {
			c.Addons[1] = inventory.Addon{Name: "coredns", Errors: inventory.Errors{"eks:DescribeAddon": errDenied}}
		}), want: []want{{status: audit.Pass}, {status: audit.Pass}, {status: audit.Pass}, {status: audit.Pass}, {status: audit.Error, on: "addon/prod/coredns", msg: "AccessDenied"}}},
		{name: "unlisted add-ons make the cluster result an error", c: with(func(c *inventory.Cluster) {
			c.Addons, c.NodeGroups, c.FargateProfiles = nil, nil, nil
			c.Errors["eks:ListAddons"] = errDenied
		}), want: []want{{status: audit.Error, msg: "eks:ListAddons"}}},
	})
}

func TestAddonCurrent(t *testing.T) {
	runClusterCases(t, "EKS_ADDON_CURRENT", []clusterCase{
		{name: "default and newer compatible versions pass", c: hardened(), want: []want{{status: audit.Pass, on: "vpc-cni"}, {status: audit.Pass, on: "coredns"}}},
		{name: "a compatible version older than the default fails LOW", c: with(func(c *inventory.Cluster) { c.Addons[0].Version = "v1.19.5-eksbuild.2" }),
			want: []want{{status: audit.Fail, sev: audit.Low, msg: "older than the default"}, {status: audit.Pass}}},
		{name: "an incompatible version fails MEDIUM", c: with(func(c *inventory.Cluster) { c.Addons[0].Version = "v1.9.0-eksbuild.1" }),
			want: []want{{status: audit.Fail, sev: audit.Medium, msg: "not compatible"}, {status: audit.Pass}}},
		{name: "build numbers compare numerically", c: with(func(c *inventory.Cluster) {
			c.Addons[0].Version = "v1.20.1-eksbuild.10"
			c.Addons[0].Compat.Versions = append(c.Addons[0].Compat.Versions, "v1.20.1-eksbuild.10")
		}), want: []want{{status: audit.Pass}, {status: audit.Pass}}},
		{name: "unreadable versions are an error for that add-on", c: with(func(c *inventory.Cluster) {
			c.Addons[1].Compat = nil
			c.Addons[1].Errors["eks:DescribeAddonVersions"] = errDenied
		}), want: []want{{status: audit.Pass}, {status: audit.Error, msg: "eks:DescribeAddonVersions"}}},
		{name: "no add-ons is not applicable", c: with(func(c *inventory.Cluster) { c.Addons = nil }), want: []want{{status: audit.NotApplicable}}},
	})
}

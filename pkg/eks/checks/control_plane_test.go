package checks

import (
	"testing"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

func TestDeletionProtection(t *testing.T) {
	runClusterCases(t, "EKS_DELETION_PROTECTION", []clusterCase{
		{name: "protection on passes", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "protection off fails", c: with(func(c *inventory.Cluster) { c.DeletionProtection = ptr(false) }), want: []want{{status: audit.Fail}}},
		{name: "a response without the field is an error, not a guess", c: with(func(c *inventory.Cluster) { c.DeletionProtection = nil }), want: []want{{status: audit.Error, msg: "deletionProtection"}}},
	})
}

func TestClusterTagged(t *testing.T) {
	runClusterCases(t, "EKS_CLUSTER_TAGGED", []clusterCase{
		{name: "a user tag passes", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "only aws: tags count as untagged", c: with(func(c *inventory.Cluster) { c.Tags = map[string]string{"aws:cloudformation:stack-name": "x"} }), want: []want{{status: audit.Fail, msg: "no tags"}}},
		{name: "a missing required key fails and is named", c: hardened(), params: map[string]any{"requiredTagKeys": "owner,cost-center"}, want: []want{{status: audit.Fail, msg: "cost-center"}}},
	})
}

func TestIdPConfigTagged(t *testing.T) {
	runClusterCases(t, "EKS_IDP_CONFIG_TAGGED", []clusterCase{
		{name: "a tagged identity provider config passes and names its issuer", c: hardened(), want: []want{{status: audit.Pass, msg: "sso.example.com", on: "identityproviderconfig/prod/oidc/corp-sso"}}},
		{name: "an untagged config fails on its own ARN", c: with(func(c *inventory.Cluster) { c.IdentityConfigs[0].Tags = nil }), want: []want{{status: audit.Fail, on: "identityproviderconfig"}}},
		{name: "a cluster without identity provider configs is not applicable", c: with(func(c *inventory.Cluster) { c.IdentityConfigs = nil }), want: []want{{status: audit.NotApplicable}}},
		{name: "an API missing in the region is an error naming the action", c: with(func(c *inventory.Cluster) {
			c.IdentityConfigs = nil
			c.Errors["eks:ListIdentityProviderConfigs"] = errDenied
		}), want: []want{{status: audit.Error, msg: "eks:ListIdentityProviderConfigs"}}},
	})
}

func openRule(cidr string, proto string, from, to int) inventory.IngressRule {
	return inventory.IngressRule{Protocol: proto, FromPort: from, ToPort: to, CIDR: cidr}
}

func TestClusterSGRestricted(t *testing.T) {
	runClusterCases(t, "EKS_CLUSTER_SG_RESTRICTED", []clusterCase{
		{name: "443 from a private range and a self-reference pass", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "all traffic from the internet fails HIGH", c: with(func(c *inventory.Cluster) {
			c.Network.SecurityGroups["sg-cluster"].Ingress = append(c.Network.SecurityGroups["sg-cluster"].Ingress, openRule("0.0.0.0/0", "-1", -1, -1))
		}), want: []want{{status: audit.Fail, sev: audit.High, msg: "all traffic from 0.0.0.0/0"}}},
		{name: "SSH from a private range fails MEDIUM", c: with(func(c *inventory.Cluster) {
			c.Network.SecurityGroups["sg-extra"].Ingress = append(c.Network.SecurityGroups["sg-extra"].Ingress, openRule("10.1.0.0/16", "tcp", 22, 22))
		}), want: []want{{status: audit.Fail, sev: audit.Medium, msg: "tcp/22"}}},
		{name: "a security group missing from the VPC is an error", c: with(func(c *inventory.Cluster) { delete(c.Network.SecurityGroups, "sg-extra") }),
			want: []want{{status: audit.Error, msg: "sg-extra"}}},
		{name: "denied DescribeSecurityGroups is an error", c: with(func(c *inventory.Cluster) { c.Errors["ec2:DescribeSecurityGroups"] = errDenied }),
			want: []want{{status: audit.Error, msg: "ec2:DescribeSecurityGroups"}}},
	})
}

func TestClusterMultipleSGs(t *testing.T) {
	runClusterCases(t, "EKS_CLUSTER_MULTIPLE_SGS", []clusterCase{
		{name: "one additional group passes", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "two additional groups fail", c: with(func(c *inventory.Cluster) { c.Endpoint.SecurityGroupIDs = []string{"sg-a", "sg-b"} }), want: []want{{status: audit.Fail, msg: "sg-a, sg-b"}}},
	})
}

func TestNoDefaultVPC(t *testing.T) {
	runClusterCases(t, "EKS_NO_DEFAULT_VPC", []clusterCase{
		{name: "a dedicated VPC passes", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "the default VPC fails", c: with(func(c *inventory.Cluster) { c.Network.VPC.IsDefault = true }), want: []want{{status: audit.Fail, msg: "vpc-1"}}},
		{name: "denied DescribeVpcs is an error", c: with(func(c *inventory.Cluster) { c.Errors["ec2:DescribeVpcs"] = errDenied; c.Network.VPC = nil }),
			want: []want{{status: audit.Error, msg: "ec2:DescribeVpcs"}}},
	})
}

func TestNetworkExposure(t *testing.T) {
	exposed := func(c *inventory.Cluster) {
		c.Endpoint.SubnetIDs = []string{"subnet-p"}
		c.Network.SecurityGroups["sg-extra"].Ingress = []inventory.IngressRule{openRule("0.0.0.0/0", "tcp", 443, 443)}
	}
	runClusterCases(t, "EKS_NETWORK_EXPOSURE", []clusterCase{
		{name: "private subnets pass", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "a public subnet with an internet-open group fails", c: with(exposed), want: []want{{status: audit.Fail, msg: "igw-1"}}},
		{name: "a public subnet behind closed groups passes", c: with(func(c *inventory.Cluster) { c.Endpoint.SubnetIDs = []string{"subnet-p"} }), want: []want{{status: audit.Pass}}},
		{name: "unreadable route tables are an error", c: with(func(c *inventory.Cluster) { exposed(c); c.Errors["ec2:DescribeRouteTables"] = errDenied }),
			want: []want{{status: audit.Error, msg: "ec2:DescribeRouteTables"}}},
	})
}

func TestNetworkPolicy(t *testing.T) {
	cfg := func(v string) *inventory.Cluster {
		return with(func(c *inventory.Cluster) { c.Addons[0].ConfigurationValues = v })
	}
	runClusterCases(t, "EKS_NETWORK_POLICY", []clusterCase{
		{name: "enableNetworkPolicy as the string true passes", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "enableNetworkPolicy as a YAML boolean passes", c: cfg("enableNetworkPolicy: true\n"), want: []want{{status: audit.Pass}}},
		{name: "enableNetworkPolicy false fails", c: cfg(`{"enableNetworkPolicy":"false"}`), want: []want{{status: audit.Fail, msg: "false"}}},
		{name: "no configuration leaves the default off and fails", c: cfg(""), want: []want{{status: audit.Fail, msg: "default is off"}}},
		{name: "Auto Mode is not applicable", c: with(func(c *inventory.Cluster) { c.AutoMode.Enabled = true }), want: []want{{status: audit.NotApplicable}}},
		{name: "a self-managed CNI is not applicable", c: with(func(c *inventory.Cluster) { c.Addons = c.Addons[1:] }), want: []want{{status: audit.NotApplicable, msg: "self-managed"}}},
		{name: "unparseable configuration values are an error", c: cfg("{enableNetworkPolicy: [}"), want: []want{{status: audit.Error}}},
		{name: "ListAddons missing in the emulator is an error naming the action", c: with(func(c *inventory.Cluster) {
			c.Addons = nil
			c.Errors["eks:ListAddons"] = errDenied
		}), want: []want{{status: audit.Error, msg: "eks:ListAddons"}}},
	})
}

func TestVPCFlowLogs(t *testing.T) {
	runClusterCases(t, "EKS_VPC_FLOW_LOGS", []clusterCase{
		{name: "an active flow log passes", c: hardened(), want: []want{{status: audit.Pass, msg: "fl-1"}}},
		{name: "only a failed flow log fails", c: with(func(c *inventory.Cluster) { c.Network.FlowLogs[0].Status = "FAILED" }), want: []want{{status: audit.Fail, msg: "FAILED"}}},
		{name: "no flow log fails", c: with(func(c *inventory.Cluster) { c.Network.FlowLogs = nil }), want: []want{{status: audit.Fail, msg: "none"}}},
		{name: "denied DescribeFlowLogs is an error", c: with(func(c *inventory.Cluster) { c.Errors["ec2:DescribeFlowLogs"] = errDenied }), want: []want{{status: audit.Error}}},
	})
}

func TestECRPrivateEndpoint(t *testing.T) {
	runClusterCases(t, "ECR_PRIVATE_ENDPOINT", []clusterCase{
		{name: "all four endpoints pass", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "a private cluster without sts fails MEDIUM", c: with(func(c *inventory.Cluster) { c.Network.Endpoints = c.Network.Endpoints[:3] }), want: []want{{status: audit.Fail, sev: audit.Medium, msg: "sts"}}},
		{name: "a public cluster without endpoints fails INFORMATIONAL", c: with(func(c *inventory.Cluster) {
			c.Network.Endpoints = nil
			c.Endpoint.PublicAccess = true
		}), want: []want{{status: audit.Fail, sev: audit.Informational, msg: "ecr.api, ecr.dkr, s3, sts"}}},
		{name: "denied DescribeVpcEndpoints is an error", c: with(func(c *inventory.Cluster) { c.Errors["ec2:DescribeVpcEndpoints"] = errDenied }), want: []want{{status: audit.Error}}},
	})
}

func TestLBTLS(t *testing.T) {
	runClusterCases(t, "EKS_LB_TLS", []clusterCase{
		{name: "HTTPS with an HTTP redirect passes, and an internal load balancer passes", c: hardened(),
			want: []want{{status: audit.Pass, on: "app/k8s-web"}, {status: audit.Pass, on: "net/k8s-grpc", msg: "internal"}}},
		{name: "plain HTTP on an internet-facing load balancer fails", c: with(func(c *inventory.Cluster) { c.LoadBalancers[0].Listeners[1].RedirectsToHTTPS = false }),
			want: []want{{status: audit.Fail, msg: "HTTP:80"}, {status: audit.Pass}}},
		{name: "plain TCP on an internet-facing network load balancer fails", c: with(func(c *inventory.Cluster) {
			c.LoadBalancers[1].Scheme = "internet-facing"
			c.LoadBalancers[1].Listeners = []inventory.Listener{{Port: 50051, Protocol: "TCP"}}
		}), want: []want{{status: audit.Pass}, {status: audit.Fail, msg: "TCP:50051"}}},
		{name: "a cluster without load balancers is not applicable", c: with(func(c *inventory.Cluster) { c.LoadBalancers = nil }), want: []want{{status: audit.NotApplicable}}},
		{name: "unreadable listeners are an error for that load balancer", c: with(func(c *inventory.Cluster) {
			c.LoadBalancers[0].Listeners = nil
			c.LoadBalancers[0].Errors["elasticloadbalancing:DescribeListeners"] = errDenied
		}), want: []want{{status: audit.Error, msg: "elasticloadbalancing:DescribeListeners"}, {status: audit.Pass}}},
		{name: "denied DescribeLoadBalancers is an error", c: with(func(c *inventory.Cluster) {
			c.LoadBalancers = nil
			c.Errors["elasticloadbalancing:DescribeLoadBalancers"] = errDenied
		}), want: []want{{status: audit.Error, msg: "elasticloadbalancing:DescribeLoadBalancers"}}},
	})
}

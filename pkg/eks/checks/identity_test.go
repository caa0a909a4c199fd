package checks

import (
	"testing"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

func TestAuthModeAPI(t *testing.T) {
	mode := func(m string) *inventory.Cluster {
		return with(func(c *inventory.Cluster) { c.AuthenticationMode = m })
	}
	runClusterCases(t, "EKS_AUTH_MODE_API", []clusterCase{
		{name: "API passes", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "API_AND_CONFIG_MAP fails LOW", c: mode("API_AND_CONFIG_MAP"), want: []want{{status: audit.Fail, sev: audit.Low}}},
		{name: "CONFIG_MAP fails MEDIUM", c: mode("CONFIG_MAP"), want: []want{{status: audit.Fail, sev: audit.Medium}}},
		{name: "an unreported mode is an error", c: mode(""), want: []want{{status: audit.Error, msg: "authenticationMode"}}},
	})
}

func TestBootstrapAdmin(t *testing.T) {
	runClusterCases(t, "EKS_BOOTSTRAP_ADMIN", []clusterCase{
		{name: "no creator admin passes", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "creator admin fails", c: with(func(c *inventory.Cluster) { c.BootstrapAdmin = ptr(true) }), want: []want{{status: audit.Fail}}},
		{name: "an unreported flag is an error", c: with(func(c *inventory.Cluster) { c.BootstrapAdmin = nil }), want: []want{{status: audit.Error, msg: "bootstrapClusterCreatorAdminPermissions"}}},
	})
}

func adminEntry(principal string, groups ...string) inventory.AccessEntry {
	return inventory.AccessEntry{PrincipalARN: principal, ARN: "arn:aws:eks:us-east-1:111122223333:access-entry/prod/" + principal[len(principal)-6:], Type: "STANDARD", KubernetesGroups: groups,
		Policies: []inventory.AccessPolicy{{PolicyARN: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", ScopeType: "cluster"}}, Errors: inventory.Errors{}}
}

func TestAccessEntryClusterAdmin(t *testing.T) {
	runClusterCases(t, "EKS_ACCESS_ENTRY_CLUSTER_ADMIN", []clusterCase{
		{name: "one admin role passes on the entry and the cluster", c: hardened(), want: []want{{status: audit.Pass, on: "access-entry"}, {status: audit.Pass, on: "cluster/prod", msg: "1 principal"}}},
		{name: "an IAM user with cluster admin fails on its entry", c: with(func(c *inventory.Cluster) {
			c.AccessEntries = append(c.AccessEntries, adminEntry("arn:aws:iam::111122223333:user/alice"))
		}), want: []want{{status: audit.Pass}, {status: audit.Fail, msg: "IAM user", on: "access-entry"}, {status: audit.Pass, on: "cluster/prod"}}},
		{name: "namespace-scoped admin does not count as cluster admin", c: with(func(c *inventory.Cluster) {
			e := adminEntry("arn:aws:iam::111122223333:user/bobbyy")
			e.Policies[0].ScopeType = "namespace"
			c.AccessEntries = []inventory.AccessEntry{e}
		}), want: []want{{status: audit.Pass, msg: "no cluster-scoped admin"}, {status: audit.Pass, msg: "0 principal"}}},
		{name: "system:masters fails", c: with(func(c *inventory.Cluster) {
			c.AccessEntries[0].KubernetesGroups = []string{"system:masters"}
		}), want: []want{{status: audit.Fail, msg: "system:masters"}, {status: audit.Pass}}},
		{name: "more admins than the limit fail LOW on the cluster", c: with(func(c *inventory.Cluster) {
			c.AccessEntries = append(c.AccessEntries, adminEntry("arn:aws:iam::111122223333:role/admin2"))
		}), params: map[string]any{"maxClusterAdmins": 1}, want: []want{{status: audit.Pass}, {status: audit.Pass}, {status: audit.Fail, sev: audit.Low, on: "cluster/prod", msg: "limit 1"}}},
		{name: "a ConfigMap-only cluster is not applicable", c: with(func(c *inventory.Cluster) { c.AuthenticationMode = "CONFIG_MAP" }), want: []want{{status: audit.NotApplicable}}},
		{name: "an entry whose policies cannot be listed is an error, and so is the count", c: with(func(c *inventory.Cluster) {
			c.AccessEntries[0].Errors["eks:ListAssociatedAccessPolicies"] = errDenied
		}), want: []want{{status: audit.Error, msg: "AccessDenied", on: "access-entry"}, {status: audit.Error, on: "cluster/prod"}}},
		{name: "an entry that cannot be described is reported on its own derived ARN", c: with(func(c *inventory.Cluster) {
			c.AccessEntries[0].ARN = ""
			c.AccessEntries[0].Errors["eks:DescribeAccessEntry"] = errDenied
		}), want: []want{{status: audit.Error, on: "access-entry/prod/arn:aws:iam::111122223333:role/platform-admin"}, {status: audit.Error, on: "cluster/prod"}}},
		{name: "access entries missing in the emulator are an error", c: with(func(c *inventory.Cluster) {
			c.AccessEntries = nil
			c.Errors["eks:ListAccessEntries"] = errDenied
		}), want: []want{{status: audit.Error, msg: "eks:ListAccessEntries"}}},
	})
}

func TestAccessEntryStale(t *testing.T) {
	runClusterCases(t, "EKS_ACCESS_ENTRY_STALE", []clusterCase{
		{name: "an existing principal passes", c: hardened(), want: []want{{status: audit.Pass, on: "access-entry"}}},
		{name: "a deleted role fails", c: with(func(c *inventory.Cluster) { c.Principals[adminRole] = inventory.Principal{ARN: adminRole} }), want: []want{{status: audit.Fail, msg: "no longer exists"}}},
		{name: "a principal in another account is not applicable", c: with(func(c *inventory.Cluster) {
			c.Principals[adminRole] = inventory.Principal{ARN: adminRole, CrossAccount: true}
		}), want: []want{{status: audit.NotApplicable, msg: "another account"}}},
		{name: "a denied GetRole is an error", c: with(func(c *inventory.Cluster) {
			c.Principals[adminRole] = inventory.Principal{ARN: adminRole, Err: errDenied}
		}),
			want: []want{{status: audit.Error, msg: "AccessDenied"}}},
		{name: "no access entries is not applicable", c: with(func(c *inventory.Cluster) { c.AccessEntries = nil }), want: []want{{status: audit.NotApplicable}}},
	})
}

func TestOIDCProvider(t *testing.T) {
	noProvider := func(c *inventory.Cluster) { c.OIDCProviderARN = "" }
	runClusterCases(t, "EKS_OIDC_PROVIDER", []clusterCase{
		{name: "an OIDC provider for the issuer passes", c: hardened(), want: []want{{status: audit.Pass, msg: "oidc-provider"}}},
		{name: "Pod Identity alone passes", c: with(noProvider), want: []want{{status: audit.Pass, msg: "Pod Identity"}}},
		{name: "neither fails", c: with(func(c *inventory.Cluster) { noProvider(c); c.PodIdentities = nil }), want: []want{{status: audit.Fail, msg: issuer}}},
		{name: "denied ListOpenIDConnectProviders without Pod Identity is an error", c: with(func(c *inventory.Cluster) {
			noProvider(c)
			c.PodIdentities = nil
			c.Errors["iam:ListOpenIDConnectProviders"] = errDenied
		}), want: []want{{status: audit.Error, msg: "iam:ListOpenIDConnectProviders"}}},
	})
}

func irsaRole(cond string) *inventory.IAMRole {
	return role("arn:aws:iam::111122223333:role/irsa", `{"Statement":[{"Sid":"Irsa","Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/`+issuerHost+`"},"Action":"sts:AssumeRoleWithWebIdentity"`+cond+`}]}`)
}

func TestIRSATrustScoped(t *testing.T) {
	irsa := func(r *inventory.IAMRole) *inventory.Cluster {
		return with(func(c *inventory.Cluster) { c.IRSARoles = []*inventory.IAMRole{r} })
	}
	runClusterCases(t, "EKS_IRSA_TRUST_SCOPED", []clusterCase{
		{name: "sub and aud with StringEquals pass", c: hardened(), want: []want{{status: audit.Pass, on: "role/prod-vpc-cni"}}},
		{name: "no condition at all fails HIGH", c: irsa(irsaRole("")), want: []want{{status: audit.Fail, sev: audit.High, msg: ":sub condition", on: "role/irsa"}}},
		{name: "a wildcard sub with StringLike fails HIGH", c: irsa(irsaRole(`,"Condition":{"StringLike":{"` + issuerHost + `:sub":"system:serviceaccount:*","` + issuerHost + `:aud":"sts.amazonaws.com"}}`)),
			want: []want{{status: audit.Fail, sev: audit.High, msg: "wildcard"}}},
		{name: "a scoped sub without aud fails LOW", c: irsa(irsaRole(`,"Condition":{"StringEquals":{"` + issuerHost + `:sub":"system:serviceaccount:a:b"}}`)),
			want: []want{{status: audit.Fail, sev: audit.Low, msg: ":aud"}}},
		{name: "no role trusting the issuer is not applicable", c: with(func(c *inventory.Cluster) { c.IRSARoles = nil }), want: []want{{status: audit.NotApplicable}}},
		{name: "denied ListRoles is an error", c: with(func(c *inventory.Cluster) { c.Errors["iam:ListRoles"] = errDenied }), want: []want{{status: audit.Error, msg: "iam:ListRoles"}}},
	})
}

func TestPodIdentityRoles(t *testing.T) {
	runClusterCases(t, "EKS_POD_IDENTITY_ROLES", []clusterCase{
		{name: "a scoped single-use role passes", c: hardened(), want: []want{{status: audit.Pass, on: "podidentityassociation"}}},
		{name: "an administrator role fails HIGH", c: with(func(c *inventory.Cluster) {
			c.Roles[appRole].Attached = managed("AdministratorAccess")
		}), want: []want{{status: audit.Fail, sev: audit.High, msg: "every action"}}},
		{name: "an inline Action * fails HIGH", c: with(func(c *inventory.Cluster) {
			c.Roles[appRole].Inline[0].Document = policy(t, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)
		}), want: []want{{status: audit.Fail, sev: audit.High}}},
		{name: "an unconditioned trust fails LOW", c: with(func(c *inventory.Cluster) {
			c.Roles[appRole].Trust = policy(t, `{"Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
		}), want: []want{{status: audit.Fail, sev: audit.Low, msg: "aws:SourceAccount"}}},
		{name: "a role shared by more associations than allowed fails LOW on each", c: with(func(c *inventory.Cluster) {
			second := c.PodIdentities[0]
			second.ID, second.ARN, second.ServiceAccount = "a-2", "arn:aws:eks:us-east-1:111122223333:podidentityassociation/prod/a-2", "worker"
			c.PodIdentities = append(c.PodIdentities, second)
		}), params: map[string]any{"maxAssociationsPerRole": 1}, want: []want{{status: audit.Fail, msg: "shared by 2"}, {status: audit.Fail, msg: "shared by 2"}}},
		{name: "no associations is not applicable", c: with(func(c *inventory.Cluster) { c.PodIdentities = nil }), want: []want{{status: audit.NotApplicable}}},
		{name: "unreadable role policies are an error", c: with(func(c *inventory.Cluster) { c.Roles[appRole].Errors["iam:ListAttachedRolePolicies"] = errDenied }),
			want: []want{{status: audit.Error, msg: "AccessDenied"}}},
	})
}

func TestVPCCNIOwnRole(t *testing.T) {
	noRole := func(c *inventory.Cluster) { c.Addons[0].ServiceAccountRoleARN = "" }
	runClusterCases(t, "EKS_VPC_CNI_OWN_ROLE", []clusterCase{
		{name: "an IRSA role on the add-on passes", c: hardened(), want: []want{{status: audit.Pass, msg: "IRSA role"}}},
		{name: "a Pod Identity association for aws-node passes", c: with(func(c *inventory.Cluster) {
			noRole(c)
			c.PodIdentities = append(c.PodIdentities, inventory.PodIdentityAssociation{Namespace: "kube-system", ServiceAccount: "aws-node", RoleARN: cniRole})
		}), want: []want{{status: audit.Pass, msg: "Pod Identity role"}}},
		{name: "no dedicated role fails", c: with(noRole), want: []want{{status: audit.Fail, msg: "node role"}}},
		{name: "a dedicated role while the node role keeps the CNI policy fails", c: with(func(c *inventory.Cluster) {
			c.Roles[nodeRole].Attached = append(c.Roles[nodeRole].Attached, managed("AmazonEKS_CNI_Policy")...)
		}), want: []want{{status: audit.Fail, msg: "still have AmazonEKS_CNI_Policy"}}},
		{name: "a self-managed CNI is not applicable", c: with(func(c *inventory.Cluster) { c.Addons = c.Addons[1:] }), want: []want{{status: audit.NotApplicable}}},
		{name: "unknown Pod Identity associations leave it an error", c: with(func(c *inventory.Cluster) {
			noRole(c)
			c.PodIdentities = nil
			c.Errors["eks:ListPodIdentityAssociations"] = errDenied
		}), want: []want{{status: audit.Error, msg: "eks:ListPodIdentityAssociations"}}},
	})
}

func TestClusterRoleLeastPriv(t *testing.T) {
	runClusterCases(t, "EKS_CLUSTER_ROLE_LEAST_PRIV", []clusterCase{
		{name: "only AmazonEKSClusterPolicy passes", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "an extra S3 policy fails MEDIUM", c: with(func(c *inventory.Cluster) {
			c.Roles[clRole].Attached = append(c.Roles[clRole].Attached, managed("AmazonS3ReadOnlyAccess")...)
		}),
			want: []want{{status: audit.Fail, sev: audit.Medium, msg: "AmazonS3ReadOnlyAccess"}}},
		{name: "AdministratorAccess fails HIGH", c: with(func(c *inventory.Cluster) { c.Roles[clRole].Attached = managed("AdministratorAccess") }), want: []want{{status: audit.Fail, sev: audit.High}}},
		{name: "a trust shared with EC2 fails", c: with(func(c *inventory.Cluster) {
			c.Roles[clRole].Trust = policy(t, `{"Statement":[{"Effect":"Allow","Principal":{"Service":["eks.amazonaws.com","ec2.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`)
		}), want: []want{{status: audit.Fail, msg: "ec2.amazonaws.com"}}},
		{name: "a deleted cluster role fails HIGH", c: with(func(c *inventory.Cluster) { c.Roles[clRole].Exists = false }), want: []want{{status: audit.Fail, sev: audit.High}}},
		{name: "unreadable policies are an error", c: with(func(c *inventory.Cluster) { c.Roles[clRole].Errors["iam:GetRole"] = errDenied }), want: []want{{status: audit.Error}}},
	})
}

func TestNodeRoleLeastPriv(t *testing.T) {
	runClusterCases(t, "EKS_NODE_ROLE_LEAST_PRIV", []clusterCase{
		{name: "node policies with pull-only ECR pass", c: hardened(), want: []want{{status: audit.Pass, on: "nodegroup/prod/workers"}}},
		{name: "ECR full access fails HIGH", c: with(func(c *inventory.Cluster) {
			c.Roles[nodeRole].Attached = append(c.Roles[nodeRole].Attached, managed("AmazonEC2ContainerRegistryFullAccess")...)
		}), want: []want{{status: audit.Fail, sev: audit.High, msg: "ecr:*"}}},
		{name: "an inline ecr:PutImage fails HIGH", c: with(func(c *inventory.Cluster) {
			c.Roles[nodeRole].Inline = []inventory.InlinePolicy{{Name: "push", Document: policy(t, `{"Statement":[{"Effect":"Allow","Action":["ecr:PutImage"],"Resource":"*"}]}`)}}
		}), want: []want{{status: audit.Fail, sev: audit.High, msg: "ecr:PutImage"}}},
		{name: "an extra read-only policy fails MEDIUM", c: with(func(c *inventory.Cluster) {
			c.Roles[nodeRole].Attached = append(c.Roles[nodeRole].Attached, managed("AmazonS3ReadOnlyAccess")...)
		}), want: []want{{status: audit.Fail, sev: audit.Medium}}},
		{name: "extra policies can be allowed by parameter", c: with(func(c *inventory.Cluster) {
			c.Roles[nodeRole].Attached = append(c.Roles[nodeRole].Attached, managed("CloudWatchAgentServerPolicy")...)
		}), params: map[string]any{"allowedPolicies": []string{"CloudWatchAgentServerPolicy"}}, want: []want{{status: audit.Pass}}},
		{name: "the Auto Mode node role is judged on the cluster", c: with(func(c *inventory.Cluster) {
			c.NodeGroups = nil
			c.AutoMode = inventory.AutoMode{Enabled: true, NodeRoleARN: nodeRole}
		}), want: []want{{status: audit.Pass, on: "cluster/prod"}}},
		{name: "no node groups is not applicable", c: with(func(c *inventory.Cluster) { c.NodeGroups = nil }), want: []want{{status: audit.NotApplicable}}},
		{name: "unreadable role policies are an error", c: with(func(c *inventory.Cluster) { c.Roles[nodeRole].Errors["iam:ListRolePolicies"] = errDenied }),
			want: []want{{status: audit.Error, msg: "AccessDenied"}}},
	})
}

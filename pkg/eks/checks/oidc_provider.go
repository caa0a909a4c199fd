package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// OIDCProvider requires a way for pods to get their own IAM credentials: IRSA or Pod Identity.
func OIDCProvider() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_OIDC_PROVIDER",
			Title:        "EKS pods can get their own IAM credentials (IRSA or Pod Identity)",
			Severity:     audit.Low,
			ResourceType: inventory.TypeCluster,
			Description: "Passes when an IAM OIDC provider exists for the cluster's issuer (IRSA) or the cluster has Pod Identity associations. " +
				"Fails when neither exists: pods can then only use the node role's credentials.",
			Rationale: "Without IRSA or Pod Identity, every pod that needs AWS access shares the node role, so any pod can do what any other pod may (CIS 5.2.1).",
			Remediation: audit.Remediation{
				Text:    "Create an IAM OIDC provider for the cluster, or install the Pod Identity agent and create associations.",
				Console: "IAM console → Identity providers → Add provider → OpenID Connect → <issuer URL>, audience sts.amazonaws.com",
				CLI:     "eksctl utils associate-iam-oidc-provider --cluster <cluster> --approve",
				IaC:     "CloudFormation AWS::IAM::OIDCProvider {Url: <issuer>, ClientIdList: [sts.amazonaws.com]}",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/enable-iam-roles-for-service-accounts.html",
			},
			References:  refs(cis("5.2.1"), bpg("Identity and access management: IAM roles for service accounts", bpgIAMURL)),
			Permissions: []string{describeCluster, "iam:ListOpenIDConnectProviders", "eks:ListPodIdentityAssociations"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			if c.OIDCProviderARN != "" {
				return one(audit.Passf("IAM OIDC provider %s exists for the cluster's issuer.", c.OIDCProviderARN).With("oidcProviderArn", c.OIDCProviderARN))
			}
			if c.Errors.Get("eks:ListPodIdentityAssociations") == nil && len(c.PodIdentities) > 0 {
				return one(audit.Passf("The cluster uses Pod Identity (%d association(s)).", len(c.PodIdentities)))
			}
			if f, bad := missing(c.Errors, "iam:ListOpenIDConnectProviders", "eks:ListPodIdentityAssociations"); bad {
				return one(f)
			}
			if c.OIDCIssuer == "" {
				return one(audit.Errorf("eks:DescribeCluster returned no OIDC issuer."))
			}
			return one(audit.Failf("No IAM OIDC provider exists for %s and the cluster has no Pod Identity associations.", c.OIDCIssuer).With("issuer", c.OIDCIssuer))
		},
	}
}

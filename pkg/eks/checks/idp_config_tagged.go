package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// IdPConfigTagged is Security Hub EKS.7, reported against each identity provider configuration.
func IdPConfigTagged() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_IDP_CONFIG_TAGGED",
			Title:        "EKS identity provider configurations have tags",
			Severity:     audit.Low,
			ResourceType: inventory.TypeIdentityConfig,
			Description: "Fails for each OIDC identity provider configuration without user tags, or without a key listed in requiredTagKeys. " +
				"Every result names the issuer, because each configuration is an extra way to authenticate to the cluster that deserves review.",
			Rationale: "Untagged identity configurations are hard to attribute to an owner during access reviews.",
			Remediation: audit.Remediation{
				Text:    "Tag each identity provider configuration.",
				Console: "EKS console → Clusters → <cluster> → Access → OIDC identity providers → <config> → Tags",
				CLI:     "aws eks tag-resource --resource-arn <identity-provider-config-arn> --tags owner=<team>",
				IaC:     "CloudFormation AWS::EKS::IdentityProviderConfig Tags: [{Key: owner, Value: <team>}]",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/authenticate-oidc-identity-provider.html",
			},
			References:  refs(fsbp("EKS.7")),
			Parameters:  []audit.Parameter{{Name: "requiredTagKeys", Default: []string{}, Description: "Tag keys every identity provider configuration must carry."}},
			Permissions: []string{describeCluster, "eks:ListIdentityProviderConfigs", "eks:DescribeIdentityProviderConfig"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(env audit.Env, c *inventory.Cluster) []audit.Finding {
			if f, bad := missing(c.Errors, "eks:ListIdentityProviderConfigs"); bad {
				return one(f)
			}
			if len(c.IdentityConfigs) == 0 {
				return one(audit.NotApplicablef("The cluster has no identity provider configurations."))
			}
			var out []audit.Finding
			for _, idp := range c.IdentityConfigs {
				if err := idp.Errors.First("eks:DescribeIdentityProviderConfig"); err != nil {
					out = append(out, audit.Errorf("Could not evaluate identity provider config %s: %v", idp.Name, err).On(subARN(c, "identityproviderconfig", idp.Name), inventory.TypeIdentityConfig))
					continue
				}
				f := judgeTags(idp.Tags, env.Params.Strings("requiredTagKeys"), "Identity provider config "+idp.Name+" (issuer "+idp.IssuerURL+")")
				out = append(out, f.On(idp.ARN, inventory.TypeIdentityConfig).With("issuerUrl", idp.IssuerURL))
			}
			return out
		},
	}
}

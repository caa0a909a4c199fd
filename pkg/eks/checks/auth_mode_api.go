package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// AuthModeAPI requires cluster access through access entries rather than the aws-auth ConfigMap.
func AuthModeAPI() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_AUTH_MODE_API",
			Title:        "EKS cluster uses access entries, not the aws-auth ConfigMap",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeCluster,
			Description: "Reads accessConfig.authenticationMode. Passes for API, fails LOW for API_AND_CONFIG_MAP (the ConfigMap still grants access) and MEDIUM for CONFIG_MAP. " +
				"ERROR when DescribeCluster does not return the field.",
			Rationale: "Access entries are managed and audited through the EKS API and IAM; the aws-auth ConfigMap is invisible to AWS APIs, easy to break, and deprecated.",
			Remediation: audit.Remediation{
				Text:    "Migrate aws-auth mappings to access entries, then switch the authentication mode to API (the change is one-way).",
				Console: "EKS console → Clusters → <cluster> → Access → Manage access → EKS API",
				CLI:     "aws eks update-cluster-config --name <cluster> --access-config authenticationMode=API",
				IaC:     "CloudFormation AWS::EKS::Cluster AccessConfig.AuthenticationMode: API",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/grant-k8s-access.html",
			},
			References:  refs(cis("5.5.1"), bpg("Identity and access management: Cluster Access Manager", bpgIAMURL)),
			Permissions: []string{describeCluster},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			switch c.AuthenticationMode {
			case "API":
				return one(audit.Passf("Authentication mode is API: access is granted only through access entries."))
			case "API_AND_CONFIG_MAP":
				return one(failAt(audit.Low, "Authentication mode is API_AND_CONFIG_MAP: the aws-auth ConfigMap can still grant access.").With("authenticationMode", c.AuthenticationMode))
			case "CONFIG_MAP":
				return one(audit.Failf("Authentication mode is CONFIG_MAP: access is granted only by the aws-auth ConfigMap.").With("authenticationMode", c.AuthenticationMode))
			case "":
				return one(audit.Errorf("eks:DescribeCluster did not return accessConfig.authenticationMode."))
			}
			return one(audit.Errorf("Unknown authentication mode %q.", c.AuthenticationMode))
		},
	}
}

package checks

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// NetworkPolicy reads the VPC CNI add-on's enableNetworkPolicy setting. Prowler's check of the
// same name only tests that a cluster security group exists, which every cluster has.
func NetworkPolicy() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_NETWORK_POLICY",
			Title:        "EKS cluster enforces Kubernetes network policies",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeCluster,
			Description: "Passes when the vpc-cni managed add-on's configurationValues set enableNetworkPolicy to true. Fails when it is false or absent (the add-on's default is off). " +
				"NOT_APPLICABLE for EKS Auto Mode (network policies are built in) and when vpc-cni is not a managed add-on, because a self-managed CNI or policy engine (Calico, Cilium) cannot be seen through AWS APIs; mute the result if such an engine enforces policies.",
			Rationale: "Without network policy enforcement every pod can reach every other pod, so one compromised workload can reach all of them (CIS 5.4.4).",
			Remediation: audit.Remediation{
				Text:    "Enable network policy in the VPC CNI add-on configuration, then apply NetworkPolicy objects.",
				Console: "EKS console → Clusters → <cluster> → Add-ons → Amazon VPC CNI → Edit → Optional configuration settings → {\"enableNetworkPolicy\": \"true\"}",
				CLI:     "aws eks update-addon --cluster-name <cluster> --addon-name vpc-cni --configuration-values '{\"enableNetworkPolicy\":\"true\"}'",
				IaC:     "CloudFormation AWS::EKS::Addon {AddonName: vpc-cni, ConfigurationValues: '{\"enableNetworkPolicy\":\"true\"}'}",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy-configure.html",
			},
			References:  refs(cis("5.4.4"), bpg("Network security: network policy", bpgNetworkURL)),
			Permissions: []string{describeCluster, "eks:ListAddons", "eks:DescribeAddon"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			if c.AutoMode.Enabled {
				return one(audit.NotApplicablef("EKS Auto Mode enforces network policies natively."))
			}
			if f, bad := missing(c.Errors, "eks:ListAddons"); bad {
				return one(f)
			}
			cni := addon(c, "vpc-cni")
			if cni == nil {
				return one(audit.NotApplicablef("vpc-cni is not a managed add-on; a self-managed CNI or policy engine cannot be judged from AWS APIs."))
			}
			if f, bad := missing(cni.Errors, "eks:DescribeAddon"); bad {
				return one(f)
			}
			on, set, err := networkPolicySetting(cni.ConfigurationValues)
			switch {
			case err != nil:
				return one(audit.Errorf("Cannot read the vpc-cni configuration values: %v", err))
			case !set:
				return one(audit.Failf("The vpc-cni add-on does not set enableNetworkPolicy, so network policies are not enforced (the default is off)."))
			case !on:
				return one(audit.Failf("The vpc-cni add-on sets enableNetworkPolicy to false."))
			}
			return one(audit.Passf("The vpc-cni add-on enforces network policies (enableNetworkPolicy=true)."))
		},
	}
}

// networkPolicySetting reads enableNetworkPolicy from add-on configuration values, which EKS
// accepts as JSON or YAML and where the value may be a string or a boolean.
func networkPolicySetting(values string) (on, set bool, err error) {
	if strings.TrimSpace(values) == "" {
		return false, false, nil
	}
	var m map[string]any
	if err := yaml.Unmarshal([]byte(values), &m); err != nil {
		return false, false, fmt.Errorf("parse configuration values: %w", err)
	}
	v, ok := m["enableNetworkPolicy"]
	if !ok {
		return false, false, nil
	}
	return strings.EqualFold(fmt.Sprint(v), "true"), true, nil
}

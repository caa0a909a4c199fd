package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// UpgradePolicy makes the cost and the timing of extended support visible: no peer has it.
func UpgradePolicy() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_UPGRADE_POLICY",
			Title:        "EKS cluster is not running on extended support or heading for an automatic upgrade",
			Severity:     audit.Informational,
			ResourceType: inventory.TypeCluster,
			Description: "Fails at INFORMATIONAL severity when the cluster's version is in extended support (charged per cluster-hour), " +
				"or when upgradePolicy.supportType is STANDARD and standard support ends within warnDays days, after which EKS upgrades the control plane automatically.",
			Rationale: "Extended support adds cost, and an automatic upgrade at the end of standard support can break workloads that were not tested on the next version.",
			Remediation: audit.Remediation{
				Text:    "Upgrade before standard support ends, or choose the support policy deliberately.",
				Console: "EKS console → Clusters → <cluster> → Overview → Upgrade policy → Manage",
				CLI:     "aws eks update-cluster-config --name <cluster> --upgrade-policy supportType=STANDARD",
				IaC:     "CloudFormation AWS::EKS::Cluster UpgradePolicy.SupportType: STANDARD",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/view-upgrade-policy.html",
			},
			References:  refs(bpg("Cluster upgrades", bpgUpgradesURL)),
			Parameters:  []audit.Parameter{{Name: "warnDays", Default: 60, Description: "Report a STANDARD-policy cluster this many days before its standard support ends."}},
			Permissions: []string{describeCluster, "eks:DescribeClusterVersions"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(env audit.Env, c *inventory.Cluster) []audit.Finding {
			cat := c.Versions
			if cat == nil || len(cat.Versions) == 0 {
				return one(audit.Errorf("No Kubernetes version data is available (eks:DescribeClusterVersions)."))
			}
			info, ok := cat.Versions[c.Version]
			if !ok {
				return one(audit.Errorf("Version %s is not in the version data (%s); see EKS_VERSION_SUPPORTED.", c.Version, versionSource(cat)))
			}
			policy := c.UpgradeSupportType
			if policy == "" {
				policy = "unreported (EXTENDED is the EKS default)"
			}
			switch {
			case info.Status == "EXTENDED_SUPPORT":
				return one(audit.Failf("Version %s is in extended support (extra cost per cluster-hour) until %s; upgrade policy %s.", c.Version, dateOr(info.EndOfExtendedSupport), policy).
					With("supportType", c.UpgradeSupportType))
			case info.Status == "STANDARD_SUPPORT" && c.UpgradeSupportType == "STANDARD" && !info.EndOfStandardSupport.IsZero():
				left := int(info.EndOfStandardSupport.Sub(env.Now).Hours() / 24)
				if left < env.Params.Int("warnDays") {
					return one(audit.Failf("Standard support for %s ends in %d days (%s); with the STANDARD upgrade policy EKS will then upgrade the control plane automatically.",
						c.Version, left, dateOr(info.EndOfStandardSupport)).With("supportType", c.UpgradeSupportType))
				}
			}
			return one(audit.Passf("Version %s is in %s; upgrade policy %s.", c.Version, info.Status, policy).With("supportType", c.UpgradeSupportType))
		},
	}
}

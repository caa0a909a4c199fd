package checks

import (
	"strconv"
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// AddonCurrent compares each managed add-on with eks:DescribeAddonVersions for the cluster's
// Kubernetes version.
func AddonCurrent() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_ADDON_CURRENT",
			Title:        "EKS managed add-ons are compatible and at least at the default version",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeAddon,
			Description: "For each managed add-on, fails MEDIUM when its version is not in the list eks:DescribeAddonVersions gives as compatible with the cluster's Kubernetes version, " +
				"and LOW when it is older than that version's default.",
			Rationale: "Add-ons such as the VPC CNI, CoreDNS and kube-proxy carry security fixes, and an incompatible add-on breaks the cluster after an upgrade.",
			Remediation: audit.Remediation{
				Text:    "Update the add-on to the default (or a newer compatible) version.",
				Console: "EKS console → Clusters → <cluster> → Add-ons → <add-on> → Edit → Version",
				CLI:     "aws eks update-addon --cluster-name <cluster> --addon-name <addon> --addon-version <version> --resolve-conflicts PRESERVE",
				IaC:     "CloudFormation AWS::EKS::Addon AddonVersion: <version>",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/updating-an-add-on.html",
			},
			References:  refs(bpg("Cluster upgrades: upgrade add-ons", bpgUpgradesURL)),
			Permissions: []string{describeCluster, "eks:ListAddons", "eks:DescribeAddon", "eks:DescribeAddonVersions"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			return forAddons(c, func(a inventory.Addon) audit.Finding {
				if f, bad := missing(a.Errors, "eks:DescribeAddonVersions"); bad {
					return f
				}
				if a.Compat == nil || len(a.Compat.Versions) == 0 {
					return failAt(audit.Medium, "Add-on %s %s: eks:DescribeAddonVersions lists no version compatible with Kubernetes %s.", a.Name, a.Version, c.Version)
				}
				compatible := false
				for _, v := range a.Compat.Versions {
					if v == a.Version {
						compatible = true
					}
				}
				if !compatible {
					return failAt(audit.Medium, "Add-on %s %s is not compatible with Kubernetes %s (default %s).", a.Name, a.Version, c.Version, orUnset(a.Compat.DefaultVersion)).
						With("addonVersion", a.Version)
				}
				if d := a.Compat.DefaultVersion; d != "" && CompareAddonVersions(a.Version, d) < 0 {
					return failAt(audit.Low, "Add-on %s %s is older than the default %s for Kubernetes %s.", a.Name, a.Version, d, c.Version).
						With("addonVersion", a.Version).With("defaultVersion", d)
				}
				return audit.Passf("Add-on %s %s is compatible with Kubernetes %s and not older than the default.", a.Name, a.Version, c.Version).With("addonVersion", a.Version)
			})
		},
	}
}

// CompareAddonVersions orders versions such as "v1.18.3-eksbuild.2": numerically by the dotted
// version, then by build number.
func CompareAddonVersions(a, b string) int {
	na, nb := addonVersionNumbers(a), addonVersionNumbers(b)
	for i := 0; i < len(na) || i < len(nb); i++ {
		var x, y int
		if i < len(na) {
			x = na[i]
		}
		if i < len(nb) {
			y = nb[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func addonVersionNumbers(v string) []int {
	v = strings.TrimPrefix(v, "v")
	var out []int
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r < '0' || r > '9' }) {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	return out
}

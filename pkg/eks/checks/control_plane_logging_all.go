package checks

import (
	"sort"
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// ControlPlaneLoggingAll requires every listed log type. The enabled set is the union over all
// enabled entries: Prowler reads only the first entry, and the original Sek failed on the
// disabled-types entry that EKS always returns.
func ControlPlaneLoggingAll() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_CONTROL_PLANE_LOGGING_ALL",
			Title:        "EKS cluster enables all control-plane log types",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeCluster,
			Description:  "Fails unless every type in requiredLogTypes (default: api, audit, authenticator, controllerManager, scheduler) is enabled.",
			Rationale:    "Authenticator, API and controller logs are what tie an AWS principal to Kubernetes actions and explain control-plane behaviour during an incident.",
			Remediation: audit.Remediation{
				Text:    "Enable every required control-plane log type.",
				Console: "EKS console → Clusters → <cluster> → Observability → Control plane logging → Manage",
				CLI:     "aws eks update-cluster-config --name <cluster> --logging '{\"clusterLogging\":[{\"types\":[\"api\",\"audit\",\"authenticator\",\"controllerManager\",\"scheduler\"],\"enabled\":true}]}'",
				IaC:     "CloudFormation AWS::EKS::Cluster Logging.ClusterLogging.EnabledTypes: one entry per type",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html",
			},
			References: refs(bpg("Detective controls: enable control plane logs", "https://docs.aws.amazon.com/eks/latest/best-practices/auditing-and-logging.html")),
			Parameters: []audit.Parameter{{Name: "requiredLogTypes", Default: []string{"api", "audit", "authenticator", "controllerManager", "scheduler"},
				Description: "Log types that must be enabled."}},
			Permissions: []string{describeCluster},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(env audit.Env, c *inventory.Cluster) []audit.Finding {
			var missing []string
			for _, t := range env.Params.Strings("requiredLogTypes") {
				if !c.Logging[t] {
					missing = append(missing, t)
				}
			}
			if len(missing) > 0 {
				return []audit.Finding{audit.Failf("Control-plane log types not enabled: %s.", strings.Join(missing, ", ")).
					With("missingLogTypes", strings.Join(missing, ","))}
			}
			return []audit.Finding{audit.Passf("All required log types are enabled (%s).", enabledLogTypes(c))}
		},
	}
}

func enabledLogTypes(c *inventory.Cluster) string {
	var on []string
	for t, enabled := range c.Logging {
		if enabled {
			on = append(on, t)
		}
	}
	if len(on) == 0 {
		return "none"
	}
	sort.Strings(on)
	return strings.Join(on, ", ")
}

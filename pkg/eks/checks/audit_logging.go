package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// AuditLogging requires the audit control-plane log type, read as the union of enabled entries
// (ElectricEye tests only "authenticator" by mistake).
func AuditLogging() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_AUDIT_LOGGING",
			Title:        "EKS cluster sends Kubernetes audit logs to CloudWatch",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeCluster,
			Description:  "Fails unless a logging entry with enabled=true lists the \"audit\" type.",
			Rationale:    "Audit logs record who did what to the Kubernetes API; without them incidents cannot be investigated.",
			Remediation: audit.Remediation{
				Text:    "Enable the audit log type for the cluster's control-plane logging.",
				Console: "EKS console → Clusters → <cluster> → Observability → Control plane logging → Manage → Audit",
				CLI:     "aws eks update-cluster-config --name <cluster> --logging '{\"clusterLogging\":[{\"types\":[\"audit\"],\"enabled\":true}]}'",
				IaC:     "CloudFormation AWS::EKS::Cluster Logging.ClusterLogging.EnabledTypes: [{Type: audit}]",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html",
			},
			References: refs(fsbp("EKS.8"), cis("2.1.1"),
				bpg("Detective controls: enable audit logs", "https://docs.aws.amazon.com/eks/latest/best-practices/auditing-and-logging.html")),
			Permissions: []string{describeCluster},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			if c.Logging["audit"] {
				return []audit.Finding{audit.Passf("The audit log type is enabled.")}
			}
			return []audit.Finding{audit.Failf("The audit log type is not enabled (enabled types: %s).", enabledLogTypes(c))}
		},
	}
}

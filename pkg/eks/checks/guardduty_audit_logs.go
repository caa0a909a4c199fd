package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// GuardDutyAuditLogs is Prowler's guardduty_eks_audit_log_enabled, judged once per region.
func GuardDutyAuditLogs() RegionRule {
	return RegionRule{
		Check: audit.Check{
			ID:           "EKS_GUARDDUTY_AUDIT_LOGS",
			Title:        "GuardDuty EKS Protection monitors the clusters' audit logs",
			Severity:     audit.High,
			ResourceType: inventory.TypeGuardDuty,
			Description: "Once per region with EKS clusters, fails when there is no GuardDuty detector, it is not enabled, or its EKS_AUDIT_LOGS feature " +
				"(DataSources.Kubernetes.AuditLogs on older detectors) is not ENABLED.",
			Rationale: "GuardDuty analyses the Kubernetes audit log for credential abuse, privileged pods and known attack tooling, without any agent.",
			Remediation: audit.Remediation{
				Text:    "Enable GuardDuty and its EKS Protection (audit log monitoring) in every region with clusters.",
				Console: "GuardDuty console → Protection plans → EKS Protection → Enable",
				CLI:     "aws guardduty update-detector --detector-id <id> --features '[{\"Name\":\"EKS_AUDIT_LOGS\",\"Status\":\"ENABLED\"}]'",
				IaC:     "CloudFormation AWS::GuardDuty::Detector Features: [{Name: EKS_AUDIT_LOGS, Status: ENABLED}]",
				URL:     "https://docs.aws.amazon.com/guardduty/latest/ug/kubernetes-protection.html",
			},
			References:  refs(bpg("Runtime security: use Amazon GuardDuty", bpgRuntimeURL), bpg("Auditing and logging", bpgDetectiveURL)),
			Permissions: []string{"guardduty:ListDetectors", "guardduty:GetDetector"},
		},
		AppliesTo: regionOnly(),
		Evaluate: func(_ audit.Env, s *inventory.RegionServices) []audit.Finding {
			gd, verdict := enabledDetector(s)
			if gd == nil {
				return verdict
			}
			if name, ok := featureEnabled(gd, "EKS_AUDIT_LOGS"); ok {
				return one(detectorFinding(s, audit.Passf("GuardDuty detector %s has %s enabled.", gd.DetectorID, name)))
			}
			if gd.LegacyKubernetesAuditLogs == "ENABLED" {
				return one(detectorFinding(s, audit.Passf("GuardDuty detector %s monitors Kubernetes audit logs (legacy data source).", gd.DetectorID)))
			}
			return one(detectorFinding(s, audit.Failf("GuardDuty detector %s does not monitor EKS audit logs (EKS_AUDIT_LOGS is %s).", gd.DetectorID, orUnset(gd.Features["EKS_AUDIT_LOGS"].Status))))
		},
	}
}

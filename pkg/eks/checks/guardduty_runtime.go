package checks

import (
	"sort"
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// GuardDutyRuntime accepts the current RUNTIME_MONITORING feature and the legacy
// EKS_RUNTIME_MONITORING one (the only name Prowler knows).
func GuardDutyRuntime() RegionRule {
	return RegionRule{
		Check: audit.Check{
			ID:           "EKS_GUARDDUTY_RUNTIME",
			Title:        "GuardDuty Runtime Monitoring covers the EKS clusters",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeGuardDuty,
			Description: "Once per region with EKS clusters, fails when neither RUNTIME_MONITORING nor the legacy EKS_RUNTIME_MONITORING feature is ENABLED. " +
				"When it is enabled without automated agent management (EKS_ADDON_MANAGEMENT), fails LOW for the clusters that lack the aws-guardduty-agent add-on.",
			Rationale: "Runtime Monitoring sees process, file and network activity inside the nodes, which the audit log cannot; it only covers clusters running its agent.",
			Remediation: audit.Remediation{
				Text:    "Enable Runtime Monitoring with automated agent configuration for EKS, or install the aws-guardduty-agent add-on on every cluster.",
				Console: "GuardDuty console → Runtime Monitoring → Configuration → Enable; Automated agent configuration → Amazon EKS → Enable",
				CLI:     "aws guardduty update-detector --detector-id <id> --features '[{\"Name\":\"RUNTIME_MONITORING\",\"Status\":\"ENABLED\",\"AdditionalConfiguration\":[{\"Name\":\"EKS_ADDON_MANAGEMENT\",\"Status\":\"ENABLED\"}]}]'",
				IaC:     "CloudFormation AWS::GuardDuty::Detector Features: [{Name: RUNTIME_MONITORING, Status: ENABLED, AdditionalConfiguration: [{Name: EKS_ADDON_MANAGEMENT, Status: ENABLED}]}]",
				URL:     "https://docs.aws.amazon.com/guardduty/latest/ug/runtime-monitoring.html",
			},
			References:  refs(bpg("Runtime security: use Amazon GuardDuty for runtime monitoring", bpgRuntimeURL)),
			Permissions: []string{"guardduty:ListDetectors", "guardduty:GetDetector", "eks:ListAddons"},
		},
		AppliesTo: regionOnly(),
		Evaluate: func(_ audit.Env, s *inventory.RegionServices) []audit.Finding {
			gd, verdict := enabledDetector(s)
			if gd == nil {
				return verdict
			}
			name, ok := featureEnabled(gd, "RUNTIME_MONITORING", "EKS_RUNTIME_MONITORING")
			if !ok {
				return one(detectorFinding(s, audit.Failf("GuardDuty detector %s has neither RUNTIME_MONITORING nor EKS_RUNTIME_MONITORING enabled.", gd.DetectorID)))
			}
			if gd.Features[name].Additional["EKS_ADDON_MANAGEMENT"] == "ENABLED" {
				return one(detectorFinding(s, audit.Passf("GuardDuty %s is enabled with automated agent management for EKS.", name)))
			}
			var without, unknown []string
			for _, c := range s.Clusters {
				if err := s.ClusterAddonErrors[c]; err != nil {
					unknown = append(unknown, c)
					continue
				}
				found := false
				for _, a := range s.ClusterAddons[c] {
					if a == "aws-guardduty-agent" {
						found = true
					}
				}
				if !found {
					without = append(without, c)
				}
			}
			sort.Strings(without)
			switch {
			case len(without) > 0:
				return one(detectorFinding(s, failAt(audit.Low, "GuardDuty %s is enabled without automated agent management, and clusters %s have no aws-guardduty-agent add-on.", name, strings.Join(without, ", "))))
			case len(unknown) > 0:
				return one(detectorFinding(s, audit.Errorf("Could not list the add-ons of clusters %s (eks:ListAddons): %v", strings.Join(unknown, ", "), s.ClusterAddonErrors[unknown[0]])))
			}
			return one(detectorFinding(s, audit.Passf("GuardDuty %s is enabled and every cluster runs the aws-guardduty-agent add-on.", name)))
		},
	}
}

package checks

import (
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// InspectorEnabled is hardeneks' make_sure_inspector_is_enabled.
func InspectorEnabled() RegionRule {
	return RegionRule{
		Check: audit.Check{
			ID:           "EKS_INSPECTOR_ENABLED",
			Title:        "Amazon Inspector scans EC2 nodes and ECR images",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeAccount,
			Description:  "Once per region with EKS clusters, reads inspector2:BatchGetAccountStatus and fails unless both the EC2 and the ECR resource states are ENABLED.",
			Rationale:    "Inspector finds known vulnerabilities in node operating systems and container images continuously, as new CVEs are published (CIS 5.1.1).",
			Remediation: audit.Remediation{
				Text:    "Activate Amazon Inspector for EC2 and ECR scanning in every region with clusters.",
				Console: "Amazon Inspector console → Account management → Activate → Amazon EC2 scanning, Amazon ECR scanning",
				CLI:     "aws inspector2 enable --resource-types EC2 ECR",
				IaC:     "Enable Inspector organisation-wide from the delegated administrator (aws inspector2 enable --account-ids <ids> --resource-types EC2 ECR)",
				URL:     "https://docs.aws.amazon.com/inspector/latest/user/getting_started_tutorial.html",
			},
			References:  refs(cis("5.1.1"), bpg("Protecting the infrastructure: run Amazon Inspector", bpgInfraURL)),
			Permissions: []string{"inspector2:BatchGetAccountStatus"},
		},
		AppliesTo: regionOnly(),
		Evaluate: func(_ audit.Env, s *inventory.RegionServices) []audit.Finding {
			if f, bad := missing(s.Errors, "inspector2:BatchGetAccountStatus"); bad {
				return one(f)
			}
			ins := s.Inspector
			if ins == nil {
				return one(audit.Errorf("Inspector status was not collected."))
			}
			var off []string
			if ins.EC2 != "ENABLED" {
				off = append(off, "EC2 ("+orUnset(ins.EC2)+")")
			}
			if ins.ECR != "ENABLED" {
				off = append(off, "ECR ("+orUnset(ins.ECR)+")")
			}
			if len(off) > 0 {
				return one(audit.Failf("Amazon Inspector does not scan %s in %s.", strings.Join(off, " and "), s.Region))
			}
			return one(audit.Passf("Amazon Inspector scans EC2 and ECR in %s.", s.Region))
		},
	}
}

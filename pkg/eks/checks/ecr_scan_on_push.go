package checks

import (
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// ECRScanOnPush is CIS 5.1.1, satisfied by enhanced registry scanning or by basic scan on push.
func ECRScanOnPush() RegionRule {
	return RegionRule{
		Check: audit.Check{
			ID:           "ECR_SCAN_ON_PUSH",
			Title:        "ECR repositories scan images",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeECRRepository,
			Description: "For each ECR repository, passes when a registry scanning rule (SCAN_ON_PUSH or CONTINUOUS_SCAN) has a filter matching it, " +
				"or, under basic scanning, the repository has scanOnPush=true; fails otherwise. Under enhanced scanning ECR ignores the repository setting, so only a matching rule counts.",
			Rationale: "Images with known vulnerabilities should be caught when they are pushed, before any cluster runs them (CIS 5.1.1).",
			Remediation: audit.Remediation{
				Text:    "Turn on enhanced scanning for the registry with a rule for all repositories, or enable scan on push per repository.",
				Console: "ECR console → Private registry → Scanning → Enhanced scanning → Continuous scanning filter: *",
				CLI:     "aws ecr put-registry-scanning-configuration --scan-type ENHANCED --rules '[{\"scanFrequency\":\"CONTINUOUS_SCAN\",\"repositoryFilters\":[{\"filter\":\"*\",\"filterType\":\"WILDCARD\"}]}]'",
				IaC:     "CloudFormation AWS::ECR::RegistryScanningConfiguration {ScanType: ENHANCED, Rules: [{ScanFrequency: CONTINUOUS_SCAN, RepositoryFilters: [{Filter: '*', FilterType: WILDCARD}]}]}",
				URL:     "https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning.html",
			},
			References:  refs(cis("5.1.1"), bpg("Image security: scan images for vulnerabilities regularly", bpgImageURL)),
			Permissions: []string{"ecr:DescribeRepositories", "ecr:GetRegistryScanningConfiguration"},
		},
		AppliesTo: regionOnly(),
		Evaluate: func(_ audit.Env, s *inventory.RegionServices) []audit.Finding {
			return forRepositories(s, func(r inventory.Repository) audit.Finding {
				sc := s.ScanningConfig
				if sc != nil {
					for _, rule := range sc.Rules {
						if rule.Frequency != "SCAN_ON_PUSH" && rule.Frequency != "CONTINUOUS_SCAN" {
							continue
						}
						for _, f := range rule.Filters {
							if wildcardMatch(f, r.Name) {
								return audit.Passf("Repository %s is covered by %s registry scanning (%s, filter %q).", r.Name, strings.ToLower(sc.ScanType), rule.Frequency, f)
							}
						}
					}
					// Under enhanced scanning ECR ignores the repository-level setting.
					if sc.ScanType == "ENHANCED" {
						return audit.Failf("Repository %s matches no enhanced scanning rule; its own scanOnPush setting is ignored under enhanced scanning.", r.Name)
					}
				}
				if r.ScanOnPush {
					return audit.Passf("Repository %s scans images on push (basic scanning).", r.Name)
				}
				if f, bad := missing(s.Errors, "ecr:GetRegistryScanningConfiguration"); bad {
					return f
				}
				return audit.Failf("Repository %s does not scan images on push and no registry scanning rule covers it.", r.Name)
			})
		},
	}
}

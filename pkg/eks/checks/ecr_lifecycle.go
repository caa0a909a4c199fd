package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// ECRLifecycle requires a lifecycle policy per repository.
func ECRLifecycle() RegionRule {
	return RegionRule{
		Check: audit.Check{
			ID:           "ECR_LIFECYCLE",
			Title:        "ECR repositories have lifecycle policies",
			Severity:     audit.Low,
			ResourceType: inventory.TypeECRRepository,
			Description:  "For each ECR repository, fails when ecr:GetLifecyclePolicy reports no lifecycle policy.",
			Rationale:    "Without expiry, old images with known vulnerabilities stay pullable forever, and storage grows without bound.",
			Remediation: audit.Remediation{
				Text:    "Add a lifecycle policy that expires untagged and old images.",
				Console: "ECR console → Repositories → <repository> → Lifecycle Policy → Create rule",
				CLI:     "aws ecr put-lifecycle-policy --repository-name <repository> --lifecycle-policy-text file://policy.json",
				IaC:     "CloudFormation AWS::ECR::Repository LifecyclePolicy.LifecyclePolicyText: <json>",
				URL:     "https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html",
			},
			References:  refs(bpg("Image security: implement lifecycle policies for ECR", bpgImageURL)),
			Permissions: []string{"ecr:DescribeRepositories", "ecr:GetLifecyclePolicy"},
		},
		AppliesTo: regionOnly(),
		Evaluate: func(_ audit.Env, s *inventory.RegionServices) []audit.Finding {
			return forRepositories(s, func(r inventory.Repository) audit.Finding {
				if f, bad := missing(r.Errors, "ecr:GetLifecyclePolicy"); bad {
					return f
				}
				if r.HasLifecyclePolicy {
					return audit.Passf("Repository %s has a lifecycle policy.", r.Name)
				}
				return audit.Failf("Repository %s has no lifecycle policy.", r.Name)
			})
		},
	}
}

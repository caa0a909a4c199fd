package checks

import (
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// ECRTagImmutable is hardeneks' use_immutable_tags_with_ecr.
func ECRTagImmutable() RegionRule {
	return RegionRule{
		Check: audit.Check{
			ID:           "ECR_TAG_IMMUTABLE",
			Title:        "ECR repositories use immutable tags",
			Severity:     audit.Low,
			ResourceType: inventory.TypeECRRepository,
			Description:  "For each ECR repository, fails when imageTagMutability is MUTABLE; IMMUTABLE and IMMUTABLE_WITH_EXCLUSION pass.",
			Rationale:    "With mutable tags, whoever can push can silently replace the image a deployment refers to by tag.",
			Remediation: audit.Remediation{
				Text:    "Set the repository's tag mutability to IMMUTABLE and deploy by digest or unique tag.",
				Console: "ECR console → Repositories → <repository> → Edit → Tag immutability → Enabled",
				CLI:     "aws ecr put-image-tag-mutability --repository-name <repository> --image-tag-mutability IMMUTABLE",
				IaC:     "CloudFormation AWS::ECR::Repository ImageTagMutability: IMMUTABLE",
				URL:     "https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html",
			},
			References:  refs(bpg("Image security: use immutable tags with ECR", bpgImageURL)),
			Permissions: []string{"ecr:DescribeRepositories"},
		},
		AppliesTo: regionOnly(),
		Evaluate: func(_ audit.Env, s *inventory.RegionServices) []audit.Finding {
			return forRepositories(s, func(r inventory.Repository) audit.Finding {
				if strings.HasPrefix(r.TagMutability, "IMMUTABLE") {
					return audit.Passf("Repository %s has %s tags.", r.Name, r.TagMutability)
				}
				return audit.Failf("Repository %s has %s tags.", r.Name, orUnset(r.TagMutability)).With("imageTagMutability", r.TagMutability)
			})
		},
	}
}

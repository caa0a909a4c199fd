package checks

import (
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

var principalScopingKeys = []string{"aws:PrincipalOrgID", "aws:PrincipalAccount", "aws:SourceAccount", "aws:PrincipalOrgPaths", "aws:SourceArn", "aws:PrincipalArn"}

// ECRUserAccessMin is CIS 5.1.2 on repository policies.
func ECRUserAccessMin() RegionRule {
	return RegionRule{
		Check: audit.Check{
			ID:           "ECR_USER_ACCESS_MIN",
			Title:        "ECR repository policies are not public or over-broad",
			Severity:     audit.High,
			ResourceType: inventory.TypeECRRepository,
			Description: "For each ECR repository with a policy, fails when an Allow statement names Principal \"*\" without an aws:PrincipalOrgID, aws:PrincipalAccount, aws:SourceAccount, aws:SourceArn or aws:PrincipalArn condition, " +
				"or allows ecr:* (or \"*\") to a principal in another account. Repositories without a policy pass: only IAM in the account grants access to them.",
			Rationale: "A public or over-broad repository policy lets anyone pull private images (and their embedded secrets) or push malicious ones (CIS 5.1.2).",
			Remediation: audit.Remediation{
				Text:    "Restrict repository policies to named accounts or your organization, and grant other accounts only pull actions.",
				Console: "ECR console → Repositories → <repository> → Permissions → Edit policy JSON",
				CLI:     "aws ecr set-repository-policy --repository-name <repository> --policy-text file://policy.json",
				IaC:     "CloudFormation AWS::ECR::Repository RepositoryPolicyText with Condition: {StringEquals: {aws:PrincipalOrgID: <org-id>}}",
				URL:     "https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policies.html",
			},
			References:  refs(cis("5.1.2"), bpg("Image security: create IAM policies for ECR repositories", bpgImageURL)),
			Permissions: []string{"ecr:DescribeRepositories", "ecr:GetRepositoryPolicy"},
		},
		AppliesTo: regionOnly(),
		Evaluate: func(_ audit.Env, s *inventory.RegionServices) []audit.Finding {
			return forRepositories(s, func(r inventory.Repository) audit.Finding {
				if f, bad := missing(r.Errors, "ecr:GetRepositoryPolicy"); bad {
					return f
				}
				if r.Policy == nil {
					return audit.Passf("Repository %s has no repository policy.", r.Name)
				}
				var p problems
				for _, st := range r.Policy.Statements {
					if st.Effect != "Allow" {
						continue
					}
					scoped := false
					for _, k := range principalScopingKeys {
						if st.HasConditionKey(k) {
							scoped = true
						}
					}
					for kind, vals := range st.Principals {
						for _, v := range vals {
							public := v == "*" && (kind == "*" || kind == "AWS")
							if public && !scoped {
								p.add(audit.High, "statement %q allows %s to everyone", sidOr(st), strings.Join(st.Actions, ", "))
							}
							external := kind == "AWS" && v != "*" && accountOf(v) != "" && accountOf(v) != s.AccountID
							if external && !scoped && (hasStar(st.Actions) || containsFold(st.Actions, "ecr:*")) {
								p.add(audit.High, "statement %q allows %s to external principal %s", sidOr(st), strings.Join(st.Actions, ", "), v)
							}
						}
					}
				}
				return p.finding("Repository " + r.Name + "'s policy grants no public or external full access.")
			})
		},
	}
}

// accountOf returns the account of a principal given as an ARN or a bare account id.
func accountOf(principal string) string {
	if len(principal) == 12 && strings.Trim(principal, "0123456789") == "" {
		return principal
	}
	parts := strings.SplitN(principal, ":", 6)
	if len(parts) == 6 {
		return parts[4]
	}
	return ""
}

func containsFold(ss []string, want string) bool {
	for _, s := range ss {
		if strings.EqualFold(s, want) {
			return true
		}
	}
	return false
}

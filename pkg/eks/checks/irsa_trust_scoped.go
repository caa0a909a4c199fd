package checks

import (
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// IRSATrustScoped reads the trust policy of every role that trusts the cluster's OIDC provider.
func IRSATrustScoped() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_IRSA_TRUST_SCOPED",
			Title:        "IRSA role trust policies are scoped to a service account",
			Severity:     audit.High,
			ResourceType: inventory.TypeIAMRole,
			Description: "For each IAM role whose trust policy names the cluster's OIDC provider, fails HIGH when a statement trusting it has no condition on <issuer>:sub, " +
				"or matches sub with StringLike and a wildcard (such as system:serviceaccount:*). Fails LOW when the <issuer>:aud condition is missing.",
			Rationale: "Without a sub condition, any service account in the cluster (or any cluster sharing the issuer) can assume the role.",
			Remediation: audit.Remediation{
				Text:    "Add StringEquals conditions on <issuer>:sub = system:serviceaccount:<namespace>:<name> and <issuer>:aud = sts.amazonaws.com.",
				Console: "IAM console → Roles → <role> → Trust relationships → Edit trust policy",
				CLI:     "aws iam update-assume-role-policy --role-name <role> --policy-document file://trust.json",
				IaC:     "CloudFormation AWS::IAM::Role AssumeRolePolicyDocument Condition: {StringEquals: {'<issuer>:sub': 'system:serviceaccount:<ns>:<sa>', '<issuer>:aud': 'sts.amazonaws.com'}}",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html",
			},
			References:  refs(bpg("Identity and access management: scope the IAM role trust policy for IRSA roles", bpgIAMURL)),
			Permissions: []string{describeCluster, "iam:ListOpenIDConnectProviders", "iam:ListRoles"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			if f, bad := missing(c.Errors, "iam:ListRoles"); bad {
				return one(f)
			}
			if len(c.IRSARoles) == 0 {
				return one(audit.NotApplicablef("No IAM role trusts the cluster's OIDC issuer."))
			}
			issuer := strings.TrimPrefix(c.OIDCIssuer, "https://")
			var out []audit.Finding
			for _, role := range c.IRSARoles {
				var p problems
				for _, s := range role.Trust.Statements {
					if s.Effect != "Allow" || !trustsIssuer(s, issuer) {
						continue
					}
					subEq := s.ConditionValues("StringEquals", issuer+":sub")
					subLike := s.ConditionValues("StringLike", issuer+":sub")
					if len(subEq) == 0 && len(subLike) == 0 {
						p.add(audit.High, "statement %q trusts the cluster's OIDC provider without a %s:sub condition", sidOr(s), issuer)
					}
					for _, v := range subLike {
						if strings.ContainsAny(v, "*?") {
							p.add(audit.High, "statement %q matches %s:sub with the wildcard %q", sidOr(s), issuer, v)
						}
					}
					if !s.HasConditionKey(issuer + ":aud") {
						p.add(audit.Low, "statement %q has no %s:aud condition", sidOr(s), issuer)
					}
				}
				out = append(out, p.finding("Role "+role.Name+" trusts only specific service accounts of the cluster.").On(role.ARN, inventory.TypeIAMRole).With("role", role.Name))
			}
			return out
		},
	}
}

func trustsIssuer(s inventory.Statement, issuer string) bool {
	for _, f := range s.Principals["Federated"] {
		if strings.HasSuffix(f, ":oidc-provider/"+issuer) {
			return true
		}
	}
	return false
}

func sidOr(s inventory.Statement) string {
	if s.Sid != "" {
		return s.Sid
	}
	return "(no Sid)"
}

package checks

import (
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// PodIdentityRoles judges the role behind each Pod Identity association.
func PodIdentityRoles() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_POD_IDENTITY_ROLES",
			Title:        "EKS Pod Identity roles are least-privilege and not over-shared",
			Severity:     audit.Medium,
			ResourceType: inventory.TypePodIdentity,
			Description: "For each Pod Identity association, reads the role's policies and trust. Fails HIGH when the role allows \"*\" (AdministratorAccess or an Allow of Action \"*\"), " +
				"MEDIUM when the role no longer exists, and LOW when the role is shared by more than maxAssociationsPerRole associations " +
				"or its trust for pods.eks.amazonaws.com has no aws:SourceAccount or aws:SourceArn condition.",
			Rationale: "A Pod Identity role is the AWS permission set of a workload; admin roles or roles shared across applications turn one compromised pod into many.",
			Remediation: audit.Remediation{
				Text:    "Give each application its own role with only the actions it needs, and add aws:SourceAccount/aws:SourceArn conditions to the trust policy.",
				Console: "IAM console → Roles → <role> → Permissions / Trust relationships",
				CLI:     "aws iam detach-role-policy --role-name <role> --policy-arn arn:aws:iam::aws:policy/AdministratorAccess",
				IaC:     "CloudFormation AWS::EKS::PodIdentityAssociation {RoleArn: <per-app-role>}; AWS::IAM::Role trust Condition: {StringEquals: {aws:SourceAccount: <account>}}",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html",
			},
			References:  refs(bpg("Identity and access management: EKS Pod Identities", bpgIAMURL)),
			Parameters:  []audit.Parameter{{Name: "maxAssociationsPerRole", Default: 3, Description: "Most associations that may share one role."}},
			Permissions: []string{describeCluster, "eks:ListPodIdentityAssociations", "eks:DescribePodIdentityAssociation", "iam:GetRole", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:GetPolicy", "iam:GetPolicyVersion"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(env audit.Env, c *inventory.Cluster) []audit.Finding {
			if f, bad := missing(c.Errors, "eks:ListPodIdentityAssociations"); bad {
				return one(f)
			}
			if len(c.PodIdentities) == 0 {
				return one(audit.NotApplicablef("The cluster has no Pod Identity associations."))
			}
			shared := map[string]int{}
			for _, a := range c.PodIdentities {
				shared[a.RoleARN]++
			}
			var out []audit.Finding
			for _, a := range c.PodIdentities {
				where := a.Namespace + "/" + a.ServiceAccount
				arn := a.ARN
				if arn == "" {
					arn = subARN(c, "podidentityassociation", a.ID)
				}
				if err := a.Errors.First("eks:DescribePodIdentityAssociation"); err != nil {
					out = append(out, audit.Errorf("Could not evaluate association %s: %v", a.ID, err).On(arn, inventory.TypePodIdentity))
					continue
				}
				role, err := roleFacts(c, a.RoleARN)
				var p problems
				if n := shared[a.RoleARN]; n > env.Params.Int("maxAssociationsPerRole") {
					p.add(audit.Low, "role %s is shared by %d associations", a.RoleARN, n)
				}
				switch {
				case err != nil:
					if !p.any() {
						out = append(out, audit.Errorf("Could not evaluate role %s of %s: %v", a.RoleARN, where, err).On(arn, inventory.TypePodIdentity))
						continue
					}
				case !role.Exists:
					p.add(audit.Medium, "role %s no longer exists", a.RoleARN)
				default:
					if hasStar(allowedActions(role)) {
						p.add(audit.High, "role %s allows every action (\"*\")", a.RoleARN)
					}
					if !podTrustScoped(role.Trust) {
						p.add(audit.Low, "role %s trusts pods.eks.amazonaws.com without an aws:SourceAccount or aws:SourceArn condition", a.RoleARN)
					}
				}
				out = append(out, p.finding("Role "+a.RoleARN+" of "+where+" is scoped and not shared.").On(arn, inventory.TypePodIdentity).
					With("serviceAccount", where).With("roleArn", a.RoleARN))
			}
			return out
		},
	}
}

func podTrustScoped(p *inventory.Policy) bool {
	if p == nil {
		return false
	}
	for _, s := range p.Statements {
		if s.Effect != "Allow" {
			continue
		}
		for _, svc := range s.Principals["Service"] {
			if strings.HasPrefix(svc, "pods.eks.amazonaws.com") && !s.HasConditionKey("aws:SourceAccount") && !s.HasConditionKey("aws:SourceArn") {
				return false
			}
		}
	}
	return true
}

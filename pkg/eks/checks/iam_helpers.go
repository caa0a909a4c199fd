package checks

import (
	"path"
	"strings"

	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// AWS-managed policies judged by name, with the widest actions they allow.
var managedPolicyActions = map[string][]string{
	"AdministratorAccess":                  {"*"},
	"PowerUserAccess":                      {"*"},
	"IAMFullAccess":                        {"iam:*"},
	"AmazonEC2ContainerRegistryFullAccess": {"ecr:*"},
	"AmazonEC2ContainerRegistryPowerUser":  {"ecr:PutImage", "ecr:CompleteLayerUpload"},
	"AmazonEC2FullAccess":                  {"ec2:*"},
	"AmazonS3FullAccess":                   {"s3:*"},
}

func policyName(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// allowedActions returns the actions a role's policies allow: the widest actions of known
// AWS-managed policies, and every Allow action of customer-managed and inline documents.
func allowedActions(role *inventory.IAMRole) []string {
	var out []string
	for _, p := range role.Attached {
		if p.Document != nil {
			out = append(out, docActions(p.Document)...)
			continue
		}
		out = append(out, managedPolicyActions[policyName(p.ARN)]...)
	}
	for _, p := range role.Inline {
		if p.Document != nil {
			out = append(out, docActions(p.Document)...)
		}
	}
	return out
}

func docActions(p *inventory.Policy) []string {
	var out []string
	for _, s := range p.Statements {
		if s.Effect != "Allow" {
			continue
		}
		out = append(out, s.Actions...)
		if len(s.NotActions) > 0 {
			// Allow with NotAction grants everything except the listed actions.
			out = append(out, "*")
		}
	}
	return out
}

// grants reports whether an allowed action pattern (which may contain wildcards) can match
// the concrete or wildcard action want.
func grants(allowed, want string) bool {
	a, w := strings.ToLower(allowed), strings.ToLower(want)
	if a == "*" {
		return true
	}
	if ok, _ := path.Match(a, w); ok {
		return true
	}
	// A wildcard want ("ecr:put*") is granted by an allowed action it matches.
	if ok, _ := path.Match(w, a); ok {
		return true
	}
	return false
}

// wildcardAdmin lists allowed actions that amount to full access: "*" or "service:*".
func fullAccess(actions []string) []string {
	var out []string
	for _, a := range actions {
		if a == "*" || strings.HasSuffix(a, ":*") {
			out = append(out, a)
		}
	}
	return out
}

func hasStar(actions []string) bool {
	for _, a := range actions {
		if a == "*" {
			return true
		}
	}
	return false
}

// extraPolicies lists attached policies outside allowed (by name) and inline policies.
func extraPolicies(role *inventory.IAMRole, allowed []string) []string {
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	var out []string
	for _, p := range role.Attached {
		if !ok[p.Name] && !ok[policyName(p.ARN)] {
			out = append(out, p.Name)
		}
	}
	for _, p := range role.Inline {
		out = append(out, "inline:"+p.Name)
	}
	return out
}

func hasPolicy(role *inventory.IAMRole, name string) bool {
	for _, p := range role.Attached {
		if policyName(p.ARN) == name {
			return true
		}
	}
	return false
}

// trustPrincipals lists every principal an Allow statement of the trust policy names.
func trustPrincipals(p *inventory.Policy) []string {
	if p == nil {
		return nil
	}
	var out []string
	for _, s := range p.Statements {
		if s.Effect != "Allow" {
			continue
		}
		for kind, vals := range s.Principals {
			for _, v := range vals {
				out = append(out, kind+":"+v)
			}
		}
	}
	return out
}

// roleFacts returns the collected role or the reason it cannot be judged.
func roleFacts(c *inventory.Cluster, arn string) (*inventory.IAMRole, error) {
	role := c.Roles[arn]
	if role == nil {
		return nil, errNotCollected("IAM role " + arn)
	}
	if err := role.Errors.First("iam:GetRole", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:GetPolicyVersion"); err != nil {
		return nil, err
	}
	return role, nil
}

type errNotCollected string

func (e errNotCollected) Error() string { return string(e) + " was not collected" }

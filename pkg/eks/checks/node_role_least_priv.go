package checks

import (
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

var nodeRolePolicies = []string{"AmazonEKSWorkerNodePolicy", "AmazonEKSWorkerNodeMinimalPolicy", "AmazonEC2ContainerRegistryReadOnly",
	"AmazonEC2ContainerRegistryPullOnly", "AmazonEKS_CNI_Policy", "AmazonSSMManagedInstanceCore"}

// NodeRoleLeastPriv judges each node group's role (and the Auto Mode node role).
func NodeRoleLeastPriv() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_NODE_ROLE_LEAST_PRIV",
			Title:        "EKS node roles are minimal, with read-only ECR access",
			Severity:     audit.High,
			ResourceType: inventory.TypeNodegroup,
			Description: "For each managed node group (and the Auto Mode node role), reads the node role's policies. Fails HIGH when they allow \"*\", \"ecr:*\" or ECR writes (ecr:Put*), " +
				"and MEDIUM when policies go beyond " + strings.Join(nodeRolePolicies, ", ") + " (plus allowedPolicies) or include inline policies.",
			Rationale: "Every pod that reaches the instance metadata service can use the node role; write access to ECR lets a compromised node poison images for the whole fleet (CIS 5.1.3).",
			Remediation: audit.Remediation{
				Text:    "Keep only the EKS node policies and read-only ECR access on node roles; give workloads their own roles through IRSA or Pod Identity.",
				Console: "IAM console → Roles → <node-role> → Permissions → Remove",
				CLI:     "aws iam detach-role-policy --role-name <node-role> --policy-arn <extra-policy-arn>",
				IaC:     "CloudFormation AWS::IAM::Role ManagedPolicyArns: [AmazonEKSWorkerNodePolicy, AmazonEC2ContainerRegistryReadOnly]",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/create-node-role.html",
			},
			References:  refs(cis("5.1.3"), cis("5.2.1"), bpg("Identity and access management: employ least privileged access to AWS resources", bpgIAMURL)),
			Parameters:  []audit.Parameter{{Name: "allowedPolicies", Default: []string{}, Description: "Further policy names accepted on node roles."}},
			Permissions: []string{describeCluster, "eks:ListNodegroups", "eks:DescribeNodegroup", "iam:GetRole", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:GetPolicy", "iam:GetPolicyVersion"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(env audit.Env, c *inventory.Cluster) []audit.Finding {
			allowed := append(append([]string{}, nodeRolePolicies...), env.Params.Strings("allowedPolicies")...)
			judge := func(roleARN string) audit.Finding {
				role, err := roleFacts(c, roleARN)
				if err != nil {
					return audit.Errorf("Could not evaluate node role %s: %v", roleARN, err)
				}
				if !role.Exists {
					return failAt(audit.Medium, "Node role %s no longer exists.", roleARN)
				}
				var p problems
				var writes []string
				for _, a := range allowedActions(role) {
					if a == "*" || grants(a, "ecr:Put*") || strings.EqualFold(a, "ecr:*") {
						writes = append(writes, a)
					}
				}
				if len(writes) > 0 {
					p.add(audit.High, "role %s allows %s", role.Name, strings.Join(dedupe(writes), ", "))
				}
				if extra := extraPolicies(role, allowed); len(extra) > 0 {
					p.add(audit.Medium, "role %s has policies beyond the node policies: %s", role.Name, strings.Join(extra, ", "))
				}
				return p.finding("Node role "+role.Name+" has only node policies and read-only ECR access.").With("roleArn", roleARN)
			}
			var out []audit.Finding
			if c.AutoMode.Enabled && c.AutoMode.NodeRoleARN != "" {
				out = append(out, judge(c.AutoMode.NodeRoleARN))
			}
			if c.Errors.Get("eks:ListNodegroups") == nil && len(c.NodeGroups) == 0 && len(out) > 0 {
				return out
			}
			return append(out, forNodeGroups(c, func(ng inventory.NodeGroup) audit.Finding { return judge(ng.NodeRoleARN) })...)
		},
	}
}

package checks

import (
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

var clusterRolePolicies = []string{"AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController", "AmazonEKSServicePolicy",
	"AmazonEKSComputePolicy", "AmazonEKSBlockStoragePolicy", "AmazonEKSLoadBalancingPolicy", "AmazonEKSNetworkingPolicy"}

// ClusterRoleLeastPriv requires a dedicated, minimal cluster service role.
func ClusterRoleLeastPriv() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_CLUSTER_ROLE_LEAST_PRIV",
			Title:        "The EKS cluster role is dedicated and minimal",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeCluster,
			Description: "Reads the cluster role's policies and trust. Fails HIGH when the role allows \"*\" or no longer exists; MEDIUM when it has policies beyond " +
				strings.Join(clusterRolePolicies, ", ") + " (plus allowedPolicies), any inline policy, or a trust policy naming principals other than eks.amazonaws.com.",
			Rationale: "The cluster role is assumed by the EKS control plane; extra permissions or principals on it grant power nobody reviews as cluster configuration.",
			Remediation: audit.Remediation{
				Text:    "Use a role dedicated to the cluster with only the EKS managed policies, trusted only by eks.amazonaws.com.",
				Console: "IAM console → Roles → <cluster-role> → Permissions → Remove; Trust relationships → Edit",
				CLI:     "aws iam detach-role-policy --role-name <cluster-role> --policy-arn <extra-policy-arn>",
				IaC:     "CloudFormation AWS::IAM::Role {AssumeRolePolicyDocument: {Principal: {Service: eks.amazonaws.com}}, ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonEKSClusterPolicy]}",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/cluster-iam-role.html",
			},
			References:  refs(bpg("Identity and access management: create the cluster with a dedicated IAM role", bpgIAMURL)),
			Parameters:  []audit.Parameter{{Name: "allowedPolicies", Default: []string{}, Description: "Further policy names accepted on the cluster role."}},
			Permissions: []string{describeCluster, "iam:GetRole", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:GetPolicy", "iam:GetPolicyVersion"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(env audit.Env, c *inventory.Cluster) []audit.Finding {
			role, err := roleFacts(c, c.RoleARN)
			if err != nil {
				return one(audit.Errorf("Could not evaluate cluster role %s: %v", c.RoleARN, err))
			}
			if !role.Exists {
				return one(failAt(audit.High, "The cluster role %s no longer exists.", c.RoleARN))
			}
			var p problems
			if wide := fullAccess(allowedActions(role)); hasStar(wide) {
				p.add(audit.High, "the role allows every action (\"*\")")
			}
			if extra := extraPolicies(role, append(clusterRolePolicies, env.Params.Strings("allowedPolicies")...)); len(extra) > 0 {
				p.add(audit.Medium, "the role has policies beyond the EKS cluster policies: %s", strings.Join(extra, ", "))
			}
			var others []string
			for _, pr := range trustPrincipals(role.Trust) {
				if pr != "Service:eks.amazonaws.com" {
					others = append(others, pr)
				}
			}
			if len(others) > 0 {
				p.add(audit.Medium, "the trust policy also admits %s", strings.Join(others, ", "))
			}
			return one(p.finding("Cluster role "+role.Name+" has only EKS cluster policies and trusts only eks.amazonaws.com.").With("roleArn", c.RoleARN))
		},
	}
}

package checks

import (
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// VPCCNIOwnRole is hardeneks' check_aws_node_daemonset_service_account, read from the add-on and
// Pod Identity associations instead of the Kubernetes API.
func VPCCNIOwnRole() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_VPC_CNI_OWN_ROLE",
			Title:        "The VPC CNI uses its own IAM role, not the node role",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeCluster,
			Description: "Fails when the vpc-cni add-on has no serviceAccountRoleArn and no Pod Identity association exists for kube-system/aws-node, so the CNI runs on the node role. " +
				"Also fails when a dedicated role exists but a node role still has AmazonEKS_CNI_Policy attached. " +
				"NOT_APPLICABLE for Auto Mode, and when vpc-cni is not a managed add-on and no aws-node association exists (a self-managed CNI cannot be seen).",
			Rationale: "AmazonEKS_CNI_Policy can modify every network interface in the account; on the node role, every pod that reaches IMDS gets it.",
			Remediation: audit.Remediation{
				Text:    "Create a role with AmazonEKS_CNI_Policy for kube-system/aws-node (IRSA or Pod Identity), set it on the add-on, then detach the policy from the node roles.",
				Console: "EKS console → Clusters → <cluster> → Add-ons → Amazon VPC CNI → Edit → IAM role",
				CLI:     "aws eks update-addon --cluster-name <cluster> --addon-name vpc-cni --service-account-role-arn <cni-role-arn>",
				IaC:     "CloudFormation AWS::EKS::Addon {AddonName: vpc-cni, ServiceAccountRoleArn: <cni-role-arn>}",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/cni-iam-role.html",
			},
			References:  refs(bpg("Identity and access management: update the aws-node daemonset to use IRSA", bpgIAMURL)),
			Permissions: []string{describeCluster, "eks:ListAddons", "eks:DescribeAddon", "eks:ListPodIdentityAssociations", "eks:ListNodegroups", "eks:DescribeNodegroup", "iam:ListAttachedRolePolicies"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			if c.AutoMode.Enabled {
				return one(audit.NotApplicablef("In EKS Auto Mode the VPC CNI is managed by EKS."))
			}
			if f, bad := missing(c.Errors, "eks:ListAddons"); bad {
				return one(f)
			}
			cni := addon(c, "vpc-cni")
			if cni != nil {
				if f, bad := missing(cni.Errors, "eks:DescribeAddon"); bad {
					return one(f)
				}
			}
			dedicated := ""
			switch {
			case cni != nil && cni.ServiceAccountRoleARN != "":
				dedicated = "IRSA role " + cni.ServiceAccountRoleARN
			case cni != nil && len(cni.PodIdentityARNs) > 0:
				dedicated = "add-on Pod Identity association " + cni.PodIdentityARNs[0]
			default:
				for _, a := range c.PodIdentities {
					if a.Namespace == "kube-system" && a.ServiceAccount == "aws-node" {
						dedicated = "Pod Identity role " + a.RoleARN
					}
				}
			}
			if dedicated == "" {
				if f, bad := missing(c.Errors, "eks:ListPodIdentityAssociations"); bad {
					return one(f)
				}
				if cni == nil {
					return one(audit.NotApplicablef("vpc-cni is not a managed add-on and no Pod Identity association exists for kube-system/aws-node; a self-managed CNI's credentials cannot be seen."))
				}
				return one(audit.Failf("The vpc-cni add-on has no service account role and kube-system/aws-node has no Pod Identity association, so the CNI uses the node role."))
			}
			var withPolicy []string
			for _, ng := range c.NodeGroups {
				if role := c.Roles[ng.NodeRoleARN]; role != nil && hasPolicy(role, "AmazonEKS_CNI_Policy") {
					withPolicy = append(withPolicy, ng.NodeRoleARN)
				}
			}
			if len(withPolicy) > 0 {
				return one(audit.Failf("The CNI uses %s, but node roles still have AmazonEKS_CNI_Policy attached: %s.", dedicated, strings.Join(dedupe(withPolicy), ", ")))
			}
			return one(audit.Passf("The CNI uses %s.", dedicated))
		},
	}
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

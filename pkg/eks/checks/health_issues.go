package checks

import (
	"fmt"
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

var failedAddonStatus = map[string]bool{"DEGRADED": true, "CREATE_FAILED": true, "UPDATE_FAILED": true, "DELETE_FAILED": true}

// HealthIssues reports what EKS itself says is broken, on the resource that is broken.
func HealthIssues() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_HEALTH_ISSUES",
			Title:        "The EKS cluster, node groups, Fargate profiles and add-ons report no health issues",
			Severity:     audit.Low,
			ResourceType: inventory.TypeCluster,
			Description: "Reports the cluster's health issues on the cluster, each node group's and Fargate profile's on itself, and each add-on's on the add-on, " +
				"where an add-on in DEGRADED or a *_FAILED status also fails. The cluster result is an ERROR when node groups or add-ons could not be listed.",
			Rationale: "Health issues such as a deleted security group, a missing IAM role or a KMS key EKS cannot use often have security causes, and block upgrades.",
			Remediation: audit.Remediation{
				Text:    "Resolve each issue as its code describes (restore the missing role, security group or subnet, or fix the key policy).",
				Console: "EKS console → Clusters → <cluster> → Overview → Health issues (and each node group's and add-on's Health issues tab)",
				CLI:     "aws eks describe-cluster --name <cluster> --query cluster.health",
				URL:     "https://docs.aws.amazon.com/eks/latest/APIReference/API_ClusterIssue.html",
			},
			References:  refs(bpg("Cluster upgrades: verify cluster health", bpgUpgradesURL)),
			Permissions: []string{describeCluster, "eks:ListNodegroups", "eks:DescribeNodegroup", "eks:ListFargateProfiles", "eks:DescribeFargateProfile", "eks:ListAddons", "eks:DescribeAddon"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			var out []audit.Finding
			if len(c.Health) > 0 {
				out = append(out, audit.Failf("The cluster reports %s.", describeIssues(c.Health)))
			} else if f, bad := missing(c.Errors, "eks:ListNodegroups", "eks:ListAddons", "eks:ListFargateProfiles"); bad {
				out = append(out, f)
			} else {
				out = append(out, audit.Passf("The cluster reports no health issues."))
			}
			for _, ng := range c.NodeGroups {
				if ng.ARN == "" {
					out = append(out, audit.Errorf("Could not read the health of node group %s: %v", ng.Name, ng.Errors.First("eks:DescribeNodegroup")).On(subARN(c, "nodegroup", ng.Name), inventory.TypeNodegroup))
					continue
				}
				out = append(out, issuesFinding("Node group "+ng.Name, ng.Health, "").On(ng.ARN, inventory.TypeNodegroup))
			}
			for _, fp := range c.FargateProfiles {
				if fp.ARN == "" {
					out = append(out, audit.Errorf("Could not read the health of Fargate profile %s (eks:DescribeFargateProfile).", fp.Name).On(subARN(c, "fargateprofile", fp.Name), inventory.TypeFargateProfile))
					continue
				}
				out = append(out, issuesFinding("Fargate profile "+fp.Name, fp.Health, "").On(fp.ARN, inventory.TypeFargateProfile))
			}
			for _, a := range c.Addons {
				if a.ARN == "" {
					out = append(out, audit.Errorf("Could not read the health of add-on %s: %v", a.Name, a.Errors.First("eks:DescribeAddon")).On(subARN(c, "addon", a.Name), inventory.TypeAddon))
					continue
				}
				status := ""
				if failedAddonStatus[a.Status] {
					status = a.Status
				}
				out = append(out, issuesFinding("Add-on "+a.Name, a.Health, status).On(a.ARN, inventory.TypeAddon))
			}
			return out
		},
	}
}

func issuesFinding(what string, issues []inventory.HealthIssue, badStatus string) audit.Finding {
	switch {
	case len(issues) > 0 && badStatus != "":
		return audit.Failf("%s is %s and reports %s.", what, badStatus, describeIssues(issues))
	case len(issues) > 0:
		return audit.Failf("%s reports %s.", what, describeIssues(issues))
	case badStatus != "":
		return audit.Failf("%s is %s.", what, badStatus)
	}
	return audit.Passf("%s reports no health issues.", what)
}

func describeIssues(issues []inventory.HealthIssue) string {
	parts := make([]string, len(issues))
	for i, is := range issues {
		parts[i] = fmt.Sprintf("%s (%s)", is.Code, is.Message)
	}
	return fmt.Sprintf("%d health issue(s): %s", len(issues), strings.Join(parts, "; "))
}

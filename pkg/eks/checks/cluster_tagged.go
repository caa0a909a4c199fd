package checks

import (
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// ClusterTagged is Security Hub EKS.6, with an optional list of required keys as in the
// tagging-check parameters.
func ClusterTagged() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_CLUSTER_TAGGED",
			Title:        "EKS cluster has tags",
			Severity:     audit.Low,
			ResourceType: inventory.TypeCluster,
			Description:  "Fails when the cluster has no user tags (keys starting with aws: are ignored), or lacks a key listed in requiredTagKeys.",
			Rationale:    "Tags identify the owner, environment and data classification that incident response and attribute-based access control depend on.",
			Remediation: audit.Remediation{
				Text:    "Tag the cluster with at least the organisation's required keys.",
				Console: "EKS console → Clusters → <cluster> → Tags → Manage tags",
				CLI:     "aws eks tag-resource --resource-arn <cluster-arn> --tags owner=<team>,environment=<env>",
				IaC:     "CloudFormation AWS::EKS::Cluster Tags: [{Key: owner, Value: <team>}]",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/eks-using-tags.html",
			},
			References:  refs(fsbp("EKS.6")),
			Parameters:  []audit.Parameter{{Name: "requiredTagKeys", Default: []string{}, Description: "Tag keys every cluster must carry."}},
			Permissions: []string{describeCluster},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(env audit.Env, c *inventory.Cluster) []audit.Finding {
			return one(judgeTags(c.Tags, env.Params.Strings("requiredTagKeys"), "The cluster"))
		},
	}
}

func judgeTags(tags map[string]string, required []string, what string) audit.Finding {
	var keys []string
	for k := range tags {
		if !strings.HasPrefix(k, "aws:") {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return audit.Failf("%s has no tags.", what)
	}
	var absent []string
	for _, k := range required {
		if _, ok := tags[k]; !ok {
			absent = append(absent, k)
		}
	}
	if len(absent) > 0 {
		return audit.Failf("%s lacks the required tag keys %s.", what, strings.Join(absent, ", ")).With("missingTagKeys", strings.Join(absent, ","))
	}
	return audit.Passf("%s has %d tag(s).", what, len(keys))
}

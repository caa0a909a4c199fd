package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// AccessEntryStale finds access entries whose IAM principal was deleted.
func AccessEntryStale() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_ACCESS_ENTRY_STALE",
			Title:        "EKS access entries point to IAM principals that exist",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeAccessEntry,
			Description: "For each access entry, reads the principal with iam:GetRole or iam:GetUser and fails when it no longer exists. " +
				"Principals in other accounts cannot be read from this one and are NOT_APPLICABLE.",
			Rationale: "An entry for a deleted principal is dormant access: whoever creates a role or user with the same name inherits it.",
			Remediation: audit.Remediation{
				Text:    "Delete access entries whose principal no longer exists.",
				Console: "EKS console → Clusters → <cluster> → Access → IAM access entries → <entry> → Delete",
				CLI:     "aws eks delete-access-entry --cluster-name <cluster> --principal-arn <principal-arn>",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html",
			},
			References:  refs(bpg("Identity and access management: regularly audit access to the cluster", bpgIAMURL)),
			Permissions: []string{describeCluster, "eks:ListAccessEntries", "eks:DescribeAccessEntry", "iam:GetRole", "iam:GetUser"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			if c.AuthenticationMode == "CONFIG_MAP" {
				return one(audit.NotApplicablef("The cluster authenticates only through the aws-auth ConfigMap, so it has no access entries."))
			}
			if f, bad := missing(c.Errors, "eks:ListAccessEntries"); bad {
				return one(f)
			}
			if len(c.AccessEntries) == 0 {
				return one(audit.NotApplicablef("The cluster has no access entries."))
			}
			var out []audit.Finding
			for _, e := range c.AccessEntries {
				pr, ok := c.Principals[e.PrincipalARN]
				var f audit.Finding
				switch {
				case !ok:
					f = audit.Errorf("The principal %s was not looked up.", e.PrincipalARN)
				case pr.Err != nil:
					f = audit.Errorf("Could not look up %s: %v", e.PrincipalARN, pr.Err)
				case pr.CrossAccount:
					f = audit.NotApplicablef("%s belongs to another account and cannot be looked up from this one.", e.PrincipalARN)
				case !pr.Exists:
					f = audit.Failf("The access entry's principal %s no longer exists.", e.PrincipalARN)
				default:
					f = audit.Passf("The principal %s exists.", e.PrincipalARN)
				}
				out = append(out, f.On(entryARN(c, e), inventory.TypeAccessEntry).With("principalArn", e.PrincipalARN))
			}
			return out
		},
	}
}

package checks

import (
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

var adminAccessPolicies = map[string]bool{"AmazonEKSClusterAdminPolicy": true, "AmazonEKSAdminPolicy": true}

// AccessEntryClusterAdmin reviews who holds cluster-wide admin through access entries.
func AccessEntryClusterAdmin() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_ACCESS_ENTRY_CLUSTER_ADMIN",
			Title:        "Few principals hold EKS cluster-admin, and none is an IAM user",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeAccessEntry,
			Description: "For each access entry, fails when AmazonEKSClusterAdminPolicy or AmazonEKSAdminPolicy is associated with cluster scope and the principal is an IAM user, " +
				"or when the entry maps to the system:masters group. On the cluster itself, fails LOW when more than maxClusterAdmins principals hold cluster-scoped admin. " +
				"NOT_APPLICABLE when the cluster authenticates only through the aws-auth ConfigMap.",
			Rationale: "Cluster-admin through long-lived IAM user keys is the easiest path to a full cluster takeover; admin should be few roles assumed on demand.",
			Remediation: audit.Remediation{
				Text:    "Grant admin to IAM roles rather than users, keep the number of admins small, and use namespace-scoped policies where possible.",
				Console: "EKS console → Clusters → <cluster> → Access → IAM access entries → <entry> → Access policies",
				CLI:     "aws eks disassociate-access-policy --cluster-name <cluster> --principal-arn <user-arn> --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
				IaC:     "CloudFormation AWS::EKS::AccessEntry {PrincipalArn: <role-arn>, AccessPolicies: [{PolicyArn: ...AmazonEKSAdminPolicy, AccessScope: {Type: namespace, Namespaces: [<ns>]}}]}",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html",
			},
			References: refs(bpg("Identity and access management: employ least privileged access", bpgIAMURL),
				audit.Reference{Standard: "CIS Amazon EKS Benchmark v1.8.0", Control: "4.1.1", URL: cisURL}),
			Parameters:  []audit.Parameter{{Name: "maxClusterAdmins", Default: 3, Description: "Most principals that may hold cluster-scoped admin."}},
			Permissions: []string{describeCluster, "eks:ListAccessEntries", "eks:DescribeAccessEntry", "eks:ListAssociatedAccessPolicies"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(env audit.Env, c *inventory.Cluster) []audit.Finding {
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
			var admins []string
			incomplete := false
			for _, e := range c.AccessEntries {
				if err := e.Errors.First("eks:DescribeAccessEntry", "eks:ListAssociatedAccessPolicies"); err != nil {
					incomplete = true
					out = append(out, audit.Errorf("Could not evaluate the access entry of %s: %v", e.PrincipalARN, err).On(entryARN(c, e), inventory.TypeAccessEntry))
					continue
				}
				var p problems
				admin := false
				for _, pol := range e.Policies {
					if adminAccessPolicies[policyName(pol.PolicyARN)] && pol.ScopeType == "cluster" {
						admin = true
					}
				}
				if admin {
					admins = append(admins, e.PrincipalARN)
					if strings.Contains(e.PrincipalARN, ":user/") {
						p.add(audit.Medium, "IAM user %s holds cluster-scoped admin", e.PrincipalARN)
					}
				}
				for _, g := range e.KubernetesGroups {
					if g == "system:masters" {
						p.add(audit.Medium, "%s is mapped to system:masters, which bypasses all authorization", e.PrincipalARN)
					}
				}
				msg := e.PrincipalARN + " holds no cluster-scoped admin through IAM user credentials or system:masters."
				if admin {
					msg = e.PrincipalARN + " holds cluster-scoped admin as a role, without system:masters."
				}
				out = append(out, p.finding(msg).On(entryARN(c, e), inventory.TypeAccessEntry).With("principalArn", e.PrincipalARN))
			}
			limit := env.Params.Int("maxClusterAdmins")
			switch {
			case len(admins) > limit:
				out = append(out, failAt(audit.Low, "%d principals hold cluster-scoped admin (limit %d): %s.", len(admins), limit, strings.Join(admins, ", ")))
			case incomplete:
				out = append(out, audit.Errorf("Cannot count cluster admins: some access entries could not be read (eks:DescribeAccessEntry or eks:ListAssociatedAccessPolicies); %d found among the rest.", len(admins)))
			default:
				out = append(out, audit.Passf("%d principal(s) hold cluster-scoped admin (limit %d).", len(admins), limit))
			}
			return out
		},
	}
}

// entryARN is the access entry's ARN, or one derived from its principal when the entry could not
// be described.
func entryARN(c *inventory.Cluster, e inventory.AccessEntry) string {
	if e.ARN != "" {
		return e.ARN
	}
	return subARN(c, "access-entry", e.PrincipalARN)
}

package checks

import (
	"regexp"
	"strings"
	"testing"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

func allChecks() []audit.Check {
	return append(audit.Meta(ClusterRules()), audit.Meta(RegionRules())...)
}

func TestCatalogMetadataIsComplete(t *testing.T) {
	idPattern := regexp.MustCompile(`^[A-Z0-9_]+$`)
	actionPattern := regexp.MustCompile(`^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$`)
	seen := map[string]bool{}
	checks := allChecks()
	if len(checks) < 40 {
		t.Errorf("the catalog has %d checks, want at least 40", len(checks))
	}
	for _, c := range checks {
		if seen[c.ID] {
			t.Errorf("duplicate check id %s", c.ID)
		}
		seen[c.ID] = true
		if !idPattern.MatchString(c.ID) {
			t.Errorf("%s: id does not match %s", c.ID, idPattern)
		}
		for field, v := range map[string]string{"title": c.Title, "description": c.Description, "rationale": c.Rationale,
			"remediation text": c.Remediation.Text, "remediation URL": c.Remediation.URL, "resource type": c.ResourceType} {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s: empty %s", c.ID, field)
			}
		}
		// Security Hub limits: Title ≤256, Description ≤1024, Recommendation.Text ≤512.
		if len(c.Title) > 256 || len(c.Description) > 1024 || len(c.Remediation.Text) > 512 {
			t.Errorf("%s: title (%d), description (%d) or remediation text (%d) exceeds the ASFF limits 256/1024/512", c.ID, len(c.Title), len(c.Description), len(c.Remediation.Text))
		}
		if !strings.HasPrefix(c.Remediation.URL, "https://") {
			t.Errorf("%s: remediation URL %q is not https", c.ID, c.Remediation.URL)
		}
		if c.Remediation.Console == "" && c.Remediation.CLI == "" {
			t.Errorf("%s: remediation has neither a console path nor a CLI example", c.ID)
		}
		if c.Severity < audit.Informational || c.Severity > audit.Critical {
			t.Errorf("%s: invalid severity %d", c.ID, c.Severity)
		}
		if len(c.References) == 0 {
			t.Errorf("%s: no references", c.ID)
		}
		for _, r := range c.References {
			if r.Standard == "" || r.Control == "" || !strings.HasPrefix(r.URL, "https://") {
				t.Errorf("%s: incomplete reference %+v", c.ID, r)
			}
		}
		if len(c.Permissions) == 0 {
			t.Errorf("%s: no permissions", c.ID)
		}
		for _, p := range c.Permissions {
			if !actionPattern.MatchString(p) {
				t.Errorf("%s: permission %q does not look like service:Action", c.ID, p)
			}
		}
		for _, p := range c.Parameters {
			if p.Name == "" || p.Default == nil || p.Description == "" {
				t.Errorf("%s: parameter %+v needs a name, a default and a description", c.ID, p)
			}
		}
	}
}

func TestRulesDeclareTheirTargetKind(t *testing.T) {
	for _, r := range ClusterRules() {
		if len(r.AppliesTo) != 1 || r.AppliesTo[0] != inventory.KindCluster {
			t.Errorf("%s: cluster rule applies to %v", r.ID, r.AppliesTo)
		}
	}
	for _, r := range RegionRules() {
		if len(r.AppliesTo) != 1 || r.AppliesTo[0] != inventory.KindRegion {
			t.Errorf("%s: region rule applies to %v", r.ID, r.AppliesTo)
		}
	}
}

func TestHardenedClusterPassesEveryClusterCheck(t *testing.T) {
	c := hardened()
	target := audit.Target{Kind: inventory.KindCluster, Name: c.Name, ARN: c.ARN, ResourceType: inventory.TypeCluster, AccountID: acct, Region: "us-east-1", Cluster: c.Name}
	for _, r := range audit.Bind(ClusterRules(), c, target).Evaluate(audit.EvalOptions{Now: testNow}) {
		if r.Status != audit.Pass {
			t.Errorf("%s on %s: %s: %s", r.CheckID, r.ResourceARN, r.Status, r.Message)
		}
	}
}

func TestHardenedRegionPassesEveryRegionCheck(t *testing.T) {
	s := hardenedRegion()
	target := audit.Target{Kind: inventory.KindRegion, Name: inventory.RegionServicesName, ARN: s.ARN, ResourceType: inventory.TypeAccount, AccountID: acct, Region: "us-east-1"}
	for _, r := range audit.Bind(RegionRules(), s, target).Evaluate(audit.EvalOptions{Now: testNow}) {
		if r.Status != audit.Pass {
			t.Errorf("%s on %s: %s: %s", r.CheckID, r.ResourceARN, r.Status, r.Message)
		}
	}
}

// A snapshot with nothing collected must give ERROR or NOT_APPLICABLE, never a PASS built on
// missing facts, and never a panic.
func TestEmptySnapshotsNeverPass(t *testing.T) {
	errs := inventory.Errors{}
	for _, a := range []string{"eks:ListNodegroups", "eks:ListAddons", "eks:ListAccessEntries", "eks:ListPodIdentityAssociations", "eks:ListIdentityProviderConfigs",
		"eks:ListFargateProfiles", "iam:ListRoles", "iam:ListOpenIDConnectProviders", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs", "ec2:DescribeSubnets",
		"ec2:DescribeRouteTables", "ec2:DescribeFlowLogs", "ec2:DescribeVpcEndpoints", "logs:DescribeLogGroups", "ec2:GetEbsEncryptionByDefault", "ec2:DescribeInstances", "elasticloadbalancing:DescribeLoadBalancers"} {
		errs[a] = errDenied
	}
	c := &inventory.Cluster{Name: "x", ARN: "arn:aws:eks:us-east-1:111122223333:cluster/x", Version: "1.35", Logging: map[string]bool{"audit": true}, Errors: errs,
		Endpoint: inventory.Endpoint{PrivateAccess: true}}
	target := audit.Target{Kind: inventory.KindCluster, Name: "x", ARN: c.ARN, ResourceType: inventory.TypeCluster, Cluster: "x"}
	describeOnly := map[string]bool{}
	for id := range noError {
		describeOnly[id] = true
	}
	describeOnly["EKS_ENDPOINT_PUBLIC_OPEN"] = true
	for _, r := range audit.Bind(ClusterRules(), c, target).Evaluate(audit.EvalOptions{Now: testNow}) {
		if describeOnly[r.CheckID] {
			continue
		}
		if r.Status == audit.Pass {
			t.Errorf("%s passed on a snapshot whose facts were all denied: %s", r.CheckID, r.Message)
		}
		if strings.Contains(r.Message, "internal error") {
			t.Errorf("%s panicked: %s", r.CheckID, r.Message)
		}
	}
	s := &inventory.RegionServices{ARN: "arn:aws:eks:us-east-1:111122223333:region-services", Errors: inventory.Errors{
		"guardduty:ListDetectors": errDenied, "inspector2:BatchGetAccountStatus": errDenied, "ecr:DescribeRepositories": errDenied, "ecr:GetRegistryScanningConfiguration": errDenied}}
	rt := audit.Target{Kind: inventory.KindRegion, Name: inventory.RegionServicesName, ARN: s.ARN, ResourceType: inventory.TypeAccount}
	for _, r := range audit.Bind(RegionRules(), s, rt).Evaluate(audit.EvalOptions{Now: testNow}) {
		if r.Status != audit.Error {
			t.Errorf("%s: %s on a region whose facts were all denied, want ERROR: %s", r.CheckID, r.Status, r.Message)
		}
	}
}

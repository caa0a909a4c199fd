package checks

import (
	"testing"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

func TestGuardDutyAuditLogs(t *testing.T) {
	runRegionCases(t, "EKS_GUARDDUTY_AUDIT_LOGS", []regionCase{
		{name: "EKS_AUDIT_LOGS enabled passes on the detector", s: hardenedRegion(), want: []want{{status: audit.Pass, on: "detector/d1"}}},
		{name: "the legacy data source enabled passes", s: withRegion(func(s *inventory.RegionServices) {
			delete(s.GuardDuty.Features, "EKS_AUDIT_LOGS")
			s.GuardDuty.LegacyKubernetesAuditLogs = "ENABLED"
		}), want: []want{{status: audit.Pass, msg: "legacy"}}},
		{name: "the feature disabled fails", s: withRegion(func(s *inventory.RegionServices) {
			s.GuardDuty.Features["EKS_AUDIT_LOGS"] = inventory.GuardDutyFeature{Status: "DISABLED"}
		}),
			want: []want{{status: audit.Fail, msg: "DISABLED"}}},
		{name: "no detector fails on the region", s: withRegion(func(s *inventory.RegionServices) { s.GuardDuty = nil }), want: []want{{status: audit.Fail, on: "region-services"}}},
		{name: "denied ListDetectors is an error", s: withRegion(func(s *inventory.RegionServices) { s.GuardDuty = nil; s.Errors["guardduty:ListDetectors"] = errDenied }),
			want: []want{{status: audit.Error, msg: "guardduty:ListDetectors"}}},
	})
}

func TestGuardDutyRuntime(t *testing.T) {
	manual := func(s *inventory.RegionServices) {
		s.GuardDuty.Features["RUNTIME_MONITORING"] = inventory.GuardDutyFeature{Status: "ENABLED", Additional: map[string]string{"EKS_ADDON_MANAGEMENT": "DISABLED"}}
		s.Clusters = []string{"prod", "dev"}
	}
	runRegionCases(t, "EKS_GUARDDUTY_RUNTIME", []regionCase{
		{name: "runtime monitoring with agent management passes", s: hardenedRegion(), want: []want{{status: audit.Pass}}},
		{name: "the legacy EKS_RUNTIME_MONITORING feature is accepted", s: withRegion(func(s *inventory.RegionServices) {
			s.GuardDuty.Features = map[string]inventory.GuardDutyFeature{"EKS_RUNTIME_MONITORING": {Status: "ENABLED", Additional: map[string]string{"EKS_ADDON_MANAGEMENT": "ENABLED"}}}
		}), want: []want{{status: audit.Pass, msg: "EKS_RUNTIME_MONITORING"}}},
		{name: "runtime monitoring off fails", s: withRegion(func(s *inventory.RegionServices) { delete(s.GuardDuty.Features, "RUNTIME_MONITORING") }), want: []want{{status: audit.Fail, sev: audit.Medium}}},
		{name: "manual agents missing on a cluster fail LOW and name it", s: withRegion(func(s *inventory.RegionServices) {
			manual(s)
			s.ClusterAddons = map[string][]string{"prod": {"aws-guardduty-agent"}, "dev": {"vpc-cni"}}
		}), want: []want{{status: audit.Fail, sev: audit.Low, msg: "dev"}}},
		{name: "manual agents on every cluster pass", s: withRegion(func(s *inventory.RegionServices) {
			manual(s)
			s.ClusterAddons = map[string][]string{"prod": {"aws-guardduty-agent"}, "dev": {"aws-guardduty-agent"}}
		}), want: []want{{status: audit.Pass}}},
		{name: "unlisted add-ons with manual agents are an error", s: withRegion(func(s *inventory.RegionServices) {
			manual(s)
			s.ClusterAddons = map[string][]string{"prod": {"aws-guardduty-agent"}}
			s.ClusterAddonErrors = map[string]error{"dev": errDenied}
		}), want: []want{{status: audit.Error, msg: "eks:ListAddons"}}},
	})
}

func TestInspectorEnabled(t *testing.T) {
	runRegionCases(t, "EKS_INSPECTOR_ENABLED", []regionCase{
		{name: "EC2 and ECR scanning pass", s: hardenedRegion(), want: []want{{status: audit.Pass, on: "region-services"}}},
		{name: "ECR scanning off fails", s: withRegion(func(s *inventory.RegionServices) { s.Inspector.ECR = "DISABLED" }), want: []want{{status: audit.Fail, msg: "ECR (DISABLED)"}}},
		{name: "denied BatchGetAccountStatus is an error", s: withRegion(func(s *inventory.RegionServices) {
			s.Inspector = nil
			s.Errors["inspector2:BatchGetAccountStatus"] = errDenied
		}),
			want: []want{{status: audit.Error}}},
	})
}

func noRepos(s *inventory.RegionServices) { s.Repositories = nil }

func reposDenied(s *inventory.RegionServices) {
	s.Repositories = nil
	s.Errors["ecr:DescribeRepositories"] = errDenied
}

func TestECRScanOnPush(t *testing.T) {
	runRegionCases(t, "ECR_SCAN_ON_PUSH", []regionCase{
		{name: "basic scan on push passes on the repository", s: hardenedRegion(), want: []want{{status: audit.Pass, on: "repository/app"}}},
		{name: "an enhanced rule matching the repository passes", s: withRegion(func(s *inventory.RegionServices) {
			s.Repositories[0].ScanOnPush = false
			s.ScanningConfig = &inventory.RegistryScanning{ScanType: "ENHANCED", Rules: []inventory.ScanningRule{{Frequency: "CONTINUOUS_SCAN", Filters: []string{"ap*"}}}}
		}), want: []want{{status: audit.Pass, msg: "enhanced"}}},
		{name: "no scanning fails", s: withRegion(func(s *inventory.RegionServices) { s.Repositories[0].ScanOnPush = false }), want: []want{{status: audit.Fail}}},
		{name: "under enhanced scanning the repository's own scanOnPush does not count", s: withRegion(func(s *inventory.RegionServices) {
			s.ScanningConfig = &inventory.RegistryScanning{ScanType: "ENHANCED", Rules: []inventory.ScanningRule{{Frequency: "CONTINUOUS_SCAN", Filters: []string{"prod-*"}}}}
		}), want: []want{{status: audit.Fail, msg: "ignored under enhanced scanning"}}},
		{name: "a basic scan-on-push registry rule covers the repository", s: withRegion(func(s *inventory.RegionServices) {
			s.Repositories[0].ScanOnPush = false
			s.ScanningConfig.Rules = []inventory.ScanningRule{{Frequency: "SCAN_ON_PUSH", Filters: []string{"*"}}}
		}), want: []want{{status: audit.Pass, msg: "basic registry scanning"}}},
		{name: "no repositories is not applicable", s: withRegion(noRepos), want: []want{{status: audit.NotApplicable}}},
		{name: "an unknown registry configuration without scan on push is an error", s: withRegion(func(s *inventory.RegionServices) {
			s.Repositories[0].ScanOnPush = false
			s.ScanningConfig = nil
			s.Errors["ecr:GetRegistryScanningConfiguration"] = errDenied
		}), want: []want{{status: audit.Error}}},
	})
}

func TestECRTagImmutable(t *testing.T) {
	runRegionCases(t, "ECR_TAG_IMMUTABLE", []regionCase{
		{name: "immutable tags pass", s: hardenedRegion(), want: []want{{status: audit.Pass}}},
		{name: "immutable with exclusions passes", s: withRegion(func(s *inventory.RegionServices) { s.Repositories[0].TagMutability = "IMMUTABLE_WITH_EXCLUSION" }), want: []want{{status: audit.Pass}}},
		{name: "mutable tags fail", s: withRegion(func(s *inventory.RegionServices) { s.Repositories[0].TagMutability = "MUTABLE" }), want: []want{{status: audit.Fail, msg: "MUTABLE"}}},
		{name: "no repositories is not applicable", s: withRegion(noRepos), want: []want{{status: audit.NotApplicable}}},
		{name: "denied DescribeRepositories is an error", s: withRegion(reposDenied), want: []want{{status: audit.Error, msg: "ecr:DescribeRepositories"}}},
	})
}

func TestECRLifecycle(t *testing.T) {
	runRegionCases(t, "ECR_LIFECYCLE", []regionCase{
		{name: "a lifecycle policy passes", s: hardenedRegion(), want: []want{{status: audit.Pass}}},
		{name: "no lifecycle policy fails", s: withRegion(func(s *inventory.RegionServices) { s.Repositories[0].HasLifecyclePolicy = false }), want: []want{{status: audit.Fail}}},
		{name: "no repositories is not applicable", s: withRegion(noRepos), want: []want{{status: audit.NotApplicable}}},
		{name: "a denied GetLifecyclePolicy is an error for that repository", s: withRegion(func(s *inventory.RegionServices) {
			s.Repositories[0].Errors["ecr:GetLifecyclePolicy"] = errDenied
		}), want: []want{{status: audit.Error, on: "repository/app"}}},
	})
}

func TestECRUserAccessMin(t *testing.T) {
	pol := func(doc string) *inventory.RegionServices {
		return withRegion(func(s *inventory.RegionServices) { s.Repositories[0].Policy = policy(t, doc) })
	}
	runRegionCases(t, "ECR_USER_ACCESS_MIN", []regionCase{
		{name: "pull access for a named account passes", s: hardenedRegion(), want: []want{{status: audit.Pass}}},
		{name: "no repository policy passes", s: withRegion(func(s *inventory.RegionServices) { s.Repositories[0].Policy = nil }), want: []want{{status: audit.Pass, msg: "no repository policy"}}},
		{name: "a public pull policy fails", s: pol(`{"Statement":[{"Sid":"Public","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}`), want: []want{{status: audit.Fail, sev: audit.High, msg: "everyone"}}},
		{name: "a public policy scoped to the organization passes", s: pol(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"ecr:BatchGetImage","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-123"}}}]}`),
			want: []want{{status: audit.Pass}}},
		{name: "ecr:* for another account fails", s: pol(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"ecr:*"}]}`), want: []want{{status: audit.Fail, msg: "external"}}},
		{name: "no repositories is not applicable", s: withRegion(noRepos), want: []want{{status: audit.NotApplicable}}},
		{name: "a denied GetRepositoryPolicy is an error", s: withRegion(func(s *inventory.RegionServices) { s.Repositories[0].Errors["ecr:GetRepositoryPolicy"] = errDenied }),
			want: []want{{status: audit.Error}}},
	})
}

package checks

import (
	"path"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// forRepositories runs judge on every ECR repository, reporting against the repository.
func forRepositories(s *inventory.RegionServices, judge func(r inventory.Repository) audit.Finding) []audit.Finding {
	if f, bad := missing(s.Errors, "ecr:DescribeRepositories"); bad {
		return one(f)
	}
	if len(s.Repositories) == 0 {
		return one(audit.NotApplicablef("The region has no ECR repositories."))
	}
	out := make([]audit.Finding, 0, len(s.Repositories))
	for _, r := range s.Repositories {
		out = append(out, judge(r).On(r.ARN, inventory.TypeECRRepository).With("repository", r.Name))
	}
	return out
}

// detectorFinding reports against the detector when there is one, else the region target.
func detectorFinding(s *inventory.RegionServices, f audit.Finding) audit.Finding {
	if s.GuardDuty != nil {
		return f.On(s.GuardDuty.ARN, inventory.TypeGuardDuty)
	}
	return f
}

// featureEnabled reports whether any of the named GuardDuty features is ENABLED.
func featureEnabled(gd *inventory.GuardDuty, names ...string) (string, bool) {
	for _, n := range names {
		if f, ok := gd.Features[n]; ok && f.Status == "ENABLED" {
			return n, true
		}
	}
	return "", false
}

func wildcardMatch(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}

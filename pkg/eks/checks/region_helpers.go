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
// enabledDetector returns the region's enabled GuardDuty detector, or else nil and the one
// finding that says why there is nothing to judge: the detector could not be read, there is none,
// or it is suspended.
func enabledDetector(s *inventory.RegionServices) (*inventory.GuardDuty, []audit.Finding) {
	if f, bad := missing(s.Errors, "guardduty:ListDetectors", "guardduty:GetDetector"); bad {
		return nil, one(f)
	}
	gd := s.GuardDuty
	switch {
	case gd == nil:
		return nil, one(audit.Failf("GuardDuty has no detector in %s.", s.Region))
	case gd.Status != "ENABLED":
		return nil, one(detectorFinding(s, audit.Failf("GuardDuty detector %s is %s.", gd.DetectorID, gd.Status)))
	}
	return gd, nil
}

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

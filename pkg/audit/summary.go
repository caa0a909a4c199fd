package audit

import (
	"path"
	"sort"
	"strings"
	"time"
)

// Summary counts results for reports and metrics.
type Summary struct {
	Total       int                       `json:"total"`
	ByStatus    map[Status]int            `json:"byStatus"`
	FailedBy    map[Severity]int          `json:"failedBySeverity"`
	Muted       int                       `json:"muted"`
	Clusters    int                       `json:"clusters"`
	ByCluster   map[string]map[Status]int `json:"byCluster"`
	ScopeErrors int                       `json:"scopeErrors"`
}

// Summarize counts a report's results.
func Summarize(r *Report) Summary {
	s := Summary{ByStatus: map[Status]int{}, FailedBy: map[Severity]int{}, ByCluster: map[string]map[Status]int{}}
	for _, res := range r.Results {
		s.Total++
		s.ByStatus[res.Status]++
		if res.Muted {
			s.Muted++
		}
		if res.Status == Fail && !res.Muted {
			s.FailedBy[res.Severity]++
		}
		if res.ClusterName != "" {
			key := res.Region + "/" + res.ClusterName
			if s.ByCluster[key] == nil {
				s.ByCluster[key] = map[Status]int{}
			}
			s.ByCluster[key][res.Status]++
		}
	}
	s.Clusters = len(s.ByCluster)
	s.ScopeErrors = len(r.Errors)
	return s
}

// FailsAtOrAbove reports whether any unmuted FAIL has severity ≥ min. SeverityUnset never fails.
func FailsAtOrAbove(r *Report, min Severity) bool {
	if min == SeverityUnset {
		return false
	}
	for _, res := range r.Results {
		if res.Status == Fail && !res.Muted && res.Severity >= min {
			return true
		}
	}
	return false
}

// MuteRule silences a (cluster, check) pair until an expiry date. A muted result is still
// reported, marked muted, and never fails the exit code.
type MuteRule struct {
	Cluster string    `json:"cluster" koanf:"cluster"` // glob, e.g. "dev-*"; empty matches all
	Check   string    `json:"check" koanf:"check"`     // check id or glob
	Reason  string    `json:"reason" koanf:"reason"`
	Expires time.Time `json:"expires" koanf:"expires"` // zero = never
}

// Matches reports whether the rule applies to a result at time now.
func (m MuteRule) Matches(r Result, now time.Time) bool {
	if !m.Expires.IsZero() && !now.Before(m.Expires) {
		return false
	}
	return globMatch(m.Check, r.CheckID) && globMatch(m.Cluster, r.ClusterName)
}

func globMatch(pattern, s string) bool {
	if pattern == "" || pattern == "*" {
		return true
	}
	ok, err := path.Match(pattern, s)
	if err != nil {
		return strings.EqualFold(pattern, s)
	}
	return ok
}

// ApplyMutes marks results matched by any rule.
func ApplyMutes(results []Result, rules []MuteRule, now time.Time) {
	for i := range results {
		for _, m := range rules {
			if m.Matches(results[i], now) {
				results[i].Muted = true
				results[i].MuteReason = m.Reason
				break
			}
		}
	}
}

// Permissions returns the sorted union of the IAM actions the checks need.
func Permissions(checks []Check, extra ...string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(a string) {
		if a != "" && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	for _, c := range checks {
		for _, p := range c.Permissions {
			add(p)
		}
	}
	for _, p := range extra {
		add(p)
	}
	sort.Strings(out)
	return out
}

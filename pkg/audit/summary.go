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
	// Accounts is filled for multi-account scans only (see SummarizeAccounts).
	Accounts []AccountSummary `json:"accounts,omitempty"`
}

// Summarize counts a report's results.
func Summarize(r *Report) Summary {
	s := Summary{ByStatus: map[Status]int{}, FailedBy: map[Severity]int{}, ByCluster: map[string]map[Status]int{}}
	multi := spansAccounts(r)
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
			if multi {
				// Two accounts may each have a cluster of the same name in the same region.
				key = res.AccountID + "/" + key
			}
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

func spansAccounts(r *Report) bool {
	first := ""
	for _, res := range r.Results {
		if first == "" {
			first = res.AccountID
		} else if res.AccountID != "" && res.AccountID != first {
			return true
		}
	}
	return false
}

// Account statuses in AccountSummary.
const (
	AccountComplete   = "complete"
	AccountIncomplete = "incomplete"
	AccountFailed     = "failed"
)

// AccountSummary counts one account's share of a multi-account report.
type AccountSummary struct {
	AccountID string `json:"accountId"`
	Name      string `json:"name,omitempty"`
	// Status is complete (no scope errors), incomplete (some scopes failed) or failed (nothing
	// in the account could be scanned, for example its role could not be assumed).
	Status string `json:"status"`
	// Regions counts regions scanned to completion.
	Regions     int              `json:"regions"`
	Clusters    int              `json:"clusters"`
	Total       int              `json:"total"`
	ByStatus    map[Status]int   `json:"byStatus"`
	FailedBy    map[Severity]int `json:"failedBySeverity"`
	Muted       int              `json:"muted"`
	ScopeErrors int              `json:"scopeErrors"`
}

// SummarizeAccounts counts results and scope errors per account, in the order of accounts.
// Accounts without any result (nothing found, or nothing scanned) are included.
func SummarizeAccounts(r *Report, accounts []string) []AccountSummary {
	idx := map[string]int{}
	out := make([]AccountSummary, len(accounts))
	regions := make([]map[string]bool, len(accounts))
	clusters := make([]map[string]bool, len(accounts))
	completed := make([]bool, len(accounts))
	for i, a := range accounts {
		idx[a] = i
		out[i] = AccountSummary{AccountID: a, ByStatus: map[Status]int{}, FailedBy: map[Severity]int{}}
		regions[i], clusters[i] = map[string]bool{}, map[string]bool{}
	}
	for _, res := range r.Results {
		i, ok := idx[res.AccountID]
		if !ok {
			continue
		}
		s := &out[i]
		s.Total++
		s.ByStatus[res.Status]++
		if res.Muted {
			s.Muted++
		}
		if res.Status == Fail && !res.Muted {
			s.FailedBy[res.Severity]++
		}
		if res.ClusterName != "" {
			clusters[i][res.Region+"/"+res.ClusterName] = true
		}
	}
	for _, c := range r.Completed {
		if i, ok := idx[c.AccountID]; ok {
			completed[i] = true
			if c.Target == "" {
				regions[i][c.Region] = true
			}
		}
	}
	for _, e := range r.Errors {
		if i, ok := idx[e.Scope.AccountID]; ok {
			out[i].ScopeErrors++
		}
	}
	for i := range out {
		out[i].Regions = len(regions[i])
		out[i].Clusters = len(clusters[i])
		switch {
		case out[i].ScopeErrors == 0:
			out[i].Status = AccountComplete
		case !completed[i] && out[i].Total == 0:
			out[i].Status = AccountFailed
		default:
			out[i].Status = AccountIncomplete
		}
	}
	return out
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

package fakeaws

import (
	"sort"
	"strings"
	"time"
)

// Bound is the critical-path lower bound of a run: the shortest wall time any client could
// achieve making the same logical calls against this fake's latency and quotas.
type Bound struct {
	Total time.Duration
	// Critical names the (scope, API) whose last call ends last, and Why says what held it there.
	Critical, Why string
	// Depth is the longest dependent call chain, in calls.
	Depth int
	APIs  []APIBound
}

// APIBound is one (throttling scope, API): its earliest possible first call and end.
type APIBound struct {
	Bucket, API string
	Calls       int
	Start, End  time.Duration
	Why         string
}

// LowerBound computes the bound from the calls counted since Start or Reset. known lists APIs
// whose answers the caller already has (an event names its cluster, so "eks:ListClusters"), which
// removes them from the dependency chains.
//
// For every API, the first call cannot start before each API it depends on has answered once
// (start(d) + latency). For every (scope, API) with n calls, the last call cannot start before
// start + max((pages-1) × latency, (n - burst) / rate): a listing's pages follow one another, and
// a token bucket admits no more than burst + rate × t calls in t. It ends one latency later.
// Publishing depends on "*": a region's last import cannot start before every collection call of
// that region has ended. The bound is the latest end. Retries, CPU time and client overheads are
// not in it, so no implementation can beat it.
func (s *Server) LowerBound(st Stats, known ...string) Bound {
	L := s.opts.Latency
	isKnown := map[string]bool{}
	for _, k := range known {
		isKnown[k] = true
	}
	called := map[string]bool{}
	for _, a := range st.APIs {
		called[a.API] = true
	}
	start := map[string]time.Duration{}
	depth := map[string]int{}
	var visit func(api string, seen map[string]bool) time.Duration
	visit = func(api string, seen map[string]bool) time.Duration {
		if v, ok := start[api]; ok {
			return v
		}
		if seen[api] {
			return 0 // a cycle would be a mistake in routes(); do not loop on it
		}
		seen[api] = true
		var t time.Duration
		d := 0
		for _, dep := range s.deps[api] {
			if dep == "*" || isKnown[dep] || !called[dep] {
				continue
			}
			if v := visit(dep, seen) + L; v > t {
				t = v
			}
			d = max(d, depth[dep]+1)
		}
		start[api], depth[api] = t, d
		return t
	}
	var b Bound
	var publish []APIStats
	regionEnd := map[string]time.Duration{}
	for _, a := range st.APIs {
		if a.Calls == 0 {
			continue
		}
		if hasDep(s.deps[a.API], "*") {
			publish = append(publish, a)
			continue
		}
		ab := s.apiBound(a, visit(a.API, map[string]bool{}))
		b.Depth = max(b.Depth, depth[a.API]+a.LongestChain)
		if !strings.HasPrefix(a.API, "securityhub:") && ab.End > regionEnd[a.Bucket] {
			regionEnd[a.Bucket] = ab.End
		}
		b.APIs = append(b.APIs, ab)
	}
	for _, a := range publish {
		first := L // at least one collection call answered before the first result exists
		ab := s.apiBound(a, first)
		if e := regionEnd[a.Bucket] + L; e > ab.End {
			ab.End, ab.Why = e, "after the region's last collection call"
		}
		b.APIs = append(b.APIs, ab)
	}
	if len(publish) > 0 {
		b.Depth++
	}
	sort.Slice(b.APIs, func(i, j int) bool { return b.APIs[i].End > b.APIs[j].End })
	if len(b.APIs) > 0 {
		top := b.APIs[0]
		b.Total, b.Critical, b.Why = top.End, top.Bucket+" "+top.API, top.Why
	}
	return b
}

func hasDep(ds []string, d string) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

func (s *Server) apiBound(a APIStats, start time.Duration) APIBound {
	L := s.opts.Latency
	q := s.quota(a.API)
	spread, why := time.Duration(max(a.LongestChain-1, 0))*L, "dependency chain"
	if a.LongestChain > 1 {
		why = "pagination"
	}
	if q.Rate > 0 && a.Calls > q.Burst {
		if t := time.Duration(float64(a.Calls-q.Burst) / q.Rate * float64(time.Second)); t > spread {
			spread, why = t, "throttle"
		}
	}
	return APIBound{Bucket: a.Bucket, API: a.API, Calls: a.Calls, Start: start, End: start + spread + L, Why: why}
}

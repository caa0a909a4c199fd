package audit

import (
	"strings"
	"testing"
	"time"
)

// FuzzMuteRuleMatches: mute patterns come from users' config files. Any pattern and any result
// is safe, "*" and "" match everything, a pattern without glob characters matches exactly its
// own value, and an expired rule never matches.
func FuzzMuteRuleMatches(f *testing.F) {
	f.Add("dev-*", "EKS_*", "dev-1", "EKS_AUDIT_LOGGING")
	f.Add("", "", "", "")
	f.Add("[", "[a-", "[", "x")
	f.Add("prod", "EKS_SECRETS_ENCRYPTION", "PROD", "eks_secrets_encryption")
	f.Add("\\", "*\\", "a\\", "b")
	f.Add("a/b", "?", "a/b", "x")
	f.Add("\xff", "\x00", "\xff", "\x00")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, cluster, check, rCluster, rCheck string) {
		r := Result{ClusterName: rCluster, CheckID: rCheck}
		m := MuteRule{Cluster: cluster, Check: check, Reason: "fuzz"}
		got := m.Matches(r, now)
		if (cluster == "" || cluster == "*") && (check == "" || check == "*") && !got {
			t.Fatalf("wildcard rule %+v did not match %+v", m, r)
		}
		if !strings.ContainsAny(cluster+check, "*?[\\") && got != (globOrEmpty(cluster, rCluster) && globOrEmpty(check, rCheck)) {
			t.Fatalf("literal rule %+v on %+v: matched = %v", m, r, got)
		}
		if cluster == rCluster && check == rCheck && !strings.ContainsAny(cluster+check, "*?[\\") && !got {
			t.Fatalf("rule %+v does not match its own values", m)
		}
		m.Expires = now
		if m.Matches(r, now) {
			t.Fatalf("expired rule %+v matched", m)
		}
		results := append(make([]Result, 0, 1), r)
		ApplyMutes(results, []MuteRule{{Cluster: cluster, Check: check, Reason: "fuzz"}}, now)
		if len(results) != 1 || results[0].Muted != got {
			t.Fatalf("ApplyMutes disagrees with Matches")
		}
	})
}

func globOrEmpty(pattern, s string) bool { return pattern == "" || pattern == s }

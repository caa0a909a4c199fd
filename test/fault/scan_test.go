package fault

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/test/harness"
	"github.com/sek-dev/sek/test/invariants"
)

// Every call of every API is throttled on its first attempt, with each service's real throttling
// error. The SDK's standard retries absorb the storm: the scan completes with the same verdicts.
func TestThrottlingStormOnEveryAPIIsAbsorbed(t *testing.T) {
	f := newFixture(t)
	p := f.faults()
	p.Add(&harness.Rule{Name: "throttle", Match: harness.FirstAttempt(harness.Any()), Action: harness.Throttle()})
	run := f.publish(regionArgs()...)
	f.finish(run)
	if p.Fired("throttle") < 10 {
		t.Fatalf("the storm throttled only %d calls", p.Fired("throttle"))
	}
	throttledOps := map[string]bool{}
	for _, c := range p.Calls() {
		if c.Fault != "" {
			throttledOps[c.Service+":"+c.Operation] = true
		}
	}
	for _, op := range []string{"sts:GetCallerIdentity", "eks:ListClusters", "eks:DescribeCluster", "kms:DescribeKey"} {
		if !throttledOps[op] {
			t.Errorf("%s was never throttled; throttled: %v", op, throttledOps)
		}
	}
	invariants.Complete(t, run)
	invariants.ScanFinished(t, run, all...)
	invariants.SameVerdicts(t, baseline(t), run, all)
	invariants.ResultStatus(t, run, prod, "EKS_SECRETS_KMS_KEY_HEALTH", audit.Pass)
	invariants.ResultStatus(t, run, analytics, "EKS_SECRETS_KMS_KEY_HEALTH", audit.Fail)
	f.hubHeld(run)
}

// DescribeCluster of one cluster stays throttled past every retry: that cluster is reported with
// the throttling error, every other scope completes, and the exit code says incomplete.
func TestPersistentThrottlingOfOneClusterIsReported(t *testing.T) {
	f := newFixture(t)
	p := f.faults()
	p.Add(&harness.Rule{Name: "throttle", Match: harness.OnResource(analytics.Cluster, harness.Op("eks", "DescribeCluster")), Action: harness.Throttle()})
	run := f.publish(regionArgs("--max-attempts", "3")...)
	f.finish(run)
	if got := p.Fired("throttle"); got != 3 {
		t.Errorf("DescribeCluster(analytics) was tried %d times, want 3 (--max-attempts)", got)
	}
	invariants.ScanFinished(t, run, prod, dev, edge)
	invariants.SameVerdicts(t, baseline(t), run, []invariants.Scope{prod, dev, edge})
	invariants.Unreachable(t, run, "ThrottlingException", analytics)
	f.hubHeld(run, analytics)
}

// The first answer to every EKS DescribeCluster is cut off halfway through its body. The SDK
// does not retry that by itself (a deserialization error); Sek's retryer does.
func TestResponseCutMidBodyIsRetried(t *testing.T) {
	f := newFixture(t)
	p := f.faults()
	p.Add(&harness.Rule{Name: "cut", Match: harness.FirstAttempt(harness.Op("eks", "DescribeCluster")), Action: harness.CutMidResponse()})
	run := f.publish(regionArgs()...)
	f.finish(run)
	if p.Fired("cut") != len(all) {
		t.Errorf("cut %d responses, want %d", p.Fired("cut"), len(all))
	}
	invariants.Complete(t, run)
	invariants.ScanFinished(t, run, all...)
	invariants.SameVerdicts(t, baseline(t), run, all)
	f.hubHeld(run)
}

// Transient 500 and 503 answers on every EKS and KMS call are retried.
func TestTransientServerErrorsAreRetried(t *testing.T) {
	f := newFixture(t)
	p := f.faults()
	p.Add(
		&harness.Rule{Name: "500", Match: harness.FirstAttempt(harness.Service("eks")), Action: harness.ServerError(http.StatusInternalServerError)},
		&harness.Rule{Name: "503", Match: harness.FirstAttempt(harness.Service("kms")), Action: harness.ServerError(http.StatusServiceUnavailable)},
	)
	run := f.publish(regionArgs()...)
	f.finish(run)
	if p.Fired("500") == 0 || p.Fired("503") == 0 {
		t.Fatalf("faults not injected: 500×%d 503×%d", p.Fired("500"), p.Fired("503"))
	}
	invariants.Complete(t, run)
	invariants.ScanFinished(t, run, all...)
	invariants.SameVerdicts(t, baseline(t), run, all)
	f.hubHeld(run)
}

// ListClusters in one region keeps failing with 503: the region is reported, the others complete.
func TestPersistentServerErrorInOneRegionIsReported(t *testing.T) {
	f := newFixture(t)
	p := f.faults()
	p.Add(&harness.Rule{Name: "503", Match: harness.InRegion(edge.Region, harness.Op("eks", "ListClusters")), Action: harness.ServerError(http.StatusServiceUnavailable)})
	run := f.publish(regionArgs("--max-attempts", "2")...)
	f.finish(run)
	invariants.ScanFinished(t, run, prod, dev, analytics)
	invariants.SameVerdicts(t, baseline(t), run, []invariants.Scope{prod, dev, analytics})
	invariants.Unreachable(t, run, "ServiceUnavailableException", invariants.Scope{Region: edge.Region})
	f.hubHeld(run, invariants.Scope{Region: edge.Region})
}

// A missing permission for one API (kms:GetKeyRotationStatus) turns only the checks that need it
// into ERROR results naming the denied action; every scope still completes.
func TestAccessDeniedOnOneAPIIsAnErrorResultNotAVerdict(t *testing.T) {
	f := newFixture(t)
	p := f.faults()
	p.Add(&harness.Rule{Name: "deny", Match: harness.Op("kms", "GetKeyRotationStatus"), Action: harness.AccessDenied()})
	run := f.publish(regionArgs()...)
	f.finish(run)
	if p.Fired("deny") == 0 {
		t.Fatal("GetKeyRotationStatus was never called")
	}
	invariants.ScanFinished(t, run, all...)
	base := baseline(t)
	invariants.SameVerdicts(t, base, run, all, "prod-payments/EKS_SECRETS_KMS_KEY_HEALTH", "analytics/EKS_SECRETS_KMS_KEY_HEALTH")
	for _, s := range []invariants.Scope{prod, analytics} {
		r := invariants.ResultStatus(t, run, s, "EKS_SECRETS_KMS_KEY_HEALTH", audit.Error)
		assertContains(t, r.Message, "AccessDeniedException")
		assertContains(t, r.Message, "kms:GetKeyRotationStatus")
	}
	if run.Doc != nil {
		if got, want := run.Doc.Summary.ByStatus[audit.Error], base.Doc.Summary.ByStatus[audit.Error]+2; got != want {
			t.Errorf("summary counts %d ERROR results, want %d (the baseline's and the two denied)", got, want)
		}
	}
	f.hubHeld(run)
}

// Every call in one region is denied: that region is reported, the others complete.
func TestAccessDeniedInOneRegionIsReported(t *testing.T) {
	f := newFixture(t)
	p := f.faults()
	p.Add(&harness.Rule{Name: "deny", Match: harness.InRegion(analytics.Region, nil), Action: harness.AccessDenied()})
	run := f.publish(regionArgs()...)
	f.finish(run)
	invariants.ScanFinished(t, run, prod, dev, edge)
	invariants.SameVerdicts(t, baseline(t), run, []invariants.Scope{prod, dev, edge})
	invariants.Unreachable(t, run, "AccessDeniedException", invariants.Scope{Region: analytics.Region})
	f.hubHeld(run, invariants.Scope{Region: analytics.Region})
}

// The KMS key of one cluster denies every call (a key policy, often a cross-account key): only
// that cluster's key check is an ERROR; the other cluster's key is still judged.
func TestAccessDeniedOnOneClustersKMSKey(t *testing.T) {
	key := secretsKey[prod.Cluster]
	if key == "" {
		t.Fatal("prod-payments has no secrets key in the seed")
	}
	f := newFixture(t)
	p := f.faults()
	p.Add(&harness.Rule{Name: "deny", Match: harness.OnResource(key, harness.Service("kms")), Action: harness.AccessDenied()})
	run := f.publish(regionArgs()...)
	f.finish(run)
	if p.Fired("deny") == 0 {
		t.Fatal("the key was never read")
	}
	invariants.ScanFinished(t, run, all...)
	invariants.SameVerdicts(t, baseline(t), run, all, "prod-payments/EKS_SECRETS_KMS_KEY_HEALTH")
	r := invariants.ResultStatus(t, run, prod, "EKS_SECRETS_KMS_KEY_HEALTH", audit.Error)
	assertContains(t, r.Message, key)
	assertContains(t, r.Message, "AccessDeniedException")
	invariants.ResultStatus(t, run, analytics, "EKS_SECRETS_KMS_KEY_HEALTH", audit.Fail)
	f.hubHeld(run)
}

// A region the account has not opted in to rejects the credentials (UnrecognizedClientException
// on JSON APIs, AuthFailure on EC2/query APIs). It is reported; the enabled region completes.
func TestRegionNotOptedInIsReported(t *testing.T) {
	f := newFixture(t)
	p := f.faults()
	p.Add(&harness.Rule{Name: "optin", Match: harness.InRegion("me-south-1", nil), Action: harness.RegionNotOptedIn()})
	run := f.publish("scan", "--output", "json", "--no-progress", "--region", "us-east-1", "--region", "me-south-1")
	f.finish(run)
	if p.Fired("optin") == 0 {
		t.Fatal("me-south-1 was never called")
	}
	invariants.ScanFinished(t, run, prod, dev)
	invariants.Unreachable(t, run, "UnrecognizedClientException", invariants.Scope{Region: "me-south-1"})
	invariants.Unreachable(t, run, "region me-south-1 is probably not enabled for this account", invariants.Scope{Region: "me-south-1"})
	f.hubHeld(run)
}

// DescribeCluster of one cluster never answers. --call-timeout bounds that cluster; the rest of
// the scan completes and no goroutine is left behind.
func TestHungCallIsBoundedByCallTimeout(t *testing.T) {
	f := newFixture(t)
	p := f.faults()
	p.Add(&harness.Rule{Name: "hang", Match: harness.OnResource(dev.Cluster, harness.Op("eks", "DescribeCluster")), Action: p.Hang()})
	run := f.publish(regionArgs("--call-timeout", "5s")...)
	f.finish(run)
	invariants.ScanFinished(t, run, prod, analytics, edge)
	invariants.SameVerdicts(t, baseline(t), run, []invariants.Scope{prod, analytics, edge})
	invariants.Unreachable(t, run, "deadline exceeded", dev)
	f.hubHeld(run, dev)
}

func assertContains(t *testing.T, s, sub string) {
	t.Helper()
	if !containsFold(s, sub) {
		t.Errorf("%q does not contain %q", s, sub)
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

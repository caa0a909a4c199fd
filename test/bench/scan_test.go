package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/awsclient"
	"github.com/sek-dev/sek/pkg/config"
	"github.com/sek-dev/sek/pkg/runner"
	"github.com/sek-dev/sek/test/fakeaws"
)

// scanInProcess runs the shared scan pipeline (runner.Scan, what the CLI and the Lambda call)
// against srv and measures it like RunCLI, without the child process.
func scanInProcess(tb testing.TB, srv *fakeaws.Server, c Case) (Result, *audit.Report) {
	tb.Helper()
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		tb.Setenv(k, v)
	}
	cfg, err := config.Load(config.Sources{Environ: []string{}}, runner.Checks())
	if err != nil {
		tb.Fatal(err)
	}
	if c.Serial {
		cfg.Concurrency = config.Concurrency{Regions: 1, Clusters: 1}
	}
	ctx := context.Background()
	regions := c.Estate.RegionList()
	var clusters []string
	if c.Cluster != "" {
		regions, clusters = regions[:1], []string{c.Cluster}
	}
	srv.Reset()
	began := time.Now()
	base, err := awsclient.Load(ctx, awsclient.Options{Region: regions[0]})
	if err != nil {
		tb.Fatal(err)
	}
	rep, err := runner.Scan(ctx, awsclient.NewFactory(base), runner.Request{Config: cfg, Regions: regions, Clusters: clusters})
	wall := time.Since(began)
	if err != nil {
		tb.Fatalf("scan: %v", err)
	}
	res := Result{Case: c, Wall: wall, Stats: srv.Stats(), Results: len(rep.Results)}
	res.Bound = srv.LowerBound(res.Stats, c.Known()...)
	return res, rep
}

// TestHarnessSmoke keeps the fake endpoint honest in `make test`: a small estate scanned through
// the real pipeline must hit only served APIs, make no duplicate call, finish every scope, and
// take no less than the lower bound (a bound the scan could beat would be wrong).
func TestHarnessSmoke(t *testing.T) {
	est := fakeaws.NewEstate(1, 2, 2)
	opts := fakeaws.DefaultOptions(est)
	opts.Latency = 5 * time.Millisecond
	srv := fakeaws.Start(opts)
	defer srv.Close()
	res, rep := scanInProcess(t, srv, Case{Name: "smoke", Estate: est})
	if len(res.Stats.Unrouted) > 0 {
		t.Fatalf("the scan called APIs the fake does not serve; add handlers in test/fakeaws/routes.go: %v", res.Stats.Unrouted)
	}
	if res.Stats.Duplicates > 0 {
		t.Fatalf("duplicate identical calls: %v", res.Stats.DuplicateCalls)
	}
	if len(rep.Errors) > 0 {
		t.Fatalf("scan errors: %v", rep.Errors)
	}
	clusters := map[string]bool{}
	for _, r := range rep.Results {
		clusters[r.ClusterName] = true
		if r.Status == audit.Error {
			t.Errorf("%s on %s is ERROR against the fake: %s", r.CheckID, r.ClusterName, r.Message)
		}
	}
	if !clusters["bench-000"] || !clusters["bench-001"] {
		t.Fatalf("results cover clusters %v, want bench-000 and bench-001", clusters)
	}
	if n := res.Stats.CallsTo("eks:DescribeCluster"); n != 2 {
		t.Fatalf("%d DescribeCluster calls for 2 clusters", n)
	}
	if res.Bound.Total <= 0 || res.Wall < res.Bound.Total {
		t.Fatalf("wall %v is below the lower bound %v: the bound is wrong", res.Wall, res.Bound.Total)
	}
}

// BenchmarkScan runs the scan pipeline in-process for the three estate sizes at the default
// 100 ms latency and quotas; `make bench` runs it with -benchtime=1x.
func BenchmarkScan(b *testing.B) {
	for _, size := range []struct {
		name string
		est  fakeaws.Estate
	}{
		{"clusters=1", fakeaws.NewEstate(1, 1, 3)},
		{"clusters=100", fakeaws.NewEstate(2, 50, 3)},
		{"clusters=1020", fakeaws.NewEstate(17, 60, 3)},
	} {
		b.Run(size.name, func(b *testing.B) {
			srv := fakeaws.Start(fakeaws.DefaultOptions(size.est))
			defer srv.Close()
			b.ReportAllocs()
			var last Result
			for b.Loop() {
				last, _ = scanInProcess(b, srv, Case{Name: size.name, Estate: size.est})
			}
			b.ReportMetric(last.Wall.Seconds(), "wall-s")
			b.ReportMetric(last.Bound.Total.Seconds(), "bound-s")
			b.ReportMetric(last.Ratio(), "ratio")
			b.ReportMetric(last.CallsPerCluster(), "calls/cluster")
			b.ReportMetric(float64(last.Stats.Duplicates), "duplicates")
			b.ReportMetric(float64(last.Stats.Attempts-last.Stats.Calls), "retries")
		})
	}
}

// BenchmarkEventAudit measures one cluster named by an event, in a region with 60 clusters.
func BenchmarkEventAudit(b *testing.B) {
	est := fakeaws.NewEstate(1, 60, 3)
	srv := fakeaws.Start(fakeaws.DefaultOptions(est))
	defer srv.Close()
	var last Result
	for b.Loop() {
		last, _ = scanInProcess(b, srv, Case{Name: "event", Estate: est, Cluster: fakeaws.ClusterName(7)})
	}
	b.ReportMetric(last.Wall.Seconds(), "wall-s")
	b.ReportMetric(last.Bound.Total.Seconds(), "bound-s")
	b.ReportMetric(last.Ratio(), "ratio")
	b.ReportMetric(float64(last.Stats.Calls), "calls")
}

// TestNamedClusterIsDescribedWithoutListing checks the event-audit path: a scan narrowed to one
// cluster describes it directly (no eks:ListClusters), describes it once, still reports a name
// that does not exist as not found, and resolves the account alongside the first calls.
func TestNamedClusterIsDescribedWithoutListing(t *testing.T) {
	est := fakeaws.NewEstate(1, 5, 1)
	opts := fakeaws.DefaultOptions(est)
	opts.Latency = 20 * time.Millisecond
	srv := fakeaws.Start(opts)
	defer srv.Close()
	res, rep := scanInProcess(t, srv, Case{Name: "event", Estate: est, Cluster: "bench-003"})
	if n := res.Stats.CallsTo("eks:ListClusters"); n != 0 {
		t.Errorf("a named cluster cost %d ListClusters calls, want 0", n)
	}
	if n := res.Stats.CallsTo("eks:DescribeCluster"); n != 1 {
		t.Errorf("%d DescribeCluster calls, want 1", n)
	}
	if len(rep.Errors) > 0 || len(rep.Results) == 0 {
		t.Fatalf("errors %v, %d results", rep.Errors, len(rep.Results))
	}
	for _, r := range rep.Results {
		if r.ClusterName != "bench-003" || r.AccountID != est.Account {
			t.Fatalf("result %s for cluster %q account %q", r.CheckID, r.ClusterName, r.AccountID)
		}
	}
	if res.Stats.Duplicates > 0 {
		t.Fatalf("duplicates: %v", res.Stats.DuplicateCalls)
	}

	_, rep = scanInProcess(t, srv, Case{Name: "missing", Estate: est, Cluster: "no-such-cluster"})
	if len(rep.Errors) != 1 || rep.Errors[0].Stage != "discover" || !strings.Contains(rep.Errors[0].Message, "not found") {
		t.Fatalf("a missing cluster gave errors %v, want one discover error saying not found", rep.Errors)
	}
}

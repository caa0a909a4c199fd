// Package fault is Sek's fault suite: real network faults (Toxiproxy) and real AWS error
// responses (a fault-injecting proxy) between Sek and moto, with the invariants of
// test/invariants asserted on every case. docs/reliability.md lists each case.
package fault

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eks"

	"github.com/sek-dev/sek/internal/cli"
	"github.com/sek-dev/sek/internal/demo"
	"github.com/sek-dev/sek/pkg/awsclient"
	"github.com/sek-dev/sek/test/harness"
	"github.com/sek-dev/sek/test/invariants"
)

// The estate every case scans: demo.Clusters() seeded once into one moto for the package. Scans
// only read it; publishing cases compare Security Hub before and after themselves.
var (
	moto *harness.Moto
	// secretsKey maps a cluster name to the KMS key ARN encrypting its Secrets.
	secretsKey = map[string]string{}
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	var err error
	moto, err = harness.LaunchMoto(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fault suite:", err)
		return 1
	}
	defer moto.Stop()
	if err := moto.Export(); err != nil {
		fmt.Fprintln(os.Stderr, "fault suite:", err)
		return 1
	}
	base, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fault suite:", err)
		return 1
	}
	cfgFor := awsclient.NewFactory(base).Config
	if err := demo.Seed(ctx, cfgFor, demo.Clusters()); err != nil {
		fmt.Fprintln(os.Stderr, "fault suite: seed:", err)
		return 1
	}
	for _, c := range demo.Clusters() {
		out, err := eks.NewFromConfig(cfgFor(c.Region)).DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(c.Name)})
		if err != nil {
			fmt.Fprintln(os.Stderr, "fault suite:", err)
			return 1
		}
		for _, e := range out.Cluster.EncryptionConfig {
			if e.Provider != nil {
				secretsKey[c.Name] = aws.ToString(e.Provider.KeyArn)
			}
		}
	}
	return m.Run()
}

// Scopes of the demo estate.
var (
	prod      = invariants.Scope{Region: "us-east-1", Cluster: "prod-payments"}
	dev       = invariants.Scope{Region: "us-east-1", Cluster: "dev-sandbox"}
	analytics = invariants.Scope{Region: "eu-west-1", Cluster: "analytics"}
	edge      = invariants.Scope{Region: "ap-southeast-2", Cluster: "edge"}
	all       = []invariants.Scope{prod, dev, analytics, edge}
)

// regionArgs scans the demo regions.
func regionArgs(extra ...string) []string {
	args := []string{"scan", "--output", "json", "--no-progress"}
	for _, r := range demo.Regions() {
		args = append(args, "--region", r)
	}
	return append(args, extra...)
}

var (
	baselineOnce sync.Once
	baselineRun  invariants.Run
)

// baseline is a fault-free scan of the demo regions, straight against moto, run once: every case
// compares its verdicts with it.
func baseline(t *testing.T) invariants.Run {
	t.Helper()
	baselineOnce.Do(func() {
		f := &fixture{t: t, endpoint: moto.URL}
		baselineRun = f.sek(regionArgs()...)
	})
	if baselineRun.Doc == nil || len(baselineRun.Doc.Errors) != 0 {
		t.Fatalf("the fault-free baseline scan failed (exit %d):\n%s", baselineRun.Code, baselineRun.Stderr)
	}
	return baselineRun
}

// fixture is one fault case: a goroutine baseline, the endpoint Sek talks to, and the servers
// to close before the leak check.
type fixture struct {
	t        *testing.T
	leaks    *invariants.Goroutines
	endpoint string
	closers  []func()
	// hub is the Security Hub test proxy of a publishing case; it validates every imported finding.
	hub *harness.Proxy
	// before is Security Hub's state when publish started.
	before invariants.Hub
}

func newFixture(t *testing.T) *fixture {
	return &fixture{t: t, leaks: invariants.TrackGoroutines(), endpoint: moto.URL}
}

// faults puts a fault proxy in front of Security Hub's test proxy in front of moto, and points
// Sek at it, so every case can also publish (see publish).
func (f *fixture) faults() *harness.FaultProxy { return f.publishing() }

// publish runs a scan with --publish, first recording Security Hub's state for hubHeld.
func (f *fixture) publish(args ...string) invariants.Run {
	f.t.Helper()
	f.before = snapshot(f.t)
	return f.sek(append(args, "--publish")...)
}

// hubHeld asserts invariants 3 and 4 after publish: nothing archived or resolved; the findings of
// the unreachable scopes and of ERROR results untouched; every other result's finding imported or
// reported by Id.
func (f *fixture) hubHeld(run invariants.Run, unreachable ...invariants.Scope) {
	f.t.Helper()
	if f.before == nil {
		f.t.Fatal("hubHeld needs a run started with publish")
	}
	after := snapshot(f.t)
	invariants.NothingArchivedOrResolved(f.t, f.before, after)
	for _, s := range unreachable {
		ids := regionIDs(f.before, s.Region)
		if s.Cluster != "" {
			ids = idsOfCluster(f.before, s)
		}
		invariants.Untouched(f.t, f.before, after, ids)
	}
	publishable, errored := invariants.FindingIDs(run)
	invariants.Untouched(f.t, f.before, after, errored)
	invariants.NoFindingLost(f.t, run, f.before, after, publishable)
}

// sek runs the CLI in-process against the fixture's endpoint, recovering any panic.
func (f *fixture) sek(args ...string) invariants.Run {
	f.t.Helper()
	f.t.Setenv("AWS_ENDPOINT_URL", f.endpoint)
	var out, errb bytes.Buffer
	run := invariants.Guard(func() invariants.Run {
		code := cli.Main(context.Background(), args, cli.IO{Stdout: &out, Stderr: &errb, Environ: os.Environ()})
		return invariants.Run{Code: code}
	})
	run.Stdout, run.Stderr = out.String(), errb.String()
	if strings.Contains(strings.Join(args, " "), "--output json") {
		_ = invariants.ParseDocument(&run) // invariants that need the document say so when it is missing
	}
	return run
}

// finish closes the fault servers and asserts invariant 5 (no panic, no goroutine leak).
func (f *fixture) finish(run invariants.Run) {
	f.t.Helper()
	for i := len(f.closers) - 1; i >= 0; i-- {
		f.closers[i]()
	}
	invariants.NoPanic(f.t, run)
	f.leaks.Check(f.t)
	if f.t.Failed() {
		f.t.Logf("exit %d\nstderr:\n%s", run.Code, run.Stderr)
	}
}

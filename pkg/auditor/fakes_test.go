package auditor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/config"
	"github.com/sek-dev/sek/pkg/eks/inventory"
	"github.com/sek-dev/sek/pkg/org"
	"github.com/sek-dev/sek/pkg/runner"
	"github.com/sek-dev/sek/pkg/securityhub"
)

const testAccount = "123456789012"

// estate is what the fake AWS holds: clusters per region, and which are being deleted.
type estate struct {
	clusters map[string][]string
	deleting map[string]bool // region/name
	// slow makes each cluster take this long, so deadlines can be exercised.
	slow time.Duration
	// failCollect makes collecting these clusters fail (region/name).
	failCollect map[string]bool
}

func demoEstate() *estate {
	return &estate{
		clusters: map[string][]string{
			"us-east-1":      {"dev-sandbox", "prod-payments"},
			"eu-west-1":      {"analytics"},
			"ap-southeast-2": {"edge"},
		},
		deleting: map[string]bool{"us-east-1/dev-sandbox": true},
	}
}

func (e *estate) regions() []string {
	var out []string
	for r := range e.clusters {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// fakeScanner follows the engine's contract: per-cluster results, per-cluster and per-region
// completed scopes, not-started errors after StopStartingAt, discover errors for unknown names.
type fakeScanner struct {
	e    *estate
	mu   sync.Mutex
	reqs []runner.Request
	// deadlines records the scan context's deadline per call.
	deadlines []time.Time
}

func (s *fakeScanner) Regions(context.Context) ([]string, error) { return s.e.regions(), nil }

func (s *fakeScanner) Scan(ctx context.Context, req runner.Request) (*audit.Report, error) {
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	dl, _ := ctx.Deadline()
	s.deadlines = append(s.deadlines, dl)
	s.mu.Unlock()
	rep := &audit.Report{Regions: req.Regions}
	found := map[string]bool{}
	for _, region := range req.Regions {
		regionOK := true
		for _, name := range s.e.clusters[region] {
			if len(req.Clusters) > 0 && !slices.Contains(req.Clusters, name) {
				continue
			}
			found[name] = true
			scope := audit.ScopeRef{AccountID: testAccount, Region: region, Target: name}
			if !req.StopStartingAt.IsZero() && time.Now().After(req.StopStartingAt) {
				rep.Errors = append(rep.Errors, audit.ScanError{Scope: scope, Stage: "not-started", Message: "not scanned: the time budget ran out"})
				regionOK = false
				continue
			}
			if s.e.slow > 0 {
				select {
				case <-time.After(s.e.slow):
				case <-ctx.Done():
					rep.Errors = append(rep.Errors, audit.ScanError{Scope: scope, Stage: "collect", Message: ctx.Err().Error()})
					regionOK = false
					continue
				}
			}
			if s.e.failCollect[region+"/"+name] {
				rep.Errors = append(rep.Errors, audit.ScanError{Scope: scope, Stage: "collect", Message: "AccessDeniedException"})
				regionOK = false
				continue
			}
			arn := fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", region, testAccount, name)
			for _, r := range []audit.Result{
				{CheckID: "EKS_A", Status: audit.Pass, Severity: audit.High},
				{CheckID: "EKS_B", Status: audit.Fail, Severity: audit.Critical},
				{CheckID: "EKS_C", Status: audit.Error, Severity: audit.Medium},
			} {
				r.ResourceARN, r.Region, r.AccountID, r.ClusterName, r.Scope = arn, region, testAccount, name, scope
				rep.Results = append(rep.Results, r)
			}
			rep.Completed = append(rep.Completed, scope)
		}
		// Like the EKS provider, a region with clusters has one more target, its account
		// services, unless the scan is narrowed to clusters.
		if len(req.Clusters) == 0 && len(s.e.clusters[region]) > 0 {
			scope := audit.ScopeRef{AccountID: testAccount, Region: region, Target: inventory.RegionServicesName}
			if !req.StopStartingAt.IsZero() && time.Now().After(req.StopStartingAt) {
				rep.Errors = append(rep.Errors, audit.ScanError{Scope: scope, Stage: "not-started", Message: "not scanned: the time budget ran out"})
				regionOK = false
			} else {
				rep.Results = append(rep.Results, audit.Result{CheckID: "EKS_GUARDDUTY", Status: audit.Pass, Severity: audit.Low,
					ResourceARN: "arn:aws:eks:" + region + ":" + testAccount + ":region-services", Region: region, AccountID: testAccount, Scope: scope})
				rep.Completed = append(rep.Completed, scope)
			}
		}
		if regionOK {
			rep.Completed = append(rep.Completed, audit.ScopeRef{AccountID: testAccount, Region: region})
		}
	}
	for _, n := range req.Clusters {
		if !found[n] {
			rep.Errors = append(rep.Errors, audit.ScanError{Scope: audit.ScopeRef{Region: req.Regions[0], Target: n}, Stage: "discover", Message: "not found"})
		}
	}
	return rep, nil
}

type publishCall struct {
	rep *audit.Report
	po  securityhub.PublishOptions
}

type fakePublisher struct {
	mu       sync.Mutex
	calls    []publishCall
	archived []audit.ScopeRef
	outcome  func(*audit.Report) *securityhub.Outcome
}

func (p *fakePublisher) Publish(_ context.Context, rep *audit.Report, po securityhub.PublishOptions) (*securityhub.Outcome, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, publishCall{rep, po})
	if p.outcome != nil {
		return p.outcome(rep), nil
	}
	return &securityhub.Outcome{Imported: publishable(rep), Archived: 1}, nil
}

func (p *fakePublisher) ArchiveScope(_ context.Context, s audit.ScopeRef) (*securityhub.Outcome, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.archived = append(p.archived, s)
	return &securityhub.Outcome{Archived: 3}, nil
}

type fakeClusters struct {
	e     *estate
	mu    sync.Mutex
	gone  []string
	count int
}

func (c *fakeClusters) Count(_ context.Context, region string) (int, error) {
	c.mu.Lock()
	c.count++
	c.mu.Unlock()
	return len(c.e.clusters[region]), nil
}

func (c *fakeClusters) Gone(_ context.Context, region, name string) (bool, error) {
	c.mu.Lock()
	c.gone = append(c.gone, region+"/"+name)
	c.mu.Unlock()
	return c.e.deleting[region+"/"+name] || !slices.Contains(c.e.clusters[region], name), nil
}

type fakeInvoker struct {
	mu    sync.Mutex
	calls []*lambda.InvokeInput
	fail  map[string]bool // region → fail
}

func (f *fakeInvoker) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, in)
	var p manualInput
	_ = json.Unmarshal(in.Payload, &p)
	if len(p.Regions) == 1 && f.fail[p.Regions[0]] {
		return nil, fmt.Errorf("TooManyRequestsException: Rate exceeded")
	}
	return &lambda.InvokeOutput{StatusCode: 202}, nil
}

// fakeOrg records the organization steps and runs items over the fake scanner.
type fakeOrg struct {
	e     *estate
	mu    sync.Mutex
	keys  []string
	items []org.Item
	// unreachable accounts fail to assume their role; failPublish makes publishing fail.
	unreachable map[string]bool
	failPublish bool
}

func (o *fakeOrg) PlanItems(_ context.Context, key string) (org.ItemList, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.keys = append(o.keys, key)
	return org.ItemList{Bucket: "sek-items", Key: key, Items: 6, Accounts: 2, Regions: 3}, nil
}

func (o *fakeOrg) RunItem(ctx context.Context, it org.Item, req runner.Request) (org.AccountRun, error) {
	o.mu.Lock()
	o.items = append(o.items, it)
	o.mu.Unlock()
	run := org.AccountRun{Account: org.Account{ID: it.AccountID}}
	if o.unreachable[it.AccountID] {
		run.Err = fmt.Errorf("AccessDenied: not authorized to perform sts:AssumeRole")
		run.Report = &audit.Report{Errors: []audit.ScanError{{Scope: audit.ScopeRef{AccountID: it.AccountID, Region: it.Region}, Stage: org.StageAssumeRole, Message: run.Err.Error()}}}
		return run, nil
	}
	req.Regions = []string{it.Region}
	rep, err := (&fakeScanner{e: o.e}).Scan(ctx, req)
	if err != nil {
		return run, err
	}
	run.Report = rep
	run.After = &securityhub.Outcome{Imported: publishable(rep)}
	if o.failPublish {
		run.AfterErr = fmt.Errorf("Security Hub is not enabled")
	}
	return run, nil
}

// rig is a handler wired to fakes, with its logs and metrics captured.
type rig struct {
	h        *Handler
	e        *estate
	scanner  *fakeScanner
	pub      *fakePublisher
	clusters *fakeClusters
	invoker  *fakeInvoker
	org      *fakeOrg
	logs     *syncBuffer
	metrics  *syncBuffer
	connects int
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testConfig(t testing.TB, env ...string) config.Config {
	t.Helper()
	cfg, err := config.Load(config.Sources{Environ: env}, runner.Checks())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newRig(t testing.TB, cfg config.Config, mutate ...func(*Options)) *rig {
	e := demoEstate()
	r := &rig{e: e, scanner: &fakeScanner{e: e}, pub: &fakePublisher{}, clusters: &fakeClusters{e: e}, invoker: &fakeInvoker{},
		org: &fakeOrg{e: e}, logs: &syncBuffer{}, metrics: &syncBuffer{}}
	opts := Options{
		Config: cfg, FunctionName: "sek-auditor", Logs: r.logs, Metrics: r.metrics, LogLevel: "debug",
		Connect: func(ctx context.Context, _ *slog.Logger) (*Deps, error) {
			r.connects++
			return &Deps{AccountID: testAccount, Scanner: r.scanner, Publisher: r.pub, Clusters: r.clusters, Invoker: r.invoker, Org: r.org}, nil
		},
	}
	for _, m := range mutate {
		m(&opts)
	}
	r.h = New(opts)
	return r
}

func lambdaCtx(parent context.Context, id string) context.Context {
	return lambdacontext.NewContext(parent, &lambdacontext.LambdaContext{AwsRequestID: id})
}

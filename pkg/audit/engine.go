package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Target is one unit a provider collects and evaluates: an EKS cluster, or a region's
// account-level services.
type Target struct {
	Kind         string // provider-defined, e.g. "cluster" or "region"
	Name         string
	ARN          string
	ResourceType string
	AccountID    string
	Region       string
	// Cluster is the cluster this target belongs to, for reports; empty for region targets.
	Cluster string
}

// Scope is the reconciliation scope of the target's results.
func (t Target) Scope() ScopeRef {
	return ScopeRef{AccountID: t.AccountID, Region: t.Region, Target: t.Name}
}

// Provider audits one kind of estate. EKS is one; another service or cloud is another provider.
type Provider interface {
	// Name is a short label for logs and progress.
	Name() string
	// Checks lists the metadata of every check the provider runs.
	Checks() []Check
	// Open prepares a session for one region: clients and per-region caches live in it, so
	// shared lookups are made once per region and scan.
	Open(ctx context.Context, region string) (Session, error)
}

// Session audits one region for one provider.
type Session interface {
	// Discover lists the targets in the region, narrowed to names when names is non-empty.
	Discover(ctx context.Context, names []string) ([]Target, error)
	// Collect gathers every fact the checks need about one target. A missing fact that only
	// some checks need is recorded in the snapshot (those checks report ERROR); an error here
	// means the target as a whole could not be collected.
	Collect(ctx context.Context, t Target) (Evaluator, error)
}

// Options bound and tune a scan.
type Options struct {
	Regions []string
	// Targets narrows discovery to these names (cluster names for EKS).
	Targets           []string
	RegionConcurrency int
	TargetConcurrency int // per region
	CallTimeout       time.Duration
	Eval              EvalOptions
	Progress          func(ProgressEvent)
	Logger            *slog.Logger
	// StopStartingAt, when set, is the moment after which no new target is started; targets
	// not started are reported as unfinished scopes. The Lambda sets it before its deadline.
	StopStartingAt time.Time
}

// ProgressEvent reports the scan's advance, for progress displays and metrics.
type ProgressEvent struct {
	Kind    string // "region-discovered", "target-done", "target-failed"
	Region  string
	Target  string
	Targets int // targets discovered in the region, for region-discovered
	Results int
}

// Report is the outcome of a scan: every result, every scope that failed, and which scopes
// completed, which is what reconciliation may act on.
type Report struct {
	StartedAt  time.Time   `json:"startedAt"`
	FinishedAt time.Time   `json:"finishedAt"`
	Regions    []string    `json:"regions"`
	Results    []Result    `json:"results"`
	Errors     []ScanError `json:"errors"`
	// Completed lists every scope whose scan finished without a scope-level error: whole
	// regions (Target empty) and individual targets.
	Completed []ScopeRef `json:"-"`
}

// Engine runs providers over regions.
type Engine struct {
	providers []Provider
}

// NewEngine returns an engine over the given providers.
func NewEngine(providers ...Provider) *Engine { return &Engine{providers: providers} }

// Checks lists every provider's check metadata.
func (e *Engine) Checks() []Check {
	var out []Check
	for _, p := range e.providers {
		out = append(out, p.Checks()...)
	}
	return out
}

// Run scans every region with every provider. Failures of a region or target become ScanErrors;
// Run itself fails only when ctx is cancelled before anything ran.
func (e *Engine) Run(ctx context.Context, opts Options) (*Report, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.RegionConcurrency < 1 {
		opts.RegionConcurrency = 4
	}
	if opts.TargetConcurrency < 1 {
		opts.TargetConcurrency = 8
	}
	if opts.Eval.Now.IsZero() {
		opts.Eval.Now = time.Now().UTC()
	}
	rep := &Report{StartedAt: time.Now().UTC(), Regions: append([]string(nil), opts.Regions...)}
	var mu sync.Mutex
	discovered := map[string]bool{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.RegionConcurrency)
	for _, region := range opts.Regions {
		for _, p := range e.providers {
			g.Go(func() error {
				results, errs, completed, names := e.runRegion(gctx, p, region, opts, log)
				mu.Lock()
				for _, n := range names {
					discovered[n] = true
				}
				rep.Results = append(rep.Results, results...)
				rep.Errors = append(rep.Errors, errs...)
				rep.Completed = append(rep.Completed, completed...)
				mu.Unlock()
				return nil
			})
		}
	}
	_ = g.Wait() // region goroutines never return errors; failures are ScanErrors
	where := "any scanned region"
	for _, e := range rep.Errors {
		if e.Scope.Target == "" {
			where = "the regions that could be listed"
		}
	}
	for _, name := range opts.Targets {
		if !discovered[name] {
			rep.Errors = append(rep.Errors, ScanError{
				Scope:   ScopeRef{Region: strings.Join(opts.Regions, ","), Target: name},
				Stage:   "discover",
				Message: fmt.Sprintf("%q was not found in %s (%s); check the name and the --region flags", name, where, strings.Join(opts.Regions, ", ")),
			})
		}
	}
	if err := ctx.Err(); err != nil && len(rep.Results) == 0 && len(rep.Completed) == 0 {
		return nil, fmt.Errorf("scan cancelled before any scope finished: %w", err)
	}
	SortResults(rep.Results)
	sort.Slice(rep.Errors, func(i, j int) bool { return rep.Errors[i].Scope.String() < rep.Errors[j].Scope.String() })
	rep.FinishedAt = time.Now().UTC()
	return rep, nil
}

func (e *Engine) runRegion(ctx context.Context, p Provider, region string, opts Options, log *slog.Logger) ([]Result, []ScanError, []ScopeRef, []string) {
	regionScope := ScopeRef{Region: region}
	fail := func(stage string, err error) []ScanError {
		log.Warn("region scan failed", "provider", p.Name(), "region", region, "stage", stage, "error", err)
		return []ScanError{{Scope: regionScope, Stage: stage, Message: err.Error()}}
	}
	sess, err := p.Open(ctx, region)
	if err != nil {
		return nil, fail("open", err), nil, nil
	}
	targets, err := sess.Discover(ctx, opts.Targets)
	if err != nil {
		return nil, fail("discover", err), nil, nil
	}
	if opts.Progress != nil {
		opts.Progress(ProgressEvent{Kind: "region-discovered", Region: region, Targets: len(targets)})
	}
	var (
		mu        sync.Mutex
		results   []Result
		errs      []ScanError
		completed []ScopeRef
	)
	g := new(errgroup.Group)
	g.SetLimit(opts.TargetConcurrency)
	for _, t := range targets {
		if reason := stopReason(ctx, opts.StopStartingAt); reason != "" {
			mu.Lock()
			errs = append(errs, ScanError{Scope: t.Scope(), Stage: "not-started", Message: reason})
			mu.Unlock()
			continue
		}
		g.Go(func() error {
			res, err := collectAndEvaluate(ctx, sess, t, opts)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				log.Warn("target scan failed", "provider", p.Name(), "region", region, "target", t.Name, "error", err)
				errs = append(errs, ScanError{Scope: t.Scope(), Stage: "collect", Message: err.Error()})
				if opts.Progress != nil {
					opts.Progress(ProgressEvent{Kind: "target-failed", Region: region, Target: t.Name})
				}
				return nil
			}
			results = append(results, res...)
			completed = append(completed, t.Scope())
			if opts.Progress != nil {
				opts.Progress(ProgressEvent{Kind: "target-done", Region: region, Target: t.Name, Results: len(res)})
			}
			return nil
		})
	}
	_ = g.Wait()
	// The region as a whole completed only if discovery succeeded and no target failed; only then
	// may reconciliation archive findings of targets that no longer exist.
	// A scan narrowed to named targets did not look at the rest of the region, so the region is
	// not complete even when every named target was.
	if len(errs) == 0 && ctx.Err() == nil && len(opts.Targets) == 0 {
		account := accountOf(targets)
		if a, ok := sess.(interface{ AccountID() string }); ok && account == "" {
			account = a.AccountID()
		}
		completed = append(completed, ScopeRef{Region: region, AccountID: account})
	}
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name
	}
	return results, errs, completed, names
}

func stopReason(ctx context.Context, stopAt time.Time) string {
	if err := ctx.Err(); err != nil {
		return "not scanned: " + err.Error()
	}
	if !stopAt.IsZero() && time.Now().After(stopAt) {
		return "not scanned: the time budget ran out before this target started"
	}
	return ""
}

func collectAndEvaluate(ctx context.Context, sess Session, t Target, opts Options) ([]Result, error) {
	cctx := ctx
	if opts.CallTimeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, opts.CallTimeout)
		defer cancel()
	}
	ev, err := sess.Collect(cctx, t)
	if err != nil {
		return nil, err
	}
	if ev == nil {
		return nil, errors.New("collector returned no snapshot")
	}
	return ev.Evaluate(opts.Eval), nil
}

func accountOf(targets []Target) string {
	for _, t := range targets {
		if t.AccountID != "" {
			return t.AccountID
		}
	}
	return ""
}

// SortResults orders results by region, cluster, resource and check, so output is stable.
func SortResults(rs []Result) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if a.AccountID != b.AccountID {
			return a.AccountID < b.AccountID
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if a.ClusterName != b.ClusterName {
			return a.ClusterName < b.ClusterName
		}
		if a.ResourceARN != b.ResourceARN {
			return a.ResourceARN < b.ResourceARN
		}
		return a.CheckID < b.CheckID
	})
}

// Package securityhub publishes Sek results to AWS Security Hub with a correct finding lifecycle:
// stable Ids and creation times across runs, passing findings resolved in place, findings that a
// completed scan no longer produces archived, and nothing touched on the strength of a scan that
// failed or did not finish. Every finding Security Hub rejects is retried or reported by Id.
package securityhub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	sh "github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/sek-dev/sek/pkg/asff"
	"github.com/sek-dev/sek/pkg/audit"
)

// API is the part of the Security Hub client the publisher calls.
type API interface {
	BatchImportFindings(ctx context.Context, in *sh.BatchImportFindingsInput, optFns ...func(*sh.Options)) (*sh.BatchImportFindingsOutput, error)
	GetFindings(ctx context.Context, in *sh.GetFindingsInput, optFns ...func(*sh.Options)) (*sh.GetFindingsOutput, error)
	BatchUpdateFindings(ctx context.Context, in *sh.BatchUpdateFindingsInput, optFns ...func(*sh.Options)) (*sh.BatchUpdateFindingsOutput, error)
	DescribeHub(ctx context.Context, in *sh.DescribeHubInput, optFns ...func(*sh.Options)) (*sh.DescribeHubOutput, error)
}

// Quotas per account and region (Security Hub service quotas).
const (
	DefaultImportRate = 10 // BatchImportFindings, TPS
	DefaultGetRate    = 3  // GetFindings, TPS
	DefaultUpdateRate = 10 // BatchUpdateFindings, TPS
	// MaxBatchFindings is the BatchImportFindings and BatchUpdateFindings per-call limit.
	MaxBatchFindings = 100
	// DefaultMaxBatchBytes stays under the 6 MB request limit with room for the envelope and for
	// any difference between our size estimate and the SDK's encoding.
	DefaultMaxBatchBytes = 5_500_000
)

// Options configure a Publisher. Client and AccountID are required.
type Options struct {
	// Client returns the Security Hub client for a region.
	Client func(region string) API
	// AccountID is the account the clients act as. Findings are imported into its default
	// product, which only accepts findings of that same account.
	AccountID string
	// Version is Sek's version, recorded in every finding.
	Version string
	// Checks is the check catalog, for descriptions and remediation.
	Checks []audit.Check
	Logger *slog.Logger
	Now    func() time.Time

	// Rates and bursts per region; zero means the Security Hub quota (burst = rate).
	ImportRate, GetRate, UpdateRate    rate.Limit
	ImportBurst, GetBurst, UpdateBurst int
	// MaxAttempts bounds retries of a throttled call and of findings rejected with a retryable
	// error code. Default 3: SDK clients already retry throttling themselves, and this outer
	// loop multiplies with theirs.
	MaxAttempts int
	// BaseBackoff and MaxBackoff shape the exponential backoff between attempts.
	BaseBackoff, MaxBackoff time.Duration
	// MaxBatchBytes caps one BatchImportFindings request. Default DefaultMaxBatchBytes.
	MaxBatchBytes int
	// RegionConcurrency is how many regions publish at once. Default 4.
	RegionConcurrency int
}

// Publisher imports findings and reconciles their lifecycle. It is safe for concurrent use;
// pacing is shared by all calls on the same publisher.
type Publisher struct {
	opts   Options
	log    *slog.Logger
	mapper *asff.Mapper

	mu     sync.Mutex
	limits map[string]*regionLimits

	prefetchMu sync.Mutex
	prefetched map[string]*prefetch
	hubChecks  map[string]*hubCheck
}

// hubCheck is a region's hub check started before the scan finished.
type hubCheck struct {
	done   chan struct{}
	reason string
	err    error
}

// prefetch is a read of a region's stored findings started before the scan finished.
type prefetch struct {
	targets []string
	done    chan struct{}
	found   map[string]*shtypes.AwsSecurityFinding
	err     error
}

// Prefetch starts reading Sek's stored findings in region in the background, so the read
// overlaps the scan instead of following it: a region with thousands of findings takes tens of
// GetFindings pages at 3 TPS, seconds the scan would otherwise wait after its last call. targets
// are the clusters the scan is narrowed to (none for a whole region). Publish uses the read when
// it needs the same region and targets, and reads again otherwise.
func (p *Publisher) Prefetch(ctx context.Context, region string, targets []string) {
	t := normalizeTargets(targets)
	pf := &prefetch{targets: t, done: make(chan struct{})}
	p.prefetchMu.Lock()
	if p.prefetched == nil {
		p.prefetched = map[string]*prefetch{}
	}
	p.prefetched[region] = pf
	hc := &hubCheck{done: make(chan struct{})}
	if p.hubChecks == nil {
		p.hubChecks = map[string]*hubCheck{}
	}
	p.hubChecks[region] = hc
	p.prefetchMu.Unlock()
	go func() {
		defer close(pf.done)
		pf.found, pf.err = p.existing(ctx, p.opts.Client(region), p.regionLimits(region), region, asff.ProductARN(region, p.opts.AccountID), t)
	}()
	// The hub check does not depend on the scan either.
	go func() {
		defer close(hc.done)
		hc.reason, hc.err = p.checkHub(ctx, p.opts.Client(region), p.regionLimits(region), region)
	}()
}

// hubStatus is checkHub's answer for region, from the prefetched check when there is one.
func (p *Publisher) hubStatus(ctx context.Context, client API, lim *regionLimits, region string) (string, error) {
	p.prefetchMu.Lock()
	hc := p.hubChecks[region]
	delete(p.hubChecks, region)
	p.prefetchMu.Unlock()
	if hc == nil {
		return p.checkHub(ctx, client, lim, region)
	}
	select {
	case <-hc.done:
		return hc.reason, hc.err
	case <-ctx.Done():
		return "", fmt.Errorf("describe Security Hub in %s: %w", region, ctx.Err())
	}
}

// takePrefetch returns the prefetched read of region if it was for targets, and forgets it.
func (p *Publisher) takePrefetch(region string, targets []string) *prefetch {
	p.prefetchMu.Lock()
	pf := p.prefetched[region]
	delete(p.prefetched, region)
	p.prefetchMu.Unlock()
	if pf == nil || !slices.Equal(pf.targets, targets) {
		return nil
	}
	return pf
}

// normalizeTargets is targets as queryTargets would give them: sorted, distinct, and none when
// there are too many for one filter.
func normalizeTargets(targets []string) []string {
	set := map[string]bool{}
	for _, t := range targets {
		set[t] = true
	}
	if len(set) == 0 || len(set) > maxTargetFilters {
		return nil
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

type regionLimits struct {
	importL, getL, updateL *rate.Limiter
}

// New validates opts and fills in defaults.
func New(opts Options) (*Publisher, error) {
	if opts.Client == nil {
		return nil, errors.New("securityhub publisher: no client factory given")
	}
	if !asff.ValidAccountID(opts.AccountID) {
		return nil, fmt.Errorf("securityhub publisher: account id %q is not 12 digits; pass the caller's account (sts get-caller-identity)", opts.AccountID)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	setRate := func(r *rate.Limit, b *int, def rate.Limit) {
		if *r <= 0 {
			*r = def
		}
		if *b <= 0 {
			*b = max(1, int(*r))
		}
	}
	setRate(&opts.ImportRate, &opts.ImportBurst, DefaultImportRate)
	setRate(&opts.GetRate, &opts.GetBurst, DefaultGetRate)
	setRate(&opts.UpdateRate, &opts.UpdateBurst, DefaultUpdateRate)
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 3
	}
	if opts.BaseBackoff <= 0 {
		opts.BaseBackoff = 500 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 20 * time.Second
	}
	if opts.MaxBatchBytes <= 0 {
		opts.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if opts.RegionConcurrency <= 0 {
		opts.RegionConcurrency = 4
	}
	return &Publisher{
		opts:   opts,
		log:    opts.Logger,
		mapper: asff.NewMapper(opts.Version, opts.Checks),
		limits: map[string]*regionLimits{},
	}, nil
}

func (p *Publisher) regionLimits(region string) *regionLimits {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.limits[region]
	if !ok {
		l = &regionLimits{
			importL: rate.NewLimiter(p.opts.ImportRate, p.opts.ImportBurst),
			getL:    rate.NewLimiter(p.opts.GetRate, p.opts.GetBurst),
			updateL: rate.NewLimiter(p.opts.UpdateRate, p.opts.UpdateBurst),
		}
		p.limits[region] = l
	}
	return l
}

// PublishOptions describe how the scan behind a report was limited.
type PublishOptions struct {
	// SkippedChecks were deliberately not run; their findings are never archived, since the scan
	// said nothing about them.
	SkippedChecks []string
	// TargetsNarrowed is set when the scan was limited to named targets (for example
	// --cluster). A completed region scope then does not mean every target of the region was
	// seen, so only the named targets' own scopes are reconciled.
	TargetsNarrowed bool
}

// Outcome is what a publish did. Every finding that was not imported is either in Failed (by Id)
// or counted in NotPublished with a region-level reason in SkippedRegions or Errors.
type Outcome struct {
	// Imported counts findings Security Hub accepted (Created of them were new).
	Imported int `json:"imported"`
	Created  int `json:"created"`
	// Resolved counts passing findings moved from NEW/NOTIFIED to RESOLVED.
	Resolved int `json:"resolved"`
	// Archived counts findings archived because a completed scan no longer produced them.
	Archived int `json:"archived"`
	// NotPublished counts findings not sent because their whole region was skipped or failed.
	NotPublished   int             `json:"notPublished"`
	Failed         []Failure       `json:"failed,omitempty"`
	SkippedRegions []SkippedRegion `json:"skippedRegions,omitempty"`
	Errors         []RegionError   `json:"errors,omitempty"`
}

// Failure is one finding Security Hub did not take, or Sek could not build.
type Failure struct {
	Region    string `json:"region"`
	FindingID string `json:"findingId"`
	// Operation is map, import, resolve or archive.
	Operation string `json:"operation"`
	Code      string `json:"code,omitempty"`
	Message   string `json:"message"`
}

// SkippedRegion is a region where Security Hub is not enabled; Findings is how many findings
// were therefore not published (zero when the region had nothing to publish).
type SkippedRegion struct {
	Region   string `json:"region"`
	Reason   string `json:"reason"`
	Findings int    `json:"findings"`
}

// RegionError is a region-level failure (for example GetFindings failing after retries).
type RegionError struct {
	Region    string `json:"region"`
	Operation string `json:"operation"`
	Message   string `json:"message"`
}

// Problems counts everything that should make a run's exit status non-zero. A region without
// Security Hub counts only when it had findings to publish: scanning every region of an account
// that enabled Security Hub where it runs clusters is not a failure.
func (o *Outcome) Problems() int {
	n := len(o.Failed) + len(o.Errors)
	for _, s := range o.SkippedRegions {
		if s.Findings > 0 {
			n++
		}
	}
	return n
}

func (o *Outcome) merge(other *Outcome) {
	o.Imported += other.Imported
	o.Created += other.Created
	o.Resolved += other.Resolved
	o.Archived += other.Archived
	o.NotPublished += other.NotPublished
	o.Failed = append(o.Failed, other.Failed...)
	o.SkippedRegions = append(o.SkippedRegions, other.SkippedRegions...)
	o.Errors = append(o.Errors, other.Errors...)
}

func (o *Outcome) sort() {
	sort.Slice(o.Failed, func(i, j int) bool {
		a, b := o.Failed[i], o.Failed[j]
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		return a.FindingID < b.FindingID
	})
	sort.Slice(o.SkippedRegions, func(i, j int) bool { return o.SkippedRegions[i].Region < o.SkippedRegions[j].Region })
	sort.Slice(o.Errors, func(i, j int) bool { return o.Errors[i].Region < o.Errors[j].Region })
}

// regionWork is everything one region's publish needs.
type regionWork struct {
	region string
	// results are the publishable (PASS, FAIL, NOT_APPLICABLE) results of the region.
	results []audit.Result
	// protected are Ids of ERROR results: their findings must stay exactly as they are.
	protected map[string]bool
	// completed are the scopes whose scan finished; only these are reconciled.
	completed []audit.ScopeRef
	skipped   map[string]bool
}

// Publish imports the report's findings and reconciles the lifecycle of Sek's existing ones.
// It returns an error only for unusable input; everything that goes wrong with Security Hub is
// in the Outcome.
func (p *Publisher) Publish(ctx context.Context, rep *audit.Report, po PublishOptions) (*Outcome, error) {
	if rep == nil {
		return nil, errors.New("publish: no report")
	}
	now := p.opts.Now().UTC()
	out := &Outcome{}
	skipped := map[string]bool{}
	for _, id := range po.SkippedChecks {
		skipped[id] = true
	}
	work := map[string]*regionWork{}
	get := func(region string) *regionWork {
		w, ok := work[region]
		if !ok {
			w = &regionWork{region: region, protected: map[string]bool{}, skipped: skipped}
			work[region] = w
		}
		return w
	}
	for _, r := range rep.Results {
		region := r.Region
		if region == "" {
			region = r.Scope.Region
		}
		if r.AccountID != p.opts.AccountID {
			if asff.Publishable(r) {
				out.Failed = append(out.Failed, Failure{Region: region, FindingID: asff.ResultFindingID(r), Operation: "map",
					Message: fmt.Sprintf("result belongs to account %q but the publisher acts as %s; a finding can only be imported by its own account (assume a role in it)", r.AccountID, p.opts.AccountID)})
			}
			continue
		}
		w := get(region)
		if asff.Publishable(r) {
			w.results = append(w.results, r)
		} else {
			w.protected[asff.ResultFindingID(r)] = true
		}
	}
	for _, s := range eligibleScopes(rep, p.opts.AccountID, po.TargetsNarrowed, p.log) {
		w := get(s.Region)
		w.completed = append(w.completed, s)
	}

	regions := make([]string, 0, len(work))
	for r := range work {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	var mu sync.Mutex
	g := new(errgroup.Group)
	g.SetLimit(p.opts.RegionConcurrency)
	for _, region := range regions {
		g.Go(func() error {
			o := p.publishRegion(ctx, work[region], now)
			mu.Lock()
			out.merge(o)
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait() // region failures are recorded in the outcome
	out.sort()
	p.log.Info("published findings to Security Hub",
		"regions", len(regions), "imported", out.Imported, "created", out.Created, "resolved", out.Resolved,
		"archived", out.Archived, "failed", len(out.Failed), "skippedRegions", len(out.SkippedRegions), "errors", len(out.Errors))
	return out, nil
}

// ArchiveScope archives every active Sek finding of one target, for when the target is gone
// (the Lambda's DeleteCluster event). Archiving a whole region this way is refused: that only
// follows from a completed region scan, through Publish.
func (p *Publisher) ArchiveScope(ctx context.Context, scope audit.ScopeRef) (*Outcome, error) {
	if scope.Region == "" || scope.Target == "" {
		return nil, fmt.Errorf("archive scope %q: a region and a target (cluster name) are required", scope.String())
	}
	if scope.AccountID != "" && scope.AccountID != p.opts.AccountID {
		return nil, fmt.Errorf("archive scope %s: account %s is not the publisher's account %s", scope, scope.AccountID, p.opts.AccountID)
	}
	scope.AccountID = p.opts.AccountID
	w := &regionWork{region: scope.Region, protected: map[string]bool{}, completed: []audit.ScopeRef{scope}}
	out := p.publishRegion(ctx, w, p.opts.Now().UTC())
	out.sort()
	p.log.Info("archived findings of a removed target", "scope", scope.String(), "archived", out.Archived,
		"failed", len(out.Failed), "skippedRegions", len(out.SkippedRegions), "errors", len(out.Errors))
	return out, nil
}

// eligibleScopes returns the completed scopes that reconciliation may act on. A scope with any
// scan error is excluded, and so is a region scope with an error anywhere in the region,
// whatever the engine reported: a finding is never archived on the strength of a scan that
// failed or did not finish.
func eligibleScopes(rep *audit.Report, account string, narrowed bool, log *slog.Logger) []audit.ScopeRef {
	ownAccount := func(a string) bool { return a == "" || a == account }
	var out []audit.ScopeRef
	seen := map[audit.ScopeRef]bool{}
	for _, s := range rep.Completed {
		if !ownAccount(s.AccountID) {
			log.Warn("not reconciling a scope of another account", "scope", s.String(), "account", account)
			continue
		}
		if s.Target == "" && narrowed {
			continue
		}
		blocked := false
		for _, e := range rep.Errors {
			if e.Scope.Region != s.Region || !ownAccount(e.Scope.AccountID) {
				continue
			}
			if s.Target == "" || e.Scope.Target == "" || e.Scope.Target == s.Target {
				blocked = true
				break
			}
		}
		if blocked {
			log.Info("scope had scan errors; its findings are not reconciled", "scope", s.String())
			continue
		}
		s.AccountID = account
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

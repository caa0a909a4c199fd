package auditor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
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

// Scanner runs the shared scan pipeline (runner.Scan in production).
type Scanner interface {
	// Regions returns the regions a full scan covers: the configured ones, or every enabled one.
	Regions(ctx context.Context) ([]string, error)
	Scan(ctx context.Context, req runner.Request) (*audit.Report, error)
}

// Publisher is the Security Hub publisher (securityhub.Publisher in production).
type Publisher interface {
	Publish(ctx context.Context, rep *audit.Report, po securityhub.PublishOptions) (*securityhub.Outcome, error)
	ArchiveScope(ctx context.Context, scope audit.ScopeRef) (*securityhub.Outcome, error)
}

// Clusters answers the questions the handler asks EKS itself rather than through a scan.
type Clusters interface {
	// Count returns how many clusters a region has, for the fan-out estimate.
	Count(ctx context.Context, region string) (int, error)
	// Gone reports whether a cluster no longer exists or is being deleted.
	Gone(ctx context.Context, region, name string) (bool, error)
}

// Invoker starts another invocation of this function (the Lambda client in production).
type Invoker interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Organization runs the organization state machine's two steps (pkg/org in production).
type Organization interface {
	// PlanItems writes the account × region item list to the items bucket under key.
	PlanItems(ctx context.Context, key string) (org.ItemList, error)
	// RunItem scans one account in one region with that account's role and publishes there.
	RunItem(ctx context.Context, it org.Item, req runner.Request) (org.AccountRun, error)
}

// Deps are the connections one invocation works with.
type Deps struct {
	// AccountID is the account the function audits and publishes to.
	AccountID string
	Scanner   Scanner
	Publisher Publisher
	Clusters  Clusters
	// Invoker is nil when fan-out is not possible.
	Invoker Invoker
	// Org serves the organization state machine.
	Org Organization
}

// Connect opens the dependencies for one invocation. It is called per invocation so that a
// failure (expired credentials, a throttled STS call) is not remembered by a warm function.
type Connect func(ctx context.Context, log *slog.Logger) (*Deps, error)

// Options configure a Handler.
type Options struct {
	Config config.Config
	// ConfigErr, when set, is returned by every invocation: the function was deployed with a
	// configuration it cannot use, and every event must fail (and reach the DLQ) until fixed.
	ConfigErr error
	Connect   Connect
	// FunctionName is this function's own name (AWS_LAMBDA_FUNCTION_NAME), the fan-out target.
	// Empty disables fan-out.
	FunctionName string
	// Logs receives JSON log lines; Metrics receives CloudWatch EMF documents (stdout in Lambda).
	Logs    io.Writer
	Metrics io.Writer
	// LogLevel is a config log level name.
	LogLevel string
	Now      func() time.Time
	// MemoryMB is the function's memory size (AWS_LAMBDA_FUNCTION_MEMORY_SIZE). When set, a
	// scheduled run whose clusters would not fit in it fans out even if the time would suffice.
	MemoryMB int
}

// Handler serves invocations. It is safe for one invocation at a time, which is how Lambda
// runs it.
type Handler struct {
	opts Options
	cfg  config.Config
	log  *slog.Logger
	now  func() time.Time
}

// New builds a Handler. A Lambda scans every enabled region unless regions are configured.
func New(opts Options) *Handler {
	cfg := opts.Config
	if len(cfg.Regions) == 0 {
		cfg.AllRegions = true
	}
	if opts.Logs == nil {
		opts.Logs = io.Discard
	}
	if opts.Metrics == nil {
		opts.Metrics = io.Discard
	}
	if opts.Connect == nil && opts.ConfigErr == nil {
		opts.ConfigErr = fmt.Errorf("no AWS connection was set up")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Handler{opts: opts, cfg: cfg, log: NewLogger(opts.Logs, opts.LogLevel), now: now}
}

// NewLogger returns the JSON logger the function uses.
func NewLogger(w io.Writer, level string) *slog.Logger {
	lv := slog.LevelInfo
	switch strings.ToLower(level) {
	case "debug":
		lv = slog.LevelDebug
	case "warn", "warning":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lv}))
}

// Action is what the handler did with an invocation.
type Action string

const (
	ActionScan    Action = "scan"
	ActionArchive Action = "archive"
	ActionFanOut  Action = "fan-out"
	ActionIgnore  Action = "ignore"
)

// Response is the invocation's result, returned to synchronous callers and logged.
type Response struct {
	RequestID string   `json:"requestId,omitempty"`
	Route     Route    `json:"route"`
	Action    Action   `json:"action"`
	EventName string   `json:"eventName,omitempty"`
	Regions   []string `json:"regions,omitempty"`
	Clusters  []string `json:"clusters,omitempty"`
	NameFrom  string   `json:"nameFrom,omitempty"`
	// Reason explains an ignore, an archive or a fan-out.
	Reason          string `json:"reason,omitempty"`
	ClustersScanned int    `json:"clustersScanned"`
	// Results counts results by status.
	Results map[audit.Status]int `json:"results,omitempty"`
	// Errors are the scopes that failed or were not finished before the deadline; their
	// findings were left exactly as they were.
	Errors     []audit.ScanError    `json:"errors,omitempty"`
	Publish    *securityhub.Outcome `json:"publish,omitempty"`
	FanOut     []string             `json:"fanOut,omitempty"`
	DurationMS int64                `json:"durationMs"`

	// Reply, when set, is what the caller receives instead of this summary: the organization
	// state machine selects fields of its own result types (org.ItemList, org.ItemOutcome).
	Reply any `json:"-"`

	results []audit.Result
}

// MarshalJSON writes Reply when there is one, else the summary.
func (r *Response) MarshalJSON() ([]byte, error) {
	if r.Reply != nil {
		return json.Marshal(r.Reply)
	}
	type summary Response
	return json.Marshal((*summary)(r))
}

// Handle serves one invocation. An error fails the invocation, so an asynchronous event is
// retried and then lands in the dead-letter queue.
func (h *Handler) Handle(ctx context.Context, payload json.RawMessage) (resp *Response, err error) {
	start := h.now()
	reqID := ""
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		reqID = lc.AwsRequestID
	}
	log := h.log.With("requestId", reqID)
	resp = &Response{RequestID: reqID}
	defer func() {
		// The handler must never take the runtime down; a panic is a bug, reported as a failed
		// invocation with the stack in the log.
		if r := recover(); r != nil {
			log.Error("handler panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error while handling the invocation: %v", r)
		}
		resp.DurationMS = h.now().Sub(start).Milliseconds()
		h.emit(resp, err)
		if err != nil {
			log.Error("invocation failed", "route", resp.Route, "error", err.Error(), "response", resp)
			return
		}
		log.Info("invocation done", "response", resp)
	}()

	inv, err := Decode(payload)
	if err != nil {
		resp.Route = "invalid"
		return resp, err
	}
	resp.Route, resp.EventName, resp.Regions, resp.Clusters, resp.NameFrom = inv.Route, inv.EventName, inv.Regions, inv.Clusters, inv.NameFrom
	log = log.With("route", inv.Route)
	if inv.EventName != "" {
		log = log.With("eventName", inv.EventName, "eventId", inv.EventID)
	}
	log.Info("invocation received", "invocation", inv)
	if h.opts.ConfigErr != nil {
		return resp, &ConfigError{Err: h.opts.ConfigErr}
	}
	if inv.Ignore != "" {
		resp.Action, resp.Reason = ActionIgnore, inv.Ignore
		log.Info("event ignored", "reason", inv.Ignore)
		return resp, nil
	}
	deps, err := h.opts.Connect(ctx, log)
	if err != nil {
		return resp, fmt.Errorf("connect to AWS: %w", err)
	}
	switch inv.Route {
	case RouteScheduled:
		return resp, h.scheduled(ctx, log, deps, resp)
	case RouteFanOutChild:
		return resp, h.scan(ctx, log, deps, resp, inv.Regions, nil, false)
	case RouteManual:
		regions := inv.Regions
		if len(regions) == 0 {
			if regions, err = deps.Scanner.Regions(ctx); err != nil {
				return resp, err
			}
		}
		resp.Regions = regions
		return resp, h.scan(ctx, log, deps, resp, regions, inv.Clusters, true)
	case RouteCloudTrail:
		return resp, h.cloudTrail(ctx, log, deps, resp, inv)
	case RouteListItems:
		return resp, h.listItems(ctx, log, deps, resp, inv)
	case RouteOrgItem:
		return resp, h.orgItem(ctx, log, deps, resp, inv)
	}
	return resp, fmt.Errorf("route %q has no handler", inv.Route)
}

func (h *Handler) scheduled(ctx context.Context, log *slog.Logger, deps *Deps, resp *Response) error {
	regions, err := deps.Scanner.Regions(ctx)
	if err != nil {
		return err
	}
	resp.Regions = regions
	if plan, ok := h.planFanOut(ctx, log, deps, regions); ok {
		resp.Action, resp.Reason = ActionFanOut, plan
		resp.FanOut, err = h.fanOut(ctx, log, deps, regions)
		return err
	}
	return h.scan(ctx, log, deps, resp, regions, nil, false)
}

func (h *Handler) cloudTrail(ctx context.Context, log *slog.Logger, deps *Deps, resp *Response, inv Invocation) error {
	region, name := inv.Regions[0], inv.Cluster()
	ignore := func(reason string) error {
		resp.Action, resp.Reason = ActionIgnore, reason
		log.Info("event ignored", "reason", reason)
		return nil
	}
	if inv.Account != "" && deps.AccountID != "" && inv.Account != deps.AccountID {
		return ignore(fmt.Sprintf("the event is from account %s; this function audits account %s", inv.Account, deps.AccountID))
	}
	if len(h.cfg.Regions) > 0 && !slices.Contains(h.cfg.Regions, region) {
		return ignore(fmt.Sprintf("region %s is not in the configured regions (%s)", region, strings.Join(h.cfg.Regions, ", ")))
	}
	if name != "" && len(h.cfg.Clusters) > 0 && !slices.Contains(h.cfg.Clusters, name) {
		return ignore(fmt.Sprintf("cluster %s is not in the configured clusters", name))
	}
	if name == "" {
		log.Info("no cluster name in the event; rescanning the region", "region", region)
		return h.scan(ctx, log, deps, resp, inv.Regions, nil, true)
	}
	if inv.EventName == DeleteClusterEvent {
		gone, err := deps.Clusters.Gone(ctx, region, name)
		if err != nil {
			return fmt.Errorf("confirm that cluster %s in %s is deleted: %w", name, region, err)
		}
		if gone {
			return h.archive(ctx, log, deps, resp, region, name, "DeleteCluster: the cluster is gone or being deleted")
		}
		// The name is in use again (or the deletion did not happen): audit what is there.
		log.Info("cluster still exists after DeleteCluster; auditing it", "cluster", name, "region", region)
	}
	return h.scan(ctx, log, deps, resp, inv.Regions, inv.Clusters, true)
}

// archive archives every finding of a cluster that is confirmed gone.
func (h *Handler) archive(ctx context.Context, log *slog.Logger, deps *Deps, resp *Response, region, name, reason string) error {
	resp.Action, resp.Reason = ActionArchive, reason
	out, err := deps.Publisher.ArchiveScope(ctx, audit.ScopeRef{AccountID: deps.AccountID, Region: region, Target: name})
	if err != nil {
		return fmt.Errorf("archive findings of cluster %s in %s: %w", name, region, err)
	}
	resp.Publish = out
	log.Info("archived the findings of a deleted cluster", "cluster", name, "region", region, "archived", out.Archived)
	if out.Problems() > 0 {
		return fmt.Errorf("archive findings of cluster %s in %s: %s", name, region, outcomeProblems(out))
	}
	return nil
}

// scan audits regions (narrowed to clusters when given), publishes what completed and
// reconciles only completed scopes. strict makes any unfinished scope or publishing problem fail
// the invocation; scheduled runs are lenient because the next run covers the gap, and a retry
// of a whole-account scan would only repeat the same deadline.
func (h *Handler) scan(ctx context.Context, log *slog.Logger, deps *Deps, resp *Response, regions, clusters []string, strict bool) error {
	resp.Action = ActionScan
	req := runner.Request{Config: h.cfg, Regions: regions, Clusters: clusters, Logger: log}
	scanCtx := ctx
	if b, ok := h.budget(ctx); ok {
		req.StopStartingAt = b.stopAt
		var cancel context.CancelFunc
		scanCtx, cancel = context.WithDeadline(ctx, b.cutAt)
		defer cancel()
		log.Info("scan budget", "stopStartingAt", b.stopAt, "cutOffAt", b.cutAt, "deadline", b.deadline)
	}
	rep, err := deps.Scanner.Scan(scanCtx, req)
	if err != nil {
		return fmt.Errorf("scan %s: %w", strings.Join(regions, ", "), err)
	}
	h.summarise(resp, rep)

	// A targeted re-audit of a cluster that has meanwhile been deleted finds nothing; once EKS
	// confirms it is gone, its findings are archived instead of the event failing.
	if name := singleCluster(clusters); name != "" && len(regions) == 1 && notFound(rep.Errors, name) {
		gone, err := deps.Clusters.Gone(ctx, regions[0], name)
		if err != nil {
			return fmt.Errorf("cluster %s was not found in %s and its deletion could not be confirmed: %w", name, regions[0], err)
		}
		if gone {
			resp.Errors = nil
			return h.archive(ctx, log, deps, resp, regions[0], name, "the cluster no longer exists")
		}
	}

	narrowed := len(clusters) > 0 || len(h.cfg.Clusters) > 0
	out, err := deps.Publisher.Publish(ctx, rep, securityhub.PublishOptions{SkippedChecks: h.cfg.Skip, TargetsNarrowed: narrowed})
	if err != nil {
		return fmt.Errorf("publish to Security Hub: %w", err)
	}
	resp.Publish = out
	if len(rep.Errors) > 0 {
		log.Warn("some scopes were not scanned completely; their findings were left as they were", "errors", len(rep.Errors), "first", firstErrors(rep.Errors))
	}
	switch {
	case len(rep.Completed) == 0 && len(rep.Errors) > 0:
		return fmt.Errorf("no scope could be scanned: %s", firstErrors(rep.Errors))
	case publishable(rep) > 0 && out.Imported == 0 && out.Problems() > 0:
		return fmt.Errorf("no finding could be published: %s", outcomeProblems(out))
	case strict && len(rep.Errors) > 0:
		return fmt.Errorf("incomplete scan: %s", firstErrors(rep.Errors))
	case strict && out.Problems() > 0:
		return fmt.Errorf("incomplete publish: %s", outcomeProblems(out))
	}
	return nil
}

// summarise copies a report's counts into the response.
func (h *Handler) summarise(resp *Response, rep *audit.Report) {
	resp.results = rep.Results
	resp.Errors = rep.Errors
	resp.Results = map[audit.Status]int{}
	for _, r := range rep.Results {
		resp.Results[r.Status]++
	}
	for _, s := range rep.Completed {
		if s.Target != "" && s.Target != inventory.RegionServicesName {
			resp.ClustersScanned++
		}
	}
}

func singleCluster(clusters []string) string {
	if len(clusters) == 1 {
		return clusters[0]
	}
	return ""
}

// notFound reports whether the engine found no cluster of this name during discovery.
func notFound(errs []audit.ScanError, name string) bool {
	for _, e := range errs {
		if e.Stage == "discover" && e.Scope.Target == name {
			return true
		}
	}
	return false
}

func publishable(rep *audit.Report) int {
	n := 0
	for _, r := range rep.Results {
		if r.Status != audit.Error {
			n++
		}
	}
	return n
}

func firstErrors(errs []audit.ScanError) string {
	var parts []string
	for i, e := range errs {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(errs)-3))
			break
		}
		parts = append(parts, fmt.Sprintf("%s [%s] %s", e.Scope, e.Stage, e.Message))
	}
	return strings.Join(parts, "; ")
}

func outcomeProblems(o *securityhub.Outcome) string {
	var parts []string
	for _, s := range o.SkippedRegions {
		if s.Findings > 0 {
			parts = append(parts, s.Reason)
		}
	}
	for _, e := range o.Errors {
		parts = append(parts, fmt.Sprintf("%s %s: %s", e.Region, e.Operation, e.Message))
	}
	if n := len(o.Failed); n > 0 {
		f := o.Failed[0]
		parts = append(parts, fmt.Sprintf("%d findings failed (first: %s %s %s: %s %s)", n, f.Region, f.Operation, f.FindingID, f.Code, f.Message))
	}
	if len(parts) > 4 {
		parts = append(parts[:4], fmt.Sprintf("and %d more", len(parts)-4))
	}
	return strings.Join(parts, "; ")
}

// listItems writes the organization's account × region items for the Distributed Map.
func (h *Handler) listItems(ctx context.Context, log *slog.Logger, deps *Deps, resp *Response, inv Invocation) error {
	if deps.Org == nil {
		return fmt.Errorf("list-items: this function has no organization access configured")
	}
	resp.Action = "list-items"
	list, err := deps.Org.PlanItems(ctx, "items/"+inv.RunID+".json")
	if err != nil {
		return err
	}
	log.Info("wrote the organization's items", "bucket", list.Bucket, "key", list.Key, "items", list.Items, "accounts", list.Accounts, "regions", list.Regions)
	resp.Reply = list
	return nil
}

// orgItem scans one member account in one region with its role and publishes to its Security
// Hub. The error, when there is one, is pkg/org's typed item error, unwrapped: the runtime
// reports its type name as errorType, which the state machine's retry rules match.
func (h *Handler) orgItem(ctx context.Context, log *slog.Logger, deps *Deps, resp *Response, inv Invocation) error {
	if deps.Org == nil {
		return fmt.Errorf("organization item: this function has no organization access configured")
	}
	it := *inv.Item
	if it.RoleARN == "" && it.RoleName == "" {
		it.RoleName = h.cfg.RoleName
	}
	if it.ExternalID == "" {
		it.ExternalID = h.cfg.ExternalID
	}
	if _, err := it.Member(); err != nil {
		return inputErr("%v (set role_name, SEK_ROLE_NAME, or give roleName in the item)", err)
	}
	resp.Action = ActionScan
	req := runner.Request{Config: h.cfg, Logger: log.With("account", it.AccountID)}
	if b, ok := h.budget(ctx); ok {
		req.StopStartingAt = b.stopAt
	}
	run, err := deps.Org.RunItem(ctx, it, req)
	if err != nil {
		return err
	}
	if run.Report != nil {
		h.summarise(resp, run.Report)
	}
	if out, ok := run.After.(*securityhub.Outcome); ok {
		resp.Publish = out
	}
	resp.Reply = run.Outcome(it.Region)
	return org.ItemError(run, it.Region)
}

// budget is the time plan of one invocation.
type budget struct {
	deadline, stopAt, cutAt time.Time
}

// budget derives when to stop starting clusters (deadline - margin) and when to cut off the
// clusters still running (deadline - margin/2), leaving the rest of the margin to publish. The
// margin is capped at a third of the remaining time so that a short timeout still scans.
func (h *Handler) budget(ctx context.Context) (budget, bool) {
	dl, ok := ctx.Deadline()
	if !ok {
		return budget{}, false
	}
	remaining := dl.Sub(h.now())
	margin := min(h.cfg.Lambda.SafetyMargin, remaining/3)
	return budget{deadline: dl, stopAt: dl.Add(-margin), cutAt: dl.Add(-margin / 2)}, true
}

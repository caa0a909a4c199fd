package securityhub

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sh "github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/sek-dev/sek/pkg/asff"
	"github.com/sek-dev/sek/pkg/audit"
)

// maxTargetFilters bounds the per-target GetFindings filter; beyond it one region-wide query
// is cheaper than many narrow ones.
const maxTargetFilters = 10

// minStep is how far UpdatedAt is pushed past a stored value that is not older than now (clock
// skew, or two runs within the same instant): Security Hub silently ignores an update whose
// UpdatedAt is not later than the stored one.
const minStep = time.Millisecond

func (p *Publisher) publishRegion(ctx context.Context, w *regionWork, now time.Time) *Outcome {
	out := &Outcome{}
	region := w.region
	log := p.log.With("region", region)
	client := p.opts.Client(region)
	lim := p.regionLimits(region)
	productARN := asff.ProductARN(region, p.opts.AccountID)

	// The stored findings are read while the hub is checked: the two calls do not depend on each
	// other, and in sequence they would put a round trip of their own on every publish's critical
	// path. When the hub turns out to be off, the read's answer (an error) is dropped.
	type read struct {
		found map[string]*shtypes.AwsSecurityFinding
		err   error
	}
	readCtx, cancelRead := context.WithCancel(ctx)
	defer cancelRead()
	reading := make(chan read, 1)
	go func() {
		targets := queryTargets(w)
		if pf := p.takePrefetch(region, targets); pf != nil {
			select {
			case <-pf.done:
				reading <- read{pf.found, pf.err}
			case <-readCtx.Done():
				reading <- read{nil, readCtx.Err()}
			}
			return
		}
		found, err := p.existing(readCtx, client, lim, region, productARN, targets)
		reading <- read{found, err}
	}()

	if reason, err := p.hubStatus(ctx, client, lim, region); reason != "" {
		if len(w.results) > 0 {
			log.Warn("skipping region without Security Hub", "reason", reason, "findings", len(w.results))
		} else {
			// Nothing to publish, and without a hub there are no findings to reconcile either.
			log.Info("region without Security Hub has nothing to publish", "reason", reason)
		}
		out.SkippedRegions = append(out.SkippedRegions, SkippedRegion{Region: region, Reason: reason, Findings: len(w.results)})
		out.NotPublished += len(w.results)
		return out
	} else if err != nil {
		log.Error("cannot reach Security Hub; region not published", "error", err)
		out.Errors = append(out.Errors, RegionError{Region: region, Operation: "describe hub", Message: err.Error()})
		out.NotPublished += len(w.results)
		return out
	}

	chosen := p.chooseResults(w)

	r := <-reading
	existing, err := r.found, r.err
	if err != nil {
		// Importing without the stored findings would reset CreatedAt and could not resolve or
		// archive anything; the previous state is better left alone.
		log.Error("cannot read existing findings; region not published", "error", err)
		out.Errors = append(out.Errors, RegionError{Region: region, Operation: "read existing findings", Message: err.Error()})
		out.NotPublished += len(chosen)
		return out
	}

	// Findings are built, imported and dropped a chunk at a time: a region's findings, with their
	// facts, take several kilobytes each, and holding thousands at once is most of a scan's peak
	// memory.
	var candidates []string
	for start := 0; start < len(chosen); start += publishChunk {
		var ready []shtypes.AwsSecurityFinding
		for _, res := range chosen[start:min(start+publishChunk, len(chosen))] {
			f, err := p.mapper.Map(res, now)
			if err != nil {
				out.Failed = append(out.Failed, Failure{Region: region, FindingID: asff.ResultFindingID(res), Operation: "map", Message: err.Error()})
				continue
			}
			applyLifecycle(&f, existing[aws.ToString(f.Id)], now)
			if err := asff.Validate(f); err != nil {
				out.Failed = append(out.Failed, Failure{Region: region, FindingID: aws.ToString(f.Id), Operation: "import", Code: "Validation", Message: err.Error()})
				continue
			}
			ready = append(ready, f)
		}
		accepted, failed, errs := p.importAll(ctx, client, lim, region, "import", ready)
		out.Failed = append(out.Failed, failed...)
		out.Errors = append(out.Errors, errs...)
		out.Imported += len(accepted)
		for id := range accepted {
			if _, ok := existing[id]; !ok {
				out.Created++
			}
		}
		candidates = append(candidates, resolveCandidates(ready, accepted, existing)...)
	}

	var failed []Failure
	var errs []RegionError
	out.Resolved, failed, errs = p.resolve(ctx, client, lim, region, productARN, candidates)
	out.Failed = append(out.Failed, failed...)
	out.Errors = append(out.Errors, errs...)

	if len(w.completed) > 0 {
		produced := map[string]bool{}
		for _, r := range w.results {
			produced[asff.ResultFindingID(r)] = true
		}
		for id := range w.protected {
			produced[id] = true
		}
		var archive []shtypes.AwsSecurityFinding
		for _, ex := range sortedFindings(existing) {
			if !archivable(ex, produced, w) {
				continue
			}
			a := archivedCopy(ex, now)
			if err := asff.Validate(a); err != nil {
				out.Failed = append(out.Failed, Failure{Region: region, FindingID: aws.ToString(a.Id), Operation: "archive", Code: "Validation", Message: err.Error()})
				continue
			}
			archive = append(archive, a)
		}
		archived, failed, errs := p.importAll(ctx, client, lim, region, "archive", archive)
		out.Archived = len(archived)
		out.Failed = append(out.Failed, failed...)
		out.Errors = append(out.Errors, errs...)
	}
	log.Info("region published", "imported", out.Imported, "created", out.Created, "resolved", out.Resolved,
		"archived", out.Archived, "failed", len(out.Failed), "errors", len(out.Errors))
	return out
}

// checkHub returns a non-empty reason when Security Hub is not enabled in the region, or an
// error when the hub could not be checked at all.
func (p *Publisher) checkHub(ctx context.Context, client API, lim *regionLimits, region string) (string, error) {
	err := p.call(ctx, lim.updateL, func(ctx context.Context) error {
		_, err := client.DescribeHub(ctx, &sh.DescribeHubInput{})
		return err
	})
	if err == nil {
		return "", nil
	}
	switch code := errorCode(err); code {
	case "InvalidAccessException", "ResourceNotFoundException":
		return fmt.Sprintf("Security Hub is not enabled for account %s in %s (%s: %s); enable it with `aws securityhub enable-security-hub --region %s`, or leave the region out of the scan",
			p.opts.AccountID, region, code, errorMessage(err), region), nil
	case "AccessDeniedException":
		// Publishing may still work with a policy that lacks only DescribeHub; the import will
		// tell for sure.
		p.log.Warn("not allowed to call securityhub:DescribeHub; publishing anyway", "region", region, "error", err)
		return "", nil
	}
	return "", fmt.Errorf("describe Security Hub in %s: %w", region, err)
}

// publishChunk is how many findings are built and imported at a time.
const publishChunk = 500

// chooseResults picks one result per finding Id. When a check reports the same resource more than
// once, the most severe verdict wins, so a FAIL is never hidden behind a PASS.
func (p *Publisher) chooseResults(w *regionWork) []audit.Result {
	byID := map[string]int{} // Id → index in out
	var out []audit.Result
	for _, r := range w.results {
		id := asff.ResultFindingID(r)
		if i, dup := byID[id]; dup {
			p.log.Warn("check reported the same resource twice; keeping the most severe verdict", "check", r.CheckID, "resource", r.ResourceARN)
			if statusRank(r) > statusRank(out[i]) {
				out[i] = r
			}
			continue
		}
		byID[id] = len(out)
		out = append(out, r)
	}
	return out
}

func statusRank(r audit.Result) int {
	switch {
	case r.Status == audit.Fail && !r.Muted:
		return 3
	case r.Status == audit.Fail:
		return 2
	case r.Status == audit.Pass:
		return 1
	}
	return 0
}

// applyLifecycle carries the stored creation times over and moves the update times forward.
func applyLifecycle(f *shtypes.AwsSecurityFinding, ex *shtypes.AwsSecurityFinding, now time.Time) {
	if ex == nil {
		// A provider may set the workflow only when creating a finding. A finding that is born
		// passing needs no one's attention.
		status := shtypes.WorkflowStatusNew
		if f.Compliance != nil && f.Compliance.Status == shtypes.ComplianceStatusPassed {
			status = shtypes.WorkflowStatusResolved
		}
		f.Workflow = &shtypes.Workflow{Status: status}
		return
	}
	if created, err := asff.ParseTime(aws.ToString(ex.CreatedAt)); err == nil {
		f.CreatedAt = aws.String(asff.FormatTime(created))
		first := created
		if t, err := asff.ParseTime(aws.ToString(ex.FirstObservedAt)); err == nil {
			first = t
		}
		f.FirstObservedAt = aws.String(asff.FormatTime(first))
	}
	ts := asff.FormatTime(laterThanStored(now, ex))
	f.UpdatedAt = aws.String(ts)
	f.LastObservedAt = aws.String(ts)
	f.Workflow = nil
}

// laterThanStored is now, or just after the stored UpdatedAt when that is not older than now.
func laterThanStored(now time.Time, ex *shtypes.AwsSecurityFinding) time.Time {
	if stored, err := asff.ParseTime(aws.ToString(ex.UpdatedAt)); err == nil && !now.After(stored) {
		return stored.Add(minStep)
	}
	return now
}

func resolveCandidates(ready []shtypes.AwsSecurityFinding, accepted map[string]bool, existing map[string]*shtypes.AwsSecurityFinding) []string {
	var ids []string
	for _, f := range ready {
		id := aws.ToString(f.Id)
		ex := existing[id]
		if !accepted[id] || ex == nil || f.Compliance == nil || f.Compliance.Status != shtypes.ComplianceStatusPassed {
			continue
		}
		if ex.Compliance == nil || (ex.Compliance.Status != shtypes.ComplianceStatusFailed && ex.Compliance.Status != shtypes.ComplianceStatusWarning) {
			continue
		}
		switch workflowStatus(ex) {
		case shtypes.WorkflowStatusNew, shtypes.WorkflowStatusNotified:
			ids = append(ids, id)
		}
		// SUPPRESSED is the customer's decision and RESOLVED needs nothing: both are left alone.
	}
	return ids
}

func workflowStatus(f *shtypes.AwsSecurityFinding) shtypes.WorkflowStatus {
	if f.Workflow != nil && f.Workflow.Status != "" {
		return f.Workflow.Status
	}
	if f.WorkflowState != "" {
		// The deprecated WorkflowState uses NEW/ASSIGNED/IN_PROGRESS/DEFERRED/RESOLVED.
		if f.WorkflowState == shtypes.WorkflowStateResolved {
			return shtypes.WorkflowStatusResolved
		}
		return shtypes.WorkflowStatusNew
	}
	return shtypes.WorkflowStatusNew
}

func archivable(ex *shtypes.AwsSecurityFinding, produced map[string]bool, w *regionWork) bool {
	if ex.RecordState == shtypes.RecordStateArchived || produced[aws.ToString(ex.Id)] || w.skipped[aws.ToString(ex.GeneratorId)] {
		return false
	}
	target := ex.ProductFields[asff.FieldTarget]
	for _, s := range w.completed {
		if s.Target == "" || s.Target == target {
			return true
		}
	}
	return false
}

// archivedCopy is the stored finding re-imported as ARCHIVED. Fields that belong to Security Hub
// or to the customer are left out, so they keep their values.
func archivedCopy(ex *shtypes.AwsSecurityFinding, now time.Time) shtypes.AwsSecurityFinding {
	f := *ex
	f.RecordState = shtypes.RecordStateArchived
	f.UpdatedAt = aws.String(asff.FormatTime(laterThanStored(now, ex)))
	f.Workflow, f.WorkflowState, f.Note, f.UserDefinedFields, f.VerificationState = nil, "", nil, nil, ""
	f.ProcessedAt, f.CompanyName, f.ProductName, f.Region = nil, nil, nil, nil
	f.ProductFields = map[string]string{}
	for k, v := range ex.ProductFields {
		if !strings.HasPrefix(k, "aws/") {
			f.ProductFields[k] = v
		}
	}
	return f
}

func sortedFindings(m map[string]*shtypes.AwsSecurityFinding) []*shtypes.AwsSecurityFinding {
	out := make([]*shtypes.AwsSecurityFinding, 0, len(m))
	for _, f := range m {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return aws.ToString(out[i].Id) < aws.ToString(out[j].Id) })
	return out
}

// queryTargets returns the targets to narrow the GetFindings query to, or nil for the whole
// region (a region scope is reconciled, or too many targets for a filter).
func queryTargets(w *regionWork) []string {
	set := map[string]bool{}
	for _, s := range w.completed {
		if s.Target == "" {
			return nil
		}
		set[s.Target] = true
	}
	for _, r := range w.results {
		t := r.Scope.Target
		if t == "" {
			t = r.ClusterName
		}
		if t == "" {
			return nil
		}
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

// existing reads Sek's findings in the region, keyed by Id. The query filters by product,
// account, region and Sek's marker (or the targets); the same conditions are applied again to
// every returned finding, because not every implementation honours filters (moto ignores them)
// and an aggregation region returns other regions' findings.
func (p *Publisher) existing(ctx context.Context, client API, lim *regionLimits, region, productARN string, targets []string) (map[string]*shtypes.AwsSecurityFinding, error) {
	eq := func(v string) []shtypes.StringFilter {
		return []shtypes.StringFilter{{Value: aws.String(v), Comparison: shtypes.StringFilterComparisonEquals}}
	}
	filters := &shtypes.AwsSecurityFindingFilters{
		ProductArn:   eq(productARN),
		AwsAccountId: eq(p.opts.AccountID),
		Region:       eq(region),
	}
	// EQUALS filters on the same map field are ORed, so the marker and the targets cannot be
	// combined; the targets are the narrower query and the marker is checked client-side.
	if len(targets) > 0 {
		for _, t := range targets {
			filters.ProductFields = append(filters.ProductFields, shtypes.MapFilter{Key: aws.String(asff.FieldTarget), Value: aws.String(t), Comparison: shtypes.MapFilterComparisonEquals})
		}
	} else {
		filters.ProductFields = []shtypes.MapFilter{{Key: aws.String(asff.FieldProviderName), Value: aws.String(asff.ProviderName), Comparison: shtypes.MapFilterComparisonEquals}}
	}
	targetSet := map[string]bool{}
	for _, t := range targets {
		targetSet[t] = true
	}

	out := map[string]*shtypes.AwsSecurityFinding{}
	var token *string
	seenTokens := map[string]bool{}
	for {
		var page *sh.GetFindingsOutput
		err := p.call(ctx, lim.getL, func(ctx context.Context) error {
			var err error
			page, err = client.GetFindings(ctx, &sh.GetFindingsInput{Filters: filters, MaxResults: aws.Int32(100), NextToken: token})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("get existing Sek findings in %s (securityhub:GetFindings): %w", region, err)
		}
		for i := range page.Findings {
			f := page.Findings[i]
			if !isOwnFinding(&f, productARN, p.opts.AccountID, region) {
				continue
			}
			if len(targetSet) > 0 && !targetSet[f.ProductFields[asff.FieldTarget]] {
				continue
			}
			out[aws.ToString(f.Id)] = &f
		}
		next := aws.ToString(page.NextToken)
		if next == "" {
			break
		}
		if seenTokens[next] {
			return nil, errors.New("get existing Sek findings in " + region + ": the service returned the same page token twice")
		}
		seenTokens[next] = true
		token = page.NextToken
	}
	return out, nil
}

func isOwnFinding(f *shtypes.AwsSecurityFinding, productARN, account, region string) bool {
	if aws.ToString(f.ProductArn) != productARN || aws.ToString(f.AwsAccountId) != account {
		return false
	}
	if f.Region != nil && *f.Region != region {
		return false
	}
	if f.ProductFields[asff.FieldProviderName] != asff.ProviderName {
		return false
	}
	check := f.ProductFields[asff.FieldCheckID]
	return check != "" && check == aws.ToString(f.GeneratorId)
}

// resolve moves passing findings whose workflow still asks for attention to RESOLVED. Only
// BatchUpdateFindings can change a workflow once a finding exists.
func (p *Publisher) resolve(ctx context.Context, client API, lim *regionLimits, region, productARN string, ids []string) (int, []Failure, []RegionError) {
	var (
		resolved int
		failed   []Failure
		errs     []RegionError
	)
	for start := 0; start < len(ids); start += MaxBatchFindings {
		batch := ids[start:min(start+MaxBatchFindings, len(ids))]
		in := &sh.BatchUpdateFindingsInput{Workflow: &shtypes.WorkflowUpdate{Status: shtypes.WorkflowStatusResolved}}
		for _, id := range batch {
			in.FindingIdentifiers = append(in.FindingIdentifiers, shtypes.AwsSecurityFindingIdentifier{Id: aws.String(id), ProductArn: aws.String(productARN)})
		}
		var resp *sh.BatchUpdateFindingsOutput
		err := p.call(ctx, lim.updateL, func(ctx context.Context) error {
			var err error
			resp, err = client.BatchUpdateFindings(ctx, in)
			return err
		})
		if err != nil {
			for _, id := range batch {
				failed = append(failed, Failure{Region: region, FindingID: id, Operation: "resolve", Code: errorCode(err), Message: err.Error()})
			}
			continue
		}
		resolved += len(resp.ProcessedFindings)
		for _, u := range resp.UnprocessedFindings {
			id := ""
			if u.FindingIdentifier != nil {
				id = aws.ToString(u.FindingIdentifier.Id)
			}
			failed = append(failed, Failure{Region: region, FindingID: id, Operation: "resolve", Code: aws.ToString(u.ErrorCode), Message: aws.ToString(u.ErrorMessage)})
		}
		if missing := len(batch) - len(resp.ProcessedFindings) - len(resp.UnprocessedFindings); missing > 0 {
			errs = append(errs, RegionError{Region: region, Operation: "resolve", Message: fmt.Sprintf("BatchUpdateFindings accounted for %d of %d findings", len(batch)-missing, len(batch))})
		}
	}
	if resolved > 0 {
		p.log.Info("resolved findings that pass now", "region", region, "resolved", resolved)
	}
	return resolved, failed, errs
}

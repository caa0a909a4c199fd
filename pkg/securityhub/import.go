package securityhub

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	sh "github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/sek-dev/sek/pkg/asff"
)

// sized is a finding with its encoded size, computed once.
type sized struct {
	f    shtypes.AwsSecurityFinding
	size int
}

// envelopeBytes is the request body around the findings: {"Findings":[...]}.
const envelopeBytes = len(`{"Findings":[]}`)

// batches packs findings in order into groups of at most maxCount findings and maxBytes of
// request body. A finding larger than maxBytes on its own gets a batch of its own; the size
// check before import keeps that from happening.
func batches(items []sized, maxCount, maxBytes int) [][]sized {
	var out [][]sized
	var cur []sized
	curBytes := envelopeBytes
	for _, it := range items {
		add := it.size
		if len(cur) > 0 {
			add++ // the comma
		}
		if len(cur) > 0 && (len(cur) == maxCount || curBytes+add > maxBytes) {
			out = append(out, cur)
			cur, curBytes, add = nil, envelopeBytes, it.size
		}
		cur = append(cur, it)
		curBytes += add
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// importsInFlight bounds the BatchImportFindings calls of one region in flight at once.
const importsInFlight = 8

// importAll sends findings with BatchImportFindings and returns the Ids Security Hub accepted.
// Findings rejected with a retryable code are sent again with backoff; every other rejection is
// returned as a Failure with Security Hub's code and message.
func (p *Publisher) importAll(ctx context.Context, client API, lim *regionLimits, region, op string, findings []shtypes.AwsSecurityFinding) (map[string]bool, []Failure, []RegionError) {
	accepted := map[string]bool{}
	var (
		failed []Failure
		errs   []RegionError
	)
	pending := make([]sized, 0, len(findings))
	for _, f := range findings {
		n, err := asff.Size(f)
		if err != nil || n > asff.MaxFindingBytes {
			msg := fmt.Sprintf("finding is %d bytes, over the %d-byte limit", n, asff.MaxFindingBytes)
			if err != nil {
				msg = err.Error()
			}
			failed = append(failed, Failure{Region: region, FindingID: aws.ToString(f.Id), Operation: op, Code: "Validation", Message: msg})
			continue
		}
		pending = append(pending, sized{f: f, size: n})
	}
	for attempt := 1; len(pending) > 0; attempt++ {
		var (
			retry []sized
			abort error
			mu    sync.Mutex
		)
		// Batches go out several at a time, paced by the import limiter: one after another, each
		// waiting for its answer, they would use neither the quota's burst nor, when an import
		// takes longer than 1/rate, its rate. Once a batch says stop, batches not yet started are
		// not sent.
		g := new(errgroup.Group)
		g.SetLimit(importsInFlight)
		for _, b := range batches(pending, MaxBatchFindings, p.opts.MaxBatchBytes) {
			g.Go(func() error {
				mu.Lock()
				stop := abort
				mu.Unlock()
				if stop != nil {
					mu.Lock()
					defer mu.Unlock()
					for _, it := range b {
						failed = append(failed, Failure{Region: region, FindingID: aws.ToString(it.f.Id), Operation: op, Code: errorCode(stop), Message: "not sent: " + stop.Error()})
					}
					return nil
				}
				r := p.importBatch(ctx, client, lim.importL, region, op, b)
				mu.Lock()
				defer mu.Unlock()
				for _, id := range r.accepted {
					accepted[id] = true
				}
				failed = append(failed, r.failed...)
				errs = append(errs, r.errs...)
				retry = append(retry, r.retry...)
				if abort == nil {
					abort = r.abort
				}
				return nil
			})
		}
		_ = g.Wait()
		if len(retry) == 0 || abort != nil {
			for _, it := range retry {
				failed = append(failed, Failure{Region: region, FindingID: aws.ToString(it.f.Id), Operation: op, Code: errorCode(abort), Message: "not retried: " + fmt.Sprint(abort)})
			}
			break
		}
		if attempt >= p.opts.MaxAttempts {
			for _, it := range retry {
				failed = append(failed, Failure{Region: region, FindingID: aws.ToString(it.f.Id), Operation: op, Code: "RetriesExhausted",
					Message: fmt.Sprintf("still rejected with a retryable error after %d attempts", attempt)})
			}
			break
		}
		p.log.Info("retrying findings Security Hub rejected with a retryable error", "region", region, "operation", op, "findings", len(retry), "attempt", attempt+1)
		if err := sleep(ctx, p.backoff(attempt)); err != nil {
			for _, it := range retry {
				failed = append(failed, Failure{Region: region, FindingID: aws.ToString(it.f.Id), Operation: op, Code: "Canceled", Message: err.Error()})
			}
			break
		}
		// Each retry is a new update of the finding; it must look newer than the failed attempt
		// in case that attempt was applied after all.
		for i := range retry {
			bumpUpdatedAt(&retry[i].f)
		}
		pending = retry
	}
	return accepted, failed, errs
}

func bumpUpdatedAt(f *shtypes.AwsSecurityFinding) {
	if t, err := asff.ParseTime(aws.ToString(f.UpdatedAt)); err == nil {
		ts := asff.FormatTime(t.Add(minStep))
		f.UpdatedAt = aws.String(ts)
		if f.LastObservedAt != nil {
			f.LastObservedAt = aws.String(ts)
		}
	}
}

type batchResult struct {
	accepted []string
	failed   []Failure
	errs     []RegionError
	retry    []sized
	// abort stops the region's remaining imports: the account cannot import at all.
	abort error
}

func (p *Publisher) importBatch(ctx context.Context, client API, lim *rate.Limiter, region, op string, b []sized) batchResult {
	in := &sh.BatchImportFindingsInput{Findings: make([]shtypes.AwsSecurityFinding, len(b))}
	for i, it := range b {
		in.Findings[i] = it.f
	}
	var resp *sh.BatchImportFindingsOutput
	err := p.call(ctx, lim, func(ctx context.Context) error {
		var err error
		resp, err = client.BatchImportFindings(ctx, in)
		return err
	})
	var r batchResult
	if err != nil {
		code := errorCode(err)
		switch {
		case code == "InvalidInputException" && len(b) > 1:
			// The batch as a whole was refused (for example too large); halves isolate the cause.
			p.log.Warn("batch refused as invalid; splitting it", "region", region, "findings", len(b), "error", err)
			half := len(b) / 2
			left := p.importBatch(ctx, client, lim, region, op, b[:half])
			if left.abort != nil {
				left.failed = append(left.failed, notSent(region, op, b[half:], left.abort)...)
				return left
			}
			right := p.importBatch(ctx, client, lim, region, op, b[half:])
			return batchResult{
				accepted: append(left.accepted, right.accepted...),
				failed:   append(left.failed, right.failed...),
				errs:     append(left.errs, right.errs...),
				retry:    append(left.retry, right.retry...),
				abort:    right.abort,
			}
		case code == "InvalidAccessException" || code == "AccessDeniedException":
			p.log.Error("Security Hub refused the import; stopping this region", "region", region, "error", err)
			r.failed = notSent(region, op, b, err)
			r.abort = err
			return r
		}
		r.failed = notSent(region, op, b, err)
		return r
	}
	rejected := map[string]bool{}
	inBatch := map[string]bool{}
	for _, it := range b {
		inBatch[aws.ToString(it.f.Id)] = true
	}
	for _, ff := range resp.FailedFindings {
		id := aws.ToString(ff.Id)
		if !inBatch[id] || rejected[id] {
			continue
		}
		rejected[id] = true
		code, msg := aws.ToString(ff.ErrorCode), aws.ToString(ff.ErrorMessage)
		if retryableCode(code) {
			for _, it := range b {
				if aws.ToString(it.f.Id) == id {
					r.retry = append(r.retry, it)
				}
			}
			continue
		}
		p.log.Warn("Security Hub rejected a finding", "region", region, "operation", op, "id", id, "code", code, "message", msg)
		r.failed = append(r.failed, Failure{Region: region, FindingID: id, Operation: op, Code: code, Message: msg})
	}
	if n := int(aws.ToInt32(resp.FailedCount)); n > len(rejected) {
		// The count says more failed than the list names; the unnamed ones cannot be told apart.
		r.errs = append(r.errs, RegionError{Region: region, Operation: op,
			Message: fmt.Sprintf("BatchImportFindings reported %d failed findings but named only %d", n, len(rejected))})
	}
	for id := range inBatch {
		if !rejected[id] {
			r.accepted = append(r.accepted, id)
		}
	}
	return r
}

func notSent(region, op string, b []sized, err error) []Failure {
	out := make([]Failure, 0, len(b))
	for _, it := range b {
		out = append(out, Failure{Region: region, FindingID: aws.ToString(it.f.Id), Operation: op, Code: errorCode(err), Message: err.Error()})
	}
	return out
}

// call paces one API call and retries it while it is throttled. The SDK's retryer already
// retries throttling; this outer loop covers a retryer that gave up and clients without one.
func (p *Publisher) call(ctx context.Context, lim *rate.Limiter, fn func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		if err := lim.Wait(ctx); err != nil {
			return fmt.Errorf("wait for the Security Hub rate limit: %w", err)
		}
		err := fn(ctx)
		if err == nil || !transient(err) || attempt >= p.opts.MaxAttempts {
			return err
		}
		d := p.backoff(attempt)
		p.log.Debug("Security Hub call throttled; backing off", "attempt", attempt, "delay", d, "error", err)
		if serr := sleep(ctx, d); serr != nil {
			return errors.Join(err, serr)
		}
	}
}

// backoff is exponential with full jitter, capped.
func (p *Publisher) backoff(attempt int) time.Duration {
	d := p.opts.BaseBackoff << min(attempt-1, 20)
	if d <= 0 || d > p.opts.MaxBackoff {
		d = p.opts.MaxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

var transientCodes = map[string]bool{
	"ThrottlingException":         true,
	"Throttling":                  true,
	"TooManyRequestsException":    true,
	"LimitExceededException":      true,
	"RequestLimitExceeded":        true,
	"InternalException":           true,
	"InternalServerError":         true,
	"ServiceUnavailable":          true,
	"ServiceUnavailableException": true,
}

// transient reports whether a failed call is worth repeating as is: throttling and server errors.
func transient(err error) bool {
	if transientCodes[errorCode(err)] {
		return true
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		s := re.HTTPStatusCode()
		return s == 429 || s >= 500
	}
	return false
}

// retryableCode classifies FailedFindings error codes. There is no published list of them; only
// codes that name throttling or a server fault are retried, the rest (InvalidInput,
// InvalidAccess, unknown) are reported.
func retryableCode(code string) bool {
	c := strings.ToLower(code)
	for _, s := range []string{"throttl", "toomanyrequests", "limitexceeded", "internal", "serviceunavailable"} {
		if strings.Contains(c, s) {
			return true
		}
	}
	return false
}

func errorCode(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "Canceled"
	}
	return ""
}

func errorMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorMessage() != "" {
		return ae.ErrorMessage()
	}
	return err.Error()
}

package awsclient

import (
	"context"
	"fmt"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"
)

// Quota is a client-side token bucket: calls per second and burst.
type Quota struct {
	Rate  float64
	Burst int
}

// DefaultQuota paces every (region, API) at the rate AWS throttles most control-plane APIs
// per account and region (10 TPS, burst 20). A scan makes thousands of calls; sending them faster
// than the service admits them only buys throttling errors and backoff sleeps of seconds.
//
// The burst is kept 5 below the service's: calls paced at exactly the service's rate reach it
// with network jitter, and the tokens left unused in the service's bucket absorb the bunching.
var DefaultQuota = Quota{Rate: 10, Burst: 15}

// DefaultQuotas are the documented quotas that differ from DefaultQuota, keyed by
// "ServiceID:Operation" as the SDK names them, with the same margin on the burst.
func DefaultQuotas() map[string]Quota {
	return map[string]Quota{
		"SecurityHub:BatchImportFindings": {Rate: 10, Burst: 25}, // documented 10 TPS, burst 30
		"SecurityHub:BatchUpdateFindings": {Rate: 10, Burst: 25},
		"SecurityHub:GetFindings":         {Rate: 3, Burst: 4}, // documented 3 TPS, burst 6
	}
}

// Limiter paces SDK calls with one token bucket per (region, API). Each attempt, retries
// included, takes a token before it is sent, so any number of goroutines can share a region's
// clients without a throttling storm: excess calls wait in the client, not in backoff.
type Limiter struct {
	def       Quota
	overrides map[string]Quota

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// NewLimiter returns a limiter with def for every API and overrides per "ServiceID:Operation".
// A zero or negative def.Rate disables pacing for APIs without an override.
func NewLimiter(def Quota, overrides map[string]Quota) *Limiter {
	return &Limiter{def: def, overrides: overrides, buckets: map[string]*rate.Limiter{}}
}

// globalServices have one quota per account whatever region a client signs for.
var globalServices = map[string]bool{"IAM": true, "Organizations": true}

func (l *Limiter) bucket(region, service, op string) *rate.Limiter {
	api := service + ":" + op
	q, ok := l.overrides[api]
	if !ok {
		q = l.def
	}
	if q.Rate <= 0 {
		return nil
	}
	if globalServices[service] {
		region = "global"
	}
	key := region + "|" + api
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		b = rate.NewLimiter(rate.Limit(q.Rate), max(q.Burst, 1))
		l.buckets[key] = b
	}
	return b
}

// Wait blocks until a call to (region, service, op) may be sent.
func (l *Limiter) Wait(ctx context.Context, region, service, op string) error {
	b := l.bucket(region, service, op)
	if b == nil {
		return nil
	}
	if err := b.Wait(ctx); err != nil {
		return fmt.Errorf("waiting for a %s:%s call slot in %s: %w", service, op, region, err)
	}
	return nil
}

// APIOption installs the limiter in an SDK client's stack, after the retry middleware so that
// every attempt is paced.
func (l *Limiter) APIOption(stack *middleware.Stack) error {
	return stack.Finalize.Insert(middleware.FinalizeMiddlewareFunc("sek/RateLimit",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if err := l.Wait(ctx, awsmiddleware.GetRegion(ctx), awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)); err != nil {
				return middleware.FinalizeOutput{}, middleware.Metadata{}, err
			}
			return next.HandleFinalize(ctx, in)
		}), "Retry", middleware.After)
}

// Package awsclient loads AWS SDK configuration once per scan: credentials (optionally through an
// assumed role), retries, and a per-region config cache so client construction stays out of the
// hot path.
package awsclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
)

// Options select credentials and retry behaviour. AWS_PROFILE, AWS_REGION and AWS_ENDPOINT_URL
// are honoured by the SDK itself.
type Options struct {
	Region      string
	RoleARN     string
	ExternalID  string
	SessionName string
	// MaxAttempts is the total number of attempts per call, retries included.
	MaxAttempts int
	// MaxBackoff caps the delay between attempts.
	MaxBackoff time.Duration
}

// DefaultMaxAttempts is higher than the SDK's 3 because a full audit makes thousands of calls
// against per-region throttles, and a throttled call is worth retrying.
const DefaultMaxAttempts = 10

// Load builds the base configuration. It fails when no region can be determined, because every
// later call needs one.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 20 * time.Second
	}
	loaders := []func(*config.LoadOptions) error{
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			// A region's endpoint sees tens of concurrent calls during a scan; the SDK's default of
			// 10 idle connections per host would close and re-handshake the rest on every burst.
			t.MaxIdleConnsPerHost = 64
		})),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = o.MaxAttempts
				so.MaxBackoff = o.MaxBackoff
				// The standard retryer's retry-token bucket gives up on all retries after a burst of
				// throttling, the very moment retries matter; pacing is done by our own limits.
				so.RateLimiter = ratelimit.None
				// A connection cut in the middle of a response surfaces as a deserialization error
				// the standard retryer does not retry; every call Sek makes is a read or an
				// idempotent import by finding Id, so it is safe to send again.
				so.Retryables = append(so.Retryables, retry.IsErrorRetryableFunc(truncatedResponse))
			})
		}),
	}
	if o.Region != "" {
		loaders = append(loaders, config.WithRegion(o.Region))
	}

	cfg, err := config.LoadDefaultConfig(ctx, loaders...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("no AWS region configured: pass --region, set AWS_REGION, or set a region in your AWS profile")
	}
	if o.RoleARN != "" {
		cfg = AssumeRole(cfg, o.RoleARN, o.ExternalID, o.SessionName)
	}
	return cfg, nil
}

// truncatedResponse marks a response cut short by the network as retryable.
func truncatedResponse(err error) aws.Ternary {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return aws.TrueTernary
	}
	return aws.UnknownTernary
}

// AssumeRole returns a copy of cfg whose credentials come from assuming roleARN, cached and
// refreshed before expiry.
func AssumeRole(cfg aws.Config, roleARN, externalID, sessionName string) aws.Config {
	if sessionName == "" {
		sessionName = "sek-audit"
	}
	client := sts.NewFromConfig(cfg)
	provider := stscreds.NewAssumeRoleProvider(client, roleARN, func(ao *stscreds.AssumeRoleOptions) {
		ao.RoleSessionName = sessionName
		if externalID != "" {
			ao.ExternalID = aws.String(externalID)
		}
	})
	out := cfg.Copy()
	out.Credentials = aws.NewCredentialsCache(provider)
	return out
}

// Factory hands out per-region copies of one base config. It is safe for concurrent use.
// Clients built from its configs share one Limiter: quotas are per account and region, and a
// factory is one account.
type Factory struct {
	base    aws.Config
	limiter *Limiter
	mu      sync.Mutex
	regions map[string]aws.Config

	accountOnce sync.Once
	account     string
	accountErr  error
}

// FactoryOption tunes a Factory.
type FactoryOption func(*Factory)

// WithRateLimit sets the pace of every (region, API) of the account; a Rate of zero or less
// turns pacing off. Security Hub's documented quotas still apply to its APIs.
func WithRateLimit(q Quota) FactoryOption {
	return func(f *Factory) { f.limiter = NewLimiter(q, DefaultQuotas()) }
}

// NewFactory wraps a base config. Calls are paced at DefaultQuota per (region, API) unless
// WithRateLimit says otherwise.
func NewFactory(base aws.Config, opts ...FactoryOption) *Factory {
	f := &Factory{base: base, regions: map[string]aws.Config{}, limiter: NewLimiter(DefaultQuota, DefaultQuotas())}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Base returns the base config (its region is the home region).
func (f *Factory) Base() aws.Config { return f.base }

// Config returns the config for region.
func (f *Factory) Config(region string) aws.Config {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.regions[region]; ok {
		return c
	}
	c := f.base.Copy()
	c.Region = region
	// Copy shares the base's APIOptions backing array; a fresh slice keeps appends private.
	c.APIOptions = append(append([]func(*middleware.Stack) error{}, c.APIOptions...), f.limiter.APIOption)
	f.regions[region] = c
	return c
}

// AccountID resolves the caller's account once per factory.
func (f *Factory) AccountID(ctx context.Context) (string, error) {
	f.accountOnce.Do(func() {
		out, err := sts.NewFromConfig(f.base).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			f.accountErr = fmt.Errorf("identify the AWS account (sts:GetCallerIdentity): %w", err)
			return
		}
		f.account = aws.ToString(out.Account)
	})
	return f.account, f.accountErr
}

var regionPattern = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$`)

// ValidateRegion rejects strings that cannot be AWS region names, so a typo fails fast with a
// usage error instead of a DNS failure deep in a scan.
func ValidateRegion(r string) error {
	if !regionPattern.MatchString(r) {
		return fmt.Errorf("invalid region %q: expected a region name such as us-east-1 or eu-west-2", r)
	}
	return nil
}

var (
	accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)
	// An IAM role name, optionally behind a path (path/name).
	roleNamePattern = regexp.MustCompile(`^([\w+=,.@-]+/)*[\w+=,.@-]{1,64}$`)
)

// ValidateAccountID rejects anything that is not a 12-digit account id.
func ValidateAccountID(id string) error {
	if !accountIDPattern.MatchString(id) {
		return fmt.Errorf("invalid account id %q: an AWS account id is exactly 12 digits, such as 123456789012", id)
	}
	return nil
}

// ValidateRoleName rejects strings that cannot be an IAM role name, optionally after a path.
func ValidateRoleName(name string) error {
	if !roleNamePattern.MatchString(name) {
		return fmt.Errorf("invalid role name %q: use the role's name (letters, digits and +=,.@_-, at most 64 characters), optionally after a path such as audit/SekAuditRole", name)
	}
	return nil
}

// Partition returns the ARN partition of a region.
func Partition(region string) string {
	switch {
	case len(region) >= 3 && region[:3] == "cn-":
		return "aws-cn"
	case regexp.MustCompile(`^us-gov-`).MatchString(region):
		return "aws-us-gov"
	default:
		return "aws"
	}
}

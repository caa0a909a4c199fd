// Package stacks defines Sek's CloudFormation stacks with the AWS CDK: the auditor stack deployed
// once per account in a home region, and the small per-region stacks that forward EKS CloudTrail
// events to it.
package stacks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
)

// Context keys read from cdk.json or `-c key=value`. They share a prefix so they cannot clash
// with the CDK's own feature flags in the same context map.
const (
	CtxRegions          = "sek:regions"
	CtxForwardEvents    = "sek:forwardEvents"
	CtxSchedule         = "sek:schedule"
	CtxSkipChecks       = "sek:skipChecks"
	CtxLogLevel         = "sek:logLevel"
	CtxAlarmEmail       = "sek:alarmEmail"
	CtxAlarmTopicArn    = "sek:alarmTopicArn"
	CtxMemoryMB         = "sek:memoryMB"
	CtxTimeoutSeconds   = "sek:timeoutSeconds"
	CtxLogRetentionDays = "sek:logRetentionDays"
	CtxFunctionName     = "sek:functionName"
	CtxLambdaDir        = "sek:lambdaDir"
	CtxHomeRegion       = "sek:homeRegion"
)

// Environment variables the auditor Lambda reads. The Lambda's own configuration loader must use
// the same names; LambdaEnvironment is the single place the infrastructure sets them.
// They are keys of pkg/config (config.Keys), which a test checks.
const (
	EnvRegions    = "SEK_REGIONS"     // comma-separated regions to scan
	EnvAllRegions = "SEK_ALL_REGIONS" // "true" when no regions are listed: scan every enabled region
	EnvSkip       = "SEK_SKIP"        // comma-separated check ids not to run
	EnvLogLevel   = "SEK_LOG_LEVEL"   // debug, info, warn or error
	EnvPublish    = "SEK_PUBLISH"     // always "true": the deployed auditor publishes to Security Hub
)

// Defaults used when the context leaves a setting out.
const (
	DefaultSchedule         = "rate(12 hours)"
	DefaultLogLevel         = "info"
	DefaultMemoryMB         = 512
	DefaultTimeoutSeconds   = 600
	DefaultLogRetentionDays = 90
	DefaultFunctionName     = "sek-auditor"
	DefaultLambdaDir        = "../dist/lambda"
)

// Config is everything a deployment can tune. FromContext fills it and Validate checks it.
type Config struct {
	// Regions the auditor scans. Empty means every region enabled in the account.
	Regions []string
	// ForwardEvents adds a forwarder stack for each region in Regions other than HomeRegion, so
	// EKS changes there trigger an audit too.
	ForwardEvents bool
	// HomeRegion is where the auditor stack lives. Needed only to build forwarder stacks, since
	// they must name the home event bus; taken from CDK_DEFAULT_REGION when unset.
	HomeRegion     string
	Schedule       string
	SkipChecks     []string
	LogLevel       string
	AlarmEmail     string
	AlarmTopicArn  string
	MemoryMB       int
	TimeoutSeconds int
	// LogRetentionDays must be one of the values CloudWatch Logs accepts (see retentionDays).
	LogRetentionDays int
	// FunctionName is fixed rather than generated so the role can allow the function to invoke
	// itself (per-region fan-out) without a dependency cycle between the role and the function.
	FunctionName string
	// LambdaDir holds the `bootstrap` executable that `make lambda` builds.
	LambdaDir string
}

// DefaultConfig is the configuration of a deployment that sets nothing.
func DefaultConfig() Config {
	return Config{
		Schedule:         DefaultSchedule,
		LogLevel:         DefaultLogLevel,
		MemoryMB:         DefaultMemoryMB,
		TimeoutSeconds:   DefaultTimeoutSeconds,
		LogRetentionDays: DefaultLogRetentionDays,
		FunctionName:     DefaultFunctionName,
		LambdaDir:        DefaultLambdaDir,
	}
}

// ContextLookup returns the raw context value for a key, or nil when it is unset. It is
// app.Node().TryGetContext in the CDK app and a map lookup in tests.
type ContextLookup func(key string) any

// FromContext reads the configuration. Values come either from cdk.json (JSON types: arrays,
// numbers, booleans) or from `-c key=value` on the command line (always strings), so every
// reader accepts both forms. The result is validated.
func FromContext(get ContextLookup) (Config, error) {
	c := DefaultConfig()
	var errs []error
	str := func(key string, dst *string) {
		v, err := contextString(get(key))
		if err != nil {
			errs = append(errs, fmt.Errorf("context %s: %w", key, err))
		} else if v != "" {
			*dst = v
		}
	}
	list := func(key string, dst *[]string) {
		v, err := contextList(get(key))
		if err != nil {
			errs = append(errs, fmt.Errorf("context %s: %w", key, err))
		} else if v != nil {
			*dst = v
		}
	}
	num := func(key string, dst *int) {
		v, ok, err := contextInt(get(key))
		if err != nil {
			errs = append(errs, fmt.Errorf("context %s: %w", key, err))
		} else if ok {
			*dst = v
		}
	}
	list(CtxRegions, &c.Regions)
	list(CtxSkipChecks, &c.SkipChecks)
	str(CtxSchedule, &c.Schedule)
	str(CtxLogLevel, &c.LogLevel)
	str(CtxAlarmEmail, &c.AlarmEmail)
	str(CtxAlarmTopicArn, &c.AlarmTopicArn)
	str(CtxFunctionName, &c.FunctionName)
	str(CtxLambdaDir, &c.LambdaDir)
	str(CtxHomeRegion, &c.HomeRegion)
	num(CtxMemoryMB, &c.MemoryMB)
	num(CtxTimeoutSeconds, &c.TimeoutSeconds)
	num(CtxLogRetentionDays, &c.LogRetentionDays)
	fw, _, err := contextBool(get(CtxForwardEvents))
	if err != nil {
		errs = append(errs, fmt.Errorf("context %s: %w", CtxForwardEvents, err))
	}
	c.ForwardEvents = fw
	if c.HomeRegion == "" {
		c.HomeRegion = os.Getenv("CDK_DEFAULT_REGION")
	}
	c.LogLevel = strings.ToLower(c.LogLevel)
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	return c, c.Validate()
}

var (
	regionRE   = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)
	checkIDRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	fnNameRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	topicArnRE = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+(\.fifo)?$`)
	scheduleRE = regexp.MustCompile(`^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(\S+( \S+){5}\))$`)
	logLevels  = map[string]bool{"debug": true, "info": true, "warn": true, "error": true}
)

// Validate reports every problem at once, each naming the context key to change.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("context %s: %s", key, fmt.Sprintf(format, args...)))
	}
	for _, r := range c.Regions {
		if !regionRE.MatchString(r) {
			bad(CtxRegions, "%q is not a region name (expected e.g. eu-west-1)", r)
		}
	}
	if c.HomeRegion != "" && !regionRE.MatchString(c.HomeRegion) {
		bad(CtxHomeRegion, "%q is not a region name (expected e.g. eu-west-1)", c.HomeRegion)
	}
	if c.ForwardEvents {
		if len(c.Regions) == 0 {
			bad(CtxForwardEvents, "needs an explicit %s list: forwarders are created for each listed region other than the home region", CtxRegions)
		}
		if c.HomeRegion == "" {
			bad(CtxHomeRegion, "forwarders must name the home region's event bus: set %s or deploy with a default region (CDK_DEFAULT_REGION)", CtxHomeRegion)
		}
	}
	if !scheduleRE.MatchString(c.Schedule) {
		bad(CtxSchedule, "%q is not an EventBridge schedule expression; use e.g. \"rate(12 hours)\" or \"cron(0 6 * * ? *)\"", c.Schedule)
	}
	for _, id := range c.SkipChecks {
		if !checkIDRE.MatchString(id) {
			bad(CtxSkipChecks, "%q is not a check id", id)
		}
	}
	if !logLevels[c.LogLevel] {
		bad(CtxLogLevel, "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	if c.AlarmEmail != "" && (!strings.Contains(c.AlarmEmail, "@") || strings.ContainsAny(c.AlarmEmail, " ,;")) {
		bad(CtxAlarmEmail, "%q is not a single e-mail address", c.AlarmEmail)
	}
	if c.AlarmTopicArn != "" && !topicArnRE.MatchString(c.AlarmTopicArn) {
		bad(CtxAlarmTopicArn, "%q is not an SNS topic ARN", c.AlarmTopicArn)
	}
	if c.MemoryMB < 128 || c.MemoryMB > 10240 {
		bad(CtxMemoryMB, "%d is outside Lambda's range 128..10240", c.MemoryMB)
	}
	if c.TimeoutSeconds < 30 || c.TimeoutSeconds > 900 {
		bad(CtxTimeoutSeconds, "%d is outside 30..900 (Lambda's maximum is 900 seconds)", c.TimeoutSeconds)
	}
	if _, ok := retentionDays[c.LogRetentionDays]; !ok {
		bad(CtxLogRetentionDays, "%d is not a CloudWatch Logs retention; use one of %s", c.LogRetentionDays, retentionChoices())
	}
	if !fnNameRE.MatchString(c.FunctionName) {
		bad(CtxFunctionName, "%q must be 1-64 letters, digits, hyphens or underscores", c.FunctionName)
	}
	if c.LambdaDir == "" {
		bad(CtxLambdaDir, "is empty; point it at the directory holding the bootstrap built by `make lambda`")
	}
	return errors.Join(errs...)
}

// CheckLambdaDir fails unless the asset directory holds the bootstrap executable. It is separate
// from Validate because only synthesis needs the file, not configuration parsing.
func (c Config) CheckLambdaDir() error {
	p := filepath.Join(c.LambdaDir, "bootstrap")
	st, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("auditor function code %s: %w; run `make lambda` first or set -c %s=DIR", p, err, CtxLambdaDir)
	}
	if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("auditor function code %s is not an executable file; rebuild it with `make lambda`", p)
	}
	return nil
}

// CheckSkips fails if a skipped check id is not one of known, so a typo cannot leave a check
// running that the user meant to turn off.
func (c Config) CheckSkips(known []string) error {
	ok := map[string]bool{}
	for _, id := range known {
		ok[id] = true
	}
	var unknown []string
	for _, id := range c.SkipChecks {
		if !ok[id] {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("context %s: unknown check ids %s; valid ids are %s (see `sek checks`)",
			CtxSkipChecks, strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	return nil
}

// ForwarderRegions lists the regions that get a forwarder stack: the listed regions other than
// the home region, sorted and without duplicates.
func (c Config) ForwarderRegions() []string {
	if !c.ForwardEvents {
		return nil
	}
	seen := map[string]bool{c.HomeRegion: true}
	var out []string
	for _, r := range c.Regions {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

// LambdaEnvironment is the auditor function's environment, the one place the stack sets it.
// With no regions listed the function scans every region enabled in the account: without
// SEK_ALL_REGIONS, Sek's configuration would default to the function's own region only.
func (c Config) LambdaEnvironment() map[string]string {
	env := map[string]string{EnvLogLevel: c.LogLevel, EnvPublish: "true"}
	if len(c.Regions) > 0 {
		env[EnvRegions] = strings.Join(c.Regions, ",")
	} else {
		env[EnvAllRegions] = "true"
	}
	if len(c.SkipChecks) > 0 {
		env[EnvSkip] = strings.Join(c.SkipChecks, ",")
	}
	return env
}

// retentionDays maps the day counts CloudWatch Logs accepts to the CDK's names for them.
var retentionDays = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS,
	5: awslogs.RetentionDays_FIVE_DAYS, 7: awslogs.RetentionDays_ONE_WEEK,
	14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS,
	120: awslogs.RetentionDays_FOUR_MONTHS, 150: awslogs.RetentionDays_FIVE_MONTHS,
	180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS,
	731: awslogs.RetentionDays_TWO_YEARS, 1096: awslogs.RetentionDays_THREE_YEARS,
	1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS,
	3288: awslogs.RetentionDays_NINE_YEARS, 3653: awslogs.RetentionDays_TEN_YEARS,
}

func retentionChoices() string {
	days := make([]int, 0, len(retentionDays))
	for d := range retentionDays {
		days = append(days, d)
	}
	sort.Ints(days)
	s := make([]string, len(days))
	for i, d := range days {
		s[i] = strconv.Itoa(d)
	}
	return strings.Join(s, ", ")
}

func contextString(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(x), nil
	default:
		return "", fmt.Errorf("want a string, got %T %v", v, v)
	}
}

// contextList accepts a JSON array of strings or a comma-separated string. It returns nil when
// the key is unset, and an empty non-nil slice for an explicitly empty value.
func contextList(v any) ([]string, error) {
	var parts []string
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		parts = strings.Split(x, ",")
	case []any:
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("element %d: want a string, got %T %v", i, e, e)
			}
			parts = append(parts, s)
		}
	case []string:
		parts = x
	default:
		return nil, fmt.Errorf("want a list or a comma-separated string, got %T %v", v, v)
	}
	out := []string{}
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out, nil
}

func contextInt(v any) (int, bool, error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case float64:
		if x != float64(int(x)) {
			return 0, false, fmt.Errorf("want a whole number, got %v", x)
		}
		return int(x), true, nil
	case int:
		return x, true, nil
	case string:
		if strings.TrimSpace(x) == "" {
			return 0, false, nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, false, fmt.Errorf("want a whole number, got %q", x)
		}
		return n, true, nil
	default:
		return 0, false, fmt.Errorf("want a number, got %T %v", v, v)
	}
}

func contextBool(v any) (bool, bool, error) {
	switch x := v.(type) {
	case nil:
		return false, false, nil
	case bool:
		return x, true, nil
	case string:
		if strings.TrimSpace(x) == "" {
			return false, false, nil
		}
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		if err != nil {
			return false, false, fmt.Errorf("want true or false, got %q", x)
		}
		return b, true, nil
	default:
		return false, false, fmt.Errorf("want true or false, got %T %v", v, v)
	}
}

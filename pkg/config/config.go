// Package config loads Sek's settings from a YAML file, SEK_* environment variables and flags, in
// rising precedence. The CLI and the Lambda share it, so both read the same keys.
package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/awsclient"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// DefaultFile is read from the working directory when no --config is given.
const DefaultFile = "sek.yaml"

// EnvPrefix prefixes every environment variable Sek reads.
const EnvPrefix = "SEK_"

// Config is every setting of a scan.
type Config struct {
	Regions    []string `koanf:"regions"`
	AllRegions bool     `koanf:"all_regions"`
	Clusters   []string `koanf:"clusters"`
	Skip       []string `koanf:"skip"`
	FailOn     string   `koanf:"fail_on"`
	// FailOnError turns ERROR results (checks that could not be evaluated) into exit code 3.
	FailOnError bool   `koanf:"fail_on_error"`
	Output      string `koanf:"output"`
	Publish     bool   `koanf:"publish"`
	RoleARN     string `koanf:"role_arn"`
	// Accounts and Organization select a multi-account scan: RoleName is assumed in each.
	Accounts            []string `koanf:"accounts"`
	Organization        bool     `koanf:"organization"`
	OrganizationalUnits []string `koanf:"organizational_units"`
	AccountTags         []string `koanf:"account_tags"`
	RoleName            string   `koanf:"role_name"`
	// ItemsBucket is where the organization stack's list step writes the account × region
	// items its Distributed Map reads (Lambda only).
	ItemsBucket string `koanf:"items_bucket"`
	ExternalID  string `koanf:"external_id"`
	LogLevel    string `koanf:"log_level"`
	MaxAttempts int    `koanf:"max_attempts"`
	// Timeout bounds the whole scan; CallTimeout bounds the collection of one cluster.
	Timeout     time.Duration `koanf:"timeout"`
	CallTimeout time.Duration `koanf:"call_timeout"`
	Concurrency Concurrency   `koanf:"concurrency"`
	// Params holds per-check parameters: params.<CHECK_ID>.<name>.
	Params map[string]map[string]any `koanf:"params"`
	Mutes  []Mute                    `koanf:"mutes"`
	// Lambda tunes the auditor Lambda only; the CLI ignores it.
	Lambda Lambda `koanf:"lambda"`
}

// Lambda holds the settings only the auditor Lambda reads.
type Lambda struct {
	// SafetyMargin is kept free before the invocation deadline: no cluster starts after
	// deadline-SafetyMargin, and clusters still running at deadline-SafetyMargin/2 are cut off,
	// so that what is done can be published.
	SafetyMargin time.Duration `koanf:"safety_margin"`
	// ClusterCost is the estimated wall time to audit one cluster, used to decide whether a
	// scheduled scan fits the invocation or fans out one invocation per region.
	ClusterCost time.Duration `koanf:"cluster_cost"`
	// FanOut allows a scheduled run to fan out per region when the estimate does not fit.
	FanOut bool `koanf:"fan_out"`
}

// Concurrency bounds parallel work.
type Concurrency struct {
	Regions  int `koanf:"regions"`
	Clusters int `koanf:"clusters"`
	// Accounts bounds accounts scanned at once in a multi-account scan; each account then uses
	// Regions and Clusters.
	Accounts int `koanf:"accounts"`
}

// Mute silences a (cluster pattern, check) pair until an expiry date.
type Mute struct {
	Cluster string `koanf:"cluster"`
	Check   string `koanf:"check"`
	Reason  string `koanf:"reason"`
	Expires string `koanf:"expires"`
}

// Key documents one setting: its YAML key, env variable, flag and default. docs/configuration.md is
// checked against this list.
type Key struct {
	Name        string
	Env         string
	Flag        string
	Default     string
	Description string
}

// Keys lists every top-level setting.
func Keys() []Key {
	return []Key{
		{"regions", "SEK_REGIONS", "--region", "the configured AWS region", "Regions to scan (comma-separated in env)."},
		{"all_regions", "SEK_ALL_REGIONS", "--all-regions", "false", "Scan every region enabled for the account."},
		{"clusters", "SEK_CLUSTERS", "--cluster", "all clusters", "Narrow the scan to these cluster names."},
		{"skip", "SEK_SKIP", "--skip", "none", "Check ids to skip."},
		{"fail_on", "SEK_FAIL_ON", "--fail-on", "none", "Exit 1 when an unmuted failure has this severity or higher."},
		{"fail_on_error", "SEK_FAIL_ON_ERROR", "--fail-on-error", "false", "Exit 3 when any unmuted check could not be evaluated (ERROR), so a missing permission cannot pass a CI gate silently."},
		{"output", "SEK_OUTPUT", "--output", "table", "table, json, csv or asff."},
		{"publish", "SEK_PUBLISH", "--publish", "false", "Publish findings to Security Hub."},
		{"role_arn", "SEK_ROLE_ARN", "--role-arn", "none", "Role to assume in the target account."},
		{"external_id", "SEK_EXTERNAL_ID", "--external-id", "none", "External id for the assumed role (--role-arn, or each account's --role-name)."},
		{"accounts", "SEK_ACCOUNTS", "--accounts", "none", "Scan these accounts (12-digit ids, comma-separated) by assuming role_name in each."},
		{"organization", "SEK_ORGANIZATION", "--organization", "false", "Scan every ACTIVE account of the AWS organization (organizations:ListAccounts) by assuming role_name in each."},
		{"organizational_units", "SEK_ORGANIZATIONAL_UNITS", "--ou", "whole organization", "With organization: only accounts beneath these OU or root ids (ou-..., r-...)."},
		{"account_tags", "SEK_ACCOUNT_TAGS", "--account-tag", "none", "With organization: only accounts with all these tags (key=value, or key for any value)."},
		{"role_name", "SEK_ROLE_NAME", "--role-name", DefaultRoleName, "Audit role assumed in each account of a multi-account scan."},
		{"log_level", "SEK_LOG_LEVEL", "--log-level", "warn (CLI), info (Lambda)", "debug, info, warn or error."},
		{"max_attempts", "SEK_MAX_ATTEMPTS", "--max-attempts", "10", "Attempts per AWS call, retries included."},
		{"timeout", "SEK_TIMEOUT", "--timeout", "30m", "Deadline for the whole scan."},
		{"call_timeout", "SEK_CALL_TIMEOUT", "--call-timeout", "2m", "Deadline for collecting one cluster."},
		{"items_bucket", "SEK_ITEMS_BUCKET", "", "none", "Lambda, organization stack: S3 bucket the list step writes the account × region items to."},
		{"concurrency.regions", "SEK_CONCURRENCY__REGIONS", "--region-concurrency", "32", "Regions scanned at once. Each region has its own AWS quotas and Sek paces calls per region, so all regions normally run at once."},
		{"concurrency.clusters", "SEK_CONCURRENCY__CLUSTERS", "--cluster-concurrency", "8", "Clusters collected at once per region."},
		{"concurrency.accounts", "SEK_CONCURRENCY__ACCOUNTS", "--account-concurrency", "4", "Accounts scanned at once in a multi-account scan (each with the region and cluster limits)."},
		{"params", "", "", "each check's defaults", "Per-check parameters: params.<CHECK_ID>.<name>. See docs/checks.md."},
		{"mutes", "", "", "none", "List of {cluster, check, reason, expires} entries; muted results stay visible."},
		{"lambda.safety_margin", "SEK_LAMBDA__SAFETY_MARGIN", "", "60s", "Lambda only: time kept free before the deadline to publish what is done."},
		{"lambda.cluster_cost", "SEK_LAMBDA__CLUSTER_COST", "", "2s", "Lambda only: estimated time to audit one cluster, for the fan-out decision."},
		{"lambda.fan_out", "SEK_LAMBDA__FAN_OUT", "", "true", "Lambda only: let a scheduled run fan out one invocation per region when it would not fit."},
	}
}

// DefaultRoleName is the member-account audit role the organization stack's StackSet creates.
const DefaultRoleName = "SekAuditRole"

// Defaults returns the configuration before any source is applied.
func Defaults() Config {
	return Config{
		Output:      "table",
		FailOn:      "none",
		LogLevel:    "warn",
		MaxAttempts: awsclient.DefaultMaxAttempts,
		Timeout:     30 * time.Minute,
		CallTimeout: 2 * time.Minute,
		Concurrency: Concurrency{Regions: 32, Clusters: 8, Accounts: 4},
		RoleName:    DefaultRoleName,
		Lambda:      Lambda{SafetyMargin: 60 * time.Second, ClusterCost: 2 * time.Second, FanOut: true},
	}
}

// Sources selects where settings come from. Flags holds only the flags the user set, keyed by
// config key (for example "fail_on").
type Sources struct {
	File string
	// FileRequired is true when the user named the file; the default sek.yaml may be absent.
	FileRequired bool
	Environ      []string
	Flags        map[string]any
}

// Load merges defaults, file, env and flags, then validates against the check catalog.
func Load(src Sources, checks []audit.Check) (Config, error) {
	k := koanf.New(".")
	def := Defaults()
	if err := k.Load(confmap.Provider(map[string]any{
		"output": def.Output, "fail_on": def.FailOn, "log_level": def.LogLevel, "max_attempts": def.MaxAttempts,
		"timeout": def.Timeout.String(), "call_timeout": def.CallTimeout.String(),
		"concurrency.regions": def.Concurrency.Regions, "concurrency.clusters": def.Concurrency.Clusters,
		"concurrency.accounts": def.Concurrency.Accounts, "role_name": def.RoleName,
		"lambda.safety_margin": def.Lambda.SafetyMargin.String(), "lambda.cluster_cost": def.Lambda.ClusterCost.String(),
		"lambda.fan_out": def.Lambda.FanOut,
	}, "."), nil); err != nil {
		return Config{}, fmt.Errorf("load defaults: %w", err)
	}
	if src.File != "" {
		_, statErr := os.Stat(src.File)
		if statErr != nil && src.FileRequired {
			return Config{}, fmt.Errorf("config file %s: cannot read it (%w); check the --config path", src.File, statErr)
		}
		if statErr == nil {
			if err := k.Load(file.Provider(src.File), yaml.Parser()); err != nil {
				return Config{}, fmt.Errorf("config file %s: %w", src.File, cleanYAMLError(err))
			}
		}
	}
	environ := src.Environ
	if environ == nil {
		environ = os.Environ()
	}
	if err := k.Load(env.Provider(".", env.Opt{
		Prefix:      EnvPrefix,
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(key, v string) (string, any) {
			key = strings.ToLower(strings.TrimPrefix(key, EnvPrefix))
			key = strings.ReplaceAll(key, "__", ".")
			switch key {
			case "regions", "clusters", "skip", "accounts", "organizational_units", "account_tags":
				return key, splitList(v)
			}
			return key, v
		},
	}), nil); err != nil {
		return Config{}, fmt.Errorf("read SEK_* environment: %w", err)
	}
	if len(src.Flags) > 0 {
		if err := k.Load(confmap.Provider(src.Flags, "."), nil); err != nil {
			return Config{}, fmt.Errorf("apply flags: %w", err)
		}
	}
	var cfg Config
	err := k.UnmarshalWithConf("", &cfg, koanf.UnmarshalConf{DecoderConfig: &mapstructure.DecoderConfig{
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
			timeToStringHook,
		),
		ErrorUnused:      true,
		WeaklyTypedInput: true,
		Result:           &cfg,
		TagName:          "koanf",
	}})
	if err != nil {
		return Config{}, fmt.Errorf("invalid configuration: %w", cleanDecodeError(err))
	}
	if err := cfg.Validate(checks); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// clusterNamePattern is EKS's rule for cluster names; anything else cannot exist, so it is a typo.
var clusterNamePattern = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$`)

// timeToStringHook undoes YAML's eager timestamp parsing (expires: 2027-01-31), so dates reach
// Mute.Rule as text and get one parser and one error message.
func timeToStringHook(from, to reflect.Type, data any) (any, error) {
	if t, ok := data.(time.Time); ok && to.Kind() == reflect.String {
		if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
			return t.Format(time.DateOnly), nil
		}
		return t.Format(time.RFC3339), nil
	}
	return data, nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Validate checks every value and names the offending key.
func (c *Config) Validate(checks []audit.Check) error {
	var errs []error
	for _, r := range c.Regions {
		if err := awsclient.ValidateRegion(r); err != nil {
			errs = append(errs, fmt.Errorf("regions: %w", err))
		}
	}
	for _, n := range c.Clusters {
		if !clusterNamePattern.MatchString(n) && n != inventory.RegionServicesName {
			errs = append(errs, fmt.Errorf("clusters: %q cannot be an EKS cluster name: use 1 to 100 letters, digits, hyphens and underscores, starting with a letter or digit", n))
		}
	}
	if err := audit.ValidateIDs(checks, c.Skip); err != nil {
		errs = append(errs, fmt.Errorf("skip: %w", err))
	}
	if _, err := audit.ParseSeverity(c.FailOn); err != nil {
		errs = append(errs, fmt.Errorf("fail_on: %w", err))
	}
	switch c.Output {
	case "table", "json", "csv", "asff":
	default:
		errs = append(errs, fmt.Errorf("output: unknown format %q: use table, json, csv or asff", c.Output))
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "warning", "error":
	default:
		errs = append(errs, fmt.Errorf("log_level: unknown level %q: use debug, info, warn or error", c.LogLevel))
	}
	if c.Concurrency.Regions < 1 || c.Concurrency.Clusters < 1 {
		errs = append(errs, fmt.Errorf("concurrency: regions and clusters must be at least 1 (got %d and %d)", c.Concurrency.Regions, c.Concurrency.Clusters))
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 50 {
		errs = append(errs, fmt.Errorf("max_attempts: %d is out of range: use 1 to 50", c.MaxAttempts))
	}
	if c.Timeout <= 0 || c.CallTimeout <= 0 {
		errs = append(errs, errors.New("timeout and call_timeout must be positive durations such as 30m or 90s"))
	}
	errs = append(errs, c.validateAccounts()...)
	if c.Lambda.SafetyMargin <= 0 || c.Lambda.ClusterCost <= 0 {
		errs = append(errs, errors.New("lambda.safety_margin and lambda.cluster_cost must be positive durations such as 60s or 2s"))
	}
	errs = append(errs, validateParams(c.Params, checks)...)
	for i, m := range c.Mutes {
		if _, err := m.Rule(checks); err != nil {
			errs = append(errs, fmt.Errorf("mutes[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

var ouPattern = regexp.MustCompile(`^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$`)

// MultiAccount reports whether the scan covers several accounts through role_name.
func (c *Config) MultiAccount() bool { return len(c.Accounts) > 0 || c.Organization }

func (c *Config) validateAccounts() []error {
	var errs []error
	for _, a := range c.Accounts {
		if err := awsclient.ValidateAccountID(a); err != nil {
			errs = append(errs, fmt.Errorf("accounts: %w", err))
		}
	}
	if len(c.Accounts) > 0 && c.Organization {
		errs = append(errs, errors.New("accounts and organization are mutually exclusive: list accounts, or scan the organization (narrowed with organizational_units / account_tags)"))
	}
	if !c.Organization && (len(c.OrganizationalUnits) > 0 || len(c.AccountTags) > 0) {
		errs = append(errs, errors.New("organizational_units and account_tags filter the organization's accounts: also set organization (--organization)"))
	}
	for _, ou := range c.OrganizationalUnits {
		if !ouPattern.MatchString(ou) {
			errs = append(errs, fmt.Errorf("organizational_units: %q is not an OU or root id: use ids such as ou-ab12-cd34ef56 or r-ab12", ou))
		}
	}
	for _, t := range c.AccountTags {
		if k, _, _ := strings.Cut(t, "="); strings.TrimSpace(k) == "" {
			errs = append(errs, fmt.Errorf("account_tags: %q has no key: use key=value, or key to match any value", t))
		}
	}
	if c.MultiAccount() {
		if err := awsclient.ValidateRoleName(c.RoleName); err != nil {
			errs = append(errs, fmt.Errorf("role_name: %w", err))
		}
		if c.RoleARN != "" {
			errs = append(errs, errors.New("role_arn names one account's role and cannot be combined with accounts or organization: set role_name (the role in every account); to start from another role, use an AWS profile with role_arn"))
		}
	}
	if c.Concurrency.Accounts < 1 {
		errs = append(errs, fmt.Errorf("concurrency.accounts: must be at least 1 (got %d)", c.Concurrency.Accounts))
	}
	return errs
}

// AccountTagFilter returns account_tags as a map; a bare key matches any value.
func (c *Config) AccountTagFilter() map[string]string {
	if len(c.AccountTags) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, t := range c.AccountTags {
		k, v, _ := strings.Cut(t, "=")
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out
}

func validateParams(params map[string]map[string]any, checks []audit.Check) []error {
	byID := map[string]audit.Check{}
	for _, c := range checks {
		byID[c.ID] = c
	}
	var errs []error
	ids := make([]string, 0, len(params))
	for id := range params {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		c, ok := byID[id]
		if !ok {
			errs = append(errs, fmt.Errorf("params.%s: %w", id, audit.ValidateIDs(checks, []string{id})))
			continue
		}
		for name := range params[id] {
			known := false
			var names []string
			for _, p := range c.Parameters {
				names = append(names, p.Name)
				known = known || p.Name == name
			}
			if !known {
				valid := "it has no parameters"
				if len(names) > 0 {
					valid = "valid parameters: " + strings.Join(names, ", ")
				}
				errs = append(errs, fmt.Errorf("params.%s.%s: unknown parameter; %s", id, name, valid))
			}
		}
	}
	return errs
}

// Rule converts a mute entry into an audit.MuteRule, validating it.
func (m Mute) Rule(checks []audit.Check) (audit.MuteRule, error) {
	if strings.TrimSpace(m.Reason) == "" {
		return audit.MuteRule{}, errors.New("reason is required: say why the result is accepted")
	}
	if m.Check == "" {
		return audit.MuteRule{}, errors.New("check is required (a check id, or a glob such as EKS_NODE_*)")
	}
	if !strings.ContainsAny(m.Check, "*?[") {
		if err := audit.ValidateIDs(checks, []string{m.Check}); err != nil {
			return audit.MuteRule{}, fmt.Errorf("check: %w", err)
		}
	}
	r := audit.MuteRule{Cluster: m.Cluster, Check: m.Check, Reason: m.Reason}
	if m.Expires != "" {
		t, err := parseDate(m.Expires)
		if err != nil {
			return audit.MuteRule{}, err
		}
		r.Expires = t
	}
	return r, nil
}

func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.DateOnly, time.RFC3339, "2006-01-02 15:04:05 -0700 MST"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("expires: %q is not a date: use YYYY-MM-DD", s)
}

// MuteRules returns the validated mute rules.
func (c *Config) MuteRules(checks []audit.Check) ([]audit.MuteRule, error) {
	out := make([]audit.MuteRule, 0, len(c.Mutes))
	for i, m := range c.Mutes {
		r, err := m.Rule(checks)
		if err != nil {
			return nil, fmt.Errorf("mutes[%d]: %w", i, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// SkipSet returns the skipped ids as a set.
func (c *Config) SkipSet() map[string]bool {
	s := make(map[string]bool, len(c.Skip))
	for _, id := range c.Skip {
		s[id] = true
	}
	return s
}

func cleanYAMLError(err error) error {
	return fmt.Errorf("invalid YAML: %w", err)
}

// cleanDecodeError rewrites mapstructure's wording so it names the key and the fix.
func cleanDecodeError(err error) error {
	msg := err.Error()
	msg = strings.ReplaceAll(msg, "decoding failed due to the following error(s):\n\n", "")
	msg = strings.ReplaceAll(msg, "has invalid keys:", "has unknown keys:")
	msg = strings.ReplaceAll(msg, "time: invalid duration", "is not a duration: use a value such as 90s, 30m or 1h")
	msg = strings.ReplaceAll(msg, "'' ", "")
	return errors.New(msg + " (see docs/configuration.md for every valid key)")
}

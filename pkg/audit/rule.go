package audit

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Finding is what a rule observed about one resource. The engine turns it into a Result by adding
// the check's metadata and the target's identity.
type Finding struct {
	Status  Status
	Message string
	// ResourceARN and ResourceType default to the target's when empty, so cluster-level rules
	// need not repeat them; node-group or add-on rules set their own.
	ResourceARN  string
	ResourceType string
	// Severity overrides the check's default for this finding (for example CRITICAL when a
	// version is out of all support). Leave unset to use the default.
	Severity Severity
	Facts    map[string]string
}

// Passf, Failf, NotApplicablef and Errorf build findings with formatted messages.
func Passf(format string, a ...any) Finding {
	return Finding{Status: Pass, Message: fmt.Sprintf(format, a...)}
}
func Failf(format string, a ...any) Finding {
	return Finding{Status: Fail, Message: fmt.Sprintf(format, a...)}
}
func NotApplicablef(format string, a ...any) Finding {
	return Finding{Status: NotApplicable, Message: fmt.Sprintf(format, a...)}
}
func Errorf(format string, a ...any) Finding {
	return Finding{Status: Error, Message: fmt.Sprintf(format, a...)}
}

// With returns a copy of f with the given fact added.
func (f Finding) With(key, value string) Finding {
	facts := make(map[string]string, len(f.Facts)+1)
	for k, v := range f.Facts {
		facts[k] = v
	}
	facts[key] = value
	f.Facts = facts
	return f
}

// On returns a copy of f reported against another resource than the target.
func (f Finding) On(resourceARN, resourceType string) Finding {
	f.ResourceARN, f.ResourceType = resourceARN, resourceType
	return f
}

// Env is everything a rule may read besides the snapshot. "Now" is an input so that a check is
// right on the day the scan runs, and tests can pin it.
type Env struct {
	Now    time.Time
	Params Params
}

// Rule pairs a check's metadata with its pure evaluation over a snapshot type S.
type Rule[S any] struct {
	Check
	// AppliesTo names the target kinds this rule evaluates ("cluster", "region"). Empty means
	// every kind.
	AppliesTo []string
	Evaluate  func(env Env, snapshot S) []Finding
}

// Meta returns the check metadata of each rule, in order.
func Meta[S any](rules []Rule[S]) []Check {
	out := make([]Check, len(rules))
	for i, r := range rules {
		out[i] = r.Check
	}
	return out
}

// Params holds per-check parameter values, with the check's declared defaults filled in.
type Params struct {
	values map[string]any
}

// NewParams merges user overrides over the declared defaults.
func NewParams(declared []Parameter, overrides map[string]any) Params {
	v := make(map[string]any, len(declared))
	for _, p := range declared {
		v[p.Name] = p.Default
	}
	for k, val := range overrides {
		v[k] = val
	}
	return Params{values: v}
}

// Int reads an integer parameter. Values from YAML or env may arrive as strings or floats.
func (p Params) Int(name string) int {
	switch v := p.values[name].(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	case string:
		n, _ := strconv.Atoi(strings.TrimSpace(v))
		return n
	}
	return 0
}

// Bool reads a boolean parameter.
func (p Params) Bool(name string) bool {
	switch v := p.values[name].(type) {
	case bool:
		return v
	case string:
		b, _ := strconv.ParseBool(v)
		return b
	}
	return false
}

// String reads a string parameter.
func (p Params) String(name string) string {
	if v, ok := p.values[name]; ok && v != nil {
		return fmt.Sprint(v)
	}
	return ""
}

// Strings reads a list parameter; a comma-separated string is accepted too.
func (p Params) Strings(name string) []string {
	switch v := p.values[name].(type) {
	case []string:
		return append([]string(nil), v...)
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			out = append(out, fmt.Sprint(e))
		}
		return out
	case string:
		var out []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Evaluator runs checks over one collected snapshot. Providers build it with Bind, so the engine
// can evaluate any provider's snapshot without knowing its type.
type Evaluator interface {
	Evaluate(opts EvalOptions) []Result
}

// EvalOptions carries the scan-wide inputs of evaluation.
type EvalOptions struct {
	Now    time.Time
	Skip   map[string]bool
	Params map[string]map[string]any
}

// Bind pairs rules with a snapshot of their type and the target it describes.
func Bind[S any](rules []Rule[S], snapshot S, target Target) Evaluator {
	return bound[S]{rules: rules, snapshot: snapshot, target: target}
}

type bound[S any] struct {
	rules    []Rule[S]
	snapshot S
	target   Target
}

func (b bound[S]) Evaluate(opts EvalOptions) []Result {
	var out []Result
	for _, r := range b.rules {
		if opts.Skip[r.ID] || !appliesTo(r.AppliesTo, b.target.Kind) {
			continue
		}
		env := Env{Now: opts.Now, Params: NewParams(r.Parameters, opts.Params[r.ID])}
		for _, f := range safeEvaluate(r, env, b.snapshot) {
			out = append(out, b.result(r.Check, f))
		}
	}
	return out
}

// safeEvaluate turns a panicking rule into one ERROR finding, so a bug in one check never takes
// down the scan or silently drops its verdicts.
func safeEvaluate[S any](r Rule[S], env Env, s S) (out []Finding) {
	defer func() {
		if p := recover(); p != nil {
			out = []Finding{Errorf("internal error in check %s: %v", r.ID, p)}
		}
	}()
	return r.Evaluate(env, s)
}

func appliesTo(kinds []string, kind string) bool {
	if len(kinds) == 0 {
		return true
	}
	for _, k := range kinds {
		if k == kind {
			return true
		}
	}
	return false
}

func (b bound[S]) result(c Check, f Finding) Result {
	r := Result{
		CheckID:      c.ID,
		Title:        c.Title,
		Severity:     c.Severity,
		Status:       f.Status,
		ResourceARN:  b.target.ARN,
		ResourceType: b.target.ResourceType,
		Region:       b.target.Region,
		AccountID:    b.target.AccountID,
		ClusterName:  b.target.Cluster,
		Message:      f.Message,
		References:   c.References,
		Facts:        f.Facts,
		Scope:        b.target.Scope(),
	}
	if f.Severity != SeverityUnset {
		r.Severity = f.Severity
	}
	if f.ResourceARN != "" {
		r.ResourceARN = f.ResourceARN
	}
	if f.ResourceType != "" {
		r.ResourceType = f.ResourceType
	}
	if r.Status == "" {
		r.Status = Error
		r.Message = "check returned no status: " + r.Message
	}
	return r
}

// ErrUnknownCheck is returned when a check id given by the user is not in the catalog.
var ErrUnknownCheck = errors.New("unknown check id")

// ValidateIDs returns an error naming every id not in checks, with the list of valid ids.
func ValidateIDs(checks []Check, ids []string) error {
	known := make(map[string]bool, len(checks))
	valid := make([]string, 0, len(checks))
	for _, c := range checks {
		known[c.ID] = true
		valid = append(valid, c.ID)
	}
	var bad []string
	for _, id := range ids {
		if !known[id] {
			bad = append(bad, id)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(valid)
	return fmt.Errorf("%w %s; valid ids are: %s", ErrUnknownCheck, strings.Join(quoteAll(bad), ", "), strings.Join(valid, ", "))
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strconv.Quote(v)
	}
	return out
}

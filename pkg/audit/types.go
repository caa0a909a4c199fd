// Package audit holds the provider-neutral core of Sek: check metadata, results, and the engine that
// runs discover → collect → evaluate over any provider. Nothing here knows about EKS or AWS SDKs.
package audit

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Severity orders how much a failed check matters. The zero value means "use the check's default",
// so a rule can leave it unset.
type Severity int

const (
	SeverityUnset Severity = iota
	Informational
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"", "INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

// Severities lists the valid severities from lowest to highest.
func Severities() []Severity { return []Severity{Informational, Low, Medium, High, Critical} }

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("Severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity accepts any case ("high", "HIGH"). "none" and "" parse to SeverityUnset, which
// callers use for "nothing fails the exit code".
func ParseSeverity(s string) (Severity, error) {
	up := strings.ToUpper(strings.TrimSpace(s))
	if up == "" || up == "NONE" {
		return SeverityUnset, nil
	}
	if up == "INFO" {
		return Informational, nil
	}
	for i, n := range severityNames {
		if i > 0 && n == up {
			return Severity(i), nil
		}
	}
	return SeverityUnset, fmt.Errorf("unknown severity %q: use one of none, informational, low, medium, high, critical", s)
}

func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Status is the verdict of one check on one resource.
type Status string

const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	// NotApplicable means the check has nothing to judge (a cluster without node groups).
	NotApplicable Status = "NOT_APPLICABLE"
	// Error means the check could not be evaluated (AccessDenied, API missing). It is never a
	// PASS or a FAIL, and publishing must leave the previous finding untouched.
	Error Status = "ERROR"
)

// Reference ties a check to a control in a public standard.
type Reference struct {
	Standard string `json:"standard"`
	Control  string `json:"control"`
	URL      string `json:"url,omitempty"`
}

// Remediation says how to fix a failure.
type Remediation struct {
	Text    string `json:"text"`
	Console string `json:"console,omitempty"`
	CLI     string `json:"cli,omitempty"`
	IaC     string `json:"iac,omitempty"`
	URL     string `json:"url"`
}

// Parameter is a tunable input of a check, settable per check in the config file.
type Parameter struct {
	Name        string `json:"name"`
	Default     any    `json:"default"`
	Description string `json:"description"`
}

// Check is the immutable metadata of a check. The IAM policy and docs are generated from it.
type Check struct {
	ID           string      `json:"id"`
	Title        string      `json:"title"`
	Severity     Severity    `json:"severity"`
	ResourceType string      `json:"resourceType"`
	Description  string      `json:"description"`
	Rationale    string      `json:"rationale"`
	Remediation  Remediation `json:"remediation"`
	References   []Reference `json:"references"`
	Parameters   []Parameter `json:"parameters,omitempty"`
	// Permissions are the IAM actions the collector needs for this check's facts.
	Permissions []string `json:"permissions"`
}

// Result is one verdict on one (check, resource) pair: the unit of every report and finding.
type Result struct {
	CheckID      string      `json:"checkId"`
	Title        string      `json:"title"`
	Severity     Severity    `json:"severity"`
	Status       Status      `json:"status"`
	ResourceARN  string      `json:"resourceArn"`
	ResourceType string      `json:"resourceType"`
	Region       string      `json:"region"`
	AccountID    string      `json:"accountId"`
	ClusterName  string      `json:"clusterName"`
	Message      string      `json:"message"`
	References   []Reference `json:"references"`
	Muted        bool        `json:"muted,omitempty"`
	MuteReason   string      `json:"muteReason,omitempty"`
	// Facts are the observed values behind the verdict, for reports and ASFF ProductFields.
	Facts map[string]string `json:"facts,omitempty"`
	// Scope is the target the result was produced for; reconciliation is keyed on it.
	Scope ScopeRef `json:"-"`
}

// ScopeRef names a unit of scanning. An empty Target means the whole region.
type ScopeRef struct {
	AccountID string `json:"accountId,omitempty"`
	Region    string `json:"region"`
	Target    string `json:"target,omitempty"`
}

func (s ScopeRef) String() string {
	parts := []string{}
	if s.AccountID != "" {
		parts = append(parts, s.AccountID)
	}
	if s.Region != "" {
		parts = append(parts, s.Region)
	}
	if s.Target != "" {
		parts = append(parts, s.Target)
	}
	return strings.Join(parts, "/")
}

// ScanError records a scope that could not be scanned completely, and why.
type ScanError struct {
	Scope   ScopeRef `json:"scope"`
	Stage   string   `json:"stage"`
	Message string   `json:"message"`
}

// MarshalJSON flattens the scope so the JSON contract reads naturally.
func (e ScanError) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Scope   string `json:"scope"`
		Account string `json:"accountId,omitempty"`
		Region  string `json:"region"`
		Target  string `json:"target,omitempty"`
		Stage   string `json:"stage"`
		Message string `json:"message"`
	}{e.Scope.String(), e.Scope.AccountID, e.Scope.Region, e.Scope.Target, e.Stage, e.Message})
}

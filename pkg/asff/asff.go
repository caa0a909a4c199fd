// Package asff maps Sek results to the AWS Security Finding Format (ASFF), the shape Security Hub
// imports. The mapping is pure: no I/O, no clock. Timestamps come in as arguments, so the same
// result always maps to the same finding, and the publisher can set lifecycle timestamps itself.
//
// Decisions that are not obvious from the ASFF reference:
//   - The finding Id is "sek/<check id>/<resource ARN>": readable, deterministic, and the same for
//     PASS and FAIL, so Compliance.Status flips in place and customer suppressions survive.
//     When that would exceed 512 characters the ARN is cut and a SHA-256 of the full key is
//     appended, so distinct long ARNs never share an Id.
//   - PASS maps to PASSED, FAIL to FAILED, a muted FAIL to WARNING (muting means "known, accepted"
//     rather than "fixed"). NOT_APPLICABLE maps to PASSED, never NOT_AVAILABLE: Security Hub moves a
//     RESOLVED or NOTIFIED finding back to NEW when its status becomes NOT_AVAILABLE, which would
//     reopen findings for resources that simply have nothing to check. ProductFields
//     "sek/Status" keeps the original verdict.
//   - ERROR results are never mapped: a check that could not run says nothing about the resource,
//     and publishing must leave the previous finding alone.
//   - Passing findings carry severity INFORMATIONAL (as Security Hub's own controls do) with the
//     check's severity in Severity.Original.
package asff

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/awsclient"
)

// SchemaVersion is the only ASFF schema version Security Hub accepts.
const SchemaVersion = "2018-10-08"

// Documented ASFF and BatchImportFindings limits. Lengths are in characters (runes), sizes in bytes.
const (
	MaxIDLen                = 512
	MaxGeneratorIDLen       = 512
	MaxTitleLen             = 256
	MaxDescriptionLen       = 1024
	MaxRecommendationLen    = 512
	MaxProductFields        = 50
	MaxProductFieldKeyLen   = 128
	MaxProductFieldValueLen = 2048
	MaxResources            = 32
	MaxResourceTypeLen      = 256
	MaxTypes                = 50
	MaxRelatedRequirements  = 32
	// MaxRelatedRequirementLen follows Prowler, which had imports rejected above it.
	MaxRelatedRequirementLen = 64
	// MaxOtherValueLen is the older Details.Other cap; newer validation allows more, the old one is safe.
	MaxOtherValueLen = 1024
	// MaxFieldBytes: "The maximum size of an individual field should be less than 32768".
	MaxFieldBytes = 32768
	// MaxFindingBytes is 240 KB, the per-finding import limit, counted conservatively as 240,000.
	MaxFindingBytes = 240_000
)

// ProductFields keys Sek writes. ProviderName/ProviderVersion follow the convention other
// providers use; everything else is namespaced under "sek/".
const (
	FieldProviderName    = "ProviderName"
	FieldProviderVersion = "ProviderVersion"
	FieldCheckID         = "sek/CheckId"
	FieldStatus          = "sek/Status"
	FieldAccountID       = "sek/AccountId"
	FieldRegion          = "sek/Region"
	FieldTarget          = "sek/Target"
	FieldCluster         = "sek/Cluster"
	FieldResourceType    = "sek/ResourceType"
	FieldMuted           = "sek/Muted"
	FieldMuteReason      = "sek/MuteReason"
	FieldFactsOmitted    = "sek/FactsOmitted"
	// FactPrefix prefixes every fact key in ProductFields.
	FactPrefix = "sek/fact/"
	// ProviderName is the value of FieldProviderName on every Sek finding; the publisher uses it to
	// tell Sek's findings from other custom integrations that share the account's default product.
	ProviderName = "Sek"
)

// Fact keys the mapping reads to fill AwsEksCluster details. Collectors that record these facts
// get richer resource details in Security Hub; missing ones are simply left out.
const (
	FactVersion              = "version"
	FactEndpointPublicAccess = "endpointPublicAccess"
	FactSecurityGroupIDs     = "securityGroupIds" // comma or space separated
	FactSubnetIDs            = "subnetIds"        // comma or space separated
	FactRoleARN              = "roleArn"
	FactEndpoint             = "endpoint"
	FactClusterStatus        = "status"
	FactEnabledLogTypes      = "enabledLogTypes"  // comma or space separated
	FactDisabledLogTypes     = "disabledLogTypes" // comma or space separated
)

// Types Sek findings carry (ASFF type taxonomy).
const (
	TypeBestPractices = "Software and Configuration Checks/AWS Security Best Practices"
	TypeCISEKS        = "Software and Configuration Checks/Industry and Regulatory Standards/CIS Amazon EKS Benchmark"
)

// ErrNotPublishable is returned for results that must not become findings (Status ERROR).
var ErrNotPublishable = errors.New("result is not publishable")

// Mapper turns results into findings. The zero value works; Checks adds descriptions and
// remediation, Version is recorded in every finding.
type Mapper struct {
	Version string
	checks  map[string]audit.Check
}

// NewMapper returns a mapper that looks up check metadata in checks.
func NewMapper(version string, checks []audit.Check) *Mapper {
	m := &Mapper{Version: version, checks: make(map[string]audit.Check, len(checks))}
	for _, c := range checks {
		m.checks[c.ID] = c
	}
	return m
}

// Publishable reports whether a result becomes a finding.
func Publishable(r audit.Result) bool {
	switch r.Status {
	case audit.Pass, audit.Fail, audit.NotApplicable:
		return true
	}
	return false
}

// ProductARN is the account's default (custom integration) product in a region.
func ProductARN(region, accountID string) string {
	return fmt.Sprintf("arn:%s:securityhub:%s:%s:product/%s/default", awsclient.Partition(region), region, accountID, accountID)
}

// FindingID is the Id of the finding for a check on a resource. It depends only on the two, so
// every run, and PASS and FAIL alike, address the same finding.
func FindingID(resourceID, checkID string) string {
	id := "sek/" + checkID + "/" + resourceID
	if utf8.RuneCountInString(id) <= MaxIDLen && len(id) < MaxFieldBytes {
		return id
	}
	sum := sha256.Sum256([]byte(checkID + "\x00" + resourceID))
	suffix := "#sha256:" + hex.EncodeToString(sum[:])
	return truncateRunes(id, MaxIDLen-len(suffix), "") + suffix
}

// ResultResourceID is the resource identifier a result's finding is about: its ARN, or for
// account-level results without one, the ASFF account resource id.
func ResultResourceID(r audit.Result) string {
	if r.ResourceARN != "" {
		return r.ResourceARN
	}
	return "AWS::::Account:" + r.AccountID
}

// ResultFindingID is FindingID for a result; ERROR results have one too, so the publisher can
// protect their previous findings.
func ResultFindingID(r audit.Result) string {
	return FindingID(ResultResourceID(r), r.CheckID)
}

// FormatTime renders a timestamp the way Security Hub accepts it (RFC 3339, UTC, up to nine
// fractional digits).
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Map builds the finding for one result. All four timestamps are set to now; the publisher
// replaces CreatedAt and FirstObservedAt with the stored ones for findings that already exist.
func (m *Mapper) Map(r audit.Result, now time.Time) (shtypes.AwsSecurityFinding, error) {
	if !Publishable(r) {
		return shtypes.AwsSecurityFinding{}, fmt.Errorf("%w: %s on %s has status %s", ErrNotPublishable, r.CheckID, r.ResourceARN, r.Status)
	}
	if err := checkIdentity(r); err != nil {
		return shtypes.AwsSecurityFinding{}, err
	}
	c, known := m.checks[r.CheckID]
	if !known {
		c = audit.Check{ID: r.CheckID, Title: r.Title, Severity: r.Severity, References: r.References}
	}
	ts := FormatTime(now)
	sev := severity(r, c)
	types := findingTypes(c, r)
	f := shtypes.AwsSecurityFinding{
		SchemaVersion:   aws.String(SchemaVersion),
		Id:              aws.String(ResultFindingID(r)),
		ProductArn:      aws.String(ProductARN(r.Region, r.AccountID)),
		GeneratorId:     aws.String(r.CheckID),
		AwsAccountId:    aws.String(r.AccountID),
		Types:           types,
		CreatedAt:       aws.String(ts),
		UpdatedAt:       aws.String(ts),
		FirstObservedAt: aws.String(ts),
		LastObservedAt:  aws.String(ts),
		Severity:        &shtypes.Severity{Label: sev.Label, Original: sev.Original},
		FindingProviderFields: &shtypes.FindingProviderFields{
			Severity: &sev,
			Types:    append([]string(nil), types...),
		},
		Title:       aws.String(truncateRunes(firstNonEmpty(r.Title, c.Title, r.CheckID), MaxTitleLen, ellipsis)),
		Description: aws.String(truncateRunes(description(r, c), MaxDescriptionLen, ellipsis)),
		Compliance: &shtypes.Compliance{
			Status:              ComplianceStatus(r),
			RelatedRequirements: relatedRequirements(firstNonNil(r.References, c.References)),
		},
		Remediation: remediation(c),
		Resources:   resources(r),
		RecordState: shtypes.RecordStateActive,
	}
	f.ProductFields = m.productFields(r)
	if err := shrink(&f); err != nil {
		return shtypes.AwsSecurityFinding{}, fmt.Errorf("map %s on %s: %w", r.CheckID, r.ResourceARN, err)
	}
	return f, nil
}

func checkIdentity(r audit.Result) error {
	var missing []string
	if r.CheckID == "" {
		missing = append(missing, "check id")
	}
	if !ValidAccountID(r.AccountID) {
		missing = append(missing, fmt.Sprintf("12-digit account id (got %q)", r.AccountID))
	}
	if r.Region == "" {
		missing = append(missing, "region")
	}
	if len(missing) > 0 {
		return fmt.Errorf("cannot map result %s on %q to ASFF: missing %s", r.CheckID, r.ResourceARN, strings.Join(missing, ", "))
	}
	return nil
}

// ValidAccountID reports whether s is a 12-digit AWS account id, as AwsAccountId must be.
func ValidAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ComplianceStatus is the ASFF compliance status of a publishable result.
func ComplianceStatus(r audit.Result) shtypes.ComplianceStatus {
	switch r.Status {
	case audit.Fail:
		if r.Muted {
			return shtypes.ComplianceStatusWarning
		}
		return shtypes.ComplianceStatusFailed
	case audit.Pass, audit.NotApplicable:
		return shtypes.ComplianceStatusPassed
	}
	return shtypes.ComplianceStatusNotAvailable
}

func severity(r audit.Result, c audit.Check) shtypes.FindingProviderSeverity {
	s := r.Severity
	if s == audit.SeverityUnset {
		s = c.Severity
	}
	label := severityLabel(s)
	if r.Status != audit.Fail {
		label = shtypes.SeverityLabelInformational
	}
	out := shtypes.FindingProviderSeverity{Label: label}
	if s != audit.SeverityUnset {
		out.Original = aws.String(s.String())
	}
	return out
}

func severityLabel(s audit.Severity) shtypes.SeverityLabel {
	switch s {
	case audit.Low:
		return shtypes.SeverityLabelLow
	case audit.Medium:
		return shtypes.SeverityLabelMedium
	case audit.High:
		return shtypes.SeverityLabelHigh
	case audit.Critical:
		return shtypes.SeverityLabelCritical
	}
	return shtypes.SeverityLabelInformational
}

func findingTypes(c audit.Check, r audit.Result) []string {
	types := []string{TypeBestPractices}
	for _, ref := range firstNonNil(r.References, c.References) {
		if strings.Contains(strings.ToUpper(ref.Standard), "CIS") {
			types = append(types, TypeCISEKS)
			break
		}
	}
	return types
}

func description(r audit.Result, c audit.Check) string {
	var parts []string
	if r.Message != "" {
		parts = append(parts, r.Message)
	}
	if r.Muted {
		reason := r.MuteReason
		if reason == "" {
			reason = "no reason given"
		}
		parts = append(parts, "Muted in Sek configuration: "+reason+".")
	}
	if c.Description != "" {
		parts = append(parts, c.Description)
	}
	if len(parts) == 0 {
		return firstNonEmpty(r.Title, c.Title, r.CheckID)
	}
	return strings.Join(parts, "\n\n")
}

func relatedRequirements(refs []audit.Reference) []string {
	seen := map[string]bool{}
	var out []string
	for _, ref := range refs {
		s := strings.TrimSpace(strings.TrimSpace(ref.Standard) + " " + strings.TrimSpace(ref.Control))
		if s == "" {
			continue
		}
		s = truncateRunes(s, MaxRelatedRequirementLen, ellipsis)
		if seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
		if len(out) == MaxRelatedRequirements {
			break
		}
	}
	return out
}

func remediation(c audit.Check) *shtypes.Remediation {
	url := c.Remediation.URL
	if url == "" {
		for _, ref := range c.References {
			if ref.URL != "" {
				url = ref.URL
				break
			}
		}
	}
	text := strings.TrimSpace(c.Remediation.Text)
	if text == "" && url == "" {
		return nil
	}
	if text == "" {
		text = "Follow the linked guidance to remediate this finding."
	}
	rec := &shtypes.Recommendation{Text: aws.String(truncateRunes(text, MaxRecommendationLen, ellipsis))}
	if url != "" && len(url) < MaxFieldBytes {
		rec.Url = aws.String(url)
	}
	return &shtypes.Remediation{Recommendation: rec}
}

func (m *Mapper) productFields(r audit.Result) map[string]string {
	pf := map[string]string{
		FieldProviderName: ProviderName,
		FieldCheckID:      r.CheckID,
		FieldStatus:       string(r.Status),
		FieldAccountID:    r.AccountID,
		FieldRegion:       r.Region,
	}
	if m.Version != "" {
		pf[FieldProviderVersion] = m.Version
	}
	if t := firstNonEmpty(r.Scope.Target, r.ClusterName); t != "" {
		pf[FieldTarget] = t
	}
	if r.ClusterName != "" {
		pf[FieldCluster] = r.ClusterName
	}
	if r.ResourceType != "" {
		pf[FieldResourceType] = r.ResourceType
	}
	if r.Muted {
		pf[FieldMuted] = "true"
		if r.MuteReason != "" {
			pf[FieldMuteReason] = r.MuteReason
		}
	}
	for k, v := range pf {
		pf[k] = productFieldValue(v)
	}
	keys := make([]string, 0, len(r.Facts))
	for k := range r.Facts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// One slot stays free for the omitted-facts marker, so a cut is always visible.
	room := MaxProductFields - len(pf) - 1
	omitted := 0
	for _, k := range keys {
		if room <= 0 {
			omitted++
			continue
		}
		pf[factKey(k)] = productFieldValue(r.Facts[k])
		room--
	}
	if omitted > 0 {
		pf[FieldFactsOmitted] = strconv.Itoa(omitted)
	}
	return pf
}

// factKey namespaces a fact key and keeps it within the key limit; a cut key gets a short hash
// of the full key so two long keys with the same prefix stay distinct.
func factKey(k string) string {
	key := FactPrefix + k
	if utf8.RuneCountInString(key) <= MaxProductFieldKeyLen {
		return key
	}
	sum := sha256.Sum256([]byte(k))
	suffix := "~" + hex.EncodeToString(sum[:4])
	return truncateRunes(key, MaxProductFieldKeyLen-len(suffix), "") + suffix
}

func productFieldValue(v string) string {
	if v == "" {
		// Empty strings are rejected by ASFF validation; the fact's absence of value is still a fact.
		return "(empty)"
	}
	return truncateRunes(v, MaxProductFieldValueLen, ellipsis)
}

// shrink enforces the per-finding size cap by dropping facts, the least essential content.
func shrink(f *shtypes.AwsSecurityFinding) error {
	size, err := Size(*f)
	if err != nil {
		return err
	}
	if size <= MaxFindingBytes {
		return nil
	}
	var factKeys []string
	for k := range f.ProductFields {
		if strings.HasPrefix(k, FactPrefix) {
			factKeys = append(factKeys, k)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(factKeys)))
	dropped := 0
	for _, k := range factKeys {
		delete(f.ProductFields, k)
		dropped++
		if size, err = Size(*f); err != nil {
			return err
		}
		if size <= MaxFindingBytes {
			break
		}
	}
	if dropped > 0 {
		prev, _ := strconv.Atoi(f.ProductFields[FieldFactsOmitted])
		f.ProductFields[FieldFactsOmitted] = strconv.Itoa(prev + dropped)
	}
	if size > MaxFindingBytes {
		return fmt.Errorf("finding is %d bytes, over the %d-byte limit even without facts", size, MaxFindingBytes)
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func firstNonNil[T any](a, b []T) []T {
	if len(a) > 0 {
		return a
	}
	return b
}

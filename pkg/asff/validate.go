package asff

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

var (
	productARNPattern = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:securityhub:[a-z0-9-]+:[0-9]{12}:product/[0-9]{12}/default$`)
	typeNamespaces    = map[string]bool{
		"Software and Configuration Checks": true,
		"TTPs":                              true,
		"Effects":                           true,
		"Unusual Behaviors":                 true,
		"Sensitive Data Identifications":    true,
	}
	severityLabels = map[shtypes.SeverityLabel]bool{
		shtypes.SeverityLabelInformational: true, shtypes.SeverityLabelLow: true, shtypes.SeverityLabelMedium: true,
		shtypes.SeverityLabelHigh: true, shtypes.SeverityLabelCritical: true,
	}
	complianceStatuses = map[shtypes.ComplianceStatus]bool{
		shtypes.ComplianceStatusPassed: true, shtypes.ComplianceStatusWarning: true,
		shtypes.ComplianceStatusFailed: true, shtypes.ComplianceStatusNotAvailable: true,
	}
)

// Validate checks a finding against every documented ASFF limit Sek relies on: required fields,
// lengths, counts, enums, timestamp formats and the 240 KB size cap. It returns all problems at
// once, each naming the field. It is the contract the mapper and the publisher are tested
// against, and the publisher runs it before every import.
func Validate(f shtypes.AwsSecurityFinding) error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	str := func(name string, p *string, min, max int) {
		if p == nil {
			if min > 0 {
				bad("%s is required", name)
			}
			return
		}
		checkString(name, *p, min, max, bad)
	}

	if f.SchemaVersion == nil || *f.SchemaVersion != SchemaVersion {
		bad("SchemaVersion must be %q", SchemaVersion)
	}
	str("Id", f.Id, 1, MaxIDLen)
	str("GeneratorId", f.GeneratorId, 1, MaxGeneratorIDLen)
	str("Title", f.Title, 1, MaxTitleLen)
	str("Description", f.Description, 1, MaxDescriptionLen)
	str("ProductArn", f.ProductArn, 12, 2048)
	if f.ProductArn != nil && !productARNPattern.MatchString(*f.ProductArn) {
		bad("ProductArn %q is not an account default product ARN", *f.ProductArn)
	}
	if f.AwsAccountId == nil || !ValidAccountID(*f.AwsAccountId) {
		bad("AwsAccountId must be 12 digits")
	} else if f.ProductArn != nil && !strings.Contains(*f.ProductArn, ":"+*f.AwsAccountId+":product/"+*f.AwsAccountId+"/") {
		bad("AwsAccountId %s does not own ProductArn %s", *f.AwsAccountId, *f.ProductArn)
	}

	created := timestamp("CreatedAt", f.CreatedAt, true, bad)
	updated := timestamp("UpdatedAt", f.UpdatedAt, true, bad)
	first := timestamp("FirstObservedAt", f.FirstObservedAt, false, bad)
	last := timestamp("LastObservedAt", f.LastObservedAt, false, bad)
	if !created.IsZero() && !updated.IsZero() && updated.Before(created) {
		bad("UpdatedAt %s is before CreatedAt %s", *f.UpdatedAt, *f.CreatedAt)
	}
	if !first.IsZero() && !last.IsZero() && last.Before(first) {
		bad("LastObservedAt %s is before FirstObservedAt %s", *f.LastObservedAt, *f.FirstObservedAt)
	}

	checkTypes("Types", f.Types, bad)
	if f.Severity == nil || !severityLabels[f.Severity.Label] {
		bad("Severity.Label must be one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL")
	}
	if fpf := f.FindingProviderFields; fpf == nil {
		bad("FindingProviderFields is required (Severity and Types belong there)")
	} else {
		if fpf.Severity == nil || !severityLabels[fpf.Severity.Label] {
			bad("FindingProviderFields.Severity.Label must be one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL")
		}
		checkTypes("FindingProviderFields.Types", fpf.Types, bad)
	}

	if f.Compliance != nil {
		if !complianceStatuses[f.Compliance.Status] {
			bad("Compliance.Status %q is not PASSED, WARNING, FAILED or NOT_AVAILABLE", f.Compliance.Status)
		}
		if n := len(f.Compliance.RelatedRequirements); n > MaxRelatedRequirements {
			bad("Compliance.RelatedRequirements has %d items, more than %d", n, MaxRelatedRequirements)
		}
		for i, r := range f.Compliance.RelatedRequirements {
			checkString(fmt.Sprintf("Compliance.RelatedRequirements[%d]", i), r, 1, MaxRelatedRequirementLen, bad)
		}
	}
	if f.RecordState != "" && f.RecordState != shtypes.RecordStateActive && f.RecordState != shtypes.RecordStateArchived {
		bad("RecordState %q is not ACTIVE or ARCHIVED", f.RecordState)
	}
	if f.Remediation != nil && f.Remediation.Recommendation != nil {
		rec := f.Remediation.Recommendation
		str("Remediation.Recommendation.Text", rec.Text, 1, MaxRecommendationLen)
		if rec.Url != nil {
			checkString("Remediation.Recommendation.Url", *rec.Url, 1, 0, bad)
		}
	}

	if n := len(f.ProductFields); n > MaxProductFields {
		bad("ProductFields has %d entries, more than %d", n, MaxProductFields)
	}
	keys := make([]string, 0, len(f.ProductFields))
	for k := range f.ProductFields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		checkString("ProductFields key", k, 1, MaxProductFieldKeyLen, bad)
		if strings.HasPrefix(k, "aws/") {
			bad("ProductFields key %q uses the reserved aws/ prefix", k)
		}
		checkString("ProductFields["+k+"]", f.ProductFields[k], 1, MaxProductFieldValueLen, bad)
	}

	if n := len(f.Resources); n < 1 || n > MaxResources {
		bad("Resources has %d items; it needs 1 to %d", n, MaxResources)
	}
	for i, r := range f.Resources {
		name := fmt.Sprintf("Resources[%d]", i)
		str(name+".Id", r.Id, 1, 0)
		str(name+".Type", r.Type, 1, MaxResourceTypeLen)
		if r.Details != nil {
			for k, v := range r.Details.Other {
				checkString(name+".Details.Other["+k+"]", v, 0, MaxOtherValueLen, bad)
			}
		}
	}

	if size, err := Size(f); err != nil {
		bad("encode: %v", err)
	} else if size > MaxFindingBytes {
		bad("finding is %d bytes, over the %d-byte limit", size, MaxFindingBytes)
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("finding %q violates ASFF limits: %w", deref(f.Id), errors.Join(errs...))
}

// checkString checks rune length bounds (max 0 = no rune limit), UTF-8 validity and the
// per-field byte cap.
func checkString(name, s string, min, max int, bad func(string, ...any)) {
	if !utf8.ValidString(s) {
		bad("%s is not valid UTF-8", name)
		return
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n < min:
		bad("%s is empty or shorter than %d characters", name, min)
	case max > 0 && n > max:
		bad("%s has %d characters, more than %d", name, n, max)
	case len(s) >= MaxFieldBytes:
		bad("%s is %d bytes; a single field must be under %d", name, len(s), MaxFieldBytes)
	}
}

func checkTypes(name string, types []string, bad func(string, ...any)) {
	if len(types) == 0 {
		bad("%s needs at least one type", name)
	}
	if len(types) > MaxTypes {
		bad("%s has %d items, more than %d", name, len(types), MaxTypes)
	}
	for _, t := range types {
		parts := strings.Split(t, "/")
		if len(parts) > 3 || !typeNamespaces[parts[0]] {
			bad("%s entry %q is not namespace/category/classifier with a valid namespace", name, t)
		}
	}
}

func timestamp(name string, p *string, required bool, bad func(string, ...any)) time.Time {
	if p == nil {
		if required {
			bad("%s is required", name)
		}
		return time.Time{}
	}
	t, err := ParseTime(*p)
	if err != nil {
		bad("%s %q is not an RFC 3339 timestamp", name, *p)
	}
	return t
}

// ParseTime reads a Security Hub timestamp.
func ParseTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

package asff

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/google/go-cmp/cmp"

	"github.com/sek-dev/sek/pkg/audit"
)

var now = time.Date(2025, 3, 4, 5, 6, 7, 890000000, time.UTC)

const (
	acct       = "123456789012"
	clusterARN = "arn:aws:eks:eu-west-1:123456789012:cluster/prod"
)

var endpointCheck = audit.Check{
	ID:          "EKS_ENDPOINT_PUBLIC_OPEN",
	Title:       "The public API endpoint is not open to the whole internet",
	Severity:    audit.High,
	Description: "An API endpoint reachable from 0.0.0.0/0 can be probed by anyone.",
	Remediation: audit.Remediation{Text: "Restrict publicAccessCidrs to known networks.", URL: "https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html"},
	References: []audit.Reference{
		{Standard: "CIS Amazon EKS Benchmark v1.7.0", Control: "5.4.1"},
		{Standard: "AWS FSBP", Control: "EKS.1", URL: "https://docs.aws.amazon.com/securityhub/latest/userguide/eks-controls.html"},
	},
}

func clusterResult(status audit.Status) audit.Result {
	return audit.Result{
		CheckID:      endpointCheck.ID,
		Title:        endpointCheck.Title,
		Severity:     endpointCheck.Severity,
		Status:       status,
		ResourceARN:  clusterARN,
		ResourceType: "AwsEksCluster",
		Region:       "eu-west-1",
		AccountID:    acct,
		ClusterName:  "prod",
		Message:      "publicAccessCidrs contains 0.0.0.0/0",
		References:   endpointCheck.References,
		Facts: map[string]string{
			"endpointPublicAccess": "true",
			"publicAccessCidrs":    "0.0.0.0/0",
			"securityGroupIds":     "sg-1,sg-2",
			"subnetIds":            "subnet-a subnet-b",
			"version":              "1.30",
			"enabledLogTypes":      "api,audit",
			"disabledLogTypes":     "scheduler",
		},
		Scope: audit.ScopeRef{AccountID: acct, Region: "eu-west-1", Target: "prod"},
	}
}

func mustMap(t *testing.T, m *Mapper, r audit.Result) shtypes.AwsSecurityFinding {
	t.Helper()
	f, err := m.Map(r, now)
	if err != nil {
		t.Fatalf("Map: %v", err)
	}
	if err := Validate(f); err != nil {
		t.Fatalf("mapped finding is invalid: %v", err)
	}
	return f
}

func TestMapClusterFailure(t *testing.T) {
	m := NewMapper("1.2.3", []audit.Check{endpointCheck})
	f := mustMap(t, m, clusterResult(audit.Fail))

	ts := "2025-03-04T05:06:07.89Z"
	want := shtypes.AwsSecurityFinding{
		SchemaVersion:   aws.String("2018-10-08"),
		Id:              aws.String("sek/EKS_ENDPOINT_PUBLIC_OPEN/" + clusterARN),
		ProductArn:      aws.String("arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default"),
		GeneratorId:     aws.String("EKS_ENDPOINT_PUBLIC_OPEN"),
		AwsAccountId:    aws.String(acct),
		Types:           []string{TypeBestPractices, TypeCISEKS},
		CreatedAt:       aws.String(ts),
		UpdatedAt:       aws.String(ts),
		FirstObservedAt: aws.String(ts),
		LastObservedAt:  aws.String(ts),
		Severity:        &shtypes.Severity{Label: shtypes.SeverityLabelHigh, Original: aws.String("HIGH")},
		FindingProviderFields: &shtypes.FindingProviderFields{
			Severity: &shtypes.FindingProviderSeverity{Label: shtypes.SeverityLabelHigh, Original: aws.String("HIGH")},
			Types:    []string{TypeBestPractices, TypeCISEKS},
		},
		Title:       aws.String(endpointCheck.Title),
		Description: aws.String("publicAccessCidrs contains 0.0.0.0/0\n\n" + endpointCheck.Description),
		Compliance: &shtypes.Compliance{
			Status:              shtypes.ComplianceStatusFailed,
			RelatedRequirements: []string{"CIS Amazon EKS Benchmark v1.7.0 5.4.1", "AWS FSBP EKS.1"},
		},
		Remediation: &shtypes.Remediation{Recommendation: &shtypes.Recommendation{
			Text: aws.String(endpointCheck.Remediation.Text), Url: aws.String(endpointCheck.Remediation.URL),
		}},
		Resources: []shtypes.Resource{{
			Id: aws.String(clusterARN), Type: aws.String("AwsEksCluster"), Partition: shtypes.PartitionAws, Region: aws.String("eu-west-1"),
			Details: &shtypes.ResourceDetails{AwsEksCluster: &shtypes.AwsEksClusterDetails{
				Arn: aws.String(clusterARN), Name: aws.String("prod"), Version: aws.String("1.30"),
				ResourcesVpcConfig: &shtypes.AwsEksClusterResourcesVpcConfigDetails{
					EndpointPublicAccess: aws.Bool(true), SecurityGroupIds: []string{"sg-1", "sg-2"}, SubnetIds: []string{"subnet-a", "subnet-b"},
				},
				Logging: &shtypes.AwsEksClusterLoggingDetails{ClusterLogging: []shtypes.AwsEksClusterLoggingClusterLoggingDetails{
					{Enabled: aws.Bool(true), Types: []string{"api", "audit"}},
					{Enabled: aws.Bool(false), Types: []string{"scheduler"}},
				}},
			}},
		}},
		RecordState: shtypes.RecordStateActive,
		ProductFields: map[string]string{
			"ProviderName": "Sek", "ProviderVersion": "1.2.3",
			"sek/CheckId": "EKS_ENDPOINT_PUBLIC_OPEN", "sek/Status": "FAIL",
			"sek/AccountId": acct, "sek/Region": "eu-west-1", "sek/Target": "prod", "sek/Cluster": "prod",
			"sek/ResourceType":              "AwsEksCluster",
			"sek/fact/endpointPublicAccess": "true", "sek/fact/publicAccessCidrs": "0.0.0.0/0",
			"sek/fact/securityGroupIds": "sg-1,sg-2", "sek/fact/subnetIds": "subnet-a subnet-b",
			"sek/fact/version": "1.30", "sek/fact/enabledLogTypes": "api,audit", "sek/fact/disabledLogTypes": "scheduler",
		},
	}
	if diff := cmp.Diff(want, f, cmpOpts); diff != "" {
		t.Errorf("finding mismatch (-want +got):\n%s", diff)
	}
}

// The SDK structs embed an unexported marker; comparing it is harmless.
var cmpOpts = cmp.Exporter(func(reflect.Type) bool { return true })

func TestComplianceAndSeverityByStatus(t *testing.T) {
	m := NewMapper("v", []audit.Check{endpointCheck})
	tests := []struct {
		name       string
		status     audit.Status
		muted      bool
		compliance shtypes.ComplianceStatus
		label      shtypes.SeverityLabel
	}{
		{"failure keeps the check severity", audit.Fail, false, shtypes.ComplianceStatusFailed, shtypes.SeverityLabelHigh},
		{"muted failure is a warning", audit.Fail, true, shtypes.ComplianceStatusWarning, shtypes.SeverityLabelHigh},
		{"pass is informational", audit.Pass, false, shtypes.ComplianceStatusPassed, shtypes.SeverityLabelInformational},
		{"muted pass is still passed", audit.Pass, true, shtypes.ComplianceStatusPassed, shtypes.SeverityLabelInformational},
		{"not applicable is passed, never NOT_AVAILABLE", audit.NotApplicable, false, shtypes.ComplianceStatusPassed, shtypes.SeverityLabelInformational},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := clusterResult(tc.status)
			r.Muted, r.MuteReason = tc.muted, "accepted until Q3"
			f := mustMap(t, m, r)
			if f.Compliance.Status != tc.compliance {
				t.Errorf("Compliance.Status = %s, want %s", f.Compliance.Status, tc.compliance)
			}
			if f.Severity.Label != tc.label || f.FindingProviderFields.Severity.Label != tc.label {
				t.Errorf("severity = %s / FPF %s, want %s", f.Severity.Label, f.FindingProviderFields.Severity.Label, tc.label)
			}
			if got := aws.ToString(f.FindingProviderFields.Severity.Original); got != "HIGH" {
				t.Errorf("Severity.Original = %q, want HIGH", got)
			}
			if f.ProductFields[FieldStatus] != string(tc.status) {
				t.Errorf("sek/Status = %q, want %s", f.ProductFields[FieldStatus], tc.status)
			}
			if tc.muted != (f.ProductFields[FieldMuted] == "true") {
				t.Errorf("sek/Muted = %q with muted=%v", f.ProductFields[FieldMuted], tc.muted)
			}
		})
	}
}

func TestErrorResultsAreNotMapped(t *testing.T) {
	_, err := NewMapper("v", nil).Map(clusterResult(audit.Error), now)
	if !errors.Is(err, ErrNotPublishable) {
		t.Fatalf("Map(ERROR) error = %v, want ErrNotPublishable", err)
	}
}

func TestMissingIdentityIsAClearError(t *testing.T) {
	r := clusterResult(audit.Fail)
	r.AccountID = "12345"
	_, err := NewMapper("v", nil).Map(r, now)
	if err == nil || !strings.Contains(err.Error(), "12-digit account id") {
		t.Fatalf("error = %v, want one naming the account id", err)
	}
}

func TestFindingIDIsStableAcrossStatusesAndRuns(t *testing.T) {
	m := NewMapper("v", []audit.Check{endpointCheck})
	pass := mustMap(t, m, clusterResult(audit.Pass))
	fail := mustMap(t, m, clusterResult(audit.Fail))
	other := clusterResult(audit.Fail)
	other.CheckID = "EKS_AUDIT_LOGGING"
	if *pass.Id != *fail.Id {
		t.Errorf("PASS and FAIL Ids differ: %s vs %s", *pass.Id, *fail.Id)
	}
	if FindingID(clusterARN, "EKS_AUDIT_LOGGING") == *fail.Id {
		t.Error("different checks share an Id")
	}
	if FindingID(clusterARN, endpointCheck.ID) != *fail.Id {
		t.Error("FindingID is not deterministic")
	}
}

func TestLongIDsAreCutWithAHash(t *testing.T) {
	long := "arn:aws:eks:eu-west-1:123456789012:nodegroup/prod/" + strings.Repeat("ñ", 600)
	a := FindingID(long+"a", "CHECK")
	b := FindingID(long+"b", "CHECK")
	for _, id := range []string{a, b} {
		if n := utf8.RuneCountInString(id); n > MaxIDLen {
			t.Errorf("Id has %d characters, over %d", n, MaxIDLen)
		}
		if !utf8.ValidString(id) {
			t.Errorf("Id is not valid UTF-8")
		}
		if !strings.HasPrefix(id, "sek/CHECK/arn:aws:eks:") || !strings.Contains(id, "#sha256:") {
			t.Errorf("long Id lost its readable prefix or hash: %s", id)
		}
	}
	if a == b {
		t.Error("two long ARNs with the same prefix share an Id")
	}
	if FindingID(long+"a", "CHECK") != a {
		t.Error("hashed Id is not deterministic")
	}
}

func TestTextIsTruncatedOnRuneBoundaries(t *testing.T) {
	c := endpointCheck
	c.Title = strings.Repeat("é", 300)
	c.Description = strings.Repeat("日本", 800)
	c.Remediation.Text = strings.Repeat("🙂", 600)
	r := clusterResult(audit.Fail)
	r.Title = ""
	r.Message = strings.Repeat("x", 100)
	f := mustMap(t, NewMapper("v", []audit.Check{c}), r)
	for name, s := range map[string]struct {
		v   string
		max int
	}{
		"Title":          {*f.Title, MaxTitleLen},
		"Description":    {*f.Description, MaxDescriptionLen},
		"Recommendation": {*f.Remediation.Recommendation.Text, MaxRecommendationLen},
	} {
		if !utf8.ValidString(s.v) {
			t.Errorf("%s is not valid UTF-8", name)
		}
		if n := utf8.RuneCountInString(s.v); n != s.max {
			t.Errorf("%s has %d characters, want exactly the limit %d", name, n, s.max)
		}
		if !strings.HasSuffix(s.v, "…") {
			t.Errorf("%s does not end with an ellipsis", name)
		}
	}
}

func TestProductFieldsStayWithinLimits(t *testing.T) {
	r := clusterResult(audit.Fail)
	r.Facts = map[string]string{}
	for i := range 80 {
		r.Facts[fmt.Sprintf("fact%02d", i)] = strings.Repeat("v", 3000)
	}
	r.Facts[strings.Repeat("k", 200)] = "long key"
	r.Facts["empty"] = ""
	f := mustMap(t, NewMapper("v", nil), r)
	if n := len(f.ProductFields); n > MaxProductFields {
		t.Fatalf("%d ProductFields, over %d", n, MaxProductFields)
	}
	if f.ProductFields[FieldFactsOmitted] == "" {
		t.Error("dropping facts left no sek/FactsOmitted marker")
	}
	if f.ProductFields[FieldCheckID] != r.CheckID || f.ProductFields[FieldProviderName] != ProviderName {
		t.Error("facts crowded out the fixed fields")
	}
	if got := f.ProductFields["sek/fact/empty"]; got != "(empty)" {
		t.Errorf("empty fact = %q, want (empty)", got)
	}
	if got := utf8.RuneCountInString(f.ProductFields["sek/fact/fact00"]); got != MaxProductFieldValueLen {
		t.Errorf("long value has %d characters, want %d", got, MaxProductFieldValueLen)
	}
}

func TestFactKeyCutKeepsKeysDistinct(t *testing.T) {
	a, b := factKey(strings.Repeat("k", 200)+"a"), factKey(strings.Repeat("k", 200)+"b")
	if a == b || utf8.RuneCountInString(a) > MaxProductFieldKeyLen {
		t.Errorf("factKey cut badly: %q / %q", a, b)
	}
}

func TestNodegroupIsOtherWithItsCluster(t *testing.T) {
	r := clusterResult(audit.Fail)
	r.ResourceARN = "arn:aws:eks:eu-west-1:123456789012:nodegroup/prod/ng-1/abcd"
	r.ResourceType = "AwsEksNodegroup"
	f := mustMap(t, NewMapper("v", nil), r)
	if len(f.Resources) != 2 {
		t.Fatalf("want the node group and its cluster, got %d resources", len(f.Resources))
	}
	ng, cl := f.Resources[0], f.Resources[1]
	if *ng.Type != "Other" || ng.Details.Other["SekResourceType"] != "AwsEksNodegroup" {
		t.Errorf("node group resource = %s %v", *ng.Type, ng.Details.Other)
	}
	if *cl.Type != "AwsEksCluster" || *cl.Id != clusterARN || *cl.Details.AwsEksCluster.Name != "prod" {
		t.Errorf("cluster resource = %s %s", *cl.Type, *cl.Id)
	}
}

func TestResourceTypeFromARN(t *testing.T) {
	tests := map[string]string{
		"arn:aws:ec2:eu-west-1:123456789012:security-group/sg-1":  "AwsEc2SecurityGroup",
		"arn:aws:iam::123456789012:role/node":                     "AwsIamRole",
		"arn:aws:kms:eu-west-1:123456789012:key/abc":              "AwsKmsKey",
		"arn:aws:eks:eu-west-1:123456789012:addon/prod/vpc-cni/x": "Other",
		"": "AwsAccount",
	}
	for arn, want := range tests {
		r := clusterResult(audit.Fail)
		r.ResourceARN, r.ResourceType = arn, ""
		if got := ResourceType(r); got != want {
			t.Errorf("ResourceType(%q) = %s, want %s", arn, got, want)
		}
	}
}

func TestGovCloudPartition(t *testing.T) {
	r := clusterResult(audit.Fail)
	r.Region = "us-gov-west-1"
	r.ResourceARN = "arn:aws-us-gov:eks:us-gov-west-1:123456789012:cluster/prod"
	f := mustMap(t, NewMapper("v", nil), r)
	if got := *f.ProductArn; got != "arn:aws-us-gov:securityhub:us-gov-west-1:123456789012:product/123456789012/default" {
		t.Errorf("ProductArn = %s", got)
	}
	if f.Resources[0].Partition != shtypes.PartitionAwsUsGov {
		t.Errorf("Partition = %s", f.Resources[0].Partition)
	}
}

func TestValidateRejectsEachViolation(t *testing.T) {
	base := func() shtypes.AwsSecurityFinding {
		return mustMap(t, NewMapper("v", []audit.Check{endpointCheck}), clusterResult(audit.Fail))
	}
	tests := []struct {
		name   string
		mutate func(*shtypes.AwsSecurityFinding)
		want   string
	}{
		{"schema version", func(f *shtypes.AwsSecurityFinding) { f.SchemaVersion = aws.String("2020") }, "SchemaVersion"},
		{"id too long", func(f *shtypes.AwsSecurityFinding) { f.Id = aws.String(strings.Repeat("i", 513)) }, "Id has 513"},
		{"empty id", func(f *shtypes.AwsSecurityFinding) { f.Id = aws.String("") }, "Id is empty"},
		{"title too long", func(f *shtypes.AwsSecurityFinding) { f.Title = aws.String(strings.Repeat("t", 257)) }, "Title has 257"},
		{"description too long", func(f *shtypes.AwsSecurityFinding) { f.Description = aws.String(strings.Repeat("d", 1025)) }, "Description has 1025"},
		{"recommendation too long", func(f *shtypes.AwsSecurityFinding) {
			f.Remediation.Recommendation.Text = aws.String(strings.Repeat("r", 513))
		}, "Text has 513"},
		{"empty recommendation", func(f *shtypes.AwsSecurityFinding) { f.Remediation.Recommendation.Text = aws.String("") }, "Text is empty"},
		{"invalid utf-8", func(f *shtypes.AwsSecurityFinding) { f.Title = aws.String("a\xffb") }, "not valid UTF-8"},
		{"account", func(f *shtypes.AwsSecurityFinding) { f.AwsAccountId = aws.String("12") }, "AwsAccountId"},
		{"foreign product", func(f *shtypes.AwsSecurityFinding) {
			f.ProductArn = aws.String("arn:aws:securityhub:eu-west-1::product/prowler/prowler")
		}, "default product"},
		{"timestamp", func(f *shtypes.AwsSecurityFinding) { f.UpdatedAt = aws.String("yesterday") }, "UpdatedAt"},
		{"updated before created", func(f *shtypes.AwsSecurityFinding) { f.UpdatedAt = aws.String("2000-01-01T00:00:00Z") }, "before CreatedAt"},
		{"types namespace", func(f *shtypes.AwsSecurityFinding) { f.Types = []string{"Stuff/Things"} }, "valid namespace"},
		{"fpf types", func(f *shtypes.AwsSecurityFinding) { f.FindingProviderFields.Types = nil }, "FindingProviderFields.Types"},
		{"severity", func(f *shtypes.AwsSecurityFinding) { f.Severity.Label = "SEVERE" }, "Severity.Label"},
		{"compliance", func(f *shtypes.AwsSecurityFinding) { f.Compliance.Status = "MUTED" }, "Compliance.Status"},
		{"too many product fields", func(f *shtypes.AwsSecurityFinding) {
			for i := range 51 {
				f.ProductFields[fmt.Sprint("k", i)] = "v"
			}
		}, "ProductFields has"},
		{"product field key", func(f *shtypes.AwsSecurityFinding) { f.ProductFields[strings.Repeat("k", 129)] = "v" }, "key has 129"},
		{"product field value", func(f *shtypes.AwsSecurityFinding) { f.ProductFields["k"] = strings.Repeat("v", 2049) }, "has 2049"},
		{"reserved key", func(f *shtypes.AwsSecurityFinding) { f.ProductFields["aws/securityhub/FindingId"] = "x" }, "reserved"},
		{"no resources", func(f *shtypes.AwsSecurityFinding) { f.Resources = nil }, "Resources has 0"},
		{"too many resources", func(f *shtypes.AwsSecurityFinding) {
			for range 32 {
				f.Resources = append(f.Resources, f.Resources[0])
			}
		}, "Resources has 33"},
		{"other value", func(f *shtypes.AwsSecurityFinding) {
			f.Resources[0].Details.Other = map[string]string{"x": strings.Repeat("o", 1025)}
		}, "Other[x]"},
		{"finding too large", func(f *shtypes.AwsSecurityFinding) {
			for i := range 30 {
				f.Resources = append(f.Resources, shtypes.Resource{Id: aws.String(strings.Repeat("r", 9000) + fmt.Sprint(i)), Type: aws.String("Other")})
			}
		}, "byte limit"},
		{"related requirements", func(f *shtypes.AwsSecurityFinding) {
			f.Compliance.RelatedRequirements = make([]string, 33)
		}, "RelatedRequirements has 33"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := base()
			tc.mutate(&f)
			err := Validate(f)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// TestEveryMappedFindingIsValid is the contract test: random results, including hostile text,
// always map to findings within every ASFF limit.
func TestEveryMappedFindingIsValid(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("abcXYZ09 /:-_.é日🙂\n\t\"<>&")
	text := func(n int) string {
		out := make([]rune, rng.IntN(n+1))
		for i := range out {
			out[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(out)
	}
	statuses := []audit.Status{audit.Pass, audit.Fail, audit.NotApplicable}
	for i := range 150 {
		c := audit.Check{
			ID: fmt.Sprintf("CHECK_%d", i%17), Title: text(400), Severity: audit.Severity(rng.IntN(6)),
			Description: text(3000), Remediation: audit.Remediation{Text: text(900), URL: "https://example.com/" + text(20)},
		}
		for range rng.IntN(40) {
			c.References = append(c.References, audit.Reference{Standard: text(50), Control: text(30)})
		}
		r := audit.Result{
			CheckID: c.ID, Title: text(400), Severity: audit.Severity(rng.IntN(6)), Status: statuses[rng.IntN(3)],
			ResourceARN: "arn:aws:eks:us-east-1:123456789012:cluster/" + text(rng.IntN(900)), ResourceType: text(10),
			Region: "us-east-1", AccountID: acct, ClusterName: text(60), Message: text(2000),
			Muted: rng.IntN(2) == 0, MuteReason: text(3000), Facts: map[string]string{},
			Scope: audit.ScopeRef{AccountID: acct, Region: "us-east-1", Target: text(60)},
		}
		for range rng.IntN(90) {
			r.Facts[text(200)] = text(4000)
		}
		f, err := NewMapper(text(30), []audit.Check{c}).Map(r, now)
		if err != nil {
			t.Fatalf("case %d: Map: %v", i, err)
		}
		if err := Validate(f); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
	}
}

func TestRenderWritesValidJSONArrayWithoutErrors(t *testing.T) {
	results := []audit.Result{clusterResult(audit.Fail), clusterResult(audit.Error), clusterResult(audit.NotApplicable)}
	results[2].CheckID = "EKS_AUDIT_LOGGING"
	var buf bytes.Buffer
	if err := Render(&buf, results, []audit.Check{endpointCheck}, "1.0.0", now); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "null") {
		t.Errorf("output contains null values:\n%s", buf.String())
	}
	var back []shtypes.AwsSecurityFinding
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatalf("output is not an ASFF array: %v", err)
	}
	if len(back) != 2 {
		t.Fatalf("got %d findings, want 2 (the ERROR result is left out)", len(back))
	}
	for _, f := range back {
		if err := Validate(f); err != nil {
			t.Errorf("rendered finding invalid after round trip: %v", err)
		}
	}
	if back[0].Compliance.Status != shtypes.ComplianceStatusFailed {
		t.Errorf("first finding status %s", back[0].Compliance.Status)
	}

	buf.Reset()
	if err := Render(&buf, nil, nil, "1.0.0", now); err != nil || strings.TrimSpace(buf.String()) != "[]" {
		t.Errorf("empty render = %q, %v; want []", buf.String(), err)
	}
}

func TestTruncateRunes(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"hello", 5, "hello"},
		{"hello!", 5, "hell…"},
		{"日本語テキスト", 4, "日本語…"},
		{"a\xffb", 5, "a\uFFFDb"},
		{"abc", 0, ""},
	}
	for _, tc := range tests {
		if got := truncateRunes(tc.in, tc.max, ellipsis); got != tc.want {
			t.Errorf("truncateRunes(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

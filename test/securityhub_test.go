package test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	sh "github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/sek-dev/sek/internal/cli"
	"github.com/sek-dev/sek/internal/demo"
	"github.com/sek-dev/sek/pkg/asff"
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/securityhub"
	"github.com/sek-dev/sek/test/harness"
)

const demoAccount = "123456789012"

// hubEnv is the seeded demo estate behind a proxy that adds BatchUpdateFindings, validates every
// imported finding and can inject faults. sek talks to the proxy; assertions read moto directly.
type hubEnv struct {
	moto  *harness.Moto
	proxy *harness.Proxy
	// results are the last publish run's results; expectations are derived from them so the
	// tests follow the check catalog as it grows.
	results []audit.Result
}

// publishable counts the last run's results that become findings and satisfy keep.
func (e *hubEnv) publishable(keep func(audit.Result) bool) int {
	n := 0
	for _, r := range e.results {
		if asff.Publishable(r) && (keep == nil || keep(r)) {
			n++
		}
	}
	return n
}

func inRegion(region string) func(audit.Result) bool {
	return func(r audit.Result) bool { return r.Region == region }
}

func ofTarget(f shtypes.AwsSecurityFinding) string { return f.ProductFields[asff.FieldTarget] }

func newHubEnv(t *testing.T) *hubEnv {
	t.Helper()
	m := seededMoto(t)
	p := harness.StartProxy(t, m.URL)
	t.Setenv("AWS_ENDPOINT_URL", p.URL)
	t.Cleanup(func() {
		for _, v := range p.Invalid() {
			t.Errorf("sek imported a finding that breaks the ASFF limits: %s", v)
		}
	})
	return &hubEnv{moto: m, proxy: p}
}

// publishRun runs `sek scan --publish --output json` in-process and returns the exit code, the
// publish outcome and the logs.
func (e *hubEnv) publishRun(t *testing.T, args ...string) (int, securityhub.Outcome, string) {
	t.Helper()
	all := append([]string{"scan", "--publish", "--output", "json", "--no-progress"}, args...)
	if !slices.Contains(args, "--region") {
		for _, r := range demo.Regions() {
			all = append(all, "--region", r)
		}
	}
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), all, cli.IO{Stdout: &out, Stderr: &errb, Environ: os.Environ()})
	var doc struct {
		Results []audit.Result       `json:"results"`
		Publish *securityhub.Outcome `json:"publish"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || doc.Publish == nil {
		t.Fatalf("sek %v: no publish outcome in stdout (%v)\nstdout: %s\nstderr: %s", all, err, out.String(), errb.String())
	}
	e.results = doc.Results
	return code, *doc.Publish, errb.String()
}

func (e *hubEnv) hub(region string) *sh.Client {
	return sh.New(sh.Options{Region: region, BaseEndpoint: aws.String(e.moto.URL),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
}

func (e *hubEnv) eks(region string) *eks.Client {
	return eks.New(eks.Options{Region: region, BaseEndpoint: aws.String(e.moto.URL),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
}

// findings reads every finding moto holds in a region, keyed by Id, failing on duplicates.
func (e *hubEnv) findings(t *testing.T, region string) map[string]shtypes.AwsSecurityFinding {
	t.Helper()
	out := map[string]shtypes.AwsSecurityFinding{}
	pages := sh.NewGetFindingsPaginator(e.hub(region), &sh.GetFindingsInput{MaxResults: aws.Int32(100)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatalf("read findings in %s: %v", region, err)
		}
		for _, f := range page.Findings {
			id := aws.ToString(f.Id)
			if _, dup := out[id]; dup {
				t.Errorf("duplicate finding %s in %s", id, region)
			}
			out[id] = f
		}
	}
	return out
}

func (e *hubEnv) allFindings(t *testing.T) map[string]shtypes.AwsSecurityFinding {
	all := map[string]shtypes.AwsSecurityFinding{}
	for _, r := range demo.Regions() {
		for id, f := range e.findings(t, r) {
			all[id] = f
		}
	}
	return all
}

func findingID(region, cluster, check string) string {
	return asff.FindingID("arn:aws:eks:"+region+":"+demoAccount+":cluster/"+cluster, check)
}

// TestSecurityHubFindingLifecycle publishes the demo estate to moto's Security Hub, re-publishes
// it, then fixes a failing check on two clusters, one of which the customer suppressed.
func TestSecurityHubFindingLifecycle(t *testing.T) {
	e := newHubEnv(t)
	if !t.Run("re-publishing keeps one finding each and its creation time", func(t *testing.T) {
		republishKeepsOneFindingEachAndItsCreationTime(t, e)
	}) {
		return
	}
	t.Run("a fixed check is imported as PASSED and resolved unless suppressed", func(t *testing.T) {
		fixedCheckIsImportedAsPassedAndResolvedUnlessSuppressed(t, e)
	})
	t.Run("--output asff writes the findings --publish would import", func(t *testing.T) { asffOutputMatchesPublish(t, e) })
}

func asffOutputMatchesPublish(t *testing.T, e *hubEnv) {
	published := e.findings(t, "us-east-1") // nothing was archived in this test, so all are current
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), []string{"scan", "--region", "us-east-1", "--output", "asff"}, cli.IO{Stdout: &out, Stderr: &errb, Environ: os.Environ()})
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var findings []shtypes.AwsSecurityFinding
	if err := json.Unmarshal(out.Bytes(), &findings); err != nil {
		t.Fatalf("--output asff is not a JSON array of findings: %v\n%s", err, out.String())
	}
	if len(findings) != len(published) {
		t.Errorf("%d findings for us-east-1, want the %d that --publish imported", len(findings), len(published))
	}
	for _, f := range findings {
		if _, ok := published[aws.ToString(f.Id)]; !ok {
			t.Errorf("--output asff has %s, which --publish did not import", aws.ToString(f.Id))
		}
		if err := asff.Validate(f); err != nil {
			t.Error(err)
		}
		if aws.ToString(f.ProductArn) != asff.ProductARN("us-east-1", demoAccount) {
			t.Errorf("%s: ProductArn %s", aws.ToString(f.Id), aws.ToString(f.ProductArn))
		}
	}
}

// TestSecurityHubArchiving deletes clusters and breaks scans, and checks that only a completed
// scan archives, and only what it no longer produced; then checks a region without Security Hub.
// The steps share one seeded moto because seeding costs more than all of them together.
func TestSecurityHubArchiving(t *testing.T) {
	e := newHubEnv(t)
	if code, out, logs := e.publishRun(t); code != cli.ExitOK {
		t.Fatalf("first publish: exit %d %+v\n%s", code, out, logs)
	}
	steps := []struct {
		name string
		run  func(*testing.T, *hubEnv)
	}{
		{"a deleted cluster is archived only after a complete scan", deletedClusterIsArchivedOnlyAfterACompleteScan},
		{"ArchiveScope archives one cluster for the Lambda's delete event", archiveScopeForTheLambdaDeleteEvent},
		{"a region without Security Hub is skipped and counted", regionWithoutSecurityHubIsSkippedAndCounted},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.run(t, e) }) {
			return
		}
	}
}

func republishKeepsOneFindingEachAndItsCreationTime(t *testing.T, e *hubEnv) {
	code, first, logs := e.publishRun(t)
	if code != cli.ExitOK || first.Problems() != 0 {
		t.Fatalf("first publish: exit %d, outcome %+v\n%s", code, first, logs)
	}
	before := e.allFindings(t)
	want := e.publishable(nil)
	if want < len(demo.Clusters())*5 {
		t.Fatalf("only %d publishable results; the demo estate should give many more", want)
	}
	if len(before) != want || first.Imported != want || first.Created != want {
		t.Fatalf("first publish stored %d findings (imported %d, created %d), want %d", len(before), first.Imported, first.Created, want)
	}
	for id, f := range before {
		if f.RecordState != shtypes.RecordStateActive || aws.ToString(f.CreatedAt) != aws.ToString(f.UpdatedAt) {
			t.Errorf("%s: new finding is %s with CreatedAt %s / UpdatedAt %s", id, f.RecordState, aws.ToString(f.CreatedAt), aws.ToString(f.UpdatedAt))
		}
		if err := asff.Validate(f); err != nil {
			t.Errorf("stored finding breaks ASFF limits: %v", err)
		}
	}

	time.Sleep(20 * time.Millisecond) // so "later" is observable at millisecond resolution too
	code, second, logs := e.publishRun(t)
	if code != cli.ExitOK || second.Imported != want || second.Created != 0 || second.Archived != 0 {
		t.Fatalf("second publish: exit %d, outcome %+v\n%s", code, second, logs)
	}
	after := e.allFindings(t)
	if len(after) != want {
		t.Fatalf("re-publishing left %d findings, want the same %d", len(after), want)
	}
	for id, b := range before {
		a, ok := after[id]
		if !ok {
			t.Errorf("%s disappeared", id)
			continue
		}
		if aws.ToString(a.CreatedAt) != aws.ToString(b.CreatedAt) || aws.ToString(a.FirstObservedAt) != aws.ToString(b.FirstObservedAt) {
			t.Errorf("%s: CreatedAt/FirstObservedAt changed from %s to %s", id, aws.ToString(b.CreatedAt), aws.ToString(a.CreatedAt))
		}
		bu, _ := asff.ParseTime(aws.ToString(b.UpdatedAt))
		au, _ := asff.ParseTime(aws.ToString(a.UpdatedAt))
		if !au.After(bu) || aws.ToString(a.LastObservedAt) != aws.ToString(a.UpdatedAt) {
			t.Errorf("%s: UpdatedAt did not move forward (%s → %s)", id, aws.ToString(b.UpdatedAt), aws.ToString(a.UpdatedAt))
		}
	}
}

func fixedCheckIsImportedAsPassedAndResolvedUnlessSuppressed(t *testing.T, e *hubEnv) {
	analytics := findingID("eu-west-1", "analytics", "EKS_CONTROL_PLANE_LOGGING_ALL")
	edge := findingID("ap-southeast-2", "edge", "EKS_CONTROL_PLANE_LOGGING_ALL")
	for region, id := range map[string]string{"eu-west-1": analytics, "ap-southeast-2": edge} {
		f := e.findings(t, region)[id]
		if f.Compliance == nil || f.Compliance.Status != shtypes.ComplianceStatusFailed {
			t.Fatalf("%s should start FAILED, got %+v", id, f.Compliance)
		}
	}

	// The customer suppresses edge's finding in the console, which calls BatchUpdateFindings.
	_, err := sh.New(sh.Options{Region: "ap-southeast-2", BaseEndpoint: aws.String(e.proxy.URL),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}).
		BatchUpdateFindings(context.Background(), &sh.BatchUpdateFindingsInput{
			FindingIdentifiers: []shtypes.AwsSecurityFindingIdentifier{{Id: aws.String(edge), ProductArn: aws.String(asff.ProductARN("ap-southeast-2", demoAccount))}},
			Workflow:           &shtypes.WorkflowUpdate{Status: shtypes.WorkflowStatusSuppressed},
		})
	if err != nil {
		t.Fatalf("suppress as the customer: %v", err)
	}
	customerCalls := len(e.proxy.Updates())

	// Both clusters get every control-plane log type: the check passes on both.
	all := []ekstypes.LogType{"api", "audit", "authenticator", "controllerManager", "scheduler"}
	for region, name := range map[string]string{"eu-west-1": "analytics", "ap-southeast-2": "edge"} {
		_, err := e.eks(region).UpdateClusterConfig(context.Background(), &eks.UpdateClusterConfigInput{
			Name:    aws.String(name),
			Logging: &ekstypes.Logging{ClusterLogging: []ekstypes.LogSetup{{Enabled: aws.Bool(true), Types: all}}},
		})
		if err != nil {
			t.Fatalf("enable logging on %s: %v", name, err)
		}
	}
	code, out, logs := e.publishRun(t)
	if code != cli.ExitOK || out.Resolved != 1 || out.Problems() != 0 {
		t.Fatalf("publish after the fix: exit %d, outcome %+v\n%s", code, out, logs)
	}

	a := e.findings(t, "eu-west-1")[analytics]
	if a.Compliance.Status != shtypes.ComplianceStatusPassed || a.RecordState != shtypes.RecordStateActive {
		t.Errorf("fixed finding is %s/%s, want PASSED/ACTIVE", a.Compliance.Status, a.RecordState)
	}
	if a.Workflow == nil || a.Workflow.Status != shtypes.WorkflowStatusResolved {
		t.Errorf("fixed finding's workflow is %+v, want RESOLVED", a.Workflow)
	}
	calls := e.proxy.Updates()[customerCalls:]
	if len(calls) != 1 || calls[0].Workflow != "RESOLVED" || calls[0].Region != "eu-west-1" || !slices.Equal(calls[0].IDs, []string{analytics}) {
		t.Errorf("sek's BatchUpdateFindings calls = %+v, want one RESOLVED call for %s only", calls, analytics)
	}
	s := e.findings(t, "ap-southeast-2")[edge]
	if s.Compliance.Status != shtypes.ComplianceStatusPassed {
		t.Errorf("suppressed finding was not updated to PASSED: %s", s.Compliance.Status)
	}
	if s.Workflow == nil || s.Workflow.Status != shtypes.WorkflowStatusSuppressed {
		t.Errorf("suppressed finding's workflow became %+v", s.Workflow)
	}
}

func deletedClusterIsArchivedOnlyAfterACompleteScan(t *testing.T, e *hubEnv) {
	prodID := findingID("us-east-1", "prod-payments", "EKS_AUDIT_LOGGING")

	if _, err := e.eks("us-east-1").DeleteCluster(context.Background(), &eks.DeleteClusterInput{Name: aws.String("dev-sandbox")}); err != nil {
		t.Fatalf("delete dev-sandbox: %v", err)
	}
	devIDs := func() []string {
		var ids []string
		for id, f := range e.findings(t, "us-east-1") {
			if ofTarget(f) == "dev-sandbox" {
				ids = append(ids, id)
			}
		}
		return ids
	}
	devCount := len(devIDs())
	if devCount < 5 {
		t.Fatalf("dev-sandbox has %d findings; the first publish should have given it more", devCount)
	}
	activeDev := func() int {
		n := 0
		all := e.findings(t, "us-east-1")
		for _, id := range devIDs() {
			if all[id].RecordState == shtypes.RecordStateActive {
				n++
			}
		}
		return n
	}

	// A narrowed scan of the region sees only prod-payments: it must not archive dev-sandbox.
	code, out, logs := e.publishRun(t, "--region", "us-east-1", "--cluster", "prod-payments")
	if code != cli.ExitOK || out.Archived != 0 || activeDev() != devCount {
		t.Fatalf("--cluster publish: exit %d, archived %d, %d dev findings active\n%s", code, out.Archived, activeDev(), logs)
	}

	// The scan fails partway: prod-payments cannot be described. Nothing may be archived, and
	// prod-payments' findings stay as they were.
	prodBefore := e.findings(t, "us-east-1")[prodID]
	e.proxy.Fail(func(r *http.Request) bool {
		return r.Method == http.MethodGet && r.URL.Path == "/clusters/prod-payments"
	}, http.StatusForbidden, "AccessDeniedException")
	code, out, logs = e.publishRun(t)
	if code != cli.ExitIncomplete {
		t.Errorf("partial scan exit %d, want %d\n%s", code, cli.ExitIncomplete, logs)
	}
	if out.Archived != 0 || activeDev() != devCount {
		t.Fatalf("partial scan archived %d (dev findings active: %d), want nothing archived", out.Archived, activeDev())
	}
	prodDuring := e.findings(t, "us-east-1")[prodID]
	if aws.ToString(prodDuring.UpdatedAt) != aws.ToString(prodBefore.UpdatedAt) || prodDuring.RecordState != shtypes.RecordStateActive {
		t.Errorf("unscanned cluster's finding changed: UpdatedAt %s → %s, %s", aws.ToString(prodBefore.UpdatedAt), aws.ToString(prodDuring.UpdatedAt), prodDuring.RecordState)
	}

	// The next complete scan archives the deleted cluster's findings and nothing else.
	e.proxy.ClearFaults()
	code, out, logs = e.publishRun(t)
	if code != cli.ExitOK || out.Archived != devCount || out.Problems() != 0 {
		t.Fatalf("complete scan: exit %d, outcome %+v\n%s", code, out, logs)
	}
	if n := activeDev(); n != 0 {
		t.Errorf("%d dev-sandbox findings still active", n)
	}
	for id, f := range e.allFindings(t) {
		if ofTarget(f) != "dev-sandbox" && f.RecordState != shtypes.RecordStateActive {
			t.Errorf("%s was archived though its cluster exists", id)
		}
	}
}

func archiveScopeForTheLambdaDeleteEvent(t *testing.T, e *hubEnv) {
	p, err := securityhub.New(securityhub.Options{
		Client: func(region string) securityhub.API {
			return sh.New(sh.Options{Region: region, BaseEndpoint: aws.String(e.proxy.URL),
				Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
		},
		AccountID: demoAccount,
	})
	if err != nil {
		t.Fatal(err)
	}
	analytics := 0
	for _, f := range e.findings(t, "eu-west-1") {
		if ofTarget(f) == "analytics" && f.RecordState == shtypes.RecordStateActive {
			analytics++
		}
	}
	out, err := p.ArchiveScope(context.Background(), audit.ScopeRef{Region: "eu-west-1", Target: "analytics"})
	if err != nil || analytics == 0 || out.Archived != analytics || out.Problems() != 0 {
		t.Fatalf("ArchiveScope: %+v, %v; want %d archived", out, err, analytics)
	}
	for id, f := range e.allFindings(t) {
		switch target := ofTarget(f); {
		case target == "analytics" && f.RecordState != shtypes.RecordStateArchived:
			t.Errorf("%s of the deleted cluster is %s", id, f.RecordState)
		case target != "analytics" && target != "dev-sandbox" && f.RecordState != shtypes.RecordStateActive:
			t.Errorf("%s of a live target is %s", id, f.RecordState)
		}
	}
}

func regionWithoutSecurityHubIsSkippedAndCounted(t *testing.T, e *hubEnv) {
	if _, err := e.hub("ap-southeast-2").DisableSecurityHub(context.Background(), &sh.DisableSecurityHubInput{}); err != nil {
		t.Fatalf("disable Security Hub: %v", err)
	}
	code, out, logs := e.publishRun(t)
	if code != cli.ExitIncomplete {
		t.Errorf("exit %d, want %d (a skipped region counts)", code, cli.ExitIncomplete)
	}
	skipped := e.publishable(inRegion("ap-southeast-2"))
	if len(out.SkippedRegions) != 1 || out.SkippedRegions[0].Region != "ap-southeast-2" || skipped == 0 || out.SkippedRegions[0].Findings != skipped {
		t.Fatalf("skipped regions %+v, want ap-southeast-2 with its %d findings", out.SkippedRegions, skipped)
	}
	// Everything else is imported; analytics' findings come back (the cluster still exists).
	if others := e.publishable(nil) - skipped; out.Imported != others || out.Archived != 0 || len(out.Failed) != 0 || len(out.Errors) != 0 {
		t.Errorf("outcome %+v, want the other regions' %d findings imported and nothing archived", out, others)
	}
	if n := strings.Count(logs, "Security Hub is not enabled"); n != 1 {
		t.Errorf("the skipped region is reported %d times in the logs, want once:\n%s", n, logs)
	}
	if !strings.Contains(logs, "enable-security-hub") || !strings.Contains(logs, "ap-southeast-2") {
		t.Errorf("logs do not say how to fix it:\n%s", logs)
	}
}

// publishAcrossAccounts runs inside TestScanAcrossAccounts (it reuses that seeded organization):
// each member account's findings must land in that account's own Security Hub, imported with
// that account's credentials, and nowhere else.
func publishAcrossAccounts(t *testing.T, e *orgEstate, regions []string) {
	names := []string{"payments", "data", "edge"}
	args := append([]string{"scan", "--accounts", e.ids(names...), "--role-name", auditRole, "--publish", "--output", "json"}, regions...)
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), args, cli.IO{Stdout: &out, Stderr: &errb, Environ: os.Environ()})
	if code != cli.ExitOK {
		t.Fatalf("exit %d, want 0:\n%s", code, errb.String())
	}
	var doc struct {
		Results []audit.Result                 `json:"results"`
		Publish map[string]securityhub.Outcome `json:"publish"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("output: %v", err)
	}
	want := map[string]int{} // account → results
	for _, r := range doc.Results {
		if asff.Publishable(r) {
			want[r.AccountID]++
		}
	}
	for _, name := range names {
		id := e.accounts[name]
		o, ok := doc.Publish[id]
		if !ok || o.Imported != want[id] || o.Problems() != 0 {
			t.Errorf("%s: publish outcome %+v (present %v), want %d imported and no problems", name, o, ok, want[id])
		}
		member := e.memberConfig(name)
		got := 0
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			c := member.Copy()
			c.Region = region
			pages := sh.NewGetFindingsPaginator(sh.NewFromConfig(c), &sh.GetFindingsInput{MaxResults: aws.Int32(100)})
			for pages.HasMorePages() {
				page, err := pages.NextPage(context.Background())
				if err != nil {
					t.Fatalf("%s %s: %v", name, region, err)
				}
				for _, f := range page.Findings {
					got++
					if aws.ToString(f.AwsAccountId) != id || aws.ToString(f.ProductArn) != asff.ProductARN(region, id) {
						t.Errorf("%s's hub in %s holds %s of account %s (%s)", name, region, aws.ToString(f.Id), aws.ToString(f.AwsAccountId), aws.ToString(f.ProductArn))
					}
				}
			}
		}
		if got != want[id] {
			t.Errorf("%s's Security Hub holds %d findings, want its %d results", name, got, want[id])
		}
	}
}

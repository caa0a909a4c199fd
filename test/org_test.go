package test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	sh "github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/sek-dev/sek/internal/cli"
	"github.com/sek-dev/sek/internal/demo"
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/auditor"
	"github.com/sek-dev/sek/pkg/awsclient"
	sekconfig "github.com/sek-dev/sek/pkg/config"
	"github.com/sek-dev/sek/pkg/org"
	"github.com/sek-dev/sek/pkg/runner"
	"github.com/sek-dev/sek/pkg/securityhub"
	"github.com/sek-dev/sek/test/harness"
)

const auditRole = "SekAuditRole"

// orgEstate is moto standing in for an AWS organization: a management account (the ambient
// credentials) and member accounts created through organizations:CreateAccount, each seeded with
// its own clusters by assuming a role into it, because moto keys all state by the account of
// the credentials.
type orgEstate struct {
	moto     *harness.Moto
	base     aws.Config
	mgmt     string
	accounts map[string]string // name → id
	ou       string            // OU holding payments and data
	// denied is an account whose audit role refuses AssumeRole (see denyingProxy).
	denied string
	calls  *callCounter
}

// callCounter counts the AWS calls passing the proxy, by service and operation.
type callCounter struct {
	mu sync.Mutex
	n  map[string]int
}

var credentialScope = regexp.MustCompile(`Credential=[^/]+/[0-9]{8}/[^/]+/([^/]+)/`)

func (c *callCounter) record(r *http.Request, form url.Values) {
	svc := "?"
	if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		svc = m[1]
	}
	op := r.Header.Get("X-Amz-Target")
	if op == "" {
		op = form.Get("Action")
	}
	if op == "" {
		// REST protocols (EKS, Security Hub): the method and the path without its ids.
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		op = r.Method + " /" + parts[0]
		if len(parts) > 2 {
			op += "/{name}/" + parts[2]
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[svc+" "+op]++
}

// take returns the counts since the last take and resets them.
func (c *callCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.n
	c.n = map[string]int{}
	return out
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// estateClusters are each member's clusters. "shared" exists in two accounts under the same name
// and region, so per-account attribution cannot come from the name.
func estateClusters() map[string][]demo.ClusterSpec {
	all := []ekstypes.LogType{"api", "audit", "authenticator", "controllerManager", "scheduler"}
	return map[string][]demo.ClusterSpec{
		"payments": {
			{Region: "us-east-1", Name: "prod-payments", Version: "1.35", PrivateAccess: true, LogTypes: all, EncryptSecrets: true, RotateKey: true},
			{Region: "us-east-1", Name: "shared", Version: "1.29", PublicAccess: true, PublicCIDRs: []string{"0.0.0.0/0"}},
		},
		"data": {
			{Region: "eu-west-1", Name: "analytics", Version: "1.32", PublicAccess: true, PrivateAccess: true, PublicCIDRs: []string{"203.0.113.0/24"},
				LogTypes: []ekstypes.LogType{"audit"}, EncryptSecrets: true},
			{Region: "us-east-1", Name: "shared", Version: "1.35", PrivateAccess: true, LogTypes: all},
		},
		"edge": {
			{Region: "us-east-1", Name: "edge", Version: "1.34", PublicAccess: true, PrivateAccess: true, PublicCIDRs: []string{"0.0.0.0/0"},
				LogTypes: []ekstypes.LogType{"api", "audit"}},
		},
	}
}

// denyingProxy forwards everything to moto except sts:AssumeRole into the denied account, which
// gets the AccessDenied error AWS returns when a role's trust policy does not admit the caller
// (moto lets anyone assume any role, so this one refusal is served here).
func denyingProxy(t *testing.T, motoURL string, denied *string, calls *callCounter) *httptest.Server {
	t.Helper()
	target, err := url.Parse(motoURL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var form url.Values
		if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			form, _ = url.ParseQuery(string(body))
		}
		calls.record(r, form)
		if *denied != "" && form != nil {
			if form.Get("Action") == "AssumeRole" && strings.Contains(form.Get("RoleArn"), "::"+*denied+":") {
				w.Header().Set("Content-Type", "text/xml")
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>`+
					`<Message>User: arn:aws:iam::123456789012:user/scanner is not authorized to perform: sts:AssumeRole on resource: %s</Message></Error>`+
					`<RequestId>4d1b4c7e-0000-4000-8000-000000000000</RequestId></ErrorResponse>`, form.Get("RoleArn"))
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newOrgEstate(t *testing.T) *orgEstate {
	t.Helper()
	m := harness.StartMoto(t)
	m.SetEnv(t)
	e := &orgEstate{moto: m, accounts: map[string]string{}, calls: &callCounter{n: map[string]int{}}}
	proxy := denyingProxy(t, m.URL, &e.denied, e.calls)
	t.Setenv("AWS_ENDPOINT_URL", proxy.URL)
	ctx := context.Background()
	base, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.base = base
	oc := organizations.NewFromConfig(base)
	o, err := oc.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll})
	if err != nil {
		t.Fatalf("create organization: %v", err)
	}
	e.mgmt = aws.ToString(o.Organization.MasterAccountId)
	roots, err := oc.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	root := aws.ToString(roots.Roots[0].Id)
	ou, err := oc.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(root), Name: aws.String("workloads")})
	if err != nil {
		t.Fatal(err)
	}
	e.ou = aws.ToString(ou.OrganizationalUnit.Id)
	// A nested OU: accounts beneath a child OU still belong to --ou of the parent.
	nested, err := oc.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(e.ou), Name: aws.String("data")})
	if err != nil {
		t.Fatal(err)
	}
	place := map[string]string{"payments": e.ou, "data": aws.ToString(nested.OrganizationalUnit.Id)}
	for _, name := range []string{"payments", "data", "edge", "locked", "closed"} {
		out, err := oc.CreateAccount(ctx, &organizations.CreateAccountInput{
			AccountName: aws.String(name), Email: aws.String(name + "@example.com"),
			Tags: []orgtypes.Tag{{Key: aws.String("team"), Value: aws.String(name)}, {Key: aws.String("sek"), Value: aws.String("audit")}},
		})
		if err != nil {
			t.Fatalf("create account %s: %v", name, err)
		}
		id := aws.ToString(out.CreateAccountStatus.AccountId)
		e.accounts[name] = id
		if dest, ok := place[name]; ok {
			if _, err := oc.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id), SourceParentId: aws.String(root), DestinationParentId: aws.String(dest)}); err != nil {
				t.Fatalf("move %s: %v", name, err)
			}
		}
	}
	if _, err := oc.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(e.accounts["closed"])}); err != nil {
		t.Fatalf("close account: %v", err)
	}
	for name, specs := range estateClusters() {
		member := e.memberConfig(name)
		cfgFor := func(r string) aws.Config { c := member.Copy(); c.Region = r; return c }
		if err := demo.Seed(ctx, cfgFor, specs); err != nil {
			t.Fatalf("seed account %s: %v", name, err)
		}
	}
	e.denied = e.accounts["locked"]
	return e
}

// memberConfig acts as a member account, the way sek reaches it.
func (e *orgEstate) memberConfig(name string) aws.Config {
	return awsclient.AssumeRole(e.base, org.RoleARN("aws", e.accounts[name], auditRole), "", "seed")
}

func (e *orgEstate) ids(names ...string) string {
	var out []string
	for _, n := range names {
		out = append(out, e.accounts[n])
	}
	return strings.Join(out, ",")
}

func (e *orgEstate) nameOf(id string) string {
	for n, a := range e.accounts {
		if a == id {
			return n
		}
	}
	if id == e.mgmt {
		return "management"
	}
	return "unknown:" + id
}

func runSekIO(t *testing.T, terminal bool, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	streams := cli.IO{Stdout: &out, Stderr: &errb, Environ: os.Environ()}
	if terminal {
		streams.IsTerminal = func(w io.Writer) bool { return w == &errb }
	}
	code := cli.Main(context.Background(), args, streams)
	return code, out.String(), errb.String()
}

// accountSummaries returns summary.accounts keyed by account id.
func accountSummaries(t *testing.T, doc jsonDoc) map[string]map[string]any {
	t.Helper()
	raw, ok := doc.Summary["accounts"].([]any)
	if !ok {
		t.Fatalf("summary.accounts missing: %v", doc.Summary)
	}
	out := map[string]map[string]any{}
	for _, a := range raw {
		m := a.(map[string]any)
		out[m["accountId"].(string)] = m
	}
	return out
}

func TestScanAcrossAccounts(t *testing.T) {
	e := newOrgEstate(t)
	regions := []string{"--region", "us-east-1", "--region", "eu-west-1"}

	t.Run("each account's clusters are scanned with that account's credentials", func(t *testing.T) {
		args := append([]string{"scan", "--accounts", e.ids("payments", "data", "edge"), "--role-name", auditRole, "--output", "json"}, regions...)
		code, doc, out := runSek(t, args...)
		if code != cli.ExitOK {
			t.Fatalf("exit %d, want 0; output:\n%s", code, out)
		}
		if len(doc.Errors) != 0 {
			t.Fatalf("unexpected scope errors: %v", doc.Errors)
		}
		got := map[string]map[string]bool{} // account name → cluster names
		verdicts := map[string]string{}     // account/cluster/check → status
		for _, r := range doc.Results {
			acct := e.nameOf(r["accountId"].(string))
			cluster := r["clusterName"].(string)
			if cluster == "" { // the region's account-services results belong to no cluster
				continue
			}
			if got[acct] == nil {
				got[acct] = map[string]bool{}
			}
			got[acct][cluster] = true
			if arn := r["resourceArn"].(string); !strings.Contains(arn, ":"+r["accountId"].(string)+":") {
				t.Errorf("result of %s/%s names a resource outside its account: %s", acct, cluster, arn)
			}
			verdicts[acct+"/"+cluster+"/"+r["checkId"].(string)] = r["status"].(string)
		}
		want := map[string]map[string]bool{}
		for name, specs := range estateClusters() {
			want[name] = map[string]bool{}
			for _, s := range specs {
				want[name][s.Name] = true
			}
		}
		for name := range want {
			if fmt.Sprint(sortedKeys(got[name])) != fmt.Sprint(sortedKeys(want[name])) {
				t.Errorf("account %s: scanned clusters %v, want %v", name, sortedKeys(got[name]), sortedKeys(want[name]))
			}
		}
		if len(got) != len(want) {
			t.Errorf("results came from %d accounts, want exactly %d: %v", len(got), len(want), got)
		}
		// The two clusters named "shared" differ, and each account's verdict is its own.
		for k, w := range map[string]string{
			"payments/shared/EKS_ENDPOINT_PUBLIC_OPEN": "FAIL", "data/shared/EKS_ENDPOINT_PUBLIC_OPEN": "PASS",
			"payments/shared/EKS_AUDIT_LOGGING": "FAIL", "data/shared/EKS_AUDIT_LOGGING": "PASS",
			"payments/prod-payments/EKS_SECRETS_ENCRYPTION": "PASS", "edge/edge/EKS_ENDPOINT_PUBLIC_OPEN": "FAIL",
			"data/analytics/EKS_SECRETS_KMS_KEY_HEALTH": "FAIL",
		} {
			if verdicts[k] != w {
				t.Errorf("%s: got %q, want %q", k, verdicts[k], w)
			}
		}
		sums := accountSummaries(t, doc)
		for name, clusters := range map[string]float64{"payments": 2, "data": 2, "edge": 1} {
			s := sums[e.accounts[name]]
			if s == nil {
				t.Fatalf("no summary for %s", name)
			}
			if s["status"] != "complete" || s["clusters"] != clusters || s["regions"] != float64(2) {
				t.Errorf("summary of %s = %v, want complete, %v clusters, 2 regions", name, s, clusters)
			}
		}
		if n := doc.Summary["clusters"]; n != float64(5) {
			t.Errorf("summary.clusters = %v, want 5 (same-named clusters of two accounts are two clusters)", n)
		}
	})

	t.Run("an account whose role cannot be assumed is a scope error and the others continue", func(t *testing.T) {
		args := append([]string{"scan", "--accounts", e.ids("locked", "payments"), "--output", "json"}, regions...)
		code, doc, out := runSek(t, args...)
		if code != cli.ExitIncomplete {
			t.Fatalf("exit %d, want %d; output:\n%s", code, cli.ExitIncomplete, out)
		}
		if len(doc.Errors) != 1 || doc.Errors[0]["accountId"] != e.accounts["locked"] || doc.Errors[0]["stage"] != org.StageAssumeRole ||
			!strings.Contains(doc.Errors[0]["message"].(string), "AccessDenied") {
			t.Fatalf("errors = %v, want one assume-role AccessDenied error of the locked account", doc.Errors)
		}
		clusters := map[string]bool{}
		for _, r := range doc.Results {
			if r["accountId"] != e.accounts["payments"] {
				t.Fatalf("result from unexpected account: %v", r)
			}
			clusters[r["clusterName"].(string)] = true
		}
		if !clusters["prod-payments"] || !clusters["shared"] {
			t.Fatalf("the payments account was not scanned fully: %v", clusters)
		}
		sums := accountSummaries(t, doc)
		if sums[e.accounts["locked"]]["status"] != "failed" || sums[e.accounts["payments"]]["status"] != "complete" {
			t.Fatalf("account statuses: %v", sums)
		}
	})

	t.Run("--organization scans every ACTIVE account, narrowed by OU and tag", func(t *testing.T) {
		e.denied = "" // the locked account is part of this organization scan
		defer func() { e.denied = e.accounts["locked"] }()
		cases := []struct {
			name  string
			flags []string
			want  []string
		}{
			{"whole organization", nil, []string{"data", "edge", "locked", "management", "payments"}},
			{"an OU includes its child OUs", []string{"--ou", e.ou}, []string{"data", "payments"}},
			{"tag filter", []string{"--account-tag", "team=edge"}, []string{"edge"}},
			{"OU and tags combine", []string{"--ou", e.ou, "--account-tag", "team=data", "--account-tag", "sek"}, []string{"data"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				args := append([]string{"scan", "--organization", "--output", "json", "--region", "us-east-1"}, tc.flags...)
				code, doc, out := runSek(t, args...)
				if code != cli.ExitOK {
					t.Fatalf("exit %d; output:\n%s", code, out)
				}
				var got []string
				for id, s := range accountSummaries(t, doc) {
					got = append(got, e.nameOf(id))
					if s["status"] != "complete" {
						t.Errorf("account %s: %v", e.nameOf(id), s)
					}
				}
				sort.Strings(got)
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Fatalf("scanned accounts %v, want %v (closed accounts never)", got, tc.want)
				}
			})
		}
	})

	t.Run("table output has an account column, a per-account summary and progress", func(t *testing.T) {
		args := append([]string{"scan", "--accounts", e.ids("payments", "locked", "edge"), "--account-concurrency", "2"}, regions...)
		code, stdout, stderr := runSekIO(t, true, args...)
		if code != cli.ExitIncomplete {
			t.Fatalf("exit %d; output:\n%s%s", code, stdout, stderr)
		}
		for _, want := range []string{"ACCOUNT", "Per account:", e.accounts["payments"], "complete", e.accounts["locked"], "failed", "of 3 accounts", "[assume-role]"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("table lacks %q:\n%s", want, stdout)
			}
		}
		if !strings.Contains(stderr, "3/3 accounts (1 failed)") {
			t.Errorf("progress did not finish at 3/3 accounts with 1 failure:\n%q", stderr)
		}
	})

	t.Run("usage errors", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			msg  string
		}{
			{[]string{"scan", "--accounts", "12345"}, `invalid account id "12345"`},
			{[]string{"scan", "--accounts", e.accounts["edge"], "--organization"}, "mutually exclusive"},
			{[]string{"scan", "--ou", e.ou}, "also set organization"},
			{[]string{"scan", "--accounts", e.accounts["edge"], "--role-arn", "arn:aws:iam::111111111111:role/x"}, "cannot be combined"},
			{[]string{"scan", "--accounts", e.accounts["edge"], "--role-name", "bad role"}, `invalid role name "bad role"`},
			{[]string{"scan", "--organization", "--account-tag", "team=nobody"}, "no ACTIVE account"},
		} {
			code, _, out := runSek(t, tc.args...)
			if code != cli.ExitUsage || !strings.Contains(out, tc.msg) {
				t.Errorf("sek %v: exit %d, want 2 with %q; output:\n%s", tc.args, code, tc.msg, out)
			}
		}
	})

	t.Run("--publish imports each account's findings into its own Security Hub", func(t *testing.T) {
		publishAcrossAccounts(t, e, regions)
	})

	t.Run("AWS calls per account-region and per cluster", func(t *testing.T) {
		measureCalls(t, e)
	})

	t.Run("assumed credentials see only their own account", func(t *testing.T) {
		// Guards the premise of this test: if moto ignored the assumed account, every check above
		// would pass trivially.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for name := range estateClusters() {
			c := e.memberConfig(name)
			out, err := iam.NewFromConfig(c).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("sek-demo-cluster-role")})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !strings.Contains(aws.ToString(out.Role.Arn), e.accounts[name]) {
				t.Fatalf("%s: role %s is not in the account", name, aws.ToString(out.Role.Arn))
			}
			c.Region = "us-east-1"
			if _, err := sh.NewFromConfig(c).DescribeHub(ctx, &sh.DescribeHubInput{}); err != nil {
				t.Fatalf("%s: Security Hub not enabled in us-east-1: %v", name, err)
			}
		}
	})
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestOrganizationItems covers the organization state machine's data path without Step
// Functions: the item list the list step writes to S3 for the Distributed Map's
// S3JsonItemReader, and one map item scanned with its account's role.
func TestOrganizationItems(t *testing.T) {
	e := newOrgEstate(t)
	ctx := context.Background()
	s3c := s3.NewFromConfig(e.base, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("sek-items")}); err != nil {
		t.Fatal(err)
	}
	cfg := loadTestConfig(t, "SEK_ORGANIZATION=true", "SEK_ORGANIZATIONAL_UNITS="+e.ou, "SEK_REGIONS=us-east-1,eu-west-1", "SEK_ITEMS_BUCKET=sek-items")
	list, err := org.PlanItems(ctx, organizations.NewFromConfig(e.base), ec2.NewFromConfig(e.base), s3c, cfg, "runs/1/items.json")
	if err != nil {
		t.Fatal(err)
	}
	if list.Items != 4 || list.Accounts != 2 || list.Regions != 2 || list.Bucket != "sek-items" || list.Key != "runs/1/items.json" {
		t.Fatalf("item list = %+v, want 2 accounts × 2 regions", list)
	}
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sek-items"), Key: aws.String("runs/1/items.json")})
	if err != nil {
		t.Fatal(err)
	}
	var stored []map[string]any
	if err := json.NewDecoder(obj.Body).Decode(&stored); err != nil {
		t.Fatalf("the item list is not a JSON array: %v", err)
	}
	inOU := map[any]bool{e.accounts["payments"]: true, e.accounts["data"]: true}
	if len(stored) != 4 || !inOU[stored[0]["accountId"]] || !inOU[stored[3]["accountId"]] || stored[0]["region"] != "us-east-1" {
		t.Fatalf("stored items = %v", stored)
	}
	// Without configured regions, the items cover the regions enabled in the calling account.
	all, err := org.PlanItems(ctx, organizations.NewFromConfig(e.base), ec2.NewFromConfig(e.base), s3c,
		loadTestConfig(t, "SEK_ORGANIZATION=true", "SEK_ACCOUNT_TAGS=team=edge", "SEK_ITEMS_BUCKET=sek-items"), "runs/2/items.json")
	if err != nil || all.Accounts != 1 || all.Regions < 17 || all.Items != all.Regions {
		t.Fatalf("all-regions plan = %+v, %v", all, err)
	}

	cfg = loadTestConfig(t)
	it := org.Item{AccountID: e.accounts["data"], Region: "eu-west-1", RoleName: auditRole}
	run, err := org.RunItem(ctx, e.base, it, runner.Request{Config: cfg}, nil)
	if err != nil || run.Err != nil {
		t.Fatalf("run item: %v / %v", err, run.Err)
	}
	for _, r := range run.Report.Results {
		if r.AccountID != e.accounts["data"] || r.Region != "eu-west-1" || (r.ClusterName != "analytics" && r.Scope.Target != "@account-services") {
			t.Fatalf("the item scanned outside its account and region: %+v", r)
		}
	}
	o := run.Outcome("eu-west-1")
	if o.Status != "complete" || o.Clusters != 1 || o.Results == 0 {
		t.Fatalf("outcome = %+v", o)
	}

	e.denied = e.accounts["locked"]
	run, err = org.RunItem(ctx, e.base, org.Item{AccountID: e.accounts["locked"], Region: "us-east-1", RoleName: auditRole}, runner.Request{Config: cfg}, nil)
	if err != nil || run.Err == nil || run.Outcome("us-east-1").Status != "failed" {
		t.Fatalf("a denied role must fail the item: %v / %+v", err, run)
	}
	if _, err := org.RunItem(ctx, e.base, org.Item{AccountID: e.accounts["data"], Region: "us-east-1", RoleARN: "arn:aws:iam::111111111111:role/x"}, runner.Request{Config: cfg}, nil); err == nil {
		t.Fatal("an item whose role is in another account was accepted")
	}
}

func loadTestConfig(t *testing.T, environ ...string) sekconfig.Config {
	t.Helper()
	cfg, err := sekconfig.Load(sekconfig.Sources{Environ: append([]string{}, environ...)}, runner.Checks())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// measureCalls counts the calls of one (account, region) item with 0, 1 and 2 clusters, with and
// without publishing: the figures docs/organization.md's cost estimate starts from. It scans the
// way the organization state machine's items do (one account, one region, its own role).
func measureCalls(t *testing.T, e *orgEstate) {
	ctx := context.Background()
	cfg := loadTestConfig(t)
	pubCfg := loadTestConfig(t, "SEK_PUBLISH=true")
	cases := []struct {
		name, account, region string
		clusters              int
	}{
		{"empty region", "edge", "eu-west-1", 0},
		{"one cluster", "edge", "us-east-1", 1},
		{"two clusters", "payments", "us-east-1", 2},
	}
	scan := map[int]int{}
	pub := map[int]int{}
	for _, tc := range cases {
		it := org.Item{AccountID: e.accounts[tc.account], Region: tc.region, RoleName: auditRole}
		e.calls.take()
		run, err := org.RunItem(ctx, e.base, it, runner.Request{Config: cfg}, nil)
		if err != nil || run.Err != nil || len(run.Report.Errors) != 0 {
			t.Fatalf("%s: %v %v %v", tc.name, err, run.Err, run.Report.Errors)
		}
		counts := e.calls.take()
		scan[tc.clusters] = total(counts)
		t.Logf("%s (%s %s): %d calls to scan: %v", tc.name, tc.account, tc.region, total(counts), counts)

		run, err = org.RunItem(ctx, e.base, it, runner.Request{Config: pubCfg}, publishHook(t))
		if err != nil || run.Err != nil || run.AfterErr != nil {
			t.Fatalf("%s with publishing: %v %v %v", tc.name, err, run.Err, run.AfterErr)
		}
		counts = e.calls.take()
		pub[tc.clusters] = total(counts)
		t.Logf("%s (%s %s): %d calls to scan and publish %d results: %v", tc.name, tc.account, tc.region, total(counts), len(run.Report.Results), counts)
	}
	if !(scan[0] > 0 && scan[1] > scan[0] && scan[2] > scan[1] && pub[2] > scan[2]) {
		t.Fatalf("call counts do not grow with the clusters: scan %v, scan+publish %v", scan, pub)
	}
	t.Logf("per (account, region): %d calls; per cluster: %.1f calls (1 cluster: %d, 2 clusters: %.1f each); with publishing: %d + %.1f per cluster",
		scan[0], float64(scan[2]-scan[0])/2, scan[1]-scan[0], float64(scan[2]-scan[0])/2, pub[0], float64(pub[2]-pub[0])/2)
}

// publishHook publishes an account's report into its own Security Hub, as the auditor's
// per-account item does.
func publishHook(t *testing.T) org.AfterScan {
	return func(ctx context.Context, acct org.Account, f *awsclient.Factory, rep *audit.Report) (any, error) {
		p, err := securityhub.New(securityhub.Options{
			Client:    func(region string) securityhub.API { return sh.NewFromConfig(f.Config(region)) },
			AccountID: acct.ID,
			Checks:    runner.Checks(),
		})
		if err != nil {
			return nil, err
		}
		out, err := p.Publish(ctx, rep, securityhub.PublishOptions{})
		if err == nil && out.Problems() > 0 {
			err = fmt.Errorf("publish problems: %+v", out)
		}
		return out, err
	}
}

// TestAuditorServesTheOrganizationStateMachine drives the auditor's handler with its real AWS
// connector against the moto organization, with the payloads the state machine sends: the
// list step, then each map item as the ItemSelector builds it.
func TestAuditorServesTheOrganizationStateMachine(t *testing.T) {
	e := newOrgEstate(t)
	ctx := context.Background()
	s3c := s3.NewFromConfig(e.base, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("sek-items")}); err != nil {
		t.Fatal(err)
	}
	cfg := loadTestConfig(t, "SEK_ORGANIZATION=true", "SEK_ROLE_NAME="+auditRole, "SEK_PUBLISH=true", "SEK_ITEMS_BUCKET=sek-items",
		"SEK_REGIONS=us-east-1,eu-west-1", "SEK_ORGANIZATIONAL_UNITS="+e.ou)
	h := auditor.New(auditor.Options{Config: cfg, Connect: auditor.NewAWSConnector(e.base, cfg, "test").Connect, LogLevel: "warn"})

	resp, err := h.Handle(ctx, []byte(`{"action": "list-items", "runId": "exec-1"}`))
	if err != nil {
		t.Fatalf("list-items: %v", err)
	}
	list, ok := resp.Reply.(org.ItemList)
	if !ok || list.Items != 4 || list.Key != "items/exec-1.json" {
		t.Fatalf("item list = %#v", resp.Reply)
	}
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sek-items"), Key: aws.String(list.Key)})
	if err != nil {
		t.Fatal(err)
	}
	var items []org.Item
	if err := json.NewDecoder(obj.Body).Decode(&items); err != nil || len(items) != 4 {
		t.Fatalf("stored items: %v %v", items, err)
	}

	for _, it := range items {
		// What the map's ItemSelector sends: accountId, region and the role name.
		payload, _ := json.Marshal(map[string]string{"accountId": it.AccountID, "region": it.Region, "roleName": auditRole})
		resp, err := h.Handle(ctx, payload)
		if err != nil {
			t.Fatalf("item %s/%s: %v", e.nameOf(it.AccountID), it.Region, err)
		}
		outcome, ok := resp.Reply.(org.ItemOutcome)
		if !ok || outcome.Status != "complete" || outcome.AccountID != it.AccountID {
			t.Fatalf("item %s/%s outcome = %#v", e.nameOf(it.AccountID), it.Region, resp.Reply)
		}
		want := 0
		for _, spec := range estateClusters()[e.nameOf(it.AccountID)] {
			if spec.Region == it.Region {
				want++
			}
		}
		if outcome.Clusters != want {
			t.Errorf("item %s/%s scanned %d clusters, want %d", e.nameOf(it.AccountID), it.Region, outcome.Clusters, want)
		}
		// The findings went into the member account's own hub in the item's region.
		if want > 0 {
			c := e.memberConfig(e.nameOf(it.AccountID))
			c.Region = it.Region
			out, err := sh.NewFromConfig(c).GetFindings(ctx, &sh.GetFindingsInput{MaxResults: aws.Int32(100)})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Findings) == 0 || resp.Publish == nil || resp.Publish.Imported == 0 {
				t.Fatalf("item %s/%s published nothing: %+v", e.nameOf(it.AccountID), it.Region, resp.Publish)
			}
			for _, f := range out.Findings {
				if aws.ToString(f.AwsAccountId) != it.AccountID {
					t.Fatalf("%s's hub in %s holds a finding of account %s", e.nameOf(it.AccountID), it.Region, aws.ToString(f.AwsAccountId))
				}
			}
		}
	}

	// An account whose role refuses the auditor fails its item with the type the state machine
	// retries once, late.
	_, err = h.Handle(ctx, []byte(`{"accountId": "`+e.accounts["locked"]+`", "region": "us-east-1", "roleName": "`+auditRole+`"}`))
	var ue *org.AccountUnreachableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("denied account: %v", err)
	}

	// Reconciliation stays inside the item's account and region: the payments account's
	// "shared" cluster is deleted and its item re-run, so its findings are archived, while the
	// data account's cluster of the same name and region, and every other region, are untouched.
	paymentsCfg := e.memberConfig("payments")
	paymentsCfg.Region = "us-east-1"
	if _, err := eks.NewFromConfig(paymentsCfg).DeleteCluster(ctx, &eks.DeleteClusterInput{Name: aws.String("shared")}); err != nil {
		t.Fatal(err)
	}
	before := map[string]map[string]int{}
	for _, name := range []string{"data", "payments"} {
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			before[name+"/"+region] = recordStates(t, e, name, region, "")
		}
	}
	payload, _ := json.Marshal(map[string]string{"accountId": e.accounts["payments"], "region": "us-east-1", "roleName": auditRole})
	resp, err = h.Handle(ctx, payload)
	if err != nil {
		t.Fatalf("re-run payments/us-east-1: %v", err)
	}
	if resp.Publish == nil || resp.Publish.Archived == 0 {
		t.Fatalf("the deleted cluster's findings were not archived: %+v", resp.Publish)
	}
	if got := recordStates(t, e, "payments", "us-east-1", "cluster/shared"); got["ACTIVE"] != 0 || got["ARCHIVED"] == 0 {
		t.Errorf("payments' deleted cluster: record states %v, want all ARCHIVED", got)
	}
	if got := recordStates(t, e, "data", "us-east-1", "cluster/shared"); got["ARCHIVED"] != 0 || got["ACTIVE"] == 0 {
		t.Errorf("data's cluster of the same name: record states %v, want all ACTIVE", got)
	}
	for _, key := range []string{"data/us-east-1", "data/eu-west-1", "payments/eu-west-1"} {
		name, region, _ := strings.Cut(key, "/")
		if got := recordStates(t, e, name, region, ""); fmt.Sprint(got) != fmt.Sprint(before[key]) {
			t.Errorf("%s changed although its item did not run: %v → %v", key, before[key], got)
		}
	}
}

// recordStates counts an account's findings in a region by RecordState, for resources whose ARN
// contains match ("" for all).
func recordStates(t *testing.T, e *orgEstate, name, region, match string) map[string]int {
	t.Helper()
	c := e.memberConfig(name)
	c.Region = region
	out := map[string]int{}
	pages := sh.NewGetFindingsPaginator(sh.NewFromConfig(c), &sh.GetFindingsInput{MaxResults: aws.Int32(100)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatalf("%s %s findings: %v", name, region, err)
		}
		for _, f := range page.Findings {
			if match != "" && (len(f.Resources) == 0 || !strings.HasSuffix(aws.ToString(f.Resources[0].Id), match)) {
				continue
			}
			out[string(f.RecordState)]++
		}
	}
	return out
}

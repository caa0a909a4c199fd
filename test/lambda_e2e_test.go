//go:build e2e

package test

// The auditor Lambda end to end: the real bootstrap, built as for a deploy, runs under AWS's
// Runtime Interface Emulator against moto. Run with `make test-e2e`.

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	s3api "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/sek-dev/sek/internal/demo"
	"github.com/sek-dev/sek/pkg/asff"
	"github.com/sek-dev/sek/pkg/awsclient"
	"github.com/sek-dev/sek/test/harness"
)

// finding is what the test compares between invocations.
type finding struct {
	Cluster, Check, Compliance, Record, UpdatedAt, CreatedAt string
}

// lambdaReply is the part of the handler's response the test reads.
type lambdaReply struct {
	Route           string         `json:"route"`
	Action          string         `json:"action"`
	Regions         []string       `json:"regions"`
	Clusters        []string       `json:"clusters"`
	ClustersScanned int            `json:"clustersScanned"`
	Results         map[string]int `json:"results"`
	Errors          []any          `json:"errors"`
	FanOut          []string       `json:"fanOut"`
	Publish         *struct {
		Imported, Created, Archived int
		Failed                      []any
	} `json:"publish"`
}

func TestLambdaEndToEnd(t *testing.T) {
	start := time.Now()
	// The build is bounded separately: on a cold build cache it dominates, the test does not.
	bctx, bcancel := context.WithTimeout(context.Background(), 10*time.Minute)
	bootstrap, err := harness.BuildLambda(bctx, "..", "./functions/auditor", t.TempDir())
	bcancel()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built bootstrap in %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	m := harness.StartMoto(t)
	m.SetEnv(t)
	base, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfgFor := awsclient.NewFactory(base).Config
	if err := demo.Seed(ctx, cfgFor, demo.Clusters()); err != nil {
		t.Fatalf("seed: %v", err)
	}

	// Security Hub goes through the shared proxy, which adds BatchUpdateFindings (moto lacks it)
	// and checks every imported finding against the ASFF limits.
	proxy := harness.StartProxy(t, m.URL)
	env := append(m.Env(),
		"AWS_ENDPOINT_URL_SECURITYHUB="+proxy.URL,
		"SEK_REGIONS="+strings.Join(demo.Regions(), ","),
		"AWS_LAMBDA_FUNCTION_NAME="+harness.RIEFunctionName,
		"AWS_LAMBDA_FUNCTION_TIMEOUT=120",
	)
	// worker serves the ordinary invocations and, later, the fan-out children. fanner is the same
	// bootstrap told that one cluster takes an hour, so its scheduled run must fan out; its
	// Lambda endpoint is the worker, which the SDK picks up from AWS_ENDPOINT_URL_LAMBDA.
	worker := harness.StartRIE(t, bootstrap, env)
	fanner := harness.StartRIE(t, bootstrap, append(slices.Clone(env),
		"SEK_LAMBDA__CLUSTER_COST=1h", "AWS_ENDPOINT_URL_LAMBDA="+worker.URL))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker output:\n%s\nfanner output:\n%s", worker.Logs(), fanner.Logs())
		}
	})

	invoke := func(r *harness.RIE, payload []byte) lambdaReply {
		t.Helper()
		body, err := r.Invoke(ctx, payload)
		if err == nil {
			err = harness.FunctionError(body)
		}
		if err != nil {
			t.Fatalf("invoke: %v", err)
		}
		var reply lambdaReply
		if err := json.Unmarshal(body, &reply); err != nil {
			t.Fatalf("reply is not the handler's response: %v\n%s", err, body)
		}
		return reply
	}

	// 1. The scheduled event scans every configured region and publishes.
	t0 := time.Now()
	reply := invoke(worker, sample(t, "scheduled.json", nil))
	t.Logf("scheduled scan: %s", time.Since(t0).Round(time.Millisecond))
	if reply.Route != "scheduled" || reply.Action != "scan" || reply.ClustersScanned != len(demo.Clusters()) || len(reply.Errors) != 0 {
		t.Fatalf("scheduled reply: %+v", reply)
	}
	if reply.Publish == nil || reply.Publish.Imported == 0 || reply.Publish.Created != reply.Publish.Imported || len(reply.Publish.Failed) != 0 {
		t.Fatalf("scheduled publish: %+v", reply.Publish)
	}
	s1 := findings(ctx, t, cfgFor)
	if len(s1) != reply.Publish.Imported {
		t.Fatalf("Security Hub holds %d findings, the function imported %d", len(s1), reply.Publish.Imported)
	}
	for _, c := range demo.Clusters() {
		if n := len(ofCluster(s1, c.Name)); n == 0 {
			t.Errorf("no findings for %s", c.Name)
		}
	}
	const check = "EKS_ENDPOINT_PUBLIC_ENABLED"
	if got := byCheck(s1, "prod-payments", check).Compliance; got != "PASSED" {
		t.Fatalf("prod-payments %s = %q before the change, want PASSED", check, got)
	}
	if got := byCheck(s1, "dev-sandbox", check).Compliance; got != "FAILED" {
		t.Fatalf("dev-sandbox %s = %q, want FAILED", check, got)
	}
	logs := worker.Logs()
	if !strings.Contains(logs, `"CloudWatchMetrics"`) || !strings.Contains(logs, `"requestId":"`) {
		t.Errorf("no EMF metrics or request ids in the function output")
	}

	// 2. Someone opens prod-payments' endpoint to the internet; the CloudTrail event re-audits
	// that cluster only.
	ek := eks.NewFromConfig(cfgFor("us-east-1"))
	cur, err := ek.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("prod-payments")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ek.UpdateClusterConfig(ctx, &eks.UpdateClusterConfigInput{Name: aws.String("prod-payments"),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{
			SubnetIds: cur.Cluster.ResourcesVpcConfig.SubnetIds, SecurityGroupIds: cur.Cluster.ResourcesVpcConfig.SecurityGroupIds,
			EndpointPublicAccess: aws.Bool(true), EndpointPrivateAccess: aws.Bool(true), PublicAccessCidrs: []string{"0.0.0.0/0"},
		}}); err != nil {
		t.Fatal(err)
	}
	reply = invoke(worker, sample(t, "cloudtrail-UpdateClusterConfig.json", nil))
	if reply.Route != "cloudtrail" || reply.Action != "scan" || !slices.Equal(reply.Clusters, []string{"prod-payments"}) || reply.ClustersScanned != 1 {
		t.Fatalf("UpdateClusterConfig reply: %+v", reply)
	}
	s2 := findings(ctx, t, cfgFor)
	if got := byCheck(s2, "prod-payments", check).Compliance; got != "FAILED" {
		t.Errorf("prod-payments %s = %q after opening the endpoint, want FAILED", check, got)
	}
	for id, f := range s2 {
		old, ok := s1[id]
		switch {
		case !ok:
			t.Errorf("new finding %s appeared", id)
		case f.Cluster == "prod-payments" && f.UpdatedAt == old.UpdatedAt:
			t.Errorf("%s of prod-payments was not re-observed", id)
		case f.Cluster == "prod-payments" && f.CreatedAt != old.CreatedAt:
			t.Errorf("%s lost its creation time", id)
		case f.Cluster != "prod-payments" && f != old:
			t.Errorf("%s of %s changed although only prod-payments changed:\n was %+v\n now %+v", id, f.Cluster, old, f)
		}
	}

	// 3. dev-sandbox is deleted; the DeleteCluster event archives every finding it had.
	if _, err := ek.DeleteCluster(ctx, &eks.DeleteClusterInput{Name: aws.String("dev-sandbox")}); err != nil {
		t.Fatal(err)
	}
	reply = invoke(worker, sample(t, "cloudtrail-DeleteCluster.json", nil))
	if reply.Action != "archive" || reply.Publish == nil || reply.Publish.Archived != len(ofCluster(s2, "dev-sandbox")) {
		t.Fatalf("DeleteCluster reply: %+v (dev-sandbox had %d findings)", reply, len(ofCluster(s2, "dev-sandbox")))
	}
	s3 := findings(ctx, t, cfgFor)
	for id, f := range s3 {
		switch {
		case f.Cluster == "dev-sandbox" && f.Record != "ARCHIVED":
			t.Errorf("%s of the deleted cluster is %s, want ARCHIVED", id, f.Record)
		case f.Cluster != "dev-sandbox" && f != s2[id]:
			t.Errorf("%s of %s changed on another cluster's deletion", id, f.Cluster)
		}
	}

	// 4. Fan-out: the fanner's estimate does not fit, so it invokes itself (here: the worker)
	// once per region, and each child publishes and reconciles its own region.
	reply = invoke(fanner, sample(t, "scheduled.json", nil))
	want := slices.Sorted(slices.Values(demo.Regions()))
	if reply.Action != "fan-out" || !slices.Equal(reply.FanOut, want) || reply.Publish != nil {
		t.Fatalf("fan-out reply: %+v", reply)
	}
	if n := strings.Count(worker.Logs()[len(logs):], `"route":"fanout-child"`); n < len(want) {
		t.Errorf("the worker logged %d fan-out children, want at least %d", n, len(want))
	}
	s4 := findings(ctx, t, cfgFor)
	for id, f := range s4 {
		switch {
		case f.Cluster == "dev-sandbox" && f.Record != "ARCHIVED":
			t.Errorf("%s of the deleted cluster came back as %s", id, f.Record)
		case f.Cluster != "dev-sandbox" && (f.UpdatedAt == s3[id].UpdatedAt || f.Record != "ACTIVE"):
			t.Errorf("%s of %s was not re-observed by its region's child: %+v", id, f.Cluster, f)
		}
	}
	// 5. The organization stack's two steps, as its state machine sends them, on a function
	// configured like the organization auditor: moto's default account is the management
	// account, with the audit role assumed into itself.
	oc := organizations.NewFromConfig(cfgFor("us-east-1"))
	if _, err := oc.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		t.Fatal(err)
	}
	s3c := s3api.NewFromConfig(cfgFor("us-east-1"))
	if _, err := s3c.CreateBucket(ctx, &s3api.CreateBucketInput{Bucket: aws.String("sek-e2e-items")}); err != nil {
		t.Fatal(err)
	}
	orgFn := harness.StartRIE(t, bootstrap, append(slices.Clone(env),
		"SEK_ORGANIZATION=true", "SEK_ROLE_NAME=SekAuditRole", "SEK_ITEMS_BUCKET=sek-e2e-items"))
	body, err := orgFn.Invoke(ctx, sample(t, "org-list-items.json", nil))
	if err == nil {
		err = harness.FunctionError(body)
	}
	if err != nil {
		t.Fatalf("list-items: %v\n%s", err, orgFn.Logs())
	}
	var list struct {
		Bucket, Key              string
		Items, Accounts, Regions int
	}
	if err := json.Unmarshal(body, &list); err != nil || list.Bucket != "sek-e2e-items" || list.Accounts != 1 || list.Items != len(demo.Regions()) {
		t.Fatalf("list-items reply %s (%v)", body, err)
	}
	obj, err := s3c.GetObject(ctx, &s3api.GetObjectInput{Bucket: aws.String(list.Bucket), Key: aws.String(list.Key)},
		func(o *s3api.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
	if err != nil {
		t.Fatalf("the item list is not in S3: %v", err)
	}
	var items []map[string]string
	if err := json.NewDecoder(obj.Body).Decode(&items); err != nil || len(items) != list.Items {
		t.Fatalf("item list: %v %v", items, err)
	}
	obj.Body.Close()
	body, err = orgFn.Invoke(ctx, sample(t, "org-item.json", nil))
	if err == nil {
		err = harness.FunctionError(body)
	}
	if err != nil {
		t.Fatalf("org item: %v\n%s", err, orgFn.Logs())
	}
	var outcome struct {
		AccountID, Region, Status string
		Clusters, Results         int
	}
	if err := json.Unmarshal(body, &outcome); err != nil || outcome.AccountID != "123456789012" || outcome.Region != "eu-west-1" || outcome.Clusters != 1 || outcome.Results == 0 {
		t.Fatalf("org item reply %s (%v)", body, err)
	}

	if bad := proxy.Invalid(); len(bad) > 0 {
		t.Errorf("findings that break the ASFF limits were imported: %v", bad)
	}
	t.Logf("end to end after the build: %s", time.Since(start).Round(time.Millisecond))
}

// sample reads events/name, optionally edited.
func sample(t *testing.T, name string, edit func(map[string]any)) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	if edit == nil {
		return b
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, _ := json.Marshal(m)
	return out
}

// findings reads every Sek finding of the demo regions from Security Hub, keyed by Id.
func findings(ctx context.Context, t *testing.T, cfgFor func(string) aws.Config) map[string]finding {
	t.Helper()
	out := map[string]finding{}
	for _, region := range demo.Regions() {
		p := securityhub.NewGetFindingsPaginator(securityhub.NewFromConfig(cfgFor(region)), &securityhub.GetFindingsInput{MaxResults: aws.Int32(100)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("GetFindings in %s: %v", region, err)
			}
			for _, f := range page.Findings {
				if f.ProductFields[asff.FieldProviderName] != asff.ProviderName {
					continue
				}
				out[aws.ToString(f.Id)] = finding{
					Cluster: f.ProductFields[asff.FieldCluster], Check: f.ProductFields[asff.FieldCheckID],
					Compliance: complianceOf(f), Record: string(f.RecordState),
					UpdatedAt: aws.ToString(f.UpdatedAt), CreatedAt: aws.ToString(f.CreatedAt),
				}
			}
		}
	}
	return out
}

func complianceOf(f shtypes.AwsSecurityFinding) string {
	if f.Compliance == nil {
		return ""
	}
	return string(f.Compliance.Status)
}

func ofCluster(fs map[string]finding, cluster string) []finding {
	var out []finding
	for _, f := range fs {
		if f.Cluster == cluster {
			out = append(out, f)
		}
	}
	return out
}

func byCheck(fs map[string]finding, cluster, check string) finding {
	for _, f := range fs {
		if f.Cluster == cluster && f.Check == check {
			return f
		}
	}
	return finding{}
}

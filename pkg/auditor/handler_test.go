package auditor

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
	"github.com/sek-dev/sek/pkg/org"
	"github.com/sek-dev/sek/pkg/securityhub"
)

const eventsDir = "../../events"

// expectation is what the handler must do with one file of events/.
type expectation struct {
	route    Route
	action   Action
	regions  []string // regions scanned
	clusters []string // clusters the scan was narrowed to
	nameFrom string
	archive  string // region/cluster archived
	err      string // the invocation fails with an error containing this
}

var (
	allRegions = []string{"ap-southeast-2", "eu-west-1", "us-east-1"}
	e1         = []string{"us-east-1"}
	eu         = []string{"eu-west-1"}
	ap         = []string{"ap-southeast-2"}
	prod       = []string{"prod-payments"}
)

func ct(regions []string, clusters []string, from string) expectation {
	return expectation{route: RouteCloudTrail, action: ActionScan, regions: regions, clusters: clusters, nameFrom: from}
}

// expectations covers every file in events/; TestEveryEventFile fails when a file has none.
var expectations = map[string]expectation{
	"scheduled.json":                                   {route: RouteScheduled, action: ActionScan, regions: allRegions},
	"cloudtrail-CreateCluster.json":                    ct(e1, prod, "requestParameters.name"),
	"cloudtrail-CreateCluster-legacy-clusterName.json": ct(ap, []string{"edge"}, "requestParameters.clusterName"),
	"cloudtrail-DeleteCluster.json": {route: RouteCloudTrail, action: ActionArchive, regions: e1, clusters: []string{"dev-sandbox"},
		nameFrom: "requestParameters.name", archive: "us-east-1/dev-sandbox"},
	"cloudtrail-UpdateClusterConfig.json":                ct(e1, prod, "requestParameters.name"),
	"cloudtrail-UpdateClusterConfig-failed.json":         {route: RouteCloudTrail, action: ActionIgnore, regions: e1},
	"cloudtrail-UpdateClusterConfig-no-name.json":        ct(eu, nil, "no cluster name in the event; rescanning the region"),
	"cloudtrail-UpdateClusterVersion.json":               ct(eu, []string{"analytics"}, "requestParameters.name"),
	"cloudtrail-AssociateEncryptionConfig.json":          ct(e1, []string{"dev-sandbox"}, "requestParameters.name"),
	"cloudtrail-CreateNodegroup.json":                    ct(e1, prod, "requestParameters.name"),
	"cloudtrail-UpdateNodegroupConfig.json":              ct(e1, prod, "requestParameters.name"),
	"cloudtrail-UpdateNodegroupConfig-resources.json":    ct(eu, []string{"analytics"}, "resources[].ARN"),
	"cloudtrail-UpdateNodegroupVersion.json":             ct(e1, prod, "requestParameters.name"),
	"cloudtrail-DeleteNodegroup.json":                    ct(e1, prod, "requestParameters.name"),
	"cloudtrail-CreateAddon.json":                        ct(e1, prod, "requestParameters.name"),
	"cloudtrail-CreateAddon-response-only.json":          ct(eu, []string{"analytics"}, "responseElements.addon.clusterName"),
	"cloudtrail-UpdateAddon.json":                        ct(e1, prod, "requestParameters.name"),
	"cloudtrail-DeleteAddon.json":                        ct(e1, prod, "requestParameters.name"),
	"cloudtrail-CreateAccessEntry.json":                  ct(e1, prod, "requestParameters.name"),
	"cloudtrail-UpdateAccessEntry.json":                  ct(e1, prod, "requestParameters.name"),
	"cloudtrail-DeleteAccessEntry.json":                  ct(e1, prod, "requestParameters.name"),
	"cloudtrail-AssociateAccessPolicy.json":              ct(e1, prod, "requestParameters.name"),
	"cloudtrail-DisassociateAccessPolicy.json":           ct(e1, prod, "requestParameters.name"),
	"cloudtrail-CreatePodIdentityAssociation.json":       ct(e1, prod, "requestParameters.name"),
	"cloudtrail-UpdatePodIdentityAssociation.json":       ct(e1, prod, "requestParameters.name"),
	"cloudtrail-DeletePodIdentityAssociation.json":       ct(e1, prod, "requestParameters.name"),
	"cloudtrail-AssociateIdentityProviderConfig.json":    ct(eu, []string{"analytics"}, "requestParameters.name"),
	"cloudtrail-DisassociateIdentityProviderConfig.json": ct(eu, []string{"analytics"}, "requestParameters.name"),
	"cloudtrail-CreateFargateProfile.json":               ct(ap, []string{"edge"}, "requestParameters.name"),
	"cloudtrail-DeleteFargateProfile.json":               ct(ap, []string{"edge"}, "requestParameters.name"),
	"cloudtrail-TagResource.json":                        ct(e1, prod, "requestParameters.resourceArn"),
	"cloudtrail-UntagResource.json":                      ct(e1, prod, "requestParameters.resourceArn"),
	"unknown-eks-event.json":                             {route: "invalid", err: `EKS event "DescribeCluster" is not one the auditor handles`},
	"unknown-event.json":                                 {route: "invalid", err: `unknown event: source "aws.ec2"`},
	"manual.json":                                        {route: RouteManual, action: ActionScan, regions: e1, clusters: prod},
	"manual-regions.json":                                {route: RouteManual, action: ActionScan, regions: []string{"eu-west-1", "ap-southeast-2"}},
	"fanout-child.json":                                  {route: RouteFanOutChild, action: ActionScan, regions: eu},
	"malformed.json":                                     {route: "invalid", err: `field "regions" must be a list of strings`},
	"org-list-items.json":                                {route: RouteListItems, action: "list-items"},
	"org-item.json":                                      {route: RouteOrgItem, action: ActionScan, regions: eu},
}

func eventFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events in %s: %v", eventsDir, err)
	}
	return files
}

func TestEveryEventFile(t *testing.T) {
	seen := map[string]bool{}
	for _, path := range eventFiles(t) {
		name := filepath.Base(path)
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			want, ok := expectations[name]
			if !ok {
				t.Fatalf("events/%s has no expectation in handler_test.go; add one", name)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r := newRig(t, testConfig(t))
			ctx, cancel := context.WithTimeout(lambdaCtx(context.Background(), "req-"+name), 10*time.Minute)
			defer cancel()
			resp, err := r.h.Handle(ctx, raw)
			if want.err != "" {
				if err == nil || !strings.Contains(err.Error(), want.err) {
					t.Fatalf("error = %v, want one containing %q", err, want.err)
				}
				if !IsInputError(err) || errorType(err) != "InputError" {
					t.Errorf("bad input should be an InputError, is %s: %v", errorType(err), err)
				}
				if r.connects != 0 || len(r.scanner.reqs) != 0 {
					t.Errorf("bad input must not reach AWS (connects %d, scans %d)", r.connects, len(r.scanner.reqs))
				}
				return
			}
			if err != nil {
				t.Fatalf("Handle: %v\nlogs:\n%s", err, r.logs.String())
			}
			if resp.Route != want.route || resp.Action != want.action {
				t.Fatalf("route/action = %s/%s, want %s/%s", resp.Route, resp.Action, want.route, want.action)
			}
			if resp.NameFrom != want.nameFrom && want.route == RouteCloudTrail && want.action != ActionIgnore {
				t.Errorf("nameFrom = %q, want %q", resp.NameFrom, want.nameFrom)
			}
			switch want.action {
			case "list-items":
				if !slices.Equal(r.org.keys, []string{"items/3f9d2c61-5a7e-4c1b-9e0d-8b2a6f4c7d15.json"}) {
					t.Errorf("item list keys %v", r.org.keys)
				}
				b, _ := json.Marshal(resp)
				if !strings.Contains(string(b), `"bucket":"sek-items"`) || strings.Contains(string(b), `"route"`) {
					t.Errorf("the state machine gets %s, want the item list", b)
				}
				return
			case ActionScan:
				if want.route == RouteOrgItem {
					if len(r.org.items) != 1 || r.org.items[0].Region != "eu-west-1" || r.org.items[0].RoleName != "SekAuditRole" {
						t.Fatalf("items run: %+v", r.org.items)
					}
					b, _ := json.Marshal(resp)
					var out org.ItemOutcome
					if err := json.Unmarshal(b, &out); err != nil || out.AccountID != testAccount || out.Region != "eu-west-1" || out.Clusters != 1 {
						t.Errorf("the state machine gets %s (%v), want the item outcome", b, err)
					}
					return
				}
				if len(r.scanner.reqs) != 1 {
					t.Fatalf("%d scans, want 1", len(r.scanner.reqs))
				}
				req := r.scanner.reqs[0]
				if !slices.Equal(req.Regions, want.regions) || !slices.Equal(req.Clusters, want.clusters) {
					t.Errorf("scanned regions %v clusters %v, want %v %v", req.Regions, req.Clusters, want.regions, want.clusters)
				}
				if req.StopStartingAt.IsZero() {
					t.Error("the scan was given no stop time before the deadline")
				}
				if len(r.pub.calls) != 1 {
					t.Fatalf("%d publishes, want 1", len(r.pub.calls))
				}
				if got := r.pub.calls[0].po.TargetsNarrowed; got != (len(want.clusters) > 0) {
					t.Errorf("TargetsNarrowed = %v with clusters %v: a narrowed scan must not reconcile whole regions", got, want.clusters)
				}
			case ActionArchive:
				if len(r.pub.archived) != 1 || r.pub.archived[0].Region+"/"+r.pub.archived[0].Target != want.archive {
					t.Fatalf("archived %v, want %s", r.pub.archived, want.archive)
				}
				if r.pub.archived[0].AccountID != testAccount {
					t.Errorf("archive scope account %q", r.pub.archived[0].AccountID)
				}
				if len(r.scanner.reqs) != 0 || len(r.pub.calls) != 0 {
					t.Errorf("a deleted cluster was scanned (%d) or published (%d)", len(r.scanner.reqs), len(r.pub.calls))
				}
			case ActionIgnore:
				if r.connects != 0 || len(r.scanner.reqs) != 0 || len(r.pub.calls) != 0 {
					t.Errorf("an ignored event reached AWS")
				}
				if !strings.Contains(resp.Reason, "AccessDeniedException") || !strings.Contains(r.logs.String(), "event ignored") {
					t.Errorf("the ignore is not explained: reason %q", resp.Reason)
				}
			}
			if len(r.invoker.calls) != 0 {
				t.Errorf("unexpected fan-out: %d invocations", len(r.invoker.calls))
			}
		})
	}
	for name := range expectations {
		if !seen[name] {
			t.Errorf("expectation for events/%s but no such file", name)
		}
	}
	for _, n := range EventNames() {
		if !seen["cloudtrail-"+n+".json"] {
			t.Errorf("handled event %s has no sample events/cloudtrail-%s.json", n, n)
		}
	}
}

func TestEventNamesAreTheIssueListAndUnique(t *testing.T) {
	names := EventNames()
	for _, must := range []string{"CreateCluster", "UpdateClusterConfig", "UpdateClusterVersion", "AssociateEncryptionConfig", "DeleteCluster",
		"CreateNodegroup", "UpdateNodegroupConfig", "DeleteNodegroup", "UpdateNodegroupVersion", "CreateAddon", "UpdateAddon", "DeleteAddon",
		"CreateAccessEntry", "DeleteAccessEntry", "AssociateAccessPolicy", "DisassociateAccessPolicy", "CreatePodIdentityAssociation",
		"DeletePodIdentityAssociation", "AssociateIdentityProviderConfig", "TagResource", "UntagResource"} {
		if !slices.Contains(names, must) {
			t.Errorf("EventNames lacks %s", must)
		}
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Errorf("duplicate %s", n)
		}
		seen[n] = true
	}
	names[0] = "mutated"
	if EventNames()[0] == "mutated" {
		t.Error("EventNames returns the package's own slice")
	}
}

func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(eventsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestScheduledFansOutPerRegionWhenTheEstimateDoesNotFit(t *testing.T) {
	// 2 clusters at 1 h each cannot fit a 10-minute invocation.
	r := newRig(t, testConfig(t, "SEK_LAMBDA__CLUSTER_COST=1h"))
	ctx, cancel := context.WithTimeout(lambdaCtx(context.Background(), "parent"), 10*time.Minute)
	defer cancel()
	resp, err := r.h.Handle(ctx, readEvent(t, "scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Action != ActionFanOut || !slices.Equal(resp.FanOut, allRegions) {
		t.Fatalf("action %s fanOut %v, want fan-out to %v", resp.Action, resp.FanOut, allRegions)
	}
	if len(r.scanner.reqs) != 0 || len(r.pub.calls) != 0 {
		t.Fatalf("the parent scanned (%d) or published (%d) itself", len(r.scanner.reqs), len(r.pub.calls))
	}
	if len(r.invoker.calls) != 3 {
		t.Fatalf("%d invocations, want 3", len(r.invoker.calls))
	}
	for i, in := range r.invoker.calls {
		if aws.ToString(in.FunctionName) != "sek-auditor" || in.InvocationType != lambdatypes.InvocationTypeEvent || in.Qualifier != nil {
			t.Errorf("invocation %d: function %q type %s qualifier %v", i, aws.ToString(in.FunctionName), in.InvocationType, in.Qualifier)
		}
		// Each payload is a valid fan-out child for exactly one region, and runs it.
		child := newRig(t, testConfig(t, "SEK_LAMBDA__CLUSTER_COST=1h"))
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Minute)
		cresp, err := child.h.Handle(cctx, in.Payload)
		ccancel()
		if err != nil {
			t.Fatalf("child %s: %v", in.Payload, err)
		}
		if cresp.Route != RouteFanOutChild || !slices.Equal(cresp.Regions, []string{allRegions[i]}) || cresp.Action != ActionScan {
			t.Errorf("child payload %s: route %s regions %v action %s", in.Payload, cresp.Route, cresp.Regions, cresp.Action)
		}
		if len(child.invoker.calls) != 0 {
			t.Errorf("a fan-out child fanned out again")
		}
		if len(child.pub.calls) != 1 || child.pub.calls[0].po.TargetsNarrowed {
			t.Errorf("a child must publish and reconcile its whole region: %+v", child.pub.calls)
		}
	}
	if !strings.Contains(resp.Reason, "exceeds") || !strings.Contains(r.logs.String(), "scan estimate") {
		t.Errorf("the fan-out is not explained: %q", resp.Reason)
	}
}

func TestScheduledFansOutWhenTheClustersDoNotFitInMemory(t *testing.T) {
	// Time is plentiful (2 s per cluster), but 4 targets exceed what 6 MB holds (3 clusters).
	r := newRig(t, testConfig(t), func(o *Options) { o.MemoryMB = 6 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	resp, err := r.h.Handle(ctx, readEvent(t, "scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Action != ActionFanOut || len(r.invoker.calls) != len(allRegions) || !strings.Contains(resp.Reason, "memory") {
		t.Fatalf("action %s, %d invocations, reason %q: want a memory fan-out", resp.Action, len(r.invoker.calls), resp.Reason)
	}
	// With room for every cluster, the same run scans in place.
	r = newRig(t, testConfig(t), func(o *Options) { o.MemoryMB = 512 })
	resp, err = r.h.Handle(ctx, readEvent(t, "scheduled.json"))
	if err != nil || resp.Action != ActionScan {
		t.Fatalf("action %s, err %v: want a scan in place with 512 MB", resp.Action, err)
	}
	if ClustersPerInvocation(128) != 64 || ClustersPerInvocation(0) != 0 {
		t.Fatalf("ClustersPerInvocation(128) = %d, (0) = %d", ClustersPerInvocation(128), ClustersPerInvocation(0))
	}
}

func TestScheduledScansInPlaceWhenItFits(t *testing.T) {
	r := newRig(t, testConfig(t)) // 2 s per cluster
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	resp, err := r.h.Handle(ctx, readEvent(t, "scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Action != ActionScan || len(r.invoker.calls) != 0 || r.clusters.count != 3 {
		t.Fatalf("action %s, %d invocations, %d counts", resp.Action, len(r.invoker.calls), r.clusters.count)
	}
	if resp.ClustersScanned != 4 || resp.Results[audit.Fail] != 4 || resp.Results[audit.Error] != 4 {
		t.Errorf("response counts wrong: %+v", resp)
	}
}

func TestFanOutNeedsNameAndPermissionAndSeveralRegions(t *testing.T) {
	cases := map[string]struct {
		env    []string
		mutate func(*Options)
	}{
		"disabled":       {env: []string{"SEK_LAMBDA__FAN_OUT=false"}},
		"no self name":   {mutate: func(o *Options) { o.FunctionName = "" }},
		"one region":     {env: []string{"SEK_REGIONS=us-east-1"}},
		"fan-out child ": {},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			env := append([]string{"SEK_LAMBDA__CLUSTER_COST=1h"}, c.env...)
			var muts []func(*Options)
			if c.mutate != nil {
				muts = append(muts, c.mutate)
			}
			r := newRig(t, testConfig(t, env...), muts...)
			payload := readEvent(t, "scheduled.json")
			if strings.HasPrefix(name, "fan-out child") {
				payload = []byte(`{"regions":["us-east-1","eu-west-1"],"fanout":true}`)
			}
			if name == "one region" {
				r.scanner.e.clusters = map[string][]string{"us-east-1": {"prod-payments"}}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			resp, err := r.h.Handle(ctx, payload)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.invoker.calls) != 0 || resp.Action != ActionScan {
				t.Fatalf("fanned out (%d) or did not scan (%s)", len(r.invoker.calls), resp.Action)
			}
		})
	}
}

func TestFanOutReportsRegionsThatCouldNotBeStarted(t *testing.T) {
	r := newRig(t, testConfig(t, "SEK_LAMBDA__CLUSTER_COST=1h"))
	r.invoker.fail = map[string]bool{"eu-west-1": true}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	resp, err := r.h.Handle(ctx, readEvent(t, "scheduled.json"))
	if err == nil || !strings.Contains(err.Error(), "region eu-west-1") {
		t.Fatalf("err = %v, want the failed region named", err)
	}
	if !slices.Equal(resp.FanOut, []string{"ap-southeast-2", "us-east-1"}) {
		t.Errorf("started %v", resp.FanOut)
	}
}

func TestEstimate(t *testing.T) {
	s := time.Second
	cases := []struct {
		counts           map[string]int
		regionC, cluster int
		want             time.Duration
	}{
		{map[string]int{}, 4, 8, 0},
		{map[string]int{"a": 1}, 4, 8, 2 * s},
		{map[string]int{"a": 8}, 4, 8, 2 * s},
		{map[string]int{"a": 9}, 4, 8, 4 * s},
		// the busiest region dominates
		{map[string]int{"a": 80, "b": 1, "c": 1}, 4, 8, 20 * s},
		// 17 regions × 60 clusters with 4×8 concurrency: 16 s per region, 17×16/4 = 68 s
		{func() map[string]int {
			m := map[string]int{}
			for i := range 17 {
				m[string(rune('a'+i))] = 60
			}
			return m
		}(), 4, 8, 68 * s},
		{map[string]int{"a": 3}, 0, 0, 6 * s}, // bad concurrency counts as 1
	}
	for _, c := range cases {
		if got := Estimate(c.counts, 2*s, c.regionC, c.cluster); got != c.want {
			t.Errorf("Estimate(%v, 2s, %d, %d) = %s, want %s", c.counts, c.regionC, c.cluster, got, c.want)
		}
	}
}

func TestDeadlineStopsStartingClustersAndPublishesWhatIsDone(t *testing.T) {
	// A 3 s invocation with a 60 s margin: the margin is capped at a third (1 s), so clusters
	// start for ~2 s, and the one still running at deadline-0.5 s is cut off.
	r := newRig(t, testConfig(t))
	r.e.slow = 1200 * time.Millisecond
	r.e.clusters = map[string][]string{"us-east-1": {"c1", "c2", "c3", "c4"}}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	resp, err := r.h.Handle(ctx, []byte(`{"regions":["us-east-1"],"fanout":true}`))
	if err != nil {
		t.Fatalf("a scheduled-style run that finished part of the work must not fail: %v", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatalf("the handler overran its deadline: %s", time.Since(start))
	}
	req := r.scanner.reqs[0]
	dl, _ := ctx.Deadline()
	if d := dl.Sub(req.StopStartingAt); d < 900*time.Millisecond || d > 1100*time.Millisecond {
		t.Errorf("StopStartingAt is %s before the deadline, want 1 s (margin capped at a third)", d)
	}
	if d := dl.Sub(r.scanner.deadlines[0]); d < 400*time.Millisecond || d > 600*time.Millisecond {
		t.Errorf("the scan is cut off %s before the deadline, want 0.5 s", d)
	}
	if resp.ClustersScanned == 0 || resp.ClustersScanned == 4 {
		t.Fatalf("scanned %d clusters; the test wants a partial scan", resp.ClustersScanned)
	}
	clusterErrors := 0
	for _, e := range resp.Errors {
		if e.Scope.Target != inventory.RegionServicesName {
			clusterErrors++
		}
	}
	if clusterErrors != 4-resp.ClustersScanned {
		t.Errorf("errors %v for %d scanned clusters", resp.Errors, resp.ClustersScanned)
	}
	rep := r.pub.calls[0].rep
	for _, e := range rep.Errors {
		for _, c := range rep.Completed {
			if c.Target == "" || c.Target == e.Scope.Target {
				t.Errorf("unfinished scope %s is also marked completed (%s), so it could be reconciled", e.Scope, c)
			}
		}
	}
}

func TestTargetedRunsFailOnIncompleteWorkScheduledRunsDoNot(t *testing.T) {
	for _, c := range []struct {
		file    string
		wantErr bool
	}{
		{"cloudtrail-UpdateClusterConfig.json", true},
		{"manual.json", true},
		{"scheduled.json", false},
	} {
		t.Run(c.file, func(t *testing.T) {
			r := newRig(t, testConfig(t))
			r.e.failCollect = map[string]bool{"us-east-1/prod-payments": true}
			resp, err := r.h.Handle(context.Background(), readEvent(t, c.file))
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, want error %v", err, c.wantErr)
			}
			if c.wantErr && !strings.Contains(err.Error(), "prod-payments") {
				t.Errorf("error does not name the scope: %v", err)
			}
			if len(resp.Errors) != 1 || len(r.pub.calls) != 1 {
				t.Errorf("errors %v, publishes %d: what was done must still be published", resp.Errors, len(r.pub.calls))
			}
		})
	}
}

func TestPublishProblemsFailTargetedRuns(t *testing.T) {
	r := newRig(t, testConfig(t))
	r.pub.outcome = func(rep *audit.Report) *securityhub.Outcome {
		return &securityhub.Outcome{Imported: 1, Failed: []securityhub.Failure{{Region: "us-east-1", FindingID: "sek/x", Operation: "import", Code: "InvalidInput", Message: "bad"}}}
	}
	_, err := r.h.Handle(context.Background(), readEvent(t, "cloudtrail-UpdateClusterConfig.json"))
	if err == nil || !strings.Contains(err.Error(), "1 findings failed") {
		t.Fatalf("err = %v", err)
	}
	// Nothing published at all fails even a scheduled run.
	r = newRig(t, testConfig(t))
	r.pub.outcome = func(rep *audit.Report) *securityhub.Outcome {
		return &securityhub.Outcome{Errors: []securityhub.RegionError{{Region: "us-east-1", Operation: "import", Message: "AccessDenied"}}}
	}
	if _, err := r.h.Handle(context.Background(), readEvent(t, "scheduled.json")); err == nil || !strings.Contains(err.Error(), "no finding could be published") {
		t.Fatalf("err = %v", err)
	}
}

func TestDeleteClusterOfALiveClusterAuditsIt(t *testing.T) {
	r := newRig(t, testConfig(t))
	r.e.deleting = nil // dev-sandbox is ACTIVE again (recreated, or the deletion failed)
	resp, err := r.h.Handle(context.Background(), readEvent(t, "cloudtrail-DeleteCluster.json"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Action != ActionScan || len(r.pub.archived) != 0 || !slices.Equal(r.scanner.reqs[0].Clusters, []string{"dev-sandbox"}) {
		t.Fatalf("action %s archived %v", resp.Action, r.pub.archived)
	}
}

func TestEventForAVanishedClusterArchivesItOnceConfirmed(t *testing.T) {
	r := newRig(t, testConfig(t))
	r.e.clusters["us-east-1"] = []string{"dev-sandbox"} // prod-payments deleted after the event
	resp, err := r.h.Handle(context.Background(), readEvent(t, "cloudtrail-UpdateNodegroupConfig.json"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Action != ActionArchive || len(r.pub.archived) != 1 || r.pub.archived[0].Target != "prod-payments" || len(r.pub.calls) != 0 {
		t.Fatalf("action %s archived %v publishes %d", resp.Action, r.pub.archived, len(r.pub.calls))
	}
}

func TestEventsOutsideTheConfiguredScopeAreIgnored(t *testing.T) {
	for name, c := range map[string]struct {
		env  []string
		file string
		want string
	}{
		"region":  {[]string{"SEK_REGIONS=eu-west-1"}, "cloudtrail-UpdateClusterConfig.json", "not in the configured regions"},
		"cluster": {[]string{"SEK_CLUSTERS=analytics"}, "cloudtrail-UpdateClusterConfig.json", "not in the configured clusters"},
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, testConfig(t, c.env...))
			resp, err := r.h.Handle(context.Background(), readEvent(t, c.file))
			if err != nil || resp.Action != ActionIgnore || !strings.Contains(resp.Reason, c.want) || len(r.scanner.reqs) != 0 {
				t.Fatalf("err %v action %s reason %q scans %d", err, resp.Action, resp.Reason, len(r.scanner.reqs))
			}
		})
	}
	r := newRig(t, testConfig(t))
	ev := strings.ReplaceAll(string(readEvent(t, "cloudtrail-UpdateClusterConfig.json")), testAccount, "210987654321")
	resp, err := r.h.Handle(context.Background(), []byte(ev))
	if err != nil || resp.Action != ActionIgnore || !strings.Contains(resp.Reason, "account 210987654321") {
		t.Fatalf("other account: err %v action %s reason %q", err, resp.Action, resp.Reason)
	}
}

func TestBadConfigurationFailsEveryInvocation(t *testing.T) {
	r := newRig(t, testConfig(t), func(o *Options) { o.ConfigErr = os.ErrInvalid })
	for _, f := range []string{"scheduled.json", "manual.json"} {
		if _, err := r.h.Handle(context.Background(), readEvent(t, f)); err == nil || !strings.Contains(err.Error(), "SEK_*") || errorType(err) != "ConfigError" {
			t.Fatalf("%s: err = %v", f, err)
		}
	}
	if r.connects != 0 {
		t.Error("connected despite the bad configuration")
	}
}

func TestLogsCarryTheRequestIDAndMetricsAreEMF(t *testing.T) {
	r := newRig(t, testConfig(t))
	if _, err := r.h.Handle(lambdaCtx(context.Background(), "req-123"), readEvent(t, "manual-regions.json")); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(r.logs.String()), "\n")
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", l)
		}
		if m["requestId"] != "req-123" {
			t.Errorf("log line without the request id: %s", l)
		}
	}
	docs := strings.Split(strings.TrimSpace(r.metrics.String()), "\n")
	type doc struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
	}
	byStatusSeverity := map[string]float64{}
	var main map[string]any
	for _, l := range docs {
		var d doc
		var m map[string]any
		if json.Unmarshal([]byte(l), &d) != nil || json.Unmarshal([]byte(l), &m) != nil {
			t.Fatalf("metrics line is not JSON: %s", l)
		}
		if d.AWS.Timestamp == 0 || len(d.AWS.CloudWatchMetrics) != 1 || d.AWS.CloudWatchMetrics[0].Namespace != MetricsNamespace {
			t.Fatalf("not an EMF document: %s", l)
		}
		// Every named metric and every dimension must be a top-level member.
		for _, met := range d.AWS.CloudWatchMetrics[0].Metrics {
			if _, ok := m[met.Name].(float64); !ok {
				t.Errorf("metric %s has no numeric value in %s", met.Name, l)
			}
		}
		for _, set := range d.AWS.CloudWatchMetrics[0].Dimensions {
			for _, dim := range set {
				if _, ok := m[dim].(string); !ok {
					t.Errorf("dimension %s missing in %s", dim, l)
				}
			}
		}
		if m["Route"] != nil {
			main = m
		} else {
			byStatusSeverity[m["Status"].(string)+"/"+m["Severity"].(string)] = m[MetricResults].(float64)
		}
	}
	// manual-regions scans eu-west-1 and ap-southeast-2: 2 clusters, each PASS/HIGH, FAIL/CRITICAL,
	// ERROR/MEDIUM, and each region's account services PASS/LOW (not a cluster).
	if main == nil || main[MetricClustersScanned] != 2.0 || main[MetricFindingsImported] != 6.0 || main[MetricScopeErrors] != 0.0 || main["Route"] != "manual" {
		t.Errorf("main metrics wrong: %v", main)
	}
	want := map[string]float64{"PASS/HIGH": 2, "FAIL/CRITICAL": 2, "ERROR/MEDIUM": 2, "PASS/LOW": 2}
	if len(byStatusSeverity) != len(want) {
		t.Errorf("results by status/severity %v, want %v", byStatusSeverity, want)
	}
	for k, v := range want {
		if byStatusSeverity[k] != v {
			t.Errorf("%s = %v, want %v", k, byStatusSeverity[k], v)
		}
	}
}

func TestInputErrorsAreCountedAsFailedInvocations(t *testing.T) {
	r := newRig(t, testConfig(t))
	if _, err := r.h.Handle(context.Background(), []byte(`[1,2]`)); err == nil || !IsInputError(err) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(r.metrics.String(), `"InvocationFailed":1`) || !strings.Contains(r.metrics.String(), `"Route":"invalid"`) {
		t.Errorf("metrics: %s", r.metrics.String())
	}
}

func TestOrgItemUsesTheConfiguredRoleAndKeepsTheErrorTypes(t *testing.T) {
	r := newRig(t, testConfig(t, "SEK_ORGANIZATION=true", "SEK_ROLE_NAME=AuditReader", "SEK_EXTERNAL_ID=ext-42"))
	if _, err := r.h.Handle(context.Background(), []byte(`{"accountId":"123456789012","region":"eu-west-1"}`)); err != nil {
		t.Fatal(err)
	}
	if it := r.org.items[0]; it.RoleName != "AuditReader" || it.ExternalID != "ext-42" {
		t.Fatalf("item ran as %+v, want the configured role and external id", it)
	}

	// The runtime reports the error's type name; the state machine retries on it.
	r.org.unreachable = map[string]bool{"210987654321": true}
	_, err := r.h.Handle(context.Background(), []byte(`{"accountId":"210987654321","region":"eu-west-1"}`))
	if got := errorType(err); got != "AccountUnreachableError" {
		t.Fatalf("unreachable account: errorType %q (%v)", got, err)
	}
	r.org.failPublish = true
	_, err = r.h.Handle(context.Background(), []byte(`{"accountId":"123456789012","region":"eu-west-1"}`))
	if got := errorType(err); got != "ScanIncompleteError" || !strings.Contains(err.Error(), "Security Hub is not enabled") {
		t.Fatalf("publish failure: errorType %q (%v)", got, err)
	}
	_, err = r.h.Handle(context.Background(), []byte(`{"accountId":"123456789012","region":"eu-west-1","roleArn":"arn:aws:iam::999999999999:role/x"}`))
	if err == nil || !IsInputError(err) || !strings.Contains(err.Error(), "not in the item's account") {
		t.Fatalf("role of another account: %v", err)
	}
}

// errorType is how aws-lambda-go names an error in the invocation's errorType.
func errorType(err error) string {
	if err == nil {
		return ""
	}
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}

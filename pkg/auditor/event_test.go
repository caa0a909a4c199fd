package auditor

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sek-dev/sek/pkg/awsclient"
)

func TestDecodeRejectsBadInputClearly(t *testing.T) {
	cases := map[string]string{
		``:                            "not a JSON object",
		`null`:                        "not a JSON object",
		`"scan"`:                      "not a JSON object",
		`[{"regions":["us-east-1"]}]`: "not a JSON object",
		`{"regions":`:                 "not valid JSON",
		`{}`:                          "names no regions and no clusters",
		`{"regions":[]}`:              "names no regions and no clusters",
		`{"regions":["us-east-1"]} x`: "not valid JSON",
		`{"regions":["mars-1"]}`:      `invalid region "mars-1"`,
		`{"regions":[""]}`:            `invalid region ""`,
		`{"regions":["us-east-1"],"clusters":["bad name!"]}`: `"bad name!" is not a valid EKS cluster name`,
		`{"regions":["us-east-1"],"cluster":["prod"]}`:       `unknown field "cluster"`,
		`{"regions":[1]}`:                                                                 `field "regions`,
		`{"clusters":["prod"],"fanout":true}`:                                             "fan-out invocation names no region",
		`{"fanout":"yes","regions":["us-east-1"]}`:                                        `field "fanout" must be true or false`,
		`{"source":"aws.events","detail-type":"Scheduled Events"}`:                        "unknown event",
		`{"source":"aws.eks","detail-type":"AWS API Call via CloudTrail"}`:                "has no detail",
		`{"source":"aws.eks","detail-type":"AWS API Call via CloudTrail","detail":null}`:  "has no detail",
		`{"source":"aws.eks","detail-type":"AWS API Call via CloudTrail","detail":[1]}`:   "detail",
		`{"source":"aws.eks","detail-type":"AWS API Call via CloudTrail","detail":{}}`:    `CloudTrail event from ""`,
		`{"source":"aws.eks","detail-type":"AWS API Call via CloudTrail","time":"never"}`: "EventBridge event",
		`{"source":"aws.eks","detail-type":"AWS API Call via CloudTrail","detail":{"eventSource":"eks.amazonaws.com","eventName":"CreateCluster"}}`:                        "no usable region",
		`{"source":"aws.eks","detail-type":"AWS API Call via CloudTrail","detail":{"eventSource":"eks.amazonaws.com","eventName":"CreateCluster","awsRegion":"x"}}`:        "no usable region",
		`{"source":"aws.eks","detail-type":"AWS API Call via CloudTrail","detail":{"eventSource":"ec2.amazonaws.com","eventName":"CreateCluster"}}`:                        `not eks.amazonaws.com`,
		`{"source":"aws.ec2","detail-type":"AWS API Call via CloudTrail","detail":{"eventSource":"eks.amazonaws.com","eventName":"CreateCluster","awsRegion":"x"}}`:        `unknown event: source "aws.ec2"`,
		`{"source":"aws.eks","detail-type":"AWS API Call via CloudTrail","detail":{"eventSource":"eks.amazonaws.com","eventName":"ListClusters","awsRegion":"us-east-1"}}`: `"ListClusters" is not one the auditor handles`,
		`{"action":"scan-all"}`:                                        `unknown action "scan-all"`,
		`{"action":"list-items"}`:                                      `runId "" must be`,
		`{"action":"list-items","runId":"../../etc"}`:                  `runId "../../etc" must be`,
		`{"action":"list-items","runId":"r","bucket":"x"}`:             `unknown field "bucket"`,
		`{"accountId":"1234","region":"eu-west-1"}`:                    `invalid account item`,
		`{"accountId":"123456789012","region":"moon"}`:                 `invalid account item`,
		`{"accountId":"123456789012","region":"eu-west-1","role":"x"}`: `unknown field "role"`,
		`{"accountId":"123456789012","region":"eu-west-1","roleName":"a","roleArn":"arn:aws:iam::123456789012:role/a"}`: "mutually exclusive",
	}
	for in, want := range cases {
		_, err := Decode([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) || !IsInputError(err) {
			t.Errorf("Decode(%s) = %v, want an input error containing %q", in, err, want)
		}
	}
}

func TestDecodeCloudTrailDetails(t *testing.T) {
	env := func(detail string) string {
		return `{"version":"0","source":"aws.eks","detail-type":"AWS API Call via CloudTrail","account":"111122223333","region":"eu-west-2","detail":` + detail + `}`
	}
	cases := []struct {
		name, in        string
		region, cluster string
		account, from   string
		ignore          bool
	}{
		{"envelope region when awsRegion is absent", env(`{"eventSource":"eks.amazonaws.com","eventName":"UpdateAddon","requestParameters":{"name":"a"}}`),
			"eu-west-2", "a", "111122223333", "requestParameters.name", false},
		{"detail wins over envelope", env(`{"eventSource":"eks.amazonaws.com","eventName":"UpdateAddon","awsRegion":"us-west-2","recipientAccountId":"444455556666","requestParameters":{"name":"a"}}`),
			"us-west-2", "a", "444455556666", "requestParameters.name", false},
		{"url-encoded name", env(`{"eventSource":"eks.amazonaws.com","eventName":"UpdateAddon","requestParameters":{"name":"my%2Dcluster"}}`),
			"eu-west-2", "my-cluster", "111122223333", "requestParameters.name", false},
		{"invalid name falls through to clusterName", env(`{"eventSource":"eks.amazonaws.com","eventName":"CreateCluster","requestParameters":{"name":{"x":1},"clusterName":"b"}}`),
			"eu-west-2", "b", "111122223333", "requestParameters.clusterName", false},
		{"legacy response clusterName", env(`{"eventSource":"eks.amazonaws.com","eventName":"CreateCluster","responseElements":{"cluster":{"clusterName":"c"}}}`),
			"eu-west-2", "c", "111122223333", "responseElements.cluster.clusterName", false},
		{"top-level response clusterName", env(`{"eventSource":"eks.amazonaws.com","eventName":"AssociateAccessPolicy","responseElements":{"clusterName":"d"}}`),
			"eu-west-2", "d", "111122223333", "responseElements.clusterName", false},
		{"resources ignore non-cluster types", env(`{"eventSource":"eks.amazonaws.com","eventName":"UpdateNodegroupConfig","resources":[{"type":"AWS::EKS::Nodegroup","ARN":"arn:aws:eks:eu-west-2:1:nodegroup/x/y/z"}]}`),
			"eu-west-2", "", "111122223333", "no cluster name in the event; rescanning the region", false},
		{"error code", env(`{"eventSource":"eks.amazonaws.com","eventName":"DeleteCluster","errorCode":"ResourceInUseException","requestParameters":{"name":"a"}}`),
			"eu-west-2", "", "111122223333", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inv, err := Decode([]byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if inv.Regions[0] != c.region || inv.Cluster() != c.cluster || inv.Account != c.account || inv.NameFrom != c.from || (inv.Ignore != "") != c.ignore {
				t.Fatalf("got %+v", inv)
			}
		})
	}
}

func TestScheduledFromEventBridgeSchedulerToo(t *testing.T) {
	inv, err := Decode([]byte(`{"source":"aws.scheduler","detail-type":"Scheduled Event","detail":{}}`))
	if err != nil || inv.Route != RouteScheduled {
		t.Fatalf("%+v %v", inv, err)
	}
}

func TestManualDeduplicatesAndTrims(t *testing.T) {
	inv, err := Decode([]byte(` {"regions":["us-east-1"," us-east-1"],"clusters":["a","a","b"]} `))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(inv.Regions, []string{"us-east-1"}) || !slices.Equal(inv.Clusters, []string{"a", "b"}) || inv.Route != RouteManual {
		t.Fatalf("%+v", inv)
	}
	if inv.Cluster() != "" {
		t.Error("Cluster() is for CloudTrail events only")
	}
}

func TestClusterFromARN(t *testing.T) {
	cases := map[string]string{
		"arn:aws:eks:us-east-1:123456789012:cluster/prod":                            "prod",
		"arn%3Aaws%3Aeks%3Aus-east-1%3A123456789012%3Acluster%2Fprod":                "prod",
		"arn:aws:eks:us-east-1:123456789012:nodegroup/prod/ng/3ac9":                  "prod",
		"arn:aws:eks:us-east-1:123456789012:addon/prod/vpc-cni/5ec9":                 "prod",
		"arn:aws:eks:us-east-1:123456789012:fargateprofile/prod/batch/0ec9":          "prod",
		"arn:aws:eks:us-east-1:123456789012:access-entry/prod/role/1/x/a2c9":         "prod",
		"arn:aws:eks:us-east-1:123456789012:podidentityassociation/prod/a-1":         "prod",
		"arn:aws:eks:us-east-1:123456789012:identityproviderconfig/prod/oidc/corp/1": "prod",
		"arn:aws-cn:eks:cn-north-1:123456789012:cluster/prod":                        "prod",
		"arn:aws:ec2:us-east-1:123456789012:cluster/prod":                            "",
		"arn:aws:eks:us-east-1:123456789012:cluster":                                 "",
		"arn:aws:eks:us-east-1:123456789012:cluster/":                                "",
		"arn:aws:eks:us-east-1:123456789012:widget/prod":                             "",
		"arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy":         "",
		"%zz": "",
		"":    "",
	}
	for in, want := range cases {
		if got := ClusterFromARN(in); got != want {
			t.Errorf("ClusterFromARN(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzDecodeEvent feeds arbitrary payloads, seeded with every sample in events/, to the decoder
// and to the whole handler (over fakes). Neither may panic; what Decode accepts must be usable.
func FuzzDecodeEvent(f *testing.F) {
	for _, path := range eventFiles(f) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"regions":["us-east-1"],"fanout":true}`))
	f.Add([]byte(`{"source":"aws.eks","detail-type":"AWS API Call via CloudTrail","detail":{"eventSource":"eks.amazonaws.com","eventName":"TagResource","awsRegion":"us-east-1","requestParameters":{"resourceArn":"%"}}}`))
	cfg := testConfig(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		inv, err := Decode(payload)
		if err != nil {
			if !IsInputError(err) {
				t.Fatalf("decode error is not an input error: %v", err)
			}
		} else {
			checkInvocation(t, inv)
		}
		r := newRig(t, cfg)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		resp, herr := r.h.Handle(ctx, payload)
		if herr != nil && strings.Contains(herr.Error(), "internal error") {
			t.Fatalf("handler panicked on %q: %v\n%s", payload, herr, r.logs.String())
		}
		if (err != nil) != (herr != nil && IsInputError(herr)) {
			t.Fatalf("decode error %v but handler error %v", err, herr)
		}
		if resp == nil {
			t.Fatal("nil response")
		}
		if _, jerr := json.Marshal(resp); jerr != nil {
			t.Fatalf("response does not encode: %v", jerr)
		}
	})
}

func checkInvocation(t *testing.T, inv Invocation) {
	t.Helper()
	switch inv.Route {
	case RouteScheduled:
		if len(inv.Regions)+len(inv.Clusters) != 0 {
			t.Fatalf("scheduled with a scope: %+v", inv)
		}
	case RouteCloudTrail:
		if len(inv.Regions) != 1 || len(inv.Clusters) > 1 || !slices.Contains(eventNames(), inv.EventName) {
			t.Fatalf("bad CloudTrail invocation: %+v", inv)
		}
		if inv.Ignore == "" && inv.NameFrom == "" {
			t.Fatalf("no name source recorded: %+v", inv)
		}
	case RouteListItems:
		if !runIDPattern.MatchString(inv.RunID) {
			t.Fatalf("bad run id accepted: %+v", inv)
		}
	case RouteOrgItem:
		if inv.Item == nil || len(inv.Regions) != 1 || inv.Regions[0] != inv.Item.Region {
			t.Fatalf("bad item: %+v", inv)
		}
	case RouteManual, RouteFanOutChild:
		if len(inv.Regions)+len(inv.Clusters) == 0 {
			t.Fatalf("empty manual scope: %+v", inv)
		}
		if inv.Route == RouteFanOutChild && len(inv.Regions) == 0 {
			t.Fatalf("fan-out child without region: %+v", inv)
		}
	default:
		t.Fatalf("unknown route %q", inv.Route)
	}
	for _, r := range inv.Regions {
		if awsclient.ValidateRegion(r) != nil {
			t.Fatalf("invalid region accepted: %q", r)
		}
	}
	for _, c := range inv.Clusters {
		if !ValidClusterName(c) {
			t.Fatalf("invalid cluster accepted: %q", c)
		}
	}
}

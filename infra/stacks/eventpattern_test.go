package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/sek-dev/sek/pkg/auditor"
)

// matchPattern applies an EventBridge event pattern to an event, for the subset of the pattern
// language the rules use: nested objects, arrays of exact string/number/bool values, and
// {"exists": bool}. Any other pattern element (prefix, anything-but, numeric, ...) is an error,
// so a rule that starts using one cannot pass this test by accident.
func matchPattern(pattern, event map[string]any) (bool, error) {
	for key, want := range pattern {
		got, present := event[key]
		switch w := want.(type) {
		case map[string]any:
			sub, ok := got.(map[string]any)
			if !present || !ok {
				return false, nil
			}
			m, err := matchPattern(w, sub)
			if err != nil || !m {
				return false, err
			}
		case []any:
			m, err := matchValues(w, got, present)
			if err != nil {
				return false, fmt.Errorf("%s: %w", key, err)
			}
			if !m {
				return false, nil
			}
		default:
			return false, fmt.Errorf("%s: pattern value %v must be an object or an array", key, want)
		}
	}
	return true, nil
}

// matchValues: the field matches if any allowed element matches it. An exact value matches the
// field (or, for an array field, any of its elements); EventBridge compares exactly:
// case-sensitive strings, no type coercion. {"exists": false} matches an absent field,
// {"exists": true} a present leaf value.
func matchValues(allowed []any, got any, present bool) (bool, error) {
	vals := []any{got}
	if arr, ok := got.([]any); ok {
		vals = arr
	}
	_, gotObj := got.(map[string]any)
	for _, a := range allowed {
		switch x := a.(type) {
		case map[string]any:
			want, ok := x["exists"].(bool)
			if !ok || len(x) != 1 {
				return false, fmt.Errorf("pattern element %v is not implemented by the test matcher", a)
			}
			if want == (present && !gotObj) {
				return true, nil
			}
		case string, float64, bool, nil:
			if !present {
				continue
			}
			for _, v := range vals {
				if _, isObj := v.(map[string]any); isObj {
					continue
				}
				if v == a {
					return true, nil
				}
			}
		default:
			return false, fmt.Errorf("pattern element %v is not an exact value; the test matcher does not implement it", a)
		}
	}
	return false, nil
}

func TestPatternMatcherSemantics(t *testing.T) {
	pattern := map[string]any{
		"source": []any{"aws.eks"},
		"detail": map[string]any{"eventName": []any{"CreateCluster", "DeleteCluster"}},
	}
	for name, c := range map[string]struct {
		event string
		want  bool
	}{
		"exact":            {`{"source":"aws.eks","detail":{"eventName":"DeleteCluster","x":1}}`, true},
		"array field":      {`{"source":["aws.ec2","aws.eks"],"detail":{"eventName":"CreateCluster"}}`, true},
		"other name":       {`{"source":"aws.eks","detail":{"eventName":"DescribeCluster"}}`, false},
		"case differs":     {`{"source":"AWS.EKS","detail":{"eventName":"CreateCluster"}}`, false},
		"missing detail":   {`{"source":"aws.eks"}`, false},
		"detail not obj":   {`{"source":"aws.eks","detail":"CreateCluster"}`, false},
		"missing field":    {`{"source":"aws.eks","detail":{}}`, false},
		"object vs value":  {`{"source":{"x":"aws.eks"},"detail":{"eventName":"CreateCluster"}}`, false},
		"empty event":      {`{}`, false},
		"numbers no match": {`{"source":1,"detail":{"eventName":"CreateCluster"}}`, false},
	} {
		var ev map[string]any
		if err := json.Unmarshal([]byte(c.event), &ev); err != nil {
			t.Fatal(err)
		}
		got, err := matchPattern(pattern, ev)
		if err != nil || got != c.want {
			t.Errorf("%s: match = %v, %v; want %v", name, got, err, c.want)
		}
	}
	if _, err := matchPattern(map[string]any{"source": []any{map[string]any{"prefix": "aws."}}}, map[string]any{"source": "aws.eks"}); err == nil {
		t.Error("a content filter was silently treated as an exact value")
	}
	absent := map[string]any{"detail": map[string]any{"errorCode": []any{map[string]any{"exists": false}}}}
	present := map[string]any{"detail": map[string]any{"errorCode": []any{map[string]any{"exists": true}}}}
	for name, c := range map[string]struct {
		pattern map[string]any
		event   string
		want    bool
	}{
		"absent, field absent":  {absent, `{"detail":{"eventName":"X"}}`, true},
		"absent, field present": {absent, `{"detail":{"errorCode":"AccessDenied"}}`, false},
		"absent, field null":    {absent, `{"detail":{"errorCode":null}}`, false},
		"present, field there":  {present, `{"detail":{"errorCode":"AccessDenied"}}`, true},
		"present, field absent": {present, `{"detail":{}}`, false},
		"present, object field": {present, `{"detail":{"errorCode":{"a":1}}}`, false},
	} {
		var ev map[string]any
		if err := json.Unmarshal([]byte(c.event), &ev); err != nil {
			t.Fatal(err)
		}
		got, err := matchPattern(c.pattern, ev)
		if err != nil || got != c.want {
			t.Errorf("exists %s: match = %v, %v; want %v", name, got, err, c.want)
		}
	}
}

// deployedPattern is the EKS rule's pattern as synthesized into the home template.
func deployedPattern(t *testing.T) map[string]any {
	t.Helper()
	_, p := eksRule(t, synth(t).tpl(t, AuditorStackName))
	return p["EventPattern"].(map[string]any)
}

// eksEvent builds a CloudTrail-via-EventBridge envelope for an EKS call.
func eksEvent(name string) map[string]any {
	return map[string]any{
		"version": "0", "source": "aws.eks", "detail-type": "AWS API Call via CloudTrail",
		"account": "111122223333", "region": "eu-west-1",
		"detail": map[string]any{
			"eventSource": "eks.amazonaws.com", "eventName": name, "awsRegion": "eu-west-1",
			"requestParameters": map[string]any{"name": "prod"},
		},
	}
}

func TestEKSRuleMatchesEveryHandledCallAndNothingElse(t *testing.T) {
	pattern := deployedPattern(t)
	for _, name := range EKSEventNames() {
		if ok, err := matchPattern(pattern, eksEvent(name)); err != nil || !ok {
			t.Errorf("%s: match = %v, %v; want a match", name, ok, err)
		}
	}
	mutate := map[string]func(map[string]any){
		"read-only DescribeCluster": func(e map[string]any) { e["detail"].(map[string]any)["eventName"] = "DescribeCluster" },
		"ListClusters":              func(e map[string]any) { e["detail"].(map[string]any)["eventName"] = "ListClusters" },
		"EC2 source":                func(e map[string]any) { e["source"] = "aws.ec2" },
		"EC2 event source":          func(e map[string]any) { e["detail"].(map[string]any)["eventSource"] = "ec2.amazonaws.com" },
		"service event":             func(e map[string]any) { e["detail-type"] = "AWS Service Event via CloudTrail" },
		"scheduled event": func(e map[string]any) {
			e["source"], e["detail-type"], e["detail"] = "aws.events", "Scheduled Event", map[string]any{}
		},
		"lower-case name": func(e map[string]any) { e["detail"].(map[string]any)["eventName"] = "createcluster" },
		"failed call": func(e map[string]any) {
			e["detail"].(map[string]any)["errorCode"] = "InvalidParameterException"
		},
	}
	for name, m := range mutate {
		ev := eksEvent("CreateCluster")
		m(ev)
		if ok, err := matchPattern(pattern, ev); err != nil || ok {
			t.Errorf("%s: match = %v, %v; want no match", name, ok, err)
		}
	}
}

// shouldTrigger asks the auditor Lambda's own decoder whether a sample is an EKS change it
// would audit: a CloudTrail event it routes as such and does not merely acknowledge.
func shouldTrigger(raw []byte) bool {
	inv, err := auditor.Decode(raw)
	return err == nil && inv.Route == auditor.RouteCloudTrail && inv.Ignore == ""
}

// The rule and the Lambda must agree on the calls that matter: one the rule drops is never
// audited by event, one the Lambda rejects is an invocation wasted on an error.
func TestEventNamesMatchTheLambda(t *testing.T) {
	got, want := EKSEventNames(), auditor.EventNames()
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rule event names %v\nLambda handles   %v", got, want)
	}
	if EKSEventSource != auditor.SourceEKS || CloudTrailDetail != auditor.DetailTypeCloudTrail || EKSAPIEventSrc != auditor.EKSEventSource {
		t.Errorf("envelope values differ from the Lambda's: %s/%s/%s", auditor.SourceEKS, auditor.DetailTypeCloudTrail, auditor.EKSEventSource)
	}
}

// eventsDir is the repository's events/ directory of sample Lambda inputs.
const eventsDir = "../../events"

func TestEKSRuleAgainstEventSamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatalf("%s holds no *.json samples; the EKS CloudTrail samples are what this test checks the rule against", eventsDir)
	}
	pattern := deployedPattern(t)
	var triggering, other int
	for _, f := range files {
		base := filepath.Base(f)
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev map[string]any
		if err := json.Unmarshal(raw, &ev); err != nil {
			// Not a JSON object: EventBridge could never deliver it to a rule.
			if !strings.HasPrefix(base, "malformed") {
				t.Errorf("%s is not a JSON object (%v); only malformed*.json samples may be", base, err)
			}
			other++
			continue
		}
		want := shouldTrigger(raw)
		for _, prefix := range []string{"scheduled", "manual", "malformed"} {
			if strings.HasPrefix(base, prefix) && want {
				t.Errorf("%s looks like an EKS CloudTrail event although its name says %s", base, prefix)
			}
		}
		got, err := matchPattern(pattern, ev)
		if err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		if got != want {
			t.Errorf("%s: rule matches = %v, want %v", base, got, want)
		}
		if want {
			triggering++
		} else {
			other++
		}
	}
	t.Logf("%d samples: %d trigger an audit, %d do not", len(files), triggering, other)
	if triggering == 0 {
		t.Errorf("no sample in %s is an EKS CloudTrail event the auditor handles; add events/cloudtrail-*.json", eventsDir)
	}
}

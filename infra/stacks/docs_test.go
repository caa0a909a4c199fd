package stacks

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// allContextKeys lists every context key the app reads; the docs and cdk.json must cover them.
var allContextKeys = []string{
	CtxRegions, CtxForwardEvents, CtxSchedule, CtxSkipChecks, CtxLogLevel, CtxAlarmEmail,
	CtxAlarmTopicArn, CtxMemoryMB, CtxTimeoutSeconds, CtxLogRetentionDays, CtxFunctionName,
	CtxLambdaDir, CtxHomeRegion,
}

// The shipped cdk.json spells out the defaults, so what a user edits is what they get.
func TestCdkJSONHoldsTheDefaults(t *testing.T) {
	t.Setenv("CDK_DEFAULT_REGION", "")
	raw, err := os.ReadFile("../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		App     string         `json:"app"`
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("cdk.json: %v", err)
	}
	if !strings.Contains(doc.App, "go run") {
		t.Errorf("cdk.json app = %q", doc.App)
	}
	c, err := FromContext(func(k string) any { return doc.Context[k] })
	if err != nil {
		t.Fatalf("cdk.json context is invalid: %v", err)
	}
	want := DefaultConfig()
	want.Regions, want.SkipChecks = []string{}, []string{}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("cdk.json context gives %+v\nwant the defaults %+v", c, want)
	}
	known := map[string]bool{}
	for _, k := range allContextKeys {
		known[k] = true
	}
	for k := range doc.Context {
		if strings.HasPrefix(k, "sek:") && !known[k] {
			t.Errorf("cdk.json sets %s, which the app does not read", k)
		}
	}
}

func TestDeployDocCoversEveryContextKeyAndVariable(t *testing.T) {
	raw, err := os.ReadFile("../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, k := range append(allContextKeys, EnvRegions, EnvAllRegions, EnvSkip, EnvLogLevel, EnvPublish) {
		if !strings.Contains(doc, "`"+k+"`") {
			t.Errorf("docs/deploy.md does not document %s", k)
		}
	}
	for _, a := range []string{ActionImportFindings, ActionGetFindings, ActionUpdateFindings, ActionDescribeHub, ActionInvokeFunction} {
		if !strings.Contains(doc, a) {
			t.Errorf("docs/deploy.md does not list the permission %s", a)
		}
	}
}

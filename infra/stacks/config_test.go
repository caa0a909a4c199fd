package stacks

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sek-dev/sek/pkg/config"
	"github.com/sek-dev/sek/pkg/eks"
)

func lookup(m map[string]any) ContextLookup {
	return func(k string) any { return m[k] }
}

func TestFromContextDefaults(t *testing.T) {
	t.Setenv("CDK_DEFAULT_REGION", "")
	c, err := FromContext(lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, DefaultConfig()) {
		t.Errorf("empty context = %+v, want defaults %+v", c, DefaultConfig())
	}
}

// cdk.json gives JSON types; `-c key=value` always gives strings. Both must read the same.
func TestFromContextJSONAndCommandLineForms(t *testing.T) {
	t.Setenv("CDK_DEFAULT_REGION", "")
	fromJSON := map[string]any{
		CtxRegions: []any{"eu-west-1", " us-east-1 "}, CtxSkipChecks: []any{"a.b", "c"},
		CtxForwardEvents: true, CtxHomeRegion: "eu-west-1", CtxMemoryMB: 1024.0,
		CtxTimeoutSeconds: 120.0, CtxLogRetentionDays: 365.0, CtxLogLevel: "DEBUG",
		CtxSchedule: "cron(0 6 * * ? *)", CtxAlarmEmail: "a@b.example",
	}
	fromFlags := map[string]any{
		CtxRegions: "eu-west-1, us-east-1", CtxSkipChecks: "a.b,c,",
		CtxForwardEvents: "true", CtxHomeRegion: "eu-west-1", CtxMemoryMB: "1024",
		CtxTimeoutSeconds: "120", CtxLogRetentionDays: "365", CtxLogLevel: "debug",
		CtxSchedule: "cron(0 6 * * ? *)", CtxAlarmEmail: "a@b.example",
	}
	a, err := FromContext(lookup(fromJSON))
	if err != nil {
		t.Fatal(err)
	}
	b, err := FromContext(lookup(fromFlags))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("cdk.json form %+v\n-c form      %+v", a, b)
	}
	if !reflect.DeepEqual(a.Regions, []string{"eu-west-1", "us-east-1"}) || a.MemoryMB != 1024 || a.LogLevel != "debug" {
		t.Errorf("parsed %+v", a)
	}
	if got := a.ForwarderRegions(); !reflect.DeepEqual(got, []string{"us-east-1"}) {
		t.Errorf("forwarder regions = %v", got)
	}
	env := a.LambdaEnvironment()
	want := map[string]string{EnvRegions: "eu-west-1,us-east-1", EnvSkip: "a.b,c", EnvLogLevel: "debug", EnvPublish: "true"}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("environment = %v, want %v", env, want)
	}
}

func TestHomeRegionFallsBackToCDKDefault(t *testing.T) {
	t.Setenv("CDK_DEFAULT_REGION", "ap-southeast-2")
	c, err := FromContext(lookup(map[string]any{CtxRegions: "ap-southeast-2,eu-west-1", CtxForwardEvents: "yes"}))
	if err == nil || !strings.Contains(err.Error(), CtxForwardEvents) {
		t.Fatalf("a non-boolean %s was accepted: %v", CtxForwardEvents, err)
	}
	c, err = FromContext(lookup(map[string]any{CtxRegions: "ap-southeast-2,eu-west-1", CtxForwardEvents: "true"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.HomeRegion != "ap-southeast-2" || !reflect.DeepEqual(c.ForwarderRegions(), []string{"eu-west-1"}) {
		t.Errorf("home %s, forwarders %v", c.HomeRegion, c.ForwarderRegions())
	}
}

func TestFromContextRejectsBadValuesNamingTheKey(t *testing.T) {
	t.Setenv("CDK_DEFAULT_REGION", "")
	cases := map[string]struct {
		ctx  map[string]any
		want string
	}{
		"region":        {map[string]any{CtxRegions: "eu-west-1,Ireland"}, `sek:regions: "Ireland" is not a region name`},
		"region type":   {map[string]any{CtxRegions: 3.0}, "sek:regions: want a list"},
		"region elem":   {map[string]any{CtxRegions: []any{"eu-west-1", 2.0}}, "sek:regions: element 1"},
		"schedule":      {map[string]any{CtxSchedule: "every 12 hours"}, "sek:schedule"},
		"schedule cron": {map[string]any{CtxSchedule: "cron(0 6 * *)"}, "sek:schedule"},
		"log level":     {map[string]any{CtxLogLevel: "verbose"}, "sek:logLevel"},
		"memory":        {map[string]any{CtxMemoryMB: "64"}, "sek:memoryMB: 64 is outside"},
		"memory text":   {map[string]any{CtxMemoryMB: "lots"}, "sek:memoryMB: want a whole number"},
		"memory frac":   {map[string]any{CtxMemoryMB: 512.5}, "sek:memoryMB: want a whole number"},
		"timeout":       {map[string]any{CtxTimeoutSeconds: 1200.0}, "sek:timeoutSeconds: 1200"},
		"retention":     {map[string]any{CtxLogRetentionDays: 45.0}, "sek:logRetentionDays: 45 is not a CloudWatch Logs retention; use one of 1, 3, 5"},
		"email":         {map[string]any{CtxAlarmEmail: "a@b.example,c@d.example"}, "sek:alarmEmail"},
		"topic":         {map[string]any{CtxAlarmTopicArn: "my-topic"}, "sek:alarmTopicArn"},
		"function":      {map[string]any{CtxFunctionName: "sek auditor"}, "sek:functionName"},
		"skip":          {map[string]any{CtxSkipChecks: "ok,bad id"}, "sek:skipChecks"},
		"forward no regions": {map[string]any{CtxForwardEvents: true, CtxHomeRegion: "eu-west-1"},
			"sek:forwardEvents: needs an explicit sek:regions"},
		"forward no home": {map[string]any{CtxForwardEvents: true, CtxRegions: "eu-west-1,us-east-1"},
			"sek:homeRegion: forwarders must name the home region"},
		"bool type": {map[string]any{CtxForwardEvents: 1.0}, "sek:forwardEvents: want true or false"},
	}
	for name, c := range cases {
		_, err := FromContext(lookup(c.ctx))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", name, err, c.want)
		}
	}
	// Several problems are reported together, not one per attempt.
	_, err := FromContext(lookup(map[string]any{CtxLogLevel: "loud", CtxMemoryMB: "1"}))
	if err == nil || !strings.Contains(err.Error(), CtxLogLevel) || !strings.Contains(err.Error(), CtxMemoryMB) {
		t.Errorf("combined error = %v", err)
	}
}

func TestCheckLambdaDir(t *testing.T) {
	dir := t.TempDir()
	c := DefaultConfig()
	c.LambdaDir = dir
	if err := c.CheckLambdaDir(); err == nil || !strings.Contains(err.Error(), "make lambda") {
		t.Errorf("missing bootstrap: %v", err)
	}
	p := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckLambdaDir(); err == nil || !strings.Contains(err.Error(), "not an executable") {
		t.Errorf("non-executable bootstrap: %v", err)
	}
	if err := os.Chmod(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckLambdaDir(); err != nil {
		t.Errorf("valid bootstrap: %v", err)
	}
}

func TestEventNamesAreUniqueAndNonEmpty(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range EKSEventNames() {
		if n == "" || seen[n] {
			t.Errorf("event name %q empty or repeated", n)
		}
		seen[n] = true
	}
	if len(seen) != 26 {
		t.Errorf("%d event names, want the 26 the auditor handles", len(seen))
	}
}

func TestSkipsMustNameRegisteredChecks(t *testing.T) {
	c := DefaultConfig()
	c.SkipChecks = []string{"EKS_VERSION_SUPPORTED", "EKS_NO_SUCH_CHECK"}
	err := c.CheckSkips(RegistryCheckIDs())
	if err == nil || !strings.Contains(err.Error(), "EKS_NO_SUCH_CHECK") || strings.Contains(err.Error(), "unknown check ids EKS_VERSION_SUPPORTED") {
		t.Errorf("error = %v, want it to name only EKS_NO_SUCH_CHECK", err)
	}
	c.SkipChecks = RegistryCheckIDs()[:1]
	if err := c.CheckSkips(RegistryCheckIDs()); err != nil {
		t.Error(err)
	}
}

// The function's environment must mean to Sek's configuration loader what the stack intends:
// every variable is a documented key, and loading them gives the configured values.
func TestLambdaEnvironmentReadsBackThroughSekConfig(t *testing.T) {
	documented := map[string]bool{}
	for _, k := range config.Keys() {
		documented[k.Env] = true
	}
	full := fullConfig
	minimal := DefaultConfig()
	for name, c := range map[string]Config{"full": full, "minimal": minimal} {
		env := c.LambdaEnvironment()
		var environ []string
		for k, v := range env {
			if !documented[k] {
				t.Errorf("%s: %s is not a key of pkg/config", name, k)
			}
			environ = append(environ, k+"="+v)
		}
		got, err := config.Load(config.Sources{Environ: environ}, eks.Checks())
		if err != nil {
			t.Fatalf("%s: pkg/config rejects the function environment %v: %v", name, environ, err)
		}
		if !reflect.DeepEqual(got.Regions, nilIfEmpty(c.Regions)) || got.AllRegions != (len(c.Regions) == 0) ||
			!reflect.DeepEqual(got.Skip, nilIfEmpty(c.SkipChecks)) || got.LogLevel != c.LogLevel || !got.Publish {
			t.Errorf("%s: loaded regions=%v all=%v skip=%v level=%s publish=%v from %v",
				name, got.Regions, got.AllRegions, got.Skip, got.LogLevel, got.Publish, environ)
		}
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

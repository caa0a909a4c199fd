package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// One CDK synthesis costs seconds (a node process, the jsii kernel, cdk-nag), so every test in
// this package shares the app built here. It holds the stacks under test side by side:
//   - Sek: the home stack with every option set (regions, forwarders, e-mail, skips, sizes);
//   - SekEvents-<region>: the forwarders Build derives from that configuration;
//   - SekMinimal: the home stack with the defaults (no notifications, all regions);
//   - NagCanary: a deliberately non-compliant queue, proving cdk-nag actually runs.

const canaryStack = "NagCanary"

var fullConfig = Config{
	Regions:          []string{"eu-west-1", "us-east-1", "eu-central-1", "us-east-1"},
	ForwardEvents:    true,
	HomeRegion:       "eu-west-1",
	Schedule:         "rate(6 hours)",
	SkipChecks:       []string{"EKS_ENDPOINT_PUBLIC_ENABLED", "EKS_VERSION_SUPPORTED"},
	LogLevel:         "debug",
	AlarmEmail:       "ops@example.com",
	MemoryMB:         1024,
	TimeoutSeconds:   300,
	LogRetentionDays: 30,
	FunctionName:     "sek-test-auditor",
}

type synthesized struct {
	home       *AuditorStack
	minimal    *AuditorStack
	forwarders []*ForwarderStack
	org        *OrgStack
	member     *MemberRoleStack
	homeTpl    assertions.Template
	outDir     string
	// templates and messages by stack id, read from the cloud assembly.
	templates map[string]map[string]any
	messages  map[string][]message
}

type message struct {
	Level, Path, Type, Data string
}

var (
	fixtureOnce sync.Once
	fixture     *synthesized
	fixtureErr  error
)

func TestMain(m *testing.M) {
	// jsii prints a banner on stderr for the Node 20 runtime; it is noise in test output.
	for _, kv := range [][2]string{
		{"JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1"},
		{"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20"},
	} {
		if os.Getenv(kv[0]) == "" {
			os.Setenv(kv[0], kv[1])
		}
	}
	code := m.Run()
	if fixture != nil {
		os.RemoveAll(filepath.Dir(fixture.outDir))
	}
	jsii.Close()
	os.Exit(code)
}

// synth returns the shared synthesis, building it on first use.
func synth(t *testing.T) *synthesized {
	t.Helper()
	fixtureOnce.Do(func() { fixture, fixtureErr = build() })
	if fixtureErr != nil {
		t.Fatalf("synthesis: %v", fixtureErr)
	}
	return fixture
}

func build() (s *synthesized, err error) {
	defer func() {
		// jsii turns JavaScript exceptions into Go panics.
		if r := recover(); r != nil {
			err = fmt.Errorf("CDK raised: %v", r)
		}
	}()
	root, err := os.MkdirTemp("", "sek-infra-test-")
	if err != nil {
		return nil, err
	}
	lambdaDir := filepath.Join(root, "lambda")
	if err := os.MkdirAll(lambdaDir, 0o755); err != nil {
		return nil, err
	}
	// Synthesis only hashes and copies the asset; a stand-in executable is enough.
	if err := os.WriteFile(filepath.Join(lambdaDir, "bootstrap"), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		return nil, err
	}
	s = &synthesized{outDir: filepath.Join(root, "cdk.out"), templates: map[string]map[string]any{}, messages: map[string][]message{}}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(s.outDir)})

	full := fullConfig
	full.LambdaDir = lambdaDir
	if s.home, s.forwarders, err = Build(app, full, RegistryReadActions()); err != nil {
		return nil, err
	}
	minimal := DefaultConfig()
	minimal.LambdaDir = lambdaDir
	if s.minimal, err = NewAuditorStack(app, "SekMinimal", AuditorProps{Config: minimal, ReadActions: RegistryReadActions()}); err != nil {
		return nil, err
	}
	if s.org, s.member, err = BuildOrganization(app, full, fixtureOrgConfig, RegistryReadActions()); err != nil {
		return nil, err
	}
	canary := awscdk.NewStack(app, jsii.String(canaryStack), nil)
	awssqs.NewCfnQueue(canary, jsii.String("PlainQueue"), &awssqs.CfnQueueProps{})
	ApplyNag(app)

	s.homeTpl = assertions.Template_FromStack(s.home.Stack, nil) // the one synthesis
	asm := app.Synth(nil)                                        // cached: no second synthesis
	for _, st := range *asm.Stacks() {
		id := *st.StackName()
		raw, err := json.Marshal(st.Template())
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", id, err)
		}
		var tpl map[string]any
		if err := json.Unmarshal(raw, &tpl); err != nil {
			return nil, fmt.Errorf("template %s: %w", id, err)
		}
		s.templates[id] = tpl
		for _, m := range *st.Messages() {
			msg := message{Level: string(m.Level), Path: *m.Id}
			if m.Entry != nil {
				msg.Type = *m.Entry.Type
				msg.Data = fmt.Sprint(m.Entry.Data)
			}
			s.messages[id] = append(s.messages[id], msg)
		}
	}
	return s, nil
}

// tpl returns the named stack's template, failing the test if it was not synthesized.
func (s *synthesized) tpl(t *testing.T, stack string) map[string]any {
	t.Helper()
	tp, ok := s.templates[stack]
	if !ok {
		t.Fatalf("no template for stack %s (have %v)", stack, keys(s.templates))
	}
	return tp
}

// resources returns the template's resources of one CloudFormation type, by logical id.
func resources(tpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range tpl["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// only returns the single resource of a type, failing if there is not exactly one.
func only(t *testing.T, tpl map[string]any, typ string) (string, map[string]any) {
	t.Helper()
	rs := resources(tpl, typ)
	if len(rs) != 1 {
		t.Fatalf("want exactly one %s, got %d: %v", typ, len(rs), keys(rs))
	}
	for id, r := range rs {
		return id, props(r)
	}
	panic("unreachable")
}

func props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}

// mustNotPanic runs a CDK assertion, turning its panic (a failed match) into a test failure.
func mustNotPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ref returns the logical id a {"Ref": id} or {"Fn::GetAtt": [id, attr]} points at.
func ref(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
		s, _ := ga[0].(string)
		return s
	}
	return ""
}

// render flattens an intrinsic-built string ({"Fn::Join": ["", [...]]}, {"Ref": "AWS::X"}) into
// cdk-nag's notation ("arn:<AWS::Partition>:..."), so ARNs can be compared as text.
func render(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if r, ok := x["Ref"].(string); ok {
			return "<" + r + ">"
		}
		if ga, ok := x["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
			return fmt.Sprintf("<%v.%v>", ga[0], ga[1])
		}
		if j, ok := x["Fn::Join"].([]any); ok && len(j) == 2 {
			sep, _ := j[0].(string)
			parts, _ := j[1].([]any)
			s := make([]string, len(parts))
			for i, p := range parts {
				s[i] = render(p)
			}
			return strings.Join(s, sep)
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// strs turns a CloudFormation "string or list of strings" value into a list.
func strs(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = render(e)
		}
		return out
	default:
		return []string{render(x)}
	}
}

package stacks

import (
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/sek-dev/sek/pkg/auditor"
	"github.com/sek-dev/sek/pkg/org"
)

// wildcardOnlyActions are writes the CDK grants the organization state machine for its logging
// and tracing; the services support no resource-level permission for them, so "*" is the only
// possible resource.
var wildcardOnlyActions = map[string]string{
	"logs:CreateLogDelivery":   "CloudWatch Logs vended delivery (Step Functions execution logs) takes Resource \"*\" only",
	"logs:UpdateLogDelivery":   "CloudWatch Logs vended delivery takes Resource \"*\" only",
	"logs:DeleteLogDelivery":   "CloudWatch Logs vended delivery takes Resource \"*\" only",
	"logs:PutResourcePolicy":   "CloudWatch Logs resource policies for vended delivery take Resource \"*\" only",
	"xray:PutTraceSegments":    "X-Ray has no resource-level permissions",
	"xray:PutTelemetryRecords": "X-Ray has no resource-level permissions",
}

// fixtureOrgConfig is the organization deployment in the shared synthesis.
var fixtureOrgConfig = OrgConfig{
	OrganizationID:             "o-abcde12345",
	DeployToOUs:                []string{"r-ab12"},
	RoleName:                   "SekAuditRole",
	ExternalID:                 "sek-test-external-id",
	ScanOUs:                    []string{"ou-ab12-cd34ef56"},
	AccountTags:                []string{"sek=audit"},
	MaxConcurrency:             25,
	ToleratedFailurePercentage: 5,
	Schedule:                   "cron(0 4 * * ? *)",
	CallAs:                     "DELEGATED_ADMIN",
	FunctionName:               "sek-test-org-auditor",
	AuditorRoleName:            "SekOrgAuditor",
	ItemRetentionDays:          7,
	ItemTimeoutSeconds:         600,
}

// definition parses the state machine's Amazon States Language, with CloudFormation
// intrinsics rendered as <Ref> placeholders inside the JSON strings.
func definition(t *testing.T, tpl map[string]any) map[string]any {
	t.Helper()
	_, sm := only(t, tpl, "AWS::StepFunctions::StateMachine")
	var def map[string]any
	if err := json.Unmarshal([]byte(render(sm["DefinitionString"])), &def); err != nil {
		t.Fatalf("state machine definition is not JSON: %v\n%s", err, render(sm["DefinitionString"]))
	}
	return def
}

func state(t *testing.T, states map[string]any, name string) map[string]any {
	t.Helper()
	st, ok := states[name].(map[string]any)
	if !ok {
		t.Fatalf("no state %q in %v", name, keys(states))
	}
	return st
}

func TestOrgStateMachineIsADistributedMapOverS3Items(t *testing.T) {
	s := synth(t)
	tpl := s.tpl(t, OrgStackName)
	def := definition(t, tpl)
	if def["StartAt"] != "ListItems" {
		t.Fatalf("StartAt = %v, want ListItems", def["StartAt"])
	}
	states := def["States"].(map[string]any)
	list := state(t, states, "ListItems")
	if list["Next"] != "AuditAccounts" || list["ResultPath"] != "$.list" {
		t.Errorf("ListItems must feed the map through $.list: %v", list)
	}
	if p := list["Parameters"].(map[string]any)["Payload"].(map[string]any); p["action"] != "list-items" || p["runId.$"] != "$$.Execution.Name" {
		t.Errorf("ListItems payload = %v", p)
	}
	// The selectors read the auditor's reply (pkg/auditor Response.Reply: org.ItemList, org.ItemOutcome).
	if rs := list["ResultSelector"].(map[string]any); rs["key.$"] != "$.Payload.key" || rs["bucket.$"] != "$.Payload.bucket" {
		t.Errorf("ListItems result selector = %v", rs)
	}

	m := state(t, states, "AuditAccounts")
	if m["Type"] != "Map" || m["End"] != true {
		t.Fatalf("AuditAccounts = %v", m)
	}
	proc := m["ItemProcessor"].(map[string]any)
	pc := proc["ProcessorConfig"].(map[string]any)
	if pc["Mode"] != "DISTRIBUTED" || pc["ExecutionType"] != "STANDARD" {
		t.Errorf("processor config = %v, want a DISTRIBUTED map of STANDARD children", pc)
	}
	reader := m["ItemReader"].(map[string]any)
	if !strings.HasSuffix(render(reader["Resource"]), ":states:::s3:getObject") ||
		reader["ReaderConfig"].(map[string]any)["InputType"] != "JSON" {
		t.Errorf("item reader = %v, want the S3 JSON item reader", reader)
	}
	rp := reader["Parameters"].(map[string]any)
	if rp["Key.$"] != "$.list.key" || !strings.Contains(render(rp["Bucket"]), "<Items") {
		t.Errorf("item reader parameters = %v, want the items bucket and the key ListItems returned", rp)
	}
	if m["MaxConcurrency"] != float64(25) || m["ToleratedFailurePercentage"] != float64(5) {
		t.Errorf("MaxConcurrency %v, ToleratedFailurePercentage %v; want the configured 25 and 5", m["MaxConcurrency"], m["ToleratedFailurePercentage"])
	}
	sel := m["ItemSelector"].(map[string]any)
	want := map[string]any{"accountId.$": "$$.Map.Item.Value.accountId", "region.$": "$$.Map.Item.Value.region", "roleName": "SekAuditRole"}
	if !reflect.DeepEqual(sel, want) {
		t.Errorf("item selector = %v, want %v (the external id stays in the function's environment)", sel, want)
	}
	if rw := m["ResultWriter"].(map[string]any); !strings.Contains(render(rw), "results") {
		t.Errorf("result writer = %v", rw)
	}

	child := proc["States"].(map[string]any)
	scan := state(t, child, proc["StartAt"].(string))
	if !strings.Contains(render(scan["Resource"]), ":states:::lambda:invoke") || scan["End"] != true {
		t.Fatalf("child task = %v", scan)
	}
	if rs := scan["ResultSelector"].(map[string]any); rs["status.$"] != "$.Payload.status" || rs["accountId.$"] != "$.Payload.accountId" {
		t.Errorf("child result selector = %v", rs)
	}
	if fn := render(scan["Parameters"].(map[string]any)["FunctionName"]); !strings.Contains(fn, "<Auditor") {
		t.Errorf("child invokes %s, want the organization auditor", fn)
	}
	retries := map[string]map[string]any{}
	for _, r := range scan["Retry"].([]any) {
		rule := r.(map[string]any)
		for _, e := range rule["ErrorEquals"].([]any) {
			retries[e.(string)] = rule
		}
	}
	for errName, attempts := range map[string]float64{
		"Lambda.ServiceException": 6, "Lambda.TooManyRequestsException": 6,
		ErrAccountUnreachable: 1, ErrScanIncomplete: 2,
	} {
		r, ok := retries[errName]
		if !ok {
			t.Errorf("no retry for %s (have %v)", errName, keys(retries))
			continue
		}
		if r["MaxAttempts"].(float64) < attempts {
			t.Errorf("retry of %s: %v attempts, want at least %v", errName, r["MaxAttempts"], attempts)
		}
	}
	if _, ok := retries["States.ALL"]; ok {
		t.Error("a States.ALL retry would retry bad input and permanent failures alike")
	}

	// The state machine logs and traces, and a schedule starts it.
	_, sm := only(t, tpl, "AWS::StepFunctions::StateMachine")
	if sm["TracingConfiguration"].(map[string]any)["Enabled"] != true ||
		sm["LoggingConfiguration"].(map[string]any)["Level"] != "ALL" {
		t.Errorf("state machine logging/tracing: %v / %v", sm["LoggingConfiguration"], sm["TracingConfiguration"])
	}
	smID, _ := only(t, tpl, "AWS::StepFunctions::StateMachine")
	scheduled := false
	for _, r := range resources(tpl, "AWS::Events::Rule") {
		p := props(r)
		if p["ScheduleExpression"] != "cron(0 4 * * ? *)" {
			continue
		}
		for _, tg := range p["Targets"].([]any) {
			if ref(tg.(map[string]any)["Arn"]) == smID {
				scheduled = true
			}
		}
	}
	if !scheduled {
		t.Error("no schedule rule targets the state machine")
	}
}

func TestOrgAuditorMayOnlyAssumeMemberRolesInTheOrganization(t *testing.T) {
	s := synth(t)
	tpl := s.tpl(t, OrgStackName)
	found := false
	for _, pol := range resources(tpl, "AWS::IAM::Policy") {
		for _, st := range props(pol)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			stmt := st.(map[string]any)
			if !containsStr(strs(stmt["Action"]), "sts:AssumeRole") {
				continue
			}
			found = true
			if res := strs(stmt["Resource"]); len(res) != 1 || res[0] != "arn:<AWS::Partition>:iam::*:role/SekAuditRole" {
				t.Errorf("AssumeRole resources = %v, want only the member role name", res)
			}
			cond, _ := stmt["Condition"].(map[string]any)
			eq, _ := cond["StringEquals"].(map[string]any)
			if eq["aws:ResourceOrgID"] != "o-abcde12345" {
				t.Errorf("AssumeRole condition = %v, want aws:ResourceOrgID of the organization", cond)
			}
		}
	}
	if !found {
		t.Fatal("the organization auditor cannot assume member roles")
	}
	_, fn := only(t, tpl, "AWS::Lambda::Function")
	env := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
	for k, v := range map[string]string{"SEK_ORGANIZATION": "true", "SEK_ROLE_NAME": "SekAuditRole", "SEK_EXTERNAL_ID": "sek-test-external-id",
		"SEK_PUBLISH": "true", "SEK_ORGANIZATIONAL_UNITS": "ou-ab12-cd34ef56", "SEK_ACCOUNT_TAGS": "sek=audit"} {
		if env[k] != v {
			t.Errorf("function env %s = %v, want %q", k, env[k], v)
		}
	}
	if !strings.Contains(render(env["SEK_ITEMS_BUCKET"]), "<Items") {
		t.Errorf("SEK_ITEMS_BUCKET = %v, want the items bucket", env["SEK_ITEMS_BUCKET"])
	}
}

func TestOrgStackSetDeploysTheMemberRoleEverywhere(t *testing.T) {
	s := synth(t)
	tpl := s.tpl(t, OrgStackName)
	_, ss := only(t, tpl, "AWS::CloudFormation::StackSet")
	if ss["PermissionModel"] != "SERVICE_MANAGED" || ss["CallAs"] != "DELEGATED_ADMIN" {
		t.Errorf("permission model %v, call as %v", ss["PermissionModel"], ss["CallAs"])
	}
	ad := ss["AutoDeployment"].(map[string]any)
	if ad["Enabled"] != true || ad["RetainStacksOnAccountRemoval"] != false {
		t.Errorf("auto-deployment = %v", ad)
	}
	if !containsStr(strs(ss["Capabilities"]), "CAPABILITY_NAMED_IAM") {
		t.Errorf("capabilities = %v: the template names its role", ss["Capabilities"])
	}
	group := ss["StackInstancesGroup"].([]any)[0].(map[string]any)
	if ous := strs(group["DeploymentTargets"].(map[string]any)["OrganizationalUnitIds"]); !reflect.DeepEqual(ous, []string{"r-ab12"}) {
		t.Errorf("deployment targets = %v", ous)
	}
	if regions := strs(group["Regions"]); !reflect.DeepEqual(regions, []string{"eu-west-1"}) {
		t.Errorf("stack instance regions = %v, want the home region only (IAM is global)", regions)
	}
	params := map[string]string{}
	for _, p := range ss["Parameters"].([]any) {
		pm := p.(map[string]any)
		params[pm["ParameterKey"].(string)] = render(pm["ParameterValue"])
	}
	if !strings.HasPrefix(params["AuditorRoleArn"], "<AuditorRole") || params["ExternalId"] != "sek-test-external-id" || params["OrganizationId"] != "o-abcde12345" {
		t.Errorf("StackSet parameters = %v", params)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(ss["TemplateBody"].(string)), &body); err != nil {
		t.Fatalf("TemplateBody is not a JSON template: %v", err)
	}
	// The StackSet deploys exactly the template of the stand-alone SekMemberRole stack.
	if !reflect.DeepEqual(body, s.tpl(t, MemberRoleStackName)) {
		t.Error("the StackSet's TemplateBody differs from the SekMemberRole stack's template")
	}
	if _, ok := body["Rules"]; ok {
		t.Error("the member template has a bootstrap-version rule, which fails in never-bootstrapped member accounts")
	}
	for param := range map[string]bool{"AuditorRoleArn": true, "ExternalId": true, "OrganizationId": true} {
		if _, ok := body["Parameters"].(map[string]any)[param]; !ok {
			t.Errorf("the member template lacks parameter %s", param)
		}
	}
	if body["Parameters"].(map[string]any)["ExternalId"].(map[string]any)["NoEcho"] != true {
		t.Error("the external id parameter must be NoEcho")
	}
}

func TestMemberRoleTrustsOnlyTheAuditorInTheOrganizationWithTheExternalID(t *testing.T) {
	s := synth(t)
	tpl := s.tpl(t, MemberRoleStackName)
	_, role := only(t, tpl, "AWS::IAM::Role")
	if role["RoleName"] != "SekAuditRole" {
		t.Errorf("role name = %v", role["RoleName"])
	}
	stmts := role["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any)
	if len(stmts) != 1 {
		t.Fatalf("trust policy has %d statements, want 1: %v", len(stmts), stmts)
	}
	st := stmts[0].(map[string]any)
	if st["Effect"] != "Allow" || st["Action"] != "sts:AssumeRole" {
		t.Errorf("trust statement = %v", st)
	}
	if p := st["Principal"].(map[string]any)["AWS"]; ref(p) != "AuditorRoleArn" {
		t.Errorf("trusted principal = %v, want exactly the AuditorRoleArn parameter", p)
	}
	eq := st["Condition"].(map[string]any)["StringEquals"].(map[string]any)
	if ref(eq["aws:PrincipalOrgID"]) != "OrganizationId" || ref(eq["sts:ExternalId"]) != "ExternalId" {
		t.Errorf("trust conditions = %v, want aws:PrincipalOrgID and sts:ExternalId from the parameters", st["Condition"])
	}
	if len(st["Condition"].(map[string]any)) != 1 {
		t.Errorf("unexpected trust condition operators: %v", st["Condition"])
	}

	// Its permissions are the registry's read actions plus this account's Security Hub.
	var actions []string
	for _, pol := range resources(tpl, "AWS::IAM::Policy") {
		for _, stx := range props(pol)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			stmt := stx.(map[string]any)
			acts := strs(stmt["Action"])
			actions = append(actions, acts...)
			for _, r := range strs(stmt["Resource"]) {
				if r == "*" {
					for _, a := range acts {
						if !IsReadAction(a) {
							t.Errorf("write action %s granted on *", a)
						}
					}
				}
			}
		}
	}
	want := append(RegistryReadActions(), ActionImportFindings, ActionGetFindings, ActionUpdateFindings, ActionDescribeHub)
	sort.Strings(actions)
	sort.Strings(want)
	if !reflect.DeepEqual(dedupe(actions), dedupe(want)) {
		t.Errorf("member role actions = %v\nwant registry reads + Security Hub = %v", dedupe(actions), dedupe(want))
	}
}

func TestOrgConfigFromContext(t *testing.T) {
	ctx := map[string]any{}
	get := func(k string) any { return ctx[k] }
	if _, ok, err := OrgFromContext(get); ok || err != nil {
		t.Fatalf("no organization id: ok=%v err=%v, want no organization stack", ok, err)
	}
	ctx[CtxOrgID] = "o-abcde12345"
	ctx[CtxOrgTargetOUs] = "r-ab12, ou-ab12-cd34ef56"
	ctx[CtxOrgExternalID] = "some-external-id"
	ctx[CtxOrgMaxConcurrency] = "100"
	ctx[CtxOrgCallAs] = "delegated_admin"
	c, ok, err := OrgFromContext(get)
	if !ok || err != nil {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if len(c.DeployToOUs) != 2 || c.MaxConcurrency != 100 || c.CallAs != "DELEGATED_ADMIN" || c.RoleName != DefaultOrgRoleName || c.ToleratedFailurePercentage != DefaultOrgToleratedFailure {
		t.Fatalf("config = %+v", c)
	}
	for key, bad := range map[string]any{
		CtxOrgID: "org-1", CtxOrgTargetOUs: "engineering", CtxOrgExternalID: "x", CtxOrgMaxConcurrency: 0,
		CtxOrgToleratedFailure: 101, CtxOrgSchedule: "daily", CtxOrgCallAs: "ADMIN", CtxOrgRoleName: "a b",
	} {
		saved := ctx[key]
		ctx[key] = bad
		if _, _, err := OrgFromContext(get); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s=%v: error %v, want one naming the key", key, bad, err)
		}
		ctx[key] = saved
	}
}

// The retry rules match the error types the auditor returns for a failed item (Lambda reports a
// Go error's type name as errorType).
func TestRetryErrorNamesAreTheAuditorsErrorTypes(t *testing.T) {
	if got := reflect.TypeOf(org.AccountUnreachableError{}).Name(); got != ErrAccountUnreachable {
		t.Errorf("ErrAccountUnreachable = %q, the auditor returns %q", ErrAccountUnreachable, got)
	}
	if got := reflect.TypeOf(org.ScanIncompleteError{}).Name(); got != ErrScanIncomplete {
		t.Errorf("ErrScanIncomplete = %q, the auditor returns %q", ErrScanIncomplete, got)
	}
}

// Every field the state machine selects from a response exists in the auditor's response JSON.
func TestResultSelectorsReadTheAuditorsResponse(t *testing.T) {
	s := synth(t)
	def := definition(t, s.tpl(t, OrgStackName))
	states := def["States"].(map[string]any)
	proc := state(t, states, "AuditAccounts")["ItemProcessor"].(map[string]any)
	selectors := map[string]map[string]any{
		"ListItems":         state(t, states, "ListItems")["ResultSelector"].(map[string]any),
		"ScanAccountRegion": state(t, proc["States"].(map[string]any), "ScanAccountRegion")["ResultSelector"].(map[string]any),
	}
	responses := map[string]*auditor.Response{
		"ListItems":         {Reply: org.ItemList{Bucket: "b", Key: "k", Items: 1, Accounts: 1, Regions: 1}},
		"ScanAccountRegion": {Reply: org.ItemOutcome{AccountID: "111122223333", Region: "eu-west-1", Status: "complete"}},
	}
	for name, sel := range selectors {
		raw, err := json.Marshal(map[string]any{"Payload": responses[name]})
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		_ = json.Unmarshal(raw, &doc)
		for field, path := range sel {
			var cur any = doc
			for _, part := range strings.Split(strings.TrimPrefix(path.(string), "$."), ".") {
				m, _ := cur.(map[string]any)
				cur = m[part]
			}
			if cur == nil {
				t.Errorf("%s selects %s = %s, which the auditor's response does not have: %s", name, field, path, raw)
			}
		}
	}
}

func TestOrgDocCoversEveryContextKey(t *testing.T) {
	raw, err := os.ReadFile("../../docs/organization.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range OrgContextKeys() {
		if !strings.Contains(string(raw), "`"+k+"`") {
			t.Errorf("docs/organization.md does not document %s", k)
		}
	}
}

// With the deploying account known, the member template's parameters default to what the
// StackSet passes, so the stand-alone stack deploys into the management account as is.
func TestMemberTemplateDefaultsForTheManagementAccount(t *testing.T) {
	body, err := MemberTemplateBody(MemberRoleProps{Org: fixtureOrgConfig, ReadActions: RegistryReadActions(), AuditorAccount: "111122223333", AuditorPartition: "aws-cn"})
	if err != nil {
		t.Fatal(err)
	}
	var tpl map[string]any
	if err := json.Unmarshal([]byte(body), &tpl); err != nil {
		t.Fatal(err)
	}
	params := tpl["Parameters"].(map[string]any)
	for name, want := range map[string]string{
		"AuditorRoleArn": "arn:aws-cn:iam::111122223333:role/SekOrgAuditor",
		"ExternalId":     "sek-test-external-id",
		"OrganizationId": "o-abcde12345",
	} {
		if got := params[name].(map[string]any)["Default"]; got != want {
			t.Errorf("%s default = %v, want %s", name, got, want)
		}
	}
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func dedupe(in []string) []string {
	sort.Strings(in)
	var out []string
	for i, s := range in {
		if i == 0 || s != in[i-1] {
			out = append(out, s)
		}
	}
	return out
}

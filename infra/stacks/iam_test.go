package stacks

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks"
	"github.com/sek-dev/sek/pkg/runner"
)

type statement struct {
	Sid       string
	Effect    string
	Actions   []string
	Resources []string
}

// roleStatements returns every statement of every identity policy attached to the role.
func roleStatements(t *testing.T, tpl map[string]any, roleID string) []statement {
	t.Helper()
	var out []statement
	for _, pol := range resources(tpl, "AWS::IAM::Policy") {
		p := props(pol)
		attached := false
		for _, r := range p["Roles"].([]any) {
			attached = attached || ref(r) == roleID
		}
		if !attached {
			continue
		}
		for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			m := st.(map[string]any)
			s := statement{Effect: m["Effect"].(string), Actions: strs(m["Action"]), Resources: strs(m["Resource"])}
			s.Sid, _ = m["Sid"].(string)
			sort.Strings(s.Actions)
			out = append(out, s)
		}
	}
	return out
}

func auditorRole(t *testing.T, tpl map[string]any) (string, map[string]any) {
	t.Helper()
	_, fn := only(t, tpl, "AWS::Lambda::Function")
	roleID := ref(fn["Role"])
	r, ok := tpl["Resources"].(map[string]any)[roleID].(map[string]any)
	if !ok || r["Type"] != "AWS::IAM::Role" {
		t.Fatalf("function role %q is not a role in the template", roleID)
	}
	return roleID, props(r)
}

func sorted(s ...string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func TestAuditorRoleExactPermissions(t *testing.T) {
	s := synth(t)
	tpl := s.tpl(t, AuditorStackName)
	roleID, role := auditorRole(t, tpl)
	fnID, _ := only(t, tpl, "AWS::Lambda::Function")
	_ = fnID
	logsID, _ := only(t, tpl, "AWS::Logs::LogGroup")
	qID, _ := only(t, tpl, "AWS::SQS::Queue")

	if role["ManagedPolicyArns"] != nil || role["Policies"] != nil {
		t.Errorf("role has managed or inline policies besides the generated one: %v / %v", role["ManagedPolicyArns"], role["Policies"])
	}
	trust := role["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any)
	if len(trust) != 1 || render(trust[0].(map[string]any)["Principal"]) != `{"Service":"lambda.amazonaws.com"}` {
		t.Errorf("trust policy = %v, want only lambda.amazonaws.com", trust)
	}

	// AWS's public SSM parameters are the only reads narrower than "*"; everything else the
	// registry lists is configuration metadata.
	var wildcard, publicParams []string
	for _, a := range registryUnion() {
		if a == "ssm:GetParameter" {
			publicParams = append(publicParams, a)
		} else {
			wildcard = append(wildcard, a)
		}
	}
	want := []statement{
		{"ReadInventoryFromCheckRegistry", "Allow", wildcard, []string{"*"}},
	}
	if publicParams != nil {
		want = append(want, statement{"ReadScopedFromCheckRegistry1", "Allow", publicParams,
			[]string{"arn:<AWS::Partition>:ssm:*::parameter/aws/service/*"}})
	}
	want = append(want, []statement{
		{"ImportOwnFindings", "Allow", []string{"securityhub:BatchImportFindings"},
			[]string{"arn:<AWS::Partition>:securityhub:*:<AWS::AccountId>:product/<AWS::AccountId>/default"}},
		{"ReconcileOwnFindings", "Allow", sorted("securityhub:BatchUpdateFindings", "securityhub:DescribeHub", "securityhub:GetFindings"),
			[]string{"arn:<AWS::Partition>:securityhub:*:<AWS::AccountId>:hub/default"}},
		{"FanOutToItself", "Allow", []string{"lambda:InvokeFunction"},
			[]string{"arn:<AWS::Partition>:lambda:eu-west-1:<AWS::AccountId>:function:sek-test-auditor"}},
		{"WriteOwnLogs", "Allow", sorted("logs:CreateLogStream", "logs:PutLogEvents"), []string{"<" + logsID + ".Arn>"}},
		// The on-failure destination grant CDK adds for the dead-letter queue.
		{"", "Allow", sorted("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"), []string{"<" + qID + ".Arn>"}},
	}...)
	got := roleStatements(t, tpl, roleID)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("auditor role statements differ:\n got  %+v\n want %+v", got, want)
	}
}

// registryUnion is computed here from the registry, independently of the stack code.
func registryUnion() []string {
	return audit.Permissions(eks.Checks(), eks.BasePermissions()...)
}

func TestReadPermissionsAreTheRegistryUnion(t *testing.T) {
	s := synth(t)
	tpl := s.tpl(t, AuditorStackName)
	roleID, _ := auditorRole(t, tpl)
	var read []string
	for _, st := range roleStatements(t, tpl, roleID) {
		if strings.Contains(st.Sid, "FromCheckRegistry") {
			read = append(read, st.Actions...)
		}
	}
	sort.Strings(read)
	granted := map[string]bool{}
	for _, a := range read {
		granted[a] = true
	}
	// Every check's every action reaches the role, named per check so a failure says which.
	for _, c := range eks.Checks() {
		for _, p := range c.Permissions {
			if !granted[p] {
				t.Errorf("check %s needs %s, which the deployed role lacks", c.ID, p)
			}
		}
	}
	for _, p := range eks.BasePermissions() {
		if !granted[p] {
			t.Errorf("discovery needs %s, which the deployed role lacks", p)
		}
	}
	// And nothing beyond them.
	if want := registryUnion(); !reflect.DeepEqual(read, want) {
		t.Errorf("read statement = %v\nregistry union = %v", read, want)
	}
	if len(eks.Checks()) == 0 || len(read) == 0 {
		t.Fatal("registry returned no checks or the role no read actions: the comparison proves nothing")
	}
}

// The Lambda runs runner.Checks(); the role is generated from the EKS registry. Should the runner
// ever add a provider, its checks' permissions must not silently miss the role.
func TestEveryCheckTheLambdaRunsIsPermitted(t *testing.T) {
	granted := map[string]bool{}
	for _, a := range RegistryReadActions() {
		granted[a] = true
	}
	for _, c := range runner.Checks() {
		for _, p := range c.Permissions {
			if !granted[p] {
				t.Errorf("the Lambda runs %s, which needs %s; the role generated from the registry lacks it", c.ID, p)
			}
		}
	}
}

func TestNoWriteActionOnWildcardResource(t *testing.T) {
	s := synth(t)
	for stack, tpl := range s.templates {
		if stack == canaryStack {
			continue
		}
		for _, pol := range resources(tpl, "AWS::IAM::Policy") {
			for _, st := range props(pol)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				m := st.(map[string]any)
				for _, a := range strs(m["Action"]) {
					if strings.Contains(a, "*") {
						t.Errorf("%s: wildcard action %s", stack, a)
					}
					for _, r := range strs(m["Resource"]) {
						if r == "*" && !IsReadAction(a) && wildcardOnlyActions[a] == "" {
							t.Errorf("%s: write action %s granted on *", stack, a)
						}
					}
				}
				if m["NotAction"] != nil || m["NotResource"] != nil {
					t.Errorf("%s: NotAction/NotResource statement %v", stack, m)
				}
			}
		}
	}
}

func TestReadActionClassification(t *testing.T) {
	for a, want := range map[string]bool{
		"eks:DescribeCluster": true, "eks:ListClusters": true, "kms:GetKeyRotationStatus": true,
		"securityhub:BatchGetSecurityControls": true, "sts:GetCallerIdentity": true,
		"eks:UpdateClusterConfig": false, "securityhub:BatchImportFindings": false,
		"iam:PassRole": false, "s3:*": false, "Describe": false, "eks:Get": false, "eks:Listen": false,
	} {
		if got := IsReadAction(a); got != want {
			t.Errorf("IsReadAction(%q) = %v, want %v", a, got, want)
		}
	}
}

func TestRegistryWithWriteActionIsRefused(t *testing.T) {
	_, err := validateReadActions([]string{"eks:DescribeCluster", "eks:UpdateClusterConfig", "ec2:*"})
	if err == nil {
		t.Fatal("a write action and a wildcard were accepted into the read statement")
	}
	for _, want := range []string{`"eks:UpdateClusterConfig" is not read-only`, `"ec2:*" is not a single IAM action`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %s", err, want)
		}
	}
	_, err = validateReadActions([]string{"secretsmanager:GetSecretValue", "ssm:GetParameters"})
	for _, want := range []string{`"secretsmanager:GetSecretValue" reads data`, `"ssm:GetParameters" reads data`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %s", err, want)
		}
	}
	if _, err := validateReadActions([]string{"ssm:GetParameter"}); err != nil {
		t.Errorf("ssm:GetParameter has a scoped resource and must be accepted: %v", err)
	}
	if _, err := validateReadActions(nil); err == nil {
		t.Error("an empty registry was accepted")
	}
	got, err := validateReadActions([]string{"eks:ListClusters", "ec2:DescribeRegions"})
	if err != nil || !reflect.DeepEqual(got, []string{"ec2:DescribeRegions", "eks:ListClusters"}) {
		t.Errorf("valid actions: %v, %v", got, err)
	}
}

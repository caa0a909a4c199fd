package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sek-dev/sek/pkg/eks"
)

// runCLI runs sek in-process with an empty environment, so no AWS or SEK_* variable of the
// machine running the tests leaks in.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, IO{Stdout: &out, Stderr: &errb, Environ: []string{}})
	return code, out.String(), errb.String()
}

func TestIAMPolicyCoversEveryCheckAndNothingElse(t *testing.T) {
	code, out, stderr := runCLI(t, "iam-policy")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc policyDocument
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("output is not a policy document: %v\n%s", err, out)
	}
	if doc.Version != "2012-10-17" || len(doc.Statement) == 0 || doc.Statement[0].Resource[0] != "*" {
		t.Fatalf("want a 2012-10-17 policy whose first statement is the reads on *, got %+v", doc)
	}
	want := map[string]bool{}
	for _, c := range checksOf() {
		if len(c.Permissions) == 0 {
			t.Errorf("check %s declares no IAM actions", c.ID)
		}
		for _, p := range c.Permissions {
			want[p] = true
		}
	}
	for _, p := range eks.BasePermissions() {
		want[p] = true
	}
	got := doc.Statement[0].Action
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("actions are not sorted and unique: %v", got)
	}
	for _, a := range got {
		if _, ok := scopedReads[a]; ok {
			t.Errorf("%s reads data and must not be granted on *", a)
		}
	}
	for _, st := range doc.Statement[1:] {
		for _, a := range st.Action {
			if want := fmt.Sprintf(scopedReads[a], "aws"); len(st.Resource) != 1 || st.Resource[0] != want {
				t.Errorf("%s is granted on %v, want only %s", a, st.Resource, want)
			}
		}
		got = append(got, st.Action...)
	}
	for _, a := range got {
		if !want[a] {
			t.Errorf("policy grants %s, which no check or discovery needs", a)
		}
		delete(want, a)
		service, action, ok := strings.Cut(a, ":")
		if !ok || service == "" || strings.ContainsAny(a, "*?") {
			t.Errorf("%q is not a single service:Action", a)
		}
		// The read statement is the one with Resource "*": it must never hold a write.
		if !hasReadPrefix(action) {
			t.Errorf("read-only statement grants %s, which is not a Describe/Get/List call", a)
		}
	}
	for a := range want {
		t.Errorf("policy lacks %s, which a check or discovery needs", a)
	}
}

func hasReadPrefix(action string) bool {
	for _, p := range []string{"Describe", "Get", "List", "BatchGet"} {
		if strings.HasPrefix(action, p) {
			return true
		}
	}
	return false
}

func TestIAMPolicyPublishScopesSecurityHubToTheAccount(t *testing.T) {
	code, out, stderr := runCLI(t, "iam-policy", "--publish", "--account", "111122223333", "--partition", "aws-us-gov")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc policyDocument
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	byAction := map[string][]string{}
	for _, s := range doc.Statement {
		if s.Effect != "Allow" {
			t.Errorf("statement %s: effect %s", s.Sid, s.Effect)
		}
		for _, a := range s.Action {
			byAction[a] = s.Resource
		}
	}
	product := "arn:aws-us-gov:securityhub:*:111122223333:product/111122223333/default"
	hub := "arn:aws-us-gov:securityhub:*:111122223333:hub/default"
	for action, res := range map[string]string{
		"securityhub:BatchImportFindings": product,
		"securityhub:BatchUpdateFindings": hub,
		"securityhub:GetFindings":         hub,
		"securityhub:DescribeHub":         hub,
	} {
		if got := byAction[action]; !slices.Equal(got, []string{res}) {
			t.Errorf("%s on %v, want %s", action, got, res)
		}
	}
	for a, res := range byAction {
		if strings.HasPrefix(a, "securityhub:") && slices.Contains(res, "*") {
			t.Errorf("%s is granted on *", a)
		}
	}
}

func TestIAMPolicyRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"iam-policy", "--publish"}, "--publish needs --account"},
		{[]string{"iam-policy", "--account", "12345"}, `"12345" is not an AWS account id`},
		{[]string{"iam-policy", "--partition", "azure"}, `unknown partition "azure"`},
		{[]string{"iam-policy", "extra"}, "unknown command"},
	} {
		code, out, stderr := runCLI(t, tc.args...)
		if code != ExitUsage || !strings.Contains(stderr, tc.want) || out != "" {
			t.Errorf("sek %v: exit %d, stdout %q, stderr %q; want exit 2 naming %q", tc.args, code, out, stderr, tc.want)
		}
	}
}

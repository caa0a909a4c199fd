package stacks

import (
	"encoding/json"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

// TestSekIAMPolicyMatchesTheAuditorRole keeps `sek iam-policy --publish`, the policy the README
// tells CLI users to attach, identical to the auditor role this stack grants: the same actions
// on the same resources. Only the role's Lambda-specific rights are its own.
func TestSekIAMPolicyMatchesTheAuditorRole(t *testing.T) {
	const account = "123456789012"
	cmd := exec.Command("go", "run", "-mod=mod", "github.com/sek-dev/sek/cmd/sek", "iam-policy", "--publish", "--account", account)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sek iam-policy: %v", err)
	}
	var doc struct {
		Statement []struct {
			Effect   string
			Action   []string
			Resource []string
		}
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("sek iam-policy printed %q: %v", out, err)
	}
	cli := map[string]string{} // action → sorted resources
	for _, st := range doc.Statement {
		for _, a := range st.Action {
			cli[a] = joinSorted(st.Resource)
		}
	}

	tpl := synth(t).tpl(t, AuditorStackName)
	roleID, _ := auditorRole(t, tpl)
	role := map[string]string{}
	for _, st := range roleStatements(t, tpl, roleID) {
		res := make([]string, len(st.Resources))
		for i, r := range st.Resources {
			res[i] = strings.NewReplacer("<AWS::Partition>", "aws", "<AWS::AccountId>", account).Replace(r)
		}
		for _, a := range st.Actions {
			role[a] = joinSorted(res)
		}
	}
	// The Lambda's own rights, which a CLI user does not need.
	lambdaOnly := map[string]string{
		ActionInvokeFunction:     "fan-out: the function invokes itself once per region",
		"logs:CreateLogStream":   "the function's own log group",
		"logs:PutLogEvents":      "the function's own log group",
		"sqs:SendMessage":        "the dead-letter queue of failed asynchronous invocations",
		"sqs:GetQueueAttributes": "the dead-letter queue",
		"sqs:GetQueueUrl":        "the dead-letter queue",
	}
	for a, res := range role {
		if lambdaOnly[a] != "" {
			continue
		}
		if got, ok := cli[a]; !ok {
			t.Errorf("the auditor role grants %s on %s, but sek iam-policy --publish does not", a, res)
		} else if got != res {
			t.Errorf("%s: sek iam-policy grants it on %s, the auditor role on %s", a, got, res)
		}
	}
	for a, res := range cli {
		if _, ok := role[a]; !ok {
			t.Errorf("sek iam-policy --publish grants %s on %s, which the auditor role does not", a, res)
		}
	}
}

func joinSorted(s []string) string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return strings.Join(c, ",")
}

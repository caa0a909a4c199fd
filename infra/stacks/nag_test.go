package stacks

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nagMessages returns the cdk-nag AwsSolutions findings of a stack at a level
// ("error" or "warning"); suppressed findings are not annotated, so these are the unsuppressed.
func nagMessages(s *synthesized, stack, level string) []message {
	var out []message
	for _, m := range s.messages[stack] {
		if m.Type == "aws:cdk:"+level && strings.HasPrefix(m.Data, "AwsSolutions-") {
			out = append(out, m)
		}
	}
	return out
}

func TestCdkNagAwsSolutionsClean(t *testing.T) {
	s := synth(t)
	for stack := range s.templates {
		if stack == canaryStack {
			continue
		}
		for _, level := range []string{"error", "warning"} {
			for _, m := range nagMessages(s, stack, level) {
				t.Errorf("%s: unsuppressed cdk-nag %s at %s: %s", stack, level, m.Path, m.Data)
			}
		}
	}
}

// The canary proves the pack runs and that nagMessages sees its findings: a queue without a
// dead-letter queue or a TLS-only policy must be reported.
func TestCdkNagReportsTheCanary(t *testing.T) {
	s := synth(t)
	found := map[string]bool{}
	for _, m := range nagMessages(s, canaryStack, "error") {
		found[strings.SplitN(m.Data, ":", 2)[0]] = true
	}
	for _, rule := range []string{"AwsSolutions-SQS3", "AwsSolutions-SQS4"} {
		if !found[rule] {
			t.Errorf("cdk-nag did not report %s on the non-compliant canary queue (found %v)", rule, found)
		}
	}
}

// Every suppression carries a real reason, and each one is used: a suppression that matches no
// finding would hide a future, different problem under an outdated reason.
func TestCdkNagSuppressionsHaveReasonsAndAreUsed(t *testing.T) {
	s := synth(t)
	for stack, tpl := range s.templates {
		if stack == canaryStack {
			continue
		}
		suppressed := nagReport(t, s, stack)
		for id, r := range tpl["Resources"].(map[string]any) {
			md, _ := r.(map[string]any)["Metadata"].(map[string]any)
			nag, _ := md["cdk_nag"].(map[string]any)
			rules, _ := nag["rules_to_suppress"].([]any)
			for _, x := range rules {
				rule := x.(map[string]any)
				reason, _ := rule["reason"].(string)
				ruleID, _ := rule["id"].(string)
				if len(reason) < 40 {
					t.Errorf("%s/%s: suppression of %s has too thin a reason: %q", stack, id, ruleID, reason)
				}
				if !suppressed[ruleID] {
					t.Errorf("%s/%s: suppression of %s matched no finding; remove it", stack, id, ruleID)
				}
			}
		}
	}
}

// nagReport reads cdk-nag's CSV report for a stack and returns the rule ids it suppressed.
func nagReport(t *testing.T, s *synthesized, stack string) map[string]bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(s.outDir, "AwsSolutions-*"+stack+"-NagReport.csv"))
	var path string
	for _, f := range files {
		// "SekEvents-x" also ends like "Sek..." prefixes; insist on the exact stack segment.
		if strings.HasSuffix(f, "-"+stack+"-NagReport.csv") {
			path = f
		}
	}
	if path == "" {
		t.Fatalf("no cdk-nag report for %s in %s", stack, s.outDir)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	out := map[string]bool{}
	for _, row := range rows[1:] {
		if len(row) > 2 && row[2] == "Suppressed" {
			out[row[0]] = true
		}
	}
	return out
}

package stacks

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestFunctionRuntimeArchitectureAndSettings(t *testing.T) {
	s := synth(t)
	mustNotPanic(t, "auditor function properties", func() {
		s.homeTpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), &map[string]any{
			"FunctionName":  "sek-test-auditor",
			"Runtime":       "provided.al2023",
			"Architectures": []any{"arm64"},
			"Handler":       "bootstrap",
			"MemorySize":    1024,
			"Timeout":       300,
			"LoggingConfig": map[string]any{"LogGroup": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^AuditorLogs"))}},
		})
	})
	mustNotPanic(t, "one function only", func() {
		s.homeTpl.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(1))
	})

	_, fn := only(t, s.tpl(t, AuditorStackName), "AWS::Lambda::Function")
	env := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
	want := map[string]any{
		EnvRegions:  "eu-west-1,us-east-1,eu-central-1,us-east-1",
		EnvSkip:     "EKS_ENDPOINT_PUBLIC_ENABLED,EKS_VERSION_SUPPORTED",
		EnvLogLevel: "debug",
		EnvPublish:  "true",
	}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("environment = %v, want %v", env, want)
	}

	// Defaults: 512 MB, 600 s, every enabled region, every check.
	_, minFn := only(t, s.tpl(t, "SekMinimal"), "AWS::Lambda::Function")
	if minFn["MemorySize"] != float64(DefaultMemoryMB) || minFn["Timeout"] != float64(DefaultTimeoutSeconds) {
		t.Errorf("default memory/timeout = %v/%v, want %d/%d", minFn["MemorySize"], minFn["Timeout"], DefaultMemoryMB, DefaultTimeoutSeconds)
	}
	minEnv := minFn["Environment"].(map[string]any)["Variables"].(map[string]any)
	if !reflect.DeepEqual(minEnv, map[string]any{EnvLogLevel: "info", EnvAllRegions: "true", EnvPublish: "true"}) {
		t.Errorf("default environment = %v", minEnv)
	}
	if minFn["FunctionName"] != DefaultFunctionName {
		t.Errorf("default function name = %v", minFn["FunctionName"])
	}
}

func TestFunctionAsyncFailuresGoToDeadLetterQueue(t *testing.T) {
	s := synth(t)
	tpl := s.tpl(t, AuditorStackName)
	qID, _ := only(t, tpl, "AWS::SQS::Queue")
	_, cfg := only(t, tpl, "AWS::Lambda::EventInvokeConfig")
	if cfg["MaximumRetryAttempts"] != float64(asyncRetryAttempts) || cfg["MaximumEventAgeInSeconds"] != float64(asyncMaxEventAge*3600) {
		t.Errorf("async retries = %v attempts / %v s", cfg["MaximumRetryAttempts"], cfg["MaximumEventAgeInSeconds"])
	}
	dest := cfg["DestinationConfig"].(map[string]any)["OnFailure"].(map[string]any)["Destination"]
	if ref(dest) != qID {
		t.Errorf("on-failure destination = %v, want the dead-letter queue %s", dest, qID)
	}
}

func TestDeadLetterQueueEncryptedAndTLSOnly(t *testing.T) {
	s := synth(t)
	for _, stack := range append([]string{AuditorStackName}, forwarderIDs(s)...) {
		tpl := s.tpl(t, stack)
		qID, q := only(t, tpl, "AWS::SQS::Queue")
		if q["SqsManagedSseEnabled"] != true {
			t.Errorf("%s: queue encryption = %v, want SqsManagedSseEnabled", stack, q)
		}
		if q["MessageRetentionPeriod"] != float64(dlqRetentionDays*24*3600) {
			t.Errorf("%s: retention = %v", stack, q["MessageRetentionPeriod"])
		}
		var denyInsecure bool
		for _, pol := range resources(tpl, "AWS::SQS::QueuePolicy") {
			p := props(pol)
			if len(p["Queues"].([]any)) != 1 || ref(p["Queues"].([]any)[0]) != qID {
				continue
			}
			for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				m := st.(map[string]any)
				if m["Effect"] == "Deny" && strings.Contains(render(m["Condition"]), `"aws:SecureTransport":"false"`) {
					denyInsecure = true
				}
			}
		}
		if !denyInsecure {
			t.Errorf("%s: dead-letter queue policy does not deny non-TLS requests", stack)
		}
	}
}

func TestLogGroupHasRetention(t *testing.T) {
	s := synth(t)
	for stack, days := range map[string]float64{AuditorStackName: 30, "SekMinimal": DefaultLogRetentionDays} {
		tpl := s.tpl(t, stack)
		_, lg := only(t, tpl, "AWS::Logs::LogGroup")
		if lg["RetentionInDays"] != days {
			t.Errorf("%s: RetentionInDays = %v, want %v", stack, lg["RetentionInDays"], days)
		}
		// The deprecated LogRetention custom resource is a Lambda of its own.
		if n := len(resources(tpl, "Custom::LogRetention")); n != 0 {
			t.Errorf("%s: %d LogRetention custom resources, want none", stack, n)
		}
	}
}

func TestScheduleRule(t *testing.T) {
	s := synth(t)
	check := func(stack, expr string) {
		tpl := s.tpl(t, stack)
		var found int
		for id, r := range resources(tpl, "AWS::Events::Rule") {
			p := props(r)
			if p["ScheduleExpression"] == nil {
				continue
			}
			found++
			if p["ScheduleExpression"] != expr {
				t.Errorf("%s: schedule = %v, want %s", stack, p["ScheduleExpression"], expr)
			}
			checkFunctionTarget(t, tpl, stack+"/"+id, p)
		}
		if found != 1 {
			t.Errorf("%s: %d schedule rules, want 1", stack, found)
		}
	}
	check(AuditorStackName, "rate(6 hours)")
	check("SekMinimal", DefaultSchedule)
}

func TestEKSRulePatternAndTarget(t *testing.T) {
	s := synth(t)
	tpl := s.tpl(t, AuditorStackName)
	id, p := eksRule(t, tpl)
	pat := p["EventPattern"].(map[string]any)
	if !reflect.DeepEqual(pat["source"], []any{"aws.eks"}) ||
		!reflect.DeepEqual(pat["detail-type"], []any{"AWS API Call via CloudTrail"}) {
		t.Errorf("pattern envelope = %v", pat)
	}
	detail := pat["detail"].(map[string]any)
	if !reflect.DeepEqual(detail["eventSource"], []any{"eks.amazonaws.com"}) {
		t.Errorf("detail.eventSource = %v", detail["eventSource"])
	}
	if !reflect.DeepEqual(detail["errorCode"], []any{map[string]any{"exists": false}}) {
		t.Errorf("detail.errorCode = %v, want failed calls filtered out", detail["errorCode"])
	}
	got := strs(detail["eventName"])
	want := EKSEventNames()
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("detail.eventName = %v\nwant %v", got, want)
	}
	if p["State"] != "ENABLED" {
		t.Errorf("rule state = %v", p["State"])
	}
	checkFunctionTarget(t, tpl, id, p)
}

// checkFunctionTarget asserts the rule's only target is the auditor function, with retries and
// the dead-letter queue, and that EventBridge may invoke the function for this rule.
func checkFunctionTarget(t *testing.T, tpl map[string]any, rule string, p map[string]any) {
	t.Helper()
	fnID, _ := only(t, tpl, "AWS::Lambda::Function")
	qID, _ := only(t, tpl, "AWS::SQS::Queue")
	targets := p["Targets"].([]any)
	if len(targets) != 1 {
		t.Fatalf("%s: %d targets, want 1", rule, len(targets))
	}
	tg := targets[0].(map[string]any)
	if ref(tg["Arn"]) != fnID {
		t.Errorf("%s: target = %v, want function %s", rule, tg["Arn"], fnID)
	}
	rp, _ := tg["RetryPolicy"].(map[string]any)
	if rp["MaximumRetryAttempts"] != float64(targetRetryAttempts) || rp["MaximumEventAgeInSeconds"] != float64(targetMaxEventAge*3600) {
		t.Errorf("%s: retry policy = %v", rule, rp)
	}
	dlc, _ := tg["DeadLetterConfig"].(map[string]any)
	if ref(dlc["Arn"]) != qID {
		t.Errorf("%s: dead-letter config = %v, want queue %s", rule, dlc, qID)
	}
	ruleID := rule[strings.LastIndex(rule, "/")+1:]
	var allowed bool
	for _, perm := range resources(tpl, "AWS::Lambda::Permission") {
		pp := props(perm)
		if pp["Principal"] == "events.amazonaws.com" && ref(pp["SourceArn"]) == ruleID && ref(pp["FunctionName"]) == fnID {
			allowed = true
		}
	}
	if !allowed {
		t.Errorf("%s: no lambda:InvokeFunction permission for events.amazonaws.com scoped to this rule", rule)
	}
}

func eksRule(t *testing.T, tpl map[string]any) (string, map[string]any) {
	t.Helper()
	var id string
	var found map[string]any
	for rid, r := range resources(tpl, "AWS::Events::Rule") {
		if p := props(r); p["EventPattern"] != nil {
			if found != nil {
				t.Fatalf("more than one event-pattern rule: %s and %s", id, rid)
			}
			id, found = rid, p
		}
	}
	if found == nil {
		t.Fatal("no event-pattern rule")
	}
	return id, found
}

func TestAlarmsOnErrorsAndDeadLetters(t *testing.T) {
	s := synth(t)
	check := func(stack string, wantTopic bool) {
		tpl := s.tpl(t, stack)
		fnID, _ := only(t, tpl, "AWS::Lambda::Function")
		qID, _ := only(t, tpl, "AWS::SQS::Queue")
		topics := resources(tpl, "AWS::SNS::Topic")
		var topicID string
		if wantTopic {
			topicID, _ = only(t, tpl, "AWS::SNS::Topic")
		} else if len(topics) != 0 {
			t.Errorf("%s: %d topics without an alarm e-mail, want none", stack, len(topics))
		}
		var sawErrors, sawDLQ bool
		for id, a := range resources(tpl, "AWS::CloudWatch::Alarm") {
			p := props(a)
			dims := p["Dimensions"].([]any)
			dim := dims[0].(map[string]any)
			switch {
			case p["MetricName"] == "Errors" && p["Namespace"] == "AWS/Lambda" && ref(dim["Value"]) == fnID:
				sawErrors = p["Statistic"] == "Sum"
			case p["MetricName"] == "ApproximateNumberOfMessagesVisible" && p["Namespace"] == "AWS/SQS" && ref(dim["Value"]) == qID:
				sawDLQ = p["Statistic"] == "Maximum"
			default:
				t.Errorf("%s: unexpected alarm %s: %v", stack, id, p)
				continue
			}
			if p["Threshold"] != 1.0 || p["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" || p["TreatMissingData"] != "notBreaching" {
				t.Errorf("%s: alarm %s threshold/operator/missing = %v/%v/%v", stack, id, p["Threshold"], p["ComparisonOperator"], p["TreatMissingData"])
			}
			actions := p["AlarmActions"]
			if wantTopic && (len(strs(actions)) != 1 || ref(actions.([]any)[0]) != topicID) {
				t.Errorf("%s: alarm %s actions = %v, want topic %s", stack, id, actions, topicID)
			}
			if !wantTopic && actions != nil {
				t.Errorf("%s: alarm %s has actions %v without a topic", stack, id, actions)
			}
		}
		if !sawErrors || !sawDLQ {
			t.Errorf("%s: errors alarm %v, dead-letter alarm %v; want both", stack, sawErrors, sawDLQ)
		}
		if wantTopic {
			_, sub := only(t, tpl, "AWS::SNS::Subscription")
			if sub["Protocol"] != "email" || sub["Endpoint"] != "ops@example.com" || ref(sub["TopicArn"]) != topicID {
				t.Errorf("%s: subscription = %v", stack, sub)
			}
		}
	}
	check(AuditorStackName, true)
	check("SekMinimal", false)
}

func TestAlarmTopicEncryptedAndCloudWatchMayPublish(t *testing.T) {
	s := synth(t)
	tpl := s.tpl(t, AuditorStackName)
	keyID, key := only(t, tpl, "AWS::KMS::Key")
	if key["EnableKeyRotation"] != true {
		t.Errorf("alarm key rotation = %v", key["EnableKeyRotation"])
	}
	topicID, topic := only(t, tpl, "AWS::SNS::Topic")
	if ref(topic["KmsMasterKeyId"]) != keyID {
		t.Errorf("topic key = %v, want %s", topic["KmsMasterKeyId"], keyID)
	}
	var kmsGrant bool
	for _, st := range key["KeyPolicy"].(map[string]any)["Statement"].([]any) {
		m := st.(map[string]any)
		if render(m["Principal"]) == `{"Service":"cloudwatch.amazonaws.com"}` {
			kmsGrant = reflect.DeepEqual(strs(m["Action"]), []string{"kms:Decrypt", "kms:GenerateDataKey*"})
		}
	}
	if !kmsGrant {
		t.Error("key policy does not let CloudWatch encrypt alarm notifications")
	}
	_, pol := only(t, tpl, "AWS::SNS::TopicPolicy")
	var publish, tlsOnly bool
	for _, st := range pol["PolicyDocument"].(map[string]any)["Statement"].([]any) {
		m := st.(map[string]any)
		switch {
		case m["Effect"] == "Allow" && m["Action"] == "sns:Publish" && render(m["Principal"]) == `{"Service":"cloudwatch.amazonaws.com"}`:
			publish = ref(m["Resource"]) == topicID && strings.Contains(render(m["Condition"]), "aws:SourceAccount")
		case m["Effect"] == "Deny" && strings.Contains(render(m["Condition"]), `"aws:SecureTransport":"false"`):
			tlsOnly = true
		}
	}
	if !publish || !tlsOnly {
		t.Errorf("topic policy: CloudWatch publish (same account) %v, TLS-only %v; want both", publish, tlsOnly)
	}
}

func forwarderIDs(s *synthesized) []string {
	var ids []string
	for _, f := range s.forwarders {
		ids = append(ids, *f.Stack.StackName())
	}
	return ids
}

func TestForwardersCoverEveryOtherRegion(t *testing.T) {
	s := synth(t)
	got := forwarderIDs(s)
	want := []string{"SekEvents-eu-central-1", "SekEvents-us-east-1"} // home and duplicates dropped
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("forwarder stacks = %v, want %v", got, want)
	}
	homeID, home := eksRule(t, s.tpl(t, AuditorStackName))
	_ = homeID
	for i, id := range got {
		if r := *s.forwarders[i].Stack.Region(); r != strings.TrimPrefix(id, "SekEvents-") {
			t.Errorf("%s deployed to %s", id, r)
		}
		tpl := s.tpl(t, id)
		_, p := eksRule(t, tpl)
		// Same pattern as the home rule, so every forwarded event is picked up there.
		if !reflect.DeepEqual(p["EventPattern"], home["EventPattern"]) {
			t.Errorf("%s: pattern %v differs from the home rule's %v", id, p["EventPattern"], home["EventPattern"])
		}
		targets := p["Targets"].([]any)
		if len(targets) != 1 {
			t.Fatalf("%s: %d targets", id, len(targets))
		}
		tg := targets[0].(map[string]any)
		wantBus := "arn:<AWS::Partition>:events:eu-west-1:<AWS::AccountId>:event-bus/default"
		if render(tg["Arn"]) != wantBus {
			t.Errorf("%s: target %s, want the home bus %s", id, render(tg["Arn"]), wantBus)
		}
		qID, _ := only(t, tpl, "AWS::SQS::Queue")
		if ref(tg["DeadLetterConfig"].(map[string]any)["Arn"]) != qID {
			t.Errorf("%s: target has no dead-letter queue: %v", id, tg)
		}
		roleID, _ := only(t, tpl, "AWS::IAM::Role")
		if ref(tg["RoleArn"]) != roleID {
			t.Errorf("%s: target role = %v, want %s", id, tg["RoleArn"], roleID)
		}
		// The forwarder's role may only put events on the home bus.
		_, pol := only(t, tpl, "AWS::IAM::Policy")
		for _, st := range pol["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			m := st.(map[string]any)
			if m["Action"] != "events:PutEvents" || render(m["Resource"]) != wantBus {
				t.Errorf("%s: forwarder role statement %v", id, m)
			}
		}
		if n := len(resources(tpl, "AWS::CloudWatch::Alarm")); n != 1 {
			t.Errorf("%s: %d alarms, want 1 on the dead-letter queue", id, n)
		}
		if n := len(resources(tpl, "AWS::Lambda::Function")); n != 0 {
			t.Errorf("%s: %d functions, want none", id, n)
		}
	}
}

package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Retry settings. EventBridge retries delivery to the function; Lambda retries a failed
// asynchronous run. Whatever exhausts them lands in the dead-letter queue, which alarms.
const (
	targetRetryAttempts = 4
	targetMaxEventAge   = 2  // hours
	asyncRetryAttempts  = 2  // Lambda's maximum
	asyncMaxEventAge    = 6  // hours
	dlqRetentionDays    = 14 // SQS maximum, time enough to inspect and redrive
	alarmPeriodMinutes  = 5
)

// AuditorProps configure the home stack.
type AuditorProps struct {
	awscdk.StackProps
	Config Config
	// ReadActions are the IAM read actions the checks need: RegistryReadActions() in the app.
	ReadActions []string
}

// AuditorStack is the per-account deployment: the function, its triggers, role, logs, alarms.
type AuditorStack struct {
	awscdk.Stack
	Function        awslambda.Function
	Role            awsiam.Role
	DeadLetterQueue awssqs.Queue
	LogGroup        awslogs.LogGroup
	ScheduleRule    awsevents.Rule
	EKSRule         awsevents.Rule
	Alarms          []awscloudwatch.Alarm
}

// NewAuditorStack builds the home stack. It returns an error, never panics, on bad input.
func NewAuditorStack(scope constructs.Construct, id string, props AuditorProps) (*AuditorStack, error) {
	cfg := props.Config
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.CheckLambdaDir(); err != nil {
		return nil, err
	}
	reads, err := validateReadActions(props.ReadActions)
	if err != nil {
		return nil, err
	}
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("Sek: audits Amazon EKS clusters and publishes findings to AWS Security Hub")
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &sp)
	s := &AuditorStack{Stack: stack}

	s.DeadLetterQueue = newDeadLetterQueue(stack, "DeadLetterQueue")

	// A log group of our own, unnamed so a retained one never blocks a redeploy, replaces the
	// deprecated LogRetention custom resource.
	s.LogGroup = awslogs.NewLogGroup(stack, jsii.String("AuditorLogs"), &awslogs.LogGroupProps{
		Retention:     retentionDays[cfg.LogRetentionDays],
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})

	s.Role = awsiam.NewRole(stack, jsii.String("AuditorRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Sek auditor: read-only EKS inventory, publishes to this account's Security Hub"),
	})
	addReadStatements(s.Role, reads)
	for _, st := range securityHubStatements(stack) {
		s.Role.AddToPolicy(st)
	}
	s.Role.AddToPolicy(selfInvokeStatement(stack, cfg.FunctionName))
	// Written here rather than through the AWSLambdaBasicExecutionRole managed policy, which
	// grants log writes on every log group in the account.
	s.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("WriteOwnLogs"),
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: jsii.Strings(*s.LogGroup.LogGroupArn()),
	}))

	env := map[string]*string{}
	for k, v := range cfg.LambdaEnvironment() {
		env[k] = jsii.String(v)
	}
	s.Function = awslambda.NewFunction(stack, jsii.String("Auditor"), &awslambda.FunctionProps{
		FunctionName:  jsii.String(cfg.FunctionName),
		Description:   jsii.String("Sek EKS auditor"),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          awslambda.Code_FromAsset(jsii.String(cfg.LambdaDir), nil),
		MemorySize:    jsii.Number(float64(cfg.MemoryMB)),
		Timeout:       awscdk.Duration_Seconds(jsii.Number(float64(cfg.TimeoutSeconds))),
		Environment:   &env,
		Role:          s.Role,
		LogGroup:      s.LogGroup,
		RetryAttempts: jsii.Number(asyncRetryAttempts),
		MaxEventAge:   awscdk.Duration_Hours(jsii.Number(asyncMaxEventAge)),
		OnFailure:     awslambdadestinations.NewSqsDestination(s.DeadLetterQueue),
		// Self-invocation is one hop (home run → per-region runs), never a loop; keep Lambda's
		// loop detection on so a bug cannot recurse unnoticed.
		RecursiveLoop: awslambda.RecursiveLoop_TERMINATE,
	})

	target := func() awsevents.IRuleTarget {
		return awseventstargets.NewLambdaFunction(s.Function, &awseventstargets.LambdaFunctionProps{
			DeadLetterQueue: s.DeadLetterQueue,
			RetryAttempts:   jsii.Number(targetRetryAttempts),
			MaxEventAge:     awscdk.Duration_Hours(jsii.Number(targetMaxEventAge)),
		})
	}
	s.ScheduleRule = awsevents.NewRule(stack, jsii.String("Schedule"), &awsevents.RuleProps{
		Description: jsii.String("Sek: full audit of every configured region"),
		Schedule:    awsevents.Schedule_Expression(jsii.String(cfg.Schedule)),
	})
	s.ScheduleRule.AddTarget(target())
	s.EKSRule = newEKSRule(stack, "EksChanges", "Sek: re-audit a cluster after an EKS change (CloudTrail)")
	s.EKSRule.AddTarget(target())

	topic := alarmTopic(stack, cfg.AlarmEmail, cfg.AlarmTopicArn)
	s.Alarms = append(s.Alarms,
		newAlarm(stack, "FunctionErrors", topic,
			"Sek auditor runs failed; see the function's log group",
			s.Function.MetricErrors(&awscloudwatch.MetricOptions{
				Period:    awscdk.Duration_Minutes(jsii.Number(alarmPeriodMinutes)),
				Statistic: jsii.String("Sum"),
			})),
		newAlarm(stack, "DeadLetters", topic,
			"Sek events or runs were given up on and are waiting in the dead-letter queue",
			s.DeadLetterQueue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
				Period:    awscdk.Duration_Minutes(jsii.Number(alarmPeriodMinutes)),
				Statistic: jsii.String("Maximum"),
			})),
	)

	awscdk.NewCfnOutput(stack, jsii.String("FunctionName"), &awscdk.CfnOutputProps{Value: s.Function.FunctionName()})
	awscdk.NewCfnOutput(stack, jsii.String("DeadLetterQueueUrl"), &awscdk.CfnOutputProps{Value: s.DeadLetterQueue.QueueUrl()})
	awscdk.NewCfnOutput(stack, jsii.String("LogGroupName"), &awscdk.CfnOutputProps{Value: s.LogGroup.LogGroupName()})

	suppressAuditorFindings(s)
	return s, nil
}

// newDeadLetterQueue is encrypted with SQS-managed keys: EventBridge cannot deliver to a queue
// encrypted with the AWS-managed aws/sqs KMS key, and nothing here needs a customer key.
func newDeadLetterQueue(stack awscdk.Stack, id string) awssqs.Queue {
	q := awssqs.NewQueue(stack, jsii.String(id), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(dlqRetentionDays)),
	})
	suppress(q, false, nagSQS3, "This queue is itself the dead-letter queue for EventBridge targets and Lambda on-failure; giving it another DLQ would only move the messages.")
	return q
}

// newEKSRule matches the EKS management calls that change what the checks look at.
func newEKSRule(stack awscdk.Stack, id, description string) awsevents.Rule {
	sources, detailTypes, detail := eksEventPattern()
	return awsevents.NewRule(stack, jsii.String(id), &awsevents.RuleProps{
		Description: jsii.String(description),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(sources...),
			DetailType: jsii.Strings(detailTypes...),
			Detail:     &detail,
		},
	})
}

func newAlarm(stack awscdk.Stack, id string, topic awssns.ITopic, description string, metric awscloudwatch.Metric) awscloudwatch.Alarm {
	a := awscloudwatch.NewAlarm(stack, jsii.String(id), &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String(description),
		Metric:             metric,
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	if topic != nil {
		a.AddAlarmAction(awscloudwatchactions.NewSnsAction(topic))
	}
	return a
}

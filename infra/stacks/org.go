package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/sek-dev/sek/pkg/awsclient"
)

// Error types the auditor returns for a failed (account, region) item. Lambda reports a Go
// error's type name as errorType, which the map's retry rules match on.
const (
	ErrAccountUnreachable = "AccountUnreachableError" // the member role could not be assumed
	ErrScanIncomplete     = "ScanIncompleteError"     // some scope or publish failed
)

// Retry and timing of the organization run.
const (
	// A new account's role arrives by StackSet auto-deployment some minutes after the account
	// joins, so an unreachable account gets one late retry.
	unreachableRetryIntervalSeconds = 120
	incompleteRetryAttempts         = 2
	incompleteRetryIntervalSeconds  = 30
	throttleRetryAttempts           = 6
	runTimeoutHours                 = 12
	itemsPrefix                     = "items/"
	resultsPrefix                   = "results"
	memberTemplateLimit             = 51200             // bytes, CloudFormation's TemplateBody limit
	nagS1                           = "AwsSolutions-S1" // bucket without server access logs
)

// MemberRoleProps configure the member account role template.
type MemberRoleProps struct {
	awscdk.StackProps
	Org         OrgConfig
	ReadActions []string
	// AuditorAccount, when known at synthesis (CDK_DEFAULT_ACCOUNT), gives the parameters
	// defaults, so the stand-alone stack deploys into the management account without
	// --parameters. The StackSet passes every parameter explicitly either way.
	AuditorAccount string
	// AuditorPartition goes with AuditorAccount; default aws.
	AuditorPartition string
}

// MemberRoleStack is the template the StackSet deploys into every member account: the audit
// role, readable by the organization's auditor only.
type MemberRoleStack struct {
	awscdk.Stack
	Role awsiam.Role
}

// NewMemberRoleStack builds the member role template. It has no assets and no bootstrap check,
// because StackSets deploy it into accounts that were never bootstrapped.
func NewMemberRoleStack(scope constructs.Construct, id string, props MemberRoleProps) (*MemberRoleStack, error) {
	reads, err := validateReadActions(props.ReadActions)
	if err != nil {
		return nil, err
	}
	sp := props.StackProps
	sp.Synthesizer = awscdk.NewDefaultStackSynthesizer(&awscdk.DefaultStackSynthesizerProps{GenerateBootstrapVersionRule: jsii.Bool(false)})
	sp.AnalyticsReporting = jsii.Bool(false)
	if sp.Description == nil {
		sp.Description = jsii.String("Sek member role: read-only EKS audit and Security Hub import for this account, assumable by the organization's Sek auditor only")
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &sp)
	var auditorDefault any
	if props.AuditorAccount != "" {
		part := props.AuditorPartition
		if part == "" {
			part = "aws"
		}
		auditorDefault = fmt.Sprintf("arn:%s:iam::%s:role/%s", part, props.AuditorAccount, props.Org.AuditorRoleName)
	}
	auditor := awscdk.NewCfnParameter(stack, jsii.String("AuditorRoleArn"), &awscdk.CfnParameterProps{
		Type:           jsii.String("String"),
		Description:    jsii.String("ARN of the organization stack's auditor role, the only principal that may assume this role"),
		AllowedPattern: jsii.String(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$`),
		Default:        auditorDefault,
	})
	externalID := awscdk.NewCfnParameter(stack, jsii.String("ExternalId"), &awscdk.CfnParameterProps{
		Type:           jsii.String("String"),
		NoEcho:         jsii.Bool(true),
		MinLength:      jsii.Number(2),
		Description:    jsii.String("External id the auditor must present"),
		AllowedPattern: jsii.String(`^[\w+=,.@:/-]+$`),
		Default:        props.Org.ExternalID,
	})
	orgID := awscdk.NewCfnParameter(stack, jsii.String("OrganizationId"), &awscdk.CfnParameterProps{
		Type:           jsii.String("String"),
		Description:    jsii.String("The organization the auditor's account must belong to (aws:PrincipalOrgID)"),
		AllowedPattern: jsii.String(`^o-[a-z0-9]{10,32}$`),
		Default:        props.Org.OrganizationID,
	})
	principal := awsiam.NewPrincipalWithConditions(awsiam.NewArnPrincipal(auditor.ValueAsString()), &map[string]any{
		"StringEquals": map[string]any{"aws:PrincipalOrgID": orgID.ValueAsString()},
	})
	role := awsiam.NewRole(stack, jsii.String("AuditRole"), &awsiam.RoleProps{
		RoleName:           jsii.String(props.Org.RoleName),
		AssumedBy:          principal,
		ExternalIds:        jsii.Strings(*externalID.ValueAsString()),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
		Description:        jsii.String("Sek: read-only EKS audit of this account and import of its findings into its own Security Hub"),
	})
	addReadStatements(role, reads)
	for _, st := range securityHubStatements(stack) {
		role.AddToPolicy(st)
	}
	suppress(role, true, nagIAM5,
		"Read-only Describe/List/Get actions generated from the check registry: most have no resource-level permissions, and the audit must read every cluster in the account. No write action is granted on *.",
		"Resource::*")
	suppress(role, true, nagIAM5,
		"Security Hub import/reconcile is limited to this member account's own default product and hub; the region is * because each finding goes to its cluster's region.",
		"Resource::arn:<AWS::Partition>:securityhub:*:<AWS::AccountId>:product/<AWS::AccountId>/default",
		"Resource::arn:<AWS::Partition>:securityhub:*:<AWS::AccountId>:hub/default")
	return &MemberRoleStack{Stack: stack, Role: role}, nil
}

// MemberTemplateBody synthesizes the member role template on its own, for the StackSet's
// TemplateBody. It is the same construct code as the SekMemberRole stack in the app.
func MemberTemplateBody(props MemberRoleProps) (body string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synthesize the member role template: %v", r)
		}
	}()
	dir, err := os.MkdirTemp("", "sek-member-template-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(dir)})
	props.StackProps = awscdk.StackProps{}
	if _, err := NewMemberRoleStack(app, MemberRoleStackName, props); err != nil {
		return "", err
	}
	tpl := app.Synth(nil).GetStackByName(jsii.String(MemberRoleStackName)).Template()
	b, err := json.Marshal(tpl)
	if err != nil {
		return "", fmt.Errorf("encode the member role template: %w", err)
	}
	if len(b) > memberTemplateLimit {
		return "", fmt.Errorf("the member role template is %d bytes, over CloudFormation's %d-byte TemplateBody limit", len(b), memberTemplateLimit)
	}
	return string(b), nil
}

// OrgProps configure the organization stack.
type OrgProps struct {
	awscdk.StackProps
	// Config supplies the function code, memory, log level, regions, skips and alarm target.
	Config Config
	Org    OrgConfig
	// MemberTemplate is MemberTemplateBody's output.
	MemberTemplate string
}

// OrgStack runs Sek across an organization: a scheduled state machine lists the active
// accounts × regions into S3 and a Distributed Map runs the auditor once per item, with the
// item account's role; a service-managed StackSet puts that role into every member account.
type OrgStack struct {
	awscdk.Stack
	Function     awslambda.Function
	Role         awsiam.Role
	ItemsBucket  awss3.Bucket
	StateMachine awsstepfunctions.StateMachine
	Map          awsstepfunctions.DistributedMap
	StackSet     awscdk.CfnStackSet
	Schedule     awsevents.Rule
	Alarms       []awscloudwatch.Alarm
}

// NewOrgStack builds the organization stack, for the management or a delegated administrator
// account.
func NewOrgStack(scope constructs.Construct, id string, props OrgProps) (*OrgStack, error) {
	cfg, org := props.Config, props.Org
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := org.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.CheckLambdaDir(); err != nil {
		return nil, err
	}
	if props.MemberTemplate == "" {
		return nil, fmt.Errorf("organization stack: no member role template (MemberTemplateBody)")
	}
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("Sek organization audit: Step Functions Distributed Map over every account and region, member roles by StackSet")
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &sp)
	// Without this flag the CDK silently drops ResultWriterV2 from the map.
	stack.Node().SetContext(jsii.String("@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2"), true)
	s := &OrgStack{Stack: stack}

	s.ItemsBucket = awss3.NewBucket(stack, jsii.String("Items"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Expiration: awscdk.Duration_Days(jsii.Number(float64(org.ItemRetentionDays))),
		}},
	})
	suppress(s.ItemsBucket, false, nagS1,
		"Holds only each run's account × region item list and per-item result summaries, written and read by this stack's own roles and expired after a few days; CloudTrail records the writers.")

	logs := awslogs.NewLogGroup(stack, jsii.String("AuditorLogs"), &awslogs.LogGroupProps{
		Retention:     retentionDays[cfg.LogRetentionDays],
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	part := *awscdk.Aws_PARTITION()
	s.Role = awsiam.NewRole(stack, jsii.String("AuditorRole"), &awsiam.RoleProps{
		// Fixed so the member role template can trust it by ARN before this stack exists.
		RoleName:    jsii.String(org.AuditorRoleName),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Sek organization auditor: lists the organization and assumes the Sek member role in its accounts"),
	})
	s.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("AssumeMemberAuditRoles"),
		Actions:   jsii.Strings("sts:AssumeRole"),
		Resources: jsii.Strings(fmt.Sprintf("arn:%s:iam::*:role/%s", part, org.RoleName)),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:ResourceOrgID": org.OrganizationID},
		},
	}))
	s.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("ListOrganizationAndRegions"),
		Actions: jsii.Strings("organizations:ListAccounts", "organizations:ListAccountsForParent",
			"organizations:ListOrganizationalUnitsForParent", "organizations:ListTagsForResource", "ec2:DescribeRegions"),
		Resources: jsii.Strings("*"),
	}))
	s.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("WriteItemLists"),
		Actions:   jsii.Strings("s3:PutObject"),
		Resources: jsii.Strings(*s.ItemsBucket.ArnForObjects(jsii.String(itemsPrefix + "*"))),
	}))
	s.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("WriteOwnLogs"),
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: jsii.Strings(*logs.LogGroupArn()),
	}))
	suppressRegex(s.Role, true, nagIAM5,
		"sts:AssumeRole is limited to the Sek member role name in accounts of this organization (aws:ResourceOrgID); the account is * because members join and leave. Organizations List* and ec2:DescribeRegions have no resource-level permissions. Item lists are written under the items/ prefix of this stack's bucket.",
		"/^Resource::arn:<AWS::Partition>:iam::\\*:role\\/"+regexp.QuoteMeta(org.RoleName)+"$/",
		`/^Resource::\*$/`,
		`/^Resource::<Items[0-9A-F]+\.Arn>\/items\/\*$/`)

	env := map[string]*string{}
	for k, v := range orgLambdaEnvironment(cfg, org, *s.ItemsBucket.BucketName()) {
		env[k] = jsii.String(v)
	}
	s.Function = awslambda.NewFunction(stack, jsii.String("Auditor"), &awslambda.FunctionProps{
		FunctionName: jsii.String(org.FunctionName),
		Description:  jsii.String("Sek organization auditor: plans the account × region items and scans one item per invocation"),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(cfg.LambdaDir), nil),
		MemorySize:   jsii.Number(float64(cfg.MemoryMB)),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(float64(org.ItemTimeoutSeconds))),
		Environment:  &env,
		Role:         s.Role,
		LogGroup:     logs,
		// Step Functions invokes it synchronously and owns the retries.
		RetryAttempts: jsii.Number(0),
	})

	s.Map = newAuditMap(stack, s, org)
	sfnLogs := awslogs.NewLogGroup(stack, jsii.String("StateMachineLogs"), &awslogs.LogGroupProps{
		Retention:     retentionDays[cfg.LogRetentionDays],
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	plan := awsstepfunctionstasks.NewLambdaInvoke(stack, jsii.String("ListItems"), &awsstepfunctionstasks.LambdaInvokeProps{
		Comment:        jsii.String("List the organization's ACTIVE accounts × regions into S3"),
		LambdaFunction: s.Function,
		Payload: awsstepfunctions.TaskInput_FromObject(&map[string]any{
			"action":  "list-items",
			"runId.$": "$$.Execution.Name",
		}),
		ResultSelector: &map[string]any{
			"bucket.$": "$.Payload.bucket", "key.$": "$.Payload.key", "items.$": "$.Payload.items",
			"accounts.$": "$.Payload.accounts", "regions.$": "$.Payload.regions",
		},
		ResultPath:               jsii.String("$.list"),
		RetryOnServiceExceptions: jsii.Bool(true),
	})
	s.StateMachine = awsstepfunctions.NewStateMachine(stack, jsii.String("OrganizationAudit"), &awsstepfunctions.StateMachineProps{
		Comment:        jsii.String("Sek: audit every account and region of the organization"),
		DefinitionBody: awsstepfunctions.DefinitionBody_FromChainable(plan.Next(s.Map)),
		Timeout:        awscdk.Duration_Hours(jsii.Number(runTimeoutHours)),
		TracingEnabled: jsii.Bool(true),
		Logs: &awsstepfunctions.LogOptions{
			Destination:          sfnLogs,
			Level:                awsstepfunctions.LogLevel_ALL,
			IncludeExecutionData: jsii.Bool(false),
		},
	})
	suppressRegex(s.StateMachine, true, nagIAM5,
		"Granted by the CDK for the Distributed Map: reading the item list and writing results in this stack's bucket, starting, describing and stopping its own map runs and child executions, invoking its own auditor function (and its versions), and X-Ray (which has no resource-level permissions); every resource is this stack's own.",
		`/^Action::s3:(Abort|DeleteObject|GetBucket|GetObject|List)\*$/`,
		`/^Resource::arn:<AWS::Partition>:s3:::<Items[0-9A-F]+>\/\*$/`,
		`/^Resource::<Items[0-9A-F]+\.Arn>\/\*$/`,
		`/^Resource::<Auditor[0-9A-F]+\.Arn>:\*$/`,
		`/^Resource::arn:<AWS::Partition>:states:[^:]+:<AWS::AccountId>:(execution|mapRun|stateMachine):.*\*$/`,
		`/^Resource::\*$/`)

	s.Schedule = awsevents.NewRule(stack, jsii.String("Schedule"), &awsevents.RuleProps{
		Description: jsii.String("Sek: audit the whole organization"),
		Schedule:    awsevents.Schedule_Expression(jsii.String(org.Schedule)),
	})
	s.Schedule.AddTarget(awseventstargets.NewSfnStateMachine(s.StateMachine, &awseventstargets.SfnStateMachineProps{
		Input:         awsevents.RuleTargetInput_FromObject(map[string]any{"trigger": "schedule"}),
		RetryAttempts: jsii.Number(targetRetryAttempts),
		MaxEventAge:   awscdk.Duration_Hours(jsii.Number(targetMaxEventAge)),
	}))

	s.StackSet = newMemberStackSet(stack, s, org, props.MemberTemplate)

	topic := alarmTopic(stack, cfg.AlarmEmail, cfg.AlarmTopicArn)
	period := &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(alarmPeriodMinutes)), Statistic: jsii.String("Sum")}
	s.Alarms = append(s.Alarms,
		newAlarm(stack, "RunsFailed", topic, "A Sek organization run failed: more items failed than the tolerated percentage, or listing failed; see the state machine's executions", s.StateMachine.MetricFailed(period)),
		newAlarm(stack, "RunsTimedOut", topic, "A Sek organization run did not finish within its timeout", s.StateMachine.MetricTimedOut(period)),
	)

	awscdk.NewCfnOutput(stack, jsii.String("StateMachineArn"), &awscdk.CfnOutputProps{Value: s.StateMachine.StateMachineArn()})
	awscdk.NewCfnOutput(stack, jsii.String("ItemsBucketName"), &awscdk.CfnOutputProps{Value: s.ItemsBucket.BucketName()})
	awscdk.NewCfnOutput(stack, jsii.String("AuditorRoleArn"), &awscdk.CfnOutputProps{Value: s.Role.RoleArn()})
	return s, nil
}

// newAuditMap is the Distributed Map: one child execution per (account, region) item read from
// the S3 item list, each invoking the auditor with that account's role name.
func newAuditMap(stack awscdk.Stack, s *OrgStack, org OrgConfig) awsstepfunctions.DistributedMap {
	scan := awsstepfunctionstasks.NewLambdaInvoke(stack, jsii.String("ScanAccountRegion"), &awsstepfunctionstasks.LambdaInvokeProps{
		Comment:        jsii.String("Scan one account in one region with its member role and publish to its Security Hub"),
		LambdaFunction: s.Function,
		Payload:        awsstepfunctions.TaskInput_FromJsonPathAt(jsii.String("$")),
		ResultSelector: &map[string]any{
			"accountId.$": "$.Payload.accountId", "region.$": "$.Payload.region", "status.$": "$.Payload.status",
			"clusters.$": "$.Payload.clusters", "results.$": "$.Payload.results",
		},
		RetryOnServiceExceptions: jsii.Bool(true),
	})
	scan.AddRetry(&awsstepfunctions.RetryProps{
		Errors:         jsii.Strings("Lambda.TooManyRequestsException"),
		Interval:       awscdk.Duration_Seconds(jsii.Number(5)),
		MaxAttempts:    jsii.Number(throttleRetryAttempts),
		BackoffRate:    jsii.Number(2),
		JitterStrategy: awsstepfunctions.JitterType_FULL,
	})
	scan.AddRetry(&awsstepfunctions.RetryProps{
		Errors:      jsii.Strings(ErrAccountUnreachable),
		Interval:    awscdk.Duration_Seconds(jsii.Number(unreachableRetryIntervalSeconds)),
		MaxAttempts: jsii.Number(1),
	})
	scan.AddRetry(&awsstepfunctions.RetryProps{
		Errors:         jsii.Strings(ErrScanIncomplete),
		Interval:       awscdk.Duration_Seconds(jsii.Number(incompleteRetryIntervalSeconds)),
		MaxAttempts:    jsii.Number(incompleteRetryAttempts),
		BackoffRate:    jsii.Number(2),
		JitterStrategy: awsstepfunctions.JitterType_FULL,
	})
	m := awsstepfunctions.NewDistributedMap(stack, jsii.String("AuditAccounts"), &awsstepfunctions.DistributedMapProps{
		Comment: jsii.String("One child execution per (account, region)"),
		ItemReader: awsstepfunctions.NewS3JsonItemReader(&awsstepfunctions.S3FileItemReaderProps{
			Bucket: s.ItemsBucket,
			Key:    awsstepfunctions.JsonPath_StringAt(jsii.String("$.list.key")),
		}),
		ItemSelector: &map[string]any{
			"accountId.$": "$$.Map.Item.Value.accountId",
			"region.$":    "$$.Map.Item.Value.region",
			"roleName":    org.RoleName,
		},
		MaxConcurrency:             jsii.Number(float64(org.MaxConcurrency)),
		ToleratedFailurePercentage: jsii.Number(float64(org.ToleratedFailurePercentage)),
		MapExecutionType:           awsstepfunctions.StateMachineType_STANDARD,
		ResultWriterV2: awsstepfunctions.NewResultWriterV2(&awsstepfunctions.ResultWriterV2Props{
			Bucket: s.ItemsBucket,
			Prefix: jsii.String(resultsPrefix),
		}),
		ResultPath: jsii.String("$.results"),
		Label:      jsii.String("AuditAccounts"),
	})
	m.ItemProcessor(scan, &awsstepfunctions.ProcessorConfig{
		Mode:          awsstepfunctions.ProcessorMode_DISTRIBUTED,
		ExecutionType: awsstepfunctions.ProcessorType_STANDARD,
	})
	return m
}

// newMemberStackSet deploys the member role to every account of the target OUs, now and as
// accounts join (auto-deployment), in one region: the template holds only global IAM resources.
func newMemberStackSet(stack awscdk.Stack, s *OrgStack, org OrgConfig, template string) awscdk.CfnStackSet {
	region := org.StackSetRegion
	if region == "" {
		region = *stack.Region()
	}
	return awscdk.NewCfnStackSet(stack, jsii.String("MemberRoles"), &awscdk.CfnStackSetProps{
		StackSetName:    jsii.String(MemberRoleStackName),
		Description:     jsii.String("Sek member audit role, assumable by the organization's Sek auditor only"),
		PermissionModel: jsii.String("SERVICE_MANAGED"),
		CallAs:          jsii.String(org.CallAs),
		AutoDeployment: &awscdk.CfnStackSet_AutoDeploymentProperty{
			Enabled:                      jsii.Bool(true),
			RetainStacksOnAccountRemoval: jsii.Bool(false),
		},
		Capabilities:     jsii.Strings("CAPABILITY_NAMED_IAM"),
		ManagedExecution: map[string]any{"Active": true},
		OperationPreferences: &awscdk.CfnStackSet_OperationPreferencesProperty{
			FailureTolerancePercentage: jsii.Number(10),
			MaxConcurrentPercentage:    jsii.Number(25),
			RegionConcurrencyType:      jsii.String("PARALLEL"),
		},
		Parameters: &[]any{
			&awscdk.CfnStackSet_ParameterProperty{ParameterKey: jsii.String("AuditorRoleArn"), ParameterValue: s.Role.RoleArn()},
			&awscdk.CfnStackSet_ParameterProperty{ParameterKey: jsii.String("ExternalId"), ParameterValue: jsii.String(org.ExternalID)},
			&awscdk.CfnStackSet_ParameterProperty{ParameterKey: jsii.String("OrganizationId"), ParameterValue: jsii.String(org.OrganizationID)},
		},
		StackInstancesGroup: &[]any{&awscdk.CfnStackSet_StackInstancesProperty{
			DeploymentTargets: &awscdk.CfnStackSet_DeploymentTargetsProperty{OrganizationalUnitIds: jsii.Strings(org.DeployToOUs...)},
			Regions:           jsii.Strings(region),
		}},
		TemplateBody: jsii.String(template),
	})
}

// suppressRegex is suppress with cdk-nag's regex appliesTo, for findings whose resource names
// embed generated tokens (logical ids, Fn::Select of the state machine ARN).
func suppressRegex(c constructs.IConstruct, children bool, rule, reason string, patterns ...string) {
	a := make([]any, len(patterns))
	for i, p := range patterns {
		a[i] = &cdknag.RegexAppliesTo{Regex: jsii.String(p)}
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String(rule), Reason: jsii.String(reason), AppliesTo: &a,
	}}, jsii.Bool(children))
}

// orgLambdaEnvironment is the organization auditor's environment (pkg/config keys).
func orgLambdaEnvironment(cfg Config, org OrgConfig, bucket string) map[string]string {
	env := map[string]string{
		EnvLogLevel:        cfg.LogLevel,
		EnvPublish:         "true",
		"SEK_ORGANIZATION": "true",
		"SEK_ROLE_NAME":    org.RoleName,
		"SEK_EXTERNAL_ID":  org.ExternalID,
		"SEK_ITEMS_BUCKET": bucket,
	}
	if len(cfg.Regions) > 0 {
		env[EnvRegions] = strings.Join(cfg.Regions, ",")
	}
	if len(cfg.SkipChecks) > 0 {
		env[EnvSkip] = strings.Join(cfg.SkipChecks, ",")
	}
	if len(org.ScanOUs) > 0 {
		env["SEK_ORGANIZATIONAL_UNITS"] = strings.Join(org.ScanOUs, ",")
	}
	if len(org.AccountTags) > 0 {
		env["SEK_ACCOUNT_TAGS"] = strings.Join(org.AccountTags, ",")
	}
	return env
}

// BuildOrganization adds the organization stack and the stand-alone member role stack (for the
// management account itself, which service-managed StackSets never deploy to) to app.
func BuildOrganization(app awscdk.App, cfg Config, org OrgConfig, readActions []string) (*OrgStack, *MemberRoleStack, error) {
	member := MemberRoleProps{Org: org, ReadActions: readActions, AuditorAccount: os.Getenv("CDK_DEFAULT_ACCOUNT")}
	if cfg.HomeRegion != "" {
		member.AuditorPartition = awsclient.Partition(cfg.HomeRegion)
	}
	template, err := MemberTemplateBody(member)
	if err != nil {
		return nil, nil, err
	}
	var env *awscdk.Environment
	if cfg.HomeRegion != "" {
		env = &awscdk.Environment{Region: jsii.String(cfg.HomeRegion)}
		if member.AuditorAccount != "" {
			env.Account = jsii.String(member.AuditorAccount)
		}
	}
	o, err := NewOrgStack(app, OrgStackName, OrgProps{StackProps: awscdk.StackProps{Env: env}, Config: cfg, Org: org, MemberTemplate: template})
	if err != nil {
		return nil, nil, fmt.Errorf("organization stack: %w", err)
	}
	member.StackProps = awscdk.StackProps{Env: env}
	m, err := NewMemberRoleStack(app, MemberRoleStackName, member)
	if err != nil {
		return nil, nil, fmt.Errorf("member role stack: %w", err)
	}
	// IAM rejects a trust policy whose principal does not exist yet: the auditor role first.
	m.AddStackDependency(o.Stack, jsii.String("the member role trusts the organization auditor role"))
	return o, m, nil
}

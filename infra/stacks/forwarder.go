package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// ForwarderProps configure one region's forwarder.
type ForwarderProps struct {
	awscdk.StackProps
	// Region is where the forwarder is deployed; HomeRegion holds the auditor.
	Region     string
	HomeRegion string
	Config     Config
}

// ForwarderStack sends one region's EKS CloudTrail events to the home region's default event
// bus, where the auditor stack's rule (same pattern) picks them up. EventBridge keeps the
// original region in the event, so the auditor re-checks the cluster where it lives.
type ForwarderStack struct {
	awscdk.Stack
	Rule            awsevents.Rule
	DeadLetterQueue awssqs.Queue
	HomeBusArn      string
}

// NewForwarderStack builds the forwarder for props.Region.
func NewForwarderStack(scope constructs.Construct, id string, props ForwarderProps) (*ForwarderStack, error) {
	if !regionRE.MatchString(props.Region) || !regionRE.MatchString(props.HomeRegion) {
		return nil, fmt.Errorf("forwarder %s: region %q and home region %q must both be region names", id, props.Region, props.HomeRegion)
	}
	if props.Region == props.HomeRegion {
		return nil, fmt.Errorf("forwarder %s: region %s is the home region; the auditor stack's own rule already covers it", id, props.Region)
	}
	sp := props.StackProps
	if sp.Env == nil {
		sp.Env = &awscdk.Environment{}
	}
	sp.Env.Region = jsii.String(props.Region)
	if sp.Description == nil {
		sp.Description = jsii.String(fmt.Sprintf("Sek: forwards EKS CloudTrail events from %s to the auditor in %s", props.Region, props.HomeRegion))
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &sp)
	f := &ForwarderStack{Stack: stack}

	// Built from the stack's own account token: the home bus is in the same account.
	f.HomeBusArn = *stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("events"),
		Region:       jsii.String(props.HomeRegion),
		Resource:     jsii.String("event-bus"),
		ResourceName: jsii.String("default"),
		ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})
	bus := awsevents.EventBus_FromEventBusArn(stack, jsii.String("HomeBus"), jsii.String(f.HomeBusArn))

	f.DeadLetterQueue = newDeadLetterQueue(stack, "DeadLetterQueue")
	f.Rule = newEKSRule(stack, "ForwardEksChanges", fmt.Sprintf("Sek: forward EKS changes to the auditor in %s", props.HomeRegion))
	f.Rule.AddTarget(awseventstargets.NewEventBus(bus, &awseventstargets.EventBusProps{
		DeadLetterQueue: f.DeadLetterQueue,
	}))

	// An alarm can only notify a topic in its own region, so an existing topic elsewhere is
	// not usable here; an e-mail address gets a topic in this region.
	topicArn := props.Config.AlarmTopicArn
	if topicRegion(topicArn) != props.Region {
		topicArn = ""
	}
	topic := alarmTopic(stack, props.Config.AlarmEmail, topicArn)
	newAlarm(stack, "DeadLetters", topic,
		fmt.Sprintf("Sek: EKS events from %s could not be forwarded to %s", props.Region, props.HomeRegion),
		f.DeadLetterQueue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period:    awscdk.Duration_Minutes(jsii.Number(alarmPeriodMinutes)),
			Statistic: jsii.String("Maximum"),
		}))
	return f, nil
}

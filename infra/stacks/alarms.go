package stacks

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"
)

// alarmTopic returns where alarms notify, or nil when the user asked for no notifications.
// An existing topic wins; otherwise an e-mail address gets a topic of its own. A given e-mail
// is subscribed either way.
func alarmTopic(stack awscdk.Stack, email, topicArn string) awssns.ITopic {
	var topic awssns.ITopic
	switch {
	case topicArn != "":
		topic = awssns.Topic_FromTopicArn(stack, jsii.String("AlarmTopic"), jsii.String(topicArn))
	case email != "":
		topic = newAlarmTopic(stack)
	default:
		return nil
	}
	if email != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	}
	return topic
}

// newAlarmTopic creates an encrypted topic CloudWatch can publish to. It needs a customer key:
// CloudWatch cannot use the AWS-managed aws/sns key, whose policy cannot be changed.
func newAlarmTopic(stack awscdk.Stack) awssns.Topic {
	cloudwatch := awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)
	key := awskms.NewKey(stack, jsii.String("AlarmTopicKey"), &awskms.KeyProps{
		Description:       jsii.String("Sek: encrypts the alarm notification topic"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
		PendingWindow:     awscdk.Duration_Days(jsii.Number(7)),
	})
	// In a key policy "*" means this key.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsEncryptNotifications"),
		Principals: &[]awsiam.IPrincipal{cloudwatch},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
	}), nil)
	topic := awssns.NewTopic(stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("Sek alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	// EnforceSSL gives the topic an explicit policy, which replaces SNS's default one, so the
	// CloudWatch service needs its own grant, limited to alarms in this account.
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{cloudwatch},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  jsii.Strings(*topic.TopicArn()),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()},
		},
	}))
	return topic
}

// topicRegion is the region field of an SNS topic ARN ("" if it has none).
func topicRegion(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) < 6 {
		return ""
	}
	return parts[3]
}

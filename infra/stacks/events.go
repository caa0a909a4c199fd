package stacks

import "github.com/sek-dev/sek/pkg/auditor"

// EKSEventNames are the EKS API calls, as CloudTrail names them, after which the auditor
// re-checks the cluster concerned: exactly the Lambda's own list, so the rule and the handler
// cannot disagree.
func EKSEventNames() []string { return auditor.EventNames() }

// CloudTrail event envelope values for EKS management events delivered by EventBridge.
const (
	EKSEventSource   = "aws.eks"
	CloudTrailDetail = "AWS API Call via CloudTrail"
	EKSAPIEventSrc   = "eks.amazonaws.com"
)

// eksEventPattern is the EventBridge pattern shared by the home rule and the forwarders, so a
// forwarded event always matches the home rule that receives it. A call that failed
// (detail.errorCode present) changed nothing, so it is not delivered: the auditor would only
// acknowledge it.
func eksEventPattern() (sources, detailTypes []string, detail map[string]any) {
	return []string{EKSEventSource}, []string{CloudTrailDetail}, map[string]any{
		"eventSource": []string{EKSAPIEventSrc},
		"eventName":   EKSEventNames(),
		"errorCode":   []any{map[string]any{"exists": false}},
	}
}

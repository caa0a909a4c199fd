package stacks

// EKSEventNames are the EKS API calls, as CloudTrail names them, after which the auditor
// re-checks the cluster concerned. All are mutating calls, so the rule needs no opt-in to
// read-only management events. The Lambda decides what to do with each; this list only decides
// which events reach it, and a test compares it with the Lambda's own list.
func EKSEventNames() []string {
	return []string{
		"CreateCluster", "DeleteCluster", "UpdateClusterConfig", "UpdateClusterVersion",
		"AssociateEncryptionConfig",
		"CreateNodegroup", "UpdateNodegroupConfig", "UpdateNodegroupVersion", "DeleteNodegroup",
		"CreateAddon", "UpdateAddon", "DeleteAddon",
		"CreateAccessEntry", "UpdateAccessEntry", "DeleteAccessEntry",
		"AssociateAccessPolicy", "DisassociateAccessPolicy",
		"CreatePodIdentityAssociation", "UpdatePodIdentityAssociation", "DeletePodIdentityAssociation",
		"AssociateIdentityProviderConfig", "DisassociateIdentityProviderConfig",
		"CreateFargateProfile", "DeleteFargateProfile",
		"TagResource", "UntagResource",
	}
}

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

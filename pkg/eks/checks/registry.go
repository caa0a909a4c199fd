// Package checks holds the EKS checks: each is a pure function over an inventory snapshot, with
// its metadata (id, severity, references, remediation, IAM actions) as data beside its logic.
// Adding a check means one file plus its test, and one line in ClusterRules or RegionRules.
package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// ClusterRule is a check over one cluster's snapshot.
type ClusterRule = audit.Rule[*inventory.Cluster]

// ClusterRules returns a fresh list of every cluster check, in catalog order.
func ClusterRules() []ClusterRule {
	return []ClusterRule{
		// Control plane.
		EndpointPublicEnabled(),
		EndpointPublicOpen(),
		EndpointPrivateDisabled(),
		VersionSupported(),
		VersionLatest(),
		VersionOldestSupported(),
		PlatformVersionLatest(),
		UpgradePolicy(),
		SecretsEncryption(),
		SecretsKMSKeyHealth(),
		AuditLogging(),
		ControlPlaneLoggingAll(),
		AuditLogRetention(),
		DeletionProtection(),
		ClusterTagged(),
		IdPConfigTagged(),
		ClusterSGRestricted(),
		ClusterMultipleSGs(),
		NoDefaultVPC(),
		NetworkExposure(),
		NetworkPolicy(),
		VPCFlowLogs(),
		LBTLS(),
		ECRPrivateEndpoint(),
		// Identity.
		AuthModeAPI(),
		BootstrapAdmin(),
		AccessEntryClusterAdmin(),
		AccessEntryStale(),
		OIDCProvider(),
		IRSATrustScoped(),
		PodIdentityRoles(),
		VPCCNIOwnRole(),
		ClusterRoleLeastPriv(),
		NodeRoleLeastPriv(),
		// Data plane as seen from AWS.
		NodegroupSSHOpen(),
		NodeIMDS(),
		NodePrivateSubnets(),
		NodeSGOpen(),
		NodeEBSEncrypted(),
		NodegroupVersionSkew(),
		HealthIssues(),
		AddonCurrent(),
	}
}

// RegionRule is a check over one region's account services.
type RegionRule = audit.Rule[*inventory.RegionServices]

// RegionRules returns a fresh list of every account-services check, in catalog order.
func RegionRules() []RegionRule {
	return []RegionRule{
		GuardDutyAuditLogs(),
		GuardDutyRuntime(),
		InspectorEnabled(),
		ECRScanOnPush(),
		ECRTagImmutable(),
		ECRLifecycle(),
		ECRUserAccessMin(),
	}
}

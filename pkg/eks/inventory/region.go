package inventory

// RegionServices is the snapshot of the account-level services that protect every EKS cluster
// in one region. It is evaluated once per region, not once per cluster.
type RegionServices struct {
	AccountID string
	Region    string
	Partition string
	// ARN names the region's account services in results that have no better resource.
	ARN string
	// Clusters are the clusters discovered in the region.
	Clusters []string

	// GuardDuty is nil when the region has no detector.
	GuardDuty *GuardDuty
	// Inspector is Amazon Inspector's account status; nil when unknown.
	Inspector *Inspector
	// ScanningConfig is the ECR registry scanning configuration; nil when unknown.
	ScanningConfig *RegistryScanning
	Repositories   []Repository
	// ClusterAddons lists each cluster's add-on names; only collected when a check needs it
	// (GuardDuty runtime monitoring without automated agent management).
	ClusterAddons      map[string][]string
	ClusterAddonErrors map[string]error

	Errors Errors
}

// GuardDuty is a region's GuardDuty detector.
type GuardDuty struct {
	DetectorID string
	ARN        string
	Status     string
	// Features maps a feature name (EKS_AUDIT_LOGS, RUNTIME_MONITORING, EKS_RUNTIME_MONITORING)
	// to its status and additional configuration.
	Features map[string]GuardDutyFeature
	// LegacyKubernetesAuditLogs is DataSources.Kubernetes.AuditLogs.Status, for old detectors.
	LegacyKubernetesAuditLogs string
}

// GuardDutyFeature is one detector feature.
type GuardDutyFeature struct {
	Status     string
	Additional map[string]string // e.g. EKS_ADDON_MANAGEMENT → ENABLED
}

// Inspector is Amazon Inspector's per-resource-type scan status for the account.
type Inspector struct {
	Status string // account state: ENABLED, DISABLED, ...
	EC2    string
	ECR    string
}

// RegistryScanning is the ECR registry scanning configuration.
type RegistryScanning struct {
	ScanType string // BASIC or ENHANCED
	Rules    []ScanningRule
}

// ScanningRule is one registry scanning rule.
type ScanningRule struct {
	Frequency string // SCAN_ON_PUSH, CONTINUOUS_SCAN, MANUAL
	Filters   []string
}

// Repository is one ECR repository.
type Repository struct {
	Name          string
	ARN           string
	ScanOnPush    bool
	TagMutability string
	// HasLifecyclePolicy is meaningful only without Errors["ecr:GetLifecyclePolicy"].
	HasLifecyclePolicy bool
	// Policy is the repository policy, nil when none is set.
	Policy *Policy
	Errors Errors
}

// Package inventory defines the snapshot of one EKS cluster (or one region's account services)
// that checks evaluate. It is plain data: SDK pointer soup is flattened once by the collector, and
// checks never see SDK types or make calls.
package inventory

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Target kinds used by the EKS provider.
const (
	KindCluster = "cluster"
	KindRegion  = "region"
)

// Resource types as Security Hub names them.
const (
	TypeCluster = "AwsEksCluster"
	TypeOther   = "Other"
)

// Cluster is everything the checks know about one cluster.
type Cluster struct {
	Name      string
	ARN       string
	AccountID string
	Region    string
	Partition string

	Status          string
	Version         string
	PlatformVersion string
	RoleARN         string
	CreatedAt       time.Time
	Tags            map[string]string

	Endpoint Endpoint
	// Logging maps each control-plane log type to whether it is enabled.
	Logging map[string]bool

	// Encryption lists the cluster's encryptionConfig entries.
	Encryption []EncryptionConfig
	// SecretsKey is the KMS key protecting secrets, when one is configured and could be read.
	SecretsKey *KMSKey

	UpgradeSupportType string // STANDARD or EXTENDED
	// DeletionProtection is nil when the API did not return the field.
	DeletionProtection *bool

	// Versions is the region's Kubernetes version catalog, shared by all clusters in a region.
	Versions *VersionCatalog

	// AuthenticationMode is API, API_AND_CONFIG_MAP or CONFIG_MAP ("" when not returned).
	AuthenticationMode string
	// BootstrapAdmin is accessConfig.bootstrapClusterCreatorAdminPermissions; nil when absent.
	BootstrapAdmin *bool
	OIDCIssuer     string
	// OIDCProviderARN is the IAM OIDC provider registered for the issuer, "" when none exists.
	OIDCProviderARN string
	AutoMode        AutoMode
	Health          []HealthIssue

	NodeGroups      []NodeGroup
	FargateProfiles []FargateProfile
	Addons          []Addon
	AccessEntries   []AccessEntry
	PodIdentities   []PodIdentityAssociation
	IdentityConfigs []IdentityProviderConfig
	// Instances are the running EC2 instances tagged with the cluster's name.
	Instances []Instance

	// Roles holds IAM facts for the cluster role, node roles, add-on and Pod Identity roles,
	// keyed by role ARN.
	Roles map[string]*IAMRole
	// IRSARoles are the account's roles whose trust policy names the cluster's OIDC provider.
	IRSARoles []*IAMRole
	// Principals says whether each access-entry principal still exists, keyed by ARN.
	Principals map[string]Principal

	// Network is the VPC's EC2 state; nil when DescribeCluster named no VPC.
	Network *Network
	// LogGroup is the control-plane log group, nil when it does not exist.
	LogGroup *LogGroup
	// EBSEncryptionByDefault is the region's account setting; nil when unknown.
	EBSEncryptionByDefault *bool
	// LoadBalancers are the ELBv2 load balancers the cluster's controllers created, found by
	// their cluster tags.
	LoadBalancers []LoadBalancer

	// Errors records facts that could not be collected, keyed by the IAM action that failed.
	// Checks that need such a fact report ERROR naming the action.
	Errors Errors
}

// Endpoint is the cluster's API server reachability.
type Endpoint struct {
	PublicAccess           bool
	PrivateAccess          bool
	PublicAccessCIDRs      []string
	VPCID                  string
	SubnetIDs              []string
	SecurityGroupIDs       []string
	ClusterSecurityGroupID string
}

// EncryptionConfig is one encryptionConfig entry.
type EncryptionConfig struct {
	Resources []string
	KeyARN    string
}

// KMSKey is the state of a KMS key as DescribeKey and GetKeyRotationStatus report it.
type KMSKey struct {
	ARN             string
	State           string // Enabled, Disabled, PendingDeletion, ...
	Manager         string // CUSTOMER or AWS
	Spec            string
	RotationEnabled bool
	// RotationKnown is false when GetKeyRotationStatus could not be read (see Errors).
	RotationKnown      bool
	RotationPeriodDays int
}

// VersionCatalog says which Kubernetes versions EKS supports, and until when.
type VersionCatalog struct {
	// Source is "api" (eks:DescribeClusterVersions) or "embedded" (the dated fallback table).
	Source string
	// AsOf dates the embedded table; zero for the API.
	AsOf     time.Time
	Versions map[string]VersionInfo
	// FallbackReason explains why the embedded table was used.
	FallbackReason string
}

// VersionInfo is one row of the catalog.
type VersionInfo struct {
	Version                string
	Status                 string // STANDARD_SUPPORT, EXTENDED_SUPPORT, UNSUPPORTED
	EndOfStandardSupport   time.Time
	EndOfExtendedSupport   time.Time
	DefaultPlatformVersion string
	DefaultVersion         bool
}

// Latest returns the newest version in the catalog, or "".
func (v *VersionCatalog) Latest() string {
	if v == nil {
		return ""
	}
	var all []string
	for k := range v.Versions {
		all = append(all, k)
	}
	sort.Slice(all, func(i, j int) bool { return CompareVersions(all[i], all[j]) < 0 })
	if len(all) == 0 {
		return ""
	}
	return all[len(all)-1]
}

// CompareVersions compares "major.minor" strings numerically.
func CompareVersions(a, b string) int {
	pa, pb := splitVersion(a), splitVersion(b)
	for i := 0; i < 2; i++ {
		if pa[i] != pb[i] {
			if pa[i] < pb[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

func splitVersion(v string) [2]int {
	var out [2]int
	parts := strings.SplitN(v, ".", 3)
	for i := 0; i < len(parts) && i < 2; i++ {
		_, _ = fmt.Sscanf(parts[i], "%d", &out[i]) // a part that is not a number counts as 0
	}
	return out
}

// Errors maps an IAM action (for example "kms:DescribeKey") to the error collecting it.
type Errors map[string]error

// FactEndpoint keys Errors when eks:DescribeCluster answered without resourcesVpcConfig: the
// endpoint settings are unknown, and unknown must never read as "public access disabled".
const FactEndpoint = "eks:DescribeCluster resourcesVpcConfig"

// Get returns the error recorded for action, or nil.
func (e Errors) Get(action string) error {
	if e == nil {
		return nil
	}
	return e[action]
}

// First returns the first recorded error among actions, naming the action.
func (e Errors) First(actions ...string) error {
	for _, a := range actions {
		if err := e.Get(a); err != nil {
			return &FactError{Action: a, Err: err}
		}
	}
	return nil
}

// ErrAccessDenied marks a fact that IAM did not allow reading.
var ErrAccessDenied = errors.New("access denied")

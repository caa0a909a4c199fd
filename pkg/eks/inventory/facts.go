package inventory

// Resource types of the sub-resources Sek reports on. Those without an ASFF type are Sek's own
// names; the ASFF encoder maps them to "Other" and keeps the name in Details.Other.
const (
	TypeNodegroup       = "AwsEksNodegroup"
	TypeFargateProfile  = "AwsEksFargateProfile"
	TypeAddon           = "AwsEksAddon"
	TypeAccessEntry     = "AwsEksAccessEntry"
	TypePodIdentity     = "AwsEksPodIdentityAssociation"
	TypeIdentityConfig  = "AwsEksIdentityProviderConfig"
	TypeIAMRole         = "AwsIamRole"
	TypeECRRepository   = "AwsEcrRepository"
	TypeGuardDuty       = "AwsGuardDutyDetector"
	TypeAccount         = "AwsAccount"
	TypeVPC             = "AwsEc2Vpc"
	TypeSecurityGroup   = "AwsEc2SecurityGroup"
	TypeLoadBalancer    = "AwsElbv2LoadBalancer"
	RegionServicesName  = "@account-services"
	RegionServicesLabel = "region-services"
)

// HealthIssue is one entry of a cluster, node group, Fargate profile or add-on health report.
type HealthIssue struct {
	Code        string
	Message     string
	ResourceIDs []string
}

// NodeGroup is one managed node group with its launch template resolved.
type NodeGroup struct {
	Name           string
	ARN            string
	Status         string
	Version        string
	ReleaseVersion string
	AMIType        string
	CapacityType   string
	NodeRoleARN    string
	Subnets        []string
	// RemoteAccess is nil when the node group has no SSH configuration.
	RemoteAccess *RemoteAccess
	// LaunchTemplate is nil when EKS generated the launch template.
	LaunchTemplate *LaunchTemplate
	Health         []HealthIssue
	// RecommendedRelease is the AMI release EKS currently recommends for this version and AMI
	// type (from the public SSM parameter), "" when unknown.
	RecommendedRelease string
	Errors             Errors
}

// RemoteAccess is a node group's SSH configuration.
type RemoteAccess struct {
	SSHKey               string
	SourceSecurityGroups []string
	// SecurityGroupID is the group EKS created to open port 22.
	SecurityGroupID string
}

// LaunchTemplate is the custom launch template of a node group, with the version in use.
type LaunchTemplate struct {
	ID      string
	Name    string
	Version string
	// Data is nil when the version could not be read (see the node group's Errors).
	Data *LaunchTemplateData
}

// LaunchTemplateData holds the launch-template fields the checks judge.
type LaunchTemplateData struct {
	// Metadata is nil when the template leaves instance metadata options to the AMI default.
	Metadata         *MetadataOptions
	SecurityGroupIDs []string
	BlockDevices     []BlockDevice
	// AssociatePublicIP is set when a network interface asks for a public address.
	AssociatePublicIP bool
}

// MetadataOptions are an instance's IMDS settings.
type MetadataOptions struct {
	HTTPTokens   string // required or optional
	HopLimit     int    // 0 when unset
	HTTPEndpoint string // enabled or disabled
}

// BlockDevice is one EBS mapping of a launch template.
type BlockDevice struct {
	DeviceName string
	// Encrypted is nil when the mapping does not say, so the account default applies.
	Encrypted *bool
	KMSKeyID  string
}

// Instance is a running EC2 instance tagged as a node of the cluster.
type Instance struct {
	ID               string
	NodeGroup        string
	PublicIP         string
	SubnetID         string
	SecurityGroupIDs []string
	Metadata         MetadataOptions
}

// FargateProfile is one Fargate profile.
type FargateProfile struct {
	Name    string
	ARN     string
	Status  string
	RoleARN string
	Subnets []string
	Health  []HealthIssue
}

// Addon is one managed add-on.
type Addon struct {
	Name                  string
	ARN                   string
	Version               string
	Status                string
	ConfigurationValues   string
	ServiceAccountRoleARN string
	PodIdentityARNs       []string
	Health                []HealthIssue
	// Compat is the add-on's version catalog for the cluster's Kubernetes version; nil with
	// Errors["eks:DescribeAddonVersions"] set when it could not be read.
	Compat *AddonCompat
	Errors Errors
}

// AddonCompat is what eks:DescribeAddonVersions says about an add-on on one Kubernetes version.
type AddonCompat struct {
	DefaultVersion string
	// Versions lists every version compatible with the cluster's Kubernetes version.
	Versions []string
}

// AccessEntry is one access entry with its associated access policies.
type AccessEntry struct {
	PrincipalARN     string
	ARN              string
	Type             string
	Username         string
	KubernetesGroups []string
	Policies         []AccessPolicy
	Errors           Errors
}

// AccessPolicy is an access policy associated with an access entry.
type AccessPolicy struct {
	PolicyARN  string
	ScopeType  string // cluster or namespace
	Namespaces []string
}

// PodIdentityAssociation maps a service account to an IAM role.
type PodIdentityAssociation struct {
	ID             string
	ARN            string
	Namespace      string
	ServiceAccount string
	RoleARN        string
	TargetRoleARN  string
	Errors         Errors
}

// IdentityProviderConfig is an OIDC identity provider configuration of the cluster.
type IdentityProviderConfig struct {
	Name      string
	Type      string
	ARN       string
	IssuerURL string
	Status    string
	Tags      map[string]string
	Errors    Errors
}

// Principal is what IAM says about an access-entry principal.
type Principal struct {
	ARN string
	// Exists is meaningful only when Err is nil and CrossAccount is false.
	Exists       bool
	CrossAccount bool
	Err          error
}

// IAMRole is the part of an IAM role that the least-privilege checks judge.
type IAMRole struct {
	ARN    string
	Name   string
	Exists bool
	Trust  *Policy
	// Attached lists managed policies; customer-managed ones carry their default version.
	Attached []AttachedPolicy
	Inline   []InlinePolicy
	// PoliciesKnown is false when only existence and trust were collected.
	PoliciesKnown bool
	Errors        Errors
}

// AttachedPolicy is a managed policy attached to a role.
type AttachedPolicy struct {
	ARN      string
	Name     string
	Document *Policy // nil for AWS-managed policies, judged by name
}

// InlinePolicy is an inline role policy.
type InlinePolicy struct {
	Name     string
	Document *Policy
}

// Network is what EC2 says about the cluster's VPC. It is shared by every cluster in the VPC and
// must be treated as read-only.
type Network struct {
	VPC            *VPC
	SecurityGroups map[string]*SecurityGroup
	Subnets        map[string]*Subnet
	FlowLogs       []FlowLog
	Endpoints      []VPCEndpoint
}

// VPC is a VPC's identity.
type VPC struct {
	ID        string
	IsDefault bool
	CIDR      string
}

// SecurityGroup is a security group with its ingress rules flattened to one source each.
type SecurityGroup struct {
	ID      string
	Name    string
	VPCID   string
	Ingress []IngressRule
}

// IngressRule is one (protocol, port range, source) of a security group. FromPort and ToPort
// are -1 when the rule covers every port.
type IngressRule struct {
	Protocol string // "-1" for all traffic
	FromPort int
	ToPort   int
	// CIDR is set for address sources; SourceGroup for security-group sources.
	CIDR        string
	SourceGroup string
	PrefixList  string
}

// Subnet is a subnet with what makes it public.
type Subnet struct {
	ID                  string
	VPCID               string
	MapPublicIPOnLaunch bool
	// RouteTableID is the table that applies (the explicit association, else the main table).
	RouteTableID string
	// InternetRoute names the target of a 0.0.0.0/0 or ::/0 route to an internet gateway, or "".
	InternetRoute string
}

// Public reports whether instances in the subnet can be reached from the internet.
func (s *Subnet) Public() bool { return s.InternetRoute != "" || s.MapPublicIPOnLaunch }

// FlowLog is a VPC flow log.
type FlowLog struct {
	ID     string
	Status string
	Target string
}

// VPCEndpoint is a VPC endpoint.
type VPCEndpoint struct {
	ID          string
	ServiceName string
	Type        string
	State       string
}

// LogGroup is the control-plane log group.
type LogGroup struct {
	Name          string
	RetentionDays int // 0 = never expire
	KMSKeyID      string
}

// AutoMode is the EKS Auto Mode compute configuration.
type AutoMode struct {
	Enabled     bool
	NodeRoleARN string
	NodePools   []string
}

// LoadBalancer is an Elastic Load Balancing v2 load balancer tagged as created for the cluster.
type LoadBalancer struct {
	ARN    string
	Name   string
	Type   string // application, network, gateway
	Scheme string // internet-facing or internal
	// Listeners is nil with Errors set when they could not be read.
	Listeners []Listener
	Errors    Errors
}

// Listener is one listener of a load balancer.
type Listener struct {
	Port     int
	Protocol string // HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP, GENEVE
	// RedirectsToHTTPS is true when every default action redirects to HTTPS.
	RedirectsToHTTPS bool
}

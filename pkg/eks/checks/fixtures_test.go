package checks

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// testNow pins "today" for every check test, so version-support verdicts do not drift.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

const (
	acct       = "111122223333"
	clusterARN = "arn:aws:eks:us-east-1:111122223333:cluster/prod"
	issuer     = "https://oidc.eks.us-east-1.amazonaws.com/id/ABC123"
	issuerHost = "oidc.eks.us-east-1.amazonaws.com/id/ABC123"
	ngARN      = "arn:aws:eks:us-east-1:111122223333:nodegroup/prod/workers/uuid-1"
	cniRole    = "arn:aws:iam::111122223333:role/prod-vpc-cni"
	appRole    = "arn:aws:iam::111122223333:role/prod-app"
	nodeRole   = "arn:aws:iam::111122223333:role/prod-node"
	clRole     = "arn:aws:iam::111122223333:role/prod-cluster"
	adminRole  = "arn:aws:iam::111122223333:role/platform-admin"
)

var errDenied = errors.New("operation error: api error AccessDeniedException: not authorized")

func policy(t testing.TB, doc string) *inventory.Policy {
	p, err := inventory.ParsePolicy(doc)
	if err != nil {
		panic(fmt.Sprintf("bad test policy %s: %v", doc, err))
	}
	return p
}

func managed(names ...string) []inventory.AttachedPolicy {
	out := make([]inventory.AttachedPolicy, len(names))
	for i, n := range names {
		out[i] = inventory.AttachedPolicy{ARN: "arn:aws:iam::aws:policy/" + n, Name: n}
	}
	return out
}

func role(arn, trust string, attached ...string) *inventory.IAMRole {
	return &inventory.IAMRole{ARN: arn, Name: arn[strings.LastIndex(arn, "/")+1:], Exists: true, Trust: policy(nil, trust),
		Attached: managed(attached...), PoliciesKnown: true, Errors: inventory.Errors{}}
}

func ptr[T any](v T) *T { return &v }

// hardened returns a fresh snapshot of a cluster that passes every cluster check.
func hardened() *inventory.Cluster {
	eksTrust := `{"Statement":[{"Effect":"Allow","Principal":{"Service":"eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`
	ec2Trust := `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	podTrust := `{"Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}`
	irsaTrust := `{"Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/` + issuerHost + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + issuerHost + `:sub":"system:serviceaccount:kube-system:aws-node","` + issuerHost + `:aud":"sts.amazonaws.com"}}}]}`
	app := role(appRole, podTrust)
	app.Inline = []inventory.InlinePolicy{{Name: "read-bucket", Document: policy(nil, `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::prod-data/*"}]}`)}}
	cni := role(cniRole, irsaTrust, "AmazonEKS_CNI_Policy")
	return &inventory.Cluster{
		Name: "prod", ARN: clusterARN, AccountID: acct, Region: "us-east-1", Partition: "aws",
		Status: "ACTIVE", Version: "1.35", PlatformVersion: "eks.7", RoleARN: clRole,
		Tags: map[string]string{"owner": "platform", "aws:cloudformation:stack-name": "prod"},
		Endpoint: inventory.Endpoint{PrivateAccess: true, VPCID: "vpc-1", SubnetIDs: []string{"subnet-a", "subnet-b"},
			SecurityGroupIDs: []string{"sg-extra"}, ClusterSecurityGroupID: "sg-cluster"},
		Logging:            map[string]bool{"api": true, "audit": true, "authenticator": true, "controllerManager": true, "scheduler": true},
		Encryption:         []inventory.EncryptionConfig{{Resources: []string{"secrets"}, KeyARN: "arn:aws:kms:us-east-1:111122223333:key/k1"}},
		SecretsKey:         &inventory.KMSKey{ARN: "arn:aws:kms:us-east-1:111122223333:key/k1", State: "Enabled", Manager: "CUSTOMER", RotationEnabled: true, RotationKnown: true},
		UpgradeSupportType: "STANDARD",
		DeletionProtection: ptr(true),
		Versions: &inventory.VersionCatalog{Source: "api", Versions: map[string]inventory.VersionInfo{
			"1.35": {Version: "1.35", Status: "STANDARD_SUPPORT", EndOfStandardSupport: date("2027-03-27"), EndOfExtendedSupport: date("2028-03-27"), DefaultPlatformVersion: "eks.7", DefaultVersion: true},
			"1.34": {Version: "1.34", Status: "STANDARD_SUPPORT", EndOfStandardSupport: date("2026-12-02"), EndOfExtendedSupport: date("2027-12-02"), DefaultPlatformVersion: "eks.9"},
			"1.33": {Version: "1.33", Status: "EXTENDED_SUPPORT", EndOfStandardSupport: date("2026-07-29"), EndOfExtendedSupport: date("2027-07-29"), DefaultPlatformVersion: "eks.12"},
			"1.32": {Version: "1.32", Status: "EXTENDED_SUPPORT", EndOfStandardSupport: date("2026-03-23"), EndOfExtendedSupport: date("2027-03-23"), DefaultPlatformVersion: "eks.15"},
			"1.31": {Version: "1.31", Status: "UNSUPPORTED", EndOfStandardSupport: date("2025-11-26"), EndOfExtendedSupport: date("2026-11-26")},
		}},
		AuthenticationMode: "API",
		BootstrapAdmin:     ptr(false),
		OIDCIssuer:         issuer,
		OIDCProviderARN:    "arn:aws:iam::111122223333:oidc-provider/" + issuerHost,
		NodeGroups: []inventory.NodeGroup{{
			Name: "workers", ARN: ngARN, Status: "ACTIVE", Version: "1.35", ReleaseVersion: "1.35.0-20261101", AMIType: "AL2023_x86_64_STANDARD",
			NodeRoleARN: nodeRole, Subnets: []string{"subnet-a", "subnet-b"}, RecommendedRelease: "1.35.0-20261101",
			LaunchTemplate: &inventory.LaunchTemplate{ID: "lt-1", Name: "workers", Version: "3", Data: &inventory.LaunchTemplateData{
				Metadata:         &inventory.MetadataOptions{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "enabled"},
				SecurityGroupIDs: []string{"sg-node"},
				BlockDevices:     []inventory.BlockDevice{{DeviceName: "/dev/xvda", Encrypted: ptr(true), KMSKeyID: "k1"}},
			}},
			Errors: inventory.Errors{},
		}},
		FargateProfiles: []inventory.FargateProfile{{Name: "batch", ARN: "arn:aws:eks:us-east-1:111122223333:fargateprofile/prod/batch/uuid-2", Status: "ACTIVE", Subnets: []string{"subnet-b"}}},
		Addons: []inventory.Addon{
			{Name: "vpc-cni", ARN: "arn:aws:eks:us-east-1:111122223333:addon/prod/vpc-cni/uuid-3", Version: "v1.20.1-eksbuild.1", Status: "ACTIVE",
				ConfigurationValues: `{"enableNetworkPolicy":"true"}`, ServiceAccountRoleARN: cniRole,
				Compat: &inventory.AddonCompat{DefaultVersion: "v1.20.1-eksbuild.1", Versions: []string{"v1.20.1-eksbuild.1", "v1.19.5-eksbuild.2"}}, Errors: inventory.Errors{}},
			{Name: "coredns", ARN: "arn:aws:eks:us-east-1:111122223333:addon/prod/coredns/uuid-4", Version: "v1.12.2-eksbuild.4", Status: "ACTIVE",
				Compat: &inventory.AddonCompat{DefaultVersion: "v1.12.1-eksbuild.2", Versions: []string{"v1.12.1-eksbuild.2", "v1.12.2-eksbuild.4"}}, Errors: inventory.Errors{}},
		},
		AccessEntries: []inventory.AccessEntry{{
			PrincipalARN: adminRole, ARN: "arn:aws:eks:us-east-1:111122223333:access-entry/prod/role/111122223333/platform-admin/uuid-5", Type: "STANDARD",
			Policies: []inventory.AccessPolicy{{PolicyARN: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", ScopeType: "cluster"}},
			Errors:   inventory.Errors{},
		}},
		Principals: map[string]inventory.Principal{adminRole: {ARN: adminRole, Exists: true}},
		PodIdentities: []inventory.PodIdentityAssociation{{ID: "a-1", ARN: "arn:aws:eks:us-east-1:111122223333:podidentityassociation/prod/a-1",
			Namespace: "app", ServiceAccount: "api", RoleARN: appRole, Errors: inventory.Errors{}}},
		IdentityConfigs: []inventory.IdentityProviderConfig{{Name: "corp-sso", Type: "oidc", ARN: "arn:aws:eks:us-east-1:111122223333:identityproviderconfig/prod/oidc/corp-sso/uuid-6",
			IssuerURL: "https://sso.example.com", Status: "ACTIVE", Tags: map[string]string{"owner": "identity"}, Errors: inventory.Errors{}}},
		Roles: map[string]*inventory.IAMRole{
			clRole:   role(clRole, eksTrust, "AmazonEKSClusterPolicy"),
			nodeRole: role(nodeRole, ec2Trust, "AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly", "AmazonSSMManagedInstanceCore"),
			cniRole:  cni,
			appRole:  app,
		},
		IRSARoles: []*inventory.IAMRole{cni},
		Network: &inventory.Network{
			VPC: &inventory.VPC{ID: "vpc-1", CIDR: "10.0.0.0/16"},
			SecurityGroups: map[string]*inventory.SecurityGroup{
				"sg-cluster": {ID: "sg-cluster", VPCID: "vpc-1", Ingress: []inventory.IngressRule{{Protocol: "-1", FromPort: -1, ToPort: -1, SourceGroup: "sg-cluster"}}},
				"sg-extra":   {ID: "sg-extra", VPCID: "vpc-1", Ingress: []inventory.IngressRule{{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDR: "10.0.0.0/8"}}},
				"sg-node":    {ID: "sg-node", VPCID: "vpc-1", Ingress: []inventory.IngressRule{{Protocol: "-1", FromPort: -1, ToPort: -1, SourceGroup: "sg-cluster"}}},
			},
			Subnets: map[string]*inventory.Subnet{
				"subnet-a": {ID: "subnet-a", VPCID: "vpc-1", RouteTableID: "rtb-private"},
				"subnet-b": {ID: "subnet-b", VPCID: "vpc-1", RouteTableID: "rtb-private"},
				"subnet-p": {ID: "subnet-p", VPCID: "vpc-1", RouteTableID: "rtb-public", InternetRoute: "igw-1"},
			},
			FlowLogs: []inventory.FlowLog{{ID: "fl-1", Status: "ACTIVE"}},
			Endpoints: []inventory.VPCEndpoint{
				{ID: "vpce-1", ServiceName: "com.amazonaws.us-east-1.ecr.api", State: "available"},
				{ID: "vpce-2", ServiceName: "com.amazonaws.us-east-1.ecr.dkr", State: "available"},
				{ID: "vpce-3", ServiceName: "com.amazonaws.us-east-1.s3", State: "available"},
				{ID: "vpce-4", ServiceName: "com.amazonaws.us-east-1.sts", State: "available"},
			},
		},
		LogGroup:               &inventory.LogGroup{Name: "/aws/eks/prod/cluster", RetentionDays: 365, KMSKeyID: "arn:aws:kms:us-east-1:111122223333:key/logs"},
		EBSEncryptionByDefault: ptr(true),
		LoadBalancers: []inventory.LoadBalancer{
			{ARN: "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/k8s-web/1", Name: "k8s-web", Type: "application", Scheme: "internet-facing",
				Listeners: []inventory.Listener{{Port: 443, Protocol: "HTTPS"}, {Port: 80, Protocol: "HTTP", RedirectsToHTTPS: true}}, Errors: inventory.Errors{}},
			{ARN: "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/net/k8s-grpc/2", Name: "k8s-grpc", Type: "network", Scheme: "internal", Errors: inventory.Errors{}},
		},
		Errors: inventory.Errors{},
	}
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// with returns the hardened cluster changed by fn.
func with(fn func(c *inventory.Cluster)) *inventory.Cluster {
	c := hardened()
	fn(c)
	return c
}

// hardenedRegion returns a region whose account services pass every region check.
func hardenedRegion() *inventory.RegionServices {
	return &inventory.RegionServices{
		AccountID: acct, Region: "us-east-1", Partition: "aws", ARN: "arn:aws:eks:us-east-1:111122223333:region-services",
		Clusters: []string{"prod"},
		GuardDuty: &inventory.GuardDuty{DetectorID: "d1", ARN: "arn:aws:guardduty:us-east-1:111122223333:detector/d1", Status: "ENABLED",
			Features: map[string]inventory.GuardDutyFeature{
				"EKS_AUDIT_LOGS":     {Status: "ENABLED"},
				"RUNTIME_MONITORING": {Status: "ENABLED", Additional: map[string]string{"EKS_ADDON_MANAGEMENT": "ENABLED"}},
			}},
		Inspector:      &inventory.Inspector{Status: "ENABLED", EC2: "ENABLED", ECR: "ENABLED"},
		ScanningConfig: &inventory.RegistryScanning{ScanType: "BASIC"},
		Repositories: []inventory.Repository{{Name: "app", ARN: "arn:aws:ecr:us-east-1:111122223333:repository/app", ScanOnPush: true, TagMutability: "IMMUTABLE",
			HasLifecyclePolicy: true, Policy: policy(nil, `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}`),
			Errors: inventory.Errors{}}},
		Errors: inventory.Errors{},
	}
}

func withRegion(fn func(s *inventory.RegionServices)) *inventory.RegionServices {
	s := hardenedRegion()
	fn(s)
	return s
}

// want is one expected finding; zero fields are not compared.
type want struct {
	status audit.Status
	sev    audit.Severity
	msg    string // substring of the message
	on     string // substring of the resource ARN
}

type clusterCase struct {
	name   string
	c      *inventory.Cluster
	params map[string]any
	want   []want
}

type regionCase struct {
	name   string
	s      *inventory.RegionServices
	params map[string]any
	want   []want
}

var (
	coveredMu sync.Mutex
	covered   = map[string]map[audit.Status]bool{}
)

func findRule[S any](t *testing.T, rules []audit.Rule[S], id string) []audit.Rule[S] {
	t.Helper()
	for _, r := range rules {
		if r.ID == id {
			return []audit.Rule[S]{r}
		}
	}
	t.Fatalf("no check %s in the registry", id)
	return nil
}

func runClusterCases(t *testing.T, id string, cases []clusterCase) {
	t.Helper()
	rules := findRule(t, ClusterRules(), id)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			target := audit.Target{Kind: inventory.KindCluster, Name: tc.c.Name, ARN: tc.c.ARN, ResourceType: inventory.TypeCluster, AccountID: acct, Region: "us-east-1", Cluster: tc.c.Name}
			got := audit.Bind(rules, tc.c, target).Evaluate(audit.EvalOptions{Now: testNow, Params: map[string]map[string]any{id: tc.params}})
			compare(t, id, got, tc.want)
		})
	}
}

func runRegionCases(t *testing.T, id string, cases []regionCase) {
	t.Helper()
	rules := findRule(t, RegionRules(), id)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			target := audit.Target{Kind: inventory.KindRegion, Name: inventory.RegionServicesName, ARN: tc.s.ARN, ResourceType: inventory.TypeAccount, AccountID: acct, Region: "us-east-1"}
			got := audit.Bind(rules, tc.s, target).Evaluate(audit.EvalOptions{Now: testNow, Params: map[string]map[string]any{id: tc.params}})
			compare(t, id, got, tc.want)
		})
	}
}

func compare(t *testing.T, id string, got []audit.Result, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d results, want %d:\n%s", len(got), len(wants), dump(got))
	}
	seen := map[string]bool{}
	for i, w := range wants {
		g := got[i]
		if g.Status != w.status {
			t.Errorf("result %d: status %s, want %s: %s", i, g.Status, w.status, g.Message)
		}
		if w.sev != audit.SeverityUnset && g.Severity != w.sev {
			t.Errorf("result %d: severity %s, want %s: %s", i, g.Severity, w.sev, g.Message)
		}
		if !strings.Contains(g.Message, w.msg) {
			t.Errorf("result %d: message %q does not contain %q", i, g.Message, w.msg)
		}
		if !strings.Contains(g.ResourceARN, w.on) {
			t.Errorf("result %d: resource %q does not contain %q", i, g.ResourceARN, w.on)
		}
		if g.Message == "" || g.ResourceARN == "" || g.ResourceType == "" {
			t.Errorf("result %d: empty message, resource or type: %+v", i, g)
		}
		if seen[g.ResourceARN] {
			t.Errorf("result %d: a second result for resource %s; a check gives one result per resource", i, g.ResourceARN)
		}
		seen[g.ResourceARN] = true
		if g.Status == audit.Error && !strings.Contains(g.Message, ":") && !strings.Contains(g.Message, "(") {
			t.Errorf("result %d: ERROR message does not say why: %q", i, g.Message)
		}
	}
	if !t.Failed() {
		coveredMu.Lock()
		if covered[id] == nil {
			covered[id] = map[audit.Status]bool{}
		}
		for _, g := range got {
			covered[id][g.Status] = true
		}
		coveredMu.Unlock()
	}
}

func dump(rs []audit.Result) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "  %s %s %s: %s\n", r.Status, r.Severity, r.ResourceARN, r.Message)
	}
	return b.String()
}

// Checks whose logic has no NOT_APPLICABLE or ERROR outcome, with the reason.
var (
	noNotApplicable = map[string]string{
		"EKS_ENDPOINT_PUBLIC_ENABLED": "every cluster has an endpoint", "EKS_ENDPOINT_PUBLIC_OPEN": "a disabled endpoint passes",
		"EKS_ENDPOINT_PRIVATE_DISABLED": "every cluster has an endpoint", "EKS_VERSION_SUPPORTED": "every cluster has a version",
		"EKS_VERSION_LATEST": "every cluster has a version", "EKS_VERSION_OLDEST_SUPPORTED": "every cluster has a version",
		"EKS_PLATFORM_VERSION_LATEST": "every cluster has a platform version", "EKS_UPGRADE_POLICY": "every cluster has an upgrade policy",
		"EKS_SECRETS_ENCRYPTION": "every cluster can encrypt secrets", "EKS_AUDIT_LOGGING": "every cluster can log",
		"EKS_CONTROL_PLANE_LOGGING_ALL": "every cluster can log", "EKS_DELETION_PROTECTION": "every cluster can be protected",
		"EKS_CLUSTER_TAGGED": "every cluster can be tagged", "EKS_CLUSTER_SG_RESTRICTED": "every cluster has a security group",
		"EKS_CLUSTER_MULTIPLE_SGS": "every cluster has a security group list", "EKS_NO_DEFAULT_VPC": "every cluster has a VPC",
		"EKS_NETWORK_EXPOSURE": "every cluster has subnets", "EKS_VPC_FLOW_LOGS": "every cluster has a VPC",
		"ECR_PRIVATE_ENDPOINT": "every cluster has a VPC", "EKS_AUTH_MODE_API": "every cluster has an authentication mode",
		"EKS_BOOTSTRAP_ADMIN": "every cluster has a creator", "EKS_OIDC_PROVIDER": "every cluster has an issuer",
		"EKS_CLUSTER_ROLE_LEAST_PRIV": "every cluster has a role", "EKS_HEALTH_ISSUES": "every cluster reports health",
		"EKS_GUARDDUTY_AUDIT_LOGS": "every region can run GuardDuty", "EKS_GUARDDUTY_RUNTIME": "every region can run GuardDuty",
		"EKS_INSPECTOR_ENABLED": "every region can run Inspector",
	}
	noError = map[string]string{
		"EKS_ENDPOINT_PUBLIC_ENABLED": "DescribeCluster only", "EKS_ENDPOINT_PRIVATE_DISABLED": "DescribeCluster only",
		"EKS_SECRETS_ENCRYPTION": "DescribeCluster only", "EKS_AUDIT_LOGGING": "DescribeCluster only",
		"EKS_CONTROL_PLANE_LOGGING_ALL": "DescribeCluster only", "EKS_CLUSTER_TAGGED": "DescribeCluster only",
		"EKS_CLUSTER_MULTIPLE_SGS": "DescribeCluster only",
	}
)

// TestMain enforces, after a full run, that every check's table tests produced PASS and FAIL
// and, where the check can give them, NOT_APPLICABLE and ERROR.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if f := flag.Lookup("test.run"); code == 0 && (f == nil || f.Value.String() == "") {
		var gaps []string
		all := append(audit.Meta(ClusterRules()), audit.Meta(RegionRules())...)
		for _, c := range all {
			need := []audit.Status{audit.Pass, audit.Fail}
			if _, ok := noNotApplicable[c.ID]; !ok {
				need = append(need, audit.NotApplicable)
			}
			if _, ok := noError[c.ID]; !ok {
				need = append(need, audit.Error)
			}
			for _, s := range need {
				if !covered[c.ID][s] {
					gaps = append(gaps, c.ID+" "+string(s))
				}
			}
		}
		if len(gaps) > 0 {
			sort.Strings(gaps)
			fmt.Fprintf(os.Stderr, "check table tests do not cover:\n  %s\n", strings.Join(gaps, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

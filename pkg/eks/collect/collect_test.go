package collect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// fakeAWS answers every call the collector makes with a small, consistent estate and counts the
// calls, so tests can prove what is called, how often, and in which order.
type fakeAWS struct {
	mu    sync.Mutex
	calls map[string]int
	// describeGate, when set, is waited on by DescribeCluster before it answers.
	describeGate func(ctx context.Context) error
	fail         map[string]error
}

func newFake() *fakeAWS { return &fakeAWS{calls: map[string]int{}, fail: map[string]error{}} }

func (f *fakeAWS) hit(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[call]++
	return f.fail[call]
}

func (f *fakeAWS) count(call string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[call]
}

func (f *fakeAWS) waitFor(ctx context.Context, calls ...string) error {
	for {
		all := true
		for _, c := range calls {
			if f.count(c) == 0 {
				all = false
			}
		}
		if all {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// EKS
func (f *fakeAWS) ListClusters(context.Context, *eks.ListClustersInput, ...func(*eks.Options)) (*eks.ListClustersOutput, error) {
	return &eks.ListClustersOutput{Clusters: []string{"a", "b"}}, f.hit("eks:ListClusters")
}
func (f *fakeAWS) DescribeCluster(ctx context.Context, in *eks.DescribeClusterInput, _ ...func(*eks.Options)) (*eks.DescribeClusterOutput, error) {
	if err := f.hit("eks:DescribeCluster"); err != nil {
		return nil, err
	}
	if f.describeGate != nil {
		if err := f.describeGate(ctx); err != nil {
			return nil, err
		}
	}
	name := aws.ToString(in.Name)
	if name == "gone" {
		return nil, &ekstypes.ResourceNotFoundException{Message: aws.String("No cluster found")}
	}
	return &eks.DescribeClusterOutput{Cluster: &ekstypes.Cluster{Name: in.Name, Arn: aws.String("arn:aws:eks:us-east-1:111122223333:cluster/" + name),
		Version: aws.String("1.35"), RoleArn: aws.String("arn:aws:iam::111122223333:role/cluster"),
		Identity:           &ekstypes.Identity{Oidc: &ekstypes.OIDC{Issuer: aws.String("https://oidc.eks.us-east-1.amazonaws.com/id/X")}},
		ResourcesVpcConfig: &ekstypes.VpcConfigResponse{VpcId: aws.String("vpc-1"), SubnetIds: []string{"subnet-1"}, ClusterSecurityGroupId: aws.String("sg-1")}}}, nil
}
func (f *fakeAWS) DescribeClusterVersions(context.Context, *eks.DescribeClusterVersionsInput, ...func(*eks.Options)) (*eks.DescribeClusterVersionsOutput, error) {
	return &eks.DescribeClusterVersionsOutput{ClusterVersions: []ekstypes.ClusterVersionInformation{{ClusterVersion: aws.String("1.35"), VersionStatus: "STANDARD_SUPPORT"}}},
		f.hit("eks:DescribeClusterVersions")
}
func (f *fakeAWS) ListNodegroups(context.Context, *eks.ListNodegroupsInput, ...func(*eks.Options)) (*eks.ListNodegroupsOutput, error) {
	return &eks.ListNodegroupsOutput{Nodegroups: []string{"ng"}}, f.hit("eks:ListNodegroups")
}
func (f *fakeAWS) DescribeNodegroup(_ context.Context, in *eks.DescribeNodegroupInput, _ ...func(*eks.Options)) (*eks.DescribeNodegroupOutput, error) {
	return &eks.DescribeNodegroupOutput{Nodegroup: &ekstypes.Nodegroup{NodegroupName: in.NodegroupName, NodegroupArn: aws.String("arn:ng"), Version: aws.String("1.35"),
		AmiType: "AL2023_x86_64_STANDARD", NodeRole: aws.String("arn:aws:iam::111122223333:role/node"),
		LaunchTemplate: &ekstypes.LaunchTemplateSpecification{Id: aws.String("lt-1"), Version: aws.String("1")}}}, f.hit("eks:DescribeNodegroup")
}
func (f *fakeAWS) ListFargateProfiles(context.Context, *eks.ListFargateProfilesInput, ...func(*eks.Options)) (*eks.ListFargateProfilesOutput, error) {
	return &eks.ListFargateProfilesOutput{}, f.hit("eks:ListFargateProfiles")
}
func (f *fakeAWS) DescribeFargateProfile(context.Context, *eks.DescribeFargateProfileInput, ...func(*eks.Options)) (*eks.DescribeFargateProfileOutput, error) {
	return nil, f.hit("eks:DescribeFargateProfile")
}
func (f *fakeAWS) ListAddons(context.Context, *eks.ListAddonsInput, ...func(*eks.Options)) (*eks.ListAddonsOutput, error) {
	if err := f.hit("eks:ListAddons"); err != nil {
		return nil, err
	}
	return &eks.ListAddonsOutput{Addons: []string{"vpc-cni"}}, nil
}
func (f *fakeAWS) DescribeAddon(_ context.Context, in *eks.DescribeAddonInput, _ ...func(*eks.Options)) (*eks.DescribeAddonOutput, error) {
	return &eks.DescribeAddonOutput{Addon: &ekstypes.Addon{AddonName: in.AddonName, AddonArn: aws.String("arn:addon"), AddonVersion: aws.String("v1")}}, f.hit("eks:DescribeAddon")
}
func (f *fakeAWS) DescribeAddonVersions(context.Context, *eks.DescribeAddonVersionsInput, ...func(*eks.Options)) (*eks.DescribeAddonVersionsOutput, error) {
	return &eks.DescribeAddonVersionsOutput{}, f.hit("eks:DescribeAddonVersions")
}
func (f *fakeAWS) ListAccessEntries(context.Context, *eks.ListAccessEntriesInput, ...func(*eks.Options)) (*eks.ListAccessEntriesOutput, error) {
	return &eks.ListAccessEntriesOutput{AccessEntries: []string{"arn:aws:iam::111122223333:role/cluster"}}, f.hit("eks:ListAccessEntries")
}
func (f *fakeAWS) DescribeAccessEntry(_ context.Context, in *eks.DescribeAccessEntryInput, _ ...func(*eks.Options)) (*eks.DescribeAccessEntryOutput, error) {
	return &eks.DescribeAccessEntryOutput{AccessEntry: &ekstypes.AccessEntry{PrincipalArn: in.PrincipalArn, AccessEntryArn: aws.String("arn:entry")}}, f.hit("eks:DescribeAccessEntry")
}
func (f *fakeAWS) ListAssociatedAccessPolicies(context.Context, *eks.ListAssociatedAccessPoliciesInput, ...func(*eks.Options)) (*eks.ListAssociatedAccessPoliciesOutput, error) {
	return &eks.ListAssociatedAccessPoliciesOutput{}, f.hit("eks:ListAssociatedAccessPolicies")
}
func (f *fakeAWS) ListPodIdentityAssociations(context.Context, *eks.ListPodIdentityAssociationsInput, ...func(*eks.Options)) (*eks.ListPodIdentityAssociationsOutput, error) {
	return &eks.ListPodIdentityAssociationsOutput{}, f.hit("eks:ListPodIdentityAssociations")
}
func (f *fakeAWS) DescribePodIdentityAssociation(context.Context, *eks.DescribePodIdentityAssociationInput, ...func(*eks.Options)) (*eks.DescribePodIdentityAssociationOutput, error) {
	return nil, f.hit("eks:DescribePodIdentityAssociation")
}
func (f *fakeAWS) ListIdentityProviderConfigs(context.Context, *eks.ListIdentityProviderConfigsInput, ...func(*eks.Options)) (*eks.ListIdentityProviderConfigsOutput, error) {
	return &eks.ListIdentityProviderConfigsOutput{}, f.hit("eks:ListIdentityProviderConfigs")
}
func (f *fakeAWS) DescribeIdentityProviderConfig(context.Context, *eks.DescribeIdentityProviderConfigInput, ...func(*eks.Options)) (*eks.DescribeIdentityProviderConfigOutput, error) {
	return nil, f.hit("eks:DescribeIdentityProviderConfig")
}

// KMS
func (f *fakeAWS) DescribeKey(context.Context, *kms.DescribeKeyInput, ...func(*kms.Options)) (*kms.DescribeKeyOutput, error) {
	return nil, f.hit("kms:DescribeKey")
}
func (f *fakeAWS) GetKeyRotationStatus(context.Context, *kms.GetKeyRotationStatusInput, ...func(*kms.Options)) (*kms.GetKeyRotationStatusOutput, error) {
	return nil, f.hit("kms:GetKeyRotationStatus")
}

// EC2
func (f *fakeAWS) DescribeVpcs(context.Context, *ec2.DescribeVpcsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error) {
	return &ec2.DescribeVpcsOutput{Vpcs: []ec2types.Vpc{{VpcId: aws.String("vpc-1")}}}, f.hit("ec2:DescribeVpcs")
}
func (f *fakeAWS) DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	return &ec2.DescribeSecurityGroupsOutput{SecurityGroups: []ec2types.SecurityGroup{{GroupId: aws.String("sg-1"), VpcId: aws.String("vpc-1")}}}, f.hit("ec2:DescribeSecurityGroups")
}
func (f *fakeAWS) DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	return &ec2.DescribeSubnetsOutput{Subnets: []ec2types.Subnet{{SubnetId: aws.String("subnet-1"), VpcId: aws.String("vpc-1")}}}, f.hit("ec2:DescribeSubnets")
}
func (f *fakeAWS) DescribeRouteTables(context.Context, *ec2.DescribeRouteTablesInput, ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	return &ec2.DescribeRouteTablesOutput{RouteTables: []ec2types.RouteTable{{RouteTableId: aws.String("rtb-1"),
		Associations: []ec2types.RouteTableAssociation{{Main: aws.Bool(true)}},
		Routes:       []ec2types.Route{{DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String("igw-1")}}}}}, f.hit("ec2:DescribeRouteTables")
}
func (f *fakeAWS) DescribeFlowLogs(context.Context, *ec2.DescribeFlowLogsInput, ...func(*ec2.Options)) (*ec2.DescribeFlowLogsOutput, error) {
	return &ec2.DescribeFlowLogsOutput{}, f.hit("ec2:DescribeFlowLogs")
}
func (f *fakeAWS) DescribeVpcEndpoints(context.Context, *ec2.DescribeVpcEndpointsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error) {
	return &ec2.DescribeVpcEndpointsOutput{}, f.hit("ec2:DescribeVpcEndpoints")
}
func (f *fakeAWS) DescribeLaunchTemplateVersions(context.Context, *ec2.DescribeLaunchTemplateVersionsInput, ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
	return &ec2.DescribeLaunchTemplateVersionsOutput{LaunchTemplateVersions: []ec2types.LaunchTemplateVersion{{LaunchTemplateData: &ec2types.ResponseLaunchTemplateData{
		MetadataOptions: &ec2types.LaunchTemplateInstanceMetadataOptions{HttpTokens: "required", HttpPutResponseHopLimit: aws.Int32(1)}}}}}, f.hit("ec2:DescribeLaunchTemplateVersions")
}
func (f *fakeAWS) GetEbsEncryptionByDefault(context.Context, *ec2.GetEbsEncryptionByDefaultInput, ...func(*ec2.Options)) (*ec2.GetEbsEncryptionByDefaultOutput, error) {
	return &ec2.GetEbsEncryptionByDefaultOutput{EbsEncryptionByDefault: aws.Bool(true)}, f.hit("ec2:GetEbsEncryptionByDefault")
}
func (f *fakeAWS) DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	return &ec2.DescribeInstancesOutput{}, f.hit("ec2:DescribeInstances")
}

// IAM
func (f *fakeAWS) GetRole(_ context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	if err := f.hit("iam:GetRole " + aws.ToString(in.RoleName)); err != nil {
		return nil, err
	}
	return &iam.GetRoleOutput{Role: &iamtypes.Role{RoleName: in.RoleName, AssumeRolePolicyDocument: aws.String(`{"Statement":[]}`)}}, nil
}
func (f *fakeAWS) GetUser(context.Context, *iam.GetUserInput, ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	return &iam.GetUserOutput{}, f.hit("iam:GetUser")
}
func (f *fakeAWS) ListRoles(context.Context, *iam.ListRolesInput, ...func(*iam.Options)) (*iam.ListRolesOutput, error) {
	return &iam.ListRolesOutput{}, f.hit("iam:ListRoles")
}
func (f *fakeAWS) ListAttachedRolePolicies(_ context.Context, in *iam.ListAttachedRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	return &iam.ListAttachedRolePoliciesOutput{}, f.hit("iam:ListAttachedRolePolicies " + aws.ToString(in.RoleName))
}
func (f *fakeAWS) ListRolePolicies(context.Context, *iam.ListRolePoliciesInput, ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	return &iam.ListRolePoliciesOutput{}, f.hit("iam:ListRolePolicies")
}
func (f *fakeAWS) GetRolePolicy(context.Context, *iam.GetRolePolicyInput, ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	return nil, f.hit("iam:GetRolePolicy")
}
func (f *fakeAWS) GetPolicy(context.Context, *iam.GetPolicyInput, ...func(*iam.Options)) (*iam.GetPolicyOutput, error) {
	return nil, f.hit("iam:GetPolicy")
}
func (f *fakeAWS) GetPolicyVersion(context.Context, *iam.GetPolicyVersionInput, ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error) {
	return nil, f.hit("iam:GetPolicyVersion")
}
func (f *fakeAWS) ListOpenIDConnectProviders(context.Context, *iam.ListOpenIDConnectProvidersInput, ...func(*iam.Options)) (*iam.ListOpenIDConnectProvidersOutput, error) {
	return &iam.ListOpenIDConnectProvidersOutput{}, f.hit("iam:ListOpenIDConnectProviders")
}

// Logs, GuardDuty, Inspector, ECR, SSM, ELB
func (f *fakeAWS) DescribeLogGroups(context.Context, *cloudwatchlogs.DescribeLogGroupsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
	return &cloudwatchlogs.DescribeLogGroupsOutput{}, f.hit("logs:DescribeLogGroups")
}
func (f *fakeAWS) ListDetectors(context.Context, *guardduty.ListDetectorsInput, ...func(*guardduty.Options)) (*guardduty.ListDetectorsOutput, error) {
	return &guardduty.ListDetectorsOutput{}, f.hit("guardduty:ListDetectors")
}
func (f *fakeAWS) GetDetector(context.Context, *guardduty.GetDetectorInput, ...func(*guardduty.Options)) (*guardduty.GetDetectorOutput, error) {
	return nil, f.hit("guardduty:GetDetector")
}
func (f *fakeAWS) BatchGetAccountStatus(context.Context, *inspector2.BatchGetAccountStatusInput, ...func(*inspector2.Options)) (*inspector2.BatchGetAccountStatusOutput, error) {
	return &inspector2.BatchGetAccountStatusOutput{}, f.hit("inspector2:BatchGetAccountStatus")
}
func (f *fakeAWS) DescribeRepositories(context.Context, *ecr.DescribeRepositoriesInput, ...func(*ecr.Options)) (*ecr.DescribeRepositoriesOutput, error) {
	return &ecr.DescribeRepositoriesOutput{}, f.hit("ecr:DescribeRepositories")
}
func (f *fakeAWS) GetRegistryScanningConfiguration(context.Context, *ecr.GetRegistryScanningConfigurationInput, ...func(*ecr.Options)) (*ecr.GetRegistryScanningConfigurationOutput, error) {
	return &ecr.GetRegistryScanningConfigurationOutput{}, f.hit("ecr:GetRegistryScanningConfiguration")
}
func (f *fakeAWS) GetLifecyclePolicy(context.Context, *ecr.GetLifecyclePolicyInput, ...func(*ecr.Options)) (*ecr.GetLifecyclePolicyOutput, error) {
	return nil, f.hit("ecr:GetLifecyclePolicy")
}
func (f *fakeAWS) GetRepositoryPolicy(context.Context, *ecr.GetRepositoryPolicyInput, ...func(*ecr.Options)) (*ecr.GetRepositoryPolicyOutput, error) {
	return nil, f.hit("ecr:GetRepositoryPolicy")
}
func (f *fakeAWS) GetParameter(context.Context, *ssm.GetParameterInput, ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	if err := f.hit("ssm:GetParameter"); err != nil {
		return nil, err
	}
	return nil, &ssmtypes.ParameterNotFound{}
}
func (f *fakeAWS) DescribeLoadBalancers(context.Context, *elbv2.DescribeLoadBalancersInput, ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error) {
	return &elbv2.DescribeLoadBalancersOutput{}, f.hit("elasticloadbalancing:DescribeLoadBalancers")
}
func (f *fakeAWS) DescribeTags(context.Context, *elbv2.DescribeTagsInput, ...func(*elbv2.Options)) (*elbv2.DescribeTagsOutput, error) {
	return &elbv2.DescribeTagsOutput{}, f.hit("elasticloadbalancing:DescribeTags")
}
func (f *fakeAWS) DescribeListeners(context.Context, *elbv2.DescribeListenersInput, ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error) {
	return &elbv2.DescribeListenersOutput{}, f.hit("elasticloadbalancing:DescribeListeners")
}

func region(f *fakeAWS, iamCache *IAMCache) *Region {
	return &Region{Name: "us-east-1", AccountID: "111122223333", Partition: "aws", IAM: iamCache, Base: context.Background(),
		Clients: Clients{EKS: f, KMS: f, EC2: f, IAM: f, Logs: f, GuardDuty: f, Inspector: f, ECR: f, SSM: f, ELB: f}}
}

func TestCallsNotNeedingDescribeClusterStartBeforeItReturns(t *testing.T) {
	f := newFake()
	// DescribeCluster answers only once the list calls that need just the cluster name have been
	// made; a collector that waited for DescribeCluster first would time out here.
	f.describeGate = func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		return f.waitFor(ctx, "eks:ListNodegroups", "eks:ListAddons", "eks:ListAccessEntries", "eks:ListPodIdentityAssociations",
			"eks:ListIdentityProviderConfigs", "eks:ListFargateProfiles", "logs:DescribeLogGroups", "ec2:DescribeInstances",
			"eks:DescribeClusterVersions", "iam:ListRoles", "iam:ListOpenIDConnectProviders", "elasticloadbalancing:DescribeLoadBalancers")
	}
	c, err := region(f, nil).Cluster(context.Background(), "a")
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	if len(c.NodeGroups) != 1 || c.NodeGroups[0].LaunchTemplate.Data == nil || c.Network == nil || c.Roles["arn:aws:iam::111122223333:role/cluster"] == nil {
		t.Fatalf("snapshot incomplete: %+v", c)
	}
	if len(c.Errors) != 0 {
		t.Errorf("unexpected fact errors: %v", c.Errors)
	}
}

func TestSharedLookupsAreMadeOncePerRegionAndIAMOncePerScan(t *testing.T) {
	f := newFake()
	iamCache := NewIAMCache()
	east, west := region(f, iamCache), region(f, iamCache)
	west.Name = "us-west-2"
	var wg sync.WaitGroup
	for _, r := range []*Region{east, east, west} {
		for _, name := range []string{"a", "b"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := r.Cluster(context.Background(), name); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	// east collected a and b twice each, west once each: per-region facts are read once per
	// region, IAM facts once per scan, per-cluster facts once per collection.
	for call, want := range map[string]int{
		"ec2:DescribeSecurityGroups": 2, "ec2:DescribeSubnets": 2, "ec2:DescribeRouteTables": 2, "ec2:DescribeFlowLogs": 2, "ec2:DescribeVpcs": 2,
		"eks:DescribeClusterVersions": 2, "ec2:GetEbsEncryptionByDefault": 2, "ec2:DescribeLaunchTemplateVersions": 2, "elasticloadbalancing:DescribeLoadBalancers": 2,
		"eks:DescribeAddonVersions": 2, "ssm:GetParameter": 2,
		"iam:ListRoles": 1, "iam:ListOpenIDConnectProviders": 1, "iam:GetRole cluster": 1, "iam:GetRole node": 1, "iam:ListAttachedRolePolicies cluster": 1,
		"eks:DescribeCluster": 6, "eks:ListNodegroups": 6,
		// add-on lists are memoised per region and cluster: east's repeat collections reuse them.
		"eks:ListAddons": 4,
	} {
		if got := f.count(call); got != want {
			t.Errorf("%s called %d times, want %d", call, got, want)
		}
	}
}

func TestAMissingFactIsRecordedUnderItsActionAndTheRestIsCollected(t *testing.T) {
	f := newFake()
	f.fail["eks:ListAddons"] = errors.New("api error 404: not implemented")
	f.fail["iam:GetRole cluster"] = errors.New("AccessDenied")
	c, err := region(f, nil).Cluster(context.Background(), "a")
	if err != nil {
		t.Fatalf("a missing fact failed the whole cluster: %v", err)
	}
	if c.Errors.Get("eks:ListAddons") == nil || c.Addons != nil {
		t.Errorf("ListAddons failure not recorded: %v", c.Errors)
	}
	if r := c.Roles["arn:aws:iam::111122223333:role/cluster"]; r == nil || r.Errors.Get("iam:GetRole") == nil {
		t.Errorf("GetRole failure not recorded on the role: %+v", r)
	}
	if len(c.NodeGroups) != 1 || c.Network == nil {
		t.Error("other facts were not collected")
	}
}

func TestAClusterThatCannotBeDescribedFailsAsAWhole(t *testing.T) {
	f := newFake()
	if _, err := region(f, nil).Cluster(context.Background(), "gone"); !errors.Is(err, ErrClusterNotFound) {
		t.Errorf("err = %v, want ErrClusterNotFound", err)
	}
	f.fail["eks:DescribeCluster"] = fmt.Errorf("AccessDeniedException")
	if _, err := region(f, nil).Cluster(context.Background(), "a"); err == nil || !strings.Contains(err.Error(), "eks:DescribeCluster") {
		t.Errorf("err = %v, want one naming eks:DescribeCluster", err)
	}
}

func TestRegionServicesListAddonsOnlyWhenAgentsAreManual(t *testing.T) {
	f := newFake()
	r := region(f, nil)
	s, err := r.Services(context.Background(), "arn:aws:eks:us-east-1:111122223333:region-services", []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if s.GuardDuty != nil || f.count("eks:ListAddons") != 0 {
		t.Errorf("no detector, yet add-ons were listed %d times", f.count("eks:ListAddons"))
	}
}

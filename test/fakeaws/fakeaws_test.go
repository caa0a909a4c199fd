package fakeaws_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/sek-dev/sek/test/fakeaws"
)

func cfgFor(s *fakeaws.Server, region string, attempts int) aws.Config {
	return aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = attempts })
		},
	}
}

type result[T any] struct {
	v   T
	err error
}

func chk[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) must(t *testing.T, what string) T {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%s: %v", what, r.err)
	}
	return r.v
}

// TestEveryAPIDecodesThroughTheSDK calls each served API with the real SDK client and checks the
// decoded values, so a wrong field name or envelope fails here rather than in a benchmark.
func TestEveryAPIDecodesThroughTheSDK(t *testing.T) {
	s := fakeaws.Start(fakeaws.Options{Estate: fakeaws.NewEstate(2, 3, 2)})
	defer s.Close()
	ctx := context.Background()
	r := "us-east-2"
	cfg := cfgFor(s, r, 1)
	ek := eks.NewFromConfig(cfg)

	lc := chk(ek.ListClusters(ctx, &eks.ListClustersInput{MaxResults: aws.Int32(2)})).must(t, "ListClusters")
	if len(lc.Clusters) != 2 || aws.ToString(lc.NextToken) == "" {
		t.Fatalf("ListClusters page 1 = %v next %v, want 2 clusters and a token", lc.Clusters, lc.NextToken)
	}
	lc2 := chk(ek.ListClusters(ctx, &eks.ListClustersInput{MaxResults: aws.Int32(2), NextToken: lc.NextToken})).must(t, "ListClusters page 2")
	if len(lc2.Clusters) != 1 || lc2.NextToken != nil {
		t.Fatalf("ListClusters page 2 = %v next %v", lc2.Clusters, lc2.NextToken)
	}
	dc := chk(ek.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("bench-000")})).must(t, "DescribeCluster")
	cl := dc.Cluster
	if aws.ToString(cl.Arn) != "arn:aws:eks:us-east-2:123456789012:cluster/bench-000" || cl.ResourcesVpcConfig == nil ||
		aws.ToString(cl.ResourcesVpcConfig.VpcId) == "" || len(cl.EncryptionConfig) != 1 || cl.CreatedAt == nil || cl.CreatedAt.Year() != 2025 ||
		cl.Logging == nil || len(cl.Logging.ClusterLogging) == 0 || cl.AccessConfig == nil || cl.AccessConfig.AuthenticationMode != ekstypes.AuthenticationModeApiAndConfigMap {
		t.Fatalf("DescribeCluster decoded badly: %+v", cl)
	}
	_, err := ek.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("nope")})
	var nf *ekstypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("DescribeCluster(nope) = %v, want ResourceNotFoundException", err)
	}
	vers := chk(ek.DescribeClusterVersions(ctx, &eks.DescribeClusterVersionsInput{IncludeAll: aws.Bool(true)})).must(t, "DescribeClusterVersions")
	if len(vers.ClusterVersions) < 4 || vers.ClusterVersions[0].EndOfStandardSupportDate == nil || vers.ClusterVersions[0].VersionStatus == "" {
		t.Fatalf("DescribeClusterVersions = %+v", vers.ClusterVersions)
	}
	ngs := chk(ek.ListNodegroups(ctx, &eks.ListNodegroupsInput{ClusterName: aws.String("bench-000")})).must(t, "ListNodegroups")
	if len(ngs.Nodegroups) != 2 {
		t.Fatalf("ListNodegroups = %v", ngs.Nodegroups)
	}
	ng := chk(ek.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String("bench-000"), NodegroupName: aws.String("ng-0")})).must(t, "DescribeNodegroup")
	if ng.Nodegroup.LaunchTemplate == nil || aws.ToString(ng.Nodegroup.NodeRole) == "" || ng.Nodegroup.AmiType == "" {
		t.Fatalf("DescribeNodegroup = %+v", ng.Nodegroup)
	}
	ads := chk(ek.ListAddons(ctx, &eks.ListAddonsInput{ClusterName: aws.String("bench-000")})).must(t, "ListAddons")
	if len(ads.Addons) != 4 {
		t.Fatalf("ListAddons = %v", ads.Addons)
	}
	ad := chk(ek.DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: aws.String("bench-000"), AddonName: aws.String("vpc-cni")})).must(t, "DescribeAddon")
	if aws.ToString(ad.Addon.AddonVersion) == "" || ad.Addon.Status != ekstypes.AddonStatusActive {
		t.Fatalf("DescribeAddon = %+v", ad.Addon)
	}
	av := chk(ek.DescribeAddonVersions(ctx, &eks.DescribeAddonVersionsInput{AddonName: aws.String("coredns"), KubernetesVersion: aws.String("1.31")})).must(t, "DescribeAddonVersions")
	if len(av.Addons) != 1 || len(av.Addons[0].AddonVersions) != 2 || len(av.Addons[0].AddonVersions[0].Compatibilities) != 1 {
		t.Fatalf("DescribeAddonVersions = %+v", av.Addons)
	}
	aes := chk(ek.ListAccessEntries(ctx, &eks.ListAccessEntriesInput{ClusterName: aws.String("bench-000")})).must(t, "ListAccessEntries")
	if len(aes.AccessEntries) != 3 {
		t.Fatalf("ListAccessEntries = %v", aes.AccessEntries)
	}
	for _, p := range aes.AccessEntries {
		ae := chk(ek.DescribeAccessEntry(ctx, &eks.DescribeAccessEntryInput{ClusterName: aws.String("bench-000"), PrincipalArn: aws.String(p)})).must(t, "DescribeAccessEntry")
		if aws.ToString(ae.AccessEntry.PrincipalArn) != p {
			t.Fatalf("DescribeAccessEntry(%s) = %+v", p, ae.AccessEntry)
		}
		chk(ek.ListAssociatedAccessPolicies(ctx, &eks.ListAssociatedAccessPoliciesInput{ClusterName: aws.String("bench-000"), PrincipalArn: aws.String(p)})).must(t, "ListAssociatedAccessPolicies")
	}
	pis := chk(ek.ListPodIdentityAssociations(ctx, &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String("bench-000")})).must(t, "ListPodIdentityAssociations")
	if len(pis.Associations) != 1 {
		t.Fatalf("ListPodIdentityAssociations = %+v", pis.Associations)
	}
	pi := chk(ek.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{ClusterName: aws.String("bench-000"), AssociationId: pis.Associations[0].AssociationId})).must(t, "DescribePodIdentityAssociation")
	if aws.ToString(pi.Association.RoleArn) == "" {
		t.Fatalf("DescribePodIdentityAssociation = %+v", pi.Association)
	}
	chk(ek.ListFargateProfiles(ctx, &eks.ListFargateProfilesInput{ClusterName: aws.String("bench-000")})).must(t, "ListFargateProfiles")
	idp := chk(ek.ListIdentityProviderConfigs(ctx, &eks.ListIdentityProviderConfigsInput{ClusterName: aws.String("bench-001")})).must(t, "ListIdentityProviderConfigs")
	if len(idp.IdentityProviderConfigs) != 1 {
		t.Fatalf("ListIdentityProviderConfigs = %+v", idp.IdentityProviderConfigs)
	}
	idc := chk(ek.DescribeIdentityProviderConfig(ctx, &eks.DescribeIdentityProviderConfigInput{ClusterName: aws.String("bench-001"), IdentityProviderConfig: &ekstypes.IdentityProviderConfig{Type: aws.String("oidc"), Name: aws.String("corp-sso")}})).must(t, "DescribeIdentityProviderConfig")
	if idc.IdentityProviderConfig.Oidc == nil || aws.ToString(idc.IdentityProviderConfig.Oidc.IssuerUrl) == "" {
		t.Fatalf("DescribeIdentityProviderConfig = %+v", idc.IdentityProviderConfig)
	}

	// EC2
	e2 := ec2.NewFromConfig(cfg)
	vpc := aws.ToString(cl.ResourcesVpcConfig.VpcId)
	filter := []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}
	vpcs := chk(e2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{vpc}})).must(t, "DescribeVpcs")
	if len(vpcs.Vpcs) != 1 || aws.ToString(vpcs.Vpcs[0].CidrBlock) == "" {
		t.Fatalf("DescribeVpcs = %+v", vpcs.Vpcs)
	}
	sgs := chk(e2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: filter})).must(t, "DescribeSecurityGroups")
	if len(sgs.SecurityGroups) < 2 || len(sgs.SecurityGroups[0].IpPermissions) == 0 || len(sgs.SecurityGroups[0].IpPermissions[0].IpRanges) == 0 {
		t.Fatalf("DescribeSecurityGroups = %+v", sgs.SecurityGroups)
	}
	sub := chk(e2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: filter})).must(t, "DescribeSubnets")
	if len(sub.Subnets) != 3 || !aws.ToBool(sub.Subnets[2].MapPublicIpOnLaunch) {
		t.Fatalf("DescribeSubnets = %+v", sub.Subnets)
	}
	rts := chk(e2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: filter})).must(t, "DescribeRouteTables")
	if len(rts.RouteTables) != 2 || len(rts.RouteTables[0].Routes) != 2 || len(rts.RouteTables[0].Associations) != 2 {
		t.Fatalf("DescribeRouteTables = %+v", rts.RouteTables)
	}
	fl := chk(e2.DescribeFlowLogs(ctx, &ec2.DescribeFlowLogsInput{Filter: []ec2types.Filter{{Name: aws.String("resource-id"), Values: []string{vpc}}}})).must(t, "DescribeFlowLogs")
	if len(fl.FlowLogs) != 1 {
		t.Fatalf("DescribeFlowLogs = %+v", fl.FlowLogs)
	}
	eps := chk(e2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: filter})).must(t, "DescribeVpcEndpoints")
	if len(eps.VpcEndpoints) != 3 {
		t.Fatalf("DescribeVpcEndpoints = %+v", eps.VpcEndpoints)
	}
	lt := chk(e2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: ng.Nodegroup.LaunchTemplate.Id, Versions: []string{"1"}})).must(t, "DescribeLaunchTemplateVersions")
	if len(lt.LaunchTemplateVersions) != 1 || lt.LaunchTemplateVersions[0].LaunchTemplateData.MetadataOptions == nil || lt.LaunchTemplateVersions[0].LaunchTemplateData.MetadataOptions.HttpTokens == "" {
		t.Fatalf("DescribeLaunchTemplateVersions = %+v", lt.LaunchTemplateVersions)
	}
	ebs := chk(e2.GetEbsEncryptionByDefault(ctx, &ec2.GetEbsEncryptionByDefaultInput{})).must(t, "GetEbsEncryptionByDefault")
	if !aws.ToBool(ebs.EbsEncryptionByDefault) {
		t.Fatalf("GetEbsEncryptionByDefault = %v", ebs.EbsEncryptionByDefault)
	}
	inst := chk(e2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:eks:cluster-name"), Values: []string{"bench-000"}}}})).must(t, "DescribeInstances")
	if len(inst.Reservations) != 1 || len(inst.Reservations[0].Instances) != 4 || inst.Reservations[0].Instances[0].MetadataOptions == nil || len(inst.Reservations[0].Instances[0].Tags) != 2 {
		t.Fatalf("DescribeInstances = %+v", inst.Reservations)
	}
	regs := chk(e2.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})).must(t, "DescribeRegions")
	if len(regs.Regions) != 17 {
		t.Fatalf("DescribeRegions = %d regions", len(regs.Regions))
	}

	// Elastic Load Balancing v2
	elb := elbv2.NewFromConfig(cfg)
	lbs := chk(elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})).must(t, "DescribeLoadBalancers")
	if len(lbs.LoadBalancers) != 2 || lbs.LoadBalancers[0].Scheme != "internet-facing" {
		t.Fatalf("DescribeLoadBalancers = %+v", lbs.LoadBalancers)
	}
	tags := chk(elb.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{aws.ToString(lbs.LoadBalancers[1].LoadBalancerArn)}})).must(t, "DescribeTags")
	if len(tags.TagDescriptions) != 1 || len(tags.TagDescriptions[0].Tags) != 2 || aws.ToString(tags.TagDescriptions[0].Tags[0].Value) != "bench-002" {
		t.Fatalf("DescribeTags = %+v", tags.TagDescriptions)
	}
	lis := chk(elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: lbs.LoadBalancers[0].LoadBalancerArn})).must(t, "DescribeListeners")
	if len(lis.Listeners) != 2 || lis.Listeners[1].DefaultActions[0].RedirectConfig == nil || aws.ToInt32(lis.Listeners[0].Port) != 443 {
		t.Fatalf("DescribeListeners = %+v", lis.Listeners)
	}

	// IAM and STS
	im := iam.NewFromConfig(cfg)
	role := chk(im.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("eks-cluster-us-east-2")})).must(t, "GetRole")
	doc, _ := url.QueryUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument))
	if !strings.Contains(doc, "eks.amazonaws.com") || role.Role.CreateDate == nil {
		t.Fatalf("GetRole = %+v (doc %s)", role.Role, doc)
	}
	_, err = im.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("missing")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchEntity" {
		t.Fatalf("GetRole(missing) = %v, want NoSuchEntity", err)
	}
	att := chk(im.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("eks-node-us-east-2")})).must(t, "ListAttachedRolePolicies")
	if len(att.AttachedPolicies) != 3 || att.IsTruncated {
		t.Fatalf("ListAttachedRolePolicies = %+v", att)
	}
	inl := chk(im.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("eks-pod-us-east-2")})).must(t, "ListRolePolicies")
	if len(inl.PolicyNames) != 1 {
		t.Fatalf("ListRolePolicies = %+v", inl)
	}
	chk(im.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("eks-pod-us-east-2"), PolicyName: aws.String("app-access")})).must(t, "GetRolePolicy")
	pol := chk(im.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: att.AttachedPolicies[0].PolicyArn})).must(t, "GetPolicy")
	pv := chk(im.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: att.AttachedPolicies[0].PolicyArn, VersionId: pol.Policy.DefaultVersionId})).must(t, "GetPolicyVersion")
	if aws.ToString(pv.PolicyVersion.Document) == "" {
		t.Fatalf("GetPolicyVersion = %+v", pv.PolicyVersion)
	}
	roles := chk(im.ListRoles(ctx, &iam.ListRolesInput{MaxItems: aws.Int32(4)})).must(t, "ListRoles")
	if len(roles.Roles) != 4 || !roles.IsTruncated || aws.ToString(roles.Marker) == "" {
		t.Fatalf("ListRoles = %d truncated %v", len(roles.Roles), roles.IsTruncated)
	}
	oidc := chk(im.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})).must(t, "ListOpenIDConnectProviders")
	if len(oidc.OpenIDConnectProviderList) == 0 {
		t.Fatal("ListOpenIDConnectProviders returned none")
	}
	chk(im.GetUser(ctx, &iam.GetUserInput{})).must(t, "GetUser")
	id := chk(sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})).must(t, "GetCallerIdentity")
	if aws.ToString(id.Account) != "123456789012" {
		t.Fatalf("GetCallerIdentity = %+v", id)
	}

	// JSON-RPC services
	km := kms.NewFromConfig(cfg)
	key := cl.EncryptionConfig[0].Provider.KeyArn
	dk := chk(km.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: key})).must(t, "DescribeKey")
	if dk.KeyMetadata.KeyState != "Enabled" || dk.KeyMetadata.CreationDate == nil {
		t.Fatalf("DescribeKey = %+v", dk.KeyMetadata)
	}
	rot := chk(km.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: key})).must(t, "GetKeyRotationStatus")
	if !rot.KeyRotationEnabled || aws.ToInt32(rot.RotationPeriodInDays) != 365 {
		t.Fatalf("GetKeyRotationStatus = %+v", rot)
	}
	lg := chk(cloudwatchlogs.NewFromConfig(cfg).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/eks/bench-000/cluster")})).must(t, "DescribeLogGroups")
	if len(lg.LogGroups) != 1 || aws.ToInt32(lg.LogGroups[0].RetentionInDays) != 90 {
		t.Fatalf("DescribeLogGroups = %+v", lg.LogGroups)
	}
	pm := chk(ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/release_version")})).must(t, "GetParameter")
	if aws.ToString(pm.Parameter.Value) != "1.31.3-20250101" {
		t.Fatalf("GetParameter = %+v", pm.Parameter)
	}
	er := ecr.NewFromConfig(cfg)
	repos := chk(er.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})).must(t, "DescribeRepositories")
	if len(repos.Repositories) != 3 || repos.Repositories[0].ImageScanningConfiguration == nil {
		t.Fatalf("DescribeRepositories = %+v", repos.Repositories)
	}
	chk(er.GetRegistryScanningConfiguration(ctx, &ecr.GetRegistryScanningConfigurationInput{})).must(t, "GetRegistryScanningConfiguration")
	chk(er.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: repos.Repositories[0].RepositoryName})).must(t, "GetLifecyclePolicy")
	if _, err := er.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: repos.Repositories[0].RepositoryName}); !errors.As(err, &ae) || ae.ErrorCode() != "RepositoryPolicyNotFoundException" {
		t.Fatalf("GetRepositoryPolicy(no policy) = %v", err)
	}

	// REST services besides EKS
	gd := guardduty.NewFromConfig(cfg)
	dets := chk(gd.ListDetectors(ctx, &guardduty.ListDetectorsInput{})).must(t, "ListDetectors")
	if len(dets.DetectorIds) != 1 {
		t.Fatalf("ListDetectors = %v", dets.DetectorIds)
	}
	det := chk(gd.GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: aws.String(dets.DetectorIds[0])})).must(t, "GetDetector")
	if det.Status != "ENABLED" || len(det.Features) != 3 {
		t.Fatalf("GetDetector = %+v", det)
	}
	ins := chk(inspector2.NewFromConfig(cfg).BatchGetAccountStatus(ctx, &inspector2.BatchGetAccountStatusInput{AccountIds: []string{"123456789012"}})).must(t, "BatchGetAccountStatus")
	if len(ins.Accounts) != 1 || ins.Accounts[0].ResourceState == nil || ins.Accounts[0].ResourceState.Ecr == nil {
		t.Fatalf("BatchGetAccountStatus = %+v", ins.Accounts)
	}

	// Security Hub: import, read back with filters, resolve.
	hub := securityhub.NewFromConfig(cfg)
	chk(hub.DescribeHub(ctx, &securityhub.DescribeHubInput{})).must(t, "DescribeHub")
	product := "arn:aws:securityhub:us-east-2:123456789012:product/123456789012/default"
	now := time.Now().UTC().Format(time.RFC3339)
	var fs []shtypes.AwsSecurityFinding
	for _, n := range []string{"a", "b", "c"} {
		fs = append(fs, shtypes.AwsSecurityFinding{
			Id: aws.String("sek/" + n), ProductArn: aws.String(product), AwsAccountId: aws.String("123456789012"), GeneratorId: aws.String("CHECK_" + n),
			SchemaVersion: aws.String("2018-10-08"), CreatedAt: aws.String(now), UpdatedAt: aws.String(now), Title: aws.String(n), Description: aws.String(n),
			Region: aws.String(r), Types: []string{"Software and Configuration Checks"}, Severity: &shtypes.Severity{Label: shtypes.SeverityLabelHigh},
			Resources:     []shtypes.Resource{{Id: aws.String("arn:x"), Type: aws.String("Other")}},
			ProductFields: map[string]string{"sek/target": n},
		})
	}
	imp := chk(hub.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: fs})).must(t, "BatchImportFindings")
	if aws.ToInt32(imp.SuccessCount) != 3 || aws.ToInt32(imp.FailedCount) != 0 {
		t.Fatalf("BatchImportFindings = %+v", imp)
	}
	got := chk(hub.GetFindings(ctx, &securityhub.GetFindingsInput{MaxResults: aws.Int32(100), Filters: &shtypes.AwsSecurityFindingFilters{
		ProductArn:    []shtypes.StringFilter{{Value: aws.String(product), Comparison: shtypes.StringFilterComparisonEquals}},
		ProductFields: []shtypes.MapFilter{{Key: aws.String("sek/target"), Value: aws.String("a"), Comparison: shtypes.MapFilterComparisonEquals}, {Key: aws.String("sek/target"), Value: aws.String("c"), Comparison: shtypes.MapFilterComparisonEquals}},
	}})).must(t, "GetFindings")
	if len(got.Findings) != 2 || aws.ToString(got.Findings[0].Id) != "sek/a" || got.Findings[0].Workflow == nil || got.Findings[0].Workflow.Status != shtypes.WorkflowStatusNew {
		t.Fatalf("GetFindings = %+v", got.Findings)
	}
	up := chk(hub.BatchUpdateFindings(ctx, &securityhub.BatchUpdateFindingsInput{
		FindingIdentifiers: []shtypes.AwsSecurityFindingIdentifier{{Id: aws.String("sek/a"), ProductArn: aws.String(product)}},
		Workflow:           &shtypes.WorkflowUpdate{Status: shtypes.WorkflowStatusResolved},
	})).must(t, "BatchUpdateFindings")
	if len(up.ProcessedFindings) != 1 {
		t.Fatalf("BatchUpdateFindings = %+v", up)
	}
	got = chk(hub.GetFindings(ctx, &securityhub.GetFindingsInput{Filters: &shtypes.AwsSecurityFindingFilters{
		WorkflowStatus: []shtypes.StringFilter{{Value: aws.String("RESOLVED"), Comparison: shtypes.StringFilterComparisonEquals}},
	}})).must(t, "GetFindings resolved")
	if len(got.Findings) != 1 || s.Findings(r) != 3 {
		t.Fatalf("after resolve: %d resolved findings, %d stored", len(got.Findings), s.Findings(r))
	}

	st := s.Stats()
	if len(st.Unrouted) != 0 {
		t.Fatalf("unrouted requests: %v", st.Unrouted)
	}
	if st.Throttled != 0 || st.Duplicates != 0 {
		t.Fatalf("throttled %d duplicates %d (%v), want 0", st.Throttled, st.Duplicates, st.DuplicateCalls)
	}
	if n := st.CallsTo("eks:DescribeAccessEntry"); n != 3 {
		t.Fatalf("counted %d DescribeAccessEntry calls, want 3", n)
	}
	for _, a := range st.APIs {
		if a.API == "eks:ListClusters" && a.LongestChain != 2 {
			t.Fatalf("ListClusters chain = %d, want 2 pages", a.LongestChain)
		}
	}
}

// TestThrottlingUsesEachServicesErrorShape exhausts a bucket and checks the SDK sees the service's
// own throttling code, which its standard retryer treats as a throttle.
func TestThrottlingUsesEachServicesErrorShape(t *testing.T) {
	opts := fakeaws.Options{Estate: fakeaws.NewEstate(1, 1, 1), Quota: fakeaws.Quota{Rate: 0.001, Burst: 1}}
	s := fakeaws.Start(opts)
	defer s.Close()
	ctx := context.Background()
	cfg := cfgFor(s, "us-east-1", 1)
	calls := map[string]func() error{
		"ThrottlingException": func() error {
			_, err := eks.NewFromConfig(cfg).DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("bench-000")})
			return err
		},
		"RequestLimitExceeded": func() error {
			_, err := ec2.NewFromConfig(cfg).GetEbsEncryptionByDefault(ctx, &ec2.GetEbsEncryptionByDefaultInput{})
			return err
		},
		"Throttling": func() error {
			_, err := iam.NewFromConfig(cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("eks-node-us-east-1")})
			return err
		},
		"TooManyRequestsException": func() error {
			_, err := securityhub.NewFromConfig(cfg).DescribeHub(ctx, &securityhub.DescribeHubInput{})
			return err
		},
	}
	for code, call := range calls {
		if err := call(); err != nil {
			t.Fatalf("first call (%s) should pass the burst: %v", code, err)
		}
		err := call()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != code {
			t.Fatalf("second call: %v, want %s", err, code)
		}
		if !retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool() {
			t.Fatalf("the SDK does not classify %s as throttling", code)
		}
	}
	st := s.Stats()
	if st.Throttled != 4 || st.Duplicates != 4 {
		t.Fatalf("throttled %d, duplicates %d; want 4 and 4 (each call made twice)", st.Throttled, st.Duplicates)
	}
}

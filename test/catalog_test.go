package test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	gdtypes "github.com/aws/aws-sdk-go-v2/service/guardduty/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	inspectortypes "github.com/aws/aws-sdk-go-v2/service/inspector2/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/sek-dev/sek/internal/cli"
	sekeks "github.com/sek-dev/sek/pkg/eks"
	"github.com/sek-dev/sek/test/harness"
)

// The catalog test seeds a deliberately weak cluster ("weak", us-east-1, in the default VPC) and a
// hardened one ("fortress", eu-west-1) with everything around them (IAM roles, security groups,
// launch templates, KMS, flow logs, endpoints, GuardDuty, Inspector, ECR), then scans both regions
// through the real CLI and checks the verdict of every check on every resource. The clusters sit
// in different regions because moto gives every cluster of a region the same OIDC issuer.

const (
	weakRegion = "us-east-1"
	fortRegion = "eu-west-1"
)

type seeder struct {
	t      *testing.T
	ctx    context.Context
	base   aws.Config
	acct   string
	compat *eksCompat
}

func (s *seeder) cfg(region string) aws.Config {
	c := s.base.Copy()
	c.Region = region
	return c
}

func (s *seeder) must(err error, what string) {
	s.t.Helper()
	if err != nil {
		s.t.Fatalf("seed %s: %v", what, err)
	}
}

func (s *seeder) role(name, trust string, managed ...string) string {
	s.t.Helper()
	c := iam.NewFromConfig(s.cfg(weakRegion))
	out, err := c.CreateRole(s.ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)})
	s.must(err, "role "+name)
	for _, p := range managed {
		_, err := c.AttachRolePolicy(s.ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String("arn:aws:iam::aws:policy/" + p)})
		s.must(err, "attach "+p+" to "+name)
	}
	return aws.ToString(out.Role.Arn)
}

func trustService(svc string, cond string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":` + svc + `},"Action":["sts:AssumeRole","sts:TagSession"]` + cond + `}]}`
}

func trustOIDC(acct, issuerHost, cond string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"Irsa","Effect":"Allow","Principal":{"Federated":"arn:aws:iam::` + acct + `:oidc-provider/` + issuerHost +
		`"},"Action":"sts:AssumeRoleWithWebIdentity"` + cond + `}]}`
}

func (s *seeder) sg(region, vpc, name string, perms ...ec2types.IpPermission) string {
	s.t.Helper()
	c := ec2.NewFromConfig(s.cfg(region))
	out, err := c.CreateSecurityGroup(s.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(name), VpcId: aws.String(vpc)})
	s.must(err, "security group "+name)
	if len(perms) > 0 {
		_, err = c.AuthorizeSecurityGroupIngress(s.ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: out.GroupId, IpPermissions: perms})
		s.must(err, "ingress of "+name)
	}
	return aws.ToString(out.GroupId)
}

func cidrPerm(proto string, from, to int32, cidr string) ec2types.IpPermission {
	p := ec2types.IpPermission{IpProtocol: aws.String(proto), IpRanges: []ec2types.IpRange{{CidrIp: aws.String(cidr)}}}
	if proto != "-1" {
		p.FromPort, p.ToPort = aws.Int32(from), aws.Int32(to)
	}
	return p
}

func (s *seeder) launchTemplate(region, name string, data ec2types.RequestLaunchTemplateData) string {
	s.t.Helper()
	out, err := ec2.NewFromConfig(s.cfg(region)).CreateLaunchTemplate(s.ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String(name), LaunchTemplateData: &data})
	s.must(err, "launch template "+name)
	return aws.ToString(out.LaunchTemplate.LaunchTemplateId)
}

func (s *seeder) cluster(region string, in *eks.CreateClusterInput) (arn, issuerHost string) {
	s.t.Helper()
	c := eks.NewFromConfig(s.cfg(region))
	_, err := c.CreateCluster(s.ctx, in)
	s.must(err, "cluster "+aws.ToString(in.Name))
	d, err := c.DescribeCluster(s.ctx, &eks.DescribeClusterInput{Name: in.Name})
	s.must(err, "describe "+aws.ToString(in.Name))
	return aws.ToString(d.Cluster.Arn), strings.TrimPrefix(aws.ToString(d.Cluster.Identity.Oidc.Issuer), "https://")
}

func (s *seeder) nodegroup(region string, in *eks.CreateNodegroupInput) string {
	s.t.Helper()
	out, err := eks.NewFromConfig(s.cfg(region)).CreateNodegroup(s.ctx, in)
	s.must(err, "node group "+aws.ToString(in.NodegroupName))
	return aws.ToString(out.Nodegroup.NodegroupArn)
}

func (s *seeder) logGroup(region, name string, retention int32, kmsKey string) {
	s.t.Helper()
	c := cloudwatchlogs.NewFromConfig(s.cfg(region))
	in := &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(name)}
	if kmsKey != "" {
		in.KmsKeyId = aws.String(kmsKey)
	}
	_, err := c.CreateLogGroup(s.ctx, in)
	s.must(err, "log group "+name)
	if retention > 0 {
		_, err = c.PutRetentionPolicy(s.ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(name), RetentionInDays: aws.Int32(retention)})
		s.must(err, "retention of "+name)
	}
}

func (s *seeder) repo(region, name string, immutable, scan, lifecycle bool, policy string) {
	s.t.Helper()
	c := ecr.NewFromConfig(s.cfg(region))
	mut := ecrtypes.ImageTagMutabilityMutable
	if immutable {
		mut = ecrtypes.ImageTagMutabilityImmutable
	}
	_, err := c.CreateRepository(s.ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(name), ImageTagMutability: mut,
		ImageScanningConfiguration: &ecrtypes.ImageScanningConfiguration{ScanOnPush: scan}})
	s.must(err, "repository "+name)
	if lifecycle {
		_, err = c.PutLifecyclePolicy(s.ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: aws.String(name),
			LifecyclePolicyText: aws.String(`{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}`)})
		s.must(err, "lifecycle of "+name)
	}
	if policy != "" {
		_, err = c.SetRepositoryPolicy(s.ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String(name), PolicyText: aws.String(policy)})
		s.must(err, "policy of "+name)
	}
}

// alb creates an internet-facing Application Load Balancer with tags and listeners.
func (s *seeder) alb(region, name string, subnets, sgs []string, tags map[string]string, listeners ...elbv2.CreateListenerInput) {
	s.t.Helper()
	c := elbv2.NewFromConfig(s.cfg(region))
	var tl []elbtypes.Tag
	for k, v := range tags {
		tl = append(tl, elbtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	out, err := c.CreateLoadBalancer(s.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(name), Subnets: subnets, SecurityGroups: sgs,
		Scheme: elbtypes.LoadBalancerSchemeEnumInternetFacing, Type: elbtypes.LoadBalancerTypeEnumApplication, Tags: tl})
	s.must(err, "load balancer "+name)
	for _, l := range listeners {
		l.LoadBalancerArn = out.LoadBalancers[0].LoadBalancerArn
		_, err := c.CreateListener(s.ctx, &l)
		s.must(err, "listener of "+name)
	}
}

func fixedResponse() []elbtypes.Action {
	return []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("200")}}}
}

type seeded struct {
	weakARN, fortARN string
}

func seedCatalogEstate(t *testing.T, motoURL string, compat *eksCompat) seeded {
	ctx := context.Background()
	base, err := config.LoadDefaultConfig(ctx, config.WithBaseEndpoint(motoURL))
	if err != nil {
		t.Fatal(err)
	}
	s := &seeder{t: t, ctx: ctx, base: base, compat: compat, acct: "123456789012"}
	acct := s.acct
	eksTrust := trustService(`"eks.amazonaws.com"`, "")

	// --- Account services: GuardDuty, Inspector, ECR ---------------------------------------
	_, err = guardduty.NewFromConfig(s.cfg(fortRegion)).CreateDetector(ctx, &guardduty.CreateDetectorInput{Enable: aws.Bool(true),
		Features: []gdtypes.DetectorFeatureConfiguration{
			{Name: gdtypes.DetectorFeatureEksAuditLogs, Status: gdtypes.FeatureStatusEnabled},
			{Name: gdtypes.DetectorFeatureRuntimeMonitoring, Status: gdtypes.FeatureStatusEnabled,
				AdditionalConfiguration: []gdtypes.DetectorAdditionalConfiguration{{Name: gdtypes.FeatureAdditionalConfigurationEksAddonManagement, Status: gdtypes.FeatureStatusEnabled}}},
		}})
	s.must(err, "GuardDuty detector")
	_, err = guardduty.NewFromConfig(s.cfg(weakRegion)).CreateDetector(ctx, &guardduty.CreateDetectorInput{Enable: aws.Bool(true),
		Features: []gdtypes.DetectorFeatureConfiguration{{Name: gdtypes.DetectorFeatureEksAuditLogs, Status: gdtypes.FeatureStatusDisabled}}})
	s.must(err, "weak GuardDuty detector")
	_, err = inspector2.NewFromConfig(s.cfg(fortRegion)).Enable(ctx, &inspector2.EnableInput{AccountIds: []string{acct},
		ResourceTypes: []inspectortypes.ResourceScanType{inspectortypes.ResourceScanTypeEc2, inspectortypes.ResourceScanTypeEcr}})
	s.must(err, "Inspector")
	s.repo(fortRegion, "payments-api", true, true, true,
		`{"Version":"2012-10-17","Statement":[{"Sid":"OrgPull","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}`)
	s.repo(weakRegion, "legacy-web", false, false, false,
		`{"Version":"2012-10-17","Statement":[{"Sid":"Public","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}`)

	// --- fortress: private VPC, minimal roles, hardened node group ---------------------------
	ec := ec2.NewFromConfig(s.cfg(fortRegion))
	vpc, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.20.0.0/16")})
	s.must(err, "fortress VPC")
	fvpc := aws.ToString(vpc.Vpc.VpcId)
	var fsubnets []string
	for i, az := range []string{"a", "b"} {
		sn, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(fvpc), CidrBlock: aws.String(fmt.Sprintf("10.20.%d.0/24", i)), AvailabilityZone: aws.String(fortRegion + az)})
		s.must(err, "fortress subnet")
		fsubnets = append(fsubnets, aws.ToString(sn.Subnet.SubnetId))
	}
	clusterSG := s.sg(fortRegion, fvpc, "fortress-cluster", cidrPerm("tcp", 443, 443, "10.20.0.0/16"))
	nodeSG := s.sg(fortRegion, fvpc, "fortress-nodes")
	_, err = ec.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(nodeSG),
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("-1"), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(clusterSG)}}}}})
	s.must(err, "fortress node ingress")
	flowRole := s.role("flow-logs", trustService(`"vpc-flow-logs.amazonaws.com"`, ""))
	_, err = ec.CreateFlowLogs(ctx, &ec2.CreateFlowLogsInput{ResourceIds: []string{fvpc}, ResourceType: ec2types.FlowLogsResourceTypeVpc, TrafficType: ec2types.TrafficTypeAll,
		LogGroupName: aws.String("/vpc/fortress"), DeliverLogsPermissionArn: aws.String(flowRole)})
	s.must(err, "fortress flow logs")
	for _, svc := range []string{"ecr.api", "ecr.dkr", "sts", "s3"} {
		_, err := ec.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String(fvpc), ServiceName: aws.String("com.amazonaws." + fortRegion + "." + svc)})
		s.must(err, svc+" endpoint")
	}
	_, err = ec.EnableEbsEncryptionByDefault(ctx, &ec2.EnableEbsEncryptionByDefaultInput{})
	s.must(err, "EBS encryption by default")
	kc := kms.NewFromConfig(s.cfg(fortRegion))
	secretsKey, err := kc.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("fortress secrets")})
	s.must(err, "secrets key")
	_, err = kc.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: secretsKey.KeyMetadata.KeyId})
	s.must(err, "key rotation")
	logKey, err := kc.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("fortress logs")})
	s.must(err, "log key")
	fortClusterRole := s.role("fortress-cluster", eksTrust, "AmazonEKSClusterPolicy")
	fortNodeRole := s.role("fortress-node", trustService(`"ec2.amazonaws.com"`, ""), "AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonSSMManagedInstanceCore")
	all := []ekstypes.LogType{"api", "audit", "authenticator", "controllerManager", "scheduler"}
	fortARN, fortIssuer := s.cluster(fortRegion, &eks.CreateClusterInput{Name: aws.String("fortress"), Version: aws.String("1.35"), RoleArn: aws.String(fortClusterRole),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: fsubnets, SecurityGroupIds: []string{clusterSG}, EndpointPrivateAccess: aws.Bool(true), EndpointPublicAccess: aws.Bool(false)},
		Logging:            &ekstypes.Logging{ClusterLogging: []ekstypes.LogSetup{{Enabled: aws.Bool(true), Types: all}}},
		EncryptionConfig:   []ekstypes.EncryptionConfig{{Resources: []string{"secrets"}, Provider: &ekstypes.Provider{KeyArn: secretsKey.KeyMetadata.Arn}}},
		Tags:               map[string]string{"owner": "payments", "env": "prod"}})
	s.logGroup(fortRegion, "/aws/eks/fortress/cluster", 365, aws.ToString(logKey.KeyMetadata.Arn))
	_, err = iam.NewFromConfig(s.cfg(fortRegion)).CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://" + fortIssuer),
		ClientIDList: []string{"sts.amazonaws.com"}, ThumbprintList: []string{strings.Repeat("a", 40)}})
	s.must(err, "OIDC provider")
	cniRole := s.role("fortress-vpc-cni", trustOIDC(acct, fortIssuer, `,"Condition":{"StringEquals":{"`+fortIssuer+`:sub":"system:serviceaccount:kube-system:aws-node","`+fortIssuer+`:aud":"sts.amazonaws.com"}}`), "AmazonEKS_CNI_Policy")
	appRole := s.role("fortress-app", trustService(`"pods.eks.amazonaws.com"`, `,"Condition":{"StringEquals":{"aws:SourceAccount":"`+acct+`"}}`), "AmazonS3ReadOnlyAccess")
	adminRole := s.role("platform-admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct+`:root"},"Action":"sts:AssumeRole"}]}`)
	fortLT := s.launchTemplate(fortRegion, "fortress-nodes", ec2types.RequestLaunchTemplateData{
		MetadataOptions:     &ec2types.LaunchTemplateInstanceMetadataOptionsRequest{HttpTokens: ec2types.LaunchTemplateHttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(1)},
		SecurityGroupIds:    []string{nodeSG},
		BlockDeviceMappings: []ec2types.LaunchTemplateBlockDeviceMappingRequest{{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.LaunchTemplateEbsBlockDeviceRequest{Encrypted: aws.Bool(true), VolumeSize: aws.Int32(50)}}},
	})
	cert, err := iam.NewFromConfig(s.cfg(fortRegion)).UploadServerCertificate(ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("payments"),
		CertificateBody: aws.String("-----BEGIN CERTIFICATE-----\nTUlJ\n-----END CERTIFICATE-----"), PrivateKey: aws.String("-----BEGIN PRIVATE KEY-----\nTUlJ\n-----END PRIVATE KEY-----")})
	s.must(err, "server certificate")
	s.alb(fortRegion, "k8s-payments", fsubnets, []string{clusterSG}, map[string]string{"elbv2.k8s.aws/cluster": "fortress"},
		elbv2.CreateListenerInput{Protocol: elbtypes.ProtocolEnumHttps, Port: aws.Int32(443), DefaultActions: fixedResponse(),
			Certificates: []elbtypes.Certificate{{CertificateArn: cert.ServerCertificateMetadata.Arn}}},
		elbv2.CreateListenerInput{Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumRedirect,
			RedirectConfig: &elbtypes.RedirectActionConfig{Protocol: aws.String("HTTPS"), Port: aws.String("443"), StatusCode: elbtypes.RedirectActionStatusCodeEnumHttp301}}}})
	fortNG := s.nodegroup(fortRegion, &eks.CreateNodegroupInput{ClusterName: aws.String("fortress"), NodegroupName: aws.String("workers"), NodeRole: aws.String(fortNodeRole),
		Subnets: fsubnets, Version: aws.String("1.35"), AmiType: ekstypes.AMITypesAl2023X8664Standard, ReleaseVersion: aws.String("1.35.0-20261101"),
		LaunchTemplate: &ekstypes.LaunchTemplateSpecification{Id: aws.String(fortLT), Version: aws.String("1")}})

	// --- weak: default VPC, admin roles, open groups, SSH -----------------------------------
	wc := ec2.NewFromConfig(s.cfg(weakRegion))
	vpcs, err := wc.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
	s.must(err, "default VPC")
	if len(vpcs.Vpcs) == 0 {
		t.Fatal("moto has no default VPC in " + weakRegion)
	}
	wvpc := aws.ToString(vpcs.Vpcs[0].VpcId)
	sns, err := wc.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{wvpc}}}})
	s.must(err, "default subnets")
	wsubnets := []string{aws.ToString(sns.Subnets[0].SubnetId), aws.ToString(sns.Subnets[1].SubnetId)}
	ensureInternetRoute(s, wc, wvpc)
	weakSG := s.sg(weakRegion, wvpc, "weak-cluster", cidrPerm("-1", 0, 0, "0.0.0.0/0"))
	weakNodeSG := s.sg(weakRegion, wvpc, "weak-nodes", cidrPerm("tcp", 22, 22, "0.0.0.0/0"))
	s.alb(weakRegion, "k8s-web", wsubnets, []string{weakSG}, map[string]string{"kubernetes.io/cluster/weak": "owned"},
		elbv2.CreateListenerInput{Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), DefaultActions: fixedResponse()})
	// A load balancer of no cluster must not be judged for either.
	s.alb(weakRegion, "unrelated", wsubnets, []string{weakSG}, map[string]string{"team": "web"},
		elbv2.CreateListenerInput{Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080), DefaultActions: fixedResponse()})
	weakClusterRole := s.role("weak-cluster", trustService(`["eks.amazonaws.com","ec2.amazonaws.com"]`, ""), "AmazonEKSClusterPolicy", "AdministratorAccess")
	weakNodeRole := s.role("weak-node", trustService(`"ec2.amazonaws.com"`, ""), "AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryFullAccess", "AmazonEKS_CNI_Policy")
	weakARN, weakIssuer := s.cluster(weakRegion, &eks.CreateClusterInput{Name: aws.String("weak"), Version: aws.String("1.33"), RoleArn: aws.String(weakClusterRole),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: wsubnets, SecurityGroupIds: []string{weakSG, weakNodeSG}, EndpointPublicAccess: aws.Bool(true),
			EndpointPrivateAccess: aws.Bool(false), PublicAccessCidrs: []string{"0.0.0.0/0"}},
		Logging: &ekstypes.Logging{ClusterLogging: []ekstypes.LogSetup{{Enabled: aws.Bool(true), Types: []ekstypes.LogType{"audit"}}}}})
	s.logGroup(weakRegion, "/aws/eks/weak/cluster", 0, "")
	s.role("weak-irsa", trustOIDC(acct, weakIssuer, ""), "AmazonS3FullAccess")
	weakApp := s.role("weak-app", trustService(`"pods.eks.amazonaws.com"`, ""), "AdministratorAccess")
	_, err = iam.NewFromConfig(s.cfg(weakRegion)).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")})
	s.must(err, "user alice")
	weakLT := s.launchTemplate(weakRegion, "weak-nodes", ec2types.RequestLaunchTemplateData{
		MetadataOptions:     &ec2types.LaunchTemplateInstanceMetadataOptionsRequest{HttpTokens: ec2types.LaunchTemplateHttpTokensStateOptional, HttpPutResponseHopLimit: aws.Int32(2)},
		SecurityGroupIds:    []string{weakNodeSG},
		BlockDeviceMappings: []ec2types.LaunchTemplateBlockDeviceMappingRequest{{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.LaunchTemplateEbsBlockDeviceRequest{Encrypted: aws.Bool(false), VolumeSize: aws.Int32(20)}}},
	})
	compat.remoteAccessSG["weak/ssh"] = s.sg(weakRegion, wvpc, "eks-remoteAccess-weak-ssh", cidrPerm("tcp", 22, 22, "0.0.0.0/0"))
	weakSSH := s.nodegroup(weakRegion, &eks.CreateNodegroupInput{ClusterName: aws.String("weak"), NodegroupName: aws.String("ssh"), NodeRole: aws.String(weakNodeRole),
		Subnets: wsubnets, Version: aws.String("1.33"), AmiType: ekstypes.AMITypesAl2023X8664Standard,
		RemoteAccess: &ekstypes.RemoteAccessConfig{Ec2SshKey: aws.String("ops-key")}})
	weakOld := s.nodegroup(weakRegion, &eks.CreateNodegroupInput{ClusterName: aws.String("weak"), NodegroupName: aws.String("legacy"), NodeRole: aws.String(weakNodeRole),
		Subnets: wsubnets, Version: aws.String("1.29"), AmiType: ekstypes.AMITypesAl2X8664,
		LaunchTemplate: &ekstypes.LaunchTemplateSpecification{Id: aws.String(weakLT), Version: aws.String("1")}})
	_ = weakSSH
	_ = weakOld
	_ = fortNG

	// --- What moto cannot hold, served by the EKS handler ------------------------------------
	now := time.Now().UTC()
	day := 24 * time.Hour
	compat.versions = []map[string]any{
		{"clusterType": "eks", "clusterVersion": "1.35", "defaultPlatformVersion": "eks.4", "defaultVersion": true, "versionStatus": "STANDARD_SUPPORT",
			"endOfStandardSupportDate": epoch(now.Add(300 * day)), "endOfExtendedSupportDate": epoch(now.Add(665 * day))},
		{"clusterType": "eks", "clusterVersion": "1.34", "defaultPlatformVersion": "eks.9", "versionStatus": "STANDARD_SUPPORT",
			"endOfStandardSupportDate": epoch(now.Add(150 * day)), "endOfExtendedSupportDate": epoch(now.Add(515 * day))},
		{"clusterType": "eks", "clusterVersion": "1.33", "defaultPlatformVersion": "eks.12", "versionStatus": "EXTENDED_SUPPORT",
			"endOfStandardSupportDate": epoch(now.Add(-30 * day)), "endOfExtendedSupportDate": epoch(now.Add(335 * day))},
		{"clusterType": "eks", "clusterVersion": "1.32", "defaultPlatformVersion": "eks.15", "versionStatus": "EXTENDED_SUPPORT",
			"endOfStandardSupportDate": epoch(now.Add(-200 * day)), "endOfExtendedSupportDate": epoch(now.Add(165 * day))},
	}
	compat.addonVersions = map[string]map[string][]string{
		"vpc-cni":    {"1.35": {"v1.20.1-eksbuild.1", "v1.19.6-eksbuild.1"}, "1.33": {"v1.20.1-eksbuild.1", "v1.19.6-eksbuild.1"}},
		"coredns":    {"1.35": {"v1.12.1-eksbuild.2"}},
		"kube-proxy": {"1.33": {"v1.33.0-eksbuild.2"}},
	}
	addonARN := func(region, cluster, name string) string {
		return fmt.Sprintf("arn:aws:eks:%s:%s:addon/%s/%s/uuid-%s", region, acct, cluster, name, name)
	}
	compat.clusterExtra["fortress"] = map[string]any{"accessConfig": map[string]any{"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": false},
		"deletionProtection": true, "upgradePolicy": map[string]any{"supportType": "STANDARD"}, "clusterSecurityGroupId": clusterSG}
	compat.clusterExtra["weak"] = map[string]any{"accessConfig": map[string]any{"authenticationMode": "API_AND_CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": true},
		"deletionProtection": false, "upgradePolicy": map[string]any{"supportType": "EXTENDED"}, "clusterSecurityGroupId": weakSG}
	compat.addons["fortress"] = []map[string]any{
		{"addonName": "vpc-cni", "clusterName": "fortress", "status": "ACTIVE", "addonVersion": "v1.20.1-eksbuild.1", "addonArn": addonARN(fortRegion, "fortress", "vpc-cni"),
			"configurationValues": `{"enableNetworkPolicy":"true"}`, "serviceAccountRoleArn": cniRole, "health": map[string]any{"issues": []any{}}},
		{"addonName": "coredns", "clusterName": "fortress", "status": "ACTIVE", "addonVersion": "v1.12.1-eksbuild.2", "addonArn": addonARN(fortRegion, "fortress", "coredns"),
			"health": map[string]any{"issues": []any{}}},
	}
	compat.addons["weak"] = []map[string]any{
		{"addonName": "vpc-cni", "clusterName": "weak", "status": "ACTIVE", "addonVersion": "v1.15.0-eksbuild.2", "addonArn": addonARN(weakRegion, "weak", "vpc-cni"),
			"health": map[string]any{"issues": []any{}}},
		{"addonName": "kube-proxy", "clusterName": "weak", "status": "DEGRADED", "addonVersion": "v1.33.0-eksbuild.2", "addonArn": addonARN(weakRegion, "weak", "kube-proxy"),
			"health": map[string]any{"issues": []any{map[string]any{"code": "InsufficientNumberOfReplicas", "message": "The add-on is unhealthy because it doesn't have the desired number of replicas."}}}},
	}
	entryARN := func(region, cluster, principal string) string {
		return fmt.Sprintf("arn:aws:eks:%s:%s:access-entry/%s/%s/uuid", region, acct, cluster, strings.ReplaceAll(principal[strings.Index(principal, ":iam::")+6:], ":", "/"))
	}
	clusterAdmin := []map[string]any{{"policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", "accessScope": map[string]any{"type": "cluster", "namespaces": []string{}}}}
	compat.accessEntries["fortress"] = []map[string]any{
		{"clusterName": "fortress", "principalArn": adminRole, "accessEntryArn": entryARN(fortRegion, "fortress", adminRole), "type": "STANDARD", "kubernetesGroups": []string{}, "policies": clusterAdmin},
		{"clusterName": "fortress", "principalArn": fortNodeRole, "accessEntryArn": entryARN(fortRegion, "fortress", fortNodeRole), "type": "EC2_LINUX",
			"kubernetesGroups": []string{"system:nodes"}, "policies": []any{}},
	}
	alice := "arn:aws:iam::" + acct + ":user/alice"
	gone := "arn:aws:iam::" + acct + ":role/departed-contractor"
	compat.accessEntries["weak"] = []map[string]any{
		{"clusterName": "weak", "principalArn": alice, "accessEntryArn": entryARN(weakRegion, "weak", alice), "type": "STANDARD", "kubernetesGroups": []string{}, "policies": clusterAdmin},
		{"clusterName": "weak", "principalArn": gone, "accessEntryArn": entryARN(weakRegion, "weak", gone), "type": "STANDARD", "kubernetesGroups": []string{"system:masters"}, "policies": []any{}},
	}
	compat.podIdentities["fortress"] = []map[string]any{{"clusterName": "fortress", "namespace": "payments", "serviceAccount": "api", "roleArn": appRole,
		"associationId": "a-fort1", "associationArn": fmt.Sprintf("arn:aws:eks:%s:%s:podidentityassociation/fortress/a-fort1", fortRegion, acct)}}
	compat.podIdentities["weak"] = []map[string]any{{"clusterName": "weak", "namespace": "default", "serviceAccount": "web", "roleArn": weakApp,
		"associationId": "a-weak1", "associationArn": fmt.Sprintf("arn:aws:eks:%s:%s:podidentityassociation/weak/a-weak1", weakRegion, acct)}}
	compat.identityConfig["fortress"] = []map[string]any{{"identityProviderConfigName": "corp-sso", "clusterName": "fortress", "issuerUrl": "https://sso.example.com",
		"clientId": "eks", "status": "ACTIVE", "tags": map[string]string{"owner": "identity"},
		"identityProviderConfigArn": fmt.Sprintf("arn:aws:eks:%s:%s:identityproviderconfig/fortress/oidc/corp-sso/uuid", fortRegion, acct)}}
	compat.identityConfig["weak"] = []map[string]any{{"identityProviderConfigName": "legacy-dex", "clusterName": "weak", "issuerUrl": "https://dex.example.com",
		"clientId": "eks", "status": "ACTIVE",
		"identityProviderConfigArn": fmt.Sprintf("arn:aws:eks:%s:%s:identityproviderconfig/weak/oidc/legacy-dex/uuid", weakRegion, acct)}}
	return seeded{weakARN: weakARN, fortARN: fortARN}
}

// ensureInternetRoute gives the default VPC's main route table a default route to an internet
// gateway, as in a real account.
func ensureInternetRoute(s *seeder, c *ec2.Client, vpc string) {
	rts, err := c.DescribeRouteTables(s.ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}})
	s.must(err, "default route tables")
	for _, rt := range rts.RouteTables {
		for _, r := range rt.Routes {
			if aws.ToString(r.DestinationCidrBlock) == "0.0.0.0/0" && strings.HasPrefix(aws.ToString(r.GatewayId), "igw-") {
				return
			}
		}
	}
	igw, err := c.CreateInternetGateway(s.ctx, &ec2.CreateInternetGatewayInput{})
	s.must(err, "internet gateway")
	_, err = c.AttachInternetGateway(s.ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: aws.String(vpc)})
	s.must(err, "attach internet gateway")
	for _, rt := range rts.RouteTables {
		for _, a := range rt.Associations {
			if aws.ToBool(a.Main) {
				_, err = c.CreateRoute(s.ctx, &ec2.CreateRouteInput{RouteTableId: rt.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw.InternetGateway.InternetGatewayId})
				s.must(err, "default route")
				return
			}
		}
	}
	s.t.Fatal("the default VPC has no main route table")
}

// TestCatalogVerdictsOnWeakAndHardenedClusters scans both clusters and both regions' account
// services through the CLI and checks every check's verdicts, resource by resource.
func TestCatalogVerdictsOnWeakAndHardenedClusters(t *testing.T) {
	// moto knows AWS managed policies (AmazonEKSClusterPolicy, ...) only when asked to load them.
	t.Setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
	m := harness.StartMoto(t)
	m.SetEnv(t)
	compat, proxy := newEKSCompat(t, m.URL)
	seedCatalogEstate(t, m.URL, compat)
	t.Setenv("AWS_ENDPOINT_URL", proxy.URL)

	code, doc, out := runSek(t, "scan", "--region", weakRegion, "--region", fortRegion, "--output", "json")
	if code != cli.ExitOK {
		t.Fatalf("exit %d, want 0 (no --fail-on); output:\n%s", code, out)
	}
	if len(doc.Errors) != 0 {
		t.Fatalf("scope errors: %v", doc.Errors)
	}
	// verdicts[scope][check] lists "STATUS@resource-kind" for every result, sorted.
	got := map[string]map[string][]string{}
	for _, r := range doc.Results {
		scope := r["clusterName"].(string)
		if scope == "" {
			scope = "services@" + r["region"].(string)
		}
		if got[scope] == nil {
			got[scope] = map[string][]string{}
		}
		id := r["checkId"].(string)
		got[scope][id] = append(got[scope][id], r["status"].(string)+"@"+resourceKind(r["resourceArn"].(string)))
		if r["status"] == "ERROR" {
			t.Errorf("%s %s: ERROR on a fully emulated estate: %s", scope, id, r["message"])
		}
	}
	for _, m := range got {
		for id := range m {
			sort.Strings(m[id])
		}
	}
	for scope, checks := range expectedCatalogVerdicts() {
		for id, want := range checks {
			sort.Strings(want)
			if fmt.Sprint(got[scope][id]) != fmt.Sprint(want) {
				t.Errorf("%s %s: got %v, want %v", scope, id, got[scope][id], want)
			}
		}
	}
	// Every check of the catalog must have been judged on both clusters or both regions.
	for scope, checks := range got {
		for id := range checks {
			if _, ok := expectedCatalogVerdicts()[scope][id]; !ok {
				t.Errorf("%s %s: %v has no expectation", scope, id, checks[id])
			}
		}
	}
	for scope, checks := range expectedCatalogVerdicts() {
		if len(got[scope]) != len(checks) {
			t.Errorf("%s: %d checks gave results, want %d", scope, len(got[scope]), len(checks))
		}
	}
	t.Logf("summary: %v; EKS handler calls: %v", doc.Summary["byStatus"], compat.calls)
	for call, n := range compat.exact {
		if n > 1 && !strings.Contains(call, " POST ") {
			t.Errorf("%s was called %d times in one scan; shared lookups must be made once", call, n)
		}
	}
	if n := compat.calls["GET clusters/*/addons"]; n == 0 {
		t.Errorf("the EKS handler served no ListAddons call: %v", compat.calls)
	}
}

// resourceKind names the kind of resource a result is about, from its ARN.
func resourceKind(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return arn
	}
	res := parts[5]
	if i := strings.IndexAny(res, "/"); i >= 0 {
		res = res[:i]
	}
	return parts[2] + ":" + res
}

// expectedCatalogVerdicts is what the seeded estate must give, per scope and check: one
// "STATUS@service:resource-kind" per result. Each weak verdict follows from a deliberate flaw
// seeded above; each hardened one from the matching control.
func expectedCatalogVerdicts() map[string]map[string][]string {
	cl, ng, addon, entry := "eks:cluster", "eks:nodegroup", "eks:addon", "eks:access-entry"
	r := func(items ...string) []string { return items }
	fort := map[string][]string{}
	for _, c := range sekeks.Checks() {
		fort[c.ID] = r("PASS@" + cl)
	}
	for _, id := range []string{"EKS_GUARDDUTY_AUDIT_LOGS", "EKS_GUARDDUTY_RUNTIME", "EKS_INSPECTOR_ENABLED", "ECR_SCAN_ON_PUSH", "ECR_TAG_IMMUTABLE", "ECR_LIFECYCLE", "ECR_USER_ACCESS_MIN"} {
		delete(fort, id)
	}
	fort["EKS_IDP_CONFIG_TAGGED"] = r("PASS@eks:identityproviderconfig")
	fort["EKS_ACCESS_ENTRY_CLUSTER_ADMIN"] = r("PASS@"+entry, "PASS@"+entry, "PASS@"+cl)
	fort["EKS_ACCESS_ENTRY_STALE"] = r("PASS@"+entry, "PASS@"+entry)
	fort["EKS_IRSA_TRUST_SCOPED"] = r("PASS@iam:role")
	fort["EKS_POD_IDENTITY_ROLES"] = r("PASS@eks:podidentityassociation")
	for _, id := range []string{"EKS_NODE_ROLE_LEAST_PRIV", "EKS_NODEGROUP_SSH_OPEN", "EKS_NODE_IMDS", "EKS_NODE_PRIVATE_SUBNETS", "EKS_NODE_SG_OPEN", "EKS_NODE_EBS_ENCRYPTED", "EKS_NODEGROUP_VERSION_SKEW"} {
		fort[id] = r("PASS@" + ng)
	}
	fort["EKS_HEALTH_ISSUES"] = r("PASS@"+cl, "PASS@"+ng, "PASS@"+addon, "PASS@"+addon)
	fort["EKS_ADDON_CURRENT"] = r("PASS@"+addon, "PASS@"+addon)
	fort["EKS_LB_TLS"] = r("PASS@elasticloadbalancing:loadbalancer") // HTTPS, and HTTP redirects to it

	weak := map[string][]string{}
	for id := range fort {
		weak[id] = r("FAIL@" + cl)
	}
	weak["EKS_VERSION_OLDEST_SUPPORTED"] = r("PASS@" + cl)               // 1.33 is newer than the oldest supported, 1.32
	weak["EKS_SECRETS_KMS_KEY_HEALTH"] = r("NOT_APPLICABLE@" + cl)       // no secrets encryption, so no key
	weak["EKS_AUDIT_LOGGING"] = r("PASS@" + cl)                          // audit is its only log type
	weak["EKS_OIDC_PROVIDER"] = r("PASS@" + cl)                          // no OIDC provider, but Pod Identity is in use
	weak["EKS_IDP_CONFIG_TAGGED"] = r("FAIL@eks:identityproviderconfig") // legacy-dex is untagged
	weak["EKS_ACCESS_ENTRY_CLUSTER_ADMIN"] = r("FAIL@"+entry, "FAIL@"+entry, "PASS@"+cl)
	weak["EKS_ACCESS_ENTRY_STALE"] = r("PASS@"+entry, "FAIL@"+entry) // alice exists; the contractor's role does not
	weak["EKS_IRSA_TRUST_SCOPED"] = r("FAIL@iam:role")
	weak["EKS_POD_IDENTITY_ROLES"] = r("FAIL@eks:podidentityassociation")
	weak["EKS_NODE_ROLE_LEAST_PRIV"] = r("FAIL@"+ng, "FAIL@"+ng)
	weak["EKS_NODEGROUP_SSH_OPEN"] = r("FAIL@"+ng, "PASS@"+ng) // legacy uses a launch template, so no EKS SSH
	weak["EKS_NODE_IMDS"] = r("FAIL@"+ng, "FAIL@"+ng)
	weak["EKS_NODE_PRIVATE_SUBNETS"] = r("FAIL@"+ng, "FAIL@"+ng)
	weak["EKS_NODE_SG_OPEN"] = r("FAIL@"+ng, "FAIL@"+ng)
	weak["EKS_NODE_EBS_ENCRYPTED"] = r("FAIL@"+ng, "FAIL@"+ng)
	weak["EKS_NODEGROUP_VERSION_SKEW"] = r("FAIL@"+ng, "PASS@"+ng) // legacy is 1.29 on AL2; ssh is current
	weak["EKS_HEALTH_ISSUES"] = r("PASS@"+cl, "PASS@"+ng, "PASS@"+ng, "PASS@"+addon, "FAIL@"+addon)
	weak["EKS_ADDON_CURRENT"] = r("FAIL@"+addon, "PASS@"+addon)
	weak["EKS_LB_TLS"] = r("FAIL@elasticloadbalancing:loadbalancer") // plain HTTP; "unrelated" is not the cluster's

	svc := func(status string) map[string][]string {
		return map[string][]string{
			"EKS_GUARDDUTY_AUDIT_LOGS": r(status + "@guardduty:detector"), "EKS_GUARDDUTY_RUNTIME": r(status + "@guardduty:detector"),
			"EKS_INSPECTOR_ENABLED": r(status + "@eks:region-services"), "ECR_SCAN_ON_PUSH": r(status + "@ecr:repository"),
			"ECR_TAG_IMMUTABLE": r(status + "@ecr:repository"), "ECR_LIFECYCLE": r(status + "@ecr:repository"), "ECR_USER_ACCESS_MIN": r(status + "@ecr:repository"),
		}
	}
	return map[string]map[string][]string{"fortress": fort, "weak": weak, "services@" + fortRegion: svc("PASS"), "services@" + weakRegion: svc("FAIL")}
}

// TestCatalogErrorsAreScopedToTheMissingFact checks that an API the emulator lacks, or a denied
// permission, turns only the checks needing that fact into ERROR, naming the IAM action, while
// every other check still gives its verdict.
func TestCatalogErrorsAreScopedToTheMissingFact(t *testing.T) {
	t.Setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
	m := harness.StartMoto(t)
	m.SetEnv(t)
	compat, proxy := newEKSCompat(t, m.URL)
	seedCatalogEstate(t, m.URL, compat)

	verdicts := func(args ...string) map[string]map[string]string {
		t.Helper()
		code, doc, out := runSek(t, append([]string{"scan", "--region", fortRegion, "--output", "json"}, args...)...)
		if code != cli.ExitOK || len(doc.Errors) != 0 {
			t.Fatalf("exit %d, scope errors %v; output:\n%s", code, doc.Errors, out)
		}
		got := map[string]map[string]string{}
		for _, r := range doc.Results {
			id := r["checkId"].(string)
			if got[id] == nil {
				got[id] = map[string]string{}
			}
			got[id][r["status"].(string)] = r["message"].(string)
		}
		return got
	}
	expectError := func(got map[string]map[string]string, id, action string) {
		t.Helper()
		msg, ok := got[id]["ERROR"]
		if !ok || len(got[id]) != 1 {
			t.Errorf("%s: got %v, want only ERROR", id, got[id])
		} else if !strings.Contains(msg, action) {
			t.Errorf("%s: ERROR message does not name %s: %s", id, action, msg)
		}
	}
	expectOnly := func(got map[string]map[string]string, id, status string) {
		t.Helper()
		if _, ok := got[id][status]; !ok || len(got[id]) != 1 {
			t.Errorf("%s: got %v, want only %s", id, got[id], status)
		}
	}

	t.Run("APIs moto lacks are errors for the checks that need them, not crashes or passes", func(t *testing.T) {
		t.Setenv("AWS_ENDPOINT_URL", m.URL)
		got := verdicts()
		expectError(got, "EKS_ADDON_CURRENT", "eks:ListAddons")
		expectError(got, "EKS_NETWORK_POLICY", "eks:ListAddons")
		expectError(got, "EKS_ACCESS_ENTRY_STALE", "eks:ListAccessEntries")
		expectError(got, "EKS_POD_IDENTITY_ROLES", "eks:ListPodIdentityAssociations")
		expectError(got, "EKS_IDP_CONFIG_TAGGED", "eks:ListIdentityProviderConfigs")
		expectError(got, "EKS_PLATFORM_VERSION_LATEST", "eks:DescribeClusterVersions")
		// moto leaves accessConfig out of DescribeCluster: an error, never a guess.
		expectError(got, "EKS_AUTH_MODE_API", "authenticationMode")
		for _, id := range []string{"EKS_SECRETS_ENCRYPTION", "EKS_SECRETS_KMS_KEY_HEALTH", "EKS_NODE_IMDS", "EKS_NODE_EBS_ENCRYPTED", "EKS_VPC_FLOW_LOGS",
			"EKS_CLUSTER_ROLE_LEAST_PRIV", "EKS_IRSA_TRUST_SCOPED", "EKS_GUARDDUTY_RUNTIME", "ECR_LIFECYCLE"} {
			expectOnly(got, id, "PASS")
		}
		// Without DescribeClusterVersions, support comes from the dated embedded table.
		if msg := got["EKS_VERSION_SUPPORTED"]["PASS"]; !strings.Contains(msg, "embedded support table") {
			t.Errorf("EKS_VERSION_SUPPORTED: %v, want a PASS naming the embedded table", got["EKS_VERSION_SUPPORTED"])
		}
	})

	t.Run("a scan narrowed to a cluster skips the account services unless they are named", func(t *testing.T) {
		t.Setenv("AWS_ENDPOINT_URL", proxy.URL)
		scopes := func(args ...string) map[string]int {
			t.Helper()
			code, doc, out := runSek(t, append([]string{"scan", "--region", fortRegion, "--output", "json"}, args...)...)
			if code != cli.ExitOK || len(doc.Errors) != 0 {
				t.Fatalf("exit %d, scope errors %v; output:\n%s", code, doc.Errors, out)
			}
			n := map[string]int{}
			for _, r := range doc.Results {
				n[r["clusterName"].(string)]++
			}
			return n
		}
		if n := scopes("--cluster", "fortress"); n[""] != 0 || n["fortress"] == 0 {
			t.Errorf("--cluster fortress: results per cluster %v, want fortress only", n)
		}
		if n := scopes("--cluster", "@account-services"); n[""] != 7 || len(n) != 1 {
			t.Errorf("--cluster @account-services: results per cluster %v, want the 7 account-services results only", n)
		}
	})

	t.Run("a denied permission is an error naming the action, and the other checks still run", func(t *testing.T) {
		t.Setenv("AWS_ENDPOINT_URL", proxy.URL)
		compat.mu.Lock()
		compat.deny["iam:ListRoles"] = true
		compat.deny["GET clusters/*/access-entries"] = true
		compat.deny["ec2:DescribeFlowLogs"] = true
		compat.mu.Unlock()
		got := verdicts()
		expectError(got, "EKS_IRSA_TRUST_SCOPED", "iam:ListRoles")
		expectError(got, "EKS_ACCESS_ENTRY_CLUSTER_ADMIN", "eks:ListAccessEntries")
		expectError(got, "EKS_ACCESS_ENTRY_STALE", "AccessDenied")
		expectError(got, "EKS_VPC_FLOW_LOGS", "ec2:DescribeFlowLogs")
		for _, id := range []string{"EKS_OIDC_PROVIDER", "EKS_CLUSTER_ROLE_LEAST_PRIV", "EKS_NODE_ROLE_LEAST_PRIV", "EKS_ADDON_CURRENT", "EKS_NETWORK_POLICY",
			"EKS_PLATFORM_VERSION_LATEST", "EKS_NO_DEFAULT_VPC", "ECR_PRIVATE_ENDPOINT", "EKS_GUARDDUTY_AUDIT_LOGS"} {
			expectOnly(got, id, "PASS")
		}
	})
}

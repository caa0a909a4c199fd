// Package demo seeds an emulated AWS account (moto) with sample EKS clusters, hardened and
// deliberately weak, across several regions. `make demo` and the integration tests share it, so
// the demo shows exactly what the tests verify.
package demo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
)

// ClusterSpec describes one sample cluster.
type ClusterSpec struct {
	Region         string
	Name           string
	Version        string
	PublicAccess   bool
	PrivateAccess  bool
	PublicCIDRs    []string
	LogTypes       []ekstypes.LogType
	EncryptSecrets bool
	RotateKey      bool
	Tags           map[string]string
	// Hardened adds what a well-run cluster has around it and the wider catalog checks: VPC flow
	// logs, ECR/S3/STS endpoints, and a control-plane log group with retention and a KMS key.
	Hardened bool
}

// Regions used by the sample estate.
func Regions() []string { return []string{"us-east-1", "eu-west-1", "ap-southeast-2"} }

// Clusters returns the sample estate: one hardened cluster and several weak ones, so every core
// check has both a PASS and a FAIL to show.
func Clusters() []ClusterSpec {
	all := []ekstypes.LogType{"api", "audit", "authenticator", "controllerManager", "scheduler"}
	return []ClusterSpec{
		{Region: "us-east-1", Name: "prod-payments", Version: "1.35", PrivateAccess: true, LogTypes: all,
			EncryptSecrets: true, RotateKey: true, Tags: map[string]string{"team": "payments", "env": "prod"}, Hardened: true},
		{Region: "us-east-1", Name: "dev-sandbox", Version: "1.29", PublicAccess: true, PrivateAccess: false,
			PublicCIDRs: []string{"0.0.0.0/0"}},
		{Region: "eu-west-1", Name: "analytics", Version: "1.32", PublicAccess: true, PrivateAccess: true,
			PublicCIDRs: []string{"203.0.113.0/24"}, LogTypes: []ekstypes.LogType{"audit"}, EncryptSecrets: true, RotateKey: false,
			Tags: map[string]string{"team": "data"}},
		{Region: "ap-southeast-2", Name: "edge", Version: "1.34", PublicAccess: true, PrivateAccess: true,
			PublicCIDRs: []string{"0.0.0.0/0"}, LogTypes: []ekstypes.LogType{"api", "audit"}},
	}
}

// ConfigFor returns the SDK config for a region.
type ConfigFor func(region string) aws.Config

// Seed creates the sample clusters and enables Security Hub in each region.
func Seed(ctx context.Context, cfgFor ConfigFor, specs []ClusterSpec) error {
	roleARN, err := clusterRole(ctx, iam.NewFromConfig(cfgFor("us-east-1")))
	if err != nil {
		return err
	}
	hubs := map[string]bool{}
	for _, s := range specs {
		if err := CreateCluster(ctx, cfgFor(s.Region), roleARN, s); err != nil {
			return err
		}
		if !hubs[s.Region] {
			hubs[s.Region] = true
			if _, err := securityhub.NewFromConfig(cfgFor(s.Region)).EnableSecurityHub(ctx, &securityhub.EnableSecurityHubInput{}); err != nil {
				return fmt.Errorf("enable Security Hub in %s: %w", s.Region, err)
			}
		}
	}
	return nil
}

func clusterRole(ctx context.Context, api *iam.Client) (string, error) {
	out, err := api.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String("sek-demo-cluster-role"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	})
	if err != nil {
		return "", fmt.Errorf("create demo cluster role: %w", err)
	}
	return aws.ToString(out.Role.Arn), nil
}

// CreateCluster creates one cluster (with its VPC, subnets and, if asked, a KMS key).
func CreateCluster(ctx context.Context, cfg aws.Config, roleARN string, s ClusterSpec) error {
	ec := ec2.NewFromConfig(cfg)
	vpc, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		return fmt.Errorf("create VPC for %s: %w", s.Name, err)
	}
	var subnets []string
	for i, az := range []string{"a", "b"} {
		sn, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{
			VpcId:            vpc.Vpc.VpcId,
			CidrBlock:        aws.String(fmt.Sprintf("10.0.%d.0/24", i)),
			AvailabilityZone: aws.String(s.Region + az),
		})
		if err != nil {
			return fmt.Errorf("create subnet for %s: %w", s.Name, err)
		}
		subnets = append(subnets, aws.ToString(sn.Subnet.SubnetId))
	}
	sg, err := ec.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName: aws.String(s.Name + "-cluster"), Description: aws.String("sek demo cluster SG"), VpcId: vpc.Vpc.VpcId,
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroup, Tags: []ec2types.Tag{{Key: aws.String("sek-demo"), Value: aws.String(s.Name)}}}},
	})
	if err != nil {
		return fmt.Errorf("create security group for %s: %w", s.Name, err)
	}
	in := &eks.CreateClusterInput{
		Name:    aws.String(s.Name),
		Version: aws.String(s.Version),
		RoleArn: aws.String(roleARN),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{
			SubnetIds:             subnets,
			SecurityGroupIds:      []string{aws.ToString(sg.GroupId)},
			EndpointPublicAccess:  aws.Bool(s.PublicAccess),
			EndpointPrivateAccess: aws.Bool(s.PrivateAccess),
			PublicAccessCidrs:     s.PublicCIDRs,
		},
		Tags: s.Tags,
	}
	if len(s.LogTypes) > 0 {
		in.Logging = &ekstypes.Logging{ClusterLogging: []ekstypes.LogSetup{{Enabled: aws.Bool(true), Types: s.LogTypes}}}
	}
	if s.EncryptSecrets {
		k := kms.NewFromConfig(cfg)
		key, err := k.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("sek demo secrets key for " + s.Name)})
		if err != nil {
			return fmt.Errorf("create KMS key for %s: %w", s.Name, err)
		}
		if s.RotateKey {
			if _, err := k.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: key.KeyMetadata.KeyId}); err != nil {
				return fmt.Errorf("enable rotation of the key for %s: %w", s.Name, err)
			}
		}
		in.EncryptionConfig = []ekstypes.EncryptionConfig{{Resources: []string{"secrets"}, Provider: &ekstypes.Provider{KeyArn: key.KeyMetadata.Arn}}}
	}
	if _, err := eks.NewFromConfig(cfg).CreateCluster(ctx, in); err != nil {
		return fmt.Errorf("create cluster %s in %s: %w", s.Name, s.Region, err)
	}
	if s.Hardened {
		return harden(ctx, cfg, roleARN, aws.ToString(vpc.Vpc.VpcId), subnets, s)
	}
	return nil
}

// harden creates the cluster's surroundings that the wider catalog expects of a hardened cluster.
func harden(ctx context.Context, cfg aws.Config, roleARN, vpcID string, subnets []string, s ClusterSpec) error {
	ec := ec2.NewFromConfig(cfg)
	if _, err := ec.CreateFlowLogs(ctx, &ec2.CreateFlowLogsInput{
		ResourceIds: []string{vpcID}, ResourceType: ec2types.FlowLogsResourceTypeVpc, TrafficType: ec2types.TrafficTypeAll,
		LogGroupName: aws.String("/sek-demo/flow-logs/" + s.Name), DeliverLogsPermissionArn: aws.String(roleARN),
	}); err != nil {
		return fmt.Errorf("create flow logs for %s: %w", s.Name, err)
	}
	for _, svc := range []string{"ecr.api", "ecr.dkr", "sts", "s3"} {
		in := &ec2.CreateVpcEndpointInput{VpcId: aws.String(vpcID), ServiceName: aws.String("com.amazonaws." + s.Region + "." + svc), VpcEndpointType: ec2types.VpcEndpointTypeInterface, SubnetIds: subnets}
		if svc == "s3" {
			in.VpcEndpointType, in.SubnetIds = ec2types.VpcEndpointTypeGateway, nil
		}
		if _, err := ec.CreateVpcEndpoint(ctx, in); err != nil {
			return fmt.Errorf("create %s endpoint for %s: %w", svc, s.Name, err)
		}
	}
	key, err := kms.NewFromConfig(cfg).CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("sek demo log key for " + s.Name)})
	if err != nil {
		return fmt.Errorf("create log key for %s: %w", s.Name, err)
	}
	// EKS creates this group when logging is enabled; the emulator does not, so the demo does.
	group := aws.String("/aws/eks/" + s.Name + "/cluster")
	lc := cloudwatchlogs.NewFromConfig(cfg)
	if _, err := lc.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: group, KmsKeyId: key.KeyMetadata.Arn}); err != nil {
		return fmt.Errorf("create log group for %s: %w", s.Name, err)
	}
	if _, err := lc.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: group, RetentionInDays: aws.Int32(365)}); err != nil {
		return fmt.Errorf("set log retention for %s: %w", s.Name, err)
	}
	return nil
}

package asff

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/awsclient"
)

// Resource types from the ASFF resource list that Sek's resources can be. Anything else is
// reported as "Other", as the ASFF guide asks, with Sek's own type in Details.Other.
const (
	ResourceEksCluster = "AwsEksCluster"
	ResourceOther      = "Other"
	ResourceAccount    = "AwsAccount"
)

var knownResourceTypes = map[string]bool{
	ResourceEksCluster:     true,
	ResourceAccount:        true,
	"AwsEc2SecurityGroup":  true,
	"AwsEc2Subnet":         true,
	"AwsEc2Vpc":            true,
	"AwsEc2Instance":       true,
	"AwsEc2LaunchTemplate": true,
	"AwsIamRole":           true,
	"AwsIamUser":           true,
	"AwsIamPolicy":         true,
	"AwsKmsKey":            true,
	"AwsEcrRepository":     true,
	"AwsGuardDutyDetector": true,
}

// arnTypes infers the ASFF type from "service:resource-prefix" of an ARN, for results whose
// ResourceType is Sek-specific or empty.
var arnTypes = map[string]string{
	"eks:cluster":         ResourceEksCluster,
	"ec2:security-group":  "AwsEc2SecurityGroup",
	"ec2:subnet":          "AwsEc2Subnet",
	"ec2:vpc":             "AwsEc2Vpc",
	"ec2:instance":        "AwsEc2Instance",
	"ec2:launch-template": "AwsEc2LaunchTemplate",
	"iam:role":            "AwsIamRole",
	"iam:user":            "AwsIamUser",
	"iam:policy":          "AwsIamPolicy",
	"kms:key":             "AwsKmsKey",
	"ecr:repository":      "AwsEcrRepository",
	"guardduty:detector":  "AwsGuardDutyDetector",
}

// ResourceType is the ASFF resource type of a result's resource.
func ResourceType(r audit.Result) string {
	if knownResourceTypes[r.ResourceType] {
		return r.ResourceType
	}
	if r.ResourceARN == "" {
		return ResourceAccount
	}
	if t := arnType(r.ResourceARN); t != "" {
		return t
	}
	return ResourceOther
}

func arnType(s string) string {
	a, err := arn.Parse(s)
	if err != nil {
		return ""
	}
	res := a.Resource
	if i := strings.IndexAny(res, "/:"); i >= 0 {
		res = res[:i]
	}
	return arnTypes[a.Service+":"+res]
}

func resources(r audit.Result) []shtypes.Resource {
	partition := shtypes.Partition(awsclient.Partition(r.Region))
	typ := ResourceType(r)
	primary := shtypes.Resource{
		Id:        aws.String(ResultResourceID(r)),
		Type:      aws.String(typ),
		Partition: partition,
		Region:    aws.String(r.Region),
	}
	switch typ {
	case ResourceEksCluster:
		primary.Details = &shtypes.ResourceDetails{AwsEksCluster: eksClusterDetails(r)}
	case ResourceOther:
		other := map[string]string{}
		if r.ResourceType != "" {
			other["SekResourceType"] = truncateRunes(r.ResourceType, MaxOtherValueLen, ellipsis)
		}
		if r.ClusterName != "" {
			other["Cluster"] = truncateRunes(r.ClusterName, MaxOtherValueLen, ellipsis)
		}
		if len(other) > 0 {
			primary.Details = &shtypes.ResourceDetails{Other: other}
		}
	}
	out := []shtypes.Resource{primary}
	// A node group, add-on or role finding also names its cluster, so console filters by cluster
	// find it.
	if typ != ResourceEksCluster && r.ClusterName != "" {
		arn := fmt.Sprintf("arn:%s:eks:%s:%s:cluster/%s", partition, r.Region, r.AccountID, r.ClusterName)
		out = append(out, shtypes.Resource{
			Id:        aws.String(arn),
			Type:      aws.String(ResourceEksCluster),
			Partition: partition,
			Region:    aws.String(r.Region),
			Details: &shtypes.ResourceDetails{AwsEksCluster: &shtypes.AwsEksClusterDetails{
				Arn:  aws.String(arn),
				Name: aws.String(r.ClusterName),
			}},
		})
	}
	return out
}

var clusterStatuses = map[string]bool{"ACTIVE": true, "CREATING": true, "DELETING": true, "FAILED": true, "PENDING": true, "UPDATING": true}

// eksClusterDetails follows the API model (AwsEksClusterDetails), not the user-guide example,
// which shows fields the API does not have.
func eksClusterDetails(r audit.Result) *shtypes.AwsEksClusterDetails {
	d := &shtypes.AwsEksClusterDetails{Arn: aws.String(r.ResourceARN)}
	name := r.ClusterName
	if name == "" {
		if i := strings.LastIndex(r.ResourceARN, "cluster/"); i >= 0 {
			name = r.ResourceARN[i+len("cluster/"):]
		}
	}
	if name != "" {
		d.Name = aws.String(name)
	}
	fact := func(k string) (string, bool) {
		v, ok := r.Facts[k]
		v = strings.TrimSpace(v)
		return v, ok && v != "" && len(v) < MaxFieldBytes
	}
	if v, ok := fact(FactVersion); ok {
		d.Version = aws.String(v)
	}
	if v, ok := fact(FactRoleARN); ok {
		d.RoleArn = aws.String(v)
	}
	if v, ok := fact(FactEndpoint); ok {
		d.Endpoint = aws.String(v)
	}
	if v, ok := fact(FactClusterStatus); ok && clusterStatuses[strings.ToUpper(v)] {
		d.ClusterStatus = aws.String(strings.ToUpper(v))
	}
	var vpc shtypes.AwsEksClusterResourcesVpcConfigDetails
	hasVPC := false
	if v, ok := fact(FactEndpointPublicAccess); ok {
		if b, err := strconv.ParseBool(v); err == nil {
			vpc.EndpointPublicAccess = aws.Bool(b)
			hasVPC = true
		}
	}
	if v, ok := fact(FactSecurityGroupIDs); ok {
		vpc.SecurityGroupIds = splitList(v)
		hasVPC = true
	}
	if v, ok := fact(FactSubnetIDs); ok {
		vpc.SubnetIds = splitList(v)
		hasVPC = true
	}
	if hasVPC {
		d.ResourcesVpcConfig = &vpc
	}
	var logging []shtypes.AwsEksClusterLoggingClusterLoggingDetails
	if v, ok := fact(FactEnabledLogTypes); ok {
		logging = append(logging, shtypes.AwsEksClusterLoggingClusterLoggingDetails{Enabled: aws.Bool(true), Types: splitList(v)})
	}
	if v, ok := fact(FactDisabledLogTypes); ok {
		logging = append(logging, shtypes.AwsEksClusterLoggingClusterLoggingDetails{Enabled: aws.Bool(false), Types: splitList(v)})
	}
	if len(logging) > 0 {
		d.Logging = &shtypes.AwsEksClusterLoggingDetails{ClusterLogging: logging}
	}
	return d
}

// splitList reads a list fact ("a,b", "a b", "[a b]"), capped so a huge fact cannot bloat the
// finding; the full value is still in ProductFields.
func splitList(s string) []string {
	s = strings.Trim(s, "[]")
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
	if len(fields) > 64 {
		fields = fields[:64]
	}
	return fields
}

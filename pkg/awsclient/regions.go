package awsclient

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// RegionLister is the one EC2 call region discovery needs.
type RegionLister interface {
	DescribeRegions(ctx context.Context, in *ec2.DescribeRegionsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error)
}

// EnabledRegions lists the regions the account can use: those that need no opt-in and those the
// account opted in to. Regions not opted in are left out, because every call there fails.
func EnabledRegions(ctx context.Context, api RegionLister) ([]string, error) {
	out, err := api.DescribeRegions(ctx, &ec2.DescribeRegionsInput{
		AllRegions: aws.Bool(false),
		Filters: []ec2types.Filter{{
			Name:   aws.String("opt-in-status"),
			Values: []string{"opt-in-not-required", "opted-in"},
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("list enabled regions (ec2:DescribeRegions): %w", err)
	}
	regions := make([]string, 0, len(out.Regions))
	for _, r := range out.Regions {
		status := aws.ToString(r.OptInStatus)
		if status == "" || status == "opt-in-not-required" || status == "opted-in" {
			regions = append(regions, aws.ToString(r.RegionName))
		}
	}
	sort.Strings(regions)
	return regions, nil
}

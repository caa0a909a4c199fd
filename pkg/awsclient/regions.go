package awsclient

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
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

// notEnabledCodes are what AWS answers, in a region the account has not opted in to, to
// credentials that are valid everywhere else.
var notEnabledCodes = map[string]bool{"UnrecognizedClientException": true, "AuthFailure": true, "InvalidClientTokenId": true}

// ExplainRegionError adds the likely cause to an error that a region answered with "unknown
// credentials": the region is not enabled for the account. Other errors are returned unchanged.
func ExplainRegionError(region string, err error) error {
	var ae smithy.APIError
	if err == nil || !errors.As(err, &ae) || !notEnabledCodes[ae.ErrorCode()] {
		return err
	}
	return fmt.Errorf("%w (region %s is probably not enabled for this account: enable it under Account → AWS Regions, or leave it out of the scanned regions)", err, region)
}

// Package eks is Sek's Amazon EKS provider: it plugs the EKS collector and checks into the
// provider-neutral audit engine.
package eks

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkeks "github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/checks"
	"github.com/sek-dev/sek/pkg/eks/collect"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// ConfigSource hands out per-region SDK configs and the account id.
type ConfigSource interface {
	Config(region string) aws.Config
	AccountID(ctx context.Context) (string, error)
}

// Provider audits EKS clusters.
type Provider struct {
	configs ConfigSource
	rules   []checks.ClusterRule
}

// New returns the EKS provider.
func New(configs ConfigSource) *Provider {
	return &Provider{configs: configs, rules: checks.ClusterRules()}
}

// Checks returns the metadata of every EKS check.
func Checks() []audit.Check { return audit.Meta(checks.ClusterRules()) }

// BasePermissions are the IAM actions discovery needs regardless of which checks run.
func BasePermissions() []string {
	return []string{"eks:ListClusters", "ec2:DescribeRegions", "sts:GetCallerIdentity"}
}

// Name implements audit.Provider.
func (p *Provider) Name() string { return "eks" }

// Checks implements audit.Provider.
func (p *Provider) Checks() []audit.Check { return audit.Meta(p.rules) }

// Open implements audit.Provider: one session per region, holding the region's clients and caches.
func (p *Provider) Open(ctx context.Context, region string) (audit.Session, error) {
	account, err := p.configs.AccountID(ctx)
	if err != nil {
		return nil, err
	}
	cfg := p.configs.Config(region)
	return &session{
		provider: p,
		region: &collect.Region{
			Name:      region,
			AccountID: account,
			Partition: partitionOf(region),
			Clients: collect.Clients{
				EKS: sdkeks.NewFromConfig(cfg),
				KMS: kms.NewFromConfig(cfg),
			},
		},
	}, nil
}

type session struct {
	provider *Provider
	region   *collect.Region
}

// AccountID names the account of the region, so an empty region still has a complete scope.
func (s *session) AccountID() string { return s.region.AccountID }

func (s *session) Discover(ctx context.Context, names []string) ([]audit.Target, error) {
	all, err := s.region.ListClusters(ctx)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []audit.Target
	for _, n := range all {
		if len(want) > 0 && !want[n] {
			continue
		}
		out = append(out, audit.Target{
			Kind:         inventory.KindCluster,
			Name:         n,
			ARN:          fmt.Sprintf("arn:%s:eks:%s:%s:cluster/%s", s.region.Partition, s.region.Name, s.region.AccountID, n),
			ResourceType: inventory.TypeCluster,
			AccountID:    s.region.AccountID,
			Region:       s.region.Name,
			Cluster:      n,
		})
	}
	return out, nil
}

func (s *session) Collect(ctx context.Context, t audit.Target) (audit.Evaluator, error) {
	c, err := s.region.Cluster(ctx, t.Name)
	if err != nil {
		return nil, err
	}
	if c.ARN != "" {
		t.ARN = c.ARN
	}
	return audit.Bind(s.provider.rules, c, t), nil
}

func partitionOf(region string) string {
	switch {
	case len(region) > 3 && region[:3] == "cn-":
		return "aws-cn"
	case len(region) > 7 && region[:7] == "us-gov-":
		return "aws-us-gov"
	}
	return "aws"
}

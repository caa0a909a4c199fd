// Package eks is Sek's Amazon EKS provider: it plugs the EKS collector and checks into the
// provider-neutral audit engine.
package eks

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	sdkeks "github.com/aws/aws-sdk-go-v2/service/eks"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/awsclient"
	"github.com/sek-dev/sek/pkg/eks/checks"
	"github.com/sek-dev/sek/pkg/eks/collect"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// ConfigSource hands out per-region SDK configs and the account id.
type ConfigSource interface {
	Config(region string) aws.Config
	AccountID(ctx context.Context) (string, error)
}

// Provider audits EKS clusters and, once per region, the account services that protect them.
// Create one Provider per scan: it holds the scan's IAM cache (IAM is global, so the regions of
// a scan share it), and a later scan must not see this one's IAM answers.
type Provider struct {
	configs     ConfigSource
	rules       []checks.ClusterRule
	regionRules []checks.RegionRule
	iam         *collect.IAMCache
	index       *ClusterIndex
}

// New returns the EKS provider.
func New(configs ConfigSource) *Provider {
	return &Provider{configs: configs, rules: checks.ClusterRules(), regionRules: checks.RegionRules(), iam: collect.NewIAMCache()}
}

// Checks returns the metadata of every EKS check: the per-cluster ones, then the per-region ones.
func Checks() []audit.Check {
	return append(audit.Meta(checks.ClusterRules()), audit.Meta(checks.RegionRules())...)
}

// BasePermissions are the IAM actions discovery needs regardless of which checks run.
func BasePermissions() []string {
	return []string{"eks:ListClusters", "ec2:DescribeRegions", "sts:GetCallerIdentity"}
}

// Name implements audit.Provider.
func (p *Provider) Name() string { return "eks" }

// Checks implements audit.Provider.
func (p *Provider) Checks() []audit.Check {
	return append(audit.Meta(p.rules), audit.Meta(p.regionRules)...)
}

// Open implements audit.Provider: one session per region, holding the region's clients and caches.
// The account id is resolved while discovery's first calls are in flight (see Discover), so it
// adds no round trip of its own.
func (p *Provider) Open(ctx context.Context, region string) (audit.Session, error) {
	cfg := p.configs.Config(region)
	s := &session{
		provider:     p,
		accountReady: make(chan struct{}),
		region: &collect.Region{
			Name:      region,
			Partition: partitionOf(region),
			IAM:       p.iam,
			Base:      ctx,
			Clients: collect.Clients{
				EKS:       sdkeks.NewFromConfig(cfg),
				KMS:       kms.NewFromConfig(cfg),
				EC2:       ec2.NewFromConfig(cfg),
				IAM:       iam.NewFromConfig(cfg),
				Logs:      cloudwatchlogs.NewFromConfig(cfg),
				GuardDuty: guardduty.NewFromConfig(cfg),
				Inspector: inspector2.NewFromConfig(cfg),
				ECR:       ecr.NewFromConfig(cfg),
				SSM:       ssm.NewFromConfig(cfg),
				ELB:       elbv2.NewFromConfig(cfg),
			},
		},
	}
	go func() {
		defer close(s.accountReady)
		s.account, s.accountErr = p.configs.AccountID(ctx)
	}()
	return s, nil
}

type session struct {
	provider *Provider
	region   *collect.Region

	accountReady chan struct{}
	account      string
	accountErr   error

	mu       sync.Mutex
	clusters []string
}

// AccountID names the account of the region, so an empty region still has a complete scope.
func (s *session) AccountID() string { return s.region.AccountID }

// Discover lists the clusters and, when the region has any, its account-services target.
//
// The account-services target is emitted only when discovery is not narrowed to names, or when
// its own name (inventory.RegionServicesName, which no EKS cluster can have) is among them. A
// scan narrowed to clusters, such as an event-driven audit of one cluster, is about those
// clusters: re-judging the region's GuardDuty, Inspector and ECR on every cluster event would
// duplicate work and findings' churn without saying anything new about the cluster.
func (s *session) Discover(ctx context.Context, names []string) ([]audit.Target, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	// A scan narrowed to clusters describes them directly; otherwise the region is listed. Either
	// way the calls go out while the account id is still being resolved.
	direct := len(names) > 0 && !want[inventory.RegionServicesName]
	var (
		all     []string
		listErr error
		listed  = make(chan struct{})
	)
	go func() {
		defer close(listed)
		if direct {
			all, listErr = s.region.DescribeNamed(ctx, names)
		} else {
			all, listErr = s.provider.listClusters(ctx, s.region)
		}
	}()
	<-s.accountReady
	<-listed
	if s.accountErr != nil {
		return nil, s.accountErr
	}
	s.region.AccountID = s.account
	if listErr != nil {
		return nil, awsclient.ExplainRegionError(s.region.Name, listErr)
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
	s.mu.Lock()
	s.clusters = all
	s.mu.Unlock()
	if len(all) > 0 && (len(want) == 0 || want[inventory.RegionServicesName]) {
		out = append(out, audit.Target{
			Kind:         inventory.KindRegion,
			Name:         inventory.RegionServicesName,
			ARN:          RegionServicesARN(s.region.Partition, s.region.Name, s.region.AccountID),
			ResourceType: inventory.TypeAccount,
			AccountID:    s.region.AccountID,
			Region:       s.region.Name,
		})
	}
	return out, nil
}

// RegionServicesARN names a region's account services in results that have no better resource
// (Inspector's account status, a region without a GuardDuty detector).
func RegionServicesARN(partition, region, account string) string {
	return fmt.Sprintf("arn:%s:eks:%s:%s:%s", partition, region, account, inventory.RegionServicesLabel)
}

func (s *session) Collect(ctx context.Context, t audit.Target) (audit.Evaluator, error) {
	switch t.Kind {
	case inventory.KindCluster:
		c, err := s.region.Cluster(ctx, t.Name)
		if err != nil {
			return nil, err
		}
		if c.ARN != "" {
			t.ARN = c.ARN
		}
		return audit.Bind(s.provider.rules, c, t), nil
	case inventory.KindRegion:
		s.mu.Lock()
		clusters := append([]string(nil), s.clusters...)
		s.mu.Unlock()
		rs, err := s.region.Services(ctx, t.ARN, clusters)
		if err != nil {
			return nil, err
		}
		return audit.Bind(s.provider.regionRules, rs, t), nil
	}
	return nil, fmt.Errorf("unknown target kind %q for %s", t.Kind, t.Name)
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

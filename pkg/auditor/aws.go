package auditor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	sh "github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/awsclient"
	"github.com/sek-dev/sek/pkg/config"
	sekeks "github.com/sek-dev/sek/pkg/eks"
	"github.com/sek-dev/sek/pkg/org"
	"github.com/sek-dev/sek/pkg/runner"
	"github.com/sek-dev/sek/pkg/securityhub"
)

// AWSConnector connects invocations to real AWS. The base SDK configuration is loaded once per
// cold start; the per-region client configs and the account id are kept while they work.
type AWSConnector struct {
	base    aws.Config
	cfg     config.Config
	version string

	mu      sync.Mutex
	factory *awsclient.Factory
}

// NewAWSConnector wraps a base SDK configuration (see awsclient.Load).
func NewAWSConnector(base aws.Config, cfg config.Config, version string) *AWSConnector {
	if len(cfg.Regions) == 0 {
		cfg.AllRegions = true
	}
	return &AWSConnector{base: base, cfg: cfg, version: version}
}

// Connect implements Connect.
func (a *AWSConnector) Connect(ctx context.Context, log *slog.Logger) (*Deps, error) {
	a.mu.Lock()
	if a.factory == nil {
		a.factory = awsclient.NewFactory(a.base)
	}
	f := a.factory
	a.mu.Unlock()
	account, err := f.AccountID(ctx)
	if err != nil {
		// The factory remembers the failure; the next invocation starts afresh.
		a.mu.Lock()
		a.factory = nil
		a.mu.Unlock()
		return nil, err
	}
	pub, err := securityhub.New(securityhub.Options{
		Client:    func(region string) securityhub.API { return sh.NewFromConfig(f.Config(region)) },
		AccountID: account,
		Version:   a.version,
		Checks:    runner.Checks(),
		Logger:    log,
	})
	if err != nil {
		return nil, err
	}
	index := sekeks.NewClusterIndex()
	return &Deps{
		AccountID: account,
		Scanner:   scanner{f: f, cfg: a.cfg, index: index},
		Publisher: pub,
		Clusters:  eksClusters{f: f, index: index},
		Invoker:   lambda.NewFromConfig(f.Base()),
		Org:       orgRunner{base: a.base, cfg: a.cfg, version: a.version, log: log},
	}, nil
}

// orgRunner serves the organization state machine with pkg/org, from the function's own
// credentials (the audit account's).
type orgRunner struct {
	base    aws.Config
	cfg     config.Config
	version string
	log     *slog.Logger
}

func (o orgRunner) PlanItems(ctx context.Context, key string) (org.ItemList, error) {
	return org.PlanItems(ctx, organizations.NewFromConfig(o.base), ec2.NewFromConfig(o.base), s3.NewFromConfig(o.base), o.cfg, key)
}

// RunItem scans the item's account and region with the member role, then publishes into that
// account's Security Hub with the same credentials: a finding can only be imported by its own
// account.
func (o orgRunner) RunItem(ctx context.Context, it org.Item, req runner.Request) (org.AccountRun, error) {
	po := securityhub.PublishOptions{SkippedChecks: o.cfg.Skip, TargetsNarrowed: len(o.cfg.Clusters) > 0}
	after := func(ctx context.Context, acct org.Account, f *awsclient.Factory, rep *audit.Report) (any, error) {
		pub, err := securityhub.New(securityhub.Options{
			Client:    func(region string) securityhub.API { return sh.NewFromConfig(f.Config(region)) },
			AccountID: acct.ID,
			Version:   o.version,
			Checks:    runner.Checks(),
			Logger:    o.log.With("account", acct.ID),
		})
		if err != nil {
			return nil, err
		}
		out, err := pub.Publish(ctx, rep, po)
		if err != nil {
			return nil, err
		}
		if out.Problems() > 0 {
			return out, errors.New(outcomeProblems(out))
		}
		return out, nil
	}
	return org.RunItem(ctx, o.base, it, req, after)
}

type scanner struct {
	f     *awsclient.Factory
	cfg   config.Config
	index *sekeks.ClusterIndex
}

func (s scanner) Regions(ctx context.Context) ([]string, error) {
	return runner.ResolveRegions(ctx, s.f, s.cfg, nil)
}

func (s scanner) Scan(ctx context.Context, req runner.Request) (*audit.Report, error) {
	req.ClusterIndex = s.index
	return runner.Scan(ctx, s.f, req)
}

// eksClusters shares its index with the scanner, so the fan-out estimate's listing is the
// scan's listing and no region is listed twice.
type eksClusters struct {
	f     *awsclient.Factory
	index *sekeks.ClusterIndex
}

func (e eksClusters) Count(ctx context.Context, region string) (int, error) {
	names, err := e.index.Names(ctx, e.f, region)
	return len(names), err
}

// Gone is true when DescribeCluster says the cluster does not exist, or that it is being
// deleted: a deletion cannot be undone, and a cluster that comes back under the same name is
// audited afresh by the next scan.
func (e eksClusters) Gone(ctx context.Context, region, name string) (bool, error) {
	out, err := eks.NewFromConfig(e.f.Config(region)).DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
	var nf *ekstypes.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("describe cluster %s in %s (eks:DescribeCluster): %w", name, region, err)
	case out.Cluster != nil && out.Cluster.Status == ekstypes.ClusterStatusDeleting:
		return true, nil
	}
	return false, nil
}

// Package runner is the one scan pipeline the CLI and the Lambda share: resolve regions, run the
// engine over the EKS provider, apply mutes. Publishing is layered on top by the caller.
package runner

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/awsclient"
	"github.com/sek-dev/sek/pkg/config"
	"github.com/sek-dev/sek/pkg/eks"
)

// Checks is the catalog every entry point validates configuration against.
func Checks() []audit.Check { return eks.Checks() }

// Request is one scan.
type Request struct {
	Config config.Config
	// Regions, when set, replaces the configured regions (an event names exactly one region).
	Regions []string
	// Clusters, when set, replaces the configured cluster names.
	Clusters       []string
	StopStartingAt time.Time
	Progress       func(audit.ProgressEvent)
	Logger         *slog.Logger
	Now            time.Time
	// ClusterIndex, when set, shares cluster lists with whatever planned the run.
	ClusterIndex *eks.ClusterIndex
}

// ResolveRegions returns the regions to scan: explicit ones, every enabled region, or the
// configured default region.
func ResolveRegions(ctx context.Context, factory *awsclient.Factory, cfg config.Config, override []string) ([]string, error) {
	switch {
	case len(override) > 0:
		return override, nil
	case len(cfg.Regions) > 0:
		return cfg.Regions, nil
	case cfg.AllRegions:
		return awsclient.EnabledRegions(ctx, ec2.NewFromConfig(factory.Base()))
	}
	if err := awsclient.ValidateRegion(factory.Base().Region); err != nil {
		return nil, fmt.Errorf("the configured AWS region: %w", err)
	}
	return []string{factory.Base().Region}, nil
}

// Scan runs discover → collect → evaluate and applies mutes. Per-scope failures are in the
// report's Errors; an error return means nothing could be scanned.
func Scan(ctx context.Context, factory *awsclient.Factory, req Request) (*audit.Report, error) {
	cfg := req.Config
	checks := Checks()
	mutes, err := cfg.MuteRules(checks)
	if err != nil {
		return nil, err
	}
	regions, err := ResolveRegions(ctx, factory, cfg, req.Regions)
	if err != nil {
		return nil, err
	}
	clusters := cfg.Clusters
	if len(req.Clusters) > 0 {
		clusters = req.Clusters
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now().UTC()
	}
	engine := audit.NewEngine(eks.New(factory).WithClusterIndex(req.ClusterIndex))
	rep, err := engine.Run(ctx, audit.Options{
		Regions:           regions,
		Targets:           clusters,
		RegionConcurrency: cfg.Concurrency.Regions,
		TargetConcurrency: cfg.Concurrency.Clusters,
		CallTimeout:       cfg.CallTimeout,
		Eval:              audit.EvalOptions{Now: now, Skip: cfg.SkipSet(), Params: cfg.Params},
		Progress:          req.Progress,
		Logger:            req.Logger,
		StopStartingAt:    req.StopStartingAt,
	})
	// The account id is resolved by each region's discovery alongside its first calls (it costs
	// no round trip of its own); bad credentials fail every region the same way, reported once.
	if _, aerr := factory.AccountID(ctx); aerr != nil {
		return nil, fmt.Errorf("%w; check the AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, the role)", aerr)
	}
	if err != nil {
		return nil, err
	}
	audit.ApplyMutes(rep.Results, mutes, now)
	return rep, nil
}

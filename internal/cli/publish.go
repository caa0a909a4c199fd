package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	sh "github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/sek-dev/sek/internal/version"
	"github.com/sek-dev/sek/pkg/asff"
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/awsclient"
	"github.com/sek-dev/sek/pkg/securityhub"
)

// publish sends the report to Security Hub in each result's region. The outcome goes into the
// JSON document; an error means some finding or region was not published, which makes the exit
// status 3.
func publish(ctx context.Context, factory *awsclient.Factory, rep *audit.Report, checks []audit.Check, po securityhub.PublishOptions, log *slog.Logger) (*securityhub.Outcome, error) {
	p, err := newPublisher(ctx, factory, checks, log, 0)
	if err != nil {
		return nil, err
	}
	return publishWith(ctx, p, rep, po)
}

// newPublisher makes the Security Hub publisher; regionConcurrency 0 keeps its default. Quotas
// are per region, so regions can publish at once as they scan at once.
func newPublisher(ctx context.Context, factory *awsclient.Factory, checks []audit.Check, log *slog.Logger, regionConcurrency int) (*securityhub.Publisher, error) {
	account, err := factory.AccountID(ctx)
	if err != nil {
		return nil, err
	}
	return securityhub.New(securityhub.Options{
		Client:    func(region string) securityhub.API { return sh.NewFromConfig(factory.Config(region)) },
		AccountID: account,
		Version:   version.Get().Version,
		Checks:    checks,
		Logger:    log,

		RegionConcurrency: regionConcurrency,
	})
}

// publisherReady is a publisher made while the scan runs, or why it could not be.
type publisherReady struct {
	p   *securityhub.Publisher
	err error
}

// preparePublisher makes the publisher while the scan runs and, when the regions are known,
// starts reading each region's stored findings, which then overlaps the scan. A scan narrowed to
// clusters over several regions reads nothing ahead: most of those regions have no such cluster.
func preparePublisher(ctx context.Context, factory *awsclient.Factory, checks []audit.Check, log *slog.Logger, regionConcurrency int, regions, clusters []string) <-chan publisherReady {
	ready := make(chan publisherReady, 1)
	go func() {
		p, err := newPublisher(ctx, factory, checks, log, regionConcurrency)
		if err == nil && (len(clusters) == 0 || len(regions) == 1) {
			for _, r := range regions {
				p.Prefetch(ctx, r, clusters)
			}
		}
		ready <- publisherReady{p, err}
	}()
	return ready
}

func publishWith(ctx context.Context, p *securityhub.Publisher, rep *audit.Report, po securityhub.PublishOptions) (*securityhub.Outcome, error) {
	out, err := p.Publish(ctx, rep, po)
	if err != nil {
		return nil, err
	}
	if out.Problems() == 0 {
		return out, nil
	}
	var parts []string
	if n := len(out.Failed); n > 0 {
		parts = append(parts, fmt.Sprintf("%d findings not accepted (first: %s: %s)", n, out.Failed[0].FindingID, out.Failed[0].Message))
	}
	var regions []string
	for _, s := range out.SkippedRegions {
		if s.Findings > 0 {
			regions = append(regions, s.Region)
		}
	}
	if len(regions) > 0 {
		parts = append(parts, fmt.Sprintf("Security Hub not enabled in %s (%d findings not published)", strings.Join(regions, ", "), out.NotPublished))
	}
	for _, e := range out.Errors {
		parts = append(parts, fmt.Sprintf("%s in %s: %s", e.Operation, e.Region, e.Message))
	}
	return out, fmt.Errorf("%s", strings.Join(parts, "; "))
}

// renderASFF writes the findings `--publish` would import, as a JSON array of ASFF findings.
func renderASFF(w io.Writer, rep *audit.Report, checks []audit.Check) error {
	now := rep.FinishedAt
	if now.IsZero() {
		now = time.Now().UTC()
	}
	return asff.Render(w, rep.Results, checks, version.Get().Version, now)
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/sek-dev/sek/internal/version"
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/awsclient"
	"github.com/sek-dev/sek/pkg/config"
	"github.com/sek-dev/sek/pkg/org"
	"github.com/sek-dev/sek/pkg/report"
	"github.com/sek-dev/sek/pkg/runner"
	"github.com/sek-dev/sek/pkg/securityhub"
)

type scanFlags struct {
	configFile string
	showPassed bool
	noProgress bool
}

func newScanCmd(streams IO) *cobra.Command {
	var sf scanFlags
	def := config.Defaults()
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Scan EKS clusters and report (or publish) the results",
		Long: `Scan one cluster, one region or every enabled region.

Settings come from flags, then SEK_* environment variables, then the config file (--config, or
sek.yaml in the working directory). Exit codes: 0 clean, 1 a failure at or above --fail-on,
2 usage or configuration error, 3 some scope could not be scanned (or published).`,
		Example: `  sek scan --region us-east-1
  sek scan --all-regions --output json > sek.json
  sek scan --region eu-west-1 --cluster prod --fail-on high
  sek scan --all-regions --publish
  sek scan --accounts 111111111111,222222222222 --role-name SekAuditRole --region us-east-1
  sek scan --organization --ou ou-ab12-cd34ef56 --all-regions --publish`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScan(cmd.Context(), cmd, streams, sf)
		},
	}
	f := cmd.Flags()
	f.StringArray("region", nil, "region to scan; repeat for several (env SEK_REGIONS) (default: the configured AWS region)")
	f.Bool("all-regions", false, "scan every region enabled for the account (env SEK_ALL_REGIONS) (default false)")
	f.StringArray("cluster", nil, "cluster name to scan; repeat for several (env SEK_CLUSTERS) (default: all clusters)")
	f.StringP("output", "o", def.Output, "output format: table, json, csv or asff (env SEK_OUTPUT)")
	f.StringVar(&sf.configFile, "config", "", "YAML config file; flag only (default: ./"+config.DefaultFile+" if present)")
	f.StringSlice("skip", nil, "check ids to skip, comma-separated (env SEK_SKIP) (default: none)")
	f.String("fail-on", def.FailOn, "exit 1 when an unmuted failure has this severity or higher: none, informational, low, medium, high, critical (env SEK_FAIL_ON)")
	f.Bool("fail-on-error", false, "exit 3 when any unmuted check could not be evaluated (ERROR), for example for a missing permission (env SEK_FAIL_ON_ERROR) (default false)")
	f.Bool("publish", false, "publish findings to AWS Security Hub (env SEK_PUBLISH) (default false)")
	f.String("role-arn", "", "IAM role to assume in the target account (env SEK_ROLE_ARN) (default: the caller's own credentials)")
	f.String("external-id", "", "external id for --role-arn (env SEK_EXTERNAL_ID) (default: none)")
	f.String("log-level", def.LogLevel, "debug, info, warn or error; logs go to stderr (env SEK_LOG_LEVEL)")
	f.Int("max-attempts", def.MaxAttempts, "attempts per AWS call, retries included (env SEK_MAX_ATTEMPTS)")
	f.Duration("timeout", def.Timeout, "deadline for the whole scan (env SEK_TIMEOUT)")
	f.Duration("call-timeout", def.CallTimeout, "deadline for collecting one cluster (env SEK_CALL_TIMEOUT)")
	f.Int("region-concurrency", def.Concurrency.Regions, "regions scanned at once (env SEK_CONCURRENCY__REGIONS)")
	f.Int("cluster-concurrency", def.Concurrency.Clusters, "clusters collected at once per region (env SEK_CONCURRENCY__CLUSTERS)")
	f.StringSlice("accounts", nil, "scan these accounts (comma-separated 12-digit ids) by assuming --role-name in each (env SEK_ACCOUNTS) (default: only the caller's account)")
	f.Bool("organization", false, "scan every ACTIVE account of the AWS organization by assuming --role-name in each; needs organizations:ListAccounts (env SEK_ORGANIZATION) (default false)")
	f.StringSlice("ou", nil, "with --organization: only accounts beneath these OU or root ids (env SEK_ORGANIZATIONAL_UNITS) (default: the whole organization)")
	f.StringArray("account-tag", nil, "with --organization: only accounts tagged key=value (or key, any value); repeat for several, all must match (env SEK_ACCOUNT_TAGS) (default: none)")
	f.String("role-name", def.RoleName, "audit role assumed in each account of --accounts/--organization (env SEK_ROLE_NAME)")
	f.Int("account-concurrency", def.Concurrency.Accounts, "accounts scanned at once with --accounts/--organization (env SEK_CONCURRENCY__ACCOUNTS)")
	f.BoolVar(&sf.showPassed, "show-passed", false, "table output: list passing and not-applicable results too; flag only (default false)")
	f.BoolVar(&sf.noProgress, "no-progress", false, "do not show progress on stderr (shown only on a terminal); flag only (default false)")
	return cmd
}

func runScan(ctx context.Context, cmd *cobra.Command, streams IO, sf scanFlags) error {
	checks := runner.Checks()
	src := config.Sources{File: sf.configFile, FileRequired: sf.configFile != "", Environ: streams.Environ, Flags: changedFlags(cmd.Flags())}
	if src.File == "" {
		src.File = config.DefaultFile
		if streams.Getwd != nil {
			if wd, err := streams.Getwd(); err == nil {
				src.File = filepath.Join(wd, config.DefaultFile)
			}
		}
	}
	cfg, err := config.Load(src, checks)
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	if cfg.AllRegions && len(cfg.Regions) > 0 {
		return usageErr("--all-regions and --region are mutually exclusive: pass one or the other")
	}
	failOn, _ := audit.ParseSeverity(cfg.FailOn)
	log := newLogger(streams.Stderr, cfg.LogLevel, false)

	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	if cfg.MultiAccount() {
		return runOrgScan(ctx, streams, cfg, sf, checks, failOn, log)
	}

	home := ""
	if len(cfg.Regions) > 0 {
		home = cfg.Regions[0]
	}
	base, err := awsclient.Load(ctx, awsclient.Options{Region: home, RoleARN: cfg.RoleARN, ExternalID: cfg.ExternalID, MaxAttempts: cfg.MaxAttempts})
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	factory := awsclient.NewFactory(base)
	progress := newProgress(streams, cfg.Output == "table" && !sf.noProgress)
	var publisher <-chan publisherReady
	if cfg.Publish {
		publisher = preparePublisher(ctx, factory, checks, log, cfg.Concurrency.Regions, cfg.Regions, cfg.Clusters)
	}
	req := runner.Request{Config: cfg, Progress: progress.event, Logger: log}
	if streams.Now != nil {
		req.Now = streams.Now()
	}
	rep, err := runner.Scan(ctx, factory, req)
	progress.done()
	if err != nil {
		return &exitError{code: ExitIncomplete, err: err}
	}

	doc := report.NewDocument(rep, version.Get().Version)
	publishFailed := false
	if cfg.Publish {
		po := securityhub.PublishOptions{SkippedChecks: cfg.Skip, TargetsNarrowed: len(cfg.Clusters) > 0}
		var summary *securityhub.Outcome
		pr := <-publisher
		perr := pr.err
		if perr == nil {
			summary, perr = publishWith(ctx, pr.p, rep, po)
		}
		if summary != nil {
			doc.Publish = summary
		}
		if perr != nil {
			publishFailed = true
			fmt.Fprintf(streams.Stderr, "sek: publishing to Security Hub: %s\n", perr)
		}
	}
	return conclude(streams, cfg, doc, rep, checks, sf, failOn, publishFailed)
}

// conclude renders the report and turns it into the exit status.
func conclude(streams IO, cfg config.Config, doc report.Document, rep *audit.Report, checks []audit.Check, sf scanFlags, failOn audit.Severity, publishFailed bool) error {
	if err := render(streams, cfg.Output, doc, rep, checks, sf); err != nil {
		return &exitError{code: ExitIncomplete, err: fmt.Errorf("write output: %w", err)}
	}
	switch {
	case len(rep.Errors) > 0 || publishFailed:
		return &exitError{code: ExitIncomplete, err: fmt.Errorf("incomplete: %s", firstScopes(rep.Errors))}
	case cfg.FailOnError && countErrors(rep) > 0:
		return &exitError{code: ExitIncomplete, err: fmt.Errorf("incomplete (--fail-on-error): %s", firstUnevaluated(rep))}
	case audit.FailsAtOrAbove(rep, failOn):
		return &exitError{code: ExitFindings, err: errors.New("failures at or above --fail-on")}
	}
	return nil
}

// countErrors counts unmuted results that could not be evaluated.
func countErrors(rep *audit.Report) int {
	n := 0
	for _, r := range rep.Results {
		if r.Status == audit.Error && !r.Muted {
			n++
		}
	}
	return n
}

func firstUnevaluated(rep *audit.Report) string {
	var parts []string
	for _, r := range rep.Results {
		if r.Status != audit.Error || r.Muted {
			continue
		}
		if len(parts) == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", countErrors(rep)-3))
			break
		}
		parts = append(parts, fmt.Sprintf("%s on %s (%s)", r.CheckID, r.ResourceARN, r.Message))
	}
	return fmt.Sprintf("%d check result(s) could not be evaluated: %s", countErrors(rep), strings.Join(parts, "; "))
}

func firstScopes(errs []audit.ScanError) string {
	if len(errs) == 0 {
		return "publishing to Security Hub did not complete"
	}
	s := ""
	for i, e := range errs {
		if i == 3 {
			s += fmt.Sprintf(" and %d more", len(errs)-3)
			break
		}
		if i > 0 {
			s += "; "
		}
		s += fmt.Sprintf("%s (%s)", e.Scope, e.Message)
	}
	return s
}

func render(streams IO, format string, doc report.Document, rep *audit.Report, checks []audit.Check, sf scanFlags) error {
	switch format {
	case "json":
		return report.JSON(streams.Stdout, doc)
	case "csv":
		return report.CSV(streams.Stdout, rep.Results)
	case "asff":
		return renderASFF(streams.Stdout, rep, checks)
	default:
		return report.Table(streams.Stdout, rep, report.TableOptions{Color: streams.IsTerminal(streams.Stdout), ShowPassed: sf.showPassed, Accounts: doc.Summary.Accounts})
	}
}

// progress prints one updating line on stderr while a long scan runs, only on a terminal.
type progress struct {
	mu                       sync.Mutex
	w                        io.Writer
	on                       bool
	regions, total, finished int
	failed                   int
	// Multi-account scans also count accounts; regions then counts account-regions.
	accounts, accountsDone, accountsFailed int
}

func newProgress(streams IO, wanted bool) *progress {
	return &progress{w: streams.Stderr, on: wanted && streams.IsTerminal(streams.Stderr)}
}

func (p *progress) event(e audit.ProgressEvent) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.count(e)
	fmt.Fprintf(p.w, "\rscanning: %d/%d clusters in %d regions (%d failed)   ", p.finished, p.total, p.regions, p.failed)
}

func (p *progress) orgEvent(e org.Event) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Kind {
	case "account-done":
		p.accountsDone++
	case "account-failed":
		p.accountsDone++
		p.accountsFailed++
	case "scan":
		p.count(e.Scan)
	}
	fmt.Fprintf(p.w, "\rscanning: %d/%d accounts (%d failed), %d/%d clusters in %d account-regions (%d failed)   ",
		p.accountsDone, p.accounts, p.accountsFailed, p.finished, p.total, p.regions, p.failed)
}

func (p *progress) count(e audit.ProgressEvent) {
	switch e.Kind {
	case "region-discovered":
		p.regions++
		p.total += e.Targets
	case "target-done":
		p.finished++
	case "target-failed":
		p.finished++
		p.failed++
	}
}

func (p *progress) done() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

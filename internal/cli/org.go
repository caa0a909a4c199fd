package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/sek-dev/sek/internal/version"
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/awsclient"
	"github.com/sek-dev/sek/pkg/config"
	"github.com/sek-dev/sek/pkg/org"
	"github.com/sek-dev/sek/pkg/report"
	"github.com/sek-dev/sek/pkg/runner"
	"github.com/sek-dev/sek/pkg/securityhub"
)

// runOrgScan scans several accounts: the ambient credentials assume role_name in each account,
// and each account is scanned (and published) with its own credentials.
func runOrgScan(ctx context.Context, streams IO, cfg config.Config, sf scanFlags, checks []audit.Check, failOn audit.Severity, log *slog.Logger) error {
	home := ""
	if len(cfg.Regions) > 0 {
		home = cfg.Regions[0]
	}
	base, err := awsclient.Load(ctx, awsclient.Options{Region: home, MaxAttempts: cfg.MaxAttempts})
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	accounts, err := selectAccounts(ctx, base, cfg)
	if err != nil {
		return err
	}
	log.Info("scanning accounts", "accounts", len(accounts), "role", cfg.RoleName)

	progress := newProgress(streams, cfg.Output == "table" && !sf.noProgress)
	progress.accounts = len(accounts)
	var after org.AfterScan
	if cfg.Publish {
		po := securityhub.PublishOptions{SkippedChecks: cfg.Skip, TargetsNarrowed: len(cfg.Clusters) > 0}
		after = func(ctx context.Context, acct org.Account, f *awsclient.Factory, rep *audit.Report) (any, error) {
			out, err := publish(ctx, f, rep, checks, po, log.With("account", acct.ID))
			if out == nil {
				return nil, err // a typed nil would render as "null" in the JSON
			}
			return out, err
		}
	}
	out, err := org.Scan(ctx, org.Request{
		Base:               base,
		Accounts:           accounts,
		RoleName:           cfg.RoleName,
		ExternalID:         cfg.ExternalID,
		AccountConcurrency: cfg.Concurrency.Accounts,
		Scan:               runner.Request{Config: cfg, Logger: log},
		Progress:           progress.orgEvent,
		AfterScan:          after,
	})
	progress.done()
	if err != nil {
		return &exitError{code: ExitIncomplete, err: err}
	}

	rep := out.Report
	doc := report.NewDocument(rep, version.Get().Version)
	ids := make([]string, len(accounts))
	for i, a := range accounts {
		ids[i] = a.ID
	}
	doc.Summary.Accounts = audit.SummarizeAccounts(rep, ids)
	for i := range doc.Summary.Accounts {
		doc.Summary.Accounts[i].Name = accounts[i].Name
	}
	publishFailed := false
	if cfg.Publish {
		published := map[string]any{}
		for _, run := range out.Accounts {
			if run.Err != nil {
				continue // nothing was scanned, so nothing was published
			}
			published[run.Account.ID] = run.After
			if run.AfterErr != nil {
				publishFailed = true
				fmt.Fprintf(streams.Stderr, "sek: publishing account %s to Security Hub: %s\n", run.Account.ID, run.AfterErr)
			}
		}
		doc.Publish = published
	}
	return conclude(streams, cfg, doc, rep, checks, sf, failOn, publishFailed)
}

// selectAccounts returns the explicit account list, or the organization's ACTIVE accounts.
func selectAccounts(ctx context.Context, base aws.Config, cfg config.Config) ([]org.Account, error) {
	if !cfg.Organization {
		seen := map[string]bool{}
		var out []org.Account
		for _, id := range cfg.Accounts {
			if !seen[id] {
				seen[id] = true
				out = append(out, org.Account{ID: id})
			}
		}
		return out, nil
	}
	accounts, err := org.ListAccounts(ctx, organizations.NewFromConfig(base), org.Filter{OUs: cfg.OrganizationalUnits, Tags: cfg.AccountTagFilter()})
	if err != nil {
		return nil, &exitError{code: ExitIncomplete, err: fmt.Errorf("%w; --organization needs credentials of the management or a delegated administrator account", err)}
	}
	if len(accounts) == 0 {
		return nil, &exitError{code: ExitUsage, err: errors.New("no ACTIVE account of the organization matches --ou/--account-tag: check the filters")}
	}
	return accounts, nil
}

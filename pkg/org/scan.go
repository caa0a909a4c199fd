package org

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/awsclient"
	"github.com/sek-dev/sek/pkg/runner"
)

// StageAssumeRole is the ScanError stage of an account whose audit role could not be used.
const StageAssumeRole = "assume-role"

// Member says how to reach one account: the role to assume there and its external id.
type Member struct {
	Account
	RoleARN    string
	ExternalID string
	// SessionName shows in the member account's CloudTrail; default "sek-audit".
	SessionName string
}

// Connect assumes the member's role and returns a factory whose every client acts as that
// account. It fails unless the assumed credentials really belong to the member account, because
// publishing with another account's credentials would put findings in the wrong Security Hub.
func Connect(ctx context.Context, base aws.Config, m Member) (*awsclient.Factory, error) {
	if err := ValidateAccountID(m.ID); err != nil {
		return nil, err
	}
	roleAccount, err := AccountOfRoleARN(m.RoleARN)
	if err != nil {
		return nil, err
	}
	if roleAccount != m.ID {
		return nil, fmt.Errorf("role %s is in account %s, not in the account to scan %s", m.RoleARN, roleAccount, m.ID)
	}
	f := awsclient.NewFactory(awsclient.AssumeRole(base, m.RoleARN, m.ExternalID, m.SessionName))
	got, err := f.AccountID(ctx)
	if err != nil {
		// The SDK nests the AssumeRole failure under GetCallerIdentity and the credential cache;
		// the service's own error is what the user needs.
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) {
			err = apiErr
		}
		return nil, fmt.Errorf("assume role %s: %w; check that the role exists in account %s, trusts the scanning principal, and that the external id matches", m.RoleARN, err, m.ID)
	}
	if got != m.ID {
		return nil, fmt.Errorf("role %s returned credentials of account %s, not %s", m.RoleARN, got, m.ID)
	}
	return f, nil
}

// AfterScan runs once per scanned account with that account's own factory, for work that must
// act as the account, such as importing its findings into its own Security Hub.
type AfterScan func(ctx context.Context, acct Account, f *awsclient.Factory, rep *audit.Report) (any, error)

// AccountRun is the outcome of one account.
type AccountRun struct {
	Account Account
	// Report is never nil: an account that could not be scanned at all holds one scope error.
	Report *audit.Report
	// Err is set when the account could not be scanned at all (its role, or every region).
	Err error
	// After is what AfterScan returned, and AfterErr its error.
	After    any
	AfterErr error
}

// ScanAccount connects to one member account and runs the shared scan pipeline there, then
// AfterScan (when given) with the account's factory. It never returns a nil report: failures
// to connect or scan become scope errors of the account.
func ScanAccount(ctx context.Context, base aws.Config, m Member, req runner.Request, after AfterScan) AccountRun {
	run := AccountRun{Account: m.Account}
	log := req.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	req.Logger = log.With("account", m.ID)
	started := time.Now().UTC()
	regions := req.Regions
	if len(regions) == 0 {
		regions = req.Config.Regions
	}
	fail := func(stage string, err error) AccountRun {
		req.Logger.Warn("account could not be scanned", "stage", stage, "error", err)
		run.Err = err
		run.Report = &audit.Report{
			StartedAt:  started,
			FinishedAt: time.Now().UTC(),
			Regions:    append([]string(nil), regions...),
			Errors: []audit.ScanError{{
				Scope:   audit.ScopeRef{AccountID: m.ID, Region: strings.Join(regions, ",")},
				Stage:   stage,
				Message: err.Error(),
			}},
		}
		return run
	}
	f, err := Connect(ctx, base, m)
	if err != nil {
		return fail(StageAssumeRole, err)
	}
	rep, err := runner.Scan(ctx, f, req)
	if err != nil {
		return fail("scan", err)
	}
	stampAccount(rep, m.ID)
	run.Report = rep
	if after != nil {
		run.After, run.AfterErr = after(ctx, m.Account, f, rep)
	}
	return run
}

// stampAccount fills the account into scopes the engine leaves without one (region-level
// failures), so a merged report still says which account every error belongs to.
func stampAccount(rep *audit.Report, account string) {
	for i := range rep.Errors {
		if rep.Errors[i].Scope.AccountID == "" {
			rep.Errors[i].Scope.AccountID = account
		}
	}
	for i := range rep.Completed {
		if rep.Completed[i].AccountID == "" {
			rep.Completed[i].AccountID = account
		}
	}
	for i := range rep.Results {
		if rep.Results[i].Scope.AccountID == "" {
			rep.Results[i].Scope.AccountID = account
		}
	}
}

// Event reports the advance of a multi-account scan.
type Event struct {
	// Kind is account-started, account-done, account-failed, or scan (a per-account engine
	// event in Scan).
	Kind    string
	Account string
	Scan    audit.ProgressEvent
}

// Request is a scan of many accounts.
type Request struct {
	// Base holds the credentials the member roles are assumed from (the management, delegated
	// administrator or tooling account).
	Base     aws.Config
	Accounts []Account
	// RoleName is the audit role's name in every member account.
	RoleName   string
	ExternalID string
	// Partition of the role ARNs; default: the partition of Base's region.
	Partition          string
	SessionName        string
	AccountConcurrency int
	// Scan is the per-account request; its Progress is replaced (use Progress below).
	Scan      runner.Request
	Progress  func(Event)
	AfterScan AfterScan
}

// Outcome is a multi-account scan: the merged report and each account's run, in account order.
type Outcome struct {
	Report   *audit.Report
	Accounts []AccountRun
}

// Scan scans every account, at most AccountConcurrency at once, each with the per-account
// concurrency of req.Scan.Config. An account that cannot be scanned is a scope error of that
// account; the others continue.
func Scan(ctx context.Context, req Request) (*Outcome, error) {
	if len(req.Accounts) == 0 {
		return nil, errors.New("no accounts to scan")
	}
	if err := ValidateRoleName(req.RoleName); err != nil {
		return nil, err
	}
	for _, a := range req.Accounts {
		if err := ValidateAccountID(a.ID); err != nil {
			return nil, err
		}
	}
	partition := req.Partition
	if partition == "" {
		partition = awsclient.Partition(req.Base.Region)
	}
	limit := req.AccountConcurrency
	if limit < 1 {
		limit = 4
	}
	emit := func(e Event) {
		if req.Progress != nil {
			req.Progress(e)
		}
	}
	runs := make([]AccountRun, len(req.Accounts))
	g := new(errgroup.Group)
	g.SetLimit(limit)
	for i, acct := range req.Accounts {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				runs[i] = AccountRun{Account: acct, Err: err, Report: &audit.Report{Errors: []audit.ScanError{{
					Scope: audit.ScopeRef{AccountID: acct.ID}, Stage: "not-started", Message: "not scanned: " + err.Error(),
				}}}}
				emit(Event{Kind: "account-failed", Account: acct.ID})
				return nil
			}
			emit(Event{Kind: "account-started", Account: acct.ID})
			sr := req.Scan
			sr.Progress = func(e audit.ProgressEvent) { emit(Event{Kind: "scan", Account: acct.ID, Scan: e}) }
			m := Member{Account: acct, RoleARN: RoleARN(partition, acct.ID, req.RoleName), ExternalID: req.ExternalID, SessionName: req.SessionName}
			runs[i] = ScanAccount(ctx, req.Base, m, sr, req.AfterScan)
			kind := "account-done"
			if runs[i].Err != nil {
				kind = "account-failed"
			}
			emit(Event{Kind: kind, Account: acct.ID})
			return nil
		})
	}
	_ = g.Wait() // account failures are recorded in their runs
	return &Outcome{Report: Merge(runs, req.Scan.Clusters), Accounts: runs}, nil
}

// Merge combines per-account reports. Named clusters (--cluster) are looked for across all
// accounts: a cluster that lives in one account is not an error of the others, but a name found
// in no account is.
func Merge(runs []AccountRun, named []string) *audit.Report {
	out := &audit.Report{}
	regions := map[string]bool{}
	wanted := map[string]bool{}
	for _, n := range named {
		wanted[n] = true
	}
	found := map[string]bool{}
	var missing []audit.ScanError
	for _, run := range runs {
		rep := run.Report
		if rep == nil {
			continue
		}
		if !rep.StartedAt.IsZero() && (out.StartedAt.IsZero() || rep.StartedAt.Before(out.StartedAt)) {
			out.StartedAt = rep.StartedAt
		}
		if rep.FinishedAt.After(out.FinishedAt) {
			out.FinishedAt = rep.FinishedAt
		}
		for _, r := range rep.Regions {
			regions[r] = true
		}
		out.Results = append(out.Results, rep.Results...)
		out.Completed = append(out.Completed, rep.Completed...)
		for _, e := range rep.Errors {
			if e.Stage == "discover" && wanted[e.Scope.Target] {
				missing = append(missing, e)
				continue
			}
			if e.Scope.Target != "" {
				found[e.Scope.Target] = true
			}
			out.Errors = append(out.Errors, e)
		}
		for _, s := range rep.Completed {
			if s.Target != "" {
				found[s.Target] = true
			}
		}
	}
	reported := map[string]bool{}
	for _, e := range missing {
		if found[e.Scope.Target] || reported[e.Scope.Target] {
			continue
		}
		reported[e.Scope.Target] = true
		e.Scope.AccountID = ""
		e.Message = fmt.Sprintf("%q was not found in any scanned account; check the name, the --region flags and the account list", e.Scope.Target)
		out.Errors = append(out.Errors, e)
	}
	for r := range regions {
		out.Regions = append(out.Regions, r)
	}
	sort.Strings(out.Regions)
	audit.SortResults(out.Results)
	sort.SliceStable(out.Errors, func(i, j int) bool { return out.Errors[i].Scope.String() < out.Errors[j].Scope.String() })
	if out.FinishedAt.IsZero() {
		out.FinishedAt = time.Now().UTC()
	}
	if out.StartedAt.IsZero() {
		out.StartedAt = out.FinishedAt
	}
	return out
}

package org

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/awsclient"
	"github.com/sek-dev/sek/pkg/runner"
)

// Item is one unit of work of the organization state machine's Distributed Map: one account in
// one region. The item list (account × region) is written to S3 and read by the map's
// ItemReader; the map's ItemSelector may add the role and external id to each item.
type Item struct {
	AccountID   string `json:"accountId"`
	AccountName string `json:"accountName,omitempty"`
	Region      string `json:"region"`
	// RoleARN names the role to assume; RoleName builds it from the account and partition.
	// One of them is needed (the auditor falls back to its configured role_name).
	RoleARN    string `json:"roleArn,omitempty"`
	RoleName   string `json:"roleName,omitempty"`
	ExternalID string `json:"externalId,omitempty"`
}

// Member validates the item and returns how to reach its account.
func (it Item) Member() (Member, error) {
	var errs []error
	if err := ValidateAccountID(it.AccountID); err != nil {
		errs = append(errs, fmt.Errorf("accountId: %w", err))
	}
	if err := awsclient.ValidateRegion(it.Region); err != nil {
		errs = append(errs, fmt.Errorf("region: %w", err))
	}
	roleARN := it.RoleARN
	switch {
	case it.RoleARN != "" && it.RoleName != "":
		errs = append(errs, errors.New("roleArn and roleName are mutually exclusive: give one"))
	case it.RoleARN != "":
		if acct, err := AccountOfRoleARN(it.RoleARN); err != nil {
			errs = append(errs, fmt.Errorf("roleArn: %w", err))
		} else if acct != it.AccountID {
			errs = append(errs, fmt.Errorf("roleArn: role %s is in account %s, not in the item's account %s", it.RoleARN, acct, it.AccountID))
		}
	case it.RoleName != "":
		if err := ValidateRoleName(it.RoleName); err != nil {
			errs = append(errs, fmt.Errorf("roleName: %w", err))
		} else {
			roleARN = RoleARN(awsclient.Partition(it.Region), it.AccountID, it.RoleName)
		}
	default:
		errs = append(errs, errors.New("roleArn or roleName is required: the role to assume in the account"))
	}
	if err := errors.Join(errs...); err != nil {
		return Member{}, fmt.Errorf("invalid account item: %w", err)
	}
	return Member{Account: Account{ID: it.AccountID, Name: it.AccountName}, RoleARN: roleARN, ExternalID: it.ExternalID}, nil
}

// RunItem scans one item: the item's account, in the item's region only, with that account's
// credentials, then AfterScan (publishing) with them.
func RunItem(ctx context.Context, base aws.Config, it Item, req runner.Request, after AfterScan) (AccountRun, error) {
	m, err := it.Member()
	if err != nil {
		return AccountRun{}, err
	}
	req.Regions = []string{it.Region}
	return ScanAccount(ctx, base, m, req, after), nil
}

// Items crosses accounts with regions. The order is account-major and stable, so the map's
// per-item results read in the same order from run to run.
func Items(accounts []Account, regions []string) []Item {
	out := make([]Item, 0, len(accounts)*len(regions))
	for _, a := range accounts {
		for _, r := range regions {
			out = append(out, Item{AccountID: a.ID, AccountName: a.Name, Region: r})
		}
	}
	return out
}

// S3Putter is the one S3 call the item list needs.
type S3Putter interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// WriteItems stores the item list as a JSON array, the format of the Distributed Map's
// S3JsonItemReader. S3 is used because the list outgrows Step Functions' 256 KiB state payload
// (500 accounts × 17 regions is about 0.6 MB).
func WriteItems(ctx context.Context, api S3Putter, bucket, key string, items []Item) error {
	if bucket == "" || key == "" {
		return errors.New("write the item list: no bucket or key configured (SEK_ITEMS_BUCKET)")
	}
	if items == nil {
		items = []Item{}
	}
	body, err := json.Marshal(items)
	if err != nil {
		return fmt.Errorf("encode the item list: %w", err)
	}
	if _, err := api.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentType: aws.String("application/json"),
	}); err != nil {
		return fmt.Errorf("write the item list to s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// ItemOutcome is the small result a map child returns (Step Functions keeps it in the run's
// history, so it carries counts, not results).
type ItemOutcome struct {
	AccountID   string         `json:"accountId"`
	Region      string         `json:"region"`
	Status      string         `json:"status"`
	Clusters    int            `json:"clusters"`
	Results     int            `json:"results"`
	ByStatus    map[string]int `json:"byStatus"`
	ScopeErrors []string       `json:"scopeErrors,omitempty"`
	Published   any            `json:"published,omitempty"`
}

// Outcome summarizes an item's run.
func (run AccountRun) Outcome(region string) ItemOutcome {
	o := ItemOutcome{AccountID: run.Account.ID, Region: region, ByStatus: map[string]int{}}
	if run.Report != nil {
		s := audit.SummarizeAccounts(run.Report, []string{run.Account.ID})[0]
		o.Status, o.Clusters, o.Results = s.Status, s.Clusters, s.Total
		for k, v := range s.ByStatus {
			o.ByStatus[string(k)] = v
		}
		for _, e := range run.Report.Errors {
			o.ScopeErrors = append(o.ScopeErrors, fmt.Sprintf("%s [%s]: %s", e.Scope, e.Stage, truncate(e.Message, 300)))
		}
	}
	o.Published = run.After
	return o
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := strings.ToValidUTF8(s[:n], "")
	return cut + "…"
}

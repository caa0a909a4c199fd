// Package org scans many AWS accounts: it lists an organization's active accounts, assumes the
// audit role in each, runs the shared scan pipeline (pkg/runner) per account with that account's
// own credentials, and merges the reports. The CLI's --accounts/--organization mode and the
// Lambda's per-account Step Functions item both go through it, so an account is scanned and
// published the same way from a terminal and from the organization stack.
package org

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"golang.org/x/sync/errgroup"

	"github.com/sek-dev/sek/pkg/awsclient"
)

// Account is one member account to scan.
type Account struct {
	ID   string `json:"accountId"`
	Name string `json:"name,omitempty"`
}

// OrganizationsAPI is what account discovery needs from AWS Organizations.
type OrganizationsAPI interface {
	ListAccounts(ctx context.Context, in *organizations.ListAccountsInput, optFns ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error)
	ListAccountsForParent(ctx context.Context, in *organizations.ListAccountsForParentInput, optFns ...func(*organizations.Options)) (*organizations.ListAccountsForParentOutput, error)
	ListOrganizationalUnitsForParent(ctx context.Context, in *organizations.ListOrganizationalUnitsForParentInput, optFns ...func(*organizations.Options)) (*organizations.ListOrganizationalUnitsForParentOutput, error)
	ListTagsForResource(ctx context.Context, in *organizations.ListTagsForResourceInput, optFns ...func(*organizations.Options)) (*organizations.ListTagsForResourceOutput, error)
}

// Filter narrows the organization's accounts. Empty fields do not filter.
type Filter struct {
	// OUs are organizational unit (ou-...) or root (r-...) ids; an account anywhere beneath one
	// of them is kept.
	OUs []string
	// Tags must all match: a key with a non-empty value needs that exact value, a key with an
	// empty value only needs the tag to exist.
	Tags map[string]string
}

// tagLookupConcurrency stays low because Organizations throttles hard (a few requests per
// second per account) and the SDK retries the rest.
const tagLookupConcurrency = 4

// ListAccounts returns the organization's ACTIVE accounts that pass the filter, sorted by id.
// Suspended, closed and not-yet-activated accounts are left out: their roles cannot be used.
func ListAccounts(ctx context.Context, api OrganizationsAPI, f Filter) ([]Account, error) {
	var raw []orgtypes.Account
	if len(f.OUs) == 0 {
		p := organizations.NewListAccountsPaginator(api, &organizations.ListAccountsInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("list the organization's accounts (organizations:ListAccounts): %w", err)
			}
			raw = append(raw, page.Accounts...)
		}
	} else {
		for _, ou := range f.OUs {
			got, err := accountsBeneath(ctx, api, ou)
			if err != nil {
				return nil, err
			}
			raw = append(raw, got...)
		}
	}
	seen := map[string]bool{}
	var out []Account
	for _, a := range raw {
		id := aws.ToString(a.Id)
		if seen[id] || !active(a) {
			continue
		}
		seen[id] = true
		out = append(out, Account{ID: id, Name: aws.ToString(a.Name)})
	}
	if len(f.Tags) > 0 {
		var err error
		if out, err = filterByTags(ctx, api, out, f.Tags); err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// active prefers the newer State field and falls back to the deprecated Status, which older
// endpoints and emulators still send alone.
func active(a orgtypes.Account) bool {
	if a.State != "" {
		return a.State == orgtypes.AccountStateActive
	}
	return a.Status == orgtypes.AccountStatusActive
}

// accountsBeneath walks an OU (or root) and its child OUs breadth-first.
func accountsBeneath(ctx context.Context, api OrganizationsAPI, root string) ([]orgtypes.Account, error) {
	var out []orgtypes.Account
	queue := []string{root}
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		ap := organizations.NewListAccountsForParentPaginator(api, &organizations.ListAccountsForParentInput{ParentId: aws.String(parent)})
		for ap.HasMorePages() {
			page, err := ap.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("list accounts in %s (organizations:ListAccountsForParent): %w", parent, err)
			}
			out = append(out, page.Accounts...)
		}
		op := organizations.NewListOrganizationalUnitsForParentPaginator(api, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parent)})
		for op.HasMorePages() {
			page, err := op.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("list organizational units in %s (organizations:ListOrganizationalUnitsForParent): %w", parent, err)
			}
			for _, ou := range page.OrganizationalUnits {
				queue = append(queue, aws.ToString(ou.Id))
			}
		}
	}
	return out, nil
}

func filterByTags(ctx context.Context, api OrganizationsAPI, accounts []Account, want map[string]string) ([]Account, error) {
	keep := make([]bool, len(accounts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(tagLookupConcurrency)
	for i, a := range accounts {
		g.Go(func() error {
			tags := map[string]string{}
			p := organizations.NewListTagsForResourcePaginator(api, &organizations.ListTagsForResourceInput{ResourceId: aws.String(a.ID)})
			for p.HasMorePages() {
				page, err := p.NextPage(gctx)
				if err != nil {
					return fmt.Errorf("read the tags of account %s (organizations:ListTagsForResource): %w", a.ID, err)
				}
				for _, t := range page.Tags {
					tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
			}
			keep[i] = tagsMatch(tags, want)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []Account
	for i, a := range accounts {
		if keep[i] {
			out = append(out, a)
		}
	}
	return out, nil
}

func tagsMatch(have, want map[string]string) bool {
	for k, v := range want {
		got, ok := have[k]
		if !ok || (v != "" && got != v) {
			return false
		}
	}
	return true
}

var roleARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):role/.+$`)

// ValidateAccountID rejects anything that is not a 12-digit account id.
func ValidateAccountID(id string) error { return awsclient.ValidateAccountID(id) }

// ValidateRoleName rejects strings that cannot be an IAM role name (with an optional path).
func ValidateRoleName(name string) error { return awsclient.ValidateRoleName(name) }

// RoleARN builds the ARN of the audit role in an account.
func RoleARN(partition, accountID, roleName string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, accountID, strings.TrimPrefix(roleName, "/"))
}

// AccountOfRoleARN returns the account id inside a role ARN.
func AccountOfRoleARN(arn string) (string, error) {
	m := roleARNPattern.FindStringSubmatch(arn)
	if m == nil {
		return "", fmt.Errorf("invalid role ARN %q: expected arn:aws:iam::123456789012:role/NAME", arn)
	}
	return m[1], nil
}

package org

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/config"
	"github.com/sek-dev/sek/pkg/runner"
)

func TestRoleARNs(t *testing.T) {
	if got := RoleARN("aws-us-gov", "111122223333", "audit/SekAuditRole"); got != "arn:aws-us-gov:iam::111122223333:role/audit/SekAuditRole" {
		t.Fatalf("RoleARN = %s", got)
	}
	acct, err := AccountOfRoleARN("arn:aws:iam::111122223333:role/SekAuditRole")
	if err != nil || acct != "111122223333" {
		t.Fatalf("AccountOfRoleARN = %q, %v", acct, err)
	}
	for _, bad := range []string{"", "SekAuditRole", "arn:aws:iam::1111:role/x", "arn:aws:sts::111122223333:assumed-role/x/y"} {
		if _, err := AccountOfRoleARN(bad); err == nil {
			t.Errorf("AccountOfRoleARN(%q) accepted", bad)
		}
	}
}

func TestActiveUsesStateThenStatus(t *testing.T) {
	cases := []struct {
		a    orgtypes.Account
		want bool
	}{
		{orgtypes.Account{State: orgtypes.AccountStateActive}, true},
		{orgtypes.Account{State: orgtypes.AccountStateSuspended, Status: orgtypes.AccountStatusActive}, false},
		{orgtypes.Account{State: orgtypes.AccountStatePendingClosure}, false},
		{orgtypes.Account{Status: orgtypes.AccountStatusActive}, true},
		{orgtypes.Account{Status: orgtypes.AccountStatusSuspended}, false},
		{orgtypes.Account{}, false},
	}
	for _, tc := range cases {
		if got := active(tc.a); got != tc.want {
			t.Errorf("active(state %q, status %q) = %v", tc.a.State, tc.a.Status, got)
		}
	}
}

func TestTagsMatch(t *testing.T) {
	have := map[string]string{"env": "prod", "team": "data"}
	if !tagsMatch(have, map[string]string{"env": "prod", "team": ""}) {
		t.Error("exact value plus any-value key should match")
	}
	if tagsMatch(have, map[string]string{"env": "dev"}) || tagsMatch(have, map[string]string{"owner": ""}) {
		t.Error("a wrong value or a missing key matched")
	}
}

func TestConnectRefusesARoleOfAnotherAccount(t *testing.T) {
	_, err := Connect(context.Background(), aws.Config{Region: "us-east-1"}, Member{
		Account: Account{ID: "111122223333"}, RoleARN: "arn:aws:iam::444455556666:role/SekAuditRole"})
	if err == nil || !strings.Contains(err.Error(), "not in the account to scan 111122223333") {
		t.Fatalf("err = %v", err)
	}
	_, err = Connect(context.Background(), aws.Config{Region: "us-east-1"}, Member{Account: Account{ID: "12"}, RoleARN: "arn:aws:iam::111122223333:role/x"})
	if err == nil || !strings.Contains(err.Error(), `invalid account id "12"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestScanAccountFailureIsAScopeErrorOfThatAccount(t *testing.T) {
	cfg := config.Defaults()
	cfg.Regions = []string{"us-east-1", "eu-west-1"}
	run := ScanAccount(context.Background(), aws.Config{Region: "us-east-1"},
		Member{Account: Account{ID: "111122223333"}, RoleARN: "arn:aws:iam::999999999999:role/x"}, runner.Request{Config: cfg}, nil)
	if run.Err == nil || run.Report == nil || len(run.Report.Errors) != 1 {
		t.Fatalf("run = %+v", run)
	}
	e := run.Report.Errors[0]
	if e.Stage != StageAssumeRole || e.Scope.AccountID != "111122223333" || e.Scope.Region != "us-east-1,eu-west-1" {
		t.Fatalf("scope error = %+v", e)
	}
}

func TestScanRejectsBadInputBeforeAnyCall(t *testing.T) {
	for _, req := range []Request{
		{},
		{Accounts: []Account{{ID: "111122223333"}}, RoleName: "bad name"},
		{Accounts: []Account{{ID: "abc"}}, RoleName: "SekAuditRole"},
	} {
		if _, err := Scan(context.Background(), req); err == nil {
			t.Errorf("Scan(%+v) accepted", req)
		}
	}
}

func res(account, region, cluster, check string, st audit.Status) audit.Result {
	return audit.Result{AccountID: account, Region: region, ClusterName: cluster, CheckID: check, Status: st,
		Scope: audit.ScopeRef{AccountID: account, Region: region, Target: cluster}}
}

func TestMergeLooksForNamedClustersAcrossAccounts(t *testing.T) {
	a := &audit.Report{
		Regions: []string{"us-east-1"},
		Results: []audit.Result{res("111111111111", "us-east-1", "prod", "C1", audit.Fail)},
		Errors: []audit.ScanError{
			{Scope: audit.ScopeRef{Region: "us-east-1", Target: "dev"}, Stage: "discover", Message: `"dev" was not found`},
			{Scope: audit.ScopeRef{Region: "us-east-1", Target: "ghost"}, Stage: "discover", Message: `"ghost" was not found`},
		},
		Completed: []audit.ScopeRef{{AccountID: "111111111111", Region: "us-east-1", Target: "prod"}},
	}
	b := &audit.Report{
		Regions: []string{"eu-west-1"},
		Results: []audit.Result{res("222222222222", "eu-west-1", "dev", "C1", audit.Pass)},
		Errors: []audit.ScanError{
			{Scope: audit.ScopeRef{Region: "eu-west-1", Target: "prod"}, Stage: "discover", Message: `"prod" was not found`},
			{Scope: audit.ScopeRef{Region: "eu-west-1", Target: "ghost"}, Stage: "discover", Message: `"ghost" was not found`},
		},
		Completed: []audit.ScopeRef{{AccountID: "222222222222", Region: "eu-west-1", Target: "dev"}},
	}
	failed := &audit.Report{Errors: []audit.ScanError{{Scope: audit.ScopeRef{AccountID: "333333333333"}, Stage: StageAssumeRole, Message: "AccessDenied"}}}
	m := Merge([]AccountRun{{Report: a}, {Report: b}, {Report: failed}}, []string{"prod", "dev", "ghost"})
	if len(m.Results) != 2 || m.Results[0].AccountID != "111111111111" {
		t.Fatalf("results = %+v", m.Results)
	}
	if strings.Join(m.Regions, ",") != "eu-west-1,us-east-1" {
		t.Fatalf("regions = %v", m.Regions)
	}
	var got []string
	for _, e := range m.Errors {
		got = append(got, e.Stage+":"+e.Scope.String())
	}
	// prod and dev each exist in one account; ghost in none (reported once); the failed account stays.
	if strings.Join(got, " ") != "assume-role:333333333333 discover:us-east-1/ghost" {
		t.Fatalf("errors = %v", got)
	}
	if !strings.Contains(m.Errors[1].Message, "not found in any scanned account") {
		t.Fatalf("message = %q", m.Errors[1].Message)
	}
}

func TestStampAccountFillsRegionScopes(t *testing.T) {
	rep := &audit.Report{
		Errors:    []audit.ScanError{{Scope: audit.ScopeRef{Region: "us-east-1"}, Stage: "discover"}},
		Completed: []audit.ScopeRef{{Region: "eu-west-1"}, {AccountID: "111111111111", Region: "eu-west-2"}},
	}
	stampAccount(rep, "111111111111")
	if rep.Errors[0].Scope.AccountID != "111111111111" || rep.Completed[0].AccountID != "111111111111" {
		t.Fatalf("not stamped: %+v", rep)
	}
}

func TestItemMember(t *testing.T) {
	m, err := Item{AccountID: "111122223333", Region: "cn-north-1", RoleName: "SekAuditRole", ExternalID: "x"}.Member()
	if err != nil || m.RoleARN != "arn:aws-cn:iam::111122223333:role/SekAuditRole" || m.ExternalID != "x" {
		t.Fatalf("member = %+v, %v", m, err)
	}
	m, err = Item{AccountID: "111122223333", Region: "us-east-1", RoleARN: "arn:aws:iam::111122223333:role/a/b"}.Member()
	if err != nil || m.RoleARN != "arn:aws:iam::111122223333:role/a/b" {
		t.Fatalf("member = %+v, %v", m, err)
	}
	for _, tc := range []struct {
		it   Item
		want string
	}{
		{Item{AccountID: "1", Region: "us-east-1", RoleName: "r"}, "accountId"},
		{Item{AccountID: "111122223333", Region: "moon", RoleName: "r"}, "region"},
		{Item{AccountID: "111122223333", Region: "us-east-1"}, "roleArn or roleName is required"},
		{Item{AccountID: "111122223333", Region: "us-east-1", RoleName: "r", RoleARN: "arn:aws:iam::111122223333:role/r"}, "mutually exclusive"},
		{Item{AccountID: "111122223333", Region: "us-east-1", RoleARN: "arn:aws:iam::999999999999:role/r"}, "not in the item's account"},
		{Item{AccountID: "111122223333", Region: "us-east-1", RoleName: "has space"}, "roleName"},
	} {
		if _, err := tc.it.Member(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want %q", tc.it, err, tc.want)
		}
	}
}

func TestItemsAreAccountMajor(t *testing.T) {
	items := Items([]Account{{ID: "111111111111", Name: "a"}, {ID: "222222222222"}}, []string{"us-east-1", "eu-west-1"})
	var got []string
	for _, it := range items {
		got = append(got, it.AccountID[:1]+"/"+it.Region)
	}
	if strings.Join(got, " ") != "1/us-east-1 1/eu-west-1 2/us-east-1 2/eu-west-1" || items[0].AccountName != "a" {
		t.Fatalf("items = %v", got)
	}
}

func TestItemError(t *testing.T) {
	acct := Account{ID: "111122223333"}
	unreachable := AccountRun{Account: acct, Err: errors.New("AccessDenied"), Report: &audit.Report{Errors: []audit.ScanError{{Stage: StageAssumeRole}}}}
	var ue *AccountUnreachableError
	if err := ItemError(unreachable, "eu-west-1"); !errors.As(err, &ue) || ue.AccountID != "111122223333" || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("unreachable: %v", err)
	}
	var ie *ScanIncompleteError
	failedScan := AccountRun{Account: acct, Err: errors.New("scan cancelled"), Report: &audit.Report{Errors: []audit.ScanError{{Stage: "scan"}}}}
	if err := ItemError(failedScan, "eu-west-1"); !errors.As(err, &ie) {
		t.Fatalf("failed scan: %v", err)
	}
	partial := AccountRun{Account: acct, Report: &audit.Report{Errors: []audit.ScanError{{Scope: audit.ScopeRef{Region: "eu-west-1", Target: "prod"}, Stage: "collect", Message: "throttled"}}}}
	if err := ItemError(partial, "eu-west-1"); !errors.As(err, &ie) || !strings.Contains(err.Error(), "eu-west-1/prod [collect]: throttled") {
		t.Fatalf("partial: %v", err)
	}
	unpublished := AccountRun{Account: acct, Report: &audit.Report{}, AfterErr: errors.New("hub off")}
	if err := ItemError(unpublished, "eu-west-1"); !errors.As(err, &ie) || !strings.Contains(err.Error(), "publishing: hub off") {
		t.Fatalf("unpublished: %v", err)
	}
	if err := ItemError(AccountRun{Account: acct, Report: &audit.Report{}}, "eu-west-1"); err != nil {
		t.Fatalf("complete run: %v", err)
	}
	// The state machine's retry rules match these names (infra/stacks ErrAccountUnreachable, ErrScanIncomplete).
	if n := reflect.TypeOf(AccountUnreachableError{}).Name(); n != "AccountUnreachableError" {
		t.Fatal(n)
	}
	if n := reflect.TypeOf(ScanIncompleteError{}).Name(); n != "ScanIncompleteError" {
		t.Fatal(n)
	}
}

package config

import (
	"strings"
	"testing"
)

func TestMultiAccountKeysFromFileAndEnv(t *testing.T) {
	file := writeFile(t, "organization: true\norganizational_units: [ou-ab12-cd34ef56]\naccount_tags: [\"env=prod\"]\nconcurrency:\n  accounts: 6\n")
	cfg, err := Load(Sources{File: file, FileRequired: true,
		Environ: []string{"SEK_ACCOUNT_TAGS=env=prod, team", "SEK_ROLE_NAME=audit/Scanner", "SEK_EXTERNAL_ID=xyz"}}, catalog())
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.MultiAccount() || cfg.RoleName != "audit/Scanner" || cfg.Concurrency.Accounts != 6 || cfg.OrganizationalUnits[0] != "ou-ab12-cd34ef56" {
		t.Fatalf("multi-account keys not loaded: %+v", cfg)
	}
	tags := cfg.AccountTagFilter()
	if len(tags) != 2 || tags["env"] != "prod" || tags["team"] != "" {
		t.Fatalf("tag filter = %v, want env=prod and team (any value)", tags)
	}

	cfg, err = Load(Sources{Environ: []string{"SEK_ACCOUNTS=111111111111, 222222222222"}}, catalog())
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Accounts) != 2 || cfg.RoleName != DefaultRoleName || cfg.Concurrency.Accounts != 4 {
		t.Fatalf("accounts from env / defaults: %+v", cfg)
	}
}

func TestMultiAccountValidation(t *testing.T) {
	cases := []struct {
		env  []string
		want string
	}{
		{[]string{"SEK_ACCOUNTS=1234"}, `accounts: invalid account id "1234"`},
		{[]string{"SEK_ACCOUNTS=111111111111", "SEK_ORGANIZATION=true"}, "mutually exclusive"},
		{[]string{"SEK_ORGANIZATIONAL_UNITS=ou-ab12-cd34ef56"}, "also set organization"},
		{[]string{"SEK_ORGANIZATION=true", "SEK_ORGANIZATIONAL_UNITS=engineering"}, `"engineering" is not an OU or root id`},
		{[]string{"SEK_ORGANIZATION=true", "SEK_ACCOUNT_TAGS==prod"}, "has no key"},
		{[]string{"SEK_ACCOUNTS=111111111111", "SEK_ROLE_NAME=no spaces"}, `role_name: invalid role name "no spaces"`},
		{[]string{"SEK_ACCOUNTS=111111111111", "SEK_ROLE_ARN=arn:aws:iam::111111111111:role/x"}, "cannot be combined"},
		{[]string{"SEK_CONCURRENCY__ACCOUNTS=0"}, "concurrency.accounts"},
	}
	for _, tc := range cases {
		_, err := Load(Sources{Environ: tc.env}, catalog())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to mention %q", tc.env, err, tc.want)
		}
	}
	// A role ARN alone (single account) stays valid, and role_name is ignored without accounts.
	if _, err := Load(Sources{Environ: []string{"SEK_ROLE_ARN=arn:aws:iam::111111111111:role/x", "SEK_ROLE_NAME=ignored here"}}, catalog()); err != nil {
		t.Fatalf("single-account role_arn rejected: %v", err)
	}
}

func TestKeysDocumentMultiAccountSettings(t *testing.T) {
	have := map[string]bool{}
	for _, k := range Keys() {
		have[k.Name] = true
	}
	for _, k := range []string{"accounts", "organization", "organizational_units", "account_tags", "role_name", "concurrency.accounts"} {
		if !have[k] {
			t.Errorf("Keys() lacks %s", k)
		}
	}
}

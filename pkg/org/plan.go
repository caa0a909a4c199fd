package org

import (
	"context"
	"errors"
	"fmt"

	"github.com/sek-dev/sek/pkg/awsclient"
	"github.com/sek-dev/sek/pkg/config"
)

// ItemList tells the state machine where the item list is and how big it is.
type ItemList struct {
	Bucket   string `json:"bucket"`
	Key      string `json:"key"`
	Items    int    `json:"items"`
	Accounts int    `json:"accounts"`
	Regions  int    `json:"regions"`
}

// PlanItems is the organization state machine's first step: it lists the organization's
// ACTIVE accounts (narrowed by organizational_units and account_tags), crosses them with the
// regions (the configured ones, or those enabled in the calling account), and writes the items
// to s3://items_bucket/key for the Distributed Map. The clients act as the management or
// delegated administrator account.
func PlanItems(ctx context.Context, orgs OrganizationsAPI, ec2api awsclient.RegionLister, store S3Putter, cfg config.Config, key string) (ItemList, error) {
	if cfg.ItemsBucket == "" {
		return ItemList{}, errors.New("plan items: items_bucket (SEK_ITEMS_BUCKET) is not set; the organization stack sets it")
	}
	if key == "" {
		return ItemList{}, errors.New("plan items: no object key given")
	}
	accounts, err := ListAccounts(ctx, orgs, Filter{OUs: cfg.OrganizationalUnits, Tags: cfg.AccountTagFilter()})
	if err != nil {
		return ItemList{}, err
	}
	regions := cfg.Regions
	if len(regions) == 0 {
		if regions, err = awsclient.EnabledRegions(ctx, ec2api); err != nil {
			return ItemList{}, err
		}
	}
	if len(accounts) == 0 {
		return ItemList{}, fmt.Errorf("plan items: no ACTIVE account matches organizational_units %v and account_tags %v", cfg.OrganizationalUnits, cfg.AccountTags)
	}
	items := Items(accounts, regions)
	if err := WriteItems(ctx, store, cfg.ItemsBucket, key, items); err != nil {
		return ItemList{}, err
	}
	return ItemList{Bucket: cfg.ItemsBucket, Key: key, Items: len(items), Accounts: len(accounts), Regions: len(regions)}, nil
}

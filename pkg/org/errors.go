package org

import (
	"fmt"
	"strings"
)

// AccountUnreachableError fails an organization item whose account role could not be assumed.
// The Lambda runtime reports the type name as the invocation's errorType, which the state
// machine's retry rules match, so the name is part of the contract with infra/.
type AccountUnreachableError struct {
	AccountID, Region string
	Err               error
}

func (e *AccountUnreachableError) Error() string {
	return fmt.Sprintf("account %s (%s) is unreachable: %v", e.AccountID, e.Region, e.Err)
}

func (e *AccountUnreachableError) Unwrap() error { return e.Err }

// ScanIncompleteError fails an organization item whose scan or publishing did not complete. The
// findings of the scopes that failed were left as they were; a retry may complete them.
type ScanIncompleteError struct {
	AccountID, Region string
	Problems          []string
}

func (e *ScanIncompleteError) Error() string {
	return fmt.Sprintf("account %s (%s) was not audited completely: %s", e.AccountID, e.Region, strings.Join(e.Problems, "; "))
}

// ItemError turns an item's run into the error the item fails with, or nil when the account's
// region was scanned and published completely.
func ItemError(run AccountRun, region string) error {
	if run.Err != nil {
		if run.Report != nil && len(run.Report.Errors) == 1 && run.Report.Errors[0].Stage == StageAssumeRole {
			return &AccountUnreachableError{AccountID: run.Account.ID, Region: region, Err: run.Err}
		}
		return &ScanIncompleteError{AccountID: run.Account.ID, Region: region, Problems: []string{run.Err.Error()}}
	}
	var problems []string
	if run.Report != nil {
		for i, e := range run.Report.Errors {
			if i == 3 {
				problems = append(problems, fmt.Sprintf("and %d more scope errors", len(run.Report.Errors)-3))
				break
			}
			problems = append(problems, fmt.Sprintf("%s [%s]: %s", e.Scope, e.Stage, truncate(e.Message, 300)))
		}
	}
	if run.AfterErr != nil {
		problems = append(problems, "publishing: "+truncate(run.AfterErr.Error(), 500))
	}
	if len(problems) > 0 {
		return &ScanIncompleteError{AccountID: run.Account.ID, Region: region, Problems: problems}
	}
	return nil
}

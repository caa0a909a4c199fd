package stacks

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Context keys of the organization deployment. Setting sek:org:organizationId turns it on.
const (
	CtxOrgID                 = "sek:org:organizationId"
	CtxOrgTargetOUs          = "sek:org:deployToOUs"
	CtxOrgRoleName           = "sek:org:roleName"
	CtxOrgExternalID         = "sek:org:externalId"
	CtxOrgScanOUs            = "sek:org:scanOUs"
	CtxOrgAccountTags        = "sek:org:accountTags"
	CtxOrgMaxConcurrency     = "sek:org:maxConcurrency"
	CtxOrgToleratedFailure   = "sek:org:toleratedFailurePercentage"
	CtxOrgSchedule           = "sek:org:schedule"
	CtxOrgCallAs             = "sek:org:callAs"
	CtxOrgFunctionName       = "sek:org:functionName"
	CtxOrgAuditorRoleName    = "sek:org:auditorRoleName"
	CtxOrgItemRetentionDays  = "sek:org:itemRetentionDays"
	CtxOrgStackSetRegion     = "sek:org:stackSetRegion"
	CtxOrgItemTimeoutSeconds = "sek:org:itemTimeoutSeconds"
)

// OrgContextKeys lists every organization context key; docs/organization.md must cover them.
func OrgContextKeys() []string {
	return []string{CtxOrgID, CtxOrgTargetOUs, CtxOrgRoleName, CtxOrgExternalID, CtxOrgScanOUs, CtxOrgAccountTags,
		CtxOrgMaxConcurrency, CtxOrgToleratedFailure, CtxOrgSchedule, CtxOrgCallAs, CtxOrgFunctionName,
		CtxOrgAuditorRoleName, CtxOrgItemRetentionDays, CtxOrgStackSetRegion, CtxOrgItemTimeoutSeconds}
}

// Organization defaults.
const (
	DefaultOrgRoleName          = "SekAuditRole"
	DefaultOrgAuditorRoleName   = "SekOrgAuditor"
	DefaultOrgFunctionName      = "sek-org-auditor"
	DefaultOrgMaxConcurrency    = 40
	DefaultOrgToleratedFailure  = 10
	DefaultOrgSchedule          = "rate(1 day)"
	DefaultOrgItemRetentionDays = 14
	DefaultOrgItemTimeout       = 300
	OrgStackName                = "SekOrganization"
	MemberRoleStackName         = "SekMemberRole"
)

// OrgConfig configures the organization stack (state machine, auditor, StackSet) and the member
// role template.
type OrgConfig struct {
	// OrganizationID (o-...) is the aws:PrincipalOrgID the member roles require of their caller
	// and the aws:ResourceOrgID the auditor may assume roles in.
	OrganizationID string
	// DeployToOUs are the OU or root ids the StackSet deploys the member role to (auto-deployment
	// covers accounts that join them later).
	DeployToOUs []string
	// RoleName is the member role; ExternalID is required to assume it.
	RoleName   string
	ExternalID string
	// ScanOUs and AccountTags narrow the accounts each run scans (default: every ACTIVE account).
	ScanOUs     []string
	AccountTags []string
	// MaxConcurrency bounds child executions (and so Lambda concurrency and API pressure);
	// ToleratedFailurePercentage is how many items may fail before the run fails.
	MaxConcurrency             int
	ToleratedFailurePercentage int
	Schedule                   string
	// CallAs is SELF (deployed in the management account) or DELEGATED_ADMIN.
	CallAs            string
	FunctionName      string
	AuditorRoleName   string
	ItemRetentionDays int
	// StackSetRegion is the one region the member role's stack instances go to; IAM is global.
	// Default: the organization stack's home region.
	StackSetRegion string
	// ItemTimeoutSeconds bounds one (account, region) item: the auditor function's timeout.
	ItemTimeoutSeconds int
}

// DefaultOrgConfig holds the defaults; OrganizationID, DeployToOUs and ExternalID have none.
func DefaultOrgConfig() OrgConfig {
	return OrgConfig{
		RoleName:                   DefaultOrgRoleName,
		MaxConcurrency:             DefaultOrgMaxConcurrency,
		ToleratedFailurePercentage: DefaultOrgToleratedFailure,
		Schedule:                   DefaultOrgSchedule,
		CallAs:                     "SELF",
		FunctionName:               DefaultOrgFunctionName,
		AuditorRoleName:            DefaultOrgAuditorRoleName,
		ItemRetentionDays:          DefaultOrgItemRetentionDays,
		ItemTimeoutSeconds:         DefaultOrgItemTimeout,
	}
}

// OrgFromContext reads the organization settings. ok is false when sek:org:organizationId is
// unset: the app then has no organization stack.
func OrgFromContext(get ContextLookup) (OrgConfig, bool, error) {
	c := DefaultOrgConfig()
	var errs []error
	str := func(key string, dst *string) {
		if v, err := contextString(get(key)); err != nil {
			errs = append(errs, fmt.Errorf("context %s: %w", key, err))
		} else if v != "" {
			*dst = v
		}
	}
	list := func(key string, dst *[]string) {
		if v, err := contextList(get(key)); err != nil {
			errs = append(errs, fmt.Errorf("context %s: %w", key, err))
		} else if v != nil {
			*dst = v
		}
	}
	num := func(key string, dst *int) {
		if v, ok, err := contextInt(get(key)); err != nil {
			errs = append(errs, fmt.Errorf("context %s: %w", key, err))
		} else if ok {
			*dst = v
		}
	}
	str(CtxOrgID, &c.OrganizationID)
	if c.OrganizationID == "" && len(errs) == 0 {
		return c, false, nil
	}
	list(CtxOrgTargetOUs, &c.DeployToOUs)
	str(CtxOrgRoleName, &c.RoleName)
	str(CtxOrgExternalID, &c.ExternalID)
	list(CtxOrgScanOUs, &c.ScanOUs)
	list(CtxOrgAccountTags, &c.AccountTags)
	num(CtxOrgMaxConcurrency, &c.MaxConcurrency)
	num(CtxOrgToleratedFailure, &c.ToleratedFailurePercentage)
	str(CtxOrgSchedule, &c.Schedule)
	str(CtxOrgCallAs, &c.CallAs)
	str(CtxOrgFunctionName, &c.FunctionName)
	str(CtxOrgAuditorRoleName, &c.AuditorRoleName)
	num(CtxOrgItemRetentionDays, &c.ItemRetentionDays)
	str(CtxOrgStackSetRegion, &c.StackSetRegion)
	num(CtxOrgItemTimeoutSeconds, &c.ItemTimeoutSeconds)
	c.CallAs = strings.ToUpper(c.CallAs)
	if len(errs) > 0 {
		return c, true, errors.Join(errs...)
	}
	return c, true, c.Validate()
}

var (
	orgIDRE      = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	ouOrRootRE   = regexp.MustCompile(`^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$`)
	roleNameRE   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	externalIDRE = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

// Validate reports every problem at once, each naming the context key to change.
func (c OrgConfig) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("context %s: %s", key, fmt.Sprintf(format, args...)))
	}
	if !orgIDRE.MatchString(c.OrganizationID) {
		bad(CtxOrgID, "%q is not an organization id (o- followed by 10-32 lowercase letters or digits; `aws organizations describe-organization`)", c.OrganizationID)
	}
	if len(c.DeployToOUs) == 0 {
		bad(CtxOrgTargetOUs, "is empty: name the root (r-...) or the OUs whose accounts get the member role")
	}
	for _, ou := range append(append([]string{}, c.DeployToOUs...), c.ScanOUs...) {
		if !ouOrRootRE.MatchString(ou) {
			bad(CtxOrgTargetOUs+"/"+CtxOrgScanOUs, "%q is not an OU or root id (ou-xxxx-xxxxxxxx or r-xxxx)", ou)
		}
	}
	for _, t := range c.AccountTags {
		if k, _, _ := strings.Cut(t, "="); strings.TrimSpace(k) == "" {
			bad(CtxOrgAccountTags, "%q has no key: use key=value, or key for any value", t)
		}
	}
	if !roleNameRE.MatchString(c.RoleName) {
		bad(CtxOrgRoleName, "%q is not an IAM role name", c.RoleName)
	}
	if !roleNameRE.MatchString(c.AuditorRoleName) {
		bad(CtxOrgAuditorRoleName, "%q is not an IAM role name", c.AuditorRoleName)
	}
	if !externalIDRE.MatchString(c.ExternalID) || len(c.ExternalID) < 2 || len(c.ExternalID) > 1224 {
		bad(CtxOrgExternalID, "is required: 2-1224 characters of letters, digits and +=,.@:/-; choose a random value and keep it out of source control (pass it with -c)")
	}
	if c.MaxConcurrency < 1 || c.MaxConcurrency > 10000 {
		bad(CtxOrgMaxConcurrency, "%d is outside 1..10000 (Distributed Map's limit)", c.MaxConcurrency)
	}
	if c.ToleratedFailurePercentage < 0 || c.ToleratedFailurePercentage > 100 {
		bad(CtxOrgToleratedFailure, "%d is not a percentage (0..100)", c.ToleratedFailurePercentage)
	}
	if !scheduleRE.MatchString(c.Schedule) {
		bad(CtxOrgSchedule, "%q is not an EventBridge schedule expression; use e.g. \"rate(1 day)\"", c.Schedule)
	}
	if c.CallAs != "SELF" && c.CallAs != "DELEGATED_ADMIN" {
		bad(CtxOrgCallAs, "%q must be SELF (management account) or DELEGATED_ADMIN", c.CallAs)
	}
	if !fnNameRE.MatchString(c.FunctionName) {
		bad(CtxOrgFunctionName, "%q must be 1-64 letters, digits, hyphens or underscores", c.FunctionName)
	}
	if c.ItemRetentionDays < 1 || c.ItemRetentionDays > 365 {
		bad(CtxOrgItemRetentionDays, "%d is outside 1..365", c.ItemRetentionDays)
	}
	if c.StackSetRegion != "" && !regionRE.MatchString(c.StackSetRegion) {
		bad(CtxOrgStackSetRegion, "%q is not a region name", c.StackSetRegion)
	}
	if c.ItemTimeoutSeconds < 30 || c.ItemTimeoutSeconds > 900 {
		bad(CtxOrgItemTimeoutSeconds, "%d is outside 30..900 (Lambda's maximum is 900 seconds)", c.ItemTimeoutSeconds)
	}
	return errors.Join(errs...)
}

package collect

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"golang.org/x/sync/errgroup"

	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// IAMCache memoises IAM lookups for one scan. IAM is global, so the regions of a scan share one
// cache, and a role used by clusters in many regions is read once. Values are shared between
// snapshots and must be treated as read-only.
type IAMCache struct {
	roles     memo[string, *inventory.IAMRole]
	trust     memo[string, *inventory.IAMRole]
	policies  memo[string, fact[*inventory.Policy]]
	users     memo[string, inventory.Principal]
	providers memo[string, fact[[]string]]
	roleList  memo[string, fact[[]*inventory.IAMRole]]
}

// NewIAMCache returns an empty cache; create one per scan.
func NewIAMCache() *IAMCache { return &IAMCache{} }

func nameFromARN(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

func isNoSuchEntity(err error) bool {
	var ne *iamtypes.NoSuchEntityException
	return errors.As(err, &ne) || errorCode(err) == "NoSuchEntity"
}

// getRole reads a role's existence and trust policy.
func (c *IAMCache) getRole(ctx context.Context, client IAMAPI, arn, account string) *inventory.IAMRole {
	return c.trust.get(arn, func() *inventory.IAMRole {
		role := &inventory.IAMRole{ARN: arn, Name: nameFromARN(arn), Errors: inventory.Errors{}}
		if account != "" && accountFromARN(arn) != account {
			role.Errors["iam:GetRole"] = fmt.Errorf("role %s is in another account (%s) and cannot be read from this one", arn, accountFromARN(arn))
			return role
		}
		out, err := client.GetRole(context.WithoutCancel(ctx), &iam.GetRoleInput{RoleName: aws.String(role.Name)})
		if err != nil {
			if isNoSuchEntity(err) {
				return role
			}
			role.Errors["iam:GetRole"] = fmt.Errorf("get role %s: %w", arn, err)
			return role
		}
		role.Exists = true
		if out.Role != nil {
			if t, err := inventory.ParsePolicy(aws.ToString(out.Role.AssumeRolePolicyDocument)); err == nil {
				role.Trust = t
			} else {
				role.Errors["iam:GetRole"] = fmt.Errorf("trust policy of %s: %w", arn, err)
			}
		}
		return role
	})
}

// Role reads a role's trust policy and every attached and inline policy, once per scan.
func (c *IAMCache) Role(ctx context.Context, client IAMAPI, arn, account string) *inventory.IAMRole {
	return c.roles.get(arn, func() *inventory.IAMRole {
		ctx := context.WithoutCancel(ctx)
		// The policy listings need only the role's name, which the ARN holds, so they go out with
		// GetRole instead of after it (one round trip less on every cluster's critical path).
		// Their answers are dropped if the role turns out not to exist or not to be readable.
		var pol rolePolicies
		var wg sync.WaitGroup
		if account == "" || accountFromARN(arn) == account {
			wg.Go(func() { pol = c.readPolicies(ctx, client, arn, nameFromARN(arn)) })
		}
		base := c.getRole(ctx, client, arn, account)
		wg.Wait()
		role := &inventory.IAMRole{ARN: base.ARN, Name: base.Name, Exists: base.Exists, Trust: base.Trust, Errors: inventory.Errors{}}
		for k, v := range base.Errors {
			role.Errors[k] = v
		}
		if !role.Exists || len(role.Errors) > 0 {
			return role
		}
		for k, v := range pol.errs {
			role.Errors[k] = v
		}
		role.Attached, role.Inline = pol.attached, pol.inline
		role.PoliciesKnown = len(role.Errors) == 0
		return role
	})
}

// rolePolicies are a role's attached and inline policies and the errors met reading them.
type rolePolicies struct {
	attached []inventory.AttachedPolicy
	inline   []inventory.InlinePolicy
	errs     inventory.Errors
}

// readPolicies reads every attached and inline policy of the role named name.
func (c *IAMCache) readPolicies(ctx context.Context, client IAMAPI, arn, name string) rolePolicies {
	errs := inventory.Errors{}
	var g errgroup.Group
	var attached []inventory.AttachedPolicy
	var inline []inventory.InlinePolicy
	var attachedErr, listInlineErr, getInlineErr, policyErr error
	var emu sync.Mutex
	setErr := func(p *error, err error) {
		emu.Lock()
		*p = err
		emu.Unlock()
	}
	g.Go(func() error {
		p := iam.NewListAttachedRolePoliciesPaginator(client, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				attachedErr = fmt.Errorf("list attached policies of %s: %w", arn, err)
				return nil
			}
			for _, ap := range page.AttachedPolicies {
				attached = append(attached, inventory.AttachedPolicy{ARN: aws.ToString(ap.PolicyArn), Name: aws.ToString(ap.PolicyName)})
			}
		}
		// AWS-managed policies are judged by name; customer-managed ones by their document.
		var pg errgroup.Group
		for i := range attached {
			if strings.Contains(attached[i].ARN, ":iam::aws:policy/") {
				continue
			}
			pg.Go(func() error {
				f := c.policyDocument(ctx, client, attached[i].ARN)
				if f.err != nil {
					setErr(&policyErr, f.err)
				}
				attached[i].Document = f.v
				return nil
			})
		}
		_ = pg.Wait()
		return nil
	})
	g.Go(func() error {
		var names []string
		p := iam.NewListRolePoliciesPaginator(client, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				listInlineErr = fmt.Errorf("list inline policies of %s: %w", arn, err)
				return nil
			}
			names = append(names, page.PolicyNames...)
		}
		inline = make([]inventory.InlinePolicy, len(names))
		var pg errgroup.Group
		for i, n := range names {
			pg.Go(func() error {
				inline[i].Name = n
				out, err := client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(n)})
				if err != nil {
					setErr(&getInlineErr, fmt.Errorf("get inline policy %s of %s: %w", n, arn, err))
					return nil
				}
				doc, err := inventory.ParsePolicy(aws.ToString(out.PolicyDocument))
				if err != nil {
					setErr(&getInlineErr, fmt.Errorf("inline policy %s of %s: %w", n, arn, err))
					return nil
				}
				inline[i].Document = doc
				return nil
			})
		}
		_ = pg.Wait()
		return nil
	})
	_ = g.Wait()
	for action, err := range map[string]error{"iam:ListAttachedRolePolicies": attachedErr, "iam:ListRolePolicies": listInlineErr, "iam:GetRolePolicy": getInlineErr, "iam:GetPolicyVersion": policyErr} {
		if err != nil {
			errs[action] = err
		}
	}
	return rolePolicies{attached: attached, inline: inline, errs: errs}
}

// policyDocument reads a customer-managed policy's default version.
func (c *IAMCache) policyDocument(ctx context.Context, client IAMAPI, arn string) fact[*inventory.Policy] {
	return c.policies.get(arn, func() fact[*inventory.Policy] {
		p, err := client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
		if err != nil {
			return fact[*inventory.Policy]{err: fmt.Errorf("get policy %s: %w", arn, err)}
		}
		if p.Policy == nil {
			return fact[*inventory.Policy]{err: fmt.Errorf("get policy %s: empty response", arn)}
		}
		v, err := client.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.Policy.DefaultVersionId})
		if err != nil {
			return fact[*inventory.Policy]{err: fmt.Errorf("get policy %s version %s: %w", arn, aws.ToString(p.Policy.DefaultVersionId), err)}
		}
		if v.PolicyVersion == nil {
			return fact[*inventory.Policy]{err: fmt.Errorf("get policy %s: empty version", arn)}
		}
		doc, err := inventory.ParsePolicy(aws.ToString(v.PolicyVersion.Document))
		return fact[*inventory.Policy]{v: doc, err: err}
	})
}

// Principal says whether an access-entry principal (a role or a user) still exists.
func (c *IAMCache) Principal(ctx context.Context, client IAMAPI, arn, account string) inventory.Principal {
	if account != "" && accountFromARN(arn) != account {
		return inventory.Principal{ARN: arn, CrossAccount: true}
	}
	res := strings.SplitN(arn, ":", 6)
	if len(res) == 6 && strings.HasPrefix(res[5], "role/") {
		role := c.getRole(ctx, client, arn, account)
		if err := role.Errors.Get("iam:GetRole"); err != nil {
			return inventory.Principal{ARN: arn, Err: fmt.Errorf("iam:GetRole: %w", err)}
		}
		return inventory.Principal{ARN: arn, Exists: role.Exists}
	}
	if len(res) == 6 && strings.HasPrefix(res[5], "user/") {
		return c.users.get(arn, func() inventory.Principal {
			_, err := client.GetUser(context.WithoutCancel(ctx), &iam.GetUserInput{UserName: aws.String(nameFromARN(arn))})
			switch {
			case err == nil:
				return inventory.Principal{ARN: arn, Exists: true}
			case isNoSuchEntity(err):
				return inventory.Principal{ARN: arn}
			default:
				return inventory.Principal{ARN: arn, Err: fmt.Errorf("iam:GetUser: get user %s: %w", arn, err)}
			}
		})
	}
	return inventory.Principal{ARN: arn, Err: fmt.Errorf("principal %s is neither an IAM role nor a user", arn)}
}

// OIDCProviders lists the account's IAM OIDC provider ARNs.
func (c *IAMCache) OIDCProviders(ctx context.Context, client IAMAPI) ([]string, error) {
	f := c.providers.get("", func() fact[[]string] {
		out, err := client.ListOpenIDConnectProviders(context.WithoutCancel(ctx), &iam.ListOpenIDConnectProvidersInput{})
		if err != nil {
			return fact[[]string]{err: fmt.Errorf("list OIDC providers: %w", err)}
		}
		var arns []string
		for _, p := range out.OpenIDConnectProviderList {
			arns = append(arns, aws.ToString(p.Arn))
		}
		return fact[[]string]{v: arns}
	})
	return f.v, f.err
}

// Roles lists every role of the account with its trust policy (iam:ListRoles returns it).
func (c *IAMCache) Roles(ctx context.Context, client IAMAPI) ([]*inventory.IAMRole, error) {
	f := c.roleList.get("", func() fact[[]*inventory.IAMRole] {
		ctx := context.WithoutCancel(ctx)
		var out []*inventory.IAMRole
		p := iam.NewListRolesPaginator(client, &iam.ListRolesInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return fact[[]*inventory.IAMRole]{err: fmt.Errorf("list roles: %w", err)}
			}
			for _, r := range page.Roles {
				role := &inventory.IAMRole{ARN: aws.ToString(r.Arn), Name: aws.ToString(r.RoleName), Exists: true, Errors: inventory.Errors{}}
				doc := aws.ToString(r.AssumeRolePolicyDocument)
				if d, err := url.QueryUnescape(doc); err == nil {
					doc = d
				}
				if t, err := inventory.ParsePolicy(doc); err == nil {
					role.Trust = t
				} else {
					role.Errors["iam:ListRoles"] = fmt.Errorf("trust policy of %s: %w", role.ARN, err)
				}
				out = append(out, role)
			}
		}
		return fact[[]*inventory.IAMRole]{v: out}
	})
	return f.v, f.err
}

// oidc finds the IAM OIDC provider of the cluster's issuer and the roles that trust it.
func (cr *clusterRun) oidc(ctx context.Context) {
	r := cr.r
	iamc := r.iam()
	// Both lists are account-wide and independent of the cluster: start them before
	// DescribeCluster returns.
	var g errgroup.Group
	var providers, roles = newFuture[[]string](), newFuture[[]*inventory.IAMRole]()
	g.Go(func() error { providers.set(iamc.OIDCProviders(ctx, r.Clients.IAM)); return nil })
	g.Go(func() error { roles.set(iamc.Roles(ctx, r.Clients.IAM)); return nil })
	defer func() { _ = g.Wait() }()
	if _, err := cr.desc.wait(ctx); err != nil {
		return
	}
	issuer := strings.TrimPrefix(cr.c.OIDCIssuer, "https://")
	if issuer == "" {
		return
	}
	provs, err := providers.wait(ctx)
	if err != nil {
		cr.fail("iam:ListOpenIDConnectProviders", err)
	}
	var providerARN string
	for _, p := range provs {
		if strings.HasSuffix(p, ":oidc-provider/"+issuer) {
			providerARN = p
		}
	}
	all, err := roles.wait(ctx)
	if err != nil {
		cr.fail("iam:ListRoles", err)
		return
	}
	var trusting []*inventory.IAMRole
	for _, role := range all {
		if role.Trust == nil {
			continue
		}
		for _, s := range role.Trust.Statements {
			for _, f := range s.Principals["Federated"] {
				if strings.HasSuffix(f, ":oidc-provider/"+issuer) {
					trusting = append(trusting, role)
				}
			}
		}
	}
	cr.mu.Lock()
	cr.c.OIDCProviderARN = providerARN
	cr.c.IRSARoles = dedupeRoles(trusting)
	cr.mu.Unlock()
}

func dedupeRoles(rs []*inventory.IAMRole) []*inventory.IAMRole {
	seen := map[string]bool{}
	var out []*inventory.IAMRole
	for _, r := range rs {
		if !seen[r.ARN] {
			seen[r.ARN] = true
			out = append(out, r)
		}
	}
	return out
}

// Package collect turns AWS API responses into inventory snapshots. It is the only EKS code that
// performs I/O. Lookups shared by clusters in one region (KMS keys, the version catalog, VPC
// state, add-on versions) are made once per region and scan; IAM lookups once per scan.
//
// Within a cluster, every call is issued as soon as its inputs are known: the list calls that
// need only the cluster name start together with DescribeCluster, and each dependent call starts
// when its own parent returns, so the collection time is the longest dependent chain of calls.
package collect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// Region collects snapshots for one region. It is safe for concurrent use by many clusters.
type Region struct {
	Name      string
	AccountID string
	Partition string
	Clients   Clients
	Now       func() time.Time
	// IAM is the scan-wide IAM cache; IAM is global, so every Region of a scan shares one.
	// Nil gives the region a private cache.
	IAM *IAMCache
	// Base bounds lookups shared between clusters. They must not inherit one cluster's deadline
	// or cancellation, or a failure of that cluster would be memoised as a failure for all.
	Base context.Context

	iamOnce sync.Once

	describedMu sync.Mutex
	described   map[string]*ekstypes.Cluster // DescribeNamed's answers, until Cluster uses them

	versions        memo[string, *inventory.VersionCatalog]
	keys            memo[string, keyResult]
	vpcs            memo[string, fact[*inventory.VPC]]
	sgs             memo[string, fact[map[string]*inventory.SecurityGroup]]
	subnets         memo[string, subnetFacts]
	flowLogs        memo[string, fact[[]inventory.FlowLog]]
	endpoints       memo[string, fact[[]inventory.VPCEndpoint]]
	launchTemplates memo[[2]string, fact[*inventory.LaunchTemplateData]]
	ebsDefault      memo[string, fact[*bool]]
	addonVersions   memo[[2]string, fact[*inventory.AddonCompat]]
	amiReleases     memo[string, fact[string]]
	addonNames      memo[string, fact[[]string]]
	loadBalancers   memo[string, lbFacts]
	listeners       memo[string, fact[[]inventory.Listener]]
}

type keyResult struct {
	key  *inventory.KMSKey
	errs inventory.Errors
}

// ErrClusterNotFound means the cluster no longer exists (for example after DeleteCluster).
var ErrClusterNotFound = errors.New("cluster not found")

func (r *Region) iam() *IAMCache {
	r.iamOnce.Do(func() {
		if r.IAM == nil {
			r.IAM = NewIAMCache()
		}
	})
	return r.IAM
}

// shared returns the context for a memoised lookup started on behalf of ctx's cluster.
func (r *Region) shared(ctx context.Context) context.Context {
	if r.Base != nil {
		return r.Base
	}
	return context.WithoutCancel(ctx)
}

func (r *Region) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now().UTC()
}

// ListClusters returns every cluster name in the region.
func (r *Region) ListClusters(ctx context.Context) ([]string, error) {
	var names []string
	p := eks.NewListClustersPaginator(r.Clients.EKS, &eks.ListClustersInput{MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list clusters in %s (eks:ListClusters): %w", r.Name, err)
		}
		names = append(names, page.Clusters...)
	}
	return names, nil
}

// clusterRun is the state of one cluster's collection: the snapshot being filled, a lock for
// the error map and the maps shared by goroutines, and the DescribeCluster result others wait on.
type clusterRun struct {
	r    *Region
	name string
	c    *inventory.Cluster
	mu   sync.Mutex
	desc *future[*ekstypes.Cluster]
}

func (cr *clusterRun) fail(action string, err error) {
	cr.mu.Lock()
	cr.c.Errors[action] = err
	cr.mu.Unlock()
}

func (cr *clusterRun) setRole(role *inventory.IAMRole) {
	cr.mu.Lock()
	cr.c.Roles[role.ARN] = role
	cr.mu.Unlock()
}

// Cluster collects the snapshot of one cluster. An error means the cluster itself could not be
// described; facts that only some checks need are recorded in the snapshot's Errors instead.
func (r *Region) Cluster(ctx context.Context, name string) (*inventory.Cluster, error) {
	cr := &clusterRun{
		r:    r,
		name: name,
		c: &inventory.Cluster{
			Name: name, AccountID: r.AccountID, Region: r.Name, Partition: r.Partition,
			Logging: map[string]bool{}, Errors: inventory.Errors{},
			Roles: map[string]*inventory.IAMRole{}, Principals: map[string]inventory.Principal{},
		},
		desc: newFuture[*ekstypes.Cluster](),
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return cr.describe(gctx) })
	g.Go(func() error { cr.c.Versions = r.versionCatalog(gctx); return nil })
	g.Go(func() error { cr.ebsDefault(gctx); return nil })
	g.Go(func() error { cr.logGroup(gctx); return nil })
	g.Go(func() error { cr.instances(gctx); return nil })
	g.Go(func() error { cr.clusterLoadBalancers(gctx); return nil })
	g.Go(func() error { cr.nodeGroups(gctx, g); return nil })
	g.Go(func() error { cr.fargateProfiles(gctx, g); return nil })
	g.Go(func() error { cr.addons(gctx, g); return nil })
	g.Go(func() error { cr.accessEntries(gctx, g); return nil })
	g.Go(func() error { cr.podIdentities(gctx, g); return nil })
	g.Go(func() error { cr.identityConfigs(gctx, g); return nil })
	// IAM facts that depend on DescribeCluster; the account's role list is fetched meanwhile.
	g.Go(func() error { cr.oidc(gctx); return nil })
	g.Go(func() error { cr.afterDescribe(gctx, g); return nil })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("collect cluster %q in %s: %w", name, r.Name, err)
	}
	return cr.c, nil
}

// DescribeNamed describes the named clusters at once instead of listing the region first: a scan
// narrowed to clusters (an event names one) saves the listing's round trip. Names that do not
// exist are left out, as a listing would leave them out. The answers are kept for Cluster, so
// each cluster is still described once.
func (r *Region) DescribeNamed(ctx context.Context, names []string) ([]string, error) {
	found := make([]*ekstypes.Cluster, len(names))
	g, gctx := errgroup.WithContext(ctx)
	for i, n := range names {
		g.Go(func() error {
			out, err := r.Clients.EKS.DescribeCluster(gctx, &eks.DescribeClusterInput{Name: aws.String(n)})
			var nf *ekstypes.ResourceNotFoundException
			switch {
			case errors.As(err, &nf):
				return nil
			case err != nil:
				return fmt.Errorf("describe cluster %q in %s (eks:DescribeCluster): %w", n, r.Name, err)
			}
			found[i] = out.Cluster
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	r.describedMu.Lock()
	defer r.describedMu.Unlock()
	if r.described == nil {
		r.described = map[string]*ekstypes.Cluster{}
	}
	var out []string
	for i, k := range found {
		if k != nil {
			r.described[names[i]] = k
			out = append(out, names[i])
		}
	}
	return out, nil
}

// takeDescribed returns (and forgets) a DescribeCluster answer DescribeNamed already has.
func (r *Region) takeDescribed(name string) *ekstypes.Cluster {
	r.describedMu.Lock()
	defer r.describedMu.Unlock()
	k := r.described[name]
	delete(r.described, name)
	return k
}

func (cr *clusterRun) describe(ctx context.Context) error {
	if k := cr.r.takeDescribed(cr.name); k != nil {
		cr.mu.Lock()
		cr.r.applyDescribe(cr.c, k)
		cr.mu.Unlock()
		cr.desc.set(k, nil)
		return nil
	}
	out, err := cr.r.Clients.EKS.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(cr.name)})
	if err == nil && out.Cluster == nil {
		err = errors.New("empty response")
	}
	if err != nil {
		var nf *ekstypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			err = fmt.Errorf("describe cluster %q in %s: %w", cr.name, cr.r.Name, ErrClusterNotFound)
		} else {
			err = fmt.Errorf("describe cluster %q in %s (eks:DescribeCluster): %w", cr.name, cr.r.Name, err)
		}
		cr.desc.set(nil, err)
		return err
	}
	cr.mu.Lock()
	cr.r.applyDescribe(cr.c, out.Cluster)
	cr.mu.Unlock()
	cr.desc.set(out.Cluster, nil)
	return nil
}

// afterDescribe starts the lookups that need DescribeCluster's answer.
func (cr *clusterRun) afterDescribe(ctx context.Context, g *errgroup.Group) {
	k, err := cr.desc.wait(ctx)
	if err != nil {
		return
	}
	c := cr.c
	if key := secretsKeyARN(c.Encryption); key != "" {
		g.Go(func() error {
			kr := cr.r.keys.get(key, func() keyResult { return cr.r.describeKey(cr.r.shared(ctx), key) })
			cr.mu.Lock()
			c.SecretsKey = kr.key
			for a, e := range kr.errs {
				c.Errors[a] = e
			}
			cr.mu.Unlock()
			return nil
		})
	}
	if vpc := c.Endpoint.VPCID; vpc != "" {
		g.Go(func() error { cr.network(ctx, vpc); return nil })
	} else if len(c.Endpoint.SubnetIDs) > 0 {
		// EKS always returns vpcId; some emulators and partial responses do not. The subnets
		// name the VPC, at the cost of one extra call only in that case.
		g.Go(func() error {
			vpc, err := cr.r.vpcOfSubnet(ctx, c.Endpoint.SubnetIDs[0])
			if err != nil {
				cr.fail("ec2:DescribeSubnets", err)
				return nil
			}
			cr.mu.Lock()
			c.Endpoint.VPCID = vpc
			cr.mu.Unlock()
			cr.network(ctx, vpc)
			return nil
		})
	}
	if role := aws.ToString(k.RoleArn); role != "" {
		g.Go(func() error { cr.role(ctx, role); return nil })
	}
	if c.AutoMode.Enabled && c.AutoMode.NodeRoleARN != "" {
		g.Go(func() error { cr.role(ctx, c.AutoMode.NodeRoleARN); return nil })
	}
}

// role collects a role's trust and policies into the snapshot, once per scan.
func (cr *clusterRun) role(ctx context.Context, arn string) *inventory.IAMRole {
	role := cr.r.iam().Role(ctx, cr.r.Clients.IAM, arn, cr.r.AccountID)
	cr.setRole(role)
	return role
}

func (r *Region) applyDescribe(c *inventory.Cluster, k *ekstypes.Cluster) {
	c.Name = aws.ToString(k.Name)
	c.ARN = aws.ToString(k.Arn)
	c.Status = string(k.Status)
	c.Version = aws.ToString(k.Version)
	c.PlatformVersion = aws.ToString(k.PlatformVersion)
	c.RoleARN = aws.ToString(k.RoleArn)
	c.Tags = k.Tags
	c.DeletionProtection = k.DeletionProtection
	if acct := accountFromARN(c.ARN); acct != "" {
		c.AccountID = acct
	}
	if k.CreatedAt != nil {
		c.CreatedAt = *k.CreatedAt
	}
	if k.ResourcesVpcConfig == nil {
		c.Errors[inventory.FactEndpoint] = errors.New("missing from the response, so the endpoint settings are unknown")
	}
	if v := k.ResourcesVpcConfig; v != nil {
		c.Endpoint = inventory.Endpoint{
			PublicAccess:           v.EndpointPublicAccess,
			PrivateAccess:          v.EndpointPrivateAccess,
			PublicAccessCIDRs:      v.PublicAccessCidrs,
			VPCID:                  aws.ToString(v.VpcId),
			SubnetIDs:              v.SubnetIds,
			SecurityGroupIDs:       v.SecurityGroupIds,
			ClusterSecurityGroupID: aws.ToString(v.ClusterSecurityGroupId),
		}
	}
	if l := k.Logging; l != nil {
		// EKS returns one entry for enabled types and one for disabled types; a type is on only if
		// an enabled entry lists it.
		for _, s := range l.ClusterLogging {
			for _, t := range s.Types {
				if aws.ToBool(s.Enabled) {
					c.Logging[string(t)] = true
				} else if _, seen := c.Logging[string(t)]; !seen {
					c.Logging[string(t)] = false
				}
			}
		}
	}
	for _, e := range k.EncryptionConfig {
		ec := inventory.EncryptionConfig{Resources: e.Resources}
		if e.Provider != nil {
			ec.KeyARN = aws.ToString(e.Provider.KeyArn)
		}
		c.Encryption = append(c.Encryption, ec)
	}
	if k.UpgradePolicy != nil {
		c.UpgradeSupportType = string(k.UpgradePolicy.SupportType)
	}
	if a := k.AccessConfig; a != nil {
		c.AuthenticationMode = string(a.AuthenticationMode)
		c.BootstrapAdmin = a.BootstrapClusterCreatorAdminPermissions
	}
	if k.Identity != nil && k.Identity.Oidc != nil {
		c.OIDCIssuer = aws.ToString(k.Identity.Oidc.Issuer)
	}
	if cc := k.ComputeConfig; cc != nil {
		c.AutoMode = inventory.AutoMode{Enabled: aws.ToBool(cc.Enabled), NodeRoleARN: aws.ToString(cc.NodeRoleArn), NodePools: cc.NodePools}
	}
	if k.Health != nil {
		for _, i := range k.Health.Issues {
			c.Health = append(c.Health, inventory.HealthIssue{Code: string(i.Code), Message: aws.ToString(i.Message), ResourceIDs: i.ResourceIds})
		}
	}
}

func secretsKeyARN(enc []inventory.EncryptionConfig) string {
	for _, e := range enc {
		for _, r := range e.Resources {
			if r == "secrets" && e.KeyARN != "" {
				return e.KeyARN
			}
		}
	}
	return ""
}

func (r *Region) describeKey(ctx context.Context, keyARN string) keyResult {
	res := keyResult{errs: inventory.Errors{}}
	out, err := r.Clients.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keyARN)})
	if err != nil {
		res.errs["kms:DescribeKey"] = fmt.Errorf("describe KMS key %s: %w", keyARN, err)
		return res
	}
	m := out.KeyMetadata
	if m == nil {
		res.errs["kms:DescribeKey"] = fmt.Errorf("describe KMS key %s: empty response", keyARN)
		return res
	}
	key := &inventory.KMSKey{
		ARN:     aws.ToString(m.Arn),
		State:   string(m.KeyState),
		Manager: string(m.KeyManager),
		Spec:    string(m.KeySpec),
	}
	res.key = key
	rot, err := r.Clients.KMS.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(keyARN)})
	if err != nil {
		res.errs["kms:GetKeyRotationStatus"] = fmt.Errorf("read rotation status of KMS key %s: %w", keyARN, err)
		return res
	}
	key.RotationEnabled = rot.KeyRotationEnabled
	key.RotationKnown = true
	key.RotationPeriodDays = int(aws.ToInt32(rot.RotationPeriodInDays))
	return res
}

// versionCatalog reads eks:DescribeClusterVersions once per region, falling back to the embedded
// table when the API is unavailable (older partitions, emulators, missing permission).
func (r *Region) versionCatalog(ctx context.Context) *inventory.VersionCatalog {
	return r.versions.get("", func() *inventory.VersionCatalog {
		ctx := r.shared(ctx)
		now := r.now()
		cat := &inventory.VersionCatalog{Source: "api", Versions: map[string]inventory.VersionInfo{}}
		p := eks.NewDescribeClusterVersionsPaginator(r.Clients.EKS, &eks.DescribeClusterVersionsInput{
			IncludeAll:  aws.Bool(true),
			ClusterType: aws.String("eks"),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return inventory.EmbeddedVersions(now, fmt.Sprintf("eks:DescribeClusterVersions unavailable: %s", shortError(err)))
			}
			for _, v := range page.ClusterVersions {
				info := inventory.VersionInfo{
					Version:                aws.ToString(v.ClusterVersion),
					Status:                 normaliseVersionStatus(string(v.VersionStatus), string(v.Status)),
					DefaultPlatformVersion: aws.ToString(v.DefaultPlatformVersion),
					DefaultVersion:         v.DefaultVersion,
				}
				if v.EndOfStandardSupportDate != nil {
					info.EndOfStandardSupport = *v.EndOfStandardSupportDate
				}
				if v.EndOfExtendedSupportDate != nil {
					info.EndOfExtendedSupport = *v.EndOfExtendedSupportDate
				}
				cat.Versions[info.Version] = info
			}
		}
		if len(cat.Versions) == 0 {
			return inventory.EmbeddedVersions(now, "eks:DescribeClusterVersions returned no versions")
		}
		return cat
	})
}

func normaliseVersionStatus(status, deprecated string) string {
	s := status
	if s == "" {
		s = deprecated
	}
	return strings.ToUpper(strings.ReplaceAll(s, "-", "_"))
}

func shortError(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() != "" {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return fmt.Sprintf("HTTP %d", re.HTTPStatusCode())
	}
	return err.Error()
}

// accountFromARN returns the account field of an ARN, or "" when s is not an ARN.
func accountFromARN(s string) string {
	a, err := arn.Parse(s)
	if err != nil {
		return ""
	}
	return a.AccountID
}

// errorCode returns the AWS error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }

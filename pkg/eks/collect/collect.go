// Package collect turns AWS API responses into inventory snapshots. It is the only EKS code that
// performs I/O. Lookups shared by clusters in one region (KMS keys, the version catalog, security
// groups) are made once per region and scan and reused.
package collect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// EKSAPI is the subset of the EKS client the collector calls.
type EKSAPI interface {
	ListClusters(ctx context.Context, in *eks.ListClustersInput, optFns ...func(*eks.Options)) (*eks.ListClustersOutput, error)
	DescribeCluster(ctx context.Context, in *eks.DescribeClusterInput, optFns ...func(*eks.Options)) (*eks.DescribeClusterOutput, error)
	DescribeClusterVersions(ctx context.Context, in *eks.DescribeClusterVersionsInput, optFns ...func(*eks.Options)) (*eks.DescribeClusterVersionsOutput, error)
}

// KMSAPI is the subset of the KMS client the collector calls.
type KMSAPI interface {
	DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
	GetKeyRotationStatus(ctx context.Context, in *kms.GetKeyRotationStatusInput, optFns ...func(*kms.Options)) (*kms.GetKeyRotationStatusOutput, error)
}

// Clients are the per-region service clients.
type Clients struct {
	EKS EKSAPI
	KMS KMSAPI
}

// Region collects snapshots for one region. It is safe for concurrent use by many clusters.
type Region struct {
	Name      string
	AccountID string
	Partition string
	Clients   Clients
	Now       func() time.Time

	versions memo[string, *inventory.VersionCatalog]
	keys     memo[string, keyResult]
}

type keyResult struct {
	key  *inventory.KMSKey
	errs inventory.Errors
}

// ErrClusterNotFound means the cluster no longer exists (for example after DeleteCluster).
var ErrClusterNotFound = errors.New("cluster not found")

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

// Cluster collects the snapshot of one cluster. An error means the cluster itself could not be
// described; facts that only some checks need are recorded in the snapshot's Errors instead.
func (r *Region) Cluster(ctx context.Context, name string) (*inventory.Cluster, error) {
	out, err := r.Clients.EKS.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
	if err != nil {
		var nf *ekstypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("describe cluster %q in %s: %w", name, r.Name, ErrClusterNotFound)
		}
		return nil, fmt.Errorf("describe cluster %q in %s (eks:DescribeCluster): %w", name, r.Name, err)
	}
	if out.Cluster == nil {
		return nil, fmt.Errorf("describe cluster %q in %s: empty response", name, r.Name)
	}
	c := r.fromDescribe(out.Cluster)
	c.Versions = r.versionCatalog(ctx)
	if key := secretsKeyARN(c.Encryption); key != "" {
		kr := r.keys.get(key, func() keyResult { return r.describeKey(ctx, key) })
		c.SecretsKey = kr.key
		for k, v := range kr.errs {
			c.Errors[k] = v
		}
	}
	return c, nil
}

func (r *Region) fromDescribe(k *ekstypes.Cluster) *inventory.Cluster {
	c := &inventory.Cluster{
		Name:               aws.ToString(k.Name),
		ARN:                aws.ToString(k.Arn),
		AccountID:          r.AccountID,
		Region:             r.Name,
		Partition:          r.Partition,
		Status:             string(k.Status),
		Version:            aws.ToString(k.Version),
		PlatformVersion:    aws.ToString(k.PlatformVersion),
		RoleARN:            aws.ToString(k.RoleArn),
		Tags:               k.Tags,
		Logging:            map[string]bool{},
		DeletionProtection: k.DeletionProtection,
		Errors:             inventory.Errors{},
	}
	if acct := accountFromARN(c.ARN); acct != "" {
		c.AccountID = acct
	}
	if k.CreatedAt != nil {
		c.CreatedAt = *k.CreatedAt
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
	return c
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
		now := time.Now().UTC()
		if r.Now != nil {
			now = r.Now()
		}
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

// accountFromARN returns the account field of an ARN, or "".
func accountFromARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

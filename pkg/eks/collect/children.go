package collect

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"golang.org/x/sync/errgroup"

	"github.com/sek-dev/sek/pkg/eks/inventory"
)

func health[T any](issues []T, conv func(T) inventory.HealthIssue) []inventory.HealthIssue {
	var out []inventory.HealthIssue
	for _, i := range issues {
		out = append(out, conv(i))
	}
	return out
}

// nodeGroups lists and describes the managed node groups, then resolves each one's launch
// template, node role and recommended AMI release.
func (cr *clusterRun) nodeGroups(ctx context.Context, g *errgroup.Group) {
	var names []string
	p := eks.NewListNodegroupsPaginator(cr.r.Clients.EKS, &eks.ListNodegroupsInput{ClusterName: aws.String(cr.name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			cr.fail("eks:ListNodegroups", fmt.Errorf("list node groups of %s: %w", cr.name, err))
			return
		}
		names = append(names, page.Nodegroups...)
	}
	groups := make([]inventory.NodeGroup, len(names))
	var ng errgroup.Group
	for i, n := range names {
		ng.Go(func() error { groups[i] = cr.nodeGroup(ctx, n); return nil })
	}
	_ = ng.Wait()
	cr.mu.Lock()
	cr.c.NodeGroups = groups
	cr.mu.Unlock()
}

func (cr *clusterRun) nodeGroup(ctx context.Context, name string) inventory.NodeGroup {
	r := cr.r
	out := inventory.NodeGroup{Name: name, Errors: inventory.Errors{}}
	d, err := r.Clients.EKS.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String(cr.name), NodegroupName: aws.String(name)})
	if err == nil && d.Nodegroup == nil {
		err = fmt.Errorf("empty response")
	}
	if err != nil {
		out.Errors["eks:DescribeNodegroup"] = fmt.Errorf("describe node group %s of %s: %w", name, cr.name, err)
		return out
	}
	n := d.Nodegroup
	out.ARN = aws.ToString(n.NodegroupArn)
	out.Status = string(n.Status)
	out.Version = aws.ToString(n.Version)
	out.ReleaseVersion = aws.ToString(n.ReleaseVersion)
	out.AMIType = string(n.AmiType)
	out.CapacityType = string(n.CapacityType)
	out.NodeRoleARN = aws.ToString(n.NodeRole)
	out.Subnets = n.Subnets
	if n.Health != nil {
		out.Health = health(n.Health.Issues, func(i ekstypes.Issue) inventory.HealthIssue {
			return inventory.HealthIssue{Code: string(i.Code), Message: aws.ToString(i.Message), ResourceIDs: i.ResourceIds}
		})
	}
	// EKS rejects remote access together with a launch template, so a template means no
	// EKS-managed SSH access whatever else the response says.
	if ra := n.RemoteAccess; ra != nil && (aws.ToString(ra.Ec2SshKey) != "" || len(ra.SourceSecurityGroups) > 0) {
		out.RemoteAccess = &inventory.RemoteAccess{SSHKey: aws.ToString(ra.Ec2SshKey), SourceSecurityGroups: ra.SourceSecurityGroups}
		if n.Resources != nil {
			out.RemoteAccess.SecurityGroupID = aws.ToString(n.Resources.RemoteAccessSecurityGroup)
		}
	}
	var g errgroup.Group
	var mu = make(chan struct{}, 1)
	record := func(action string, err error) {
		mu <- struct{}{}
		out.Errors[action] = err
		<-mu
	}
	if lt := n.LaunchTemplate; lt != nil {
		out.LaunchTemplate = &inventory.LaunchTemplate{ID: aws.ToString(lt.Id), Name: aws.ToString(lt.Name), Version: aws.ToString(lt.Version)}
		g.Go(func() error {
			f := r.launchTemplate(ctx, out.LaunchTemplate.ID, out.LaunchTemplate.Name, out.LaunchTemplate.Version)
			if f.err != nil {
				record("ec2:DescribeLaunchTemplateVersions", f.err)
			}
			out.LaunchTemplate.Data = f.v
			return nil
		})
	}
	if out.NodeRoleARN != "" {
		g.Go(func() error { cr.role(ctx, out.NodeRoleARN); return nil })
	}
	if param := amiReleaseParameter(out.Version, out.AMIType); param != "" {
		g.Go(func() error {
			f := r.amiRelease(ctx, param)
			if f.err != nil {
				record("ssm:GetParameter", f.err)
			}
			out.RecommendedRelease = f.v
			return nil
		})
	}
	_ = g.Wait()
	return out
}

// amiReleaseParameter is the public SSM parameter holding the recommended EKS AMI release for a
// Kubernetes version and AMI type, or "" for types without one (custom AMIs, Windows).
func amiReleaseParameter(version, amiType string) string {
	if version == "" {
		return ""
	}
	eksAMI := map[string]string{
		"AL2_x86_64":             "amazon-linux-2",
		"AL2_x86_64_GPU":         "amazon-linux-2-gpu",
		"AL2_ARM_64":             "amazon-linux-2-arm64",
		"AL2023_x86_64_STANDARD": "amazon-linux-2023/x86_64/standard",
		"AL2023_ARM_64_STANDARD": "amazon-linux-2023/arm64/standard",
		"AL2023_x86_64_NVIDIA":   "amazon-linux-2023/x86_64/nvidia",
		"AL2023_x86_64_NEURON":   "amazon-linux-2023/x86_64/neuron",
	}
	if p, ok := eksAMI[amiType]; ok {
		return "/aws/service/eks/optimized-ami/" + version + "/" + p + "/recommended/release_version"
	}
	switch amiType {
	case "BOTTLEROCKET_x86_64":
		return "/aws/service/bottlerocket/aws-k8s-" + version + "/x86_64/latest/image_version"
	case "BOTTLEROCKET_ARM_64":
		return "/aws/service/bottlerocket/aws-k8s-" + version + "/arm64/latest/image_version"
	}
	return ""
}

// amiRelease reads a public AMI parameter once per region. A parameter that does not exist
// (a new AMI type, or a partition without it) is not an error: the release is just unknown.
func (r *Region) amiRelease(ctx context.Context, name string) fact[string] {
	return r.amiReleases.get(name, func() fact[string] {
		out, err := r.Clients.SSM.GetParameter(r.shared(ctx), &ssm.GetParameterInput{Name: aws.String(name)})
		if err != nil {
			var nf *ssmtypes.ParameterNotFound
			if asErr(err, &nf) || errorCode(err) == "ParameterNotFound" {
				return fact[string]{}
			}
			return fact[string]{err: fmt.Errorf("read SSM parameter %s: %w", name, err)}
		}
		if out.Parameter == nil {
			return fact[string]{}
		}
		return fact[string]{v: aws.ToString(out.Parameter.Value)}
	})
}

func (cr *clusterRun) fargateProfiles(ctx context.Context, _ *errgroup.Group) {
	var names []string
	p := eks.NewListFargateProfilesPaginator(cr.r.Clients.EKS, &eks.ListFargateProfilesInput{ClusterName: aws.String(cr.name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			cr.fail("eks:ListFargateProfiles", fmt.Errorf("list Fargate profiles of %s: %w", cr.name, err))
			return
		}
		names = append(names, page.FargateProfileNames...)
	}
	profiles := make([]inventory.FargateProfile, len(names))
	var g errgroup.Group
	var failed error
	var mu = make(chan struct{}, 1)
	for i, n := range names {
		g.Go(func() error {
			out, err := cr.r.Clients.EKS.DescribeFargateProfile(ctx, &eks.DescribeFargateProfileInput{ClusterName: aws.String(cr.name), FargateProfileName: aws.String(n)})
			if err != nil || out.FargateProfile == nil {
				mu <- struct{}{}
				failed = fmt.Errorf("describe Fargate profile %s of %s: %w", n, cr.name, err)
				<-mu
				profiles[i] = inventory.FargateProfile{Name: n}
				return nil
			}
			f := out.FargateProfile
			fp := inventory.FargateProfile{Name: n, ARN: aws.ToString(f.FargateProfileArn), Status: string(f.Status), RoleARN: aws.ToString(f.PodExecutionRoleArn), Subnets: f.Subnets}
			if f.Health != nil {
				fp.Health = health(f.Health.Issues, func(i ekstypes.FargateProfileIssue) inventory.HealthIssue {
					return inventory.HealthIssue{Code: string(i.Code), Message: aws.ToString(i.Message), ResourceIDs: i.ResourceIds}
				})
			}
			profiles[i] = fp
			return nil
		})
	}
	_ = g.Wait()
	if failed != nil {
		cr.fail("eks:DescribeFargateProfile", failed)
	}
	cr.mu.Lock()
	cr.c.FargateProfiles = profiles
	cr.mu.Unlock()
}

// AddonNames lists a cluster's add-ons once per scan; the region target reuses the answer.
func (r *Region) AddonNames(ctx context.Context, cluster string) ([]string, error) {
	f := r.addonNames.get(cluster, func() fact[[]string] {
		var names []string
		p := eks.NewListAddonsPaginator(r.Clients.EKS, &eks.ListAddonsInput{ClusterName: aws.String(cluster)})
		for p.HasMorePages() {
			page, err := p.NextPage(r.shared(ctx))
			if err != nil {
				return fact[[]string]{err: fmt.Errorf("list add-ons of %s: %w", cluster, err)}
			}
			names = append(names, page.Addons...)
		}
		return fact[[]string]{v: names}
	})
	return f.v, f.err
}

func (cr *clusterRun) addons(ctx context.Context, _ *errgroup.Group) {
	names, err := cr.r.AddonNames(ctx, cr.name)
	if err != nil {
		cr.fail("eks:ListAddons", err)
		return
	}
	addons := make([]inventory.Addon, len(names))
	var g errgroup.Group
	for i, n := range names {
		g.Go(func() error { addons[i] = cr.addon(ctx, n); return nil })
	}
	_ = g.Wait()
	cr.mu.Lock()
	cr.c.Addons = addons
	cr.mu.Unlock()
}

func (cr *clusterRun) addon(ctx context.Context, name string) inventory.Addon {
	r := cr.r
	out := inventory.Addon{Name: name, Errors: inventory.Errors{}}
	var g errgroup.Group
	// The version catalog needs only the add-on name and the cluster version, so it is read
	// alongside DescribeAddon rather than after it.
	g.Go(func() error {
		if _, err := cr.desc.wait(ctx); err != nil {
			return nil
		}
		f := r.addonCompat(ctx, name, cr.c.Version)
		if f.err != nil {
			out.Errors["eks:DescribeAddonVersions"] = f.err
		}
		out.Compat = f.v
		return nil
	})
	d, err := r.Clients.EKS.DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: aws.String(cr.name), AddonName: aws.String(name)})
	_ = g.Wait()
	if err == nil && d.Addon == nil {
		err = fmt.Errorf("empty response")
	}
	if err != nil {
		out.Errors["eks:DescribeAddon"] = fmt.Errorf("describe add-on %s of %s: %w", name, cr.name, err)
		return out
	}
	a := d.Addon
	out.ARN = aws.ToString(a.AddonArn)
	out.Version = aws.ToString(a.AddonVersion)
	out.Status = string(a.Status)
	out.ConfigurationValues = aws.ToString(a.ConfigurationValues)
	out.ServiceAccountRoleARN = aws.ToString(a.ServiceAccountRoleArn)
	out.PodIdentityARNs = a.PodIdentityAssociations
	if a.Health != nil {
		out.Health = health(a.Health.Issues, func(i ekstypes.AddonIssue) inventory.HealthIssue {
			return inventory.HealthIssue{Code: string(i.Code), Message: aws.ToString(i.Message), ResourceIDs: i.ResourceIds}
		})
	}
	if out.ServiceAccountRoleARN != "" {
		cr.role(ctx, out.ServiceAccountRoleARN)
	}
	return out
}

// addonCompat reads the versions of an add-on compatible with a Kubernetes version, once per
// (add-on, version) and region.
func (r *Region) addonCompat(ctx context.Context, addon, k8s string) fact[*inventory.AddonCompat] {
	return r.addonVersions.get([2]string{addon, k8s}, func() fact[*inventory.AddonCompat] {
		ctx := r.shared(ctx)
		compat := &inventory.AddonCompat{}
		p := eks.NewDescribeAddonVersionsPaginator(r.Clients.EKS, &eks.DescribeAddonVersionsInput{AddonName: aws.String(addon), KubernetesVersion: aws.String(k8s)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return fact[*inventory.AddonCompat]{err: fmt.Errorf("describe versions of add-on %s for Kubernetes %s: %w", addon, k8s, err)}
			}
			for _, info := range page.Addons {
				if aws.ToString(info.AddonName) != addon {
					continue
				}
				for _, v := range info.AddonVersions {
					for _, c := range v.Compatibilities {
						if aws.ToString(c.ClusterVersion) != k8s {
							continue
						}
						compat.Versions = append(compat.Versions, aws.ToString(v.AddonVersion))
						if c.DefaultVersion {
							compat.DefaultVersion = aws.ToString(v.AddonVersion)
						}
					}
				}
			}
		}
		return fact[*inventory.AddonCompat]{v: compat}
	})
}

func (cr *clusterRun) accessEntries(ctx context.Context, _ *errgroup.Group) {
	var principals []string
	p := eks.NewListAccessEntriesPaginator(cr.r.Clients.EKS, &eks.ListAccessEntriesInput{ClusterName: aws.String(cr.name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			cr.fail("eks:ListAccessEntries", fmt.Errorf("list access entries of %s: %w", cr.name, err))
			return
		}
		principals = append(principals, page.AccessEntries...)
	}
	entries := make([]inventory.AccessEntry, len(principals))
	describeErrs := make([]error, len(principals))
	policyErrs := make([]error, len(principals))
	var g errgroup.Group
	for i, pa := range principals {
		entries[i] = inventory.AccessEntry{PrincipalARN: pa, Errors: inventory.Errors{}}
		e := &entries[i]
		// Describe, policies and principal existence all need only the principal ARN.
		g.Go(func() error {
			out, err := cr.r.Clients.EKS.DescribeAccessEntry(ctx, &eks.DescribeAccessEntryInput{ClusterName: aws.String(cr.name), PrincipalArn: aws.String(pa)})
			if err == nil && out.AccessEntry == nil {
				err = fmt.Errorf("empty response")
			}
			if err != nil {
				describeErrs[i] = fmt.Errorf("describe access entry %s of %s: %w", pa, cr.name, err)
				return nil
			}
			a := out.AccessEntry
			e.ARN, e.Type, e.Username, e.KubernetesGroups = aws.ToString(a.AccessEntryArn), aws.ToString(a.Type), aws.ToString(a.Username), a.KubernetesGroups
			return nil
		})
		g.Go(func() error {
			var pols []inventory.AccessPolicy
			pp := eks.NewListAssociatedAccessPoliciesPaginator(cr.r.Clients.EKS, &eks.ListAssociatedAccessPoliciesInput{ClusterName: aws.String(cr.name), PrincipalArn: aws.String(pa)})
			for pp.HasMorePages() {
				page, err := pp.NextPage(ctx)
				if err != nil {
					policyErrs[i] = fmt.Errorf("list access policies of %s on %s: %w", pa, cr.name, err)
					return nil
				}
				for _, ap := range page.AssociatedAccessPolicies {
					pol := inventory.AccessPolicy{PolicyARN: aws.ToString(ap.PolicyArn)}
					if ap.AccessScope != nil {
						pol.ScopeType, pol.Namespaces = string(ap.AccessScope.Type), ap.AccessScope.Namespaces
					}
					pols = append(pols, pol)
				}
			}
			e.Policies = pols
			return nil
		})
		g.Go(func() error {
			pr := cr.r.iam().Principal(ctx, cr.r.Clients.IAM, pa, cr.r.AccountID)
			cr.mu.Lock()
			cr.c.Principals[pa] = pr
			cr.mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	for i := range entries {
		if describeErrs[i] != nil {
			entries[i].Errors["eks:DescribeAccessEntry"] = describeErrs[i]
		}
		if policyErrs[i] != nil {
			entries[i].Errors["eks:ListAssociatedAccessPolicies"] = policyErrs[i]
		}
	}
	cr.mu.Lock()
	cr.c.AccessEntries = entries
	cr.mu.Unlock()
}

func (cr *clusterRun) podIdentities(ctx context.Context, _ *errgroup.Group) {
	var ids []string
	p := eks.NewListPodIdentityAssociationsPaginator(cr.r.Clients.EKS, &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(cr.name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			cr.fail("eks:ListPodIdentityAssociations", fmt.Errorf("list Pod Identity associations of %s: %w", cr.name, err))
			return
		}
		for _, a := range page.Associations {
			ids = append(ids, aws.ToString(a.AssociationId))
		}
	}
	assocs := make([]inventory.PodIdentityAssociation, len(ids))
	var g errgroup.Group
	for i, id := range ids {
		g.Go(func() error {
			a := inventory.PodIdentityAssociation{ID: id, Errors: inventory.Errors{}}
			out, err := cr.r.Clients.EKS.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{ClusterName: aws.String(cr.name), AssociationId: aws.String(id)})
			if err != nil || out.Association == nil {
				a.Errors["eks:DescribePodIdentityAssociation"] = fmt.Errorf("describe Pod Identity association %s of %s: %w", id, cr.name, err)
				assocs[i] = a
				return nil
			}
			d := out.Association
			a.ARN, a.Namespace, a.ServiceAccount = aws.ToString(d.AssociationArn), aws.ToString(d.Namespace), aws.ToString(d.ServiceAccount)
			a.RoleARN, a.TargetRoleARN = aws.ToString(d.RoleArn), aws.ToString(d.TargetRoleArn)
			assocs[i] = a
			if a.RoleARN != "" {
				cr.role(ctx, a.RoleARN)
			}
			return nil
		})
	}
	_ = g.Wait()
	cr.mu.Lock()
	cr.c.PodIdentities = assocs
	cr.mu.Unlock()
}

func (cr *clusterRun) identityConfigs(ctx context.Context, _ *errgroup.Group) {
	var refs []ekstypes.IdentityProviderConfig
	p := eks.NewListIdentityProviderConfigsPaginator(cr.r.Clients.EKS, &eks.ListIdentityProviderConfigsInput{ClusterName: aws.String(cr.name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			cr.fail("eks:ListIdentityProviderConfigs", fmt.Errorf("list identity provider configs of %s: %w", cr.name, err))
			return
		}
		refs = append(refs, page.IdentityProviderConfigs...)
	}
	configs := make([]inventory.IdentityProviderConfig, len(refs))
	var g errgroup.Group
	for i, ref := range refs {
		g.Go(func() error {
			c := inventory.IdentityProviderConfig{Name: aws.ToString(ref.Name), Type: aws.ToString(ref.Type), Errors: inventory.Errors{}}
			out, err := cr.r.Clients.EKS.DescribeIdentityProviderConfig(ctx, &eks.DescribeIdentityProviderConfigInput{ClusterName: aws.String(cr.name), IdentityProviderConfig: &ref})
			if err != nil || out.IdentityProviderConfig == nil || out.IdentityProviderConfig.Oidc == nil {
				c.Errors["eks:DescribeIdentityProviderConfig"] = fmt.Errorf("describe identity provider config %s of %s: %w", c.Name, cr.name, err)
				configs[i] = c
				return nil
			}
			o := out.IdentityProviderConfig.Oidc
			c.ARN, c.IssuerURL, c.Status, c.Tags = aws.ToString(o.IdentityProviderConfigArn), aws.ToString(o.IssuerUrl), string(o.Status), o.Tags
			configs[i] = c
			return nil
		})
	}
	_ = g.Wait()
	cr.mu.Lock()
	cr.c.IdentityConfigs = configs
	cr.mu.Unlock()
}

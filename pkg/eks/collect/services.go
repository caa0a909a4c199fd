package collect

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	"golang.org/x/sync/errgroup"

	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// Services collects the account-level services of the region that protect its clusters:
// GuardDuty, Inspector and ECR. Like a cluster, a fact that cannot be read is recorded in
// Errors under its IAM action; only a cancelled context fails the whole target.
func (r *Region) Services(ctx context.Context, arn string, clusters []string) (*inventory.RegionServices, error) {
	s := &inventory.RegionServices{AccountID: r.AccountID, Region: r.Name, Partition: r.Partition, ARN: arn, Clusters: clusters, Errors: inventory.Errors{}}
	var mu sync.Mutex
	fail := func(action string, err error) {
		mu.Lock()
		s.Errors[action] = err
		mu.Unlock()
	}
	var g errgroup.Group
	g.Go(func() error {
		gd, err := r.guardDuty(ctx)
		if err != nil {
			fail(err.action, err.err)
			return nil
		}
		s.GuardDuty = gd
		if needsAgentInventory(gd) {
			s.ClusterAddons, s.ClusterAddonErrors = r.clusterAddons(ctx, clusters)
		}
		return nil
	})
	g.Go(func() error {
		out, err := r.Clients.Inspector.BatchGetAccountStatus(ctx, &inspector2.BatchGetAccountStatusInput{AccountIds: []string{r.AccountID}})
		if err != nil {
			fail("inspector2:BatchGetAccountStatus", fmt.Errorf("read Inspector status in %s: %w", r.Name, err))
			return nil
		}
		ins := &inventory.Inspector{}
		for _, a := range out.Accounts {
			if a.State != nil {
				ins.Status = string(a.State.Status)
			}
			if rs := a.ResourceState; rs != nil {
				if rs.Ec2 != nil {
					ins.EC2 = string(rs.Ec2.Status)
				}
				if rs.Ecr != nil {
					ins.ECR = string(rs.Ecr.Status)
				}
			}
		}
		s.Inspector = ins
		return nil
	})
	g.Go(func() error {
		out, err := r.Clients.ECR.GetRegistryScanningConfiguration(ctx, &ecr.GetRegistryScanningConfigurationInput{})
		if err != nil {
			fail("ecr:GetRegistryScanningConfiguration", fmt.Errorf("read ECR registry scanning configuration in %s: %w", r.Name, err))
			return nil
		}
		sc := &inventory.RegistryScanning{}
		if c := out.ScanningConfiguration; c != nil {
			sc.ScanType = string(c.ScanType)
			for _, rule := range c.Rules {
				sr := inventory.ScanningRule{Frequency: string(rule.ScanFrequency)}
				for _, f := range rule.RepositoryFilters {
					sr.Filters = append(sr.Filters, aws.ToString(f.Filter))
				}
				sc.Rules = append(sc.Rules, sr)
			}
		}
		s.ScanningConfig = sc
		return nil
	})
	g.Go(func() error {
		repos, err := r.repositories(ctx)
		if err != nil {
			fail("ecr:DescribeRepositories", err)
			return nil
		}
		s.Repositories = repos
		return nil
	})
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("collect account services in %s: %w", r.Name, err)
	}
	return s, nil
}

type actionError struct {
	action string
	err    error
}

func (r *Region) guardDuty(ctx context.Context) (*inventory.GuardDuty, *actionError) {
	list, err := r.Clients.GuardDuty.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
	if err != nil {
		return nil, &actionError{"guardduty:ListDetectors", fmt.Errorf("list GuardDuty detectors in %s: %w", r.Name, err)}
	}
	if len(list.DetectorIds) == 0 {
		return nil, nil
	}
	// A region has at most one detector per account.
	id := list.DetectorIds[0]
	out, err := r.Clients.GuardDuty.GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: aws.String(id)})
	if err != nil {
		return nil, &actionError{"guardduty:GetDetector", fmt.Errorf("get GuardDuty detector %s in %s: %w", id, r.Name, err)}
	}
	gd := &inventory.GuardDuty{
		DetectorID: id,
		ARN:        fmt.Sprintf("arn:%s:guardduty:%s:%s:detector/%s", r.Partition, r.Name, r.AccountID, id),
		Status:     string(out.Status),
		Features:   map[string]inventory.GuardDutyFeature{},
	}
	for _, f := range out.Features {
		feat := inventory.GuardDutyFeature{Status: string(f.Status), Additional: map[string]string{}}
		for _, a := range f.AdditionalConfiguration {
			feat.Additional[string(a.Name)] = string(a.Status)
		}
		gd.Features[string(f.Name)] = feat
	}
	if ds := out.DataSources; ds != nil && ds.Kubernetes != nil && ds.Kubernetes.AuditLogs != nil {
		gd.LegacyKubernetesAuditLogs = string(ds.Kubernetes.AuditLogs.Status)
	}
	return gd, nil
}

// needsAgentInventory reports whether runtime monitoring is on without automated agent
// management, the only case where each cluster's add-ons decide the verdict.
func needsAgentInventory(gd *inventory.GuardDuty) bool {
	if gd == nil {
		return false
	}
	for _, name := range []string{"RUNTIME_MONITORING", "EKS_RUNTIME_MONITORING"} {
		f, ok := gd.Features[name]
		if ok && f.Status == "ENABLED" && f.Additional["EKS_ADDON_MANAGEMENT"] == "ENABLED" {
			return false
		}
	}
	for _, name := range []string{"RUNTIME_MONITORING", "EKS_RUNTIME_MONITORING"} {
		if gd.Features[name].Status == "ENABLED" {
			return true
		}
	}
	return false
}

// clusterAddons reuses the per-cluster add-on lists, so the cluster targets and this one make
// one eks:ListAddons call per cluster between them.
func (r *Region) clusterAddons(ctx context.Context, clusters []string) (map[string][]string, map[string]error) {
	names := map[string][]string{}
	errs := map[string]error{}
	var mu sync.Mutex
	var g errgroup.Group
	for _, c := range clusters {
		g.Go(func() error {
			n, err := r.AddonNames(ctx, c)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[c] = err
			} else {
				names[c] = n
			}
			return nil
		})
	}
	_ = g.Wait()
	return names, errs
}

func (r *Region) repositories(ctx context.Context) ([]inventory.Repository, error) {
	var raw []ecrtypes.Repository
	p := ecr.NewDescribeRepositoriesPaginator(r.Clients.ECR, &ecr.DescribeRepositoriesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe ECR repositories in %s: %w", r.Name, err)
		}
		raw = append(raw, page.Repositories...)
	}
	repos := make([]inventory.Repository, len(raw))
	var g errgroup.Group
	for i, rr := range raw {
		repo := &repos[i]
		*repo = inventory.Repository{Name: aws.ToString(rr.RepositoryName), ARN: aws.ToString(rr.RepositoryArn), TagMutability: string(rr.ImageTagMutability), Errors: inventory.Errors{}}
		if rr.ImageScanningConfiguration != nil {
			repo.ScanOnPush = rr.ImageScanningConfiguration.ScanOnPush
		}
		var lifecycleErr, policyErr error
		var wg errgroup.Group
		g.Go(func() error {
			wg.Go(func() error {
				_, err := r.Clients.ECR.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: rr.RepositoryName})
				var nf *ecrtypes.LifecyclePolicyNotFoundException
				switch {
				case err == nil:
					repo.HasLifecyclePolicy = true
				case asErr(err, &nf) || errorCode(err) == "LifecyclePolicyNotFoundException":
				default:
					lifecycleErr = fmt.Errorf("get lifecycle policy of %s: %w", repo.Name, err)
				}
				return nil
			})
			wg.Go(func() error {
				out, err := r.Clients.ECR.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: rr.RepositoryName})
				var nf *ecrtypes.RepositoryPolicyNotFoundException
				switch {
				case err == nil:
					doc, perr := inventory.ParsePolicy(aws.ToString(out.PolicyText))
					if perr != nil {
						policyErr = fmt.Errorf("repository policy of %s: %w", repo.Name, perr)
					}
					repo.Policy = doc
				case asErr(err, &nf) || errorCode(err) == "RepositoryPolicyNotFoundException":
				default:
					policyErr = fmt.Errorf("get repository policy of %s: %w", repo.Name, err)
				}
				return nil
			})
			_ = wg.Wait()
			if lifecycleErr != nil {
				repo.Errors["ecr:GetLifecyclePolicy"] = lifecycleErr
			}
			if policyErr != nil {
				repo.Errors["ecr:GetRepositoryPolicy"] = policyErr
			}
			return nil
		})
	}
	_ = g.Wait()
	return repos, nil
}

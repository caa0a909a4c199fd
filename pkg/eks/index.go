package eks

import (
	"context"
	"sync"

	sdkeks "github.com/aws/aws-sdk-go-v2/service/eks"

	"github.com/sek-dev/sek/pkg/eks/collect"
)

// ClusterIndex remembers each region's cluster list for one run, so that planning (the Lambda's
// fan-out estimate) and the scan that follows list a region's clusters once between them. Create
// one per run: a list kept across runs would hide clusters created since.
type ClusterIndex struct {
	mu      sync.Mutex
	regions map[string][]string
}

// NewClusterIndex returns an empty index.
func NewClusterIndex() *ClusterIndex { return &ClusterIndex{regions: map[string][]string{}} }

// names returns the region's cluster names, listing them with list on first use. Failures are
// not remembered, so a later caller retries.
func (x *ClusterIndex) names(ctx context.Context, region string, list func(context.Context) ([]string, error)) ([]string, error) {
	x.mu.Lock()
	got, ok := x.regions[region]
	x.mu.Unlock()
	if ok {
		return got, nil
	}
	names, err := list(ctx)
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	x.regions[region] = names
	x.mu.Unlock()
	return names, nil
}

// Names lists the clusters of region with the configs' credentials, through the index.
func (x *ClusterIndex) Names(ctx context.Context, configs ConfigSource, region string) ([]string, error) {
	r := &collect.Region{Name: region, Clients: collect.Clients{EKS: sdkeks.NewFromConfig(configs.Config(region))}}
	return x.names(ctx, region, r.ListClusters)
}

// WithClusterIndex makes the provider list clusters through idx.
func (p *Provider) WithClusterIndex(idx *ClusterIndex) *Provider {
	p.index = idx
	return p
}

func (p *Provider) listClusters(ctx context.Context, r *collect.Region) ([]string, error) {
	if p.index == nil {
		return r.ListClusters(ctx)
	}
	return p.index.names(ctx, r.Name, r.ListClusters)
}

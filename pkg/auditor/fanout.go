package auditor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"golang.org/x/sync/errgroup"
)

// Estimate is the expected wall time of scanning counts (clusters per region) with the
// configured concurrency, when one cluster takes cost:
//
//	per region:  t(r)     = cost × ceil(clusters(r) / concurrency.clusters)
//	whole scan:  estimate = max( max t(r),  Σ t(r) / min(concurrency.regions, regions) )
//
// The first term is the busiest region, which no amount of region concurrency shortens; the
// second is the total work spread over the regions scanned at once.
func Estimate(counts map[string]int, cost time.Duration, regionConcurrency, clusterConcurrency int) time.Duration {
	if len(counts) == 0 {
		return 0
	}
	regionConcurrency = max(1, min(regionConcurrency, len(counts)))
	clusterConcurrency = max(1, clusterConcurrency)
	var total, longest time.Duration
	for _, n := range counts {
		waves := (max(n, 0) + clusterConcurrency - 1) / clusterConcurrency
		t := time.Duration(waves) * cost
		total += t
		longest = max(longest, t)
	}
	return max(longest, total/time.Duration(regionConcurrency))
}

// mbPerCluster is the memory one cluster's results and stored findings take at peak, with
// headroom: the benchmark measured one region of 60 clusters at 112 MB (steady state, soft limit
// set), about 1.9 MB per cluster (docs/performance.md).
const mbPerCluster = 2

// ClustersPerInvocation is how many clusters one invocation of memoryMB can audit and publish;
// 0 means unknown (no limit). Time alone does not bound a scan once regions run at once, so a
// large account fans out on memory before it would run out of it.
func ClustersPerInvocation(memoryMB int) int {
	if memoryMB <= 0 {
		return 0
	}
	return max(1, memoryMB/mbPerCluster)
}

// FanOutPayload is what a scheduled run sends to itself for one region.
func FanOutPayload(region string) []byte {
	b, _ := json.Marshal(manualInput{Regions: []string{region}, FanOut: true})
	return b
}

// planFanOut decides whether a scheduled scan of regions fits this invocation. It returns the
// reason and true when it does not and fan-out is possible.
func (h *Handler) planFanOut(ctx context.Context, log *slog.Logger, deps *Deps, regions []string) (string, bool) {
	switch {
	case !h.cfg.Lambda.FanOut:
		return "", false
	case h.opts.FunctionName == "" || deps.Invoker == nil:
		log.Debug("fan-out not possible: the function does not know its own name")
		return "", false
	case len(regions) < 2:
		return "", false
	}
	b, ok := h.budget(ctx)
	if !ok {
		return "", false
	}
	counts := h.countClusters(ctx, log, deps, regions)
	total := 0
	for _, n := range counts {
		total += n
	}
	est := Estimate(counts, h.cfg.Lambda.ClusterCost, h.cfg.Concurrency.Regions, h.cfg.Concurrency.Clusters)
	avail := b.stopAt.Sub(h.now())
	log.Info("scan estimate", "clusters", total, "regions", len(regions), "estimate", est.String(), "available", avail.String(),
		"clusterCost", h.cfg.Lambda.ClusterCost.String())
	if limit := ClustersPerInvocation(h.opts.MemoryMB); limit > 0 && total > limit {
		log.Info("scan does not fit the function's memory", "clusters", total, "limit", limit, "memoryMB", h.opts.MemoryMB)
		return fmt.Sprintf("%d clusters exceed the %d that %d MB of memory holds in one invocation; one invocation per region",
			total, limit, h.opts.MemoryMB), true
	}
	if est <= avail {
		return "", false
	}
	for r, n := range counts {
		if one := Estimate(map[string]int{r: n}, h.cfg.Lambda.ClusterCost, 1, h.cfg.Concurrency.Clusters); one > avail {
			log.Warn("even alone this region is not expected to fit one invocation; its unfinished clusters will be reported and left for the next run",
				"region", r, "clusters", n, "estimate", one.String())
		}
	}
	return fmt.Sprintf("estimated %s for %d clusters in %d regions exceeds the %s available; one invocation per region",
		est.Round(time.Second), total, len(regions), avail.Round(time.Second)), true
}

// countClusters lists each region's clusters, plus one target for the region's account
// services wherever there are clusters. A region that cannot be listed counts as empty:
// the scan itself will report it.
func (h *Handler) countClusters(ctx context.Context, log *slog.Logger, deps *Deps, regions []string) map[string]int {
	counts := make(map[string]int, len(regions))
	var mu sync.Mutex
	g := new(errgroup.Group)
	g.SetLimit(max(1, h.cfg.Concurrency.Regions))
	for _, r := range regions {
		g.Go(func() error {
			n, err := deps.Clusters.Count(ctx, r)
			if err != nil {
				log.Warn("could not count clusters for the fan-out estimate", "region", r, "error", err)
			}
			if n > 0 {
				n++ // the region's account services are audited like one more cluster
			}
			mu.Lock()
			counts[r] = n
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	return counts
}

// fanOut starts one asynchronous invocation of this function per region. The calls are made one
// after another: an Event invocation returns as soon as Lambda has queued it.
func (h *Handler) fanOut(ctx context.Context, log *slog.Logger, deps *Deps, regions []string) ([]string, error) {
	sorted := append([]string(nil), regions...)
	sort.Strings(sorted)
	var (
		started []string
		errs    []error
	)
	for _, r := range sorted {
		out, err := deps.Invoker.Invoke(ctx, &lambda.InvokeInput{
			FunctionName:   aws.String(h.opts.FunctionName),
			InvocationType: lambdatypes.InvocationTypeEvent,
			Payload:        FanOutPayload(r),
		})
		if err == nil && out != nil && out.FunctionError != nil {
			err = fmt.Errorf("%s: %s", aws.ToString(out.FunctionError), out.Payload)
		}
		if err != nil {
			log.Error("fan-out invocation failed", "region", r, "error", err)
			errs = append(errs, fmt.Errorf("invoke %s for region %s (lambda:InvokeFunction): %w", h.opts.FunctionName, r, err))
			continue
		}
		log.Info("fan-out invocation started", "region", r, "function", h.opts.FunctionName)
		started = append(started, r)
	}
	return started, errors.Join(errs...)
}

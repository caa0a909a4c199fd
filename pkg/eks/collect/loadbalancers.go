package collect

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"golang.org/x/sync/errgroup"

	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// lbFacts is the region's load balancers with their tags, read once per region and shared by
// every cluster, which then picks its own by tag.
type lbFacts struct {
	lbs    []inventory.LoadBalancer
	tags   map[string]map[string]string // by load balancer ARN
	action string
	err    error
}

func (r *Region) regionLoadBalancers(ctx context.Context) lbFacts {
	return r.loadBalancers.get("", func() lbFacts {
		ctx := r.shared(ctx)
		var res lbFacts
		p := elbv2.NewDescribeLoadBalancersPaginator(r.Clients.ELB, &elbv2.DescribeLoadBalancersInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return lbFacts{action: "elasticloadbalancing:DescribeLoadBalancers", err: fmt.Errorf("describe load balancers in %s: %w", r.Name, err)}
			}
			for _, lb := range page.LoadBalancers {
				res.lbs = append(res.lbs, inventory.LoadBalancer{ARN: aws.ToString(lb.LoadBalancerArn), Name: aws.ToString(lb.LoadBalancerName),
					Type: string(lb.Type), Scheme: string(lb.Scheme)})
			}
		}
		res.tags = map[string]map[string]string{}
		// DescribeTags takes at most 20 ARNs per call.
		for i := 0; i < len(res.lbs); i += 20 {
			var arns []string
			for _, lb := range res.lbs[i:min(i+20, len(res.lbs))] {
				arns = append(arns, lb.ARN)
			}
			out, err := r.Clients.ELB.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: arns})
			if err != nil {
				return lbFacts{action: "elasticloadbalancing:DescribeTags", err: fmt.Errorf("describe load balancer tags in %s: %w", r.Name, err)}
			}
			for _, d := range out.TagDescriptions {
				m := map[string]string{}
				for _, t := range d.Tags {
					m[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
				res.tags[aws.ToString(d.ResourceArn)] = m
			}
		}
		return res
	})
}

// belongsTo reports whether a load balancer's tags name the cluster: the AWS Load Balancer
// Controller's elbv2.k8s.aws/cluster, the in-tree kubernetes.io/cluster/<name>, or Auto Mode's
// eks:eks-cluster-name.
func belongsTo(tags map[string]string, cluster string) bool {
	if tags["elbv2.k8s.aws/cluster"] == cluster || tags["eks:eks-cluster-name"] == cluster {
		return true
	}
	_, ok := tags["kubernetes.io/cluster/"+cluster]
	return ok
}

func (cr *clusterRun) clusterLoadBalancers(ctx context.Context) {
	r := cr.r
	f := r.regionLoadBalancers(ctx)
	if f.err != nil {
		cr.fail(f.action, f.err)
		return
	}
	var mine []inventory.LoadBalancer
	for _, lb := range f.lbs {
		if belongsTo(f.tags[lb.ARN], cr.name) {
			lb.Errors = inventory.Errors{}
			mine = append(mine, lb)
		}
	}
	var g errgroup.Group
	for i := range mine {
		if mine[i].Scheme != "internet-facing" {
			continue
		}
		g.Go(func() error {
			lf := r.listeners.get(mine[i].ARN, func() fact[[]inventory.Listener] { return r.describeListeners(r.shared(ctx), mine[i].ARN) })
			if lf.err != nil {
				mine[i].Errors["elasticloadbalancing:DescribeListeners"] = lf.err
			}
			mine[i].Listeners = lf.v
			return nil
		})
	}
	_ = g.Wait()
	cr.mu.Lock()
	cr.c.LoadBalancers = mine
	cr.mu.Unlock()
}

func (r *Region) describeListeners(ctx context.Context, arn string) fact[[]inventory.Listener] {
	out := []inventory.Listener{}
	p := elbv2.NewDescribeListenersPaginator(r.Clients.ELB, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fact[[]inventory.Listener]{err: fmt.Errorf("describe listeners of %s: %w", arn, err)}
		}
		for _, l := range page.Listeners {
			li := inventory.Listener{Port: int(aws.ToInt32(l.Port)), Protocol: string(l.Protocol), RedirectsToHTTPS: len(l.DefaultActions) > 0}
			for _, a := range l.DefaultActions {
				if a.Type != "redirect" || a.RedirectConfig == nil || !strings.EqualFold(aws.ToString(a.RedirectConfig.Protocol), "HTTPS") {
					li.RedirectsToHTTPS = false
				}
			}
			out = append(out, li)
		}
	}
	return fact[[]inventory.Listener]{v: out}
}

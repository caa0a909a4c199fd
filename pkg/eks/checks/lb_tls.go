package checks

import (
	"fmt"
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// LBTLS is CIS 5.4.5 judged from the AWS side: hardeneks reads Kubernetes annotations instead,
// which says what was asked for, not what the load balancer does.
func LBTLS() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_LB_TLS",
			Title:        "Internet-facing load balancers of the EKS cluster use TLS",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeLoadBalancer,
			Description: "Finds the ELBv2 load balancers tagged for the cluster (elbv2.k8s.aws/cluster, kubernetes.io/cluster/<name> or eks:eks-cluster-name). " +
				"For each internet-facing one, fails when a listener speaks HTTP without redirecting every request to HTTPS, or plain TCP instead of TLS. " +
				"Internal load balancers pass. Classic Load Balancers are not judged.",
			Rationale: "Traffic from the internet to workloads crosses networks you do not control; without TLS it can be read and altered in transit (CIS 5.4.5).",
			Remediation: audit.Remediation{
				Text:    "Terminate TLS at the load balancer with an ACM certificate and redirect HTTP to HTTPS (AWS Load Balancer Controller annotations certificate-arn and ssl-redirect).",
				Console: "EC2 console → Load Balancers → <load balancer> → Listeners → Add listener HTTPS:443; edit the HTTP:80 listener to Redirect to HTTPS",
				CLI:     "aws elbv2 modify-listener --listener-arn <http-listener> --default-actions Type=redirect,RedirectConfig='{Protocol=HTTPS,Port=443,StatusCode=HTTP_301}'",
				IaC:     "Kubernetes Ingress annotations: alb.ingress.kubernetes.io/certificate-arn: <acm-arn>, alb.ingress.kubernetes.io/ssl-redirect: '443'",
				URL:     "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/create-https-listener.html",
			},
			References:  refs(cis("5.4.5"), bpg("Network security: use encryption with AWS load balancers", bpgNetworkURL)),
			Permissions: []string{describeCluster, "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeListeners"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			if f, bad := missing(c.Errors, "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTags"); bad {
				return one(f)
			}
			if len(c.LoadBalancers) == 0 {
				return one(audit.NotApplicablef("No load balancer is tagged as belonging to the cluster."))
			}
			var out []audit.Finding
			for _, lb := range c.LoadBalancers {
				var f audit.Finding
				switch {
				case lb.Scheme != "internet-facing":
					f = audit.Passf("Load balancer %s is %s.", lb.Name, lb.Scheme)
				case lb.Errors.Get("elasticloadbalancing:DescribeListeners") != nil:
					f, _ = missing(lb.Errors, "elasticloadbalancing:DescribeListeners")
				default:
					var plain []string
					for _, l := range lb.Listeners {
						if (l.Protocol == "HTTP" && !l.RedirectsToHTTPS) || l.Protocol == "TCP" {
							plain = append(plain, fmt.Sprintf("%s:%d", l.Protocol, l.Port))
						}
					}
					if len(plain) > 0 {
						f = audit.Failf("Internet-facing load balancer %s has listeners without TLS: %s.", lb.Name, strings.Join(plain, ", "))
					} else {
						f = audit.Passf("Internet-facing load balancer %s uses TLS on every listener (or redirects to it).", lb.Name)
					}
				}
				out = append(out, f.On(lb.ARN, inventory.TypeLoadBalancer).With("loadBalancer", lb.Name))
			}
			return out
		},
	}
}

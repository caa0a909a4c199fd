package checks

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// EndpointPublicOpen fails a public endpoint reachable from the whole internet, and optionally any
// CIDR outside an allow-list.
func EndpointPublicOpen() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_ENDPOINT_PUBLIC_OPEN",
			Title:        "EKS cluster public endpoint is not open to the whole internet",
			Severity:     audit.High,
			ResourceType: inventory.TypeCluster,
			Description: "Fails when the public endpoint is enabled and its allowed CIDRs include 0.0.0.0/0 or ::/0, or are empty (EKS then allows 0.0.0.0/0). " +
				"With the allowedCidrs parameter set, any CIDR not inside an allowed range also fails. Severity rises to CRITICAL when the private endpoint is also off.",
			Rationale: "When a public endpoint must exist, restricting it to known networks removes most of the internet's reach to the API server.",
			Remediation: audit.Remediation{
				Text:    "Restrict publicAccessCidrs to your corporate or CI egress ranges, or disable public access.",
				Console: "EKS console → Clusters → <cluster> → Networking → Manage endpoint access → Advanced settings → Add source",
				CLI:     "aws eks update-cluster-config --name <cluster> --resources-vpc-config endpointPublicAccess=true,publicAccessCidrs=203.0.113.0/24",
				IaC:     "CloudFormation AWS::EKS::Cluster ResourcesVpcConfig.PublicAccessCidrs: [203.0.113.0/24]",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html",
			},
			References:  refs(cis("5.4.1")),
			Parameters:  []audit.Parameter{{Name: "allowedCidrs", Default: []string{}, Description: "If set, every public CIDR must lie inside one of these ranges."}},
			Permissions: []string{describeCluster},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(env audit.Env, c *inventory.Cluster) []audit.Finding {
			if f, bad := missing(c.Errors, inventory.FactEndpoint); bad {
				return one(f)
			}
			e := c.Endpoint
			if !e.PublicAccess {
				return []audit.Finding{audit.Passf("The public endpoint is disabled.")}
			}
			sev := audit.SeverityUnset
			if !e.PrivateAccess {
				sev = audit.Critical
			}
			cidrs := e.PublicAccessCIDRs
			if len(cidrs) == 0 {
				cidrs = []string{"0.0.0.0/0"}
			}
			for _, s := range cidrs {
				if s == "0.0.0.0/0" || s == "::/0" {
					f := audit.Failf("The public endpoint accepts connections from %s.", s).With("publicAccessCidrs", strings.Join(cidrs, ","))
					f.Severity = sev
					return []audit.Finding{f}
				}
			}
			allowed, err := parsePrefixes(env.Params.Strings("allowedCidrs"))
			if err != nil {
				return []audit.Finding{audit.Errorf("parameter allowedCidrs: %v", err)}
			}
			if len(allowed) > 0 {
				var outside []string
				for _, s := range cidrs {
					p, err := netip.ParsePrefix(s)
					if err != nil || !coveredBy(p, allowed) {
						outside = append(outside, s)
					}
				}
				if len(outside) > 0 {
					f := audit.Failf("The public endpoint allows %s, outside the allowed CIDRs.", strings.Join(outside, ", ")).With("publicAccessCidrs", strings.Join(cidrs, ","))
					f.Severity = sev
					return []audit.Finding{f}
				}
			}
			return []audit.Finding{audit.Passf("The public endpoint is restricted to %s.", strings.Join(cidrs, ", ")).With("publicAccessCidrs", strings.Join(cidrs, ","))}
		},
	}
}

func parsePrefixes(ss []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(ss))
	for _, s := range ss {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR: %w", s, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func coveredBy(p netip.Prefix, allowed []netip.Prefix) bool {
	for _, a := range allowed {
		if a.Addr().Is4() == p.Addr().Is4() && a.Bits() <= p.Bits() && a.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

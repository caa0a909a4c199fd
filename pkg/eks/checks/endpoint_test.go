package checks

import (
	"testing"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

func TestEndpointPublicEnabled(t *testing.T) {
	runClusterCases(t, "EKS_ENDPOINT_PUBLIC_ENABLED", []clusterCase{
		{name: "a private-only endpoint passes", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "a public endpoint restricted to one CIDR still fails", c: with(func(c *inventory.Cluster) {
			c.Endpoint.PublicAccess, c.Endpoint.PublicAccessCIDRs = true, []string{"203.0.113.0/24"}
		}), want: []want{{status: audit.Fail, msg: "203.0.113.0/24"}}},
	})
}

func TestEndpointPublicOpen(t *testing.T) {
	public := func(cidrs []string, private bool) *inventory.Cluster {
		return with(func(c *inventory.Cluster) {
			c.Endpoint.PublicAccess, c.Endpoint.PublicAccessCIDRs, c.Endpoint.PrivateAccess = true, cidrs, private
		})
	}
	runClusterCases(t, "EKS_ENDPOINT_PUBLIC_OPEN", []clusterCase{
		{name: "a disabled public endpoint passes", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "a public endpoint limited to a corporate range passes", c: public([]string{"203.0.113.0/24"}, true), want: []want{{status: audit.Pass, msg: "203.0.113.0/24"}}},
		{name: "0.0.0.0/0 fails HIGH while the private endpoint is on", c: public([]string{"0.0.0.0/0"}, true), want: []want{{status: audit.Fail, sev: audit.High}}},
		{name: "an empty CIDR list means the whole internet and fails CRITICAL without a private endpoint", c: public(nil, false), want: []want{{status: audit.Fail, sev: audit.Critical, msg: "0.0.0.0/0"}}},
		{name: "::/0 is open too", c: public([]string{"10.0.0.0/8", "::/0"}, true), want: []want{{status: audit.Fail, msg: "::/0"}}},
		{name: "a CIDR outside allowedCidrs fails", c: public([]string{"198.51.100.0/24"}, true), params: map[string]any{"allowedCidrs": []string{"203.0.113.0/24"}},
			want: []want{{status: audit.Fail, msg: "198.51.100.0/24"}}},
		{name: "a malformed allowedCidrs parameter is an error", c: public([]string{"198.51.100.0/24"}, true), params: map[string]any{"allowedCidrs": "not-a-cidr"},
			want: []want{{status: audit.Error, msg: "allowedCidrs"}}},
	})
}

func TestEndpointPrivateDisabled(t *testing.T) {
	runClusterCases(t, "EKS_ENDPOINT_PRIVATE_DISABLED", []clusterCase{
		{name: "an enabled private endpoint passes", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "a disabled private endpoint fails", c: with(func(c *inventory.Cluster) { c.Endpoint.PrivateAccess = false }), want: []want{{status: audit.Fail}}},
	})
}

package checks

import (
	"fmt"
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// problems collects what is wrong with one resource, so a check reports one finding per
// resource with every problem named and the severity of the worst.
type problems struct {
	items []string
	sev   audit.Severity
}

func (p *problems) add(sev audit.Severity, format string, a ...any) {
	p.items = append(p.items, fmt.Sprintf(format, a...))
	if sev > p.sev {
		p.sev = sev
	}
}

func (p *problems) any() bool { return len(p.items) > 0 }

// finding returns a FAIL naming every problem, or a PASS with passMsg.
func (p *problems) finding(passMsg string) audit.Finding {
	if !p.any() {
		return audit.Passf("%s", passMsg)
	}
	f := audit.Failf("%s.", strings.Join(p.items, "; "))
	f.Severity = p.sev
	return f
}

// failAt is a FAIL with a severity other than the check's default.
func failAt(sev audit.Severity, format string, a ...any) audit.Finding {
	f := audit.Failf(format, a...)
	f.Severity = sev
	return f
}

// missing returns an ERROR finding when any of the facts behind actions could not be collected.
func missing(errs inventory.Errors, actions ...string) (audit.Finding, bool) {
	if err := errs.First(actions...); err != nil {
		return audit.Errorf("Could not evaluate: %v", err), true
	}
	return audit.Finding{}, false
}

// subARN names a sub-resource of the cluster whose own ARN is unknown because it could not be
// described: the real ARN with its unique suffix left out. Reporting against it keeps one result
// per (check, resource) even when several sub-resources fail.
func subARN(c *inventory.Cluster, kind, name string) string {
	base := strings.Replace(c.ARN, ":cluster/", ":"+kind+"/", 1)
	if base == c.ARN || c.ARN == "" {
		base = fmt.Sprintf("arn:%s:eks:%s:%s:%s/%s", orDefault(c.Partition, "aws"), c.Region, c.AccountID, kind, c.Name)
	}
	return base + "/" + name
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// one wraps a single finding.
func one(f audit.Finding) []audit.Finding { return []audit.Finding{f} }

// forNodeGroups runs judge on every managed node group, reporting against the node group.
// No node groups is NOT_APPLICABLE; a node group that could not be described is an ERROR.
func forNodeGroups(c *inventory.Cluster, judge func(ng inventory.NodeGroup) audit.Finding) []audit.Finding {
	if f, bad := missing(c.Errors, "eks:ListNodegroups"); bad {
		return one(f)
	}
	if len(c.NodeGroups) == 0 {
		return one(audit.NotApplicablef("The cluster has no managed node groups."))
	}
	var out []audit.Finding
	for _, ng := range c.NodeGroups {
		if err := ng.Errors.First("eks:DescribeNodegroup"); err != nil {
			out = append(out, audit.Errorf("Could not evaluate node group %s: %v", ng.Name, err).On(subARN(c, "nodegroup", ng.Name), inventory.TypeNodegroup))
			continue
		}
		out = append(out, judge(ng).On(ng.ARN, inventory.TypeNodegroup).With("nodegroup", ng.Name))
	}
	return out
}

// forAddons runs judge on every managed add-on, reporting against the add-on.
func forAddons(c *inventory.Cluster, judge func(a inventory.Addon) audit.Finding) []audit.Finding {
	if f, bad := missing(c.Errors, "eks:ListAddons"); bad {
		return one(f)
	}
	if len(c.Addons) == 0 {
		return one(audit.NotApplicablef("The cluster has no managed add-ons."))
	}
	var out []audit.Finding
	for _, a := range c.Addons {
		if err := a.Errors.First("eks:DescribeAddon"); err != nil {
			out = append(out, audit.Errorf("Could not evaluate add-on %s: %v", a.Name, err).On(subARN(c, "addon", a.Name), inventory.TypeAddon))
			continue
		}
		out = append(out, judge(a).On(a.ARN, inventory.TypeAddon).With("addon", a.Name))
	}
	return out
}

func addon(c *inventory.Cluster, name string) *inventory.Addon {
	for i := range c.Addons {
		if c.Addons[i].Name == name {
			return &c.Addons[i]
		}
	}
	return nil
}

func joinOr(ss []string, none string) string {
	if len(ss) == 0 {
		return none
	}
	return strings.Join(ss, ", ")
}

// isOpenCIDR reports whether a CIDR is the whole IPv4 or IPv6 internet.
func isOpenCIDR(cidr string) bool { return cidr == "0.0.0.0/0" || cidr == "::/0" }

// coversPort reports whether an ingress rule admits TCP traffic to port.
func coversPort(r inventory.IngressRule, port int) bool {
	if r.Protocol == "-1" || r.FromPort == -1 {
		return true
	}
	if r.Protocol != "tcp" && r.Protocol != "6" {
		return false
	}
	return r.FromPort <= port && port <= r.ToPort
}

func allPorts(r inventory.IngressRule) bool {
	return r.Protocol == "-1" || r.FromPort == -1 || (r.FromPort == 0 && r.ToPort == 65535)
}

func describeRule(r inventory.IngressRule) string {
	src := r.CIDR + r.SourceGroup + r.PrefixList
	switch {
	case r.Protocol == "-1":
		return "all traffic from " + src
	case r.FromPort == r.ToPort:
		return fmt.Sprintf("%s/%d from %s", r.Protocol, r.FromPort, src)
	}
	return fmt.Sprintf("%s/%d-%d from %s", r.Protocol, r.FromPort, r.ToPort, src)
}

// securityGroups resolves ids in the cluster's VPC; unknown ids are returned separately.
func securityGroups(c *inventory.Cluster, ids []string) (found []*inventory.SecurityGroup, unknown []string) {
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		var sg *inventory.SecurityGroup
		if c.Network != nil {
			sg = c.Network.SecurityGroups[id]
		}
		if sg == nil {
			unknown = append(unknown, id)
			continue
		}
		found = append(found, sg)
	}
	return found, unknown
}

func boolPtrString(b *bool) string {
	if b == nil {
		return "unset"
	}
	return boolString(*b)
}

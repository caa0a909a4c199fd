package fakeaws

import (
	"fmt"
	"strings"
)

// Every other cluster has an internet-facing ALB made by the AWS Load Balancer Controller.
func (s *Server) loadBalancers(region string) []X {
	var out []X
	for i := 0; i < s.est.Clusters && s.est.hasRegion(region); i += 2 {
		name := fmt.Sprintf("k8s-%s-%s", ClusterName(i), hex8(region, i)[:6])
		out = append(out, X{
			"LoadBalancerArn":  s.est.arn("elasticloadbalancing", region, fmt.Sprintf("loadbalancer/app/%s/%s", name, hex8(region, name))),
			"LoadBalancerName": name, "Type": "application", "Scheme": "internet-facing", "VpcId": s.est.vpc(region, i),
			"DNSName": name + "." + region + ".elb.amazonaws.com", "State": X{"Code": "active"}, "CreatedTime": s.est.created,
		})
	}
	return out
}

func (s *Server) lbIndex(region, arn string) int {
	for k, lb := range s.loadBalancers(region) {
		if lb["LoadBalancerArn"] == arn {
			return 2 * k
		}
	}
	return -1
}

func (s *Server) elbDescribeLoadBalancers(c *Call) (any, error) {
	got, next, err := page(s.loadBalancers(c.Region), c.Str("Marker"), clampMax(c.Int("PageSize", 400), 400))
	if err != nil {
		return nil, err
	}
	x := X{"LoadBalancers": got}
	if next != "" {
		x["NextMarker"] = next
	}
	return x, nil
}

func (s *Server) elbDescribeTags(c *Call) (any, error) {
	arns := c.List("ResourceArns")
	if len(arns) > 20 {
		return nil, &APIError{Status: 400, Code: "ValidationError", Message: "1 validation error detected: Value at 'resourceArns' failed to satisfy constraint: Member must have length less than or equal to 20"}
	}
	var out []X
	for _, arn := range arns {
		i := s.lbIndex(c.Region, arn)
		if i < 0 {
			return nil, &APIError{Status: 400, Code: "LoadBalancerNotFound", Message: "Load balancers '[" + arn + "]' not found"}
		}
		out = append(out, X{"ResourceArn": arn, "Tags": []X{
			{"Key": "elbv2.k8s.aws/cluster", "Value": ClusterName(i)}, {"Key": "ingress.k8s.aws/stack", "Value": "apps/web"},
		}})
	}
	return X{"TagDescriptions": out}, nil
}

func (s *Server) elbDescribeListeners(c *Call) (any, error) {
	arn := c.Str("LoadBalancerArn")
	i := s.lbIndex(c.Region, arn)
	if i < 0 {
		return nil, &APIError{Status: 400, Code: "LoadBalancerNotFound", Message: "One or more load balancers not found"}
	}
	listener := func(port int, proto string, action X) X {
		return X{"ListenerArn": strings.Replace(arn, ":loadbalancer/", ":listener/", 1) + fmt.Sprintf("/%d", port),
			"LoadBalancerArn": arn, "Port": port, "Protocol": proto, "DefaultActions": []X{action}}
	}
	ls := []X{listener(443, "HTTPS", X{"Type": "forward", "TargetGroupArn": arn + "/tg"})}
	if i%4 == 0 {
		ls = append(ls, listener(80, "HTTP", X{"Type": "redirect", "RedirectConfig": X{"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}))
	} else {
		ls = append(ls, listener(80, "HTTP", X{"Type": "forward", "TargetGroupArn": arn + "/tg"}))
	}
	return X{"Listeners": ls}, nil
}

package fakeaws

import (
	"fmt"
)

func (s *Server) ec2DescribeRegions(c *Call) (any, error) {
	var out []X
	for _, r := range AllRegions {
		out = append(out, X{"regionName": r, "regionEndpoint": "ec2." + r + ".amazonaws.com", "optInStatus": "opt-in-not-required"})
	}
	return X{"regionInfo": out}, nil
}

// vpcsOf returns the estate's VPC indexes named by ids (VpcId.N) or by a vpc-id filter.
func (s *Server) vpcsOf(c *Call, ids []string) []int {
	if f := c.EC2Filters()["vpc-id"]; len(f) > 0 {
		ids = append(ids, f...)
	}
	var out []int
	for _, id := range ids {
		if v := s.est.vpcIndex(c.Region, id); v >= 0 {
			out = append(out, v)
		}
	}
	return out
}

func (s *Server) ec2DescribeVpcs(c *Call) (any, error) {
	var out []X
	for _, v := range s.vpcsOf(c, c.List("VpcId")) {
		out = append(out, X{
			"vpcId": "vpc-" + hex8(c.Region, "vpc", v), "cidrBlock": fmt.Sprintf("10.%d.0.0/16", v%250),
			"state": "available", "isDefault": false, "ownerId": s.est.Account, "instanceTenancy": "default",
		})
	}
	return X{"vpcSet": out}, nil
}

func (s *Server) ec2DescribeSecurityGroups(c *Call) (any, error) {
	d, r := s.est, c.Region
	var out []X
	for _, v := range s.vpcsOf(c, nil) {
		vpcID := "vpc-" + hex8(r, "vpc", v)
		out = append(out, X{
			"groupId": d.sharedSG(r, v), "groupName": "shared-" + vpcID, "groupDescription": "shared", "vpcId": vpcID, "ownerId": d.Account,
			"ipPermissions":       []X{{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "ipRanges": []X{{"cidrIp": "10.0.0.0/8"}}}},
			"ipPermissionsEgress": []X{{"ipProtocol": "-1", "ipRanges": []X{{"cidrIp": "0.0.0.0/0"}}}},
		})
		for i := v * d.ClustersPerVPC; i < min((v+1)*d.ClustersPerVPC, d.Clusters); i++ {
			in := []X{{"ipProtocol": "-1", "groups": []X{{"groupId": d.clusterSG(r, i), "userId": d.Account}}}}
			if i%5 == 0 {
				in = append(in, X{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": []X{{"cidrIp": "0.0.0.0/0"}}})
			}
			out = append(out, X{
				"groupId": d.clusterSG(r, i), "groupName": "eks-cluster-sg-" + ClusterName(i), "groupDescription": "EKS created security group",
				"vpcId": vpcID, "ownerId": d.Account, "ipPermissions": in,
				"ipPermissionsEgress": []X{{"ipProtocol": "-1", "ipRanges": []X{{"cidrIp": "0.0.0.0/0"}}}},
				"tagSet":              []X{{"key": "aws:eks:cluster-name", "value": ClusterName(i)}},
			})
		}
	}
	return X{"securityGroupInfo": out}, nil
}

func (s *Server) ec2DescribeSubnets(c *Call) (any, error) {
	var out []X
	for _, v := range s.vpcsOf(c, nil) {
		for k, id := range s.est.subnets(c.Region, v) {
			out = append(out, X{
				"subnetId": id, "vpcId": "vpc-" + hex8(c.Region, "vpc", v), "cidrBlock": fmt.Sprintf("10.%d.%d.0/20", v%250, k*16),
				"availabilityZone": c.Region + string(rune('a'+k)), "mapPublicIpOnLaunch": k == 2, "state": "available",
				"availableIpAddressCount": 4000, "ownerId": s.est.Account,
			})
		}
	}
	return X{"subnetSet": out}, nil
}

func (s *Server) ec2DescribeRouteTables(c *Call) (any, error) {
	var out []X
	for _, v := range s.vpcsOf(c, nil) {
		vpcID := "vpc-" + hex8(c.Region, "vpc", v)
		sn := s.est.subnets(c.Region, v)
		out = append(out,
			X{"routeTableId": "rtb-" + hex8(c.Region, "rtb-pub", v), "vpcId": vpcID, "ownerId": s.est.Account,
				"associationSet": []X{{"main": true, "routeTableAssociationId": "rtbassoc-" + hex8(c.Region, "main", v)}, {"main": false, "subnetId": sn[2], "routeTableAssociationId": "rtbassoc-" + hex8(c.Region, "pub", v)}},
				"routeSet":       []X{{"destinationCidrBlock": fmt.Sprintf("10.%d.0.0/16", v%250), "gatewayId": "local", "state": "active"}, {"destinationCidrBlock": "0.0.0.0/0", "gatewayId": "igw-" + hex8(c.Region, "igw", v), "state": "active"}}},
			X{"routeTableId": "rtb-" + hex8(c.Region, "rtb-priv", v), "vpcId": vpcID, "ownerId": s.est.Account,
				"associationSet": []X{{"main": false, "subnetId": sn[0], "routeTableAssociationId": "rtbassoc-" + hex8(c.Region, "a", v)}, {"main": false, "subnetId": sn[1], "routeTableAssociationId": "rtbassoc-" + hex8(c.Region, "b", v)}},
				"routeSet":       []X{{"destinationCidrBlock": fmt.Sprintf("10.%d.0.0/16", v%250), "gatewayId": "local", "state": "active"}, {"destinationCidrBlock": "0.0.0.0/0", "natGatewayId": "nat-" + hex8(c.Region, "nat", v), "state": "active"}}},
		)
	}
	return X{"routeTableSet": out}, nil
}

func (s *Server) ec2DescribeFlowLogs(c *Call) (any, error) {
	var out []X
	for _, id := range c.EC2Filters()["resource-id"] {
		v := s.est.vpcIndex(c.Region, id)
		if v < 0 || v%2 == 1 {
			continue
		}
		out = append(out, X{
			"flowLogId": "fl-" + hex8(c.Region, "fl", v), "resourceId": id, "trafficType": "ALL", "flowLogStatus": "ACTIVE",
			"deliverLogsStatus": "SUCCESS", "logDestinationType": "cloud-watch-logs", "logGroupName": "/vpc/flow-logs",
		})
	}
	return X{"flowLogSet": out}, nil
}

func (s *Server) ec2DescribeVpcEndpoints(c *Call) (any, error) {
	var out []X
	for _, v := range s.vpcsOf(c, nil) {
		for _, svc := range []string{"ecr.api", "ecr.dkr", "sts"} {
			out = append(out, X{
				"vpcEndpointId": "vpce-" + hex8(c.Region, svc, v), "vpcId": "vpc-" + hex8(c.Region, "vpc", v),
				"serviceName": "com.amazonaws." + c.Region + "." + svc, "vpcEndpointType": "Interface", "state": "available",
				"privateDnsEnabled": true,
			})
		}
	}
	return X{"vpcEndpointSet": out}, nil
}

func (s *Server) ec2DescribeLaunchTemplateVersions(c *Call) (any, error) {
	id := c.Str("LaunchTemplateId")
	d, r := s.est, c.Region
	for i := 0; i < d.Clusters; i++ {
		for j := 0; j < d.NodeGroups; j++ {
			if lt := d.launchTemplate(r, i, j); lt == "" || lt != id {
				continue
			}
			tokens := "required"
			if i%3 == 0 {
				tokens = "optional"
			}
			return X{"launchTemplateVersionSet": []X{{
				"launchTemplateId": id, "launchTemplateName": fmt.Sprintf("lt-%s-ng-%d", ClusterName(i), j), "versionNumber": 1, "defaultVersion": true,
				"launchTemplateData": X{
					"metadataOptions":       X{"httpTokens": tokens, "httpPutResponseHopLimit": 2, "httpEndpoint": "enabled"},
					"blockDeviceMappingSet": []X{{"deviceName": "/dev/xvda", "ebs": X{"encrypted": true, "volumeSize": 50}}},
					"securityGroupIdSet":    []string{d.clusterSG(r, i)},
				},
			}}}, nil
		}
	}
	return nil, &APIError{Status: 400, Code: "InvalidLaunchTemplateId.NotFound", Message: "The specified launch template, with template ID " + id + ", does not exist."}
}

func (s *Server) ec2GetEbsEncryptionByDefault(c *Call) (any, error) {
	return X{"ebsEncryptionByDefault": c.Region != "us-west-1"}, nil
}

func (s *Server) ec2DescribeInstances(c *Call) (any, error) {
	d, r := s.est, c.Region
	var res []X
	for _, name := range c.EC2Filters()["tag:eks:cluster-name"] {
		i := d.cluster(r, name)
		if i < 0 {
			continue
		}
		var insts []X
		for j := 0; j < d.NodeGroups; j++ {
			ng := fmt.Sprintf("ng-%d", j)
			for k := 0; k < 2; k++ {
				tokens := "required"
				if i%3 == 0 {
					tokens = "optional"
				}
				inst := X{
					"instanceId": "i-0" + hex8(r, name, ng, k) + "abcdef12", "instanceType": "m6i.large",
					"subnetId": d.subnets(r, i/d.ClustersPerVPC)[k%2], "vpcId": d.vpc(r, i),
					"instanceState":   X{"code": 16, "name": "running"},
					"metadataOptions": X{"httpTokens": tokens, "httpPutResponseHopLimit": 2, "httpEndpoint": "enabled", "state": "applied"},
					"groupSet":        []X{{"groupId": d.clusterSG(r, i), "groupName": "eks-cluster-sg-" + name}},
					"tagSet":          []X{{"key": "eks:cluster-name", "value": name}, {"key": "eks:nodegroup-name", "value": ng}},
				}
				if i%7 == 6 {
					inst["ipAddress"] = fmt.Sprintf("198.51.100.%d", (i*10+j*2+k)%250)
				}
				insts = append(insts, inst)
			}
		}
		res = append(res, X{"reservationId": "r-0" + hex8(r, name) + "abcdef12", "ownerId": d.Account, "instancesSet": insts})
	}
	return X{"reservationSet": res}, nil
}

package collect

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/sync/errgroup"

	"github.com/sek-dev/sek/pkg/eks/inventory"
)

func vpcFilter(vpc string) []ec2types.Filter {
	return []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}
}

// network reads the cluster VPC's state. Every part is memoised per VPC, so clusters sharing a
// VPC share the calls; the parts are independent and are read concurrently.
func (cr *clusterRun) network(ctx context.Context, vpc string) {
	r := cr.r
	n := &inventory.Network{}
	var g errgroup.Group
	g.Go(func() error {
		f := r.vpcs.get(vpc, func() fact[*inventory.VPC] { return r.describeVPC(r.shared(ctx), vpc) })
		n.VPC = f.v
		if f.err != nil {
			cr.fail("ec2:DescribeVpcs", f.err)
		}
		return nil
	})
	g.Go(func() error {
		f := r.sgs.get(vpc, func() fact[map[string]*inventory.SecurityGroup] { return r.describeSGs(r.shared(ctx), vpc) })
		n.SecurityGroups = f.v
		if f.err != nil {
			cr.fail("ec2:DescribeSecurityGroups", f.err)
		}
		return nil
	})
	g.Go(func() error {
		f := r.subnets.get(vpc, func() subnetFacts { return r.describeSubnets(r.shared(ctx), vpc) })
		n.Subnets = f.subnets
		if f.subnetErr != nil {
			cr.fail("ec2:DescribeSubnets", f.subnetErr)
		}
		if f.routeErr != nil {
			cr.fail("ec2:DescribeRouteTables", f.routeErr)
		}
		return nil
	})
	g.Go(func() error {
		f := r.flowLogs.get(vpc, func() fact[[]inventory.FlowLog] { return r.describeFlowLogs(r.shared(ctx), vpc) })
		n.FlowLogs = f.v
		if f.err != nil {
			cr.fail("ec2:DescribeFlowLogs", f.err)
		}
		return nil
	})
	g.Go(func() error {
		f := r.endpoints.get(vpc, func() fact[[]inventory.VPCEndpoint] { return r.describeEndpoints(r.shared(ctx), vpc) })
		n.Endpoints = f.v
		if f.err != nil {
			cr.fail("ec2:DescribeVpcEndpoints", f.err)
		}
		return nil
	})
	_ = g.Wait()
	cr.mu.Lock()
	cr.c.Network = n
	cr.mu.Unlock()
}

func (r *Region) describeVPC(ctx context.Context, vpc string) fact[*inventory.VPC] {
	out, err := r.Clients.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{vpc}})
	if err != nil {
		return fact[*inventory.VPC]{err: fmt.Errorf("describe VPC %s: %w", vpc, err)}
	}
	for _, v := range out.Vpcs {
		if aws.ToString(v.VpcId) == vpc {
			return fact[*inventory.VPC]{v: &inventory.VPC{ID: vpc, IsDefault: aws.ToBool(v.IsDefault), CIDR: aws.ToString(v.CidrBlock)}}
		}
	}
	return fact[*inventory.VPC]{err: fmt.Errorf("describe VPC %s: not found", vpc)}
}

func (r *Region) describeSGs(ctx context.Context, vpc string) fact[map[string]*inventory.SecurityGroup] {
	out := map[string]*inventory.SecurityGroup{}
	p := ec2.NewDescribeSecurityGroupsPaginator(r.Clients.EC2, &ec2.DescribeSecurityGroupsInput{Filters: vpcFilter(vpc)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fact[map[string]*inventory.SecurityGroup]{err: fmt.Errorf("describe security groups of VPC %s: %w", vpc, err)}
		}
		for _, g := range page.SecurityGroups {
			sg := &inventory.SecurityGroup{ID: aws.ToString(g.GroupId), Name: aws.ToString(g.GroupName), VPCID: aws.ToString(g.VpcId)}
			for _, p := range g.IpPermissions {
				base := inventory.IngressRule{Protocol: aws.ToString(p.IpProtocol), FromPort: -1, ToPort: -1}
				if base.Protocol != "-1" {
					base.FromPort, base.ToPort = int(aws.ToInt32(p.FromPort)), int(aws.ToInt32(p.ToPort))
				}
				for _, ip := range p.IpRanges {
					rule := base
					rule.CIDR = aws.ToString(ip.CidrIp)
					sg.Ingress = append(sg.Ingress, rule)
				}
				for _, ip := range p.Ipv6Ranges {
					rule := base
					rule.CIDR = aws.ToString(ip.CidrIpv6)
					sg.Ingress = append(sg.Ingress, rule)
				}
				for _, pair := range p.UserIdGroupPairs {
					rule := base
					rule.SourceGroup = aws.ToString(pair.GroupId)
					sg.Ingress = append(sg.Ingress, rule)
				}
				for _, pl := range p.PrefixListIds {
					rule := base
					rule.PrefixList = aws.ToString(pl.PrefixListId)
					sg.Ingress = append(sg.Ingress, rule)
				}
			}
			out[sg.ID] = sg
		}
	}
	return fact[map[string]*inventory.SecurityGroup]{v: out}
}

type subnetFacts struct {
	subnets             map[string]*inventory.Subnet
	subnetErr, routeErr error
}

// describeSubnets reads the VPC's subnets and route tables together, because whether a subnet is
// public depends on the table that applies to it: its explicit association, else the main table.
func (r *Region) describeSubnets(ctx context.Context, vpc string) subnetFacts {
	var res subnetFacts
	var tables []ec2types.RouteTable
	var g errgroup.Group
	g.Go(func() error {
		res.subnets = map[string]*inventory.Subnet{}
		p := ec2.NewDescribeSubnetsPaginator(r.Clients.EC2, &ec2.DescribeSubnetsInput{Filters: vpcFilter(vpc)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				res.subnetErr = fmt.Errorf("describe subnets of VPC %s: %w", vpc, err)
				return nil
			}
			for _, s := range page.Subnets {
				id := aws.ToString(s.SubnetId)
				res.subnets[id] = &inventory.Subnet{ID: id, VPCID: aws.ToString(s.VpcId), MapPublicIPOnLaunch: aws.ToBool(s.MapPublicIpOnLaunch)}
			}
		}
		return nil
	})
	g.Go(func() error {
		p := ec2.NewDescribeRouteTablesPaginator(r.Clients.EC2, &ec2.DescribeRouteTablesInput{Filters: vpcFilter(vpc)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				res.routeErr = fmt.Errorf("describe route tables of VPC %s: %w", vpc, err)
				return nil
			}
			tables = append(tables, page.RouteTables...)
		}
		return nil
	})
	_ = g.Wait()
	if res.routeErr != nil {
		return res
	}
	var main *ec2types.RouteTable
	explicit := map[string]*ec2types.RouteTable{}
	for i := range tables {
		t := &tables[i]
		for _, a := range t.Associations {
			if aws.ToBool(a.Main) {
				main = t
			}
			if s := aws.ToString(a.SubnetId); s != "" {
				explicit[s] = t
			}
		}
	}
	for id, s := range res.subnets {
		t := explicit[id]
		if t == nil {
			t = main
		}
		if t == nil {
			continue
		}
		s.RouteTableID = aws.ToString(t.RouteTableId)
		for _, rt := range t.Routes {
			dst := aws.ToString(rt.DestinationCidrBlock) + aws.ToString(rt.DestinationIpv6CidrBlock)
			gw := aws.ToString(rt.GatewayId)
			if (dst == "0.0.0.0/0" || dst == "::/0") && strings.HasPrefix(gw, "igw-") {
				s.InternetRoute = gw
			}
		}
	}
	return res
}

func (r *Region) describeFlowLogs(ctx context.Context, vpc string) fact[[]inventory.FlowLog] {
	var out []inventory.FlowLog
	p := ec2.NewDescribeFlowLogsPaginator(r.Clients.EC2, &ec2.DescribeFlowLogsInput{
		Filter: []ec2types.Filter{{Name: aws.String("resource-id"), Values: []string{vpc}}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fact[[]inventory.FlowLog]{err: fmt.Errorf("describe flow logs of VPC %s: %w", vpc, err)}
		}
		for _, f := range page.FlowLogs {
			out = append(out, inventory.FlowLog{ID: aws.ToString(f.FlowLogId), Status: aws.ToString(f.FlowLogStatus), Target: aws.ToString(f.LogDestination) + aws.ToString(f.LogGroupName)})
		}
	}
	return fact[[]inventory.FlowLog]{v: out}
}

func (r *Region) describeEndpoints(ctx context.Context, vpc string) fact[[]inventory.VPCEndpoint] {
	var out []inventory.VPCEndpoint
	p := ec2.NewDescribeVpcEndpointsPaginator(r.Clients.EC2, &ec2.DescribeVpcEndpointsInput{Filters: vpcFilter(vpc)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fact[[]inventory.VPCEndpoint]{err: fmt.Errorf("describe VPC endpoints of VPC %s: %w", vpc, err)}
		}
		for _, e := range page.VpcEndpoints {
			out = append(out, inventory.VPCEndpoint{ID: aws.ToString(e.VpcEndpointId), ServiceName: aws.ToString(e.ServiceName), Type: string(e.VpcEndpointType), State: string(e.State)})
		}
	}
	return fact[[]inventory.VPCEndpoint]{v: out}
}

func (cr *clusterRun) ebsDefault(ctx context.Context) {
	r := cr.r
	f := r.ebsDefault.get("", func() fact[*bool] {
		out, err := r.Clients.EC2.GetEbsEncryptionByDefault(r.shared(ctx), &ec2.GetEbsEncryptionByDefaultInput{})
		if err != nil {
			return fact[*bool]{err: fmt.Errorf("read EBS encryption by default in %s: %w", r.Name, err)}
		}
		return fact[*bool]{v: aws.Bool(aws.ToBool(out.EbsEncryptionByDefault))}
	})
	if f.err != nil {
		cr.fail("ec2:GetEbsEncryptionByDefault", f.err)
		return
	}
	cr.mu.Lock()
	cr.c.EBSEncryptionByDefault = f.v
	cr.mu.Unlock()
}

// logGroup reads the control-plane log group, /aws/eks/<name>/cluster.
func (cr *clusterRun) logGroup(ctx context.Context) {
	name := "/aws/eks/" + cr.name + "/cluster"
	out, err := cr.r.Clients.Logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
	if err != nil {
		cr.fail("logs:DescribeLogGroups", fmt.Errorf("describe log group %s: %w", name, err))
		return
	}
	for _, lg := range out.LogGroups {
		if aws.ToString(lg.LogGroupName) == name {
			cr.mu.Lock()
			cr.c.LogGroup = &inventory.LogGroup{Name: name, RetentionDays: int(aws.ToInt32(lg.RetentionInDays)), KMSKeyID: aws.ToString(lg.KmsKeyId)}
			cr.mu.Unlock()
		}
	}
}

// instances lists the running nodes EKS tagged with the cluster name, for the facts a
// launch template does not show (public addresses, metadata options of EKS-made templates).
func (cr *clusterRun) instances(ctx context.Context) {
	var out []inventory.Instance
	p := ec2.NewDescribeInstancesPaginator(cr.r.Clients.EC2, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:eks:cluster-name"), Values: []string{cr.name}},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}},
	}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			cr.fail("ec2:DescribeInstances", fmt.Errorf("describe instances of cluster %s: %w", cr.name, err))
			return
		}
		for _, res := range page.Reservations {
			for _, i := range res.Instances {
				inst := inventory.Instance{ID: aws.ToString(i.InstanceId), PublicIP: aws.ToString(i.PublicIpAddress), SubnetID: aws.ToString(i.SubnetId)}
				for _, t := range i.Tags {
					if aws.ToString(t.Key) == "eks:nodegroup-name" {
						inst.NodeGroup = aws.ToString(t.Value)
					}
				}
				for _, g := range i.SecurityGroups {
					inst.SecurityGroupIDs = append(inst.SecurityGroupIDs, aws.ToString(g.GroupId))
				}
				if m := i.MetadataOptions; m != nil {
					inst.Metadata = inventory.MetadataOptions{HTTPTokens: string(m.HttpTokens), HopLimit: int(aws.ToInt32(m.HttpPutResponseHopLimit)), HTTPEndpoint: string(m.HttpEndpoint)}
				}
				out = append(out, inst)
			}
		}
	}
	cr.mu.Lock()
	cr.c.Instances = out
	cr.mu.Unlock()
}

// launchTemplate reads one launch template version, memoised per (template, version).
func (r *Region) launchTemplate(ctx context.Context, id, name, version string) fact[*inventory.LaunchTemplateData] {
	key := [2]string{id + "/" + name, version}
	return r.launchTemplates.get(key, func() fact[*inventory.LaunchTemplateData] {
		ctx := r.shared(ctx)
		in := &ec2.DescribeLaunchTemplateVersionsInput{}
		if id != "" {
			in.LaunchTemplateId = aws.String(id)
		} else {
			in.LaunchTemplateName = aws.String(name)
		}
		if version != "" {
			in.Versions = []string{version}
		}
		out, err := r.Clients.EC2.DescribeLaunchTemplateVersions(ctx, in)
		if err != nil {
			return fact[*inventory.LaunchTemplateData]{err: fmt.Errorf("describe launch template %s%s version %s: %w", id, name, version, err)}
		}
		if len(out.LaunchTemplateVersions) == 0 || out.LaunchTemplateVersions[0].LaunchTemplateData == nil {
			return fact[*inventory.LaunchTemplateData]{err: fmt.Errorf("launch template %s%s version %s not found", id, name, version)}
		}
		d := out.LaunchTemplateVersions[0].LaunchTemplateData
		data := &inventory.LaunchTemplateData{SecurityGroupIDs: d.SecurityGroupIds}
		if m := d.MetadataOptions; m != nil && (m.HttpTokens != "" || m.HttpPutResponseHopLimit != nil || m.HttpEndpoint != "") {
			data.Metadata = &inventory.MetadataOptions{HTTPTokens: string(m.HttpTokens), HopLimit: int(aws.ToInt32(m.HttpPutResponseHopLimit)), HTTPEndpoint: string(m.HttpEndpoint)}
		}
		for _, ni := range d.NetworkInterfaces {
			data.SecurityGroupIDs = append(data.SecurityGroupIDs, ni.Groups...)
			if aws.ToBool(ni.AssociatePublicIpAddress) {
				data.AssociatePublicIP = true
			}
		}
		for _, b := range d.BlockDeviceMappings {
			if b.Ebs == nil {
				continue
			}
			data.BlockDevices = append(data.BlockDevices, inventory.BlockDevice{DeviceName: aws.ToString(b.DeviceName), Encrypted: b.Ebs.Encrypted, KMSKeyID: aws.ToString(b.Ebs.KmsKeyId)})
		}
		return fact[*inventory.LaunchTemplateData]{v: data}
	})
}

// vpcOfSubnet names the VPC of a subnet.
func (r *Region) vpcOfSubnet(ctx context.Context, subnet string) (string, error) {
	out, err := r.Clients.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{subnet}})
	if err != nil {
		return "", fmt.Errorf("find the VPC of subnet %s: %w", subnet, err)
	}
	if len(out.Subnets) == 0 || aws.ToString(out.Subnets[0].VpcId) == "" {
		return "", fmt.Errorf("find the VPC of subnet %s: not found", subnet)
	}
	return aws.ToString(out.Subnets[0].VpcId), nil
}

package fakeaws

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// AllRegions are the 17 commercial regions that need no opt-in, the default estate's regions.
var AllRegions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
	"ca-central-1", "sa-east-1",
	"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
	"ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
}

// Estate is the synthetic account the fake serves: Regions × Clusters × NodeGroups, each
// cluster with add-ons, access entries and pod identity associations. Every object is derived
// from its indexes, so an estate of any size costs no memory until it is asked for.
type Estate struct {
	Account string
	// Regions is how many of AllRegions hold clusters (RegionNames, when set, names them).
	Regions     int
	RegionNames []string
	// Per region and per cluster counts.
	Clusters, NodeGroups, Addons, AccessEntries, PodIdentities, FargateProfiles int
	// ClustersPerVPC clusters share one VPC, as clusters of one environment often do.
	ClustersPerVPC int
	// Repositories are the ECR repositories per region.
	Repositories int
}

// NewEstate returns an estate of regions × clusters × node groups with the default extras:
// four add-ons, three access entries and one pod identity association per cluster.
func NewEstate(regions, clusters, nodeGroups int) Estate {
	return Estate{
		Account: "123456789012", Regions: regions, Clusters: clusters, NodeGroups: nodeGroups,
		Addons: 4, AccessEntries: 3, PodIdentities: 1, ClustersPerVPC: 4, Repositories: 3,
	}
}

// Size is the estate's cluster count.
func (e Estate) Size() int { return len(e.regionNames()) * e.Clusters }

func (e Estate) regionNames() []string {
	if len(e.RegionNames) > 0 {
		return e.RegionNames
	}
	n := min(max(e.Regions, 1), len(AllRegions))
	return AllRegions[:n]
}

// RegionList is the estate's regions.
func (e Estate) RegionList() []string { return append([]string(nil), e.regionNames()...) }

// ClusterName is the name of cluster i (0-based) in every region.
func ClusterName(i int) string { return fmt.Sprintf("bench-%03d", i) }

var addonNames = []string{"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver", "eks-pod-identity-agent", "snapshot-controller"}

var k8sVersions = []string{"1.30", "1.31", "1.32", "1.33"}

type estateData struct {
	Estate
	Regions []string
	created time.Time
}

func newEstate(e Estate) *estateData {
	if e.Account == "" {
		e.Account = "123456789012"
	}
	if e.ClustersPerVPC <= 0 {
		e.ClustersPerVPC = 1
	}
	e.Addons = min(e.Addons, len(addonNames))
	return &estateData{Estate: e, Regions: e.regionNames(), created: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (d *estateData) hasRegion(r string) bool {
	for _, x := range d.Regions {
		if x == r {
			return true
		}
	}
	return false
}

// cluster returns the index of a cluster name, or -1.
func (d *estateData) cluster(region, name string) int {
	if !d.hasRegion(region) || !strings.HasPrefix(name, "bench-") {
		return -1
	}
	i, err := strconv.Atoi(strings.TrimPrefix(name, "bench-"))
	if err != nil || i < 0 || i >= d.Clusters || ClusterName(i) != name {
		return -1
	}
	return i
}

func (d *estateData) arn(service, region, resource string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, region, d.Account, resource)
}

func (d *estateData) role(name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", d.Account, name)
}

func clusterRole(region string) string { return "eks-cluster-" + region }
func nodeRole(region string) string    { return "eks-node-" + region }
func podRole(region string) string     { return "eks-pod-" + region }

const adminRole = "platform-admin"

func (d *estateData) version(i int) string { return k8sVersions[i%len(k8sVersions)] }

func (d *estateData) vpc(region string, i int) string {
	return "vpc-" + hex8(region, "vpc", i/d.ClustersPerVPC)
}

func (d *estateData) vpcIndex(region, id string) int {
	for v := 0; v*d.ClustersPerVPC < d.Clusters; v++ {
		if "vpc-"+hex8(region, "vpc", v) == id {
			return v
		}
	}
	return -1
}

func (d *estateData) subnets(region string, vpc int) []string {
	return []string{"subnet-" + hex8(region, "subnet-a", vpc), "subnet-" + hex8(region, "subnet-b", vpc), "subnet-" + hex8(region, "subnet-pub", vpc)}
}

func (d *estateData) clusterSG(region string, i int) string { return "sg-" + hex8(region, "sg", i) }

func (d *estateData) sharedSG(region string, vpc int) string {
	return "sg-" + hex8(region, "sg-shared", vpc)
}

func (d *estateData) keyID(region string, k int) string {
	h := hex8(region, "key", k)
	return h + "-1234-4abc-8def-" + h + "0000"
}

func (d *estateData) keyARN(region string, i int) string {
	if i%4 == 3 {
		return "" // every fourth cluster has no secrets encryption
	}
	return d.arn("kms", region, "key/"+d.keyID(region, i%2))
}

func (d *estateData) launchTemplate(region string, i, ng int) string {
	if ng%2 == 1 {
		return "" // node groups without a custom launch template
	}
	return "lt-0" + hex8(region, "lt", i*100+ng) + "abcd1234"
}

func (d *estateData) principals(region string, i int) []string {
	all := []string{d.role(nodeRole(region)), d.role(adminRole)}
	for k := 0; len(all) < d.AccessEntries; k++ {
		all = append(all, d.role(fmt.Sprintf("team-%d", k)))
	}
	return all[:d.AccessEntries]
}

func hex8(parts ...any) string {
	h := fnv.New32a()
	fmt.Fprint(h, parts...)
	return fmt.Sprintf("%08x", h.Sum32())
}

// ClusterNames returns every cluster as region/name, for tests.
func (e Estate) ClusterNames() []string {
	var out []string
	for _, r := range e.regionNames() {
		for i := 0; i < e.Clusters; i++ {
			out = append(out, r+"/"+ClusterName(i))
		}
	}
	return out
}

package checks

import (
	"fmt"
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

const (
	standardFSBP = "AWS Foundational Security Best Practices"
	standardBPG  = "EKS Best Practices Guide"
	cisURL       = "https://www.cisecurity.org/benchmark/kubernetes"
)

// fsbp references a Security Hub FSBP control, e.g. fsbp("EKS.1").
func fsbp(control string) audit.Reference {
	anchor := strings.ToLower(strings.ReplaceAll(control, ".", "-"))
	return audit.Reference{Standard: standardFSBP, Control: control,
		URL: "https://docs.aws.amazon.com/securityhub/latest/userguide/eks-controls.html#" + anchor}
}

// cis references a CIS Amazon EKS Benchmark recommendation under both current numberings.
func cis(control string) []audit.Reference {
	return []audit.Reference{
		{Standard: "CIS Amazon EKS Benchmark v1.7.0", Control: control, URL: cisURL},
		{Standard: "CIS Amazon EKS Benchmark v1.8.0", Control: control, URL: cisURL},
	}
}

// bpg references a section of the EKS Best Practices Guide.
func bpg(section, url string) audit.Reference {
	return audit.Reference{Standard: standardBPG, Control: section, URL: url}
}

func refs(parts ...any) []audit.Reference {
	var out []audit.Reference
	for _, p := range parts {
		switch v := p.(type) {
		case audit.Reference:
			out = append(out, v)
		case []audit.Reference:
			out = append(out, v...)
		default:
			panic(fmt.Sprintf("refs: unexpected %T", p))
		}
	}
	return out
}

// permissions every cluster check needs, because the snapshot starts with DescribeCluster.
const describeCluster = "eks:DescribeCluster"

func clusterOnly() []string { return []string{inventory.KindCluster} }

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

// EKS Best Practices Guide pages, by section.
const (
	bpgIAMURL         = "https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html"
	bpgNetworkURL     = "https://docs.aws.amazon.com/eks/latest/best-practices/network-security.html"
	bpgDetectiveURL   = "https://docs.aws.amazon.com/eks/latest/best-practices/auditing-and-logging.html"
	bpgInfraURL       = "https://docs.aws.amazon.com/eks/latest/best-practices/protecting-the-infrastructure.html"
	bpgImageURL       = "https://docs.aws.amazon.com/eks/latest/best-practices/image-security.html"
	bpgDataURL        = "https://docs.aws.amazon.com/eks/latest/best-practices/data-encryption-and-secrets-management.html"
	bpgRuntimeURL     = "https://docs.aws.amazon.com/eks/latest/best-practices/runtime-security.html"
	bpgUpgradesURL    = "https://docs.aws.amazon.com/eks/latest/best-practices/cluster-upgrades.html"
	bpgReliabilityURL = "https://docs.aws.amazon.com/eks/latest/best-practices/dataplane.html"
)

// guide references an Amazon EKS User Guide page, for checks no benchmark covers yet.
func guide(section, url string) audit.Reference {
	return audit.Reference{Standard: "Amazon EKS User Guide", Control: section, URL: url}
}

// config references an AWS Config managed rule that implements the same test.
func config(rule string) audit.Reference {
	return audit.Reference{Standard: "AWS Config managed rule", Control: rule,
		URL: "https://docs.aws.amazon.com/config/latest/developerguide/" + rule + ".html"}
}

// permissions every cluster check needs, because the snapshot starts with DescribeCluster.
const describeCluster = "eks:DescribeCluster"

func clusterOnly() []string { return []string{inventory.KindCluster} }

func regionOnly() []string { return []string{inventory.KindRegion} }

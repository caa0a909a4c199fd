package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// VPCFlowLogs is hardeneks' check_vpc_flow_logs.
func VPCFlowLogs() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_VPC_FLOW_LOGS",
			Title:        "The EKS cluster's VPC has active flow logs",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeCluster,
			Description:  "Reads ec2:DescribeFlowLogs for the cluster's VPC and fails unless at least one flow log has status ACTIVE.",
			Rationale:    "Flow logs are the record of which addresses pods and nodes talked to; without them, lateral movement and exfiltration cannot be traced.",
			Remediation: audit.Remediation{
				Text:    "Create a flow log for the VPC, delivered to CloudWatch Logs or S3.",
				Console: "VPC console → Your VPCs → <vpc> → Flow logs → Create flow log",
				CLI:     "aws ec2 create-flow-logs --resource-type VPC --resource-ids <vpc-id> --traffic-type ALL --log-destination-type s3 --log-destination arn:aws:s3:::<bucket>",
				IaC:     "CloudFormation AWS::EC2::FlowLog {ResourceType: VPC, ResourceId: <vpc-id>, TrafficType: ALL}",
				URL:     "https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs.html",
			},
			References:  refs(bpg("Auditing and logging: VPC flow logs", bpgDetectiveURL)),
			Permissions: []string{describeCluster, "ec2:DescribeFlowLogs"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			if f, bad := missing(c.Errors, "ec2:DescribeFlowLogs"); bad {
				return one(f)
			}
			if c.Network == nil {
				return one(audit.Errorf("The cluster's VPC %q was not collected.", c.Endpoint.VPCID))
			}
			var inactive []string
			for _, f := range c.Network.FlowLogs {
				if f.Status == "ACTIVE" {
					return one(audit.Passf("VPC %s has active flow log %s.", c.Endpoint.VPCID, f.ID).With("flowLogId", f.ID))
				}
				inactive = append(inactive, f.ID+" ("+f.Status+")")
			}
			return one(audit.Failf("VPC %s has no active flow log (flow logs: %s).", c.Endpoint.VPCID, joinOr(inactive, "none")))
		},
	}
}

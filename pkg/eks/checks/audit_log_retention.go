package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// AuditLogRetention judges the control-plane log group that EKS writes to: it must exist, expire
// its events after a bounded but sufficient time, and preferably be encrypted with a KMS key.
func AuditLogRetention() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_AUDIT_LOG_RETENTION",
			Title:        "EKS control-plane log group has a retention period and a KMS key",
			Severity:     audit.Low,
			ResourceType: inventory.TypeCluster,
			Description: "For clusters with any control-plane log type enabled, reads /aws/eks/<cluster>/cluster with logs:DescribeLogGroups. " +
				"Fails when the group is missing, when its events never expire, or when retention is shorter than minRetentionDays (CIS 2.1.2). " +
				"A log group without a KMS key fails at INFORMATIONAL severity when requireKmsKey is true.",
			Rationale: "Audit logs are only useful if they are kept long enough to investigate an incident; logs that never expire grow cost without bound, and a customer key controls who can read them.",
			Remediation: audit.Remediation{
				Text:    "Set a retention period on the control-plane log group and associate a KMS key with it.",
				Console: "CloudWatch console → Log groups → /aws/eks/<cluster>/cluster → Actions → Edit retention setting",
				CLI:     "aws logs put-retention-policy --log-group-name /aws/eks/<cluster>/cluster --retention-in-days 365 && aws logs associate-kms-key --log-group-name /aws/eks/<cluster>/cluster --kms-key-id <key-arn>",
				IaC:     "CloudFormation AWS::Logs::LogGroup {LogGroupName: /aws/eks/<cluster>/cluster, RetentionInDays: 365, KmsKeyId: <key-arn>}",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html",
			},
			References: refs(cis("2.1.2"), bpg("Auditing and logging: enable audit logs", bpgDetectiveURL)),
			Parameters: []audit.Parameter{
				{Name: "minRetentionDays", Default: 90, Description: "Shortest acceptable retention, in days."},
				{Name: "requireKmsKey", Default: true, Description: "Report a log group without a KMS key (at INFORMATIONAL severity)."},
			},
			Permissions: []string{describeCluster, "logs:DescribeLogGroups"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(env audit.Env, c *inventory.Cluster) []audit.Finding {
			if enabledLogTypes(c) == "none" {
				return one(audit.NotApplicablef("No control-plane log type is enabled, so EKS writes no log group (see EKS_AUDIT_LOGGING)."))
			}
			if f, bad := missing(c.Errors, "logs:DescribeLogGroups"); bad {
				return one(f)
			}
			name := "/aws/eks/" + c.Name + "/cluster"
			lg := c.LogGroup
			if lg == nil {
				return one(audit.Failf("Control-plane logging is enabled but the log group %s does not exist.", name))
			}
			var p problems
			minDays := env.Params.Int("minRetentionDays")
			switch {
			case lg.RetentionDays == 0:
				p.add(audit.Low, "log group %s never expires its events", name)
			case lg.RetentionDays < minDays:
				p.add(audit.Low, "log group %s keeps events for %d days, less than %d", name, lg.RetentionDays, minDays)
			}
			if lg.KMSKeyID == "" && env.Params.Bool("requireKmsKey") {
				p.add(audit.Informational, "log group %s is not encrypted with a KMS key", name)
			}
			return one(p.finding("Log group "+name+" keeps events for "+itoa(lg.RetentionDays)+" days with KMS key "+lg.KMSKeyID+".").
				With("retentionInDays", itoa(lg.RetentionDays)).With("kmsKeyId", lg.KMSKeyID))
		},
	}
}

package checks

import (
	"testing"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

func TestAuditLogging(t *testing.T) {
	runClusterCases(t, "EKS_AUDIT_LOGGING", []clusterCase{
		{name: "audit enabled passes", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "only authenticator enabled fails (ElectricEye's bug passed it)", c: with(func(c *inventory.Cluster) {
			c.Logging = map[string]bool{"authenticator": true, "audit": false}
		}), want: []want{{status: audit.Fail, msg: "authenticator"}}},
	})
}

func TestControlPlaneLoggingAll(t *testing.T) {
	runClusterCases(t, "EKS_CONTROL_PLANE_LOGGING_ALL", []clusterCase{
		{name: "all five types pass", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "a missing scheduler type fails and is named", c: with(func(c *inventory.Cluster) { c.Logging["scheduler"] = false }), want: []want{{status: audit.Fail, msg: "scheduler"}}},
		{name: "a shorter required list from parameters passes", c: with(func(c *inventory.Cluster) { c.Logging["scheduler"] = false }),
			params: map[string]any{"requiredLogTypes": []any{"audit", "api"}}, want: []want{{status: audit.Pass}}},
	})
}

func TestAuditLogRetention(t *testing.T) {
	runClusterCases(t, "EKS_AUDIT_LOG_RETENTION", []clusterCase{
		{name: "a year of retention with a KMS key passes", c: hardened(), want: []want{{status: audit.Pass, msg: "365"}}},
		{name: "a group that never expires fails", c: with(func(c *inventory.Cluster) { c.LogGroup.RetentionDays = 0 }), want: []want{{status: audit.Fail, sev: audit.Low, msg: "never expires"}}},
		{name: "thirty days is below the default minimum", c: with(func(c *inventory.Cluster) { c.LogGroup.RetentionDays = 30 }), want: []want{{status: audit.Fail, msg: "less than 90"}}},
		{name: "a missing KMS key alone fails INFORMATIONAL", c: with(func(c *inventory.Cluster) { c.LogGroup.KMSKeyID = "" }), want: []want{{status: audit.Fail, sev: audit.Informational}}},
		{name: "the KMS requirement can be turned off", c: with(func(c *inventory.Cluster) { c.LogGroup.KMSKeyID = "" }), params: map[string]any{"requireKmsKey": false}, want: []want{{status: audit.Pass}}},
		{name: "logging on without a log group fails", c: with(func(c *inventory.Cluster) { c.LogGroup = nil }), want: []want{{status: audit.Fail, msg: "does not exist"}}},
		{name: "no logging at all is not applicable", c: with(func(c *inventory.Cluster) { c.Logging = map[string]bool{"api": false} }), want: []want{{status: audit.NotApplicable}}},
		{name: "a denied DescribeLogGroups is an error naming the action", c: with(func(c *inventory.Cluster) { c.Errors["logs:DescribeLogGroups"] = errDenied }),
			want: []want{{status: audit.Error, msg: "logs:DescribeLogGroups"}}},
	})
}

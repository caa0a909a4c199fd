package checks

import (
	"testing"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

func TestSecretsEncryption(t *testing.T) {
	runClusterCases(t, "EKS_SECRETS_ENCRYPTION", []clusterCase{
		{name: "secrets with a KMS key pass", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "no encryptionConfig fails even on 1.28+ default encryption", c: with(func(c *inventory.Cluster) { c.Encryption = nil }), want: []want{{status: audit.Fail, msg: "no encryptionConfig"}}},
		{name: "an entry without secrets fails", c: with(func(c *inventory.Cluster) { c.Encryption[0].Resources = []string{"configmaps"} }), want: []want{{status: audit.Fail}}},
	})
}

func TestSecretsKMSKeyHealth(t *testing.T) {
	runClusterCases(t, "EKS_SECRETS_KMS_KEY_HEALTH", []clusterCase{
		{name: "an enabled rotated customer key passes", c: hardened(), want: []want{{status: audit.Pass}}},
		{name: "a key pending deletion fails HIGH", c: with(func(c *inventory.Cluster) { c.SecretsKey.State = "PendingDeletion" }), want: []want{{status: audit.Fail, sev: audit.High}}},
		{name: "a customer key without rotation fails", c: with(func(c *inventory.Cluster) { c.SecretsKey.RotationEnabled = false }), want: []want{{status: audit.Fail, sev: audit.Medium, msg: "rotation"}}},
		{name: "no secrets encryption is not applicable", c: with(func(c *inventory.Cluster) { c.Encryption = nil }), want: []want{{status: audit.NotApplicable}}},
		{name: "an unreadable cross-account key is an error, not a failure", c: with(func(c *inventory.Cluster) {
			c.SecretsKey = nil
			c.Errors["kms:DescribeKey"] = errDenied
		}), want: []want{{status: audit.Error, msg: "kms:DescribeKey"}}},
	})
}

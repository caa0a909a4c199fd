package checks

import (
	"strings"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// SecretsKMSKeyHealth checks the key behind secrets encryption: enabled, customer managed and
// rotated. A key that cannot be read (often a cross-account key) is an ERROR, never a FAIL.
func SecretsKMSKeyHealth() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_SECRETS_KMS_KEY_HEALTH",
			Title:        "The KMS key encrypting EKS Secrets is enabled, customer managed and rotated",
			Severity:     audit.Medium,
			ResourceType: inventory.TypeCluster,
			Description: "For clusters with secrets encryption, reads the key with kms:DescribeKey and kms:GetKeyRotationStatus. " +
				"Fails HIGH if the key is disabled or pending deletion (the cluster cannot decrypt Secrets), and MEDIUM if it is AWS managed or automatic rotation is off.",
			Rationale: "A key scheduled for deletion breaks the cluster irrecoverably; rotation limits the blast radius of a leaked key version (CIS 5.3.1, EKS Best Practices).",
			Remediation: audit.Remediation{
				Text:    "Cancel pending deletion or re-enable the key, and enable automatic key rotation.",
				Console: "KMS console → Customer managed keys → <key> → Key rotation → Automatically rotate this KMS key",
				CLI:     "aws kms enable-key-rotation --key-id <key-arn>",
				IaC:     "CloudFormation AWS::KMS::Key EnableKeyRotation: true",
				URL:     "https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html",
			},
			References: refs(cis("5.3.1"),
				bpg("Data encryption and secrets management: rotate your CMKs periodically", "https://docs.aws.amazon.com/eks/latest/best-practices/data-encryption-and-secrets-management.html")),
			Permissions: []string{describeCluster, "kms:DescribeKey", "kms:GetKeyRotationStatus"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			keyARN := ""
			for _, e := range c.Encryption {
				for _, r := range e.Resources {
					if r == "secrets" && e.KeyARN != "" {
						keyARN = e.KeyARN
					}
				}
			}
			if keyARN == "" {
				return []audit.Finding{audit.NotApplicablef("Secrets encryption is not configured, so there is no key to judge (see EKS_SECRETS_ENCRYPTION).")}
			}
			if err := c.Errors.First("kms:DescribeKey"); err != nil {
				return []audit.Finding{audit.Errorf("Could not read KMS key %s: %v", keyARN, err).With("secretsKeyArn", keyARN)}
			}
			k := c.SecretsKey
			if k == nil {
				return []audit.Finding{audit.Errorf("KMS key %s was not collected.", keyARN)}
			}
			if k.State != "Enabled" {
				f := audit.Failf("KMS key %s is %s; the cluster cannot decrypt Secrets with it.", keyARN, k.State).With("keyState", k.State)
				f.Severity = audit.High
				return []audit.Finding{f}
			}
			var problems []string
			if k.Manager != "CUSTOMER" {
				problems = append(problems, "it is "+strings.ToLower(k.Manager)+" managed, not customer managed")
			}
			if !k.RotationKnown {
				if err := c.Errors.First("kms:GetKeyRotationStatus"); err != nil {
					return []audit.Finding{audit.Errorf("Could not read the rotation status of KMS key %s: %v", keyARN, err)}
				}
			} else if !k.RotationEnabled && k.Manager == "CUSTOMER" {
				problems = append(problems, "automatic rotation is disabled")
			}
			if len(problems) > 0 {
				return []audit.Finding{audit.Failf("KMS key %s: %s.", keyARN, strings.Join(problems, "; ")).
					With("keyManager", k.Manager).With("rotationEnabled", boolString(k.RotationEnabled))}
			}
			return []audit.Finding{audit.Passf("KMS key %s is enabled, customer managed and rotated.", keyARN).With("rotationEnabled", "true")}
		},
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

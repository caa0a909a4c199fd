package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// SecretsEncryption requires KMS envelope encryption of Secrets with a key the customer chose.
func SecretsEncryption() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_SECRETS_ENCRYPTION",
			Title:        "EKS cluster encrypts Kubernetes Secrets with a KMS key",
			Severity:     audit.High,
			ResourceType: inventory.TypeCluster,
			Description: "Fails unless an encryptionConfig entry covers \"secrets\" with a KMS key ARN. " +
				"Since Kubernetes 1.28 EKS encrypts all API data with an AWS-owned key by default; Steampipe passes such clusters, " +
				"but CIS 5.3.1, Security Hub EKS.3 and the AWS Config rule still require a customer-chosen key, and so does Sek.",
			Rationale: "Envelope encryption with your own KMS key protects Secrets in etcd and lets you control, audit and revoke access to the key.",
			Remediation: audit.Remediation{
				Text:    "Associate a customer managed KMS key with the cluster for secrets encryption (this cannot be undone).",
				Console: "EKS console → Clusters → <cluster> → Overview → Secrets encryption → Enable",
				CLI:     "aws eks associate-encryption-config --cluster-name <cluster> --encryption-config '[{\"resources\":[\"secrets\"],\"provider\":{\"keyArn\":\"<key-arn>\"}}]'",
				IaC:     "CloudFormation AWS::EKS::Cluster EncryptionConfig: [{Resources: [secrets], Provider: {KeyArn: <key-arn>}}]",
				URL:     "https://docs.aws.amazon.com/eks/latest/userguide/enable-kms.html",
			},
			References: refs(fsbp("EKS.3"), cis("5.3.1"),
				bpg("Data encryption and secrets management", "https://docs.aws.amazon.com/eks/latest/best-practices/data-encryption-and-secrets-management.html")),
			Permissions: []string{describeCluster},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(_ audit.Env, c *inventory.Cluster) []audit.Finding {
			for _, e := range c.Encryption {
				for _, r := range e.Resources {
					if r == "secrets" && e.KeyARN != "" {
						return []audit.Finding{audit.Passf("Secrets are envelope-encrypted with KMS key %s.", e.KeyARN).With("secretsKeyArn", e.KeyARN)}
					}
				}
			}
			if len(c.Encryption) == 0 {
				return []audit.Finding{audit.Failf("The cluster has no encryptionConfig, so Secrets are not encrypted with a customer-chosen KMS key.")}
			}
			return []audit.Finding{audit.Failf("No encryptionConfig entry covers \"secrets\" with a KMS key ARN.")}
		},
	}
}

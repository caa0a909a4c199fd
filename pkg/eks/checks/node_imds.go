package checks

import (
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/eks/inventory"
)

// NodeIMDS is hardeneks' check_access_to_instance_profile, judged on the node group's launch
// template and, where the template does not say, on its running instances.
func NodeIMDS() ClusterRule {
	return ClusterRule{
		Check: audit.Check{
			ID:           "EKS_NODE_IMDS",
			Title:        "EKS nodes require IMDSv2 with a hop limit of 1",
			Severity:     audit.High,
			ResourceType: inventory.TypeNodegroup,
			Description: "For each managed node group, reads MetadataOptions from its launch template, or from its running instances when the template does not set them. " +
				"Fails HIGH when HttpTokens is not required, and MEDIUM when the hop limit exceeds maxHopLimit (set 2 where pods must reach IMDS). " +
				"Fails MEDIUM when neither the template nor a running instance shows the settings, since the AMI default then decides.",
			Rationale: "With IMDSv1 or a hop limit above 1, any pod can read the node role's credentials from the instance metadata service.",
			Remediation: audit.Remediation{
				Text:    "Use a launch template with HttpTokens=required and HttpPutResponseHopLimit=1, and roll the node group.",
				Console: "EC2 console → Launch templates → <template> → Modify → Advanced details → Metadata version: V2 only, Metadata response hop limit: 1",
				CLI:     "aws ec2 create-launch-template-version --launch-template-id <lt-id> --source-version <v> --launch-template-data '{\"MetadataOptions\":{\"HttpTokens\":\"required\",\"HttpPutResponseHopLimit\":1}}'",
				IaC:     "CloudFormation AWS::EC2::LaunchTemplate LaunchTemplateData.MetadataOptions: {HttpTokens: required, HttpPutResponseHopLimit: 1}",
				URL:     "https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html",
			},
			References:  refs(bpg("Identity and access management: restrict access to the instance profile assigned to the worker node", bpgIAMURL)),
			Parameters:  []audit.Parameter{{Name: "maxHopLimit", Default: 1, Description: "Largest acceptable HttpPutResponseHopLimit."}},
			Permissions: []string{describeCluster, "eks:ListNodegroups", "eks:DescribeNodegroup", "ec2:DescribeLaunchTemplateVersions", "ec2:DescribeInstances"},
		},
		AppliesTo: clusterOnly(),
		Evaluate: func(env audit.Env, c *inventory.Cluster) []audit.Finding {
			maxHop := env.Params.Int("maxHopLimit")
			return forNodeGroups(c, func(ng inventory.NodeGroup) audit.Finding {
				judge := func(m inventory.MetadataOptions, where string) audit.Finding {
					if m.HTTPEndpoint == "disabled" {
						return audit.Passf("%s disables the instance metadata service.", where)
					}
					var p problems
					if m.HTTPTokens != "required" {
						p.add(audit.High, "%s allows IMDSv1 (HttpTokens=%s)", where, orUnset(m.HTTPTokens))
					}
					if m.HopLimit > maxHop {
						p.add(audit.Medium, "%s sets hop limit %d, above %d", where, m.HopLimit, maxHop)
					}
					return p.finding(where+" requires IMDSv2 with hop limit "+itoa(m.HopLimit)+".").With("httpTokens", m.HTTPTokens).With("hopLimit", itoa(m.HopLimit))
				}
				if lt := ng.LaunchTemplate; lt != nil {
					if lt.Data == nil {
						if f, bad := missing(ng.Errors, "ec2:DescribeLaunchTemplateVersions"); bad {
							return f
						}
						return audit.Errorf("Launch template %s%s of node group %s was not read.", lt.ID, lt.Name, ng.Name)
					}
					if m := lt.Data.Metadata; m != nil {
						return judge(*m, "launch template "+lt.ID+" version "+lt.Version)
					}
				}
				if f, bad := missing(c.Errors, "ec2:DescribeInstances"); bad {
					return f
				}
				for _, inst := range c.Instances {
					if inst.NodeGroup != ng.Name {
						continue
					}
					if f := judge(inst.Metadata, "instance "+inst.ID); f.Status == audit.Fail {
						return f
					}
				}
				for _, inst := range c.Instances {
					if inst.NodeGroup == ng.Name {
						return judge(inst.Metadata, "instance "+inst.ID+" (and every other node of the group)")
					}
				}
				return failAt(audit.Medium, "Node group %s has no launch template metadata options and no running instance to inspect, so IMDSv2 is not enforced by configuration.", ng.Name)
			})
		},
	}
}

func orUnset(s string) string {
	if s == "" {
		return "unset"
	}
	return s
}

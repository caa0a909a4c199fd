package fakeaws

import (
	"strings"
)

// buildRoutes registers every API the fake serves. To serve a new API, add one line here and its
// handler; deps name what the call waits for.
func (s *Server) buildRoutes() map[string]*service {
	s.deps = map[string][]string{}
	svcs := map[string]*service{
		"eks":                  {name: "eks", proto: restJSON{}},
		"guardduty":            {name: "guardduty", proto: restJSON{}},
		"inspector2":           {name: "inspector2", proto: restJSON{}},
		"securityhub":          {name: "securityhub", proto: restJSON{}},
		"lambda":               {name: "lambda", proto: restJSON{}},
		"kms":                  {name: "kms", proto: awsJSON{}},
		"logs":                 {name: "logs", proto: awsJSON{}},
		"ecr":                  {name: "ecr", proto: awsJSON{}},
		"ssm":                  {name: "ssm", proto: awsJSON{}},
		"iam":                  {name: "iam", proto: awsQuery{}, xmlns: "https://iam.amazonaws.com/doc/2010-05-08/"},
		"sts":                  {name: "sts", proto: awsQuery{}, xmlns: "https://sts.amazonaws.com/doc/2011-06-15/"},
		"ec2":                  {name: "ec2", proto: awsQuery{ec2: true}, xmlns: "http://ec2.amazonaws.com/doc/2016-11-15/"},
		"elasticloadbalancing": {name: "elasticloadbalancing", proto: awsQuery{}, xmlns: "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"},
	}
	rest := func(svc, route, name string, fn Handler, after ...string) {
		method, path, _ := strings.Cut(route, " ")
		op := &operation{name: name, fn: fn}
		sv := svcs[svc]
		sv.rest = append(sv.rest, restRoute{method: method, segs: splitPath(path), op: op})
		s.deps[svc+":"+name] = after
	}
	op := func(svc, name string, fn Handler, after ...string) {
		sv := svcs[svc]
		if sv.ops == nil {
			sv.ops = map[string]*operation{}
		}
		sv.ops[name] = &operation{name: name, fn: fn}
		s.deps[svc+":"+name] = after
	}

	// EKS
	rest("eks", "GET /clusters", "ListClusters", s.eksListClusters)
	rest("eks", "GET /clusters/{name}", "DescribeCluster", s.eksDescribeCluster, "eks:ListClusters")
	rest("eks", "GET /cluster-versions", "DescribeClusterVersions", s.eksDescribeClusterVersions)
	rest("eks", "GET /clusters/{clusterName}/node-groups", "ListNodegroups", s.eksListNodegroups, "eks:ListClusters")
	rest("eks", "GET /clusters/{clusterName}/node-groups/{nodegroupName}", "DescribeNodegroup", s.eksDescribeNodegroup, "eks:ListNodegroups")
	rest("eks", "GET /clusters/{clusterName}/fargate-profiles", "ListFargateProfiles", s.eksListFargateProfiles, "eks:ListClusters")
	rest("eks", "GET /clusters/{clusterName}/fargate-profiles/{fargateProfileName}", "DescribeFargateProfile", s.eksDescribeFargateProfile, "eks:ListFargateProfiles")
	rest("eks", "GET /clusters/{clusterName}/addons", "ListAddons", s.eksListAddons, "eks:ListClusters")
	rest("eks", "GET /clusters/{clusterName}/addons/{addonName}", "DescribeAddon", s.eksDescribeAddon, "eks:ListAddons")
	rest("eks", "GET /addons/supported-versions", "DescribeAddonVersions", s.eksDescribeAddonVersions, "eks:ListAddons", "eks:DescribeCluster")
	rest("eks", "GET /clusters/{clusterName}/access-entries", "ListAccessEntries", s.eksListAccessEntries, "eks:ListClusters")
	rest("eks", "GET /clusters/{clusterName}/access-entries/{principalArn}", "DescribeAccessEntry", s.eksDescribeAccessEntry, "eks:ListAccessEntries")
	rest("eks", "GET /clusters/{clusterName}/access-entries/{principalArn}/access-policies", "ListAssociatedAccessPolicies", s.eksListAssociatedAccessPolicies, "eks:ListAccessEntries")
	rest("eks", "GET /clusters/{clusterName}/pod-identity-associations", "ListPodIdentityAssociations", s.eksListPodIdentityAssociations, "eks:ListClusters")
	rest("eks", "GET /clusters/{clusterName}/pod-identity-associations/{associationId}", "DescribePodIdentityAssociation", s.eksDescribePodIdentityAssociation, "eks:ListPodIdentityAssociations")
	rest("eks", "GET /clusters/{clusterName}/identity-provider-configs", "ListIdentityProviderConfigs", s.eksListIdentityProviderConfigs, "eks:ListClusters")
	rest("eks", "POST /clusters/{clusterName}/identity-provider-configs/describe", "DescribeIdentityProviderConfig", s.eksDescribeIdentityProviderConfig, "eks:ListIdentityProviderConfigs")

	// EC2
	op("ec2", "DescribeRegions", s.ec2DescribeRegions)
	op("ec2", "DescribeVpcs", s.ec2DescribeVpcs, "eks:DescribeCluster")
	op("ec2", "DescribeSecurityGroups", s.ec2DescribeSecurityGroups, "eks:DescribeCluster")
	op("ec2", "DescribeSubnets", s.ec2DescribeSubnets, "eks:DescribeCluster")
	op("ec2", "DescribeRouteTables", s.ec2DescribeRouteTables, "eks:DescribeCluster")
	op("ec2", "DescribeFlowLogs", s.ec2DescribeFlowLogs, "eks:DescribeCluster")
	op("ec2", "DescribeVpcEndpoints", s.ec2DescribeVpcEndpoints, "eks:DescribeCluster")
	op("ec2", "DescribeLaunchTemplateVersions", s.ec2DescribeLaunchTemplateVersions, "eks:DescribeNodegroup")
	op("ec2", "GetEbsEncryptionByDefault", s.ec2GetEbsEncryptionByDefault)
	op("ec2", "DescribeInstances", s.ec2DescribeInstances, "eks:ListClusters")

	// Elastic Load Balancing v2
	op("elasticloadbalancing", "DescribeLoadBalancers", s.elbDescribeLoadBalancers)
	op("elasticloadbalancing", "DescribeTags", s.elbDescribeTags, "elasticloadbalancing:DescribeLoadBalancers")
	op("elasticloadbalancing", "DescribeListeners", s.elbDescribeListeners, "elasticloadbalancing:DescribeLoadBalancers")

	// IAM (global) and STS
	op("iam", "GetRole", s.iamGetRole, "eks:DescribeCluster")
	op("iam", "GetUser", s.iamGetUser, "eks:DescribeAccessEntry")
	op("iam", "ListRoles", s.iamListRoles)
	op("iam", "ListAttachedRolePolicies", s.iamListAttachedRolePolicies, "eks:DescribeCluster")
	op("iam", "ListRolePolicies", s.iamListRolePolicies, "eks:DescribeCluster")
	op("iam", "GetRolePolicy", s.iamGetRolePolicy, "iam:ListRolePolicies")
	op("iam", "GetPolicy", s.iamGetPolicy, "iam:ListAttachedRolePolicies")
	op("iam", "GetPolicyVersion", s.iamGetPolicyVersion, "iam:GetPolicy")
	op("iam", "ListOpenIDConnectProviders", s.iamListOpenIDConnectProviders)
	op("sts", "GetCallerIdentity", s.stsGetCallerIdentity)

	// KMS, CloudWatch Logs, SSM, ECR, GuardDuty, Inspector
	op("kms", "DescribeKey", s.kmsDescribeKey, "eks:DescribeCluster")
	op("kms", "GetKeyRotationStatus", s.kmsGetKeyRotationStatus, "eks:DescribeCluster")
	op("logs", "DescribeLogGroups", s.logsDescribeLogGroups, "eks:ListClusters")
	op("ssm", "GetParameter", s.ssmGetParameter, "eks:DescribeNodegroup")
	op("ecr", "DescribeRepositories", s.ecrDescribeRepositories)
	op("ecr", "GetRegistryScanningConfiguration", s.ecrGetRegistryScanningConfiguration)
	op("ecr", "GetLifecyclePolicy", s.ecrGetLifecyclePolicy, "ecr:DescribeRepositories")
	op("ecr", "GetRepositoryPolicy", s.ecrGetRepositoryPolicy, "ecr:DescribeRepositories")
	rest("guardduty", "GET /detector", "ListDetectors", s.gdListDetectors)
	rest("guardduty", "GET /detector/{DetectorId}", "GetDetector", s.gdGetDetector, "guardduty:ListDetectors")
	rest("inspector2", "POST /status/batch/get", "BatchGetAccountStatus", s.inspectorBatchGetAccountStatus)

	// Security Hub: reading existing findings needs nothing; importing needs the results.
	rest("securityhub", "GET /accounts", "DescribeHub", s.hubDescribeHub)
	rest("securityhub", "POST /findings", "GetFindings", s.hubGetFindings)
	rest("securityhub", "POST /findings/import", "BatchImportFindings", s.hubBatchImportFindings, "*")
	rest("securityhub", "PATCH /findings/batchupdate", "BatchUpdateFindings", s.hubBatchUpdateFindings, "securityhub:BatchImportFindings")

	// Lambda: the scheduled run's fan-out invokes the function once per region.
	rest("lambda", "POST /2015-03-31/functions/{FunctionName}/invocations", "Invoke", s.lambdaInvoke)
	return svcs
}

package fakeaws

import (
	"fmt"
	"time"
)

// M is a JSON object.
type M = map[string]any

func epoch(t time.Time) float64 { return float64(t.Unix()) }

func eksNotFound(what string) *APIError {
	return &APIError{Status: 404, Code: "ResourceNotFoundException", Message: what + " not found."}
}

func (s *Server) clusterOf(c *Call, label string) (int, error) {
	i := s.est.cluster(c.Region, c.Str(label))
	if i < 0 {
		return -1, eksNotFound("No cluster found for name: " + c.Str(label) + ". Cluster")
	}
	return i, nil
}

func (s *Server) eksListClusters(c *Call) (any, error) {
	if !s.est.hasRegion(c.Region) {
		return M{"clusters": []string{}}, nil
	}
	names := make([]string, s.est.Clusters)
	for i := range names {
		names[i] = ClusterName(i)
	}
	items, next, err := page(names, c.Str("nextToken"), clampMax(c.Int("maxResults", 100), 100))
	if err != nil {
		return nil, err
	}
	return M{"clusters": items, "nextToken": nilIfEmpty(next)}, nil
}

func clampMax(n, limit int) int {
	if n <= 0 || n > limit {
		return limit
	}
	return n
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) eksDescribeCluster(c *Call) (any, error) {
	i, err := s.clusterOf(c, "name")
	if err != nil {
		return nil, err
	}
	d, r := s.est, c.Region
	name := ClusterName(i)
	vpc := i / d.ClustersPerVPC
	all := []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}
	logging := []M{{"types": all, "enabled": true}}
	if i%2 == 1 {
		logging = []M{{"types": all[:1], "enabled": true}, {"types": all[1:], "enabled": false}}
	}
	cidrs := []string{"0.0.0.0/0"}
	if i%3 == 1 {
		cidrs = []string{"203.0.113.0/24"}
	}
	cl := M{
		"name": name, "arn": d.arn("eks", r, "cluster/"+name), "createdAt": epoch(d.created),
		"version": d.version(i), "platformVersion": "eks.7", "status": "ACTIVE",
		"endpoint": fmt.Sprintf("https://%s.gr7.%s.eks.amazonaws.com", hex8(r, name), r),
		"roleArn":  d.role(clusterRole(r)),
		"resourcesVpcConfig": M{
			"vpcId": d.vpc(r, i), "subnetIds": d.subnets(r, vpc)[:2],
			"securityGroupIds": []string{d.sharedSG(r, vpc)}, "clusterSecurityGroupId": d.clusterSG(r, i),
			"endpointPublicAccess": i%3 != 2, "endpointPrivateAccess": i%2 == 0, "publicAccessCidrs": cidrs,
		},
		"kubernetesNetworkConfig": M{"serviceIpv4Cidr": "10.100.0.0/16", "ipFamily": "ipv4"},
		"logging":                 M{"clusterLogging": logging},
		"identity":                M{"oidc": M{"issuer": fmt.Sprintf("https://oidc.eks.%s.amazonaws.com/id/%s", r, hex8(r, name, "oidc"))}},
		"certificateAuthority":    M{"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="},
		"tags":                    M{"env": []string{"prod", "staging", "dev"}[i%3], "team": "platform"},
		"accessConfig":            M{"authenticationMode": "API_AND_CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": i%2 == 0},
		"upgradePolicy":           M{"supportType": "STANDARD"},
		"deletionProtection":      i%2 == 0,
		"health":                  M{"issues": []M{}},
	}
	if key := d.keyARN(r, i); key != "" {
		cl["encryptionConfig"] = []M{{"resources": []string{"secrets"}, "provider": M{"keyArn": key}}}
	}
	return M{"cluster": cl}, nil
}

func (s *Server) eksDescribeClusterVersions(c *Call) (any, error) {
	day := func(y int, m time.Month, d int) float64 { return epoch(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)) }
	all := []M{
		{"clusterVersion": "1.29", "versionStatus": "EXTENDED_SUPPORT", "status": "extended-support", "endOfStandardSupportDate": day(2025, 3, 23), "endOfExtendedSupportDate": day(2026, 3, 23)},
		{"clusterVersion": "1.30", "versionStatus": "EXTENDED_SUPPORT", "status": "extended-support", "endOfStandardSupportDate": day(2025, 7, 23), "endOfExtendedSupportDate": day(2026, 7, 23)},
		{"clusterVersion": "1.31", "versionStatus": "STANDARD_SUPPORT", "status": "standard-support", "endOfStandardSupportDate": day(2025, 11, 26), "endOfExtendedSupportDate": day(2026, 11, 26)},
		{"clusterVersion": "1.32", "versionStatus": "STANDARD_SUPPORT", "status": "standard-support", "endOfStandardSupportDate": day(2026, 3, 23), "endOfExtendedSupportDate": day(2027, 3, 23)},
		{"clusterVersion": "1.33", "versionStatus": "STANDARD_SUPPORT", "status": "standard-support", "endOfStandardSupportDate": day(2026, 7, 29), "endOfExtendedSupportDate": day(2027, 7, 29), "defaultVersion": true},
	}
	for _, v := range all {
		v["clusterType"] = "eks"
		v["defaultPlatformVersion"] = "eks.7"
	}
	items, next, err := page(all, c.Str("nextToken"), clampMax(c.Int("maxResults", 100), 100))
	if err != nil {
		return nil, err
	}
	return M{"clusterVersions": items, "nextToken": nilIfEmpty(next)}, nil
}

func (s *Server) eksListNodegroups(c *Call) (any, error) {
	if _, err := s.clusterOf(c, "clusterName"); err != nil {
		return nil, err
	}
	names := make([]string, s.est.NodeGroups)
	for j := range names {
		names[j] = fmt.Sprintf("ng-%d", j)
	}
	items, next, err := page(names, c.Str("nextToken"), clampMax(c.Int("maxResults", 100), 100))
	if err != nil {
		return nil, err
	}
	return M{"nodegroups": items, "nextToken": nilIfEmpty(next)}, nil
}

func (s *Server) eksDescribeNodegroup(c *Call) (any, error) {
	i, err := s.clusterOf(c, "clusterName")
	if err != nil {
		return nil, err
	}
	var j int
	if _, err := fmt.Sscanf(c.Str("nodegroupName"), "ng-%d", &j); err != nil || j < 0 || j >= s.est.NodeGroups {
		return nil, eksNotFound("No node group found for name: " + c.Str("nodegroupName") + ". Nodegroup")
	}
	d, r, name := s.est, c.Region, ClusterName(i)
	ng := fmt.Sprintf("ng-%d", j)
	n := M{
		"nodegroupName": ng, "clusterName": name, "status": "ACTIVE", "capacityType": "ON_DEMAND",
		"nodegroupArn": d.arn("eks", r, fmt.Sprintf("nodegroup/%s/%s/%s", name, ng, hex8(r, name, ng))),
		"version":      d.version(i), "releaseVersion": d.version(i) + ".3-20250101",
		"createdAt": epoch(d.created), "modifiedAt": epoch(d.created),
		"scalingConfig": M{"minSize": 1, "maxSize": 5, "desiredSize": 2},
		"instanceTypes": []string{"m6i.large"}, "subnets": d.subnets(r, i/d.ClustersPerVPC)[:2],
		"amiType": "AL2023_x86_64_STANDARD", "nodeRole": d.role(nodeRole(r)),
		"resources": M{"autoScalingGroups": []M{{"name": "eks-" + ng + "-" + hex8(r, name, ng)}}},
		"health":    M{"issues": []M{}}, "updateConfig": M{"maxUnavailable": 1},
		"labels": M{"workload": "general"}, "tags": M{"team": "platform"},
	}
	if lt := d.launchTemplate(r, i, j); lt != "" {
		n["launchTemplate"] = M{"id": lt, "name": "lt-" + name + "-" + ng, "version": "1"}
	} else {
		n["diskSize"] = 20
	}
	if i%5 == 4 && j == 0 {
		n["remoteAccess"] = M{"ec2SshKey": "ops", "sourceSecurityGroups": []string{}}
	}
	return M{"nodegroup": n}, nil
}

func (s *Server) eksListFargateProfiles(c *Call) (any, error) {
	if _, err := s.clusterOf(c, "clusterName"); err != nil {
		return nil, err
	}
	names := make([]string, s.est.FargateProfiles)
	for k := range names {
		names[k] = fmt.Sprintf("fp-%d", k)
	}
	items, next, err := page(names, c.Str("nextToken"), clampMax(c.Int("maxResults", 100), 100))
	if err != nil {
		return nil, err
	}
	return M{"fargateProfileNames": items, "nextToken": nilIfEmpty(next)}, nil
}

func (s *Server) eksDescribeFargateProfile(c *Call) (any, error) {
	i, err := s.clusterOf(c, "clusterName")
	if err != nil {
		return nil, err
	}
	var k int
	if _, err := fmt.Sscanf(c.Str("fargateProfileName"), "fp-%d", &k); err != nil || k >= s.est.FargateProfiles {
		return nil, eksNotFound("Fargate profile")
	}
	d, r, name := s.est, c.Region, ClusterName(i)
	fp := c.Str("fargateProfileName")
	return M{"fargateProfile": M{
		"fargateProfileName": fp, "clusterName": name, "status": "ACTIVE", "createdAt": epoch(d.created),
		"fargateProfileArn":   d.arn("eks", r, fmt.Sprintf("fargateprofile/%s/%s/%s", name, fp, hex8(r, name, fp))),
		"podExecutionRoleArn": d.role(podRole(r)), "subnets": d.subnets(r, i/d.ClustersPerVPC)[:2],
		"selectors": []M{{"namespace": "serverless"}},
	}}, nil
}

func (s *Server) addonNames() []string { return addonNames[:s.est.Addons] }

func (s *Server) eksListAddons(c *Call) (any, error) {
	if _, err := s.clusterOf(c, "clusterName"); err != nil {
		return nil, err
	}
	items, next, err := page(s.addonNames(), c.Str("nextToken"), clampMax(c.Int("maxResults", 100), 100))
	if err != nil {
		return nil, err
	}
	return M{"addons": items, "nextToken": nilIfEmpty(next)}, nil
}

func (s *Server) addonVersion(addon, k8s string, latest bool) string {
	minor := "1"
	if latest {
		minor = "2"
	}
	return fmt.Sprintf("v1.%s.%s-eksbuild.1", k8s[2:], minor)
}

func (s *Server) eksDescribeAddon(c *Call) (any, error) {
	i, err := s.clusterOf(c, "clusterName")
	if err != nil {
		return nil, err
	}
	addon := c.Str("addonName")
	found := false
	for _, a := range s.addonNames() {
		found = found || a == addon
	}
	if !found {
		return nil, eksNotFound("No addon: " + addon + ". Addon")
	}
	d, r, name := s.est, c.Region, ClusterName(i)
	a := M{
		"addonName": addon, "clusterName": name, "status": "ACTIVE",
		"addonVersion": s.addonVersion(addon, d.version(i), i%2 == 0),
		"addonArn":     d.arn("eks", r, fmt.Sprintf("addon/%s/%s/%s", name, addon, hex8(r, name, addon))),
		"createdAt":    epoch(d.created), "modifiedAt": epoch(d.created), "health": M{"issues": []M{}},
	}
	if addon == "vpc-cni" || addon == "aws-ebs-csi-driver" {
		a["serviceAccountRoleArn"] = d.role(podRole(r))
	}
	return M{"addon": a}, nil
}

func (s *Server) eksDescribeAddonVersions(c *Call) (any, error) {
	addon, k8s := c.Str("addonName"), c.Str("kubernetesVersion")
	var out []M
	for _, a := range s.addonNames() {
		if addon != "" && a != addon {
			continue
		}
		var versions []M
		for _, v := range k8sVersions {
			if k8s != "" && v != k8s {
				continue
			}
			for _, latest := range []bool{true, false} {
				versions = append(versions, M{
					"addonVersion": s.addonVersion(a, v, latest), "architecture": []string{"amd64", "arm64"},
					"compatibilities": []M{{"clusterVersion": v, "platformVersions": []string{"*"}, "defaultVersion": latest}},
				})
			}
		}
		out = append(out, M{"addonName": a, "type": "networking", "owner": "aws", "addonVersions": versions})
	}
	return M{"addons": out}, nil
}

func (s *Server) eksListAccessEntries(c *Call) (any, error) {
	i, err := s.clusterOf(c, "clusterName")
	if err != nil {
		return nil, err
	}
	items, next, err := page(s.est.principals(c.Region, i), c.Str("nextToken"), clampMax(c.Int("maxResults", 100), 100))
	if err != nil {
		return nil, err
	}
	return M{"accessEntries": items, "nextToken": nilIfEmpty(next)}, nil
}

func (s *Server) accessEntry(c *Call) (int, string, error) {
	i, err := s.clusterOf(c, "clusterName")
	if err != nil {
		return -1, "", err
	}
	p := c.Str("principalArn")
	for _, x := range s.est.principals(c.Region, i) {
		if x == p {
			return i, p, nil
		}
	}
	return -1, "", eksNotFound("The specified principalArn " + p + ". Access entry")
}

func (s *Server) eksDescribeAccessEntry(c *Call) (any, error) {
	i, p, err := s.accessEntry(c)
	if err != nil {
		return nil, err
	}
	d, r, name := s.est, c.Region, ClusterName(i)
	e := M{
		"clusterName": name, "principalArn": p, "createdAt": epoch(d.created), "modifiedAt": epoch(d.created),
		"accessEntryArn": d.arn("eks", r, fmt.Sprintf("access-entry/%s/role/%s/%s", name, d.Account, hex8(p))),
		"type":           "STANDARD", "username": p, "kubernetesGroups": []string{},
	}
	if p == d.role(nodeRole(r)) {
		e["type"] = "EC2_LINUX"
		e["username"] = "system:node:{{EC2PrivateDNSName}}"
	} else if i%3 == 0 {
		e["kubernetesGroups"] = []string{"system:masters"}
	}
	return M{"accessEntry": e}, nil
}

func (s *Server) eksListAssociatedAccessPolicies(c *Call) (any, error) {
	i, p, err := s.accessEntry(c)
	if err != nil {
		return nil, err
	}
	var pols []M
	switch {
	case p == s.est.role(adminRole):
		pols = append(pols, M{"policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", "accessScope": M{"type": "cluster"}, "associatedAt": epoch(s.est.created)})
	case p != s.est.role(nodeRole(c.Region)):
		pols = append(pols, M{"policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", "accessScope": M{"type": "namespace", "namespaces": []string{"team"}}, "associatedAt": epoch(s.est.created)})
	}
	return M{"clusterName": ClusterName(i), "principalArn": p, "associatedAccessPolicies": pols}, nil
}

func (s *Server) eksListPodIdentityAssociations(c *Call) (any, error) {
	i, err := s.clusterOf(c, "clusterName")
	if err != nil {
		return nil, err
	}
	d, r, name := s.est, c.Region, ClusterName(i)
	var all []M
	for k := 0; k < d.PodIdentities; k++ {
		id := "a-" + hex8(r, name, k) + "abcdefghij"
		all = append(all, M{
			"clusterName": name, "namespace": "apps", "serviceAccount": fmt.Sprintf("sa-%d", k),
			"associationId": id, "associationArn": d.arn("eks", r, fmt.Sprintf("podidentityassociation/%s/%s", name, id)),
		})
	}
	items, next, err := page(all, c.Str("nextToken"), clampMax(c.Int("maxResults", 100), 100))
	if err != nil {
		return nil, err
	}
	return M{"associations": items, "nextToken": nilIfEmpty(next)}, nil
}

func (s *Server) eksDescribePodIdentityAssociation(c *Call) (any, error) {
	i, err := s.clusterOf(c, "clusterName")
	if err != nil {
		return nil, err
	}
	d, r, name := s.est, c.Region, ClusterName(i)
	for k := 0; k < d.PodIdentities; k++ {
		id := "a-" + hex8(r, name, k) + "abcdefghij"
		if id != c.Str("associationId") {
			continue
		}
		return M{"association": M{
			"clusterName": name, "namespace": "apps", "serviceAccount": fmt.Sprintf("sa-%d", k),
			"associationId": id, "associationArn": d.arn("eks", r, fmt.Sprintf("podidentityassociation/%s/%s", name, id)),
			"roleArn": d.role(podRole(r)), "createdAt": epoch(d.created), "modifiedAt": epoch(d.created),
		}}, nil
	}
	return nil, eksNotFound("Pod identity association")
}

func (s *Server) eksListIdentityProviderConfigs(c *Call) (any, error) {
	i, err := s.clusterOf(c, "clusterName")
	if err != nil {
		return nil, err
	}
	cfgs := []M{}
	if i%4 == 1 {
		cfgs = append(cfgs, M{"type": "oidc", "name": "corp-sso"})
	}
	return M{"identityProviderConfigs": cfgs}, nil
}

func (s *Server) eksDescribeIdentityProviderConfig(c *Call) (any, error) {
	i, err := s.clusterOf(c, "clusterName")
	if err != nil {
		return nil, err
	}
	ref, _ := c.JSON("identityProviderConfig").(map[string]any)
	if i%4 != 1 || ref["name"] != "corp-sso" {
		return nil, eksNotFound("Identity provider config")
	}
	return M{"identityProviderConfig": M{"oidc": M{
		"clusterName": ClusterName(i), "identityProviderConfigName": "corp-sso", "issuerUrl": "https://sso.example.com",
		"clientId": "kubernetes", "usernameClaim": "email", "groupsClaim": "groups", "status": "ACTIVE",
	}}}, nil
}

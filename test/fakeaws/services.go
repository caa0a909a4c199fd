package fakeaws

import (
	"fmt"
	"strings"
)

func (s *Server) key(c *Call) (int, string, error) {
	id := c.Str("KeyId")
	for k := 0; k < 2; k++ {
		kid := s.est.keyID(c.Region, k)
		if id == kid || strings.HasSuffix(id, "key/"+kid) {
			return k, kid, nil
		}
	}
	return -1, "", &APIError{Status: 400, Code: "NotFoundException", Message: "Key '" + id + "' does not exist"}
}

func (s *Server) kmsDescribeKey(c *Call) (any, error) {
	_, kid, err := s.key(c)
	if err != nil {
		return nil, err
	}
	return M{"KeyMetadata": M{
		"AWSAccountId": s.est.Account, "KeyId": kid, "Arn": s.est.arn("kms", c.Region, "key/"+kid),
		"CreationDate": epoch(s.est.created), "Enabled": true, "KeyState": "Enabled", "KeyManager": "CUSTOMER",
		"KeySpec": "SYMMETRIC_DEFAULT", "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT",
		"Origin": "AWS_KMS", "MultiRegion": false, "Description": "EKS secrets",
	}}, nil
}

func (s *Server) kmsGetKeyRotationStatus(c *Call) (any, error) {
	k, kid, err := s.key(c)
	if err != nil {
		return nil, err
	}
	out := M{"KeyId": kid, "KeyRotationEnabled": k == 0}
	if k == 0 {
		out["RotationPeriodInDays"] = 365
	}
	return out, nil
}

func (s *Server) logsDescribeLogGroups(c *Call) (any, error) {
	prefix := c.Str("logGroupNamePrefix")
	var out []M
	for i := 0; i < s.est.Clusters && s.est.hasRegion(c.Region); i++ {
		name := "/aws/eks/" + ClusterName(i) + "/cluster"
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		g := M{"logGroupName": name, "arn": s.est.arn("logs", c.Region, "log-group:"+name+":*"), "creationTime": s.est.created.UnixMilli(), "storedBytes": 1024}
		if i%2 == 0 {
			g["retentionInDays"] = 90
		}
		if i%4 == 0 {
			g["kmsKeyId"] = s.est.arn("kms", c.Region, "key/"+s.est.keyID(c.Region, 0))
		}
		out = append(out, g)
	}
	got, next, err := page(out, c.Str("nextToken"), clampMax(c.Int("limit", 50), 50))
	if err != nil {
		return nil, err
	}
	return M{"logGroups": got, "nextToken": nilIfEmpty(next)}, nil
}

func (s *Server) ssmGetParameter(c *Call) (any, error) {
	name := c.Str("Name")
	if !strings.HasPrefix(name, "/aws/service/") {
		return nil, &APIError{Status: 400, Code: "ParameterNotFound", Message: "Parameter " + name + " not found."}
	}
	value := "ami-0" + hex8(c.Region, name) + "abcdef12"
	for _, v := range k8sVersions {
		if strings.Contains(name, "/"+v+"/") && strings.HasSuffix(name, "release_version") {
			value = v + ".3-20250101"
		}
	}
	return M{"Parameter": M{"Name": name, "Type": "String", "Value": value, "Version": 1, "DataType": "text",
		"ARN": fmt.Sprintf("arn:aws:ssm:%s::parameter%s", c.Region, name), "LastModifiedDate": epoch(s.est.created)}}, nil
}

func (s *Server) repoNames() []string {
	out := make([]string, s.est.Repositories)
	for k := range out {
		out[k] = fmt.Sprintf("apps/service-%d", k)
	}
	return out
}

func (s *Server) ecrDescribeRepositories(c *Call) (any, error) {
	var all []M
	for k, name := range s.repoNames() {
		mut := "IMMUTABLE"
		if k%2 == 1 {
			mut = "MUTABLE"
		}
		all = append(all, M{
			"repositoryName": name, "registryId": s.est.Account, "createdAt": epoch(s.est.created),
			"repositoryArn":      s.est.arn("ecr", c.Region, "repository/"+name),
			"repositoryUri":      fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", s.est.Account, c.Region, name),
			"imageTagMutability": mut, "imageScanningConfiguration": M{"scanOnPush": k%2 == 0},
			"encryptionConfiguration": M{"encryptionType": "AES256"},
		})
	}
	got, next, err := page(all, c.Str("nextToken"), clampMax(c.Int("maxResults", 100), 1000))
	if err != nil {
		return nil, err
	}
	return M{"repositories": got, "nextToken": nilIfEmpty(next)}, nil
}

func (s *Server) ecrGetRegistryScanningConfiguration(c *Call) (any, error) {
	return M{"registryId": s.est.Account, "scanningConfiguration": M{"scanType": "ENHANCED", "rules": []M{
		{"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": []M{{"filter": "*", "filterType": "WILDCARD"}}},
	}}}, nil
}

func (s *Server) repo(c *Call) (int, error) {
	for k, n := range s.repoNames() {
		if n == c.Str("repositoryName") {
			return k, nil
		}
	}
	return -1, &APIError{Status: 400, Code: "RepositoryNotFoundException", Message: "The repository with name '" + c.Str("repositoryName") + "' does not exist in the registry with id '" + s.est.Account + "'"}
}

func (s *Server) ecrGetLifecyclePolicy(c *Call) (any, error) {
	k, err := s.repo(c)
	if err != nil {
		return nil, err
	}
	if k%2 == 1 {
		return nil, &APIError{Status: 400, Code: "LifecyclePolicyNotFoundException", Message: "Lifecycle policy does not exist for the repository"}
	}
	return M{"registryId": s.est.Account, "repositoryName": c.Str("repositoryName"), "lifecyclePolicyText": `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}`}, nil
}

func (s *Server) ecrGetRepositoryPolicy(c *Call) (any, error) {
	k, err := s.repo(c)
	if err != nil {
		return nil, err
	}
	if k != 1 {
		return nil, &APIError{Status: 400, Code: "RepositoryPolicyNotFoundException", Message: "Repository policy does not exist for the repository"}
	}
	return M{"registryId": s.est.Account, "repositoryName": c.Str("repositoryName"), "policyText": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}`}, nil
}

func (s *Server) detectorID(region string) string {
	return "d" + hex8(region, "gd") + hex8(region, "gd2")
}

func (s *Server) gdListDetectors(c *Call) (any, error) {
	if c.Region == "ap-northeast-3" {
		return M{"detectorIds": []string{}}, nil // one region without GuardDuty
	}
	return M{"detectorIds": []string{s.detectorID(c.Region)}}, nil
}

func (s *Server) gdGetDetector(c *Call) (any, error) {
	if c.Str("DetectorId") != s.detectorID(c.Region) {
		return nil, &APIError{Status: 400, Code: "BadRequestException", Message: "The request is rejected because the input detectorId is not owned by the current account."}
	}
	runtime := "ENABLED"
	if c.Region == "us-west-1" {
		runtime = "DISABLED"
	}
	return M{
		"status": "ENABLED", "createdAt": s.est.created.Format("2006-01-02T15:04:05.000Z"), "findingPublishingFrequency": "SIX_HOURS",
		"serviceRole": fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty", s.est.Account),
		"features": []M{
			{"name": "EKS_AUDIT_LOGS", "status": "ENABLED"},
			{"name": "EKS_RUNTIME_MONITORING", "status": runtime, "additionalConfiguration": []M{{"name": "EKS_ADDON_MANAGEMENT", "status": runtime}}},
			{"name": "RUNTIME_MONITORING", "status": runtime},
		},
	}, nil
}

func (s *Server) inspectorBatchGetAccountStatus(c *Call) (any, error) {
	var accounts []M
	for _, id := range c.List("accountIds") {
		accounts = append(accounts, M{"accountId": id, "state": M{"status": "ENABLED"}, "resourceState": M{
			"ec2": M{"status": "ENABLED"}, "ecr": M{"status": "ENABLED"}, "lambda": M{"status": "DISABLED"}, "lambdaCode": M{"status": "DISABLED"},
		}})
	}
	return M{"accounts": accounts, "failedAccounts": []M{}}, nil
}

func (s *Server) lambdaInvoke(c *Call) (any, error) {
	if c.Header.Get("X-Amz-Invocation-Type") == "Event" {
		return rawResponse{status: 202}, nil
	}
	return rawResponse{status: 200, body: []byte(`{}`)}, nil
}

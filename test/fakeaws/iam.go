package fakeaws

import (
	"fmt"
	"net/url"
	"strings"
)

type fakeRole struct {
	name, service string
	attached      []string
	inline        []string
}

// roles lists the account's roles: per region a cluster, node and pod role, plus the admin and
// team roles of the access entries.
func (s *Server) roles() []fakeRole {
	var out []fakeRole
	for _, r := range s.est.Regions {
		out = append(out,
			fakeRole{name: clusterRole(r), service: "eks.amazonaws.com", attached: []string{"AmazonEKSClusterPolicy"}},
			fakeRole{name: nodeRole(r), service: "ec2.amazonaws.com", attached: []string{"AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonEKS_CNI_Policy"}},
			fakeRole{name: podRole(r), service: "pods.eks.amazonaws.com", attached: []string{"AmazonS3ReadOnlyAccess"}, inline: []string{"app-access"}},
		)
	}
	out = append(out, fakeRole{name: adminRole, service: "", attached: []string{"AdministratorAccess"}})
	for k := 0; k+2 < s.est.AccessEntries; k++ {
		out = append(out, fakeRole{name: fmt.Sprintf("team-%d", k), attached: []string{"ReadOnlyAccess"}})
	}
	return out
}

func (s *Server) findRole(name string) (fakeRole, error) {
	for _, r := range s.roles() {
		if r.name == name {
			return r, nil
		}
	}
	return fakeRole{}, &APIError{Status: 404, Code: "NoSuchEntity", Message: "The role with name " + name + " cannot be found."}
}

func trustDoc(service, account string) string {
	principal := fmt.Sprintf(`{"AWS":"arn:aws:iam::%s:root"}`, account)
	action := `"sts:AssumeRole"`
	if service != "" {
		principal = fmt.Sprintf(`{"Service":"%s"}`, service)
	}
	if service == "pods.eks.amazonaws.com" {
		action = `["sts:AssumeRole","sts:TagSession"]`
	}
	return url.QueryEscape(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":%s,"Action":%s}]}`, principal, action))
}

func (s *Server) roleX(r fakeRole) X {
	return X{
		"RoleName": r.name, "Arn": s.est.role(r.name), "RoleId": "AROA" + strings.ToUpper(hex8(r.name)) + "EXAMPLE",
		"Path": "/", "CreateDate": s.est.created, "MaxSessionDuration": 3600,
		"AssumeRolePolicyDocument": trustDoc(r.service, s.est.Account),
	}
}

func (s *Server) iamGetRole(c *Call) (any, error) {
	r, err := s.findRole(c.Str("RoleName"))
	if err != nil {
		return nil, err
	}
	return X{"Role": s.roleX(r)}, nil
}

func (s *Server) iamGetUser(c *Call) (any, error) {
	name := c.Str("UserName")
	if name == "" {
		name = "bench"
	}
	return X{"User": X{"UserName": name, "Arn": fmt.Sprintf("arn:aws:iam::%s:user/%s", s.est.Account, name), "UserId": "AIDA" + strings.ToUpper(hex8(name)), "Path": "/", "CreateDate": s.est.created}}, nil
}

// iamPage pages an IAM listing with Marker/MaxItems.
func iamPage[T any](c *Call, items []T) ([]T, X, error) {
	got, next, err := page(items, c.Str("Marker"), clampMax(c.Int("MaxItems", 100), 1000))
	if err != nil {
		return nil, nil, err
	}
	x := X{"IsTruncated": next != ""}
	if next != "" {
		x["Marker"] = next
	}
	return got, x, nil
}

func (s *Server) iamListRoles(c *Call) (any, error) {
	var all []X
	for _, r := range s.roles() {
		all = append(all, s.roleX(r))
	}
	got, x, err := iamPage(c, all)
	if err != nil {
		return nil, err
	}
	x["Roles"] = got
	return x, nil
}

func managedARN(name string) string { return "arn:aws:iam::aws:policy/" + name }

func (s *Server) iamListAttachedRolePolicies(c *Call) (any, error) {
	r, err := s.findRole(c.Str("RoleName"))
	if err != nil {
		return nil, err
	}
	var all []X
	for _, p := range r.attached {
		all = append(all, X{"PolicyName": p, "PolicyArn": managedARN(p)})
	}
	got, x, err := iamPage(c, all)
	if err != nil {
		return nil, err
	}
	x["AttachedPolicies"] = got
	return x, nil
}

func (s *Server) iamListRolePolicies(c *Call) (any, error) {
	r, err := s.findRole(c.Str("RoleName"))
	if err != nil {
		return nil, err
	}
	got, x, err := iamPage(c, r.inline)
	if err != nil {
		return nil, err
	}
	x["PolicyNames"] = append([]string{}, got...)
	return x, nil
}

func (s *Server) iamGetRolePolicy(c *Call) (any, error) {
	r, err := s.findRole(c.Str("RoleName"))
	if err != nil {
		return nil, err
	}
	for _, p := range r.inline {
		if p == c.Str("PolicyName") {
			doc := url.QueryEscape(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::app-bucket/*"}]}`)
			return X{"RoleName": r.name, "PolicyName": p, "PolicyDocument": doc}, nil
		}
	}
	return nil, &APIError{Status: 404, Code: "NoSuchEntity", Message: "The role policy with name " + c.Str("PolicyName") + " cannot be found."}
}

func policyName(arn string) (string, error) {
	name, ok := strings.CutPrefix(arn, "arn:aws:iam::aws:policy/")
	if !ok || name == "" {
		return "", &APIError{Status: 404, Code: "NoSuchEntity", Message: "Policy " + arn + " does not exist or is not attachable."}
	}
	return name, nil
}

func (s *Server) iamGetPolicy(c *Call) (any, error) {
	name, err := policyName(c.Str("PolicyArn"))
	if err != nil {
		return nil, err
	}
	return X{"Policy": X{
		"PolicyName": name, "Arn": managedARN(name), "PolicyId": "ANPA" + strings.ToUpper(hex8(name)), "Path": "/",
		"DefaultVersionId": "v3", "AttachmentCount": 1, "IsAttachable": true, "CreateDate": s.est.created, "UpdateDate": s.est.created,
	}}, nil
}

func (s *Server) iamGetPolicyVersion(c *Call) (any, error) {
	name, err := policyName(c.Str("PolicyArn"))
	if err != nil {
		return nil, err
	}
	action := `"eks:Describe*"`
	if name == "AdministratorAccess" {
		action = `"*"`
	}
	doc := url.QueryEscape(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":%s,"Resource":"*"}]}`, action))
	return X{"PolicyVersion": X{"Document": doc, "VersionId": c.Str("VersionId"), "IsDefaultVersion": true, "CreateDate": s.est.created}}, nil
}

func (s *Server) iamListOpenIDConnectProviders(c *Call) (any, error) {
	var out []X
	for _, r := range s.est.Regions {
		for i := 0; i < s.est.Clusters; i += 2 {
			out = append(out, X{"Arn": fmt.Sprintf("arn:aws:iam::%s:oidc-provider/oidc.eks.%s.amazonaws.com/id/%s", s.est.Account, r, hex8(r, ClusterName(i), "oidc"))})
		}
	}
	return X{"OpenIDConnectProviderList": out}, nil
}

func (s *Server) stsGetCallerIdentity(c *Call) (any, error) {
	return X{"Account": s.est.Account, "Arn": fmt.Sprintf("arn:aws:iam::%s:user/bench", s.est.Account), "UserId": "AIDABENCHEXAMPLE"}, nil
}

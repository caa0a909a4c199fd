package inventory

import (
	"net/url"
	"reflect"
	"testing"
)

func TestParsePolicyNormalisesStringsAndLists(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":{"Sid":"One","Effect":"Allow","Principal":"*","Action":"ecr:*",` +
		`"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"},"ForAnyValue:StringLike":{"oidc.eks.x/id/1:sub":["system:serviceaccount:a:*","b"]}}}}`
	for name, in := range map[string]string{"plain JSON": doc, "URL-encoded as IAM returns it": url.QueryEscape(doc)} {
		t.Run(name, func(t *testing.T) {
			p, err := ParsePolicy(in)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Statements) != 1 {
				t.Fatalf("statements = %d", len(p.Statements))
			}
			s := p.Statements[0]
			if s.Sid != "One" || s.Effect != "Allow" || !reflect.DeepEqual(s.Actions, []string{"ecr:*"}) || !reflect.DeepEqual(s.Principals["*"], []string{"*"}) {
				t.Errorf("statement = %+v", s)
			}
			if got := s.ConditionValues("StringLike", "OIDC.EKS.X/id/1:sub"); !reflect.DeepEqual(got, []string{"system:serviceaccount:a:*", "b"}) {
				t.Errorf("StringLike values = %v", got)
			}
			if !s.HasConditionKey("aws:principalorgid") || s.HasConditionKey("aws:SourceArn") {
				t.Error("condition key lookup is wrong")
			}
		})
	}
}

func TestParsePolicyRejectsMalformedDocuments(t *testing.T) {
	for _, doc := range []string{"", "{", `{"Statement":[{"Principal":{"AWS":{}}}]}`, `{"Statement":[{"Condition":"x"}]}`} {
		if _, err := ParsePolicy(doc); err == nil {
			t.Errorf("ParsePolicy(%q) succeeded", doc)
		}
	}
}

func TestCompareReleaseOrdersAMIReleases(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"1.29.0-20240202", "1.29.0-20240301", -1},
		{"1.30.2-20240601", "1.30.10-20240101", -1},
		{"1.20.3-5d9ac849", "1.20.3-aaaaaaaa", 0},
		{"1.21.0-5d9ac849", "1.20.3-aaaaaaaa", 1},
	}
	for _, c := range cases {
		if got := CompareRelease(c.a, c.b); got != c.want {
			t.Errorf("CompareRelease(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestCompareVersionsIsNumeric(t *testing.T) {
	if CompareVersions("1.9", "1.10") != -1 || CompareVersions("1.35", "1.35") != 0 || CompareVersions("2.0", "1.99") != 1 {
		t.Error("CompareVersions compares as strings")
	}
}

func TestSubnetIsPublicByRouteOrAutoAssignedAddress(t *testing.T) {
	if (&Subnet{}).Public() || !(&Subnet{InternetRoute: "igw-1"}).Public() || !(&Subnet{MapPublicIPOnLaunch: true}).Public() {
		t.Error("Subnet.Public is wrong")
	}
}

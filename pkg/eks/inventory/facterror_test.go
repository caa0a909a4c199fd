package inventory

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestFactErrorIsShortAndKeepsTheChain(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User: arn:aws:sts::1:assumed-role/x is not authorized to perform: eks:ListAddons"}
	notFound := &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 404}}, Err: errors.New("deserialization failed, invalid character '<'")}}
	cases := []struct {
		err  error
		want string
	}{
		{denied, "eks:ListAddons: AccessDeniedException: User: arn:aws:sts::1:assumed-role/x is not authorized to perform: eks:ListAddons"},
		{notFound, "eks:ListAddons: the API is not available at this endpoint (HTTP 404)"},
		{errors.New("plain"), "eks:ListAddons: plain"},
	}
	for _, tc := range cases {
		err := Errors{"eks:ListAddons": tc.err}.First("eks:DescribeCluster", "eks:ListAddons")
		if err == nil || err.Error() != tc.want {
			t.Errorf("got %v, want %q", err, tc.want)
		}
		if !errors.Is(err, tc.err) || strings.Contains(err.Error(), "deserialization") {
			t.Errorf("chain or brevity wrong: %v", err)
		}
	}
}

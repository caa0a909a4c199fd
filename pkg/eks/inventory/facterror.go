package inventory

import (
	"errors"
	"fmt"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// FactError is a fact that could not be collected. Its message is short enough for a table
// cell: the IAM action, then the AWS error code and message, or the HTTP status when the service
// answered with something that is not an AWS error (an API missing in a region or an emulator).
// The full error chain stays available through Unwrap.
type FactError struct {
	Action string
	Err    error
}

func (f *FactError) Error() string { return f.Action + ": " + Summarize(f.Err) }
func (f *FactError) Unwrap() error { return f.Err }

// Summarize gives the part of an SDK error a reader needs to act on.
func Summarize(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() != "" {
		msg := strings.TrimSpace(ae.ErrorMessage())
		if msg == "" {
			return ae.ErrorCode()
		}
		return ae.ErrorCode() + ": " + msg
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch code := re.HTTPStatusCode(); code {
		case 404:
			return "the API is not available at this endpoint (HTTP 404)"
		default:
			return fmt.Sprintf("HTTP %d", code)
		}
	}
	return err.Error()
}

// Command minimal is the smallest aws-lambda-go function: the baseline the auditor's binary size
// and cold-start init time are compared with (test/bench/cmd/lambdabench).
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, e json.RawMessage) (string, error) { return "ok", nil })
}

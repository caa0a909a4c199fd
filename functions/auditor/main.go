// Command auditor is Sek's Lambda function (provided.al2023, built as `bootstrap`). It is only
// the composition root: configuration and the AWS SDK config are loaded once per cold start, and
// pkg/auditor does the rest.
package main

import (
	"context"
	"os"
	"runtime/debug"
	"strconv"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sek-dev/sek/internal/version"
	"github.com/sek-dev/sek/pkg/auditor"
	"github.com/sek-dev/sek/pkg/awsclient"
	"github.com/sek-dev/sek/pkg/config"
	"github.com/sek-dev/sek/pkg/runner"
)

func main() {
	setMemoryLimit()
	ctx := context.Background()
	// The Lambda logs at info unless SEK_LOG_LEVEL says otherwise; later entries win, so the
	// real environment overrides this default.
	environ := append([]string{config.EnvPrefix + "LOG_LEVEL=info"}, os.Environ()...)
	cfg, cfgErr := config.Load(config.Sources{Environ: environ}, runner.Checks())
	opts := auditor.Options{
		Config:       cfg,
		ConfigErr:    cfgErr,
		FunctionName: os.Getenv("AWS_LAMBDA_FUNCTION_NAME"),
		Logs:         os.Stderr,
		Metrics:      os.Stdout,
		LogLevel:     cfg.LogLevel,
	}
	// Lambda always sets it; a malformed value leaves fan-out to the time estimate alone.
	opts.MemoryMB, _ = strconv.Atoi(os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
	if cfgErr == nil {
		base, err := awsclient.Load(ctx, awsclient.Options{MaxAttempts: cfg.MaxAttempts, RoleARN: cfg.RoleARN, ExternalID: cfg.ExternalID, SessionName: "sek-auditor"})
		if err != nil {
			// Reported by every invocation rather than crashing the init, so the cause is in the
			// invocation's error and the event reaches the dead-letter queue.
			opts.ConfigErr = err
		} else {
			opts.Connect = auditor.NewAWSConnector(base, cfg, version.Get().Version).Connect
		}
	}
	lambda.StartWithOptions(auditor.New(opts).Handle, lambda.WithContext(ctx))
}

// setMemoryLimit gives the Go runtime a soft memory limit of 80% of the function's memory size
// (unless GOMEMLIMIT says otherwise). The function is killed at its memory size; without a limit
// the garbage collector lets the heap grow to twice the live data before it runs, and a large
// scan's results would get it killed while a collection would have made room.
func setMemoryLimit() {
	mb, err := strconv.Atoi(os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
	if err != nil || mb <= 0 || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(int64(mb) << 20 / 10 * 8)
}

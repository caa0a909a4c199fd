package cli

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/awsclient"
)

// errPublishUnavailable is returned until the Security Hub publisher is wired in (issue 4).
var errPublishUnavailable = errors.New("Security Hub publishing is not available in this build yet")

// publish sends the report to Security Hub. TODO(issue 4): replace with pkg/securityhub.
func publish(ctx context.Context, factory *awsclient.Factory, rep *audit.Report, checks []audit.Check, log *slog.Logger) (any, error) {
	return nil, errPublishUnavailable
}

// renderASFF writes findings as ASFF. TODO(issue 4): replace with pkg/asff.
func renderASFF(w io.Writer, rep *audit.Report, checks []audit.Check) error {
	return errPublishUnavailable
}

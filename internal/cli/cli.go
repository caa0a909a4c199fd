// Package cli implements the sek command line. Main is testable: it takes arguments, streams and
// environment and returns the exit code instead of exiting.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sek-dev/sek/internal/version"
	"github.com/sek-dev/sek/pkg/audit"
	"github.com/sek-dev/sek/pkg/report"
	"github.com/sek-dev/sek/pkg/runner"
)

// Exit codes, part of the CLI contract.
const (
	ExitOK         = 0
	ExitFindings   = 1
	ExitUsage      = 2
	ExitIncomplete = 3
)

// exitError carries an exit code with the message shown to the user.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, a...)}
}

// IO bundles the streams and environment of one invocation.
type IO struct {
	Stdout, Stderr io.Writer
	Environ        []string
	// IsTerminal reports whether a writer is an interactive terminal (for colour and progress).
	IsTerminal func(w io.Writer) bool
	Getwd      func() (string, error)
	// Now, when set, is the scan's notion of today (version support, mute expiry). The docs'
	// sample outputs pin it so they do not change with the calendar; nil means the real clock.
	Now func() time.Time
}

// Main runs sek with args and returns the process exit code.
func Main(ctx context.Context, args []string, streams IO) int {
	if streams.IsTerminal == nil {
		streams.IsTerminal = func(io.Writer) bool { return false }
	}
	if streams.Environ == nil {
		streams.Environ = os.Environ()
	}
	root := newRoot(streams)
	root.SetArgs(args)
	root.SetOut(streams.Stdout)
	root.SetErr(streams.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.code != ExitFindings {
			fmt.Fprintf(streams.Stderr, "sek: %s\n", ee.err)
		}
		return ee.code
	}
	// Anything cobra itself rejects (unknown flag or command) is a usage error.
	fmt.Fprintf(streams.Stderr, "sek: %s\nRun 'sek --help' for usage.\n", err)
	return ExitUsage
}

func newRoot(streams IO) *cobra.Command {
	root := &cobra.Command{
		Use:   "sek",
		Short: "Audit the AWS side of Amazon EKS clusters against CIS, AWS FSBP and the EKS Best Practices Guide",
		Long: `sek audits what the EKS, EC2, IAM, KMS and GuardDuty APIs show about your clusters, against the
CIS Amazon EKS Benchmark, AWS Foundational Security Best Practices and the EKS Best Practices Guide.
It prints a table, JSON, CSV or ASFF, and can publish findings to AWS Security Hub.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr("%v\nRun '%s --help' for usage.", err, c.CommandPath())
	})
	root.AddCommand(newScanCmd(streams), newChecksCmd(streams), newVersionCmd(streams), newIAMPolicyCmd(streams))
	enableCompletion(root, streams.Stdout)
	return root
}

// enableCompletion adds cobra's `completion bash|zsh|fish|powershell` now rather than at Execute, so
// it can be made runnable: otherwise an unknown shell prints help and exits 0 instead of 2.
// The scripts go to the root's output as it is when the command is built, so set it first.
func enableCompletion(root *cobra.Command, stdout io.Writer) {
	if stdout != nil {
		root.SetOut(stdout)
	}
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Long += "\nFor example, in bash: source <(sek completion bash)\n"
			c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
		}
	}
}

func newVersionCmd(streams IO) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := version.Get()
			if asJSON {
				return report.WriteJSON(streams.Stdout, info)
			}
			_, err := fmt.Fprintln(streams.Stdout, info.String())
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON (default false)")
	return cmd
}

func newChecksCmd(streams IO) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "checks",
		Short: "List the check catalog",
		Long:  "List every check with its severity, standards, remediation and the IAM actions it needs.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			checks := checksOf()
			switch output {
			case "table":
				return report.ChecksTable(streams.Stdout, checks)
			case "json":
				return report.ChecksJSON(streams.Stdout, checks)
			case "markdown", "md":
				return report.ChecksMarkdown(streams.Stdout, checks)
			}
			return usageErr("--output: unknown format %q: use table, json or markdown", output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or markdown")
	return cmd
}

// flagKeys maps scan flags to config keys; only flags the user set override file and env.
func flagKeys() map[string]string {
	return map[string]string{
		"region": "regions", "all-regions": "all_regions", "cluster": "clusters", "skip": "skip",
		"fail-on": "fail_on", "fail-on-error": "fail_on_error", "output": "output", "publish": "publish", "role-arn": "role_arn",
		"external-id": "external_id", "log-level": "log_level", "max-attempts": "max_attempts",
		"timeout": "timeout", "call-timeout": "call_timeout",
		"region-concurrency": "concurrency.regions", "cluster-concurrency": "concurrency.clusters",
		"accounts": "accounts", "organization": "organization", "ou": "organizational_units", "account-tag": "account_tags",
		"role-name": "role_name", "account-concurrency": "concurrency.accounts",
	}
}

func changedFlags(fs *pflag.FlagSet) map[string]any {
	out := map[string]any{}
	keys := flagKeys()
	fs.Visit(func(f *pflag.Flag) {
		key, ok := keys[f.Name]
		if !ok {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			var items []string
			for _, s := range sv.GetSlice() {
				for _, part := range strings.Split(s, ",") {
					if part = strings.TrimSpace(part); part != "" {
						items = append(items, part)
					}
				}
			}
			out[key] = items
			return
		}
		out[key] = f.Value.String()
	})
	return out
}

func newLogger(w io.Writer, level string, json bool) *slog.Logger {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lv = slog.LevelDebug
	case "info":
		lv = slog.LevelInfo
	case "error":
		lv = slog.LevelError
	default:
		lv = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: lv}
	if json {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// checksOf returns the engine's catalog; kept as a function so tests and docs share one source.
func checksOf() []audit.Check { return runner.Checks() }

// Command demo runs `make demo`: it starts moto_server, seeds an emulated account with sample EKS
// clusters in three regions, then runs the real sek binary against it, first as a table and then
// publishing to the emulated Security Hub. No AWS account is needed.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/sek-dev/sek/internal/demo"
	"github.com/sek-dev/sek/pkg/awsclient"
	"github.com/sek-dev/sek/test/harness"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sek := "bin/sek"
	if len(os.Args) > 1 {
		sek = os.Args[1]
	}
	fmt.Println("== starting moto_server (emulated AWS account 123456789012)")
	moto, err := harness.LaunchMoto(ctx)
	if err != nil {
		return err
	}
	defer moto.Stop()
	if err := moto.Export(); err != nil {
		return err
	}
	// moto lacks Security Hub's BatchUpdateFindings; the test proxy serves it, so resolving a
	// fixed finding can be shown.
	proxy, err := harness.LaunchProxy(moto.URL)
	if err != nil {
		return err
	}
	defer proxy.Close()
	os.Setenv("AWS_ENDPOINT_URL", proxy.URL)
	base, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load SDK config: %w", err)
	}
	cfgFor := awsclient.NewFactory(base).Config
	fmt.Printf("== seeding %d sample clusters in %s\n", len(demo.Clusters()), strings.Join(demo.Regions(), ", "))
	if err := demo.Seed(ctx, cfgFor, demo.Clusters()); err != nil {
		return err
	}
	args := []string{"scan"}
	for _, r := range demo.Regions() {
		args = append(args, "--region", r)
	}
	fmt.Printf("== %s %s\n", sek, strings.Join(args, " "))
	if err := sekRun(ctx, sek, args...); err != nil {
		return err
	}
	pub := append(append([]string{}, args...), "--publish", "--output", "json")
	fmt.Printf("\n== %s %s  (summary of the JSON)\n", sek, strings.Join(pub, " "))
	out, err := sekOutput(ctx, sek, pub...)
	if err != nil {
		return err
	}
	fmt.Println(summariseJSON(out))
	return securityHubLifecycle(ctx, sek, args, cfgFor)
}

// sekRun runs sek and shows its output. Exit codes 1 and 3 are expected: the sample estate has
// failures on purpose.
func sekRun(ctx context.Context, bin string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return allowFindings(cmd.Run())
}

func sekOutput(ctx context.Context, bin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	return out, allowFindings(err)
}

func allowFindings(err error) error {
	if ee, ok := err.(*exec.ExitError); ok && (ee.ExitCode() == 1 || ee.ExitCode() == 3) {
		fmt.Printf("(sek exited %d)\n", ee.ExitCode())
		return nil
	}
	return err
}

// Command invoke runs `make invoke EVENT=events/x.json`: it starts moto_server, seeds the demo
// estate (the sample events name its clusters), runs the auditor's bootstrap under AWS's Lambda
// Runtime Interface Emulator with the SDK pointed at moto, sends the event and prints the
// function's reply and its output (JSON logs and EMF metrics). No AWS account is needed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/sek-dev/sek/internal/demo"
	"github.com/sek-dev/sek/pkg/awsclient"
	"github.com/sek-dev/sek/test/harness"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

func run() error {
	bootstrap := flag.String("bootstrap", "dist/lambda-host/bootstrap", "the auditor built for this machine (make lambda-host)")
	event := flag.String("event", "events/scheduled.json", "the event to send")
	prime := flag.Bool("prime", false, "send events/scheduled.json first, so the event has findings to change or archive")
	flag.Parse()
	payload, err := os.ReadFile(*event)
	if err != nil {
		return fmt.Errorf("read the event: %w (pass EVENT=events/<file>.json)", err)
	}
	if _, err := os.Stat(*bootstrap); err != nil {
		return fmt.Errorf("no bootstrap at %s: run `make lambda-host`", *bootstrap)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	fmt.Println("== starting moto_server (emulated AWS account 123456789012)")
	moto, err := harness.LaunchMoto(ctx)
	if err != nil {
		return err
	}
	defer moto.Stop()
	if err := moto.Export(); err != nil {
		return err
	}
	base, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load SDK config: %w", err)
	}
	cfgFor := awsclient.NewFactory(base).Config
	fmt.Printf("== seeding %d sample clusters in %s\n", len(demo.Clusters()), strings.Join(demo.Regions(), ", "))
	if err := demo.Seed(ctx, cfgFor, demo.Clusters()); err != nil {
		return err
	}
	// Security Hub goes through the test proxy, which serves BatchUpdateFindings (moto lacks it),
	// so an event that fixes a cluster can resolve its findings.
	proxy, err := harness.LaunchProxy(moto.URL)
	if err != nil {
		return err
	}
	defer proxy.Close()
	env := append(moto.Env(),
		"AWS_ENDPOINT_URL_SECURITYHUB="+proxy.URL,
		"SEK_REGIONS="+strings.Join(demo.Regions(), ","),
		"AWS_LAMBDA_FUNCTION_NAME="+harness.RIEFunctionName,
	)
	// Pass through the function's own settings, so `SEK_SKIP=... make invoke` works.
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "SEK_") || strings.HasPrefix(kv, "AWS_LAMBDA_FUNCTION_TIMEOUT=") {
			env = append(env, kv)
		}
	}
	rie, err := harness.LaunchRIE(ctx, *bootstrap, env)
	if err != nil {
		return err
	}
	defer rie.Stop()
	if *prime {
		prep, err := os.ReadFile("events/scheduled.json")
		if err != nil {
			return err
		}
		fmt.Println("== priming: events/scheduled.json")
		if _, err := rie.Invoke(ctx, prep); err != nil {
			return err
		}
	}
	fmt.Printf("== invoking the auditor under aws-lambda-rie with %s\n", *event)
	mark := len(rie.Logs())
	start := time.Now()
	reply, err := rie.Invoke(ctx, payload)
	took := time.Since(start)
	time.Sleep(200 * time.Millisecond) // let the emulator flush the function's last lines
	fmt.Printf("\n-- function output --\n%s\n", rie.Logs()[mark:])
	if err != nil {
		return err
	}
	fmt.Printf("-- reply (%s) --\n%s\n", took.Round(time.Millisecond), indent(reply))
	if ferr := harness.FunctionError(reply); ferr != nil {
		return errors.New("the invocation failed (an asynchronous event would be retried, then go to the dead-letter queue)")
	}
	return nil
}

func indent(b []byte) string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return string(b)
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	return string(out)
}

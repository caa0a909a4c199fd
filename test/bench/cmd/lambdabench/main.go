// Command lambdabench builds the auditor Lambda the way it ships (-trimpath -ldflags "-s -w",
// lambda.norpc) next to a minimal aws-lambda-go function, and reports each binary's size and its
// cold-start init time under aws-lambda-rie, measured in the same run.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sek-dev/sek/test/harness"
)

func main() {
	auditor := flag.String("auditor", "./functions/auditor", "package of the auditor function")
	minimal := flag.String("minimal", "./test/bench/minimal", "package of the minimal aws-lambda-go function")
	runs := flag.Int("runs", 7, "cold starts per function; the median is reported")
	flag.Parse()
	ctx := context.Background()
	rie, err := findRIE()
	if err != nil {
		fail(err)
	}
	dir, err := os.MkdirTemp("", "lambdabench")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	type fn struct{ name, pkg string }
	fns := []fn{{"minimal aws-lambda-go", *minimal}, {"sek auditor", *auditor}}
	type row struct {
		name              string
		size, shippedSize int64
		init, call        time.Duration
	}
	var rows []row
	for i, f := range fns {
		if _, err := os.Stat(f.pkg); err != nil {
			fmt.Fprintf(os.Stderr, "lambdabench: %s: %s not found, skipped\n", f.name, f.pkg)
			continue
		}
		bin := filepath.Join(dir, fmt.Sprintf("bootstrap-%d", i))
		cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", bin, f.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fail(fmt.Errorf("build %s: %v\n%s", f.pkg, err, out))
		}
		st, _ := os.Stat(bin)
		// The function ships for arm64 (provided.al2023); the emulator here runs this machine's
		// build, so both sizes are reported.
		arm := bin + "-arm64"
		cmd = exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", arm, f.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
		if out, err := cmd.CombinedOutput(); err != nil {
			fail(fmt.Errorf("build %s for arm64: %v\n%s", f.pkg, err, out))
		}
		ast, _ := os.Stat(arm)
		var inits, calls []time.Duration
		for range *runs {
			init, call, err := coldStart(ctx, rie, bin)
			if err != nil {
				fail(fmt.Errorf("%s: %w", f.name, err))
			}
			inits, calls = append(inits, init), append(calls, call)
		}
		rows = append(rows, row{f.name, st.Size(), ast.Size(), median(inits), median(calls)})
	}
	fmt.Printf("%-24s %12s %14s %14s %22s\n", "function", "size (amd64)", "size (arm64)", "init (median)", "first invoke (median)")
	for _, r := range rows {
		fmt.Printf("%-24s %9.1f MiB %10.1f MiB %11.1f ms %19.1f ms\n", r.name, float64(r.size)/(1<<20), float64(r.shippedSize)/(1<<20), ms(r.init), ms(r.call))
	}
	if len(rows) == 2 {
		fmt.Printf("auditor / minimal: size %.1f×, init %.1f×\n", float64(rows[1].size)/float64(rows[0].size), float64(rows[1].init)/float64(rows[0].init))
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "lambdabench:", err)
	os.Exit(1)
}

func findRIE() (string, error) {
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	home, _ := os.UserHomeDir()
	p := filepath.Join(home, "go", "bin", "aws-lambda-rie")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("aws-lambda-rie is not installed (make tools installs it)")
}

// initLine is the emulator's own measure of the init phase, from exec of the bootstrap to its
// first request for an event. (The REPORT line's "Init Duration" is not filled in by the
// emulator.)
var initLine = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// coldStart starts a fresh emulator, invokes once with an event the auditor rejects at once
// (so no AWS call is made), and returns the emulator's init duration and the time the first
// invocation took from the client's side.
func coldStart(ctx context.Context, rie, bin string) (time.Duration, time.Duration, error) {
	invokePort, err := harness.FreePort()
	if err != nil {
		return 0, 0, err
	}
	apiPort, err := harness.FreePort()
	if err != nil {
		return 0, 0, err
	}
	logs := &harness.LockedBuffer{}
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", fmt.Sprintf("127.0.0.1:%d", invokePort),
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort), bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=AKIDLAMBDABENCH", "AWS_SECRET_ACCESS_KEY=secret", "AWS_ENDPOINT_URL=http://127.0.0.1:9",
		"AWS_LAMBDA_FUNCTION_NAME=function", "AWS_EC2_METADATA_DISABLED=true"}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	url := fmt.Sprintf("http://127.0.0.1:%d/2015-03-31/functions/function/invocations", invokePort)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", invokePort), 100*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("aws-lambda-rie did not listen: %s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	began := time.Now()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{"lambdabench":"no-op"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	call := time.Since(began)
	for time.Now().Before(began.Add(3 * time.Second)) {
		if m := initLine.FindStringSubmatch(logs.String()); m != nil {
			f, _ := strconv.ParseFloat(m[1], 64)
			return time.Duration(f * float64(time.Millisecond)), call, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0, 0, fmt.Errorf("no INIT REPORT in the emulator's log:\n%s", logs.String())
}

package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// RIEModule is the AWS Lambda Runtime Interface Emulator version the tests use (`make tools`
// installs it).
const RIEModule = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

// RIEFunctionName is the only function name the emulator serves
// (POST /2015-03-31/functions/function/invocations), so a function that invokes itself under
// the emulator must be called this.
const RIEFunctionName = "function"

// RIE is a running aws-lambda-rie serving one bootstrap.
type RIE struct {
	// URL is the emulator's endpoint; it serves the Lambda Invoke API path, so it can also be an
	// SDK endpoint (AWS_ENDPOINT_URL_LAMBDA) for a function named RIEFunctionName.
	URL  string
	cmd  *exec.Cmd
	logs *LockedBuffer
	once sync.Once
}

// FindRIE returns the path of aws-lambda-rie: on PATH, or where `go install` puts it.
func FindRIE() (string, error) {
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, d := range filepath.SplitList(strings.TrimSpace(string(out))) {
			dirs = append(dirs, filepath.Join(d, "bin"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "aws-lambda-rie")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("aws-lambda-rie is not installed: run `make tools` or `go install %s`", RIEModule)
}

// BuildLambda builds a Lambda bootstrap for this machine from a package path (for example
// "./functions/auditor", relative to the module root) the way `make lambda` does, into dir.
func BuildLambda(ctx context.Context, moduleRoot, pkg, dir string) (string, error) {
	out := filepath.Join(dir, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

// LaunchRIE starts aws-lambda-rie on free loopback ports (both the invoke endpoint and the
// runtime API, so several emulators can run at once) with exactly env as the function's
// environment, plus PATH and HOME.
func LaunchRIE(ctx context.Context, bootstrap string, env []string) (*RIE, error) {
	bin, err := FindRIE()
	if err != nil {
		return nil, err
	}
	invokePort, err := FreePort()
	if err != nil {
		return nil, err
	}
	apiPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	r := &RIE{URL: fmt.Sprintf("http://127.0.0.1:%d", invokePort), logs: &LockedBuffer{}}
	r.cmd = exec.Command(bin,
		"--runtime-interface-emulator-address", fmt.Sprintf("127.0.0.1:%d", invokePort),
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort),
		bootstrap)
	r.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if err := ctx.Err(); err != nil {
			r.Stop()
			return nil, err
		}
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", invokePort), 200*time.Millisecond); err == nil {
			c.Close()
			return r, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.Stop()
	return nil, fmt.Errorf("aws-lambda-rie did not listen on %s within 15s; its output:\n%s", r.URL, r.logs.String())
}

// StartRIE is LaunchRIE for a test; the emulator stops when the test ends.
func StartRIE(t TB, bootstrap string, env []string) *RIE {
	t.Helper()
	r, err := LaunchRIE(context.Background(), bootstrap, env)
	if err != nil {
		t.Fatalf("start aws-lambda-rie: %v", err)
	}
	t.Cleanup(r.Stop)
	return r
}

// Invoke sends one event and returns the function's reply: its response, or the
// {"errorMessage", "errorType"} document of a failed invocation.
func (r *RIE) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL+"/2015-03-31/functions/"+RIEFunctionName+"/invocations", bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke through aws-lambda-rie: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("aws-lambda-rie answered %s: %s", resp.Status, body)
	}
	return body, nil
}

// Logs returns everything the emulator and the function printed so far.
func (r *RIE) Logs() string { return r.logs.String() }

// Stop ends the emulator and the function.
func (r *RIE) Stop() {
	r.once.Do(func() {
		if r.cmd != nil && r.cmd.Process != nil {
			_ = r.cmd.Process.Kill()
			_ = r.cmd.Wait()
		}
	})
}

// ErrFunction is returned by FunctionError for a reply that reports a failed invocation.
var ErrFunction = errors.New("the function failed")

// FunctionError returns an error when a reply is a failed invocation's error document.
func FunctionError(reply []byte) error {
	s := strings.TrimSpace(string(reply))
	if strings.HasPrefix(s, `{"errorMessage"`) || strings.Contains(s, `"errorType"`) {
		return fmt.Errorf("%w: %s", ErrFunction, s)
	}
	return nil
}

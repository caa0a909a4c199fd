package harness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2/client"
)

// ToxiproxyVersion is the server `make tools` installs. The client library in go.mod speaks the
// same HTTP API.
const ToxiproxyVersion = "v2.12.0"

// Toxiproxy is a running toxiproxy server, for network faults (latency, resets, hangs, slow
// links) between Sek and moto.
type Toxiproxy struct {
	API    string
	Client *toxiproxy.Client
	cmd    *exec.Cmd
	logs   *LockedBuffer
	once   sync.Once
}

// StartToxiproxy starts a toxiproxy server on a free port for the test and stops it at the end.
func StartToxiproxy(t TB) *Toxiproxy {
	t.Helper()
	tp, err := LaunchToxiproxy(context.Background())
	if err != nil {
		t.Fatalf("start toxiproxy: %v", err)
	}
	t.Cleanup(tp.Stop)
	return tp
}

// toxiproxyBinary finds the server: $TOXIPROXY_SERVER, toxiproxy-server on PATH, or the copy
// `make tools` puts in bin/tools of the repository.
func toxiproxyBinary() (string, error) {
	if p := os.Getenv("TOXIPROXY_SERVER"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("toxiproxy-server"); err == nil {
		return p, nil
	}
	if root, err := repoRoot(); err == nil {
		p := filepath.Join(root, "bin", "tools", "toxiproxy-server")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("toxiproxy-server is not installed: run `make tools` (it installs github.com/Shopify/toxiproxy/v2/cmd/server@" + ToxiproxyVersion + " into bin/tools)")
}

// repoRoot is the module root, found from this source file so tests in any package agree.
func repoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the harness source")
	}
	return filepath.Abs(filepath.Join(filepath.Dir(file), "..", ".."))
}

// LaunchToxiproxy starts the server on a free loopback port and waits until its API answers.
func LaunchToxiproxy(ctx context.Context) (*Toxiproxy, error) {
	bin, err := toxiproxyBinary()
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	tp := &Toxiproxy{API: fmt.Sprintf("http://127.0.0.1:%d", port), logs: &LockedBuffer{}}
	// #nosec G204 -- the binary is the test tool found above, the arguments are a port number.
	tp.cmd = exec.Command(bin, "-host", "127.0.0.1", "-port", fmt.Sprint(port))
	tp.cmd.Stdout, tp.cmd.Stderr = tp.logs, tp.logs
	if err := tp.cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	tp.Client = toxiproxy.NewClient(tp.API)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if err := ctx.Err(); err != nil {
			tp.Stop()
			return nil, err
		}
		resp, err := http.Get(tp.API + "/version")
		if err == nil {
			_ = resp.Body.Close()
			return tp, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	tp.Stop()
	return nil, fmt.Errorf("toxiproxy did not answer on %s within 15s; its output:\n%s", tp.API, tp.logs.String())
}

// Stop ends the server.
func (tp *Toxiproxy) Stop() {
	tp.once.Do(func() {
		if tp.cmd != nil && tp.cmd.Process != nil {
			_ = tp.cmd.Process.Kill()
			_ = tp.cmd.Wait()
		}
	})
}

// Logs returns what the server printed.
func (tp *Toxiproxy) Logs() string { return tp.logs.String() }

// ProxyTo creates a proxy named name on a free loopback port in front of upstreamURL (an
// http://host:port URL such as Moto.URL) and returns it with the URL clients should use.
func (tp *Toxiproxy) ProxyTo(name, upstreamURL string) (*toxiproxy.Proxy, string, error) {
	u, err := url.Parse(upstreamURL)
	if err != nil {
		return nil, "", fmt.Errorf("parse upstream %q: %w", upstreamURL, err)
	}
	port, err := FreePort()
	if err != nil {
		return nil, "", err
	}
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	p, err := tp.Client.CreateProxy(name, listen, u.Host)
	if err != nil {
		return nil, "", fmt.Errorf("create toxiproxy proxy %s → %s: %w", listen, u.Host, err)
	}
	return p, "http://" + listen, nil
}

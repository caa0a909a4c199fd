// Package harness starts the real services Sek's integration and end-to-end tests run against:
// moto_server (the AWS API emulator). Tests get a fresh server on a free loopback port.
package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Moto is a running moto_server.
type Moto struct {
	URL  string
	cmd  *exec.Cmd
	logs *LockedBuffer
	once sync.Once
}

// TB is the subset of testing.TB the harness needs, so the demo can use it outside tests.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
	Logf(format string, args ...any)
}

// StartMoto starts moto_server for a test and stops it when the test ends.
func StartMoto(t TB) *Moto {
	t.Helper()
	m, err := LaunchMoto(context.Background())
	if err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(m.Stop)
	return m
}

// LaunchMoto starts moto_server on a free port and waits until it answers.
func LaunchMoto(ctx context.Context) (*Moto, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, errors.New("moto_server is not installed: run `pip install 'moto[server]'` (make tools does this)")
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	m := &Moto{URL: fmt.Sprintf("http://127.0.0.1:%d", port), logs: &LockedBuffer{}}
	m.cmd = exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	m.cmd.Stdout, m.cmd.Stderr = m.logs, m.logs
	m.cmd.Env = append(os.Environ(), "MOTO_ALLOW_NONEXISTENT_REGION=true")
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if err := ctx.Err(); err != nil {
			m.Stop()
			return nil, err
		}
		resp, err := http.Get(m.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return m, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	m.Stop()
	return nil, fmt.Errorf("moto_server did not answer on %s within 30s; its output:\n%s", m.URL, m.logs.String())
}

// Stop ends the server.
func (m *Moto) Stop() {
	m.once.Do(func() {
		if m.cmd != nil && m.cmd.Process != nil {
			_ = m.cmd.Process.Kill()
			_ = m.cmd.Wait()
		}
	})
}

// Reset clears every account's state.
func (m *Moto) Reset() error {
	resp, err := http.Post(m.URL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		return fmt.Errorf("reset moto: %w", err)
	}
	return resp.Body.Close()
}

// Env returns environment variables that point the AWS SDK (and sek) at this server.
func (m *Moto) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + m.URL,
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_SESSION_TOKEN=testing",
		"AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	}
}

// SetEnv applies Env to the current process for the duration of a test.
func (m *Moto) SetEnv(t interface{ Setenv(k, v string) }) {
	for _, kv := range m.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// Export applies Env to the current process for good: for the demo and the tools under test/
// that run outside a test, and for a TestMain that shares one server.
func (m *Moto) Export() error {
	for _, kv := range m.Env() {
		k, v, _ := strings.Cut(kv, "=")
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("set %s: %w", k, err)
		}
	}
	return nil
}

// FreePort asks the kernel for an unused loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// LockedBuffer collects a child process's output safely from several goroutines.
type LockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

package invariants

import (
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Goroutines is invariant 5's first half. Take a baseline before the run; after the run (and
// after closing the servers the test started, so their connections end) Check fails if any
// goroutine started during the run is still alive once things had time to settle.
type Goroutines struct {
	baseline goleak.Option
}

// TrackGoroutines records the goroutines alive now.
func TrackGoroutines() *Goroutines { return &Goroutines{baseline: goleak.IgnoreCurrent()} }

// Check reports goroutines started since the baseline that are still running.
func (g *Goroutines) Check(t testing.TB) {
	t.Helper()
	// Idle keep-alive connections of the default client (used by the toxiproxy client) are the
	// test's, not Sek's; close them so only Sek's goroutines remain.
	http.DefaultClient.CloseIdleConnections()
	// Goroutines that are ending (a cancelled call unwinding) get a few seconds to finish.
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err = goleak.Find(g.baseline); err == nil {
			return
		}
	}
	t.Errorf("invariant 5: goroutines leaked by the run: %v", err)
}

package fault

import (
	"testing"

	toxiproxy "github.com/Shopify/toxiproxy/v2/client"

	"github.com/sek-dev/sek/test/harness"
	"github.com/sek-dev/sek/test/invariants"
)

// network puts Toxiproxy in front of moto and points Sek at it: Sek → toxiproxy → a recording
// fault proxy with no rules → moto. The recording shows the SDK's attempt numbers, which proves
// the network fault really made calls fail and be retried.
func (f *fixture) network(toxics ...func(p *toxiproxy.Proxy) error) *harness.FaultProxy {
	f.t.Helper()
	rec := f.publishing()
	f.toxify(rec.URL, toxics...)
	return rec
}

// toxify puts Toxiproxy with the given toxics in front of upstream and points Sek at it.
func (f *fixture) toxify(upstream string, toxics ...func(p *toxiproxy.Proxy) error) {
	f.t.Helper()
	tp := harness.StartToxiproxy(f.t)
	p, url, err := tp.ProxyTo("moto", upstream)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, add := range toxics {
		if err := add(p); err != nil {
			f.t.Fatalf("add toxic: %v", err)
		}
	}
	f.endpoint = url
	// Deleting the proxy closes every connection through it, so Sek's idle keep-alive connections
	// end before the leak check; then the server stops.
	f.closers = append(f.closers, tp.Stop, func() { _ = p.Delete() })
}

// retried counts calls that reached moto on a second or later attempt.
func retried(rec *harness.FaultProxy) int {
	n := 0
	for _, c := range rec.Calls() {
		if c.Attempt > 1 {
			n++
		}
	}
	return n
}

func toxic(name, kind, stream string, toxicity float32, attrs toxiproxy.Attributes) func(p *toxiproxy.Proxy) error {
	return func(p *toxiproxy.Proxy) error {
		_, err := p.AddToxic(name, kind, stream, toxicity, attrs)
		return err
	}
}

// Every response is delayed 100±50 ms: the scan is slower and otherwise identical.
func TestNetworkLatency(t *testing.T) {
	f := newFixture(t)
	f.network(toxic("latency", "latency", "downstream", 1, toxiproxy.Attributes{"latency": 100, "jitter": 50}))
	run := f.publish(regionArgs()...)
	f.finish(run)
	invariants.Complete(t, run)
	invariants.ScanFinished(t, run, all...)
	invariants.SameVerdicts(t, baseline(t), run, all)
	f.hubHeld(run)
}

// intermittent runs a complete scan through a toxic that affects only some connections.
// Toxicity is drawn per connection and Sek keeps few keep-alive connections, so a run may by
// chance meet no fault; the case repeats (at most five times) until some call was hit and
// retried, and every run must hold the invariants.
func intermittent(t *testing.T, add func(p *toxiproxy.Proxy) error) {
	for attempt := 1; attempt <= 5; attempt++ {
		f := newFixture(t)
		rec := f.network(add)
		run := f.publish(regionArgs()...)
		f.finish(run)
		invariants.Complete(t, run)
		invariants.ScanFinished(t, run, all...)
		invariants.SameVerdicts(t, baseline(t), run, all)
		f.hubHeld(run)
		if t.Failed() || retried(rec) > 0 {
			return
		}
	}
	t.Fatal("in five scans no call met the fault")
}

// Half the connections are reset by the peer as they open; the SDK retries on new ones.
func TestConnectionResetsAreRetried(t *testing.T) {
	intermittent(t, toxic("reset", "reset_peer", "upstream", 0.5, toxiproxy.Attributes{"timeout": 0}))
}

// Half the connections go silent and are dropped half a second later; the calls on them fail
// and are retried.
func TestSilentConnectionsAreRetried(t *testing.T) {
	intermittent(t, toxic("timeout", "timeout", "downstream", 0.5, toxiproxy.Attributes{"timeout": 500}))
}

// Responses trickle in at 32 KB/s in small slices with delays between them.
func TestSlowResponses(t *testing.T) {
	f := newFixture(t)
	f.network(
		toxic("bandwidth", "bandwidth", "downstream", 1, toxiproxy.Attributes{"rate": 32}),
		toxic("slicer", "slicer", "downstream", 1, toxiproxy.Attributes{"average_size": 64, "size_variation": 32, "delay": 2000}),
	)
	run := f.publish(regionArgs()...)
	f.finish(run)
	invariants.Complete(t, run)
	invariants.ScanFinished(t, run, all...)
	invariants.SameVerdicts(t, baseline(t), run, all)
	f.hubHeld(run)
}

// The network hangs completely: the run ends at --timeout with exit 3 and says why, and leaves
// no goroutine behind.
func TestNetworkHangEndsAtTheScanTimeout(t *testing.T) {
	f := newFixture(t)
	f.network(toxic("hang", "timeout", "downstream", 1, toxiproxy.Attributes{"timeout": 0}))
	run := f.sek(regionArgs("--timeout", "3s")...)
	f.finish(run)
	invariants.NothingReachable(t, run, "deadline exceeded")
}

// Every connection is reset: nothing is reachable, and the run says so after its retries.
func TestNetworkDownIsReported(t *testing.T) {
	f := newFixture(t)
	f.network(toxic("reset", "reset_peer", "upstream", 1, toxiproxy.Attributes{"timeout": 0}))
	run := f.sek(regionArgs("--max-attempts", "2")...)
	f.finish(run)
	invariants.NothingReachable(t, run, "sts:GetCallerIdentity")
	invariants.NothingReachable(t, run, "request send failed")
}

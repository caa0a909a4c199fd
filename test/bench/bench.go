// Package bench measures Sek against the fake AWS endpoint (test/fakeaws): wall time against the
// critical-path lower bound, calls, duplicates, Security Hub calls, memory. The Go benchmarks in
// this package run the scan pipeline in-process; cmd/sekbench runs the sek binary as a child
// process so its peak RSS is its own.
package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sek-dev/sek/test/fakeaws"
)

// Case is one measured run.
type Case struct {
	Name   string
	Estate fakeaws.Estate
	// Cluster, when set, audits only this cluster in the estate's first region, the way an
	// EventBridge event does; the bound then knows the cluster's name without listing.
	Cluster string
	// Serial runs with one region and one cluster at a time (the speed-up baseline).
	Serial  bool
	Publish bool
	// MemLimit, when set, is passed as GOMEMLIMIT (for example "100MiB"), as the Lambda sets a
	// soft limit from its memory size.
	MemLimit string
}

// Args returns the sek arguments for the case.
func (c Case) Args() []string {
	args := []string{"scan", "--output", "json", "--no-progress", "--log-level", "warn"}
	regions := c.Estate.RegionList()
	if c.Cluster != "" {
		regions = regions[:1]
		args = append(args, "--cluster", c.Cluster)
	}
	for _, r := range regions {
		args = append(args, "--region", r)
	}
	if c.Serial {
		args = append(args, "--region-concurrency", "1", "--cluster-concurrency", "1")
	}
	if c.Publish {
		args = append(args, "--publish")
	}
	return args
}

// Clusters is how many clusters the case audits.
func (c Case) Clusters() int {
	if c.Cluster != "" {
		return 1
	}
	return c.Estate.Size()
}

// Known lists the APIs whose answer the case's caller already has.
func (c Case) Known() []string {
	if c.Cluster != "" {
		return []string{"eks:ListClusters"}
	}
	return nil
}

// Result is what one run measured.
type Result struct {
	Case
	Wall     time.Duration
	Bound    fakeaws.Bound
	Stats    fakeaws.Stats
	ExitCode int
	// MaxRSS and PeakHeap are in bytes; PeakHeap is the largest heap size the Go runtime
	// reported at a garbage collection (GODEBUG=gctrace=1), which bounds the heap's peak
	// within one GC cycle.
	MaxRSS, PeakHeap int64
	Results          int
	Stderr           string
}

// Ratio is wall time over the lower bound.
func (r Result) Ratio() float64 {
	if r.Bound.Total <= 0 {
		return 0
	}
	return float64(r.Wall) / float64(r.Bound.Total)
}

// CallsPerCluster counts logical calls (retries excluded) per audited cluster.
func (r Result) CallsPerCluster() float64 {
	return float64(r.Stats.Calls) / float64(max(r.Clusters(), 1))
}

// RunCLI runs the sek binary against srv for case c and measures it. The server's counters are
// reset first; its Security Hub findings are kept, so a second run sees a steady state.
func RunCLI(ctx context.Context, sek string, srv *fakeaws.Server, c Case) (Result, error) {
	srv.Reset()
	cmd := exec.CommandContext(ctx, sek, c.Args()...)
	cmd.Env = append(os.Environ(), srv.Env()...)
	cmd.Env = append(cmd.Env, "GODEBUG=gctrace=1", "SEK_LOG_LEVEL=warn")
	if c.MemLimit != "" {
		cmd.Env = append(cmd.Env, "GOMEMLIMIT="+c.MemLimit)
	}
	var stdout countingWriter
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	err := cmd.Run()
	wall := time.Since(began)
	res := Result{Case: c, Wall: wall, Stderr: stderr.String()}
	if cmd.ProcessState == nil {
		return res, fmt.Errorf("run %s: %w", sek, err)
	}
	res.ExitCode = cmd.ProcessState.ExitCode()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.MaxRSS = ru.Maxrss * 1024 // Linux reports KiB
	}
	res.PeakHeap = peakHeap(stderr.String())
	res.Results = stdout.results
	res.Stats = srv.Stats()
	res.Bound = srv.LowerBound(res.Stats, c.Known()...)
	return res, nil
}

// countingWriter discards the JSON report but counts its results, so the output is produced
// (it is part of the work) without holding it in the benchmark's memory.
type countingWriter struct {
	results int
	partial []byte
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		if bytes.Contains(w.partial[:i], []byte(`"checkId":`)) {
			w.results += bytes.Count(w.partial[:i], []byte(`"checkId":`))
		}
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}

var gcLine = regexp.MustCompile(`(\d+)->(\d+)->(\d+) MB`)

// peakHeap reads gctrace lines ("gc 3 @0.1s 2%: ..., 12->14->6 MB, 16 MB goal, ...").
func peakHeap(stderr string) int64 {
	var peak int64
	sc := bufio.NewScanner(strings.NewReader(stderr))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := gcLine.FindStringSubmatch(sc.Text())
		if m == nil || !strings.HasPrefix(sc.Text(), "gc ") {
			continue
		}
		for _, s := range m[1:3] {
			n, _ := strconv.ParseInt(s, 10, 64)
			peak = max(peak, n<<20)
		}
	}
	return peak
}

// Tail returns the last lines of s that are not GC traces, for error messages.
func Tail(s string, n int) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" && !strings.HasPrefix(l, "gc ") {
			keep = append(keep, l)
		}
	}
	if len(keep) > n {
		keep = keep[len(keep)-n:]
	}
	return strings.Join(keep, "\n")
}

// Timeline returns when the last collection call arrived and the span of Security Hub calls,
// measured from the fake's reset, to show which phase the wall time went to.
func (r Result) Timeline() (collectEnd, hubFirst, hubLast time.Duration) {
	hubFirst = -1
	for _, a := range r.Stats.APIs {
		if strings.HasPrefix(a.API, "securityhub:") {
			if hubFirst < 0 || a.First < hubFirst {
				hubFirst = a.First
			}
			hubLast = max(hubLast, a.Last)
			continue
		}
		collectEnd = max(collectEnd, a.Last)
	}
	return collectEnd, max(hubFirst, 0), hubLast
}

// WriteAPIBreakdown prints the bound's per-API lines that matter most.
func WriteAPIBreakdown(w io.Writer, r Result, top int) {
	ce, hf, hl := r.Timeline()
	fmt.Fprintf(w, "  timeline: last collection call at %.2fs; Security Hub calls from %.2fs to %.2fs; process exit at %.2fs\n", ce.Seconds(), hf.Seconds(), hl.Seconds(), r.Wall.Seconds())
	fmt.Fprintf(w, "  bound %.2fs set by %s (%s); dependency depth %d calls\n", r.Bound.Total.Seconds(), r.Bound.Critical, r.Bound.Why, r.Bound.Depth)
	for i, a := range r.Bound.APIs {
		if i == top {
			break
		}
		fmt.Fprintf(w, "    %-16s %-40s calls %5d  first %.2fs  end %.2fs  (%s)\n", a.Bucket, a.API, a.Calls, a.Start.Seconds(), a.End.Seconds(), a.Why)
	}
}

// Command sekbench runs the sek binary against the fake AWS endpoint for several estate sizes and
// prints wall time against the critical-path lower bound, calls per cluster, duplicate calls,
// Security Hub calls, peak heap and RSS, and the speed-up over concurrency 1. `make bench` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sek-dev/sek/test/bench"
	"github.com/sek-dev/sek/test/fakeaws"
)

type preset struct {
	name    string
	estate  fakeaws.Estate
	cluster string
}

func presets() map[string]preset {
	return map[string]preset{
		"1":     {name: "1 cluster", estate: fakeaws.NewEstate(1, 1, 3)},
		"100":   {name: "100 clusters (2 regions × 50 × 3 NG)", estate: fakeaws.NewEstate(2, 50, 3)},
		"1020":  {name: "1,020 clusters (17 regions × 60 × 3 NG)", estate: fakeaws.NewEstate(17, 60, 3)},
		"event": {name: "event: 1 cluster of 60 in its region", estate: fakeaws.NewEstate(1, 60, 3), cluster: fakeaws.ClusterName(7)},
		// One region of the 1,020-cluster estate: what a fan-out child invocation scans.
		"region": {name: "1 region × 60 clusters × 3 NG (a fan-out child)", estate: fakeaws.NewEstate(1, 60, 3)},
	}
}

func main() {
	sek := flag.String("sek", "bin/sek", "the sek binary to measure (build it with `make build`)")
	sizes := flag.String("sizes", "event,1,region,100,1020", "comma-separated presets: event, 1, region, 100, 1020")
	latency := flag.Duration("latency", 100*time.Millisecond, "latency of every fake AWS call")
	serialMax := flag.Int("serial-max", 100, "measure concurrency 1 for estates up to this many clusters; larger ones are extrapolated from the largest measured")
	publish := flag.Bool("publish", true, "publish to the fake Security Hub (--publish); the second run of a size is the steady state")
	mdPath := flag.String("markdown", "", "also write the table as Markdown to this file")
	verbose := flag.Bool("v", false, "print every API's call count and first and last arrival")
	memLimit := flag.String("memlimit", "100MiB", "for the region and 1020 sizes, one more steady-state run with this GOMEMLIMIT (what a 128 MB Lambda sets from its memory size); empty to skip")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, err := os.Stat(*sek); err != nil {
		fmt.Fprintf(os.Stderr, "sekbench: %v (run `make build` first or pass -sek)\n", err)
		os.Exit(2)
	}
	var rows []row
	perClusterSerial := 0.0 // seconds per cluster at concurrency 1, from the largest measured
	for _, key := range strings.Split(*sizes, ",") {
		p, ok := presets()[strings.TrimSpace(key)]
		if !ok {
			fmt.Fprintf(os.Stderr, "sekbench: unknown size %q (use event, 1, region, 100, 1020)\n", key)
			os.Exit(2)
		}
		opts := fakeaws.DefaultOptions(p.estate)
		opts.Latency = *latency
		srv := fakeaws.Start(opts)
		c := bench.Case{Name: p.name, Estate: p.estate, Cluster: p.cluster, Publish: *publish}
		runs := []string{"first run"}
		if *publish {
			runs = append(runs, "steady state")
		}
		var last bench.Result
		lastIdx := 0
		for _, label := range runs {
			r, err := bench.RunCLI(ctx, *sek, srv, c)
			if err != nil {
				fmt.Fprintf(os.Stderr, "sekbench: %s: %v\n", p.name, err)
				os.Exit(1)
			}
			report(os.Stderr, label, r)
			if *verbose {
				apis := append([]fakeaws.APIStats(nil), r.Stats.APIs...)
				sort.Slice(apis, func(i, j int) bool { return apis[i].First < apis[j].First })
				for _, a := range apis {
					fmt.Fprintf(os.Stderr, "    %-16s %-40s calls %5d  first %6.2fs  last %6.2fs  throttled %d\n", a.Bucket, a.API, a.Calls, a.First.Seconds(), a.Last.Seconds(), a.Throttled)
				}
			}
			rows = append(rows, row{label: label, r: r})
			last, lastIdx = r, len(rows)-1
		}
		if *memLimit != "" && c.Cluster == "" && c.Clusters() >= 60 && len(p.estate.RegionList()) != 2 {
			mc := c
			mc.MemLimit = *memLimit
			label := "GOMEMLIMIT=" + *memLimit
			r, err := bench.RunCLI(ctx, *sek, srv, mc)
			if err != nil {
				fmt.Fprintf(os.Stderr, "sekbench: %s with %s: %v\n", p.name, label, err)
				os.Exit(1)
			}
			report(os.Stderr, label, r)
			rows = append(rows, row{label: label, r: r})
		}
		if c.Clusters() <= *serialMax {
			sc := c
			sc.Serial = true
			r, err := bench.RunCLI(ctx, *sek, srv, sc)
			if err != nil {
				fmt.Fprintf(os.Stderr, "sekbench: %s at concurrency 1: %v\n", p.name, err)
				os.Exit(1)
			}
			report(os.Stderr, "concurrency 1", r)
			rows[lastIdx].speedup = fmt.Sprintf("%.1f×", r.Wall.Seconds()/last.Wall.Seconds())
			if c.Cluster == "" {
				perClusterSerial = r.Wall.Seconds() / float64(c.Clusters())
			}
		} else if perClusterSerial > 0 {
			est := perClusterSerial * float64(c.Clusters())
			rows[lastIdx].speedup = fmt.Sprintf("%.0f× (est.)", est/last.Wall.Seconds())
		}
		srv.Close()
	}
	printTable(os.Stdout, rows)
	if *mdPath != "" {
		f, err := os.Create(*mdPath)
		if err == nil {
			printMarkdown(f, rows, *latency)
			err = f.Close()
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "sekbench: write %s: %v\n", *mdPath, err)
			os.Exit(1)
		}
	}
	for _, r := range rows {
		if r.r.Stats.Duplicates > 0 || len(r.r.Stats.Unrouted) > 0 || r.r.ExitCode > 1 {
			os.Exit(1)
		}
	}
}

type row struct {
	label   string
	r       bench.Result
	speedup string
}

func report(w io.Writer, label string, r bench.Result) {
	fmt.Fprintf(w, "%s, %s: wall %.2fs, bound %.2fs, ratio %.2f, exit %d, %d results\n", r.Name, label, r.Wall.Seconds(), r.Bound.Total.Seconds(), r.Ratio(), r.ExitCode, r.Results)
	bench.WriteAPIBreakdown(w, r, 4)
	if r.Stats.Duplicates > 0 {
		fmt.Fprintf(w, "  DUPLICATE CALLS: %v\n", r.Stats.DuplicateCalls)
	}
	if len(r.Stats.Unrouted) > 0 {
		fmt.Fprintf(w, "  UNROUTED (missing fake handlers): %v\n", r.Stats.Unrouted)
	}
	if r.ExitCode > 1 {
		fmt.Fprintf(w, "  sek exited %d:\n%s\n", r.ExitCode, bench.Tail(r.Stderr, 8))
	}
}

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }

func cells(x row) []string {
	r := x.r
	return []string{
		r.Name, x.label, fmt.Sprint(r.Clusters()),
		fmt.Sprintf("%.2fs", r.Wall.Seconds()), fmt.Sprintf("%.2fs", r.Bound.Total.Seconds()), fmt.Sprintf("%.2f", r.Ratio()),
		fmt.Sprintf("%.1f", r.CallsPerCluster()), fmt.Sprint(r.Stats.Duplicates), fmt.Sprint(r.Stats.Attempts - r.Stats.Calls),
		fmt.Sprint(r.Stats.CallsToService("securityhub")), mb(r.PeakHeap), mb(r.MaxRSS), x.speedup,
	}
}

var header = []string{"estate", "run", "clusters", "wall", "lower bound", "ratio", "calls/cluster", "duplicates", "retries", "Security Hub calls", "peak heap", "peak RSS", "speed-up vs concurrency 1"}

func printTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, x := range rows {
		fmt.Fprintln(tw, strings.Join(cells(x), "\t"))
	}
	_ = tw.Flush()
}

func printMarkdown(w io.Writer, rows []row, latency time.Duration) {
	fmt.Fprintf(w, "Measured %s, latency %s per call, default quota %.0f TPS burst %d per (region, API).\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), latency, fakeaws.DefaultQuota.Rate, fakeaws.DefaultQuota.Burst)
	fmt.Fprintln(w, "| "+strings.Join(header, " | ")+" |")
	fmt.Fprintln(w, "|"+strings.Repeat(" --- |", len(header)))
	for _, x := range rows {
		fmt.Fprintln(w, "| "+strings.Join(cells(x), " | ")+" |")
	}
}

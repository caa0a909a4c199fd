package fault

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/sek-dev/sek/internal/demo"
	"github.com/sek-dev/sek/pkg/auditor"
	"github.com/sek-dev/sek/pkg/awsclient"
	"github.com/sek-dev/sek/pkg/config"
	"github.com/sek-dev/sek/pkg/runner"
	"github.com/sek-dev/sek/test/harness"
	"github.com/sek-dev/sek/test/invariants"
)

// lambdaRun invokes the auditor handler in-process, the way functions/auditor wires it, with the
// given SEK_* environment and a Lambda deadline timeout from now. It returns the run with the
// handler's logs as Stderr, its reply as Stdout and its EMF metrics.
func (f *fixture) lambdaRun(env []string, payload string, timeout time.Duration) invariants.Run {
	f.t.Helper()
	f.t.Setenv("AWS_ENDPOINT_URL", f.endpoint)
	var logs, metrics bytes.Buffer
	run := invariants.Guard(func() invariants.Run {
		environ := append([]string{config.EnvPrefix + "LOG_LEVEL=debug"}, env...)
		cfg, err := config.Load(config.Sources{Environ: environ}, runner.Checks())
		if err != nil {
			f.t.Fatalf("config: %v", err)
		}
		ctx := context.Background()
		base, err := awsclient.Load(ctx, awsclient.Options{MaxAttempts: cfg.MaxAttempts})
		if err != nil {
			f.t.Fatalf("aws config: %v", err)
		}
		h := auditor.New(auditor.Options{Config: cfg, Connect: auditor.NewAWSConnector(base, cfg, "fault-test").Connect,
			Logs: &logs, Metrics: &metrics, LogLevel: cfg.LogLevel})
		ctx, cancel := context.WithTimeout(lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "fault-test"}), timeout)
		defer cancel()
		resp, err := h.Handle(ctx, json.RawMessage(payload))
		out, _ := json.Marshal(resp)
		r := invariants.Run{Stdout: string(out)}
		if err != nil {
			r.Code = 1
			r.Stdout += "\n" + err.Error()
		}
		return r
	})
	run.Stderr = logs.String()
	run.Metrics = map[string]float64{}
	sc := bufio.NewScanner(&metrics)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var doc map[string]any
		if json.Unmarshal(sc.Bytes(), &doc) != nil || doc["Route"] == nil {
			continue
		}
		for k, v := range doc {
			if n, ok := v.(float64); ok {
				run.Metrics[k] = n
			}
		}
	}
	return run
}

// The Lambda's deadline arrives mid-scan: every DescribeCluster takes 2 s, one cluster at a
// time, and the invocation has 9 s. Targets not started before the safety margin are reported
// as not scanned, the invocation fails (so the event is retried), the ScopeErrors metric counts
// them, what finished is published, and nothing unscanned is archived or changed.
func TestLambdaDeadlineMidScan(t *testing.T) {
	f := newFixture(t)
	p := f.publishing()
	p.Add(&harness.Rule{Name: "slow", Match: harness.Op("eks", "DescribeCluster"), Action: harness.Delay(2 * time.Second)})
	before := snapshot(t)
	env := []string{
		config.EnvPrefix + "CONCURRENCY__REGIONS=1",
		config.EnvPrefix + "CONCURRENCY__CLUSTERS=1",
	}
	payload := `{"regions":["` + strings.Join(demo.Regions(), `","`) + `"]}`
	run := f.lambdaRun(append(env, os.Environ()...), payload, 9*time.Second)
	f.finish(run)
	after := snapshot(t)

	var resp struct {
		Errors []struct {
			Region, Target, Stage, Message string
		} `json:"errors"`
		ClustersScanned int `json:"clustersScanned"`
		Publish         *struct {
			Imported, Archived int
		} `json:"publish"`
	}
	if err := json.Unmarshal([]byte(strings.SplitN(run.Stdout, "\n", 2)[0]), &resp); err != nil {
		t.Fatalf("handler reply: %v\n%s", err, run.Stdout)
	}
	notStarted := 0
	unscanned := map[string]bool{}
	for _, e := range resp.Errors {
		if e.Stage == "not-started" && strings.Contains(e.Message, "time budget") {
			notStarted++
		}
		if e.Target != "" {
			unscanned[e.Region+"/"+e.Target] = true
		}
	}
	if notStarted == 0 || resp.ClustersScanned == 0 {
		t.Fatalf("want some clusters scanned and some not started before the deadline; reply: %s", run.Stdout)
	}
	if run.Code == 0 || !strings.Contains(run.Stdout, "incomplete scan") {
		t.Errorf("the invocation should fail as an incomplete scan so the event is retried; reply: %s", run.Stdout)
	}
	if got := run.Metrics[auditor.MetricScopeErrors]; got != float64(len(resp.Errors)) {
		t.Errorf("metric %s = %v, want %d", auditor.MetricScopeErrors, got, len(resp.Errors))
	}
	if resp.Publish == nil || resp.Publish.Imported == 0 || resp.Publish.Archived != 0 {
		t.Errorf("publish %+v: want the finished scopes imported and nothing archived", resp.Publish)
	}
	invariants.NothingArchivedOrResolved(t, before, after)
	for _, s := range all {
		if unscanned[s.Region+"/"+s.Cluster] {
			invariants.Untouched(t, before, after, idsOfCluster(before, s))
		}
	}
}

package fault

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	sh "github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/sek-dev/sek/internal/demo"
	"github.com/sek-dev/sek/test/harness"
	"github.com/sek-dev/sek/test/invariants"
)

// Distinctive credentials, so any echo of them is unmistakable. moto accepts any.
const (
	leakKeyID   = "AKIASEKLEAKCANARY001"
	leakSecret  = "sekLeakCanarySecret/0123456789+abcdefghijklmno"
	leakSession = "SekLeakCanarySessionToken//IQoJb3JpZ2luX2VjEFAaCXVzLWVhc3QtMSJHMEUCIQD"
)

// TestNoSecretsInLogsOrOutput runs full scans with debug logging in every output format, with
// publishing, with a fault that fills the logs with error responses, and the Lambda handler;
// then searches everything Sek printed, logged, emitted as metrics and published to Security
// Hub for the credentials, any bearer token or signed header, and the clusters'
// certificate-authority data (moto returns some for every cluster).
func TestNoSecretsInLogsOrOutput(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", leakKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", leakSecret)
	t.Setenv("AWS_SESSION_TOKEN", leakSession)

	var cas []string
	for _, c := range demo.Clusters() {
		out, err := eks.New(eks.Options{Region: c.Region, BaseEndpoint: aws.String(moto.URL),
			Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}).
			DescribeCluster(context.Background(), &eks.DescribeClusterInput{Name: aws.String(c.Name)})
		if err != nil {
			t.Fatal(err)
		}
		if ca := out.Cluster.CertificateAuthority; ca != nil && aws.ToString(ca.Data) != "" {
			cas = append(cas, aws.ToString(ca.Data))
		}
	}
	if len(cas) == 0 {
		t.Fatal("moto returned no certificateAuthority.data; the test would prove nothing")
	}
	secrets := map[string]string{"access key id": leakKeyID, "secret access key": leakSecret, "session token": leakSession}
	for i, ca := range cas {
		secrets["certificate authority data #"+string(rune('1'+i))] = ca
		// A prefix long enough to be unique catches a truncated or re-wrapped copy too.
		secrets["certificate authority data prefix #"+string(rune('1'+i))] = ca[:min(len(ca), 40)]
	}
	forbidden := []string{"Bearer ", "X-Amz-Security-Token", "Authorization:", "AWS4-HMAC-SHA256 Credential"}

	var outputs []string
	record := func(name string, run invariants.Run) {
		t.Helper()
		invariants.NoPanic(t, run)
		outputs = append(outputs, name+"\n"+run.Stdout+"\n"+run.Stderr)
	}

	f := newFixture(t)
	p := f.publishing()
	// Errors are where request details most often leak: deny one region and throttle another.
	p.Add(
		&harness.Rule{Name: "deny", Match: harness.InRegion(edge.Region, harness.Service("eks")), Action: harness.AccessDenied()},
		&harness.Rule{Name: "throttle", Match: harness.FirstAttempt(harness.Service("kms")), Action: harness.Throttle()},
	)
	for _, format := range []string{"json", "table", "csv", "asff"} {
		args := regionArgs("--log-level", "debug", "--show-passed")
		args[2] = format // regionArgs starts with scan --output json
		if format == "json" {
			args = append(args, "--publish")
		}
		record("sek scan --output "+format, f.sek(args...))
	}
	env := append([]string{}, os.Environ()...)
	payload := `{"regions":["` + strings.Join(demo.Regions(), `","`) + `"]}`
	lr := f.lambdaRun(env, payload, 2*time.Minute)
	record("lambda", lr)
	metricsJSON, _ := json.Marshal(lr.Metrics)
	outputs = append(outputs, "lambda metrics\n"+string(metricsJSON))
	f.finish(invariants.Run{})

	// What Sek published is output too.
	for _, region := range demo.Regions() {
		client := sh.New(sh.Options{Region: region, BaseEndpoint: aws.String(moto.URL),
			Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
		pg := sh.NewGetFindingsPaginator(client, &sh.GetFindingsInput{})
		for pg.HasMorePages() {
			page, err := pg.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(page.Findings)
			outputs = append(outputs, "Security Hub findings in "+region+"\n"+string(b))
		}
	}

	total := 0
	for _, out := range outputs {
		total += len(out)
		name, _, _ := strings.Cut(out, "\n")
		for what, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s contains the %s", name, what)
			}
		}
		for _, s := range forbidden {
			if strings.Contains(out, s) {
				t.Errorf("%s contains %q", name, s)
			}
		}
	}
	if total < 100_000 {
		t.Errorf("only %d bytes of output were searched; the runs did not produce what they should", total)
	}
	all := strings.Join(outputs, "")
	for _, logLine := range []string{`level=WARN`, `"level":"INFO"`, `"msg":"invocation `} {
		if !strings.Contains(all, logLine) {
			t.Errorf("no %s log line was produced; the search covered less than it claims", logLine)
		}
	}
}

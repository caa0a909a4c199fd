package awsclient_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/sek-dev/sek/pkg/awsclient"
	"github.com/sek-dev/sek/test/fakeaws"
)

// burst fires n concurrent DescribeCluster calls in each region through f's clients.
func burst(t *testing.T, f *awsclient.Factory, regions []string, n int) time.Duration {
	t.Helper()
	began := time.Now()
	var wg sync.WaitGroup
	for _, r := range regions {
		client := eks.NewFromConfig(f.Config(r))
		for range n {
			wg.Go(func() {
				if _, err := client.DescribeCluster(context.Background(), &eks.DescribeClusterInput{Name: aws.String("bench-000")}); err != nil {
					t.Errorf("DescribeCluster in %s: %v", r, err)
				}
			})
		}
	}
	wg.Wait()
	return time.Since(began)
}

func baseFor(srv *fakeaws.Server) aws.Config {
	return aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 10
				o.RateLimiter = ratelimit.None
			})
		},
	}
}

// TestLimiterPacesEachRegionBelowTheThrottle sends 30 concurrent calls per region against a fake
// that admits 20 TPS burst 8 per (region, API): the factory's limiter at that rate with burst 3
// (5 tokens of margin for jitter, as DefaultQuota keeps) must let none be throttled, pace them
// (≥ (30-3)/20 s), and keep regions independent (two regions take no longer than one).
func TestLimiterPacesEachRegionBelowTheThrottle(t *testing.T) {
	q := fakeaws.Quota{Rate: 20, Burst: 8}
	srv := fakeaws.Start(fakeaws.Options{Estate: fakeaws.NewEstate(2, 1, 1), Quota: q})
	defer srv.Close()
	f := awsclient.NewFactory(baseFor(srv), awsclient.WithRateLimit(awsclient.Quota{Rate: q.Rate, Burst: q.Burst - 5}))
	took := burst(t, f, []string{"us-east-1", "us-east-2"}, 30)
	st := srv.Stats()
	if st.Throttled != 0 {
		t.Fatalf("%d calls were throttled despite client-side pacing", st.Throttled)
	}
	if st.Calls != 60 {
		t.Fatalf("%d calls reached the fake, want 60", st.Calls)
	}
	if minimum := 1300 * time.Millisecond; took < minimum {
		t.Fatalf("60 calls took %v; pacing at 20 TPS per region needs at least %v", took, minimum)
	}
	if took > 2600*time.Millisecond {
		t.Fatalf("60 calls over two regions took %v: regions are not paced independently", took)
	}
}

// TestUnpacedBurstIsThrottled is the control: without the limiter the same burst is throttled,
// so the test above proves the limiter, not a lenient fake.
func TestUnpacedBurstIsThrottled(t *testing.T) {
	srv := fakeaws.Start(fakeaws.Options{Estate: fakeaws.NewEstate(1, 1, 1), Quota: fakeaws.Quota{Rate: 50, Burst: 5}})
	defer srv.Close()
	f := awsclient.NewFactory(baseFor(srv), awsclient.WithRateLimit(awsclient.Quota{}))
	burst(t, f, []string{"us-east-1"}, 40)
	if st := srv.Stats(); st.Throttled == 0 {
		t.Fatal("an unpaced burst of 40 calls against burst 5 was never throttled")
	}
}

// TestIAMIsPacedGlobally checks that IAM calls from clients of different regions share one
// bucket, as IAM's quota is per account.
func TestIAMIsPacedGlobally(t *testing.T) {
	l := awsclient.NewLimiter(awsclient.Quota{Rate: 20, Burst: 1}, nil)
	ctx := context.Background()
	began := time.Now()
	for i := range 6 {
		r := []string{"us-east-1", "eu-west-1", "ap-south-1"}[i%3]
		if err := l.Wait(ctx, r, "IAM", "GetRole"); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(began); took < 240*time.Millisecond {
		t.Fatalf("6 IAM calls across 3 regions took %v; one global bucket at 20 TPS needs ≥ 250ms", took)
	}
	srv := fakeaws.Start(fakeaws.Options{Estate: fakeaws.NewEstate(1, 1, 1)})
	defer srv.Close()
	f := awsclient.NewFactory(baseFor(srv))
	if _, err := iam.NewFromConfig(f.Config("eu-west-1")).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("eks-node-us-east-1")}); err != nil {
		t.Fatalf("IAM through a paced client: %v", err)
	}
}

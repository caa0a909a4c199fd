package securityhub

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sek-dev/sek/pkg/audit"
)

// TestPrefetchedReadIsUsedOnceAndOnlyForItsTargets checks that a read started before the scan
// ends replaces Publish's own read (no second GetFindings), that it reflects what was stored when
// it ran, and that a read for other targets is not used.
func TestPrefetchedReadIsUsedOnceAndOnlyForItsTargets(t *testing.T) {
	h := newFakeHub()
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newPublisher(t, map[string]*fakeHub{region: h}, c, nil)
	first := []audit.Result{result("a", "CHECK_A", audit.Fail), result("b", "CHECK_A", audit.Fail)}
	publish(t, p, rep(first, regionScope()), PublishOptions{})
	gets := len(h.getCalls)

	// A second run, whole region: the prefetched read is the only read.
	c.advance(time.Hour)
	p2 := newPublisher(t, map[string]*fakeHub{region: h}, c, nil)
	p2.Prefetch(context.Background(), region, nil)
	second := []audit.Result{result("a", "CHECK_A", audit.Pass), result("b", "CHECK_A", audit.Fail)}
	out := publish(t, p2, rep(second, regionScope()), PublishOptions{})
	if n := len(h.getCalls) - gets; n != 1 {
		t.Fatalf("%d GetFindings calls with a prefetched read, want 1", n)
	}
	if n := h.describeCalls; n != 2 {
		t.Fatalf("%d DescribeHub calls over two publishes, want 2 (the second one prefetched)", n)
	}
	if out.Created != 0 || out.Imported != 2 || out.Resolved != 1 {
		t.Fatalf("outcome %+v: the prefetched findings were not used as the stored state", out)
	}
	if f, _ := h.get(id("a", "CHECK_A")); aws.ToString(f.CreatedAt) == aws.ToString(f.UpdatedAt) {
		t.Fatal("CreatedAt was reset: the stored finding was not read")
	}

	// A read prefetched for other targets is not used: Publish reads its own.
	gets = len(h.getCalls)
	c.advance(time.Hour)
	p3 := newPublisher(t, map[string]*fakeHub{region: h}, c, nil)
	p3.Prefetch(context.Background(), region, []string{"not-this-one"})
	unused := p3.prefetched[region]
	publish(t, p3, rep([]audit.Result{result("a", "CHECK_A", audit.Pass)}, clusterScope("a")), PublishOptions{TargetsNarrowed: true})
	<-unused.done
	if n := len(h.getCalls) - gets; n != 2 {
		t.Fatalf("%d GetFindings calls, want 2 (the unused prefetch and Publish's own read)", n)
	}
}

package eks

import (
	"context"
	"errors"
	"testing"
)

func TestClusterIndexListsEachRegionOnceAndRetriesFailures(t *testing.T) {
	idx := NewClusterIndex()
	calls := 0
	fail := true
	list := func(context.Context) ([]string, error) {
		calls++
		if fail {
			return nil, errors.New("throttled")
		}
		return []string{"a", "b"}, nil
	}
	if _, err := idx.names(context.Background(), "r1", list); err == nil {
		t.Fatal("want the listing error")
	}
	fail = false
	for i := 0; i < 3; i++ {
		got, err := idx.names(context.Background(), "r1", list)
		if err != nil || len(got) != 2 {
			t.Fatalf("names = %v, %v", got, err)
		}
	}
	if calls != 2 {
		t.Fatalf("list called %d times, want 2 (one failure, then one success reused)", calls)
	}
}

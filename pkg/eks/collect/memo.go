package collect

import (
	"context"
	"sync"
)

// memo computes each key's value at most once, even when many clusters ask at the same moment,
// so a shared lookup never becomes a duplicate API call.
type memo[K comparable, V any] struct {
	mu      sync.Mutex
	entries map[K]*memoEntry[V]
}

type memoEntry[V any] struct {
	once sync.Once
	v    V
}

func (m *memo[K, V]) get(k K, compute func() V) V {
	m.mu.Lock()
	if m.entries == nil {
		m.entries = map[K]*memoEntry[V]{}
	}
	e, ok := m.entries[k]
	if !ok {
		e = &memoEntry[V]{}
		m.entries[k] = e
	}
	m.mu.Unlock()
	e.once.Do(func() { e.v = compute() })
	return e.v
}

// fact is a memoised lookup's value or the error that prevented it.
type fact[T any] struct {
	v   T
	err error
}

// future hands one goroutine's result to others that start before it is known, so calls that
// do not depend on it are issued at once instead of after it.
type future[T any] struct {
	done chan struct{}
	v    T
	err  error
}

func newFuture[T any]() *future[T] { return &future[T]{done: make(chan struct{})} }

func (f *future[T]) set(v T, err error) {
	f.v, f.err = v, err
	close(f.done)
}

func (f *future[T]) wait(ctx context.Context) (T, error) {
	select {
	case <-f.done:
		return f.v, f.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

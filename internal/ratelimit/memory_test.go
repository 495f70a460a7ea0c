package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/clock"
)

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newFakeMemory(maxKeys int) (*Memory, *clock.Fake) {
	c := clock.NewFake(start)
	return NewMemoryWithClock(maxKeys, c.Now), c
}

func TestMemory(t *testing.T) {
	testLimiter(t, func(t *testing.T) harness {
		m, c := newFakeMemory(1000)
		return harness{l: m, advance: c.Advance}
	})
}

func TestMemoryRealClock(t *testing.T) {
	// The monotonic default clock, with time passing as it will.
	testLimiter(t, func(t *testing.T) harness {
		return harness{l: NewMemory(1000), slack: time.Second}
	})
}

func TestMemoryShardsStayWithinMaxKeys(t *testing.T) {
	for _, maxKeys := range []int{1, 2, 63, 64, 127, 128, 1000, 4096, 100_000, 1 << 20} {
		m := NewMemory(maxKeys)
		n := len(m.shards)
		if n&(n-1) != 0 || n > maxShards {
			t.Errorf("maxKeys %d: %d shards, want a power of two up to %d", maxKeys, n, maxShards)
		}
		if total := n * m.shards[0].max; total > maxKeys || total < maxKeys-n+1 {
			t.Errorf("maxKeys %d: %d shards of %d = %d keys", maxKeys, n, m.shards[0].max, total)
		}
	}
	if m, d := NewMemory(0), NewMemory(DefaultMaxKeys); len(m.shards) != len(d.shards) || m.shards[0].max != d.shards[0].max {
		t.Errorf("NewMemory(0) is not NewMemory(DefaultMaxKeys)")
	}
}

func TestMemoryEvictionBound(t *testing.T) {
	const maxKeys = 1000
	m, _ := newFakeMemory(maxKeys)
	r := Rule{Limit: 5, Period: time.Hour}
	peak := 0
	// No time passes, so every key stays live and only eviction bounds memory.
	for i := range 20 * maxKeys {
		d, err := m.Allow(context.Background(), fmt.Sprint("key-", i), r)
		if err != nil || !d.Allowed {
			t.Fatalf("new key %d: %+v, %v", i, d, err)
		}
		peak = max(peak, m.Len())
	}
	if peak > maxKeys {
		t.Fatalf("held %d keys, bound is %d", peak, maxKeys)
	}
	// Shards fill unevenly, but most of the room must be used.
	if peak < maxKeys*3/4 {
		t.Fatalf("held at most %d keys of %d: eviction too eager", peak, maxKeys)
	}
	for i := range m.shards {
		if s := &m.shards[i]; len(s.keys) != len(s.byTAT) {
			t.Fatalf("shard %d: %d keys but %d heap entries", i, len(s.keys), len(s.byTAT))
		}
	}

}

func TestMemoryDropsRefilledKeysWhenFull(t *testing.T) {
	m, c := newFakeMemory(100) // one shard of 100
	ctx := context.Background()
	r := Rule{Limit: 5, Period: time.Hour, Burst: 2}
	for i := range 99 {
		m.Allow(ctx, fmt.Sprint("key-", i), r)
	}
	m.Allow(ctx, "busy", r)
	m.Allow(ctx, "busy", r)
	// After one interval (12m) the 99 keys that took one event are full again
	// and indistinguishable from absent keys; "busy" still owes an interval.
	c.Advance(12 * time.Minute)
	if got := m.Len(); got != 100 {
		t.Fatalf("Len = %d, want 100: nothing is dropped before the shard is full", got)
	}
	m.Allow(ctx, "new", r)
	if got := m.Len(); got != 2 {
		t.Fatalf("Len = %d, want 2 (busy and new)", got)
	}
	if d, _ := m.Allow(ctx, "busy", r); !d.Allowed || d.Remaining != 0 {
		t.Fatalf(`"busy" lost its state: %+v`, d)
	}
}

func TestMemoryEvictsKeyNearestFullBucket(t *testing.T) {
	m, _ := newFakeMemory(3) // one shard of three keys
	if len(m.shards) != 1 {
		t.Fatalf("want one shard, got %d", len(m.shards))
	}
	ctx := context.Background()
	r := Rule{Limit: 3, Period: time.Minute}
	take := func(key string, n int) {
		for range n {
			m.Allow(ctx, key, r)
		}
	}
	take("attacked", 10) // exhausted: its TAT is furthest out
	take("two", 2)
	take("one", 1)
	take("new", 1) // the shard is full: "one" is nearest a full bucket and goes

	if d, _ := m.Allow(ctx, "attacked", r); d.Allowed {
		t.Fatal("the exhausted key was evicted and its budget reset")
	}
	if d, _ := m.Allow(ctx, "two", r); !d.Allowed || d.Remaining != 0 {
		t.Fatalf(`"two" lost its state: %+v`, d)
	}
	// "one" comes back fresh, so it was forgotten.
	if d, _ := m.Allow(ctx, "one", r); !d.Allowed || d.Remaining != 2 {
		t.Fatalf(`"one" was not evicted: %+v`, d)
	}
	if m.Len() != 3 {
		t.Fatalf("Len = %d, want 3", m.Len())
	}
}

func TestMemoryConcurrent(t *testing.T) {
	m, _ := newFakeMemory(10_000)
	r := Rule{Limit: 500, Period: time.Hour}
	const goroutines, attempts, keys = 64, 100, 4
	var allowed [keys]atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range attempts {
				k := (g + i) % keys
				d, err := m.Allow(context.Background(), fmt.Sprint("key-", k), r)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					allowed[k].Add(1)
				}
			}
		})
	}
	wg.Wait()
	// 1600 attempts per key, no time passes: exactly Limit each.
	for k := range allowed {
		if got := allowed[k].Load(); got != int64(r.Limit) {
			t.Errorf("key-%d: %d allowed, want exactly %d", k, got, r.Limit)
		}
	}
}

func BenchmarkMemoryAllow(b *testing.B) {
	r := Rule{Limit: 1000, Period: time.Second}
	b.Run("spread", func(b *testing.B) {
		// 10,000 keys, as many distinct users signing in.
		m := NewMemory(DefaultMaxKeys)
		keys := make([]string, 10_000)
		for i := range keys {
			keys[i] = fmt.Sprintf("project-live-00000000-0000-0000-0000-000000000000:send:i:%032x", i)
		}
		var next atomic.Uint64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := next.Add(7919) // goroutines start at different keys
			for pb.Next() {
				i++
				m.Allow(context.Background(), keys[i%uint64(len(keys))], r)
			}
		})
	})
	b.Run("one key", func(b *testing.B) {
		// Every goroutine on one project key: the worst case for the lock.
		m := NewMemory(DefaultMaxKeys)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.Allow(context.Background(), "project-live-x:send:p", r)
			}
		})
	})
}

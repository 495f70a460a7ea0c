package ratelimit

import (
	"container/heap"
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// DefaultMaxKeys is the key bound NewMemory uses when given less than 1:
// about 18 MB, at the ~175 bytes a key measured with Policy.Check's keys.
const DefaultMaxKeys = 100_000

const (
	maxShards   = 64 // enough that 2 cores × many goroutines rarely share a lock
	minPerShard = 64 // below this many keys a shard, use fewer shards
)

// Memory is an in-process GCRA limiter holding at most maxKeys keys.
//
// Each key stores one number, its theoretical arrival time (TAT): the time at
// which its bucket is full again. A key whose TAT has passed behaves exactly
// like an absent key, so when a shard is full all such keys are dropped, and
// if there are none, the key with the earliest TAT (the one nearest a full
// bucket) is evicted: forgetting it gives away the least. A key under attack
// has the latest TAT and is evicted last.
type Memory struct {
	now    func() time.Time
	epoch  time.Time // TATs are nanoseconds since epoch on now's clock
	seed   maphash.Seed
	shards []shard
}

type shard struct {
	mu    sync.Mutex
	keys  map[string]*entry
	byTAT tatHeap
	max   int
	_     [64]byte // keeps neighbouring shards' locks off one cache line
}

type entry struct {
	key   string
	tat   int64 // nanoseconds since Memory.epoch
	index int   // position in byTAT
}

// NewMemory returns a Memory holding at most maxKeys keys (DefaultMaxKeys if
// maxKeys < 1), on the monotonic clock, so wall-clock steps do not lock keys
// out or hand out bursts.
func NewMemory(maxKeys int) *Memory { return NewMemoryWithClock(maxKeys, time.Now) }

// NewMemoryWithClock is NewMemory reading time from now, for tests that move
// a fake clock instead of sleeping. If now goes backwards, keys in use stay
// limited for that much longer.
func NewMemoryWithClock(maxKeys int, now func() time.Time) *Memory {
	if maxKeys < 1 {
		maxKeys = DefaultMaxKeys
	}
	n := 1
	for n*2 <= maxShards && n*2*minPerShard <= maxKeys {
		n *= 2
	}
	m := &Memory{now: now, epoch: now(), seed: maphash.MakeSeed(), shards: make([]shard, n)}
	for i := range m.shards {
		// Flooring keeps the total at or under maxKeys.
		m.shards[i].max = maxKeys / n
		m.shards[i].keys = make(map[string]*entry)
	}
	return m
}

// Allow takes one event for key under r. It never blocks on I/O and fails
// only for an invalid r.
func (m *Memory) Allow(_ context.Context, key string, r Rule) (Decision, error) {
	if err := r.Validate(); err != nil {
		return unlimited, err
	}
	now := int64(m.now().Sub(m.epoch))
	interval, window := int64(r.interval()), int64(r.window())

	s := &m.shards[maphash.String(m.seed, key)&uint64(len(m.shards)-1)]
	s.mu.Lock()
	defer s.mu.Unlock()

	e := s.keys[key]
	tat := now
	if e != nil && e.tat > now {
		tat = e.tat
	}
	newTAT := tat + interval
	if newTAT-now > window {
		// Denied: state untouched, so the key's debt never grows past one
		// window and it recovers at exactly now + RetryAfter.
		return Decision{RetryAfter: time.Duration(newTAT - window - now)}, nil
	}
	if e == nil {
		s.add(key, now, newTAT)
	} else {
		e.tat = newTAT
		heap.Fix(&s.byTAT, e.index)
	}
	return Decision{Allowed: true, Remaining: int((window - (newTAT - now)) / interval)}, nil
}

// add inserts key with tat. In a full shard it first drops every key whose
// bucket is full again or, if there is none, the key nearest a full bucket.
// Sweeping only when full keeps returning keys allocation-free, and costs no
// memory: a Go map does not shrink when entries are deleted.
func (s *shard) add(key string, now, tat int64) {
	if len(s.byTAT) >= s.max {
		delete(s.keys, heap.Pop(&s.byTAT).(*entry).key)
		for len(s.byTAT) > 0 && s.byTAT[0].tat <= now {
			delete(s.keys, heap.Pop(&s.byTAT).(*entry).key)
		}
	}
	e := &entry{key: key, tat: tat}
	s.keys[key] = e
	heap.Push(&s.byTAT, e)
}

// Len reports how many keys Memory holds, for tests and metrics.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.keys)
		s.mu.Unlock()
	}
	return n
}

// tatHeap is a min-heap of entries by TAT (container/heap).
type tatHeap []*entry

func (h tatHeap) Len() int           { return len(h) }
func (h tatHeap) Less(i, j int) bool { return h[i].tat < h[j].tat }
func (h tatHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *tatHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *tatHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil // let the evicted entry be collected
	*h = old[:len(old)-1]
	return e
}

var _ Limiter = (*Memory)(nil)

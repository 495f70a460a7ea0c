package hashes

import (
	"container/list"
	"context"
	"sync"
)

// budget is a FIFO semaphore over two resources at once: bytes of memory and
// computation slots. Each computation takes its own memory cost and one
// slot. A waiter is admitted only when both fit and nobody is queued ahead of
// it, so a stream of small hashes cannot starve a large one.
type budget struct {
	maxBytes, maxSlots int64

	mu        sync.Mutex
	bytes     int64     // reserved by running computations
	slots     int64     // running computations
	peakBytes int64     // highest bytes seen
	peakSlots int64     // highest slots seen
	queue     list.List // of *waiter, oldest first

	// testHookQueued, when set (tests only), runs after a waiter is queued
	// and before it blocks.
	testHookQueued func()
}

type waiter struct {
	n     int64
	ready chan struct{} // closed when admitted
}

func newBudget(maxBytes int64, maxSlots int) *budget {
	return &budget{maxBytes: maxBytes, maxSlots: int64(maxSlots)}
}

// acquire reserves n bytes and a slot, waiting in line until both are free
// or ctx is done. n must not exceed maxBytes, or it would wait forever.
func (b *budget) acquire(ctx context.Context, n int64) error {
	b.mu.Lock()
	if err := ctx.Err(); err != nil {
		b.mu.Unlock()
		return err
	}
	if b.queue.Len() == 0 && b.fits(n) {
		b.take(n)
		b.mu.Unlock()
		return nil
	}
	w := &waiter{n: n, ready: make(chan struct{})}
	e := b.queue.PushBack(w)
	hook := b.testHookQueued
	b.mu.Unlock()
	if hook != nil {
		hook()
	}

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-w.ready:
		// Admitted as ctx ended: keep the reservation rather than undo it;
		// the caller runs one computation it no longer needs.
		return nil
	default:
	}
	front := b.queue.Front() == e
	b.queue.Remove(e)
	if front {
		// Whoever was behind us may fit now.
		b.admit()
	}
	return ctx.Err()
}

// release returns what acquire(ctx, n) reserved.
func (b *budget) release(n int64) {
	b.mu.Lock()
	b.bytes -= n
	b.slots--
	b.admit()
	b.mu.Unlock()
}

func (b *budget) fits(n int64) bool {
	return b.slots < b.maxSlots && b.bytes+n <= b.maxBytes
}

func (b *budget) take(n int64) {
	b.bytes += n
	b.slots++
	b.peakBytes = max(b.peakBytes, b.bytes)
	b.peakSlots = max(b.peakSlots, b.slots)
}

// admit lets in waiters from the front of the queue while they fit; it stops
// at the first that does not, which keeps the order fair.
func (b *budget) admit() {
	for e := b.queue.Front(); e != nil; e = b.queue.Front() {
		w := e.Value.(*waiter)
		if !b.fits(w.n) {
			return
		}
		b.take(w.n)
		b.queue.Remove(e)
		close(w.ready)
	}
}

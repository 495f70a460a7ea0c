package hashes

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestConcurrencyBounded(t *testing.T) {
	const limit, calls = 2, 50
	h := NewHasher(testParams, limit)

	// Count independently of the package's own counter: the hook runs while a
	// slot is held, and sleeps so that holders overlap if the bound allows.
	var cur, max atomic.Int64
	h.testHookHeld = func() {
		n := cur.Add(1)
		for {
			m := max.Load()
			if n <= m || max.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		cur.Add(-1)
	}

	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%5 == 0 {
				ok, _, err := h.Verify(context.Background(), "$latch-md5$$$2ab96390c7dbe3439de74d0c9b0b1767", "hunter2")
				if err == nil && !ok {
					err = errors.New("verify failed")
				}
				errs <- err
				return
			}
			_, err := h.Hash(context.Background(), "pw")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := max.Load(); got != limit {
		t.Errorf("hook saw at most %d concurrent holders; want exactly %d", got, limit)
	}
	if got := h.peak.Load(); got > limit || got < 1 {
		t.Errorf("package peak in-flight = %d; want 1..%d", got, limit)
	}
	if h.InFlight() != 0 {
		t.Errorf("InFlight after all calls = %d; want 0", h.InFlight())
	}
}

func TestContextCancelWhileWaiting(t *testing.T) {
	h := NewHasher(testParams, 1)
	// Occupy the only slot.
	if err := h.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	if s, err := h.Hash(ctx, "pw"); !errors.Is(err, context.Canceled) || s != "" {
		t.Fatalf("Hash while waiting, ctx cancelled = %q, %v; want \"\", context.Canceled", s, err)
	}
	if time.Since(start) < 15*time.Millisecond {
		t.Error("Hash returned before ctx was cancelled")
	}

	dctx, dcancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer dcancel()
	stored := "$latch-md5$$$2ab96390c7dbe3439de74d0c9b0b1767"
	if ok, _, err := h.Verify(dctx, stored, "hunter2"); !errors.Is(err, context.DeadlineExceeded) || ok {
		t.Fatalf("Verify while waiting, deadline passed = %v, %v; want false, context.DeadlineExceeded", ok, err)
	}

	// An already-cancelled context fails at once, even with a free slot.
	h.release()
	done, c := context.WithCancel(context.Background())
	c()
	if _, err := h.Hash(done, "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash with cancelled ctx = %v; want context.Canceled", err)
	}
	// With the slot free again, work proceeds.
	if ok, _, err := h.Verify(context.Background(), stored, "hunter2"); err != nil || !ok {
		t.Fatalf("Verify after release = %v, %v", ok, err)
	}
	if h.InFlight() != 0 {
		t.Errorf("InFlight = %d; want 0", h.InFlight())
	}
}

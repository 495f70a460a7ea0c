package hashes

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// barrier makes the first n callers wait until all n have arrived, so a test
// knows n computations were running at once without sleeping. Later callers
// pass straight through. If n never arrive the bound is broken the other way
// (too strict), and the wait gives up with an error rather than hanging.
func barrier(t *testing.T, n int64) func() {
	var arrived atomic.Int64
	all := make(chan struct{})
	return func() {
		if arrived.Add(1) == n {
			close(all)
		}
		select {
		case <-all:
		case <-time.After(30 * time.Second):
			t.Errorf("%d computations never ran at once", n)
		}
	}
}

func TestConcurrencyBounded(t *testing.T) {
	const limit, calls = 2, 50
	h := newHasher(t, testParams, limit)
	h.testHookHeld = barrier(t, limit)

	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for i := range calls {
		wg.Go(func() {
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
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if st := h.Stats(); st.PeakInFlight != limit || st.InFlight != 0 || st.InFlightBytes != 0 || st.Queued != 0 {
		t.Errorf("Stats after all calls = %+v; want PeakInFlight %d and nothing in flight or queued", st, limit)
	}
}

// TestFiveHundredConcurrentLogins is the burst: 500 logins at once
// against one argon2id hash, under a budget that holds only four of them.
// The parameters are cheaper than DefaultParams so the test stays fast under
// -race (500 default-cost hashes take a minute there); the bound does not
// depend on the size, and TestDefaultParamsWithinBudget repeats it at
// DefaultParams.
func TestFiveHundredConcurrentLogins(t *testing.T) {
	p := Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}
	const fit, logins = 4, 500
	budget := fit * p.MemoryCost()
	h, err := NewHasher(p, Limits{MemoryBytes: budget, MaxConcurrent: 64})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stored, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	h.testHookHeld = barrier(t, fit)

	var verified, failed atomic.Int64
	var wg sync.WaitGroup
	for range logins {
		wg.Go(func() {
			ok, rehash, err := h.Verify(ctx, stored, "correct horse battery staple")
			if err != nil || !ok || rehash {
				t.Errorf("Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
				failed.Add(1)
				return
			}
			verified.Add(1)
		})
	}
	wg.Wait()
	if verified.Load() != logins || failed.Load() != 0 {
		t.Fatalf("%d of %d logins verified, %d failed", verified.Load(), logins, failed.Load())
	}
	st := h.Stats()
	if st.PeakBytes > budget || st.PeakBytes <= 0 {
		t.Errorf("peak in-flight memory %d bytes; want 1..%d (the budget)", st.PeakBytes, budget)
	}
	// The barrier held four at once, and a fifth never fits.
	if st.PeakBytes != budget || st.PeakInFlight != fit {
		t.Errorf("peak %d bytes in %d computations; want exactly %d in %d", st.PeakBytes, st.PeakInFlight, budget, fit)
	}
	if st.InFlight != 0 || st.InFlightBytes != 0 || st.Queued != 0 {
		t.Errorf("after the burst: %+v; want nothing in flight or queued", st)
	}
}

func TestDefaultParamsWithinBudget(t *testing.T) {
	const fit, logins = 2, 12
	budget := fit*DefaultParams.MemoryCost() + DefaultParams.MemoryCost()/2 // room for 2.5
	h, err := NewHasher(DefaultParams, Limits{MemoryBytes: budget, MaxConcurrent: 8})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stored, err := h.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	h.testHookHeld = barrier(t, fit)
	var wg sync.WaitGroup
	for range logins {
		wg.Go(func() {
			if ok, _, err := h.Verify(ctx, stored, "pw"); err != nil || !ok {
				t.Errorf("Verify = %v, %v", ok, err)
			}
		})
	}
	wg.Wait()
	if st := h.Stats(); st.PeakBytes != fit*DefaultParams.MemoryCost() || st.PeakInFlight != fit {
		t.Errorf("peak %d bytes in %d computations; want %d in %d (budget %d)",
			st.PeakBytes, st.PeakInFlight, fit*DefaultParams.MemoryCost(), fit, budget)
	}
}

// TestOverBudgetRefused: a stored hash costlier than the whole budget is
// refused at once; queueing it would wait forever.
func TestOverBudgetRefused(t *testing.T) {
	h, err := NewHasher(testParams, Limits{MemoryBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, s := range []string{
		"$argon2id$v=19$m=65536,t=1,p=1$c29tZXNhbHQ$c29tZXNhbHQ", // 64 MiB + argon2's buffers
		"$argon2i$v=19$m=1048576,t=1,p=1$c29tZXNhbHQ$c29tZXNhbHQ",
		"$scrypt$ln=16,r=8,p=1$c2FsdA$c2FsdA", // 64 MiB + scrypt's B and XY
	} {
		ok, rehash, err := h.Verify(ctx, s, "pw")
		if !errors.Is(err, ErrOverBudget) || ok || rehash {
			t.Errorf("Verify(%s) = %v, %v, %v; want ErrOverBudget", s, ok, rehash, err)
		}
	}
	// Just inside the budget still verifies (to false: the key is made up).
	if ok, _, err := h.Verify(ctx, "$argon2id$v=19$m=65000,t=1,p=1$c29tZXNhbHQ$c29tZXNhbHQ", "pw"); err != nil || ok {
		t.Errorf("Verify(65000 KiB argon2id) = %v, %v; want false, nil", ok, err)
	}
	if st := h.Stats(); st.PeakBytes > 64<<20 || st.InFlight != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestHasherNormalizeRefusesOverBudget(t *testing.T) {
	h, err := NewHasher(DefaultParams, Limits{MemoryBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		m    Migration
		typ  string // "" when accepted
	}{
		{"argon2 PHC over budget", Migration{HashType: HashTypeArgon2id,
			Hash: "$argon2id$v=19$m=131072,t=1,p=1$c29tZXNhbHQ$c29tZXNhbHRzb21lc2FsdA"}, TypeInvalidArgon2Config},
		{"argon2 config over budget", Migration{HashType: HashTypeArgon2i, Hash: "c29tZXNhbHRzb21lc2FsdA",
			Argon2: &Argon2Config{Salt: "somesalt", IterationAmount: 1, Memory: 1 << 20, Threads: 1, KeyLength: 16}}, TypeInvalidArgon2Config},
		{"scrypt over budget", Migration{HashType: HashTypeScrypt, Hash: "c29tZXNhbHRzb21lc2FsdA",
			Scrypt: &ScryptConfig{Salt: "c2FsdA", N: 1 << 17, R: 8, P: 1, KeyLength: 16}}, TypeInvalidScryptConfig},
		{"argon2 within budget", Migration{HashType: HashTypeArgon2id,
			Hash: "$argon2id$v=19$m=32768,t=1,p=1$c29tZXNhbHQ$c29tZXNhbHRzb21lc2FsdA"}, ""},
		{"scrypt within budget", Migration{HashType: HashTypeScrypt, Hash: "c29tZXNhbHRzb21lc2FsdA",
			Scrypt: &ScryptConfig{Salt: "c2FsdA", N: 1 << 14, R: 8, P: 1, KeyLength: 16}}, ""},
		{"md5 always small", Migration{HashType: HashTypeMD5, Hash: "2ab96390c7dbe3439de74d0c9b0b1767"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.Normalize(tc.m)
			want, wantErr := Normalize(tc.m)
			if wantErr != nil {
				t.Fatalf("package Normalize refused it: %v", wantErr)
			}
			if tc.typ == "" {
				if err != nil || got != want {
					t.Fatalf("Hasher.Normalize = %q, %v; want %q", got, err, want)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Type != tc.typ || got != "" {
				t.Fatalf("Hasher.Normalize = %q, %v; want *Error %s", got, err, tc.typ)
			}
		})
	}
	// Its other errors are Normalize's.
	if _, err := h.Normalize(Migration{HashType: "rot13", Hash: "x"}); !errors.Is(err, &Error{Type: TypeInvalidHashType}) {
		t.Errorf("unknown hash_type: %v", err)
	}
}

// TestBudgetFIFO: a large waiter at the head of the line is not overtaken by
// smaller ones that would fit, and when it gives up the next one moves up.
func TestBudgetFIFO(t *testing.T) {
	b := newBudget(2, 8)
	queued := make(chan struct{}, 8)
	b.testHookQueued = func() { queued <- struct{}{} }
	ctx := context.Background()
	if err := b.acquire(ctx, 1); err != nil { // one unit held
		t.Fatal(err)
	}

	bigCtx, cancelBig := context.WithCancel(ctx)
	bigDone := make(chan error, 1)
	go func() { bigDone <- b.acquire(bigCtx, 2) }()
	<-queued
	smallDone := make(chan error, 1)
	go func() { smallDone <- b.acquire(ctx, 1) }()
	<-queued // one unit is free, but small waits behind big

	b.mu.Lock()
	held, waiting := b.bytes, b.queue.Len()
	b.mu.Unlock()
	if held != 1 || waiting != 2 {
		t.Fatalf("held %d, queued %d; want 1 held and both waiting", held, waiting)
	}

	// big gives up: small, now first, fits and is admitted.
	cancelBig()
	if err := <-bigDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v; want context.Canceled", err)
	}
	if err := <-smallDone; err != nil {
		t.Fatalf("small waiter: %v", err)
	}
	if st := (&Hasher{budget: b}).Stats(); st.InFlightBytes != 2 || st.InFlight != 2 || st.Queued != 0 {
		t.Fatalf("after cancel: %+v; want 2 bytes in 2 computations, none queued", st)
	}

	// big again, queued behind nothing but a full budget; admitted once both
	// units are back, and not before.
	bigDone2 := make(chan error, 1)
	go func() { bigDone2 <- b.acquire(ctx, 2) }()
	<-queued
	b.release(1)
	select {
	case err := <-bigDone2:
		t.Fatalf("big admitted with one unit free: %v", err)
	default:
	}
	b.release(1)
	if err := <-bigDone2; err != nil {
		t.Fatal(err)
	}
	b.release(2)
	if st := (&Hasher{budget: b}).Stats(); st.InFlightBytes != 0 || st.PeakBytes != 2 || st.PeakInFlight != 2 {
		t.Errorf("final: %+v", st)
	}
}

func TestContextCancelWhileWaiting(t *testing.T) {
	h := newHasher(t, testParams, 1)
	queued := make(chan struct{}, 4)
	h.budget.testHookQueued = func() { queued <- struct{}{} }
	// Occupy the only slot.
	if err := h.acquire(context.Background(), smallCost); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		s, err := h.Hash(ctx, "pw")
		if s != "" {
			err = errors.New("Hash returned a hash while the slot was taken")
		}
		done <- err
	}()
	<-queued // Hash is waiting in line
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash while waiting, ctx cancelled = %v; want context.Canceled", err)
	}

	dctx, dcancel := context.WithDeadline(context.Background(), time.Now())
	defer dcancel()
	stored := "$latch-md5$$$2ab96390c7dbe3439de74d0c9b0b1767"
	if ok, _, err := h.Verify(dctx, stored, "hunter2"); !errors.Is(err, context.DeadlineExceeded) || ok {
		t.Fatalf("Verify with deadline passed = %v, %v; want false, context.DeadlineExceeded", ok, err)
	}

	// An already-cancelled context fails at once, even with a free slot.
	h.release(smallCost)
	c, cc := context.WithCancel(context.Background())
	cc()
	if _, err := h.Hash(c, "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash with cancelled ctx = %v; want context.Canceled", err)
	}
	// With the slot free again, work proceeds.
	if ok, _, err := h.Verify(context.Background(), stored, "hunter2"); err != nil || !ok {
		t.Fatalf("Verify after release = %v, %v", ok, err)
	}
	if st := h.Stats(); st.InFlight != 0 || st.Queued != 0 {
		t.Errorf("Stats = %+v; want nothing in flight or queued", st)
	}
}

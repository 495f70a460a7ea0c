package ratelimit

import (
	"context"
	"strings"
	"testing"
	"time"
)

// harness is one Limiter under test. advance moves the limiter's clock; it is
// nil when the clock cannot be moved (a real Redis), and subtests that need
// it skip. slack is how much real time may pass between calls, by which a
// RetryAfter may fall short of its exact value.
type harness struct {
	l       Limiter
	advance func(time.Duration)
	slack   time.Duration
}

// testLimiter is the conformance suite every Limiter passes; each subtest
// gets a fresh harness from newHarness.
func testLimiter(t *testing.T, newHarness func(t *testing.T) harness) {
	ctx := context.Background()

	allow := func(t *testing.T, l Limiter, key string, r Rule) Decision {
		t.Helper()
		d, err := l.Allow(ctx, key, r)
		if err != nil {
			t.Fatalf("Allow(%q, %v): %v", key, r, err)
		}
		return d
	}
	// takeAll takes events until the first denial, checking Remaining counts
	// down to 0, and returns the denial.
	takeAll := func(t *testing.T, l Limiter, key string, r Rule, want int) Decision {
		t.Helper()
		for i := range want {
			d := allow(t, l, key, r)
			if !d.Allowed || d.Remaining != want-1-i || d.RetryAfter != 0 {
				t.Fatalf("event %d: got %+v, want allowed with Remaining %d", i+1, d, want-1-i)
			}
		}
		d := allow(t, l, key, r)
		if d.Allowed || d.Remaining != 0 {
			t.Fatalf("event %d: got %+v, want denied", want+1, d)
		}
		return d
	}
	retryNear := func(t *testing.T, h harness, got, want time.Duration) {
		t.Helper()
		if got > want || got <= want-h.slack-time.Nanosecond {
			t.Fatalf("RetryAfter = %v, want %v (less at most %v of elapsed time)", got, want, h.slack)
		}
	}

	t.Run("burst then one per interval", func(t *testing.T) {
		h := newHarness(t)
		r := Rule{Limit: 4, Period: time.Minute, Burst: 2} // interval 15s
		d := takeAll(t, h.l, "k", r, 2)
		retryNear(t, h, d.RetryAfter, 15*time.Second)
	})

	t.Run("burst defaults to limit", func(t *testing.T) {
		h := newHarness(t)
		d := takeAll(t, h.l, "k", Rule{Limit: 3, Period: time.Minute}, 3)
		retryNear(t, h, d.RetryAfter, 20*time.Second)
	})

	t.Run("keys are independent", func(t *testing.T) {
		h := newHarness(t)
		r := Rule{Limit: 2, Period: time.Minute}
		takeAll(t, h.l, "a", r, 2)
		takeAll(t, h.l, "b", r, 2)
	})

	t.Run("denials do not push recovery out", func(t *testing.T) {
		h := newHarness(t)
		r := Rule{Limit: 2, Period: time.Minute} // interval 30s
		first := takeAll(t, h.l, "k", r, 2)
		var last Decision
		for range 100 {
			last = allow(t, h.l, "k", r)
		}
		if last.Allowed || last.RetryAfter > first.RetryAfter {
			t.Fatalf("after 100 denials got %+v; the first denial said RetryAfter %v", last, first.RetryAfter)
		}
		if h.advance == nil {
			return
		}
		h.advance(first.RetryAfter)
		if d := allow(t, h.l, "k", r); !d.Allowed || d.Remaining != 0 {
			t.Fatalf("RetryAfter after a flood of denials: got %+v, want allowed with Remaining 0", d)
		}
	})

	t.Run("refill", func(t *testing.T) {
		h := newHarness(t)
		if h.advance == nil {
			t.Skip("clock cannot be moved")
		}
		r := Rule{Limit: 10, Period: time.Hour, Burst: 5} // interval 6m
		takeAll(t, h.l, "k", r, 5)

		h.advance(2 * time.Minute)
		d := allow(t, h.l, "k", r)
		if d.Allowed || d.RetryAfter != 4*time.Minute {
			t.Fatalf("2m into a 6m interval: got %+v, want denied with RetryAfter 4m", d)
		}
		h.advance(4 * time.Minute)
		if d := allow(t, h.l, "k", r); !d.Allowed || d.Remaining != 0 {
			t.Fatalf("after one interval: got %+v, want allowed with Remaining 0", d)
		}
		// A long rest refills to Burst and no further.
		h.advance(24 * time.Hour)
		takeAll(t, h.l, "k", r, 5)
	})

	t.Run("steady rate under constant pressure", func(t *testing.T) {
		h := newHarness(t)
		if h.advance == nil {
			t.Skip("clock cannot be moved")
		}
		r := Rule{Limit: 60, Period: time.Minute, Burst: 1} // one a second
		allowed := 0
		for range 1000 { // ten minutes of ten attempts a second
			if allow(t, h.l, "k", r).Allowed {
				allowed++
			}
			h.advance(100 * time.Millisecond)
		}
		if allowed != 100 {
			t.Fatalf("allowed %d events in 100s at one a second, want 100", allowed)
		}
	})

	t.Run("invalid rule fails open", func(t *testing.T) {
		h := newHarness(t)
		d, err := h.l.Allow(ctx, "k", Rule{Limit: 0, Period: time.Minute})
		if err == nil || !strings.Contains(err.Error(), "limit") {
			t.Fatalf("err = %v, want one naming limit", err)
		}
		if d != unlimited {
			t.Fatalf("Decision = %+v, want %+v so callers fail open", d, unlimited)
		}
	})
}

func TestOff(t *testing.T) {
	for range 1000 {
		d, err := Off().Allow(context.Background(), "k", Rule{Limit: 1, Period: time.Hour})
		if err != nil || d != (Decision{Allowed: true, Remaining: -1}) {
			t.Fatalf("Off().Allow = %+v, %v", d, err)
		}
	}
}

func TestRuleValidate(t *testing.T) {
	tests := []struct {
		rule Rule
		want string // substring of the error; "" for valid
	}{
		{Rule{Limit: 1, Period: time.Nanosecond * 1000}, ""},
		{Rule{Limit: 10, Period: time.Hour, Burst: 500}, ""},
		{Rule{Limit: 0, Period: time.Hour}, "limit: must be at least 1"},
		{Rule{Limit: -1, Period: time.Hour}, "limit: must be at least 1"},
		{Rule{Limit: 1, Period: 0}, "period: must be positive"},
		{Rule{Limit: 1, Period: -time.Hour}, "period: must be positive"},
		{Rule{Limit: 1, Period: time.Hour, Burst: -1}, "burst: must not be negative"},
		{Rule{Limit: 1001, Period: time.Millisecond}, "limit: must allow at most one event per microsecond"},
		{Rule{Limit: 1, Period: 1000 * time.Hour, Burst: 1 << 30}, "burst: burst x period / limit is too long"},
	}
	for _, tt := range tests {
		err := tt.rule.Validate()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v.Validate() = %v, want %q", tt.rule, err, tt.want)
		}
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want int
	}{{0, 0}, {time.Nanosecond, 1}, {time.Second, 1}, {time.Second + time.Millisecond, 2}, {6 * time.Minute, 360}} {
		if got := (Decision{RetryAfter: tt.d}).RetryAfterSeconds(); got != tt.want {
			t.Errorf("RetryAfterSeconds(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
}

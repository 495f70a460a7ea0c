package ratelimit

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Rule allows at most Limit events per Period on average, with bursts of up
// to Burst events at once. Burst 0 means Burst = Limit.
//
// The zero Rule means "no limit": Policy skips it, Limiters reject it.
type Rule struct {
	Limit  int
	Period time.Duration
	Burst  int
}

// IsZero reports whether r is the zero Rule, which Policy treats as no limit.
func (r Rule) IsZero() bool { return r == Rule{} }

func (r Rule) String() string {
	if r.IsZero() {
		return "unlimited"
	}
	return fmt.Sprintf("%d per %s (burst %d)", r.Limit, r.Period, r.burst())
}

func (r Rule) burst() int {
	if r.Burst == 0 {
		return r.Limit
	}
	return r.Burst
}

// interval is the GCRA emission interval: one event's worth of time.
func (r Rule) interval() time.Duration { return r.Period / time.Duration(r.Limit) }

// window is the GCRA burst tolerance: Burst events' worth of time.
func (r Rule) window() time.Duration { return r.interval() * time.Duration(r.burst()) }

// Faster than one event per microsecond is not a rate limit but a typo, and
// an emission interval that small loses precision in redis_rate's float
// seconds.
const minInterval = time.Microsecond

// Keeps now + window + interval far from int64 overflow in Memory (~73 years).
const maxWindow = time.Duration(math.MaxInt64 / 4)

// Validate reports the first field of r that is out of range, naming it as
// the JSON overrides do (limit, period, burst).
func (r Rule) Validate() error {
	field, problem := r.check()
	if field == "" {
		return nil
	}
	return fmt.Errorf("%s: %s", field, problem)
}

func (r Rule) check() (field, problem string) {
	switch {
	case r.Limit < 1:
		return "limit", "must be at least 1"
	case r.Period <= 0:
		return "period", "must be positive"
	case r.Burst < 0:
		return "burst", "must not be negative"
	case r.interval() < minInterval:
		return "limit", "must allow at most one event per microsecond of period"
	case time.Duration(r.burst()) > maxWindow/r.interval():
		return "burst", "burst x period / limit is too long"
	}
	return "", ""
}

// Decision is the outcome of one Allow or Check.
type Decision struct {
	Allowed bool
	// Remaining is how many more events the tightest rule would allow right
	// now; 0 when denied, -1 when no rule applied (Off, or a class without
	// rules).
	Remaining int
	// RetryAfter is how long until one event would be allowed; 0 when allowed.
	RetryAfter time.Duration
}

// RetryAfterSeconds is RetryAfter for an HTTP Retry-After header: whole
// seconds, rounded up so a client that obeys it is not denied again.
func (d Decision) RetryAfterSeconds() int {
	return int((d.RetryAfter + time.Second - 1) / time.Second)
}

// unlimited is the Decision when nothing limits: also what errors return, so
// that a caller that only logs the error fails open.
var unlimited = Decision{Allowed: true, Remaining: -1}

// Limiter takes events against per-key budgets.
//
// Implementations must be safe for concurrent use, must not change a key's
// state when they deny (so a hammered key recovers RetryAfter later, not
// later still), and on error must return the error with an allowing Decision
// (Allowed true, Remaining -1): callers fail open and log.
type Limiter interface {
	// Allow takes one event for key under r. An invalid r is an error.
	Allow(ctx context.Context, key string, r Rule) (Decision, error)
}

// Off returns a Limiter that allows everything, for --rate-limits=off.
func Off() Limiter { return off{} }

type off struct{}

func (off) Allow(context.Context, string, Rule) (Decision, error) { return unlimited, nil }

var _ Limiter = off{}

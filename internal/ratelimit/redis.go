package ratelimit

import (
	"context"
	"fmt"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Redis is a GCRA limiter whose state lives in Redis, so every replica draws
// from one budget. The algorithm runs in one Lua script per call
// (go-redis/redis_rate), atomic on the server and timed by the server's
// clock, so replicas' clock skew does not matter. A key expires by itself
// once its bucket is full again, so Redis holds only active keys.
//
// Calls go to Redis on the request path: give the client short dial, read
// and write timeouts (or ContextTimeoutEnabled with request deadlines), so a
// sick Redis costs milliseconds, not the default seconds.
type Redis struct {
	rl     *redis_rate.Limiter
	prefix string
}

// NewRedis returns a Limiter on c whose keys are "rate:" + prefix + key
// (redis_rate adds "rate:"). Give each deployment sharing a Redis its own
// prefix, such as "latch:".
func NewRedis(c redis.UniversalClient, prefix string) *Redis {
	return &Redis{rl: redis_rate.NewLimiter(c), prefix: prefix}
}

// Allow takes one event for key under r. A Redis failure returns the error
// with an allowing Decision: callers fail open and log, because rate limiting
// is a defence in depth and must not take sign-in down with it.
func (l *Redis) Allow(ctx context.Context, key string, r Rule) (Decision, error) {
	if err := r.Validate(); err != nil {
		return unlimited, err
	}
	res, err := l.rl.Allow(ctx, l.prefix+key, redis_rate.Limit{Rate: r.Limit, Burst: r.burst(), Period: r.Period})
	if err != nil {
		return unlimited, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if res.Allowed == 0 {
		// redis_rate, like Memory, writes nothing when it denies.
		return Decision{RetryAfter: res.RetryAfter}, nil
	}
	return Decision{Allowed: true, Remaining: res.Remaining}, nil
}

var _ Limiter = (*Redis)(nil)

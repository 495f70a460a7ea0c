package ratelimit

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// testRedis connects to the Redis at LATCH_TEST_REDIS_URL, skipping the test
// when it is unset (CI sets it). It returns a prefix unique to this test,
// whose keys are deleted when the test ends.
func testRedis(tb testing.TB) (*redis.Client, string) {
	tb.Helper()
	c := newRedisClient(tb, redisURL(tb))
	prefix := "latchtest:" + rand.Text() + ":"
	tb.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, "rate:"+prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			tb.Errorf("cleaning up %s*: %v", prefix, err)
		}
	})
	return c, prefix
}

func redisURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv("LATCH_TEST_REDIS_URL")
	if url == "" {
		tb.Skip("LATCH_TEST_REDIS_URL is unset; set it to test against a real Redis, e.g. redis://127.0.0.1:6379/0")
	}
	return url
}

func newRedisClient(tb testing.TB, url string) *redis.Client {
	tb.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		tb.Fatalf("LATCH_TEST_REDIS_URL: %v", err)
	}
	c := redis.NewClient(opt)
	tb.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		tb.Fatalf("LATCH_TEST_REDIS_URL is set but Redis does not answer: %v", err)
	}
	return c
}

func TestRedis(t *testing.T) {
	redisURL(t) // skip once here, not in every subtest
	testLimiter(t, func(t *testing.T) harness {
		c, prefix := testRedis(t)
		// Redis's clock runs on between calls; a second is ample.
		return harness{l: NewRedis(c, prefix), slack: time.Second}
	})
}

func TestRedisReplicasShareOneBudget(t *testing.T) {
	c1, prefix := testRedis(t)
	c2 := newRedisClient(t, redisURL(t)) // a second replica's own pool
	replicas := []*Redis{NewRedis(c1, prefix), NewRedis(c2, prefix)}
	r := Rule{Limit: 5, Period: time.Minute}
	allowed := 0
	for i := range 20 {
		d, err := replicas[i%2].Allow(context.Background(), "proj:send:p", r)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed {
			allowed++
		} else if d.RetryAfter <= 0 || d.RetryAfter > r.Period {
			t.Fatalf("denied with RetryAfter %v, want within (0, %v]", d.RetryAfter, r.Period)
		}
	}
	if allowed != r.Limit {
		t.Fatalf("two replicas allowed %d events between them, want %d", allowed, r.Limit)
	}
}

func TestRedisKeys(t *testing.T) {
	c, prefix := testRedis(t)
	ctx := context.Background()
	l := NewRedis(c, prefix)
	r := Rule{Limit: 2, Period: 10 * time.Second}
	l.Allow(ctx, "k", r)
	l.Allow(ctx, "k", r)
	key := "rate:" + prefix + "k" // redis_rate adds "rate:"
	before, err := c.Get(ctx, key).Result()
	if err != nil {
		t.Fatalf("GET %s: %v", key, err)
	}
	// The key lives only until its bucket is full again: 10s here.
	if ttl := c.TTL(ctx, key).Val(); ttl <= 0 || ttl > r.Period {
		t.Fatalf("TTL = %v, want within (0, %v]", ttl, r.Period)
	}
	for range 50 {
		if d, _ := l.Allow(ctx, "k", r); d.Allowed {
			t.Fatal("allowed past the limit")
		}
	}
	if after := c.Get(ctx, key).Val(); after != before {
		t.Fatalf("denials rewrote the key: %s, then %s", before, after)
	}
}

func TestRedisDownFailsOpen(t *testing.T) {
	// A port where nothing listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	defer c.Close()

	d, err := NewRedis(c, "x:").Allow(context.Background(), "k", Rule{Limit: 1, Period: time.Second})
	if err == nil || !strings.HasPrefix(err.Error(), "ratelimit: redis: ") {
		t.Fatalf("err = %v, want a ratelimit: redis: error", err)
	}
	if d != unlimited {
		t.Fatalf("Decision = %+v, want %+v so callers fail open", d, unlimited)
	}
}

// TestMiniredis runs the suite on miniredis, whose clock can be moved, so the
// refill tests run against the real Lua script too.
func TestMiniredis(t *testing.T) {
	probe := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: probe.Addr()})
	defer c.Close()
	if _, err := NewRedis(c, "").Allow(context.Background(), "probe", Rule{Limit: 1, Period: time.Second}); err != nil {
		t.Skipf("redis_rate's Lua does not run on miniredis: %v", err)
	}

	testLimiter(t, func(t *testing.T) harness {
		mr := miniredis.RunT(t)
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		mr.SetTime(now)
		c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		t.Cleanup(func() { c.Close() })
		return harness{l: NewRedis(c, "latch:"), advance: func(d time.Duration) {
			now = now.Add(d)
			mr.SetTime(now)   // what TIME returns to the script
			mr.FastForward(d) // what expires keys
		}}
	})
}

func BenchmarkRedisAllow(b *testing.B) {
	c, prefix := testRedis(b)
	l := NewRedis(c, prefix)
	r := Rule{Limit: 1000, Period: time.Second}
	b.Run("serial", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := l.Allow(context.Background(), fmt.Sprint("k", i%1000), r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		var next atomic.Uint64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := l.Allow(context.Background(), fmt.Sprint("k", next.Add(1)%1000), r); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

package limits

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/httpx"
	"github.com/latchhq/latch/internal/ratelimit"
	"github.com/latchhq/latch/internal/tenant"
	"github.com/redis/go-redis/v9"
)

// replica is one server's view: a guard in front of a handler that counts
// what gets through.
type replica struct {
	h       http.Handler
	reached *int
}

func newReplica(l ratelimit.Limiter, overrides string) replica {
	n := 0
	g := &Guard{Policy: ratelimit.DefaultPolicy(), Limiter: l, Clock: clock.System{}, Log: slog.New(slog.DiscardHandler), RefreshEvery: time.Minute,
		Overrides: func(context.Context, string) (ratelimit.Overrides, error) {
			return ratelimit.ParseOverrides([]byte(overrides))
		}}
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Email string }
		if err := httpx.Decode(r, &body); err != nil || body.Email == "" {
			http.Error(w, "the body did not reach the handler intact", 500)
			return
		}
		n++
		w.WriteHeader(200)
	})
	return replica{h: g.Wrap(Route{Class: ratelimit.Send, Fields: []string{"email"}}, inner), reached: &n}
}

func (r replica) send(project, email string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/v1/magic_links/email/send", strings.NewReader(`{"email":"`+email+`"}`))
	req = req.WithContext(tenant.With(req.Context(), tenant.Project{ID: project}))
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, req)
	return rec
}

func TestReplicasShareOneBudgetThroughRedis(t *testing.T) {
	url := os.Getenv("LATCH_TEST_REDIS_URL")
	if url == "" {
		t.Skip("LATCH_TEST_REDIS_URL is not set (CI sets it to the local Redis)")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	// Two clients, as two processes would have.
	c1, c2 := redis.NewClient(opt), redis.NewClient(opt)
	defer c1.Close()
	defer c2.Close()
	prefix := "latch-test-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	t.Cleanup(func() {
		keys, _ := c1.Keys(context.Background(), "*"+prefix+"*").Result()
		if len(keys) > 0 {
			c1.Del(context.Background(), keys...)
		}
	})
	overrides := `{"send":{"per_identifier":{"limit":4,"period":"1h"}}}`
	a, b := newReplica(ratelimit.NewRedis(c1, prefix), overrides), newReplica(ratelimit.NewRedis(c2, prefix), overrides)
	const project = "project-test-00000000-0000-0000-0000-000000000001"
	for i, r := range []replica{a, b, a, b} {
		if rec := r.send(project, "Ada@Example.com"); rec.Code != 200 {
			t.Fatalf("send %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	for _, r := range []replica{a, b} {
		rec := r.send(project, "ada@example.com")
		if rec.Code != 429 || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), `"error_type":"too_many_requests"`) {
			t.Fatalf("fifth send across replicas: %d %s", rec.Code, rec.Body)
		}
	}
	if *a.reached+*b.reached != 4 {
		t.Fatalf("handlers reached %d times, want 4", *a.reached+*b.reached)
	}
}

func TestRedisDownFailsOpen(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	r := newReplica(ratelimit.NewRedis(c, "x:"), `{"send":{"per_identifier":{"limit":1,"period":"1h"}}}`)
	for i := 0; i < 3; i++ {
		if rec := r.send("project-test-1", "ada@example.com"); rec.Code != 200 {
			t.Fatalf("send %d with Redis down: %d %s", i, rec.Code, rec.Body)
		}
	}
}

func TestIdentifiersNormaliseAndReadAttributes(t *testing.T) {
	ids, ip := identifiers([]byte(`{"email":" Ada@EXAMPLE.com ","phone_number":"+1 (415) 555-2671","attributes":{"ip_address":"203.0.113.7"}}`),
		[]string{"email", "phone_number", "user_id"})
	if strings.Join(ids, ",") != "email:ada@example.com,phone_number:+14155552671" || ip != "203.0.113.7" {
		t.Fatalf("ids %v ip %q", ids, ip)
	}
	if ids, ip := identifiers([]byte(`[1,2]`), []string{"email"}); ids != nil || ip != "" {
		t.Fatalf("non-object body gave %v %q", ids, ip)
	}
	if _, ip := identifiers([]byte(`{"attributes":{"ip_address":"not an ip"}}`), nil); ip != "" {
		t.Fatalf("bad ip accepted: %q", ip)
	}
}

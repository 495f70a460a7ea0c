package main

// Rate limits as an operator configures them: off (by flag or environment,
// said loudly at start-up), and shared across replicas through Redis.

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// logRecords returns the JSON log records of p whose msg contains substr.
func logRecords(t *testing.T, p *latchProc, substr string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(p.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(string(b), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if msg, _ := rec["msg"].(string); strings.Contains(msg, substr) {
			out = append(out, rec)
		}
	}
	return out
}

// The default send rule allows a burst of 5 to one recipient; with limits
// off, far more go through, and the server said so at start-up.
func TestRateLimitsOff(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		args []string
	}{
		{"flag", nil, []string{"--rate-limits=off"}},
		{"environment", []string{"LATCH_RATE_LIMITS=off"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			srv := startLatch(t, dir, tc.env, tc.args...)
			warn := logRecords(t, srv, "RATE LIMITS ARE OFF")
			if len(warn) != 1 || warn[0]["level"] != "WARN" {
				t.Fatalf("start-up log has %d rate-limits-off warnings, want 1 at WARN: %v", len(warn), warn)
			}
			if on := logRecords(t, srv, "rate limits on"); len(on) != 0 {
				t.Errorf("the log also says rate limits are on: %v", on)
			}
			project, secret := devCredentials(t, dir)
			c := newAPIClient(t, project, secret, dir)
			for range 12 {
				c.must(t, srv.URL, "POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": "unlimited@example.com"}, 200)
			}
		})
	}
}

// Two `latch serve` processes on one data directory share their budgets
// through Redis: the default burst of 5 sends to one recipient is spent
// across both, and then each refuses. Apart, each would allow 5.
func TestRateLimitsSharedThroughRedis(t *testing.T) {
	redisURL := os.Getenv("LATCH_TEST_REDIS_URL")
	if redisURL == "" {
		t.Skip("LATCH_TEST_REDIS_URL is not set")
	}
	dir := t.TempDir()
	a := startLatch(t, dir, nil, "--redis-url", redisURL)
	b := startLatch(t, dir, nil, "--redis-url", redisURL) // finds the project a made
	for _, p := range []*latchProc{a, b} {
		if len(logRecords(t, p, "shared through Redis")) != 1 || len(logRecords(t, p, "RATE LIMITS ARE OFF")) != 0 {
			t.Fatalf("%s did not log that its limits are shared through Redis", p.URL)
		}
	}
	project, secret := devCredentials(t, dir)
	c := newAPIClient(t, project, secret, dir)
	send := func(base string) (int, map[string]any) {
		status, out, err := c.do(base, "POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": "shared@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		return status, out
	}
	for i := range 5 {
		if status, out := send([]string{a.URL, b.URL}[i%2]); status != 200 {
			t.Fatalf("send %d = %d %v", i, status, out)
		}
	}
	// 3 went through a and 2 through b: b alone would allow 3 more.
	for _, base := range []string{b.URL, a.URL} {
		status, out := send(base)
		if status != 429 || out["error_type"] != "too_many_requests" || out["retry_after"] == nil {
			t.Errorf("send past the shared burst through %s = %d %v", base, status, out)
		}
	}
	// Another recipient still has its own budget, on either.
	c.must(t, b.URL, "POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": "other@example.com"}, 200)
}

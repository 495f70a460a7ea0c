package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/projects"
	"github.com/latchhq/latch/internal/server"
	"github.com/latchhq/latch/internal/tenant"
)

func TestRateLimitedSendsPerRecipient(t *testing.T) {
	h := newHarnessWith(t, harnessOptions{rateLimits: true})
	p := h.project("Limits", tenant.Test)
	// The default send rule: a burst of 5 per recipient, then one every 6 minutes.
	for i := 0; i < 5; i++ {
		p.ok(200, "POST", "/v1/otps/sms/login_or_create", map[string]any{"phone_number": "+1 415 555 2671"})
	}
	// Spelled differently, still the same recipient.
	r := p.call("POST", "/v1/otps/sms/send", map[string]any{"phone_number": "+14155552671"})
	wantError(t, r, 429, "too_many_requests")
	retry, _ := r.body["retry_after"].(float64)
	if retry < 1 || retry > 360 || r.header.Get("Retry-After") != jsonNum(retry) {
		t.Fatalf("retry_after %v, Retry-After %q", r.body["retry_after"], r.header.Get("Retry-After"))
	}
	// Nothing was queued for the refused call.
	if n := len(p.outbox("+14155552671")); n != 5 {
		t.Fatalf("%d messages queued, want 5", n)
	}
	// Another recipient, and another project, have budgets of their own.
	p.ok(200, "POST", "/v1/otps/sms/login_or_create", map[string]any{"phone_number": "+14155552672"})
	q := h.project("Other", tenant.Test)
	q.ok(200, "POST", "/v1/otps/sms/login_or_create", map[string]any{"phone_number": "+14155552671"})
	// After Retry-After has passed, the recipient may receive one more.
	h.clock.Advance(time.Duration(retry) * time.Second)
	p.ok(200, "POST", "/v1/otps/sms/send", map[string]any{"phone_number": "+14155552671"})
	wantError(t, p.call("POST", "/v1/otps/sms/send", map[string]any{"phone_number": "+14155552671"}), 429, "too_many_requests")
}

func jsonNum(f float64) string { b, _ := json.Marshal(f); return string(b) }

func TestRateLimitedAuthenticatePerAccountAndIP(t *testing.T) {
	h := newHarnessWith(t, harnessOptions{rateLimits: true})
	p := h.project("Limits", tenant.Test)
	r := p.ok(200, "POST", "/v1/otps/email/login_or_create", map[string]any{"email": "ada@example.com"})
	emailID := r.str("email_id")
	// Ten quick guesses at one method, then 429 before the code is even looked at.
	for i := 0; i < 10; i++ {
		p.call("POST", "/v1/otps/authenticate", map[string]any{"method_id": emailID, "code": "000001"})
	}
	wantError(t, p.call("POST", "/v1/otps/authenticate", map[string]any{"method_id": emailID, "code": "000001"}), 429, "too_many_requests")

	// The end user's IP from attributes has a budget of its own across accounts.
	if err := h.app.Projects.UpdateSettings(context.Background(), p.id, func(s *projects.Settings) error {
		s.RateLimits = json.RawMessage(`{"ip":{"per_identifier":{"limit":3,"period":"1h"}}}`)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(5 * time.Second) // overrides apply within RefreshEvery
	attrs := map[string]any{"ip_address": "203.0.113.9"}
	for i := 0; i < 3; i++ {
		p.call("POST", "/v1/passwords/authenticate", map[string]any{"email": "u" + string(rune('a'+i)) + "@example.com", "password": "x", "attributes": attrs})
	}
	wantError(t, p.call("POST", "/v1/passwords/authenticate", map[string]any{"email": "new@example.com", "password": "x", "attributes": attrs}), 429, "too_many_requests")
	// A different end-user IP is not affected.
	wantError(t, p.call("POST", "/v1/passwords/authenticate", map[string]any{"email": "new@example.com", "password": "x",
		"attributes": map[string]any{"ip_address": "203.0.113.10"}}), 404, "email_not_found")
}

func TestRateLimitsOffByDefaultInHarness(t *testing.T) {
	h := newHarness(t)
	p := h.project("NoLimits", tenant.Test)
	for i := 0; i < 8; i++ {
		p.ok(200, "POST", "/v1/otps/sms/login_or_create", map[string]any{"phone_number": "+14155552671"})
	}
}

// Every send and authenticate route is limited: a new one fails this test
// until it has a row in server.RateLimited.
func TestEverySendAndAuthenticateRouteIsRateLimited(t *testing.T) {
	h := newHarness(t)
	for _, pattern := range h.app.Routes {
		path := pattern[strings.Index(pattern, " ")+1:]
		sensitive := strings.Contains(path, "/send") || strings.Contains(path, "login_or_create") || strings.Contains(path, "/invite") ||
			strings.HasSuffix(path, "/authenticate") || strings.Contains(path, "/reset") || strings.HasSuffix(path, "/recover") ||
			strings.HasSuffix(path, "/migrate")
		if path == "/v1/sessions/authenticate" {
			continue // every page load; tokens are unguessable
		}
		if _, ok := server.RateLimited[pattern]; sensitive && !ok {
			t.Errorf("%s is a send or authenticate route without a rate limit", pattern)
		}
	}
	for pattern := range server.RateLimited {
		found := false
		for _, r := range append(append([]string{}, h.app.Routes...), h.app.PublicRoutes...) {
			found = found || r == pattern
		}
		if !found {
			t.Errorf("RateLimited names %s, which is not a route", pattern)
		}
	}
}

// The public OAuth token endpoint (no project secret) is limited per
// project and per IP like an authenticate call, and refuses in the OAuth
// error form.
func TestRateLimitedOAuthTokenEndpoint(t *testing.T) {
	h := newHarnessWith(t, harnessOptions{rateLimits: true})
	p := h.project("OAuth limits", tenant.Test)
	if err := h.app.Projects.UpdateSettings(context.Background(), p.id, func(s *projects.Settings) error {
		s.RateLimits = json.RawMessage(`{"ip":{"per_identifier":{"limit":3,"period":"1h"}}}`)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(5 * time.Second)
	post := func(q *project) *resp {
		r, err := h.send("POST", "/v1/public/"+q.id+"/oauth2/token", "grant_type=authorization_code&client_id=x", noAuth,
			"Content-Type", "application/x-www-form-urlencoded")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for i := 0; i < 3; i++ {
		if r := post(p); r.status != 400 || r.str("error") != "invalid_client" {
			t.Fatalf("call %d = %d %s", i, r.status, r.raw)
		}
	}
	r := post(p)
	if r.status != 429 || r.str("error") != "too_many_requests" || r.header.Get("Retry-After") == "" || r.str("error_description") == "" {
		t.Fatalf("over the limit = %d %s", r.status, r.raw)
	}
	// Another project's budget is its own.
	q := h.project("Other", tenant.Test)
	if r := post(q); r.status != 400 {
		t.Fatalf("other project = %d %s", r.status, r.raw)
	}
}

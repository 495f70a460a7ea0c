package server_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/httpx"
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
// until it has a row in server.RateLimited. Every public route that takes
// client credentials (all of app.PublicRoutes) is an authenticate route.
func TestEverySendAndAuthenticateRouteIsRateLimited(t *testing.T) {
	h := newHarness(t)
	public := map[string]bool{}
	for _, pattern := range h.app.PublicRoutes {
		public[pattern] = true
	}
	for _, pattern := range h.app.Mounted {
		path := pattern[strings.Index(pattern, " ")+1:]
		sensitive := strings.Contains(path, "/send") || strings.Contains(path, "login_or_create") || strings.Contains(path, "/invite") ||
			strings.HasSuffix(path, "/authenticate") || strings.Contains(path, "/reset") || strings.HasSuffix(path, "/recover") ||
			strings.HasSuffix(path, "/migrate") || strings.Contains(path, "/oauth2/") || strings.Contains(path, "access_token") ||
			public[pattern]
		if path == "/v1/sessions/authenticate" {
			continue // every page load; tokens are unguessable (docs/compatibility.md)
		}
		rt, ok := server.RateLimited[pattern]
		if sensitive && !ok {
			t.Errorf("%s is a send or authenticate route without a rate limit", pattern)
		}
		if ok && rt.OAuth != public[pattern] {
			t.Errorf("%s: OAuth error form %v, but public route %v", pattern, rt.OAuth, public[pattern])
		}
	}
	for _, want := range []string{"POST /v1/public/{project_id}/oauth2/token", "POST /v1/public/{project_id}/oauth2/introspect"} {
		if _, ok := server.RateLimited[want]; !ok {
			t.Errorf("%s is not rate limited", want)
		}
	}
	for pattern := range server.RateLimited {
		if !slices.Contains(h.app.Mounted, pattern) {
			t.Errorf("RateLimited names %s, which is not a route", pattern)
		}
	}
}

// The public OAuth endpoints (no project secret; a client secret) are
// limited per project and per IP like an authenticate call, and refuse in
// the OAuth error form, an oversized body included.
func TestRateLimitedOAuthEndpoints(t *testing.T) {
	for _, ep := range []struct{ name, body, err string }{
		{"token", "grant_type=authorization_code&client_id=x", "invalid_client"},
		{"introspect", "token=x&client_id=x", "invalid_client"},
	} {
		t.Run(ep.name, func(t *testing.T) {
			h := newHarnessWith(t, harnessOptions{rateLimits: true})
			p := h.project("OAuth limits", tenant.Test)
			if err := h.app.Projects.UpdateSettings(context.Background(), p.id, func(s *projects.Settings) error {
				s.RateLimits = json.RawMessage(`{"ip":{"per_identifier":{"limit":3,"period":"1h"}}}`)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			h.clock.Advance(5 * time.Second)
			post := func(q *project, body string) *resp {
				return h.do("POST", "/v1/public/"+q.id+"/oauth2/"+ep.name, body, noAuth, "Content-Type", formType)
			}
			// The guard reads the body first: too large is refused in the
			// OAuth form, and not counted.
			wantOAuthError(t, post(p, "x="+strings.Repeat("a", httpx.MaxBody)), 413, "request_too_large")
			for i := 0; i < 3; i++ {
				wantOAuthError(t, post(p, ep.body), 400, ep.err)
			}
			r := post(p, ep.body)
			if r.status != 429 || r.str("error") != "too_many_requests" || r.header.Get("Retry-After") == "" || r.str("error_description") == "" {
				t.Fatalf("over the limit = %d %s", r.status, r.raw)
			}
			wantOAuthError(t, r, 429, "too_many_requests")
			// Another project's budget is its own.
			q := h.project("Other", tenant.Test)
			wantOAuthError(t, post(q, ep.body), 400, ep.err)
		})
	}
}

package server_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/latchhq/latch/internal/tenant"
)

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.project("Tenant A", tenant.Test)
	b := h.project("Tenant B", tenant.Test)

	// A's user, with an external id, a phone, a session and an unused link.
	cu := into[createUserJSON](t, a.ok(201, "POST", "/v1/users", map[string]any{
		"email": "alice@a.example", "phone_number": "+14155552671", "external_id": "shared-ext",
		"name": map[string]any{"first_name": "Alice"}, "trusted_metadata": map[string]any{"tier": "gold"}}))
	sess := a.login("alice@a.example", 60)
	_, pendingTok := a.sendLink("alice@a.example", nil)
	// B has its own user with the same email and external id: no collision.
	bu := into[createUserJSON](t, b.ok(201, "POST", "/v1/users", map[string]any{"email": "alice@a.example", "external_id": "shared-ext"}))
	if bu.UserID == cu.UserID {
		t.Fatal("two projects share a user id")
	}

	t.Run("credentials do not cross", func(t *testing.T) {
		wantError(t, h.do("GET", "/v1/users/"+cu.UserID, nil, basic(b.id, a.secret)), 401, "unauthorized_credentials")
		wantError(t, h.do("GET", "/v1/users/"+cu.UserID, nil, basic(a.id, b.secret)), 401, "unauthorized_credentials")
	})

	t.Run("users", func(t *testing.T) {
		wantError(t, b.call("GET", "/v1/users/"+cu.UserID, nil), 404, "user_not_found")
		wantError(t, b.call("PUT", "/v1/users/"+cu.UserID, map[string]any{"trusted_metadata": map[string]any{"tier": "none"}}), 404, "user_not_found")
		wantError(t, b.call("DELETE", "/v1/users/"+cu.UserID, nil), 404, "user_not_found")
		wantError(t, b.call("DELETE", "/v1/users/emails/"+cu.EmailID, nil), 404, "email_not_found")
		wantError(t, b.call("DELETE", "/v1/users/phone_numbers/"+cu.PhoneID, nil), 404, "phone_number_not_found")
		wantError(t, b.call("GET", "/v1/sessions?user_id="+cu.UserID, nil), 404, "user_not_found")
		// The shared external id resolves to each project's own user.
		if got := into[userJSON](t, b.ok(200, "GET", "/v1/users/shared-ext", nil)); got.UserID != bu.UserID {
			t.Errorf("B's external id lookup = %s, want %s", got.UserID, bu.UserID)
		}
		r := b.ok(200, "POST", "/v1/users/search", query("OR", op("user_id", []string{cu.UserID}), op("email_id", []string{cu.EmailID}),
			op("phone_id", []string{cu.PhoneID}), op("phone_number", []string{"+14155552671"})))
		if s := into[searchJSON](t, r); s.ResultsMetadata.Total != 0 {
			t.Errorf("B's search finds %d of A's users", s.ResultsMetadata.Total)
		}
		// A's user is untouched.
		u := into[userJSON](t, a.ok(200, "GET", "/v1/users/"+cu.UserID, nil))
		if u.TrustedMetadata["tier"] != "gold" || len(u.Emails) != 1 || len(u.PhoneNumbers) != 1 {
			t.Errorf("A's user changed: %+v", u)
		}
	})

	t.Run("sessions", func(t *testing.T) {
		wantError(t, b.call("POST", "/v1/sessions/authenticate", map[string]any{"session_token": sess.SessionToken}), 404, "session_not_found")
		if r := b.call("POST", "/v1/sessions/authenticate", map[string]any{"session_jwt": sess.SessionJWT}); r.status != 401 || r.str("error_type") != "jwt_invalid" {
			t.Errorf("B authenticates A's JWT: %d %s", r.status, r.raw)
		}
		wantError(t, b.call("POST", "/v1/sessions/revoke", map[string]any{"session_token": sess.SessionToken}), 404, "session_not_found")
		wantError(t, b.call("POST", "/v1/sessions/revoke", map[string]any{"session_id": sess.Session.SessionID}), 404, "session_not_found")
		if r := b.call("POST", "/v1/sessions/revoke", map[string]any{"session_jwt": sess.SessionJWT}); r.status != 401 {
			t.Errorf("B revokes by A's JWT: %d %s", r.status, r.raw)
		}
		a.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": sess.SessionToken})
		a.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_jwt": sess.SessionJWT})
	})

	t.Run("magic links", func(t *testing.T) {
		wantError(t, b.call("POST", "/v1/magic_links/authenticate", map[string]any{"token": pendingTok}), 404, "magic_link_not_found")
		wantError(t, h.do("GET", "/v1/magic_links/redirect?"+url.Values{"project_id": {b.id}, "token": {pendingTok}}.Encode(), nil, noAuth),
			404, "magic_link_not_found")
		// B cannot attach A's session to a link of its own either.
		_, bTok := b.sendLink("bob@b.example", nil)
		wantError(t, b.call("POST", "/v1/magic_links/authenticate", map[string]any{"token": bTok, "session_token": sess.SessionToken}), 404, "session_not_found")
		b.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": bTok}) // not burned by the failure
		// A's link still works: B's attempts did not consume it.
		a.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": pendingTok})
	})

	t.Run("dev outbox", func(t *testing.T) {
		for _, path := range []string{"/v1/dev/outbox", "/v1/dev/outbox?to=alice%40a.example", "/v1/dev/outbox?limit=500"} {
			r := b.ok(200, "GET", path, nil)
			for _, m := range into[outboxJSON](t, r).Messages {
				if m.To != "bob@b.example" {
					t.Errorf("B's outbox %s shows a message to %s", path, m.To)
				}
			}
		}
		if msgs := a.outbox("alice@a.example"); len(msgs) != 2 {
			t.Errorf("A's outbox has %d messages to alice, want 2", len(msgs))
		}
		r := b.call("GET", "/dev/outbox", nil)
		if r.status != 200 || strings.Contains(string(r.raw), "alice@a.example") || strings.Contains(string(r.raw), pendingTok) {
			t.Errorf("B's outbox page = %d, mentions A's message: %v", r.status, strings.Contains(string(r.raw), "alice@a.example"))
		}
		wantError(t, b.call("GET", "/v1/dev/outbox?limit=0", nil), 400, "invalid_argument")
		wantError(t, b.call("GET", "/v1/dev/outbox?limit=501", nil), 400, "invalid_argument")
	})

	t.Run("JWKS", func(t *testing.T) {
		ka, kb := h.jwks(a.id), h.jwks(b.id)
		for _, k := range kb {
			for _, k2 := range ka {
				if k.KID == k2.KID {
					t.Errorf("projects share key %s", k.KID)
				}
			}
		}
	})
}

func TestTenantLiveProject(t *testing.T) {
	t.Parallel()
	h := newHarness(t) // no email provider configured
	test := h.project("Test env", tenant.Test)
	live := h.project("Live env", tenant.Live)
	tu := into[createUserJSON](t, test.ok(201, "POST", "/v1/users", map[string]any{"email": "t@example.com"}))

	// Live ids are -live- throughout, request ids included.
	r := live.ok(201, "POST", "/v1/users", map[string]any{"email": "l@example.com", "phone_number": "+14155552671"})
	lu := into[createUserJSON](t, r)
	if !idRe("user", tenant.Live).MatchString(lu.UserID) || !idRe("email", tenant.Live).MatchString(lu.EmailID) ||
		!idRe("phone-number", tenant.Live).MatchString(lu.PhoneID) {
		t.Errorf("live ids: %s %s %s", lu.UserID, lu.EmailID, lu.PhoneID)
	}
	if !strings.HasPrefix(r.str("request_id"), "request-id-live-") {
		t.Errorf("live request_id = %s", r.str("request_id"))
	}
	if r := test.call("GET", "/v1/users/"+tu.UserID, nil); !strings.HasPrefix(r.str("request_id"), "request-id-test-") {
		t.Errorf("test request_id = %s", r.str("request_id"))
	}

	// Neither environment sees the other's data.
	wantError(t, live.call("GET", "/v1/users/"+tu.UserID, nil), 404, "user_not_found")
	wantError(t, test.call("GET", "/v1/users/"+lu.UserID, nil), 404, "user_not_found")
	if s := into[searchJSON](t, live.ok(200, "POST", "/v1/users/search", map[string]any{})); s.ResultsMetadata.Total != 1 || s.Results[0].UserID != lu.UserID {
		t.Errorf("live search = %+v", s)
	}

	// The dev outbox does not exist for live projects.
	wantError(t, live.call("GET", "/v1/dev/outbox", nil), 404, "route_not_supported_in_live")
	wantError(t, live.call("GET", "/dev/outbox", nil), 404, "route_not_supported_in_live")

	// Live projects have no default redirect URLs...
	wantError(t, live.call("POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": "new@example.com"}),
		400, "no_signup_redirect_urls_set")
	// ...and with one registered, no email provider means 503, not a
	// silently undelivered link; nothing is created.
	if err := h.app.Projects.AddRedirectURL(context.Background(), live.id, "signup", "https://app.example/auth", true); err != nil {
		t.Fatal(err)
	}
	if err := h.app.Projects.AddRedirectURL(context.Background(), live.id, "login", "https://app.example/auth", true); err != nil {
		t.Fatal(err)
	}
	wantError(t, live.call("POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": "new@example.com"}),
		503, "email_provider_not_configured")
	wantError(t, live.call("POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": "l@example.com"}),
		503, "email_provider_not_configured")
	if s := into[searchJSON](t, live.ok(200, "POST", "/v1/users/search", map[string]any{})); s.ResultsMetadata.Total != 1 {
		t.Errorf("a refused send created a user: total %d", s.ResultsMetadata.Total)
	}
	rows := queryRows(t, h.db(), `SELECT COUNT(*) AS n FROM magic_links WHERE project_id = ?`, live.id)
	if rows[0]["n"].(int64) != 0 {
		t.Errorf("a refused send stored %d magic links", rows[0]["n"])
	}
	// Test projects keep working through the dev provider.
	test.sendLink("t@example.com", nil)
}

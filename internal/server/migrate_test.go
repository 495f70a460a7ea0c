package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/latchhq/latch/internal/projects"
	"github.com/latchhq/latch/internal/tenant"
)

// userInfo is an external IdP's OIDC UserInfo endpoint: it knows one token
// per email and refuses anything else, as a real provider does.
func userInfo(t *testing.T, tokens map[string]string) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != http.MethodGet {
			t.Errorf("UserInfo called with %s", r.Method)
		}
		tok, ok := tokens[r.Header.Get("Authorization")]
		switch {
		case r.Header.Get("Authorization") == "Bearer broken":
			http.Error(w, "upstream down", http.StatusInternalServerError)
		case !ok:
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			http.Error(w, `{"error":"invalid_token"}`, http.StatusUnauthorized)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(tok))
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestSessionsMigrate(t *testing.T) {
	h := newHarness(t)
	p := h.project("Migrate", tenant.Test)
	user := p.ok(201, "POST", "/v1/users", map[string]any{"email": "Ada@Example.com"})
	userID, emailID := user.str("user_id"), user.str("email_id")

	// Before an operator sets the UserInfo URL, migrate says what is missing.
	wantError(t, p.call("POST", "/v1/sessions/migrate", map[string]any{"session_token": "old", "session_duration_minutes": 60}),
		400, "session_migration_not_configured")

	srv, calls := userInfo(t, map[string]string{
		"Bearer old-ada":        `{"sub":"auth0|1","email":"ada@example.com","email_verified":true}`,
		"Bearer old-unknown":    `{"sub":"auth0|2","email":"grace@example.com"}`,
		"Bearer old-noemail":    `{"sub":"auth0|3"}`,
		"Bearer old-unverified": `{"sub":"auth0|4","email":"ada@example.com","email_verified":false}`,
	})
	if err := h.app.Projects.UpdateSettings(context.Background(), p.id, func(s *projects.Settings) error {
		s.SessionMigrationURL = srv.URL + "/userinfo"
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	a := into[authJSON](t, p.ok(200, "POST", "/v1/sessions/migrate", map[string]any{
		"session_token": "old-ada", "session_duration_minutes": 60, "session_custom_claims": map[string]any{"migrated": true}}))
	if a.UserID != userID || a.User.Status != "active" || a.Session == nil || a.Session.UserID != userID || len(a.SessionToken) != 44 {
		t.Fatalf("migrate: %+v", a)
	}
	f := a.Session.AuthenticationFactors
	if len(f) != 1 || f[0].Type != "imported" || f[0].DeliveryMethod != "imported_auth0" || f[0].EmailFactor == nil ||
		f[0].EmailFactor.EmailID != emailID || f[0].EmailFactor.EmailAddress != "ada@example.com" {
		t.Fatalf("factors %+v", f)
	}
	// The new session is an ordinary Latch session, custom claims included.
	s := into[authJSON](t, p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken}))
	if s.Session.SessionID != a.Session.SessionID || s.Session.CustomClaims["migrated"] != true {
		t.Fatalf("authenticate migrated session: %+v", s.Session)
	}
	if j := decodeJWT(t, a.SessionJWT); j.claims["sub"] != userID {
		t.Fatalf("jwt claims %v", j.claims)
	}

	// Without session_duration_minutes, the user is matched and no session starts.
	r := p.ok(200, "POST", "/v1/sessions/migrate", map[string]any{"session_token": "old-ada"})
	if r.str("user_id") != userID || r.str("session_token") != "" || r.body["session"] != nil {
		t.Fatalf("migrate without duration: %s", r.raw)
	}

	for _, c := range []struct {
		token, errType string
		status         int
	}{
		{"revoked-elsewhere", "external_session_rejected", 401},
		{"old-unknown", "user_not_found", 404},
		{"old-noemail", "invalid_userinfo_response", 400},
		{"old-unverified", "invalid_userinfo_response", 400},
		{"broken", "external_userinfo_unavailable", 502},
	} {
		wantError(t, p.call("POST", "/v1/sessions/migrate", map[string]any{"session_token": c.token, "session_duration_minutes": 60}), c.status, c.errType)
	}
	// Bad input is refused before the external endpoint is called.
	before := calls.Load()
	wantError(t, p.call("POST", "/v1/sessions/migrate", map[string]any{"session_token": ""}), 400, "missing_argument")
	wantError(t, p.call("POST", "/v1/sessions/migrate", map[string]any{"session_token": "old-ada", "session_duration_minutes": 1}), 400, "invalid_session_duration_minutes")
	if calls.Load() != before {
		t.Fatalf("UserInfo called for invalid input")
	}
	// Another project's secret cannot migrate into this project's users.
	q := h.project("Other", tenant.Test)
	wantError(t, q.call("POST", "/v1/sessions/migrate", map[string]any{"session_token": "old-ada", "session_duration_minutes": 60}),
		400, "session_migration_not_configured")
}

func TestCheckOutboundURL(t *testing.T) {
	for _, c := range []struct {
		url string
		env tenant.Environment
		ok  bool
	}{
		{"https://idp.example.com/userinfo", tenant.Live, true},
		{"https://idp.example.com/userinfo", tenant.Test, true},
		{"http://127.0.0.1:8080/userinfo", tenant.Test, true},
		{"http://localhost:8080/userinfo", tenant.Test, true},
		{"http://[::1]:8080/userinfo", tenant.Test, true},
		{"http://127.0.0.1:8080/userinfo", tenant.Live, false},
		{"http://idp.example.com/userinfo", tenant.Test, false},
		{"ftp://idp.example.com/", tenant.Test, false},
		{"/userinfo", tenant.Test, false},
	} {
		if err := projects.CheckOutboundURL(c.url, c.env); (err == nil) != c.ok {
			t.Errorf("CheckOutboundURL(%q, %s) = %v, want ok=%v", c.url, c.env, err, c.ok)
		}
	}
}

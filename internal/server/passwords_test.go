package server_test

import (
	"testing"
	"time"

	"github.com/latchhq/latch/internal/passwords"
	"github.com/latchhq/latch/internal/tenant"
)

const strongPassword = "correct horse battery staple 9"

func TestPasswordsCreateAuthenticateAndLock(t *testing.T) {
	h := newHarness(t)
	p := h.project("PW", tenant.Test)
	wantError(t, p.call("POST", "/v1/passwords", map[string]any{"email": "pw@example.com", "password": "password1"}), 400, "breached_password")
	wantError(t, p.call("POST", "/v1/passwords", map[string]any{"email": "pw@example.com", "password": "zzzzzzzzzy"}), 400, "weak_password")
	c := into[authJSON](t, p.ok(200, "POST", "/v1/passwords", map[string]any{"email": "pw@example.com", "password": strongPassword, "session_duration_minutes": 60}))
	if c.Session == nil || c.Session.AuthenticationFactors[0].Type != "password" || c.Session.AuthenticationFactors[0].DeliveryMethod != "knowledge" {
		t.Fatalf("create: %+v", c)
	}
	wantError(t, p.call("POST", "/v1/passwords", map[string]any{"email": "PW@example.com", "password": strongPassword}), 400, "duplicate_email")
	// Stored as argon2id at OWASP's minimum, never in plaintext.
	rows := queryRows(t, h.db(), `SELECT hash FROM passwords WHERE user_id = ?`, c.UserID)
	if len(rows) != 1 || rows[0]["hash"].(string)[:31] != "$argon2id$v=19$m=19456,t=2,p=1$" {
		t.Fatalf("stored hash %v", rows)
	}
	a := into[authJSON](t, p.ok(200, "POST", "/v1/passwords/authenticate", map[string]any{"email": "pw@example.com", "password": strongPassword, "session_duration_minutes": 30}))
	if a.UserID != c.UserID || a.Session == nil {
		t.Fatalf("authenticate: %+v", a)
	}
	wantError(t, p.call("POST", "/v1/passwords/authenticate", map[string]any{"email": "nobody@example.com", "password": strongPassword}), 404, "email_not_found")
	for i := 1; i < passwords.LockThreshold; i++ {
		wantError(t, p.call("POST", "/v1/passwords/authenticate", map[string]any{"email": "pw@example.com", "password": "wrong"}), 401, "unauthorized_credentials")
	}
	wantError(t, p.call("POST", "/v1/passwords/authenticate", map[string]any{"email": "pw@example.com", "password": "wrong"}), 429, "user_lock_limit_reached")
	// Locked: even the right password is refused, and the user shows the lock.
	wantError(t, p.call("POST", "/v1/passwords/authenticate", map[string]any{"email": "pw@example.com", "password": strongPassword}), 429, "user_lock_limit_reached")
	u := p.ok(200, "GET", "/v1/users/"+c.UserID, nil)
	if u.body["is_locked"] != true || u.str("lock_expires_at") != wireTime(h.clock.Now().Add(passwords.LockDuration)) {
		t.Fatalf("locked user %s", u.raw)
	}
	h.clock.Advance(passwords.LockDuration + time.Second)
	p.ok(200, "POST", "/v1/passwords/authenticate", map[string]any{"email": "pw@example.com", "password": strongPassword})
}

func TestPasswordsMigrateRehashesOnLogin(t *testing.T) {
	h := newHarness(t)
	p := h.project("PW", tenant.Test)
	// A bcrypt hash of "password" from Stytch's Python SDK tests would be
	// breached; use md_5 with salts, digest produced by Python hashlib:
	// hashlib.md5(b"pre" + b"Tr1cky-Passw0rd-2026!" + b"post").hexdigest()
	m := p.ok(200, "POST", "/v1/passwords/migrate", map[string]any{
		"email": "mig@example.com", "hash_type": "md_5", "hash": md5hex("pre" + "Tr1cky-Passw0rd-2026!" + "post"),
		"md_5_config": map[string]any{"prepend_salt": "pre", "append_salt": "post"}, "set_email_verified": true,
	})
	if m.body["user_created"] != true {
		t.Fatalf("migrate: %s", m.raw)
	}
	uid := m.str("user_id")
	p.ok(200, "POST", "/v1/passwords/authenticate", map[string]any{"email": "mig@example.com", "password": "Tr1cky-Passw0rd-2026!"})
	rows := queryRows(t, h.db(), `SELECT hash FROM passwords WHERE user_id = ?`, uid)
	if rows[0]["hash"].(string)[:10] != "$argon2id$" {
		t.Fatalf("migrated hash was not upgraded: %v", rows)
	}
	wantError(t, p.call("POST", "/v1/passwords/migrate", map[string]any{"email": "x@example.com", "hash_type": "md_5", "hash": "zz"}), 400, "invalid_md_5_hash")
}

func TestPasswordsResets(t *testing.T) {
	h := newHarness(t)
	p := h.project("PW", tenant.Test)
	c := into[authJSON](t, p.ok(200, "POST", "/v1/passwords", map[string]any{"email": "r@example.com", "password": strongPassword, "session_duration_minutes": 60}))

	p.ok(200, "POST", "/v1/passwords/email/reset/start", map[string]any{"email": "r@example.com"})
	msgs := p.outbox("r@example.com")
	if len(msgs) != 1 || msgs[0].Token == nil {
		t.Fatalf("reset email %+v", msgs)
	}
	loc := h.do("GET", *msgs[0].Link, nil, noAuth)
	if loc.status != 302 || loc.header.Get("Location") != "http://localhost:3000/authenticate?stytch_token_type=reset_password&token="+urlQueryEscape(*msgs[0].Token) {
		t.Fatalf("reset link redirect %d %q", loc.status, loc.header.Get("Location"))
	}
	wantError(t, p.call("POST", "/v1/passwords/email/reset", map[string]any{"token": *msgs[0].Token, "password": "password1"}), 400, "breached_password")
	r := into[authJSON](t, p.ok(200, "POST", "/v1/passwords/email/reset", map[string]any{"token": *msgs[0].Token, "password": "another strong passphrase 42", "session_duration_minutes": 10}))
	if r.Session == nil || r.Session.SessionID == c.Session.SessionID {
		t.Fatalf("reset session %+v", r.Session)
	}
	// The reset ended the old session and the token is single use.
	wantError(t, p.call("POST", "/v1/sessions/authenticate", map[string]any{"session_token": c.SessionToken}), 404, "session_not_found")
	wantError(t, p.call("POST", "/v1/passwords/email/reset", map[string]any{"token": *msgs[0].Token, "password": "yet another strong passphrase 7"}), 401, "unable_to_auth_password_reset_token")
	// A reset token is not a magic link.
	wantError(t, p.call("POST", "/v1/magic_links/authenticate", map[string]any{"token": *msgs[0].Token}), 404, "magic_link_not_found")

	e := into[authJSON](t, p.ok(200, "POST", "/v1/passwords/existing_password/reset", map[string]any{
		"email": "r@example.com", "existing_password": "another strong passphrase 42", "new_password": "third strong passphrase 99", "session_duration_minutes": 10}))
	wantError(t, p.call("POST", "/v1/sessions/authenticate", map[string]any{"session_token": r.SessionToken}), 404, "session_not_found")

	// Session reset needs a recent factor; the session is kept.
	s := p.ok(200, "POST", "/v1/passwords/session/reset", map[string]any{"session_token": e.SessionToken, "password": "fourth strong passphrase 11"})
	if s.str("user_id") != c.UserID {
		t.Fatalf("session reset %s", s.raw)
	}
	p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": e.SessionToken})
	h.clock.Advance(6 * time.Minute)
	wantError(t, p.call("POST", "/v1/passwords/session/reset", map[string]any{"session_token": e.SessionToken, "password": "fifth strong passphrase 12"}), 400, "session_too_old_to_reset_password")
}

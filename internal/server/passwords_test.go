package server_test

import (
	"context"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/events"
	"github.com/latchhq/latch/internal/hashes"
	"github.com/latchhq/latch/internal/passwords"
	"github.com/latchhq/latch/internal/projects"
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

	// scrypt N=2^18, r=32 needs 1 GiB to verify, more than the default
	// hashing budget below 14 CPUs: refused at import, not at the user's
	// first login.
	if hashes.DefaultMemoryBudget(hashes.DefaultParams, 0) >= 1<<30 {
		return
	}
	big := p.call("POST", "/v1/passwords/migrate", map[string]any{"email": "big@example.com", "hash_type": "scrypt",
		"hash":          "c2FsdHNhbHRzYWx0c2FsdHNhbHRzYWx0c2FsdHNhbHQ=",
		"scrypt_config": map[string]any{"salt": "c2FsdA==", "n_parameter": 1 << 18, "r_parameter": 32, "p_parameter": 1, "key_length": 32}})
	wantError(t, big, 400, "invalid_scrypt_config")
	if !strings.Contains(big.str("error_message"), "hashing budget") {
		t.Errorf("message does not say why: %s", big.raw)
	}
	if n := queryRows(t, h.db(), `SELECT id FROM users WHERE project_id = ?`, p.id); len(n) != 1 {
		t.Errorf("a refused migrate left %d users, want only the first", len(n))
	}
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

	// The email's "log in without a password" link is a login magic link to
	// the login URL: it logs the user in and leaves the password alone.
	if !strings.Contains(msgs[0].BodyHTML, ">Log in without a password</a>") {
		t.Fatalf("reset email offers no passwordless login:\n%s", msgs[0].BodyHTML)
	}
	_, after, _ := strings.Cut(msgs[0].BodyText, "Log in without a password:\n")
	loginLink, _, _ := strings.Cut(after, "\n")
	if loginLink == "" || loginLink == *msgs[0].Link {
		t.Fatalf("passwordless link %q in:\n%s", loginLink, msgs[0].BodyText)
	}
	loc = h.do("GET", loginLink, nil, noAuth)
	target, _ := url.Parse(loc.header.Get("Location"))
	if loc.status != 302 || target.Query().Get("stytch_token_type") != "magic_links" || target.Path != "/authenticate" {
		t.Fatalf("passwordless link redirect %d %q", loc.status, loc.header.Get("Location"))
	}
	ml := into[authJSON](t, p.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": target.Query().Get("token"), "session_duration_minutes": 10}))
	if ml.UserID != c.UserID || ml.Session == nil || ml.Session.AuthenticationFactors[0].Type != "magic_link" {
		t.Fatalf("passwordless login %+v", ml)
	}
	p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": ml.SessionToken})

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

// setPasswordPolicy sets a project's password policy as `latch projects
// update` does.
func setPasswordPolicy(t *testing.T, h *harness, p *project, pp *projects.PasswordPolicy) {
	t.Helper()
	if err := h.app.Projects.UpdateSettings(context.Background(), p.id, func(s *projects.Settings) error {
		s.Passwords = pp
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestPasswordsLockTimes(t *testing.T) {
	h := newHarness(t)
	p := h.project("PW", tenant.Test)
	c := into[authJSON](t, p.ok(200, "POST", "/v1/passwords", map[string]any{"email": "lock@example.com", "password": strongPassword}))
	for i := 1; i < passwords.LockThreshold; i++ {
		wantError(t, p.call("POST", "/v1/passwords/authenticate", map[string]any{"email": "lock@example.com", "password": "wrong"}), 401, "unauthorized_credentials")
		h.clock.Advance(time.Second)
	}
	u := p.ok(200, "GET", "/v1/users/"+c.UserID, nil)
	if u.body["is_locked"] != false || u.body["lock_created_at"] != nil || u.body["lock_expires_at"] != nil {
		t.Fatalf("user locked before the threshold: %s", u.raw)
	}
	lockedAt := h.clock.Now()
	wantError(t, p.call("POST", "/v1/passwords/authenticate", map[string]any{"email": "lock@example.com", "password": "wrong"}), 429, "user_lock_limit_reached")
	h.clock.Advance(time.Minute)
	wantError(t, p.call("POST", "/v1/passwords/authenticate", map[string]any{"email": "lock@example.com", "password": strongPassword}), 429, "user_lock_limit_reached")
	u = p.ok(200, "GET", "/v1/users/"+c.UserID, nil)
	if u.body["is_locked"] != true || u.str("lock_created_at") != wireTime(lockedAt) || u.str("lock_expires_at") != wireTime(lockedAt.Add(passwords.LockDuration)) {
		t.Fatalf("locked user %s, want lock_created_at %s", u.raw, wireTime(lockedAt))
	}
}

// Stytch's migrate has no requires_reset field, so a reset is required the
// other way Stytch documents: the password is on the breach list.
func TestPasswordsBreachedLoginNeedsReset(t *testing.T) {
	h := newHarness(t)
	p := h.project("PW", tenant.Test)
	m := p.ok(200, "POST", "/v1/passwords/migrate", map[string]any{"email": "breached@example.com", "hash_type": "md_5", "hash": md5hex("password1")})
	wantError(t, p.call("POST", "/v1/passwords/authenticate", map[string]any{"email": "breached@example.com", "password": "password1"}), 400, "reset_password")
	// A wrong password is still just wrong.
	wantError(t, p.call("POST", "/v1/passwords/authenticate", map[string]any{"email": "breached@example.com", "password": "password2"}), 401, "unauthorized_credentials")

	// Without breach detection a breached password is accepted when set,
	// so logging in with one needs no reset either.
	off := false
	setPasswordPolicy(t, h, p, &projects.PasswordPolicy{BreachDetectionOnCreate: &off})
	a := into[authJSON](t, p.ok(200, "POST", "/v1/passwords/authenticate", map[string]any{"email": "breached@example.com", "password": "password1", "session_duration_minutes": 5}))
	if a.UserID != m.str("user_id") || a.Session == nil {
		t.Fatalf("authenticate without breach detection: %+v", a)
	}
}

// Reset tokens are kept only as their SHA-256; the plaintext is nowhere in
// the row.
func TestPasswordsResetTokenStoredHashed(t *testing.T) {
	h := newHarness(t)
	p := h.project("PW", tenant.Test)
	c := into[authJSON](t, p.ok(200, "POST", "/v1/passwords", map[string]any{"email": "hashed@example.com", "password": strongPassword}))
	p.ok(200, "POST", "/v1/passwords/email/reset/start", map[string]any{"email": "hashed@example.com"})
	tok := *p.outbox("hashed@example.com")[0].Token
	rows := queryRows(t, h.db(), `SELECT * FROM magic_links WHERE project_id = ? AND kind = 'reset_password'`, p.id)
	if len(rows) != 1 || rows[0]["token_hash"] != sha256hex(tok) || rows[0]["user_id"] != c.UserID {
		t.Fatalf("reset rows %v, want one with token_hash %s", rows, sha256hex(tok))
	}
	for col, v := range rows[0] {
		if s, ok := v.(string); ok && strings.Contains(s, tok) {
			t.Errorf("column %s holds the plaintext token", col)
		}
	}
}

func TestPasswordsEmailResetAttributesAndOptions(t *testing.T) {
	h := newHarness(t)
	p := h.project("PW", tenant.Test)
	p.ok(200, "POST", "/v1/passwords", map[string]any{"email": "attr@example.com", "password": strongPassword})
	attrs := map[string]any{"ip_address": "203.0.113.7", "user_agent": "Browser/1.0"}
	p.ok(200, "POST", "/v1/passwords/email/reset/start", map[string]any{"email": "attr@example.com", "attributes": attrs})
	tok := *p.outbox("attr@example.com")[0].Token
	rows := queryRows(t, h.db(), `SELECT ip_address, user_agent FROM magic_links WHERE project_id = ? AND kind = 'reset_password'`, p.id)
	if len(rows) != 1 || rows[0]["ip_address"] != "203.0.113.7" || rows[0]["user_agent"] != "Browser/1.0" {
		t.Fatalf("recorded attributes %v", rows)
	}
	reset := func(ip, ua string, opts map[string]any) *resp {
		return p.call("POST", "/v1/passwords/email/reset", map[string]any{"token": tok, "password": "a new strong passphrase 64",
			"session_duration_minutes": 10, "attributes": map[string]any{"ip_address": ip, "user_agent": ua}, "options": opts})
	}
	wantError(t, reset("198.51.100.1", "Browser/1.0", map[string]any{"ip_match_required": true}), 401, "attribute_mismatch")
	wantError(t, reset("203.0.113.7", "Other/2.0", map[string]any{"user_agent_match_required": true}), 401, "attribute_mismatch")
	// A mismatch does not burn the token; without the options nothing is compared.
	a := into[authJSON](t, p.ok(200, "POST", "/v1/passwords/email/reset", map[string]any{"token": tok, "password": "a new strong passphrase 64",
		"session_duration_minutes": 10, "attributes": map[string]any{"ip_address": "203.0.113.7", "user_agent": "Browser/1.0"},
		"options": map[string]any{"ip_match_required": true, "user_agent_match_required": true}}))
	if a.Session == nil || a.Session.Attributes["ip_address"] != "203.0.113.7" || a.Session.Attributes["user_agent"] != "Browser/1.0" {
		t.Fatalf("reset session %+v", a.Session)
	}
	wantError(t, reset("1.1.1.1", "x", nil), 401, "unable_to_auth_password_reset_token")
}

func TestPasswordsResetStartValidation(t *testing.T) {
	h := newHarness(t)
	p := h.project("PW", tenant.Test)
	p.ok(200, "POST", "/v1/passwords", map[string]any{"email": "v@example.com", "password": strongPassword})
	start := func(extra map[string]any) *resp {
		body := map[string]any{"email": "v@example.com"}
		for k, v := range extra {
			body[k] = v
		}
		return p.call("POST", "/v1/passwords/email/reset/start", body)
	}
	wantError(t, start(map[string]any{"locale": "xx"}), 400, "invalid_locale")
	wantError(t, start(map[string]any{"login_redirect_url": "not a url"}), 400, "invalid_magic_link_url")
	wantError(t, start(map[string]any{"login_redirect_url": "https://elsewhere.example/login"}), 400, "no_match_for_provided_magic_link_url")
	if n := len(p.outbox("v@example.com")); n != 0 {
		t.Fatalf("refused starts queued %d emails", n)
	}
	p.ok(200, "POST", "/v1/passwords/email/reset/start", map[string]any{"email": "v@example.com", "login_redirect_url": projects.DefaultRedirectURL, "locale": "es"})
	if n := len(p.outbox("v@example.com")); n != 1 {
		t.Fatalf("%d emails after a good start", n)
	}
}

// The resets write the hash, revoke sessions and start the session in one
// transaction: when the session part fails, the password is unchanged.
func TestPasswordsSessionResetIsAtomic(t *testing.T) {
	h := newHarness(t)
	p := h.project("PW", tenant.Test)
	big := strings.Repeat("x", 2500)
	c := into[authJSON](t, p.ok(200, "POST", "/v1/passwords", map[string]any{"email": "atomic@example.com", "password": strongPassword,
		"session_duration_minutes": 60, "session_custom_claims": map[string]any{"a": big}}))
	// Together with the session's claims these pass 4 KB; the check runs
	// inside the transaction, after the hash is written.
	wantError(t, p.call("POST", "/v1/passwords/session/reset", map[string]any{"session_token": c.SessionToken,
		"password": "a different strong passphrase 5", "session_custom_claims": map[string]any{"b": big}}), 400, "custom_claims_too_large")
	p.ok(200, "POST", "/v1/passwords/authenticate", map[string]any{"email": "atomic@example.com", "password": strongPassword})
	wantError(t, p.call("POST", "/v1/passwords/authenticate", map[string]any{"email": "atomic@example.com", "password": "a different strong passphrase 5"}), 401, "unauthorized_credentials")
	if rows := queryRows(t, h.db(), `SELECT id FROM events WHERE project_id = ? AND type = ?`, p.id, events.PasswordUpdate); len(rows) != 1 {
		t.Fatalf("%d password update events, want the create's only", len(rows))
	}
}

func TestPasswordsEmailResetVerifiesEmail(t *testing.T) {
	h := newHarness(t)
	p := h.project("PW", tenant.Test)
	// A user whose email is unverified: the reset link proves it.
	m := p.ok(200, "POST", "/v1/passwords/migrate", map[string]any{"email": "pending@example.com", "hash_type": "md_5", "hash": md5hex("Tr1cky-Passw0rd-2026!")})
	uid := m.str("user_id")
	p.ok(200, "POST", "/v1/passwords/email/reset/start", map[string]any{"email": "pending@example.com"})
	tok := *p.outbox("pending@example.com")[0].Token
	before := len(queryRows(t, h.db(), `SELECT id FROM events WHERE project_id = ? AND type = ?`, p.id, events.UserUpdate))
	a := into[authJSON](t, p.ok(200, "POST", "/v1/passwords/email/reset", map[string]any{"token": tok, "password": "a fresh strong passphrase 77"}))
	if len(a.User.Emails) != 1 || !a.User.Emails[0].Verified || a.User.Status != "active" {
		t.Fatalf("user after reset %+v", a.User)
	}
	rows := queryRows(t, h.db(), `SELECT payload FROM events WHERE project_id = ? AND type = ? ORDER BY created_at, id`, p.id, events.UserUpdate)
	if len(rows) != before+1 || !strings.Contains(rows[len(rows)-1]["payload"].(string), `"verified":true`) {
		t.Fatalf("user update events %v (before %d)", rows, before)
	}
	// The strength failure of a reset is recorded with the user, not the password.
	p.ok(200, "POST", "/v1/passwords/email/reset/start", map[string]any{"email": "pending@example.com"})
	tok2 := ""
	for _, msg := range p.outbox("pending@example.com") {
		if *msg.Token != tok {
			tok2 = *msg.Token
		}
	}
	wantError(t, p.call("POST", "/v1/passwords/email/reset", map[string]any{"token": tok2, "password": "zzzzzzzzzy"}), 400, "weak_password")
	fails := queryRows(t, h.db(), `SELECT payload FROM events WHERE project_id = ? AND type = ?`, p.id, events.PasswordStrengthCheckFail)
	if len(fails) != 1 || !strings.Contains(fails[0]["payload"].(string), `"user_id":"`+uid+`"`) || strings.Contains(fails[0]["payload"].(string), "zzzzzzzzzy") {
		t.Fatalf("strength_check_fail events %v", fails)
	}
}

type strengthJSON struct {
	ValidPassword           bool   `json:"valid_password"`
	Score                   int    `json:"score"`
	BreachedPassword        bool   `json:"breached_password"`
	StrengthPolicy          string `json:"strength_policy"`
	BreachDetectionOnCreate bool   `json:"breach_detection_on_create"`
	Feedback                struct {
		Warning          string         `json:"warning"`
		Suggestions      []string       `json:"suggestions"`
		LUDSRequirements map[string]any `json:"luds_requirements"`
	} `json:"feedback"`
}

func TestPasswordsLUDSPolicy(t *testing.T) {
	h := newHarness(t)
	p := h.project("PW", tenant.Test)
	other := h.project("Other", tenant.Test)
	setPasswordPolicy(t, h, p, &projects.PasswordPolicy{Policy: projects.PolicyLUDS, LUDSMinLength: 10, LUDSMinComplexity: 3})
	check := func(pr *project, body map[string]any) strengthJSON {
		return into[strengthJSON](t, pr.ok(200, "POST", "/v1/passwords/strength_check", body))
	}
	luds := func(lower, upper, digit, symbol bool, cx, chars int) map[string]any {
		return map[string]any{"has_lower_case": lower, "has_upper_case": upper, "has_digit": digit, "has_symbol": symbol,
			"missing_complexity": float64(cx), "missing_characters": float64(chars)}
	}
	for _, tc := range []struct {
		password string
		valid    bool
		want     map[string]any
	}{
		{"abc", false, luds(true, false, false, false, 2, 7)},
		{"abcdefghij", false, luds(true, false, false, false, 2, 0)},
		{"abcdefghi1", false, luds(true, false, true, false, 1, 0)},
		{"Abcdefghi1", true, luds(true, true, true, false, 0, 0)},
		{"ÉÉÉÉÉÉÉÉÉ1a", true, luds(true, false, true, true, 0, 0)}, // 11 characters, 22 bytes; É is a symbol
	} {
		got := check(p, map[string]any{"password": tc.password})
		if got.ValidPassword != tc.valid || got.StrengthPolicy != "luds" || got.Score != 0 || !got.BreachDetectionOnCreate ||
			!reflect.DeepEqual(got.Feedback.LUDSRequirements, tc.want) || got.Feedback.Warning != "" || len(got.Feedback.Suggestions) != 0 {
			t.Errorf("%q: %+v, want valid %v and %v", tc.password, got, tc.valid, tc.want)
		}
	}
	// zxcvbn projects are unaffected and carry no LUDS feedback.
	if z := check(other, map[string]any{"password": "Abcdefghi1"}); z.StrengthPolicy != "zxcvbn" || z.Feedback.LUDSRequirements != nil {
		t.Errorf("zxcvbn project: %+v", z)
	}

	// Writes follow the policy: weak_password with the LUDS feedback.
	r := p.call("POST", "/v1/passwords", map[string]any{"email": "luds@example.com", "password": "abcdefghi1"})
	wantError(t, r, 400, "weak_password")
	if d, _ := r.body["error_details"].(map[string]any); !reflect.DeepEqual(d["luds_requirements"], luds(true, false, true, false, 1, 0)) {
		t.Errorf("error_details %v", r.body["error_details"])
	}
	// "Password123" meets LUDS but is on the breach list.
	wantError(t, p.call("POST", "/v1/passwords", map[string]any{"email": "luds@example.com", "password": "Password123"}), 400, "breached_password")
	c := into[authJSON](t, p.ok(200, "POST", "/v1/passwords", map[string]any{"email": "luds@example.com", "password": "Kq7vLmzp2x"}))
	wantError(t, p.call("POST", "/v1/passwords/existing_password/reset", map[string]any{"email": "luds@example.com", "existing_password": "Kq7vLmzp2x", "new_password": "short1A"}), 400, "weak_password")
	// Three from strength_check, three from the refused writes; only the
	// reset knows its user.
	fails := queryRows(t, h.db(), `SELECT payload FROM events WHERE project_id = ? AND type = ?`, p.id, events.PasswordStrengthCheckFail)
	withUser := 0
	for _, f := range fails {
		body := f["payload"].(string)
		if !strings.Contains(body, `"strength_policy":"luds"`) {
			t.Errorf("event without the policy: %s", body)
		}
		if strings.Contains(body, `"user_id":"`+c.UserID+`"`) && strings.Contains(body, `"missing_characters":3`) {
			withUser++
		}
	}
	if len(fails) != 6 || withUser != 1 {
		t.Fatalf("strength_check_fail events %d (%d of the reset): %v", len(fails), withUser, fails)
	}

	// Without breach detection the breach list is not consulted.
	off := false
	setPasswordPolicy(t, h, p, &projects.PasswordPolicy{Policy: projects.PolicyLUDS, BreachDetectionOnCreate: &off})
	got := check(p, map[string]any{"password": "Password1", "email": "someone@example.com"})
	if !got.ValidPassword || got.BreachedPassword || got.BreachDetectionOnCreate {
		t.Errorf("without breach detection: %+v", got)
	}
	p.ok(200, "POST", "/v1/passwords", map[string]any{"email": "luds2@example.com", "password": "Password1"})
	p.ok(200, "POST", "/v1/passwords/authenticate", map[string]any{"email": "luds2@example.com", "password": "Password1"})
}

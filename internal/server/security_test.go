package server_test

// Security properties over the whole server: one project's secret never
// reaches another project's data, test and live credentials do not cross,
// forged and misdirected session JWTs are refused with exact error types,
// and no secret a request carries ever reaches the logs.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/sandbox"
	"github.com/latchhq/latch/internal/server"
	"github.com/latchhq/latch/internal/store/sqlstore"
	"github.com/latchhq/latch/internal/tenant"
)

// TestSecurityCrossProjectSecret: authenticated as project A, every call that
// names project B's users, sessions or links finds nothing, and B's data is
// untouched afterwards.
func TestSecurityCrossProjectSecret(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.project("Attacker", tenant.Test)
	b := h.project("Victim", tenant.Test)

	bu := into[createUserJSON](t, b.ok(201, "POST", "/v1/users", map[string]any{"email": "victim@b.example",
		"name": map[string]any{"first_name": "Vic"}}))
	doomed := into[createUserJSON](t, b.ok(201, "POST", "/v1/users", map[string]any{"email": "doomed@b.example"}))
	bs := b.login("victim@b.example", 60)
	_, link := b.sendLink("victim@b.example", nil)
	before := userSnapshot(t, b, bu.UserID)
	a.login("attacker@a.example", 60) // A has keys of its own

	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		typ                string
	}{
		{"users.get", "GET", "/v1/users/" + bu.UserID, nil, 404, "user_not_found"},
		{"users.update", "PUT", "/v1/users/" + bu.UserID, map[string]any{"name": map[string]any{"first_name": "pwned"}}, 404, "user_not_found"},
		{"users.delete", "DELETE", "/v1/users/" + doomed.UserID, map[string]any{}, 404, "user_not_found"},
		{"users.deleteEmail", "DELETE", "/v1/users/emails/" + bu.EmailID, map[string]any{}, 404, "email_not_found"},
		{"sessions.get", "GET", "/v1/sessions?user_id=" + bu.UserID, nil, 404, "user_not_found"},
		{"sessions.authenticate token", "POST", "/v1/sessions/authenticate", map[string]any{"session_token": bs.SessionToken}, 404, "session_not_found"},
		{"sessions.authenticate jwt", "POST", "/v1/sessions/authenticate", map[string]any{"session_jwt": bs.SessionJWT}, 401, "jwt_invalid"},
		{"sessions.revoke token", "POST", "/v1/sessions/revoke", map[string]any{"session_token": bs.SessionToken}, 404, "session_not_found"},
		{"sessions.revoke jwt", "POST", "/v1/sessions/revoke", map[string]any{"session_jwt": bs.SessionJWT}, 401, "jwt_invalid"},
		{"sessions.revoke id", "POST", "/v1/sessions/revoke", map[string]any{"session_id": bs.Session.SessionID}, 404, "session_not_found"},
		{"magic_links.authenticate", "POST", "/v1/magic_links/authenticate", map[string]any{"token": link}, 404, "magic_link_not_found"},
		{"magic_links.authenticate into B's session", "POST", "/v1/magic_links/authenticate",
			map[string]any{"token": link, "session_token": bs.SessionToken}, 404, "magic_link_not_found"},
		{"magic_links.create for B's user", "POST", "/v1/magic_links", map[string]any{"user_id": bu.UserID}, 404, "user_not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, a.call(tc.method, tc.path, tc.body), tc.status, tc.typ)
		})
	}
	t.Run("mixed credentials", func(t *testing.T) {
		wantError(t, h.do("GET", "/v1/users/"+bu.UserID, nil, basic(b.id, a.secret)), 401, "unauthorized_credentials")
		wantError(t, h.do("GET", "/v1/users/"+bu.UserID, nil, basic(a.id, b.secret)), 401, "unauthorized_credentials")
		wantError(t, h.do("POST", "/v1/sessions/authenticate", map[string]any{"session_token": bs.SessionToken}, basic(b.id, a.secret)),
			401, "unauthorized_credentials")
	})

	// B's data came through: the user is unchanged, both users exist, the
	// session authenticates by token and JWT, the link was not burned.
	if got := userSnapshot(t, b, bu.UserID); jsonString(t, got) != jsonString(t, before) {
		t.Errorf("B's user changed:\nbefore %s\nafter  %s", jsonString(t, before), jsonString(t, got))
	}
	b.ok(200, "GET", "/v1/users/"+doomed.UserID, nil)
	b.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_jwt": bs.SessionJWT})
	b.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": bs.SessionToken})
	r := into[authJSON](t, b.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": link, "session_token": bs.SessionToken}))
	if r.Session == nil || r.Session.SessionID != bs.Session.SessionID {
		t.Errorf("B's link did not attach to B's session: %+v", r)
	}
}

// TestSecurityEnvironmentSecrets: a test project's secret does not open its
// live twin or the reverse, ids with the other environment's prefix are
// unknown, and test-only sandbox values mean nothing to a live project.
func TestSecurityEnvironmentSecrets(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	test := h.project("Env test", tenant.Test)
	live := h.project("Env live", tenant.Live)
	tu := into[createUserJSON](t, test.ok(201, "POST", "/v1/users", map[string]any{"email": "t@example.com"}))
	lu := into[createUserJSON](t, live.ok(201, "POST", "/v1/users", map[string]any{"email": "l@example.com"}))
	ts := test.login("t@example.com", 60)

	swap := func(id string, to tenant.Environment) string { // project-test-<uuid> and project-live-<uuid>
		return "project-" + string(to) + "-" + id[len("project-test-"):]
	}
	for _, tc := range []struct {
		name string
		a    auth
	}{
		{"test secret on live project", basic(live.id, test.secret)},
		{"live secret on test project", basic(test.id, live.secret)},
		{"test secret, test id relabelled live", basic(swap(test.id, tenant.Live), test.secret)},
		{"live secret, live id relabelled test", basic(swap(live.id, tenant.Test), live.secret)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/v1/users/" + tu.UserID, "/v1/users/" + lu.UserID} {
				wantError(t, h.do("GET", path, nil, tc.a), 401, "unauthorized_credentials")
			}
			wantError(t, h.do("POST", "/v1/users", map[string]any{"email": "x@example.com"}, tc.a), 401, "unauthorized_credentials")
		})
	}
	t.Run("test credentials of a test session on live", func(t *testing.T) {
		wantError(t, live.call("POST", "/v1/sessions/authenticate", map[string]any{"session_token": ts.SessionToken}), 404, "session_not_found")
		wantError(t, live.call("POST", "/v1/sessions/authenticate", map[string]any{"session_jwt": ts.SessionJWT}), 401, "jwt_invalid")
		wantError(t, live.call("GET", "/v1/users/"+tu.UserID, nil), 404, "user_not_found")
	})
	t.Run("sandbox values on live", func(t *testing.T) {
		wantError(t, live.call("POST", "/v1/magic_links/authenticate", map[string]any{"token": sandbox.MagicLinkToken}), 404, "magic_link_not_found")
		wantError(t, live.call("POST", "/v1/sessions/authenticate", map[string]any{"session_token": sandbox.SessionToken}), 404, "session_not_found")
		wantError(t, live.call("GET", "/v1/users/"+sandbox.UserID, nil), 404, "user_not_found")
	})
	// Live users still count one; nothing was created through refused calls.
	if n := usersInProject(t, h, live.id); n != 1 {
		t.Errorf("live project has %d users, want 1", n)
	}
	test.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": ts.SessionToken})
}

// TestSecurityJWTAttacks: sessions.authenticate and sessions.revoke refuse
// forged session JWTs with an exact error type, and the session they name
// survives. The wrong-audience, wrong-issuer and expired cases carry valid
// signatures by the project's own key, so only the claim is at fault.
func TestSecurityJWTAttacks(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("JWT attacks", tenant.Test)
	victim := p.login("victim@example.com", 60)
	short := p.login("short@example.com", 5) // expires during the test
	genuine := decodeJWT(t, victim.SessionJWT)
	shortJWT := decodeJWT(t, short.SessionJWT)

	// The public key as an attacker gets it: from the public JWKS.
	set := h.jwks(p.id)
	if len(set) != 1 {
		t.Fatalf("JWKS has %d keys", len(set))
	}
	pub, err := set[0].public()
	if err != nil {
		t.Fatal(err)
	}
	pkix, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := x509.MarshalPKCS1PublicKey(pub)
	pkixPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})
	pkcs1PEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1})
	jwkJSONBytes, _ := json.Marshal(set[0])
	kid := set[0].KID
	if kid != genuine.header["kid"] {
		t.Fatalf("JWKS kid %s, JWT kid %v", kid, genuine.header["kid"])
	}
	stranger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	skid, priv := h.projectSigningKey(p.id)
	if skid != kid {
		t.Fatalf("stored kid %s, published %s", skid, kid)
	}
	hdr := func(alg string) map[string]any { return map[string]any{"alg": alg, "typ": "JWT", "kid": kid} }
	with := func(base map[string]any, edit func(c map[string]any)) map[string]any {
		c := cloneMap(base)
		edit(c)
		return c
	}

	// Control: the project's key over the genuine claims is accepted, so
	// each refusal below is down to the one thing that differs.
	control := signRS256(t, priv, hdr("RS256"), with(genuine.claims, func(c map[string]any) { c["iat"] = c["iat"].(float64) - 1 }))
	if r := authBy(p, "session_jwt", control, nil); r.status != 200 {
		t.Fatalf("control JWT refused: %d %s", r.status, r.raw)
	}

	type attack struct {
		name   string
		tok    string
		status int
		typ    string
	}
	attacks := []attack{
		{"alg none", unsigned(t, hdr("none"), genuine.claims), 400, "unable_to_parse_session_jwt"},
		{"alg none, lower-case, no kid", unsigned(t, map[string]any{"alg": "None", "typ": "JWT"}, genuine.claims), 400, "unable_to_parse_session_jwt"},
		{"alg none with the genuine signature", func() string {
			parts := strings.Split(victim.SessionJWT, ".")
			return encodeSegment(t, hdr("none")) + "." + parts[1] + "." + parts[2]
		}(), 400, "unable_to_parse_session_jwt"},
		{"HS256 keyed with the JWKS key as PKIX DER", signHS256(t, pkix, hdr("HS256"), genuine.claims), 400, "unable_to_parse_session_jwt"},
		{"HS256 keyed with the JWKS key as PKIX PEM", signHS256(t, pkixPEM, hdr("HS256"), genuine.claims), 400, "unable_to_parse_session_jwt"},
		{"HS256 keyed with the JWKS key as PKCS1 DER", signHS256(t, pkcs1, hdr("HS256"), genuine.claims), 400, "unable_to_parse_session_jwt"},
		{"HS256 keyed with the JWKS key as PKCS1 PEM", signHS256(t, pkcs1PEM, hdr("HS256"), genuine.claims), 400, "unable_to_parse_session_jwt"},
		{"HS256 keyed with the JWK JSON", signHS256(t, jwkJSONBytes, hdr("HS256"), genuine.claims), 400, "unable_to_parse_session_jwt"},
		{"HS256 keyed with the modulus", signHS256(t, pub.N.Bytes(), hdr("HS256"), genuine.claims), 400, "unable_to_parse_session_jwt"},
		{"RS256 by another key, foreign kid", signRS256(t, stranger, map[string]any{"alg": "RS256", "typ": "JWT", "kid": "jwk-test-" + uuid.NewString()}, genuine.claims), 401, "jwt_invalid"},
		{"RS256 by another key, the project's kid", signRS256(t, stranger, hdr("RS256"), genuine.claims), 401, "jwt_invalid"},
		{"RS256 by another key, embedded jwk header", signRS256(t, stranger, map[string]any{"alg": "RS256", "typ": "JWT", "kid": kid,
			"jwk": map[string]any{"kty": "RSA", "n": b64.EncodeToString(stranger.N.Bytes()), "e": "AQAB"}}, genuine.claims), 401, "jwt_invalid"},
		{"right key, wrong aud", signRS256(t, priv, hdr("RS256"), with(genuine.claims, func(c map[string]any) { c["aud"] = []string{"project-test-" + uuid.NewString()} })), 401, "jwt_invalid"},
		{"right key, aud as a string of another project", signRS256(t, priv, hdr("RS256"), with(genuine.claims, func(c map[string]any) { c["aud"] = "project-test-" + uuid.NewString() })), 401, "jwt_invalid"},
		{"right key, wrong iss", signRS256(t, priv, hdr("RS256"), with(genuine.claims, func(c map[string]any) { c["iss"] = "stytch.com/project-test-" + uuid.NewString() })), 401, "jwt_invalid"},
		{"right key, iss is the bare host", signRS256(t, priv, hdr("RS256"), with(genuine.claims, func(c map[string]any) { c["iss"] = "stytch.com" })), 401, "jwt_invalid"},
		{"right key, another session's id under this subject", signRS256(t, priv, hdr("RS256"), with(genuine.claims, func(c map[string]any) {
			c["https://stytch.com/session"].(map[string]any)["id"] = short.Session.SessionID
		})), 401, "jwt_invalid"},
	}
	// Expired: the project's key, exp long past, and the session itself over
	// (the clock moves past the 5-minute session below).
	expired := signRS256(t, priv, hdr("RS256"), with(shortJWT.claims, func(c map[string]any) {
		c["iat"], c["nbf"], c["exp"] = float64(t0.Add(-2*time.Hour).Unix()), float64(t0.Add(-2*time.Hour).Unix()), float64(t0.Add(-time.Hour).Unix())
	}))

	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			wantError(t, authBy(p, "session_jwt", a.tok, nil), a.status, a.typ)
			wantError(t, p.call("POST", "/v1/sessions/revoke", map[string]any{"session_jwt": a.tok}), a.status, a.typ)
			// Extending through a forged JWT is refused the same way.
			wantError(t, authBy(p, "session_jwt", a.tok, map[string]any{"session_duration_minutes": 527040}), a.status, a.typ)
		})
	}

	h.clock.Advance(6 * time.Minute)
	t.Run("right key, expired exp, session over", func(t *testing.T) {
		wantError(t, authBy(p, "session_jwt", expired, nil), 404, "session_not_found")
		wantError(t, p.call("POST", "/v1/sessions/revoke", map[string]any{"session_jwt": expired}), 404, "session_not_found")
		// The genuine JWT of that session, now past its exp, likewise.
		wantError(t, authBy(p, "session_jwt", short.SessionJWT, nil), 404, "session_not_found")
	})

	// The victim's session survived every attempt with its expiry intact.
	r := into[authJSON](t, p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": victim.SessionToken}))
	if r.Session.ExpiresAt != victim.Session.ExpiresAt {
		t.Errorf("victim's expires_at moved from %s to %s", victim.Session.ExpiresAt, r.Session.ExpiresAt)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newLoggingHarness is newHarness with the App logging JSON at debug level
// into buf, and its background workers running.
func newLoggingHarness(t *testing.T, buf *syncBuffer) *harness {
	t.Helper()
	path := filepath.Join(t.TempDir(), "latch.db")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := sqlstore.Open(ctx, path)
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	srv := httptest.NewUnstartedServer(nil)
	publicURL := "http://" + srv.Listener.Addr().String()
	fc := clock.NewFake(t0)
	log := slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: true}))
	app, err := server.New(st, server.Options{Log: log, Clock: fc, MasterKey: testMaster, PublicURL: publicURL, PollOutbox: 5 * time.Millisecond})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	srv.Config.Handler = app.Handler
	srv.Config.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	srv.Start()
	t.Cleanup(srv.Close)
	wctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { app.RunWorkers(wctx); close(done) }()
	t.Cleanup(func() { stop(); <-done })

	client := srv.Client()
	client.Timeout = 15 * time.Second
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &harness{t: t, app: app, srv: srv, clock: fc, dbPath: path, publicURL: publicURL, client: client}
}

// TestSecurityLogsCarryNoSecrets runs every flow that handles a secret,
// successful and failing, and scans everything the server logged for them.
func TestSecurityLogsCarryNoSecrets(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	h := newLoggingHarness(t, &buf)
	p := h.project("Logs", tenant.Test)
	secrets := map[string]string{
		"project secret":    p.secret,
		"basic auth header": base64.StdEncoding.EncodeToString([]byte(p.id + ":" + p.secret)),
	}

	// Wrong and foreign credentials.
	wrong := "secret-test-" + strings.Repeat("W", 36)
	secrets["wrong secret"] = wrong
	wantError(t, h.do("GET", "/v1/users/user-test-"+zeroUUID, nil, basic(p.id, wrong)), 401, "unauthorized_credentials")
	wantError(t, h.do("POST", "/v1/users", map[string]any{}, basic("project-test-"+uuid.NewString(), wrong)), 401, "unauthorized_credentials")

	// Magic link: send, follow the redirect, authenticate.
	_, link := p.sendLink("logs@example.com", nil)
	secrets["magic link token"] = link
	secrets["magic link token (query-escaped)"] = url.QueryEscape(link)
	h.do("GET", "/v1/magic_links/redirect?"+url.Values{"project_id": {p.id}, "token": {link}}.Encode(), nil, noAuth)
	a := into[authJSON](t, p.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": link, "session_duration_minutes": 60}))
	wantError(t, p.call("POST", "/v1/magic_links/authenticate", map[string]any{"token": link}), 401, "unable_to_auth_magic_link")
	secrets["session token"] = a.SessionToken
	secrets["session jwt"] = a.SessionJWT
	secrets["session jwt signature"] = a.SessionJWT[strings.LastIndex(a.SessionJWT, ".")+1:]

	// Sessions by token and JWT, a failing extension, a revoke by JWT.
	p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken})
	p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_jwt": a.SessionJWT})
	wantError(t, p.call("POST", "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken, "session_duration_minutes": 1}),
		400, "invalid_session_duration_minutes")
	wantError(t, p.call("POST", "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken, "session_jwt": a.SessionJWT}),
		400, "too_many_session_arguments")
	b := p.login("logs2@example.com", 60)
	secrets["second session jwt"] = b.SessionJWT
	p.ok(200, "POST", "/v1/sessions/revoke", map[string]any{"session_jwt": b.SessionJWT})
	wantError(t, p.call("POST", "/v1/sessions/authenticate", map[string]any{"session_token": b.SessionToken}), 404, "session_not_found")
	secrets["revoked session token"] = b.SessionToken

	// OTP: send, a wrong code, the right code.
	sent := p.ok(200, "POST", "/v1/otps/email/login_or_create", map[string]any{"email": "otp@example.com"})
	code := *p.lastCode("otp@example.com").Code
	wrongCode := "000001"
	if code == wrongCode {
		wrongCode = "000002"
	}
	wantError(t, p.call("POST", "/v1/otps/authenticate", map[string]any{"method_id": sent.str("email_id"), "code": wrongCode}), 404, "otp_code_not_found")
	p.ok(200, "POST", "/v1/otps/authenticate", map[string]any{"method_id": sent.str("email_id"), "code": code, "session_duration_minutes": 60})

	// Passwords: create, a wrong password, the right one, a weak one.
	const password = "Latch log-scan passphrase 7Qz!"
	secrets["password"] = password
	secrets["wrong password"] = "Wrong log-scan passphrase 8Rq?"
	secrets["weak password"] = "hunter2hunter2"
	p.ok(200, "POST", "/v1/passwords", map[string]any{"email": "pw-logs@example.com", "password": password})
	wantError(t, p.call("POST", "/v1/passwords/authenticate", map[string]any{"email": "pw-logs@example.com", "password": secrets["wrong password"]}),
		401, "unauthorized_credentials")
	p.ok(200, "POST", "/v1/passwords/authenticate", map[string]any{"email": "pw-logs@example.com", "password": password})
	if r := p.call("POST", "/v1/passwords", map[string]any{"email": "weak@example.com", "password": secrets["weak password"]}); r.status != 400 {
		t.Errorf("weak password create = %d %s", r.status, r.raw)
	}

	// Let the outbox worker deliver (and log) what was queued.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		rows := queryRows(t, h.db(), `SELECT COUNT(*) AS n FROM outbox WHERE project_id = ? AND status = 'queued'`, p.id)
		if rows[0]["n"].(int64) == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}

	// A failing store: the 5xx path logs the cause of a request that
	// carries a session token.
	h.app.Store.Close()
	if r, err := h.send("POST", "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken}, p.auth()); err == nil && r.status < 500 {
		t.Logf("with the store closed, authenticate = %d (cached)", r.status)
	}
	if r, err := h.send("POST", "/v1/magic_links/authenticate", map[string]any{"token": link}, p.auth()); err == nil && r.status < 500 {
		t.Logf("with the store closed, magic link authenticate = %d", r.status)
	}

	logs := buf.String()
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if len(lines) < 20 || !strings.Contains(logs, `"msg":"http"`) {
		t.Fatalf("captured only %d log lines; is the logger wired? %.500s", len(lines), logs)
	}
	if !strings.Contains(logs, `"level":"ERROR"`) {
		t.Logf("no ERROR line was logged; the 5xx path was not exercised")
	}
	for name, s := range secrets {
		if i := strings.Index(logs, s); i >= 0 {
			t.Errorf("the %s appears in the logs: ...%s...", name, logs[max(0, i-200):min(len(logs), i+len(s)+50)])
		}
	}
	// The OTP code is six digits; look for it as a whole token, not inside
	// timestamps, uuids, durations and byte counts.
	codeRe := regexp.MustCompile(`(^|[^0-9A-Za-z])` + code + `([^0-9A-Za-z]|$)`)
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %s", line)
			continue
		}
		walkLog(rec, "", func(key string, v any) {
			switch x := v.(type) {
			case string:
				if codeRe.MatchString(x) {
					t.Errorf("the OTP code %s appears in the logs under %s: %s", code, key, line)
				}
			case float64:
				if n, err := strconv.ParseFloat(code, 64); err == nil && x == n && key != "duration" && key != "bytes" && key != "source.line" {
					t.Errorf("the OTP code %s appears as a number under %s: %s", code, key, line)
				}
			}
		})
	}
	if os.Getenv("LATCH_DUMP_LOGS") != "" {
		t.Log(logs)
	}
	t.Logf("scanned %d log lines (%d bytes) for %d secrets", len(lines), len(logs), len(secrets)+1)
}

func walkLog(v any, key string, f func(key string, v any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, vv := range x {
			if key != "" {
				k = key + "." + k
			}
			walkLog(vv, k, f)
		}
	case []any:
		for _, vv := range x {
			walkLog(vv, key, f)
		}
	default:
		f(key, x)
	}
}

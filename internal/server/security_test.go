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
	"fmt"
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
	latchsecrets "github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/server"
	"github.com/latchhq/latch/internal/store/sqlstore"
	"github.com/latchhq/latch/internal/tenant"
	"github.com/latchhq/latch/internal/totps"
	"github.com/latchhq/latch/internal/webhooks"
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
	// (the clock moves past the 5-minute session below). An expired exp
	// alone is accepted, as by Stytch: TestSecurityExpiredJWTOfLiveSession.
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
// successful and failing (project secrets, magic link, OTP, password and
// reset, TOTP and recovery codes, Connected Apps client secrets, codes and
// tokens, webhook signing secrets), lets the outbox worker and the webhook
// dispatcher run, and scans everything the server logged for them.
func TestSecurityLogsCarryNoSecrets(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	h := newLoggingHarness(t, &buf)
	p := h.project("Logs", tenant.Test)
	secrets := map[string]string{
		"project secret":    p.secret,
		"basic auth header": base64.StdEncoding.EncodeToString([]byte(p.id + ":" + p.secret)),
	}

	// Two webhook endpoints, one accepting and one failing, so the
	// dispatcher logs deliveries and failures of every event below.
	var hookMu sync.Mutex
	hookHits := map[string]int{}
	hookSigs := map[string]bool{}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hookMu.Lock()
		hookHits[r.URL.Path]++
		hookSigs[r.Header.Get("stytch-signature")] = true
		hookMu.Unlock()
		if r.URL.Path == "/fail" {
			http.Error(w, "receiver says no", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)
	sealer, err := latchsecrets.NewSealer(testMaster)
	if err != nil {
		t.Fatal(err)
	}
	hooks := webhooks.NewService(h.app.Store, sealer, h.clock)
	for _, path := range []string{"/ok", "/fail"} {
		wh, err := hooks.Create(context.Background(), p.id, receiver.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		secrets["webhook secret "+path] = wh.Secret
		secrets["webhook secret key "+path] = strings.TrimPrefix(wh.Secret, webhooks.SecretPrefix)
	}
	h.app.Webhooks.Notify()

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

	// TOTP: create, a wrong code, the right code, recovery codes, a recovery.
	totpUser := into[createUserJSON](t, p.ok(201, "POST", "/v1/users", map[string]any{"email": "totp-logs@example.com"}))
	tc := p.ok(200, "POST", "/v1/totps", map[string]any{"user_id": totpUser.UserID})
	totpSecret := tc.str("secret")
	recovery, _ := tc.body["recovery_codes"].([]any)
	if totpSecret == "" || len(recovery) < 2 {
		t.Fatalf("totps.create = %s", tc.raw)
	}
	secrets["totp secret"] = totpSecret
	for i, rc := range recovery {
		secrets[fmt.Sprintf("recovery code %d", i)] = rc.(string)
	}
	totpCode, err := totps.Code(totpSecret, h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	p.call("POST", "/v1/totps/authenticate", map[string]any{"user_id": totpUser.UserID, "totp_code": "000000"})
	p.ok(200, "POST", "/v1/totps/authenticate", map[string]any{"user_id": totpUser.UserID, "totp_code": totpCode, "session_duration_minutes": 60})
	p.ok(200, "POST", "/v1/totps/recovery_codes", map[string]any{"user_id": totpUser.UserID})
	p.ok(200, "POST", "/v1/totps/recover", map[string]any{"user_id": totpUser.UserID, "recovery_code": recovery[0].(string)})
	wantError(t, p.call("POST", "/v1/totps/recover", map[string]any{"user_id": totpUser.UserID, "recovery_code": recovery[0].(string)}),
		401, "unable_to_authenticate_recovery_code")

	// Password reset by email: start, a wrong token, the right one.
	const resetPassword = "Latch reset passphrase 9Wx#"
	secrets["reset password"] = resetPassword
	p.ok(200, "POST", "/v1/passwords/email/reset/start", map[string]any{"email": "pw-logs@example.com"})
	var resetToken string
	for _, m := range p.outbox("pw-logs@example.com") {
		if m.Token != nil {
			resetToken = *m.Token
		}
	}
	if resetToken == "" {
		t.Fatal("no password reset token in the outbox")
	}
	secrets["password reset token"] = resetToken
	wantError(t, p.call("POST", "/v1/passwords/email/reset", map[string]any{"token": resetToken + "x", "password": resetPassword}),
		401, "unable_to_auth_password_reset_token")
	p.ok(200, "POST", "/v1/passwords/email/reset", map[string]any{"token": resetToken, "password": resetPassword})

	// Connected Apps: a client secret and its rotation, a code, access,
	// refresh and ID tokens, introspection, refresh, exchange, and failures.
	c := p.connectedApp()
	secrets["client secret"] = c.secret
	ca := p.login("ca-logs@example.com", 60)
	code2 := p.authorizationCode(c, ca, "openid", "offline_access", "full_access")
	secrets["authorization code"] = code2
	tok := p.redeem(c, code2)
	if tok.RefreshToken == "" {
		t.Fatalf("no refresh token: %+v", tok)
	}
	secrets["access token"] = tok.AccessToken
	secrets["access token signature"] = tok.AccessToken[strings.LastIndex(tok.AccessToken, ".")+1:]
	secrets["refresh token"] = tok.RefreshToken
	secrets["id token"] = tok.IDToken
	p.introspect(c, tok.AccessToken).mustStatus(t, 200)
	p.introspect(c, tok.RefreshToken).mustStatus(t, 200)
	refreshed := p.oauthForm("token", url.Values{"grant_type": {"refresh_token"}, "client_id": {c.id}, "client_secret": {c.secret},
		"refresh_token": {tok.RefreshToken}}).mustStatus(t, 200)
	secrets["refreshed access token"] = refreshed.str("access_token")
	ex := p.ok(200, "POST", "/v1/sessions/exchange_access_token", map[string]any{"access_token": tok.AccessToken, "session_duration_minutes": 10})
	secrets["exchanged session token"] = ex.str("session_token")
	wantError(t, p.call("POST", "/v1/sessions/exchange_access_token", map[string]any{"access_token": tok.AccessToken, "session_duration_minutes": 10}),
		404, "idp_access_token_could_not_be_exchanged")
	// A replayed code (which revokes what it issued) and a wrong secret.
	wantOAuthError(t, p.oauthForm("token", url.Values{"grant_type": {"authorization_code"}, "client_id": {c.id}, "client_secret": {c.secret},
		"code": {code2}, "redirect_uri": {caRedirect}}), 400, "invalid_grant")
	wantOAuthError(t, p.oauthForm("token", url.Values{"grant_type": {"authorization_code"}, "client_id": {c.id}, "client_secret": {c.secret + "x"},
		"code": {code2}, "redirect_uri": {caRedirect}}), 400, "invalid_client")
	rot := p.ok(200, "POST", "/v1/connected_apps/clients/"+c.id+"/secrets/rotate/start", map[string]any{})
	if next, _ := rot.body["connected_app"].(map[string]any)["next_client_secret"].(string); next != "" {
		secrets["next client secret"] = next
	} else {
		t.Errorf("rotate/start = %s", rot.raw)
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

	// Let the dispatcher deliver to the accepting endpoint and fail at the
	// other, logging both.
	deadline = time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		hookMu.Lock()
		ok, failed := hookHits["/ok"], hookHits["/fail"]
		hookMu.Unlock()
		if ok >= 5 && failed >= 1 {
			break
		}
		h.app.Webhooks.Notify()
		time.Sleep(10 * time.Millisecond)
	}
	hookMu.Lock()
	if hookHits["/ok"] == 0 || hookHits["/fail"] == 0 {
		t.Errorf("webhook receiver got %v; the dispatcher's logs were not exercised", hookHits)
	}
	for sig := range hookSigs {
		secrets["webhook signature "+sig[:8]] = sig
	}
	hookMu.Unlock()

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
	for _, msg := range []string{"webhook delivered", "webhook delivery failed"} {
		if !strings.Contains(logs, `"msg":"`+msg+`"`) {
			t.Errorf("the dispatcher never logged %q; its logs were not scanned", msg)
		}
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

// Connected Apps helpers: a first-party client with full access, the
// authorization code flow, and the public OAuth endpoints.

const caRedirect = "https://app.example/callback"

type caClient struct{ id, secret string }

// connectedApp creates a confidential first-party client allowed full
// access, redirecting to caRedirect.
func (p *project) connectedApp() caClient {
	p.h.t.Helper()
	r := p.ok(200, "POST", "/v1/connected_apps/clients", map[string]any{"client_type": "first_party", "full_access_allowed": true,
		"redirect_urls": []string{caRedirect}})
	var out struct {
		ConnectedApp struct {
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
		} `json:"connected_app"`
	}
	if err := json.Unmarshal(r.raw, &out); err != nil || out.ConnectedApp.ClientID == "" || out.ConnectedApp.ClientSecret == "" {
		p.h.t.Fatalf("connected_apps.clients.create = %s", r.raw)
	}
	return caClient{out.ConnectedApp.ClientID, out.ConnectedApp.ClientSecret}
}

// authorizationCode runs idp.oauth.authorize for the session a, with
// consent, and returns the code.
func (p *project) authorizationCode(c caClient, a authJSON, scopes ...string) string {
	p.h.t.Helper()
	r := p.ok(200, "POST", "/v1/idp/oauth/authorize", map[string]any{"client_id": c.id, "redirect_uri": caRedirect, "response_type": "code",
		"scopes": scopes, "session_token": a.SessionToken, "consent_granted": true})
	code := r.str("authorization_code")
	if code == "" {
		p.h.t.Fatalf("authorize = %s", r.raw)
	}
	return code
}

type caTokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
}

// oauthForm posts a form to p's public OAuth endpoint ("token", "introspect").
func (p *project) oauthForm(endpoint string, v url.Values) *resp {
	p.h.t.Helper()
	return p.h.do("POST", "/v1/public/"+p.id+"/oauth2/"+endpoint, v.Encode(), noAuth, "Content-Type", formType)
}

// redeem exchanges a code for tokens at the token endpoint.
func (p *project) redeem(c caClient, code string) caTokens {
	p.h.t.Helper()
	r := p.oauthForm("token", url.Values{"grant_type": {"authorization_code"}, "client_id": {c.id}, "client_secret": {c.secret},
		"code": {code}, "redirect_uri": {caRedirect}})
	if r.status != 200 {
		p.h.t.Fatalf("token endpoint = %d %s", r.status, r.raw)
	}
	return into[caTokens](p.h.t, r)
}

// introspect asks whether tok is active, as client c.
func (p *project) introspect(c caClient, tok string) *resp {
	p.h.t.Helper()
	return p.oauthForm("introspect", url.Values{"client_id": {c.id}, "client_secret": {c.secret}, "token": {tok}})
}

// TestSecurityExpiredJWTOfLiveSession: sessions.authenticate does not check
// a session JWT's exp, as Stytch's does not: an expired JWT of a session
// that is still live is accepted (the signature, issuer and audience are
// checked) and answered with a fresh JWT whose exp is in the future. Only
// the session's own end refuses it.
func TestSecurityExpiredJWTOfLiveSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Expired JWT", tenant.Test)
	live := p.login("live@example.com", 60)
	old := decodeJWT(t, live.SessionJWT)
	if time.Unix(old.num("exp"), 0).After(t0.Add(10 * time.Minute)) {
		t.Fatalf("session JWT exp %d is not short-lived", old.num("exp"))
	}
	h.clock.Advance(10 * time.Minute) // past the JWT's exp, well inside the hour
	now := h.clock.Now()
	if exp := time.Unix(old.num("exp"), 0); !exp.Before(now) {
		t.Fatalf("JWT exp %s is not in the past at %s", exp, now)
	}
	r := into[authJSON](t, authBy(p, "session_jwt", live.SessionJWT, nil).mustStatus(t, 200))
	if r.Session == nil || r.Session.SessionID != live.Session.SessionID {
		t.Fatalf("authenticate answered another session: %+v", r.Session)
	}
	fresh := decodeJWT(t, r.SessionJWT)
	if r.SessionJWT == live.SessionJWT || fresh.num("iat") != now.Unix() || !time.Unix(fresh.num("exp"), 0).After(now) {
		t.Errorf("fresh JWT iat %d exp %d, want iat %d and exp after it", fresh.num("iat"), fresh.num("exp"), now.Unix())
	}
	if err := verifyRS256(fresh, h.jwks(p.id)); err != nil {
		t.Errorf("fresh JWT does not verify: %v", err)
	}
	// The fresh one works, and so does the expired one still.
	authBy(p, "session_jwt", r.SessionJWT, nil).mustStatus(t, 200)
	authBy(p, "session_jwt", live.SessionJWT, nil).mustStatus(t, 200)

	// Once the session ends (revoked here; the 60 minutes running out is
	// TestSecurityJWTAttacks), the expired JWT, and the fresh one, are refused.
	p.ok(200, "POST", "/v1/sessions/revoke", map[string]any{"session_id": live.Session.SessionID})
	wantError(t, authBy(p, "session_jwt", live.SessionJWT, nil), 404, "session_not_found")
	wantError(t, authBy(p, "session_jwt", r.SessionJWT, nil), 404, "session_not_found")
}

func (r *resp) mustStatus(t *testing.T, want int) *resp {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d: %s", r.status, want, truncBody(r.raw))
	}
	return r
}

// TestSecurityAccessTokenJWTAttacks: the JWT attacks of TestSecurityJWTAttacks
// against Connected Apps access tokens. sessions.exchangeAccessToken refuses
// each with an exact error type and introspection calls each inactive,
// while the genuine token, and a control re-signed by the project's key,
// pass. Unlike session JWTs, an access token's exp is enforced.
func TestSecurityAccessTokenJWTAttacks(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Access token attacks", tenant.Test)
	a := p.login("at@example.com", 60)
	c := p.connectedApp()
	tok := p.redeem(c, p.authorizationCode(c, a, "openid", "full_access"))
	genuine := decodeJWT(t, tok.AccessToken)
	if genuine.claims["client_id"] != c.id {
		t.Fatalf("access token claims = %v", genuine.claims)
	}
	set := h.jwks(p.id)
	pub, err := set[0].public()
	if err != nil {
		t.Fatal(err)
	}
	pkix, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pkixPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})
	kid, priv := h.projectSigningKey(p.id)
	if kid != genuine.header["kid"] {
		t.Fatalf("access token kid %v, project key %s", genuine.header["kid"], kid)
	}
	stranger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	hdr := func(alg string) map[string]any { return map[string]any{"alg": alg, "typ": "JWT", "kid": kid} }
	with := func(edit func(c map[string]any)) map[string]any {
		c := cloneMap(genuine.claims)
		edit(c)
		return c
	}
	now := float64(t0.Unix())

	active := func(tok string) bool {
		t.Helper()
		r := p.introspect(c, tok)
		if r.status != 200 {
			t.Fatalf("introspect = %d %s", r.status, r.raw)
		}
		return r.body["active"] == true
	}
	// Control: the project's key over the genuine claims (the token is
	// also looked up by its jti, so the claims must stay as issued).
	control := signRS256(t, priv, hdr("RS256"), genuine.claims)
	if !active(tok.AccessToken) || !active(control) {
		t.Fatalf("the genuine token or the re-signed control is inactive")
	}

	invalid := "oauth_access_token_exchange_token_invalid_grant"
	for _, at := range []struct {
		name, tok string
		status    int
		typ       string
	}{
		{"alg none", unsigned(t, hdr("none"), genuine.claims), 400, invalid},
		{"alg none with the genuine signature", encodeSegment(t, hdr("none")) + "." + strings.SplitN(tok.AccessToken, ".", 3)[1] + "." + strings.SplitN(tok.AccessToken, ".", 3)[2], 400, invalid},
		{"HS256 keyed with the JWKS key as PKIX DER", signHS256(t, pkix, hdr("HS256"), genuine.claims), 400, invalid},
		{"HS256 keyed with the JWKS key as PKIX PEM", signHS256(t, pkixPEM, hdr("HS256"), genuine.claims), 400, invalid},
		{"HS256 keyed with the modulus", signHS256(t, pub.N.Bytes(), hdr("HS256"), genuine.claims), 400, invalid},
		{"RS256 by another key, foreign kid", signRS256(t, stranger, map[string]any{"alg": "RS256", "typ": "JWT", "kid": "jwk-test-" + uuid.NewString()}, genuine.claims), 400, invalid},
		{"RS256 by another key, the project's kid", signRS256(t, stranger, hdr("RS256"), genuine.claims), 400, invalid},
		{"right key, wrong aud", signRS256(t, priv, hdr("RS256"), with(func(c map[string]any) { c["aud"] = []string{"project-test-" + uuid.NewString()} })), 400, invalid},
		{"right key, wrong iss", signRS256(t, priv, hdr("RS256"), with(func(c map[string]any) { c["iss"] = "stytch.com/project-test-" + uuid.NewString() })), 400, invalid},
		{"right key, expired exp", signRS256(t, priv, hdr("RS256"), with(func(c map[string]any) { c["iat"], c["nbf"], c["exp"] = now-120, now-120, now-60 })), 401, "idp_access_token_expired"},
		{"right key, another client", signRS256(t, priv, hdr("RS256"), with(func(c map[string]any) { c["client_id"] = "connected-app-test-" + zeroUUID })), 404, "connected_app_not_found"},
	} {
		t.Run(at.name, func(t *testing.T) {
			if active(at.tok) {
				t.Error("introspection calls it active")
			}
			wantError(t, p.call("POST", "/v1/sessions/exchange_access_token", map[string]any{"access_token": at.tok, "session_duration_minutes": 10}),
				at.status, at.typ)
		})
	}
	// The genuine token was spent by none of them.
	r := into[authJSON](t, p.ok(200, "POST", "/v1/sessions/exchange_access_token", map[string]any{"access_token": tok.AccessToken, "session_duration_minutes": 10}))
	if r.UserID != a.UserID || r.SessionToken == "" {
		t.Errorf("exchange of the genuine token = %+v", r)
	}
}

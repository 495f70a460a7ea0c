package server_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/latchhq/latch/internal/tenant"
)

type jwksJSON struct {
	Keys []jwkJSON `json:"keys"`
}

func (h *harness) jwks(projectID string) []jwkJSON {
	h.t.Helper()
	r := h.do("GET", "/v1/sessions/jwks/"+projectID, nil, noAuth)
	if r.status != 200 {
		h.t.Fatalf("jwks = %d %s", r.status, r.raw)
	}
	return into[jwksJSON](h.t, r).Keys
}

func authBy(p *project, field, value string, extra map[string]any) *resp {
	p.h.t.Helper()
	body := map[string]any{field: value}
	maps.Copy(body, extra)
	return p.call("POST", "/v1/sessions/authenticate", body)
}

func (h *harness) lastAccessedAt(sessionID string) time.Time {
	h.t.Helper()
	rows := queryRows(h.t, h.db(), `SELECT last_accessed_at FROM sessions WHERE id = ?`, sessionID)
	if len(rows) != 1 {
		h.t.Fatalf("session %s: %d rows", sessionID, len(rows))
	}
	return time.UnixMicro(rows[0]["last_accessed_at"].(int64)).UTC()
}

func TestSessionJWTClaims(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Claims", tenant.Test)
	h.clock.Advance(time.Minute)
	a := p.login("claims@example.com", 60)
	now := h.clock.Now()

	j := decodeJWT(t, a.SessionJWT)
	if len(j.header) != 3 || j.header["alg"] != "RS256" || j.header["typ"] != "JWT" ||
		!regexp.MustCompile(`^jwk-test-`+uuidPat+`$`).MatchString(j.header["kid"].(string)) {
		t.Errorf("header = %v", j.header)
	}
	wantKeys := []string{"aud", "exp", "https://stytch.com/session", "iat", "iss", "nbf", "sub"}
	if got := slices.Sorted(maps.Keys(j.claims)); !slices.Equal(got, wantKeys) {
		t.Errorf("claim names = %v, want %v", got, wantKeys)
	}
	if j.claims["iss"] != "stytch.com/"+p.id {
		t.Errorf("iss = %v", j.claims["iss"])
	}
	if aud, _ := j.claims["aud"].([]any); len(aud) != 1 || aud[0] != p.id {
		t.Errorf("aud = %v, want [%s]", j.claims["aud"], p.id)
	}
	if j.claims["sub"] != a.UserID {
		t.Errorf("sub = %v, want %s", j.claims["sub"], a.UserID)
	}
	if j.num("iat") != now.Unix() || j.num("nbf") != j.num("iat") || j.num("exp")-j.num("iat") != 300 {
		t.Errorf("iat/nbf/exp = %d/%d/%d, now %d", j.num("iat"), j.num("nbf"), j.num("exp"), now.Unix())
	}
	sc, _ := j.claims["https://stytch.com/session"].(map[string]any)
	wantSC := []string{"attributes", "authentication_factors", "expires_at", "id", "last_accessed_at", "roles", "started_at"}
	if got := slices.Sorted(maps.Keys(sc)); !slices.Equal(got, wantSC) {
		t.Errorf("session claim fields = %v, want %v", got, wantSC)
	}
	if sc["id"] != a.Session.SessionID || sc["started_at"] != wireTime(now) || sc["last_accessed_at"] != wireTime(now) ||
		sc["expires_at"] != wireTime(now.Add(time.Hour)) {
		t.Errorf("session claim = %v", sc)
	}
	if roles, _ := sc["roles"].([]any); len(roles) != 1 || roles[0] != "stytch_user" {
		t.Errorf("roles = %v", sc["roles"])
	}
	if attrs, _ := sc["attributes"].(map[string]any); len(attrs) != 2 || attrs["ip_address"] != "" || attrs["user_agent"] != "" {
		t.Errorf("attributes = %v", sc["attributes"])
	}
	factors, _ := sc["authentication_factors"].([]any)
	if len(factors) != 1 {
		t.Fatalf("factors = %v", sc["authentication_factors"])
	}
	f := factors[0].(map[string]any)
	ef, _ := f["email_factor"].(map[string]any)
	if f["type"] != "magic_link" || f["delivery_method"] != "email" || f["last_authenticated_at"] != wireTime(now) ||
		ef["email_id"] != a.MethodID || ef["email_address"] != "claims@example.com" {
		t.Errorf("factor = %v", f)
	}

	// The JWKS is public, holds the signing key, and verifies the JWT.
	keys := h.jwks(p.id)
	if len(keys) != 1 {
		t.Fatalf("jwks has %d keys", len(keys))
	}
	k := keys[0]
	if k.KID != j.header["kid"] || k.Kty != "RSA" || k.Alg != "RS256" || k.Use != "sig" || !slices.Equal(k.KeyOps, []string{"verify"}) {
		t.Errorf("jwk = %+v", k)
	}
	if pub, err := k.public(); err != nil || pub.N.BitLen() != 2048 || pub.E != 65537 {
		t.Errorf("jwk public key: %v", err)
	}
	if err := verifyRS256(j, keys); err != nil {
		t.Errorf("JWT does not verify against the JWKS: %v", err)
	}
	tampered := j
	tampered.signingInput += "x"
	if verifyRS256(tampered, keys) == nil {
		t.Error("the test verifier accepts anything")
	}
	// The JWKS carries no private material.
	r := h.do("GET", "/v1/sessions/jwks/"+p.id, nil, noAuth)
	for _, field := range []string{`"d"`, `"p"`, `"q"`, `"dp"`, `"dq"`, `"qi"`} {
		if strings.Contains(string(r.raw), field+":") {
			t.Errorf("JWKS contains private field %s", field)
		}
	}
	wantError(t, h.do("GET", "/v1/sessions/jwks/project-test-00000000-0000-4000-8000-000000000000", nil, noAuth), 404, "project_not_found")
	wantError(t, h.do("GET", "/v1/sessions/jwks/nonsense", nil, noAuth), 404, "project_not_found")

	// Another project's JWKS has another key.
	q := h.project("Other", tenant.Test)
	if other := h.jwks(q.id); len(other) != 1 || other[0].KID == k.KID || other[0].N == k.N {
		t.Errorf("second project's JWKS = %+v", other)
	}
}

func TestSessionHotPath(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Hot", tenant.Test)
	a := p.login("hot@example.com", 60)
	start := h.clock.Now()
	id := a.Session.SessionID

	h.clock.Advance(30 * time.Second)
	r1 := into[authJSON](t, p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken}))
	r2 := into[authJSON](t, p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken}))
	if r1.SessionJWT != r2.SessionJWT {
		t.Error("two authenticate calls within a minute returned different JWTs")
	}
	if r1.SessionJWT != a.SessionJWT {
		t.Error("authenticate 30s after login re-signed instead of reusing the login JWT")
	}
	if r1.SessionToken != a.SessionToken || r1.Session.SessionID != id || r1.User.UserID != a.UserID {
		t.Errorf("authenticate by token = %+v", r1)
	}
	if got := h.lastAccessedAt(id); !got.Equal(start) {
		t.Errorf("last_accessed_at rewritten within a minute: %v, want %v", got, start)
	}
	if r1.Session.LastAccessedAt != wireTime(start) {
		t.Errorf("response last_accessed_at = %s, want %s", r1.Session.LastAccessedAt, wireTime(start))
	}

	h.clock.Advance(30 * time.Second) // 60s after login
	r3 := into[authJSON](t, p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken}))
	now := h.clock.Now()
	if got := h.lastAccessedAt(id); !got.Equal(now) {
		t.Errorf("last_accessed_at after 60s = %v, want %v", got, now)
	}
	if r3.Session.LastAccessedAt != wireTime(now) {
		t.Errorf("response last_accessed_at = %s, want %s", r3.Session.LastAccessedAt, wireTime(now))
	}
	if r3.SessionJWT != a.SessionJWT {
		t.Error("JWT re-signed after 60s; it should be reused while 60% of its life remains")
	}

	h.clock.Advance(2 * time.Minute) // 3 minutes after login
	r4 := into[authJSON](t, p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken}))
	if r4.SessionJWT == a.SessionJWT {
		t.Fatal("JWT still reused 3 minutes after it was minted")
	}
	j := decodeJWT(t, r4.SessionJWT)
	if j.num("iat") != h.clock.Now().Unix() || j.num("exp")-j.num("iat") != 300 {
		t.Errorf("fresh JWT iat/exp = %d/%d", j.num("iat"), j.num("exp"))
	}
	// The JWT path touches and reuses in the same way.
	r5 := into[authJSON](t, p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_jwt": r4.SessionJWT}))
	if r5.SessionJWT != r4.SessionJWT || r5.Session.SessionID != id {
		t.Errorf("authenticate by JWT = %+v", r5)
	}

	// A change to what the JWT says (the user's roles) is never hidden by
	// reuse, even inside the reuse window.
	h.clock.Advance(10 * time.Second)
	p.ok(200, "PUT", "/v1/users/"+a.UserID, map[string]any{"roles": []string{"editor"}})
	r6 := into[authJSON](t, p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken}))
	if r6.SessionJWT == r4.SessionJWT {
		t.Fatal("JWT reused after the user's roles changed")
	}
	sc, _ := decodeJWT(t, r6.SessionJWT).claims["https://stytch.com/session"].(map[string]any)
	if roles, _ := sc["roles"].([]any); len(roles) != 2 || roles[0] != "stytch_user" || roles[1] != "editor" {
		t.Errorf("JWT roles = %v", sc["roles"])
	}
	if !slices.Equal(r6.Session.Roles, []string{"stytch_user", "editor"}) {
		t.Errorf("session roles = %v", r6.Session.Roles)
	}
}

func TestSessionEndsWithUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Delete", tenant.Test)
	a := p.login("gone@example.com", 60)
	_, link := p.sendLink("gone@example.com", nil)
	if r := p.ok(200, "DELETE", "/v1/users/"+a.UserID, nil); r.str("user_id") != a.UserID {
		t.Errorf("delete = %s", r.raw)
	}
	wantError(t, p.call("GET", "/v1/users/"+a.UserID, nil), 404, "user_not_found")
	wantError(t, authBy(p, "session_token", a.SessionToken, nil), 404, "session_not_found")
	wantError(t, authBy(p, "session_jwt", a.SessionJWT, nil), 404, "session_not_found")
	wantError(t, p.call("POST", "/v1/magic_links/authenticate", map[string]any{"token": link}), 404, "magic_link_not_found")
	wantError(t, p.call("DELETE", "/v1/users/"+a.UserID, nil), 404, "user_not_found")
	// The address is free again: a new user, a new id.
	sent, _ := p.sendLink("gone@example.com", nil)
	if !sent.UserCreated || sent.UserID == a.UserID {
		t.Errorf("login_or_create after delete = %+v", sent)
	}
}

func TestSessionExpiredJWTStillAuthenticates(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Expired JWT", tenant.Test)
	a := p.login("jwt@example.com", 60)
	old := decodeJWT(t, a.SessionJWT)

	h.clock.Advance(10 * time.Minute)
	if old.num("exp") > h.clock.Now().Unix() {
		t.Fatal("the JWT should have expired by now")
	}
	r := into[authJSON](t, p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_jwt": a.SessionJWT}))
	if r.SessionJWT == a.SessionJWT || r.Session.SessionID != a.Session.SessionID {
		t.Fatalf("authenticate by expired JWT = %+v", r)
	}
	j := decodeJWT(t, r.SessionJWT)
	if now := h.clock.Now().Unix(); j.num("iat") != now || j.num("exp") != now+300 {
		t.Errorf("fresh JWT iat %d exp %d, now %d", j.num("iat"), j.num("exp"), now)
	}
	if err := verifyRS256(j, h.jwks(p.id)); err != nil {
		t.Errorf("fresh JWT: %v", err)
	}
	// The JWT never outlives its session.
	b := p.login("short@example.com", 5)
	h.clock.Advance(3 * time.Minute)
	r = into[authJSON](t, p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": b.SessionToken}))
	if j := decodeJWT(t, r.SessionJWT); j.num("exp") != h.clock.Now().Add(2*time.Minute).Unix() {
		t.Errorf("JWT exp %d outlives the session ending %d", j.num("exp"), h.clock.Now().Add(2*time.Minute).Unix())
	}
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Expiry", tenant.Test)
	a := p.login("exp@example.com", 5)

	h.clock.Advance(5*time.Minute - time.Second)
	p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken})
	h.clock.Advance(time.Second)
	wantError(t, authBy(p, "session_token", a.SessionToken, nil), 404, "session_not_found")
	wantError(t, authBy(p, "session_jwt", a.SessionJWT, nil), 404, "session_not_found")
	// An expired session cannot be revived by extending it.
	wantError(t, authBy(p, "session_token", a.SessionToken, map[string]any{"session_duration_minutes": 60}), 404, "session_not_found")
	r := p.ok(200, "GET", "/v1/sessions?user_id="+a.UserID, nil)
	if n := len(into[struct {
		Sessions []sessionJSON `json:"sessions"`
	}](t, r).Sessions); n != 0 {
		t.Errorf("expired session still listed (%d)", n)
	}

	// Extending moves expiry from now.
	b := p.login("exp@example.com", 5)
	h.clock.Advance(4 * time.Minute)
	r = p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": b.SessionToken, "session_duration_minutes": 10})
	if got := into[authJSON](t, r).Session.ExpiresAt; got != wireTime(h.clock.Now().Add(10*time.Minute)) {
		t.Errorf("extended expires_at = %s", got)
	}
	h.clock.Advance(9 * time.Minute)
	p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": b.SessionToken})
}

func TestSessionRevoke(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Revoke", tenant.Test)
	byID := p.login("rev@example.com", 60)
	byToken := p.login("rev@example.com", 60)
	byJWT := p.login("rev@example.com", 60)
	keep := p.login("rev@example.com", 60)

	for _, tc := range []struct {
		name string
		body map[string]any
		s    authJSON
	}{
		{"session_id", map[string]any{"session_id": byID.Session.SessionID}, byID},
		{"session_token", map[string]any{"session_token": byToken.SessionToken}, byToken},
		{"session_jwt", map[string]any{"session_jwt": byJWT.SessionJWT}, byJWT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := p.call("POST", "/v1/sessions/revoke", tc.body)
			if r.status != 200 || len(r.body) != 2 {
				t.Fatalf("revoke = %d %s", r.status, r.raw)
			}
			wantError(t, authBy(p, "session_token", tc.s.SessionToken, nil), 404, "session_not_found")
			// The JWT, although its signature is still valid, no longer authenticates.
			wantError(t, authBy(p, "session_jwt", tc.s.SessionJWT, nil), 404, "session_not_found")
			wantError(t, p.call("POST", "/v1/sessions/revoke", tc.body), 404, "session_not_found")
		})
	}
	p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": keep.SessionToken})
	r := p.ok(200, "GET", "/v1/sessions?user_id="+keep.UserID, nil)
	if s := into[struct {
		Sessions []sessionJSON `json:"sessions"`
	}](t, r).Sessions; len(s) != 1 || s[0].SessionID != keep.Session.SessionID {
		t.Errorf("sessions left = %+v", s)
	}

	for _, tc := range []struct {
		name string
		body map[string]any
		typ  string
	}{
		{"none", map[string]any{}, "no_session_revoke_arguments"},
		{"two", map[string]any{"session_id": keep.Session.SessionID, "session_token": keep.SessionToken}, "too_many_session_revoke_arguments"},
		{"bad id", map[string]any{"session_id": "session-test-nope"}, "invalid_session_id"},
	} {
		wantError(t, p.call("POST", "/v1/sessions/revoke", tc.body), 400, tc.typ)
	}
	wantError(t, p.call("POST", "/v1/sessions/revoke", map[string]any{"session_id": "session-test-" + uuid.NewString()}), 404, "session_not_found")
	wantError(t, p.call("GET", "/v1/sessions", nil), 400, "missing_argument")
}

func TestSessionJWTForgery(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Forgery", tenant.Test)
	victim := p.login("victim@example.com", 60)
	other := p.login("other@example.com", 60)
	genuine := decodeJWT(t, victim.SessionJWT)
	kid, priv := h.projectSigningKey(p.id)
	if kid != genuine.header["kid"] {
		t.Fatalf("stored kid %s != JWT kid %v", kid, genuine.header["kid"])
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	jwk, _ := json.Marshal(h.jwks(p.id)[0])
	stranger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, pendingLink := p.sendLink("victim@example.com", nil)
	hdr := func(alg, kid string) map[string]any { return map[string]any{"alg": alg, "typ": "JWT", "kid": kid} }
	with := func(edit func(c map[string]any)) map[string]any {
		c := cloneMap(genuine.claims)
		edit(c)
		return c
	}

	// Control: the real key with the genuine claims, even long expired, is
	// accepted. Every forgery below differs from it in one respect.
	control := signRS256(t, priv, hdr("RS256", kid), with(func(c map[string]any) {
		c["iat"], c["nbf"], c["exp"] = 1, 1, 2
	}))
	if r := authBy(p, "session_jwt", control, nil); r.status != 200 {
		t.Fatalf("control token rejected: %d %s", r.status, r.raw)
	}

	for _, tc := range []struct {
		name string
		tok  string
		// authOnly: a token only the holder of the project's private key
		// could mint; only authenticate's own consistency check is asserted
		// (revoke trusts the signature and does not compare sub).
		authOnly bool
	}{
		{"alg none", unsigned(t, hdr("none", kid), genuine.claims), false},
		{"alg none, no kid", unsigned(t, map[string]any{"alg": "none", "typ": "JWT"}, genuine.claims), false},
		{"HS256 keyed with public key DER", signHS256(t, pubDER, hdr("HS256", kid), genuine.claims), false},
		{"HS256 keyed with public key PEM", signHS256(t, pubPEM, hdr("HS256", kid), genuine.claims), false},
		{"HS256 keyed with the JWK", signHS256(t, jwk, hdr("HS256", kid), genuine.claims), false},
		{"unknown kid", signRS256(t, stranger, hdr("RS256", "jwk-test-"+uuid.NewString()), genuine.claims), false},
		{"known kid, other key", signRS256(t, stranger, hdr("RS256", kid), genuine.claims), false},
		{"no kid", signRS256(t, priv, map[string]any{"alg": "RS256", "typ": "JWT"}, genuine.claims), false},
		{"wrong typ", signRS256(t, priv, map[string]any{"alg": "RS256", "typ": "at+jwt", "kid": kid}, genuine.claims), false},
		{"wrong issuer", signRS256(t, priv, hdr("RS256", kid), with(func(c map[string]any) { c["iss"] = "stytch.com/project-test-evil" })), false},
		{"no issuer", signRS256(t, priv, hdr("RS256", kid), with(func(c map[string]any) { delete(c, "iss") })), false},
		{"wrong audience", signRS256(t, priv, hdr("RS256", kid), with(func(c map[string]any) { c["aud"] = []string{"project-test-evil"} })), false},
		{"wrong audience string", signRS256(t, priv, hdr("RS256", kid), with(func(c map[string]any) { c["aud"] = "project-test-evil" })), false},
		{"no audience", signRS256(t, priv, hdr("RS256", kid), with(func(c map[string]any) { delete(c, "aud") })), false},
		{"no session claim", signRS256(t, priv, hdr("RS256", kid), with(func(c map[string]any) { delete(c, "https://stytch.com/session") })), false},
		{"subject of another user", signRS256(t, priv, hdr("RS256", kid), with(func(c map[string]any) { c["sub"] = other.UserID })), true},
		{"payload swapped under a genuine signature", func() string {
			parts := strings.Split(victim.SessionJWT, ".")
			swapped := strings.Split(other.SessionJWT, ".")
			return parts[0] + "." + swapped[1] + "." + parts[2]
		}(), false},
		{"signature stripped", strings.Join(strings.Split(victim.SessionJWT, ".")[:2], ".") + ".", false},
		{"garbage", "not.a.jwt", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := authBy(p, "session_jwt", tc.tok, nil)
			if r.status < 400 || r.status >= 500 {
				t.Fatalf("forged JWT authenticate = %d %s", r.status, r.raw)
			}
			if typ := r.str("error_type"); typ != "jwt_invalid" && typ != "unable_to_parse_session_jwt" {
				t.Errorf("error_type = %s", typ)
			}
			if tc.authOnly {
				return
			}
			// A forged JWT cannot revoke the session it names either.
			if r := p.call("POST", "/v1/sessions/revoke", map[string]any{"session_jwt": tc.tok}); r.status < 400 || r.status >= 500 {
				t.Fatalf("forged JWT revoke = %d %s", r.status, r.raw)
			}
			// Nor attach a magic-link factor to it (and the link survives).
			if r := p.call("POST", "/v1/magic_links/authenticate", map[string]any{"token": pendingLink, "session_jwt": tc.tok}); r.status < 400 || r.status >= 500 {
				t.Fatalf("forged JWT with magic_links.authenticate = %d %s", r.status, r.raw)
			}
		})
	}
	// The victim's session survived every attempt, and the link was not burned.
	p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": victim.SessionToken})
	r := p.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": pendingLink, "session_token": victim.SessionToken})
	if got := into[authJSON](t, r); got.Session == nil || got.Session.SessionID != victim.Session.SessionID {
		t.Errorf("magic link did not attach to the victim's session: %s", r.raw)
	}
}

func TestSessionArguments(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Args", tenant.Test)
	a := p.login("args@example.com", 60)
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		typ    string
	}{
		{"token and jwt", map[string]any{"session_token": a.SessionToken, "session_jwt": a.SessionJWT}, 400, "too_many_session_arguments"},
		{"neither", map[string]any{}, 400, "no_session_arguments"},
		{"duration 4", map[string]any{"session_token": a.SessionToken, "session_duration_minutes": 4}, 400, "invalid_session_duration_minutes"},
		{"duration 0", map[string]any{"session_token": a.SessionToken, "session_duration_minutes": 0}, 400, "invalid_session_duration_minutes"},
		{"duration 527041", map[string]any{"session_token": a.SessionToken, "session_duration_minutes": 527041}, 400, "invalid_session_duration_minutes"},
		{"unknown token", map[string]any{"session_token": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, 404, "session_not_found"},
		{"short token", map[string]any{"session_token": "abc"}, 404, "session_not_found"},
		{"oversized JWT", map[string]any{"session_jwt": strings.Repeat("a", 20000)}, 400, "unable_to_parse_session_jwt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, p.call("POST", "/v1/sessions/authenticate", tc.body), tc.status, tc.typ)
		})
	}
	// A rejected duration changed nothing.
	r := into[authJSON](t, p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken}))
	if r.Session.ExpiresAt != a.Session.ExpiresAt {
		t.Errorf("expires_at changed to %s", r.Session.ExpiresAt)
	}
	r = into[authJSON](t, p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken, "session_duration_minutes": 527040}))
	if r.Session.ExpiresAt != wireTime(h.clock.Now().Add(527040*time.Minute)) {
		t.Errorf("expires_at after the maximum duration = %s", r.Session.ExpiresAt)
	}
}

func TestSessionCustomClaims(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Custom", tenant.Test)
	a := p.login("custom@example.com", 60)

	claimsOf := func(r *resp) (map[string]any, jwt) {
		t.Helper()
		ar := into[authJSON](t, r)
		return ar.Session.CustomClaims, decodeJWT(t, ar.SessionJWT)
	}

	r := p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken,
		"session_custom_claims": map[string]any{"plan": "pro", "seats": 3, "flags": map[string]any{"beta": true}}})
	cc, j := claimsOf(r)
	if len(cc) != 3 || cc["plan"] != "pro" || cc["seats"] != float64(3) {
		t.Errorf("custom_claims = %v", cc)
	}
	if j.claims["plan"] != "pro" || j.claims["seats"] != float64(3) || j.claims["flags"].(map[string]any)["beta"] != true {
		t.Errorf("JWT lacks the custom claims: %v", j.claims)
	}

	// Merge: null deletes, others add or replace, absent keys stay.
	r = p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken,
		"session_custom_claims": map[string]any{"plan": nil, "seats": 5, "team": "red"}})
	cc, j = claimsOf(r)
	if _, ok := cc["plan"]; ok || len(cc) != 3 || cc["seats"] != float64(5) || cc["team"] != "red" || cc["flags"] == nil {
		t.Errorf("merged custom_claims = %v", cc)
	}
	if _, ok := j.claims["plan"]; ok || j.claims["seats"] != float64(5) || j.claims["team"] != "red" {
		t.Errorf("merged JWT claims = %v", j.claims)
	}
	// Claims persist on later plain authenticate calls.
	cc, _ = claimsOf(p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken}))
	if cc["team"] != "red" || cc["seats"] != float64(5) {
		t.Errorf("claims lost: %v", cc)
	}

	// Reserved names are ignored, never override the registered claims.
	r = p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken,
		"session_custom_claims": map[string]any{"iss": "evil", "sub": "user-test-evil", "aud": "evil", "exp": 9999999999,
			"nbf": 0, "iat": 0, "jti": "x", "https://stytch.com/session": "evil", "https://stytch.com/organization": "evil"}})
	cc, j = claimsOf(r)
	for _, k := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "https://stytch.com/session", "https://stytch.com/organization"} {
		if _, ok := cc[k]; ok {
			t.Errorf("reserved claim %q stored", k)
		}
	}
	if j.claims["iss"] != "stytch.com/"+p.id || j.claims["sub"] != a.UserID || j.num("exp")-j.num("iat") != 300 {
		t.Errorf("reserved claims overridden: %v", j.claims)
	}
	if _, ok := j.claims["https://stytch.com/session"].(map[string]any); !ok {
		t.Errorf("session claim overridden: %v", j.claims["https://stytch.com/session"])
	}
	if err := verifyRS256(j, h.jwks(p.id)); err != nil {
		t.Error(err)
	}

	// Size limits: on the request, and on the merged result.
	wantError(t, p.call("POST", "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken,
		"session_custom_claims": map[string]any{"big": strings.Repeat("x", 4100)}}), 400, "custom_claims_too_large")
	p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken,
		"session_custom_claims": map[string]any{"half1": strings.Repeat("x", 2500)}})
	wantError(t, p.call("POST", "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken,
		"session_custom_claims": map[string]any{"half2": strings.Repeat("y", 2500)}}), 400, "custom_claims_too_large")
	cc, _ = claimsOf(p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken}))
	if _, ok := cc["half2"]; ok || len(cc["half1"].(string)) != 2500 {
		t.Errorf("claims after a rejected merge: %d keys", len(cc))
	}

	// Claims given at magic-link authenticate start the session with them.
	_, tok := p.sendLink("custom@example.com", nil)
	r = p.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": tok, "session_duration_minutes": 30,
		"session_custom_claims": map[string]any{"via": "magic", "iss": "evil"}})
	cc, j = claimsOf(r)
	if len(cc) != 1 || cc["via"] != "magic" || j.claims["via"] != "magic" || j.claims["iss"] != "stytch.com/"+p.id {
		t.Errorf("magic link session claims = %v / %v", cc, j.claims)
	}
}

package connectedapps_test

import (
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/tenant"
)

const redirect = "https://app.example/callback"

// setup makes a project, a first-party client with full access and a
// signed-in user with a name, a verified email and trusted metadata.
func setup(t *testing.T, client map[string]any) (*harness, *project, appJSON, authJSON) {
	h := newHarness(t)
	p := h.project("Flow", tenant.Test)
	body := map[string]any{"client_type": "first_party", "full_access_allowed": true, "redirect_urls": []string{redirect, redirect + "?app=1"}}
	for k, v := range client {
		body[k] = v
	}
	c := p.createClient(body)
	p.newUser("alice@example.com", map[string]any{"name": map[string]any{"first_name": "Alice", "last_name": "Liddell"},
		"trusted_metadata": map[string]any{"tier": "gold", "n": 7}})
	a := p.login("alice@example.com")
	return h, p, c, a
}

// authorize runs idp.oauth.authorize with consent and returns the code.
func (p *project) authorize(t *testing.T, body map[string]any) string {
	t.Helper()
	r := p.OK(200, "POST", "/v1/idp/oauth/authorize", body)
	code := r.Str("authorization_code")
	if len(code) != 44 {
		t.Fatalf("authorization_code %q: %s", code, r.Raw)
	}
	u, err := url.Parse(r.Str("redirect_uri"))
	if err != nil || u.Query().Get("code") != code {
		t.Fatalf("redirect_uri %q does not carry the code", r.Str("redirect_uri"))
	}
	return code
}

func baseAuthorize(c appJSON, a authJSON, scopes ...string) map[string]any {
	return map[string]any{"client_id": c.ClientID, "redirect_uri": redirect, "response_type": "code", "scopes": scopes,
		"session_token": a.SessionToken, "consent_granted": true}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func (p *project) redeem(t *testing.T, c appJSON, code string, extra url.Values) tokenJSON {
	t.Helper()
	v := url.Values{"grant_type": {"authorization_code"}, "client_id": {c.ClientID}, "code": {code}, "redirect_uri": {redirect}}
	if c.ClientSecret != nil {
		v.Set("client_secret", *c.ClientSecret)
	}
	for k, vs := range extra {
		v[k] = vs
	}
	r := p.mustForm("token", v)
	if r.Status != 200 {
		t.Fatalf("token endpoint = %d: %s", r.Status, r.Raw)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", r.Header.Get("Cache-Control"))
	}
	return into[tokenJSON](t, r)
}

func TestAuthorizationCodeFlowAndExchange(t *testing.T) {
	t.Parallel()
	h, p, c, a := setup(t, map[string]any{"access_token_template_content": `{"tier": {{ user.trusted_metadata.tier }}, "gone": {{ user.trusted_metadata.nope }}, "sub": "x", "roles": {{ user.rbac.roles }}}`,
		"access_token_custom_audience": "https://api.example"})

	// authorizeStart: a first-party client needs no consent.
	start := p.OK(200, "POST", "/v1/idp/oauth/authorize/start", with(baseAuthorize(c, a, "openid", "email", "profile", "full_access"), "consent_granted", nil))
	st := into[startJSON](t, start)
	if st.UserID != a.UserID || st.User.UserID != a.UserID || st.ConsentRequired || st.Client.ClientID != c.ClientID ||
		st.Client.ClientType != "first_party" || len(st.ScopeResults) != 4 || st.ScopeResults[3].Scope != "full_access" ||
		!st.ScopeResults[3].IsGrantable || st.ScopeResults[0].Description == "" {
		t.Fatalf("authorizeStart = %s", start.Raw)
	}

	verifier := strings.Repeat("v", 43)
	r := p.OK(200, "POST", "/v1/idp/oauth/authorize", with(baseAuthorize(c, a, "openid", "email", "profile", "full_access"),
		"state", "st&1", "nonce", "n-0S6", "code_challenge", challenge(verifier), "redirect_uri", redirect+"?app=1"))
	code := r.Str("authorization_code")
	want := redirect + "?app=1&code=" + url.QueryEscape(code) + "&state=st%261&iss=" + url.QueryEscape("stytch.com/"+p.ID)
	if r.Str("redirect_uri") != want {
		t.Errorf("redirect_uri = %s\nwant %s", r.Str("redirect_uri"), want)
	}
	if n := h.count(`SELECT COUNT(*) FROM connected_app_codes WHERE code_hash = ? AND used_at IS NULL`, secrets.Hash(code)); n != 1 {
		t.Errorf("code rows by hash = %d", n)
	}
	if n := h.count(`SELECT COUNT(*) FROM connected_app_codes WHERE code_hash = ?`, code); n != 0 {
		t.Error("code stored in plaintext")
	}

	tok := p.redeem(t, c, code, url.Values{"code_verifier": {verifier}, "redirect_uri": {redirect + "?app=1"}})
	if tok.TokenType != "bearer" || tok.ExpiresIn != 3600 || tok.Scope != "openid email profile full_access" || tok.RefreshToken != "" || tok.IDToken == "" {
		t.Fatalf("token = %+v", tok)
	}
	hdr, claims := jwtParts(t, tok.AccessToken)
	if hdr["alg"] != "RS256" || hdr["typ"] != "JWT" || !strings.HasPrefix(hdr["kid"].(string), "jwk-test-") {
		t.Errorf("header = %v", hdr)
	}
	aud, _ := claims["aud"].([]any)
	if claims["iss"] != "stytch.com/"+p.ID || claims["sub"] != a.UserID || len(aud) != 2 || aud[0] != p.ID || aud[1] != "https://api.example" ||
		claims["client_id"] != c.ClientID || claims["scope"] != "openid email profile full_access" || claims["iat"] != float64(t0.Unix()) ||
		claims["nbf"] != float64(t0.Unix()) || claims["exp"] != float64(t0.Add(time.Hour).Unix()) || len(claims["jti"].(string)) != 44 {
		t.Errorf("access claims = %v", claims)
	}
	// The template: metadata filled in, missing values dropped, registered claims kept.
	if claims["tier"] != "gold" || claims["sub"] != a.UserID || !slices.Equal(anyStrings(claims["roles"]), []string{"stytch_user"}) {
		t.Errorf("template claims = %v", claims)
	}
	if _, ok := claims["gone"]; ok {
		t.Errorf("a missing template value became a claim: %v", claims)
	}
	_, id := jwtParts(t, tok.IDToken)
	if id["aud"].([]any)[0] != c.ClientID || id["nonce"] != "n-0S6" || id["email"] != "alice@example.com" || id["email_verified"] != true ||
		id["name"] != "Alice Liddell" || id["given_name"] != "Alice" || id["family_name"] != "Liddell" || id["sub"] != a.UserID ||
		id["exp"] != float64(t0.Add(time.Hour).Unix()) {
		t.Errorf("id token = %v", id)
	}
	if _, ok := id["phone_number"]; ok {
		t.Error("id token has phone claims without the phone scope")
	}

	// Introspection: active with the claims, RFC 7662 shape.
	in := p.mustForm("introspect", url.Values{"client_id": {c.ClientID}, "client_secret": {*c.ClientSecret}, "token": {tok.AccessToken}})
	if in.Status != 200 || in.Body["active"] != true || in.Body["sub"] != a.UserID || in.Body["scope"] != tok.Scope ||
		in.Body["client_id"] != c.ClientID || in.Body["token_type"] != "access_token" || in.Body["tier"] != "gold" || in.Body["jti"] != nil {
		t.Errorf("introspect = %s", in.Raw)
	}

	// Exchange for a session, once.
	h.Clock.Advance(4 * time.Minute)
	ex := p.OK(200, "POST", "/v1/sessions/exchange_access_token", map[string]any{"access_token": tok.AccessToken,
		"session_duration_minutes": 30, "session_custom_claims": map[string]any{"via": "exchange"}})
	e := into[authJSON](t, ex)
	if e.UserID != a.UserID || e.User.UserID != a.UserID || e.Session == nil || len(e.SessionToken) != 44 || e.SessionJWT == "" ||
		e.Session.SessionID == a.Session.SessionID || e.Session.CustomClaims["via"] != "exchange" ||
		e.Session.ExpiresAt != t0.Add(34*time.Minute).Format(time.RFC3339) {
		t.Fatalf("exchange = %s", ex.Raw)
	}
	f := e.Session.AuthenticationFactors
	if len(f) != 1 || f[0].Type != "oauth" || f[0].DeliveryMethod != "oauth_access_token_exchange" || f[0].Exchange == nil || f[0].Exchange.ClientID != c.ClientID {
		t.Errorf("factors = %+v", f)
	}
	auth := p.OK(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": e.SessionToken})
	if into[authJSON](t, auth).Session.SessionID != e.Session.SessionID {
		t.Errorf("sessions.authenticate = %s", auth.Raw)
	}
	wantError(t, p.Call("POST", "/v1/sessions/exchange_access_token", map[string]any{"access_token": tok.AccessToken, "session_duration_minutes": 30}),
		404, "idp_access_token_could_not_be_exchanged")

	// users.connectedApps shows the grant.
	ua := p.OK(200, "GET", "/v1/users/"+a.UserID+"/connected_apps", nil)
	apps, _ := ua.Body["connected_apps"].([]any)
	if len(apps) != 1 || apps[0].(map[string]any)["connected_app_id"] != c.ClientID ||
		apps[0].(map[string]any)["scopes_granted"] != "openid email profile full_access" || apps[0].(map[string]any)["client_type"] != "first_party" {
		t.Errorf("users.connectedApps = %s", ua.Raw)
	}
}

func anyStrings(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func TestExchangeRefusals(t *testing.T) {
	t.Parallel()
	h, p, c, a := setup(t, nil)
	exchange := func(tok string) *resp {
		return p.Call("POST", "/v1/sessions/exchange_access_token", map[string]any{"access_token": tok, "session_duration_minutes": 10})
	}
	issue := func(body map[string]any) tokenJSON {
		return p.redeem(t, c, p.authorize(t, body), nil)
	}
	// Without full_access.
	wantError(t, exchange(issue(baseAuthorize(c, a, "openid")).AccessToken), 400, "oauth_access_token_exchange_missing_full_access")
	// Too old: more than 5 minutes after issue (the code was redeemed at t0).
	old := issue(baseAuthorize(c, a, "full_access"))
	h.Clock.Advance(5*time.Minute + time.Second)
	wantError(t, exchange(old.AccessToken), 400, "oauth_access_token_exchange_token_too_old")
	// Authorized by user_id, not a session: cannot be exchanged.
	byUser := issue(with(baseAuthorize(c, a, "full_access"), "session_token", nil, "user_id", a.UserID))
	wantError(t, exchange(byUser.AccessToken), 400, "no_associated_session_passed_in")
	// Garbage and a session JWT are not access tokens.
	wantError(t, exchange("not-a-jwt"), 400, "oauth_access_token_exchange_token_invalid_grant")
	wantError(t, exchange(a.SessionJWT), 400, "oauth_access_token_exchange_token_invalid_grant")
	wantError(t, p.Call("POST", "/v1/sessions/exchange_access_token", map[string]any{}), 400, "missing_argument")
	// A tampered token fails its signature.
	good := issue(baseAuthorize(c, a, "full_access"))
	parts := strings.Split(good.AccessToken, ".")
	_, cl := jwtParts(t, good.AccessToken)
	cl["sub"] = "user-test-00000000-0000-0000-0000-000000000000"
	parts[1] = b64JSON(t, cl)
	wantError(t, exchange(strings.Join(parts, ".")), 400, "oauth_access_token_exchange_token_invalid_grant")
	// Bad session options are refused before the token is spent.
	wantError(t, p.Call("POST", "/v1/sessions/exchange_access_token", map[string]any{"access_token": good.AccessToken, "session_duration_minutes": 1}),
		400, "invalid_session_duration_minutes")
	// Another project's secret cannot exchange it.
	other := h.project("Other", tenant.Test)
	wantError(t, other.Call("POST", "/v1/sessions/exchange_access_token", map[string]any{"access_token": good.AccessToken, "session_duration_minutes": 10}),
		400, "oauth_access_token_exchange_token_invalid_grant")
	// Without session_duration_minutes the exchange spends the token and
	// starts no session.
	r := p.OK(200, "POST", "/v1/sessions/exchange_access_token", map[string]any{"access_token": good.AccessToken})
	if r.Body["session"] != nil || r.Str("session_token") != "" || r.Str("user_id") != a.UserID {
		t.Errorf("exchange without duration = %s", r.Raw)
	}
	wantError(t, exchange(good.AccessToken), 404, "idp_access_token_could_not_be_exchanged")
	// A client that stopped allowing full access cannot be exchanged.
	fresh := issue(baseAuthorize(c, a, "full_access"))
	p.OK(200, "PUT", "/v1/connected_apps/clients/"+c.ClientID, map[string]any{"full_access_allowed": false})
	wantError(t, exchange(fresh.AccessToken), 400, "oauth_access_token_exchange_missing_full_access")
	p.OK(200, "PUT", "/v1/connected_apps/clients/"+c.ClientID, map[string]any{"full_access_allowed": true})
	// Revoked consent.
	p.OK(200, "POST", "/v1/users/"+a.UserID+"/connected_apps/"+c.ClientID+"/revoke", map[string]any{})
	wantError(t, exchange(fresh.AccessToken), 401, "connected_app_consent_revoked")
}

func TestExchangeExactlyOnceUnderRace(t *testing.T) {
	t.Parallel()
	h, p, c, a := setup(t, nil)
	tok := p.redeem(t, c, p.authorize(t, baseAuthorize(c, a, "full_access")), nil)
	const n = 20
	results := make([]*resp, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := p.Send("POST", "/v1/sessions/exchange_access_token", map[string]any{"access_token": tok.AccessToken, "session_duration_minutes": 10})
			if err != nil {
				t.Error(err)
			}
			results[i] = r
		}()
	}
	wg.Wait()
	ok, refused := 0, 0
	for _, r := range results {
		switch {
		case r == nil:
		case r.Status == 200:
			ok++
		case r.Status == 404 && r.Str("error_type") == "idp_access_token_could_not_be_exchanged":
			refused++
		default:
			t.Errorf("unexpected %d %s", r.Status, r.Raw)
		}
	}
	if ok != 1 || refused != n-1 {
		t.Errorf("%d exchanges succeeded, %d refused; want 1 and %d", ok, refused, n-1)
	}
	if got := h.count(`SELECT COUNT(*) FROM sessions WHERE project_id = ? AND user_id = ?`, p.ID, a.UserID); got != 2 {
		t.Errorf("%d sessions, want the login's and one exchange's", got)
	}
}

func TestCodeRedemption(t *testing.T) {
	t.Parallel()
	h, p, c, a := setup(t, nil)
	verifier := strings.Repeat("k", 50)
	pkce := with(baseAuthorize(c, a, "openid", "offline_access"), "code_challenge", challenge(verifier))
	post := func(v url.Values) *resp {
		return p.mustForm("token", v)
	}
	params := func(code string, kv ...string) url.Values {
		v := url.Values{"grant_type": {"authorization_code"}, "client_id": {c.ClientID}, "client_secret": {*c.ClientSecret},
			"code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier}}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	code := p.authorize(t, pkce)
	wantOAuthError(t, post(params(code, "client_secret", "wrong-secret-wrong-secret")), 400, "invalid_client")
	wantOAuthError(t, post(params(code, "client_secret", "")), 400, "invalid_client")
	if r, _ := p.form("token", params(code, "client_id", "", "client_secret", ""), c.ClientID, "nope"); r.Status != 401 || r.Str("error") != "invalid_client" {
		t.Errorf("wrong secret over Basic = %d %s", r.Status, r.Raw)
	}
	wantOAuthError(t, post(params(code, "redirect_uri", redirect+"?app=1")), 400, "invalid_grant")
	wantOAuthError(t, post(params(code, "code_verifier", strings.Repeat("x", 50))), 400, "invalid_grant")
	wantOAuthError(t, post(params(code, "code_verifier", "")), 400, "invalid_grant")
	wantOAuthError(t, post(params(code, "grant_type", "client_credentials")), 400, "unsupported_grant_type")
	wantOAuthError(t, post(params(code, "grant_type", "")), 400, "invalid_request")
	wantOAuthError(t, post(params(code, "code", "")), 400, "invalid_request")
	wantOAuthError(t, post(params("x"+code[1:])), 400, "invalid_grant")

	// The right request works over Basic too; the failures above did not burn the code.
	r, err := p.form("token", params(code, "client_id", "", "client_secret", ""), c.ClientID, *c.ClientSecret)
	if err != nil || r.Status != 200 {
		t.Fatalf("redeem over Basic = %v %s", err, r.Raw)
	}
	first := into[tokenJSON](t, r)
	if len(first.RefreshToken) != 44 || first.IDToken == "" {
		t.Fatalf("tokens = %+v", first)
	}
	// Reuse: refused, and what the code issued is revoked.
	wantOAuthError(t, post(params(code)), 400, "invalid_grant")
	in := p.mustForm("introspect", url.Values{"client_id": {c.ClientID}, "client_secret": {*c.ClientSecret}, "token": {first.AccessToken}})
	if in.Body["active"] != false {
		t.Errorf("access token still active after code reuse: %s", in.Raw)
	}
	wantOAuthError(t, post(url.Values{"grant_type": {"refresh_token"}, "client_id": {c.ClientID}, "client_secret": {*c.ClientSecret},
		"refresh_token": {first.RefreshToken}}), 400, "invalid_grant")

	// Another client cannot redeem a code.
	c2 := p.createClient(map[string]any{"client_type": "first_party", "redirect_urls": []string{redirect}})
	code2 := p.authorize(t, baseAuthorize(c, a, "openid"))
	wantOAuthError(t, post(url.Values{"grant_type": {"authorization_code"}, "client_id": {c2.ClientID}, "client_secret": {*c2.ClientSecret},
		"code": {code2}, "redirect_uri": {redirect}}), 400, "invalid_grant")
	// A code without PKCE refuses a verifier.
	wantOAuthError(t, post(params(code2)), 400, "invalid_grant")
	// Expiry: 5 minutes.
	h.Clock.Advance(5 * time.Minute)
	wantOAuthError(t, post(params(code2, "code_verifier", "")), 400, "invalid_grant")

	// JSON bodies are accepted as well as forms.
	code3 := p.authorize(t, baseAuthorize(c, a, "openid"))
	req := map[string]any{"grant_type": "authorization_code", "client_id": c.ClientID, "client_secret": *c.ClientSecret, "code": code3, "redirect_uri": redirect}
	jr := p.postJSON("token", req)
	if jr.Status != 200 || jr.Str("access_token") == "" {
		t.Errorf("JSON token request = %s", jr.Raw)
	}
}

func TestCodeRedeemedOnceUnderRace(t *testing.T) {
	t.Parallel()
	_, p, c, a := setup(t, nil)
	code := p.authorize(t, baseAuthorize(c, a, "openid"))
	const n = 20
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := p.form("token", url.Values{"grant_type": {"authorization_code"}, "client_id": {c.ClientID},
				"client_secret": {*c.ClientSecret}, "code": {code}, "redirect_uri": {redirect}}, "", "")
			if err != nil {
				t.Error(err)
				return
			}
			statuses[i] = r.Status
		}()
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		if s == 200 {
			ok++
		} else if s != 400 {
			t.Errorf("status %d", s)
		}
	}
	if ok != 1 {
		t.Errorf("%d redemptions succeeded, want 1", ok)
	}
}

func TestRefreshTokens(t *testing.T) {
	t.Parallel()
	h, p, c, a := setup(t, map[string]any{"bypass_consent_for_offline_access": true, "access_token_expiry_minutes": 15})
	refresh := func(cl appJSON, rt string, kv ...string) *resp {
		v := url.Values{"grant_type": {"refresh_token"}, "client_id": {cl.ClientID}, "refresh_token": {rt}}
		if cl.ClientSecret != nil {
			v.Set("client_secret", *cl.ClientSecret)
		}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return p.mustForm("token", v)
	}
	// Confidential: the refresh token is not rotated and its life is extended.
	tok := p.redeem(t, c, p.authorize(t, baseAuthorize(c, a, "openid", "offline_access", "full_access")), nil)
	if tok.RefreshToken == "" || tok.ExpiresIn != 900 {
		t.Fatalf("tokens = %+v", tok)
	}
	h.Clock.Advance(89 * 24 * time.Hour)
	r := refresh(c, tok.RefreshToken)
	if r.Status != 200 || r.Str("refresh_token") != "" || r.Str("scope") != "openid offline_access full_access" || r.Str("id_token") == "" {
		t.Fatalf("confidential refresh = %s", r.Raw)
	}
	h.Clock.Advance(89 * 24 * time.Hour) // 178 days after issue: alive only because the use extended it
	if r := refresh(c, tok.RefreshToken, "scope", "openid"); r.Status != 200 || r.Str("scope") != "openid" {
		t.Fatalf("narrowed refresh = %s", r.Raw)
	}
	wantOAuthError(t, refresh(c, tok.RefreshToken, "scope", "openid profile"), 400, "invalid_scope")
	in := p.mustForm("introspect", url.Values{"client_id": {c.ClientID}, "client_secret": {*c.ClientSecret}, "token": {tok.RefreshToken},
		"token_type_hint": {"refresh_token"}})
	if in.Body["active"] != true || in.Body["token_type"] != "refresh_token" || in.Body["sub"] != a.UserID ||
		in.Body["scope"] != "openid offline_access full_access" {
		t.Errorf("introspect refresh token = %s", in.Raw)
	}
	if n := h.count(`SELECT COUNT(*) FROM connected_app_refresh_tokens WHERE token_hash = ?`, secrets.Hash(tok.RefreshToken)); n != 1 {
		t.Errorf("refresh token rows by hash = %d", n)
	}
	h.Clock.Advance(91 * 24 * time.Hour)
	wantOAuthError(t, refresh(c, tok.RefreshToken), 400, "invalid_grant")

	// Public: PKCE is required, no secret, and the refresh token rotates.
	pub := p.createClient(map[string]any{"client_type": "first_party_public", "redirect_urls": []string{redirect}, "bypass_consent_for_offline_access": true})
	a2 := p.login("alice@example.com") // the first session has expired by now
	wantError(t, p.Call("POST", "/v1/idp/oauth/authorize", baseAuthorize(pub, a2, "openid", "offline_access")), 400, "pkce_required_for_idp_authorization_flow")
	wantError(t, p.Call("POST", "/v1/idp/oauth/authorize", with(baseAuthorize(pub, a2, "openid"), "code_challenge", "short")), 400, "invalid_pkce_code_challenge")
	verifier := strings.Repeat("p", 64)
	code := p.authorize(t, with(baseAuthorize(pub, a2, "openid", "offline_access"), "code_challenge", challenge(verifier)))
	wantOAuthError(t, p.mustForm("token", url.Values{"grant_type": {"authorization_code"}, "client_id": {pub.ClientID}, "client_secret": {"anything-at-all"},
		"code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier}}), 400, "invalid_client")
	ptok := p.redeem(t, pub, code, url.Values{"code_verifier": {verifier}})
	r = refresh(pub, ptok.RefreshToken)
	next := r.Str("refresh_token")
	if r.Status != 200 || next == "" || next == ptok.RefreshToken {
		t.Fatalf("public refresh = %s", r.Raw)
	}
	if r := refresh(pub, next); r.Status != 200 || r.Str("refresh_token") == "" {
		t.Fatalf("second public refresh = %s", r.Raw)
	}
	// Replaying a rotated-out token revokes the whole grant.
	wantOAuthError(t, refresh(pub, ptok.RefreshToken), 400, "invalid_grant")
	wantOAuthError(t, refresh(pub, next), 400, "invalid_grant")
	// A refresh token of one client is useless to another.
	wantOAuthError(t, refresh(c, next), 400, "invalid_grant")
}

func TestConsentRules(t *testing.T) {
	t.Parallel()
	_, p, fp, a := setup(t, nil)
	tp := p.createClient(map[string]any{"client_type": "third_party", "redirect_urls": []string{redirect}})
	start := func(c appJSON, kv ...any) *resp {
		return p.Call("POST", "/v1/idp/oauth/authorize/start", with(with(baseAuthorize(c, a, "openid", "email"), "consent_granted", nil), kv...))
	}
	consent := func(r *resp) bool {
		t.Helper()
		if r.Status != 200 {
			t.Fatalf("authorizeStart = %s", r.Raw)
		}
		return r.Body["consent_required"] == true
	}
	if consent(start(fp)) {
		t.Error("first party asked for consent")
	}
	if !consent(start(fp, "prompt", "consent")) {
		t.Error("prompt=consent did not ask")
	}
	if !consent(start(fp, "scopes", []string{"openid", "offline_access"})) {
		t.Error("offline_access without bypass did not ask")
	}
	if !consent(start(tp)) {
		t.Error("third party did not ask the first time")
	}
	// Denied: an access_denied redirect and no code, no grant.
	r := p.OK(200, "POST", "/v1/idp/oauth/authorize", with(baseAuthorize(tp, a, "openid", "email"), "consent_granted", false, "state", "s1"))
	if r.Str("authorization_code") != "" || !strings.HasPrefix(r.Str("redirect_uri"), redirect+"?error=access_denied&") ||
		!strings.Contains(r.Str("redirect_uri"), "&state=s1") {
		t.Errorf("denied authorize = %s", r.Raw)
	}
	if consent(start(tp)) == false {
		t.Error("a denial counted as consent")
	}
	p.authorize(t, baseAuthorize(tp, a, "openid", "email"))
	if consent(start(tp)) {
		t.Error("third party asked again for granted scopes")
	}
	if consent(start(tp, "scopes", []string{"openid"})) {
		t.Error("third party asked again for a subset")
	}
	if !consent(start(tp, "scopes", []string{"openid", "phone"})) {
		t.Error("third party did not ask for a new scope")
	}
	// full_access: never for third-party clients, and only with full_access_allowed.
	wantError(t, start(tp, "scopes", []string{"full_access"}), 400, "third_party_clients_cannot_use_full_access")
	wantError(t, p.Call("POST", "/v1/idp/oauth/authorize", with(baseAuthorize(tp, a, "full_access"))), 400, "third_party_clients_cannot_use_full_access")
	nofa := p.createClient(map[string]any{"client_type": "first_party", "redirect_urls": []string{redirect}})
	wantError(t, start(nofa, "scopes", []string{"full_access"}), 400, "oauth_invalid_scope_requested")
	// Validation order and errors.
	wantError(t, start(fp, "redirect_uri", "https://evil.example/cb"), 401, "connected_app_supplied_redirect_url_not_found_in_client")
	wantError(t, start(fp, "redirect_uri", redirect+"/"), 401, "connected_app_supplied_redirect_url_not_found_in_client")
	wantError(t, start(fp, "client_id", "connected-app-test-00000000-0000-0000-0000-000000000000"), 404, "connected_app_not_found")
	wantError(t, start(fp, "response_type", "token"), 400, "invalid_argument")
	wantError(t, start(fp, "scopes", []string{"openid", "admin"}), 400, "oauth_invalid_scope_requested")
	wantError(t, start(fp, "scopes", []string{}), 400, "oauth_invalid_scope_requested")
	wantError(t, start(fp, "prompt", "login"), 400, "invalid_argument")
	wantError(t, start(fp, "session_token", nil), 400, "no_oauth_authorize_user_selector")
	wantError(t, start(fp, "user_id", a.UserID), 400, "too_many_user_selection_arguments")
	wantError(t, start(fp, "session_token", strings.Repeat("x", 44)), 404, "session_not_found")
	if r := start(fp, "session_token", nil, "session_jwt", a.SessionJWT); r.Status != 200 || r.Str("user_id") != a.UserID {
		t.Errorf("authorizeStart by JWT = %s", r.Raw)
	}
	if r := start(fp, "session_token", nil, "user_id", a.UserID); r.Status != 200 {
		t.Errorf("authorizeStart by user_id = %s", r.Raw)
	}
	// Another project cannot use the client.
	other := (&harness{p.H}).project("Other", tenant.Test)
	wantError(t, other.Call("POST", "/v1/idp/oauth/authorize/start", with(baseAuthorize(fp, a, "openid"), "consent_granted", nil)), 404, "connected_app_not_found")
}

func TestRevokeAndUserApps(t *testing.T) {
	t.Parallel()
	h, p, c, a := setup(t, map[string]any{"bypass_consent_for_offline_access": true})
	tok := p.redeem(t, c, p.authorize(t, baseAuthorize(c, a, "openid", "offline_access")), nil)
	list := func() []any {
		l, _ := p.OK(200, "GET", "/v1/users/"+a.UserID+"/connected_apps", nil).Body["connected_apps"].([]any)
		return l
	}
	if len(list()) != 1 {
		t.Fatalf("apps = %v", list())
	}
	p.OK(200, "POST", "/v1/users/"+a.UserID+"/connected_apps/"+c.ClientID+"/revoke", map[string]any{})
	if l := list(); len(l) != 0 {
		t.Errorf("apps after revoke = %v", l)
	}
	in := p.mustForm("introspect", url.Values{"client_id": {c.ClientID}, "client_secret": {*c.ClientSecret}, "token": {tok.AccessToken}})
	if in.Status != 200 || in.Body["active"] != false || len(in.Body) != 3 {
		t.Errorf("introspect after revoke = %s", in.Raw)
	}
	wantOAuthError(t, p.mustForm("token", url.Values{"grant_type": {"refresh_token"}, "client_id": {c.ClientID}, "client_secret": {*c.ClientSecret},
		"refresh_token": {tok.RefreshToken}}), 400, "invalid_grant")
	if n := h.count(`SELECT COUNT(*) FROM connected_app_refresh_tokens WHERE user_id = ?`, a.UserID); n != 0 {
		t.Errorf("%d refresh tokens left", n)
	}
	wantError(t, p.Call("GET", "/v1/users/user-test-00000000-0000-0000-0000-000000000000/connected_apps", nil), 404, "user_not_found")
	wantError(t, p.Call("POST", "/v1/users/"+a.UserID+"/connected_apps/connected-app-test-00000000-0000-0000-0000-000000000000/revoke", map[string]any{}),
		404, "connected_app_not_found")
	// Deleting the user removes everything of theirs.
	last := p.redeem(t, c, p.authorize(t, baseAuthorize(c, a, "openid", "offline_access", "full_access")), nil)
	p.OK(200, "DELETE", "/v1/users/"+a.UserID, map[string]any{})
	wantError(t, p.Call("POST", "/v1/sessions/exchange_access_token", map[string]any{"access_token": last.AccessToken, "session_duration_minutes": 10}),
		404, "user_not_found")
	for _, table := range []string{"connected_app_authorizations", "connected_app_codes", "connected_app_refresh_tokens", "connected_app_access_tokens"} {
		if n := h.count(`SELECT COUNT(*) FROM `+table+` WHERE user_id = ?`, a.UserID); n != 0 {
			t.Errorf("%d rows left in %s", n, table)
		}
	}
}

func TestIntrospection(t *testing.T) {
	t.Parallel()
	h, p, c, a := setup(t, nil)
	tok := p.redeem(t, c, p.authorize(t, baseAuthorize(c, a, "openid")), nil)
	c2 := p.createClient(map[string]any{"client_type": "first_party"})
	ask := func(cl appJSON, token string) *resp {
		return p.mustForm("introspect", url.Values{"client_id": {cl.ClientID}, "client_secret": {*cl.ClientSecret}, "token": {token}})
	}
	if r := ask(c, tok.AccessToken); r.Body["active"] != true || r.Body["exp"] != float64(t0.Add(time.Hour).Unix()) ||
		r.Body["iss"] != "stytch.com/"+p.ID {
		t.Errorf("active = %s", r.Raw)
	}
	// Another client's view: inactive.
	if r := ask(c2, tok.AccessToken); r.Body["active"] != false {
		t.Errorf("another client sees the token active: %s", r.Raw)
	}
	// Garbage: inactive, not an error.
	for _, g := range []string{"garbage", "a.b.c", a.SessionJWT, strings.Repeat("z", 600)} {
		if r := ask(c, g); r.Status != 200 || r.Body["active"] != false {
			t.Errorf("introspect %.20q = %s", g, r.Raw)
		}
	}
	wantOAuthError(t, p.mustForm("introspect", url.Values{"client_id": {c.ClientID}, "client_secret": {*c.ClientSecret}}), 400, "invalid_request")
	wantOAuthError(t, p.mustForm("introspect", url.Values{"client_id": {c.ClientID}, "client_secret": {"bad"}, "token": {tok.AccessToken}}), 400, "invalid_client")
	// Expired: inactive.
	h.Clock.Advance(time.Hour)
	if r := ask(c, tok.AccessToken); r.Body["active"] != false {
		t.Errorf("expired token active: %s", r.Raw)
	}
	// Another project's endpoint knows neither the client nor the token.
	other := h.project("Other", tenant.Test)
	wantOAuthError(t, other.mustForm("introspect", url.Values{"client_id": {c.ClientID}, "client_secret": {*c.ClientSecret}, "token": {tok.AccessToken}}),
		400, "invalid_client")
}

// TestOAuthEndpointsHostile: malformed requests to the public endpoints get
// a 4xx in the OAuth form, never a 5xx.
func TestOAuthEndpointsHostile(t *testing.T) {
	t.Parallel()
	h, p, c, _ := setup(t, nil)
	raw := func(path, ctype, body string, hdr ...string) *resp {
		t.Helper()
		req, err := newRequest(h.Harness, path, ctype, body)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		r, err := h.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return r
	}
	for _, ep := range []string{"token", "introspect"} {
		path := "/v1/public/" + p.ID + "/oauth2/" + ep
		for _, tc := range []struct {
			ctype, body string
			hdr         []string
			status      int
			typ         string
		}{
			{"application/json", `{`, nil, 400, "invalid_request"},
			{"application/json", `[]`, nil, 400, "invalid_request"},
			{"application/json", `null`, nil, 400, "invalid_request"},
			{"application/json", `{"grant_type": 5}`, nil, 400, "invalid_request"},
			{"application/x-www-form-urlencoded", "a=%zz", nil, 400, "invalid_request"},
			{"application/x-www-form-urlencoded", "client_id=a&client_id=b", nil, 400, "invalid_request"},
			{"application/x-www-form-urlencoded", "token=%FF%FE&client_id=x", nil, 400, "invalid_request"},
			{"application/x-www-form-urlencoded", "token=a%00b", nil, 400, "invalid_request"},
			{"application/x-www-form-urlencoded", "client_id=" + url.QueryEscape("' OR 1=1 --") + "&grant_type=authorization_code&token=x", nil, 400, "invalid_client"},
			{"application/x-www-form-urlencoded", "grant_type=authorization_code&token=x", []string{"Authorization", "Bearer abc"}, 401, "invalid_client"},
			{"application/x-www-form-urlencoded", "grant_type=authorization_code&token=x&client_secret=s", []string{"Authorization", "Basic " + b64(c.ClientID+":x")}, 400, "invalid_request"},
			{"application/x-www-form-urlencoded", "grant_type=authorization_code&token=x&client_id=" + strings.Repeat("a", 9000), nil, 400, "invalid_request"},
			{"application/x-www-form-urlencoded", strings.Repeat("a", 1<<20+10), nil, 413, "request_too_large"},
		} {
			r := raw(path, tc.ctype, tc.body, tc.hdr...)
			wantOAuthError(t, r, tc.status, tc.typ)
		}
		// Unknown or malformed projects.
		for _, id := range []string{"project-test-00000000-0000-0000-0000-000000000000", "nope", "' OR 1=1 --"} {
			r := raw("/v1/public/"+url.PathEscape(id)+"/oauth2/"+ep, "application/x-www-form-urlencoded", "client_id=x")
			wantOAuthError(t, r, 404, "project_not_found")
		}
	}
}

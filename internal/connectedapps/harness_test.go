package connectedapps_test

// The product tests run the whole handler stack through internal/apptest;
// here are the helpers for the public OAuth endpoints and typed views.

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/apptest"
	"github.com/latchhq/latch/internal/tenant"
)

// t0 is a whole second, so JWT iat/exp compare exactly.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

const uuidPat = apptest.UUIDPattern

var (
	clientIDRe = regexp.MustCompile(`^connected-app-test-` + uuidPat + `$`)
)

type harness struct{ *apptest.Harness }

func newHarness(t *testing.T) *harness { return &harness{apptest.New(t, t0)} }

type project struct{ *apptest.Project }

func (h *harness) project(name string, env tenant.Environment) *project {
	h.T.Helper()
	return &project{h.Harness.Project(name, env)}
}

type resp = apptest.Resp

func into[T any](t *testing.T, r *resp) T {
	t.Helper()
	return apptest.Into[T](t, r)
}

var wantError = apptest.WantError

// form posts form-encoded params to a public OAuth endpoint of p, with
// HTTP Basic when basicID is not empty.
func (p *project) form(endpoint string, params url.Values, basicID, basicSecret string) (*resp, error) {
	req, err := http.NewRequest("POST", p.H.Srv.URL+"/v1/public/"+p.ID+"/oauth2/"+endpoint, strings.NewReader(params.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	return p.H.Do(req)
}

func (p *project) mustForm(endpoint string, params url.Values) *resp {
	p.H.T.Helper()
	r, err := p.form(endpoint, params, "", "")
	if err != nil {
		p.H.T.Fatalf("POST oauth2/%s: %v", endpoint, err)
	}
	return r
}

// wantOAuthError checks the OAuth error form of the public endpoints.
func wantOAuthError(t *testing.T, r *resp, status int, typ string) {
	t.Helper()
	if r.Status != status || r.Str("error") != typ {
		t.Errorf("got %d %s, want %d %s: %s", r.Status, r.Str("error"), status, typ, r.Raw)
		return
	}
	if r.Str("error_description") == "" || r.Str("error_uri") == "" {
		t.Errorf("error_description / error_uri missing: %s", r.Raw)
	}
	if _, ok := r.Body["error_type"]; ok {
		t.Errorf("OAuth error carries error_type: %s", r.Raw)
	}
}

func (h *harness) count(query string, args ...any) int {
	h.T.Helper()
	var n int
	if err := h.DB().QueryRow(query, args...).Scan(&n); err != nil {
		h.T.Fatalf("%s: %v", query, err)
	}
	return n
}

// jwtParts decodes a JWT's header and payload without verifying it.
func jwtParts(t *testing.T, jwt string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("JWT %q has %d parts", jwt, len(parts))
	}
	dec := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("JWT segment: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("JWT segment: %v", err)
		}
		return m
	}
	return dec(parts[0]), dec(parts[1])
}

func challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Typed views of responses.

type appJSON struct {
	ClientID                      string   `json:"client_id"`
	ClientName                    string   `json:"client_name"`
	ClientDescription             string   `json:"client_description"`
	Status                        string   `json:"status"`
	FullAccessAllowed             bool     `json:"full_access_allowed"`
	ClientType                    string   `json:"client_type"`
	RedirectURLs                  []string `json:"redirect_urls"`
	AccessTokenExpiryMinutes      int      `json:"access_token_expiry_minutes"`
	AccessTokenTemplateContent    string   `json:"access_token_template_content"`
	PostLogoutRedirectURLs        []string `json:"post_logout_redirect_urls"`
	BypassConsentForOfflineAccess bool     `json:"bypass_consent_for_offline_access"`
	CreationMethod                string   `json:"creation_method"`
	ClientSecretLastFour          *string  `json:"client_secret_last_four"`
	NextClientSecretLastFour      *string  `json:"next_client_secret_last_four"`
	ClientSecret                  *string  `json:"client_secret"`
	NextClientSecret              *string  `json:"next_client_secret"`
	AccessTokenCustomAudience     string   `json:"access_token_custom_audience"`
	LogoURL                       string   `json:"logo_url"`
}

type appResp struct {
	ConnectedApp appJSON `json:"connected_app"`
}

type tokenJSON struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
}

type sessionJSON struct {
	SessionID             string `json:"session_id"`
	UserID                string `json:"user_id"`
	ExpiresAt             string `json:"expires_at"`
	AuthenticationFactors []struct {
		Type           string `json:"type"`
		DeliveryMethod string `json:"delivery_method"`
		Exchange       *struct {
			ClientID string `json:"client_id"`
		} `json:"oauth_access_token_exchange_factor"`
	} `json:"authentication_factors"`
	CustomClaims map[string]any `json:"custom_claims"`
}

type authJSON struct {
	UserID       string       `json:"user_id"`
	SessionToken string       `json:"session_token"`
	SessionJWT   string       `json:"session_jwt"`
	Session      *sessionJSON `json:"session"`
	User         struct {
		UserID string `json:"user_id"`
	} `json:"user"`
}

type outboxJSON struct {
	Messages []struct {
		Token *string `json:"token"`
	} `json:"messages"`
}

// newUser creates a user with an email (and optional extra fields).
func (p *project) newUser(email string, extra map[string]any) string {
	p.H.T.Helper()
	body := map[string]any{"email": email}
	for k, v := range extra {
		body[k] = v
	}
	return p.OK(201, "POST", "/v1/users", body).Str("user_id")
}

// login signs a user in by magic link and returns the authenticate answer.
func (p *project) login(email string) authJSON {
	p.H.T.Helper()
	p.OK(200, "POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": email})
	r := p.OK(200, "GET", "/v1/dev/outbox?to="+url.QueryEscape(email), nil)
	box := into[outboxJSON](p.H.T, r)
	if len(box.Messages) == 0 || box.Messages[0].Token == nil {
		p.H.T.Fatalf("no magic link to %s: %s", email, r.Raw)
	}
	r = p.OK(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": *box.Messages[0].Token, "session_duration_minutes": 60})
	a := into[authJSON](p.H.T, r)
	if a.SessionToken == "" {
		p.H.T.Fatalf("login of %s started no session: %s", email, r.Raw)
	}
	return a
}

// createClient creates a client and returns it (with its secret when
// confidential).
func (p *project) createClient(body map[string]any) appJSON {
	p.H.T.Helper()
	return into[appResp](p.H.T, p.OK(200, "POST", "/v1/connected_apps/clients", body)).ConnectedApp
}

type startJSON struct {
	UserID          string `json:"user_id"`
	ConsentRequired bool   `json:"consent_required"`
	Client          struct {
		ClientID   string `json:"client_id"`
		ClientType string `json:"client_type"`
	} `json:"client"`
	ScopeResults []struct {
		Scope       string `json:"scope"`
		Description string `json:"description"`
		IsGrantable bool   `json:"is_grantable"`
	} `json:"scope_results"`
	User struct {
		UserID string `json:"user_id"`
	} `json:"user"`
}

// postJSON posts a JSON body to a public OAuth endpoint of p.
func (p *project) postJSON(endpoint string, body any) *resp {
	p.H.T.Helper()
	js, _ := json.Marshal(body)
	req, err := newRequest(p.H, "/v1/public/"+p.ID+"/oauth2/"+endpoint, "application/json", string(js))
	if err != nil {
		p.H.T.Fatal(err)
	}
	r, err := p.H.Do(req)
	if err != nil {
		p.H.T.Fatalf("POST oauth2/%s: %v", endpoint, err)
	}
	return r
}

func newRequest(h *apptest.Harness, path, ctype, body string) (*http.Request, error) {
	req, err := http.NewRequest("POST", h.Srv.URL+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", ctype)
	return req, nil
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func b64JSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

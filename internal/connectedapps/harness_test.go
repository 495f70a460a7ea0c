package connectedapps_test

// A trimmed copy of internal/server's harness: a real SQLite store in a
// temporary directory, a fake clock, the full App.Handler behind an
// httptest.Server, and helpers for authenticated JSON requests and for the
// public OAuth endpoints. Every response is checked for the request-id
// invariant.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/server"
	"github.com/latchhq/latch/internal/store/sqlstore"
	"github.com/latchhq/latch/internal/tenant"
)

// t0 is a whole second, so JWT iat/exp compare exactly.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

const uuidPat = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`

var (
	requestIDRe = regexp.MustCompile(`^request-id-(test|live)-` + uuidPat + `$`)
	clientIDRe  = regexp.MustCompile(`^connected-app-test-` + uuidPat + `$`)
	testMaster  = bytes.Repeat([]byte{0x42}, 32)
)

type harness struct {
	t      *testing.T
	app    *server.App
	srv    *httptest.Server
	clock  *clock.Fake
	dbPath string
	client *http.Client
	rdb    *sql.DB
}

func newHarness(t *testing.T) *harness {
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
	fc := clock.NewFake(t0)
	app, err := server.New(st, server.Options{
		Log:       slog.New(slog.DiscardHandler),
		Clock:     fc,
		MasterKey: testMaster,
		PublicURL: "http://" + srv.Listener.Addr().String(),
	})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	srv.Config.Handler = app.Handler
	srv.Start()
	t.Cleanup(srv.Close)
	client := srv.Client()
	client.Timeout = 15 * time.Second
	return &harness{t: t, app: app, srv: srv, clock: fc, dbPath: path, client: client}
}

type project struct {
	h      *harness
	id     string
	secret string
	env    tenant.Environment
}

func (h *harness) project(name string, env tenant.Environment) *project {
	h.t.Helper()
	c, err := h.app.Projects.Create(context.Background(), name, tenant.Consumer, env)
	if err != nil {
		h.t.Fatalf("Projects.Create: %v", err)
	}
	return &project{h: h, id: c.ProjectID, secret: c.Secret, env: env}
}

type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends a request and checks the envelope invariants; it does not fail
// the test, so goroutines may use it.
func (h *harness) do(req *http.Request) (*resp, error) {
	res, err := h.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	r := &resp{status: res.StatusCode, header: res.Header, raw: raw}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		return r, fmt.Errorf("%s %s: JSON response does not decode: %v: %s", req.Method, req.URL.Path, err, raw)
	}
	hid := r.header.Get("X-Request-Id")
	if !requestIDRe.MatchString(hid) {
		return r, fmt.Errorf("X-Request-Id %q is not request-id-<env>-<uuid>", hid)
	}
	if bid, _ := r.body["request_id"].(string); bid != hid {
		return r, fmt.Errorf("body request_id %q != X-Request-Id %q", bid, hid)
	}
	if sc, _ := r.body["status_code"].(float64); int(sc) != r.status {
		return r, fmt.Errorf("body status_code %v != HTTP status %d", r.body["status_code"], r.status)
	}
	return r, nil
}

func (p *project) send(method, path string, body any) (*resp, error) {
	var rd io.Reader
	if body != nil {
		js, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, p.h.srv.URL+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(p.id, p.secret)
	return p.h.do(req)
}

func (p *project) call(method, path string, body any) *resp {
	p.h.t.Helper()
	r, err := p.send(method, path, body)
	if err != nil {
		p.h.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

func (p *project) ok(want int, method, path string, body any) *resp {
	p.h.t.Helper()
	r := p.call(method, path, body)
	if r.status != want {
		p.h.t.Fatalf("%s %s = %d, want %d: %s", method, path, r.status, want, r.raw)
	}
	return r
}

// form posts form-encoded params to a public OAuth endpoint of p, with
// HTTP Basic when basicID is not empty.
func (p *project) form(endpoint string, params url.Values, basicID, basicSecret string) (*resp, error) {
	req, err := http.NewRequest("POST", p.h.srv.URL+"/v1/public/"+p.id+"/oauth2/"+endpoint, strings.NewReader(params.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	return p.h.do(req)
}

func (p *project) mustForm(endpoint string, params url.Values) *resp {
	p.h.t.Helper()
	r, err := p.form(endpoint, params, "", "")
	if err != nil {
		p.h.t.Fatalf("POST oauth2/%s: %v", endpoint, err)
	}
	return r
}

func into[T any](t *testing.T, r *resp) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.raw, &v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, r.raw)
	}
	return v
}

func (r *resp) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

// wantError checks the Stytch error envelope.
func wantError(t *testing.T, r *resp, status int, typ string) {
	t.Helper()
	if r.status != status || r.str("error_type") != typ {
		t.Errorf("got %d %s, want %d %s: %s", r.status, r.str("error_type"), status, typ, r.raw)
		return
	}
	if want := fmt.Sprintf("https://stytch.com/docs/api/errors/%d#%s", status, typ); r.str("error_url") != want {
		t.Errorf("error_url = %q, want %q", r.str("error_url"), want)
	}
	if r.str("error_message") == "" {
		t.Errorf("error_message is empty: %s", r.raw)
	}
}

// wantOAuthError checks the OAuth error form of the public endpoints.
func wantOAuthError(t *testing.T, r *resp, status int, typ string) {
	t.Helper()
	if r.status != status || r.str("error") != typ {
		t.Errorf("got %d %s, want %d %s: %s", r.status, r.str("error"), status, typ, r.raw)
		return
	}
	if r.str("error_description") == "" || r.str("error_uri") == "" {
		t.Errorf("error_description / error_uri missing: %s", r.raw)
	}
	if _, ok := r.body["error_type"]; ok {
		t.Errorf("OAuth error carries error_type: %s", r.raw)
	}
}

// db opens (once) the SQLite file read-only for assertions on stored rows.
func (h *harness) db() *sql.DB {
	h.t.Helper()
	if h.rdb != nil {
		return h.rdb
	}
	db, err := sql.Open("sqlite", "file:"+h.dbPath+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		h.t.Fatalf("open db: %v", err)
	}
	h.t.Cleanup(func() { db.Close() })
	h.rdb = db
	return db
}

func (h *harness) count(query string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.db().QueryRow(query, args...).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", query, err)
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
	p.h.t.Helper()
	body := map[string]any{"email": email}
	for k, v := range extra {
		body[k] = v
	}
	return p.ok(201, "POST", "/v1/users", body).str("user_id")
}

// login signs a user in by magic link and returns the authenticate answer.
func (p *project) login(email string) authJSON {
	p.h.t.Helper()
	p.ok(200, "POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": email})
	r := p.ok(200, "GET", "/v1/dev/outbox?to="+url.QueryEscape(email), nil)
	box := into[outboxJSON](p.h.t, r)
	if len(box.Messages) == 0 || box.Messages[0].Token == nil {
		p.h.t.Fatalf("no magic link to %s: %s", email, r.raw)
	}
	r = p.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": *box.Messages[0].Token, "session_duration_minutes": 60})
	a := into[authJSON](p.h.t, r)
	if a.SessionToken == "" {
		p.h.t.Fatalf("login of %s started no session: %s", email, r.raw)
	}
	return a
}

// createClient creates a client and returns it (with its secret when
// confidential).
func (p *project) createClient(body map[string]any) appJSON {
	p.h.t.Helper()
	return into[appResp](p.h.t, p.ok(200, "POST", "/v1/connected_apps/clients", body)).ConnectedApp
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
	p.h.t.Helper()
	js, _ := json.Marshal(body)
	req, err := newRequest(p.h, "/v1/public/"+p.id+"/oauth2/"+endpoint, "application/json", string(js))
	if err != nil {
		p.h.t.Fatal(err)
	}
	r, err := p.h.do(req)
	if err != nil {
		p.h.t.Fatalf("POST oauth2/%s: %v", endpoint, err)
	}
	return r
}

func newRequest(h *harness, path, ctype, body string) (*http.Request, error) {
	req, err := http.NewRequest("POST", h.srv.URL+path, strings.NewReader(body))
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

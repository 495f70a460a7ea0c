package totps_test

// A trimmed copy of internal/server's harness: a real SQLite store in a
// temporary directory, a fake clock, the full App.Handler behind an
// httptest.Server, and helpers for authenticated JSON requests. Every
// response is checked for the request-id invariant.

import (
	"bytes"
	"context"
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

// t0 is a whole second 6 s into a 30 s TOTP step, so a test may advance
// by a few seconds without leaving the step.
var t0 = time.Date(2026, 3, 14, 15, 9, 36, 0, time.UTC)

const uuidPat = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`

var (
	requestIDRe = regexp.MustCompile(`^request-id-(test|live)-` + uuidPat + `$`)
	testMaster  = bytes.Repeat([]byte{0x42}, 32)
)

func idRe(kind string, env tenant.Environment) *regexp.Regexp {
	return regexp.MustCompile(`^` + regexp.QuoteMeta(kind) + `-` + string(env) + `-` + uuidPat + `$`)
}

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
	name   string
	env    tenant.Environment
}

func (h *harness) project(name string, env tenant.Environment) *project {
	h.t.Helper()
	c, err := h.app.Projects.Create(context.Background(), name, tenant.Consumer, env)
	if err != nil {
		h.t.Fatalf("Projects.Create: %v", err)
	}
	return &project{h: h, id: c.ProjectID, secret: c.Secret, name: name, env: env}
}

type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// send performs a request without failing the test, so it can run on any
// goroutine.
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
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(p.id, p.secret)
	res, err := p.h.client.Do(req)
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
		return r, fmt.Errorf("%s %s: JSON response does not decode: %v: %s", method, path, err, raw)
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

func (p *project) call(method, path string, body any) *resp {
	p.h.t.Helper()
	r, err := p.send(method, path, body)
	if err != nil {
		p.h.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// ok calls and requires want status.
func (p *project) ok(want int, method, path string, body any) *resp {
	p.h.t.Helper()
	r := p.call(method, path, body)
	if r.status != want {
		p.h.t.Fatalf("%s %s = %d, want %d: %s", method, path, r.status, want, r.raw)
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

// Typed views of responses.

type totpJSON struct {
	TOTPID   string `json:"totp_id"`
	Verified bool   `json:"verified"`
}

type userJSON struct {
	UserID string     `json:"user_id"`
	Status string     `json:"status"`
	TOTPs  []totpJSON `json:"totps"`
	Emails []struct {
		EmailID string `json:"email_id"`
		Email   string `json:"email"`
	} `json:"emails"`
}

type factorJSON struct {
	Type                string `json:"type"`
	DeliveryMethod      string `json:"delivery_method"`
	LastAuthenticatedAt string `json:"last_authenticated_at"`
	EmailFactor         *struct {
		EmailID string `json:"email_id"`
	} `json:"email_factor"`
	AuthenticatorApp *struct {
		TOTPID string `json:"totp_id"`
	} `json:"authenticator_app_factor"`
	RecoveryCode *struct {
		TOTPRecoveryCodeID string `json:"totp_recovery_code_id"`
	} `json:"recovery_code_factor"`
}

type sessionJSON struct {
	SessionID             string       `json:"session_id"`
	UserID                string       `json:"user_id"`
	AuthenticationFactors []factorJSON `json:"authentication_factors"`
	ExpiresAt             string       `json:"expires_at"`
}

type authJSON struct {
	UserID       string       `json:"user_id"`
	TOTPID       string       `json:"totp_id"`
	SessionToken string       `json:"session_token"`
	SessionJWT   string       `json:"session_jwt"`
	Session      *sessionJSON `json:"session"`
	User         userJSON     `json:"user"`
}

type createJSON struct {
	TOTPID        string   `json:"totp_id"`
	Secret        string   `json:"secret"`
	QRCode        string   `json:"qr_code"`
	RecoveryCodes []string `json:"recovery_codes"`
	UserID        string   `json:"user_id"`
	User          userJSON `json:"user"`
}

type outboxJSON struct {
	Messages []struct {
		Token *string `json:"token"`
	} `json:"messages"`
}

// newUser creates a user with an email and returns its id.
func (p *project) newUser(email string) string {
	p.h.t.Helper()
	r := p.ok(201, "POST", "/v1/users", map[string]any{"email": email})
	return r.str("user_id")
}

// login signs addr in by magic link and returns the authenticate response.
func (p *project) login(addr string, minutes int) authJSON {
	p.h.t.Helper()
	p.ok(200, "POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": addr})
	r := p.ok(200, "GET", "/v1/dev/outbox?to="+url.QueryEscape(addr), nil)
	box := into[outboxJSON](p.h.t, r)
	if len(box.Messages) == 0 || box.Messages[0].Token == nil {
		p.h.t.Fatalf("no magic link to %s: %s", addr, r.raw)
	}
	r = p.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": *box.Messages[0].Token, "session_duration_minutes": minutes})
	a := into[authJSON](p.h.t, r)
	if a.Session == nil || a.SessionToken == "" {
		p.h.t.Fatalf("login of %s started no session: %s", addr, r.raw)
	}
	return a
}

// jwtClaims decodes a JWT's payload without verifying it.
func jwtClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("JWT %q has %d parts", jwt, len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	return m
}

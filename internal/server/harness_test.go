package server_test

// The harness every API test in this package uses: a real SQLite store in a
// temporary directory, a fake clock, the full App.Handler behind an
// httptest.Server, and helpers that create projects and make authenticated
// JSON requests. Every response it sees is checked for the request-id
// invariant (X-Request-Id header present, equal to the body's request_id).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
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
	"github.com/latchhq/latch/internal/delivery"
	"github.com/latchhq/latch/internal/ratelimit"
	"github.com/latchhq/latch/internal/server"
	"github.com/latchhq/latch/internal/store/sqlstore"
	"github.com/latchhq/latch/internal/tenant"
)

// t0 is where every fake clock starts: a whole second, so wire times
// (RFC 3339 with seconds) and JWT iat/exp compare exactly.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

const uuidPat = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`

var (
	requestIDRe = regexp.MustCompile(`^request-id-(test|live)-` + uuidPat + `$`)
	testMaster  = bytes.Repeat([]byte{0x42}, 32)
)

func idRe(kind string, env tenant.Environment) *regexp.Regexp {
	return regexp.MustCompile(`^` + regexp.QuoteMeta(kind) + `-` + string(env) + `-` + uuidPat + `$`)
}

type harnessOptions struct {
	rateLimits bool // an in-process limiter on the fake clock
	providers  map[string]delivery.Provider
	emailLive  string
	poll       time.Duration
	retention  time.Duration
}

type harness struct {
	t         *testing.T
	app       *server.App
	srv       *httptest.Server
	clock     *clock.Fake
	dbPath    string
	publicURL string
	client    *http.Client
	rdb       *sql.DB // read-only view of the database, see db
}

func newHarness(t *testing.T) *harness { return newHarnessWith(t, harnessOptions{}) }

func newHarnessWith(t *testing.T, o harnessOptions) *harness {
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
	var limiter ratelimit.Limiter
	if o.rateLimits {
		limiter = ratelimit.NewMemoryWithClock(10_000, fc.Now)
	}
	app, err := server.New(st, server.Options{
		RateLimiter: limiter,
		Log:         slog.New(slog.DiscardHandler),
		Clock:       fc,
		MasterKey:   testMaster,
		PublicURL:   publicURL,
		Providers:   o.providers,
		EmailLive:   o.emailLive,
		PollOutbox:  o.poll,
		Retention:   o.retention,
	})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	srv.Config.Handler = app.Handler
	srv.Start()
	t.Cleanup(srv.Close) // runs before st.Close (cleanups are LIFO)

	client := srv.Client()
	client.Timeout = 15 * time.Second
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &harness{t: t, app: app, srv: srv, clock: fc, dbPath: path, publicURL: publicURL, client: client}
}

// project is a created project environment and its credentials.
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
	if !idRe("project", env).MatchString(c.ProjectID) {
		h.t.Fatalf("project id %q does not look like project-%s-<uuid>", c.ProjectID, env)
	}
	return &project{h: h, id: c.ProjectID, secret: c.Secret, name: name, env: env}
}

// resp is one HTTP response, with its JSON body decoded when it has one.
type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// auth is how a request authenticates.
type auth func(*http.Request)

func basic(id, secret string) auth {
	return func(r *http.Request) { r.SetBasicAuth(id, secret) }
}

func noAuth(*http.Request) {}

// send performs a request without failing the test, so it can run on any
// goroutine. body: nil for none, string or []byte as is, anything else JSON.
func (h *harness) send(method, path string, body any, a auth, hdr ...string) (*resp, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(js)
	}
	target := path
	if strings.HasPrefix(path, "/") {
		target = h.srv.URL + path
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	a(req)
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
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			return r, fmt.Errorf("%s %s: JSON response does not decode: %v: %s", method, path, err, raw)
		}
	}
	return r, r.checkRequestID()
}

// checkRequestID holds on every response: an X-Request-Id header of the
// right shape which, on JSON responses, equals the body's request_id and
// whose body status_code equals the HTTP status.
func (r *resp) checkRequestID() error {
	hid := r.header.Get("X-Request-Id")
	if !requestIDRe.MatchString(hid) {
		return fmt.Errorf("X-Request-Id %q is not request-id-<env>-<uuid>", hid)
	}
	if r.body == nil {
		return nil
	}
	if bid, _ := r.body["request_id"].(string); bid != hid {
		return fmt.Errorf("body request_id %q != X-Request-Id %q", bid, hid)
	}
	if sc, _ := r.body["status_code"].(float64); int(sc) != r.status {
		return fmt.Errorf("body status_code %v != HTTP status %d", r.body["status_code"], r.status)
	}
	return nil
}

// do is send that fails the test on a transport or invariant error.
func (h *harness) do(method, path string, body any, a auth, hdr ...string) *resp {
	h.t.Helper()
	r, err := h.send(method, path, body, a, hdr...)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

func (p *project) auth() auth { return basic(p.id, p.secret) }

// call makes an authenticated request as p.
func (p *project) call(method, path string, body any) *resp {
	p.h.t.Helper()
	return p.h.do(method, path, body, p.auth())
}

// ok calls and requires want status, returning the response.
func (p *project) ok(want int, method, path string, body any) *resp {
	p.h.t.Helper()
	r := p.call(method, path, body)
	if r.status != want {
		p.h.t.Fatalf("%s %s = %d, want %d: %s", method, path, r.status, want, r.raw)
	}
	return r
}

// into decodes the raw body into a typed value.
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

// wantError checks the Stytch error envelope exactly.
func wantError(t *testing.T, r *resp, status int, typ string) {
	t.Helper()
	if r.status != status || r.str("error_type") != typ {
		t.Errorf("got %d %s, want %d %s: %s", r.status, r.str("error_type"), status, typ, r.raw)
		return
	}
	wantURL := fmt.Sprintf("https://stytch.com/docs/api/errors/%d#%s", status, typ)
	if got := r.str("error_url"); got != wantURL {
		t.Errorf("error_url = %q, want %q", got, wantURL)
	}
	if r.str("error_message") == "" {
		t.Errorf("error_message is empty: %s", r.raw)
	}
	if !requestIDRe.MatchString(r.str("request_id")) {
		t.Errorf("request_id = %q", r.str("request_id"))
	}
	for k := range r.body {
		switch k {
		case "status_code", "request_id", "error_type", "error_message", "error_url", "error_details":
		case "retry_after":
			if status != 429 && status != 503 {
				t.Errorf("retry_after on a %d: %s", status, r.raw)
			}
		default:
			t.Errorf("unexpected error envelope field %q: %s", k, r.raw)
		}
	}
}

// Typed views of responses.

type emailJSON struct {
	EmailID  string `json:"email_id"`
	Email    string `json:"email"`
	Verified bool   `json:"verified"`
}

type phoneJSON struct {
	PhoneID     string `json:"phone_id"`
	PhoneNumber string `json:"phone_number"`
	Verified    bool   `json:"verified"`
}

type userJSON struct {
	UserID       string      `json:"user_id"`
	Emails       []emailJSON `json:"emails"`
	PhoneNumbers []phoneJSON `json:"phone_numbers"`
	Status       string      `json:"status"`
	ExternalID   *string     `json:"external_id"`
	CreatedAt    string      `json:"created_at"`
	Name         *struct {
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
	} `json:"name"`
	TrustedMetadata map[string]any `json:"trusted_metadata"`
}

type createUserJSON struct {
	UserID  string   `json:"user_id"`
	EmailID string   `json:"email_id"`
	PhoneID string   `json:"phone_id"`
	Status  string   `json:"status"`
	User    userJSON `json:"user"`
}

type factorJSON struct {
	Type                string `json:"type"`
	DeliveryMethod      string `json:"delivery_method"`
	LastAuthenticatedAt string `json:"last_authenticated_at"`
	EmailFactor         *struct {
		EmailID      string `json:"email_id"`
		EmailAddress string `json:"email_address"`
	} `json:"email_factor"`
}

type sessionJSON struct {
	SessionID             string            `json:"session_id"`
	UserID                string            `json:"user_id"`
	AuthenticationFactors []factorJSON      `json:"authentication_factors"`
	Roles                 []string          `json:"roles"`
	StartedAt             string            `json:"started_at"`
	LastAccessedAt        string            `json:"last_accessed_at"`
	ExpiresAt             string            `json:"expires_at"`
	Attributes            map[string]string `json:"attributes"`
	CustomClaims          map[string]any    `json:"custom_claims"`
}

type authJSON struct {
	UserID       string       `json:"user_id"`
	MethodID     string       `json:"method_id"`
	SessionToken string       `json:"session_token"`
	SessionJWT   string       `json:"session_jwt"`
	Session      *sessionJSON `json:"session"`
	User         userJSON     `json:"user"`
}

type messageJSON struct {
	MessageID string  `json:"message_id"`
	Channel   string  `json:"channel"`
	To        string  `json:"to"`
	Subject   string  `json:"subject"`
	BodyText  string  `json:"body_text"`
	BodyHTML  string  `json:"body_html"`
	Link      *string `json:"link"`
	Token     *string `json:"token"`
	Status    string  `json:"status"`
}

type outboxJSON struct {
	Messages []messageJSON `json:"messages"`
}

type sentJSON struct {
	UserID      string `json:"user_id"`
	EmailID     string `json:"email_id"`
	UserCreated bool   `json:"user_created"`
}

// outbox lists p's dev outbox messages to addr, newest first.
func (p *project) outbox(addr string) []messageJSON {
	p.h.t.Helper()
	r := p.ok(200, "GET", "/v1/dev/outbox?to="+url.QueryEscape(addr), nil)
	return into[outboxJSON](p.h.t, r).Messages
}

// sendLink runs login_or_create and returns the emailed token. The fake
// clock gives messages sent at one instant the same created_at, so the new
// message is found as the one that was not there before, not by order.
func (p *project) sendLink(addr string, extra map[string]any) (sentJSON, string) {
	p.h.t.Helper()
	before := map[string]bool{}
	for _, m := range p.outbox(addr) {
		before[m.MessageID] = true
	}
	body := map[string]any{"email": addr}
	for k, v := range extra {
		body[k] = v
	}
	r := p.ok(200, "POST", "/v1/magic_links/email/login_or_create", body)
	var fresh []messageJSON
	for _, m := range p.outbox(addr) {
		if !before[m.MessageID] {
			fresh = append(fresh, m)
		}
	}
	if len(fresh) != 1 || fresh[0].Token == nil {
		p.h.t.Fatalf("login_or_create to %s queued %d new messages, want 1 with a token", addr, len(fresh))
	}
	return into[sentJSON](p.h.t, r), *fresh[0].Token
}

// login signs addr in by magic link and returns the authenticate response.
func (p *project) login(addr string, minutes int) authJSON {
	p.h.t.Helper()
	_, tok := p.sendLink(addr, nil)
	r := p.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": tok, "session_duration_minutes": minutes})
	a := into[authJSON](p.h.t, r)
	if a.Session == nil || a.SessionToken == "" || a.SessionJWT == "" {
		p.h.t.Fatalf("login of %s started no session: %s", addr, r.raw)
	}
	return a
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

// rows returns every row of query as column name -> value.
func queryRows(t *testing.T, db *sql.DB, query string, args ...any) []map[string]any {
	t.Helper()
	rs, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out []map[string]any
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatalf("scan: %v", err)
		}
		m := map[string]any{}
		for i, c := range cols {
			m[c] = vals[i]
		}
		out = append(out, m)
	}
	if err := rs.Err(); err != nil {
		t.Fatalf("rows: %v", err)
	}
	return out
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// wireTime is how the API renders a time.
func wireTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

type searchJSON struct {
	Results         []userJSON `json:"results"`
	ResultsMetadata struct {
		Total      int     `json:"total"`
		NextCursor *string `json:"next_cursor"`
	} `json:"results_metadata"`
}

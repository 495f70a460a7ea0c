// Package apptest runs the whole Latch handler stack for product tests: a
// real SQLite store in a temporary directory, a fake clock, App.Handler
// behind an httptest.Server, and helpers for authenticated JSON requests
// that check every response's envelope invariants (request id in header
// and body, status_code equal to the HTTP status). Only tests import it.
package apptest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/server"
	"github.com/latchhq/latch/internal/store/sqlstore"
	"github.com/latchhq/latch/internal/tenant"
)

// UUIDPattern matches the lower-case UUID of Latch's ids.
const UUIDPattern = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`

var requestIDRe = regexp.MustCompile(`^request-id-(test|live)-` + UUIDPattern + `$`)

// MasterKey is the master key every harness runs with.
var MasterKey = bytes.Repeat([]byte{0x42}, 32)

// Harness is one App behind an HTTP server.
type Harness struct {
	T      *testing.T
	App    *server.App
	Srv    *httptest.Server
	Clock  *clock.Fake
	DBPath string
	Client *http.Client
	rdb    *sql.DB
}

// New starts a harness whose fake clock reads start.
func New(t *testing.T, start time.Time) *Harness {
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
	fc := clock.NewFake(start)
	app, err := server.New(st, server.Options{
		Log:       slog.New(slog.DiscardHandler),
		Clock:     fc,
		MasterKey: MasterKey,
		PublicURL: "http://" + srv.Listener.Addr().String(),
	})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	srv.Config.Handler = app.Handler
	srv.Start()
	t.Cleanup(srv.Close) // before st.Close: cleanups run last-in, first-out
	client := srv.Client()
	client.Timeout = 15 * time.Second
	return &Harness{T: t, App: app, Srv: srv, Clock: fc, DBPath: path, Client: client}
}

// Project is a created consumer project environment and its credentials.
type Project struct {
	H      *Harness
	ID     string
	Secret string
	Name   string
	Env    tenant.Environment
}

// Project creates a consumer project.
func (h *Harness) Project(name string, env tenant.Environment) *Project {
	h.T.Helper()
	c, err := h.App.Projects.Create(context.Background(), name, tenant.Consumer, env)
	if err != nil {
		h.T.Fatalf("Projects.Create: %v", err)
	}
	return &Project{H: h, ID: c.ProjectID, Secret: c.Secret, Name: name, Env: env}
}

// Resp is a decoded JSON response.
type Resp struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// Do sends req and checks the envelope invariants; it does not fail the
// test, so goroutines may use it.
func (h *Harness) Do(req *http.Request) (*Resp, error) {
	res, err := h.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	r := &Resp{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if err := json.Unmarshal(raw, &r.Body); err != nil {
		return r, fmt.Errorf("%s %s: JSON response does not decode: %v: %s", req.Method, req.URL.Path, err, raw)
	}
	hid := r.Header.Get("X-Request-Id")
	if !requestIDRe.MatchString(hid) {
		return r, fmt.Errorf("X-Request-Id %q is not request-id-<env>-<uuid>", hid)
	}
	if bid, _ := r.Body["request_id"].(string); bid != hid {
		return r, fmt.Errorf("body request_id %q != X-Request-Id %q", bid, hid)
	}
	if sc, _ := r.Body["status_code"].(float64); int(sc) != r.Status {
		return r, fmt.Errorf("body status_code %v != HTTP status %d", r.Body["status_code"], r.Status)
	}
	return r, nil
}

// Send makes a JSON request with p's credentials without failing the test.
func (p *Project) Send(method, path string, body any) (*Resp, error) {
	var rd io.Reader
	if body != nil {
		js, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, p.H.Srv.URL+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(p.ID, p.Secret)
	return p.H.Do(req)
}

// Call is Send that fails the test on a transport or envelope error.
func (p *Project) Call(method, path string, body any) *Resp {
	p.H.T.Helper()
	r, err := p.Send(method, path, body)
	if err != nil {
		p.H.T.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// OK calls and requires the status want.
func (p *Project) OK(want int, method, path string, body any) *Resp {
	p.H.T.Helper()
	r := p.Call(method, path, body)
	if r.Status != want {
		p.H.T.Fatalf("%s %s = %d, want %d: %s", method, path, r.Status, want, r.Raw)
	}
	return r
}

// Into decodes r's body into a T.
func Into[T any](t *testing.T, r *Resp) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Raw, &v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, r.Raw)
	}
	return v
}

// Str is the string at a top-level key of the body, or "".
func (r *Resp) Str(key string) string {
	s, _ := r.Body[key].(string)
	return s
}

// WantError checks the Stytch error envelope.
func WantError(t *testing.T, r *Resp, status int, typ string) {
	t.Helper()
	if r.Status != status || r.Str("error_type") != typ {
		t.Errorf("got %d %s, want %d %s: %s", r.Status, r.Str("error_type"), status, typ, r.Raw)
		return
	}
	if want := fmt.Sprintf("https://stytch.com/docs/api/errors/%d#%s", status, typ); r.Str("error_url") != want {
		t.Errorf("error_url = %q, want %q", r.Str("error_url"), want)
	}
	if r.Str("error_message") == "" {
		t.Errorf("error_message is empty: %s", r.Raw)
	}
}

// DB opens (once) the SQLite file read-only for assertions on stored rows.
func (h *Harness) DB() *sql.DB {
	h.T.Helper()
	if h.rdb != nil {
		return h.rdb
	}
	db, err := sql.Open("sqlite", "file:"+h.DBPath+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		h.T.Fatalf("open db: %v", err)
	}
	h.T.Cleanup(func() { db.Close() })
	h.rdb = db
	return db
}

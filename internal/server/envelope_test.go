package server_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/latchhq/latch/internal/hashes"
	"github.com/latchhq/latch/internal/httpx"
	"github.com/latchhq/latch/internal/tenant"
)

func TestEnvelopeUnknownRoute(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Envelope", tenant.Test)
	for _, tc := range []struct {
		name, method, path string
		a                  auth
	}{
		{"unknown path, no auth", "GET", "/v1/nope", noAuth},
		{"unknown path, authenticated", "POST", "/v1/nope", p.auth()},
		{"root", "GET", "/", noAuth},
		{"extra segment", "POST", "/v1/users/search/extra", p.auth()},
		{"b2b-looking path", "GET", "/v1/b2b/organizations", noAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(tc.method, tc.path, nil, tc.a)
			if strings.HasPrefix(tc.path, "/v1/b2b/") {
				// b2b paths link to the b2b error docs.
				if r.status != 404 || r.str("error_type") != "route_not_found" ||
					r.str("error_url") != "https://stytch.com/docs/b2b/api/errors/404#route_not_found" {
					t.Errorf("b2b 404 = %d %s", r.status, r.raw)
				}
				return
			}
			wantError(t, r, 404, "route_not_found")
			if !strings.HasPrefix(r.str("request_id"), "request-id-test-") {
				t.Errorf("request_id = %q, want request-id-test-...", r.str("request_id"))
			}
			if !strings.Contains(r.str("error_message"), tc.path) {
				t.Errorf("error_message %q does not name the path", r.str("error_message"))
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func TestEnvelopeRequestIDsAreUnique(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	seen := map[string]bool{}
	for range 20 {
		r := h.do("GET", "/healthz", nil, noAuth)
		id := r.str("request_id")
		if seen[id] {
			t.Fatalf("request id %s repeated", id)
		}
		seen[id] = true
	}
}

func TestEnvelopeMethodNotAllowed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tc := range []struct {
		method, path, allow string
	}{
		{"GET", "/v1/sessions/revoke", "POST"},
		{"PATCH", "/v1/users/search", "GET, POST, PUT, DELETE"}, // search and {user_id} overlap
		{"PATCH", "/v1/users/user-test-00000000-0000-4000-8000-000000000000", "GET, PUT, DELETE"},
		{"DELETE", "/v1/magic_links/authenticate", "POST"},
		{"POST", "/healthz", "GET"},
		{"PUT", "/v1/sessions/jwks/project-test-x", "GET"},
		{"GET", "/v1/magic_links/email/login_or_create", "POST"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := h.do(tc.method, tc.path, nil, noAuth)
			wantError(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
			if got := r.header.Get("Allow"); got != tc.allow {
				t.Errorf("Allow = %q, want %q", got, tc.allow)
			}
		})
	}
}

func TestEnvelopeUnauthorized(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.project("A", tenant.Test)
	b := h.project("B", tenant.Test)
	// Warm the credential cache so the cached path is exercised too.
	a.ok(201, "POST", "/v1/users", map[string]any{"email": "warm@example.com"})

	for _, tc := range []struct {
		name string
		a    auth
	}{
		{"no credentials", noAuth},
		{"wrong secret (cached project)", basic(a.id, "secret-test-wrongwrongwrongwrongwrongwrongwrong")},
		{"wrong secret (uncached project)", basic(b.id, "secret-test-wrongwrongwrongwrongwrongwrongwrong")},
		{"A secret with B id", basic(b.id, a.secret)},
		{"B secret with A id", basic(a.id, b.secret)},
		{"unknown project", basic("project-test-00000000-0000-4000-8000-000000000000", a.secret)},
		{"empty secret", basic(a.id, "")},
		{"empty project id", basic("", a.secret)},
		{"bearer instead of basic", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+a.secret) }},
		{"basic not base64", func(r *http.Request) { r.Header.Set("Authorization", "Basic !!!") }},
		{"basic without colon", func(r *http.Request) {
			r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(a.id+a.secret)))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("POST", "/v1/users", map[string]any{"email": "x@example.com"}, tc.a)
			wantError(t, r, 401, "unauthorized_credentials")
		})
	}
	// No request above may have created the user.
	r := a.ok(200, "POST", "/v1/users/search", map[string]any{})
	if total := into[searchJSON](t, r).ResultsMetadata.Total; total != 1 {
		t.Errorf("users after rejected creates = %d, want 1", total)
	}
	// WWW-Authenticate tells a browser/curl user what to send.
	r = h.do("GET", "/v1/dev/outbox", nil, noAuth)
	if got := r.header.Get("WWW-Authenticate"); got != `Basic realm="latch"` {
		t.Errorf("WWW-Authenticate = %q", got)
	}
}

func TestEnvelopeBodyLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Limits", tenant.Test)

	prefix := `{"email":"limit@example.com"}`
	exact := prefix + strings.Repeat(" ", httpx.MaxBody-len(prefix))
	if len(exact) != 1<<20 {
		t.Fatalf("exact body is %d bytes", len(exact))
	}
	r := p.call("POST", "/v1/users", exact)
	if r.status != 201 {
		t.Fatalf("a body of exactly 1 MiB = %d, want 201: %s", r.status, r.raw)
	}

	over := `{"email":"over@example.com","trusted_metadata":{"pad":"` + strings.Repeat("x", httpx.MaxBody) + `"}}`
	r = p.call("POST", "/v1/users", over)
	wantError(t, r, http.StatusRequestEntityTooLarge, "request_too_large")

	// One byte over, whitespace only.
	r = p.call("POST", "/v1/users", exact+" ")
	wantError(t, r, http.StatusRequestEntityTooLarge, "request_too_large")

	// Nothing was created by the rejected bodies.
	r = p.ok(200, "POST", "/v1/users/search", map[string]any{})
	if total := into[searchJSON](t, r).ResultsMetadata.Total; total != 1 {
		t.Errorf("users = %d, want 1", total)
	}
}

func TestEnvelopeJSONErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("JSON", tenant.Test)
	for _, tc := range []struct {
		name, path, body string
		status           int
		typ, field       string
	}{
		{"string for int", "/v1/magic_links/authenticate", `{"token":"t","session_duration_minutes":"x"}`, 400, "invalid_argument", "session_duration_minutes"},
		{"number for string", "/v1/users", `{"email": 5}`, 400, "invalid_argument", "email"},
		{"nested field", "/v1/users", `{"name":{"first_name":5}}`, 400, "invalid_argument", "name.first_name"},
		{"string for bool", "/v1/users", `{"create_user_as_pending":"yes"}`, 400, "invalid_argument", "create_user_as_pending"},
		{"string for int pointer", "/v1/users/search", `{"limit":"ten"}`, 400, "invalid_argument", "limit"},
		{"array for object", "/v1/sessions/authenticate", `{"session_custom_claims":[1]}`, 400, "invalid_argument", "session_custom_claims"},
		{"string for object", "/v1/users/search", `{"query":"x"}`, 400, "invalid_argument", "query"},
		{"truncated", "/v1/users", `{"email":`, 400, "bad_request", ""},
		{"trailing garbage", "/v1/users", `{"email":"a@example.com"} x`, 400, "bad_request", ""},
		{"not an object", "/v1/users", `[]`, 400, "bad_request", ""},
		{"bare string", "/v1/users", `"a@example.com"`, 400, "bad_request", ""},
		{"bad literal", "/v1/sessions/revoke", `{"session_id": nul}`, 400, "bad_request", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := p.call("POST", tc.path, tc.body)
			wantError(t, r, tc.status, tc.typ)
			if tc.field != "" && !strings.HasPrefix(r.str("error_message"), tc.field+" ") {
				t.Errorf("error_message %q does not start with the field %q", r.str("error_message"), tc.field)
			}
		})
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Metrics", tenant.Test)

	r := h.do("GET", "/healthz", nil, noAuth)
	if r.status != 200 || r.str("status") != "ok" {
		t.Errorf("/healthz = %d %s", r.status, r.raw)
	}
	r = h.do("GET", "/readyz", nil, noAuth)
	if r.status != 200 || r.str("status") != "ready" {
		t.Errorf("/readyz = %d %s", r.status, r.raw)
	}

	p.ok(201, "POST", "/v1/users", map[string]any{"email": "m@example.com"})
	h.do("GET", "/v1/does-not-exist", nil, noAuth)
	r = h.do("GET", "/metrics", nil, noAuth)
	if r.status != 200 {
		t.Fatalf("/metrics = %d", r.status)
	}
	text := string(r.raw)
	for _, want := range []string{
		`latch_http_requests_total{route="POST /v1/users",status="201"} 1`,
		`latch_http_requests_total{route="GET /healthz",status="200"} 1`,
		`latch_http_requests_total{route="GET /readyz",status="200"} 1`,
		`latch_http_requests_total{route="not_found",status="404"} 1`,
		`latch_http_request_duration_seconds_count{route="POST /v1/users",status="201"} 1`,
		"latch_password_hashes_in_flight 0",
		"latch_password_hashes_queued 0",
		fmt.Sprintf("latch_password_hash_memory_budget_bytes %g", float64(hashes.DefaultMemoryBudget(hashes.DefaultParams, 0))),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// Label values are route patterns, never raw paths: ids must not leak
	// into (and explode) the label set.
	p.call("GET", "/v1/users/user-test-00000000-0000-4000-8000-000000000001", nil)
	r = h.do("GET", "/metrics", nil, noAuth)
	if strings.Contains(string(r.raw), "user-test-00000000") {
		t.Errorf("/metrics carries a user id in a label")
	}
	if !strings.Contains(string(r.raw), `latch_http_requests_total{route="GET /v1/users/{user_id}",status="404"} 1`) {
		t.Errorf("/metrics lacks the GET /v1/users/{user_id} 404 series")
	}
}

package server_test

// The hostile-input barrage. TestHostileInputs is generated from app.Routes
// and TestHostilePublicRoutes from the rest of app.Mounted (every pattern on
// the mux; TestEveryMountedRouteIsCovered holds that nothing is missing), so
// an endpoint is covered the day it is mounted: every authenticated route
// gets malformed JSON, wrong JSON types (for the whole body and for each
// field the Stytch contract lists), missing fields, an oversized body, deep
// nesting, invalid UTF-8, huge strings, NUL bytes and SQL-shaped strings in
// every string field, path wildcard and query parameter. Every rejection
// must be a 4xx in the Stytch error envelope with a catalogued error_type;
// nothing may answer 5xx; and afterwards the data that was there before is
// exactly as it was.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/hashes"
	"github.com/latchhq/latch/internal/httpx"
	"github.com/latchhq/latch/internal/tenant"
)

const (
	zeroUUID = "00000000-0000-0000-0000-000000000000"
	sqlOr    = "' OR 1=1 --"
	sqlDrop  = "\"; DROP TABLE users; --"
	xssProbe = "<script>alert(1)</script>"
	badUTF8  = "a\xffb\xfe\xc3("
)

// hostileStrings go into every string field, query parameter and wildcard.
var hostileStrings = []struct{ name, value string }{
	{"sql or", sqlOr},
	{"sql drop", sqlDrop},
	{"invalid utf-8", badUTF8},
	{"nul byte", "a\x00b"},
}

// knownErrorTypes is every error_type Latch may emit: the apierr catalogue
// plus the hash-migration types passwords.migrate passes through.
func knownErrorTypes() map[string]bool {
	m := map[string]bool{}
	for _, e := range apierr.Catalogue() {
		m[e.Type] = true
	}
	for _, typ := range []string{hashes.TypeInvalidHash, hashes.TypeInvalidHashType, hashes.TypeInvalidBcryptHash,
		hashes.TypeInvalidMD5Hash, hashes.TypeInvalidSHA1Hash, hashes.TypeInvalidSHA512Hash, hashes.TypeInvalidScryptConfig,
		hashes.TypeInvalidPBKDF2Config, hashes.TypeInvalidArgon2Config, hashes.TypeArgon2KeyLengthMismatch, hashes.TypeInvalidPHPassHash} {
		m[typ] = true
	}
	return m
}

var errorTypeRe = regexp.MustCompile(`^[a-z0-9_]+$`)

// The Stytch contract (see /work/shared/api/README.md): per route, the
// request fields and their types.

type contractField struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Required bool   `json:"required"`
	In       string `json:"in"`
}

type contractFile struct {
	Entries []struct {
		Method  string          `json:"method"`
		Path    string          `json:"path"`
		Request []contractField `json:"request"`
	} `json:"entries"`
	Types map[string]struct {
		Fields []contractField `json:"fields"`
	} `json:"types"`
}

// routeContract is what the contract says about one method+path.
type routeContract struct {
	body  []contractField
	query []contractField
}

var wildcardRe = regexp.MustCompile(`\{[^}]*\}`)

// routeKey normalises "GET /v1/users/{user_id}" and a mux pattern alike:
// wildcard names and {$} do not matter.
func routeKey(method, path string) string {
	path = strings.TrimSuffix(path, "{$}")
	return method + " " + wildcardRe.ReplaceAllString(path, "{}")
}

// contractPath is where the shared contract lives relative to this package;
// LATCH_STYTCH_CONTRACT overrides it.
func contractPath() string {
	if p := os.Getenv("LATCH_STYTCH_CONTRACT"); p != "" {
		return p
	}
	return "../../../shared/api/stytch-contract.json"
}

// fallbackFields are used when the contract file is not available: the
// fields the brief names, sent to every route.
var fallbackFields = []contractField{
	{Name: "email", Type: "string"}, {Name: "user_id", Type: "string"}, {Name: "session_duration_minutes", Type: "number"},
	{Name: "token", Type: "string"}, {Name: "password", Type: "string"}, {Name: "phone_number", Type: "string"},
	{Name: "code", Type: "string"}, {Name: "session_custom_claims", Type: "Record<string, any>"},
}

func loadContract(t *testing.T) (routes map[string]*routeContract, types map[string][]contractField, ok bool) {
	t.Helper()
	raw, err := os.ReadFile(contractPath())
	if err != nil {
		t.Logf("contract not available (%v): wrong-type cases use the %d fallback fields", err, len(fallbackFields))
		return nil, nil, false
	}
	var c contractFile
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("contract %s: %v", contractPath(), err)
	}
	routes = map[string]*routeContract{}
	for _, e := range c.Entries {
		if e.Method == "" || e.Path == "" {
			continue // local-only SDK helpers
		}
		k := routeKey(e.Method, e.Path)
		rc := routes[k]
		if rc == nil {
			rc = &routeContract{}
			routes[k] = rc
		}
		for _, f := range e.Request {
			switch f.In {
			case "body":
				if !slices.ContainsFunc(rc.body, func(g contractField) bool { return g.Name == f.Name }) {
					rc.body = append(rc.body, f)
				}
			case "query":
				if !slices.ContainsFunc(rc.query, func(g contractField) bool { return g.Name == f.Name }) {
					rc.query = append(rc.query, f)
				}
			}
		}
	}
	types = map[string][]contractField{}
	for name, ty := range c.Types {
		types[name] = ty.Fields
	}
	if len(routes) < 100 {
		t.Fatalf("contract %s has only %d routes", contractPath(), len(routes))
	}
	return routes, types, true
}

// jsonKind is the JSON kind a contract type takes.
func jsonKind(typ string) string {
	switch {
	case typ == "string":
		return "string"
	case typ == "number":
		return "number"
	case typ == "boolean":
		return "boolean"
	case strings.HasSuffix(typ, "[]"):
		return "array"
	default: // Record<...> and named types
		return "object"
	}
}

// wrongValues are JSON values of every kind but the field's own.
func wrongValues(typ string) []struct{ name, raw string } {
	all := []struct{ kind, name, raw string }{
		{"number", "number", `12345`},
		{"boolean", "bool", `true`},
		{"array", "array", `["x"]`},
		{"object", "object", `{"x":"y"}`},
		{"string", "string", `"x"`},
	}
	kind := jsonKind(typ)
	var out []struct{ name, raw string }
	for _, v := range all {
		if v.kind != kind {
			out = append(out, struct{ name, raw string }{v.name, v.raw})
		}
	}
	if typ == "string[]" {
		out = append(out, struct{ name, raw string }{"array of numbers", `[1]`})
	}
	return out
}

// rawString is a JSON string literal holding s byte for byte: invalid UTF-8
// is kept (json.Marshal would replace it), everything else escaped.
func rawString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// nest builds {"a":{"b":raw}} for the field path a.b.
func nestJSON(path []string, raw string) string {
	out := raw
	for i := len(path) - 1; i >= 0; i-- {
		out = `{` + rawString(path[i]) + `:` + out + `}`
	}
	return out
}

// plausibleID fills a path wildcard with an id of the right shape that
// exists nowhere.
func plausibleID(name string) string {
	switch name {
	case "phone_id":
		return "phone-number-test-" + zeroUUID
	case "project_id":
		return "project-test-" + zeroUUID
	}
	kind := strings.ReplaceAll(strings.TrimSuffix(name, "_id"), "_", "-")
	return kind + "-test-" + zeroUUID
}

// hostilePathValues are put, one at a time, into each path wildcard.
var hostilePathValues = []struct{ name, value string }{
	{"sql or", sqlOr},
	{"sql drop", sqlDrop},
	{"id then sql", "user-test-" + zeroUUID + "' OR '1'='1"},
	{"invalid utf-8", badUTF8},
	{"nul byte", "a\x00b"},
	{"4 KiB", strings.Repeat("a", 4096)},
	{"percent", "%"},
	{"slash", "a/../b"},
	{"dot dot", ".."},
	{"xss", xssProbe},
}

// freeText fields accept any string, so a hostile value in them may succeed.
var freeText = map[string]bool{
	"password": true, "new_password": true, "existing_password": true, "telemetry_id": true,
	"first_name": true, "middle_name": true, "last_name": true, "user_agent": true,
}

type hostileExpect int

const (
	wantReject hostileExpect = iota // a 4xx error envelope
	wantNo5xx                       // anything but a 5xx; a 4xx must still be a proper envelope
)

type hostileCase struct {
	name   string
	path   string // with query string
	body   any    // nil, string or []byte
	want   hostileExpect
	status int      // exact status when set
	types  []string // allowed error types when set
	field  string   // a wrong-typed field a decode error must name
	probe  string   // text that must not come back unescaped in an HTML page
}

func (c hostileCase) category() string {
	switch {
	case strings.HasPrefix(c.name, "path "):
		return "path-wildcard"
	case strings.HasPrefix(c.name, "query "):
		return "query"
	case c.field != "":
		return "wrong-type"
	case strings.HasSuffix(c.name, " 600 KiB"):
		return "huge-string"
	case strings.HasPrefix(c.name, "field "):
		return "hostile-string"
	case strings.HasPrefix(c.name, "empty object"):
		return "empty"
	case c.name == "oversized body":
		return "oversized"
	}
	return "body-syntax"
}

// hostileRoute is one mux pattern and what is known about it.
type hostileRoute struct {
	pattern, method, path string
	wildcards             []string
	contract              *routeContract // nil when the contract does not list it
	fields                []contractField
	guessed               bool // fields are the fallback list, not the route's own
	types                 map[string][]contractField
}

func parseRoute(pattern string, contract map[string]*routeContract, types map[string][]contractField, haveContract bool) hostileRoute {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || !strings.HasPrefix(path, "/") {
		method, path = "POST", pattern // a pattern without a method serves every method
	}
	r := hostileRoute{pattern: pattern, method: method, path: strings.TrimSuffix(path, "{$}"), types: types}
	for _, m := range wildcardRe.FindAllString(r.path, -1) {
		r.wildcards = append(r.wildcards, strings.TrimSuffix(strings.Trim(m, "{}"), "..."))
	}
	if haveContract {
		r.contract = contract[routeKey(method, path)]
		if r.contract != nil {
			r.fields = r.contract.body
		}
	} else {
		r.fields, r.guessed = fallbackFields, true
	}
	return r
}

// url fills the wildcards with plausible ids, except override[name].
func (r hostileRoute) url(override map[string]string) string {
	i := 0
	return wildcardRe.ReplaceAllStringFunc(r.path, func(string) string {
		name := r.wildcards[i]
		i++
		if v, ok := override[name]; ok {
			return url.PathEscape(v)
		}
		return url.PathEscape(plausibleID(name))
	})
}

func (r hostileRoute) readsBody() bool {
	return r.method == "POST" || r.method == "PUT" || r.method == "PATCH"
}

// requiredOtherThan reports whether the contract requires a body field
// besides top-level name.
func (r hostileRoute) requiredOtherThan(name string) bool {
	for _, f := range r.fields {
		if f.Required && f.Name != name {
			return true
		}
	}
	return false
}

// bodyMustFail: without a valid value for some field, the route cannot succeed.
func (r hostileRoute) bodyMustFail(field string) bool {
	return len(r.wildcards) > 0 || r.requiredOtherThan(field)
}

// stringFields lists the route's string body fields as paths, including one
// level into named object types (name.first_name, attributes.ip_address).
func (r hostileRoute) stringFields() [][]string {
	var out [][]string
	for _, f := range r.fields {
		switch {
		case f.Type == "string":
			out = append(out, []string{f.Name})
		case jsonKind(f.Type) == "object":
			for _, g := range r.types[f.Type] {
				if g.Type == "string" {
					out = append(out, []string{f.Name, g.Name})
				}
			}
		}
	}
	return out
}

func (r hostileRoute) cases() []hostileCase {
	var cs []hostileCase
	base := r.url(nil)
	add := func(c hostileCase) { cs = append(cs, c) }

	// Path wildcards: hostile values one at a time.
	for _, w := range r.wildcards {
		for _, v := range hostilePathValues {
			var body any
			if r.method != "GET" {
				body = "{}"
			}
			add(hostileCase{name: "path " + w + " " + v.name, path: r.url(map[string]string{w: v.value}), body: body, want: wantReject, probe: xssProbe})
		}
	}

	if r.method == "GET" {
		params := []string{"user_id", "to", "limit", "cursor", "email", "token"}
		required := false
		if r.contract != nil {
			for _, f := range r.contract.query {
				if !slices.Contains(params, f.Name) {
					params = append(params, f.Name)
				}
				required = required || f.Required
			}
		}
		want := wantNo5xx
		if len(r.wildcards) > 0 || required {
			want = wantReject
		}
		for _, p := range params {
			for _, v := range append(hostileStrings, struct{ name, value string }{"xss", xssProbe}) {
				add(hostileCase{name: "query " + p + " " + v.name, path: base + "?" + url.Values{p: {v.value}}.Encode(), want: want, probe: xssProbe})
			}
		}
		add(hostileCase{name: "query 8 KiB", path: base + "?user_id=" + strings.Repeat("a", 8<<10), want: want})
		return cs
	}

	// Whole-body cases.
	syntax := hostileCase{want: wantReject}
	if r.readsBody() && len(r.wildcards) == 0 {
		syntax = hostileCase{want: wantReject, status: 400, types: []string{"bad_request"}}
	}
	for _, b := range []struct{ name, body string }{
		{"truncated object", `{`},
		{"missing value", `{"a":}`},
		{"truncated array", `[`},
		{"trailing garbage", `{"a":1} x`},
		{"two objects", `{}{}`},
		{"bare word", `nul`},
		{"array body", `[]`},
		{"string body", `"str"`},
		{"number body", `123`},
		{"null body", `null`},
		{"deep nesting", `{"a":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`},
		{"invalid utf-8 body", "{\"a\":\"\xff\"}"},
	} {
		c := syntax
		c.name, c.path, c.body = b.name, base, b.body
		add(c)
	}
	empty := hostileCase{name: "empty object", path: base, body: "{}", want: wantNo5xx}
	if r.bodyMustFail("") {
		empty.want = wantReject
	}
	add(empty)
	add(hostileCase{name: "empty object, hostile query", path: base + "?" + url.Values{"user_id": {sqlOr}, "email": {sqlDrop}}.Encode(),
		body: "{}", want: empty.want})

	over := hostileCase{name: "oversized body", path: base, want: wantReject,
		body: `{"email":"` + strings.Repeat("a", httpx.MaxBody) + `@example.com"}`}
	if r.readsBody() {
		over.status, over.types = 413, []string{"request_too_large"}
	}
	add(over)

	// Per-field cases.
	for _, f := range r.fields {
		for _, v := range wrongValues(f.Type) {
			add(hostileCase{name: "field " + f.Name + " as " + v.name, path: base, body: nestJSON([]string{f.Name}, v.raw),
				want: wantReject, field: f.Name})
		}
	}
	strs := r.stringFields()
	for _, fp := range strs {
		leaf := fp[len(fp)-1]
		want := wantReject
		if !r.bodyMustFail(fp[0]) && (freeText[leaf] || len(fp) > 1 || r.guessed) {
			want = wantNo5xx
		}
		for _, v := range hostileStrings {
			add(hostileCase{name: "field " + strings.Join(fp, ".") + " " + v.name, path: base, body: nestJSON(fp, rawString(v.value)), want: want})
		}
	}
	// One huge string per route, in its first string field (email if any).
	if len(strs) > 0 {
		fp := strs[0]
		for _, s := range strs {
			if s[0] == "email" {
				fp = s
			}
		}
		want := wantReject
		if !r.bodyMustFail(fp[0]) && (freeText[fp[len(fp)-1]] || len(fp) > 1 || r.guessed) {
			want = wantNo5xx
		}
		add(hostileCase{name: "field " + strings.Join(fp, ".") + " 600 KiB", path: base,
			body: nestJSON(fp, rawString(strings.Repeat("a", 600<<10)+"@example.com")), want: want})
	}
	return cs
}

// checkHostile runs one case and reports what is wrong with its response.
func checkHostile(h *harness, p *project, r hostileRoute, c hostileCase, known map[string]bool, emptyType string) (*resp, []string) {
	res, err := h.send(r.method, c.path, c.body, p.auth())
	if err != nil {
		return res, []string{fmt.Sprintf("transport or envelope: %v", err)}
	}
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	switch {
	case res.status >= 500:
		bad("server error %d", res.status)
	case res.status >= 400:
	case c.want == wantReject:
		bad("accepted with %d, want a 4xx", res.status)
	case res.status >= 300:
		bad("status %d", res.status)
	}
	if c.probe != "" && strings.Contains(string(res.raw), c.probe) && !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
		bad("reflects %q unescaped", c.probe)
	}
	if res.status < 400 {
		if res.body == nil && !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") {
			bad("success body is not JSON: %q", truncBody(res.raw))
		}
		return res, probs
	}
	if res.body == nil {
		bad("error body is not JSON (Content-Type %q): %q", res.header.Get("Content-Type"), truncBody(res.raw))
		return res, probs
	}
	typ, _ := res.body["error_type"].(string)
	msg, _ := res.body["error_message"].(string)
	switch {
	case typ == "" || !errorTypeRe.MatchString(typ) || typ == "internal_server_error":
		bad("error_type %q", typ)
	case !known[typ]:
		bad("error_type %q is not in the catalogue", typ)
	}
	if sc, _ := res.body["status_code"].(float64); int(sc) != res.status {
		bad("status_code %v != %d", res.body["status_code"], res.status)
	}
	if id, _ := res.body["request_id"].(string); !requestIDRe.MatchString(id) {
		bad("request_id %q", id)
	}
	if msg == "" {
		bad("empty error_message")
	}
	if u, _ := res.body["error_url"].(string); u != fmt.Sprintf("https://stytch.com/docs/api/errors/%d#%s", res.status, typ) {
		bad("error_url %q", u)
	}
	if c.status != 0 && res.status != c.status {
		bad("status %d, want %d", res.status, c.status)
	}
	if len(c.types) > 0 && !slices.Contains(c.types, typ) {
		bad("error_type %s, want one of %v", typ, c.types)
	}
	if c.field != "" {
		// A wrong-typed field is either refused by name (invalid_argument),
		// or ignored (the route then fails exactly as it does for {}).
		switch {
		case typ == "invalid_argument" && strings.Contains(msg, c.field):
		case typ == emptyType:
		default:
			bad("wrong-typed %s gave %s %q; want invalid_argument naming it, or %q as for {}", c.field, typ, msg, emptyType)
		}
	}
	return res, probs
}

func truncBody(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// survivor is data that must come through the barrage unchanged.
type survivor struct {
	p       *project
	userID  string
	snap    map[string]any
	session string
}

func newSurvivor(t *testing.T, p *project, email, phone, ext string) survivor {
	t.Helper()
	cu := into[createUserJSON](t, p.ok(201, "POST", "/v1/users", map[string]any{
		"email": email, "phone_number": phone, "external_id": ext,
		"name":             map[string]any{"first_name": "Robert'); DROP TABLE users;--", "last_name": "Tables"},
		"trusted_metadata": map[string]any{"tier": "gold", "note": sqlOr}}))
	a := p.login(email, 60)
	return survivor{p: p, userID: cu.UserID, snap: userSnapshot(t, p, cu.UserID), session: a.SessionToken}
}

func userSnapshot(t *testing.T, p *project, userID string) map[string]any {
	t.Helper()
	r := p.ok(200, "GET", "/v1/users/"+userID, nil)
	delete(r.body, "request_id")
	return r.body
}

func (s survivor) check(t *testing.T) {
	t.Helper()
	got := userSnapshot(t, s.p, s.userID)
	a, _ := json.Marshal(s.snap)
	b, _ := json.Marshal(got)
	if string(a) != string(b) {
		t.Errorf("user %s changed:\nbefore %s\nafter  %s", s.userID, a, b)
	}
	s.p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": s.session})
}

func usersInProject(t *testing.T, h *harness, projectID string) int64 {
	t.Helper()
	return queryRows(t, h.db(), `SELECT COUNT(*) AS n FROM users WHERE project_id = ?`, projectID)[0]["n"].(int64)
}

func schemaObjects(t *testing.T, h *harness) []string {
	t.Helper()
	var out []string
	for _, row := range queryRows(t, h.db(), `SELECT type || ' ' || name AS o FROM sqlite_master ORDER BY 1`) {
		out = append(out, fmt.Sprint(row["o"]))
	}
	return out
}

func TestHostileInputs(t *testing.T) {
	t.Parallel()
	start := time.Now()
	h := newHarness(t)
	if n := len(h.app.Routes); n < 30 {
		t.Fatalf("app.Routes lists %d routes, want at least 30: %v", n, h.app.Routes)
	}
	contract, types, haveContract := loadContract(t)
	known := knownErrorTypes()

	p := h.project("Hostile", tenant.Test)
	q := h.project("Bystander", tenant.Test)
	victim := newSurvivor(t, p, "survivor@example.com", "+14155552671", "survivor-ext")
	bystander := newSurvivor(t, q, "bystander@example.com", "+14155552672", "bystander-ext")
	schema := schemaObjects(t, h)
	usersP, usersQ := usersInProject(t, h, p.id), usersInProject(t, h, q.id)

	var mu sync.Mutex
	observed := map[string]int{}
	created := map[string]bool{} // user ids that successful cases created in p
	ignored := map[string]bool{} // route+field the server ignored rather than refused
	total := 0
	categories := map[string]int{}
	var uncovered []string
	record := func(res *resp) {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range []any{res.body["user_id"], nestedUserID(res.body)} {
			if s, ok := id.(string); ok && s != "" && s != victim.userID {
				created[s] = true
			}
		}
	}

	t.Run("routes", func(t *testing.T) {
		for _, pattern := range h.app.Routes {
			r := parseRoute(pattern, contract, types, haveContract)
			if haveContract && r.contract == nil {
				uncovered = append(uncovered, pattern)
			}
			cases := r.cases()
			total += len(cases)
			for _, c := range cases {
				categories[c.category()]++
			}
			t.Run(pattern, func(t *testing.T) {
				t.Parallel()
				// {} first: its error type is what an ignored field produces.
				emptyType := ""
				res, err := h.send(r.method, r.url(nil), emptyBody(r), p.auth())
				if err != nil {
					t.Fatalf("%s with {}: %v", pattern, err)
				}
				if res.status >= 400 {
					emptyType = res.str("error_type")
				} else {
					record(res)
				}
				for _, c := range cases {
					if c.field != "" && emptyType == "" {
						c.want = wantNo5xx // {} succeeds, so an ignored field may too
					}
					if strings.HasPrefix(c.name, "empty object") && emptyType != "" {
						c.types = []string{emptyType} // the same missing fields, the same refusal
					}
					res, probs := checkHostile(h, p, r, c, known, emptyType)
					for _, pr := range probs {
						t.Errorf("%s %s [%s]: %s\n  body: %s", r.method, truncBody([]byte(c.path)), c.name, pr, truncBody(bodyBytes(c.body)))
					}
					if res == nil {
						continue
					}
					if res.status >= 400 {
						mu.Lock()
						observed[res.str("error_type")]++
						mu.Unlock()
						continue
					}
					record(res)
					if c.field != "" {
						mu.Lock()
						ignored[pattern+" "+c.field] = true
						mu.Unlock()
					}
				}
			})
		}
	})

	// The data survived: the users are unchanged, their sessions work, no
	// rows appeared but those the API reported creating, no table vanished.
	victim.check(t)
	bystander.check(t)
	if got, want := usersInProject(t, h, p.id), usersP+int64(len(created)); got != want {
		t.Errorf("project %s has %d users after the barrage, want %d (1 + %d created by accepted requests)", p.id, got, want, len(created))
	}
	if got := usersInProject(t, h, q.id); got != usersQ {
		t.Errorf("bystander project has %d users, want %d", got, usersQ)
	}
	if got := schemaObjects(t, h); !slices.Equal(got, schema) {
		t.Errorf("schema changed:\nbefore %v\nafter  %v", schema, got)
	}

	var seen []string
	for k, n := range observed {
		seen = append(seen, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(seen)
	var cats []string
	for k, n := range categories {
		cats = append(cats, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(cats)
	var ign []string
	for k := range ignored {
		ign = append(ign, k)
	}
	sort.Strings(ign)
	t.Logf("%d routes, %d hostile requests in %v; %d users created by accepted requests", len(h.app.Routes), total, time.Since(start).Round(time.Millisecond), len(created))
	t.Logf("cases by kind: %s", strings.Join(cats, " "))
	t.Logf("error types observed: %s", strings.Join(seen, " "))
	if len(uncovered) > 0 {
		t.Logf("routes the Stytch contract does not list (no per-field cases): %v", uncovered)
	}
	if len(ign) > 0 {
		t.Logf("wrong-typed contract fields the server accepted (field not decoded): %v", ign)
	}
}

func emptyBody(r hostileRoute) any {
	if r.method == "GET" {
		return nil
	}
	return "{}"
}

func bodyBytes(b any) []byte {
	switch v := b.(type) {
	case string:
		return []byte(v)
	case []byte:
		return v
	}
	return nil
}

func nestedUserID(body map[string]any) any {
	if u, ok := body["user"].(map[string]any); ok {
		return u["user_id"]
	}
	return nil
}

// TestHostileValuesStoredVerbatim: SQL-shaped and odd strings in free-text
// fields are stored and returned byte for byte, and used as search filters
// they match only what they literally say.
func TestHostileValuesStoredVerbatim(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Verbatim", tenant.Test)
	other := into[createUserJSON](t, p.ok(201, "POST", "/v1/users", map[string]any{"email": "other@example.com",
		"name": map[string]any{"first_name": "Other"}}))
	values := []string{sqlOr, sqlDrop, "Robert'); DROP TABLE users;--", `\'; --`, "%_%", "a\x00b", xssProbe, "名前", "\u202etxt.exe"}
	for i, v := range values {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			name := map[string]any{"first_name": v, "middle_name": v, "last_name": v}
			meta := map[string]any{v: v, "k": []any{v}}
			cu := into[createUserJSON](t, p.ok(201, "POST", "/v1/users", map[string]any{
				"email": fmt.Sprintf("verbatim%d@example.com", i), "name": name, "trusted_metadata": meta, "untrusted_metadata": meta}))
			u := into[userJSON](t, p.ok(200, "GET", "/v1/users/"+cu.UserID, nil))
			if u.Name == nil || u.Name.FirstName != v || u.Name.LastName != v {
				t.Errorf("name came back as %+v, want %q", u.Name, v)
			}
			if got, _ := json.Marshal(u.TrustedMetadata); string(got) != jsonString(t, meta) {
				t.Errorf("trusted_metadata came back as %s, want %s", got, jsonString(t, meta))
			}
			// Update through PUT too.
			p.ok(200, "PUT", "/v1/users/"+cu.UserID, map[string]any{"name": map[string]any{"first_name": v + v}})
			if u := into[userJSON](t, p.ok(200, "GET", "/v1/users/"+cu.UserID, nil)); u.Name == nil || u.Name.FirstName != v+v {
				t.Errorf("updated name came back as %+v", u.Name)
			}
		})
	}
	// Search filters with SQL-shaped values find nothing they do not name.
	for _, op := range []map[string]any{
		{"filter_name": "email_address", "filter_value": []string{sqlOr}},
		{"filter_name": "email_address_fuzzy", "filter_value": sqlOr},
		{"filter_name": "full_name_fuzzy", "filter_value": "zz' OR 'a'='a"},
		{"filter_name": "user_id", "filter_value": []string{"user-test-" + zeroUUID + "' OR 1=1 --"}},
		{"filter_name": "external_id", "filter_value": []string{sqlDrop}},
		{"filter_name": "phone_number_fuzzy", "filter_value": "1' OR '1'='1"},
	} {
		r := p.call("POST", "/v1/users/search", map[string]any{"query": map[string]any{"operator": "AND", "operands": []any{op}}})
		if r.status >= 500 {
			t.Errorf("search %v = %d %s", op, r.status, r.raw)
			continue
		}
		if r.status == 200 {
			if s := into[searchJSON](t, r); s.ResultsMetadata.Total != 0 {
				t.Errorf("search %v matched %d users", op, s.ResultsMetadata.Total)
			}
		}
	}
	// The unrelated user is untouched.
	if u := into[userJSON](t, p.ok(200, "GET", "/v1/users/"+other.UserID, nil)); u.Name == nil || u.Name.FirstName != "Other" {
		t.Errorf("other user changed: %+v", u.Name)
	}
	if n := usersInProject(t, h, p.id); n != int64(len(values)+1) {
		t.Errorf("%d users, want %d", n, len(values)+1)
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHostileTargeted: hostile values that only bite inside an otherwise
// valid request, so the generated barrage (one field at a time) cannot
// reach them. Each row names the status and error type it must get; a
// product accepting a value users.create refuses is a validation gap.
func TestHostileTargeted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Targeted", tenant.Test)
	u := into[createUserJSON](t, p.ok(201, "POST", "/v1/users", map[string]any{"email": "target@example.com"}))
	migrate := func(email string, extra map[string]any) map[string]any {
		m := map[string]any{"email": email, "hash": "5f4dcc3b5aa765d61d8327deb882cf99", "hash_type": "md_5"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	operands := func(n int) string {
		op := `{"filter_name":"status","filter_value":"active"}`
		return `{"query":{"operator":"AND","operands":[` + strings.TrimSuffix(strings.Repeat(op+",", n), ",") + `]}}`
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		typ                string // "" accepts any type of that status
	}{
		{"users.create external_id", "POST", "/v1/users", map[string]any{"email": "t1@example.com", "external_id": sqlOr}, 400, "invalid_external_id"},
		{"users.create role", "POST", "/v1/users", map[string]any{"email": "t2@example.com", "roles": []string{""}}, 400, "invalid_rbac_role_id"},
		{"users.update external_id", "PUT", "/v1/users/" + u.UserID, map[string]any{"external_id": sqlDrop}, 400, "invalid_external_id"},
		{"users.update role", "PUT", "/v1/users/" + u.UserID, map[string]any{"roles": []string{""}}, 400, "invalid_rbac_role_id"},
		{"passwords.migrate name", "POST", "/v1/passwords/migrate", migrate("m1@example.com", map[string]any{"name": map[string]any{"first_name": strings.Repeat("n", 300)}}), 400, "invalid_name"},
		{"passwords.migrate metadata", "POST", "/v1/passwords/migrate", migrate("m2@example.com", map[string]any{"trusted_metadata": map[string]any{"k": strings.Repeat("x", 5000)}}), 400, "metadata_too_large"},
		{"passwords.migrate phone", "POST", "/v1/passwords/migrate", migrate("m3@example.com", map[string]any{"phone_number": sqlOr}), 400, "invalid_phone_number"},
		{"passwords.migrate scrypt n 2^40", "POST", "/v1/passwords/migrate", map[string]any{"email": "m4@example.com", "hash": "x", "hash_type": "scrypt",
			"scrypt_config": map[string]any{"salt": "c2FsdA==", "n_parameter": 1 << 40, "r_parameter": 8, "p_parameter": 1, "key_length": 32}}, 400, "invalid_scrypt_config"},
		{"passwords.migrate pbkdf2 2^40 rounds", "POST", "/v1/passwords/migrate", map[string]any{"email": "m5@example.com", "hash": "x", "hash_type": "pbkdf_2",
			"pbkdf_2_config": map[string]any{"salt": "c2FsdA==", "iteration_amount": 1 << 40, "key_length": 32, "algorithm": "sha256"}}, 400, "invalid_pbkdf_2_config"},
		{"passwords.migrate argon2 2^20 threads", "POST", "/v1/passwords/migrate", map[string]any{"email": "m6@example.com", "hash": "x", "hash_type": "argon_2i",
			"argon_2_config": map[string]any{"salt": "c2FsdA==", "iteration_amount": 3, "memory": 1 << 16, "threads": 1 << 20, "key_length": 32}}, 400, "invalid_argon_2_config"},
		// Fixed after the first run found them: an operand cap, the
		// migrate checks users.create makes, a bcrypt cost cap.
		{"users.search 998 operands", "POST", "/v1/users/search", operands(998), 400, "invalid_argument"},
		{"passwords.migrate external_id", "POST", "/v1/passwords/migrate", migrate("m7@example.com", map[string]any{"external_id": sqlOr}), 400, "invalid_external_id"},
		{"passwords.migrate external_id 500 chars", "POST", "/v1/passwords/migrate", migrate("m8@example.com", map[string]any{"external_id": strings.Repeat("e", 500)}), 400, "invalid_external_id"},
		{"passwords.migrate role", "POST", "/v1/passwords/migrate", migrate("m9@example.com", map[string]any{"roles": []string{""}}), 400, "invalid_rbac_role_id"},
		{"passwords.migrate bcrypt cost 31", "POST", "/v1/passwords/migrate", migrate("m10@example.com", map[string]any{"hash_type": "bcrypt",
			"hash": "$2a$31$" + strings.Repeat("a", 53)}), 400, "invalid_bcrypt_hash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := p.call(tc.method, tc.path, tc.body)
			if r.status != tc.status || (tc.typ != "" && r.str("error_type") != tc.typ) {
				t.Errorf("got %d %s, want %d %s: %s", r.status, r.str("error_type"), tc.status, tc.typ, truncBody(r.raw))
			}
		})
	}
	// Nothing the refusals touched changed.
	if got := into[userJSON](t, p.ok(200, "GET", "/v1/users/"+u.UserID, nil)); got.ExternalID != nil {
		t.Errorf("external_id set to %q", *got.ExternalID)
	}
	if n := usersInProject(t, h, p.id); n != 1 {
		t.Errorf("%d users, want 1", n)
	}
}

// TestHostileAuthHeaders: every authenticated route refuses malformed,
// partial, foreign and injection-shaped credentials with 401
// unauthorized_credentials, before reading anything else.
func TestHostileAuthHeaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if n := len(h.app.Routes); n < 30 {
		t.Fatalf("app.Routes lists %d routes, want at least 30", n)
	}
	p := h.project("Auth headers", tenant.Test)
	b64std := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	headers := []struct{ name, value string }{
		{"none", ""},
		{"scheme only", "Basic"},
		{"not base64", "Basic !!!"},
		{"no colon", "Basic " + b64std(p.id+p.secret)},
		{"empty id", "Basic " + b64std(":"+p.secret)},
		{"empty secret", "Basic " + b64std(p.id+":")},
		{"sql id", "Basic " + b64std(sqlOr+":"+sqlOr)},
		{"secret with NUL", "Basic " + b64std(p.id+":"+p.secret+"\x00")},
		{"secret prefix", "Basic " + b64std(p.id+":"+p.secret[:len(p.secret)-1])},
		{"secret as id", "Basic " + b64std(p.secret+":"+p.id)},
		{"bearer", "Bearer " + p.secret},
		{"invalid utf-8", "Basic " + b64std(p.id+"\xff:"+p.secret)},
		{"8 KiB", "Basic " + b64std(strings.Repeat("p", 4096)+":"+strings.Repeat("s", 4096))},
	}
	var mu sync.Mutex
	n := 0
	t.Run("routes", func(t *testing.T) {
		for _, pattern := range h.app.Routes {
			r := parseRoute(pattern, nil, nil, true)
			t.Run(pattern, func(t *testing.T) {
				t.Parallel()
				for _, hd := range headers {
					res, err := h.send(r.method, r.url(nil), emptyBody(r), func(req *http.Request) {
						if hd.value != "" {
							req.Header.Set("Authorization", hd.value)
						}
					})
					if err != nil {
						t.Errorf("%s [%s]: %v", pattern, hd.name, err)
						continue
					}
					if res.status != 401 || res.str("error_type") != "unauthorized_credentials" {
						t.Errorf("%s [%s]: %d %s, want 401 unauthorized_credentials", pattern, hd.name, res.status, res.str("error_type"))
					}
					mu.Lock()
					n++
					mu.Unlock()
				}
			})
		}
	})
	t.Logf("%d routes x %d credential shapes = %d requests", len(h.app.Routes), len(headers), n)

	// The public routes take no project secret. The OAuth endpoints read
	// HTTP Basic as client credentials: a malformed or foreign header is
	// an invalid_client, never a 5xx and never the project's secret
	// accepted as a client's. The other pages ignore the header.
	c := p.connectedApp()
	_, link := p.sendLink("auth-headers-link@example.com", nil)
	for _, pattern := range h.app.Mounted {
		kind := publicKinds[pattern]
		if slices.Contains(h.app.PublicRoutes, pattern) {
			kind = kindOAuth
		}
		if kind == 0 || kind == kindOps {
			continue
		}
		r := parseRoute(pattern, nil, nil, true)
		t.Run(pattern, func(t *testing.T) {
			for _, hd := range append(headers, struct{ name, value string }{"client id, project secret", "Basic " + b64std(c.id+":"+p.secret)}) {
				var res *resp
				authz := func(req *http.Request) {
					if hd.value != "" {
						req.Header.Set("Authorization", hd.value)
					}
				}
				switch kind {
				case kindOAuth:
					res = h.do("POST", r.url(map[string]string{"project_id": p.id}), "token=x&grant_type=authorization_code&code=x", authz, "Content-Type", formType)
					// Any Authorization header is a client authentication
					// attempt (RFC 6749 5.2: 401); none at all is 400.
					status := 401
					if hd.value == "" {
						status = 400
					}
					wantOAuthError(t, res, status, "invalid_client")
				case kindJWKS:
					res = h.do("GET", r.url(map[string]string{"project_id": p.id}), nil, authz)
					if res.status != 200 {
						t.Errorf("[%s]: %d %s", hd.name, res.status, truncBody(res.raw))
					}
				case kindRedirect:
					res = h.do("GET", r.path+"?"+url.Values{"project_id": {p.id}, "token": {link}}.Encode(), nil, authz)
					if res.status != 302 {
						t.Errorf("[%s]: %d %s", hd.name, res.status, truncBody(res.raw))
					}
				}
				n++
			}
		})
	}
}

// publicKind is how a mounted route that takes no project secret is
// attacked. Every pattern in app.Mounted is in app.Routes (the generated
// barrage above) or has a kind here; TestEveryMountedRouteIsCovered fails
// for a new one until it does.
type publicKind int

const (
	kindOAuth    publicKind = iota + 1 // /v1/public/{project_id}/oauth2/*: form or JSON in, OAuth error form out
	kindJWKS                           // the project id in the path, nothing else read
	kindRedirect                       // project_id and token in the query
	kindOps                            // health, readiness and metrics: no input
)

var publicKinds = map[string]publicKind{
	"GET /v1/sessions/jwks/{project_id}": kindJWKS,
	"GET /v1/magic_links/redirect":       kindRedirect,
	"GET /healthz":                       kindOps,
	"GET /readyz":                        kindOps,
	"GET /metrics":                       kindOps,
}

// TestEveryMountedRouteIsCovered: app.Mounted is the complete list of mux
// patterns (nothing in server.go registers on the mux but routeTable), it
// holds Routes and PublicRoutes, and every pattern in it has hostile cases.
func TestEveryMountedRouteIsCovered(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	mounted := map[string]bool{}
	for _, p := range h.app.Mounted {
		if mounted[p] {
			t.Errorf("%s is mounted twice", p)
		}
		mounted[p] = true
	}
	authed, public := map[string]bool{}, map[string]bool{}
	for _, p := range h.app.Routes {
		authed[p] = true
		if !mounted[p] {
			t.Errorf("route %s is not in app.Mounted", p)
		}
	}
	for _, p := range h.app.PublicRoutes {
		public[p] = true
		if !mounted[p] {
			t.Errorf("public route %s is not in app.Mounted", p)
		}
	}
	for _, want := range []string{"POST /v1/public/{project_id}/oauth2/token", "POST /v1/public/{project_id}/oauth2/introspect"} {
		if !public[want] {
			t.Errorf("%s is not in app.PublicRoutes", want)
		}
	}
	for _, p := range h.app.Mounted {
		if !authed[p] && !public[p] && publicKinds[p] == 0 {
			t.Errorf("%s is mounted but has no hostile cases: give it a kind in publicKinds", p)
		}
	}
	for p := range publicKinds {
		if !mounted[p] {
			t.Errorf("publicKinds names %s, which is not mounted", p)
		}
	}
	checkOnlyRouteTableTouchesMux(t)
}

// checkOnlyRouteTableTouchesMux reads the package's source: a ServeMux is
// made only in newRouteTable, only (*routeTable).Handle registers on it
// directly, and AuthRouter and ProjectRouter (which register on it
// themselves) are built only inside routeTable's methods. A route mounted
// any other way would be missing from app.Mounted.
func checkOnlyRouteTableTouchesMux(t *testing.T) {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			inTable := fn.Recv != nil && len(fn.Recv.List) == 1 && types.ExprString(fn.Recv.List[0].Type) == "*routeTable"
			ast.Inspect(fn, func(node ast.Node) bool {
				switch x := node.(type) {
				case *ast.CallExpr:
					switch fun := types.ExprString(x.Fun); {
					case fun == "http.NewServeMux" && fn.Name.Name != "newRouteTable":
						t.Errorf("%s: %s makes a ServeMux outside newRouteTable", fset.Position(x.Pos()), fn.Name.Name)
					case (strings.HasSuffix(fun, ".mux.Handle") || strings.HasSuffix(fun, ".mux.HandleFunc")) && !(inTable && fn.Name.Name == "Handle"):
						t.Errorf("%s: %s registers on the mux directly; use the routeTable", fset.Position(x.Pos()), fn.Name.Name)
					}
					n++
				case *ast.CompositeLit:
					if typ := types.ExprString(x.Type); (typ == "httpx.AuthRouter" || typ == "httpx.ProjectRouter") && !inTable {
						t.Errorf("%s: %s builds an %s outside routeTable", fset.Position(x.Pos()), fn.Name.Name, typ)
					}
				}
				return true
			})
		}
	}
	if n < 20 {
		t.Fatalf("parsed only %d calls in %v; is the test in the package directory?", n, files)
	}
}

// oauthWant is an OAuth error response: the status and the error value.
type oauthWant struct {
	status int
	err    string
}

// wantOAuthError checks the OAuth error form exactly: error,
// error_description, error_uri, status_code, request_id and nothing else.
func wantOAuthError(t *testing.T, r *resp, status int, typ string) {
	t.Helper()
	if r.status != status || r.str("error") != typ {
		t.Errorf("got %d %s, want %d %s: %s", r.status, r.str("error"), status, typ, truncBody(r.raw))
		return
	}
	if r.str("error_description") == "" {
		t.Errorf("error_description is empty: %s", r.raw)
	}
	if got, want := r.str("error_uri"), fmt.Sprintf("https://stytch.com/docs/api/errors/%d#%s", status, typ); got != want {
		t.Errorf("error_uri = %q, want %q", got, want)
	}
	for k := range r.body {
		switch k {
		case "error", "error_description", "error_uri", "status_code", "request_id":
		default:
			t.Errorf("unexpected OAuth error field %q: %s", k, r.raw)
		}
	}
}

const formType = "application/x-www-form-urlencoded"

// publicPathValues are hostilePathValues but "..", which makes the path
// another route's rather than a bad project id (each kind checks it).
func publicPathValues() []struct{ name, value string } {
	var out []struct{ name, value string }
	for _, v := range hostilePathValues {
		if v.value != ".." {
			out = append(out, v)
		}
	}
	return out
}

// TestHostilePublicRoutes: every mounted route that takes no project secret
// gets the barrage of its kind (publicKinds), each refusal the exact 4xx:
// the OAuth endpoints answer in the OAuth error form, the JWKS and magic
// link redirect in the Stytch envelope; nothing answers 5xx.
func TestHostilePublicRoutes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Public hostile", tenant.Test)
	c := p.connectedApp()
	_, link := p.sendLink("redirect@example.com", nil)
	long := func(n int) string { return strings.Repeat("a", n) }

	public := map[string]bool{}
	for _, pt := range h.app.PublicRoutes {
		public[pt] = true
	}
	n := 0
	for _, pattern := range h.app.Mounted {
		kind := publicKinds[pattern]
		if public[pattern] {
			kind = kindOAuth
		}
		if kind == 0 {
			continue // authenticated: TestHostileInputs
		}
		r := parseRoute(pattern, nil, nil, true)
		t.Run(pattern, func(t *testing.T) {
			switch kind {
			case kindOAuth:
				n += hostileOAuth(t, h, p, r, c)
			case kindJWKS:
				for _, v := range append(publicPathValues(),
					struct{ name, value string }{"unknown project", "project-test-" + zeroUUID},
					struct{ name, value string }{"relabelled live", "project-live-" + strings.TrimPrefix(p.id, "project-test-")},
					struct{ name, value string }{"project prefix, 8 KiB", "project-test-" + long(8<<10)},
					struct{ name, value string }{"project prefix, sql", p.id + sqlOr},
					struct{ name, value string }{"upper case", strings.ToUpper(p.id)},
				) {
					t.Run(v.name, func(t *testing.T) {
						res := h.do("GET", r.url(map[string]string{"project_id": v.value}), nil, noAuth)
						wantError(t, res, 404, "project_not_found")
						if strings.Contains(string(res.raw), xssProbe) {
							t.Errorf("reflects %q", xssProbe)
						}
					})
					n++
				}
				// Query parameters mean nothing to it.
				for _, v := range hostileStrings {
					res := h.do("GET", r.url(map[string]string{"project_id": p.id})+"?"+url.Values{"project_id": {v.value}, "kid": {v.value}}.Encode(), nil, noAuth)
					if res.status != 200 || len(into[jwksJSON](t, res).Keys) != 1 {
						t.Errorf("query %s: %d %s", v.name, res.status, truncBody(res.raw))
					}
					n++
				}
				// ".." is not a project id: the path is another route's,
				// which the mux answers (a redirect to the clean path).
				if res := h.do("GET", r.url(map[string]string{"project_id": ".."}), nil, noAuth); res.status != 307 ||
					res.header.Get("Location") != "/v1/sessions" {
					t.Errorf("dot dot: %d %v", res.status, res.header)
				}
			case kindRedirect:
				good := url.Values{"project_id": {p.id}, "token": {link}}
				if res := h.do("GET", r.path+"?"+good.Encode(), nil, noAuth); res.status != 302 {
					t.Fatalf("control redirect = %d %s", res.status, res.raw)
				}
				queries := []struct{ name, query string }{
					{"none", ""},
					{"token only", url.Values{"token": {link}}.Encode()},
					{"project only", url.Values{"project_id": {p.id}}.Encode()},
					{"unknown project", url.Values{"project_id": {"project-test-" + zeroUUID}, "token": {link}}.Encode()},
					{"relabelled live", url.Values{"project_id": {"project-live-" + strings.TrimPrefix(p.id, "project-test-")}, "token": {link}}.Encode()},
					{"token twice, first wrong", "project_id=" + url.QueryEscape(p.id) + "&token=nope&token=" + url.QueryEscape(link)},
					{"bad escape", "project_id=%zz&token=%zz"},
					{"token 8 KiB", url.Values{"project_id": {p.id}, "token": {long(8 << 10)}}.Encode()},
					{"project 8 KiB", url.Values{"project_id": {long(8 << 10)}, "token": {link}}.Encode()},
					{"token with trailing space", url.Values{"project_id": {p.id}, "token": {link + " "}}.Encode()},
				}
				for _, v := range append(hostileStrings, struct{ name, value string }{"xss", xssProbe}) {
					queries = append(queries,
						struct{ name, query string }{"token " + v.name, url.Values{"project_id": {p.id}, "token": {v.value}}.Encode()},
						struct{ name, query string }{"project " + v.name, url.Values{"project_id": {v.value}, "token": {link}}.Encode()})
				}
				for _, q := range queries {
					t.Run(q.name, func(t *testing.T) {
						res := h.do("GET", r.path+"?"+q.query, nil, noAuth)
						wantError(t, res, 404, "magic_link_not_found")
						if strings.Contains(string(res.raw), xssProbe) || res.header.Get("Location") != "" {
							t.Errorf("reflects the probe or redirects: %v %s", res.header, truncBody(res.raw))
						}
					})
					n++
				}
			case kindOps:
				for _, v := range append(hostileStrings, struct{ name, value string }{"8 KiB", long(8 << 10)}) {
					res, err := h.send("GET", r.path+"?"+url.Values{"x": {v.value}}.Encode(), nil, noAuth)
					if err != nil || res.status != 200 {
						t.Errorf("query %s: %v %v", v.name, err, res)
					}
					n++
				}
			}
		})
	}
	t.Logf("%d hostile requests to %d public routes", n, len(publicKinds)+len(h.app.PublicRoutes))
}

// hostileOAuth runs the OAuth endpoint barrage against r and returns how
// many requests it sent.
func hostileOAuth(t *testing.T, h *harness, p *project, r hostileRoute, c caClient) int {
	base := r.url(map[string]string{"project_id": p.id})
	introspect := strings.HasSuffix(r.path, "/introspect")
	// valid is a request the endpoint would get from a real client, and
	// what a bad value in one of its parameters must give.
	valid := url.Values{"client_id": {c.id}, "client_secret": {c.secret}, "grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {caRedirect}}
	badValue := oauthWant{400, "invalid_grant"}
	// No client_id at all: the token endpoint cannot tell what is asked,
	// introspection needs the client first.
	noClient := oauthWant{400, "invalid_request"}
	if introspect {
		valid = url.Values{"client_id": {c.id}, "client_secret": {c.secret}, "token": {"x"}}
		badValue = oauthWant{200, ""} // an unknown token is inactive, not an error
		noClient = oauthWant{400, "invalid_client"}
	}
	with := func(k, v string) string {
		q := url.Values{}
		for kk, vv := range valid {
			q[kk] = vv
		}
		q.Set(k, v)
		return q.Encode()
	}
	jsonWith := func(k, v string) string {
		m := map[string]string{}
		for kk := range valid {
			m[kk] = valid.Get(kk)
		}
		m[k] = v
		b, _ := json.Marshal(m)
		return string(b)
	}
	long := strings.Repeat("a", 9000)
	type oc struct {
		name, ctype, body string
		want              oauthWant
	}
	cases := []oc{
		{"form: bad escape", formType, "a=%zz", oauthWant{400, "invalid_request"}},
		{"form: client_id twice", formType, with("client_id", c.id) + "&client_id=x", oauthWant{400, "invalid_request"}},
		{"form: invalid utf-8", formType, with("client_id", c.id) + "&x=%FF%FE", oauthWant{400, "invalid_request"}},
		{"form: nul byte", formType, "client_id=a%00b", oauthWant{400, "invalid_request"}},
		{"form: empty", formType, "", noClient},
		{"form: client_id 9000 chars", formType, with("client_id", long), oauthWant{400, "invalid_request"}},
		{"form: client_id sql", formType, with("client_id", sqlOr), oauthWant{400, "invalid_client"}},
		{"form: client_id sql drop", formType, with("client_id", sqlDrop), oauthWant{400, "invalid_client"}},
		{"form: client_secret sql", formType, with("client_secret", sqlOr), oauthWant{400, "invalid_client"}},
		{"form: another client's id", formType, with("client_id", "connected-app-test-"+zeroUUID), oauthWant{400, "invalid_client"}},
		{"form: oversized", formType, with("x", strings.Repeat("a", httpx.MaxBody)), oauthWant{413, "request_too_large"}},
		{"json: truncated", "application/json", `{`, oauthWant{400, "invalid_request"}},
		{"json: array", "application/json", `[]`, oauthWant{400, "invalid_request"}},
		{"json: null", "application/json", `null`, oauthWant{400, "invalid_request"}},
		{"json: string", "application/json", `"str"`, oauthWant{400, "invalid_request"}},
		{"json: wrong type", "application/json", `{"client_id": 5}`, oauthWant{400, "invalid_request"}},
		{"json: trailing garbage", "application/json", jsonWith("x", "y") + " x", oauthWant{400, "invalid_request"}},
		{"json: deep nesting", "application/json", `{"a":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`, oauthWant{400, "invalid_request"}},
		{"json: invalid utf-8", "application/json", "{\"client_id\":\"\xff\"}", oauthWant{400, "invalid_request"}},
		{"json: client_id sql", "application/json", jsonWith("client_id", sqlOr), oauthWant{400, "invalid_client"}},
		{"json: oversized", "application/json", jsonWith("x", strings.Repeat("a", httpx.MaxBody)), oauthWant{413, "request_too_large"}},
	}
	// Hostile values where the endpoint reads a grant: no 5xx, no match.
	field := "code"
	if introspect {
		field = "token"
	}
	for _, v := range hostileStrings[:2] {
		cases = append(cases, oc{"form: " + field + " " + v.name, formType, with(field, v.value), badValue})
		cases = append(cases, oc{"json: " + field + " " + v.name, "application/json", jsonWith(field, v.value), badValue})
	}
	// Longer than any token Latch issues: refused before any lookup.
	cases = append(cases, oc{"form: " + field + " 600 KiB", formType, with(field, strings.Repeat("a", 600<<10)), oauthWant{400, "invalid_request"}})
	n := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := h.do("POST", base, tc.body, noAuth, "Content-Type", tc.ctype)
			n++
			if tc.want.err == "" {
				if res.status != tc.want.status || res.body["active"] != false {
					t.Errorf("got %d %s, want %d inactive", res.status, truncBody(res.raw), tc.want.status)
				}
				return
			}
			wantOAuthError(t, res, tc.want.status, tc.want.err)
		})
	}
	// Bad project ids in the path: unknown, in the OAuth form.
	for _, v := range append(publicPathValues(),
		struct{ name, value string }{"unknown project", "project-test-" + zeroUUID},
		struct{ name, value string }{"relabelled live", "project-live-" + strings.TrimPrefix(p.id, "project-test-")},
		struct{ name, value string }{"project prefix, 8 KiB", "project-test-" + strings.Repeat("a", 8<<10)},
	) {
		t.Run("path "+v.name, func(t *testing.T) {
			res := h.do("POST", r.url(map[string]string{"project_id": v.value}), valid.Encode(), noAuth, "Content-Type", formType)
			n++
			wantOAuthError(t, res, 404, "project_not_found")
		})
	}
	// ".." makes the path no route at all.
	wantError(t, h.do("POST", r.url(map[string]string{"project_id": ".."}), valid.Encode(), noAuth, "Content-Type", formType), 404, "route_not_found")
	// Hostile query parameters are not read as the body's.
	res := h.do("POST", base+"?"+url.Values{"client_id": {sqlOr}, "client_secret": {sqlDrop}}.Encode(), "", noAuth, "Content-Type", formType)
	wantOAuthError(t, res, noClient.status, noClient.err)
	return n + 1
}

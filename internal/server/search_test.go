package server_test

import (
	"encoding/base64"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/tenant"
)

// searchFilterNames reads the filter names users.search accepts from the
// filters map in internal/users/search.go, so a filter added there without
// a row here fails TestUserSearchFilters.
func searchFilterNames(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../users/search.go", nil, 0)
	if err != nil {
		t.Fatalf("parse users/search.go: %v", err)
	}
	var names []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "filters" || len(vs.Values) != 1 {
			return true
		}
		for _, elt := range vs.Values[0].(*ast.CompositeLit).Elts {
			key := elt.(*ast.KeyValueExpr).Key.(*ast.BasicLit)
			name, _ := strconv.Unquote(key.Value)
			names = append(names, name)
		}
		return false
	})
	if len(names) < 20 {
		t.Fatalf("found only %d filter names in users/search.go: %v", len(names), names)
	}
	return names
}

type searchFixture struct {
	p     *project
	ids   map[string]string // label -> user_id
	byID  map[string]string // user_id -> label
	email map[string]string // label -> email_id
	phone map[string]string // label -> phone_id
	at    map[string]time.Time
}

// newSearchFixture creates five users one minute apart:
//
//	alice: alice@example.com (verified), +14155552671, "Alice Anders", ext-alice
//	bob:   bob@sample.org, pending, "Bob Brown"
//	carol: +442079460958 only, "Carol Clark", ext-carol
//	dave:  dave@example.com, no name
//	erin:  erin@other.net, +33612345678, "Erin O'Hara"
func newSearchFixture(t *testing.T, h *harness) *searchFixture {
	t.Helper()
	p := h.project("Search", tenant.Test)
	f := &searchFixture{p: p, ids: map[string]string{}, byID: map[string]string{}, email: map[string]string{},
		phone: map[string]string{}, at: map[string]time.Time{}}
	name := func(first, last string) map[string]any { return map[string]any{"first_name": first, "last_name": last} }
	for _, u := range []struct {
		label string
		body  map[string]any
	}{
		{"alice", map[string]any{"email": "alice@example.com", "phone_number": "+14155552671", "name": name("Alice", "Anders"), "external_id": "ext-alice"}},
		{"bob", map[string]any{"email": "bob@sample.org", "name": name("Bob", "Brown"), "create_user_as_pending": true}},
		{"carol", map[string]any{"phone_number": "+442079460958", "name": name("Carol", "Clark"), "external_id": "ext-carol"}},
		{"dave", map[string]any{"email": "dave@example.com"}},
		{"erin", map[string]any{"email": "erin@other.net", "phone_number": "+33612345678", "name": name("Erin", "O'Hara")}},
	} {
		h.clock.Advance(time.Minute)
		c := into[createUserJSON](t, p.ok(201, "POST", "/v1/users", u.body))
		f.ids[u.label], f.byID[c.UserID], f.email[u.label], f.phone[u.label] = c.UserID, u.label, c.EmailID, c.PhoneID
		f.at[u.label] = h.clock.Now()
	}
	// Verify alice's email the only way there is: a magic link.
	h.clock.Advance(time.Minute)
	_, tok := p.sendLink("alice@example.com", nil)
	p.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": tok})
	return f
}

func (f *searchFixture) labels(t *testing.T, users []userJSON) []string {
	t.Helper()
	out := []string{}
	for _, u := range users {
		l, ok := f.byID[u.UserID]
		if !ok {
			t.Fatalf("search returned unknown user %s", u.UserID)
		}
		out = append(out, l)
	}
	return out
}

func op(name string, value any) map[string]any {
	return map[string]any{"filter_name": name, "filter_value": value}
}

func query(operator string, ops ...map[string]any) map[string]any {
	return map[string]any{"query": map[string]any{"operator": operator, "operands": ops}}
}

func TestUserSearchFilters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newSearchFixture(t, h)
	ts := func(label string, d time.Duration) string { return f.at[label].Add(d).Format(time.RFC3339) }
	all := []string{"alice", "bob", "carol", "dave", "erin"}
	none := []string{}

	rows := []struct {
		name string
		body map[string]any
		want []string
	}{
		{"no query", map[string]any{}, all},
		{"created_at_greater_than", query("AND", op("created_at_greater_than", ts("bob", 30*time.Second))), []string{"carol", "dave", "erin"}},
		{"created_at_less_than", query("AND", op("created_at_less_than", ts("bob", 30*time.Second))), []string{"alice", "bob"}},
		{"created_at_between", query("AND", op("created_at_between", map[string]any{
			"greater_than": ts("alice", 30*time.Second), "less_than": ts("carol", 30*time.Second)})), []string{"bob", "carol"}},
		{"created_at_greater_than is strict", query("AND", op("created_at_greater_than", ts("dave", 0))), []string{"erin"}},
		{"status pending", query("AND", op("status", "pending")), []string{"bob"}},
		{"status active", query("AND", op("status", "active")), []string{"alice", "carol", "dave", "erin"}},
		{"oauth_provider", query("AND", op("oauth_provider", []string{"google"})), none},
		{"user_id by id and external id", query("AND", op("user_id", []string{f.ids["alice"], "ext-carol"})), []string{"alice", "carol"}},
		{"full_name_fuzzy case-insensitive", query("AND", op("full_name_fuzzy", "ANDERS")), []string{"alice"}},
		{"full_name_fuzzy across parts", query("AND", op("full_name_fuzzy", "bob br")), []string{"bob"}},
		{"full_name_fuzzy apostrophe", query("AND", op("full_name_fuzzy", "o'h")), []string{"erin"}},
		{"full_name_fuzzy LIKE metacharacters are literal", query("AND", op("full_name_fuzzy", "a%")), none},
		{"full_name_fuzzy underscore is literal", query("AND", op("full_name_fuzzy", "b_b")), none},
		{"phone_number normalised", query("AND", op("phone_number", []string{"+1 (415) 555-2671"})), []string{"alice"}},
		{"phone_id", query("AND", op("phone_id", []string{f.phone["carol"]})), []string{"carol"}},
		{"phone_verified true", query("AND", op("phone_verified", true)), none},
		{"phone_verified false", query("AND", op("phone_verified", false)), []string{"alice", "carol", "erin"}},
		{"phone_number_fuzzy", query("AND", op("phone_number_fuzzy", "4155")), []string{"alice"}},
		{"phone_number_fuzzy with plus", query("AND", op("phone_number_fuzzy", "+44207")), []string{"carol"}},
		{"email_address normalised", query("AND", op("email_address", []string{"ALICE@Example.com"})), []string{"alice"}},
		{"email_id", query("AND", op("email_id", []string{f.email["dave"]})), []string{"dave"}},
		{"email_verified true", query("AND", op("email_verified", true)), []string{"alice"}},
		{"email_verified false", query("AND", op("email_verified", false)), []string{"bob", "dave", "erin"}},
		{"email_address_fuzzy domain", query("AND", op("email_address_fuzzy", "example.com")), []string{"alice", "dave"}},
		{"email_address_fuzzy local prefix", query("AND", op("email_address_fuzzy", "bo")), []string{"bob"}},
		{"webauthn_registration_verified", query("AND", op("webauthn_registration_verified", true)), none},
		{"webauthn_registration_id", query("AND", op("webauthn_registration_id", []string{"webauthn-registration-test-x"})), none},
		{"crypto_wallet_id", query("AND", op("crypto_wallet_id", []string{"crypto-wallet-test-x"})), none},
		{"crypto_wallet_address", query("AND", op("crypto_wallet_address", []string{"0xabc"})), none},
		{"crypto_wallet_verified", query("AND", op("crypto_wallet_verified", false)), none},
		{"totp_id", query("AND", op("totp_id", []string{"totp-test-x"})), none},
		{"totp_verified", query("AND", op("totp_verified", true)), none},
		{"password_exists true", query("AND", op("password_exists", true)), none},
		{"password_exists false", query("AND", op("password_exists", false)), all},
		{"AND", query("AND", op("status", "active"), op("email_address_fuzzy", "example.com")), []string{"alice", "dave"}},
		{"AND is the default", query("", op("status", "active"), op("phone_verified", false)), []string{"alice", "carol", "erin"}},
		{"OR", query("OR", op("email_id", []string{f.email["dave"]}), op("phone_id", []string{f.phone["carol"]})), []string{"carol", "dave"}},
		{"or lower-case", query("or", op("status", "pending"), op("totp_verified", true)), []string{"bob"}},
		{"AND with an empty factor filter", query("AND", op("status", "active"), op("totp_id", []string{"x"})), none},
	}
	used := map[string]bool{}
	for _, tc := range rows {
		if q, ok := tc.body["query"].(map[string]any); ok {
			for _, o := range q["operands"].([]map[string]any) {
				used[o["filter_name"].(string)] = true
			}
		}
		t.Run(tc.name, func(t *testing.T) {
			r := f.p.call("POST", "/v1/users/search", tc.body)
			if r.status != 200 {
				t.Fatalf("= %d %s", r.status, r.raw)
			}
			s := into[searchJSON](t, r)
			got := f.labels(t, s.Results)
			if !slices.Equal(got, tc.want) {
				t.Errorf("results = %v, want %v", got, tc.want)
			}
			if s.ResultsMetadata.Total != len(tc.want) || s.ResultsMetadata.NextCursor != nil {
				t.Errorf("results_metadata = %+v, want total %d and no cursor", s.ResultsMetadata, len(tc.want))
			}
		})
	}
	for _, name := range searchFilterNames(t) {
		if !used[name] {
			t.Errorf("filter %q from users/search.go has no row in this test", name)
		}
	}
}

func TestUserSearchPagination(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newSearchFixture(t, h)

	page := func(body map[string]any) searchJSON {
		t.Helper()
		r := f.p.call("POST", "/v1/users/search", body)
		if r.status != 200 {
			t.Fatalf("search = %d %s", r.status, r.raw)
		}
		if md, _ := r.body["results_metadata"].(map[string]any); md == nil {
			t.Fatalf("no results_metadata: %s", r.raw)
		} else if _, has := md["next_cursor"]; !has {
			t.Fatalf("next_cursor missing (it must be present, null at the end): %s", r.raw)
		}
		return into[searchJSON](t, r)
	}
	for _, tc := range []struct {
		name  string
		body  map[string]any
		limit int
		pages [][]string
	}{
		{"all users by 2", map[string]any{}, 2, [][]string{{"alice", "bob"}, {"carol", "dave"}, {"erin"}}},
		{"exact fit", map[string]any{}, 5, [][]string{{"alice", "bob", "carol", "dave", "erin"}}},
		{"by 1 with a filter", query("AND", op("phone_verified", false)), 1, [][]string{{"alice"}, {"carol"}, {"erin"}}},
		{"filter by 2", query("AND", op("password_exists", false)), 2, [][]string{{"alice", "bob"}, {"carol", "dave"}, {"erin"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]any{"limit": tc.limit}
			for k, v := range tc.body {
				body[k] = v
			}
			total := 0
			for _, want := range tc.pages {
				total += len(want)
			}
			for i, want := range tc.pages {
				s := page(body)
				if got := f.labels(t, s.Results); !slices.Equal(got, want) {
					t.Fatalf("page %d = %v, want %v", i, got, want)
				}
				if s.ResultsMetadata.Total != total {
					t.Errorf("page %d total = %d, want %d", i, s.ResultsMetadata.Total, total)
				}
				last := i == len(tc.pages)-1
				if last != (s.ResultsMetadata.NextCursor == nil) {
					t.Fatalf("page %d next_cursor = %v, last page %v", i, s.ResultsMetadata.NextCursor, last)
				}
				if !last {
					body["cursor"] = *s.ResultsMetadata.NextCursor
				}
			}
		})
	}
	// Users created in the same instant page by id, without gaps or repeats.
	same := h.project("Same instant", tenant.Test)
	want := map[string]bool{}
	for i := range 7 {
		c := into[createUserJSON](t, same.ok(201, "POST", "/v1/users", map[string]any{"email": "tie" + strconv.Itoa(i) + "@example.com"}))
		want[c.UserID] = true
	}
	seen := map[string]bool{}
	body := map[string]any{"limit": 3}
	var prev string
	for i := 0; ; i++ {
		r := same.ok(200, "POST", "/v1/users/search", body)
		s := into[searchJSON](t, r)
		if s.ResultsMetadata.Total != 7 || len(s.Results) != []int{3, 3, 1}[i] {
			t.Fatalf("tie page %d: %d results, total %d", i, len(s.Results), s.ResultsMetadata.Total)
		}
		for _, u := range s.Results {
			if seen[u.UserID] || !want[u.UserID] || u.UserID <= prev {
				t.Fatalf("tie page %d: %s repeated, foreign or out of order", i, u.UserID)
			}
			seen[u.UserID], prev = true, u.UserID
		}
		if s.ResultsMetadata.NextCursor == nil {
			break
		}
		body["cursor"] = *s.ResultsMetadata.NextCursor
	}
	if len(seen) != 7 {
		t.Errorf("paged through %d of 7 users", len(seen))
	}

	// Default limit covers everyone here.
	if s := page(map[string]any{}); len(s.Results) != 5 || s.ResultsMetadata.NextCursor != nil {
		t.Errorf("default page = %d results", len(s.Results))
	}
	// A cursor from another project's search is just a position: it never
	// reveals that project's users.
	q := h.project("Other", tenant.Test)
	s := page(map[string]any{"limit": 1})
	r := q.ok(200, "POST", "/v1/users/search", map[string]any{"cursor": *s.ResultsMetadata.NextCursor})
	if got := into[searchJSON](t, r); len(got.Results) != 0 || got.ResultsMetadata.Total != 0 {
		t.Errorf("other project sees %d users", len(got.Results))
	}
}

func TestUserSearchErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Search errors", tenant.Test)
	many := make([]string, 101)
	for i := range many {
		many[i] = "user-test-x" + strconv.Itoa(i)
	}
	for _, tc := range []struct {
		name string
		body map[string]any
		typ  string
	}{
		{"unknown filter", query("AND", op("favourite_colour", "blue")), "user_search_filter_name_not_recognized"},
		{"missing filter_name", query("AND", map[string]any{"filter_value": "x"}), "user_search_missing_filter_name"},
		{"missing filter_value", query("AND", map[string]any{"filter_name": "status"}), "user_search_missing_filter_value"},
		{"null filter_value", query("AND", op("status", nil)), "user_search_missing_filter_value"},
		{"number for string", query("AND", op("status", 5)), "user_search_expected_string"},
		{"string for bool", query("AND", op("email_verified", "yes")), "user_search_expected_bool"},
		{"string for array", query("AND", op("email_address", "a@example.com")), "user_search_expected_array_of_string"},
		{"empty array", query("AND", op("user_id", []string{})), "user_search_expected_array_of_string"},
		{"array of numbers", query("AND", op("phone_id", []int{1})), "user_search_expected_array_of_string"},
		{"number for timestamp", query("AND", op("created_at_greater_than", 123)), "user_search_expected_timestamp"},
		{"not RFC 3339", query("AND", op("created_at_less_than", "yesterday")), "user_search_expected_timestamp"},
		{"between not an object", query("AND", op("created_at_between", "x")), "user_search_expected_object"},
		{"between missing bound", query("AND", op("created_at_between", map[string]any{"greater_than": "2026-01-01T00:00:00Z"})), "user_search_expected_timestamp"},
		{"bad status", query("AND", op("status", "deleted")), "user_search_invalid_status_filter"},
		{"bad oauth provider", query("AND", op("oauth_provider", []string{"myspace"})), "user_search_invalid_oauth_provider_filter"},
		{"101 values", query("AND", op("user_id", many)), "user_search_maximum_filter_value_count_exceeded"},
		{"bad operator", query("XOR", op("status", "active")), "user_search_invalid_operator"},
		{"cursor not base64", map[string]any{"cursor": "!!!"}, "user_search_invalid_cursor"},
		{"cursor not JSON", map[string]any{"cursor": base64.RawURLEncoding.EncodeToString([]byte("nope"))}, "user_search_invalid_cursor"},
		{"cursor without id", map[string]any{"cursor": base64.RawURLEncoding.EncodeToString([]byte(`{"c":1}`))}, "user_search_invalid_cursor"},
		{"limit 0", map[string]any{"limit": 0}, "user_search_invalid_limit"},
		{"limit 1001", map[string]any{"limit": 1001}, "user_search_invalid_limit"},
		{"limit -1", map[string]any{"limit": -1}, "user_search_invalid_limit"},
		{"full_name_fuzzy too short", query("AND", op("full_name_fuzzy", "a")), "user_search_fuzzy_too_short"},
		{"email_address_fuzzy too short after trim", query("AND", op("email_address_fuzzy", "  b  ")), "user_search_fuzzy_too_short"},
		{"phone_number_fuzzy too short", query("AND", op("phone_number_fuzzy", "+12")), "user_search_fuzzy_too_short"},
		{"invalid email value", query("AND", op("email_address", []string{"not-an-email"})), "invalid_email"},
		{"invalid phone value", query("AND", op("phone_number", []string{"12"})), "invalid_phone_number"},
		{"limit not a number", map[string]any{"limit": "ten"}, "invalid_argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := p.call("POST", "/v1/users/search", tc.body)
			wantError(t, r, 400, tc.typ)
		})
	}
	// Limits at the edges are fine.
	for _, limit := range []int{1, 1000} {
		p.ok(200, "POST", "/v1/users/search", map[string]any{"limit": limit})
	}
	if !strings.Contains(p.call("POST", "/v1/users/search", query("AND", op("favourite_colour", "x"))).str("error_message"), "favourite_colour") {
		t.Error("unknown filter error does not name the filter")
	}
}

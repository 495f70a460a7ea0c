package storetest

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/store"
)

var searchTests = []subtest{
	{"Filters", testSearchFilters},
	{"UnknownFilterFails", testSearchUnknownFilter},
	{"ReturnsEmailsAndPhones", testSearchLoadsFactors},
	{"PaginationWalksAllPages", testSearchPagination},
	{"ScopedByProject", testSearchProjects},
}

// searchFixture is five users in one project, one minute apart, plus a
// look-alike in a second project that no search of the first may return.
type searchFixture struct {
	p, other            *store.Project
	alice, bob, carol   *store.User
	dave, eve, imposter *store.User
}

func newSearchFixture(t *testing.T, s store.Store) *searchFixture {
	f := &searchFixture{p: createProject(t, s), other: createProject(t, s)}
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }
	mk := func(i int, status, first, last, ext string, email string, emailVerified bool, phone string, phoneVerified bool) *store.User {
		u := newUser(f.p.ID, email)
		u.CreatedAt, u.UpdatedAt = at(i), at(i)
		u.Status, u.FirstName, u.LastName, u.ExternalID = status, first, last, ext
		u.Emails[0].Verified = emailVerified
		u.Emails[0].CreatedAt = at(i)
		if phone != "" {
			addPhone(u, phone, phoneVerified)
			u.Phones[0].CreatedAt = at(i)
		}
		return createUser(t, s, u)
	}
	f.alice = mk(0, "active", "Alice", "Anderson", "crm-alice", "alice@example.com", true, "+15550000001", true)
	f.bob = mk(1, "pending", "Bob", "Brown", "", "bob@example.org", false, "+15550000002", false)
	f.carol = mk(2, "active", "Carol", "Under_score", "", "c_x@under.test", false, "", false)
	f.dave = mk(3, "active", "Dave", "100%", "", "d@wild.test", true, "", false)
	f.eve = mk(4, "pending", "Eve", "Evans", "", "cx@elsewhere.test", false, "+442071234567", true)

	// Same email, phone, names and external id as alice, in another project.
	imp := newUser(f.other.ID, "alice@example.com")
	imp.FirstName, imp.LastName, imp.ExternalID = "Alice", "Anderson", "crm-alice"
	imp.Emails[0].Verified = true
	addPhone(imp, "+15550000001", true)
	f.imposter = createUser(t, s, imp)
	return f
}

func userIDs(us []store.User) []string {
	ids := make([]string, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	return ids
}

func testSearchFilters(t *testing.T, s store.Store) {
	f := newSearchFixture(t, s)
	all := []*store.User{f.alice, f.bob, f.carol, f.dave, f.eve}
	names := map[string]string{f.alice.ID: "alice", f.bob.ID: "bob", f.carol.ID: "carol", f.dave.ID: "dave",
		f.eve.ID: "eve", f.imposter.ID: "imposter"}
	from := func(d time.Duration) *time.Time { return ptr(base.Add(d)) }
	str := func(name, v string) store.UserFilter { return store.UserFilter{Name: name, String: v} }
	strs := func(name string, v ...string) store.UserFilter { return store.UserFilter{Name: name, Strings: v} }
	boolean := func(name string, v bool) store.UserFilter { return store.UserFilter{Name: name, Bool: v} }

	cases := []struct {
		name    string
		op      string
		filters []store.UserFilter
		want    []*store.User
	}{
		{"no filters", "AND", nil, all},
		{"created_at_greater_than is exclusive", "AND",
			[]store.UserFilter{{Name: "created_at_greater_than", From: from(2 * time.Minute)}}, []*store.User{f.dave, f.eve}},
		{"created_at_greater_than before all", "AND",
			[]store.UserFilter{{Name: "created_at_greater_than", From: from(-time.Second)}}, all},
		{"created_at_less_than is exclusive", "AND",
			[]store.UserFilter{{Name: "created_at_less_than", To: from(time.Minute)}}, []*store.User{f.alice}},
		{"created_at_between", "AND",
			[]store.UserFilter{{Name: "created_at_between", From: from(30 * time.Second), To: from(150 * time.Second)}},
			[]*store.User{f.bob, f.carol}},
		{"user_id by id and external id", "AND",
			[]store.UserFilter{strs("user_id", f.bob.ID, "crm-alice")}, []*store.User{f.alice, f.bob}},
		{"user_id of another project's user", "AND",
			[]store.UserFilter{strs("user_id", f.imposter.ID)}, nil},
		{"status pending", "AND", []store.UserFilter{str("status", "pending")}, []*store.User{f.bob, f.eve}},
		{"status active", "AND", []store.UserFilter{str("status", "active")}, []*store.User{f.alice, f.carol, f.dave}},
		{"full_name_fuzzy case-insensitive", "AND", []store.UserFilter{str("full_name_fuzzy", "ANDER")}, []*store.User{f.alice}},
		{"full_name_fuzzy across first and last", "AND", []store.UserFilter{str("full_name_fuzzy", "bob bro")}, []*store.User{f.bob}},
		{"full_name_fuzzy percent is literal", "AND", []store.UserFilter{str("full_name_fuzzy", "%")}, []*store.User{f.dave}},
		{"full_name_fuzzy underscore is literal", "AND", []store.UserFilter{str("full_name_fuzzy", "_")}, []*store.User{f.carol}},
		{"full_name_fuzzy backslash is literal", "AND", []store.UserFilter{str("full_name_fuzzy", `\`)}, nil},
		{"email_address", "AND", []store.UserFilter{strs("email_address", "alice@example.com", "d@wild.test")},
			[]*store.User{f.alice, f.dave}},
		{"email_id", "AND", []store.UserFilter{strs("email_id", f.carol.Emails[0].ID)}, []*store.User{f.carol}},
		{"email_verified true", "AND", []store.UserFilter{boolean("email_verified", true)}, []*store.User{f.alice, f.dave}},
		{"email_verified false", "AND", []store.UserFilter{boolean("email_verified", false)}, []*store.User{f.bob, f.carol, f.eve}},
		{"email_address_fuzzy local-part prefix", "AND", []store.UserFilter{str("email_address_fuzzy", "ali")}, []*store.User{f.alice}},
		{"email_address_fuzzy domain prefix", "AND", []store.UserFilter{str("email_address_fuzzy", "example")}, []*store.User{f.alice, f.bob}},
		{"email_address_fuzzy underscore is literal", "AND", []store.UserFilter{str("email_address_fuzzy", "c_")}, []*store.User{f.carol}},
		{"email_address_fuzzy percent is literal", "AND", []store.UserFilter{str("email_address_fuzzy", "%")}, nil},
		{"phone_number", "AND", []store.UserFilter{strs("phone_number", "+15550000002")}, []*store.User{f.bob}},
		{"phone_id", "AND", []store.UserFilter{strs("phone_id", f.eve.Phones[0].ID)}, []*store.User{f.eve}},
		{"phone_verified true", "AND", []store.UserFilter{boolean("phone_verified", true)}, []*store.User{f.alice, f.eve}},
		{"phone_verified false", "AND", []store.UserFilter{boolean("phone_verified", false)}, []*store.User{f.bob}},
		{"phone_number_fuzzy", "AND", []store.UserFilter{str("phone_number_fuzzy", "5550000")}, []*store.User{f.alice, f.bob}},
		{"phone_number_fuzzy infix", "AND", []store.UserFilter{str("phone_number_fuzzy", "2071")}, []*store.User{f.eve}},
		{"phone_number_fuzzy percent is literal", "AND", []store.UserFilter{str("phone_number_fuzzy", "%")}, nil},
		{"phone_number_fuzzy underscore is literal", "AND", []store.UserFilter{str("phone_number_fuzzy", "_")}, nil},
		{"password_exists true", "AND", []store.UserFilter{boolean("password_exists", true)}, nil},
		{"password_exists false", "AND", []store.UserFilter{boolean("password_exists", false)}, all},
		{"AND of two", "AND",
			[]store.UserFilter{str("status", "active"), boolean("email_verified", true)}, []*store.User{f.alice, f.dave}},
		{"AND of three", "AND",
			[]store.UserFilter{str("status", "active"), boolean("email_verified", true), str("full_name_fuzzy", "dave")},
			[]*store.User{f.dave}},
		{"AND with an empty operand", "AND",
			[]store.UserFilter{str("status", "active"), boolean("password_exists", true)}, nil},
		{"OR of two", "OR",
			[]store.UserFilter{str("status", "pending"), strs("phone_number", "+15550000001")}, []*store.User{f.alice, f.bob, f.eve}},
		{"OR with an empty operand", "OR",
			[]store.UserFilter{strs("webauthn_registration_id", "webauthn-registration-test-x"), str("full_name_fuzzy", "carol")},
			[]*store.User{f.carol}},
		{"OR overlapping operands count once", "OR",
			[]store.UserFilter{str("status", "active"), boolean("email_verified", true)}, []*store.User{f.alice, f.carol, f.dave}},
	}
	// Factors no user can hold yet match nobody.
	for _, name := range []string{"webauthn_registration_id", "crypto_wallet_id", "crypto_wallet_address", "totp_id", "oauth_provider"} {
		cases = append(cases, struct {
			name    string
			op      string
			filters []store.UserFilter
			want    []*store.User
		}{name, "AND", []store.UserFilter{{Name: name, Strings: []string{"x"}, String: "x"}}, nil})
	}
	for _, name := range []string{"webauthn_registration_verified", "crypto_wallet_verified", "totp_verified"} {
		for _, b := range []bool{true, false} {
			cases = append(cases, struct {
				name    string
				op      string
				filters []store.UserFilter
				want    []*store.User
			}{fmt.Sprintf("%s %v", name, b), "AND", []store.UserFilter{boolean(name, b)}, nil})
		}
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, total, err := s.SearchUsers(t.Context(), f.p.ID, store.UserQuery{Operator: c.op, Filters: c.filters, Limit: 100})
			if err != nil {
				t.Fatalf("SearchUsers: %v", err)
			}
			var want []string
			for _, u := range c.want {
				want = append(want, names[u.ID])
			}
			var gotNames []string
			for _, u := range got {
				n, ok := names[u.ID]
				if !ok {
					n = "unknown:" + u.ID
				}
				gotNames = append(gotNames, n)
			}
			// Results come oldest first, i.e. in fixture order.
			if strings.Join(gotNames, ",") != strings.Join(want, ",") {
				t.Errorf("users = [%s], want [%s]", strings.Join(gotNames, ","), strings.Join(want, ","))
			}
			if total != len(c.want) {
				t.Errorf("total = %d, want %d", total, len(c.want))
			}
		})
	}
}

func testSearchUnknownFilter(t *testing.T, s store.Store) {
	p := createProject(t, s)
	createUser(t, s, newUser(p.ID, "x@example.com"))
	_, _, err := s.SearchUsers(t.Context(), p.ID, store.UserQuery{Operator: "AND", Limit: 10,
		Filters: []store.UserFilter{{Name: "favourite_colour", String: "blue"}}})
	if err == nil {
		t.Fatal("SearchUsers with an unknown filter succeeded")
	}
}

func testSearchLoadsFactors(t *testing.T, s store.Store) {
	p := createProject(t, s)
	u := createUser(t, s, fullUser(p.ID))
	bare := newUser(p.ID)
	bare.CreatedAt = base.Add(time.Second)
	createUser(t, s, bare)
	got, total, err := s.SearchUsers(t.Context(), p.ID, store.UserQuery{Operator: "AND", Limit: 10})
	if err != nil || total != 2 || len(got) != 2 {
		t.Fatalf("SearchUsers = %d users (total %d), %v; want 2", len(got), total, err)
	}
	checkUser(t, &got[0], u)
	checkUser(t, &got[1], bare)
}

func testSearchPagination(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	other := createProject(t, s)
	createUser(t, s, newUser(other.ID, "elsewhere@example.com"))

	// 23 users over 9 distinct creation times, so pages break inside runs
	// of equal created_at and the cursor's id tie-break matters.
	want := map[string]bool{}
	active := map[string]bool{}
	for i := range 23 {
		u := newUser(p.ID, fmt.Sprintf("page%02d@example.com", i))
		u.CreatedAt = base.Add(time.Duration(i%9) * time.Second)
		u.Emails[0].CreatedAt = u.CreatedAt
		if i%3 == 0 {
			u.Status = "pending"
		} else {
			active[u.ID] = true
		}
		createUser(t, s, u)
		want[u.ID] = true
	}

	walk := func(t *testing.T, filters []store.UserFilter, limit int, expect map[string]bool) {
		t.Helper()
		seen := map[string]bool{}
		var after *store.UserCursor
		var prev *store.User
		pages := 0
		for {
			pages++
			if pages > 100 {
				t.Fatal("pagination does not terminate")
			}
			got, total, err := s.SearchUsers(ctx, p.ID, store.UserQuery{Operator: "AND", Filters: filters, Limit: limit, After: after})
			if err != nil {
				t.Fatalf("SearchUsers page %d: %v", pages, err)
			}
			if total != len(expect) {
				t.Fatalf("page %d: total = %d, want %d (the filter's count, not the page's)", pages, total, len(expect))
			}
			if len(got) > limit {
				t.Fatalf("page %d has %d users, limit %d", pages, len(got), limit)
			}
			if len(got) == 0 {
				break
			}
			for i := range got {
				u := &got[i]
				if seen[u.ID] {
					t.Fatalf("page %d repeats user %s", pages, u.ID)
				}
				if !expect[u.ID] {
					t.Fatalf("page %d returns unexpected user %s", pages, u.ID)
				}
				seen[u.ID] = true
				if prev != nil && (u.CreatedAt.Before(prev.CreatedAt) || (u.CreatedAt.Equal(prev.CreatedAt) && u.ID <= prev.ID)) {
					t.Fatalf("page %d: %s (%v) follows %s (%v): not ordered by (created_at, id)",
						pages, u.ID, u.CreatedAt, prev.ID, prev.CreatedAt)
				}
				prev = u
			}
			last := got[len(got)-1]
			after = &store.UserCursor{CreatedAt: last.CreatedAt, ID: last.ID}
		}
		if len(seen) != len(expect) {
			t.Fatalf("walked %d users, want %d", len(seen), len(expect))
		}
		if wantPages := (len(expect)+limit-1)/limit + 1; pages != wantPages {
			t.Errorf("took %d pages (including the final empty one), want %d", pages, wantPages)
		}
	}
	for _, limit := range []int{1, 5, 23, 50} {
		t.Run(fmt.Sprintf("all limit %d", limit), func(t *testing.T) { walk(t, nil, limit, want) })
	}
	t.Run("filtered limit 4", func(t *testing.T) {
		walk(t, []store.UserFilter{{Name: "status", String: "active"}}, 4, active)
	})
	t.Run("first page", func(t *testing.T) {
		got, total, err := s.SearchUsers(ctx, p.ID, store.UserQuery{Operator: "AND", Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 5 || total != 23 {
			t.Fatalf("first page = %d users, total %d; want 5 of 23", len(got), total)
		}
		// The first page is the five oldest.
		ids := userIDs(got)
		all, _, err := s.SearchUsers(ctx, p.ID, store.UserQuery{Operator: "AND", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		sorted := slices.Clone(all)
		sort.SliceStable(sorted, func(i, j int) bool {
			if !sorted[i].CreatedAt.Equal(sorted[j].CreatedAt) {
				return sorted[i].CreatedAt.Before(sorted[j].CreatedAt)
			}
			return sorted[i].ID < sorted[j].ID
		})
		if !slices.Equal(ids, userIDs(sorted[:5])) {
			t.Errorf("first page %v, want %v", ids, userIDs(sorted[:5]))
		}
	})
}

func testSearchProjects(t *testing.T, s store.Store) {
	f := newSearchFixture(t, s)
	got, total, err := s.SearchUsers(t.Context(), f.other.ID, store.UserQuery{Operator: "OR", Limit: 100,
		Filters: []store.UserFilter{
			{Name: "email_address", Strings: []string{"alice@example.com", "bob@example.org"}},
			{Name: "status", String: "pending"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 || len(got) != 1 || got[0].ID != f.imposter.ID {
		t.Errorf("search in the other project = %v (total %d), want only %s", userIDs(got), total, f.imposter.ID)
	}
	got, total, err = s.SearchUsers(t.Context(), newID("project"), store.UserQuery{Operator: "AND", Limit: 100})
	if err != nil || total != 0 || len(got) != 0 {
		t.Errorf("search in an unknown project = %d users (total %d), %v", len(got), total, err)
	}
}

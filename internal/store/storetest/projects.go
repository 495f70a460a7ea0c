package storetest

import (
	"testing"
	"time"

	"github.com/latchhq/latch/internal/store"
)

var projectTests = []subtest{
	{"CreateGetList", testProjectCreateGetList},
	{"GetUnknownIsNotFound", testProjectNotFound},
	{"DuplicateIDOrPublicTokenConflicts", testProjectConflicts},
}

func testProjectCreateGetList(t *testing.T, s store.Store) {
	ctx := t.Context()
	list, err := s.ListProjects(ctx)
	if err != nil {
		t.Fatalf("ListProjects on empty store: %v", err)
	}
	if len(list) != 0 {
		t.Fatalf("ListProjects on empty store = %d projects, want 0", len(list))
	}

	// Created out of order: the list is ordered by creation time.
	live := &store.Project{ID: newID("project"), Name: "Acme live", Vertical: "CONSUMER", Environment: "live",
		SecretHash: "sha256:live", PublicToken: newID("public-token"), CreatedAt: base.Add(time.Minute)}
	test := &store.Project{ID: newID("project"), Name: "Acme test", Vertical: "CONSUMER", Environment: "test",
		SecretHash: "sha256:test", PublicToken: newID("public-token"), CreatedAt: base}
	for _, p := range []*store.Project{live, test} {
		if err := s.CreateProject(ctx, p); err != nil {
			t.Fatalf("CreateProject %s: %v", p.ID, err)
		}
	}

	got, err := s.GetProject(ctx, live.ID)
	if err != nil {
		t.Fatalf("GetProject: %v", err)
	}
	checkProject(t, got, live)

	list, err = s.ListProjects(ctx)
	if err != nil {
		t.Fatalf("ListProjects: %v", err)
	}
	if len(list) != 2 {
		t.Fatalf("ListProjects = %d projects, want 2", len(list))
	}
	checkProject(t, &list[0], test)
	checkProject(t, &list[1], live)
}

func testProjectNotFound(t *testing.T, s store.Store) {
	createProject(t, s)
	_, err := s.GetProject(t.Context(), newID("project"))
	wantErr(t, err, store.ErrNotFound, "GetProject unknown id")
}

func testProjectConflicts(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)

	dupID := *p
	dupID.PublicToken = newID("public-token")
	wantConflict(t, s.CreateProject(ctx, &dupID), "", "CreateProject duplicate id")

	dupToken := *p
	dupToken.ID = newID("project")
	wantConflict(t, s.CreateProject(ctx, &dupToken), "public_token", "CreateProject duplicate public token")

	list, err := s.ListProjects(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("ListProjects after conflicts = %d projects, %v; want 1", len(list), err)
	}
}

var redirectTests = []subtest{
	{"AddAndList", testRedirectAddList},
	{"DefaultReplacesPreviousDefaultOfType", testRedirectDefault},
	{"ReAddUpserts", testRedirectUpsert},
	{"ScopedByProject", testRedirectProjects},
}

type redirectKey struct{ typ, url string }

// redirectMap lists a project's redirect URLs keyed by (type, url) and
// fails on duplicates.
func redirectMap(t *testing.T, s store.Store, projectID string) map[redirectKey]bool {
	t.Helper()
	list, err := s.ListRedirectURLs(t.Context(), projectID)
	if err != nil {
		t.Fatalf("ListRedirectURLs: %v", err)
	}
	m := map[redirectKey]bool{}
	for _, u := range list {
		if u.ProjectID != projectID {
			t.Errorf("ListRedirectURLs(%s) returned a URL of project %s", projectID, u.ProjectID)
		}
		k := redirectKey{u.Type, u.URL}
		if _, dup := m[k]; dup {
			t.Errorf("ListRedirectURLs lists %s %s twice", u.Type, u.URL)
		}
		m[k] = u.IsDefault
	}
	return m
}

func checkRedirects(t *testing.T, s store.Store, projectID string, want map[redirectKey]bool) {
	t.Helper()
	got := redirectMap(t, s, projectID)
	if len(got) != len(want) {
		t.Errorf("redirect URLs = %v, want %v", got, want)
		return
	}
	for k, def := range want {
		g, ok := got[k]
		if !ok || g != def {
			t.Errorf("redirect URLs = %v, want %v", got, want)
			return
		}
	}
}

func addRedirect(t *testing.T, s store.Store, u store.RedirectURL) {
	t.Helper()
	if err := s.AddRedirectURL(t.Context(), u); err != nil {
		t.Fatalf("AddRedirectURL %+v: %v", u, err)
	}
}

const (
	loginA  = "https://app.example.com/authenticate"
	loginB  = "https://app.example.com/login/callback"
	signupA = "https://app.example.com/signup/callback"
)

func testRedirectAddList(t *testing.T, s store.Store) {
	p := createProject(t, s)
	if m := redirectMap(t, s, p.ID); len(m) != 0 {
		t.Fatalf("new project has redirect URLs %v", m)
	}
	addRedirect(t, s, store.RedirectURL{ProjectID: p.ID, Type: "login", URL: loginA, IsDefault: true})
	addRedirect(t, s, store.RedirectURL{ProjectID: p.ID, Type: "login", URL: loginB})
	addRedirect(t, s, store.RedirectURL{ProjectID: p.ID, Type: "signup", URL: signupA, IsDefault: true})
	// The same URL may be registered under several types.
	addRedirect(t, s, store.RedirectURL{ProjectID: p.ID, Type: "invite", URL: loginA, IsDefault: true})
	checkRedirects(t, s, p.ID, map[redirectKey]bool{
		{"login", loginA}:   true,
		{"login", loginB}:   false,
		{"signup", signupA}: true,
		{"invite", loginA}:  true,
	})
}

func testRedirectDefault(t *testing.T, s store.Store) {
	p := createProject(t, s)
	addRedirect(t, s, store.RedirectURL{ProjectID: p.ID, Type: "login", URL: loginA, IsDefault: true})
	addRedirect(t, s, store.RedirectURL{ProjectID: p.ID, Type: "signup", URL: signupA, IsDefault: true})
	// A new default login URL unsets loginA but leaves the signup default.
	addRedirect(t, s, store.RedirectURL{ProjectID: p.ID, Type: "login", URL: loginB, IsDefault: true})
	checkRedirects(t, s, p.ID, map[redirectKey]bool{
		{"login", loginA}:   false,
		{"login", loginB}:   true,
		{"signup", signupA}: true,
	})
	// Promoting the existing loginA back to default demotes loginB.
	addRedirect(t, s, store.RedirectURL{ProjectID: p.ID, Type: "login", URL: loginA, IsDefault: true})
	checkRedirects(t, s, p.ID, map[redirectKey]bool{
		{"login", loginA}:   true,
		{"login", loginB}:   false,
		{"signup", signupA}: true,
	})
	// A non-default addition changes no default.
	addRedirect(t, s, store.RedirectURL{ProjectID: p.ID, Type: "login", URL: "https://other.example.com/cb"})
	checkRedirects(t, s, p.ID, map[redirectKey]bool{
		{"login", loginA}:                         true,
		{"login", loginB}:                         false,
		{"login", "https://other.example.com/cb"}: false,
		{"signup", signupA}:                       true,
	})
}

func testRedirectUpsert(t *testing.T, s store.Store) {
	p := createProject(t, s)
	addRedirect(t, s, store.RedirectURL{ProjectID: p.ID, Type: "login", URL: loginA, IsDefault: true})
	addRedirect(t, s, store.RedirectURL{ProjectID: p.ID, Type: "login", URL: loginA, IsDefault: true})
	checkRedirects(t, s, p.ID, map[redirectKey]bool{{"login", loginA}: true})
	// Re-adding as non-default updates the one row in place.
	addRedirect(t, s, store.RedirectURL{ProjectID: p.ID, Type: "login", URL: loginA, IsDefault: false})
	checkRedirects(t, s, p.ID, map[redirectKey]bool{{"login", loginA}: false})
}

func testRedirectProjects(t *testing.T, s store.Store) {
	p1, p2 := createProject(t, s), createProject(t, s)
	addRedirect(t, s, store.RedirectURL{ProjectID: p1.ID, Type: "login", URL: loginA, IsDefault: true})
	// A default in another project leaves p1's default alone.
	addRedirect(t, s, store.RedirectURL{ProjectID: p2.ID, Type: "login", URL: loginB, IsDefault: true})
	checkRedirects(t, s, p1.ID, map[redirectKey]bool{{"login", loginA}: true})
	checkRedirects(t, s, p2.ID, map[redirectKey]bool{{"login", loginB}: true})
	checkRedirects(t, s, newID("project"), map[redirectKey]bool{})
}

// Package storetest is the conformance suite every store.Store
// implementation must pass. Each subtest calls open to get an empty store,
// so implementations are exercised in isolation and in any order.
//
//	func TestSQLite(t *testing.T) { storetest.Run(t, openSQLite) }
//
// Times are derived from a fixed base rather than the wall clock so that
// failures reproduce exactly.
package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/latchhq/latch/internal/store"
)

// base is the fixed "now" of the suite: microsecond precision, UTC.
var base = time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)

type subtest struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

type group struct {
	name  string
	tests []subtest
}

// Run runs the conformance suite. open must return an empty, migrated
// store and arrange (via t.Cleanup) for it to be closed.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	groups := []group{
		{"Projects", projectTests},
		{"RedirectURLs", redirectTests},
		{"Users", userTests},
		{"Emails", emailTests},
		{"Phones", phoneTests},
		{"SearchUsers", searchTests},
		{"Sessions", sessionTests},
		{"MagicLinks", magicLinkTests},
		{"Outbox", outboxTests},
		{"SigningKeys", keyTests},
		{"Tx", txTests},
		{"Factors", factorTests},
		{"Webhooks", webhookTests},
		{"ConnectedApps", connectedAppTests},
		{"Retention", retentionTests},
		{"Ping", []subtest{{"Answers", testPing}}},
	}
	runGroups(t, open, groups)
}

// RunConcurrency runs the races a store must settle: single-use tokens,
// unique emails and outbox leases under concurrent callers.
func RunConcurrency(t *testing.T, open func(t *testing.T) store.Store) {
	runGroups(t, open, []group{{"Concurrency", concurrencyTests}, {"FactorConcurrency", factorConcurrencyTests},
		{"WebhookConcurrency", webhookConcurrencyTests}, {"ConnectedAppConcurrency", connectedAppConcurrencyTests}})
}

func runGroups(t *testing.T, open func(t *testing.T) store.Store, groups []group) {
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, st := range g.tests {
				t.Run(st.name, func(t *testing.T) {
					s := open(t)
					if s == nil {
						t.Fatal("open returned a nil store")
					}
					st.fn(t, s)
				})
			}
		})
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// ---- ids and fixtures ----

// newID mints a realistic test-environment id: <kind>-test-<uuid>.
func newID(kind string) string { return kind + "-test-" + uuid.NewString() }

// descendingIDs returns n fresh ids sorted in descending order, so that
// anything listing them by id instead of by creation time shows up.
func descendingIDs(kind string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = newID(kind)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(ids)))
	return ids
}

func ptr[T any](v T) *T { return &v }

func createProject(t *testing.T, s store.Store) *store.Project {
	t.Helper()
	p := &store.Project{
		ID:          newID("project"),
		Name:        "Acme " + uuid.NewString()[:8],
		Vertical:    "CONSUMER",
		Environment: "test",
		SecretHash:  "sha256:" + uuid.NewString(),
		PublicToken: newID("public-token"),
		CreatedAt:   base,
	}
	if err := s.CreateProject(t.Context(), p); err != nil {
		t.Fatalf("CreateProject: %v", err)
	}
	return p
}

// newUser builds an active user with one email per address (created at
// base+i seconds, in order). Callers adjust it before createUser.
func newUser(projectID string, addresses ...string) *store.User {
	u := &store.User{
		ProjectID: projectID,
		ID:        newID("user"),
		Status:    "active",
		CreatedAt: base,
		UpdatedAt: base,
	}
	for i, a := range addresses {
		u.Emails = append(u.Emails, store.Email{
			ID:        newID("email"),
			UserID:    u.ID,
			Address:   a,
			CreatedAt: base.Add(time.Duration(i) * time.Second),
		})
	}
	return u
}

func addPhone(u *store.User, number string, verified bool) {
	u.Phones = append(u.Phones, store.Phone{
		ID:        newID("phone-number"),
		UserID:    u.ID,
		Number:    number,
		Verified:  verified,
		CreatedAt: base.Add(time.Duration(len(u.Phones)) * time.Second),
	})
}

func createUser(t *testing.T, s store.Store, u *store.User) *store.User {
	t.Helper()
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser %s: %v", u.ID, err)
	}
	return u
}

func newSession(u *store.User, started time.Time) *store.Session {
	return &store.Session{
		ProjectID:      u.ProjectID,
		ID:             newID("session"),
		UserID:         u.ID,
		TokenHash:      "sha256:" + uuid.NewString(),
		StartedAt:      started,
		LastAccessedAt: started,
		ExpiresAt:      started.Add(time.Hour),
		Attributes:     json.RawMessage(`{"ip_address":"203.0.113.7","user_agent":"Mozilla/5.0"}`),
		Factors:        json.RawMessage(`[{"type":"magic_link","delivery_method":"email"}]`),
		CustomClaims:   json.RawMessage(`{}`),
		UpdatedAt:      started,
	}
}

func createSession(t *testing.T, s store.Store, ss *store.Session) *store.Session {
	t.Helper()
	if err := s.CreateSession(t.Context(), ss); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return ss
}

func newMagicLink(u *store.User, emailID, kind string) *store.MagicLink {
	return &store.MagicLink{
		ProjectID:     u.ProjectID,
		TokenHash:     "sha256:" + uuid.NewString(),
		UserID:        u.ID,
		EmailID:       emailID,
		Kind:          kind,
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		IPAddress:     "198.51.100.23",
		UserAgent:     "curl/8.5.0",
		CreatedAt:     base,
		ExpiresAt:     base.Add(15 * time.Minute),
	}
}

func createMagicLink(t *testing.T, s store.Store, m *store.MagicLink) *store.MagicLink {
	t.Helper()
	if err := s.CreateMagicLink(t.Context(), m); err != nil {
		t.Fatalf("CreateMagicLink: %v", err)
	}
	return m
}

// ---- assertions ----

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func wantConflict(t *testing.T, err error, field, what string) {
	t.Helper()
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("%s: got error %v, want store.ErrConflict", what, err)
	}
	var ce *store.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("%s: error %v is not a *store.ConflictError", what, err)
	}
	if field != "" && ce.Field != field {
		t.Fatalf("%s: ConflictError.Field = %q, want %q", what, ce.Field, field)
	}
}

// sameTime reports whether got is want at microsecond precision (either
// truncated or rounded) and is in UTC.
func checkTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if got.Location() != time.UTC {
		t.Errorf("%s: location %v, want UTC", what, got.Location())
	}
	if !got.Equal(want.Truncate(time.Microsecond)) && !got.Equal(want.Round(time.Microsecond)) {
		t.Errorf("%s = %s, want %s", what, got.Format(time.RFC3339Nano), want.UTC().Format(time.RFC3339Nano))
	}
}

func checkTimePtr(t *testing.T, what string, got, want *time.Time) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s = %v, want %v", what, got, want)
	default:
		checkTime(t, what, *got, *want)
	}
}

// jsonEqual compares two JSON documents by value; nil equals only nil.
func jsonEqual(a, b json.RawMessage) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if bytes.Equal(a, b) {
		return true
	}
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

func checkJSON(t *testing.T, what string, got, want json.RawMessage) {
	t.Helper()
	if !jsonEqual(got, want) {
		t.Errorf("%s = %s (nil=%v), want %s (nil=%v)", what, got, got == nil, want, want == nil)
	}
}

func checkProject(t *testing.T, got, want *store.Project) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.Vertical != want.Vertical ||
		got.Environment != want.Environment || got.SecretHash != want.SecretHash || got.PublicToken != want.PublicToken {
		t.Errorf("project = %+v, want %+v", *got, *want)
	}
	checkTime(t, "project.CreatedAt", got.CreatedAt, want.CreatedAt)
}

func checkEmail(t *testing.T, got, want store.Email) {
	t.Helper()
	if got.ID != want.ID || got.UserID != want.UserID || got.Address != want.Address || got.Verified != want.Verified {
		t.Errorf("email = %+v, want %+v", got, want)
	}
	checkTime(t, "email "+want.Address+" CreatedAt", got.CreatedAt, want.CreatedAt)
}

func checkPhone(t *testing.T, got, want store.Phone) {
	t.Helper()
	if got.ID != want.ID || got.UserID != want.UserID || got.Number != want.Number || got.Verified != want.Verified {
		t.Errorf("phone = %+v, want %+v", got, want)
	}
	checkTime(t, "phone "+want.Number+" CreatedAt", got.CreatedAt, want.CreatedAt)
}

// checkUser compares every field; want.Roles nil means "stored as none",
// which must read back as an empty, non-nil slice.
func checkUser(t *testing.T, got, want *store.User) {
	t.Helper()
	if got.ProjectID != want.ProjectID || got.ID != want.ID || got.Status != want.Status ||
		got.FirstName != want.FirstName || got.MiddleName != want.MiddleName || got.LastName != want.LastName ||
		got.ExternalID != want.ExternalID {
		t.Errorf("user scalars = {%s %s %s %q %q %q %q}, want {%s %s %s %q %q %q %q}",
			got.ProjectID, got.ID, got.Status, got.FirstName, got.MiddleName, got.LastName, got.ExternalID,
			want.ProjectID, want.ID, want.Status, want.FirstName, want.MiddleName, want.LastName, want.ExternalID)
	}
	checkJSON(t, "TrustedMetadata", got.TrustedMetadata, want.TrustedMetadata)
	checkJSON(t, "UntrustedMetadata", got.UntrustedMetadata, want.UntrustedMetadata)
	wantRoles := want.Roles
	if wantRoles == nil {
		wantRoles = []string{}
	}
	if got.Roles == nil || !reflect.DeepEqual(got.Roles, wantRoles) {
		t.Errorf("Roles = %#v, want %#v", got.Roles, wantRoles)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	checkTimePtr(t, "LockCreatedAt", got.LockCreatedAt, want.LockCreatedAt)
	checkTimePtr(t, "LockExpiresAt", got.LockExpiresAt, want.LockExpiresAt)
	if len(got.Emails) != len(want.Emails) {
		t.Errorf("user %s has %d emails %+v, want %d", want.ID, len(got.Emails), got.Emails, len(want.Emails))
	} else {
		for i := range want.Emails {
			checkEmail(t, got.Emails[i], want.Emails[i])
		}
	}
	if len(got.Phones) != len(want.Phones) {
		t.Errorf("user %s has %d phones %+v, want %d", want.ID, len(got.Phones), got.Phones, len(want.Phones))
	} else {
		for i := range want.Phones {
			checkPhone(t, got.Phones[i], want.Phones[i])
		}
	}
}

func checkSession(t *testing.T, got, want *store.Session) {
	t.Helper()
	if got.ProjectID != want.ProjectID || got.ID != want.ID || got.UserID != want.UserID || got.TokenHash != want.TokenHash {
		t.Errorf("session ids = {%s %s %s %s}, want {%s %s %s %s}",
			got.ProjectID, got.ID, got.UserID, got.TokenHash, want.ProjectID, want.ID, want.UserID, want.TokenHash)
	}
	checkTime(t, "StartedAt", got.StartedAt, want.StartedAt)
	checkTime(t, "LastAccessedAt", got.LastAccessedAt, want.LastAccessedAt)
	checkTime(t, "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	checkTime(t, "session.UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	checkJSON(t, "Attributes", got.Attributes, want.Attributes)
	checkJSON(t, "Factors", got.Factors, want.Factors)
	checkJSON(t, "CustomClaims", got.CustomClaims, want.CustomClaims)
}

func checkMagicLink(t *testing.T, got, want *store.MagicLink) {
	t.Helper()
	if got.ProjectID != want.ProjectID || got.TokenHash != want.TokenHash || got.UserID != want.UserID ||
		got.EmailID != want.EmailID || got.Kind != want.Kind || got.CodeChallenge != want.CodeChallenge ||
		got.IPAddress != want.IPAddress || got.UserAgent != want.UserAgent {
		t.Errorf("magic link = %+v, want %+v", *got, *want)
	}
	checkTime(t, "magic link CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "magic link ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	checkTimePtr(t, "magic link UsedAt", got.UsedAt, want.UsedAt)
}

func checkMessage(t *testing.T, got, want *store.OutboxMessage) {
	t.Helper()
	if got.ProjectID != want.ProjectID || got.ID != want.ID || got.Channel != want.Channel || got.Provider != want.Provider ||
		got.To != want.To || got.Subject != want.Subject || got.BodyText != want.BodyText || got.BodyHTML != want.BodyHTML ||
		got.Link != want.Link || got.Token != want.Token || got.Code != want.Code || got.Status != want.Status ||
		got.Attempts != want.Attempts || got.LastError != want.LastError {
		t.Errorf("message =\n  %+v\nwant\n  %+v", *got, *want)
	}
	checkTime(t, "NextAttempt", got.NextAttempt, want.NextAttempt)
	checkTime(t, "message CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTimePtr(t, "LeaseUntil", got.LeaseUntil, want.LeaseUntil)
	checkTimePtr(t, "SentAt", got.SentAt, want.SentAt)
}

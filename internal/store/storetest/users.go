package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/latchhq/latch/internal/store"
)

var userTests = []subtest{
	{"CreateWithEmailsAndPhonesAndGet", testUserCreateGet},
	{"MinimalUserNilMetadataEmptyRoles", testUserMinimal},
	{"TimesRoundTripToMicrosecondInUTC", testUserTimes},
	{"GetByExternalID", testUserExternalID},
	{"UnknownIsNotFound", testUserNotFound},
	{"Update", testUserUpdate},
	{"UpdateExternalIDConflict", testUserUpdateConflict},
	{"DeleteCascades", testUserDeleteCascades},
	{"DuplicateEmailConflicts", testUserDuplicateEmail},
	{"DuplicatePhoneConflicts", testUserDuplicatePhone},
	{"DuplicateExternalIDConflicts", testUserDuplicateExternalID},
	{"DuplicateIDConflicts", testUserDuplicateID},
	{"TenantIsolation", testUserTenantIsolation},
}

func getUser(t *testing.T, s store.Store, projectID, userID string) *store.User {
	t.Helper()
	u, err := s.GetUser(t.Context(), projectID, userID)
	if err != nil {
		t.Fatalf("GetUser %s: %v", userID, err)
	}
	return u
}

// fullUser has every field set, with emails and phones whose ids sort in
// the opposite order to their creation.
func fullUser(projectID string) *store.User {
	id := newID("user")
	emailIDs := descendingIDs("email", 2)
	phoneIDs := descendingIDs("phone-number", 2)
	return &store.User{
		ProjectID:         projectID,
		ID:                id,
		Status:            "active",
		FirstName:         "Ada",
		MiddleName:        "King",
		LastName:          "Lovelace",
		ExternalID:        "crm-" + uuid.NewString(),
		TrustedMetadata:   json.RawMessage(`{"plan":"pro","seats":3,"flags":{"beta":true}}`),
		UntrustedMetadata: json.RawMessage(`{"theme":"dark","tags":["a","b"]}`),
		Roles:             []string{"admin", "billing"},
		CreatedAt:         base,
		UpdatedAt:         base.Add(time.Second),
		LockCreatedAt:     ptr(base.Add(2 * time.Second)),
		LockExpiresAt:     ptr(base.Add(time.Hour)),
		Emails: []store.Email{
			{ID: emailIDs[0], UserID: id, Address: "ada@example.com", Verified: true, CreatedAt: base},
			{ID: emailIDs[1], UserID: id, Address: "ada.lovelace@example.org", CreatedAt: base.Add(time.Second)},
		},
		Phones: []store.Phone{
			{ID: phoneIDs[0], UserID: id, Number: "+14155550101", Verified: true, CreatedAt: base},
			{ID: phoneIDs[1], UserID: id, Number: "+447700900123", CreatedAt: base.Add(time.Second)},
		},
	}
}

func testUserCreateGet(t *testing.T, s store.Store) {
	p := createProject(t, s)
	u := createUser(t, s, fullUser(p.ID))
	checkUser(t, getUser(t, s, p.ID, u.ID), u)

	// Emails and phones are readable on their own too.
	for _, e := range u.Emails {
		got, err := s.GetEmail(t.Context(), p.ID, e.ID)
		if err != nil {
			t.Fatalf("GetEmail %s: %v", e.Address, err)
		}
		checkEmail(t, *got, e)
	}
	for _, ph := range u.Phones {
		got, err := s.GetPhoneByNumber(t.Context(), p.ID, ph.Number)
		if err != nil {
			t.Fatalf("GetPhoneByNumber %s: %v", ph.Number, err)
		}
		checkPhone(t, *got, ph)
	}
}

func testUserMinimal(t *testing.T, s store.Store) {
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID))
	got := getUser(t, s, p.ID, u.ID)
	if got.TrustedMetadata != nil || got.UntrustedMetadata != nil {
		t.Errorf("metadata never set reads back as %q / %q, want nil", got.TrustedMetadata, got.UntrustedMetadata)
	}
	if got.Roles == nil || len(got.Roles) != 0 {
		t.Errorf("Roles = %#v, want empty non-nil slice", got.Roles)
	}
	if got.LockCreatedAt != nil || got.LockExpiresAt != nil {
		t.Errorf("lock = %v / %v, want nil", got.LockCreatedAt, got.LockExpiresAt)
	}
	if len(got.Emails) != 0 || len(got.Phones) != 0 {
		t.Errorf("user with no factors has emails %v phones %v", got.Emails, got.Phones)
	}
	checkUser(t, got, u)

	// An empty external id is "none": it matches nothing.
	_, err := s.GetUserByExternalID(t.Context(), p.ID, "")
	wantErr(t, err, store.ErrNotFound, "GetUserByExternalID empty")
	// And two users without external ids do not collide.
	createUser(t, s, newUser(p.ID))
}

func testUserTimes(t *testing.T, s store.Store) {
	p := createProject(t, s)
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	created := time.Date(2026, 1, 2, 8, 34, 5, 123456789, zone) // nanoseconds beyond µs
	u := newUser(p.ID, "times@example.com")
	u.CreatedAt = created
	u.UpdatedAt = created.Add(time.Minute)
	u.LockCreatedAt = ptr(created.Add(time.Second))
	u.LockExpiresAt = ptr(created.Add(time.Hour))
	u.Emails[0].CreatedAt = created
	addPhone(u, "+14155550199", false)
	u.Phones[0].CreatedAt = created
	createUser(t, s, u)

	got := getUser(t, s, p.ID, u.ID)
	checkUser(t, got, u)
	if got.CreatedAt.Nanosecond()%1000 != 0 {
		t.Errorf("CreatedAt %v carries sub-microsecond precision", got.CreatedAt)
	}
	if d := got.CreatedAt.Sub(created); d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("CreatedAt drifted by %v", d)
	}
	// The fixed base survives exactly.
	u2 := createUser(t, s, newUser(p.ID))
	if got := getUser(t, s, p.ID, u2.ID); !got.CreatedAt.Equal(base) || got.CreatedAt != base {
		t.Errorf("CreatedAt = %#v, want exactly %#v", got.CreatedAt, base)
	}
}

func testUserExternalID(t *testing.T, s store.Store) {
	p := createProject(t, s)
	u := createUser(t, s, fullUser(p.ID))
	createUser(t, s, newUser(p.ID, "other@example.com"))
	got, err := s.GetUserByExternalID(t.Context(), p.ID, u.ExternalID)
	if err != nil {
		t.Fatalf("GetUserByExternalID: %v", err)
	}
	checkUser(t, got, u)
	_, err = s.GetUserByExternalID(t.Context(), p.ID, "crm-unknown")
	wantErr(t, err, store.ErrNotFound, "GetUserByExternalID unknown")
}

func testUserNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	createUser(t, s, newUser(p.ID, "someone@example.com"))
	missing := newUser(p.ID)
	_, err := s.GetUser(ctx, p.ID, missing.ID)
	wantErr(t, err, store.ErrNotFound, "GetUser unknown")
	wantErr(t, s.UpdateUser(ctx, missing), store.ErrNotFound, "UpdateUser unknown")
	wantErr(t, s.DeleteUser(ctx, p.ID, missing.ID), store.ErrNotFound, "DeleteUser unknown")
}

func testUserUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, fullUser(p.ID))

	upd := *u
	upd.Status = "pending"
	upd.FirstName, upd.MiddleName, upd.LastName = "Grace", "", "Hopper"
	upd.ExternalID = "crm-renamed"
	upd.TrustedMetadata = json.RawMessage(`{"plan":"enterprise"}`)
	upd.UntrustedMetadata = nil
	upd.Roles = []string{"viewer"}
	upd.UpdatedAt = base.Add(time.Hour)
	upd.LockCreatedAt, upd.LockExpiresAt = nil, nil
	// UpdateUser writes scalars only: these must be ignored.
	upd.CreatedAt = base.Add(-time.Hour)
	upd.Emails, upd.Phones = nil, nil
	if err := s.UpdateUser(ctx, &upd); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}

	want := upd
	want.CreatedAt = u.CreatedAt
	want.Emails, want.Phones = u.Emails, u.Phones
	checkUser(t, getUser(t, s, p.ID, u.ID), &want)

	// The new external id resolves; the old one no longer does.
	if got, err := s.GetUserByExternalID(ctx, p.ID, "crm-renamed"); err != nil || got.ID != u.ID {
		t.Fatalf("GetUserByExternalID new id = %v, %v", got, err)
	}
	_, err := s.GetUserByExternalID(ctx, p.ID, u.ExternalID)
	wantErr(t, err, store.ErrNotFound, "GetUserByExternalID old id")

	// The search name follows the update.
	found, total, err := s.SearchUsers(ctx, p.ID, store.UserQuery{Operator: "AND", Limit: 10,
		Filters: []store.UserFilter{{Name: "full_name_fuzzy", String: "grace hop"}}})
	if err != nil || total != 1 || len(found) != 1 || found[0].ID != u.ID {
		t.Errorf("search by updated name = %d users (total %d), %v; want the user", len(found), total, err)
	}

	// Clearing the external id frees it for another user; nil roles read as [].
	upd.ExternalID = ""
	upd.Roles = nil
	upd.TrustedMetadata = nil
	if err := s.UpdateUser(ctx, &upd); err != nil {
		t.Fatalf("UpdateUser clearing: %v", err)
	}
	got := getUser(t, s, p.ID, u.ID)
	if got.ExternalID != "" || got.TrustedMetadata != nil || got.Roles == nil || len(got.Roles) != 0 {
		t.Errorf("after clearing: external %q trusted %q roles %#v", got.ExternalID, got.TrustedMetadata, got.Roles)
	}
	other := newUser(p.ID)
	other.ExternalID = "crm-renamed"
	createUser(t, s, other)
}

func testUserUpdateConflict(t *testing.T, s store.Store) {
	p := createProject(t, s)
	a := newUser(p.ID)
	a.ExternalID = "crm-a"
	createUser(t, s, a)
	b := createUser(t, s, newUser(p.ID))
	upd := *b
	upd.ExternalID = "crm-a"
	wantConflict(t, s.UpdateUser(t.Context(), &upd), "external_id", "UpdateUser to a taken external id")
	if got := getUser(t, s, p.ID, b.ID); got.ExternalID != "" {
		t.Errorf("failed update left external id %q", got.ExternalID)
	}
}

func testUserDeleteCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := fullUser(p.ID)
	createUser(t, s, u)
	keep := newUser(p.ID, "keep@example.com")
	addPhone(keep, "+14155550000", true)
	createUser(t, s, keep)

	sess := createSession(t, s, newSession(u, base))
	keepSess := createSession(t, s, newSession(keep, base))
	link := createMagicLink(t, s, newMagicLink(u, u.Emails[0].ID, "login"))
	keepLink := createMagicLink(t, s, newMagicLink(keep, keep.Emails[0].ID, "login"))

	if err := s.DeleteUser(ctx, p.ID, u.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := s.GetUser(ctx, p.ID, u.ID)
	wantErr(t, err, store.ErrNotFound, "GetUser after delete")
	_, err = s.GetUserByExternalID(ctx, p.ID, u.ExternalID)
	wantErr(t, err, store.ErrNotFound, "GetUserByExternalID after delete")
	for _, e := range u.Emails {
		_, err = s.GetEmail(ctx, p.ID, e.ID)
		wantErr(t, err, store.ErrNotFound, "GetEmail after user delete")
		_, err = s.GetEmailByAddress(ctx, p.ID, e.Address)
		wantErr(t, err, store.ErrNotFound, "GetEmailByAddress after user delete")
	}
	for _, ph := range u.Phones {
		_, err = s.GetPhone(ctx, p.ID, ph.ID)
		wantErr(t, err, store.ErrNotFound, "GetPhone after user delete")
		_, err = s.GetPhoneByNumber(ctx, p.ID, ph.Number)
		wantErr(t, err, store.ErrNotFound, "GetPhoneByNumber after user delete")
	}
	_, err = s.GetSession(ctx, p.ID, sess.ID)
	wantErr(t, err, store.ErrNotFound, "GetSession after user delete")
	_, err = s.GetSessionByTokenHash(ctx, p.ID, sess.TokenHash)
	wantErr(t, err, store.ErrNotFound, "GetSessionByTokenHash after user delete")
	if list, err := s.ListSessions(ctx, p.ID, u.ID); err != nil || len(list) != 0 {
		t.Errorf("ListSessions after user delete = %d, %v", len(list), err)
	}
	_, err = s.GetMagicLink(ctx, p.ID, link.TokenHash)
	wantErr(t, err, store.ErrNotFound, "GetMagicLink after user delete")
	wantErr(t, s.DeleteUser(ctx, p.ID, u.ID), store.ErrNotFound, "DeleteUser twice")

	// The other user is untouched.
	checkUser(t, getUser(t, s, p.ID, keep.ID), keep)
	if _, err := s.GetSession(ctx, p.ID, keepSess.ID); err != nil {
		t.Errorf("other user's session: %v", err)
	}
	if _, err := s.GetMagicLink(ctx, p.ID, keepLink.TokenHash); err != nil {
		t.Errorf("other user's magic link: %v", err)
	}

	// The deleted user's email, phone and external id are free again.
	again := fullUser(p.ID)
	again.ExternalID = u.ExternalID
	createUser(t, s, again)
}

func testUserDuplicateEmail(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	first := createUser(t, s, newUser(p.ID, "dup@example.com"))

	// The second user is created with a fresh email first and the taken one
	// second: the whole CreateUser must roll back.
	second := newUser(p.ID, "fresh@example.com", "dup@example.com")
	wantConflict(t, s.CreateUser(ctx, second), "email", "CreateUser duplicate email")
	_, err := s.GetUser(ctx, p.ID, second.ID)
	wantErr(t, err, store.ErrNotFound, "GetUser of user whose create conflicted")
	_, err = s.GetEmailByAddress(ctx, p.ID, "fresh@example.com")
	wantErr(t, err, store.ErrNotFound, "email of user whose create conflicted")

	// AddEmail to an existing user conflicts the same way.
	other := createUser(t, s, newUser(p.ID))
	err = s.AddEmail(ctx, p.ID, &store.Email{ID: newID("email"), UserID: other.ID, Address: "dup@example.com", CreatedAt: base})
	wantConflict(t, err, "email", "AddEmail duplicate")
	e, err := s.GetEmailByAddress(ctx, p.ID, "dup@example.com")
	if err != nil || e.UserID != first.ID {
		t.Fatalf("dup@example.com belongs to %v, %v; want %s", e, err, first.ID)
	}
}

func testUserDuplicatePhone(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	first := newUser(p.ID)
	addPhone(first, "+14155550123", true)
	createUser(t, s, first)

	second := newUser(p.ID, "second@example.com")
	addPhone(second, "+14155550123", false)
	wantConflict(t, s.CreateUser(ctx, second), "phone_number", "CreateUser duplicate phone")
	_, err := s.GetUser(ctx, p.ID, second.ID)
	wantErr(t, err, store.ErrNotFound, "GetUser of user whose create conflicted")
	_, err = s.GetEmailByAddress(ctx, p.ID, "second@example.com")
	wantErr(t, err, store.ErrNotFound, "email of user whose create conflicted")

	other := createUser(t, s, newUser(p.ID))
	err = s.AddPhone(ctx, p.ID, &store.Phone{ID: newID("phone-number"), UserID: other.ID, Number: "+14155550123", CreatedAt: base})
	wantConflict(t, err, "phone_number", "AddPhone duplicate")
}

func testUserDuplicateExternalID(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	first := newUser(p.ID)
	first.ExternalID = "crm-42"
	createUser(t, s, first)
	second := newUser(p.ID, "second@example.com")
	second.ExternalID = "crm-42"
	wantConflict(t, s.CreateUser(ctx, second), "external_id", "CreateUser duplicate external id")
	_, err := s.GetUser(ctx, p.ID, second.ID)
	wantErr(t, err, store.ErrNotFound, "GetUser of user whose create conflicted")
}

func testUserDuplicateID(t *testing.T, s store.Store) {
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "a@example.com"))
	dup := newUser(p.ID, "b@example.com")
	dup.ID = u.ID
	dup.Emails[0].UserID = u.ID
	wantConflict(t, s.CreateUser(t.Context(), dup), "", "CreateUser duplicate id")
	got := getUser(t, s, p.ID, u.ID)
	if len(got.Emails) != 1 || got.Emails[0].Address != "a@example.com" {
		t.Errorf("conflicting create changed the user's emails: %+v", got.Emails)
	}
}

func testUserTenantIsolation(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1, p2 := createProject(t, s), createProject(t, s)
	mk := func(projectID string) *store.User {
		u := newUser(projectID, "shared@example.com")
		addPhone(u, "+14155550177", true)
		u.ExternalID = "crm-shared"
		return createUser(t, s, u)
	}
	u1, u2 := mk(p1.ID), mk(p2.ID)

	// Each project sees only its own user.
	_, err := s.GetUser(ctx, p2.ID, u1.ID)
	wantErr(t, err, store.ErrNotFound, "GetUser of another project's user")
	_, err = s.GetUser(ctx, p1.ID, u2.ID)
	wantErr(t, err, store.ErrNotFound, "GetUser of another project's user")
	for _, c := range []struct {
		p *store.Project
		u *store.User
	}{{p1, u1}, {p2, u2}} {
		got, err := s.GetUserByExternalID(ctx, c.p.ID, "crm-shared")
		if err != nil || got.ID != c.u.ID {
			t.Errorf("GetUserByExternalID in %s = %v, %v; want %s", c.p.ID, got, err, c.u.ID)
		}
		e, err := s.GetEmailByAddress(ctx, c.p.ID, "shared@example.com")
		if err != nil || e.UserID != c.u.ID || e.ID != c.u.Emails[0].ID {
			t.Errorf("GetEmailByAddress in %s = %+v, %v; want %s", c.p.ID, e, err, c.u.Emails[0].ID)
		}
		ph, err := s.GetPhoneByNumber(ctx, c.p.ID, "+14155550177")
		if err != nil || ph.UserID != c.u.ID {
			t.Errorf("GetPhoneByNumber in %s = %+v, %v", c.p.ID, ph, err)
		}
	}

	// Writes through the wrong project touch nothing.
	upd := *u1
	upd.ProjectID = p2.ID
	upd.FirstName = "Mallory"
	wantErr(t, s.UpdateUser(ctx, &upd), store.ErrNotFound, "UpdateUser via another project")
	wantErr(t, s.DeleteUser(ctx, p2.ID, u1.ID), store.ErrNotFound, "DeleteUser via another project")
	checkUser(t, getUser(t, s, p1.ID, u1.ID), u1)
	checkUser(t, getUser(t, s, p2.ID, u2.ID), u2)
}

// ---- emails ----

var emailTests = []subtest{
	{"AddGetByAddressVerifyDelete", testEmailCRUD},
	{"ScopedByProject", testEmailProjects},
	{"AddToUnknownUserFails", testEmailUnknownUser},
}

func testEmailCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "first@example.com"))

	e := &store.Email{ID: newID("email"), UserID: u.ID, Address: "second@example.com", CreatedAt: base.Add(time.Minute)}
	if err := s.AddEmail(ctx, p.ID, e); err != nil {
		t.Fatalf("AddEmail: %v", err)
	}
	got, err := s.GetEmail(ctx, p.ID, e.ID)
	if err != nil {
		t.Fatalf("GetEmail: %v", err)
	}
	checkEmail(t, *got, *e)
	got, err = s.GetEmailByAddress(ctx, p.ID, e.Address)
	if err != nil {
		t.Fatalf("GetEmailByAddress: %v", err)
	}
	checkEmail(t, *got, *e)

	// GetUser lists both, oldest first.
	checkUser(t, getUser(t, s, p.ID, u.ID), &store.User{ProjectID: p.ID, ID: u.ID, Status: u.Status,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, Emails: []store.Email{u.Emails[0], *e}})

	if err := s.VerifyEmail(ctx, p.ID, e.ID); err != nil {
		t.Fatalf("VerifyEmail: %v", err)
	}
	got, _ = s.GetEmail(ctx, p.ID, e.ID)
	if got == nil || !got.Verified {
		t.Fatalf("after VerifyEmail: %+v", got)
	}
	// Verifying again is harmless.
	if err := s.VerifyEmail(ctx, p.ID, e.ID); err != nil {
		t.Fatalf("VerifyEmail again: %v", err)
	}
	if got, _ := s.GetEmail(ctx, p.ID, u.Emails[0].ID); got == nil || got.Verified {
		t.Errorf("VerifyEmail touched another email: %+v", got)
	}

	if err := s.DeleteEmail(ctx, p.ID, e.ID); err != nil {
		t.Fatalf("DeleteEmail: %v", err)
	}
	_, err = s.GetEmail(ctx, p.ID, e.ID)
	wantErr(t, err, store.ErrNotFound, "GetEmail after delete")
	_, err = s.GetEmailByAddress(ctx, p.ID, e.Address)
	wantErr(t, err, store.ErrNotFound, "GetEmailByAddress after delete")
	wantErr(t, s.DeleteEmail(ctx, p.ID, e.ID), store.ErrNotFound, "DeleteEmail twice")
	wantErr(t, s.VerifyEmail(ctx, p.ID, e.ID), store.ErrNotFound, "VerifyEmail deleted")
	if got := getUser(t, s, p.ID, u.ID); len(got.Emails) != 1 || got.Emails[0].ID != u.Emails[0].ID {
		t.Errorf("user emails after delete = %+v", got.Emails)
	}
	// The address can be added again.
	e.ID = newID("email")
	if err := s.AddEmail(ctx, p.ID, e); err != nil {
		t.Fatalf("AddEmail after delete: %v", err)
	}
}

func testEmailProjects(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1, p2 := createProject(t, s), createProject(t, s)
	u := createUser(t, s, newUser(p1.ID, "scoped@example.com"))
	e := u.Emails[0]
	_, err := s.GetEmail(ctx, p2.ID, e.ID)
	wantErr(t, err, store.ErrNotFound, "GetEmail via another project")
	_, err = s.GetEmailByAddress(ctx, p2.ID, e.Address)
	wantErr(t, err, store.ErrNotFound, "GetEmailByAddress via another project")
	wantErr(t, s.VerifyEmail(ctx, p2.ID, e.ID), store.ErrNotFound, "VerifyEmail via another project")
	wantErr(t, s.DeleteEmail(ctx, p2.ID, e.ID), store.ErrNotFound, "DeleteEmail via another project")
	got, err := s.GetEmail(ctx, p1.ID, e.ID)
	if err != nil {
		t.Fatalf("GetEmail: %v", err)
	}
	checkEmail(t, *got, e)
}

func testEmailUnknownUser(t *testing.T, s store.Store) {
	p := createProject(t, s)
	e := &store.Email{ID: newID("email"), UserID: newID("user"), Address: "orphan@example.com", CreatedAt: base}
	if err := s.AddEmail(t.Context(), p.ID, e); err == nil {
		t.Fatal("AddEmail for an unknown user succeeded")
	}
	_, err := s.GetEmailByAddress(t.Context(), p.ID, e.Address)
	wantErr(t, err, store.ErrNotFound, "orphan email")
}

// ---- phones ----

var phoneTests = []subtest{
	{"AddGetByNumberDelete", testPhoneCRUD},
	{"ScopedByProject", testPhoneProjects},
	{"AddToUnknownUserFails", testPhoneUnknownUser},
}

func testPhoneCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := newUser(p.ID)
	addPhone(u, "+14155550100", false)
	createUser(t, s, u)

	ph := &store.Phone{ID: newID("phone-number"), UserID: u.ID, Number: "+33612345678", Verified: true, CreatedAt: base.Add(time.Minute)}
	if err := s.AddPhone(ctx, p.ID, ph); err != nil {
		t.Fatalf("AddPhone: %v", err)
	}
	got, err := s.GetPhone(ctx, p.ID, ph.ID)
	if err != nil {
		t.Fatalf("GetPhone: %v", err)
	}
	checkPhone(t, *got, *ph)
	got, err = s.GetPhoneByNumber(ctx, p.ID, ph.Number)
	if err != nil {
		t.Fatalf("GetPhoneByNumber: %v", err)
	}
	checkPhone(t, *got, *ph)
	if gu := getUser(t, s, p.ID, u.ID); len(gu.Phones) != 2 {
		t.Fatalf("user phones = %+v, want 2", gu.Phones)
	} else {
		checkPhone(t, gu.Phones[0], u.Phones[0])
		checkPhone(t, gu.Phones[1], *ph)
	}

	if err := s.DeletePhone(ctx, p.ID, ph.ID); err != nil {
		t.Fatalf("DeletePhone: %v", err)
	}
	_, err = s.GetPhone(ctx, p.ID, ph.ID)
	wantErr(t, err, store.ErrNotFound, "GetPhone after delete")
	_, err = s.GetPhoneByNumber(ctx, p.ID, ph.Number)
	wantErr(t, err, store.ErrNotFound, "GetPhoneByNumber after delete")
	wantErr(t, s.DeletePhone(ctx, p.ID, ph.ID), store.ErrNotFound, "DeletePhone twice")
	if gu := getUser(t, s, p.ID, u.ID); len(gu.Phones) != 1 || gu.Phones[0].ID != u.Phones[0].ID {
		t.Errorf("user phones after delete = %+v", gu.Phones)
	}
}

func testPhoneProjects(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1, p2 := createProject(t, s), createProject(t, s)
	u := newUser(p1.ID)
	addPhone(u, "+14155550111", true)
	createUser(t, s, u)
	ph := u.Phones[0]
	_, err := s.GetPhone(ctx, p2.ID, ph.ID)
	wantErr(t, err, store.ErrNotFound, "GetPhone via another project")
	_, err = s.GetPhoneByNumber(ctx, p2.ID, ph.Number)
	wantErr(t, err, store.ErrNotFound, "GetPhoneByNumber via another project")
	wantErr(t, s.DeletePhone(ctx, p2.ID, ph.ID), store.ErrNotFound, "DeletePhone via another project")
	got, err := s.GetPhone(ctx, p1.ID, ph.ID)
	if err != nil {
		t.Fatalf("GetPhone: %v", err)
	}
	checkPhone(t, *got, ph)
}

func testPhoneUnknownUser(t *testing.T, s store.Store) {
	p := createProject(t, s)
	ph := &store.Phone{ID: newID("phone-number"), UserID: newID("user"), Number: "+14155550999", CreatedAt: base}
	if err := s.AddPhone(t.Context(), p.ID, ph); err == nil {
		t.Fatal("AddPhone for an unknown user succeeded")
	}
	_, err := s.GetPhoneByNumber(t.Context(), p.ID, ph.Number)
	wantErr(t, err, store.ErrNotFound, "orphan phone")
}

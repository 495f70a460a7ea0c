package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/store"
)

var sessionTests = []subtest{
	{"CreateGetByTokenHash", testSessionCreateGet},
	{"ScopedByProject", testSessionProjects},
	{"List", testSessionList},
	{"Update", testSessionUpdate},
	{"TouchOnlyMovesForward", testSessionTouch},
	{"Delete", testSessionDelete},
	{"DeleteUserSessions", testSessionDeleteUser},
	{"DeleteExpired", testSessionDeleteExpired},
	{"DuplicateTokenHashConflicts", testSessionDuplicateToken},
	{"WithUserInOneCall", testSessionWithUser},
}

func testSessionWithUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := createProject(t, s), createProject(t, s)
	u := newUser(p.ID, "first@example.com", "second@example.com")
	u.Emails[1].Verified = true
	u.FirstName, u.ExternalID = "Ada", "ext-1"
	u.TrustedMetadata = json.RawMessage(`{"plan":"pro"}`)
	u.Roles = []string{"admin"}
	addPhone(u, "+14155552671", true)
	addPhone(u, "+442079460958", false)
	createUser(t, s, u)
	bare := createUser(t, s, newUser(p.ID))
	ss := createSession(t, s, newSession(u, base))
	bs := createSession(t, s, newSession(bare, base))

	for name, lookup := range map[string]func(ss *store.Session) (*store.Session, *store.User, error){
		"ByID": func(ss *store.Session) (*store.Session, *store.User, error) {
			return s.GetSessionWithUser(ctx, p.ID, ss.ID, "")
		},
		"ByTokenHash": func(ss *store.Session) (*store.Session, *store.User, error) {
			return s.GetSessionWithUser(ctx, p.ID, "", ss.TokenHash)
		},
	} {
		gotS, gotU, err := lookup(ss)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkSession(t, gotS, ss)
		checkUser(t, gotU, u)
		gotS, gotU, err = lookup(bs)
		if err != nil {
			t.Fatalf("%s bare: %v", name, err)
		}
		checkSession(t, gotS, bs)
		if len(gotU.Emails) != 0 || len(gotU.Phones) != 0 || gotU.Emails == nil || gotU.Phones == nil {
			t.Errorf("%s bare user: emails %v phones %v, want empty non-nil", name, gotU.Emails, gotU.Phones)
		}
	}
	_, _, err := s.GetSessionWithUser(ctx, other.ID, ss.ID, "")
	wantErr(t, err, store.ErrNotFound, "GetSessionWithUser via another project")
	_, _, err = s.GetSessionWithUser(ctx, p.ID, "", "sha256:unknown")
	wantErr(t, err, store.ErrNotFound, "GetSessionWithUser unknown token")
}

func getSession(t *testing.T, s store.Store, projectID, id string) *store.Session {
	t.Helper()
	ss, err := s.GetSession(t.Context(), projectID, id)
	if err != nil {
		t.Fatalf("GetSession %s: %v", id, err)
	}
	return ss
}

func testSessionCreateGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "s@example.com"))
	ss := newSession(u, base)
	ss.CustomClaims = json.RawMessage(`{"https://example.com/tier":"gold","n":[1,2]}`)
	ss.UpdatedAt = base.Add(time.Second)
	createSession(t, s, ss)

	checkSession(t, getSession(t, s, p.ID, ss.ID), ss)
	got, err := s.GetSessionByTokenHash(ctx, p.ID, ss.TokenHash)
	if err != nil {
		t.Fatalf("GetSessionByTokenHash: %v", err)
	}
	checkSession(t, got, ss)

	_, err = s.GetSession(ctx, p.ID, newID("session"))
	wantErr(t, err, store.ErrNotFound, "GetSession unknown")
	_, err = s.GetSessionByTokenHash(ctx, p.ID, "sha256:unknown")
	wantErr(t, err, store.ErrNotFound, "GetSessionByTokenHash unknown")
}

func testSessionProjects(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1, p2 := createProject(t, s), createProject(t, s)
	u := createUser(t, s, newUser(p1.ID, "s@example.com"))
	ss := createSession(t, s, newSession(u, base))
	_, err := s.GetSession(ctx, p2.ID, ss.ID)
	wantErr(t, err, store.ErrNotFound, "GetSession via another project")
	_, err = s.GetSessionByTokenHash(ctx, p2.ID, ss.TokenHash)
	wantErr(t, err, store.ErrNotFound, "GetSessionByTokenHash via another project")
	if list, err := s.ListSessions(ctx, p2.ID, u.ID); err != nil || len(list) != 0 {
		t.Errorf("ListSessions via another project = %d, %v", len(list), err)
	}
	upd := *ss
	upd.ProjectID = p2.ID
	wantErr(t, s.UpdateSession(ctx, &upd), store.ErrNotFound, "UpdateSession via another project")
	wantErr(t, s.DeleteSession(ctx, p2.ID, ss.ID), store.ErrNotFound, "DeleteSession via another project")
	if err := s.DeleteUserSessions(ctx, p2.ID, u.ID); err != nil {
		t.Fatalf("DeleteUserSessions via another project: %v", err)
	}
	if err := s.TouchSession(ctx, p2.ID, ss.ID, base.Add(time.Hour)); err != nil {
		t.Fatalf("TouchSession via another project: %v", err)
	}
	checkSession(t, getSession(t, s, p1.ID, ss.ID), ss)
}

func testSessionList(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "a@example.com"))
	other := createUser(t, s, newUser(p.ID, "b@example.com"))
	if list, err := s.ListSessions(ctx, p.ID, u.ID); err != nil || len(list) != 0 {
		t.Fatalf("ListSessions with none = %d, %v", len(list), err)
	}
	// Created newest first; listed oldest first.
	later := createSession(t, s, newSession(u, base.Add(time.Minute)))
	earlier := createSession(t, s, newSession(u, base))
	createSession(t, s, newSession(other, base))
	list, err := s.ListSessions(ctx, p.ID, u.ID)
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	if len(list) != 2 {
		t.Fatalf("ListSessions = %d sessions, want 2", len(list))
	}
	checkSession(t, &list[0], earlier)
	checkSession(t, &list[1], later)
}

func testSessionUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "a@example.com"))
	ss := createSession(t, s, newSession(u, base))
	untouched := createSession(t, s, newSession(u, base))

	upd := *ss
	upd.LastAccessedAt = base.Add(10 * time.Minute)
	upd.ExpiresAt = base.Add(24 * time.Hour)
	upd.Attributes = json.RawMessage(`{"ip_address":"192.0.2.1","user_agent":"Safari"}`)
	upd.Factors = json.RawMessage(`[{"type":"magic_link"},{"type":"otp","delivery_method":"sms"}]`)
	upd.CustomClaims = json.RawMessage(`{"role":"owner"}`)
	upd.UpdatedAt = base.Add(10 * time.Minute)
	// Not updatable: must be ignored.
	upd.StartedAt = base.Add(-time.Hour)
	upd.TokenHash = "sha256:changed"
	upd.UserID = newID("user")
	if err := s.UpdateSession(ctx, &upd); err != nil {
		t.Fatalf("UpdateSession: %v", err)
	}
	want := upd
	want.StartedAt, want.TokenHash, want.UserID = ss.StartedAt, ss.TokenHash, ss.UserID
	checkSession(t, getSession(t, s, p.ID, ss.ID), &want)
	checkSession(t, getSession(t, s, p.ID, untouched.ID), untouched)

	missing := newSession(u, base)
	wantErr(t, s.UpdateSession(ctx, missing), store.ErrNotFound, "UpdateSession unknown")
}

func testSessionTouch(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "a@example.com"))
	ss := newSession(u, base)
	ss.LastAccessedAt = base.Add(time.Minute)
	createSession(t, s, ss)

	touch := func(at time.Time, want time.Time) {
		t.Helper()
		if err := s.TouchSession(ctx, p.ID, ss.ID, at); err != nil {
			t.Fatalf("TouchSession %v: %v", at, err)
		}
		got := getSession(t, s, p.ID, ss.ID)
		checkTime(t, "LastAccessedAt", got.LastAccessedAt, want)
		checkTime(t, "StartedAt", got.StartedAt, ss.StartedAt)
		checkTime(t, "ExpiresAt", got.ExpiresAt, ss.ExpiresAt)
	}
	touch(base, base.Add(time.Minute))                                                        // older: ignored
	touch(base.Add(time.Minute), base.Add(time.Minute))                                       // equal: no change
	touch(base.Add(5*time.Minute), base.Add(5*time.Minute))                                   // newer: moves
	touch(base.Add(2*time.Minute), base.Add(5*time.Minute))                                   // back in time: ignored
	touch(base.Add(5*time.Minute+time.Microsecond), base.Add(5*time.Minute+time.Microsecond)) // one microsecond later: moves
}

func testSessionDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "a@example.com"))
	ss := createSession(t, s, newSession(u, base))
	keep := createSession(t, s, newSession(u, base))
	if err := s.DeleteSession(ctx, p.ID, ss.ID); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	_, err := s.GetSession(ctx, p.ID, ss.ID)
	wantErr(t, err, store.ErrNotFound, "GetSession after delete")
	_, err = s.GetSessionByTokenHash(ctx, p.ID, ss.TokenHash)
	wantErr(t, err, store.ErrNotFound, "GetSessionByTokenHash after delete")
	wantErr(t, s.DeleteSession(ctx, p.ID, ss.ID), store.ErrNotFound, "DeleteSession twice")
	checkSession(t, getSession(t, s, p.ID, keep.ID), keep)
}

func testSessionDeleteUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "a@example.com"))
	other := createUser(t, s, newUser(p.ID, "b@example.com"))
	for range 3 {
		createSession(t, s, newSession(u, base))
	}
	keep := createSession(t, s, newSession(other, base))
	if err := s.DeleteUserSessions(ctx, p.ID, u.ID); err != nil {
		t.Fatalf("DeleteUserSessions: %v", err)
	}
	if list, err := s.ListSessions(ctx, p.ID, u.ID); err != nil || len(list) != 0 {
		t.Errorf("ListSessions after DeleteUserSessions = %d, %v", len(list), err)
	}
	checkSession(t, getSession(t, s, p.ID, keep.ID), keep)
	// No sessions left: still not an error.
	if err := s.DeleteUserSessions(ctx, p.ID, u.ID); err != nil {
		t.Errorf("DeleteUserSessions with none: %v", err)
	}
	// The user survives.
	getUser(t, s, p.ID, u.ID)
}

func testSessionDeleteExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1, p2 := createProject(t, s), createProject(t, s)
	u1 := createUser(t, s, newUser(p1.ID, "a@example.com"))
	u2 := createUser(t, s, newUser(p2.ID, "a@example.com"))
	mk := func(u *store.User, expires time.Time) *store.Session {
		ss := newSession(u, base.Add(-2*time.Hour))
		ss.ExpiresAt = expires
		return createSession(t, s, ss)
	}
	cutoff := base
	expired := []*store.Session{mk(u1, base.Add(-time.Hour)), mk(u1, base.Add(-time.Microsecond)), mk(u2, base.Add(-time.Minute))}
	// Expiring exactly at the cutoff is not "before" it.
	live := []*store.Session{mk(u1, base.Add(time.Hour)), mk(u2, base.Add(time.Microsecond)), mk(u1, cutoff)}

	n, err := s.DeleteExpiredSessions(ctx, cutoff)
	if err != nil {
		t.Fatalf("DeleteExpiredSessions: %v", err)
	}
	if n != int64(len(expired)) {
		t.Errorf("DeleteExpiredSessions removed %d, want %d", n, len(expired))
	}
	for _, ss := range expired {
		_, err := s.GetSession(ctx, ss.ProjectID, ss.ID)
		wantErr(t, err, store.ErrNotFound, "expired session")
	}
	for _, ss := range live {
		checkSession(t, getSession(t, s, ss.ProjectID, ss.ID), ss)
	}
	if n, err := s.DeleteExpiredSessions(ctx, cutoff); err != nil || n != 0 {
		t.Errorf("second DeleteExpiredSessions = %d, %v; want 0", n, err)
	}
}

func testSessionDuplicateToken(t *testing.T, s store.Store) {
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "a@example.com"))
	ss := createSession(t, s, newSession(u, base))
	dup := newSession(u, base)
	dup.TokenHash = ss.TokenHash
	wantConflict(t, s.CreateSession(t.Context(), dup), "", "CreateSession duplicate token hash")
	dupID := newSession(u, base)
	dupID.ID = ss.ID
	wantConflict(t, s.CreateSession(t.Context(), dupID), "", "CreateSession duplicate id")
	checkSession(t, getSession(t, s, p.ID, ss.ID), ss)
}

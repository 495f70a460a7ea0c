package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/store"
)

var txTests = []subtest{
	{"ErrorRollsBackEveryWrite", testTxRollback},
	{"SuccessCommits", testTxCommit},
	{"NestedJoinsOuter", testTxNested},
	{"NestedErrorRollsBackOuter", testTxNestedError},
	{"StoreErrorInsideRollsBack", testTxStoreError},
}

var errBoom = errors.New("storetest: boom")

// txWrites performs one write of every kind through st and returns what it
// wrote, checking st reads its own writes.
type txWrites struct {
	p             *store.Project
	u             *store.User
	ss            *store.Session
	ml            *store.MagicLink
	msg           *store.OutboxMessage
	key           *store.SigningKey
	email, second string
}

func writeAll(t *testing.T, st store.Store) *txWrites {
	t.Helper()
	ctx := t.Context()
	w := &txWrites{}
	w.p = createProject(t, st)
	addRedirect(t, st, store.RedirectURL{ProjectID: w.p.ID, Type: "login", URL: loginA, IsDefault: true})
	w.u = newUser(w.p.ID, "tx@example.com")
	addPhone(w.u, "+14155550142", false)
	createUser(t, st, w.u)
	w.email = w.u.Emails[0].Address
	w.second = "tx-second@example.com"
	if err := st.AddEmail(ctx, w.p.ID, &store.Email{ID: newID("email"), UserID: w.u.ID, Address: w.second, CreatedAt: base.Add(time.Minute)}); err != nil {
		t.Fatalf("AddEmail in tx: %v", err)
	}
	w.ss = createSession(t, st, newSession(w.u, base))
	w.ml = createMagicLink(t, st, newMagicLink(w.u, w.u.Emails[0].ID, "login"))
	w.msg = enqueue(t, st, newMessage(w.p.ID, w.email, base))
	w.key = createKey(t, st, newKey(w.p.ID, base))
	// Reads inside the transaction see its writes.
	checkUser(t, getUser(t, st, w.p.ID, w.u.ID), &store.User{ProjectID: w.p.ID, ID: w.u.ID, Status: w.u.Status,
		CreatedAt: w.u.CreatedAt, UpdatedAt: w.u.UpdatedAt, Phones: w.u.Phones,
		Emails: []store.Email{w.u.Emails[0], {ID: mustEmailID(t, st, w.p.ID, w.second), UserID: w.u.ID, Address: w.second, CreatedAt: base.Add(time.Minute)}}})
	if list, err := st.ListMessages(ctx, w.p.ID, "", 10); err != nil || len(list) != 1 {
		t.Fatalf("ListMessages in tx = %d, %v", len(list), err)
	}
	return w
}

func mustEmailID(t *testing.T, s store.Store, projectID, address string) string {
	t.Helper()
	e, err := s.GetEmailByAddress(t.Context(), projectID, address)
	if err != nil {
		t.Fatalf("GetEmailByAddress %s: %v", address, err)
	}
	return e.ID
}

// checkNoneOf asserts nothing written by w is visible through s.
func checkNoneOf(t *testing.T, s store.Store, w *txWrites) {
	t.Helper()
	ctx := t.Context()
	_, err := s.GetProject(ctx, w.p.ID)
	wantErr(t, err, store.ErrNotFound, "project after rollback")
	if list, err := s.ListProjects(ctx); err != nil || len(list) != 0 {
		t.Errorf("ListProjects after rollback = %d, %v", len(list), err)
	}
	if list, err := s.ListRedirectURLs(ctx, w.p.ID); err != nil || len(list) != 0 {
		t.Errorf("redirect URLs after rollback = %d, %v", len(list), err)
	}
	_, err = s.GetUser(ctx, w.p.ID, w.u.ID)
	wantErr(t, err, store.ErrNotFound, "user after rollback")
	_, err = s.GetEmailByAddress(ctx, w.p.ID, w.email)
	wantErr(t, err, store.ErrNotFound, "email after rollback")
	_, err = s.GetEmailByAddress(ctx, w.p.ID, w.second)
	wantErr(t, err, store.ErrNotFound, "added email after rollback")
	_, err = s.GetPhone(ctx, w.p.ID, w.u.Phones[0].ID)
	wantErr(t, err, store.ErrNotFound, "phone after rollback")
	_, err = s.GetSession(ctx, w.p.ID, w.ss.ID)
	wantErr(t, err, store.ErrNotFound, "session after rollback")
	_, err = s.GetMagicLink(ctx, w.p.ID, w.ml.TokenHash)
	wantErr(t, err, store.ErrNotFound, "magic link after rollback")
	if list, err := s.ListMessages(ctx, w.p.ID, "", 10); err != nil || len(list) != 0 {
		t.Errorf("messages after rollback = %d, %v", len(list), err)
	}
	if got, err := s.LeaseMessages(ctx, base.Add(time.Hour), time.Minute, 10); err != nil || len(got) != 0 {
		t.Errorf("lease after rollback = %d, %v", len(got), err)
	}
	if list, err := s.ListSigningKeys(ctx, w.p.ID); err != nil || len(list) != 0 {
		t.Errorf("keys after rollback = %d, %v", len(list), err)
	}
}

// checkAllOf asserts everything written by w is visible through s.
func checkAllOf(t *testing.T, s store.Store, w *txWrites) {
	t.Helper()
	ctx := t.Context()
	got, err := s.GetProject(ctx, w.p.ID)
	if err != nil {
		t.Fatalf("project after commit: %v", err)
	}
	checkProject(t, got, w.p)
	checkRedirects(t, s, w.p.ID, map[redirectKey]bool{{"login", loginA}: true})
	u := getUser(t, s, w.p.ID, w.u.ID)
	if len(u.Emails) != 2 || len(u.Phones) != 1 {
		t.Errorf("user after commit has %d emails, %d phones; want 2, 1", len(u.Emails), len(u.Phones))
	}
	checkSession(t, getSession(t, s, w.p.ID, w.ss.ID), w.ss)
	checkMagicLink(t, getMagicLink(t, s, w.p.ID, w.ml.TokenHash), w.ml)
	checkMessage(t, getMessage(t, s, w.p.ID, w.msg.ID), w.msg)
	if keys := listKeys(t, s, w.p.ID); len(keys) != 1 {
		t.Errorf("keys after commit = %d, want 1", len(keys))
	} else {
		checkKey(t, &keys[0], w.key)
	}
}

func testTxRollback(t *testing.T, s store.Store) {
	var w *txWrites
	err := s.Tx(t.Context(), func(st store.Store) error {
		w = writeAll(t, st)
		// Uncommitted writes are invisible outside the transaction.
		_, err := s.GetUser(t.Context(), w.p.ID, w.u.ID)
		wantErr(t, err, store.ErrNotFound, "uncommitted user read outside the transaction")
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Tx returned %v, want fn's error", err)
	}
	checkNoneOf(t, s, w)
	// The store is still usable afterwards.
	createProject(t, s)
}

func testTxCommit(t *testing.T, s store.Store) {
	var w *txWrites
	if err := s.Tx(t.Context(), func(st store.Store) error {
		w = writeAll(t, st)
		return nil
	}); err != nil {
		t.Fatalf("Tx: %v", err)
	}
	checkAllOf(t, s, w)
}

func testTxNested(t *testing.T, s store.Store) {
	ctx := t.Context()
	var outer, inner *store.Project
	// Inner success, outer failure: the inner writes go too.
	err := s.Tx(ctx, func(st store.Store) error {
		outer = createProject(t, st)
		if err := st.Tx(ctx, func(st2 store.Store) error {
			inner = createProject(t, st2)
			// The inner store sees the outer's writes: one transaction.
			if _, err := st2.GetProject(ctx, outer.ID); err != nil {
				t.Errorf("inner Tx cannot see outer write: %v", err)
			}
			return nil
		}); err != nil {
			t.Fatalf("inner Tx: %v", err)
		}
		if _, err := st.GetProject(ctx, inner.ID); err != nil {
			t.Errorf("outer Tx cannot see inner write: %v", err)
		}
		return errBoom
	})
	wantErr(t, err, errBoom, "outer Tx")
	for _, p := range []*store.Project{outer, inner} {
		_, err := s.GetProject(ctx, p.ID)
		wantErr(t, err, store.ErrNotFound, "project after outer rollback")
	}

	// Both succeed: both commit.
	err = s.Tx(ctx, func(st store.Store) error {
		outer = createProject(t, st)
		return st.Tx(ctx, func(st2 store.Store) error {
			inner = createProject(t, st2)
			return nil
		})
	})
	if err != nil {
		t.Fatalf("nested Tx: %v", err)
	}
	for _, p := range []*store.Project{outer, inner} {
		if _, err := s.GetProject(ctx, p.ID); err != nil {
			t.Errorf("project after nested commit: %v", err)
		}
	}
}

func testTxNestedError(t *testing.T, s store.Store) {
	ctx := t.Context()
	var outer, inner *store.Project
	err := s.Tx(ctx, func(st store.Store) error {
		outer = createProject(t, st)
		return st.Tx(ctx, func(st2 store.Store) error {
			inner = createProject(t, st2)
			return errBoom
		})
	})
	wantErr(t, err, errBoom, "nested Tx")
	for _, p := range []*store.Project{outer, inner} {
		_, err := s.GetProject(ctx, p.ID)
		wantErr(t, err, store.ErrNotFound, "project after nested rollback")
	}
}

// A store error that fn passes on rolls back the writes before it.
func testTxStoreError(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	createUser(t, s, newUser(p.ID, "taken@example.com"))
	var fresh *store.User
	err := s.Tx(ctx, func(st store.Store) error {
		fresh = createUser(t, st, newUser(p.ID, "fresh@example.com"))
		return st.CreateUser(ctx, newUser(p.ID, "taken@example.com"))
	})
	wantConflict(t, err, "email", "Tx passing on a conflict")
	_, err = s.GetUser(ctx, p.ID, fresh.ID)
	wantErr(t, err, store.ErrNotFound, "user written before the failing write")
	_, err = s.GetEmailByAddress(ctx, p.ID, "fresh@example.com")
	wantErr(t, err, store.ErrNotFound, "email written before the failing write")
}

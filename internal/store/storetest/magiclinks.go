package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/store"
)

var magicLinkTests = []subtest{
	{"CreateGet", testMagicLinkCreateGet},
	{"ConsumeOnce", testMagicLinkConsume},
	{"ConsumeExpired", testMagicLinkExpired},
	{"ConsumeUnknownOrOtherProjectFails", testMagicLinkConsumeUnknown},
	{"RevokeInvites", testMagicLinkRevokeInvites},
	{"DuplicateTokenHashConflicts", testMagicLinkDuplicate},
}

func getMagicLink(t *testing.T, s store.Store, projectID, tokenHash string) *store.MagicLink {
	t.Helper()
	m, err := s.GetMagicLink(t.Context(), projectID, tokenHash)
	if err != nil {
		t.Fatalf("GetMagicLink: %v", err)
	}
	return m
}

func testMagicLinkCreateGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := createProject(t, s), createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "ml@example.com"))
	m := createMagicLink(t, s, newMagicLink(u, u.Emails[0].ID, "login"))
	checkMagicLink(t, getMagicLink(t, s, p.ID, m.TokenHash), m)

	// Embeddable links have no email; optional strings may be empty.
	emb := newMagicLink(u, "", "embedded")
	emb.CodeChallenge, emb.IPAddress, emb.UserAgent = "", "", ""
	createMagicLink(t, s, emb)
	checkMagicLink(t, getMagicLink(t, s, p.ID, emb.TokenHash), emb)

	// A link created already used reads back used.
	used := newMagicLink(u, u.Emails[0].ID, "signup")
	used.UsedAt = ptr(base.Add(time.Second))
	createMagicLink(t, s, used)
	checkMagicLink(t, getMagicLink(t, s, p.ID, used.TokenHash), used)

	_, err := s.GetMagicLink(ctx, p.ID, "sha256:unknown")
	wantErr(t, err, store.ErrNotFound, "GetMagicLink unknown")
	_, err = s.GetMagicLink(ctx, other.ID, m.TokenHash)
	wantErr(t, err, store.ErrNotFound, "GetMagicLink via another project")
}

func testMagicLinkConsume(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "ml@example.com"))
	m := createMagicLink(t, s, newMagicLink(u, u.Emails[0].ID, "login"))
	other := createMagicLink(t, s, newMagicLink(u, u.Emails[0].ID, "login"))

	now := base.Add(time.Minute)
	if err := s.ConsumeMagicLink(ctx, p.ID, m.TokenHash, now); err != nil {
		t.Fatalf("ConsumeMagicLink: %v", err)
	}
	want := *m
	want.UsedAt = &now
	checkMagicLink(t, getMagicLink(t, s, p.ID, m.TokenHash), &want)

	wantErr(t, s.ConsumeMagicLink(ctx, p.ID, m.TokenHash, now), store.ErrConsumed, "second ConsumeMagicLink")
	wantErr(t, s.ConsumeMagicLink(ctx, p.ID, m.TokenHash, now.Add(time.Second)), store.ErrConsumed, "third ConsumeMagicLink")
	// The first use is kept.
	checkMagicLink(t, getMagicLink(t, s, p.ID, m.TokenHash), &want)
	// Other links are unaffected.
	checkMagicLink(t, getMagicLink(t, s, p.ID, other.TokenHash), other)
}

func testMagicLinkExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "ml@example.com"))
	m := newMagicLink(u, u.Emails[0].ID, "login")
	m.ExpiresAt = base.Add(time.Minute)
	createMagicLink(t, s, m)

	wantErr(t, s.ConsumeMagicLink(ctx, p.ID, m.TokenHash, base.Add(2*time.Minute)), store.ErrConsumed, "ConsumeMagicLink after expiry")
	wantErr(t, s.ConsumeMagicLink(ctx, p.ID, m.TokenHash, m.ExpiresAt), store.ErrConsumed, "ConsumeMagicLink at expiry")
	if got := getMagicLink(t, s, p.ID, m.TokenHash); got.UsedAt != nil {
		t.Errorf("failed consume set UsedAt = %v", got.UsedAt)
	}
	// One microsecond before expiry still works.
	if err := s.ConsumeMagicLink(ctx, p.ID, m.TokenHash, m.ExpiresAt.Add(-time.Microsecond)); err != nil {
		t.Errorf("ConsumeMagicLink just before expiry: %v", err)
	}
}

func testMagicLinkConsumeUnknown(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := createProject(t, s), createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "ml@example.com"))
	m := createMagicLink(t, s, newMagicLink(u, u.Emails[0].ID, "login"))

	// The interface leaves open whether an unknown token is ErrConsumed or
	// ErrNotFound; it must not succeed.
	err := s.ConsumeMagicLink(ctx, p.ID, "sha256:unknown", base)
	if !errors.Is(err, store.ErrConsumed) && !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ConsumeMagicLink unknown token = %v, want ErrConsumed or ErrNotFound", err)
	}
	err = s.ConsumeMagicLink(ctx, other.ID, m.TokenHash, base)
	if !errors.Is(err, store.ErrConsumed) && !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ConsumeMagicLink via another project = %v, want ErrConsumed or ErrNotFound", err)
	}
	checkMagicLink(t, getMagicLink(t, s, p.ID, m.TokenHash), m)
}

func testMagicLinkRevokeInvites(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := createProject(t, s), createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "invitee@example.com", "second@example.com"))
	e1, e2 := u.Emails[0].ID, u.Emails[1].ID

	revoked := []*store.MagicLink{
		createMagicLink(t, s, newMagicLink(u, e1, "invite")),
		createMagicLink(t, s, newMagicLink(u, e1, "invite")),
	}
	// Expired but unused invites go too.
	exp := newMagicLink(u, e1, "invite")
	exp.ExpiresAt = base.Add(-time.Minute)
	revoked = append(revoked, createMagicLink(t, s, exp))

	usedInvite := createMagicLink(t, s, newMagicLink(u, e1, "invite"))
	if err := s.ConsumeMagicLink(ctx, p.ID, usedInvite.TokenHash, base); err != nil {
		t.Fatal(err)
	}
	usedInvite.UsedAt = ptr(base)
	kept := []*store.MagicLink{
		usedInvite,
		createMagicLink(t, s, newMagicLink(u, e1, "login")),
		createMagicLink(t, s, newMagicLink(u, e1, "signup")),
		createMagicLink(t, s, newMagicLink(u, e2, "invite")),
	}

	// Another project's revoke with the same email id touches nothing.
	if n, err := s.RevokeInvites(ctx, other.ID, e1); err != nil || n != 0 {
		t.Fatalf("RevokeInvites via another project = %d, %v; want 0", n, err)
	}
	n, err := s.RevokeInvites(ctx, p.ID, e1)
	if err != nil {
		t.Fatalf("RevokeInvites: %v", err)
	}
	if n != int64(len(revoked)) {
		t.Errorf("RevokeInvites = %d, want %d", n, len(revoked))
	}
	for _, m := range revoked {
		_, err := s.GetMagicLink(ctx, p.ID, m.TokenHash)
		wantErr(t, err, store.ErrNotFound, "revoked invite")
	}
	for _, m := range kept {
		checkMagicLink(t, getMagicLink(t, s, p.ID, m.TokenHash), m)
	}
	if n, err := s.RevokeInvites(ctx, p.ID, e1); err != nil || n != 0 {
		t.Errorf("second RevokeInvites = %d, %v; want 0", n, err)
	}
}

func testMagicLinkDuplicate(t *testing.T, s store.Store) {
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "ml@example.com"))
	m := createMagicLink(t, s, newMagicLink(u, u.Emails[0].ID, "login"))
	dup := newMagicLink(u, u.Emails[0].ID, "signup")
	dup.TokenHash = m.TokenHash
	wantConflict(t, s.CreateMagicLink(t.Context(), dup), "", "CreateMagicLink duplicate token hash")
	checkMagicLink(t, getMagicLink(t, s, p.ID, m.TokenHash), m)
}

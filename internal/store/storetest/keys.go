package storetest

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/store"
)

var keyTests = []subtest{
	{"CreateListOrdered", testKeysCreateList},
	{"Retire", testKeysRetire},
	{"DuplicateKIDConflicts", testKeysDuplicate},
}

func newKey(projectID string, active time.Time) *store.SigningKey {
	kid := newID("jwk")
	// Sealed private keys are arbitrary bytes, NULs and high bytes included.
	priv := []byte{0x00, 0x01, 0xfe, 0xff, 0x00, '"', '\\', '\n'}
	priv = append(priv, []byte(kid)...)
	return &store.SigningKey{
		ProjectID: projectID,
		KID:       kid,
		Private:   priv,
		PublicJWK: json.RawMessage(`{"kty":"RSA","kid":"` + kid + `","use":"sig","alg":"RS256","n":"0vx7agoebGcQSuuPiLJXZpt","e":"AQAB"}`),
		CreatedAt: active.Add(-time.Hour),
		ActiveAt:  active,
	}
}

func checkKey(t *testing.T, got, want *store.SigningKey) {
	t.Helper()
	if got.ProjectID != want.ProjectID || got.KID != want.KID {
		t.Errorf("key = %s/%s, want %s/%s", got.ProjectID, got.KID, want.ProjectID, want.KID)
	}
	if !bytes.Equal(got.Private, want.Private) {
		t.Errorf("key %s Private = %x, want %x", want.KID, got.Private, want.Private)
	}
	checkJSON(t, "PublicJWK", got.PublicJWK, want.PublicJWK)
	checkTime(t, "key CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "key ActiveAt", got.ActiveAt, want.ActiveAt)
	checkTimePtr(t, "key RetiredAt", got.RetiredAt, want.RetiredAt)
}

func listKeys(t *testing.T, s store.Store, projectID string) []store.SigningKey {
	t.Helper()
	keys, err := s.ListSigningKeys(t.Context(), projectID)
	if err != nil {
		t.Fatalf("ListSigningKeys: %v", err)
	}
	return keys
}

func createKey(t *testing.T, s store.Store, k *store.SigningKey) *store.SigningKey {
	t.Helper()
	if err := s.CreateSigningKey(t.Context(), k); err != nil {
		t.Fatalf("CreateSigningKey: %v", err)
	}
	return k
}

func testKeysCreateList(t *testing.T, s store.Store) {
	p, other := createProject(t, s), createProject(t, s)
	if keys := listKeys(t, s, p.ID); len(keys) != 0 {
		t.Fatalf("new project has %d keys", len(keys))
	}
	// Created out of order; listed by activation time.
	current := createKey(t, s, newKey(p.ID, base))
	next := createKey(t, s, newKey(p.ID, base.Add(24*time.Hour)))
	old := newKey(p.ID, base.Add(-24*time.Hour))
	old.RetiredAt = ptr(base)
	createKey(t, s, old)
	createKey(t, s, newKey(other.ID, base))

	keys := listKeys(t, s, p.ID)
	if len(keys) != 3 {
		t.Fatalf("ListSigningKeys = %d keys, want 3", len(keys))
	}
	checkKey(t, &keys[0], old)
	checkKey(t, &keys[1], current)
	checkKey(t, &keys[2], next)
	if keys := listKeys(t, s, other.ID); len(keys) != 1 {
		t.Errorf("other project has %d keys, want 1", len(keys))
	}
}

func testKeysRetire(t *testing.T, s store.Store) {
	p, other := createProject(t, s), createProject(t, s)
	k := createKey(t, s, newKey(p.ID, base))
	keep := createKey(t, s, newKey(p.ID, base.Add(time.Hour)))
	at := base.Add(2 * time.Hour)
	if err := s.RetireSigningKey(t.Context(), p.ID, k.KID, at); err != nil {
		t.Fatalf("RetireSigningKey: %v", err)
	}
	keys := listKeys(t, s, p.ID)
	if len(keys) != 2 {
		t.Fatalf("retired key is no longer listed: %d keys", len(keys))
	}
	want := *k
	want.RetiredAt = &at
	checkKey(t, &keys[0], &want)
	checkKey(t, &keys[1], keep)

	wantErr(t, s.RetireSigningKey(t.Context(), p.ID, newID("jwk"), at), store.ErrNotFound, "RetireSigningKey unknown")
	wantErr(t, s.RetireSigningKey(t.Context(), other.ID, keep.KID, at), store.ErrNotFound, "RetireSigningKey via another project")
	checkKey(t, &listKeys(t, s, p.ID)[1], keep)
}

func testKeysDuplicate(t *testing.T, s store.Store) {
	p, other := createProject(t, s), createProject(t, s)
	k := createKey(t, s, newKey(p.ID, base))
	dup := newKey(p.ID, base.Add(time.Hour))
	dup.KID = k.KID
	wantConflict(t, s.CreateSigningKey(t.Context(), dup), "", "CreateSigningKey duplicate kid")
	// Key ids are per project.
	same := newKey(other.ID, base)
	same.KID = k.KID
	createKey(t, s, same)
}

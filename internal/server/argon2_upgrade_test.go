package server_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchhq/latch/internal/hashes"
	"github.com/latchhq/latch/internal/server"
	"github.com/latchhq/latch/internal/tenant"
)

// TestArgon2ParamsUpgradeOnLogin: a server restarted with stronger argon2id
// parameters rehashes a password made under the old ones at its next
// successful login, and only then.
func TestArgon2ParamsUpgradeOnLogin(t *testing.T) {
	const pw = "violet tractor anchors 42 quietly"
	h := newHarness(t) // default parameters
	p := h.project("Upgrade", tenant.Test)
	c := into[authJSON](t, p.ok(200, "POST", "/v1/passwords", map[string]any{"email": "up@example.com", "password": pw}))
	stored := func() string {
		t.Helper()
		rows := queryRows(t, h.db(), `SELECT hash FROM passwords WHERE user_id = ?`, c.UserID)
		if len(rows) != 1 {
			t.Fatalf("%d password rows for %s", len(rows), c.UserID)
		}
		return rows[0]["hash"].(string)
	}
	old := stored()
	if !strings.HasPrefix(old, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash under default parameters = %q", old)
	}

	// The same store behind a handler stack built with stronger parameters,
	// as after a restart with --argon2-memory 24576 --argon2-iterations 3
	// --argon2-parallelism 2.
	strong := hashes.Params{MemoryKiB: 24576, Iterations: 3, Parallelism: 2}
	app, err := server.New(h.app.Store, server.Options{Log: slog.New(slog.DiscardHandler), Clock: h.clock,
		MasterKey: testMaster, PublicURL: h.publicURL, HashParams: strong})
	if err != nil {
		t.Fatalf("server.New with stronger parameters: %v", err)
	}
	srv := httptest.NewServer(app.Handler)
	t.Cleanup(srv.Close)
	call := func(password string) *resp {
		t.Helper()
		return h.do("POST", srv.URL+"/v1/passwords/authenticate", map[string]any{"email": "up@example.com", "password": password}, p.auth())
	}

	// A wrong password changes nothing.
	wantError(t, call(pw+"!"), 401, "unauthorized_credentials")
	if got := stored(); got != old {
		t.Fatalf("a failed login rewrote the hash:\n%s\n%s", old, got)
	}

	// The right one logs in and leaves a hash under the new parameters.
	r := call(pw)
	if r.status != 200 || into[authJSON](t, r).UserID != c.UserID {
		t.Fatalf("authenticate = %d: %s", r.status, r.raw)
	}
	upgraded := stored()
	if !strings.HasPrefix(upgraded, "$argon2id$v=19$m=24576,t=3,p=2$") {
		t.Fatalf("hash after login under stronger parameters = %q; want m=24576,t=3,p=2", upgraded)
	}
	hs, err := hashes.NewHasher(strong, hashes.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if ok, rehash, err := hs.Verify(context.Background(), upgraded, pw); !ok || rehash || err != nil {
		t.Fatalf("Verify(upgraded hash) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}

	// Current hashes are left alone: another login does not rehash.
	if r := call(pw); r.status != 200 {
		t.Fatalf("second authenticate = %d: %s", r.status, r.raw)
	}
	if got := stored(); got != upgraded {
		t.Fatalf("a login with current parameters rewrote the hash:\n%s\n%s", upgraded, got)
	}
}

// TestServerRefusesHashBudgetBelowOneHash: misconfiguration fails at start-up,
// not at the first login.
func TestServerRefusesHashBudgetBelowOneHash(t *testing.T) {
	h := newHarness(t)
	_, err := server.New(h.app.Store, server.Options{Log: slog.New(slog.DiscardHandler), MasterKey: testMaster,
		PublicURL: h.publicURL, HashLimits: hashes.Limits{MemoryBytes: 16 << 20}})
	if err == nil || !strings.Contains(err.Error(), "password hashing: hashes: a memory budget of 16384 KiB cannot hold one argon2id hash") {
		t.Fatalf("server.New with a 16 MiB hashing budget = %v; want a start-up error", err)
	}
}

package magiclinks_test

// A fuzz target for the token magic_links.authenticate receives, over a
// real SQLite store.

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/delivery"
	"github.com/latchhq/latch/internal/ids"
	"github.com/latchhq/latch/internal/keys"
	"github.com/latchhq/latch/internal/magiclinks"
	"github.com/latchhq/latch/internal/projects"
	"github.com/latchhq/latch/internal/sandbox"
	"github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/sessions"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/store/sqlstore"
	"github.com/latchhq/latch/internal/tenant"
	"github.com/latchhq/latch/internal/wire"
)

// FuzzAuthenticateToken: any string offered as a magic link token never
// panics, is refused as magic_link_not_found (missing_argument when empty),
// and only the genuine token authenticates, once. The project is live, so
// the sandbox tokens mean nothing either.
func FuzzAuthenticateToken(f *testing.F) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	c := clock.NewFake(time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC))
	sealer, err := secrets.NewSealer(make([]byte, 32))
	if err != nil {
		f.Fatal(err)
	}
	ps := projects.New(st, c)
	created, err := ps.Create(ctx, "fuzz", tenant.Consumer, tenant.Live)
	if err != nil {
		f.Fatal(err)
	}
	p, err := ps.AuthenticateProject(ctx, created.ProjectID, created.Secret)
	if err != nil {
		f.Fatal(err)
	}
	svc := &magiclinks.Service{Store: st, Clock: c, Outbox: delivery.NewOutbox(c, ""), Sessions: sessions.New(st, keys.NewManager(st, sealer, c), c),
		Redirects: ps, PublicURL: "http://latch.invalid"}
	u := &store.User{ProjectID: p.ID, ID: ids.New(ids.User, p.Environment), Status: "active", CreatedAt: c.Now(), UpdatedAt: c.Now()}
	if err := st.CreateUser(ctx, u); err != nil {
		f.Fatal(err)
	}
	_, genuine, err := svc.Create(ctx, p, u.ID, nil, wire.Attributes{})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{genuine, strings.TrimSuffix(genuine, "="), genuine + "=", strings.ReplaceAll(strings.ReplaceAll(genuine, "-", "+"), "_", "/"),
		strings.ToLower(genuine), secrets.Hash(genuine), sandbox.MagicLinkToken, sandbox.MagicLinkTokenUsed, sandbox.MagicLinkTokenNotFound} {
		f.Add(s)
	}
	used := false
	f.Fuzz(func(t *testing.T, tok string) {
		_, err := svc.Authenticate(ctx, p, magiclinks.AuthenticateInput{Token: tok})
		if err == nil {
			if tok != genuine || used {
				t.Fatalf("%q authenticated (genuine %q, used %v)", tok, genuine, used)
			}
			used = true
			return
		}
		e, ok := apierr.As(err)
		if !ok || e.Status < 400 || e.Status >= 500 {
			t.Fatalf("%q: %v is not a 4xx API error", tok, err)
		}
		want := "magic_link_not_found"
		switch {
		case tok == "":
			want = "missing_argument"
		case tok == genuine && used:
			want = "unable_to_auth_magic_link"
		case tok == genuine:
			t.Fatalf("the genuine token was refused: %v", err)
		}
		if e.Type != want {
			t.Fatalf("%q: error type %s, want %s", tok, e.Type, want)
		}
	})
}

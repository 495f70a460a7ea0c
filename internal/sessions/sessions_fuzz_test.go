package sessions_test

// Fuzz targets for the credentials sessions.authenticate receives: opaque
// session tokens and session JWTs, over a real SQLite store and real keys.

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/ids"
	"github.com/latchhq/latch/internal/keys"
	"github.com/latchhq/latch/internal/projects"
	"github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/sessions"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/store/sqlstore"
	"github.com/latchhq/latch/internal/tenant"
	"github.com/latchhq/latch/internal/wire"
)

type fuzzFixture struct {
	svc   *sessions.Service
	p     tenant.Project
	token string // the genuine session token
	jwt   string // the genuine session JWT
}

// newFuzzFixture makes a live project (no sandbox values) with one user and
// one 60-minute session.
func newFuzzFixture(f *testing.F) fuzzFixture {
	f.Helper()
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
	svc := sessions.New(st, keys.NewManager(st, sealer, c), c)
	u := &store.User{ProjectID: p.ID, ID: ids.New(ids.User, p.Environment), Status: "active", CreatedAt: c.Now(), UpdatedAt: c.Now()}
	if err := st.CreateUser(ctx, u); err != nil {
		f.Fatal(err)
	}
	minutes := 60
	res, err := svc.Start(ctx, st, p, u, wire.Factor{Type: "magic_link", DeliveryMethod: "embedded",
		EmbeddedFactor: &wire.EmbeddedFactor{EmbeddedID: u.ID}}, nil, sessions.Options{DurationMinutes: &minutes})
	if err != nil {
		f.Fatal(err)
	}
	if err := svc.Sign(ctx, p, res); err != nil {
		f.Fatal(err)
	}
	return fuzzFixture{svc: svc, p: p, token: res.Token, jwt: res.JWT}
}

// wantRefusal fails unless err is a 4xx API error of one of types.
func wantRefusal(t *testing.T, input string, err error, types ...string) {
	t.Helper()
	e, ok := apierr.As(err)
	if !ok || e.Status < 400 || e.Status >= 500 {
		t.Fatalf("%q: %v is not a 4xx API error", input, err)
	}
	for _, typ := range types {
		if e.Type == typ {
			return
		}
	}
	t.Fatalf("%q: error type %s, want one of %v", input, e.Type, types)
}

// FuzzAuthenticateSessionToken: any string offered as session_token is
// refused as session_not_found (no_session_arguments when empty), never
// panics, and only the genuine token authenticates.
func FuzzAuthenticateSessionToken(f *testing.F) {
	fx := newFuzzFixture(f)
	for _, s := range []string{fx.token, fx.token + "=", fx.token[:len(fx.token)-1], strings.ToUpper(fx.token), " " + fx.token,
		fx.token + "\x00", secrets.Hash(fx.token)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		_, err := fx.svc.Authenticate(context.Background(), fx.p, sessions.Options{SessionToken: tok})
		if err == nil {
			if tok != fx.token {
				t.Fatalf("%q authenticated as the session of %q", tok, fx.token)
			}
			return
		}
		if tok == "" {
			wantRefusal(t, tok, err, "no_session_arguments")
			return
		}
		if tok == fx.token {
			t.Fatalf("the genuine token was refused: %v", err)
		}
		wantRefusal(t, tok, err, "session_not_found")
	})
}

// canonicalJWS re-encodes each base64url segment of tok canonically; it
// returns "" when a segment does not decode.
func canonicalJWS(tok string) string {
	parts := strings.Split(tok, ".")
	for i, p := range parts {
		b, err := base64.RawURLEncoding.DecodeString(p)
		if err != nil {
			return ""
		}
		parts[i] = base64.RawURLEncoding.EncodeToString(b)
	}
	return strings.Join(parts, ".")
}

var jwtRefusals = []string{"no_session_arguments", "unable_to_parse_session_jwt", "jwt_invalid", "session_not_found"}

// checkJWT authenticates with tok: only the genuine JWT (or, see the BUG
// note, a non-canonical spelling of its very bytes) may succeed.
func checkJWT(t *testing.T, fx fuzzFixture, tok string) {
	_, err := fx.svc.Authenticate(context.Background(), fx.p, sessions.Options{SessionJWT: tok})
	if err != nil {
		if tok == fx.jwt {
			t.Fatalf("the genuine JWT was refused: %v", err)
		}
		wantRefusal(t, tok, err, jwtRefusals...)
		return
	}
	if tok == fx.jwt {
		return
	}
	if canonicalJWS(tok) != fx.jwt {
		t.Fatalf("mutated JWT %q authenticated", tok)
	}
	// keys.Verify insists on strict base64url, so no other spelling of the
	// genuine JWT verifies.
	t.Fatalf("non-canonical spelling %q of the genuine JWT authenticated", tok)
}

// FuzzAuthenticateSessionJWT: any string offered as session_jwt never
// panics, is refused with a session or JWT error type, and does not
// authenticate unless it is the genuine JWT.
func FuzzAuthenticateSessionJWT(f *testing.F) {
	fx := newFuzzFixture(f)
	parts := strings.Split(fx.jwt, ".")
	for _, s := range []string{fx.jwt, fx.jwt + ".", fx.jwt + "=", parts[0] + "." + parts[1] + ".", parts[0] + ".." + parts[2],
		"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + ".", strings.Repeat("a", 16385), parts[1] + "." + parts[0] + "." + parts[2]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) { checkJWT(t, fx, tok) })
}

// FuzzSessionJWTMutation flips one byte of the genuine JWT: the result
// must not authenticate (see checkJWT for the one known exception).
func FuzzSessionJWTMutation(f *testing.F) {
	fx := newFuzzFixture(f)
	for _, s := range []struct {
		pos uint16
		b   byte
	}{{0, 'f'}, {10, '.'}, {uint16(strings.Index(fx.jwt, ".")), 'A'}, {uint16(len(fx.jwt) - 1), 'A'}, {uint16(len(fx.jwt) - 1), 0}, {uint16(len(fx.jwt) / 2), '_'}} {
		f.Add(s.pos, s.b)
	}
	f.Fuzz(func(t *testing.T, pos uint16, b byte) {
		buf := []byte(fx.jwt)
		buf[int(pos)%len(buf)] = b
		checkJWT(t, fx, string(buf))
	})
}

package keys

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/store/sqlstore"
)

func newManager(t testing.TB) (*Manager, *clock.Fake, string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	pid := "project-test-00000000-0000-4000-8000-000000000001"
	if err := st.CreateProject(ctx, &store.Project{ID: pid, Name: "k", Vertical: "consumer", Environment: "test", SecretHash: "x", PublicToken: "pt", CreatedAt: c.Now()}); err != nil {
		t.Fatal(err)
	}
	sealer, _ := secrets.NewSealer(make([]byte, 32))
	return NewManager(st, sealer, c), c, pid
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestSignVerifyRoundTrip(t *testing.T) {
	m, _, pid := newManager(t)
	ctx := context.Background()
	tok, err := m.Sign(ctx, pid, map[string]any{"sub": "user-test-1", "iss": "stytch.com/" + pid})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var h map[string]string
	json.Unmarshal(hdr, &h)
	if h["alg"] != "RS256" || h["typ"] != "JWT" || !strings.HasPrefix(h["kid"], "jwk-test-") {
		t.Fatalf("header %v", h)
	}
	claims, err := m.Verify(ctx, pid, tok)
	if err != nil || claims["sub"] != "user-test-1" {
		t.Fatalf("verify: %v %v", claims, err)
	}
	jwks, _ := m.JWKS(ctx, pid)
	if len(jwks) != 1 || jwks[0].KID != h["kid"] || jwks[0].Alg != "RS256" || jwks[0].Use != "sig" {
		t.Fatalf("jwks %+v", jwks)
	}
}

func TestVerifyRejectsForgeries(t *testing.T) {
	m, _, pid := newManager(t)
	ctx := context.Background()
	good, _ := m.Sign(ctx, pid, map[string]any{"sub": "u"})
	parts := strings.Split(good, ".")
	jwks, _ := m.JWKS(ctx, pid)
	kid := jwks[0].KID
	payload := b64(map[string]any{"sub": "attacker"})
	mac := hmac.New(sha256.New, []byte(jwks[0].N))
	hsHeader := b64(map[string]string{"alg": "HS256", "typ": "JWT", "kid": kid})
	mac.Write([]byte(hsHeader + "." + payload))
	hs := hsHeader + "." + payload + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	for name, tok := range map[string]string{
		"alg none":          b64(map[string]string{"alg": "none", "typ": "JWT", "kid": kid}) + "." + payload + ".",
		"HS256 with n":      hs,
		"payload swapped":   parts[0] + "." + payload + "." + parts[2],
		"unknown kid":       b64(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "jwk-test-other"}) + "." + parts[1] + "." + parts[2],
		"typ at+jwt":        b64(map[string]string{"alg": "RS256", "typ": "at+jwt", "kid": kid}) + "." + parts[1] + "." + parts[2],
		"garbage":           "not.a.jwt",
		"empty":             "",
		"signature dropped": parts[0] + "." + parts[1] + ".",
	} {
		if _, err := m.Verify(ctx, pid, tok); !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrInvalid or ErrMalformed", name, err)
		}
	}
	// Another project's key does not verify this project's token.
	other := "project-test-00000000-0000-4000-8000-000000000002"
	m.store.CreateProject(ctx, &store.Project{ID: other, Name: "o", Vertical: "consumer", Environment: "test", SecretHash: "y", PublicToken: "pt2"})
	if _, err := m.Verify(ctx, other, good); !errors.Is(err, ErrInvalid) {
		t.Errorf("cross-project verify: %v", err)
	}
}

func TestRotatePublishesBeforeSigning(t *testing.T) {
	m, c, pid := newManager(t)
	ctx := context.Background()
	old, _ := m.Sign(ctx, pid, map[string]any{"sub": "u"})
	next, err := m.Rotate(ctx, pid, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := m.JWKS(ctx, pid)
	if len(jwks) != 2 || jwks[1].KID != next {
		t.Fatalf("after rotate jwks = %+v, want old and %s", jwks, next)
	}
	tok, _ := m.Sign(ctx, pid, map[string]any{"sub": "u"})
	if kidOf(tok) == next {
		t.Fatal("the next key signed before its publish time")
	}
	c.Advance(time.Hour + time.Second)
	m.projects = map[string]*projectKeys{}
	tok, _ = m.Sign(ctx, pid, map[string]any{"sub": "u"})
	if kidOf(tok) != next {
		t.Fatalf("after the publish time the signer is %s, want %s", kidOf(tok), next)
	}
	if _, err := m.Verify(ctx, pid, old); err != nil {
		t.Fatalf("a token of the retired key stopped verifying: %v", err)
	}
}

func kidOf(tok string) string {
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	var h map[string]string
	json.Unmarshal(hdr, &h)
	return h["kid"]
}

// FuzzVerify: arbitrary strings never panic and never verify.
func FuzzVerify(f *testing.F) {
	m, _, pid := newManager(f)
	good, _ := m.Sign(context.Background(), pid, map[string]any{"sub": "u"})
	for _, s := range []string{good, "", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", good + "x", strings.Replace(good, ".", "..", 1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		_, err := m.Verify(context.Background(), pid, tok)
		if err == nil && tok != good {
			t.Fatalf("%q verified", tok)
		}
	})
}

// countingStore counts key-list reads.
type countingStore struct {
	store.Store
	lists atomic.Int64
}

func (c *countingStore) ListSigningKeys(ctx context.Context, projectID string) ([]store.SigningKey, error) {
	c.lists.Add(1)
	return c.Store.ListSigningKeys(ctx, projectID)
}

func TestUnknownKidReloadsAtMostOncePerSecond(t *testing.T) {
	m, c, pid := newManager(t)
	ctx := context.Background()
	cs := &countingStore{Store: m.store}
	m.store = cs
	good, _ := m.Sign(ctx, pid, map[string]any{"sub": "u"})
	parts := strings.Split(good, ".")
	forged := b64(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "jwk-test-made-up"}) + "." + parts[1] + "." + parts[2]
	before := cs.lists.Load()
	for range 100 {
		if _, err := m.Verify(ctx, pid, forged); !errors.Is(err, ErrInvalid) {
			t.Fatalf("made-up kid: %v", err)
		}
	}
	if n := cs.lists.Load() - before; n != 0 {
		t.Fatalf("100 made-up kids within a second of the load read the keys %d times, want 0", n)
	}
	c.Advance(forcedReloadEvery)
	m.Verify(ctx, pid, forged)
	m.Verify(ctx, pid, forged)
	if n := cs.lists.Load() - before; n != 1 {
		t.Fatalf("after a second, two made-up kids read the keys %d times, want 1", n)
	}
	// A key made by another replica is still found once the throttle allows.
	other := NewManager(cs.Store, m.sealer, c)
	if _, err := other.Rotate(ctx, pid, 0); err != nil {
		t.Fatal(err)
	}
	c.Advance(forcedReloadEvery)
	fresh, _ := other.Sign(ctx, pid, map[string]any{"sub": "u2"})
	if claims, err := m.Verify(ctx, pid, fresh); err != nil || claims["sub"] != "u2" {
		t.Fatalf("a key rotated in by another replica: %v %v", claims, err)
	}
}

// Package keys owns each project's RSA signing keys: creation, sealing at
// rest, the public JWKS, minting session JWTs and verifying them.
package keys

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/ids"
	"github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
)

// JWK is one public key as Stytch publishes it.
type JWK struct {
	Kty     string   `json:"kty"`
	Use     string   `json:"use"`
	KeyOps  []string `json:"key_ops"`
	Alg     string   `json:"alg"`
	KID     string   `json:"kid"`
	X5C     []string `json:"x5c"`
	X5TS256 string   `json:"x5tS256"`
	N       string   `json:"n"`
	E       string   `json:"e"`
}

// ErrInvalid is returned for a JWT that fails verification; errors wrap it.
var ErrInvalid = errors.New("keys: invalid jwt")

// ErrMalformed is returned for a string that is not a compact JWS at all.
var ErrMalformed = errors.New("keys: malformed jwt")

type projectKeys struct {
	loaded  time.Time
	signKID string
	signer  jose.Signer
	public  map[string]*rsa.PublicKey
	jwks    []JWK
}

// Manager caches each project's keys; replicas share them through the store.
type Manager struct {
	store  store.Store
	sealer *secrets.Sealer
	clock  clock.Clock
	// refresh bounds how long a replica takes to see a key another replica made.
	refresh time.Duration

	mu       sync.Mutex
	projects map[string]*projectKeys

	// verified remembers tokens whose signature already checked out, so a
	// JWT presented again costs a hash instead of an RSA verification.
	vmu      sync.Mutex
	verified map[[32]byte]verifiedJWT
}

type verifiedJWT struct {
	payload []byte
	until   time.Time
}

const maxVerified = 100_000

// NewManager returns a key manager.
// forcedReloadEvery bounds reloads caused by unknown kids, per project.
const forcedReloadEvery = time.Second

func NewManager(st store.Store, sealer *secrets.Sealer, c clock.Clock) *Manager {
	return &Manager{store: st, sealer: sealer, clock: c, refresh: time.Minute, projects: map[string]*projectKeys{}, verified: map[[32]byte]verifiedJWT{}}
}

func (m *Manager) get(ctx context.Context, projectID string, force bool) (*projectKeys, error) {
	m.mu.Lock()
	pk := m.projects[projectID]
	m.mu.Unlock()
	if pk != nil {
		age := m.clock.Now().Sub(pk.loaded)
		// A forced reload (a JWT names a kid this replica lacks) is throttled:
		// keys are published long before they sign, so only a token with a
		// made-up kid lands here often, and it must not cost a read each time.
		if (!force && age < m.refresh) || (force && age < forcedReloadEvery) {
			return pk, nil
		}
	}
	pk, err := m.load(ctx, projectID)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.projects[projectID] = pk
	m.mu.Unlock()
	return pk, nil
}

func (m *Manager) load(ctx context.Context, projectID string) (*projectKeys, error) {
	list, err := m.store.ListSigningKeys(ctx, projectID)
	if err != nil {
		return nil, err
	}
	now := m.clock.Now()
	if !hasActive(list, now) {
		if err := m.create(ctx, projectID, now); err != nil {
			return nil, err
		}
		if list, err = m.store.ListSigningKeys(ctx, projectID); err != nil {
			return nil, err
		}
	}
	pk := &projectKeys{loaded: now, public: map[string]*rsa.PublicKey{}, jwks: []JWK{}}
	var signing *store.SigningKey
	for i := range list {
		k := &list[i]
		var j JWK
		if err := json.Unmarshal(k.PublicJWK, &j); err != nil {
			return nil, fmt.Errorf("keys: stored jwk %s: %w", k.KID, err)
		}
		// Retired keys stay published until every JWT they signed has expired.
		if k.RetiredAt != nil && now.Sub(*k.RetiredAt) > 24*time.Hour {
			continue
		}
		pub, err := j.publicKey()
		if err != nil {
			return nil, err
		}
		pk.public[k.KID] = pub
		pk.jwks = append(pk.jwks, j)
		if signs(k, now) {
			signing = k // list is ordered by active_at: the newest active wins
		}
	}
	if signing == nil {
		return nil, errors.New("keys: no active signing key")
	}
	der, err := m.sealer.Open(signing.Private, []byte(signing.KID))
	if err != nil {
		return nil, fmt.Errorf("keys: unseal %s: %w", signing.KID, err)
	}
	priv, err := x509.ParsePKCS1PrivateKey(der)
	if err != nil {
		return nil, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: priv, KeyID: signing.KID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, err
	}
	pk.signKID, pk.signer = signing.KID, signer
	return pk, nil
}

// signs reports whether k may sign at now: active and not yet retired.
func signs(k *store.SigningKey, now time.Time) bool {
	return !k.ActiveAt.After(now) && (k.RetiredAt == nil || k.RetiredAt.After(now))
}

func hasActive(list []store.SigningKey, now time.Time) bool {
	for i := range list {
		if signs(&list[i], now) {
			return true
		}
	}
	return false
}

func (m *Manager) create(ctx context.Context, projectID string, now time.Time) error {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	kid := ids.New(ids.JWK, tenant.EnvironmentOf(projectID))
	j := publicJWK(kid, &priv.PublicKey)
	pub, _ := json.Marshal(j)
	return m.store.CreateSigningKey(ctx, &store.SigningKey{
		ProjectID: projectID,
		KID:       kid,
		Private:   m.sealer.Seal(x509.MarshalPKCS1PrivateKey(priv), []byte(kid)),
		PublicJWK: pub,
		CreatedAt: now,
		ActiveAt:  now,
	})
}

// Rotate adds a new key that starts signing after publishAhead (so caches
// of the JWKS learn it first) and retires the current one at that moment.
func (m *Manager) Rotate(ctx context.Context, projectID string, publishAhead time.Duration) (string, error) {
	list, err := m.store.ListSigningKeys(ctx, projectID)
	if err != nil {
		return "", err
	}
	now := m.clock.Now()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	kid := ids.New(ids.JWK, tenant.EnvironmentOf(projectID))
	pub, _ := json.Marshal(publicJWK(kid, &priv.PublicKey))
	err = m.store.Tx(ctx, func(tx store.Store) error {
		if err := tx.CreateSigningKey(ctx, &store.SigningKey{ProjectID: projectID, KID: kid,
			Private: m.sealer.Seal(x509.MarshalPKCS1PrivateKey(priv), []byte(kid)), PublicJWK: pub,
			CreatedAt: now, ActiveAt: now.Add(publishAhead)}); err != nil {
			return err
		}
		for _, k := range list {
			if k.RetiredAt == nil {
				if err := tx.RetireSigningKey(ctx, projectID, k.KID, now.Add(publishAhead)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	m.mu.Lock()
	delete(m.projects, projectID)
	m.mu.Unlock()
	return kid, nil
}

// JWKS returns the project's published keys, creating the first on demand.
func (m *Manager) JWKS(ctx context.Context, projectID string) ([]JWK, error) {
	pk, err := m.get(ctx, projectID, false)
	if err != nil {
		return nil, err
	}
	return pk.jwks, nil
}

// Sign signs claims with the project's current key.
func (m *Manager) Sign(ctx context.Context, projectID string, claims any) (string, error) {
	pk, err := m.get(ctx, projectID, false)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := pk.signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// Verify checks a JWT's signature against the project's published keys:
// RS256 only, typ JWT, kid known. It returns the raw claims; the caller
// checks issuer, audience and times.
func (m *Manager) Verify(ctx context.Context, projectID, token string) (map[string]any, error) {
	key := sha256.Sum256([]byte(projectID + "\x00" + token))
	now := m.clock.Now()
	m.vmu.Lock()
	v, ok := m.verified[key]
	m.vmu.Unlock()
	if ok && now.Before(v.until) {
		return decodeClaims(v.payload)
	}
	if !canonical(token) {
		return nil, fmt.Errorf("%w: not canonical base64url", ErrMalformed)
	}
	obj, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(obj.Signatures) != 1 {
		return nil, fmt.Errorf("%w: want one signature", ErrInvalid)
	}
	h := obj.Signatures[0].Header
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "JWT" {
		return nil, fmt.Errorf("%w: typ %q", ErrInvalid, typ)
	}
	pk, err := m.get(ctx, projectID, false)
	if err != nil {
		return nil, err
	}
	pub, ok := pk.public[h.KeyID]
	if !ok {
		// Another replica may have rotated; reload once.
		if pk, err = m.get(ctx, projectID, true); err != nil {
			return nil, err
		}
		if pub, ok = pk.public[h.KeyID]; !ok {
			return nil, fmt.Errorf("%w: unknown kid", ErrInvalid)
		}
	}
	payload, err := obj.Verify(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return nil, err
	}
	m.vmu.Lock()
	if len(m.verified) >= maxVerified {
		m.verified = map[[32]byte]verifiedJWT{}
	}
	// Remembered for five minutes at most: long enough for the hot path,
	// short enough that a retired key's tokens stop verifying promptly.
	m.verified[key] = verifiedJWT{payload: payload, until: now.Add(5 * time.Minute)}
	m.vmu.Unlock()
	return claims, nil
}

func decodeClaims(payload []byte) (map[string]any, error) {
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrInvalid, err)
	}
	return claims, nil
}

// canonical reports whether each of a compact JWS's three segments is
// strict unpadded base64url: go-jose accepts stray bits in the last
// character, which would let one signature stand for many token strings.
func canonical(token string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if _, err := base64.RawURLEncoding.Strict().DecodeString(p); err != nil {
			return false
		}
	}
	return true
}

// AudienceHas reports whether a decoded JWT "aud" claim (a string or an
// array of strings) names id.
func AudienceHas(aud any, id string) bool {
	switch a := aud.(type) {
	case string:
		return a == id
	case []any:
		for _, v := range a {
			if v == id {
				return true
			}
		}
	}
	return false
}

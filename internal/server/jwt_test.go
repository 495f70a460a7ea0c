package server_test

// Minimal JWS helpers on the standard library, independent of the server's
// own go-jose code: decode, verify RS256 against a JWKS, and forge tokens.

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/latchhq/latch/internal/secrets"
)

var b64 = base64.RawURLEncoding

type jwt struct {
	header, claims map[string]any
	signingInput   string
	sig            []byte
}

func decodeJWT(t *testing.T, tok string) jwt {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("JWT %q has %d parts", tok, len(parts))
	}
	var j jwt
	for i, dst := range []*map[string]any{&j.header, &j.claims} {
		raw, err := b64.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("JWT part %d is not base64url: %v", i, err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatalf("JWT part %d is not JSON: %v", i, err)
		}
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		t.Fatalf("JWT signature is not base64url: %v", err)
	}
	j.signingInput, j.sig = parts[0]+"."+parts[1], sig
	return j
}

func (j jwt) num(key string) int64 {
	f, _ := j.claims[key].(float64)
	return int64(f)
}

type jwkJSON struct {
	Kty    string   `json:"kty"`
	Use    string   `json:"use"`
	KeyOps []string `json:"key_ops"`
	Alg    string   `json:"alg"`
	KID    string   `json:"kid"`
	N      string   `json:"n"`
	E      string   `json:"e"`
}

func (k jwkJSON) public() (*rsa.PublicKey, error) {
	n, err := b64.DecodeString(k.N)
	if err != nil {
		return nil, err
	}
	e, err := b64.DecodeString(k.E)
	if err != nil {
		return nil, err
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
}

// verifyRS256 checks tok's signature with the JWKS key its kid names.
func verifyRS256(j jwt, keys []jwkJSON) error {
	kid, _ := j.header["kid"].(string)
	for _, k := range keys {
		if k.KID != kid {
			continue
		}
		pub, err := k.public()
		if err != nil {
			return err
		}
		sum := sha256.Sum256([]byte(j.signingInput))
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], j.sig)
	}
	return fmt.Errorf("kid %q not in JWKS", kid)
}

func encodeSegment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64.EncodeToString(b)
}

// signRS256 mints a JWT with header and claims, signed by priv.
func signRS256(t *testing.T, priv *rsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	in := encodeSegment(t, header) + "." + encodeSegment(t, claims)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + b64.EncodeToString(sig)
}

// signHS256 is the classic key-confusion forgery: HMAC keyed with public bytes.
func signHS256(t *testing.T, key []byte, header, claims map[string]any) string {
	t.Helper()
	in := encodeSegment(t, header) + "." + encodeSegment(t, claims)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(in))
	return in + "." + b64.EncodeToString(m.Sum(nil))
}

func unsigned(t *testing.T, header, claims map[string]any) string {
	return encodeSegment(t, header) + "." + encodeSegment(t, claims) + "."
}

// projectSigningKey unseals the project's current private key from the
// database with the harness master key, so tests can mint tokens that differ
// from genuine ones only in the claim under test.
func (h *harness) projectSigningKey(projectID string) (string, *rsa.PrivateKey) {
	h.t.Helper()
	rows := queryRows(h.t, h.db(), `SELECT kid, private FROM signing_keys WHERE project_id = ? AND retired_at IS NULL ORDER BY active_at DESC`, projectID)
	if len(rows) == 0 {
		h.t.Fatalf("project %s has no signing key", projectID)
	}
	kid := fmt.Sprint(rows[0]["kid"])
	// The sealed key is stored base64-encoded in a TEXT column.
	sealed, err := base64.StdEncoding.DecodeString(fmt.Sprintf("%s", rows[0]["private"]))
	if err != nil {
		h.t.Fatalf("private column: %v", err)
	}
	sealer, err := secrets.NewSealer(testMaster)
	if err != nil {
		h.t.Fatal(err)
	}
	der, err := sealer.Open(sealed, []byte(kid))
	if err != nil {
		h.t.Fatalf("unseal %s: %v", kid, err)
	}
	priv, err := x509.ParsePKCS1PrivateKey(der)
	if err != nil {
		h.t.Fatal(err)
	}
	return kid, priv
}

func cloneMap(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(errors.New("cloneMap: " + err.Error()))
	}
	return out
}

package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every signing secret, as Standard Webhooks defines:
// whsec_ then the base64 of the raw key.
const SecretPrefix = "whsec_"

// KeySize is the length of a signing key in bytes.
const KeySize = 32

// EncodeSecret is the form of key shown to the operator once.
func EncodeSecret(key []byte) string {
	return SecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// DecodeSecret returns the raw key of a whsec_ secret.
func DecodeSecret(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, errors.New("webhook secret must start with " + SecretPrefix)
	}
	return base64.StdEncoding.DecodeString(rest)
}

// Sign returns the Standard Webhooks signature: "v1," and the base64 of
// HMAC-SHA256(key, msgID + "." + unix seconds + "." + body).
func Sign(key []byte, msgID string, ts time.Time, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msgID + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// StytchSignature is the hex HMAC-SHA256 of the raw body under key.
func StytchSignature(key, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// SetHeaders sets the headers of one delivery attempt of body: the
// Standard Webhooks ones, their svix- twins and stytch-signature.
func SetHeaders(h http.Header, key []byte, msgID string, ts time.Time, body []byte) {
	sig := Sign(key, msgID, ts, body)
	unix := strconv.FormatInt(ts.Unix(), 10)
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Latch-Webhooks/1")
	h.Set("webhook-id", msgID)
	h.Set("webhook-timestamp", unix)
	h.Set("webhook-signature", sig)
	h.Set("svix-id", msgID)
	h.Set("svix-timestamp", unix)
	h.Set("svix-signature", sig)
	h.Set("stytch-signature", StytchSignature(key, body))
}

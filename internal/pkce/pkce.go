// Package pkce checks a PKCE code_verifier against the code_challenge a
// flow started with (S256: base64url of SHA-256, no padding).
package pkce

import (
	"crypto/sha256"
	"encoding/base64"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/secrets"
)

// Check returns nil when the flow used no PKCE, or the verifier matches.
func Check(challenge, verifier string) error {
	switch {
	case challenge == "" && verifier == "":
		return nil
	case challenge == "":
		return apierr.PKCEDidNotExpectCodeVerifier
	case verifier == "":
		return apierr.PKCEExpectedCodeVerifier
	}
	sum := sha256.Sum256([]byte(verifier))
	if !secrets.Equal(base64.RawURLEncoding.EncodeToString(sum[:]), challenge) {
		return apierr.PKCEMismatch
	}
	return nil
}

// Package ids mints the prefixed identifiers Stytch uses:
// <kind>-<test|live>-<uuid v4>, for example user-test-2f4b....
package ids

import (
	"strings"

	"github.com/google/uuid"
	"github.com/latchhq/latch/internal/tenant"
)

// Kinds of id.
const (
	Project      = "project"
	User         = "user"
	Email        = "email"
	PhoneNumber  = "phone-number"
	Session      = "session"
	RequestID    = "request-id"
	JWK          = "jwk"
	PublicToken  = "public-token"
	OutboxMsg    = "message"
	Organization = "organization"
	Member       = "member"
	TOTP         = "totp"
	Password     = "password"
	// ConnectedApp is a Connected Apps client: connected-app-<env>-<uuid>.
	ConnectedApp = "connected-app"
)

// New returns a fresh id of kind in env.
func New(kind string, env tenant.Environment) string {
	return kind + "-" + string(env) + "-" + uuid.NewString()
}

// Valid reports whether s is a well-formed id of kind in any environment.
func Valid(kind, s string) bool {
	rest, ok := strings.CutPrefix(s, kind+"-")
	if !ok {
		return false
	}
	if r, ok := strings.CutPrefix(rest, "test-"); ok {
		rest = r
	} else if r, ok := strings.CutPrefix(rest, "live-"); ok {
		rest = r
	} else {
		return false
	}
	if len(rest) != 36 {
		return false
	}
	_, err := uuid.Parse(rest)
	return err == nil
}

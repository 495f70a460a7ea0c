package totps_test

// The product tests run the whole handler stack through internal/apptest.

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/apptest"
	"github.com/latchhq/latch/internal/tenant"
)

// t0 is a whole second 6 s into a 30 s TOTP step, so a test may advance
// by a few seconds without leaving the step.
var t0 = time.Date(2026, 3, 14, 15, 9, 36, 0, time.UTC)

const uuidPat = apptest.UUIDPattern

func idRe(kind string, env tenant.Environment) *regexp.Regexp {
	return regexp.MustCompile(`^` + regexp.QuoteMeta(kind) + `-` + string(env) + `-` + uuidPat + `$`)
}

type harness struct{ *apptest.Harness }

func newHarness(t *testing.T) *harness { return &harness{apptest.New(t, t0)} }

type project struct{ *apptest.Project }

func (h *harness) project(name string, env tenant.Environment) *project {
	h.T.Helper()
	return &project{h.Harness.Project(name, env)}
}

type resp = apptest.Resp

func into[T any](t *testing.T, r *resp) T {
	t.Helper()
	return apptest.Into[T](t, r)
}

var wantError = apptest.WantError

// Typed views of responses.

type totpJSON struct {
	TOTPID   string `json:"totp_id"`
	Verified bool   `json:"verified"`
}

type userJSON struct {
	UserID string     `json:"user_id"`
	Status string     `json:"status"`
	TOTPs  []totpJSON `json:"totps"`
	Emails []struct {
		EmailID string `json:"email_id"`
		Email   string `json:"email"`
	} `json:"emails"`
}

type factorJSON struct {
	Type                string `json:"type"`
	DeliveryMethod      string `json:"delivery_method"`
	LastAuthenticatedAt string `json:"last_authenticated_at"`
	EmailFactor         *struct {
		EmailID string `json:"email_id"`
	} `json:"email_factor"`
	AuthenticatorApp *struct {
		TOTPID string `json:"totp_id"`
	} `json:"authenticator_app_factor"`
	RecoveryCode *struct {
		TOTPRecoveryCodeID string `json:"totp_recovery_code_id"`
	} `json:"recovery_code_factor"`
}

type sessionJSON struct {
	SessionID             string       `json:"session_id"`
	UserID                string       `json:"user_id"`
	AuthenticationFactors []factorJSON `json:"authentication_factors"`
	ExpiresAt             string       `json:"expires_at"`
}

type authJSON struct {
	UserID       string       `json:"user_id"`
	TOTPID       string       `json:"totp_id"`
	SessionToken string       `json:"session_token"`
	SessionJWT   string       `json:"session_jwt"`
	Session      *sessionJSON `json:"session"`
	User         userJSON     `json:"user"`
}

type createJSON struct {
	TOTPID        string   `json:"totp_id"`
	Secret        string   `json:"secret"`
	QRCode        string   `json:"qr_code"`
	RecoveryCodes []string `json:"recovery_codes"`
	UserID        string   `json:"user_id"`
	User          userJSON `json:"user"`
}

type outboxJSON struct {
	Messages []struct {
		Token *string `json:"token"`
	} `json:"messages"`
}

// newUser creates a user with an email and returns its id.
func (p *project) newUser(email string) string {
	p.H.T.Helper()
	r := p.OK(201, "POST", "/v1/users", map[string]any{"email": email})
	return r.Str("user_id")
}

// login signs addr in by magic link and returns the authenticate response.
func (p *project) login(addr string, minutes int) authJSON {
	p.H.T.Helper()
	p.OK(200, "POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": addr})
	r := p.OK(200, "GET", "/v1/dev/outbox?to="+url.QueryEscape(addr), nil)
	box := into[outboxJSON](p.H.T, r)
	if len(box.Messages) == 0 || box.Messages[0].Token == nil {
		p.H.T.Fatalf("no magic link to %s: %s", addr, r.Raw)
	}
	r = p.OK(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": *box.Messages[0].Token, "session_duration_minutes": minutes})
	a := into[authJSON](p.H.T, r)
	if a.Session == nil || a.SessionToken == "" {
		p.H.T.Fatalf("login of %s started no session: %s", addr, r.Raw)
	}
	return a
}

// jwtClaims decodes a JWT's payload without verifying it.
func jwtClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("JWT %q has %d parts", jwt, len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	return m
}

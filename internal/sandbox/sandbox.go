// Package sandbox holds Stytch's documented test-environment sandbox values:
// fixed emails, phone numbers, tokens and codes that let an app's tests run
// without delivery. They are honoured only in test environments, are
// recognised before any validation (+10000000000 is not a real number), and
// never send anything or touch stored data.
package sandbox

import (
	"time"

	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
)

// The values, from Stytch's testing documentation and SDK integration tests.
const (
	Email = "sandbox@stytch.com"
	Phone = "+10000000000"
	// UserID is the user every sandbox call answers with.
	UserID = "user-test-e3795c81-f849-4167-bfda-e4a6e9c280fd"
	// EmailID and PhoneID identify the sandbox user's factors. Stytch does not
	// document them; these are fixed so tests can rely on them.
	EmailID = "email-test-81bf03a8-86e1-4d95-bd44-bb3495224953"
	PhoneID = "phone-number-test-d5a3b680-e8a3-40c0-b815-ab79986666d0"

	MagicLinkToken         = "DOYoip3rvIMMW5lgItikFK-Ak1CfMsgjuiCyI7uuU94="
	MagicLinkTokenUsed     = "3pzjQpgksDlGKWEwUq2Up--hCHC_0oamfLHyfspKDFU="
	MagicLinkTokenNotFound = "CprTtwhnRNiMBiUS2jSLcWYrfuO2POeBNdo5HhW6qTM="
	OTPCode                = "000000"
	SessionToken           = "WJtR5BCy38Szd5AfoDpf0iqFKEt4EE5JhjlWUY7l3FtY"
	// SessionID is the sandbox session's id (undocumented; fixed here).
	SessionID = "session-test-fe6c042b-6286-479f-8a4f-b046a6c46509"

	// TOTP values from Stytch's SDK integration tests: the sandbox user has a
	// verified authenticator app; 000000 authenticates and a1b2-c3d4-e5f6
	// recovers. The id and secret are not documented; fixed here.
	TOTPID           = "totp-test-5e9a3b8c-1d2f-4c6a-9e7b-0f1a2b3c4d5e"
	TOTPSecret       = "Q4UHX5MWXTPBUXK2HMDXPSKC6CMNJYNI"
	TOTPCode         = "000000"
	TOTPRecoveryCode = "a1b2-c3d4-e5f6"
)

// TOTPRecoveryCodes are the sandbox registration's recovery codes: the
// documented one first, then fixed others so the list has Stytch's length.
var TOTPRecoveryCodes = []string{TOTPRecoveryCode, "b2c3-d4e5-f6a7", "c3d4-e5f6-a7b8", "d4e5-f6a7-b8c9", "e5f6-a7b8-c9d0",
	"f6a7-b8c9-d0e1", "a7b8-c9d0-e1f2", "b8c9-d0e1-f2a3", "c9d0-e1f2-a3b4", "d0e1-f2a3-b4c5"}

// IsUser reports whether a request names the sandbox user in p.
func IsUser(p tenant.Project, userID string) bool { return Active(p) && userID == UserID }

// SessionStartedAt is when the sandbox session began, as Stytch returns it.
var SessionStartedAt = time.Date(2021, 8, 28, 0, 41, 58, 935673000, time.UTC)

// Active reports whether sandbox values apply to p.
func Active(p tenant.Project) bool { return p.IsTest() }

// User is the sandbox user as it would be stored; it is never written.
func User(p tenant.Project) *store.User {
	return &store.User{
		ProjectID: p.ID,
		ID:        UserID,
		Status:    "active",
		Roles:     []string{},
		CreatedAt: SessionStartedAt,
		UpdatedAt: SessionStartedAt,
		Emails:    []store.Email{{ID: EmailID, UserID: UserID, Address: Email, Verified: true, CreatedAt: SessionStartedAt}},
		Phones:    []store.Phone{{ID: PhoneID, UserID: UserID, Number: Phone, Verified: true, CreatedAt: SessionStartedAt}},
	}
}

// IsEmail reports whether s is the sandbox email, however it is cased.
func IsEmail(s string) bool { return len(s) == len(Email) && equalFold(s, Email) }

func equalFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// IsPhone reports whether s is the sandbox phone number.
func IsPhone(s string) bool { return s == Phone || s == "+1 000 000 0000" || s == "+1-000-000-0000" }

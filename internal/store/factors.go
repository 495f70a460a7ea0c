package store

import (
	"context"
	"time"
)

// OTP is the one live one-time passcode of a delivery method (an email or
// phone id); sending a new code replaces it. The code is stored only as a
// keyed hash.
type OTP struct {
	ProjectID string
	MethodID  string // email_id or phone_id
	UserID    string
	Channel   string // sms, whatsapp, email
	CodeHash  string
	IPAddress string // of the send call, for ip_match_required
	UserAgent string
	Attempts  int
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// OTPStore holds one-time passcodes.
type OTPStore interface {
	// PutOTP stores o as the method's code, replacing any earlier one.
	PutOTP(ctx context.Context, o *OTP) error
	// AttemptOTP counts one authentication attempt against the method's code
	// and returns the code after counting. It fails with ErrConsumed when the
	// code is used, expired at now, or already had max attempts: a code dies
	// after max wrong guesses even if the right one comes next.
	AttemptOTP(ctx context.Context, projectID, methodID string, max int, now time.Time) (*OTP, error)
	// ConsumeOTP marks the code used if it is still unused; exactly one of
	// concurrent callers succeeds, the others get ErrConsumed.
	ConsumeOTP(ctx context.Context, projectID, methodID string, now time.Time) error
}

// Password is a user's password hash (argon2id PHC, or a migrated hash
// until the next successful login rehashes it).
type Password struct {
	ProjectID     string
	ID            string
	UserID        string
	Hash          string
	RequiresReset bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// PasswordStore holds password hashes and login-failure locks.
type PasswordStore interface {
	// PutPassword creates or replaces the user's password.
	PutPassword(ctx context.Context, p *Password) error
	GetPassword(ctx context.Context, projectID, userID string) (*Password, error)
	GetPasswordByID(ctx context.Context, projectID, passwordID string) (*Password, error)
	DeletePassword(ctx context.Context, projectID, passwordID string) error
	// RecordAuthFailure counts a failed authentication of a user; at
	// threshold consecutive failures it locks the user until now+lockFor.
	// It returns the user's lock expiry, if locked.
	RecordAuthFailure(ctx context.Context, projectID, userID string, threshold int, lockFor time.Duration, now time.Time) (*time.Time, error)
	// ResetAuthFailures clears the failure count (an expired lock simply stops
	// counting: is_locked compares lock_expires_at with the time).
	ResetAuthFailures(ctx context.Context, projectID, userID string) error
	VerifyPhone(ctx context.Context, projectID, phoneID string) error
}

// TOTP is an authenticator-app registration; the secret is sealed.
type TOTP struct {
	ProjectID    string
	ID           string
	UserID       string
	SecretSealed []byte
	Verified     bool
	LastStep     int64 // the last accepted time step, so a code is never replayed
	CreatedAt    time.Time
	ExpiresAt    time.Time // an unverified TOTP is unusable after this
}

// RecoveryCode is one single-use TOTP recovery code: looked up by its hash,
// and kept sealed so totps.recovery_codes can show it again, as Stytch does.
type RecoveryCode struct {
	ProjectID  string
	TOTPID     string
	UserID     string
	CodeHash   string
	CodeSealed []byte
	UsedAt     *time.Time
}

// TOTPStore holds TOTP registrations and recovery codes.
type TOTPStore interface {
	CreateTOTP(ctx context.Context, t *TOTP, codes []RecoveryCode) error
	ListTOTPs(ctx context.Context, projectID, userID string) ([]TOTP, error)
	GetTOTP(ctx context.Context, projectID, totpID string) (*TOTP, error)
	DeleteTOTP(ctx context.Context, projectID, totpID string) error
	// AcceptTOTPStep records step as used if it is later than the last one
	// accepted (ErrConsumed otherwise) and marks the TOTP verified.
	AcceptTOTPStep(ctx context.Context, projectID, totpID string, step int64) error
	ListRecoveryCodes(ctx context.Context, projectID, totpID string) ([]RecoveryCode, error)
	// UseRecoveryCode marks an unused code of the user used; ErrConsumed if
	// no unused code has that hash.
	UseRecoveryCode(ctx context.Context, projectID, userID, codeHash string, now time.Time) (*RecoveryCode, error)
}

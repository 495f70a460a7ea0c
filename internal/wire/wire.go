// Package wire holds the JSON shapes Stytch's API returns for objects that
// several products share (users, sessions, authentication factors), and
// their conversion from store records. Field names and nullability follow
// the official SDK's types exactly.
package wire

import (
	"encoding/json"
	"time"

	"github.com/latchhq/latch/internal/store"
)

// Time formats a time as Stytch does on the wire: RFC 3339, UTC, seconds.
func Time(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// TimePtr formats an optional time; nil stays nil.
func TimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := Time(*t)
	return &s
}

// Name is UsersName.
type Name struct {
	FirstName  string `json:"first_name"`
	MiddleName string `json:"middle_name"`
	LastName   string `json:"last_name"`
}

// Email is UsersEmail.
type Email struct {
	EmailID  string `json:"email_id"`
	Email    string `json:"email"`
	Verified bool   `json:"verified"`
}

// Phone is UsersPhoneNumber.
type Phone struct {
	PhoneID     string `json:"phone_id"`
	PhoneNumber string `json:"phone_number"`
	Verified    bool   `json:"verified"`
}

// User is the SDK's User.
type User struct {
	UserID                 string            `json:"user_id"`
	Emails                 []Email           `json:"emails"`
	Status                 string            `json:"status"`
	PhoneNumbers           []Phone           `json:"phone_numbers"`
	WebAuthnRegistrations  []json.RawMessage `json:"webauthn_registrations"`
	Providers              []json.RawMessage `json:"providers"`
	TOTPs                  []json.RawMessage `json:"totps"`
	CryptoWallets          []json.RawMessage `json:"crypto_wallets"`
	BiometricRegistrations []json.RawMessage `json:"biometric_registrations"`
	IsLocked               bool              `json:"is_locked"`
	Roles                  []string          `json:"roles"`
	Name                   *Name             `json:"name"`
	CreatedAt              string            `json:"created_at"`
	Password               json.RawMessage   `json:"password"`
	TrustedMetadata        json.RawMessage   `json:"trusted_metadata"`
	UntrustedMetadata      json.RawMessage   `json:"untrusted_metadata"`
	ExternalID             *string           `json:"external_id"`
	LockCreatedAt          *string           `json:"lock_created_at"`
	LockExpiresAt          *string           `json:"lock_expires_at"`
}

var emptyObject = json.RawMessage(`{}`)
var null = json.RawMessage(`null`)

// UserFrom renders a stored user. now decides whether a lock is active.
func UserFrom(u *store.User, now time.Time) User {
	w := User{
		UserID:                 u.ID,
		Emails:                 make([]Email, 0, len(u.Emails)),
		Status:                 u.Status,
		PhoneNumbers:           make([]Phone, 0, len(u.Phones)),
		WebAuthnRegistrations:  []json.RawMessage{},
		Providers:              []json.RawMessage{},
		TOTPs:                  []json.RawMessage{},
		CryptoWallets:          []json.RawMessage{},
		BiometricRegistrations: []json.RawMessage{},
		IsLocked:               u.LockExpiresAt != nil && u.LockExpiresAt.After(now),
		Roles:                  u.Roles,
		Name:                   &Name{FirstName: u.FirstName, MiddleName: u.MiddleName, LastName: u.LastName},
		CreatedAt:              Time(u.CreatedAt),
		Password:               null,
		TrustedMetadata:        u.TrustedMetadata,
		UntrustedMetadata:      u.UntrustedMetadata,
		LockCreatedAt:          TimePtr(u.LockCreatedAt),
		LockExpiresAt:          TimePtr(u.LockExpiresAt),
	}
	if w.Roles == nil {
		w.Roles = []string{}
	}
	if w.TrustedMetadata == nil {
		w.TrustedMetadata = emptyObject
	}
	if w.UntrustedMetadata == nil {
		w.UntrustedMetadata = emptyObject
	}
	if u.ExternalID != "" {
		ext := u.ExternalID
		w.ExternalID = &ext
	}
	for _, e := range u.Emails {
		w.Emails = append(w.Emails, Email{EmailID: e.ID, Email: e.Address, Verified: e.Verified})
	}
	for _, p := range u.Phones {
		w.PhoneNumbers = append(w.PhoneNumbers, Phone{PhoneID: p.ID, PhoneNumber: p.Number, Verified: p.Verified})
	}
	for _, t := range u.TOTPs {
		if !t.Verified && !t.ExpiresAt.After(now) {
			continue // an unverified registration past its expiry is unusable
		}
		b, _ := json.Marshal(userTOTP{TOTPID: t.ID, Verified: t.Verified})
		w.TOTPs = append(w.TOTPs, b)
	}
	if u.Password != nil {
		w.Password, _ = json.Marshal(userPassword{PasswordID: u.Password.ID, RequiresReset: u.Password.RequiresReset})
	}
	return w
}

type userTOTP struct {
	TOTPID   string `json:"totp_id"`
	Verified bool   `json:"verified"`
}

type userPassword struct {
	PasswordID    string `json:"password_id"`
	RequiresReset bool   `json:"requires_reset"`
}

// Attributes is the SDK's Attributes.
type Attributes struct {
	IPAddress string `json:"ip_address"`
	UserAgent string `json:"user_agent"`
}

// MatchOptions is the options object of an authenticate call: which of the
// attributes recorded at send must match the ones given now.
type MatchOptions struct {
	IPMatchRequired        bool `json:"ip_match_required"`
	UserAgentMatchRequired bool `json:"user_agent_match_required"`
}

// Matches reports whether got satisfies o against the attributes recorded
// when the token or code was sent.
func (o MatchOptions) Matches(got Attributes, sentIP, sentUserAgent string) bool {
	return (!o.IPMatchRequired || got.IPAddress == sentIP) && (!o.UserAgentMatchRequired || got.UserAgent == sentUserAgent)
}

// EmailFactor is the email detail of a factor.
type EmailFactor struct {
	EmailID      string `json:"email_id"`
	EmailAddress string `json:"email_address"`
}

// PhoneFactor is the phone detail of a factor.
type PhoneFactor struct {
	PhoneID     string `json:"phone_id"`
	PhoneNumber string `json:"phone_number"`
}

// EmbeddedFactor is the detail of an embeddable magic link factor.
type EmbeddedFactor struct {
	EmbeddedID string `json:"embedded_id"`
}

// AuthenticatorAppFactor is the TOTP detail of a factor.
type AuthenticatorAppFactor struct {
	TOTPID string `json:"totp_id"`
}

// RecoveryCodeFactor is the recovery-code detail of a factor.
type RecoveryCodeFactor struct {
	TOTPRecoveryCodeID string `json:"totp_recovery_code_id"`
}

// OAuthAccessTokenExchangeFactor is the detail of a factor that came from
// exchanging a Connected Apps access token (sessions.exchangeAccessToken).
type OAuthAccessTokenExchangeFactor struct {
	ClientID string `json:"client_id"`
}

// Factor is the SDK's AuthenticationFactor. Only the detail that applies
// is set; later products add theirs.
type Factor struct {
	Type                string                  `json:"type"`
	DeliveryMethod      string                  `json:"delivery_method"`
	LastAuthenticatedAt string                  `json:"last_authenticated_at"`
	CreatedAt           string                  `json:"created_at"`
	UpdatedAt           string                  `json:"updated_at"`
	EmailFactor         *EmailFactor            `json:"email_factor,omitempty"`
	PhoneNumberFactor   *PhoneFactor            `json:"phone_number_factor,omitempty"`
	EmbeddedFactor      *EmbeddedFactor         `json:"embeddable_magic_link_factor,omitempty"`
	AuthenticatorApp    *AuthenticatorAppFactor `json:"authenticator_app_factor,omitempty"`
	RecoveryCode        *RecoveryCodeFactor     `json:"recovery_code_factor,omitempty"`
	// AccessTokenExchange: type oauth, delivery method oauth_access_token_exchange.
	AccessTokenExchange *OAuthAccessTokenExchangeFactor `json:"oauth_access_token_exchange_factor,omitempty"`
}

// Same reports whether two factors are the same method, so a re-used factor
// is refreshed rather than appended.
func (f Factor) Same(o Factor) bool {
	if f.Type != o.Type || f.DeliveryMethod != o.DeliveryMethod {
		return false
	}
	switch {
	case f.EmailFactor != nil && o.EmailFactor != nil:
		return f.EmailFactor.EmailID == o.EmailFactor.EmailID
	case f.PhoneNumberFactor != nil && o.PhoneNumberFactor != nil:
		return f.PhoneNumberFactor.PhoneID == o.PhoneNumberFactor.PhoneID
	case f.EmbeddedFactor != nil && o.EmbeddedFactor != nil:
		return f.EmbeddedFactor.EmbeddedID == o.EmbeddedFactor.EmbeddedID
	case f.AuthenticatorApp != nil && o.AuthenticatorApp != nil:
		return f.AuthenticatorApp.TOTPID == o.AuthenticatorApp.TOTPID
	case f.RecoveryCode != nil && o.RecoveryCode != nil:
		return f.RecoveryCode.TOTPRecoveryCodeID == o.RecoveryCode.TOTPRecoveryCodeID
	case f.AccessTokenExchange != nil && o.AccessTokenExchange != nil:
		return f.AccessTokenExchange.ClientID == o.AccessTokenExchange.ClientID
	}
	// Factors without detail (a password) are the same method by type.
	return f.EmailFactor == nil && o.EmailFactor == nil && f.PhoneNumberFactor == nil && o.PhoneNumberFactor == nil &&
		f.EmbeddedFactor == nil && o.EmbeddedFactor == nil && f.AuthenticatorApp == nil && o.AuthenticatorApp == nil &&
		f.RecoveryCode == nil && o.RecoveryCode == nil && f.AccessTokenExchange == nil && o.AccessTokenExchange == nil
}

// Session is the SDK's Session.
type Session struct {
	SessionID             string         `json:"session_id"`
	UserID                string         `json:"user_id"`
	AuthenticationFactors []Factor       `json:"authentication_factors"`
	Roles                 []string       `json:"roles"`
	StartedAt             string         `json:"started_at"`
	LastAccessedAt        string         `json:"last_accessed_at"`
	ExpiresAt             string         `json:"expires_at"`
	Attributes            Attributes     `json:"attributes"`
	CustomClaims          map[string]any `json:"custom_claims"`
}

// SessionFrom renders a stored session with the user's roles.
func SessionFrom(s *store.Session, roles []string) Session {
	w := Session{
		SessionID:      s.ID,
		UserID:         s.UserID,
		Roles:          roles,
		StartedAt:      Time(s.StartedAt),
		LastAccessedAt: Time(s.LastAccessedAt),
		ExpiresAt:      Time(s.ExpiresAt),
	}
	if w.Roles == nil {
		w.Roles = []string{}
	}
	_ = json.Unmarshal(s.Factors, &w.AuthenticationFactors)
	if w.AuthenticationFactors == nil {
		w.AuthenticationFactors = []Factor{}
	}
	_ = json.Unmarshal(s.Attributes, &w.Attributes)
	_ = json.Unmarshal(s.CustomClaims, &w.CustomClaims)
	if w.CustomClaims == nil {
		w.CustomClaims = map[string]any{}
	}
	return w
}

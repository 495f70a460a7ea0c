package totps

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/png"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/events"
	"github.com/latchhq/latch/internal/ids"
	"github.com/latchhq/latch/internal/sandbox"
	"github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/sessions"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
	"github.com/latchhq/latch/internal/users"
	"github.com/latchhq/latch/internal/wire"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// Parameters of registrations and codes.
const (
	// IDKind is the id prefix of a registration: totp-<env>-<uuid>.
	IDKind = ids.TOTP
	// RecoveryCodeIDKind prefixes the id of a recovery code in a session factor.
	RecoveryCodeIDKind = "totp-recovery-code"

	defaultExpirationMinutes = 1440
	minExpirationMinutes     = 5
	maxExpirationMinutes     = 1440

	// Period is the length of a time step; Skew is how many steps either
	// side of the current one are accepted.
	Period = 30 * time.Second
	Skew   = 1

	secretBytes       = 20 // 32 base32 characters
	recoveryCodeCount = 10
	qrSize            = 256
)

var (
	codePattern         = regexp.MustCompile(`^[0-9]{6}$`)
	recoveryCodePattern = regexp.MustCompile(`^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$`)
	b32                 = base32.StdEncoding.WithPadding(base32.NoPadding)
	// recoveryCodeNS namespaces the name-based uuids of recovery-code ids.
	recoveryCodeNS = uuid.MustParse("6c1b7f0e-3d9a-4f5e-9b1a-2f4c8e7d6a50")
	hotpOpts       = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
)

// Service implements TOTPs.
type Service struct {
	Store    store.Store
	Clock    clock.Clock
	Sessions *sessions.Service
	// Sealer encrypts secrets at rest.
	Sealer *secrets.Sealer
}

// Created is the totps.create result. RecoveryCodes and Secret are the only
// time the plaintext leaves the server.
type Created struct {
	TOTPID        string
	Secret        string
	QRCode        string
	RecoveryCodes []string
	User          wire.User
}

// Create registers a new, unverified authenticator app for a user. A user
// with a verified registration gets active_totp_exists; earlier unverified
// registrations (expired or not) are replaced, so a user who lost the QR
// code before scanning it can start again.
func (s *Service) Create(ctx context.Context, p tenant.Project, userID string, expiration *int) (*Created, error) {
	minutes := defaultExpirationMinutes
	if expiration != nil {
		minutes = *expiration
	}
	if minutes < minExpirationMinutes || minutes > maxExpirationMinutes {
		return nil, apierr.InvalidExpiration.With("expiration_minutes must be between 5 and 1440.")
	}
	if sandbox.IsUser(p, userID) {
		return s.sandboxCreated(p)
	}
	user, err := users.Lookup(ctx, s.Store, p, userID)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	raw := make([]byte, secretBytes)
	rand.Read(raw)
	codes := make([]string, recoveryCodeCount)
	rows := make([]store.RecoveryCode, recoveryCodeCount)
	t := &store.TOTP{
		ProjectID: p.ID,
		ID:        ids.New(IDKind, p.Environment),
		UserID:    user.ID,
		CreatedAt: now,
		ExpiresAt: now.Add(time.Duration(minutes) * time.Minute),
	}
	for i := range codes {
		codes[i] = newRecoveryCode()
		rows[i] = store.RecoveryCode{ProjectID: p.ID, TOTPID: t.ID, UserID: user.ID, CodeHash: secrets.Hash(codes[i]),
			CodeSealed: s.Sealer.Seal([]byte(codes[i]), []byte(t.ID))}
	}
	t.SecretSealed = s.Sealer.Seal(raw, []byte(t.ID))
	qr, err := qrCode(issuer(p), account(user), raw)
	if err != nil {
		return nil, err
	}
	err = s.Store.Tx(ctx, func(tx store.Store) error {
		list, err := tx.ListTOTPs(ctx, p.ID, user.ID)
		if err != nil {
			return err
		}
		for _, old := range list {
			if old.Verified {
				return apierr.ActiveTOTPExists
			}
		}
		for _, old := range list {
			if err := tx.DeleteTOTP(ctx, p.ID, old.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if err := tx.CreateTOTP(ctx, t, rows); err != nil {
			return err
		}
		u := *user
		u.TOTPs = []store.UserTOTP{{ID: t.ID, ExpiresAt: t.ExpiresAt}}
		return users.Event(ctx, tx, p, &u, now, events.UserUpdate)
	})
	if err != nil {
		return nil, err
	}
	s.Sessions.UserChanged(p.ID, user.ID)
	return &Created{
		TOTPID:        t.ID,
		Secret:        b32.EncodeToString(raw),
		QRCode:        qr,
		RecoveryCodes: codes,
		User:          View(user, []store.TOTP{*t}, now),
	}, nil
}

// newRecoveryCode returns xxxx-xxxx-xxxx of lower-case letters and digits
// (about 62 bits), drawn without modulo bias.
func newRecoveryCode() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, 0, 14)
	buf := make([]byte, 32)
	for n := 0; n < 12; {
		rand.Read(buf)
		for _, b := range buf {
			if n == 12 {
				break
			}
			if b >= 252 { // 252 = 7*36
				continue
			}
			if n == 4 || n == 8 {
				out = append(out, '-')
			}
			out = append(out, alphabet[b%36])
			n++
		}
	}
	return string(out)
}

func issuer(p tenant.Project) string {
	if n := strings.TrimSpace(p.Name); n != "" {
		return strings.ReplaceAll(n, ":", " ")
	}
	return "Latch"
}

// account names the user in the authenticator app: an email, else a phone
// number, else the user id.
func account(u *store.User) string {
	switch {
	case len(u.Emails) > 0:
		return u.Emails[0].Address
	case len(u.Phones) > 0:
		return u.Phones[0].Number
	}
	return u.ID
}

// KeyURL is the otpauth:// URI an authenticator app enrolls from.
func KeyURL(issuer, account string, secret []byte) (string, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Secret: secret,
		Period: uint(Period / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return "", err
	}
	return k.URL(), nil
}

// qrCode renders the otpauth:// URI as a PNG data URL.
func qrCode(issuer, account string, secret []byte) (string, error) {
	u, err := KeyURL(issuer, account, secret)
	if err != nil {
		return "", err
	}
	img, err := QRImage(u)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// QRImage renders an otpauth:// URI as a QR code image.
func QRImage(u string) (image.Image, error) {
	k, err := otp.NewKeyFromURL(u)
	if err != nil {
		return nil, err
	}
	return k.Image(qrSize, qrSize)
}

// Code returns the code of a base32 secret at time t; tests use it too.
func Code(secret string, t time.Time) (string, error) {
	return hotp.GenerateCodeCustom(secret, uint64(step(t)), hotpOpts)
}

func step(t time.Time) int64 { return t.Unix() / int64(Period/time.Second) }

// View renders a user with the TOTP registrations list, which may be newer
// than the user read.
func View(u *store.User, list []store.TOTP, now time.Time) wire.User {
	c := *u
	c.TOTPs = make([]store.UserTOTP, 0, len(list))
	for _, t := range list {
		c.TOTPs = append(c.TOTPs, store.UserTOTP{ID: t.ID, Verified: t.Verified, ExpiresAt: t.ExpiresAt})
	}
	return wire.UserFrom(&c, now)
}

// AuthenticateInput is totps.authenticate.
type AuthenticateInput struct {
	UserID  string
	Code    string
	Session sessions.Options
}

// Authenticated is the authenticate and recover result.
type Authenticated struct {
	UserID  string
	TOTPID  string
	User    wire.User
	Session *sessions.Result
}

// usable picks the registrations a code may be checked against: the
// verified one if there is one, else the live unverified ones.
func usable(list []store.TOTP, now time.Time) ([]store.TOTP, error) {
	var verified, pending []store.TOTP
	expired := false
	for _, t := range list {
		switch {
		case t.Verified:
			verified = append(verified, t)
		case t.ExpiresAt.After(now):
			pending = append(pending, t)
		default:
			expired = true
		}
	}
	switch {
	case len(verified) > 0:
		return verified, nil
	case len(pending) > 0:
		return pending, nil
	case expired:
		return nil, apierr.ExpiredTOTP
	}
	return nil, apierr.TOTPNotFound
}

// Authenticate checks a code against the user's registration, verifying it
// on first success, and starts or extends a session when asked.
func (s *Service) Authenticate(ctx context.Context, p tenant.Project, in AuthenticateInput) (*Authenticated, error) {
	if !codePattern.MatchString(in.Code) {
		return nil, apierr.InvalidTOTPCode
	}
	if err := sessions.Prepare(&in.Session); err != nil {
		return nil, err
	}
	if sandbox.IsUser(p, in.UserID) {
		if in.Code != sandbox.TOTPCode {
			return nil, apierr.UnableToAuthTOTP
		}
		return s.sandboxAuthenticated(ctx, p, in.Session)
	}
	user, err := users.Lookup(ctx, s.Store, p, in.UserID)
	if err != nil {
		return nil, err
	}
	list, err := s.Store.ListTOTPs(ctx, p.ID, user.ID)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	candidates, err := usable(list, now)
	if err != nil {
		return nil, err
	}
	var match *store.TOTP
	var matchStep int64
	replayed := false
	for i := range candidates {
		t := &candidates[i]
		raw, err := s.Sealer.Open(t.SecretSealed, []byte(t.ID))
		if err != nil {
			return nil, err
		}
		secret := b32.EncodeToString(raw)
		cur := step(now)
		for st := cur - Skew; st <= cur+Skew; st++ {
			c, err := hotp.GenerateCodeCustom(secret, uint64(st), hotpOpts)
			if err != nil {
				return nil, err
			}
			if !secrets.Equal(c, in.Code) {
				continue
			}
			if st <= t.LastStep {
				replayed = true
				continue
			}
			if match == nil {
				match, matchStep = t, st
			}
		}
	}
	switch {
	case match == nil && replayed:
		return nil, apierr.TOTPCodeAlreadyAuthenticated
	case match == nil:
		return nil, apierr.UnableToAuthTOTP
	}
	existing, err := s.Sessions.Existing(ctx, s.Store, p, in.Session)
	if err != nil {
		return nil, err
	}
	out := &Authenticated{UserID: user.ID, TOTPID: match.ID}
	err = s.Store.Tx(ctx, func(tx store.Store) error {
		if err := tx.AcceptTOTPStep(ctx, p.ID, match.ID, matchStep); errors.Is(err, store.ErrConsumed) {
			return apierr.TOTPCodeAlreadyAuthenticated // raced with another use of this code
		} else if err != nil {
			return err
		}
		u, err := tx.GetUser(ctx, p.ID, user.ID)
		if errors.Is(err, store.ErrNotFound) {
			return apierr.UserNotFound
		}
		if err != nil {
			return err
		}
		factor := wire.Factor{Type: "totp", DeliveryMethod: "authenticator_app",
			AuthenticatorApp: &wire.AuthenticatorAppFactor{TOTPID: match.ID}}
		if !match.Verified { // the first code verifies the registration
			if err := users.Event(ctx, tx, p, u, now, events.UserUpdate); err != nil {
				return err
			}
		}
		return s.finish(ctx, tx, p, u, factor, existing, in.Session, now, out)
	})
	if err != nil {
		return nil, err
	}
	return out, s.after(ctx, p, out)
}

// finish starts the session and renders the user inside the transaction.
func (s *Service) finish(ctx context.Context, tx store.Store, p tenant.Project, u *store.User, f wire.Factor,
	existing *store.Session, o sessions.Options, now time.Time, out *Authenticated) error {
	res, err := s.Sessions.Start(ctx, tx, p, u, f, existing, o)
	if err != nil {
		return err
	}
	list, err := tx.ListTOTPs(ctx, p.ID, u.ID)
	if err != nil {
		return err
	}
	out.Session = res
	out.User = View(u, list, now)
	return nil
}

// after runs once the transaction has committed.
func (s *Service) after(ctx context.Context, p tenant.Project, out *Authenticated) error {
	s.Sessions.UserChanged(p.ID, out.UserID)
	return s.Sessions.Sign(ctx, p, out.Session)
}

// RecoverInput is totps.recover.
type RecoverInput struct {
	UserID       string
	RecoveryCode string
	Session      sessions.Options
}

// Recover redeems one recovery code of the user's verified registration,
// once, and starts or extends a session when asked.
func (s *Service) Recover(ctx context.Context, p tenant.Project, in RecoverInput) (*Authenticated, error) {
	code := strings.ToLower(strings.TrimSpace(in.RecoveryCode))
	if !recoveryCodePattern.MatchString(code) {
		return nil, apierr.InvalidRecoveryCode
	}
	if err := sessions.Prepare(&in.Session); err != nil {
		return nil, err
	}
	if sandbox.IsUser(p, in.UserID) {
		if code != sandbox.TOTPRecoveryCode {
			return nil, apierr.UnableToAuthRecoveryCode
		}
		return s.sandboxAuthenticated(ctx, p, in.Session)
	}
	user, err := users.Lookup(ctx, s.Store, p, in.UserID)
	if err != nil {
		return nil, err
	}
	list, err := s.Store.ListTOTPs(ctx, p.ID, user.ID)
	if err != nil {
		return nil, err
	}
	hasVerified := false
	for _, t := range list {
		hasVerified = hasVerified || t.Verified
	}
	if !hasVerified {
		return nil, apierr.TOTPNotFound.With("The user has no verified TOTP registration to recover.")
	}
	existing, err := s.Sessions.Existing(ctx, s.Store, p, in.Session)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	hash := secrets.Hash(code)
	out := &Authenticated{UserID: user.ID}
	err = s.Store.Tx(ctx, func(tx store.Store) error {
		rc, err := tx.UseRecoveryCode(ctx, p.ID, user.ID, hash, now)
		if errors.Is(err, store.ErrConsumed) {
			return apierr.UnableToAuthRecoveryCode
		}
		if err != nil {
			return err
		}
		// Codes of an unverified (or replaced) registration do not count;
		// the error rolls the use back.
		t, err := tx.GetTOTP(ctx, p.ID, rc.TOTPID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !t.Verified) {
			return apierr.UnableToAuthRecoveryCode
		}
		if err != nil {
			return err
		}
		u, err := tx.GetUser(ctx, p.ID, user.ID)
		if errors.Is(err, store.ErrNotFound) {
			return apierr.UserNotFound
		}
		if err != nil {
			return err
		}
		out.TOTPID = t.ID
		// Plural type, singular delivery method: the SDK's unions spell them so.
		factor := wire.Factor{Type: "recovery_codes", DeliveryMethod: "recovery_code",
			RecoveryCode: &wire.RecoveryCodeFactor{TOTPRecoveryCodeID: RecoveryCodeID(p.Environment, t.ID, hash)}}
		return s.finish(ctx, tx, p, u, factor, existing, in.Session, now, out)
	})
	if err != nil {
		return nil, err
	}
	return out, s.after(ctx, p, out)
}

// RecoveryCodeID is the stable id of a recovery code in a session factor:
// a name-based uuid of the registration and the code's hash. It is shown
// only after the code is used, when knowing it no longer helps anyone.
func RecoveryCodeID(env tenant.Environment, totpID, codeHash string) string {
	return RecoveryCodeIDKind + "-" + string(env) + "-" + uuid.NewSHA1(recoveryCodeNS, []byte(totpID+":"+codeHash)).String()
}

// WithRecoveryCodes is one registration in the recovery_codes result.
type WithRecoveryCodes struct {
	TOTPID        string   `json:"totp_id"`
	Verified      bool     `json:"verified"`
	RecoveryCodes []string `json:"recovery_codes"`
}

// RecoveryCodes lists the user's live registrations with their unused
// recovery codes, opened from their sealed copies.
func (s *Service) RecoveryCodes(ctx context.Context, p tenant.Project, userID string) (string, []WithRecoveryCodes, error) {
	if sandbox.IsUser(p, userID) {
		return sandbox.UserID, []WithRecoveryCodes{{TOTPID: sandbox.TOTPID, Verified: true,
			RecoveryCodes: slices.Clone(sandbox.TOTPRecoveryCodes)}}, nil
	}
	user, err := users.Lookup(ctx, s.Store, p, userID)
	if err != nil {
		return "", nil, err
	}
	list, err := s.Store.ListTOTPs(ctx, p.ID, user.ID)
	if err != nil {
		return "", nil, err
	}
	now := s.Clock.Now()
	out := []WithRecoveryCodes{}
	for _, t := range list {
		if !t.Verified && !t.ExpiresAt.After(now) {
			continue
		}
		codes, err := s.Store.ListRecoveryCodes(ctx, p.ID, t.ID)
		if err != nil {
			return "", nil, err
		}
		plain := []string{}
		for _, c := range codes {
			if c.UsedAt != nil {
				continue
			}
			b, err := s.Sealer.Open(c.CodeSealed, []byte(t.ID))
			if err != nil {
				return "", nil, fmt.Errorf("open recovery code of %s: %w", t.ID, err)
			}
			plain = append(plain, string(b))
		}
		sort.Strings(plain)
		out = append(out, WithRecoveryCodes{TOTPID: t.ID, Verified: t.Verified, RecoveryCodes: plain})
	}
	return user.ID, out, nil
}

// sandboxTOTP is the sandbox user's verified registration; never stored.
func sandboxTOTP(p tenant.Project) store.TOTP {
	return store.TOTP{ProjectID: p.ID, ID: sandbox.TOTPID, UserID: sandbox.UserID, Verified: true,
		CreatedAt: sandbox.SessionStartedAt, ExpiresAt: sandbox.SessionStartedAt}
}

// sandboxCreated answers totps.create for the sandbox user with its fixed
// registration, a real scannable QR code included; nothing is stored.
func (s *Service) sandboxCreated(p tenant.Project) (*Created, error) {
	raw, err := b32.DecodeString(sandbox.TOTPSecret)
	if err != nil {
		return nil, err
	}
	qr, err := qrCode(issuer(p), sandbox.Email, raw)
	if err != nil {
		return nil, err
	}
	return &Created{TOTPID: sandbox.TOTPID, Secret: sandbox.TOTPSecret, QRCode: qr,
		RecoveryCodes: slices.Clone(sandbox.TOTPRecoveryCodes),
		User:          View(sandbox.User(p), []store.TOTP{sandboxTOTP(p)}, s.Clock.Now())}, nil
}

// sandboxAuthenticated answers a sandbox totps.authenticate or recover: the
// sandbox session when a duration is given, as the other products do.
func (s *Service) sandboxAuthenticated(ctx context.Context, p tenant.Project, o sessions.Options) (*Authenticated, error) {
	res, err := s.Sessions.Sandbox(ctx, p, o)
	if err != nil {
		return nil, err
	}
	return &Authenticated{UserID: sandbox.UserID, TOTPID: sandbox.TOTPID, Session: res,
		User: View(sandbox.User(p), []store.TOTP{sandboxTOTP(p)}, s.Clock.Now())}, nil
}

// Package otps owns one-time passcodes by SMS, WhatsApp and email: send,
// login_or_create, and authenticate. Codes are 6 digits from a CSPRNG, kept
// only as a keyed hash, live a few minutes, allow a bounded number of wrong
// attempts and are redeemed once, by a conditional write.
package otps

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/delivery"
	"github.com/latchhq/latch/internal/events"
	"github.com/latchhq/latch/internal/ids"
	"github.com/latchhq/latch/internal/sandbox"
	"github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/sessions"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
	"github.com/latchhq/latch/internal/users"
	"github.com/latchhq/latch/internal/wire"
)

// Bounds, from the SDK's doc comments (expiry) and Latch's own choice
// (attempts; Stytch does not document its cap).
const (
	DefaultExpirationMinutes = 2
	minExpiration            = 1
	maxExpiration            = 10
	// MaxAttempts is how many authenticate calls one code survives; after
	// that it is dead even for the right code.
	MaxAttempts = 5
)

// Channels.
const (
	SMS      = "sms"
	WhatsApp = "whatsapp"
	Email    = "email"
)

// Service implements one-time passcodes.
type Service struct {
	Store    store.Store
	Clock    clock.Clock
	Outbox   *delivery.Outbox
	Sessions *sessions.Service
	// CodeKey keys the HMAC that stores codes; a database dump alone
	// cannot brute-force a 6-digit code.
	CodeKey []byte
}

// SendInput is the union of the send and login_or_create fields.
type SendInput struct {
	Channel             string
	PhoneNumber         string
	Email               string
	ExpirationMinutes   *int
	Attributes          wire.Attributes
	Locale              string
	CreateUserAsPending bool
	UserID              string
	SessionToken        string
	SessionJWT          string
	LoginTemplateID     string
	SignupTemplateID    string
}

// Sent is the send result: method_id is the phone_id or email_id.
type Sent struct {
	UserID      string
	MethodID    string
	UserCreated bool
}

func (s *Service) hash(projectID, methodID, code string) string {
	m := hmac.New(sha256.New, s.CodeKey)
	fmt.Fprintf(m, "%s\x00%s\x00%s", projectID, methodID, code)
	return hex.EncodeToString(m.Sum(nil))
}

func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// LoginOrCreate sends a code, creating the user for a new phone or email.
func (s *Service) LoginOrCreate(ctx context.Context, p tenant.Project, in SendInput) (*Sent, error) {
	in.UserID, in.SessionToken, in.SessionJWT = "", "", ""
	return s.send(ctx, p, in, true)
}

// Send sends a code to a known phone or email, or attaches a new one to the
// user named by user_id or a session.
func (s *Service) Send(ctx context.Context, p tenant.Project, in SendInput) (*Sent, error) {
	return s.send(ctx, p, in, false)
}

func (s *Service) send(ctx context.Context, p tenant.Project, in SendInput, create bool) (*Sent, error) {
	if sandbox.Active(p) {
		// Recognised before validation: +10000000000 is not a real number.
		if in.Channel == Email && sandbox.IsEmail(in.Email) {
			return &Sent{UserID: sandbox.UserID, MethodID: sandbox.EmailID}, nil
		}
		if in.Channel != Email && sandbox.IsPhone(in.PhoneNumber) {
			return &Sent{UserID: sandbox.UserID, MethodID: sandbox.PhoneID}, nil
		}
	}
	exp := DefaultExpirationMinutes
	if in.ExpirationMinutes != nil {
		exp = *in.ExpirationMinutes
	}
	if exp < minExpiration || exp > maxExpiration {
		return nil, apierr.InvalidExpirationOTP
	}
	if err := checkLocale(in.Channel, in.Locale); err != nil {
		return nil, err
	}
	if !delivery.HasTemplate(delivery.KindLogin, in.LoginTemplateID) || !delivery.HasTemplate(delivery.KindSignup, in.SignupTemplateID) {
		return nil, apierr.InvalidTemplateID
	}
	var address string
	var err error
	if in.Channel == Email {
		address, err = users.NormalizeEmail(in.Email)
	} else {
		address, err = users.NormalizePhone(in.PhoneNumber)
	}
	if err != nil {
		return nil, err
	}
	var owner *store.User
	if in.UserID != "" || in.SessionToken != "" || in.SessionJWT != "" {
		if owner, err = s.Sessions.Owner(ctx, s.Store, p, in.UserID, in.SessionToken, in.SessionJWT, users.Lookup); err != nil {
			return nil, err
		}
	}
	now := s.Clock.Now()
	expires := time.Duration(exp) * time.Minute
	code := newCode()
	out := &Sent{}
	err = s.Store.Tx(ctx, func(tx store.Store) error {
		methodID, userID, created, err := s.method(ctx, tx, p, in.Channel, address, owner, create, in.CreateUserAsPending, now)
		if err != nil {
			return err
		}
		if err := events.Append(ctx, tx, p, now, events.OTPSend, methodID,
			map[string]any{"user_id": userID, "method_id": methodID, "channel": in.Channel}); err != nil {
			return err
		}
		if err := tx.PutOTP(ctx, &store.OTP{
			ProjectID: p.ID, MethodID: methodID, UserID: userID, Channel: in.Channel,
			CodeHash: s.hash(p.ID, methodID, code), CreatedAt: now, ExpiresAt: now.Add(expires),
			IPAddress: in.Attributes.IPAddress, UserAgent: in.Attributes.UserAgent,
		}); err != nil {
			return err
		}
		if in.Channel == Email {
			r := delivery.RenderOTPEmail(in.Locale, p.Name, code, expires)
			_, err = s.Outbox.EnqueueEmail(ctx, tx, p, delivery.Email{To: address, Rendered: r, Code: code})
		} else {
			_, err = s.Outbox.EnqueueText(ctx, tx, p, delivery.Text{Channel: in.Channel, To: address, Body: delivery.TextOTP(in.Locale, p.Name, code, expires), Code: code})
		}
		if err != nil {
			return err
		}
		out.UserID, out.MethodID, out.UserCreated = userID, methodID, created
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !out.UserCreated {
		s.Sessions.UserChanged(p.ID, out.UserID)
	}
	s.Outbox.Wake()
	return out, nil
}

// checkLocale accepts the locales the SDK's types list for the channel:
// four for email, sixteen for SMS and WhatsApp.
func checkLocale(channel, locale string) error {
	if channel == Email {
		return delivery.CheckEmailLocale(locale)
	}
	return delivery.CheckTextLocale(locale)
}

// method finds (or, as allowed, creates) the phone or email a code goes to.
func (s *Service) method(ctx context.Context, tx store.Store, p tenant.Project, channel, address string, owner *store.User, create, pending bool, now time.Time) (methodID, userID string, created bool, err error) {
	var existingID, existingUser string
	if channel == Email {
		e, err := tx.GetEmailByAddress(ctx, p.ID, address)
		if err == nil {
			existingID, existingUser = e.ID, e.UserID
		} else if !errors.Is(err, store.ErrNotFound) {
			return "", "", false, err
		}
	} else {
		ph, err := tx.GetPhoneByNumber(ctx, p.ID, address)
		if err == nil {
			existingID, existingUser = ph.ID, ph.UserID
		} else if !errors.Is(err, store.ErrNotFound) {
			return "", "", false, err
		}
	}
	switch {
	case existingID != "":
		if owner != nil && existingUser != owner.ID {
			if channel == Email {
				return "", "", false, apierr.DuplicateEmail
			}
			return "", "", false, apierr.DuplicatePhoneNumber
		}
		return existingID, existingUser, false, nil
	case owner != nil:
		id, err := addFactor(ctx, tx, p, channel, owner.ID, address, now)
		if err != nil {
			return "", "", false, err
		}
		u, err := tx.GetUser(ctx, p.ID, owner.ID)
		if err != nil {
			return "", "", false, err
		}
		return id, owner.ID, false, users.Event(ctx, tx, p, u, now, events.UserUpdate)
	case !create:
		if channel == Email {
			return "", "", false, apierr.EmailNotFound
		}
		return "", "", false, apierr.PhoneNumberNotFound
	}
	u := &store.User{ProjectID: p.ID, ID: ids.New(ids.User, p.Environment), Status: "active", Roles: []string{}, CreatedAt: now, UpdatedAt: now}
	if pending {
		u.Status = "pending"
	}
	if channel == Email {
		e := store.Email{ID: ids.New(ids.Email, p.Environment), UserID: u.ID, Address: address, CreatedAt: now}
		u.Emails, methodID = []store.Email{e}, e.ID
	} else {
		ph := store.Phone{ID: ids.New(ids.PhoneNumber, p.Environment), UserID: u.ID, Number: address, CreatedAt: now}
		u.Phones, methodID = []store.Phone{ph}, ph.ID
	}
	if err := tx.CreateUser(ctx, u); err != nil {
		return "", "", false, conflict(channel, err)
	}
	return methodID, u.ID, true, users.Event(ctx, tx, p, u, now, events.UserCreate)
}

func addFactor(ctx context.Context, tx store.Store, p tenant.Project, channel, userID, address string, now time.Time) (string, error) {
	if channel == Email {
		e := &store.Email{ID: ids.New(ids.Email, p.Environment), UserID: userID, Address: address, CreatedAt: now}
		return e.ID, conflict(channel, tx.AddEmail(ctx, p.ID, e))
	}
	ph := &store.Phone{ID: ids.New(ids.PhoneNumber, p.Environment), UserID: userID, Number: address, CreatedAt: now}
	return ph.ID, conflict(channel, tx.AddPhone(ctx, p.ID, ph))
}

func conflict(channel string, err error) error {
	if errors.Is(err, store.ErrConflict) {
		if channel == Email {
			return apierr.DuplicateEmail
		}
		return apierr.DuplicatePhoneNumber
	}
	return err
}

// AuthenticateInput is otps.authenticate.
type AuthenticateInput struct {
	MethodID   string
	Code       string
	Attributes wire.Attributes
	Options    wire.MatchOptions
	Session    sessions.Options
}

// Authenticated is the authenticate result.
type Authenticated struct {
	UserID   string
	MethodID string
	User     wire.User
	Session  *sessions.Result
}

func validCode(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Authenticate checks a code for a method. Every call counts against the
// code's attempts before the comparison, so guessing is bounded even when
// calls race.
func (s *Service) Authenticate(ctx context.Context, p tenant.Project, in AuthenticateInput) (*Authenticated, error) {
	if !ids.Valid(ids.PhoneNumber, in.MethodID) && !ids.Valid(ids.Email, in.MethodID) {
		return nil, apierr.InvalidMethodID
	}
	if !validCode(in.Code) {
		return nil, apierr.InvalidCode
	}
	if err := sessions.Prepare(&in.Session); err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	if sandbox.Active(p) && (in.MethodID == sandbox.PhoneID || in.MethodID == sandbox.EmailID) {
		if in.Code != sandbox.OTPCode {
			return nil, apierr.OTPCodeNotFound
		}
		res, err := s.Sessions.Sandbox(ctx, p, in.Session)
		if err != nil {
			return nil, err
		}
		return &Authenticated{UserID: sandbox.UserID, MethodID: in.MethodID, User: wire.UserFrom(sandbox.User(p), now), Session: res}, nil
	}
	o, err := s.Store.AttemptOTP(ctx, p.ID, in.MethodID, MaxAttempts, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, apierr.OTPCodeNotFound
	case errors.Is(err, store.ErrConsumed):
		return nil, apierr.UnableToAuthOTPCode
	case err != nil:
		return nil, err
	}
	if !secrets.Equal(o.CodeHash, s.hash(p.ID, in.MethodID, in.Code)) {
		return nil, apierr.OTPCodeNotFound
	}
	if !in.Options.Matches(in.Attributes, o.IPAddress, o.UserAgent) {
		return nil, apierr.AttributeMismatch
	}
	existing, err := s.Sessions.Existing(ctx, s.Store, p, in.Session)
	if err != nil {
		return nil, err
	}
	out := &Authenticated{UserID: o.UserID, MethodID: o.MethodID}
	err = s.Store.Tx(ctx, func(tx store.Store) error {
		if err := tx.ConsumeOTP(ctx, p.ID, in.MethodID, now); errors.Is(err, store.ErrConsumed) {
			return apierr.UnableToAuthOTPCode
		} else if err != nil {
			return err
		}
		user, err := tx.GetUser(ctx, p.ID, o.UserID)
		if errors.Is(err, store.ErrNotFound) {
			return apierr.OTPCodeNotFound
		}
		if err != nil {
			return err
		}
		factor := wire.Factor{Type: "otp", DeliveryMethod: o.Channel}
		found, changed := false, false
		for i := range user.Emails {
			if e := &user.Emails[i]; e.ID == in.MethodID {
				if !e.Verified {
					if err := tx.VerifyEmail(ctx, p.ID, e.ID); err != nil {
						return err
					}
					e.Verified, changed = true, true
				}
				factor.EmailFactor, found = &wire.EmailFactor{EmailID: e.ID, EmailAddress: e.Address}, true
			}
		}
		for i := range user.Phones {
			if ph := &user.Phones[i]; ph.ID == in.MethodID {
				if !ph.Verified {
					if err := tx.VerifyPhone(ctx, p.ID, ph.ID); err != nil {
						return err
					}
					ph.Verified, changed = true, true
				}
				factor.PhoneNumberFactor, found = &wire.PhoneFactor{PhoneID: ph.ID, PhoneNumber: ph.Number}, true
			}
		}
		if !found {
			return apierr.UnableToAuthOTPCode.With("The phone number or email this code was sent to has been removed from the user.")
		}
		if err := users.Authenticated(ctx, tx, p, user, now, changed); err != nil {
			return err
		}
		in.Session.Attributes = in.Attributes
		res, err := s.Sessions.Start(ctx, tx, p, user, factor, existing, in.Session)
		if err != nil {
			return err
		}
		out.Session, out.User = res, wire.UserFrom(user, now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.Sessions.UserChanged(p.ID, out.UserID)
	if err := s.Sessions.Sign(ctx, p, out.Session); err != nil {
		return nil, err
	}
	return out, nil
}

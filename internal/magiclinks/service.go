// Package magiclinks owns email magic links: login_or_create, send, invite,
// revoke_invite, embeddable links, the redirect the emailed link passes
// through, and authenticate. Tokens are stored only as SHA-256 hashes and
// redeemed by one conditional write, so each works exactly once.
package magiclinks

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/delivery"
	"github.com/latchhq/latch/internal/events"
	"github.com/latchhq/latch/internal/ids"
	"github.com/latchhq/latch/internal/pkce"
	"github.com/latchhq/latch/internal/sandbox"
	"github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/sessions"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
	"github.com/latchhq/latch/internal/users"
	"github.com/latchhq/latch/internal/wire"
)

// Expiry defaults and bounds in minutes, from the SDK's doc comments.
const (
	defaultLoginMinutes  = 60
	defaultSignupMinutes = 10080
	defaultInviteMinutes = 60
	defaultEmbedMinutes  = 60
	minMinutes           = 5
	maxMinutes           = 10080
)

// RedirectResolver picks a registered redirect URL (projects implements it).
type RedirectResolver interface {
	RedirectURL(ctx context.Context, projectID, typ, given string, noDefault *apierr.Error) (string, error)
}

// Service implements magic links.
type Service struct {
	Store     store.Store
	Clock     clock.Clock
	Outbox    *delivery.Outbox
	Sessions  *sessions.Service
	Redirects RedirectResolver
	// PublicURL is where the emailed links point: Latch's own origin.
	PublicURL string
}

func expiry(v *int, def int) (time.Duration, error) {
	m := def
	if v != nil {
		m = *v
	}
	if m < minMinutes || m > maxMinutes {
		return 0, apierr.InvalidExpiration
	}
	return time.Duration(m) * time.Minute, nil
}

// SendInput is the union of send, login_or_create and invite fields.
type SendInput struct {
	Email               string
	LoginURL            string
	SignupURL           string
	InviteURL           string
	LoginExpiration     *int
	SignupExpiration    *int
	InviteExpiration    *int
	LoginTemplateID     string
	SignupTemplateID    string
	InviteTemplateID    string
	Locale              string
	CodeChallenge       string
	Attributes          wire.Attributes
	CreateUserAsPending bool
	// send only: attach the email to this user (or the session's user).
	UserID       string
	SessionToken string
	SessionJWT   string
	// invite only.
	Name              *users.NameInput
	TrustedMetadata   []byte
	UntrustedMetadata []byte
}

// Sent is what the send calls return.
type Sent struct {
	UserID      string
	EmailID     string
	UserCreated bool
}

type plan struct {
	kind      delivery.EmailKind
	urlType   string
	given     string
	noDefault *apierr.Error
	expires   time.Duration
}

func (s *Service) validate(in *SendInput) error {
	if err := delivery.CheckEmailLocale(in.Locale); err != nil {
		return err
	}
	if in.CodeChallenge != "" {
		if b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(in.CodeChallenge, "=")); err != nil || len(b) != sha256.Size {
			return apierr.InvalidArgument.With("code_challenge must be a base64url SHA-256 hash.")
		}
	}
	for _, t := range []struct {
		kind delivery.EmailKind
		id   string
	}{{delivery.KindLogin, in.LoginTemplateID}, {delivery.KindSignup, in.SignupTemplateID}, {delivery.KindInvite, in.InviteTemplateID}} {
		if !delivery.HasTemplate(t.kind, t.id) {
			return apierr.InvalidTemplateID.Withf("No email template %q exists for this project.", t.id)
		}
	}
	return nil
}

// LoginOrCreate sends a login link to an active user's email, or creates the
// user (active unless asked to stay pending) and sends a signup link.
func (s *Service) LoginOrCreate(ctx context.Context, p tenant.Project, in SendInput) (*Sent, error) {
	return s.send(ctx, p, in, true, false)
}

// Send sends a link to an existing email, or attaches a new email to the
// user named by user_id or a session and sends it a link.
func (s *Service) Send(ctx context.Context, p tenant.Project, in SendInput) (*Sent, error) {
	return s.send(ctx, p, in, false, false)
}

// Invite creates a pending user and sends an invite link.
func (s *Service) Invite(ctx context.Context, p tenant.Project, in SendInput) (*Sent, error) {
	return s.send(ctx, p, in, true, true)
}

func (s *Service) send(ctx context.Context, p tenant.Project, in SendInput, create, invite bool) (*Sent, error) {
	if sandbox.Active(p) && sandbox.IsEmail(in.Email) {
		return &Sent{UserID: sandbox.UserID, EmailID: sandbox.EmailID}, nil // sandbox: nothing is sent
	}
	addr, err := users.NormalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	if err := s.validate(&in); err != nil {
		return nil, err
	}
	loginExp, err := expiry(in.LoginExpiration, defaultLoginMinutes)
	if err != nil {
		return nil, err
	}
	signupExp, err := expiry(in.SignupExpiration, defaultSignupMinutes)
	if err != nil {
		return nil, err
	}
	inviteExp, err := expiry(in.InviteExpiration, defaultInviteMinutes)
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
	out := &Sent{}
	err = s.Store.Tx(ctx, func(tx store.Store) error {
		var user *store.User
		email, err := tx.GetEmailByAddress(ctx, p.ID, addr)
		switch {
		case err == nil:
			if owner != nil && email.UserID != owner.ID {
				return apierr.DuplicateEmail
			}
			if user, err = tx.GetUser(ctx, p.ID, email.UserID); err != nil {
				return err
			}
			if invite && user.Status == "active" {
				return apierr.UserAlreadyActive
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		case owner != nil:
			email = &store.Email{ID: ids.New(ids.Email, p.Environment), UserID: owner.ID, Address: addr, CreatedAt: now}
			if err := tx.AddEmail(ctx, p.ID, email); err != nil {
				return conflict(err)
			}
			user = owner
			user.Emails = append(user.Emails, *email)
			if err := users.Event(ctx, tx, p, user, now, events.UserUpdate); err != nil {
				return err
			}
		case !create:
			return apierr.EmailNotFound
		default:
			user = &store.User{ProjectID: p.ID, ID: ids.New(ids.User, p.Environment), Status: "active", Roles: []string{}, CreatedAt: now, UpdatedAt: now}
			if in.CreateUserAsPending || invite {
				user.Status = "pending"
			}
			if invite {
				if err := in.Name.Apply(user); err != nil {
					return err
				}
				if user.TrustedMetadata, err = users.CheckMetadata("trusted_metadata", in.TrustedMetadata); err != nil {
					return err
				}
				if user.UntrustedMetadata, err = users.CheckMetadata("untrusted_metadata", in.UntrustedMetadata); err != nil {
					return err
				}
			}
			email = &store.Email{ID: ids.New(ids.Email, p.Environment), UserID: user.ID, Address: addr, CreatedAt: now}
			user.Emails = []store.Email{*email}
			if err := tx.CreateUser(ctx, user); err != nil {
				return conflict(err)
			}
			if err := users.Event(ctx, tx, p, user, now, events.UserCreate); err != nil {
				return err
			}
			out.UserCreated = true
		}
		pl := plan{kind: delivery.KindLogin, urlType: "login", given: in.LoginURL, noDefault: apierr.NoLoginRedirectURLSet, expires: loginExp}
		switch {
		case invite:
			pl = plan{kind: delivery.KindInvite, urlType: "invite", given: in.InviteURL, noDefault: apierr.NoInviteRedirectURLSet, expires: inviteExp}
		case out.UserCreated || user.Status == "pending":
			pl = plan{kind: delivery.KindSignup, urlType: "signup", given: in.SignupURL, noDefault: apierr.NoSignupRedirectURLSet, expires: signupExp}
		}
		target, err := s.Redirects.RedirectURL(ctx, p.ID, pl.urlType, pl.given, pl.noDefault)
		if err != nil {
			return err
		}
		token := secrets.PaddedToken()
		if err := tx.CreateMagicLink(ctx, &store.MagicLink{
			ProjectID: p.ID, TokenHash: secrets.Hash(token), UserID: user.ID, EmailID: email.ID, Kind: pl.urlType,
			RedirectURL: target, CodeChallenge: strings.TrimRight(in.CodeChallenge, "="),
			IPAddress: in.Attributes.IPAddress, UserAgent: in.Attributes.UserAgent, CreatedAt: now, ExpiresAt: now.Add(pl.expires),
		}); err != nil {
			return err
		}
		link := s.PublicURL + "/v1/magic_links/redirect?" + url.Values{"project_id": {p.ID}, "token": {token}}.Encode()
		r, err := delivery.RenderEmail(pl.kind, delivery.EmailData{ProjectName: p.Name, Link: link, Expires: pl.expires, Locale: in.Locale})
		if err != nil {
			return err
		}
		if _, err := s.Outbox.EnqueueEmail(ctx, tx, p, delivery.Email{To: addr, Rendered: r, Link: link, Token: token}); err != nil {
			return err
		}
		out.UserID, out.EmailID = user.ID, email.ID
		return events.Append(ctx, tx, p, now, events.MagicLinkSend, email.ID,
			map[string]any{"user_id": user.ID, "email_id": email.ID, "email": addr, "kind": pl.urlType})
	})
	if err != nil {
		return nil, err
	}
	if !out.UserCreated {
		s.Sessions.UserChanged(p.ID, out.UserID) // a send may attach a new email
	}
	s.Outbox.Wake()
	return out, nil
}

func conflict(err error) error {
	if errors.Is(err, store.ErrConflict) {
		return apierr.DuplicateEmail
	}
	return err
}

// RevokeInvite deletes the pending invites sent to an email.
func (s *Service) RevokeInvite(ctx context.Context, p tenant.Project, email string) error {
	if sandbox.Active(p) && sandbox.IsEmail(email) {
		return nil
	}
	addr, err := users.NormalizeEmail(email)
	if err != nil {
		return err
	}
	return s.Store.Tx(ctx, func(tx store.Store) error {
		e, err := tx.GetEmailByAddress(ctx, p.ID, addr)
		if errors.Is(err, store.ErrNotFound) {
			return apierr.InviteNotFound
		}
		if err != nil {
			return err
		}
		n, err := tx.RevokeInvites(ctx, p.ID, e.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			return apierr.InviteNotFound
		}
		return events.Append(ctx, tx, p, s.Clock.Now(), events.MagicLinkRevokeInvite, e.ID,
			map[string]any{"user_id": e.UserID, "email_id": e.ID, "email": e.Address, "revoked": n})
	})
}

// Create makes an embeddable magic link for a user; nothing is sent.
func (s *Service) Create(ctx context.Context, p tenant.Project, userID string, expiration *int, attrs wire.Attributes) (string, string, error) {
	exp, err := expiry(expiration, defaultEmbedMinutes)
	if err != nil {
		return "", "", err
	}
	u, err := users.Lookup(ctx, s.Store, p, userID)
	if err != nil {
		return "", "", err
	}
	now := s.Clock.Now()
	token := secrets.PaddedToken()
	err = s.Store.CreateMagicLink(ctx, &store.MagicLink{
		ProjectID: p.ID, TokenHash: secrets.Hash(token), UserID: u.ID, Kind: "embedded",
		IPAddress: attrs.IPAddress, UserAgent: attrs.UserAgent, CreatedAt: now, ExpiresAt: now.Add(exp),
	})
	if err != nil {
		return "", "", err
	}
	return u.ID, token, nil
}

// RedirectTarget returns where an emailed link sends the browser, with the
// token appended as Stytch does. It does not consume the token.
func (s *Service) RedirectTarget(ctx context.Context, projectID, token string) (string, error) {
	m, err := s.Store.GetMagicLink(ctx, projectID, secrets.Hash(token))
	if errors.Is(err, store.ErrNotFound) || (err == nil && m.RedirectURL == "") {
		return "", apierr.MagicLinkNotFound
	}
	if err != nil {
		return "", err
	}
	u, err := url.Parse(m.RedirectURL)
	if err != nil {
		return "", apierr.MagicLinkNotFound.Wrap(err)
	}
	q := u.Query()
	typ := "magic_links"
	if m.Kind == "reset_password" {
		typ = "reset_password"
	}
	q.Set("stytch_token_type", typ)
	q.Set("token", token)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// AuthenticateInput is magic_links.authenticate.
type AuthenticateInput struct {
	Token        string
	CodeVerifier string
	Attributes   wire.Attributes
	Options      wire.MatchOptions
	Session      sessions.Options
}

// Authenticated is the authenticate result.
type Authenticated struct {
	UserID   string
	MethodID string
	User     wire.User
	Session  *sessions.Result
}

// Authenticate redeems a token once, verifies the email, activates the user
// and starts or extends a session when asked.
func (s *Service) Authenticate(ctx context.Context, p tenant.Project, in AuthenticateInput) (*Authenticated, error) {
	if in.Token == "" {
		return nil, apierr.MissingArgument.With("token is required.")
	}
	if err := sessions.Prepare(&in.Session); err != nil {
		return nil, err
	}
	if sandbox.Active(p) {
		switch in.Token {
		case sandbox.MagicLinkToken:
			res, err := s.Sessions.Sandbox(ctx, p, in.Session)
			if err != nil {
				return nil, err
			}
			return &Authenticated{UserID: sandbox.UserID, MethodID: sandbox.EmailID, User: wire.UserFrom(sandbox.User(p), s.Clock.Now()), Session: res}, nil
		case sandbox.MagicLinkTokenUsed:
			return nil, apierr.UnableToAuthMagicLink
		case sandbox.MagicLinkTokenNotFound:
			return nil, apierr.MagicLinkNotFound
		}
	}
	hash := secrets.Hash(in.Token)
	m, err := s.Store.GetMagicLink(ctx, p.ID, hash)
	if errors.Is(err, store.ErrNotFound) || (err == nil && m.Kind == "reset_password") {
		return nil, apierr.MagicLinkNotFound
	}
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	if m.UsedAt != nil || !m.ExpiresAt.After(now) {
		return nil, apierr.UnableToAuthMagicLink
	}
	if err := pkce.Check(m.CodeChallenge, in.CodeVerifier); err != nil {
		return nil, err
	}
	if !in.Options.Matches(in.Attributes, m.IPAddress, m.UserAgent) {
		return nil, apierr.AttributeMismatch
	}
	existing, err := s.Sessions.Existing(ctx, s.Store, p, in.Session)
	if err != nil {
		return nil, err
	}
	out := &Authenticated{UserID: m.UserID, MethodID: m.EmailID}
	err = s.Store.Tx(ctx, func(tx store.Store) error {
		if err := tx.ConsumeMagicLink(ctx, p.ID, hash, now); errors.Is(err, store.ErrConsumed) {
			return apierr.UnableToAuthMagicLink
		} else if err != nil {
			return err
		}
		user, err := tx.GetUser(ctx, p.ID, m.UserID)
		if errors.Is(err, store.ErrNotFound) {
			return apierr.MagicLinkNotFound
		}
		if err != nil {
			return err
		}
		factor := wire.Factor{Type: "magic_link", DeliveryMethod: "email"}
		changed := false
		if m.Kind == "embedded" {
			factor.DeliveryMethod = "embedded"
			factor.EmbeddedFactor = &wire.EmbeddedFactor{EmbeddedID: m.UserID}
		} else {
			for i := range user.Emails {
				e := &user.Emails[i]
				if e.ID != m.EmailID {
					continue
				}
				if !e.Verified {
					if err := tx.VerifyEmail(ctx, p.ID, e.ID); err != nil {
						return err
					}
					e.Verified, changed = true, true
				}
				factor.EmailFactor = &wire.EmailFactor{EmailID: e.ID, EmailAddress: e.Address}
			}
			if factor.EmailFactor == nil {
				return apierr.UnableToAuthMagicLink.With("The email this link was sent to has been removed from the user.")
			}
		}
		if err := users.Authenticated(ctx, tx, p, user, now, changed); err != nil {
			return err
		}
		in.Session.Attributes = in.Attributes
		res, err := s.Sessions.Start(ctx, tx, p, user, factor, existing, in.Session)
		if err != nil {
			return err
		}
		out.Session = res
		out.User = wire.UserFrom(user, now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The user's emails, status and sessions may have changed.
	s.Sessions.UserChanged(p.ID, out.UserID)
	if err := s.Sessions.Sign(ctx, p, out.Session); err != nil {
		return nil, err
	}
	return out, nil
}

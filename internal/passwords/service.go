// Package passwords owns consumer passwords: create, authenticate, strength
// checks (zxcvbn as Stytch, or the LUDS policy a project chooses), migration
// of hashes from other systems, and the three resets (by email, by existing
// password, by session). Hashes are argon2id, computed a bounded number at a
// time; a hash with outdated parameters, or a migrated one, is upgraded on
// the next good login. Failed logins lock the user after a bounded count.
package passwords

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/delivery"
	"github.com/latchhq/latch/internal/events"
	"github.com/latchhq/latch/internal/hashes"
	"github.com/latchhq/latch/internal/ids"
	"github.com/latchhq/latch/internal/pkce"
	"github.com/latchhq/latch/internal/sandbox"
	"github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/sessions"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/strength"
	"github.com/latchhq/latch/internal/tenant"
	"github.com/latchhq/latch/internal/users"
	"github.com/latchhq/latch/internal/wire"
)

// Lock policy, Stytch's documented defaults.
const (
	LockThreshold = 10
	LockDuration  = time.Hour
	// resetWindow is how recent a session's password, magic-link or email
	// OTP factor must be for passwords.sessions.reset.
	resetWindow          = 5 * time.Minute
	defaultResetMinutes  = 30
	minScore             = 3
	maxPasswordBytes     = 1024
	passwordIDKind       = ids.Password
	resetKind            = "reset_password"
	passwordFactorType   = "password"
	passwordFactorMethod = "knowledge"
)

// RedirectResolver picks a registered redirect URL (projects implements it).
type RedirectResolver interface {
	RedirectURL(ctx context.Context, projectID, typ, given string, noDefault *apierr.Error) (string, error)
}

// Policy is a project's password strength policy.
type Policy struct {
	// LUDS selects the LUDS policy instead of zxcvbn.
	LUDS bool
	// MinLength and MinComplexity are the LUDS minimums.
	MinLength, MinComplexity int
	// BreachDetection refuses passwords on the breach list when they are
	// set, and asks for a reset when one is used to log in.
	BreachDetection bool
}

// DefaultPolicy is Stytch's: zxcvbn with breach detection.
var DefaultPolicy = Policy{MinLength: 8, MinComplexity: 3, BreachDetection: true}

// Service implements passwords.
type Service struct {
	Store     store.Store
	Clock     clock.Clock
	Hasher    *hashes.Hasher
	Strength  *strength.Checker
	Sessions  *sessions.Service
	Outbox    *delivery.Outbox
	Redirects RedirectResolver
	PublicURL string
	// Policies returns a project's policy, read on every call so an
	// operator's change applies at once; nil is DefaultPolicy for all.
	Policies func(ctx context.Context, projectID string) (Policy, error)
}

// Result is what every authenticating call returns.
type Result struct {
	UserID      string
	EmailID     string
	UserCreated bool
	User        wire.User
	Session     *sessions.Result
}

// Strength is the strength-check verdict.
type Strength struct {
	Valid    bool
	Score    int // zxcvbn's; 0 under LUDS, which does not run zxcvbn
	Breached bool
	Feedback strength.Feedback
	Policy   Policy
	// LUDS is the LUDS verdict, under that policy only.
	LUDS *strength.LUDS
}

func (s *Service) policy(ctx context.Context, p tenant.Project) (Policy, error) {
	if s.Policies == nil {
		return DefaultPolicy, nil
	}
	return s.Policies(ctx, p.ID)
}

// Check judges a password by the project's policy; breach detection, when
// the policy has it, runs only when an email is given, as on Stytch.
func (s *Service) Check(ctx context.Context, p tenant.Project, password, email string) (*Strength, error) {
	pol, err := s.policy(ctx, p)
	if err != nil {
		return nil, err
	}
	return s.judge(ctx, pol, password, email, email != "" && pol.BreachDetection)
}

// judge applies pol to password, and the breach list when breach is set.
func (s *Service) judge(ctx context.Context, pol Policy, password, email string, breach bool) (*Strength, error) {
	if password == "" {
		return nil, apierr.MissingArgument.With("password is required.")
	}
	if len(password) > maxPasswordBytes {
		return nil, apierr.InvalidArgument.With("password may be at most 1024 bytes.")
	}
	out := &Strength{Policy: pol}
	if pol.LUDS {
		l, ok := strength.CheckLUDS(password, pol.MinLength, pol.MinComplexity)
		out.LUDS, out.Valid = &l, ok
	} else {
		var inputs []string
		if email != "" {
			inputs = append(inputs, email)
			if local, _, ok := strings.Cut(email, "@"); ok {
				inputs = append(inputs, local)
			}
		}
		r, err := s.Strength.Check(ctx, password, inputs)
		if err != nil {
			return nil, err
		}
		out.Score, out.Feedback, out.Valid = r.Score, r.Feedback, r.Score >= minScore
	}
	if breach && strength.Breached(password) {
		out.Breached, out.Valid = true, false
	}
	return out, nil
}

// StrengthCheck is passwords.strengthCheck: Check, recording a
// strength_check_fail event when the password would be refused.
func (s *Service) StrengthCheck(ctx context.Context, p tenant.Project, password, email string) (*Strength, error) {
	st, err := s.Check(ctx, p, password, email)
	if err != nil || st.Valid {
		return st, err
	}
	userID := ""
	if email != "" {
		if e, err := s.Store.GetEmailByAddress(ctx, p.ID, email); err == nil {
			userID = e.UserID
		}
	}
	if err := s.failEvent(ctx, p, st, userID); err != nil {
		return nil, err
	}
	return st, nil
}

// failEvent records a refused password: the verdict and the feedback,
// never the password. It is its own write, outside any transaction,
// because the request it belongs to fails.
func (s *Service) failEvent(ctx context.Context, p tenant.Project, st *Strength, userID string) error {
	sugg := st.Feedback.Suggestions
	if sugg == nil {
		sugg = []string{}
	}
	ev := map[string]any{"score": st.Score, "breached_password": st.Breached, "warning": st.Feedback.Warning,
		"suggestions": sugg, "strength_policy": policyName(st.Policy)}
	if st.LUDS != nil {
		ev["luds_requirements"] = ludsJSON(*st.LUDS)
	}
	if userID != "" {
		ev["user_id"] = userID
	}
	return events.Append(ctx, s.Store, p, s.Clock.Now(), events.PasswordStrengthCheckFail, "", ev)
}

func policyName(pol Policy) string {
	if pol.LUDS {
		return "luds"
	}
	return "zxcvbn"
}

// ludsJSON is Stytch's luds_requirements object.
func ludsJSON(l strength.LUDS) map[string]any {
	return map[string]any{"has_lower_case": l.HasLowerCase, "has_upper_case": l.HasUpperCase, "has_digit": l.HasDigit,
		"has_symbol": l.HasSymbol, "missing_complexity": l.MissingComplexity, "missing_characters": l.MissingCharacters}
}

// requireStrong refuses a weak or (with breach detection) breached
// password on every write, recording the refusal. userID is "" on create.
func (s *Service) requireStrong(ctx context.Context, p tenant.Project, password, email, userID string) error {
	pol, err := s.policy(ctx, p)
	if err != nil {
		return err
	}
	st, err := s.judge(ctx, pol, password, email, pol.BreachDetection)
	if err != nil || st.Valid {
		return err
	}
	if err := s.failEvent(ctx, p, st, userID); err != nil {
		return err
	}
	switch {
	case st.Breached:
		return apierr.BreachedPassword
	case st.LUDS != nil:
		l := st.LUDS
		e := apierr.WeakPassword.Withf("The password does not meet the LUDS policy: it needs at least %d characters (%d more) and %d of lower case, upper case, digits and symbols (%d more).",
			pol.MinLength, l.MissingCharacters, pol.MinComplexity, l.MissingComplexity)
		e.Details = map[string]any{"luds_requirements": ludsJSON(*l)}
		return e
	}
	e := apierr.WeakPassword.With("The password is too weak: " + strings.TrimSpace(st.Feedback.Warning+" "+strings.Join(st.Feedback.Suggestions, " ")))
	e.Details = map[string]any{"score": st.Score, "warning": st.Feedback.Warning, "suggestions": st.Feedback.Suggestions}
	return e
}

// newHash checks a new password against the policy and hashes it, before
// any transaction: argon2id is slow and must not hold SQLite's writer.
func (s *Service) newHash(ctx context.Context, p tenant.Project, u *store.User, emailID, password string) (string, error) {
	email := ""
	for _, e := range u.Emails {
		if email == "" || e.ID == emailID {
			email = e.Address
		}
	}
	if err := s.requireStrong(ctx, p, password, email, u.ID); err != nil {
		return "", err
	}
	return s.Hasher.Hash(ctx, password)
}

func passwordFactor() wire.Factor {
	return wire.Factor{Type: passwordFactorType, DeliveryMethod: passwordFactorMethod}
}

// CreateInput is passwords.create.
type CreateInput struct {
	Email             string
	Password          string
	Name              *users.NameInput
	TrustedMetadata   json.RawMessage
	UntrustedMetadata json.RawMessage
	Session           sessions.Options
}

// Create makes a user with an email and a password.
func (s *Service) Create(ctx context.Context, p tenant.Project, in CreateInput) (*Result, error) {
	if err := sessions.Prepare(&in.Session); err != nil {
		return nil, err
	}
	if sandbox.Active(p) && sandbox.IsEmail(in.Email) {
		return s.sandboxResult(ctx, p, in.Session) // any password, nothing stored
	}
	addr, err := users.NormalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	if _, err := s.Store.GetEmailByAddress(ctx, p.ID, addr); err == nil {
		return nil, apierr.DuplicateEmail
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err := s.requireStrong(ctx, p, in.Password, addr, ""); err != nil {
		return nil, err
	}
	hash, err := s.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	u := &store.User{ProjectID: p.ID, ID: ids.New(ids.User, p.Environment), Status: "active", Roles: []string{}, CreatedAt: now, UpdatedAt: now}
	if err := in.Name.Apply(u); err != nil {
		return nil, err
	}
	if u.TrustedMetadata, err = users.CheckMetadata("trusted_metadata", in.TrustedMetadata); err != nil {
		return nil, err
	}
	if u.UntrustedMetadata, err = users.CheckMetadata("untrusted_metadata", in.UntrustedMetadata); err != nil {
		return nil, err
	}
	e := store.Email{ID: ids.New(ids.Email, p.Environment), UserID: u.ID, Address: addr, CreatedAt: now}
	u.Emails = []store.Email{e}
	out := &Result{UserID: u.ID, EmailID: e.ID, UserCreated: true}
	err = s.Store.Tx(ctx, func(tx store.Store) error {
		if err := tx.CreateUser(ctx, u); errors.Is(err, store.ErrConflict) {
			return apierr.DuplicateEmail
		} else if err != nil {
			return err
		}
		pw := &store.Password{ProjectID: p.ID, ID: ids.New(passwordIDKind, p.Environment), UserID: u.ID, Hash: hash, CreatedAt: now, UpdatedAt: now}
		if err := tx.PutPassword(ctx, pw); err != nil {
			return err
		}
		u.Password = &store.UserPassword{ID: pw.ID}
		if err := users.Event(ctx, tx, p, u, now, events.UserCreate); err != nil {
			return err
		}
		if err := passwordEvent(ctx, tx, p, pw, now); err != nil {
			return err
		}
		res, err := s.Sessions.Start(ctx, tx, p, u, passwordFactor(), nil, in.Session)
		out.Session = res
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.finish(ctx, p, out)
}

// finish renders the user as stored now and signs the session after commit.
func (s *Service) finish(ctx context.Context, p tenant.Project, out *Result) (*Result, error) {
	s.Sessions.UserChanged(p.ID, out.UserID)
	u, err := s.Store.GetUser(ctx, p.ID, out.UserID)
	if err != nil {
		return nil, err
	}
	out.User = wire.UserFrom(u, s.Clock.Now())
	if out.Session != nil {
		if err := s.Sessions.Sign(ctx, p, out.Session); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// userByEmail finds the user of an email.
func (s *Service) userByEmail(ctx context.Context, p tenant.Project, email string) (*store.User, string, error) {
	addr, err := users.NormalizeEmail(email)
	if err != nil {
		return nil, "", err
	}
	e, err := s.Store.GetEmailByAddress(ctx, p.ID, addr)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", apierr.EmailNotFound
	}
	if err != nil {
		return nil, "", err
	}
	u, err := s.Store.GetUser(ctx, p.ID, e.UserID)
	return u, e.ID, err
}

// verify checks a user's password, counting failures toward the lock and
// upgrading an outdated or migrated hash after a success.
func (s *Service) verify(ctx context.Context, p tenant.Project, u *store.User, password string) (*store.Password, error) {
	now := s.Clock.Now()
	if u.LockExpiresAt != nil && u.LockExpiresAt.After(now) {
		return nil, apierr.UserLockLimitReached.Withf("The user is locked after too many failed attempts until %s.", wire.Time(*u.LockExpiresAt))
	}
	pw, err := s.Store.GetPassword(ctx, p.ID, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.NoUserPassword
	}
	if err != nil {
		return nil, err
	}
	ok, rehash, err := s.Hasher.Verify(ctx, pw.Hash, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		lock, err := s.Store.RecordAuthFailure(ctx, p.ID, u.ID, LockThreshold, LockDuration, now)
		if err != nil {
			return nil, err
		}
		s.Sessions.UserChanged(p.ID, u.ID)
		if lock != nil {
			return nil, apierr.UserLockLimitReached.Withf("The user is locked after too many failed attempts until %s.", wire.Time(*lock))
		}
		return nil, apierr.UnauthorizedCredentials.With("The email or password is incorrect.")
	}
	if err := s.Store.ResetAuthFailures(ctx, p.ID, u.ID); err != nil {
		return nil, err
	}
	if rehash {
		if h, err := s.Hasher.Hash(ctx, password); err == nil {
			pw.Hash, pw.UpdatedAt = h, now
			if err := s.Store.PutPassword(ctx, pw); err != nil {
				return nil, err
			}
		}
	}
	return pw, nil
}

// AuthenticateInput is passwords.authenticate.
type AuthenticateInput struct {
	Email    string
	Password string
	Session  sessions.Options
}

// Authenticate logs a user in by email and password.
func (s *Service) Authenticate(ctx context.Context, p tenant.Project, in AuthenticateInput) (*Result, error) {
	if err := sessions.Prepare(&in.Session); err != nil {
		return nil, err
	}
	if in.Password == "" {
		return nil, apierr.MissingArgument.With("password is required.")
	}
	if sandbox.Active(p) && sandbox.IsEmail(in.Email) {
		return s.sandboxResult(ctx, p, in.Session)
	}
	u, _, err := s.userByEmail(ctx, p, in.Email)
	if err != nil {
		return nil, err
	}
	pw, err := s.verify(ctx, p, u, in.Password)
	if err != nil {
		return nil, err
	}
	pol, err := s.policy(ctx, p)
	if err != nil {
		return nil, err
	}
	// Without breach detection a breached password was accepted when set,
	// so it cannot be refused at login either.
	if pw.RequiresReset || (pol.BreachDetection && strength.Breached(in.Password)) {
		return nil, apierr.ResetPassword
	}
	return s.commit(ctx, p, u.ID, in.Session, nil)
}

// commit starts or extends the caller's session with a password factor in
// one transaction with the call's own writes (write, which may be nil:
// a new hash, a consumed reset token, a verified email, revoked sessions),
// so a crash keeps all of them or none. write reports whether it changed
// the user object; moving a pending user to active also does, and both
// record direct.user.update.
func (s *Service) commit(ctx context.Context, p tenant.Project, userID string, o sessions.Options,
	write func(tx store.Store, u *store.User, now time.Time) (bool, error)) (*Result, error) {
	existing, err := s.Sessions.Existing(ctx, s.Store, p, o)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	out := &Result{UserID: userID}
	err = s.Store.Tx(ctx, func(tx store.Store) error {
		u, err := tx.GetUser(ctx, p.ID, userID)
		if errors.Is(err, store.ErrNotFound) {
			return apierr.UserNotFound // deleted since the request began
		}
		if err != nil {
			return err
		}
		changed := false
		if write != nil {
			if changed, err = write(tx, u, now); err != nil {
				return err
			}
		}
		if err := users.Authenticated(ctx, tx, p, u, now, changed); err != nil {
			return err
		}
		res, err := s.Sessions.Start(ctx, tx, p, u, passwordFactor(), existing, o)
		out.Session = res
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.finish(ctx, p, out)
}

// storeHash sets a user's password hash inside tx, clears a required reset
// and the failure count, and records the change.
func storeHash(ctx context.Context, tx store.Store, p tenant.Project, userID, hash string, now time.Time) error {
	pw, err := tx.GetPassword(ctx, p.ID, userID)
	if errors.Is(err, store.ErrNotFound) {
		pw = &store.Password{ProjectID: p.ID, ID: ids.New(passwordIDKind, p.Environment), UserID: userID, CreatedAt: now}
	} else if err != nil {
		return err
	}
	pw.Hash, pw.RequiresReset, pw.UpdatedAt = hash, false, now
	if err := tx.PutPassword(ctx, pw); err != nil {
		return err
	}
	if err := passwordEvent(ctx, tx, p, pw, now); err != nil {
		return err
	}
	return tx.ResetAuthFailures(ctx, p.ID, userID)
}

// passwordEvent records that a user's password was set, reset or migrated;
// the body names the password, never its hash.
func passwordEvent(ctx context.Context, tx store.Store, p tenant.Project, pw *store.Password, now time.Time) error {
	return events.Append(ctx, tx, p, now, events.PasswordUpdate, pw.ID,
		map[string]any{"password_id": pw.ID, "user_id": pw.UserID, "requires_reset": pw.RequiresReset})
}

// ExistingReset is passwords.existingPassword.reset.
func (s *Service) ExistingReset(ctx context.Context, p tenant.Project, email, existing, newPassword string, o sessions.Options) (*Result, error) {
	if err := sessions.Prepare(&o); err != nil {
		return nil, err
	}
	u, emailID, err := s.userByEmail(ctx, p, email)
	if err != nil {
		return nil, err
	}
	if _, err := s.verify(ctx, p, u, existing); err != nil {
		return nil, err
	}
	hash, err := s.newHash(ctx, p, u, emailID, newPassword)
	if err != nil {
		return nil, err
	}
	// Any reset revokes the user's sessions.
	o.SessionToken, o.SessionJWT = "", ""
	return s.commit(ctx, p, u.ID, o, func(tx store.Store, u *store.User, now time.Time) (bool, error) {
		if err := storeHash(ctx, tx, p, u.ID, hash, now); err != nil {
			return false, err
		}
		return false, s.Sessions.RevokeUserSessions(ctx, tx, p, u.ID, "")
	})
}

// SessionReset is passwords.sessions.reset: the session must hold a
// password, magic-link or email OTP factor from the last five minutes.
func (s *Service) SessionReset(ctx context.Context, p tenant.Project, password string, o sessions.Options) (*Result, error) {
	if o.SessionToken == "" && o.SessionJWT == "" {
		return nil, apierr.NoSessionArguments
	}
	if err := sessions.Prepare(&o); err != nil {
		return nil, err
	}
	ss, err := s.Sessions.Existing(ctx, s.Store, p, o)
	if err != nil {
		return nil, err
	}
	var factors []wire.Factor
	_ = json.Unmarshal(ss.Factors, &factors)
	now := s.Clock.Now()
	recent := false
	for _, f := range factors {
		at, err := time.Parse(time.RFC3339, f.LastAuthenticatedAt)
		if err != nil || now.Sub(at) > resetWindow {
			continue
		}
		if f.Type == passwordFactorType || f.Type == "magic_link" || (f.Type == "otp" && f.DeliveryMethod == "email") {
			recent = true
		}
	}
	if !recent {
		return nil, apierr.SessionTooOldToResetPassword
	}
	u, err := s.Store.GetUser(ctx, p.ID, ss.UserID)
	if err != nil {
		return nil, err
	}
	hash, err := s.newHash(ctx, p, u, "", password)
	if err != nil {
		return nil, err
	}
	// Other sessions end; this one is kept.
	return s.commit(ctx, p, u.ID, o, func(tx store.Store, u *store.User, now time.Time) (bool, error) {
		if err := storeHash(ctx, tx, p, u.ID, hash, now); err != nil {
			return false, err
		}
		return false, s.Sessions.RevokeUserSessions(ctx, tx, p, u.ID, ss.ID)
	})
}

// ResetStartInput is passwords.email.resetStart.
type ResetStartInput struct {
	Email             string
	RedirectURL       string
	LoginRedirectURL  string
	ExpirationMinutes *int
	CodeChallenge     string
	Attributes        wire.Attributes
	TemplateID        string
	Locale            string
}

// ResetStart emails a single-use reset link. The request's attributes are
// kept with the token for the reset's ip and user-agent match options.
func (s *Service) ResetStart(ctx context.Context, p tenant.Project, in ResetStartInput) (string, string, error) {
	m := defaultResetMinutes
	if in.ExpirationMinutes != nil {
		m = *in.ExpirationMinutes
	}
	if m < 5 || m > 10080 {
		return "", "", apierr.InvalidExpiration
	}
	if in.TemplateID != "" && in.TemplateID != resetKind {
		return "", "", apierr.InvalidTemplateID
	}
	if err := delivery.CheckEmailLocale(in.Locale); err != nil {
		return "", "", err
	}
	u, emailID, err := s.userByEmail(ctx, p, in.Email)
	if err != nil {
		return "", "", err
	}
	target, err := s.Redirects.RedirectURL(ctx, p.ID, resetKind, in.RedirectURL, apierr.NoResetPasswordRedirectURLSet)
	if err != nil {
		return "", "", err
	}
	// The email also offers "log in without a password": a login magic link
	// to this URL (or the default login URL), as Stytch's does.
	loginTarget, err := s.Redirects.RedirectURL(ctx, p.ID, "login", in.LoginRedirectURL, apierr.NoLoginRedirectURLSet)
	if err != nil {
		return "", "", err
	}
	now := s.Clock.Now()
	token, loginToken := secrets.PaddedToken(), secrets.PaddedToken()
	expires := time.Duration(m) * time.Minute
	addr := ""
	for _, e := range u.Emails {
		if e.ID == emailID {
			addr = e.Address
		}
	}
	err = s.Store.Tx(ctx, func(tx store.Store) error {
		if err := tx.CreateMagicLink(ctx, &store.MagicLink{ProjectID: p.ID, TokenHash: secrets.Hash(token), UserID: u.ID, EmailID: emailID,
			Kind: resetKind, RedirectURL: target, CodeChallenge: strings.TrimRight(in.CodeChallenge, "="),
			IPAddress: in.Attributes.IPAddress, UserAgent: in.Attributes.UserAgent, CreatedAt: now, ExpiresAt: now.Add(expires)}); err != nil {
			return err
		}
		if err := tx.CreateMagicLink(ctx, &store.MagicLink{ProjectID: p.ID, TokenHash: secrets.Hash(loginToken), UserID: u.ID, EmailID: emailID,
			Kind: "login", RedirectURL: loginTarget, IPAddress: in.Attributes.IPAddress, UserAgent: in.Attributes.UserAgent,
			CreatedAt: now, ExpiresAt: now.Add(expires)}); err != nil {
			return err
		}
		link := s.PublicURL + "/v1/magic_links/redirect?" + url.Values{"project_id": {p.ID}, "token": {token}}.Encode()
		loginLink := s.PublicURL + "/v1/magic_links/redirect?" + url.Values{"project_id": {p.ID}, "token": {loginToken}}.Encode()
		r, err := delivery.RenderEmail(delivery.KindResetPassword, delivery.EmailData{ProjectName: p.Name, Link: link, Expires: expires,
			Locale: in.Locale, LoginLink: loginLink})
		if err != nil {
			return err
		}
		_, err = s.Outbox.EnqueueEmail(ctx, tx, p, delivery.Email{To: addr, Rendered: r, Link: link, Token: token})
		return err
	})
	if err != nil {
		return "", "", err
	}
	s.Outbox.Wake()
	return u.ID, emailID, nil
}

// EmailResetInput is passwords.email.reset.
type EmailResetInput struct {
	Token        string
	Password     string
	CodeVerifier string
	Attributes   wire.Attributes
	Options      wire.MatchOptions
	Session      sessions.Options
}

// EmailReset redeems a reset token once and sets the new password; every
// session of the user ends. Consuming the token, verifying the email,
// storing the hash, revoking the sessions and starting the new one are one
// transaction, so a crash cannot burn the token without the reset.
func (s *Service) EmailReset(ctx context.Context, p tenant.Project, in EmailResetInput) (*Result, error) {
	if in.Token == "" {
		return nil, apierr.MissingArgument.With("token is required.")
	}
	if err := sessions.Prepare(&in.Session); err != nil {
		return nil, err
	}
	hash := secrets.Hash(in.Token)
	m, err := s.Store.GetMagicLink(ctx, p.ID, hash)
	if errors.Is(err, store.ErrNotFound) || (err == nil && m.Kind != resetKind) {
		return nil, apierr.UnableToAuthPasswordResetToken
	}
	if err != nil {
		return nil, err
	}
	// A dead token is reported as such before the new password is judged.
	if m.UsedAt != nil || !m.ExpiresAt.After(s.Clock.Now()) {
		return nil, apierr.UnableToAuthPasswordResetToken
	}
	if err := pkce.Check(m.CodeChallenge, in.CodeVerifier); err != nil {
		return nil, err
	}
	if !in.Options.Matches(in.Attributes, m.IPAddress, m.UserAgent) {
		return nil, apierr.AttributeMismatch
	}
	u, err := s.Store.GetUser(ctx, p.ID, m.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.UnableToAuthPasswordResetToken
	}
	if err != nil {
		return nil, err
	}
	// Judge the new password before burning the token.
	pwHash, err := s.newHash(ctx, p, u, m.EmailID, in.Password)
	if err != nil {
		return nil, err
	}
	o := in.Session
	o.SessionToken, o.SessionJWT, o.Attributes = "", "", in.Attributes
	return s.commit(ctx, p, u.ID, o, func(tx store.Store, u *store.User, now time.Time) (bool, error) {
		if err := tx.ConsumeMagicLink(ctx, p.ID, hash, now); errors.Is(err, store.ErrConsumed) {
			return false, apierr.UnableToAuthPasswordResetToken
		} else if err != nil {
			return false, err
		}
		// The link proved the address, as a magic link does.
		changed := false
		for i := range u.Emails {
			if e := &u.Emails[i]; e.ID == m.EmailID && !e.Verified {
				if err := tx.VerifyEmail(ctx, p.ID, e.ID); err != nil {
					return false, err
				}
				e.Verified, changed = true, true
			}
		}
		if err := storeHash(ctx, tx, p, u.ID, pwHash, now); err != nil {
			return false, err
		}
		return changed, s.Sessions.RevokeUserSessions(ctx, tx, p, u.ID, "")
	})
}

// sandboxResult answers passwords.create and authenticate for the sandbox
// email, whatever the password, as Stytch's test environments do.
func (s *Service) sandboxResult(ctx context.Context, p tenant.Project, o sessions.Options) (*Result, error) {
	res, err := s.Sessions.Sandbox(ctx, p, o)
	if err != nil {
		return nil, err
	}
	return &Result{UserID: sandbox.UserID, EmailID: sandbox.EmailID, User: wire.UserFrom(sandbox.User(p), s.Clock.Now()), Session: res}, nil
}

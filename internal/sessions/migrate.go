package sessions

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/contact"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
	"github.com/latchhq/latch/internal/wire"
)

// Migrator starts Latch sessions from an external identity provider's
// session: it calls the project's OIDC UserInfo endpoint with the token
// and matches the email it returns to an existing user, as Stytch's
// sessions.migrate does.
type Migrator struct {
	Sessions *Service
	Store    store.Store
	// UserInfoURL returns the project's configured endpoint, "" for none.
	UserInfoURL func(ctx context.Context, projectID string) (string, error)
	// Authenticated records the user's authentication (users.Authenticated;
	// sessions cannot import users).
	Authenticated func(ctx context.Context, tx store.Store, p tenant.Project, u *store.User, now time.Time, changed bool) error
	Client        *http.Client
}

// maxUserInfoBytes bounds what a remote endpoint can make Latch read.
const maxUserInfoBytes = 1 << 20

// MigrateInput is sessions.migrate.
type MigrateInput struct {
	Token   string
	Session Options
}

// Migrated is the result: the user and, when a duration was given, a session.
type Migrated struct {
	UserID  string
	User    wire.User
	Session *Result
}

// Migrate validates, asks the UserInfo endpoint who the token belongs to,
// and starts a session for that user with an "imported" factor.
func (m *Migrator) Migrate(ctx context.Context, p tenant.Project, in MigrateInput) (*Migrated, error) {
	if strings.TrimSpace(in.Token) == "" {
		return nil, apierr.MissingArgument.With("session_token is required.")
	}
	in.Session.SessionToken, in.Session.SessionJWT = "", "" // the body has no Latch session to extend
	if err := Prepare(&in.Session); err != nil {
		return nil, err
	}
	endpoint, err := m.UserInfoURL(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	if endpoint == "" {
		return nil, apierr.SessionMigrationNotConfigured
	}
	email, err := m.userInfoEmail(ctx, endpoint, in.Token)
	if err != nil {
		return nil, err
	}
	now := m.Sessions.clock.Now()
	out := &Migrated{}
	err = m.Store.Tx(ctx, func(tx store.Store) error {
		e, err := tx.GetEmailByAddress(ctx, p.ID, email)
		if errors.Is(err, store.ErrNotFound) {
			return apierr.UserNotFound.With("No user has the email the UserInfo endpoint returned; create the user before migrating the session.")
		}
		if err != nil {
			return err
		}
		user, err := tx.GetUser(ctx, p.ID, e.UserID)
		if err != nil {
			return err
		}
		factor := wire.Factor{Type: "imported", DeliveryMethod: "imported_auth0",
			EmailFactor: &wire.EmailFactor{EmailID: e.ID, EmailAddress: e.Address}}
		if err := m.Authenticated(ctx, tx, p, user, now, false); err != nil {
			return err
		}
		res, err := m.Sessions.Start(ctx, tx, p, user, factor, nil, in.Session)
		if err != nil {
			return err
		}
		out.UserID, out.User, out.Session = user.ID, wire.UserFrom(user, now), res
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.Sessions.UserChanged(p.ID, out.UserID)
	if err := m.Sessions.Sign(ctx, p, out.Session); err != nil {
		return nil, err
	}
	return out, nil
}

// userInfoEmail calls the UserInfo endpoint (OIDC Core 5.3: GET with the
// token as a Bearer credential) and returns the normalised email.
func (m *Migrator) userInfoEmail(ctx context.Context, endpoint, token string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return "", apierr.ExternalUserInfoUnavailable.Wrap(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	client := m.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", apierr.ExternalUserInfoUnavailable.Wrap(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxUserInfoBytes+1))
	if err != nil {
		return "", apierr.ExternalUserInfoUnavailable.Wrap(err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return "", apierr.ExternalSessionRejected
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return "", apierr.ExternalUserInfoUnavailable.Withf("The UserInfo endpoint answered %d.", resp.StatusCode)
	case len(body) > maxUserInfoBytes:
		return "", apierr.InvalidUserInfo.With("The UserInfo response is larger than 1 MiB.")
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified *bool  `json:"email_verified"`
	}
	if err := json.Unmarshal(body, &claims); err != nil {
		return "", apierr.InvalidUserInfo.With("The UserInfo response is not a JSON object.")
	}
	if claims.EmailVerified != nil && !*claims.EmailVerified {
		return "", apierr.InvalidUserInfo.With("The UserInfo response says the email is not verified.")
	}
	email, err := contact.NormalizeEmail(claims.Email)
	if err != nil {
		return "", apierr.InvalidUserInfo
	}
	return email, nil
}

package connectedapps

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/events"
	"github.com/latchhq/latch/internal/ids"
	"github.com/latchhq/latch/internal/sessions"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
	"github.com/latchhq/latch/internal/users"
	"github.com/latchhq/latch/internal/wire"
)

// ExchangeMaxAge is how old an access token may be when it is exchanged
// for a session ("must not be more than 5 minutes old").
const ExchangeMaxAge = 5 * time.Minute

// clockSkew is the leeway given to a token's iat and nbf.
const clockSkew = 30 * time.Second

// Exchanged is sessions.exchangeAccessToken's answer.
type Exchanged struct {
	Session *sessions.Result
	User    wire.User
	UserID  string
}

// ExchangeAccessToken turns a full_access Connected Apps access token back
// into a session of its user. The token must verify, be at most 5 minutes
// old, come from an authorization made with a session, and it is
// exchanged once: the first caller's conditional UPDATE of its record wins.
func (s *Service) ExchangeAccessToken(ctx context.Context, p tenant.Project, token string, o sessions.Options) (*Exchanged, error) {
	if token == "" {
		return nil, apierr.MissingArgument.With("access_token is required.")
	}
	o.SessionToken, o.SessionJWT = "", ""
	if err := sessions.Prepare(&o); err != nil {
		return nil, err
	}
	a, err := s.verifyAccessToken(ctx, p, token)
	if errors.Is(err, errNotAccessToken) {
		return nil, apierr.AccessTokenExchangeInvalidGrant
	}
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	switch {
	case now.Unix() >= a.Exp:
		return nil, apierr.IDPAccessTokenExpired
	case time.Unix(a.Nbf, 0).After(now.Add(clockSkew)), time.Unix(a.Iat, 0).After(now.Add(clockSkew)):
		return nil, apierr.AccessTokenExchangeInvalidGrant.With("The access token is not valid yet.")
	case now.Sub(time.Unix(a.Iat, 0)) > ExchangeMaxAge:
		return nil, apierr.AccessTokenExchangeTokenTooOld
	case !slices.Contains(a.scopes(), ScopeFullAccess):
		return nil, apierr.AccessTokenExchangeMissingFullAccess
	}
	c, err := s.Store.GetConnectedApp(ctx, p.ID, a.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.ConnectedAppNotFound.With("The client that the access token was issued to no longer exists.")
	}
	if err != nil {
		return nil, err
	}
	if !isFirstParty(c.ClientType) || !c.FullAccessAllowed {
		return nil, apierr.AccessTokenExchangeMissingFullAccess.With("The client no longer allows full access.")
	}
	rec, err := s.Store.GetAccessTokenRecord(ctx, p.ID, a.JTI)
	if errors.Is(err, store.ErrNotFound) {
		return nil, s.goneReason(ctx, p, a.Sub, a.ClientID)
	}
	if err != nil {
		return nil, err
	}
	if rec.UserID != a.Sub || rec.ClientID != a.ClientID || !ids.Valid(ids.User, a.Sub) {
		return nil, apierr.AccessTokenExchangeInvalidGrant
	}
	if rec.ExchangedAt != nil {
		return nil, apierr.IDPAccessTokenCouldNotBeExchanged
	}
	if rec.SessionID == "" {
		return nil, apierr.NoAssociatedSessionPassedIn
	}
	factor := wire.Factor{Type: "oauth", DeliveryMethod: "oauth_access_token_exchange",
		AccessTokenExchange: &wire.OAuthAccessTokenExchangeFactor{ClientID: c.ID}}
	var res *sessions.Result
	var user *store.User
	err = s.Store.Tx(ctx, func(tx store.Store) error {
		switch err := tx.MarkAccessTokenExchanged(ctx, p.ID, a.JTI, now); {
		case errors.Is(err, store.ErrConsumed):
			return apierr.IDPAccessTokenCouldNotBeExchanged
		case errors.Is(err, store.ErrNotFound):
			return apierr.ConnectedAppConsentRevoked
		case err != nil:
			return err
		}
		u, err := tx.GetUser(ctx, p.ID, a.Sub)
		if errors.Is(err, store.ErrNotFound) {
			return apierr.UserNotFound
		}
		if err != nil {
			return err
		}
		user = u
		if res, err = s.Sessions.Start(ctx, tx, p, u, factor, nil, o); err != nil {
			return err
		}
		return users.Authenticated(ctx, tx, p, u, now, false)
	})
	if err != nil {
		return nil, err
	}
	s.Sessions.UserChanged(p.ID, user.ID)
	if err := s.Sessions.Sign(ctx, p, res); err != nil {
		return nil, err
	}
	return &Exchanged{Session: res, User: wire.UserFrom(user, now), UserID: user.ID}, nil
}

// goneReason explains a verified token with no record: the user was
// deleted, the user revoked the client, or the token's grant was revoked.
func (s *Service) goneReason(ctx context.Context, p tenant.Project, userID, clientID string) error {
	if _, err := s.Store.GetUser(ctx, p.ID, userID); errors.Is(err, store.ErrNotFound) {
		return apierr.UserNotFound
	} else if err != nil {
		return err
	}
	_, err := s.Store.GetAuthorization(ctx, p.ID, userID, clientID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return apierr.ConnectedAppConsentRevoked
	case err != nil:
		return err
	}
	return apierr.IDPAccessTokenNotFound
}

// UserApp is the SDK's UserConnectedApp.
type UserApp struct {
	ConnectedAppID string `json:"connected_app_id"`
	Name           string `json:"name"`
	Description    string `json:"description"`
	ClientType     string `json:"client_type"`
	ScopesGranted  string `json:"scopes_granted"`
	LogoURL        string `json:"logo_url,omitempty"`
}

// UserApps lists the clients a user has authorized, with the scopes granted.
func (s *Service) UserApps(ctx context.Context, p tenant.Project, userID string) ([]UserApp, error) {
	u, err := users.Lookup(ctx, s.Store, p, userID)
	if err != nil {
		return nil, err
	}
	grants, err := s.Store.ListAuthorizations(ctx, p.ID, u.ID)
	if err != nil {
		return nil, err
	}
	out := []UserApp{}
	for _, g := range grants {
		c, err := s.Store.GetConnectedApp(ctx, p.ID, g.ClientID)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, UserApp{ConnectedAppID: c.ID, Name: c.Name, Description: c.Description, ClientType: c.ClientType,
			ScopesGranted: strings.Join(g.Scopes, " "), LogoURL: c.LogoURL})
	}
	return out, nil
}

// RevokeUserApp ends a user's grant to a client: the grant, its unused
// codes, refresh tokens and access-token records go, so introspection
// answers inactive and exchange refuses with connected_app_consent_revoked.
// Access tokens already issued stay valid for local (JWKS) verification
// until they expire, as with any JWT.
func (s *Service) RevokeUserApp(ctx context.Context, p tenant.Project, userID, clientID string) error {
	u, err := users.Lookup(ctx, s.Store, p, userID)
	if err != nil {
		return err
	}
	c, err := s.load(ctx, s.Store, p, clientID)
	if err != nil {
		return err
	}
	return s.Store.Tx(ctx, func(tx store.Store) error {
		existed, err := tx.RevokeAuthorization(ctx, p.ID, u.ID, c.ID)
		if err != nil || !existed {
			return err // no grant, nothing changed: no event
		}
		return events.Append(ctx, tx, p, s.Clock.Now(), events.ConnectedAppConsentRevoke, c.ID, consentEvent(u.ID, c.ID, nil))
	})
}

// consentEvent is the object of the connected_app_consent events; scopes
// only on a grant, in users.connectedApps' space-separated form.
func consentEvent(userID, clientID string, scopes []string) map[string]any {
	m := map[string]any{"user_id": userID, "connected_app_id": clientID}
	if scopes != nil {
		m["scopes_granted"] = strings.Join(scopes, " ")
	}
	return m
}

package connectedapps

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/events"
	"github.com/latchhq/latch/internal/ids"
	"github.com/latchhq/latch/internal/keys"
	"github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/sessions"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
	"github.com/latchhq/latch/internal/wire"
)

// Token lifetimes Stytch documents.
const (
	// IDTokenLifetime: "ID Tokens are valid for one hour after issuance".
	IDTokenLifetime = time.Hour
	// RefreshTokenLifetime: "an expiry of 3 months", read as 90 days;
	// confidential clients' tokens are extended by as much on each use.
	RefreshTokenLifetime = 90 * 24 * time.Hour
)

// Grant types of the token endpoint.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
)

// reservedAccessClaims are set by Latch; a template cannot override them.
var reservedAccessClaims = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scope", "client_id"}

// authenticateClient checks a client's credentials for the OAuth
// endpoints: confidential clients need their secret (or the next one
// during a rotation); public clients must send none.
func (s *Service) authenticateClient(ctx context.Context, p tenant.Project, clientID, secret string) (*store.ConnectedApp, error) {
	if clientID == "" {
		return nil, apierr.OAuthInvalidClient.With("client_id is required.")
	}
	if !ids.Valid(ids.ConnectedApp, clientID) {
		return nil, apierr.OAuthInvalidClient.With("client_id is not a Connected App client id.")
	}
	c, err := s.Store.GetConnectedApp(ctx, p.ID, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.OAuthInvalidClient.With("No such client in this project.")
	}
	if err != nil {
		return nil, err
	}
	if isPublic(c.ClientType) {
		if secret != "" {
			return nil, apierr.OAuthInvalidClient.With("Public clients have no client secret; send none.")
		}
		return c, nil
	}
	if secret == "" {
		return nil, apierr.OAuthInvalidClient.With("client_secret is required for confidential clients.")
	}
	h := secrets.Hash(secret)
	current := secrets.Equal(h, c.SecretHash)
	next := c.NextSecretHash != "" && secrets.Equal(h, c.NextSecretHash)
	if !current && !next {
		return nil, apierr.OAuthInvalidClient.With("client_secret is wrong.")
	}
	return c, nil
}

// TokenRequest is a token endpoint call, from a form or JSON body (and
// HTTP Basic for the client credentials).
type TokenRequest struct {
	GrantType    string
	ClientID     string
	ClientSecret string
	Code         string
	RedirectURI  string
	CodeVerifier string
	RefreshToken string
	Scope        string
}

// Tokens is the token endpoint's answer.
type Tokens struct {
	AccessToken  string
	ExpiresIn    int
	Scope        string
	RefreshToken string // only when one was issued
	IDToken      string // only with openid
}

// Token runs the authorization_code or refresh_token grant.
func (s *Service) Token(ctx context.Context, p tenant.Project, r TokenRequest) (*Tokens, error) {
	switch r.GrantType {
	case GrantAuthorizationCode, GrantRefreshToken:
	case "":
		return nil, apierr.OAuthInvalidRequest.With("grant_type is required.")
	default:
		return nil, apierr.OAuthUnsupportedGrantType.Withf("grant_type %.40q is not supported; Connected Apps clients use authorization_code or refresh_token.", r.GrantType)
	}
	c, err := s.authenticateClient(ctx, p, r.ClientID, r.ClientSecret)
	if err != nil {
		return nil, err
	}
	if r.GrantType == GrantAuthorizationCode {
		return s.redeemCode(ctx, p, c, r)
	}
	return s.refresh(ctx, p, c, r)
}

// plausibleToken rejects strings that cannot be one of Latch's tokens
// before a lookup.
func plausibleToken(t string) bool { return len(t) >= 16 && len(t) <= 512 }

func (s *Service) redeemCode(ctx context.Context, p tenant.Project, c *store.ConnectedApp, r TokenRequest) (*Tokens, error) {
	if r.Code == "" {
		return nil, apierr.OAuthInvalidRequest.With("code is required.")
	}
	if r.RedirectURI == "" {
		return nil, apierr.OAuthInvalidRequest.With("redirect_uri is required.")
	}
	if !plausibleToken(r.Code) {
		return nil, apierr.OAuthInvalidGrant.With("The authorization code is not valid.")
	}
	code, err := s.Store.GetAuthorizationCode(ctx, p.ID, secrets.Hash(r.Code))
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.OAuthInvalidGrant.With("The authorization code is not valid.")
	}
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	if code.ClientID != c.ID {
		return nil, apierr.OAuthInvalidGrant.With("The authorization code was issued to another client.")
	}
	if code.UsedAt != nil {
		// RFC 6749 section 4.1.2: a replayed code revokes what it issued.
		if err := s.revokeReplayed(ctx, p, code.GrantID, code.UserID, c.ID, "authorization_code_reuse", now); err != nil {
			return nil, err
		}
		return nil, apierr.OAuthInvalidGrant.With("The authorization code was already used; the tokens issued from it are revoked.")
	}
	if !now.Before(code.ExpiresAt) {
		return nil, apierr.OAuthInvalidGrant.With("The authorization code has expired.")
	}
	if code.RedirectURI != r.RedirectURI {
		return nil, apierr.OAuthInvalidGrant.With("redirect_uri does not match the one the code was issued for.")
	}
	if err := checkVerifier(code.CodeChallenge, r.CodeVerifier); err != nil {
		return nil, err
	}
	var user *store.User
	var pend *pendingTokens
	err = s.Store.Tx(ctx, func(tx store.Store) error {
		if err := tx.ConsumeAuthorizationCode(ctx, p.ID, code.CodeHash, now); errors.Is(err, store.ErrConsumed) || errors.Is(err, store.ErrNotFound) {
			return apierr.OAuthInvalidGrant.With("The authorization code was already used or has expired.")
		} else if err != nil {
			return err
		}
		u, err := s.grantAlive(ctx, tx, p, code.UserID, c.ID)
		if err != nil {
			return err
		}
		user = u
		pend, err = s.record(ctx, tx, p, c, u, code.GrantID, code.SessionID, code.Scopes, code.Scopes, code.Resources, now,
			slices.Contains(code.Scopes, ScopeOfflineAccess))
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.sign(ctx, p, c, user, pend, code.Nonce)
}

// revokeReplayed revokes the tokens of a grant whose code or refresh token
// came back, with its event. Every replay appends one, even when an earlier
// replay already revoked them: a receiver should see each reuse attempt.
func (s *Service) revokeReplayed(ctx context.Context, p tenant.Project, grantID, userID, clientID, reason string, now time.Time) error {
	return s.Store.Tx(ctx, func(tx store.Store) error {
		if err := tx.RevokeGrant(ctx, p.ID, grantID); err != nil {
			return err
		}
		return events.Append(ctx, tx, p, now, events.ConnectedAppTokenRevoke, clientID,
			map[string]any{"user_id": userID, "connected_app_id": clientID, "reason": reason})
	})
}

// checkVerifier is the PKCE S256 check of the token endpoint.
func checkVerifier(challenge, verifier string) error {
	switch {
	case challenge == "" && verifier == "":
		return nil
	case challenge == "":
		return apierr.OAuthInvalidGrant.With("The authorization request had no code_challenge; send no code_verifier.")
	case verifier == "":
		return apierr.OAuthInvalidGrant.With("code_verifier is required: the authorization request had a code_challenge.")
	}
	if len(verifier) < 43 || len(verifier) > 128 {
		return apierr.OAuthInvalidGrant.With("code_verifier must be 43 to 128 characters.")
	}
	sum := sha256.Sum256([]byte(verifier))
	if !secrets.Equal(base64.RawURLEncoding.EncodeToString(sum[:]), challenge) {
		return apierr.OAuthInvalidGrant.With("code_verifier does not match the code_challenge.")
	}
	return nil
}

// grantAlive loads the user and checks the user's grant to the client
// still stands (users.revoke deletes it).
func (s *Service) grantAlive(ctx context.Context, st store.Store, p tenant.Project, userID, clientID string) (*store.User, error) {
	if _, err := st.GetAuthorization(ctx, p.ID, userID, clientID); errors.Is(err, store.ErrNotFound) {
		return nil, apierr.OAuthInvalidGrant.With("The user revoked this client's access; complete another authorization flow.")
	} else if err != nil {
		return nil, err
	}
	u, err := st.GetUser(ctx, p.ID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.OAuthInvalidGrant.With("The user no longer exists.")
	}
	return u, err
}

func (s *Service) refresh(ctx context.Context, p tenant.Project, c *store.ConnectedApp, r TokenRequest) (*Tokens, error) {
	if r.RefreshToken == "" {
		return nil, apierr.OAuthInvalidRequest.With("refresh_token is required.")
	}
	if !plausibleToken(r.RefreshToken) {
		return nil, apierr.OAuthInvalidGrant.With("The refresh token is not valid.")
	}
	rt, err := s.Store.GetRefreshToken(ctx, p.ID, secrets.Hash(r.RefreshToken))
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.OAuthInvalidGrant.With("The refresh token is not valid.")
	}
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	if rt.ClientID != c.ID {
		return nil, apierr.OAuthInvalidGrant.With("The refresh token was issued to another client.")
	}
	if rt.UsedAt != nil {
		// A rotated-out token came back: someone holds a copy. Revoke the
		// whole grant (OAuth 2.1 refresh token rotation).
		if err := s.revokeReplayed(ctx, p, rt.GrantID, rt.UserID, c.ID, "refresh_token_reuse", now); err != nil {
			return nil, err
		}
		return nil, apierr.OAuthInvalidGrant.With("The refresh token was already used; the grant is revoked.")
	}
	if !now.Before(rt.ExpiresAt) {
		return nil, apierr.OAuthInvalidGrant.With("The refresh token has expired.")
	}
	scopes := rt.Scopes
	if r.Scope != "" {
		scopes = nil
		for _, sc := range strings.Fields(r.Scope) {
			if !slices.Contains(rt.Scopes, sc) {
				return nil, apierr.OAuthInvalidScope.Withf("%.64q was not granted to this refresh token.", sc)
			}
			if !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	var user *store.User
	var pend *pendingTokens
	err = s.Store.Tx(ctx, func(tx store.Store) error {
		u, err := s.grantAlive(ctx, tx, p, rt.UserID, c.ID)
		if err != nil {
			return err
		}
		user = u
		hash := rt.TokenHash
		rotate := isPublic(c.ClientType)
		if rotate {
			err = tx.UseRefreshToken(ctx, p.ID, hash, now)
		} else {
			err = tx.ExtendRefreshToken(ctx, p.ID, hash, now, now.Add(RefreshTokenLifetime))
		}
		if errors.Is(err, store.ErrConsumed) || errors.Is(err, store.ErrNotFound) {
			return apierr.OAuthInvalidGrant.With("The refresh token was already used or has expired.")
		} else if err != nil {
			return err
		}
		pend, err = s.record(ctx, tx, p, c, u, rt.GrantID, rt.SessionID, scopes, rt.Scopes, rt.Resources, now, rotate)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.sign(ctx, p, c, user, pend, "")
}

// pendingTokens is what a grant recorded inside its transaction; the JWTs
// are signed after the commit.
type pendingTokens struct {
	jti          string
	scopes       []string
	resources    []string
	issuedAt     time.Time
	expiresAt    time.Time
	refreshToken string
}

// record stores the access token's record and, when asked, a new refresh
// token (carrying refreshScopes, the grant's full scope).
func (s *Service) record(ctx context.Context, tx store.Store, p tenant.Project, c *store.ConnectedApp, u *store.User,
	grantID, sessionID string, scopes, refreshScopes, resources []string, now time.Time, newRefresh bool) (*pendingTokens, error) {
	minutes := c.AccessTokenExpiryMinutes
	if minutes <= 0 {
		minutes = DefaultAccessTokenExpiryMinutes
	}
	pend := &pendingTokens{jti: secrets.Token(33), scopes: scopes, resources: resources, issuedAt: now,
		expiresAt: now.Add(time.Duration(minutes) * time.Minute)}
	if err := tx.CreateAccessTokenRecord(ctx, &store.AccessTokenRecord{ProjectID: p.ID, JTI: pend.jti, GrantID: grantID,
		ClientID: c.ID, UserID: u.ID, SessionID: sessionID, Scopes: scopes, IssuedAt: now, ExpiresAt: pend.expiresAt}); err != nil {
		return nil, err
	}
	if newRefresh {
		pend.refreshToken = secrets.Token(33)
		if err := tx.CreateRefreshToken(ctx, &store.RefreshToken{ProjectID: p.ID, TokenHash: secrets.Hash(pend.refreshToken),
			GrantID: grantID, ClientID: c.ID, UserID: u.ID, SessionID: sessionID, Scopes: refreshScopes, Resources: resources,
			CreatedAt: now, ExpiresAt: now.Add(RefreshTokenLifetime)}); err != nil {
			return nil, err
		}
	}
	return pend, nil
}

// sign mints the access token (and the ID token with openid).
func (s *Service) sign(ctx context.Context, p tenant.Project, c *store.ConnectedApp, u *store.User, pend *pendingTokens, nonce string) (*Tokens, error) {
	now := pend.issuedAt
	doc := userDoc(wire.UserFrom(u, now), append([]string{sessions.DefaultRole}, u.Roles...))
	claims := map[string]any{}
	if t, err := parseTemplate(c.AccessTokenTemplate); err != nil {
		return nil, fmt.Errorf("connected app %s: stored access token template: %w", c.ID, err)
	} else {
		for k, v := range t.render(doc) {
			claims[k] = v
		}
	}
	for k := range claims {
		if slices.Contains(reservedAccessClaims, k) || strings.HasPrefix(k, "https://stytch.com/") {
			delete(claims, k)
		}
	}
	aud := []string{p.ID}
	if c.AccessTokenCustomAudience != "" && !slices.Contains(aud, c.AccessTokenCustomAudience) {
		aud = append(aud, c.AccessTokenCustomAudience)
	}
	for _, r := range pend.resources {
		if !slices.Contains(aud, r) {
			aud = append(aud, r)
		}
	}
	claims["iss"] = Issuer(p)
	claims["sub"] = u.ID
	claims["aud"] = aud
	claims["client_id"] = c.ID
	claims["scope"] = strings.Join(pend.scopes, " ")
	claims["iat"] = now.Unix()
	claims["nbf"] = now.Unix()
	claims["exp"] = pend.expiresAt.Unix()
	claims["jti"] = pend.jti
	access, err := s.Keys.Sign(ctx, p.ID, claims)
	if err != nil {
		return nil, fmt.Errorf("sign access token: %w", err)
	}
	out := &Tokens{AccessToken: access, ExpiresIn: int(pend.expiresAt.Sub(now) / time.Second), Scope: strings.Join(pend.scopes, " "),
		RefreshToken: pend.refreshToken}
	if slices.Contains(pend.scopes, ScopeOpenID) {
		if out.IDToken, err = s.idToken(ctx, p, c, u, pend.scopes, nonce, now, doc); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// idToken mints an OpenID Connect ID token with the claims the granted
// scopes allow.
func (s *Service) idToken(ctx context.Context, p tenant.Project, c *store.ConnectedApp, u *store.User, scopes []string, nonce string,
	now time.Time, doc map[string]any) (string, error) {
	claims := map[string]any{}
	if t, err := parseTemplate(c.IDTokenTemplate); err != nil {
		return "", fmt.Errorf("connected app %s: stored id token template: %w", c.ID, err)
	} else {
		for k, v := range t.render(doc) {
			claims[k] = v
		}
	}
	if slices.Contains(scopes, ScopeProfile) {
		var parts []string
		for _, n := range []string{u.FirstName, u.MiddleName, u.LastName} {
			if n != "" {
				parts = append(parts, n)
			}
		}
		claims["name"] = strings.Join(parts, " ")
		claims["given_name"] = u.FirstName
		claims["middle_name"] = u.MiddleName
		claims["family_name"] = u.LastName
	}
	if slices.Contains(scopes, ScopeEmail) {
		if e := primaryEmail(u); e != nil {
			claims["email"] = e.Address
			claims["email_verified"] = e.Verified
		}
	}
	if slices.Contains(scopes, ScopePhone) {
		if ph := primaryPhone(u); ph != nil {
			claims["phone_number"] = ph.Number
			claims["phone_number_verified"] = ph.Verified
		}
	}
	for _, k := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "nonce", "jti"} {
		delete(claims, k)
	}
	claims["iss"] = Issuer(p)
	claims["sub"] = u.ID
	claims["aud"] = []string{c.ID}
	claims["iat"] = now.Unix()
	claims["nbf"] = now.Unix()
	claims["exp"] = now.Add(IDTokenLifetime).Unix()
	if nonce != "" {
		claims["nonce"] = nonce
	}
	tok, err := s.Keys.Sign(ctx, p.ID, claims)
	if err != nil {
		return "", fmt.Errorf("sign id token: %w", err)
	}
	return tok, nil
}

// primaryEmail is the first verified email, else the first.
func primaryEmail(u *store.User) *store.Email {
	for i := range u.Emails {
		if u.Emails[i].Verified {
			return &u.Emails[i]
		}
	}
	if len(u.Emails) > 0 {
		return &u.Emails[0]
	}
	return nil
}

func primaryPhone(u *store.User) *store.Phone {
	for i := range u.Phones {
		if u.Phones[i].Verified {
			return &u.Phones[i]
		}
	}
	if len(u.Phones) > 0 {
		return &u.Phones[0]
	}
	return nil
}

// accessClaims are the verified claims of one of Latch's access tokens.
type accessClaims struct {
	Sub, ClientID, Scope, JTI, Iss string
	Aud                            any
	Iat, Nbf, Exp                  int64
	all                            map[string]any
}

func (a *accessClaims) scopes() []string { return strings.Fields(a.Scope) }

var errNotAccessToken = errors.New("connectedapps: not an access token of this project")

// verifyAccessToken checks the signature (the project's JWKS), issuer and
// audience and that the token is a Connected Apps access token; times are
// the caller's to check.
func (s *Service) verifyAccessToken(ctx context.Context, p tenant.Project, token string) (*accessClaims, error) {
	if len(token) > 16384 || strings.Count(token, ".") != 2 {
		return nil, errNotAccessToken
	}
	raw, err := s.Keys.Verify(ctx, p.ID, token)
	if errors.Is(err, keys.ErrInvalid) || errors.Is(err, keys.ErrMalformed) {
		return nil, errNotAccessToken
	}
	if err != nil {
		return nil, err
	}
	a := &accessClaims{all: raw, Aud: raw["aud"]}
	a.Sub, _ = raw["sub"].(string)
	a.ClientID, _ = raw["client_id"].(string)
	a.Scope, _ = raw["scope"].(string)
	a.JTI, _ = raw["jti"].(string)
	a.Iss, _ = raw["iss"].(string)
	var okI, okN, okE bool
	a.Iat, okI = number(raw["iat"])
	a.Nbf, okN = number(raw["nbf"])
	a.Exp, okE = number(raw["exp"])
	if a.Iss != Issuer(p) || !keys.AudienceHas(raw["aud"], p.ID) || !ids.Valid(ids.ConnectedApp, a.ClientID) || a.JTI == "" ||
		a.Sub == "" || !okI || !okN || !okE {
		return nil, errNotAccessToken
	}
	if _, ok := raw[sessions.SessionClaim]; ok {
		return nil, errNotAccessToken
	}
	return a, nil
}

func number(v any) (int64, bool) {
	f, ok := v.(float64)
	return int64(f), ok
}

// Introspection is an RFC 7662 answer: Active, and when active the claims.
type Introspection struct {
	Active bool
	Claims map[string]any
}

// Introspect examines an access or refresh token for the authenticated
// client. A token of another client, or one that is expired, revoked or
// unknown, is inactive.
func (s *Service) Introspect(ctx context.Context, p tenant.Project, clientID, secret, token, hint string) (*Introspection, error) {
	c, err := s.authenticateClient(ctx, p, clientID, secret)
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, apierr.OAuthInvalidRequest.With("token is required.")
	}
	order := []func(context.Context, tenant.Project, *store.ConnectedApp, string) (map[string]any, error){s.introspectAccess, s.introspectRefresh}
	if hint == GrantRefreshToken {
		order[0], order[1] = order[1], order[0]
	}
	for _, f := range order {
		claims, err := f(ctx, p, c, token)
		if err != nil {
			return nil, err
		}
		if claims != nil {
			return &Introspection{Active: true, Claims: claims}, nil
		}
	}
	return &Introspection{}, nil
}

func (s *Service) introspectAccess(ctx context.Context, p tenant.Project, c *store.ConnectedApp, token string) (map[string]any, error) {
	a, err := s.verifyAccessToken(ctx, p, token)
	if errors.Is(err, errNotAccessToken) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now().Unix()
	if a.ClientID != c.ID || now >= a.Exp || a.Nbf > now {
		return nil, nil
	}
	if _, err := s.Store.GetAccessTokenRecord(ctx, p.ID, a.JTI); errors.Is(err, store.ErrNotFound) {
		return nil, nil // revoked
	} else if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for k, v := range a.all {
		if k != "jti" {
			out[k] = v
		}
	}
	out["token_type"] = "access_token"
	return out, nil
}

func (s *Service) introspectRefresh(ctx context.Context, p tenant.Project, c *store.ConnectedApp, token string) (map[string]any, error) {
	if !plausibleToken(token) {
		return nil, nil
	}
	rt, err := s.Store.GetRefreshToken(ctx, p.ID, secrets.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	if rt.ClientID != c.ID || rt.UsedAt != nil || !now.Before(rt.ExpiresAt) {
		return nil, nil
	}
	return map[string]any{
		"sub":        rt.UserID,
		"scope":      strings.Join(rt.Scopes, " "),
		"client_id":  rt.ClientID,
		"aud":        []string{p.ID},
		"iss":        Issuer(p),
		"iat":        rt.CreatedAt.Unix(),
		"nbf":        rt.CreatedAt.Unix(),
		"exp":        rt.ExpiresAt.Unix(),
		"token_type": "refresh_token",
	}, nil
}

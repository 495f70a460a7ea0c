package connectedapps

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/events"
	"github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/sessions"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
	"github.com/latchhq/latch/internal/users"
	"github.com/latchhq/latch/internal/wire"
)

// Scopes Latch grants. full_access is Stytch's scope that lets a
// first-party client's token be exchanged for a session.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopePhone         = "phone"
	ScopeOfflineAccess = "offline_access"
	ScopeFullAccess    = "full_access"
)

// scopeDescriptions are shown on consent screens (scope_results).
var scopeDescriptions = map[string]string{
	ScopeOpenID:        "Confirm your identity",
	ScopeProfile:       "View your name",
	ScopeEmail:         "View your email address",
	ScopePhone:         "View your phone number",
	ScopeOfflineAccess: "Keep access to the data you share while you are away",
	ScopeFullAccess:    "Act as you, with full access to your account",
}

// CodeLifetime is how long an authorization code can be redeemed. Stytch
// documents none; 5 minutes is Latch's choice (see docs/compatibility.md).
const CodeLifetime = 5 * time.Minute

const (
	maxStateLength = 2048
	maxNonceLength = 512
	maxResources   = 10
)

// AuthorizeRequest is the body of authorizeStart and authorize; the last
// group of fields is authorize's own.
type AuthorizeRequest struct {
	ClientID     string   `json:"client_id"`
	RedirectURI  string   `json:"redirect_uri"`
	ResponseType string   `json:"response_type"`
	Scopes       []string `json:"scopes"`
	UserID       string   `json:"user_id"`
	SessionToken string   `json:"session_token"`
	SessionJWT   string   `json:"session_jwt"`
	Prompt       string   `json:"prompt"`

	ConsentGranted bool     `json:"consent_granted"`
	State          string   `json:"state"`
	Nonce          string   `json:"nonce"`
	CodeChallenge  string   `json:"code_challenge"`
	Resources      []string `json:"resources"`
}

// ScopeResult is the SDK's IDPScopeResult.
type ScopeResult struct {
	Scope       string `json:"scope"`
	Description string `json:"description"`
	IsGrantable bool   `json:"is_grantable"`
}

// authorization is a validated request: the client, the user and (when
// one was named) the session, the scopes and whether consent is needed.
type authorization struct {
	client          *store.ConnectedApp
	user            *store.User
	session         *store.Session
	scopes          []string
	prompt          []string
	existing        *store.ConnectedAppAuthorization
	consentRequired bool
}

// validate checks what authorizeStart and authorize share, in the order a
// consent page needs: the client and its redirect URI first.
func (s *Service) validate(ctx context.Context, p tenant.Project, r *AuthorizeRequest) (*authorization, error) {
	c, err := s.load(ctx, s.Store, p, r.ClientID)
	if err != nil {
		return nil, err
	}
	if r.RedirectURI == "" {
		return nil, apierr.MissingArgument.With("redirect_uri is required.")
	}
	if !slices.Contains(c.RedirectURLs, r.RedirectURI) {
		return nil, apierr.RedirectURLNotFoundInClient
	}
	switch r.ResponseType {
	case "code":
	case "":
		return nil, apierr.MissingArgument.With("response_type is required.")
	default:
		return nil, apierr.InvalidArgument.With("response_type must be code.")
	}
	scopes, err := checkScopes(c, r.Scopes)
	if err != nil {
		return nil, err
	}
	prompt := strings.Fields(r.Prompt)
	for _, v := range prompt {
		if v != "consent" {
			return nil, apierr.InvalidArgument.With("prompt supports only consent.")
		}
	}
	a := &authorization{client: c, scopes: scopes, prompt: prompt}
	if err := s.resolveUser(ctx, p, r, a); err != nil {
		return nil, err
	}
	grant, err := s.Store.GetAuthorization(ctx, p.ID, a.user.ID, c.ID)
	switch {
	case err == nil:
		a.existing = grant
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	a.consentRequired = consentRequired(c, a.existing, scopes, prompt)
	return a, nil
}

// checkScopes validates and deduplicates the requested scopes (an entry
// holding several space-separated scopes is split).
func checkScopes(c *store.ConnectedApp, requested []string) ([]string, error) {
	var out []string
	for _, entry := range requested {
		for _, sc := range strings.Fields(entry) {
			if _, ok := scopeDescriptions[sc]; !ok {
				return nil, apierr.OAuthInvalidScopeRequested.Withf("%.64q is not a scope Latch grants: use openid, profile, email, phone, offline_access or full_access.", sc)
			}
			if sc == ScopeFullAccess {
				if !isFirstParty(c.ClientType) {
					return nil, apierr.ThirdPartyClientsCannotUseFullAccess
				}
				if !c.FullAccessAllowed {
					return nil, apierr.OAuthInvalidScopeRequested.With("full_access needs a first-party client with full_access_allowed.")
				}
			}
			if !slices.Contains(out, sc) {
				out = append(out, sc)
			}
		}
	}
	if len(out) == 0 {
		return nil, apierr.OAuthInvalidScopeRequested.With("scopes must name at least one scope.")
	}
	return out, nil
}

// consentRequired follows Stytch's consent rules: prompt=consent always
// asks; offline_access asks unless a first-party client bypasses it;
// first-party clients otherwise do not ask; third-party clients ask until
// the user has granted every requested scope.
func consentRequired(c *store.ConnectedApp, existing *store.ConnectedAppAuthorization, scopes, prompt []string) bool {
	if slices.Contains(prompt, "consent") {
		return true
	}
	if slices.Contains(scopes, ScopeOfflineAccess) && !(isFirstParty(c.ClientType) && c.BypassConsentForOfflineAccess) {
		return true
	}
	if isFirstParty(c.ClientType) {
		return false
	}
	if existing == nil {
		return true
	}
	for _, sc := range scopes {
		if !slices.Contains(existing.Scopes, sc) {
			return true
		}
	}
	return false
}

// resolveUser finds the user from exactly one of user_id, session_token
// and session_jwt.
func (s *Service) resolveUser(ctx context.Context, p tenant.Project, r *AuthorizeRequest, a *authorization) error {
	n := 0
	for _, v := range []string{r.UserID, r.SessionToken, r.SessionJWT} {
		if v != "" {
			n++
		}
	}
	switch {
	case n == 0:
		return apierr.NoOAuthAuthorizeUserSelector
	case n > 1:
		return apierr.TooManyUserSelectionArguments
	}
	if r.UserID != "" {
		u, err := users.Lookup(ctx, s.Store, p, r.UserID)
		if err != nil {
			return err
		}
		a.user = u
		return nil
	}
	ss, err := s.Sessions.Existing(ctx, s.Store, p, sessions.Options{SessionToken: r.SessionToken, SessionJWT: r.SessionJWT})
	if err != nil {
		return err
	}
	u, err := s.Store.GetUser(ctx, p.ID, ss.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return apierr.SessionNotFound
	}
	if err != nil {
		return err
	}
	a.user, a.session = u, ss
	return nil
}

// StartResult is idp.oauth.authorizeStart's answer.
type StartResult struct {
	User            wire.User
	Client          PublicApp
	ConsentRequired bool
	ScopeResults    []ScopeResult
}

// AuthorizeStart checks an authorization request and says what a consent
// screen must show.
func (s *Service) AuthorizeStart(ctx context.Context, p tenant.Project, r *AuthorizeRequest) (*StartResult, error) {
	a, err := s.validate(ctx, p, r)
	if err != nil {
		return nil, err
	}
	res := &StartResult{User: wire.UserFrom(a.user, s.Clock.Now()), Client: publicView(a.client), ConsentRequired: a.consentRequired,
		ScopeResults: []ScopeResult{}}
	for _, sc := range a.scopes {
		res.ScopeResults = append(res.ScopeResults, ScopeResult{Scope: sc, Description: scopeDescriptions[sc], IsGrantable: true})
	}
	return res, nil
}

// Authorized is idp.oauth.authorize's answer: where to send the browser,
// and the code when the user granted access.
type Authorized struct {
	RedirectURI string
	Code        string
}

// Authorize completes an authorization request: with consent it records
// the grant and mints a single-use code; without, it answers with an
// access_denied redirect.
func (s *Service) Authorize(ctx context.Context, p tenant.Project, r *AuthorizeRequest) (*Authorized, error) {
	a, err := s.validate(ctx, p, r)
	if err != nil {
		return nil, err
	}
	if len(r.State) > maxStateLength {
		return nil, apierr.InvalidArgument.With("state may hold at most 2048 characters.")
	}
	if len(r.Nonce) > maxNonceLength {
		return nil, apierr.InvalidArgument.With("nonce may hold at most 512 characters.")
	}
	if r.CodeChallenge != "" && !validChallenge(r.CodeChallenge) {
		return nil, apierr.InvalidPKCECodeChallenge
	}
	if r.CodeChallenge == "" && isPublic(a.client.ClientType) {
		return nil, apierr.PKCERequiredForIDPFlow
	}
	resources, err := checkResources(r.Resources)
	if err != nil {
		return nil, err
	}
	iss := Issuer(p)
	if !r.ConsentGranted {
		return &Authorized{RedirectURI: withParams(r.RedirectURI, [][2]string{{"error", "access_denied"},
			{"error_description", "The user did not grant access."}, {"state", r.State}, {"iss", iss}})}, nil
	}
	now := s.Clock.Now()
	code := secrets.Token(33)
	row := &store.AuthorizationCode{
		ProjectID:     p.ID,
		CodeHash:      secrets.Hash(code),
		GrantID:       uuid.NewString(),
		ClientID:      a.client.ID,
		UserID:        a.user.ID,
		RedirectURI:   r.RedirectURI,
		Scopes:        a.scopes,
		Resources:     resources,
		Nonce:         r.Nonce,
		CodeChallenge: r.CodeChallenge,
		CreatedAt:     now,
		ExpiresAt:     now.Add(CodeLifetime),
	}
	if a.session != nil {
		row.SessionID = a.session.ID
	}
	grant := &store.ConnectedAppAuthorization{ProjectID: p.ID, UserID: a.user.ID, ClientID: a.client.ID, Scopes: a.scopes,
		CreatedAt: now, UpdatedAt: now}
	if a.existing != nil {
		grant.Scopes = union(a.existing.Scopes, a.scopes)
	}
	err = s.Store.Tx(ctx, func(tx store.Store) error {
		if err := tx.PutAuthorization(ctx, grant); err != nil {
			return err
		}
		if err := tx.CreateAuthorizationCode(ctx, row); err != nil {
			return err
		}
		return events.Append(ctx, tx, p, now, events.ConnectedAppConsentGrant, a.client.ID, consentEvent(a.user.ID, a.client.ID, grant.Scopes))
	})
	if err != nil {
		return nil, mapMissing(err)
	}
	return &Authorized{Code: code, RedirectURI: withParams(r.RedirectURI, [][2]string{{"code", code}, {"state", r.State}, {"iss", iss}})}, nil
}

// mapMissing turns a foreign-key failure (the user or client deleted
// mid-request) into the error the caller would have got a moment later.
func mapMissing(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return apierr.ConnectedAppNotFound
	}
	return err
}

func union(a, b []string) []string {
	out := append([]string{}, a...)
	for _, v := range b {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// validChallenge: an S256 challenge is 43 base64url characters.
func validChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	for i := 0; i < len(c); i++ {
		if !unreservedB64(c[i]) {
			return false
		}
	}
	return true
}

func unreservedB64(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-' || b == '_'
}

// checkResources validates RFC 8707 resource indicators: absolute URIs
// without a fragment. They become extra audiences of the access token.
func checkResources(list []string) ([]string, error) {
	if len(list) > maxResources {
		return nil, apierr.InvalidArgument.With("resources may name at most 10 resources.")
	}
	out := []string{}
	for _, raw := range list {
		u, err := url.Parse(raw)
		if err != nil || len(raw) > maxURLLength || u.Scheme == "" || u.Fragment != "" || strings.Contains(raw, "#") ||
			strings.IndexFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
			return nil, apierr.InvalidArgument.Withf("resources: %.80q is not an absolute URI without a fragment.", raw)
		}
		if !slices.Contains(out, raw) {
			out = append(out, raw)
		}
	}
	return out, nil
}

// withParams appends query parameters (empty values skipped) to a
// registered redirect URI, keeping its own query as it is.
func withParams(raw string, params [][2]string) string {
	var parts []string
	for _, kv := range params {
		if kv[1] != "" {
			parts = append(parts, url.QueryEscape(kv[0])+"="+url.QueryEscape(kv[1]))
		}
	}
	sep := "?"
	if strings.Contains(raw, "?") {
		sep = "&"
		if strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "&") {
			sep = ""
		}
	}
	return raw + sep + strings.Join(parts, "&")
}

// Issuer is the iss of Latch's Connected Apps tokens and authorization
// responses: Stytch's form for tokens fetched from its own API host.
func Issuer(p tenant.Project) string { return "stytch.com/" + p.ID }

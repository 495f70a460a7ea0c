// Package sessions owns consumer sessions: starting them for every
// authentication product, authenticating by opaque token or JWT, extending,
// revoking, and the JWKS. The hot path reuses a session's JWT while most of
// its life remains and coalesces last_accessed_at writes.
package sessions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/events"
	"github.com/latchhq/latch/internal/ids"
	"github.com/latchhq/latch/internal/keys"
	"github.com/latchhq/latch/internal/sandbox"
	"github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
	"github.com/latchhq/latch/internal/wire"
)

// Limits from Stytch's SDK comments.
const (
	MinDurationMinutes = 5
	MaxDurationMinutes = 527040
	JWTLifetime        = 5 * time.Minute
	maxClaimsBytes     = 4096
	// DefaultRole is held by every consumer user in RBAC.
	DefaultRole = "stytch_user"
	// SessionClaim is the JWT claim holding the session.
	SessionClaim = "https://stytch.com/session"
)

var reservedClaims = map[string]bool{"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true}

// Service implements sessions.
type Service struct {
	store store.Store
	keys  *keys.Manager
	clock clock.Clock
	// TouchEvery coalesces last_accessed_at writes: at most one per window.
	TouchEvery time.Duration
	jwts       jwtCache
	lookups    *lookupCache
}

// CacheTTL bounds how long another replica may keep serving a session after
// it was revoked or its user changed elsewhere.
const CacheTTL = time.Second

// New returns a sessions service.
func New(st store.Store, k *keys.Manager, c clock.Clock) *Service {
	return &Service{store: st, keys: k, clock: c, TouchEvery: time.Minute, jwts: jwtCache{m: map[string]cachedJWT{}, max: 100_000},
		lookups: newLookupCache(CacheTTL, 100_000)}
}

// Options are the session fields every authenticate call accepts.
type Options struct {
	DurationMinutes *int
	CustomClaims    map[string]any
	SessionToken    string
	SessionJWT      string
	Attributes      wire.Attributes
}

// Result is a session and its credentials after an authenticate call.
// Session is nil when no session was asked for.
type Result struct {
	Session *wire.Session
	Token   string
	JWT     string
	Record  *store.Session
}

// ValidateDuration checks session_duration_minutes.
func ValidateDuration(d *int) error {
	if d != nil && (*d < MinDurationMinutes || *d > MaxDurationMinutes) {
		return apierr.InvalidSessionDuration
	}
	return nil
}

// cleanClaims drops reserved names and enforces the size limit. A nil value
// deletes the key when merged.
func cleanClaims(c map[string]any) (map[string]any, error) {
	if c == nil {
		return nil, nil
	}
	out := make(map[string]any, len(c))
	for k, v := range c {
		if reservedClaims[k] || strings.HasPrefix(k, "https://stytch.com/") {
			continue
		}
		out[k] = v
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, apierr.InvalidArgument.With("session_custom_claims must be a JSON object.")
	}
	if len(b) > maxClaimsBytes {
		return nil, apierr.CustomClaimsTooLarge
	}
	return out, nil
}

func mergeClaims(stored json.RawMessage, update map[string]any) (json.RawMessage, error) {
	cur := map[string]any{}
	_ = json.Unmarshal(stored, &cur)
	for k, v := range update {
		if v == nil {
			delete(cur, k)
		} else {
			cur[k] = v
		}
	}
	b, _ := json.Marshal(cur)
	if len(b) > maxClaimsBytes {
		return nil, apierr.CustomClaimsTooLarge
	}
	return b, nil
}

// Prepare validates session options before any other work is done.
func Prepare(o *Options) error {
	if o.SessionToken != "" && o.SessionJWT != "" {
		return apierr.TooManySessionArguments
	}
	if err := ValidateDuration(o.DurationMinutes); err != nil {
		return err
	}
	c, err := cleanClaims(o.CustomClaims)
	if err != nil {
		return err
	}
	o.CustomClaims = c
	return nil
}

// Existing loads the live session an authenticate call wants to add a factor
// to, or nil when none was given. Call before consuming a token, so a bad
// session does not burn it.
func (s *Service) Existing(ctx context.Context, st store.Store, p tenant.Project, o Options) (*store.Session, error) {
	switch {
	case o.SessionToken != "":
		return s.byToken(ctx, st, p, o.SessionToken)
	case o.SessionJWT != "":
		ss, _, err := s.byJWT(ctx, st, p, o.SessionJWT)
		return ss, err
	}
	return nil, nil
}

// Start records an authentication of user by factor inside tx st: it adds
// the factor to existing (extending it when a duration is given) or, when
// a duration is given, starts a new session. Without either, no session.
// The result has no JWT until Sign is called after the commit.
func (s *Service) Start(ctx context.Context, st store.Store, p tenant.Project, user *store.User, factor wire.Factor, existing *store.Session, o Options) (*Result, error) {
	now := s.clock.Now()
	factor.LastAuthenticatedAt = wire.Time(now)
	factor.CreatedAt, factor.UpdatedAt = factor.LastAuthenticatedAt, factor.LastAuthenticatedAt
	if existing != nil {
		if existing.UserID != user.ID {
			return nil, apierr.SessionUserMismatch
		}
		var factors []wire.Factor
		_ = json.Unmarshal(existing.Factors, &factors)
		replaced := false
		for i := range factors {
			if factors[i].Same(factor) {
				if factors[i].CreatedAt != "" {
					factor.CreatedAt = factors[i].CreatedAt
				}
				factors[i] = factor
				replaced = true
			}
		}
		if !replaced {
			factors = append(factors, factor)
		}
		existing.Factors, _ = json.Marshal(factors)
		existing.LastAccessedAt, existing.UpdatedAt = now, now
		if o.DurationMinutes != nil {
			existing.ExpiresAt = now.Add(time.Duration(*o.DurationMinutes) * time.Minute)
		}
		if o.CustomClaims != nil {
			c, err := mergeClaims(existing.CustomClaims, o.CustomClaims)
			if err != nil {
				return nil, err
			}
			existing.CustomClaims = c
		}
		if err := st.UpdateSession(ctx, existing); err != nil {
			return nil, err
		}
		// A factor added to a session (step-up, MFA) changes what it proves,
		// so it is an event; sessions.authenticate extending it is not.
		r := pending(user, existing, o.SessionToken)
		if err := events.Append(ctx, st, p, now, events.SessionUpdate, existing.ID, r.Session); err != nil {
			return nil, err
		}
		return r, nil
	}
	if o.DurationMinutes == nil {
		return &Result{}, nil
	}
	token := secrets.Token(33) // 44 characters, Stytch's shape
	claims, err := mergeClaims(nil, o.CustomClaims)
	if err != nil {
		return nil, err
	}
	factors, _ := json.Marshal([]wire.Factor{factor})
	attrs, _ := json.Marshal(o.Attributes)
	ss := &store.Session{
		ProjectID:      p.ID,
		ID:             ids.New(ids.Session, p.Environment),
		UserID:         user.ID,
		TokenHash:      secrets.Hash(token),
		StartedAt:      now,
		LastAccessedAt: now,
		ExpiresAt:      now.Add(time.Duration(*o.DurationMinutes) * time.Minute),
		Attributes:     attrs,
		Factors:        factors,
		CustomClaims:   claims,
		UpdatedAt:      now,
	}
	if err := st.CreateSession(ctx, ss); err != nil {
		return nil, err
	}
	r := pending(user, ss, token)
	if err := events.Append(ctx, st, p, now, events.SessionCreate, ss.ID, r.Session); err != nil {
		return nil, err
	}
	return r, nil
}

func pending(user *store.User, ss *store.Session, token string) *Result {
	ws := wire.SessionFrom(ss, roles(user))
	return &Result{Session: &ws, Token: token, Record: ss}
}

// Sign fills in the JWT of a Result from Start. Call it after the
// transaction commits: signing takes a millisecond and must not hold the
// write lock, and the first signature of a project may create its key.
func (s *Service) Sign(ctx context.Context, p tenant.Project, r *Result) error {
	if r.Record == nil {
		return nil
	}
	jwt, err := s.jwt(ctx, p, r.Session, r.Record)
	if err != nil {
		return err
	}
	r.JWT = jwt
	return nil
}

func roles(u *store.User) []string {
	return append([]string{DefaultRole}, u.Roles...)
}

func (s *Service) result(ctx context.Context, p tenant.Project, user *store.User, ss *store.Session, token string) (*Result, error) {
	ws := wire.SessionFrom(ss, roles(user))
	jwt, err := s.jwt(ctx, p, &ws, ss)
	if err != nil {
		return nil, err
	}
	return &Result{Session: &ws, Token: token, JWT: jwt, Record: ss}, nil
}

func (s *Service) byToken(ctx context.Context, st store.Store, p tenant.Project, token string) (*store.Session, error) {
	if len(token) < 16 || len(token) > 512 {
		return nil, apierr.SessionNotFound
	}
	ss, err := st.GetSessionByTokenHash(ctx, p.ID, secrets.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.SessionNotFound
	}
	if err != nil {
		return nil, err
	}
	if !ss.ExpiresAt.After(s.clock.Now()) {
		return nil, apierr.SessionNotFound
	}
	return ss, nil
}

// byJWT verifies a session JWT (an expired one is fine: the session decides)
// and loads its session.
func (s *Service) byJWT(ctx context.Context, st store.Store, p tenant.Project, token string) (*store.Session, map[string]any, error) {
	claims, err := s.VerifyJWT(ctx, p, token)
	if err != nil {
		return nil, nil, err
	}
	sc, _ := claims[SessionClaim].(map[string]any)
	id, _ := sc["id"].(string)
	ss, err := st.GetSession(ctx, p.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, apierr.SessionNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	if sub, _ := claims["sub"].(string); sub != ss.UserID {
		return nil, nil, apierr.InvalidSessionJWT.With("The JWT subject does not match its session.")
	}
	if !ss.ExpiresAt.After(s.clock.Now()) {
		return nil, nil, apierr.SessionNotFound
	}
	return ss, claims, nil
}

// load finds the live session of a token or JWT and its user in one query.
func (s *Service) load(ctx context.Context, p tenant.Project, o Options) (*store.Session, *store.User, error) {
	var id, hash string
	var claims map[string]any
	if o.SessionToken != "" {
		if len(o.SessionToken) < 16 || len(o.SessionToken) > 512 {
			return nil, nil, apierr.SessionNotFound
		}
		hash = secrets.Hash(o.SessionToken)
	} else {
		var err error
		if claims, err = s.VerifyJWT(ctx, p, o.SessionJWT); err != nil {
			return nil, nil, err
		}
		sc, _ := claims[SessionClaim].(map[string]any)
		if id, _ = sc["id"].(string); id == "" {
			return nil, nil, apierr.InvalidSessionJWT.With("The JWT's session claim has no id.")
		}
	}
	now := s.clock.Now()
	if o.SessionToken == sandbox.SessionToken && sandbox.Active(p) {
		ss := sandboxSession(p, now, 60)
		return ss, sandbox.User(p), nil
	}
	key := cacheKey(p.ID, id, hash)
	ss, user, ok := s.lookups.get(key, now)
	if !ok {
		var err error
		ss, user, err = s.store.GetSessionWithUser(ctx, p.ID, id, hash)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, apierr.SessionNotFound
		}
		if err != nil {
			return nil, nil, err
		}
		s.lookups.put(key, ss, user, now)
	}
	if claims != nil {
		if sub, _ := claims["sub"].(string); sub != ss.UserID {
			return nil, nil, apierr.InvalidSessionJWT.With("The JWT subject does not match its session.")
		}
	}
	if !ss.ExpiresAt.After(now) {
		return nil, nil, apierr.SessionNotFound
	}
	return ss, user, nil
}

// sandboxSession is the session the sandbox token stands for; it is never
// stored.
func sandboxSession(p tenant.Project, now time.Time, minutes int) *store.Session {
	factors, _ := json.Marshal([]wire.Factor{{Type: "magic_link", DeliveryMethod: "email", LastAuthenticatedAt: wire.Time(sandbox.SessionStartedAt),
		CreatedAt: wire.Time(sandbox.SessionStartedAt), UpdatedAt: wire.Time(sandbox.SessionStartedAt),
		EmailFactor: &wire.EmailFactor{EmailID: sandbox.EmailID, EmailAddress: sandbox.Email}}})
	return &store.Session{ProjectID: p.ID, ID: sandbox.SessionID, UserID: sandbox.UserID, StartedAt: sandbox.SessionStartedAt,
		LastAccessedAt: now, ExpiresAt: now.Add(time.Duration(minutes) * time.Minute), Attributes: json.RawMessage(`{}`),
		Factors: factors, CustomClaims: json.RawMessage(`{}`), UpdatedAt: now}
}

// Sandbox answers an authenticate call with a sandbox value: the sandbox
// session when a duration is given (its token is the sandbox session
// token), else no session.
func (s *Service) Sandbox(ctx context.Context, p tenant.Project, o Options) (*Result, error) {
	if o.DurationMinutes == nil {
		return &Result{}, nil
	}
	ss := sandboxSession(p, s.clock.Now(), *o.DurationMinutes)
	r := pending(sandbox.User(p), ss, sandbox.SessionToken)
	return r, s.Sign(ctx, p, r)
}

// UserChanged drops this replica's cached lookups of a user's sessions; the
// products that change users call it after committing.
func (s *Service) UserChanged(projectID, userID string) {
	s.lookups.forgetUser(projectID, userID)
}

// VerifyJWT checks signature, typ, kid, issuer and audience, not expiry.
func (s *Service) VerifyJWT(ctx context.Context, p tenant.Project, token string) (map[string]any, error) {
	if len(token) > 16384 {
		return nil, apierr.UnableToParseSessionJWT
	}
	claims, err := s.keys.Verify(ctx, p.ID, token)
	if errors.Is(err, keys.ErrMalformed) {
		return nil, apierr.UnableToParseSessionJWT.Wrap(err)
	}
	if errors.Is(err, keys.ErrInvalid) {
		return nil, apierr.InvalidSessionJWT.Wrap(err)
	}
	if err != nil {
		return nil, err
	}
	if iss, _ := claims["iss"].(string); iss != "stytch.com/"+p.ID {
		return nil, apierr.InvalidSessionJWT.With("The JWT issuer is not this project.")
	}
	if !keys.AudienceHas(claims["aud"], p.ID) {
		return nil, apierr.InvalidSessionJWT.With("The JWT audience is not this project.")
	}
	if _, ok := claims[SessionClaim].(map[string]any); !ok {
		return nil, apierr.InvalidSessionJWT.With("The JWT carries no session claim.")
	}
	return claims, nil
}

// AuthenticateRequest is sessions.authenticate.
type AuthenticateRequest struct {
	Options
}

// Authenticated is the sessions.authenticate result.
type Authenticated struct {
	Result
	User wire.User
}

// Authenticate checks a session by token or JWT, optionally extending it
// and updating its custom claims. Neither appends an event: apps call it
// on every request, so events would flood the log (docs/webhooks.md).
func (s *Service) Authenticate(ctx context.Context, p tenant.Project, o Options) (*Authenticated, error) {
	if o.SessionToken == "" && o.SessionJWT == "" {
		return nil, apierr.NoSessionArguments
	}
	if err := Prepare(&o); err != nil {
		return nil, err
	}
	ss, user, err := s.load(ctx, p, o)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	if ss.ID == sandbox.SessionID {
		// The sandbox session is not stored: nothing to extend or touch.
	} else if o.DurationMinutes != nil || o.CustomClaims != nil {
		if o.DurationMinutes != nil {
			ss.ExpiresAt = now.Add(time.Duration(*o.DurationMinutes) * time.Minute)
		}
		if o.CustomClaims != nil {
			if ss.CustomClaims, err = mergeClaims(ss.CustomClaims, o.CustomClaims); err != nil {
				return nil, err
			}
		}
		ss.LastAccessedAt, ss.UpdatedAt = now, now
		if err := s.store.UpdateSession(ctx, ss); errors.Is(err, store.ErrNotFound) {
			return nil, apierr.SessionNotFound // revoked meanwhile
		} else if err != nil {
			return nil, err
		}
		s.lookups.forgetUser(p.ID, ss.UserID)
	} else if now.Sub(ss.LastAccessedAt) >= s.TouchEvery {
		if err := s.store.TouchSession(ctx, p.ID, ss.ID, now); err != nil {
			return nil, err
		}
		ss.LastAccessedAt = now
		s.lookups.forgetUser(p.ID, ss.UserID)
	}
	r, err := s.result(ctx, p, user, ss, o.SessionToken)
	if err != nil {
		return nil, err
	}
	return &Authenticated{Result: *r, User: wire.UserFrom(user, now)}, nil
}

// List returns a user's live sessions.
func (s *Service) List(ctx context.Context, p tenant.Project, userID string) ([]wire.Session, error) {
	user, err := s.store.GetUser(ctx, p.ID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.UserNotFound
	}
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListSessions(ctx, p.ID, user.ID)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	out := []wire.Session{}
	for i := range list {
		if list[i].ExpiresAt.After(now) {
			out = append(out, wire.SessionFrom(&list[i], roles(user)))
		}
	}
	return out, nil
}

// RevokeRequest names the session to end; exactly one field is set.
type RevokeRequest struct {
	SessionID, SessionToken, SessionJWT string
}

// Revoke ends a session at once; its JWTs stop authenticating at the server.
func (s *Service) Revoke(ctx context.Context, p tenant.Project, r RevokeRequest) error {
	n := 0
	for _, v := range []string{r.SessionID, r.SessionToken, r.SessionJWT} {
		if v != "" {
			n++
		}
	}
	if n == 0 {
		return apierr.NoSessionRevokeArguments
	}
	if n > 1 {
		return apierr.TooManySessionRevokeArguments
	}
	id := r.SessionID
	switch {
	case r.SessionToken != "":
		ss, err := s.byToken(ctx, s.store, p, r.SessionToken)
		if err != nil {
			return err
		}
		id = ss.ID
	case r.SessionJWT != "":
		ss, _, err := s.byJWT(ctx, s.store, p, r.SessionJWT)
		if err != nil {
			return err
		}
		id = ss.ID
	default:
		if !ids.Valid(ids.Session, id) {
			return apierr.InvalidSessionID
		}
	}
	var userID string
	err := s.store.Tx(ctx, func(tx store.Store) error {
		ss, err := tx.GetSession(ctx, p.ID, id)
		if err != nil {
			return err
		}
		userID = ss.UserID
		return s.revoke(ctx, tx, p, ss)
	})
	s.jwts.forget(id)
	s.lookups.forgetUser(p.ID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return apierr.SessionNotFound
	}
	return err
}

// RevokeUserSessions revokes every session of a user inside tx, except
// keep (a session id, or ""), recording an event for each.
func (s *Service) RevokeUserSessions(ctx context.Context, tx store.Store, p tenant.Project, userID, keep string) error {
	list, err := tx.ListSessions(ctx, p.ID, userID)
	if err != nil {
		return err
	}
	for i := range list {
		if list[i].ID == keep {
			continue
		}
		if err := s.revoke(ctx, tx, p, &list[i]); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		s.jwts.forget(list[i].ID)
	}
	s.lookups.forgetUser(p.ID, userID)
	return nil
}

func (s *Service) revoke(ctx context.Context, tx store.Store, p tenant.Project, ss *store.Session) error {
	if err := tx.DeleteSession(ctx, p.ID, ss.ID); err != nil {
		return err
	}
	ws := wire.SessionFrom(ss, []string{DefaultRole})
	return events.Append(ctx, tx, p, s.clock.Now(), events.SessionRevoke, ss.ID, ws)
}

// JWKS returns the project's public keys.
func (s *Service) JWKS(ctx context.Context, projectID string) ([]keys.JWK, error) {
	return s.keys.JWKS(ctx, projectID)
}

// jwt returns a session JWT, reusing the last one minted for this session
// while it has more than 60% of its life left and nothing in it changed.
func (s *Service) jwt(ctx context.Context, p tenant.Project, ws *wire.Session, ss *store.Session) (string, error) {
	fp := fingerprint(ws, ss)
	now := s.clock.Now()
	if c, ok := s.jwts.get(ss.ID); ok && c.fp == fp && now.Sub(c.iat) < JWTLifetime*2/5 && !now.Before(c.iat) {
		return c.jwt, nil
	}
	claims := map[string]any{}
	var custom map[string]any
	_ = json.Unmarshal(ss.CustomClaims, &custom)
	for k, v := range custom {
		claims[k] = v
	}
	iat := now.Unix()
	exp := now.Add(JWTLifetime)
	if exp.After(ss.ExpiresAt) {
		exp = ss.ExpiresAt
	}
	claims["aud"] = []string{p.ID}
	claims["iss"] = "stytch.com/" + p.ID
	claims["sub"] = ss.UserID
	claims["iat"] = iat
	claims["nbf"] = iat
	claims["exp"] = exp.Unix()
	claims[SessionClaim] = map[string]any{
		"id":                     ws.SessionID,
		"started_at":             ws.StartedAt,
		"last_accessed_at":       ws.LastAccessedAt,
		"expires_at":             ws.ExpiresAt,
		"attributes":             ws.Attributes,
		"authentication_factors": ws.AuthenticationFactors,
		"roles":                  ws.Roles,
	}
	tok, err := s.keys.Sign(ctx, p.ID, claims)
	if err != nil {
		return "", fmt.Errorf("sign session jwt: %w", err)
	}
	s.jwts.put(ss.ID, cachedJWT{jwt: tok, iat: now, fp: fp})
	return tok, nil
}

func fingerprint(ws *wire.Session, ss *store.Session) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%v\x00", ws.ExpiresAt, ss.Factors, ss.CustomClaims, ss.Attributes, ws.Roles)
	return hex.EncodeToString(h.Sum(nil))
}

type cachedJWT struct {
	jwt string
	iat time.Time
	fp  string
}

// jwtCache is a bounded per-replica cache; losing it only costs a signature.
type jwtCache struct {
	mu  sync.Mutex
	m   map[string]cachedJWT
	max int
}

func (c *jwtCache) get(id string) (cachedJWT, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[id]
	return v, ok
}

func (c *jwtCache) put(id string, v cachedJWT) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k := range c.m { // drop an arbitrary half
			delete(c.m, k)
			if len(c.m) < c.max/2 {
				break
			}
		}
	}
	c.m[id] = v
}

func (c *jwtCache) forget(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// PublicJWKS serves the JWKS endpoint, which carries no credentials: an
// unknown project is a 404 rather than a freshly minted key.
func (s *Service) PublicJWKS(ctx context.Context, projectID string) ([]keys.JWK, error) {
	if _, err := s.store.GetProject(ctx, projectID); errors.Is(err, store.ErrNotFound) {
		return nil, apierr.ProjectNotFound
	} else if err != nil {
		return nil, err
	}
	return s.keys.JWKS(ctx, projectID)
}

// Owner resolves the user a send attaches a new email or phone to: the one
// named by userID (through lookup, which understands external ids), or the
// user of the given session. At most one of the three may be set.
func (s *Service) Owner(ctx context.Context, st store.Store, p tenant.Project, userID, token, jwt string,
	lookup func(ctx context.Context, st store.Store, p tenant.Project, id string) (*store.User, error)) (*store.User, error) {
	n := 0
	for _, v := range []string{userID, token, jwt} {
		if v != "" {
			n++
		}
	}
	if n > 1 {
		return nil, apierr.TooManySessionArguments.With("Pass at most one of user_id, session_token or session_jwt.")
	}
	if userID != "" {
		return lookup(ctx, st, p, userID)
	}
	ss, err := s.Existing(ctx, st, p, Options{SessionToken: token, SessionJWT: jwt})
	if err != nil {
		return nil, err
	}
	return st.GetUser(ctx, p.ID, ss.UserID)
}

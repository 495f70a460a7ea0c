// Package projects owns project environments: creating them with their
// credentials and default redirect URLs, and authenticating API callers.
package projects

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/ids"
	"github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
)

// DefaultRedirectURL is registered as the default of every type on new test
// projects, as on Stytch.
const DefaultRedirectURL = "http://localhost:3000/authenticate"

// RedirectTypes are the redirect URL types a consumer project has.
var RedirectTypes = []string{"login", "signup", "invite", "reset_password"}

// Service implements projects.
type Service struct {
	store store.Store
	clock clock.Clock
	// cacheFor bounds how long a replica keeps a verified credential.
	cacheFor time.Duration

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	p          tenant.Project
	secretHash string
	at         time.Time
}

// New returns a projects service.
func New(st store.Store, c clock.Clock) *Service {
	return &Service{store: st, clock: c, cacheFor: 30 * time.Second, cache: map[string]cached{}}
}

// Created is a new project and its one-time plaintext secret.
type Created struct {
	ProjectID   string `json:"project_id"`
	Secret      string `json:"secret"`
	PublicToken string `json:"public_token"`
	Environment string `json:"environment"`
	Vertical    string `json:"vertical"`
	Name        string `json:"name"`
}

// Create makes a project environment with a secret and default redirect URLs.
func (s *Service) Create(ctx context.Context, name string, vertical tenant.Vertical, env tenant.Environment) (*Created, error) {
	var c *Created
	err := s.store.Tx(ctx, func(tx store.Store) error {
		var err error
		c, err = s.create(ctx, tx, name, vertical, env)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// CreateFirst creates the project only if the database has none, and
// reports whether it did. Replicas starting together on one empty
// database make one project between them, not one each.
func (s *Service) CreateFirst(ctx context.Context, name string, vertical tenant.Vertical, env tenant.Environment) (*Created, bool, error) {
	var c *Created
	err := s.store.Tx(ctx, func(tx store.Store) error {
		if err := tx.SerializeFirstStart(ctx); err != nil {
			return err
		}
		list, err := tx.ListProjects(ctx)
		if err != nil || len(list) > 0 {
			return err
		}
		c, err = s.create(ctx, tx, name, vertical, env)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return c, c != nil, nil
}

func (s *Service) create(ctx context.Context, tx store.Store, name string, vertical tenant.Vertical, env tenant.Environment) (*Created, error) {
	if vertical != tenant.Consumer && vertical != tenant.B2B {
		return nil, fmt.Errorf("vertical must be consumer or b2b, not %q", vertical)
	}
	if env != tenant.Test && env != tenant.Live {
		return nil, fmt.Errorf("environment must be test or live, not %q", env)
	}
	if strings.TrimSpace(name) == "" {
		return nil, errors.New("name is required")
	}
	// Stytch secrets: secret-<env>- then 36 characters of [A-Za-z0-9_=-].
	secret := "secret-" + string(env) + "-" + secrets.Token(27)
	c := &Created{
		ProjectID:   ids.New(ids.Project, env),
		Secret:      secret,
		PublicToken: ids.New(ids.PublicToken, env),
		Environment: string(env),
		Vertical:    string(vertical),
		Name:        name,
	}
	if err := tx.CreateProject(ctx, &store.Project{
		ID: c.ProjectID, Name: name, Vertical: string(vertical), Environment: string(env),
		SecretHash: secrets.Hash(secret), PublicToken: c.PublicToken, CreatedAt: s.clock.Now(),
	}); err != nil {
		return nil, err
	}
	if env != tenant.Test {
		return c, nil // live projects register their own URLs
	}
	types := RedirectTypes
	if vertical == tenant.B2B {
		types = []string{"login", "signup", "invite", "reset_password", "discovery"}
	}
	for _, t := range types {
		if err := tx.AddRedirectURL(ctx, store.RedirectURL{ProjectID: c.ProjectID, Type: t, URL: DefaultRedirectURL, IsDefault: true}); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// AddRedirectURL registers a redirect URL of a type for a project.
func (s *Service) AddRedirectURL(ctx context.Context, projectID, typ, raw string, isDefault bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("redirect URL %q needs an http(s) scheme and a host", raw)
	}
	if _, err := s.store.GetProject(ctx, projectID); err != nil {
		return err
	}
	return s.store.AddRedirectURL(ctx, store.RedirectURL{ProjectID: projectID, Type: typ, URL: raw, IsDefault: isDefault})
}

func toTenant(p *store.Project) tenant.Project {
	return tenant.Project{ID: p.ID, Name: p.Name, Environment: tenant.Environment(p.Environment), Vertical: tenant.Vertical(p.Vertical), PublicToken: p.PublicToken}
}

// AuthenticateProject checks Basic-auth credentials. The secret is compared
// as a hash in constant time; verified credentials are cached briefly so
// the hot path does not read the project on every call.
func (s *Service) AuthenticateProject(ctx context.Context, projectID, secret string) (tenant.Project, error) {
	h := secrets.Hash(secret)
	now := s.clock.Now()
	s.mu.Lock()
	c, ok := s.cache[projectID]
	s.mu.Unlock()
	if ok && now.Sub(c.at) < s.cacheFor {
		if secrets.Equal(c.secretHash, h) {
			return c.p, nil
		}
		return tenant.Project{}, apierr.UnauthorizedCredentials
	}
	p, err := s.store.GetProject(ctx, projectID)
	if errors.Is(err, store.ErrNotFound) {
		return tenant.Project{}, apierr.UnauthorizedCredentials
	}
	if err != nil {
		return tenant.Project{}, err
	}
	tp := toTenant(p)
	s.mu.Lock()
	if len(s.cache) > 10_000 {
		s.cache = map[string]cached{}
	}
	s.cache[projectID] = cached{p: tp, secretHash: p.SecretHash, at: now}
	s.mu.Unlock()
	if !secrets.Equal(p.SecretHash, h) {
		return tenant.Project{}, apierr.UnauthorizedCredentials
	}
	return tp, nil
}

// Get returns a project by id.
func (s *Service) Get(ctx context.Context, id string) (tenant.Project, error) {
	p, err := s.store.GetProject(ctx, id)
	if err != nil {
		return tenant.Project{}, err
	}
	return toTenant(p), nil
}

// RedirectURL resolves the URL a flow sends the browser to: the given one
// if it is registered for typ (exact match, as Stytch requires), else the
// type's default. noDefault is the error for a missing default.
func (s *Service) RedirectURL(ctx context.Context, projectID, typ, given string, noDefault *apierr.Error) (string, error) {
	list, err := s.store.ListRedirectURLs(ctx, projectID)
	if err != nil {
		return "", err
	}
	if given != "" {
		u, err := url.Parse(given)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", apierr.InvalidMagicLinkURL
		}
		for _, r := range list {
			if r.Type == typ && sameURL(r.URL, given) {
				return given, nil
			}
		}
		return "", apierr.NoMatchForMagicLinkURL.Withf("%s is not registered as a %s redirect URL for this project.", given, typ)
	}
	for _, r := range list {
		if r.Type == typ && r.IsDefault {
			return r.URL, nil
		}
	}
	return "", noDefault
}

// sameURL is exact equality, except that a leading "www." on the host is
// not significant (Stytch treats www.example.com and example.com alike).
func sameURL(registered, given string) bool {
	if registered == given {
		return true
	}
	a, err1 := url.Parse(registered)
	b, err2 := url.Parse(given)
	if err1 != nil || err2 != nil {
		return false
	}
	a.Host = strings.TrimPrefix(a.Host, "www.")
	b.Host = strings.TrimPrefix(b.Host, "www.")
	return a.String() == b.String()
}

// Settings are the per-project options an operator sets with `latch
// projects update`; Stytch keeps these in its dashboard.
type Settings struct {
	// SessionMigrationURL is the external UserInfo endpoint sessions.migrate
	// calls with the caller's token.
	SessionMigrationURL string `json:"session_migration_userinfo_url,omitempty"`
	// RateLimits overrides the default rate limits (see docs/compatibility.md).
	RateLimits json.RawMessage `json:"rate_limits,omitempty"`
	// Passwords is the password strength policy; nil is Stytch's default
	// (zxcvbn, breach detection on).
	Passwords *PasswordPolicy `json:"passwords,omitempty"`
}

// The password strength policies and the LUDS bounds Stytch allows.
const (
	PolicyZXCVBN             = "zxcvbn"
	PolicyLUDS               = "luds"
	DefaultLUDSMinLength     = 8
	DefaultLUDSMinComplexity = 3
)

// PasswordPolicy is how passwords are judged on create and reset; Stytch
// sets it in its dashboard.
type PasswordPolicy struct {
	// Policy is PolicyZXCVBN or PolicyLUDS; empty is zxcvbn.
	Policy string `json:"policy,omitempty"`
	// LUDSMinLength (8..32) and LUDSMinComplexity (1..4 character classes
	// among lower, upper, digit, symbol) apply under LUDS; 0 is the default.
	LUDSMinLength     int `json:"luds_min_length,omitempty"`
	LUDSMinComplexity int `json:"luds_min_complexity,omitempty"`
	// BreachDetectionOnCreate: nil is on.
	BreachDetectionOnCreate *bool `json:"breach_detection_on_create,omitempty"`
}

// Validate reports every out-of-range field at once.
func (p PasswordPolicy) Validate() error {
	var errs []error
	if p.Policy != "" && p.Policy != PolicyZXCVBN && p.Policy != PolicyLUDS {
		errs = append(errs, fmt.Errorf("password policy must be %s or %s, not %q", PolicyZXCVBN, PolicyLUDS, p.Policy))
	}
	if p.LUDSMinLength != 0 && (p.LUDSMinLength < 8 || p.LUDSMinLength > 32) {
		errs = append(errs, fmt.Errorf("LUDS minimum length must be 8..32, not %d", p.LUDSMinLength))
	}
	if p.LUDSMinComplexity != 0 && (p.LUDSMinComplexity < 1 || p.LUDSMinComplexity > 4) {
		errs = append(errs, fmt.Errorf("LUDS minimum complexity must be 1..4, not %d", p.LUDSMinComplexity))
	}
	return errors.Join(errs...)
}

// Resolved fills the defaults in.
func (p *PasswordPolicy) Resolved() PasswordPolicy {
	out := PasswordPolicy{Policy: PolicyZXCVBN, LUDSMinLength: DefaultLUDSMinLength, LUDSMinComplexity: DefaultLUDSMinComplexity}
	on := true
	out.BreachDetectionOnCreate = &on
	if p == nil {
		return out
	}
	if p.Policy != "" {
		out.Policy = p.Policy
	}
	if p.LUDSMinLength != 0 {
		out.LUDSMinLength = p.LUDSMinLength
	}
	if p.LUDSMinComplexity != 0 {
		out.LUDSMinComplexity = p.LUDSMinComplexity
	}
	if p.BreachDetectionOnCreate != nil {
		b := *p.BreachDetectionOnCreate
		out.BreachDetectionOnCreate = &b
	}
	return out
}

// ParseSettings reads a stored settings object; an empty one is no settings.
func ParseSettings(raw json.RawMessage) (Settings, error) {
	var s Settings
	if len(raw) == 0 {
		return s, nil
	}
	err := json.Unmarshal(raw, &s)
	return s, err
}

// Settings returns a project's settings.
func (s *Service) Settings(ctx context.Context, projectID string) (Settings, error) {
	p, err := s.store.GetProject(ctx, projectID)
	if err != nil {
		return Settings{}, err
	}
	return ParseSettings(p.Settings)
}

// PasswordPolicy returns a project's password policy with its defaults.
func (s *Service) PasswordPolicy(ctx context.Context, projectID string) (PasswordPolicy, error) {
	set, err := s.Settings(ctx, projectID)
	if err != nil {
		return PasswordPolicy{}, err
	}
	return set.Passwords.Resolved(), nil
}

// UpdateSettings applies change to a project's settings and stores them.
func (s *Service) UpdateSettings(ctx context.Context, projectID string, change func(*Settings) error) error {
	return s.store.Tx(ctx, func(tx store.Store) error {
		p, err := tx.GetProject(ctx, projectID)
		if err != nil {
			return err
		}
		cur, err := ParseSettings(p.Settings)
		if err != nil {
			return err
		}
		if err := change(&cur); err != nil {
			return err
		}
		if cur.Passwords != nil {
			if err := cur.Passwords.Validate(); err != nil {
				return err
			}
		}
		b, err := json.Marshal(cur)
		if err != nil {
			return err
		}
		return tx.UpdateProjectSettings(ctx, projectID, b)
	})
}

// CheckOutboundURL accepts a URL Latch itself will call (webhooks, session
// migration's UserInfo): absolute, no credentials or fragment, https, or
// plain http to a loopback host in a test environment only.
func CheckOutboundURL(raw string, env tenant.Environment) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" {
		return fmt.Errorf("URL %q is not an absolute URL", raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("URL %q has no host", raw)
	}
	if u.User != nil {
		return errors.New("URL must not carry credentials")
	}
	if u.Fragment != "" {
		return fmt.Errorf("URL %q must not have a fragment", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if env != tenant.Test {
			return fmt.Errorf("live projects need an https:// URL, not %q", raw)
		}
		if !isLoopback(u.Hostname()) {
			return fmt.Errorf("plain http:// is allowed only for loopback hosts (localhost, 127.0.0.1, ::1); use https:// for %q", u.Hostname())
		}
		return nil
	}
	return fmt.Errorf("URL %q must use https://", raw)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

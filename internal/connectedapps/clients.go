package connectedapps

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/events"
	"github.com/latchhq/latch/internal/ids"
	"github.com/latchhq/latch/internal/keys"
	"github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/sessions"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
)

// Client types.
const (
	FirstParty       = "first_party"
	FirstPartyPublic = "first_party_public"
	ThirdParty       = "third_party"
	ThirdPartyPublic = "third_party_public"
)

// Limits and defaults.
const (
	DefaultAccessTokenExpiryMinutes = 60
	MinAccessTokenExpiryMinutes     = 5
	MaxAccessTokenExpiryMinutes     = 1440
	maxRedirectURLs                 = 50
	maxURLLength                    = 2048
	maxNameLength                   = 255
	maxDescriptionLength            = 2048
	defaultSearchLimit              = 100
	maxSearchLimit                  = 1000
	// creationMethod is what clients made through this API report.
	creationMethod = "api"
)

// Service implements Connected Apps.
type Service struct {
	Store    store.Store
	Clock    clock.Clock
	Keys     *keys.Manager
	Sessions *sessions.Service
}

// App is the SDK's ConnectedApp; ClientSecret and NextClientSecret are set
// only on the responses that show a new secret once.
type App struct {
	ClientID                      string   `json:"client_id"`
	ClientName                    string   `json:"client_name"`
	ClientDescription             string   `json:"client_description"`
	Status                        string   `json:"status"`
	FullAccessAllowed             bool     `json:"full_access_allowed"`
	ClientType                    string   `json:"client_type"`
	RedirectURLs                  []string `json:"redirect_urls"`
	AccessTokenExpiryMinutes      int      `json:"access_token_expiry_minutes"`
	AccessTokenTemplateContent    string   `json:"access_token_template_content"`
	PostLogoutRedirectURLs        []string `json:"post_logout_redirect_urls"`
	BypassConsentForOfflineAccess bool     `json:"bypass_consent_for_offline_access"`
	CreationMethod                string   `json:"creation_method"`
	IDTokenTemplateContent        string   `json:"id_token_template_content"`
	ClientSecretLastFour          string   `json:"client_secret_last_four,omitempty"`
	NextClientSecretLastFour      string   `json:"next_client_secret_last_four,omitempty"`
	AccessTokenCustomAudience     string   `json:"access_token_custom_audience,omitempty"`
	LogoURL                       string   `json:"logo_url,omitempty"`
	ClientSecret                  string   `json:"client_secret,omitempty"`
	NextClientSecret              string   `json:"next_client_secret,omitempty"`
}

// PublicApp is the SDK's ConnectedAppPublic, shown on consent screens.
type PublicApp struct {
	ClientID          string `json:"client_id"`
	ClientName        string `json:"client_name"`
	ClientDescription string `json:"client_description"`
	ClientType        string `json:"client_type"`
	LogoURL           string `json:"logo_url,omitempty"`
}

// View renders a stored client without secrets.
func View(c *store.ConnectedApp) App {
	return App{
		ClientID:                      c.ID,
		ClientName:                    c.Name,
		ClientDescription:             c.Description,
		Status:                        c.Status,
		FullAccessAllowed:             c.FullAccessAllowed,
		ClientType:                    c.ClientType,
		RedirectURLs:                  nonNil(c.RedirectURLs),
		AccessTokenExpiryMinutes:      c.AccessTokenExpiryMinutes,
		AccessTokenTemplateContent:    c.AccessTokenTemplate,
		PostLogoutRedirectURLs:        nonNil(c.PostLogoutRedirectURLs),
		BypassConsentForOfflineAccess: c.BypassConsentForOfflineAccess,
		CreationMethod:                c.CreationMethod,
		IDTokenTemplateContent:        c.IDTokenTemplate,
		ClientSecretLastFour:          c.SecretLastFour,
		NextClientSecretLastFour:      c.NextSecretLastFour,
		AccessTokenCustomAudience:     c.AccessTokenCustomAudience,
		LogoURL:                       c.LogoURL,
	}
}

func publicView(c *store.ConnectedApp) PublicApp {
	return PublicApp{ClientID: c.ID, ClientName: c.Name, ClientDescription: c.Description, ClientType: c.ClientType, LogoURL: c.LogoURL}
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func isPublic(t string) bool     { return t == FirstPartyPublic || t == ThirdPartyPublic }
func isFirstParty(t string) bool { return t == FirstParty || t == FirstPartyPublic }

// ClientInput is the body of create and update; nil fields are left as
// they are (create: defaults).
type ClientInput struct {
	ClientType                    *string   `json:"client_type"`
	ClientName                    *string   `json:"client_name"`
	ClientDescription             *string   `json:"client_description"`
	RedirectURLs                  *[]string `json:"redirect_urls"`
	FullAccessAllowed             *bool     `json:"full_access_allowed"`
	AccessTokenExpiryMinutes      *int      `json:"access_token_expiry_minutes"`
	AccessTokenCustomAudience     *string   `json:"access_token_custom_audience"`
	AccessTokenTemplateContent    *string   `json:"access_token_template_content"`
	PostLogoutRedirectURLs        *[]string `json:"post_logout_redirect_urls"`
	LogoURL                       *string   `json:"logo_url"`
	BypassConsentForOfflineAccess *bool     `json:"bypass_consent_for_offline_access"`
	IDTokenTemplateContent        *string   `json:"id_token_template_content"`
}

// apply validates in and writes it onto c (whose ClientType is set).
func apply(c *store.ConnectedApp, in ClientInput, env tenant.Environment) error {
	if in.ClientName != nil {
		if utf8.RuneCountInString(*in.ClientName) > maxNameLength {
			return apierr.InvalidArgument.With("client_name may hold at most 255 characters.")
		}
		c.Name = *in.ClientName
	}
	if in.ClientDescription != nil {
		if utf8.RuneCountInString(*in.ClientDescription) > maxDescriptionLength {
			return apierr.InvalidArgument.With("client_description may hold at most 2048 characters.")
		}
		c.Description = *in.ClientDescription
	}
	public := isPublic(c.ClientType)
	if in.RedirectURLs != nil {
		l, err := redirectURLs(*in.RedirectURLs, public, env)
		if err != nil {
			return err
		}
		c.RedirectURLs = l
	}
	if in.PostLogoutRedirectURLs != nil {
		l, err := redirectURLs(*in.PostLogoutRedirectURLs, public, env)
		if err != nil {
			return err
		}
		c.PostLogoutRedirectURLs = l
	}
	if in.FullAccessAllowed != nil {
		if *in.FullAccessAllowed && !isFirstParty(c.ClientType) {
			return apierr.ThirdPartyClientsCannotUseFullAccess
		}
		c.FullAccessAllowed = *in.FullAccessAllowed
	}
	if in.BypassConsentForOfflineAccess != nil {
		if *in.BypassConsentForOfflineAccess && !isFirstParty(c.ClientType) {
			return apierr.ThirdPartyClientsRequireConsentOffline
		}
		c.BypassConsentForOfflineAccess = *in.BypassConsentForOfflineAccess
	}
	if in.AccessTokenExpiryMinutes != nil {
		m := *in.AccessTokenExpiryMinutes
		if m < MinAccessTokenExpiryMinutes || m > MaxAccessTokenExpiryMinutes {
			return apierr.InvalidAccessTokenExpiryMinutes
		}
		c.AccessTokenExpiryMinutes = m
	}
	if in.AccessTokenCustomAudience != nil {
		a := *in.AccessTokenCustomAudience
		if len(a) > 512 || strings.IndexFunc(a, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
			return apierr.InvalidAccessTokenCustomAudience
		}
		c.AccessTokenCustomAudience = a
	}
	if in.AccessTokenTemplateContent != nil {
		if _, err := parseTemplate(*in.AccessTokenTemplateContent); err != nil {
			return err
		}
		c.AccessTokenTemplate = *in.AccessTokenTemplateContent
	}
	if in.IDTokenTemplateContent != nil {
		if _, err := parseTemplate(*in.IDTokenTemplateContent); err != nil {
			return err
		}
		c.IDTokenTemplate = *in.IDTokenTemplateContent
	}
	if in.LogoURL != nil {
		if *in.LogoURL != "" && !httpURL(*in.LogoURL) {
			return apierr.InvalidArgument.With("logo_url must be an absolute http or https URL of at most 2048 characters.")
		}
		c.LogoURL = *in.LogoURL
	}
	return nil
}

func httpURL(raw string) bool {
	if len(raw) > maxURLLength {
		return false
	}
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}

// redirectURLs validates a client's registered URLs and drops repeats.
// Matching at authorize time is exact, byte for byte.
func redirectURLs(list []string, public bool, env tenant.Environment) ([]string, error) {
	if len(list) > maxRedirectURLs {
		return nil, apierr.TooManyRedirectURLs
	}
	out := []string{}
	seen := map[string]bool{}
	for _, raw := range list {
		if err := checkRedirectURL(raw, public, env); err != nil {
			return nil, err
		}
		if !seen[raw] {
			seen[raw] = true
			out = append(out, raw)
		}
	}
	return out, nil
}

func checkRedirectURL(raw string, public bool, env tenant.Environment) error {
	if raw == "" || len(raw) > maxURLLength || !utf8.ValidString(raw) ||
		strings.IndexFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return apierr.ConnectedAppInvalidRedirectURL.Withf("%.80q is not a valid redirect URL.", raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return apierr.ConnectedAppInvalidRedirectURL.Withf("%.80q is not a valid redirect URL.", raw)
	}
	if u.Scheme == "" {
		return apierr.ConnectedAppRedirectURLMustIncludeScheme
	}
	if u.Fragment != "" || strings.Contains(raw, "#") || u.User != nil {
		return apierr.ConnectedAppInvalidRedirectURL.With("Redirect URLs may not carry a fragment or user information.")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		if u.Host == "" {
			return apierr.ConnectedAppInvalidRedirectURL.With("https redirect URLs need a host.")
		}
	case "http":
		if u.Host == "" {
			return apierr.ConnectedAppInvalidRedirectURL.With("http redirect URLs need a host.")
		}
		if !loopback(u.Hostname()) {
			return apierr.ConnectedAppRedirectURLHTTPLoopback
		}
	default:
		// Native apps (public clients) may use their own URL scheme.
		if !public {
			return apierr.ConnectedAppRedirectURLMustUseHTTP
		}
		if u.Opaque == "" && u.Host == "" && u.Path == "" {
			return apierr.ConnectedAppInvalidRedirectURL.Withf("%.80q names no destination.", raw)
		}
	}
	if env == tenant.Live && u.Host != "" && loopback(u.Hostname()) {
		return apierr.ConnectedAppRedirectURLCannotUseLocal
	}
	return nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// lastFour is what a client's response shows of a secret.
func lastFour(s string) string { return s[len(s)-4:] }

// newSecret returns a fresh client secret (44 characters, like Stytch's).
func newSecret() string { return secrets.Token(33) }

// Create registers a client; a confidential client's secret is returned once.
func (s *Service) Create(ctx context.Context, p tenant.Project, in ClientInput) (*App, error) {
	if in.ClientType == nil || *in.ClientType == "" {
		return nil, apierr.MissingArgument.With("client_type is required.")
	}
	switch *in.ClientType {
	case FirstParty, FirstPartyPublic, ThirdParty, ThirdPartyPublic:
	default:
		return nil, apierr.InvalidConnectedAppType
	}
	now := s.Clock.Now()
	c := &store.ConnectedApp{
		ProjectID:                p.ID,
		ID:                       ids.New(ids.ConnectedApp, p.Environment),
		ClientType:               *in.ClientType,
		Status:                   "active",
		RedirectURLs:             []string{},
		PostLogoutRedirectURLs:   []string{},
		AccessTokenExpiryMinutes: DefaultAccessTokenExpiryMinutes,
		CreationMethod:           creationMethod,
		CreatedAt:                now,
		UpdatedAt:                now,
	}
	if err := apply(c, in, p.Environment); err != nil {
		return nil, err
	}
	secret := ""
	if !isPublic(c.ClientType) {
		secret = newSecret()
		c.SecretHash, c.SecretLastFour = secrets.Hash(secret), lastFour(secret)
	}
	err := s.Store.Tx(ctx, func(tx store.Store) error {
		if err := tx.CreateConnectedApp(ctx, c); err != nil {
			return err
		}
		return events.Append(ctx, tx, p, now, events.ConnectedAppCreate, c.ID, View(c))
	})
	if err != nil {
		return nil, err
	}
	v := View(c)
	v.ClientSecret = secret
	return &v, nil
}

// load finds a client of p by id.
func (s *Service) load(ctx context.Context, st store.Store, p tenant.Project, clientID string) (*store.ConnectedApp, error) {
	if clientID == "" {
		return nil, apierr.MissingArgument.With("client_id is required.")
	}
	if !ids.Valid(ids.ConnectedApp, clientID) {
		return nil, apierr.InvalidClientID
	}
	c, err := st.GetConnectedApp(ctx, p.ID, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.ConnectedAppNotFound
	}
	return c, err
}

// Get returns a client.
func (s *Service) Get(ctx context.Context, p tenant.Project, clientID string) (*App, error) {
	c, err := s.load(ctx, s.Store, p, clientID)
	if err != nil {
		return nil, err
	}
	v := View(c)
	return &v, nil
}

// change runs a read-modify-write of a client in one transaction and
// records an update event.
func (s *Service) change(ctx context.Context, p tenant.Project, clientID string, fn func(c *store.ConnectedApp) error) (*store.ConnectedApp, error) {
	if !ids.Valid(ids.ConnectedApp, clientID) {
		return nil, apierr.InvalidClientID
	}
	var out *store.ConnectedApp
	now := s.Clock.Now()
	err := s.Store.Tx(ctx, func(tx store.Store) error {
		c, err := s.load(ctx, tx, p, clientID)
		if err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
		c.UpdatedAt = now
		if err := tx.UpdateConnectedApp(ctx, c); errors.Is(err, store.ErrNotFound) {
			return apierr.ConnectedAppNotFound
		} else if err != nil {
			return err
		}
		out = c
		return events.Append(ctx, tx, p, now, events.ConnectedAppUpdate, c.ID, View(c))
	})
	return out, err
}

// Update changes a client's mutable fields; client_type cannot change.
func (s *Service) Update(ctx context.Context, p tenant.Project, clientID string, in ClientInput) (*App, error) {
	c, err := s.change(ctx, p, clientID, func(c *store.ConnectedApp) error {
		if in.ClientType != nil && *in.ClientType != c.ClientType {
			return apierr.InvalidArgument.With("client_type cannot be changed.")
		}
		return apply(c, in, p.Environment)
	})
	if err != nil {
		return nil, err
	}
	v := View(c)
	return &v, nil
}

// Delete removes a client with every grant, code and token of it.
func (s *Service) Delete(ctx context.Context, p tenant.Project, clientID string) error {
	if !ids.Valid(ids.ConnectedApp, clientID) {
		return apierr.InvalidClientID
	}
	now := s.Clock.Now()
	err := s.Store.Tx(ctx, func(tx store.Store) error {
		if err := tx.DeleteConnectedApp(ctx, p.ID, clientID); err != nil {
			return err
		}
		return events.Append(ctx, tx, p, now, events.ConnectedAppDelete, clientID, nil)
	})
	if errors.Is(err, store.ErrNotFound) {
		return apierr.ConnectedAppNotFound
	}
	return err
}

// SearchResult is a page of clients.
type SearchResult struct {
	Apps       []App
	Total      int
	NextCursor *string
}

// Search pages through the project's clients, oldest first.
func (s *Service) Search(ctx context.Context, p tenant.Project, cursor string, limit *int) (*SearchResult, error) {
	n := defaultSearchLimit
	if limit != nil {
		n = *limit
	}
	if n < 1 || n > maxSearchLimit {
		return nil, apierr.InvalidArgument.With("limit must be between 1 and 1000.")
	}
	var after *store.ConnectedAppCursor
	if cursor != "" {
		c, ok := decodeCursor(cursor)
		if !ok {
			return nil, apierr.InvalidArgument.With("cursor is not a cursor returned by this search.")
		}
		after = c
	}
	list, total, err := s.Store.ListConnectedApps(ctx, p.ID, after, n+1)
	if err != nil {
		return nil, err
	}
	res := &SearchResult{Apps: []App{}, Total: total}
	if len(list) > n {
		list = list[:n]
		last := list[n-1]
		next := encodeCursor(store.ConnectedAppCursor{CreatedAt: last.CreatedAt, ID: last.ID})
		res.NextCursor = &next
	}
	for i := range list {
		res.Apps = append(res.Apps, View(&list[i]))
	}
	return res, nil
}

func encodeCursor(c store.ConnectedAppCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + ":" + c.ID))
}

func decodeCursor(s string) (*store.ConnectedAppCursor, bool) {
	if len(s) > 200 {
		return nil, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, false
	}
	ts, id, ok := strings.Cut(string(b), ":")
	if !ok || !ids.Valid(ids.ConnectedApp, id) {
		return nil, false
	}
	us, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || us < 0 || strconv.FormatInt(us, 10) != ts {
		return nil, false
	}
	return &store.ConnectedAppCursor{CreatedAt: time.UnixMicro(us).UTC(), ID: id}, true
}

// RotateStart mints the next secret; both it and the current one work
// until Rotate or RotateCancel. The next secret is returned once.
func (s *Service) RotateStart(ctx context.Context, p tenant.Project, clientID string) (*App, error) {
	next := newSecret()
	c, err := s.change(ctx, p, clientID, func(c *store.ConnectedApp) error {
		if isPublic(c.ClientType) {
			return apierr.PublicConnectedAppsHaveNoSecrets
		}
		if c.NextSecretHash != "" {
			return apierr.ConnectedAppAlreadyRotatingSecret
		}
		c.NextSecretHash, c.NextSecretLastFour = secrets.Hash(next), lastFour(next)
		return nil
	})
	if err != nil {
		return nil, err
	}
	v := View(c)
	v.NextClientSecret = next
	return &v, nil
}

// Rotate makes the next secret the client's secret; the old one stops
// working at once.
func (s *Service) Rotate(ctx context.Context, p tenant.Project, clientID string) (*App, error) {
	c, err := s.change(ctx, p, clientID, func(c *store.ConnectedApp) error {
		if isPublic(c.ClientType) {
			return apierr.PublicConnectedAppsHaveNoSecrets
		}
		if c.NextSecretHash == "" {
			return apierr.ConnectedAppNotRotatingSecret
		}
		c.SecretHash, c.SecretLastFour = c.NextSecretHash, c.NextSecretLastFour
		c.NextSecretHash, c.NextSecretLastFour = "", ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	v := View(c)
	return &v, nil
}

// RotateCancel discards the next secret.
func (s *Service) RotateCancel(ctx context.Context, p tenant.Project, clientID string) (*App, error) {
	c, err := s.change(ctx, p, clientID, func(c *store.ConnectedApp) error {
		if isPublic(c.ClientType) {
			return apierr.PublicConnectedAppsHaveNoSecrets
		}
		if c.NextSecretHash == "" {
			return apierr.ConnectedAppNotRotatingSecret
		}
		c.NextSecretHash, c.NextSecretLastFour = "", ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	v := View(c)
	return &v, nil
}

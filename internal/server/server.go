// Package server is the one place Latch's products are wired together: it
// opens the store, builds services and handlers, mounts routes, runs the
// background workers and serves HTTP(S) until told to stop.
package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/config"
	"github.com/latchhq/latch/internal/connectedapps"
	"github.com/latchhq/latch/internal/delivery"
	"github.com/latchhq/latch/internal/delivery/sms"
	"github.com/latchhq/latch/internal/delivery/smtp"
	"github.com/latchhq/latch/internal/hashes"
	"github.com/latchhq/latch/internal/httpx"
	"github.com/latchhq/latch/internal/keys"
	"github.com/latchhq/latch/internal/limits"
	"github.com/latchhq/latch/internal/magiclinks"
	"github.com/latchhq/latch/internal/otps"
	"github.com/latchhq/latch/internal/passwords"
	"github.com/latchhq/latch/internal/projects"
	"github.com/latchhq/latch/internal/ratelimit"
	"github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/sessions"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/store/sqlstore"
	"github.com/latchhq/latch/internal/strength"
	"github.com/latchhq/latch/internal/tenant"
	"github.com/latchhq/latch/internal/tlsca"
	"github.com/latchhq/latch/internal/totps"
	"github.com/latchhq/latch/internal/users"
	"github.com/latchhq/latch/internal/webhooks"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
)

// App is a wired Latch: its store, services and HTTP handler.
type App struct {
	Store    store.Store
	Projects *projects.Service
	Sessions *sessions.Service
	Handler  http.Handler
	// Routes lists every authenticated route pattern ("POST /v1/users", ...).
	Routes []string
	// PublicRoutes lists the routes that take no project secret but name
	// their project in the path (the OAuth token and introspection
	// endpoints).
	PublicRoutes []string
	// Mounted lists every pattern registered on the server's mux, in the
	// order mounted: Routes, PublicRoutes, the unauthenticated pages (JWKS,
	// magic link redirect) and the operational endpoints. Nothing reaches
	// the mux but through routeTable, so a new route is listed the day it
	// is added.
	Mounted []string
	Outbox  *delivery.Outbox
	// Webhooks delivers the event log to registered endpoints.
	Webhooks  *webhooks.Dispatcher
	worker    *delivery.Worker
	log       *slog.Logger
	clock     clock.Clock
	retention time.Duration
}

// Options are what New needs beyond the store.
type Options struct {
	Log        *slog.Logger
	Clock      clock.Clock
	MasterKey  []byte
	PublicURL  string
	Providers  map[string]delivery.Provider // "dev" is always present
	EmailLive  string                       // provider name for live projects' email, "" for none
	TextLive   string                       // provider name for live projects' SMS and WhatsApp, "" for none
	PollOutbox time.Duration
	// DeliveryLease is how long a worker owns a message or webhook delivery
	// it is sending; zero means a minute.
	DeliveryLease time.Duration
	// Retention is how long events (with their delivery records) and
	// settled outbox messages are kept; zero keeps them forever.
	Retention time.Duration
	// WebhookClient sends webhook deliveries; nil means the dispatcher's own.
	WebhookClient *http.Client
	// RateLimiter enforces RateLimited; nil turns rate limits off.
	RateLimiter ratelimit.Limiter
	// OutboundClient makes Latch's own calls to external endpoints (session
	// migration's UserInfo); nil means a default client.
	OutboundClient *http.Client
	// HashParams are the argon2id parameters for new password hashes; zero
	// fields mean hashes.DefaultParams'.
	HashParams hashes.Params
	// HashLimits bound the memory and concurrency of password hashing; zero
	// fields mean hashes' defaults.
	HashLimits hashes.Limits
}

// RateLimited is every rate-limited route: each send and authenticate
// endpoint, and the costly creates, with the body fields naming who a call
// is about. sessions.authenticate is not here: apps call it on every page,
// its token cannot be guessed, and the guard would add a body copy, a JSON
// parse and (with --redis-url) a Redis round trip to every call.
var RateLimited = map[string]limits.Route{
	"POST /v1/magic_links/email/send":            {Class: ratelimit.Send, Fields: []string{"email"}},
	"POST /v1/magic_links/email/login_or_create": {Class: ratelimit.Send, Fields: []string{"email"}},
	"POST /v1/magic_links/email/invite":          {Class: ratelimit.Send, Fields: []string{"email"}},
	"POST /v1/otps/sms/send":                     {Class: ratelimit.Send, Fields: []string{"phone_number"}},
	"POST /v1/otps/sms/login_or_create":          {Class: ratelimit.Send, Fields: []string{"phone_number"}},
	"POST /v1/otps/whatsapp/send":                {Class: ratelimit.Send, Fields: []string{"phone_number"}},
	"POST /v1/otps/whatsapp/login_or_create":     {Class: ratelimit.Send, Fields: []string{"phone_number"}},
	"POST /v1/otps/email/send":                   {Class: ratelimit.Send, Fields: []string{"email"}},
	"POST /v1/otps/email/login_or_create":        {Class: ratelimit.Send, Fields: []string{"email"}},
	"POST /v1/passwords/email/reset/start":       {Class: ratelimit.Send, Fields: []string{"email"}},

	"POST /v1/magic_links/authenticate":          {Class: ratelimit.Authenticate},
	"POST /v1/otps/authenticate":                 {Class: ratelimit.Authenticate, Fields: []string{"method_id"}},
	"POST /v1/passwords/authenticate":            {Class: ratelimit.Authenticate, Fields: []string{"email"}},
	"POST /v1/passwords/existing_password/reset": {Class: ratelimit.Authenticate, Fields: []string{"email"}},
	"POST /v1/passwords/email/reset":             {Class: ratelimit.Authenticate},
	"POST /v1/passwords/session/reset":           {Class: ratelimit.Authenticate},
	"POST /v1/totps/authenticate":                {Class: ratelimit.Authenticate, Fields: []string{"user_id"}},
	"POST /v1/totps/recover":                     {Class: ratelimit.Authenticate, Fields: []string{"user_id"}},
	"POST /v1/sessions/migrate":                  {Class: ratelimit.Authenticate},
	"POST /v1/sessions/exchange_access_token":    {Class: ratelimit.Authenticate},
	"POST /v1/idp/oauth/authorize/start":         {Class: ratelimit.Authenticate, Fields: []string{"user_id"}},
	"POST /v1/idp/oauth/authorize":               {Class: ratelimit.Authenticate, Fields: []string{"user_id"}},
	// The token and introspection endpoints are public and check a client
	// secret (not the project secret); they are limited per project and
	// per IP.
	"POST /v1/public/{project_id}/oauth2/token":      {Class: ratelimit.Authenticate, OAuth: true},
	"POST /v1/public/{project_id}/oauth2/introspect": {Class: ratelimit.Authenticate, OAuth: true},

	"POST /v1/users":                    {Class: ratelimit.Create, Fields: []string{"email", "phone_number"}},
	"POST /v1/passwords":                {Class: ratelimit.Create, Fields: []string{"email"}},
	"POST /v1/passwords/migrate":        {Class: ratelimit.Create, Fields: []string{"email"}},
	"POST /v1/passwords/strength_check": {Class: ratelimit.Create},
	"POST /v1/totps":                    {Class: ratelimit.Create, Fields: []string{"user_id"}},
	"POST /v1/magic_links":              {Class: ratelimit.Create, Fields: []string{"user_id"}},
}

// OutboxConcurrency is how many messages a replica's outbox worker sends
// at once through a real provider.
const OutboxConcurrency = 4

// New wires every product over st.
func New(st store.Store, o Options) (*App, error) {
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	if o.PollOutbox == 0 {
		o.PollOutbox = time.Second
	}
	if o.DeliveryLease == 0 {
		o.DeliveryLease = time.Minute
	}
	sealer, err := secrets.NewSealer(o.MasterKey)
	if err != nil {
		return nil, err
	}
	log := o.Log
	km := keys.NewManager(st, sealer, o.Clock)
	projectSvc := projects.New(st, o.Clock)
	sessionSvc := sessions.New(st, km, o.Clock)
	userSvc := users.New(st, o.Clock)
	userSvc.Changed = sessionSvc.UserChanged
	outbox := delivery.NewOutbox(o.Clock, o.EmailLive)
	outbox.TextProvider = o.TextLive
	mlSvc := &magiclinks.Service{Store: st, Clock: o.Clock, Outbox: outbox, Sessions: sessionSvc, Redirects: projectSvc, PublicURL: o.PublicURL}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := httpx.NewMetrics(reg)

	mux := newRouteTable()
	var routes, publicRoutes []string
	authed := mux.authed(log, projectSvc, &routes)
	projectPublic := mux.projectPublic(log, projectSvc.Get, &publicRoutes)
	if o.RateLimiter != nil {
		policy := ratelimit.DefaultPolicy().WithIdentifierKey(secrets.DeriveKey(o.MasterKey, "rate limit identifiers"))
		guard := &limits.Guard{Policy: policy, Limiter: o.RateLimiter, Clock: o.Clock, Log: log,
			RefreshEvery: 5 * time.Second, Overrides: func(ctx context.Context, projectID string) (ratelimit.Overrides, error) {
				set, err := projectSvc.Settings(ctx, projectID)
				if err != nil || len(set.RateLimits) == 0 {
					return nil, err
				}
				return ratelimit.ParseOverrides(set.RateLimits)
			}}
		authed = limits.Router{Next: authed, Guard: guard, Table: RateLimited}
		projectPublic = limits.Router{Next: projectPublic, Guard: guard, Table: RateLimited}
	}
	(&users.Handler{Service: userSvc, Log: log}).Mount(authed)
	(&sessions.Handler{Service: sessionSvc, Log: log}).Mount(authed, mux)
	migrator := &sessions.Migrator{Sessions: sessionSvc, Store: st, Client: o.OutboundClient, Authenticated: users.Authenticated,
		UserInfoURL: func(ctx context.Context, projectID string) (string, error) {
			set, err := projectSvc.Settings(ctx, projectID)
			return set.SessionMigrationURL, err
		}}
	(&sessions.MigrateHandler{Migrator: migrator, Log: log}).Mount(authed)
	(&magiclinks.Handler{Service: mlSvc, Log: log}).Mount(authed, mux)
	(&delivery.DevHandler{Store: st, Log: log}).Mount(authed)
	// Products of the multi-factor issue mount below, one block each.
	// -- otps --
	otpSvc := &otps.Service{Store: st, Clock: o.Clock, Outbox: outbox, Sessions: sessionSvc, CodeKey: secrets.DeriveKey(o.MasterKey, "otp codes")}
	(&otps.Handler{Service: otpSvc, Log: log}).Mount(authed)
	// -- passwords --
	hasher, err := hashes.NewHasher(o.HashParams, o.HashLimits)
	if err != nil {
		return nil, fmt.Errorf("password hashing: %w", err)
	}
	registerHashMetrics(reg, hasher)
	pwSvc := &passwords.Service{Store: st, Clock: o.Clock, Hasher: hasher, Strength: strength.NewChecker(0),
		Sessions: sessionSvc, Outbox: outbox, Redirects: projectSvc, PublicURL: o.PublicURL,
		Policies: func(ctx context.Context, projectID string) (passwords.Policy, error) {
			pp, err := projectSvc.PasswordPolicy(ctx, projectID)
			if err != nil {
				return passwords.Policy{}, err
			}
			return passwords.Policy{LUDS: pp.Policy == projects.PolicyLUDS, MinLength: pp.LUDSMinLength, MinComplexity: pp.LUDSMinComplexity,
				BreachDetection: *pp.BreachDetectionOnCreate}, nil
		}}
	(&passwords.Handler{Service: pwSvc, Log: log}).Mount(authed)
	// -- totps --
	totpSvc := &totps.Service{Store: st, Clock: o.Clock, Sessions: sessionSvc, Sealer: sealer}
	(&totps.Handler{Service: totpSvc, Log: log}).Mount(authed)
	// -- connected apps --
	caSvc := &connectedapps.Service{Store: st, Clock: o.Clock, Keys: km, Sessions: sessionSvc}
	(&connectedapps.Handler{Service: caSvc, Log: log}).Mount(authed, projectPublic)

	mux.Handle("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, r, http.StatusOK, &struct {
			httpx.Envelope
			Status string `json:"status"`
		}{Status: "ok"})
	}))
	mux.Handle("GET /readyz", httpx.Errors(log, func(w http.ResponseWriter, r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := st.Ping(ctx); err != nil {
			return apierr.ServerUnavailable.With("The database is not reachable.").Wrap(err)
		}
		httpx.WriteJSON(w, r, http.StatusOK, &struct {
			httpx.Envelope
			Status string `json:"status"`
		}{Status: "ready"})
		return nil
	}))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	dispatcher := webhooks.NewDispatcher(st, sealer, o.Clock, log)
	if o.PollOutbox > 0 {
		dispatcher.Poll = o.PollOutbox
	}
	dispatcher.Client = o.WebhookClient
	dispatcher.Lease = o.DeliveryLease
	dispatcher.Timeout = min(webhooks.DefaultTimeout, o.DeliveryLease/2)
	providers := map[string]delivery.Provider{"dev": delivery.Dev{}}
	for k, v := range o.Providers {
		providers[k] = v
	}
	return &App{
		Store:        st,
		Projects:     projectSvc,
		Sessions:     sessionSvc,
		Handler:      httpx.Shell(log, metrics, mux.mux),
		Routes:       routes,
		PublicRoutes: publicRoutes,
		Mounted:      mux.patterns,
		Outbox:       outbox,
		worker: &delivery.Worker{Store: st, Outbox: outbox, Providers: providers, Clock: o.Clock, Log: log,
			Poll: o.PollOutbox, Lease: o.DeliveryLease, MaxAttempts: 10, Concurrency: OutboxConcurrency},
		Webhooks:  dispatcher,
		log:       log,
		clock:     o.Clock,
		retention: o.Retention,
	}, nil
}

// registerHashMetrics exposes the password hasher's load: how close logins
// are to the memory budget, and how many wait for room.
func registerHashMetrics(reg prometheus.Registerer, h *hashes.Hasher) {
	gauge := func(name, help string, v func(hashes.Stats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return v(h.Stats()) })
	}
	reg.MustRegister(
		gauge("latch_password_hashes_in_flight", "Password hashes and verifications running now.", func(s hashes.Stats) float64 { return float64(s.InFlight) }),
		gauge("latch_password_hashes_queued", "Password hashes and verifications waiting for memory or a slot.", func(s hashes.Stats) float64 { return float64(s.Queued) }),
		gauge("latch_password_hash_memory_bytes", "Memory reserved by running password hashes.", func(s hashes.Stats) float64 { return float64(s.InFlightBytes) }),
		gauge("latch_password_hash_memory_budget_bytes", "The password hashing memory budget (--hash-memory).", func(s hashes.Stats) float64 { return float64(s.MemoryBudget) }),
	)
}

// routeTable is the server's one ServeMux and every pattern registered on
// it. Only its methods touch the mux (a test holds this), so the list is
// complete and the hostile-input table covers each route.
type routeTable struct {
	mux      *http.ServeMux
	patterns []string
}

func newRouteTable() *routeTable { return &routeTable{mux: http.NewServeMux()} }

// Handle mounts h as it is: the unauthenticated pages and operational
// endpoints.
func (t *routeTable) Handle(pattern string, h http.Handler) {
	t.patterns = append(t.patterns, pattern)
	t.mux.Handle(pattern, h)
}

// authed mounts behind project Basic auth, listing patterns in *list too.
func (t *routeTable) authed(log *slog.Logger, auth httpx.Authenticator, list *[]string) httpx.Router {
	return recorded{httpx.AuthRouter{Mux: t.mux, Log: log, Auth: auth, Patterns: list}, t}
}

// projectPublic mounts the /v1/public/{project_id}/ routes, listing
// patterns in *list too.
func (t *routeTable) projectPublic(log *slog.Logger, lookup func(context.Context, string) (tenant.Project, error), list *[]string) httpx.Router {
	return recorded{httpx.ProjectRouter{Mux: t.mux, Log: log, Lookup: lookup, Patterns: list}, t}
}

// recorded lists each pattern in its table before next mounts it.
type recorded struct {
	next  httpx.Router
	table *routeTable
}

func (r recorded) Handle(pattern string, h http.Handler) {
	r.table.patterns = append(r.table.patterns, pattern)
	r.next.Handle(pattern, h)
}

// RunWorkers runs the background workers until ctx ends, then waits for them.
func (a *App) RunWorkers(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); a.worker.Run(ctx) }()
	go func() { defer wg.Done(); a.Webhooks.Run(ctx) }()
	go func() { defer wg.Done(); a.sweep(ctx) }()
	wg.Wait()
}

// sweep deletes expired sessions, and expired Connected Apps codes and
// tokens, so the tables do not grow without bound.
func (a *App) sweep(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		a.SweepOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SweepOnce deletes expired sessions and Connected Apps codes and tokens,
// and events, delivery records and settled outbox messages older than the
// retention; the sweeper runs it every ten minutes.
func (a *App) SweepOnce(ctx context.Context) {
	if n, err := a.Store.DeleteExpiredSessions(ctx, a.clock.Now()); err != nil && ctx.Err() == nil {
		a.log.Warn("session sweep failed", "err", err)
	} else if n > 0 {
		a.log.Info("swept expired sessions", "count", n)
	}
	if n, err := a.Store.DeleteExpiredConnectedAppTokens(ctx, a.clock.Now()); err != nil && ctx.Err() == nil {
		a.log.Warn("connected apps token sweep failed", "err", err)
	} else if n > 0 {
		a.log.Info("swept expired connected apps codes and tokens", "count", n)
	}
	if a.retention > 0 {
		before := a.clock.Now().Add(-a.retention)
		a.sweepBatches(ctx, "events", func(n int) (int64, error) { return a.Store.DeleteEventsBefore(ctx, before, n) })
		a.sweepBatches(ctx, "outbox messages", func(n int) (int64, error) { return a.Store.DeleteMessagesBefore(ctx, before, n) })
	}
}

// sweepBatches deletes in batches of 1,000 until a batch comes back short,
// so no single statement holds SQLite's writer for long.
func (a *App) sweepBatches(ctx context.Context, what string, del func(n int) (int64, error)) {
	const batch = 1000
	var total int64
	for ctx.Err() == nil {
		n, err := del(batch)
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("retention sweep failed", "what", what, "err", err)
			}
			break
		}
		total += n
		if n < batch {
			break
		}
	}
	if total > 0 {
		a.log.Info("retention sweep", "what", what, "deleted", total, "older_than", a.retention)
	}
}

// Credentials is what the first start writes to DATA_DIR/credentials.json.
type Credentials = projects.Created

// Serve runs `latch serve` until ctx is cancelled (SIGTERM), then shuts
// down gracefully: in-flight requests finish, workers stop.
func Serve(ctx context.Context, cfg config.Config, log *slog.Logger, out *os.File) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return err
	}
	masterKey, err := cfg.LoadMasterKey()
	if err != nil {
		return err
	}
	st, err := sqlstore.Open(ctx, cfg.DatabaseOrSQLite())
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer st.Close()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	scheme := "https"
	var tlsConf *tls.Config
	caFile := ""
	switch {
	case cfg.TLSCert != "":
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return err
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	case cfg.TLS == "auto":
		publicHost := ""
		if u, err := url.Parse(cfg.PublicURL); err == nil {
			publicHost = u.Hostname()
		}
		cert, ca, err := tlsca.Ensure(filepath.Join(cfg.DataDir, "tls"), tlsca.ServeHosts(ln.Addr(), publicHost))
		if err != nil {
			return err
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		caFile = ca
	default:
		scheme = "http"
	}
	base := scheme + "://" + ln.Addr().String()
	publicURL := cfg.PublicURL
	if publicURL == "" {
		publicURL = base
	}

	providers := map[string]delivery.Provider{}
	emailLive := ""
	if cfg.SMTP.Host != "" {
		sender, err := smtp.New(smtp.Config{Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username,
			Password: cfg.SMTP.Password, From: cfg.SMTP.From, TLS: smtp.TLSMode(cfg.SMTP.TLS)})
		if err != nil {
			return err
		}
		providers["smtp"] = delivery.SMTP{Sender: sender}
		emailLive = "smtp"
	}
	textLive := ""
	if cfg.Twilio.AccountSID != "" {
		sender, err := sms.New(sms.Config{BaseURL: cfg.Twilio.BaseURL, AccountSID: cfg.Twilio.AccountSID, AuthToken: cfg.Twilio.AuthToken,
			From: cfg.Twilio.From, MessagingServiceSID: cfg.Twilio.MessagingServiceSID, WhatsAppFrom: cfg.Twilio.WhatsAppFrom})
		if err != nil {
			return err
		}
		providers["twilio"] = delivery.Twilio{Sender: sender}
		textLive = "twilio"
	}
	limiter, closeLimiter, err := rateLimiter(cfg, log)
	if err != nil {
		return err
	}
	defer closeLimiter()
	app, err := New(st, Options{Log: log, MasterKey: masterKey, PublicURL: publicURL, Providers: providers, EmailLive: emailLive, TextLive: textLive,
		RateLimiter: limiter, DeliveryLease: cfg.DeliveryLease, Retention: cfg.Retention,
		HashParams: cfg.HashParams(), HashLimits: cfg.HashLimits()})
	if err != nil {
		return err
	}
	creds, err := firstProject(ctx, app, cfg.DataDir)
	if err != nil {
		return err
	}

	srv := &http.Server{
		Handler:           app.Handler,
		TLSConfig:         tlsConf,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	workCtx, stopWork := context.WithCancel(context.Background())
	workersDone := make(chan struct{})
	go func() { app.RunWorkers(workCtx); close(workersDone) }()

	serveErr := make(chan error, 1)
	go func() {
		if tlsConf != nil {
			serveErr <- srv.ServeTLS(ln, "", "")
		} else {
			serveErr <- srv.Serve(ln)
		}
	}()
	printBanner(out, base, cfg, creds, caFile, st.Dialect())
	log.Info("latch serving", "url", base, "database", st.Dialect(), "data_dir", cfg.DataDir, "smtp", cfg.SMTP, "twilio", cfg.Twilio)

	select {
	case err := <-serveErr:
		stopWork()
		<-workersDone
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(shutCtx)
	stopWork()
	<-workersDone
	log.Info("stopped")
	return err
}

// firstProject creates the development project on an empty database and
// writes its credentials; later starts read the file back for the banner.
// The secret exists only in this file (the database keeps its hash), so the
// file is opened before the project is created, written to a private temp
// file and renamed into place: a data dir that cannot take it fails the
// start before a project whose secret would be lost exists.
func firstProject(ctx context.Context, app *App, dataDir string) (*Credentials, error) {
	path := filepath.Join(dataDir, "credentials.json")
	tmp, err := os.CreateTemp(dataDir, ".credentials-*.json") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("data dir not writable for credentials.json: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename it is already gone
	defer tmp.Close()
	c, created, err := app.Projects.CreateFirst(ctx, "Latch development project", tenant.Consumer, tenant.Test)
	if err != nil {
		return nil, err
	}
	if !created {
		var c Credentials
		if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &c) == nil {
			return &c, nil
		}
		return nil, nil
	}
	b, _ := json.MarshalIndent(c, "", "  ")
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	// Rename replaces a stale file whatever its mode; the new one is 0600.
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, err
	}
	return c, nil
}

func printBanner(out *os.File, base string, cfg config.Config, c *Credentials, caFile, dialect string) {
	fmt.Fprintf(out, "\nLatch is running at %s (database: %s)\n", base, dialect)
	if c != nil {
		fmt.Fprintf(out, "  project_id:  %s\n", c.ProjectID)
		fmt.Fprintf(out, "  secret:      in %s\n", filepath.Join(cfg.DataDir, "credentials.json"))
	}
	if caFile != "" {
		fmt.Fprintf(out, "  trust the CA: export NODE_EXTRA_CA_CERTS=%s\n", caFile)
	}
	fmt.Fprintf(out, "  point the SDK at it: new stytch.Client({ project_id, secret, custom_base_url: %q })\n", base+"/")
	fmt.Fprintf(out, "  dev outbox:  %s/dev/outbox (Basic auth: project_id / secret)\n\n", base)
}

// rateLimiter builds the limiter cfg asks for: none when off (said loudly),
// Redis when a URL is given, else in process.
func rateLimiter(cfg config.Config, log *slog.Logger) (ratelimit.Limiter, func(), error) {
	if cfg.RateLimits == "off" {
		log.Warn("RATE LIMITS ARE OFF (--rate-limits=off or LATCH_RATE_LIMITS=off): every send and authenticate endpoint is unlimited; use this only for load tests and local benchmarks")
		return nil, func() {}, nil
	}
	if cfg.RedisURL == "" {
		log.Info("rate limits on, in process (one replica's view; set --redis-url to share them)")
		return ratelimit.NewMemory(ratelimit.DefaultMaxKeys), func() {}, nil
	}
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("--redis-url: %w", err)
	}
	// Short timeouts: a sick Redis must fail open fast, not add seconds to
	// every sign-in.
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = time.Second, 300*time.Millisecond, 300*time.Millisecond
	opt.ContextTimeoutEnabled = true
	client := redis.NewClient(opt)
	log.Info("rate limits on, shared through Redis", "redis", opt.Addr)
	return ratelimit.NewRedis(client, "latch:"), func() { client.Close() }, nil
}

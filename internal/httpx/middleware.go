package httpx

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the request counters and latency histograms served at /metrics.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics registers the HTTP metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latch_http_requests_total",
			Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "latch_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "status"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// Shell wraps the router: it assigns the request id, limits the body, turns
// unknown routes and wrong methods into Stytch error envelopes, and records
// access logs and metrics.
func Shell(log *slog.Logger, m *Metrics, mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, ri := withInfo(r.Context())
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w, r: r}
		r.Body = http.MaxBytesReader(sw, r.Body, MaxBody)

		route := ""
		if _, pattern := mux.Handler(r); pattern != "" {
			serveRecovering(log, mux, sw, r)
			route = r.Pattern
		} else if allowed := allowedMethods(mux, r); allowed != "" {
			sw.Header().Set("Allow", allowed)
			WriteError(sw, r, log, apierr.MethodNotAllowed.Withf("%s is not allowed on %s; use %s.", r.Method, r.URL.Path, allowed))
			route = "method_not_allowed"
		} else {
			WriteError(sw, r, log, apierr.RouteNotFound.Withf("No route %s %s.", r.Method, r.URL.Path))
			route = "not_found"
		}
		if sw.status == 0 {
			sw.WriteHeader(http.StatusOK)
		}
		d := time.Since(start)
		status := strconv.Itoa(sw.status)
		m.requests.WithLabelValues(route, status).Inc()
		m.latency.WithLabelValues(route, status).Observe(d.Seconds())
		// Only the path: query strings and bodies may carry tokens.
		log.LogAttrs(r.Context(), slog.LevelInfo, "http",
			slog.String("request_id", RequestID(r.Context())),
			slog.String("project_id", ri.projectID),
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Int("bytes", sw.bytes),
			slog.Duration("duration", d))
	})
}

// serveRecovering answers a handler's panic with a 500 envelope instead of
// a dropped connection, so the client still gets JSON and a request id, and
// the access log and metrics still see the request. A panic after the
// handler began its answer can only be logged.
func serveRecovering(log *slog.Logger, h http.Handler, sw *statusWriter, r *http.Request) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		log.LogAttrs(r.Context(), slog.LevelError, "handler panic",
			slog.String("request_id", RequestID(r.Context())),
			slog.String("route", r.Pattern),
			slog.Any("panic", v),
			slog.String("stack", string(debug.Stack())))
		if sw.status == 0 {
			WriteError(sw, r, log, apierr.InternalServerError)
		} else {
			sw.status = http.StatusInternalServerError
		}
	}()
	h.ServeHTTP(sw, r)
}

func allowedMethods(mux *http.ServeMux, r *http.Request) string {
	allowed := ""
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := mux.Handler(probe); p != "" {
			if allowed != "" {
				allowed += ", "
			}
			allowed += m
		}
	}
	return allowed
}

// Authenticator checks a project's Basic-auth credentials.
type Authenticator interface {
	AuthenticateProject(ctx context.Context, projectID, secret string) (tenant.Project, error)
}

// Auth requires HTTP Basic project_id:secret and puts the project in the context.
func Auth(log *slog.Logger, a Authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok || id == "" || secret == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="latch"`)
			WriteError(w, r, log, apierr.UnauthorizedCredentials.With("Provide your project_id and secret with HTTP Basic authentication."))
			return
		}
		p, err := a.AuthenticateProject(r.Context(), id, secret)
		if err != nil {
			WriteError(w, r, log, err)
			return
		}
		setProject(r.Context(), p)
		next.ServeHTTP(w, r.WithContext(tenant.With(r.Context(), p)))
	})
}

// Router is where products register routes (an *http.ServeMux or a wrapper).
type Router interface {
	Handle(pattern string, h http.Handler)
}

// AuthRouter registers every route on Mux behind Basic auth.
type AuthRouter struct {
	Mux  *http.ServeMux
	Log  *slog.Logger
	Auth Authenticator
	// Patterns, when set, collects every registered pattern, so tests can
	// cover each endpoint the day it is added.
	Patterns *[]string
}

func (a AuthRouter) Handle(pattern string, h http.Handler) {
	if a.Patterns != nil {
		*a.Patterns = append(*a.Patterns, pattern)
	}
	a.Mux.Handle(pattern, Auth(a.Log, a.Auth, h))
}

// ProjectRouter registers routes that carry no project credentials but
// name their project in the {project_id} path wildcard (the OAuth 2.0
// endpoints under /v1/public/{project_id}/oauth2/): the project is looked
// up and put in the context, as Auth does, before anything else runs. An
// unknown project is answered in the OAuth error form.
type ProjectRouter struct {
	Mux *http.ServeMux
	Log *slog.Logger
	// Lookup returns the project with the id, or an error (store.ErrNotFound
	// for none).
	Lookup func(ctx context.Context, projectID string) (tenant.Project, error)
	// Patterns, when set, collects every registered pattern.
	Patterns *[]string
}

func (a ProjectRouter) Handle(pattern string, h http.Handler) {
	if a.Patterns != nil {
		*a.Patterns = append(*a.Patterns, pattern)
	}
	a.Mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("project_id")
		if !strings.HasPrefix(id, "project-") || len(id) > 64 {
			WriteOAuthError(w, r, a.Log, apierr.ProjectNotFound)
			return
		}
		p, err := a.Lookup(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			WriteOAuthError(w, r, a.Log, apierr.ProjectNotFound)
			return
		}
		if err != nil {
			WriteOAuthError(w, r, a.Log, err)
			return
		}
		setProject(r.Context(), p)
		h.ServeHTTP(w, r.WithContext(tenant.With(r.Context(), p)))
	}))
}

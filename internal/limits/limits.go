// Package limits puts rate limits in front of every send and authenticate
// route. It is one middleware driven by a table of routes, so products stay
// unaware of limits and a new route is limited by adding one row: the
// guard reads the identifiers it needs (email, phone number, user id, ...)
// from the JSON body and hands the body on untouched.
package limits

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/contact"
	"github.com/latchhq/latch/internal/httpx"
	"github.com/latchhq/latch/internal/ratelimit"
)

// Route says how one route is limited: its class and the body fields that
// name who or what the call is about.
type Route struct {
	Class  ratelimit.Class
	Fields []string // top-level JSON string fields: "email", "phone_number", "user_id", ...
	// OAuth routes (the public /v1/public/{project_id}/oauth2/* endpoints)
	// answer a refusal in the OAuth error form.
	OAuth bool
}

// Guard applies a ratelimit.Policy, with each project's overrides, to the
// routes it wraps.
type Guard struct {
	Policy  ratelimit.Policy
	Limiter ratelimit.Limiter
	// Overrides returns a project's stored overrides (nil for none).
	Overrides func(ctx context.Context, projectID string) (ratelimit.Overrides, error)
	Clock     clock.Clock
	Log       *slog.Logger
	// RefreshEvery bounds how long a changed override takes to apply.
	RefreshEvery time.Duration

	mu       sync.Mutex
	projects map[string]cachedPolicy
}

type cachedPolicy struct {
	p  ratelimit.Policy
	at time.Time
}

// Router wraps the routes of Table registered through it; others pass as
// they are.
type Router struct {
	Next  httpx.Router
	Guard *Guard
	Table map[string]Route // by ServeMux pattern, "POST /v1/otps/authenticate"
}

// Handle implements httpx.Router.
func (r Router) Handle(pattern string, h http.Handler) {
	if rt, ok := r.Table[pattern]; ok && r.Guard != nil {
		h = r.Guard.Wrap(rt, h)
	}
	r.Next.Handle(pattern, h)
}

// maxIdentifierLen keeps a hostile body from making the guard hash
// megabytes; longer values are cut (they fail validation anyway).
const maxIdentifierLen = 320

// Wrap limits h by rt. The project must already be in the context (Wrap
// runs inside Basic auth).
func (g *Guard) Wrap(rt Route, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := httpx.ReadBody(r)
		if err != nil {
			if rt.OAuth {
				httpx.WriteOAuthError(w, r, g.Log, err)
				return
			}
			httpx.WriteError(w, r, g.Log, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		ids, ip := identifiers(body, rt.Fields)
		if ip == "" {
			ip = remoteIP(r)
		}
		p := httpx.ProjectOf(r)
		policy := g.policy(r.Context(), p.ID)
		d, err := policy.Check(r.Context(), g.Limiter, p.ID, rt.Class, ids...)
		if err == nil && d.Allowed {
			var ipd ratelimit.Decision
			ipd, err = policy.Check(r.Context(), g.Limiter, p.ID, ratelimit.IP, ip)
			d = ipd
		}
		if err != nil {
			// Fail open: an unreachable Redis must not take sign-in down.
			g.Log.WarnContext(r.Context(), "rate limiter unavailable; allowing", "err", err)
		} else if !d.Allowed {
			e := apierr.TooManyRequests.Withf("Too many requests; retry after %d seconds.", d.RetryAfterSeconds())
			e.RetryAfter = d.RetryAfterSeconds()
			if rt.OAuth {
				w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
				httpx.WriteOAuthError(w, r, g.Log, e)
				return
			}
			httpx.WriteError(w, r, g.Log, e)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// policy returns the project's policy, rebuilt from its stored overrides at
// most every RefreshEvery.
func (g *Guard) policy(ctx context.Context, projectID string) ratelimit.Policy {
	now := g.Clock.Now()
	g.mu.Lock()
	c, ok := g.projects[projectID]
	g.mu.Unlock()
	if ok && now.Sub(c.at) < g.RefreshEvery {
		return c.p
	}
	p := g.Policy
	if g.Overrides != nil {
		o, err := g.Overrides(ctx, projectID)
		if err != nil {
			g.Log.WarnContext(ctx, "rate limit overrides unreadable; using defaults", "project_id", projectID, "err", err)
		} else if o != nil {
			if withO, err := g.Policy.WithProject(projectID, o); err == nil {
				p = withO
			}
		}
	}
	g.mu.Lock()
	if g.projects == nil || len(g.projects) > 10_000 {
		g.projects = map[string]cachedPolicy{}
	}
	g.projects[projectID] = cachedPolicy{p: p, at: now}
	g.mu.Unlock()
	return p
}

// identifiers reads fields (and attributes.ip_address) from a JSON object
// body, normalising emails and phone numbers so spelling variants share a
// budget. A body that is not a JSON object yields none: the handler will
// refuse it.
func identifiers(body []byte, fields []string) (ids []string, ip string) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return nil, ""
	}
	for _, f := range fields {
		var v string
		if json.Unmarshal(obj[f], &v) != nil || v == "" {
			continue
		}
		if len(v) > maxIdentifierLen {
			v = v[:maxIdentifierLen]
		}
		switch f {
		case "email":
			if n, err := contact.NormalizeEmail(v); err == nil {
				v = n
			} else {
				v = strings.ToLower(strings.TrimSpace(v))
			}
		case "phone_number":
			if n, err := contact.NormalizePhone(v); err == nil {
				v = n
			}
		}
		ids = append(ids, f+":"+v)
	}
	var attrs struct {
		IPAddress string `json:"ip_address"`
	}
	if raw, ok := obj["attributes"]; ok && json.Unmarshal(raw, &attrs) == nil {
		if addr := net.ParseIP(strings.TrimSpace(attrs.IPAddress)); addr != nil {
			ip = addr.String()
		}
	}
	return ids, ip
}

// remoteIP is the connection's address, without the port.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

package sessions

import (
	"log/slog"
	"net/http"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/httpx"
	"github.com/latchhq/latch/internal/keys"
	"github.com/latchhq/latch/internal/wire"
)

// Handler serves /v1/sessions.
type Handler struct {
	Service *Service
	Log     *slog.Logger
}

// Mount registers the routes: authed for Basic-auth routes, public for the
// JWKS the SDK fetches without credentials.
func (h *Handler) Mount(authed, public httpx.Router) {
	authed.Handle("POST /v1/sessions/authenticate", httpx.Errors(h.Log, h.authenticate))
	authed.Handle("GET /v1/sessions", httpx.Errors(h.Log, h.get))
	authed.Handle("POST /v1/sessions/revoke", httpx.Errors(h.Log, h.revoke))
	public.Handle("GET /v1/sessions/jwks/{project_id}", httpx.Errors(h.Log, h.jwks))
}

// RequestFields are the session fields every authenticate call takes;
// products embed them in their request bodies.
type RequestFields struct {
	SessionToken           string         `json:"session_token"`
	SessionJWT             string         `json:"session_jwt"`
	SessionDurationMinutes *int           `json:"session_duration_minutes"`
	SessionCustomClaims    map[string]any `json:"session_custom_claims"`
}

// Options are the session options the fields ask for.
func (f RequestFields) Options() Options {
	return Options{SessionToken: f.SessionToken, SessionJWT: f.SessionJWT,
		DurationMinutes: f.SessionDurationMinutes, CustomClaims: f.SessionCustomClaims}
}

type authenticateResponse struct {
	httpx.Envelope
	Session      *wire.Session `json:"session"`
	SessionToken string        `json:"session_token"`
	SessionJWT   string        `json:"session_jwt"`
	User         wire.User     `json:"user"`
}

func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) error {
	var req RequestFields
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	res, err := h.Service.Authenticate(r.Context(), httpx.ProjectOf(r), req.Options())
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &authenticateResponse{
		Session: res.Session, SessionToken: res.Token, SessionJWT: res.JWT, User: res.User,
	})
	return nil
}

type getResponse struct {
	httpx.Envelope
	Sessions []wire.Session `json:"sessions"`
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) error {
	userID := r.URL.Query().Get("user_id")
	if userID == "" {
		return apierr.MissingArgument.With("user_id is required.")
	}
	list, err := h.Service.List(r.Context(), httpx.ProjectOf(r), userID)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &getResponse{Sessions: list})
	return nil
}

type revokeRequest struct {
	SessionID    string `json:"session_id"`
	SessionToken string `json:"session_token"`
	SessionJWT   string `json:"session_jwt"`
}

func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) error {
	var req revokeRequest
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	if err := h.Service.Revoke(r.Context(), httpx.ProjectOf(r), RevokeRequest(req)); err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &httpx.Envelope{})
	return nil
}

type jwksResponse struct {
	httpx.Envelope
	Keys []keys.JWK `json:"keys"`
}

// jwks is public: the SDK's jose fetch sends no credentials. It serves only
// public keys, and only for projects that exist.
func (h *Handler) jwks(w http.ResponseWriter, r *http.Request) error {
	list, err := h.Service.PublicJWKS(r.Context(), r.PathValue("project_id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &jwksResponse{Keys: list})
	return nil
}

// MigrateHandler serves sessions.migrate.
type MigrateHandler struct {
	Migrator *Migrator
	Log      *slog.Logger
}

// Mount registers POST /v1/sessions/migrate.
func (h *MigrateHandler) Mount(authed httpx.Router) {
	authed.Handle("POST /v1/sessions/migrate", httpx.Errors(h.Log, h.migrate))
}

type migrateResponse struct {
	httpx.Envelope
	UserID       string        `json:"user_id"`
	SessionToken string        `json:"session_token"`
	SessionJWT   string        `json:"session_jwt"`
	User         wire.User     `json:"user"`
	Session      *wire.Session `json:"session"`
}

func (h *MigrateHandler) migrate(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		SessionToken           string         `json:"session_token"`
		SessionDurationMinutes *int           `json:"session_duration_minutes"`
		SessionCustomClaims    map[string]any `json:"session_custom_claims"`
	}
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	res, err := h.Migrator.Migrate(r.Context(), httpx.ProjectOf(r), MigrateInput{Token: req.SessionToken,
		Session: Options{DurationMinutes: req.SessionDurationMinutes, CustomClaims: req.SessionCustomClaims}})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &migrateResponse{UserID: res.UserID, SessionToken: res.Session.Token,
		SessionJWT: res.Session.JWT, User: res.User, Session: res.Session.Session})
	return nil
}

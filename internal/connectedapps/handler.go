package connectedapps

import (
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/httpx"
	"github.com/latchhq/latch/internal/sessions"
	"github.com/latchhq/latch/internal/wire"
)

// Handler serves Connected Apps: clients, the consent endpoints, the OAuth
// token and introspection endpoints, token exchange and a user's apps.
type Handler struct {
	Service *Service
	Log     *slog.Logger
}

// Mount registers the routes: authed for Basic-auth (project secret)
// routes; public for the OAuth endpoints, which authenticate the client
// instead and find the project in the path (see httpx.ProjectRouter).
func (h *Handler) Mount(authed, public httpx.Router) {
	authed.Handle("POST /v1/connected_apps/clients", httpx.Errors(h.Log, h.create))
	authed.Handle("GET /v1/connected_apps/clients/{client_id}", httpx.Errors(h.Log, h.get))
	authed.Handle("PUT /v1/connected_apps/clients/{client_id}", httpx.Errors(h.Log, h.update))
	authed.Handle("DELETE /v1/connected_apps/clients/{client_id}", httpx.Errors(h.Log, h.delete))
	authed.Handle("POST /v1/connected_apps/clients/search", httpx.Errors(h.Log, h.search))
	authed.Handle("POST /v1/connected_apps/clients/{client_id}/secrets/rotate/start", httpx.Errors(h.Log, h.rotateStart))
	authed.Handle("POST /v1/connected_apps/clients/{client_id}/secrets/rotate", httpx.Errors(h.Log, h.rotate))
	authed.Handle("POST /v1/connected_apps/clients/{client_id}/secrets/rotate/cancel", httpx.Errors(h.Log, h.rotateCancel))
	authed.Handle("POST /v1/idp/oauth/authorize/start", httpx.Errors(h.Log, h.authorizeStart))
	authed.Handle("POST /v1/idp/oauth/authorize", httpx.Errors(h.Log, h.authorize))
	authed.Handle("POST /v1/sessions/exchange_access_token", httpx.Errors(h.Log, h.exchangeAccessToken))
	authed.Handle("GET /v1/users/{user_id}/connected_apps", httpx.Errors(h.Log, h.userApps))
	authed.Handle("POST /v1/users/{user_id}/connected_apps/{connected_app_id}/revoke", httpx.Errors(h.Log, h.revokeUserApp))
	public.Handle("POST /v1/public/{project_id}/oauth2/token", httpx.OAuthErrors(h.Log, h.token))
	public.Handle("POST /v1/public/{project_id}/oauth2/introspect", httpx.OAuthErrors(h.Log, h.introspect))
}

type appResponse struct {
	httpx.Envelope
	ConnectedApp *App `json:"connected_app"`
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) error {
	var in ClientInput
	if err := httpx.Decode(r, &in); err != nil {
		return err
	}
	app, err := h.Service.Create(r.Context(), httpx.ProjectOf(r), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &appResponse{ConnectedApp: app})
	return nil
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) error {
	app, err := h.Service.Get(r.Context(), httpx.ProjectOf(r), r.PathValue("client_id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &appResponse{ConnectedApp: app})
	return nil
}

func (h *Handler) update(w http.ResponseWriter, r *http.Request) error {
	var in ClientInput
	if err := httpx.Decode(r, &in); err != nil {
		return err
	}
	app, err := h.Service.Update(r.Context(), httpx.ProjectOf(r), r.PathValue("client_id"), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &appResponse{ConnectedApp: app})
	return nil
}

type deleteResponse struct {
	httpx.Envelope
	ClientID string `json:"client_id"`
}

func (h *Handler) delete(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("client_id")
	if err := h.Service.Delete(r.Context(), httpx.ProjectOf(r), id); err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &deleteResponse{ClientID: id})
	return nil
}

type resultsMetadata struct {
	Total      int     `json:"total"`
	NextCursor *string `json:"next_cursor"`
}

type searchResponse struct {
	httpx.Envelope
	ConnectedApps   []App           `json:"connected_apps"`
	ResultsMetadata resultsMetadata `json:"results_metadata"`
}

func (h *Handler) search(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Cursor *string `json:"cursor"`
		Limit  *int    `json:"limit"`
	}
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	cursor := ""
	if req.Cursor != nil {
		cursor = *req.Cursor
	}
	res, err := h.Service.Search(r.Context(), httpx.ProjectOf(r), cursor, req.Limit)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &searchResponse{ConnectedApps: res.Apps,
		ResultsMetadata: resultsMetadata{Total: res.Total, NextCursor: res.NextCursor}})
	return nil
}

func (h *Handler) rotateStart(w http.ResponseWriter, r *http.Request) error {
	if err := httpx.Decode(r, &struct{}{}); err != nil {
		return err
	}
	app, err := h.Service.RotateStart(r.Context(), httpx.ProjectOf(r), r.PathValue("client_id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &appResponse{ConnectedApp: app})
	return nil
}

func (h *Handler) rotate(w http.ResponseWriter, r *http.Request) error {
	if err := httpx.Decode(r, &struct{}{}); err != nil {
		return err
	}
	app, err := h.Service.Rotate(r.Context(), httpx.ProjectOf(r), r.PathValue("client_id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &appResponse{ConnectedApp: app})
	return nil
}

func (h *Handler) rotateCancel(w http.ResponseWriter, r *http.Request) error {
	if err := httpx.Decode(r, &struct{}{}); err != nil {
		return err
	}
	app, err := h.Service.RotateCancel(r.Context(), httpx.ProjectOf(r), r.PathValue("client_id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &appResponse{ConnectedApp: app})
	return nil
}

type authorizeStartResponse struct {
	httpx.Envelope
	UserID          string        `json:"user_id"`
	User            wire.User     `json:"user"`
	Client          PublicApp     `json:"client"`
	ConsentRequired bool          `json:"consent_required"`
	ScopeResults    []ScopeResult `json:"scope_results"`
}

func (h *Handler) authorizeStart(w http.ResponseWriter, r *http.Request) error {
	var req AuthorizeRequest
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	res, err := h.Service.AuthorizeStart(r.Context(), httpx.ProjectOf(r), &req)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &authorizeStartResponse{UserID: res.User.UserID, User: res.User, Client: res.Client,
		ConsentRequired: res.ConsentRequired, ScopeResults: res.ScopeResults})
	return nil
}

type authorizeResponse struct {
	httpx.Envelope
	RedirectURI       string `json:"redirect_uri"`
	AuthorizationCode string `json:"authorization_code,omitempty"`
}

func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) error {
	var req AuthorizeRequest
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	res, err := h.Service.Authorize(r.Context(), httpx.ProjectOf(r), &req)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &authorizeResponse{RedirectURI: res.RedirectURI, AuthorizationCode: res.Code})
	return nil
}

type exchangeResponse struct {
	httpx.Envelope
	UserID       string        `json:"user_id"`
	SessionToken string        `json:"session_token"`
	SessionJWT   string        `json:"session_jwt"`
	Session      *wire.Session `json:"session"`
	User         wire.User     `json:"user"`
}

func (h *Handler) exchangeAccessToken(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		AccessToken            string         `json:"access_token"`
		SessionDurationMinutes *int           `json:"session_duration_minutes"`
		SessionCustomClaims    map[string]any `json:"session_custom_claims"`
		TelemetryID            string         `json:"telemetry_id"`
	}
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	res, err := h.Service.ExchangeAccessToken(r.Context(), httpx.ProjectOf(r), req.AccessToken,
		sessions.Options{DurationMinutes: req.SessionDurationMinutes, CustomClaims: req.SessionCustomClaims})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &exchangeResponse{UserID: res.UserID, SessionToken: res.Session.Token,
		SessionJWT: res.Session.JWT, Session: res.Session.Session, User: res.User})
	return nil
}

type userAppsResponse struct {
	httpx.Envelope
	ConnectedApps []UserApp `json:"connected_apps"`
}

func (h *Handler) userApps(w http.ResponseWriter, r *http.Request) error {
	list, err := h.Service.UserApps(r.Context(), httpx.ProjectOf(r), r.PathValue("user_id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &userAppsResponse{ConnectedApps: list})
	return nil
}

func (h *Handler) revokeUserApp(w http.ResponseWriter, r *http.Request) error {
	if err := httpx.Decode(r, &struct{}{}); err != nil {
		return err
	}
	if err := h.Service.RevokeUserApp(r.Context(), httpx.ProjectOf(r), r.PathValue("user_id"), r.PathValue("connected_app_id")); err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &httpx.Envelope{})
	return nil
}

// ---- the OAuth endpoints ----

// maxParam bounds each OAuth parameter.
const maxParam = 8192

// oauthParams reads an OAuth endpoint's parameters from a form-encoded or
// JSON body and the client credentials from the body or HTTP Basic
// (RFC 6749 section 2.3.1: the Basic user and password are form-encoded).
// basic reports that Basic was used.
func oauthParams(r *http.Request) (params map[string]string, basic bool, err error) {
	body, err := httpx.ReadBody(r)
	if err != nil {
		return nil, false, err
	}
	if !utf8.Valid(body) {
		return nil, false, apierr.OAuthInvalidRequest.With("The request body is not valid UTF-8.")
	}
	params = map[string]string{}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		if len(strings.TrimSpace(string(body))) > 0 {
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil || m == nil {
				return nil, false, apierr.OAuthInvalidRequest.With("The request body must be a JSON object.")
			}
			for k, v := range m {
				switch x := v.(type) {
				case nil:
				case string:
					params[k] = x
				default:
					return nil, false, apierr.OAuthInvalidRequest.Withf("%.40s must be a string.", k)
				}
			}
		}
	} else {
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, false, apierr.OAuthInvalidRequest.With("The request body is not form-encoded.")
		}
		for k, vs := range vals {
			if len(vs) > 1 {
				return nil, false, apierr.OAuthInvalidRequest.Withf("%.40s is repeated.", k)
			}
			params[k] = vs[0]
		}
	}
	for k, v := range params {
		if len(v) > maxParam || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return nil, false, apierr.OAuthInvalidRequest.Withf("%.40s is malformed.", k)
		}
	}
	if r.Header.Get("Authorization") != "" {
		id, secret, ok := r.BasicAuth()
		if !ok {
			return nil, true, apierr.OAuthInvalidClient.With("Send client credentials with HTTP Basic or in the body.")
		}
		if u, err := url.QueryUnescape(id); err == nil {
			id = u
		}
		if u, err := url.QueryUnescape(secret); err == nil {
			secret = u
		}
		if params["client_secret"] != "" || (params["client_id"] != "" && params["client_id"] != id) {
			return nil, true, apierr.OAuthInvalidRequest.With("Use one client authentication method: HTTP Basic or the body.")
		}
		params["client_id"], params["client_secret"] = id, secret
		basic = true
	}
	return params, basic, nil
}

// clientError makes a failed client authentication over HTTP Basic a 401,
// as RFC 6749 section 5.2 asks; in the body it stays Stytch's 400.
func clientError(err error, basic bool) error {
	var e *apierr.Error
	if basic && errors.As(err, &e) && e.Type == apierr.OAuthInvalidClient.Type {
		c := *e
		c.Status = http.StatusUnauthorized
		return &c
	}
	return err
}

type tokenResponse struct {
	httpx.Envelope
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

func (h *Handler) token(w http.ResponseWriter, r *http.Request) error {
	p, basic, err := oauthParams(r)
	if err != nil {
		return clientError(err, basic)
	}
	res, err := h.Service.Token(r.Context(), httpx.ProjectOf(r), TokenRequest{
		GrantType: p["grant_type"], ClientID: p["client_id"], ClientSecret: p["client_secret"], Code: p["code"],
		RedirectURI: p["redirect_uri"], CodeVerifier: p["code_verifier"], RefreshToken: p["refresh_token"], Scope: p["scope"],
	})
	if err != nil {
		return clientError(err, basic)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	httpx.WriteJSON(w, r, http.StatusOK, &tokenResponse{AccessToken: res.AccessToken, TokenType: "bearer", ExpiresIn: res.ExpiresIn,
		Scope: res.Scope, RefreshToken: res.RefreshToken, IDToken: res.IDToken})
	return nil
}

func (h *Handler) introspect(w http.ResponseWriter, r *http.Request) error {
	p, basic, err := oauthParams(r)
	if err != nil {
		return clientError(err, basic)
	}
	res, err := h.Service.Introspect(r.Context(), httpx.ProjectOf(r), p["client_id"], p["client_secret"], p["token"], p["token_type_hint"])
	if err != nil {
		return clientError(err, basic)
	}
	body := map[string]any{}
	for k, v := range res.Claims {
		body[k] = v
	}
	body["active"] = res.Active
	body["status_code"] = http.StatusOK
	body["request_id"] = httpx.RequestID(r.Context())
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, r, http.StatusOK, body)
	return nil
}

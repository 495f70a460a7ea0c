package magiclinks

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/latchhq/latch/internal/httpx"
	"github.com/latchhq/latch/internal/sessions"
	"github.com/latchhq/latch/internal/users"
	"github.com/latchhq/latch/internal/wire"
)

// Handler serves /v1/magic_links.
type Handler struct {
	Service *Service
	Log     *slog.Logger
}

// Mount registers authenticated routes and the public redirect.
func (h *Handler) Mount(authed, public httpx.Router) {
	authed.Handle("POST /v1/magic_links/email/login_or_create", httpx.Errors(h.Log, h.loginOrCreate))
	authed.Handle("POST /v1/magic_links/email/send", httpx.Errors(h.Log, h.send))
	authed.Handle("POST /v1/magic_links/email/invite", httpx.Errors(h.Log, h.invite))
	authed.Handle("POST /v1/magic_links/email/revoke_invite", httpx.Errors(h.Log, h.revokeInvite))
	authed.Handle("POST /v1/magic_links", httpx.Errors(h.Log, h.create))
	authed.Handle("POST /v1/magic_links/authenticate", httpx.Errors(h.Log, h.authenticate))
	public.Handle("GET /v1/magic_links/redirect", httpx.Errors(h.Log, h.redirect))
}

type sendRequest struct {
	Email                   string           `json:"email"`
	LoginMagicLinkURL       string           `json:"login_magic_link_url"`
	SignupMagicLinkURL      string           `json:"signup_magic_link_url"`
	InviteMagicLinkURL      string           `json:"invite_magic_link_url"`
	LoginExpirationMinutes  *int             `json:"login_expiration_minutes"`
	SignupExpirationMinutes *int             `json:"signup_expiration_minutes"`
	InviteExpirationMinutes *int             `json:"invite_expiration_minutes"`
	LoginTemplateID         string           `json:"login_template_id"`
	SignupTemplateID        string           `json:"signup_template_id"`
	InviteTemplateID        string           `json:"invite_template_id"`
	Attributes              *wire.Attributes `json:"attributes"`
	CreateUserAsPending     bool             `json:"create_user_as_pending"`
	CodeChallenge           string           `json:"code_challenge"`
	Locale                  string           `json:"locale"`
	UserID                  string           `json:"user_id"`
	SessionToken            string           `json:"session_token"`
	SessionJWT              string           `json:"session_jwt"`
	Name                    *users.NameInput `json:"name"`
	TrustedMetadata         json.RawMessage  `json:"trusted_metadata"`
	UntrustedMetadata       json.RawMessage  `json:"untrusted_metadata"`
}

func (req *sendRequest) input() SendInput {
	in := SendInput{
		Email: req.Email, LoginURL: req.LoginMagicLinkURL, SignupURL: req.SignupMagicLinkURL, InviteURL: req.InviteMagicLinkURL,
		LoginExpiration: req.LoginExpirationMinutes, SignupExpiration: req.SignupExpirationMinutes, InviteExpiration: req.InviteExpirationMinutes,
		LoginTemplateID: req.LoginTemplateID, SignupTemplateID: req.SignupTemplateID, InviteTemplateID: req.InviteTemplateID,
		Locale: req.Locale, CodeChallenge: req.CodeChallenge, CreateUserAsPending: req.CreateUserAsPending,
		UserID: req.UserID, SessionToken: req.SessionToken, SessionJWT: req.SessionJWT,
		Name: req.Name, TrustedMetadata: req.TrustedMetadata, UntrustedMetadata: req.UntrustedMetadata,
	}
	if req.Attributes != nil {
		in.Attributes = *req.Attributes
	}
	return in
}

type sendResponse struct {
	httpx.Envelope
	UserID  string `json:"user_id"`
	EmailID string `json:"email_id"`
}

type loginOrCreateResponse struct {
	httpx.Envelope
	UserID      string `json:"user_id"`
	EmailID     string `json:"email_id"`
	UserCreated bool   `json:"user_created"`
}

func (h *Handler) loginOrCreate(w http.ResponseWriter, r *http.Request) error {
	var req sendRequest
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	in := req.input()
	// login_or_create takes no session or user to attach to.
	in.UserID, in.SessionToken, in.SessionJWT = "", "", ""
	res, err := h.Service.LoginOrCreate(r.Context(), httpx.ProjectOf(r), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &loginOrCreateResponse{UserID: res.UserID, EmailID: res.EmailID, UserCreated: res.UserCreated})
	return nil
}

func (h *Handler) send(w http.ResponseWriter, r *http.Request) error {
	var req sendRequest
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	res, err := h.Service.Send(r.Context(), httpx.ProjectOf(r), req.input())
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &sendResponse{UserID: res.UserID, EmailID: res.EmailID})
	return nil
}

func (h *Handler) invite(w http.ResponseWriter, r *http.Request) error {
	var req sendRequest
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	in := req.input()
	in.UserID, in.SessionToken, in.SessionJWT = "", "", ""
	res, err := h.Service.Invite(r.Context(), httpx.ProjectOf(r), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &sendResponse{UserID: res.UserID, EmailID: res.EmailID})
	return nil
}

func (h *Handler) revokeInvite(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Email string `json:"email"`
	}
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	if err := h.Service.RevokeInvite(r.Context(), httpx.ProjectOf(r), req.Email); err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &httpx.Envelope{})
	return nil
}

type createResponse struct {
	httpx.Envelope
	UserID string `json:"user_id"`
	Token  string `json:"token"`
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		UserID            string           `json:"user_id"`
		ExpirationMinutes *int             `json:"expiration_minutes"`
		Attributes        *wire.Attributes `json:"attributes"`
	}
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	var attrs wire.Attributes
	if req.Attributes != nil {
		attrs = *req.Attributes
	}
	userID, token, err := h.Service.Create(r.Context(), httpx.ProjectOf(r), req.UserID, req.ExpirationMinutes, attrs)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &createResponse{UserID: userID, Token: token})
	return nil
}

type authenticateRequest struct {
	Token      string             `json:"token"`
	Attributes *wire.Attributes   `json:"attributes"`
	Options    *wire.MatchOptions `json:"options"`
	sessions.RequestFields
	CodeVerifier string `json:"code_verifier"`
	// TelemetryID is decoded so a wrong type is refused, then ignored:
	// Latch has no fraud or device-fingerprint service to look it up in.
	TelemetryID string `json:"telemetry_id"`
}

type authenticateResponse struct {
	httpx.Envelope
	UserID        string        `json:"user_id"`
	MethodID      string        `json:"method_id"`
	SessionToken  string        `json:"session_token"`
	SessionJWT    string        `json:"session_jwt"`
	Session       *wire.Session `json:"session"`
	User          wire.User     `json:"user"`
	ResetSessions bool          `json:"reset_sessions"`
}

func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) error {
	var req authenticateRequest
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	in := AuthenticateInput{
		Token:        req.Token,
		CodeVerifier: req.CodeVerifier,
		Session:      req.RequestFields.Options(),
	}
	if req.Attributes != nil {
		in.Attributes = *req.Attributes
	}
	if req.Options != nil {
		in.Options = *req.Options
	}
	res, err := h.Service.Authenticate(r.Context(), httpx.ProjectOf(r), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &authenticateResponse{
		UserID: res.UserID, MethodID: res.MethodID, SessionToken: res.Session.Token, SessionJWT: res.Session.JWT,
		Session: res.Session.Session, User: res.User,
	})
	return nil
}

// redirect is where emailed links point: it forwards the browser to the
// app's registered URL with stytch_token_type and token, consuming nothing.
func (h *Handler) redirect(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	target, err := h.Service.RedirectTarget(r.Context(), q.Get("project_id"), q.Get("token"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}

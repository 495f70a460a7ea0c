package totps

import (
	"log/slog"
	"net/http"

	"github.com/latchhq/latch/internal/httpx"
	"github.com/latchhq/latch/internal/sessions"
	"github.com/latchhq/latch/internal/wire"
)

// Handler serves /v1/totps.
type Handler struct {
	Service *Service
	Log     *slog.Logger
}

// Mount registers the routes; all need the project secret.
func (h *Handler) Mount(authed httpx.Router) {
	authed.Handle("POST /v1/totps", httpx.Errors(h.Log, h.create))
	authed.Handle("POST /v1/totps/authenticate", httpx.Errors(h.Log, h.authenticate))
	authed.Handle("POST /v1/totps/recovery_codes", httpx.Errors(h.Log, h.recoveryCodes))
	authed.Handle("POST /v1/totps/recover", httpx.Errors(h.Log, h.recover))
}

type createResponse struct {
	httpx.Envelope
	TOTPID        string    `json:"totp_id"`
	Secret        string    `json:"secret"`
	QRCode        string    `json:"qr_code"`
	RecoveryCodes []string  `json:"recovery_codes"`
	User          wire.User `json:"user"`
	UserID        string    `json:"user_id"`
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		UserID            string `json:"user_id"`
		ExpirationMinutes *int   `json:"expiration_minutes"`
	}
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	res, err := h.Service.Create(r.Context(), httpx.ProjectOf(r), req.UserID, req.ExpirationMinutes)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &createResponse{
		TOTPID: res.TOTPID, Secret: res.Secret, QRCode: res.QRCode, RecoveryCodes: res.RecoveryCodes,
		User: res.User, UserID: res.User.UserID,
	})
	return nil
}

// authenticatedResponse is the shape of both authenticate and recover.
type authenticatedResponse struct {
	httpx.Envelope
	UserID       string        `json:"user_id"`
	TOTPID       string        `json:"totp_id"`
	SessionToken string        `json:"session_token"`
	SessionJWT   string        `json:"session_jwt"`
	Session      *wire.Session `json:"session"`
	User         wire.User     `json:"user"`
}

func writeAuthenticated(w http.ResponseWriter, r *http.Request, res *Authenticated) {
	httpx.WriteJSON(w, r, http.StatusOK, &authenticatedResponse{
		UserID: res.UserID, TOTPID: res.TOTPID, SessionToken: res.Session.Token, SessionJWT: res.Session.JWT,
		Session: res.Session.Session, User: res.User,
	})
}

func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		UserID   string `json:"user_id"`
		TOTPCode string `json:"totp_code"`
		sessions.RequestFields
	}
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	res, err := h.Service.Authenticate(r.Context(), httpx.ProjectOf(r),
		AuthenticateInput{UserID: req.UserID, Code: req.TOTPCode, Session: req.Options()})
	if err != nil {
		return err
	}
	writeAuthenticated(w, r, res)
	return nil
}

func (h *Handler) recover(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		UserID       string `json:"user_id"`
		RecoveryCode string `json:"recovery_code"`
		sessions.RequestFields
	}
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	res, err := h.Service.Recover(r.Context(), httpx.ProjectOf(r),
		RecoverInput{UserID: req.UserID, RecoveryCode: req.RecoveryCode, Session: req.Options()})
	if err != nil {
		return err
	}
	writeAuthenticated(w, r, res)
	return nil
}

type recoveryCodesResponse struct {
	httpx.Envelope
	UserID string              `json:"user_id"`
	TOTPs  []WithRecoveryCodes `json:"totps"`
}

func (h *Handler) recoveryCodes(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		UserID string `json:"user_id"`
	}
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	userID, list, err := h.Service.RecoveryCodes(r.Context(), httpx.ProjectOf(r), req.UserID)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &recoveryCodesResponse{UserID: userID, TOTPs: list})
	return nil
}

package otps

import (
	"log/slog"
	"net/http"

	"github.com/latchhq/latch/internal/httpx"
	"github.com/latchhq/latch/internal/sessions"
	"github.com/latchhq/latch/internal/wire"
)

// Handler serves /v1/otps.
type Handler struct {
	Service *Service
	Log     *slog.Logger
}

// Mount registers the routes on an authenticated router.
func (h *Handler) Mount(mux httpx.Router) {
	for _, ch := range []string{SMS, WhatsApp, Email} {
		mux.Handle("POST /v1/otps/"+ch+"/send", httpx.Errors(h.Log, h.send(ch, false)))
		mux.Handle("POST /v1/otps/"+ch+"/login_or_create", httpx.Errors(h.Log, h.send(ch, true)))
	}
	mux.Handle("POST /v1/otps/authenticate", httpx.Errors(h.Log, h.authenticate))
}

type sendRequest struct {
	PhoneNumber         string           `json:"phone_number"`
	Email               string           `json:"email"`
	ExpirationMinutes   *int             `json:"expiration_minutes"`
	Attributes          *wire.Attributes `json:"attributes"`
	Locale              string           `json:"locale"`
	CreateUserAsPending bool             `json:"create_user_as_pending"`
	UserID              string           `json:"user_id"`
	SessionToken        string           `json:"session_token"`
	SessionJWT          string           `json:"session_jwt"`
	LoginTemplateID     string           `json:"login_template_id"`
	SignupTemplateID    string           `json:"signup_template_id"`
}

type phoneSent struct {
	httpx.Envelope
	UserID  string `json:"user_id"`
	PhoneID string `json:"phone_id"`
}

type phoneCreated struct {
	httpx.Envelope
	UserID      string `json:"user_id"`
	PhoneID     string `json:"phone_id"`
	UserCreated bool   `json:"user_created"`
}

type emailSent struct {
	httpx.Envelope
	UserID  string `json:"user_id"`
	EmailID string `json:"email_id"`
}

type emailCreated struct {
	httpx.Envelope
	UserID      string `json:"user_id"`
	EmailID     string `json:"email_id"`
	UserCreated bool   `json:"user_created"`
}

func (h *Handler) send(channel string, loginOrCreate bool) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req sendRequest
		if err := httpx.Decode(r, &req); err != nil {
			return err
		}
		in := SendInput{
			Channel: channel, PhoneNumber: req.PhoneNumber, Email: req.Email, ExpirationMinutes: req.ExpirationMinutes,
			Locale: req.Locale, CreateUserAsPending: req.CreateUserAsPending, UserID: req.UserID,
			SessionToken: req.SessionToken, SessionJWT: req.SessionJWT,
			LoginTemplateID: req.LoginTemplateID, SignupTemplateID: req.SignupTemplateID,
		}
		if req.Attributes != nil {
			in.Attributes = *req.Attributes
		}
		var res *Sent
		var err error
		if loginOrCreate {
			res, err = h.Service.LoginOrCreate(r.Context(), httpx.ProjectOf(r), in)
		} else {
			res, err = h.Service.Send(r.Context(), httpx.ProjectOf(r), in)
		}
		if err != nil {
			return err
		}
		var body any
		switch {
		case channel == Email && loginOrCreate:
			body = &emailCreated{UserID: res.UserID, EmailID: res.MethodID, UserCreated: res.UserCreated}
		case channel == Email:
			body = &emailSent{UserID: res.UserID, EmailID: res.MethodID}
		case loginOrCreate:
			body = &phoneCreated{UserID: res.UserID, PhoneID: res.MethodID, UserCreated: res.UserCreated}
		default:
			body = &phoneSent{UserID: res.UserID, PhoneID: res.MethodID}
		}
		httpx.WriteJSON(w, r, http.StatusOK, body)
		return nil
	}
}

type authenticateRequest struct {
	MethodID   string             `json:"method_id"`
	Code       string             `json:"code"`
	Attributes *wire.Attributes   `json:"attributes"`
	Options    *wire.MatchOptions `json:"options"`
	// TelemetryID is decoded so a wrong type is refused, then ignored:
	// Latch has no fraud or device-fingerprint service to look it up in.
	TelemetryID string `json:"telemetry_id"`
	sessions.RequestFields
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
		MethodID: req.MethodID, Code: req.Code,
		Session: req.RequestFields.Options(),
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

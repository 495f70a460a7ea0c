package passwords

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/latchhq/latch/internal/hashes"
	"github.com/latchhq/latch/internal/httpx"
	"github.com/latchhq/latch/internal/sessions"
	"github.com/latchhq/latch/internal/users"
	"github.com/latchhq/latch/internal/wire"
)

// Handler serves /v1/passwords.
type Handler struct {
	Service *Service
	Log     *slog.Logger
}

// Mount registers the routes on an authenticated router.
func (h *Handler) Mount(mux httpx.Router) {
	mux.Handle("POST /v1/passwords", httpx.Errors(h.Log, h.create))
	mux.Handle("POST /v1/passwords/authenticate", httpx.Errors(h.Log, h.authenticate))
	mux.Handle("POST /v1/passwords/strength_check", httpx.Errors(h.Log, h.strengthCheck))
	mux.Handle("POST /v1/passwords/migrate", httpx.Errors(h.Log, h.migrate))
	mux.Handle("POST /v1/passwords/email/reset/start", httpx.Errors(h.Log, h.resetStart))
	mux.Handle("POST /v1/passwords/email/reset", httpx.Errors(h.Log, h.emailReset))
	mux.Handle("POST /v1/passwords/existing_password/reset", httpx.Errors(h.Log, h.existingReset))
	mux.Handle("POST /v1/passwords/session/reset", httpx.Errors(h.Log, h.sessionReset))
}

type sessionResponse struct {
	httpx.Envelope
	UserID       string        `json:"user_id"`
	EmailID      string        `json:"email_id,omitempty"`
	SessionToken string        `json:"session_token"`
	SessionJWT   string        `json:"session_jwt"`
	Session      *wire.Session `json:"session"`
	User         wire.User     `json:"user"`
}

func write(w http.ResponseWriter, r *http.Request, res *Result) {
	out := &sessionResponse{UserID: res.UserID, EmailID: res.EmailID, User: res.User}
	if res.Session != nil {
		out.SessionToken, out.SessionJWT, out.Session = res.Session.Token, res.Session.JWT, res.Session.Session
	}
	httpx.WriteJSON(w, r, http.StatusOK, out)
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		sessions.RequestFields
		Email             string           `json:"email"`
		Password          string           `json:"password"`
		Name              *users.NameInput `json:"name"`
		TrustedMetadata   json.RawMessage  `json:"trusted_metadata"`
		UntrustedMetadata json.RawMessage  `json:"untrusted_metadata"`
	}
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	o := req.Options()
	o.SessionToken, o.SessionJWT = "", ""
	res, err := h.Service.Create(r.Context(), httpx.ProjectOf(r), CreateInput{Email: req.Email, Password: req.Password, Name: req.Name,
		TrustedMetadata: req.TrustedMetadata, UntrustedMetadata: req.UntrustedMetadata, Session: o})
	if err != nil {
		return err
	}
	write(w, r, res)
	return nil
}

func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		sessions.RequestFields
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	res, err := h.Service.Authenticate(r.Context(), httpx.ProjectOf(r), AuthenticateInput{Email: req.Email, Password: req.Password, Session: req.Options()})
	if err != nil {
		return err
	}
	write(w, r, res)
	return nil
}

type feedback struct {
	Warning          string            `json:"warning"`
	Suggestions      []string          `json:"suggestions"`
	LUDSRequirements *ludsRequirements `json:"luds_requirements,omitempty"`
}

type ludsRequirements struct {
	HasLowerCase      bool `json:"has_lower_case"`
	HasUpperCase      bool `json:"has_upper_case"`
	HasDigit          bool `json:"has_digit"`
	HasSymbol         bool `json:"has_symbol"`
	MissingComplexity int  `json:"missing_complexity"`
	MissingCharacters int  `json:"missing_characters"`
}

type strengthResponse struct {
	httpx.Envelope
	ValidPassword           bool     `json:"valid_password"`
	Score                   int      `json:"score"`
	BreachedPassword        bool     `json:"breached_password"`
	StrengthPolicy          string   `json:"strength_policy"`
	BreachDetectionOnCreate bool     `json:"breach_detection_on_create"`
	Feedback                feedback `json:"feedback"`
}

func (h *Handler) strengthCheck(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Password string `json:"password"`
		Email    string `json:"email"`
	}
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	email := ""
	if req.Email != "" {
		e, err := users.NormalizeEmail(req.Email)
		if err != nil {
			return err
		}
		email = e
	}
	st, err := h.Service.StrengthCheck(r.Context(), httpx.ProjectOf(r), req.Password, email)
	if err != nil {
		return err
	}
	sugg := st.Feedback.Suggestions
	if sugg == nil {
		sugg = []string{}
	}
	fb := feedback{Warning: st.Feedback.Warning, Suggestions: sugg}
	if l := st.LUDS; l != nil {
		fb.LUDSRequirements = &ludsRequirements{HasLowerCase: l.HasLowerCase, HasUpperCase: l.HasUpperCase, HasDigit: l.HasDigit,
			HasSymbol: l.HasSymbol, MissingComplexity: l.MissingComplexity, MissingCharacters: l.MissingCharacters}
	}
	httpx.WriteJSON(w, r, http.StatusOK, &strengthResponse{ValidPassword: st.Valid, Score: st.Score, BreachedPassword: st.Breached,
		StrengthPolicy: policyName(st.Policy), BreachDetectionOnCreate: st.Policy.BreachDetection, Feedback: fb})
	return nil
}

func (h *Handler) migrate(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Email                  string               `json:"email"`
		Hash                   string               `json:"hash"`
		HashType               string               `json:"hash_type"`
		MD5                    *hashes.MD5Config    `json:"md_5_config"`
		Argon2                 *hashes.Argon2Config `json:"argon_2_config"`
		SHA1                   *hashes.SHA1Config   `json:"sha_1_config"`
		SHA512                 *hashes.SHA512Config `json:"sha_512_config"`
		Scrypt                 *hashes.ScryptConfig `json:"scrypt_config"`
		PBKDF2                 *hashes.PBKDF2Config `json:"pbkdf_2_config"`
		TrustedMetadata        json.RawMessage      `json:"trusted_metadata"`
		UntrustedMetadata      json.RawMessage      `json:"untrusted_metadata"`
		SetEmailVerified       bool                 `json:"set_email_verified"`
		Name                   *users.NameInput     `json:"name"`
		PhoneNumber            string               `json:"phone_number"`
		SetPhoneNumberVerified bool                 `json:"set_phone_number_verified"`
		ExternalID             string               `json:"external_id"`
		Roles                  []string             `json:"roles"`
	}
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	res, err := h.Service.Migrate(r.Context(), httpx.ProjectOf(r), MigrateInput{
		Email: req.Email,
		Migration: hashes.Migration{HashType: req.HashType, Hash: req.Hash, MD5: req.MD5, SHA1: req.SHA1, SHA512: req.SHA512,
			Argon2: req.Argon2, Scrypt: req.Scrypt, PBKDF2: req.PBKDF2},
		TrustedMetadata: req.TrustedMetadata, UntrustedMetadata: req.UntrustedMetadata, SetEmailVerified: req.SetEmailVerified,
		Name: req.Name, PhoneNumber: req.PhoneNumber, SetPhoneNumberVerified: req.SetPhoneNumberVerified, ExternalID: req.ExternalID, Roles: req.Roles,
	})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &struct {
		httpx.Envelope
		UserID      string    `json:"user_id"`
		EmailID     string    `json:"email_id"`
		UserCreated bool      `json:"user_created"`
		User        wire.User `json:"user"`
	}{UserID: res.UserID, EmailID: res.EmailID, UserCreated: res.UserCreated, User: res.User})
	return nil
}

func (h *Handler) resetStart(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Email                          string           `json:"email"`
		ResetPasswordRedirectURL       string           `json:"reset_password_redirect_url"`
		LoginRedirectURL               string           `json:"login_redirect_url"`
		ResetPasswordExpirationMinutes *int             `json:"reset_password_expiration_minutes"`
		CodeChallenge                  string           `json:"code_challenge"`
		Attributes                     *wire.Attributes `json:"attributes"`
		Locale                         string           `json:"locale"`
		ResetPasswordTemplateID        string           `json:"reset_password_template_id"`
	}
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	in := ResetStartInput{Email: req.Email, RedirectURL: req.ResetPasswordRedirectURL, LoginRedirectURL: req.LoginRedirectURL, ExpirationMinutes: req.ResetPasswordExpirationMinutes,
		CodeChallenge: req.CodeChallenge, TemplateID: req.ResetPasswordTemplateID, Locale: req.Locale}
	if req.Attributes != nil {
		in.Attributes = *req.Attributes
	}
	userID, emailID, err := h.Service.ResetStart(r.Context(), httpx.ProjectOf(r), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &struct {
		httpx.Envelope
		UserID  string `json:"user_id"`
		EmailID string `json:"email_id"`
	}{UserID: userID, EmailID: emailID})
	return nil
}

func (h *Handler) emailReset(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		sessions.RequestFields
		Token        string             `json:"token"`
		Password     string             `json:"password"`
		CodeVerifier string             `json:"code_verifier"`
		Attributes   *wire.Attributes   `json:"attributes"`
		Options      *wire.MatchOptions `json:"options"`
	}
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	in := EmailResetInput{Token: req.Token, Password: req.Password, CodeVerifier: req.CodeVerifier, Session: req.RequestFields.Options()}
	if req.Attributes != nil {
		in.Attributes = *req.Attributes
	}
	if req.Options != nil {
		in.Options = *req.Options
	}
	res, err := h.Service.EmailReset(r.Context(), httpx.ProjectOf(r), in)
	if err != nil {
		return err
	}
	write(w, r, res)
	return nil
}

func (h *Handler) existingReset(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		sessions.RequestFields
		Email            string `json:"email"`
		ExistingPassword string `json:"existing_password"`
		NewPassword      string `json:"new_password"`
	}
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	res, err := h.Service.ExistingReset(r.Context(), httpx.ProjectOf(r), req.Email, req.ExistingPassword, req.NewPassword, req.Options())
	if err != nil {
		return err
	}
	write(w, r, res)
	return nil
}

func (h *Handler) sessionReset(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		sessions.RequestFields
		Password string `json:"password"`
	}
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	res, err := h.Service.SessionReset(r.Context(), httpx.ProjectOf(r), req.Password, req.Options())
	if err != nil {
		return err
	}
	write(w, r, res)
	return nil
}

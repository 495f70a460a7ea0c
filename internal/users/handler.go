package users

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/latchhq/latch/internal/httpx"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
	"github.com/latchhq/latch/internal/wire"
)

// Handler serves /v1/users.
type Handler struct {
	Service *Service
	Log     *slog.Logger
}

// Mount registers the routes on an authenticated mux.
func (h *Handler) Mount(mux httpx.Router) {
	mux.Handle("POST /v1/users", httpx.Errors(h.Log, h.create))
	mux.Handle("POST /v1/users/search", httpx.Errors(h.Log, h.search))
	mux.Handle("GET /v1/users/{user_id}", httpx.Errors(h.Log, h.get))
	mux.Handle("PUT /v1/users/{user_id}", httpx.Errors(h.Log, h.update))
	mux.Handle("DELETE /v1/users/{user_id}", httpx.Errors(h.Log, h.delete))
	mux.Handle("DELETE /v1/users/emails/{email_id}", httpx.Errors(h.Log, h.deleteFactor(h.Service.DeleteEmail, "email_id")))
	mux.Handle("DELETE /v1/users/phone_numbers/{phone_id}", httpx.Errors(h.Log, h.deleteFactor(h.Service.DeletePhone, "phone_id")))
	mux.Handle("DELETE /v1/users/totps/{totp_id}", httpx.Errors(h.Log, h.deleteFactor(h.Service.DeleteTOTP, "totp_id")))
	mux.Handle("DELETE /v1/users/passwords/{password_id}", httpx.Errors(h.Log, h.deleteFactor(h.Service.DeletePassword, "password_id")))
}

type createRequest struct {
	Email               string           `json:"email"`
	PhoneNumber         string           `json:"phone_number"`
	Name                *NameInput       `json:"name"`
	Attributes          *wire.Attributes `json:"attributes"`
	CreateUserAsPending bool             `json:"create_user_as_pending"`
	TrustedMetadata     json.RawMessage  `json:"trusted_metadata"`
	UntrustedMetadata   json.RawMessage  `json:"untrusted_metadata"`
	ExternalID          string           `json:"external_id"`
	Roles               []string         `json:"roles"`
}

type createResponse struct {
	httpx.Envelope
	UserID  string    `json:"user_id"`
	EmailID string    `json:"email_id"`
	Status  string    `json:"status"`
	PhoneID string    `json:"phone_id"`
	User    wire.User `json:"user"`
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) error {
	var req createRequest
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	res, err := h.Service.Create(r.Context(), httpx.ProjectOf(r), CreateInput{
		Email: req.Email, PhoneNumber: req.PhoneNumber, Name: req.Name, CreateUserAsPending: req.CreateUserAsPending,
		TrustedMetadata: req.TrustedMetadata, UntrustedMetadata: req.UntrustedMetadata, ExternalID: req.ExternalID, Roles: req.Roles,
	})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusCreated, &createResponse{
		UserID: res.User.ID, EmailID: res.EmailID, Status: res.User.Status, PhoneID: res.PhoneID, User: h.Service.View(res.User),
	})
	return nil
}

type getResponse struct {
	httpx.Envelope
	wire.User
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) error {
	u, err := h.Service.Get(r.Context(), httpx.ProjectOf(r), r.PathValue("user_id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &getResponse{User: h.Service.View(u)})
	return nil
}

type updateRequest struct {
	Name              *NameInput       `json:"name"`
	Attributes        *wire.Attributes `json:"attributes"`
	TrustedMetadata   json.RawMessage  `json:"trusted_metadata"`
	UntrustedMetadata json.RawMessage  `json:"untrusted_metadata"`
	ExternalID        *string          `json:"external_id"`
	Roles             *[]string        `json:"roles"`
}

type updateResponse struct {
	httpx.Envelope
	UserID        string            `json:"user_id"`
	Emails        []wire.Email      `json:"emails"`
	PhoneNumbers  []wire.Phone      `json:"phone_numbers"`
	CryptoWallets []json.RawMessage `json:"crypto_wallets"`
	User          wire.User         `json:"user"`
}

func (h *Handler) update(w http.ResponseWriter, r *http.Request) error {
	var req updateRequest
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	u, err := h.Service.Update(r.Context(), httpx.ProjectOf(r), r.PathValue("user_id"), UpdateInput{
		Name: req.Name, TrustedMetadata: req.TrustedMetadata, UntrustedMetadata: req.UntrustedMetadata,
		ExternalID: req.ExternalID, Roles: req.Roles,
	})
	if err != nil {
		return err
	}
	v := h.Service.View(u)
	httpx.WriteJSON(w, r, http.StatusOK, &updateResponse{
		UserID: u.ID, Emails: v.Emails, PhoneNumbers: v.PhoneNumbers, CryptoWallets: v.CryptoWallets, User: v,
	})
	return nil
}

type userIDResponse struct {
	httpx.Envelope
	UserID string `json:"user_id"`
}

func (h *Handler) delete(w http.ResponseWriter, r *http.Request) error {
	if err := httpx.Decode(r, &struct{}{}); err != nil {
		return err
	}
	id, err := h.Service.Delete(r.Context(), httpx.ProjectOf(r), r.PathValue("user_id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &userIDResponse{UserID: id})
	return nil
}

type userResponse struct {
	httpx.Envelope
	UserID string    `json:"user_id"`
	User   wire.User `json:"user"`
}

// deleteFactor serves the DELETE /v1/users/<factor>/{id} routes: each
// removes one factor by the id in the path and answers with the user.
func (h *Handler) deleteFactor(del func(context.Context, tenant.Project, string) (*store.User, error), param string) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := httpx.Decode(r, &struct{}{}); err != nil {
			return err
		}
		u, err := del(r.Context(), httpx.ProjectOf(r), r.PathValue(param))
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, r, http.StatusOK, &userResponse{UserID: u.ID, User: h.Service.View(u)})
		return nil
	}
}

type searchRequest struct {
	Cursor string       `json:"cursor"`
	Limit  *int         `json:"limit"`
	Query  *SearchQuery `json:"query"`
}

type resultsMetadata struct {
	Total      int     `json:"total"`
	NextCursor *string `json:"next_cursor"`
}

type searchResponse struct {
	httpx.Envelope
	Results         []wire.User     `json:"results"`
	ResultsMetadata resultsMetadata `json:"results_metadata"`
}

func (h *Handler) search(w http.ResponseWriter, r *http.Request) error {
	var req searchRequest
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	res, err := h.Service.Search(r.Context(), httpx.ProjectOf(r), SearchInput(req))
	if err != nil {
		return err
	}
	out := &searchResponse{Results: make([]wire.User, 0, len(res.Users)), ResultsMetadata: resultsMetadata{Total: res.Total, NextCursor: res.NextCursor}}
	for i := range res.Users {
		out.Results = append(out.Results, h.Service.View(&res.Users[i]))
	}
	httpx.WriteJSON(w, r, http.StatusOK, out)
	return nil
}

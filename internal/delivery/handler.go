package delivery

import (
	"html/template"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/httpx"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/wire"
)

// DevHandler serves the dev outbox to test projects.
type DevHandler struct {
	Store store.Store
	Log   *slog.Logger
}

// Mount registers the JSON API and the HTML page on an authenticated mux.
func (h *DevHandler) Mount(mux httpx.Router) {
	mux.Handle("GET /v1/dev/outbox", httpx.Errors(h.Log, h.list))
	mux.Handle("GET /dev/outbox", httpx.Errors(h.Log, h.page))
}

// Message is one dev outbox entry as the JSON API returns it.
type Message struct {
	MessageID string  `json:"message_id"`
	Channel   string  `json:"channel"`
	To        string  `json:"to"`
	Subject   string  `json:"subject"`
	BodyText  string  `json:"body_text"`
	BodyHTML  string  `json:"body_html"`
	Link      *string `json:"link"`
	Token     *string `json:"token"`
	Code      *string `json:"code"`
	Status    string  `json:"status"`
	CreatedAt string  `json:"created_at"`
}

func orNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type listResponse struct {
	httpx.Envelope
	Messages []Message `json:"messages"`
}

func (h *DevHandler) messages(r *http.Request) ([]Message, error) {
	p := httpx.ProjectOf(r)
	if !p.IsTest() {
		return nil, apierr.RouteNotSupportedInLive
	}
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return nil, apierr.InvalidArgument.With("limit must be a number from 1 to 500.")
		}
		limit = n
	}
	to := r.URL.Query().Get("to")
	list, err := h.Store.ListMessages(r.Context(), p.ID, to, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Message, 0, len(list))
	for _, m := range list {
		out = append(out, Message{
			MessageID: m.ID, Channel: m.Channel, To: m.To, Subject: m.Subject, BodyText: m.BodyText, BodyHTML: m.BodyHTML,
			Link: orNil(m.Link), Token: orNil(m.Token), Code: orNil(m.Code), Status: m.Status, CreatedAt: wire.Time(m.CreatedAt),
		})
	}
	return out, nil
}

func (h *DevHandler) list(w http.ResponseWriter, r *http.Request) error {
	msgs, err := h.messages(r)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, r, http.StatusOK, &listResponse{Messages: msgs})
	return nil
}

var pageTemplate = template.Must(template.New("outbox").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Latch dev outbox</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#111}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:8px;text-align:left;vertical-align:top;font-size:14px}code{font-size:12px}</style></head>
<body><h1>Dev outbox</h1><p>Project <code>{{.Project}}</code>, newest first.{{if .To}} Showing messages to <b>{{.To}}</b>.{{end}}</p>
<table><tr><th>When</th><th>Channel</th><th>To</th><th>Subject</th><th>Link / code</th><th>Status</th></tr>
{{range .Messages}}<tr><td>{{.CreatedAt}}</td><td>{{.Channel}}</td><td>{{.To}}</td><td>{{.Subject}}</td>
<td>{{if .Link}}<a href="{{.Link}}">open link</a>{{end}}{{if .Code}}<code>{{.Code}}</code>{{end}}</td><td>{{.Status}}</td></tr>
{{else}}<tr><td colspan="6">No messages yet.</td></tr>{{end}}</table></body></html>`))

func (h *DevHandler) page(w http.ResponseWriter, r *http.Request) error {
	msgs, err := h.messages(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	return pageTemplate.Execute(w, map[string]any{"Project": httpx.ProjectOf(r).ID, "To": r.URL.Query().Get("to"), "Messages": msgs})
}

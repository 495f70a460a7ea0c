// Package httpx is the HTTP shell shared by every product: the
// error-returning handler adapter, JSON decoding and encoding with the Stytch
// envelope, request ids, and the one place errors become HTTP responses.
package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
)

// MaxBody is the largest request body accepted.
const MaxBody = 1 << 20

// Envelope is embedded in every success response.
type Envelope struct {
	StatusCode int    `json:"status_code"`
	RequestID  string `json:"request_id"`
}

func (e *Envelope) setEnvelope(status int, id string) {
	e.StatusCode = status
	e.RequestID = id
}

type enveloped interface{ setEnvelope(int, string) }

// HandlerFunc is an http handler that returns its error instead of writing it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Errors adapts HandlerFunc to http.Handler, rendering errors with WriteError.
func Errors(log *slog.Logger, h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			WriteError(w, r, log, err)
		}
	})
}

// WriteJSON writes v with status, filling in its envelope when it has one.
func WriteJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	if e, ok := v.(enveloped); ok {
		e.setEnvelope(status, RequestID(r.Context()))
	}
	b, err := json.Marshal(v)
	if err != nil {
		// Only unmarshalable metadata could get here; the caller's data was validated.
		b = []byte(`{"status_code":500,"error_type":"internal_server_error"}`)
		status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

type errorBody struct {
	StatusCode   int            `json:"status_code"`
	RequestID    string         `json:"request_id"`
	ErrorType    string         `json:"error_type"`
	ErrorMessage string         `json:"error_message"`
	ErrorURL     string         `json:"error_url"`
	ErrorDetails map[string]any `json:"error_details,omitempty"`
	RetryAfter   int            `json:"retry_after,omitempty"`
}

// WriteError renders err in Stytch's error envelope. Errors that are not
// *apierr.Error become a 500 with a fixed message; the cause is logged.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e, ok := apierr.As(err)
	switch {
	case ok:
	case errors.Is(err, store.ErrUnavailable):
		e = apierr.ServerUnavailable.Wrap(err)
	case errors.Is(err, context.Canceled):
		// The client hung up; nothing will read this.
		e = apierr.ServerUnavailable.Wrap(err)
	default:
		e = apierr.InternalServerError.Wrap(err)
	}
	if e.Status >= 500 {
		log.ErrorContext(r.Context(), "request failed", "request_id", RequestID(r.Context()), "error_type", e.Type, "err", e.Err)
	}
	url := "https://stytch.com/docs/api/errors/" + fmt.Sprint(e.Status) + "#" + e.Type
	if strings.HasPrefix(r.URL.Path, "/v1/b2b/") {
		url = "https://stytch.com/docs/b2b/api/errors/" + fmt.Sprint(e.Status) + "#" + e.Type
	}
	if e.RetryAfter > 0 && (e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable) {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	WriteJSON(w, r, e.Status, errorBody{
		StatusCode:   e.Status,
		RequestID:    RequestID(r.Context()),
		ErrorType:    e.Type,
		ErrorMessage: e.Msg,
		ErrorURL:     url,
		ErrorDetails: e.Details,
		RetryAfter:   e.RetryAfter,
	})
}

// ReadBody reads the whole (size-limited) body, with Stytch's errors.
func ReadBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, apierr.RequestTooLarge
		}
		return nil, apierr.BadRequest.With("The request body could not be read.").Wrap(err)
	}
	return body, nil
}

// Decode reads a JSON object body into dst, whatever the Content-Type says
// (the SDKs always send JSON). An empty body counts as {}; null, any other
// non-object and invalid UTF-8 are bad_request. Unknown fields are accepted
// (SDKs send fields Latch may not use); type errors name the field.
func Decode(r *http.Request, dst any) error {
	body, err := ReadBody(r)
	if err != nil {
		return err
	}
	trimmed := strings.TrimSpace(string(body))
	if len(trimmed) == 0 {
		return nil
	}
	if !utf8.Valid(body) {
		// encoding/json would quietly turn the bad bytes into U+FFFD and
		// store something the client never sent.
		return apierr.BadRequest.With("The request body is not valid UTF-8.")
	}
	if trimmed == "null" {
		// null decodes into a struct as a no-op; it is no more an object
		// than [] or "str", which the type check below refuses.
		return apierr.BadRequest.With("The request body must be a JSON object.")
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return decodeError(err, reflect.TypeOf(dst))
	}
	return nil
}

func decodeError(err error, dst reflect.Type) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := jsonPath(dst, te.Field)
		if field == "" {
			return apierr.BadRequest.With("The request body must be a JSON object.")
		}
		return apierr.InvalidArgument.Withf("%s must be %s, not %s.", field, jsonTypeName(te.Type.Kind().String()), te.Value)
	case errors.As(err, &se):
		return apierr.BadRequest.Withf("The request body is not valid JSON (offset %d).", se.Offset)
	default:
		var fe interface{ FieldName() string }
		if errors.As(err, &fe) {
			return apierr.InvalidArgument.Withf("%s is invalid.", fe.FieldName())
		}
		return apierr.BadRequest.Withf("The request body is not valid JSON: %s.", err.Error())
	}
}

// jsonPath turns encoding/json's path of a field, which names embedded
// structs by their Go names ("RequestFields.session_duration_minutes"),
// into the path the client sent ("session_duration_minutes").
func jsonPath(t reflect.Type, path string) string {
	if path == "" {
		return ""
	}
	var out []string
	for _, seg := range strings.Split(path, ".") {
		for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map) {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			out = append(out, seg)
			t = nil
			continue
		}
		if f, ok := t.FieldByName(seg); ok && f.Anonymous {
			t = f.Type // an embedded struct: no segment of its own in JSON
			continue
		}
		out = append(out, seg)
		t = fieldByJSONName(t, seg)
	}
	return strings.Join(out, ".")
}

// fieldByJSONName finds the type of t's field (promoted ones included)
// that encodes as name.
func fieldByJSONName(t reflect.Type, name string) reflect.Type {
	for _, f := range reflect.VisibleFields(t) {
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == name || (tag == "" && strings.EqualFold(f.Name, name)) {
			return f.Type
		}
	}
	return nil
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int32", "int64", "float64", "float32", "uint", "uint32", "uint64":
		return "a number"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	}
	return "of another type"
}

// ProjectOf returns the authenticated project; routes behind Auth always have one.
func ProjectOf(r *http.Request) tenant.Project {
	p, _ := tenant.From(r.Context())
	return p
}

type oauthErrorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorURI         string `json:"error_uri"`
	StatusCode       int    `json:"status_code"`
	RequestID        string `json:"request_id"`
}

// WriteOAuthError renders err in the OAuth 2.0 error form (RFC 6749 section
// 5.2) that Stytch's /v1/public/{project_id}/oauth2/* endpoints use; the
// SDK reads error as the error type. Unknown errors become a 500 as in
// WriteError.
func WriteOAuthError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e, ok := apierr.As(err)
	switch {
	case ok:
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.Canceled):
		e = apierr.ServerUnavailable.Wrap(err)
	default:
		e = apierr.InternalServerError.Wrap(err)
	}
	if e.Status >= 500 {
		log.ErrorContext(r.Context(), "request failed", "request_id", RequestID(r.Context()), "error_type", e.Type, "err", e.Err)
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if e.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Basic realm="latch"`)
	}
	WriteJSON(w, r, e.Status, oauthErrorBody{
		Error:            e.Type,
		ErrorDescription: e.Msg,
		ErrorURI:         "https://stytch.com/docs/api/errors/" + fmt.Sprint(e.Status) + "#" + e.Type,
		StatusCode:       e.Status,
		RequestID:        RequestID(r.Context()),
	})
}

// OAuthErrors adapts a HandlerFunc whose errors are rendered in the OAuth
// form (WriteOAuthError).
func OAuthErrors(log *slog.Logger, h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			WriteOAuthError(w, r, log, err)
		}
	})
}

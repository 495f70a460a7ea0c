// Package apierr holds the error value every layer returns and the catalogue
// of Stytch error types Latch emits. One place (httpx) turns them into HTTP.
package apierr

import (
	"errors"
	"fmt"
)

// Error is an API error: what the client sees (Status, Type, Msg) kept apart
// from the internal cause (Err), which is logged and never sent.
type Error struct {
	Status  int
	Type    string
	Msg     string
	Details map[string]any
	// RetryAfter, in seconds, is sent as retry_after and Retry-After on
	// 429s and 503s; 0 means none.
	RetryAfter int
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Type, e.Msg, e.Err)
	}
	return e.Type + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches another *Error by Type, so errors.Is(err, apierr.UserNotFound) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Type == e.Type
}

// With returns a copy carrying a more specific message.
func (e *Error) With(msg string) *Error {
	c := *e
	c.Msg = msg
	return &c
}

// Withf is With with formatting.
func (e *Error) Withf(format string, args ...any) *Error {
	return e.With(fmt.Sprintf(format, args...))
}

// Wrap returns a copy with an internal cause attached.
func (e *Error) Wrap(err error) *Error {
	c := *e
	c.Err = err
	return &c
}

// As extracts an *Error from err.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

func def(status int, typ, msg string) *Error {
	e := &Error{Status: status, Type: typ, Msg: msg}
	catalogue = append(catalogue, e)
	return e
}

var catalogue []*Error

// Catalogue lists every error type Latch can emit, for the golden test and docs.
func Catalogue() []*Error { return catalogue }

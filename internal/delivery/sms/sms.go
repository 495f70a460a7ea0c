package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	// DefaultBaseURL is Twilio's REST API origin, used when Config.BaseURL is
	// empty.
	DefaultBaseURL = "https://api.twilio.com"
	// DefaultTimeout bounds one whole send when Config.Timeout is zero.
	DefaultTimeout = 15 * time.Second
	// MaxBodyChars is the longest Body, in characters, that Twilio accepts for
	// one message (longer bodies are rejected with error 21617).
	MaxBodyChars = 1600

	whatsappPrefix = "whatsapp:"
	// maxResponseBytes bounds how much of an answer is read.
	maxResponseBytes = 64 << 10
)

// ErrInvalidMessage is wrapped by Send when the message itself cannot be sent
// (unknown channel, recipient not in E.164 form, empty or overlong body).
// Retrying such a message cannot succeed, so IsPermanent reports true for it.
// Send returns it without contacting the provider.
var ErrInvalidMessage = errors.New("sms: invalid message")

// ErrMalformedResponse is wrapped by Send when the provider answered with a
// 2xx status but the answer carries no usable message SID. It is treated as
// temporary: delivery is at-least-once, and the usual cause is a BaseURL that
// does not point at the provider.
var ErrMalformedResponse = errors.New("sms: malformed provider answer")

// Channel is the kind of message to send.
type Channel string

const (
	// SMS sends a plain text message.
	SMS Channel = "sms"
	// WhatsApp sends a WhatsApp message; To and From get a "whatsapp:" prefix.
	WhatsApp Channel = "whatsapp"
)

// Config describes the provider account that Latch sends through.
type Config struct {
	// BaseURL is the API origin (optionally with a path prefix); empty means
	// DefaultBaseURL. It must be https, except that http is allowed for
	// loopback hosts (localhost, 127.0.0.0/8, ::1).
	BaseURL string
	// AccountSID is "AC" followed by 32 hex digits; it is also the Basic auth
	// user name.
	AccountSID string
	// AuthToken is the Basic auth password. It is never printed.
	AuthToken string
	// From is the E.164 sender ("+14155550100") for SMS; for WhatsApp the
	// "whatsapp:" prefix is added automatically.
	From string
	// MessagingServiceSID ("MG" followed by 32 hex digits) is the alternative
	// to From; at least one of the two is required. When both are set, the
	// messaging service is used (Twilio then picks the sender from its pool).
	MessagingServiceSID string
	// WhatsAppFrom is an optional separate E.164 WhatsApp sender (a
	// "whatsapp:" prefix is accepted). When empty, WhatsApp messages use
	// MessagingServiceSID if set, else From.
	WhatsAppFrom string
	// Timeout bounds one whole send (connect, request and reading the
	// answer); zero means DefaultTimeout.
	Timeout time.Duration
	// HTTPClient is the client used for requests; nil means a client using
	// http.DefaultTransport. Its CheckRedirect is overridden (on a copy) so
	// that redirects are never followed.
	HTTPClient *http.Client
}

// String describes the config without the auth token, so a Config that ends
// up in a log line or an error does not leak it.
func (c Config) String() string {
	return fmt.Sprintf("sms.Config{BaseURL:%q AccountSID:%q AuthToken:%s From:%q MessagingServiceSID:%q WhatsAppFrom:%q Timeout:%s HTTPClient:%t}",
		c.BaseURL, c.AccountSID, redacted(c.AuthToken), c.From, c.MessagingServiceSID, c.WhatsAppFrom, c.Timeout, c.HTTPClient != nil)
}

// GoString is String, so %#v does not print the auth token either.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without the auth token.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", c.BaseURL),
		slog.String("account_sid", c.AccountSID),
		slog.String("auth_token", redacted(c.AuthToken)),
		slog.String("from", c.From),
		slog.String("messaging_service_sid", c.MessagingServiceSID),
		slog.String("whatsapp_from", c.WhatsAppFrom),
		slog.Duration("timeout", c.Timeout),
	)
}

func redacted(secret string) string {
	if secret == "" {
		return `""`
	}
	return "[REDACTED]"
}

// Sender sends messages through one configured provider account. It is safe
// for concurrent use.
type Sender struct {
	accountSID string
	// authToken returns the token. It is a closure so that even reflective
	// printing of a struct holding a Sender in an unexported field (where fmt
	// cannot call String) shows only a function address.
	authToken           func() string
	endpoint            string // full Messages.json URL
	from                string // E.164, may be empty
	messagingServiceSID string // may be empty
	whatsAppFrom        string // E.164, may be empty
	timeout             time.Duration
	client              *http.Client
}

// String describes the sender without the auth token.
func (s Sender) String() string {
	return fmt.Sprintf("sms.Sender{endpoint:%q from:%q messaging_service_sid:%q whatsapp_from:%q timeout:%s auth_token:[REDACTED]}",
		s.endpoint, s.from, s.messagingServiceSID, s.whatsAppFrom, s.timeout)
}

// GoString is String, so %#v does not print the auth token either.
func (s Sender) GoString() string { return s.String() }

// LogValue implements slog.LogValuer without the auth token.
func (s Sender) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("endpoint", s.endpoint),
		slog.String("from", s.from),
		slog.String("messaging_service_sid", s.messagingServiceSID),
		slog.String("whatsapp_from", s.whatsAppFrom),
		slog.Duration("timeout", s.timeout),
	)
}

// New validates cfg and returns a Sender. All problems found are returned
// joined, each naming the offending field; the auth token never appears in
// them.
func New(cfg Config) (*Sender, error) {
	var problems []error
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf("sms: config: "+format, args...))
	}

	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	if err := checkBaseURL(base); err != nil {
		bad("base URL %q: %v", cfg.BaseURL, err)
	}

	switch {
	case cfg.AccountSID == "":
		bad("account SID is required")
	case !isSID(cfg.AccountSID, "AC"):
		bad("account SID %q is not \"AC\" followed by 32 hex digits", cfg.AccountSID)
	}

	switch {
	case cfg.AuthToken == "":
		bad("auth token is required")
	case strings.TrimSpace(cfg.AuthToken) != cfg.AuthToken:
		bad("auth token has leading or trailing white space")
	case strings.ContainsFunc(cfg.AuthToken, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		bad("auth token contains a control character")
	}

	if cfg.From == "" && cfg.MessagingServiceSID == "" {
		bad("one of from and messaging service SID is required")
	}
	if cfg.From != "" && !isE164(cfg.From) {
		bad("from %q is not an E.164 number like +14155550100", cfg.From)
	}
	if cfg.MessagingServiceSID != "" && !isSID(cfg.MessagingServiceSID, "MG") {
		bad("messaging service SID %q is not \"MG\" followed by 32 hex digits", cfg.MessagingServiceSID)
	}
	waFrom := strings.TrimPrefix(cfg.WhatsAppFrom, whatsappPrefix)
	if cfg.WhatsAppFrom != "" && !isE164(waFrom) {
		bad("WhatsApp from %q is not an E.164 number like +14155550100", cfg.WhatsAppFrom)
	}

	if cfg.Timeout < 0 {
		bad("timeout %s is negative", cfg.Timeout)
	}

	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}

	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	var client http.Client
	if cfg.HTTPClient != nil {
		client = *cfg.HTTPClient
	}
	// Never follow redirects: a POST must not silently turn into a GET, and
	// the credentials must not travel anywhere but the configured endpoint.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	token := cfg.AuthToken
	return &Sender{
		accountSID:          cfg.AccountSID,
		authToken:           func() string { return token },
		endpoint:            strings.TrimRight(base, "/") + "/2010-04-01/Accounts/" + cfg.AccountSID + "/Messages.json",
		from:                cfg.From,
		messagingServiceSID: cfg.MessagingServiceSID,
		whatsAppFrom:        waFrom,
		timeout:             timeout,
		client:              &client,
	}, nil
}

// checkBaseURL accepts an absolute https URL, or http for a loopback host,
// with no credentials, query or fragment.
func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	switch {
	case u.Scheme == "" || u.Host == "":
		return errors.New("not an absolute URL")
	case u.User != nil:
		return errors.New("must not contain credentials")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return errors.New("must not have a query or fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return nil
		}
		return errors.New("http is only allowed for loopback hosts; use https")
	default:
		return fmt.Errorf("scheme %q is not https", u.Scheme)
	}
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isSID reports whether s is prefix followed by 32 hex digits.
func isSID(s, prefix string) bool {
	if len(s) != len(prefix)+32 || !strings.HasPrefix(s, prefix) {
		return false
	}
	for i := len(prefix); i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// isE164 reports whether s is "+" followed by 2 to 15 digits, the first not 0.
func isE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Send posts one message and returns the provider's message SID ("SM..." or
// "MM..." for Twilio). to is an E.164 number; for WhatsApp a "whatsapp:"
// prefix on it is accepted. The whole request, including reading the answer,
// is bounded by ctx and by Config.Timeout.
//
// Errors wrap ErrInvalidMessage (nothing was sent), an *APIError (the
// provider answered with a non-2xx status), ErrMalformedResponse, or the
// transport error (including context.DeadlineExceeded or context.Canceled);
// use IsPermanent to decide whether to retry. Errors never contain the auth
// token or the recipient number.
func (s *Sender) Send(ctx context.Context, ch Channel, to, body string) (string, error) {
	form, err := s.form(ch, to, body)
	if err != nil {
		return "", err
	}

	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("sms: send %s: building request: %w", ch, err)
	}
	req.SetBasicAuth(s.accountSID, s.authToken())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "latch-sms")

	resp, err := s.client.Do(req)
	if err != nil {
		return "", s.transportErr(ctx, ch, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return "", s.transportErr(ctx, ch, fmt.Errorf("reading answer: %w", err))
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", fmt.Errorf("sms: send %s: %w", ch, s.apiError(resp, data))
	}

	var ok struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(data, &ok); err != nil {
		return "", fmt.Errorf("sms: send %s: %w: status %d, answer is not JSON (%s)", ch, ErrMalformedResponse, resp.StatusCode, contentType(resp))
	}
	if !isMessageSID(ok.SID) {
		return "", fmt.Errorf("sms: send %s: %w: status %d, answer has no valid sid", ch, ErrMalformedResponse, resp.StatusCode)
	}
	return ok.SID, nil
}

// form validates the message and builds the request fields.
func (s *Sender) form(ch Channel, to, body string) (url.Values, error) {
	switch ch {
	case SMS:
		if !isE164(to) {
			return nil, fmt.Errorf("%w: recipient is not an E.164 number like +14155550100", ErrInvalidMessage)
		}
	case WhatsApp:
		to = strings.TrimPrefix(to, whatsappPrefix)
		if !isE164(to) {
			return nil, fmt.Errorf("%w: recipient is not an E.164 number like +14155550100", ErrInvalidMessage)
		}
	default:
		return nil, fmt.Errorf("%w: unknown channel %q (want %q or %q)", ErrInvalidMessage, ch, SMS, WhatsApp)
	}
	switch n := utf8.RuneCountInString(body); {
	case strings.TrimSpace(body) == "":
		return nil, fmt.Errorf("%w: empty body", ErrInvalidMessage)
	case !utf8.ValidString(body):
		return nil, fmt.Errorf("%w: body is not valid UTF-8", ErrInvalidMessage)
	case n > MaxBodyChars:
		return nil, fmt.Errorf("%w: body has %d characters, more than %d", ErrInvalidMessage, n, MaxBodyChars)
	}

	form := url.Values{}
	form.Set("Body", body)
	if ch == WhatsApp {
		form.Set("To", whatsappPrefix+to)
		switch {
		case s.whatsAppFrom != "":
			form.Set("From", whatsappPrefix+s.whatsAppFrom)
		case s.messagingServiceSID != "":
			form.Set("MessagingServiceSid", s.messagingServiceSID)
		default:
			form.Set("From", whatsappPrefix+s.from)
		}
		return form, nil
	}
	form.Set("To", to)
	if s.messagingServiceSID != "" {
		form.Set("MessagingServiceSid", s.messagingServiceSID)
	} else {
		form.Set("From", s.from)
	}
	return form, nil
}

// transportErr wraps a failure to get an answer, saying so plainly when the
// send's own timeout fired.
func (s *Sender) transportErr(ctx context.Context, ch Channel, err error) error {
	err = s.scrub(err)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("sms: send %s: timed out: %w", ch, err)
		}
		return fmt.Errorf("sms: send %s: timed out: %w: %w", ch, context.DeadlineExceeded, err)
	}
	return fmt.Errorf("sms: send %s: %w", ch, err)
}

// apiError builds an *APIError from a non-2xx answer.
func (s *Sender) apiError(resp *http.Response, data []byte) *APIError {
	e := &APIError{StatusCode: resp.StatusCode}
	var body struct {
		Code     int    `json:"code"`
		Message  string `json:"message"`
		MoreInfo string `json:"more_info"`
	}
	if json.Unmarshal(data, &body) == nil {
		e.Code = body.Code
		e.Message = s.scrubString(truncate(body.Message, 500))
		e.MoreInfo = s.scrubString(truncate(body.MoreInfo, 200))
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if secs, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && secs >= 0 {
			e.RetryAfter = time.Duration(secs) * time.Second
		}
	}
	return e
}

func contentType(resp *http.Response) string {
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	if ct == "" {
		return "no content type"
	}
	return "unparseable content type"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// isMessageSID accepts a non-empty SID-like token: Twilio's are "SM" or "MM"
// plus 32 hex digits, but compatible providers use other shapes (UUIDs).
func isMessageSID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (s *Sender) scrubString(text string) string {
	token := s.authToken()
	if token == "" {
		return text
	}
	return strings.ReplaceAll(text, token, "[REDACTED]")
}

// scrub guards against a transport error whose text somehow contains the
// auth token (it should not: the token travels only in the Authorization
// header). The original error stays reachable through Unwrap.
func (s *Sender) scrub(err error) error {
	if token, msg := s.authToken(), err.Error(); token != "" && strings.Contains(msg, token) {
		return &scrubbedError{msg: s.scrubString(msg), err: err}
	}
	return err
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// APIError is a non-2xx answer from the provider. Code, Message and MoreInfo
// come from Twilio's error JSON ({"code", "message", "more_info", "status"})
// and are empty if the answer was not in that shape.
type APIError struct {
	StatusCode int    // HTTP status
	Code       int    // Twilio error code, e.g. 21211 (invalid To); 0 if absent
	Message    string // Twilio's message
	MoreInfo   string // documentation link
	// RetryAfter is the Retry-After header of a 429 or 503 answer, if it was
	// a number of seconds.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "provider answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != 0 {
		fmt.Fprintf(&b, ": code %d", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.MoreInfo != "" {
		fmt.Fprintf(&b, " (%s)", e.MoreInfo)
	}
	return b.String()
}

// Permanent reports whether the answer means the same request cannot
// succeed: any 4xx except 408 (Request Timeout) and 429 (Too Many Requests).
func (e *APIError) Permanent() bool {
	return e.StatusCode >= 400 && e.StatusCode <= 499 &&
		e.StatusCode != http.StatusRequestTimeout && e.StatusCode != http.StatusTooManyRequests
}

// IsPermanent reports whether err means that sending the same message again
// cannot succeed, so the outbox should stop retrying it: an ErrInvalidMessage,
// or a 4xx answer other than 408 and 429 (invalid recipient, authentication
// failed, unverified sender, ...). 408, 429 and 5xx answers, malformed
// answers, network and TLS failures, timeouts and cancellations are
// temporary, as is any error it does not recognise.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrInvalidMessage) {
		return true
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Permanent()
	}
	return false
}

package sms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testAccountSID = "AC0123456789abcdef0123456789abcdef"
	testAuthToken  = "tok-7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c2e" // distinctive, so a leak is easy to spot
	testMGSID      = "MG00112233445566778899aabbccddeeff"
	testMsgSID     = "SM9b2f3c4d5e6f708192a3b4c5d6e7f809"
	testFrom       = "+14155550100"
	testTo         = "+14155550101"
)

// request is what the fake provider saw of one request.
type request struct {
	Method      string
	Path        string
	User, Pass  string
	BasicOK     bool
	ContentType string
	Form        url.Values
}

// fakeProvider is an httptest TLS server that records each request and answers
// with whatever respond writes.
type fakeProvider struct {
	srv *httptest.Server

	mu   sync.Mutex
	reqs []request
}

func newFakeProvider(t *testing.T, respond http.HandlerFunc) *fakeProvider {
	t.Helper()
	fp := &fakeProvider{}
	fp.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		form, err := url.ParseQuery(string(raw))
		if err != nil {
			form = nil
		}
		user, pass, ok := r.BasicAuth()
		fp.mu.Lock()
		fp.reqs = append(fp.reqs, request{
			Method:      r.Method,
			Path:        r.URL.Path,
			User:        user,
			Pass:        pass,
			BasicOK:     ok,
			ContentType: r.Header.Get("Content-Type"),
			Form:        form,
		})
		fp.mu.Unlock()
		respond(w, r)
	}))
	t.Cleanup(fp.srv.Close)
	return fp
}

func (fp *fakeProvider) requests() []request {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	return append([]request(nil), fp.reqs...)
}

// config returns a valid Config pointing at the fake provider.
func (fp *fakeProvider) config() Config {
	return Config{
		BaseURL:    fp.srv.URL,
		AccountSID: testAccountSID,
		AuthToken:  testAuthToken,
		From:       testFrom,
		Timeout:    10 * time.Second,
		HTTPClient: fp.srv.Client(),
	}
}

func newSender(t *testing.T, cfg Config) *Sender {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// twilioCreated answers like Twilio does for a successfully queued message.
func twilioCreated(sid string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		to, from, body := r.PostFormValue("To"), r.PostFormValue("From"), r.PostFormValue("Body")
		mg := "null"
		if v := r.PostFormValue("MessagingServiceSid"); v != "" {
			mg = fmt.Sprintf("%q", v)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{
  "account_sid": %[1]q,
  "api_version": "2010-04-01",
  "body": %[2]q,
  "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
  "date_sent": null,
  "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000",
  "direction": "outbound-api",
  "error_code": null,
  "error_message": null,
  "from": %[3]q,
  "messaging_service_sid": %[4]s,
  "num_media": "0",
  "num_segments": "1",
  "price": null,
  "price_unit": "USD",
  "sid": %[5]q,
  "status": "queued",
  "subresource_uris": {"media": "/2010-04-01/Accounts/%[1]s/Messages/%[5]s/Media.json"},
  "to": %[6]q,
  "uri": "/2010-04-01/Accounts/%[1]s/Messages/%[5]s.json"
}`, testAccountSID, body, from, mg, sid, to)
	}
}

// twilioError answers with Twilio's error JSON.
func twilioError(status, code int, message string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"code": %d, "message": %q, "more_info": "https://www.twilio.com/docs/errors/%d", "status": %d}`,
			code, message, code, status)
	}
}

// checkRequest verifies the parts of a request that are the same for every
// send, and that the form is exactly want.
func checkRequest(t *testing.T, got request, want url.Values) {
	t.Helper()
	if got.Method != http.MethodPost {
		t.Errorf("method = %q, want POST", got.Method)
	}
	if wantPath := "/2010-04-01/Accounts/" + testAccountSID + "/Messages.json"; got.Path != wantPath {
		t.Errorf("path = %q, want %q", got.Path, wantPath)
	}
	if !got.BasicOK || got.User != testAccountSID || got.Pass != testAuthToken {
		t.Errorf("basic auth = (%q, %t), want account SID and auth token", got.User, got.BasicOK)
	}
	if got.ContentType != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q, want application/x-www-form-urlencoded", got.ContentType)
	}
	if len(got.Form) != len(want) {
		t.Errorf("form = %v, want %v", got.Form, want)
	}
	for k := range want {
		if got.Form.Get(k) != want.Get(k) || len(got.Form[k]) != 1 {
			t.Errorf("form[%s] = %q, want %q", k, got.Form[k], want.Get(k))
		}
	}
}

func onlyRequest(t *testing.T, fp *fakeProvider) request {
	t.Helper()
	reqs := fp.requests()
	if len(reqs) != 1 {
		t.Fatalf("provider saw %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

func TestSendSMSWithFrom(t *testing.T) {
	fp := newFakeProvider(t, twilioCreated(testMsgSID))
	s := newSender(t, fp.config())

	sid, err := s.Send(t.Context(), SMS, testTo, "Your code is 123456")
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if sid != testMsgSID {
		t.Errorf("sid = %q, want %q", sid, testMsgSID)
	}
	checkRequest(t, onlyRequest(t, fp), url.Values{
		"To":   {testTo},
		"From": {testFrom},
		"Body": {"Your code is 123456"},
	})
}

func TestSendSMSWithMessagingService(t *testing.T) {
	fp := newFakeProvider(t, twilioCreated(testMsgSID))
	cfg := fp.config()
	cfg.From = ""
	cfg.MessagingServiceSID = testMGSID
	s := newSender(t, cfg)

	sid, err := s.Send(t.Context(), SMS, testTo, "Sign in: https://example.com/l/abc?x=1&y=2")
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if sid != testMsgSID {
		t.Errorf("sid = %q, want %q", sid, testMsgSID)
	}
	checkRequest(t, onlyRequest(t, fp), url.Values{
		"To":                  {testTo},
		"MessagingServiceSid": {testMGSID},
		"Body":                {"Sign in: https://example.com/l/abc?x=1&y=2"},
	})
}

func TestSendMessagingServiceWinsOverFrom(t *testing.T) {
	fp := newFakeProvider(t, twilioCreated(testMsgSID))
	cfg := fp.config()
	cfg.MessagingServiceSID = testMGSID
	s := newSender(t, cfg)

	if _, err := s.Send(t.Context(), SMS, testTo, "hi"); err != nil {
		t.Fatalf("Send: %v", err)
	}
	checkRequest(t, onlyRequest(t, fp), url.Values{
		"To":                  {testTo},
		"MessagingServiceSid": {testMGSID},
		"Body":                {"hi"},
	})
}

func TestSendWhatsApp(t *testing.T) {
	const mmsSID = "MM0123456789abcdef0123456789abcdef"
	tests := []struct {
		name   string
		mutate func(*Config)
		to     string
		want   url.Values
	}{
		{
			name: "defaults to From",
			to:   testTo,
			want: url.Values{"To": {"whatsapp:" + testTo}, "From": {"whatsapp:" + testFrom}, "Body": {"Your code is 123456"}},
		},
		{
			name: "recipient already prefixed",
			to:   "whatsapp:" + testTo,
			want: url.Values{"To": {"whatsapp:" + testTo}, "From": {"whatsapp:" + testFrom}, "Body": {"Your code is 123456"}},
		},
		{
			name:   "separate WhatsApp sender",
			mutate: func(c *Config) { c.WhatsAppFrom = "+14155550199" },
			to:     testTo,
			want:   url.Values{"To": {"whatsapp:" + testTo}, "From": {"whatsapp:+14155550199"}, "Body": {"Your code is 123456"}},
		},
		{
			name:   "separate WhatsApp sender given with prefix",
			mutate: func(c *Config) { c.WhatsAppFrom = "whatsapp:+14155550199" },
			to:     testTo,
			want:   url.Values{"To": {"whatsapp:" + testTo}, "From": {"whatsapp:+14155550199"}, "Body": {"Your code is 123456"}},
		},
		{
			name:   "messaging service",
			mutate: func(c *Config) { c.From = ""; c.MessagingServiceSID = testMGSID },
			to:     testTo,
			want:   url.Values{"To": {"whatsapp:" + testTo}, "MessagingServiceSid": {testMGSID}, "Body": {"Your code is 123456"}},
		},
		{
			name:   "WhatsApp sender wins over messaging service",
			mutate: func(c *Config) { c.MessagingServiceSID = testMGSID; c.WhatsAppFrom = "+14155550199" },
			to:     testTo,
			want:   url.Values{"To": {"whatsapp:" + testTo}, "From": {"whatsapp:+14155550199"}, "Body": {"Your code is 123456"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fp := newFakeProvider(t, twilioCreated(mmsSID))
			cfg := fp.config()
			if tc.mutate != nil {
				tc.mutate(&cfg)
			}
			s := newSender(t, cfg)
			sid, err := s.Send(t.Context(), WhatsApp, tc.to, "Your code is 123456")
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if sid != mmsSID {
				t.Errorf("sid = %q, want %q", sid, mmsSID)
			}
			checkRequest(t, onlyRequest(t, fp), tc.want)
		})
	}
}

func TestSendBaseURLWithPathPrefixAndTrailingSlash(t *testing.T) {
	fp := newFakeProvider(t, twilioCreated(testMsgSID))
	cfg := fp.config()
	cfg.BaseURL = fp.srv.URL + "/twilio/"
	s := newSender(t, cfg)
	if _, err := s.Send(t.Context(), SMS, testTo, "hi"); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if want, gotPath := "/twilio/2010-04-01/Accounts/"+testAccountSID+"/Messages.json", onlyRequest(t, fp).Path; gotPath != want {
		t.Errorf("path = %q, want %q", gotPath, want)
	}
}

func TestSendPlainHTTPLoopback(t *testing.T) {
	srv := httptest.NewServer(twilioCreated(testMsgSID))
	t.Cleanup(srv.Close)
	s := newSender(t, Config{BaseURL: srv.URL, AccountSID: testAccountSID, AuthToken: testAuthToken, From: testFrom})
	sid, err := s.Send(t.Context(), SMS, testTo, "hi")
	if err != nil || sid != testMsgSID {
		t.Fatalf("Send = %q, %v; want %q, nil", sid, err, testMsgSID)
	}
}

func TestSendInvalidToIsPermanent(t *testing.T) {
	fp := newFakeProvider(t, twilioError(http.StatusBadRequest, 21211, "Invalid 'To' Phone Number: +1999555XXXX"))
	s := newSender(t, fp.config())

	sid, err := s.Send(t.Context(), SMS, "+19995550123", "hi")
	if err == nil {
		t.Fatalf("Send succeeded with sid %q, want an error", sid)
	}
	if !IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = false, want true", err)
	}
	if !strings.Contains(err.Error(), "21211") || !strings.Contains(err.Error(), "Invalid 'To' Phone Number") {
		t.Errorf("error %q does not name Twilio code 21211 and its message", err)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v is not an *APIError", err)
	}
	if apiErr.StatusCode != 400 || apiErr.Code != 21211 || apiErr.MoreInfo != "https://www.twilio.com/docs/errors/21211" {
		t.Errorf("APIError = %+v", apiErr)
	}
	if strings.Contains(err.Error(), testAuthToken) {
		t.Errorf("error leaks the auth token: %q", err)
	}
	checkRequest(t, onlyRequest(t, fp), url.Values{"To": {"+19995550123"}, "From": {testFrom}, "Body": {"hi"}})
}

func TestSendAnswerClassification(t *testing.T) {
	tests := []struct {
		name      string
		respond   http.HandlerFunc
		permanent bool
		contains  string
	}{
		{"401 authenticate", twilioError(401, 20003, "Authenticate"), true, "20003"},
		{"404 unknown account", twilioError(404, 20404, "The requested resource was not found"), true, "20404"},
		{"400 unverified sender", twilioError(400, 21606, "The From phone number is not a valid, SMS-capable inbound phone number"), true, "21606"},
		{"429 too many requests", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3")
			twilioError(429, 20429, "Too Many Requests")(w, r)
		}, false, "20429"},
		{"408 request timeout", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusRequestTimeout)
		}, false, "408"},
		{"500 internal error", twilioError(500, 20500, "Internal Server Error"), false, "20500"},
		{"502 HTML from a proxy", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html><body>Bad Gateway</body></html>")
		}, false, "502"},
		{"503 unavailable", twilioError(503, 20503, "Service Unavailable"), false, "503"},
		{"redirect is not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		}, false, "307"},
		{"201 without JSON", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, "<html>hello</html>")
		}, false, "not JSON"},
		{"200 without sid", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"status":"queued"}`)
		}, false, "no valid sid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fp := newFakeProvider(t, tc.respond)
			s := newSender(t, fp.config())
			sid, err := s.Send(t.Context(), SMS, testTo, "hi")
			if err == nil {
				t.Fatalf("Send succeeded with sid %q, want an error", sid)
			}
			if got := IsPermanent(err); got != tc.permanent {
				t.Errorf("IsPermanent(%v) = %t, want %t", err, got, tc.permanent)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not contain %q", err, tc.contains)
			}
			if strings.Contains(err.Error(), testAuthToken) {
				t.Errorf("error leaks the auth token: %q", err)
			}
			if n := len(fp.requests()); n != 1 {
				t.Errorf("provider saw %d requests, want 1", n)
			}
		})
	}
}

func TestRetryAfterIsParsed(t *testing.T) {
	fp := newFakeProvider(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		twilioError(429, 20429, "Too Many Requests")(w, r)
	})
	s := newSender(t, fp.config())
	_, err := s.Send(t.Context(), SMS, testTo, "hi")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.RetryAfter != 7*time.Second {
		t.Fatalf("error = %v (%+v), want an APIError with RetryAfter 7s", err, apiErr)
	}
}

func TestErrorMessageEchoingTokenIsScrubbed(t *testing.T) {
	fp := newFakeProvider(t, twilioError(401, 20003, "Authenticate: bad password "+testAuthToken))
	s := newSender(t, fp.config())
	_, err := s.Send(t.Context(), SMS, testTo, "hi")
	if err == nil {
		t.Fatal("Send succeeded, want an error")
	}
	if strings.Contains(err.Error(), testAuthToken) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), testAuthToken) {
		t.Errorf("error leaks the auth token: %q", err)
	}
	if !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("error %q does not show the redaction", err)
	}
}

// blockingProvider returns a provider whose handler blocks until the test
// ends, and a channel that is closed when a request has arrived.
func blockingProvider(t *testing.T) (*fakeProvider, <-chan struct{}) {
	t.Helper()
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	fp := newFakeProvider(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-release
	})
	// Cleanups run last-registered first: release the handler before the
	// server's Close (registered in newFakeProvider) waits for it.
	t.Cleanup(func() { close(release) })
	return fp, arrived
}

func TestSendTimeoutIsTemporary(t *testing.T) {
	fp, _ := blockingProvider(t)
	cfg := fp.config()
	cfg.Timeout = 100 * time.Millisecond
	s := newSender(t, cfg)

	start := time.Now()
	sid, err := s.Send(t.Context(), SMS, testTo, "hi")
	elapsed := time.Since(start)
	if err == nil {
		t.Fatalf("Send succeeded with sid %q against a silent provider", sid)
	}
	if elapsed > 5*time.Second {
		t.Errorf("Send took %s with a 100ms timeout", elapsed)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
	}
	if IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = true, want false", err)
	}
	if strings.Contains(err.Error(), testAuthToken) {
		t.Errorf("error leaks the auth token: %q", err)
	}
}

func TestSendHonoursContextCancellation(t *testing.T) {
	fp, arrived := blockingProvider(t)
	s := newSender(t, fp.config()) // 10s timeout: only the cancellation can end it

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		<-arrived
		cancel()
	}()
	start := time.Now()
	_, err := s.Send(ctx, SMS, testTo, "hi")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Send error = %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Send took %s after cancellation", elapsed)
	}
	if IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = true, want false", err)
	}
}

func TestSendAlreadyCancelledContext(t *testing.T) {
	fp := newFakeProvider(t, twilioCreated(testMsgSID))
	s := newSender(t, fp.config())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Send(ctx, SMS, testTo, "hi")
	if !errors.Is(err, context.Canceled) || IsPermanent(err) {
		t.Fatalf("Send error = %v (permanent %t), want temporary context.Canceled", err, IsPermanent(err))
	}
	if n := len(fp.requests()); n != 0 {
		t.Errorf("provider saw %d requests, want 0", n)
	}
}

func TestSendUnreachableIsTemporary(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	cfg := Config{BaseURL: srv.URL, AccountSID: testAccountSID, AuthToken: testAuthToken, From: testFrom, HTTPClient: srv.Client()}
	srv.Close() // nothing listens on the port any more
	s := newSender(t, cfg)
	_, err := s.Send(t.Context(), SMS, testTo, "hi")
	if err == nil || IsPermanent(err) {
		t.Fatalf("Send error = %v, want a temporary error", err)
	}
}

func TestSendInvalidMessageIsPermanentAndDoesNotConnect(t *testing.T) {
	fp := newFakeProvider(t, twilioCreated(testMsgSID))
	s := newSender(t, fp.config())
	tests := []struct {
		name string
		ch   Channel
		to   string
		body string
	}{
		{"unknown channel", Channel("pigeon"), testTo, "hi"},
		{"empty channel", "", testTo, "hi"},
		{"to without plus", SMS, "14155550101", "hi"},
		{"to with spaces", SMS, "+1 415 555 0101", "hi"},
		{"to too long", SMS, "+1234567890123456", "hi"},
		{"to leading zero", SMS, "+0415555010", "hi"},
		{"empty to", SMS, "", "hi"},
		{"whatsapp prefix on SMS", SMS, "whatsapp:" + testTo, "hi"},
		{"whatsapp bad number", WhatsApp, "whatsapp:4155550101", "hi"},
		{"empty body", SMS, testTo, ""},
		{"blank body", SMS, testTo, " \n\t"},
		{"invalid UTF-8", SMS, testTo, "code \xff"},
		{"body too long", SMS, testTo, strings.Repeat("é", MaxBodyChars+1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Send(t.Context(), tc.ch, tc.to, tc.body)
			if !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("Send error = %v, want ErrInvalidMessage", err)
			}
			if !IsPermanent(err) {
				t.Errorf("IsPermanent(%v) = false, want true", err)
			}
			if tc.to != "" && tc.to != "whatsapp:"+testTo && strings.Contains(err.Error(), tc.to) {
				t.Errorf("error %q names the recipient", err)
			}
		})
	}
	if _, err := s.Send(t.Context(), SMS, testTo, strings.Repeat("é", MaxBodyChars)); err != nil {
		t.Errorf("Send with a %d-character body: %v", MaxBodyChars, err)
	}
	if n := len(fp.requests()); n != 1 {
		t.Errorf("provider saw %d requests, want only the valid one", n)
	}
}

func TestNewValidation(t *testing.T) {
	valid := Config{AccountSID: testAccountSID, AuthToken: testAuthToken, From: testFrom}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string // substrings of the error; nil means valid
	}{
		{"valid with defaults", func(*Config) {}, nil},
		{"valid messaging service only", func(c *Config) { c.From = ""; c.MessagingServiceSID = testMGSID }, nil},
		{"valid uppercase hex SID", func(c *Config) { c.AccountSID = strings.ToUpper(testAccountSID) }, nil},
		{"valid https base URL", func(c *Config) { c.BaseURL = "https://sms.example.com/proxy" }, nil},
		{"valid http localhost", func(c *Config) { c.BaseURL = "http://localhost:8080" }, nil},
		{"valid http 127.0.0.1", func(c *Config) { c.BaseURL = "http://127.0.0.1:8080" }, nil},
		{"valid http 127.1.2.3", func(c *Config) { c.BaseURL = "http://127.1.2.3" }, nil},
		{"valid http ::1", func(c *Config) { c.BaseURL = "http://[::1]:8080" }, nil},
		{"valid WhatsApp sender", func(c *Config) { c.WhatsAppFrom = "+447700900123" }, nil},
		{"valid prefixed WhatsApp sender", func(c *Config) { c.WhatsAppFrom = "whatsapp:+447700900123" }, nil},
		{"valid timeout", func(c *Config) { c.Timeout = time.Second }, nil},

		{"missing account SID", func(c *Config) { c.AccountSID = "" }, []string{"account SID is required"}},
		{"account SID wrong prefix", func(c *Config) { c.AccountSID = "AB0123456789abcdef0123456789abcdef" }, []string{"account SID"}},
		{"account SID too short", func(c *Config) { c.AccountSID = "AC0123456789abcdef" }, []string{"account SID"}},
		{"account SID not hex", func(c *Config) { c.AccountSID = "AC0123456789abcdef0123456789abcdeg" }, []string{"account SID"}},
		{"missing auth token", func(c *Config) { c.AuthToken = "" }, []string{"auth token is required"}},
		{"auth token with white space", func(c *Config) { c.AuthToken = testAuthToken + "\n" }, []string{"auth token has leading or trailing white space"}},
		{"auth token with control char", func(c *Config) { c.AuthToken = "tok\x00en" }, []string{"auth token contains a control character"}},
		{"no sender", func(c *Config) { c.From = "" }, []string{"one of from and messaging service SID is required"}},
		{"from not E.164", func(c *Config) { c.From = "4155550100" }, []string{`from "4155550100" is not an E.164 number`}},
		{"from alphanumeric", func(c *Config) { c.From = "Latch" }, []string{"from \"Latch\""}},
		{"bad messaging service SID", func(c *Config) { c.MessagingServiceSID = "MG123" }, []string{"messaging service SID"}},
		{"messaging service SID with AC prefix", func(c *Config) { c.From = ""; c.MessagingServiceSID = testAccountSID }, []string{"messaging service SID"}},
		{"bad WhatsApp sender", func(c *Config) { c.WhatsAppFrom = "whatsapp:0044" }, []string{"WhatsApp from"}},
		{"http remote host", func(c *Config) { c.BaseURL = "http://api.twilio.com" }, []string{"http is only allowed for loopback hosts"}},
		{"http remote IP", func(c *Config) { c.BaseURL = "http://10.0.0.1" }, []string{"http is only allowed for loopback hosts"}},
		{"ftp scheme", func(c *Config) { c.BaseURL = "ftp://api.twilio.com" }, []string{`scheme "ftp" is not https`}},
		{"relative base URL", func(c *Config) { c.BaseURL = "api.twilio.com" }, []string{"not an absolute URL"}},
		{"base URL with credentials", func(c *Config) { c.BaseURL = "https://user:pw@api.twilio.com" }, []string{"must not contain credentials"}},
		{"base URL with query", func(c *Config) { c.BaseURL = "https://api.twilio.com/?x=1" }, []string{"must not have a query or fragment"}},
		{"unparseable base URL", func(c *Config) { c.BaseURL = "https://[::1" }, []string{"not a valid URL"}},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, []string{"timeout -1s is negative"}},
		{"all problems joined", func(c *Config) {
			c.AccountSID = "nope"
			c.From = ""
			c.BaseURL = "http://example.com"
			c.Timeout = -1
		}, []string{"account SID", "one of from and messaging service SID", "http is only allowed", "negative"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid
			tc.mutate(&cfg)
			s, err := New(cfg)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if s == nil {
					t.Fatal("New returned a nil Sender and no error")
				}
				return
			}
			if err == nil {
				t.Fatalf("New succeeded, want an error containing %q", tc.want)
			}
			if s != nil {
				t.Error("New returned a Sender along with an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if got := strings.Count(err.Error(), "sms: config:"); got != len(tc.want) {
				t.Errorf("error reports %d problems, want %d: %q", got, len(tc.want), err)
			}
			if cfg.AuthToken != "" && strings.Contains(err.Error(), strings.TrimSpace(cfg.AuthToken)) {
				t.Errorf("error leaks the auth token: %q", err)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	s := newSender(t, Config{AccountSID: testAccountSID, AuthToken: testAuthToken, From: testFrom})
	if want := DefaultBaseURL + "/2010-04-01/Accounts/" + testAccountSID + "/Messages.json"; s.endpoint != want {
		t.Errorf("endpoint = %q, want %q", s.endpoint, want)
	}
	if s.timeout != DefaultTimeout {
		t.Errorf("timeout = %s, want %s", s.timeout, DefaultTimeout)
	}
	if s.client.CheckRedirect == nil {
		t.Error("redirects are followed")
	}
}

func TestNewDoesNotModifyCallersClient(t *testing.T) {
	client := &http.Client{}
	newSender(t, Config{AccountSID: testAccountSID, AuthToken: testAuthToken, From: testFrom, HTTPClient: client})
	if client.CheckRedirect != nil {
		t.Error("New changed the caller's http.Client")
	}
}

func TestFormattingRedactsAuthToken(t *testing.T) {
	cfg := Config{
		BaseURL:             "https://api.twilio.com",
		AccountSID:          testAccountSID,
		AuthToken:           testAuthToken,
		From:                testFrom,
		MessagingServiceSID: testMGSID,
		WhatsAppFrom:        "+14155550199",
		Timeout:             time.Second,
	}
	s := newSender(t, cfg)
	type holder struct {
		Cfg    Config
		Sender *Sender
		inner  Sender // unexported: fmt prints it field by field, the token sits behind a pointer
	}
	h := holder{Cfg: cfg, Sender: s, inner: *s}

	var outputs []string
	for _, v := range []any{cfg, &cfg, s, *s, h, &h} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			outputs = append(outputs, fmt.Sprintf(verb, v))
		}
	}
	var logBuf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logBuf, nil))
	logger.Info("config", "cfg", cfg, "sender", s)
	logger.Info("text", "cfg", &cfg)
	outputs = append(outputs, logBuf.String())
	var textBuf bytes.Buffer
	slog.New(slog.NewTextHandler(&textBuf, nil)).Info("config", "cfg", cfg, "sender", *s)
	outputs = append(outputs, textBuf.String())

	for _, out := range outputs {
		if strings.Contains(out, testAuthToken) {
			t.Errorf("output leaks the auth token: %s", out)
		}
	}
	if got := fmt.Sprint(cfg); !strings.Contains(got, "[REDACTED]") || !strings.Contains(got, testAccountSID) {
		t.Errorf("Config String = %q, want the account SID and a redacted token", got)
	}
	if got := fmt.Sprint(s); !strings.Contains(got, testFrom) {
		t.Errorf("Sender String = %q, want the sender number", got)
	}
	if !strings.Contains(logBuf.String(), `"auth_token":"[REDACTED]"`) {
		t.Errorf("slog output %s lacks the redacted auth_token", logBuf.String())
	}
}

func TestIsPermanent(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("other"), false},
		{context.DeadlineExceeded, false},
		{context.Canceled, false},
		{fmt.Errorf("wrapped: %w", ErrInvalidMessage), true},
		{fmt.Errorf("wrapped: %w", ErrMalformedResponse), false},
		{&APIError{StatusCode: 400, Code: 21211}, true},
		{fmt.Errorf("x: %w", &APIError{StatusCode: 403}), true},
		{&APIError{StatusCode: 404}, true},
		{&APIError{StatusCode: 408}, false},
		{&APIError{StatusCode: 429, Code: 20429}, false},
		{&APIError{StatusCode: 499}, true},
		{&APIError{StatusCode: 500}, false},
		{&APIError{StatusCode: 503}, false},
		{&APIError{StatusCode: 302}, false},
	}
	for _, tc := range tests {
		if got := IsPermanent(tc.err); got != tc.want {
			t.Errorf("IsPermanent(%v) = %t, want %t", tc.err, got, tc.want)
		}
	}
}

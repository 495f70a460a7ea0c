package server_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/delivery"
	"github.com/latchhq/latch/internal/delivery/sms"
	"github.com/latchhq/latch/internal/otps"
	"github.com/latchhq/latch/internal/tenant"
)

type codeMessage struct {
	MessageID string  `json:"message_id"`
	Channel   string  `json:"channel"`
	To        string  `json:"to"`
	BodyText  string  `json:"body_text"`
	Code      *string `json:"code"`
}

// lastCode returns the newest code sent to addr.
func (p *project) lastCode(addr string) codeMessage {
	p.h.t.Helper()
	r := p.ok(200, "GET", "/v1/dev/outbox?to="+url.QueryEscape(addr), nil)
	msgs := into[struct{ Messages []codeMessage }](p.h.t, r).Messages
	if len(msgs) == 0 || msgs[0].Code == nil {
		p.h.t.Fatalf("no code sent to %s: %s", addr, r.raw)
	}
	return msgs[0]
}

func TestOTPSMSLoginOrCreateAndAuthenticate(t *testing.T) {
	h := newHarness(t)
	p := h.project("OTP", tenant.Test)
	r := p.ok(200, "POST", "/v1/otps/sms/login_or_create", map[string]any{"phone_number": "+1 (415) 555-2671"})
	phoneID, userID := r.str("phone_id"), r.str("user_id")
	if !idRe("phone-number", tenant.Test).MatchString(phoneID) || r.body["user_created"] != true {
		t.Fatalf("login_or_create: %s", r.raw)
	}
	m := p.lastCode("+14155552671")
	if m.Channel != "sms" || len(*m.Code) != 6 || m.BodyText != fmt.Sprintf("Your OTP verification code is %s. It expires in 2 minutes.", *m.Code) {
		t.Fatalf("message %+v", m)
	}
	// The code is stored only as a keyed hash.
	rows := queryRows(t, h.db(), `SELECT code_hash FROM otp_codes WHERE method_id = ?`, phoneID)
	if len(rows) != 1 || rows[0]["code_hash"] == *m.Code || rows[0]["code_hash"] == sha256hex(*m.Code) {
		t.Fatalf("stored code row %v", rows)
	}
	a := into[authJSON](t, p.ok(200, "POST", "/v1/otps/authenticate", map[string]any{"method_id": phoneID, "code": *m.Code, "session_duration_minutes": 30}))
	if a.UserID != userID || a.MethodID != phoneID || a.Session == nil {
		t.Fatalf("authenticate: %+v", a)
	}
	f := a.Session.AuthenticationFactors[0]
	if f.Type != "otp" || f.DeliveryMethod != "sms" {
		t.Fatalf("factor %+v", f)
	}
	if !a.User.PhoneNumbers[0].Verified || a.User.Status != "active" {
		t.Fatalf("user after OTP %+v", a.User)
	}
	wantError(t, p.call("POST", "/v1/otps/authenticate", map[string]any{"method_id": phoneID, "code": *m.Code}), 401, "unable_to_auth_otp_code")
}

func TestOTPCodeDiesAfterMaxAttempts(t *testing.T) {
	h := newHarness(t)
	p := h.project("OTP", tenant.Test)
	r := p.ok(200, "POST", "/v1/otps/email/login_or_create", map[string]any{"email": "ada@example.com"})
	emailID := r.str("email_id")
	code := *p.lastCode("ada@example.com").Code
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := 0; i < otps.MaxAttempts; i++ {
		wantError(t, p.call("POST", "/v1/otps/authenticate", map[string]any{"method_id": emailID, "code": wrong}), 404, "otp_code_not_found")
	}
	// The right code no longer works: the code is dead.
	wantError(t, p.call("POST", "/v1/otps/authenticate", map[string]any{"method_id": emailID, "code": code}), 401, "unable_to_auth_otp_code")
}

func TestOTPConcurrentRedemptionSucceedsOnce(t *testing.T) {
	h := newHarness(t)
	p := h.project("OTP", tenant.Test)
	r := p.ok(200, "POST", "/v1/otps/whatsapp/login_or_create", map[string]any{"phone_number": "+442079460958"})
	phoneID := r.str("phone_id")
	m := p.lastCode("+442079460958")
	if m.Channel != "whatsapp" {
		t.Fatalf("channel %q", m.Channel)
	}
	// MaxAttempts bounds the racers that even reach the comparison.
	const n = otps.MaxAttempts
	start := make(chan struct{})
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := h.send("POST", "/v1/otps/authenticate", map[string]any{"method_id": phoneID, "code": *m.Code}, p.auth())
			if err == nil {
				statuses[i] = res.status
			}
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		if s == 200 {
			ok++
		} else if s != 401 {
			t.Errorf("status %d", s)
		}
	}
	if ok != 1 {
		t.Fatalf("%d successes of %d racers, want exactly 1: %v", ok, n, statuses)
	}
}

func TestOTPExpiryAndReplacement(t *testing.T) {
	h := newHarness(t)
	p := h.project("OTP", tenant.Test)
	r := p.ok(200, "POST", "/v1/otps/sms/login_or_create", map[string]any{"phone_number": "+14155550100", "expiration_minutes": 1})
	phoneID := r.str("phone_id")
	first := *p.lastCode("+14155550100").Code
	h.clock.Advance(61 * time.Second)
	wantError(t, p.call("POST", "/v1/otps/authenticate", map[string]any{"method_id": phoneID, "code": first}), 401, "unable_to_auth_otp_code")

	// A new send replaces the old code: only the newest works.
	p.ok(200, "POST", "/v1/otps/sms/send", map[string]any{"phone_number": "+14155550100"})
	second := *p.lastCode("+14155550100").Code
	if second != first {
		wantError(t, p.call("POST", "/v1/otps/authenticate", map[string]any{"method_id": phoneID, "code": first}), 404, "otp_code_not_found")
	}
	p.ok(200, "POST", "/v1/otps/authenticate", map[string]any{"method_id": phoneID, "code": second})

	for _, tc := range []struct {
		body map[string]any
		path string
		want string
		code int
	}{
		{map[string]any{"phone_number": "+14155550100", "expiration_minutes": 11}, "/v1/otps/sms/send", "invalid_expiration_otp", 400},
		{map[string]any{"phone_number": "4155550100"}, "/v1/otps/sms/send", "invalid_phone_number", 400},
		{map[string]any{"phone_number": "+14155550199"}, "/v1/otps/sms/send", "phone_number_not_found", 404},
		{map[string]any{"email": "nobody@example.com"}, "/v1/otps/email/send", "email_not_found", 404},
		// A dashboard template id: per-project templates are not built.
		{map[string]any{"email": "new@example.com", "login_template_id": "f6b1c9e2-acme-login"}, "/v1/otps/email/login_or_create", "email_template_not_found", 400},
		{map[string]any{"method_id": phoneID, "code": "12345"}, "/v1/otps/authenticate", "invalid_code", 400},
		{map[string]any{"method_id": "user-test-x", "code": "123456"}, "/v1/otps/authenticate", "invalid_method_id", 400},
	} {
		wantError(t, p.call("POST", tc.path, tc.body), tc.code, tc.want)
	}
}

// A second factor: a magic-link session gains an SMS OTP factor.
func TestOTPAddsFactorToSession(t *testing.T) {
	h := newHarness(t)
	p := h.project("MFA", tenant.Test)
	a := p.login("mfa@example.com", 60)
	r := p.ok(200, "POST", "/v1/otps/sms/send", map[string]any{"phone_number": "+14155550123", "session_token": a.SessionToken})
	if r.str("user_id") != a.UserID {
		t.Fatalf("the phone was attached to %s, want %s", r.str("user_id"), a.UserID)
	}
	code := *p.lastCode("+14155550123").Code
	b := into[authJSON](t, p.ok(200, "POST", "/v1/otps/authenticate", map[string]any{
		"method_id": r.str("phone_id"), "code": code, "session_token": a.SessionToken}))
	if b.Session == nil || b.Session.SessionID != a.Session.SessionID {
		t.Fatalf("second factor started a new session: %+v", b.Session)
	}
	types := []string{}
	for _, f := range b.Session.AuthenticationFactors {
		types = append(types, f.Type+"/"+f.DeliveryMethod)
	}
	if fmt.Sprint(types) != "[magic_link/email otp/sms]" {
		t.Fatalf("factors %v", types)
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func TestOTPMatchOptionsCompareWithTheSendCall(t *testing.T) {
	h := newHarness(t)
	p := h.project("OTP", tenant.Test)
	attrs := map[string]any{"ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0 Ada"}
	r := p.ok(200, "POST", "/v1/otps/email/login_or_create", map[string]any{"email": "ada@example.com", "attributes": attrs})
	emailID := r.str("email_id")
	code := *p.lastCode("ada@example.com").Code
	both := map[string]any{"ip_match_required": true, "user_agent_match_required": true}
	// A different IP, then a different user agent: refused, and the code lives on.
	wantError(t, p.call("POST", "/v1/otps/authenticate", map[string]any{"method_id": emailID, "code": code, "options": both,
		"attributes": map[string]any{"ip_address": "198.51.100.1", "user_agent": "Mozilla/5.0 Ada"}}), 401, "attribute_mismatch")
	wantError(t, p.call("POST", "/v1/otps/authenticate", map[string]any{"method_id": emailID, "code": code, "options": both,
		"attributes": map[string]any{"ip_address": "203.0.113.7", "user_agent": "curl/8"}}), 401, "attribute_mismatch")
	// Without the options, a mismatch does not matter; with them, the same
	// IP and agent pass.
	// telemetry_id must be a string, and is otherwise ignored.
	wantError(t, p.call("POST", "/v1/otps/authenticate", map[string]any{"method_id": emailID, "code": code, "telemetry_id": true}), 400, "invalid_argument")
	a := into[authJSON](t, p.ok(200, "POST", "/v1/otps/authenticate", map[string]any{"method_id": emailID, "code": code, "options": both, "attributes": attrs,
		"telemetry_id": "026ac93b-8cdf-4b82-9d3d-b5ab3ff4bf9b"}))
	if a.MethodID != emailID {
		t.Fatalf("authenticate: %+v", a)
	}
}

// The locale picks the message's language: each channel accepts exactly
// the locales the SDK's types list for it, and a refused send creates no user.
func TestOTPLocales(t *testing.T) {
	h := newHarness(t)
	p := h.project("Acme", tenant.Test)
	p.ok(200, "POST", "/v1/otps/sms/login_or_create", map[string]any{"phone_number": "+14155552671", "locale": "ja"})
	if m := p.lastCode("+14155552671"); m.BodyText != fmt.Sprintf("Acmeの認証コードは%sです。有効期限は2分です。", *m.Code) {
		t.Errorf("Japanese SMS = %q", m.BodyText)
	}
	p.ok(200, "POST", "/v1/otps/whatsapp/login_or_create", map[string]any{"phone_number": "+14155552672", "locale": "ru", "expiration_minutes": 5})
	if m := p.lastCode("+14155552672"); m.BodyText != fmt.Sprintf("Ваш код подтверждения для Acme: %s. Он действует 5 минут.", *m.Code) {
		t.Errorf("Russian WhatsApp = %q", m.BodyText)
	}
	p.ok(200, "POST", "/v1/otps/email/login_or_create", map[string]any{"email": "ana@example.com", "locale": "es"})
	var m messageJSON
	if msgs := p.outbox("ana@example.com"); len(msgs) == 1 {
		m = msgs[0]
	}
	code := *p.lastCode("ana@example.com").Code
	if m.Subject != "Tu código de verificación de Acme" || m.BodyText != "Tu código de verificación de Acme es "+code+
		".\n\nEl código caduca en 2 minutos. Si no lo pediste, puedes ignorar este correo.\n" {
		t.Errorf("Spanish OTP email = %q / %q", m.Subject, m.BodyText)
	}
	for _, tc := range []struct{ path, field, addr, locale, list string }{
		{"/v1/otps/email/login_or_create", "email", "ja@example.com", "ja", "en, es, pt-br, fr"},
		{"/v1/otps/sms/login_or_create", "phone_number", "+14155552673", "xx", "en, es, pt-br, fr, it, de-DE, zh-Hans, ca-ES, ja, ru, nl, pl, tr, fa, vi, cs"},
		{"/v1/otps/whatsapp/login_or_create", "phone_number", "+14155552673", "de", "en, es, pt-br, fr, it, de-DE, zh-Hans, ca-ES, ja, ru, nl, pl, tr, fa, vi, cs"},
	} {
		r := p.call("POST", tc.path, map[string]any{tc.field: tc.addr, "locale": tc.locale})
		wantError(t, r, 400, "invalid_locale")
		if want := "locale must be one of " + tc.list + "."; r.str("error_message") != want {
			t.Errorf("%s locale %q: message %q, want %q", tc.path, tc.locale, r.str("error_message"), want)
		}
	}
	if got := into[searchJSON](t, p.ok(200, "POST", "/v1/users/search", map[string]any{})).ResultsMetadata.Total; got != 3 {
		t.Errorf("users = %d, want 3: a refused send created one", got)
	}
}

// A live project's SMS code travels from the send through the outbox
// worker and the Twilio provider to a Twilio-shaped server, and the code it
// carried then authenticates.
func TestOTPSMSThroughTwilioProvider(t *testing.T) {
	const sid, token = "AC0123456789abcdef0123456789abcdef", "twilio-auth-token"
	type post struct {
		path, user, pass string
		form             url.Values
	}
	posts := make(chan post, 4)
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		user, pass, _ := r.BasicAuth()
		posts <- post{r.URL.Path, user, pass, r.PostForm}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}`)
	}))
	t.Cleanup(fake.Close)
	sender, err := sms.New(sms.Config{BaseURL: fake.URL, AccountSID: sid, AuthToken: token, From: "+14155550100", HTTPClient: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessWith(t, harnessOptions{providers: map[string]delivery.Provider{"twilio": delivery.Twilio{Sender: sender}}, poll: 50 * time.Millisecond})
	h.app.Outbox.TextProvider = "twilio" // as latch serve does with --twilio-* flags; no request has run yet
	live := h.project("Acme", tenant.Live)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.app.RunWorkers(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)

	r := live.ok(200, "POST", "/v1/otps/sms/login_or_create", map[string]any{"phone_number": "+14155552671", "locale": "es"})
	phoneID := r.str("phone_id")
	var got post
	select {
	case got = <-posts:
	case <-time.After(15 * time.Second):
		t.Fatal("the fake Twilio server received nothing")
	}
	stop() // the worker records the delivery before it returns
	code := regexp.MustCompile(`\b\d{6}\b`).FindString(got.form.Get("Body"))
	if got.path != "/2010-04-01/Accounts/"+sid+"/Messages.json" || got.user != sid || got.pass != token ||
		got.form.Get("To") != "+14155552671" || got.form.Get("From") != "+14155550100" ||
		got.form.Get("Body") != "Tu código de verificación de Acme es "+code+". Caduca en 2 minutos." {
		t.Fatalf("Twilio got %+v", got)
	}
	rows := queryRows(t, h.db(), `SELECT status, provider, body_text FROM outbox WHERE project_id = ?`, live.id)
	if len(rows) != 1 || rows[0]["status"] != "sent" || rows[0]["provider"] != "twilio" || rows[0]["body_text"] == got.form.Get("Body") {
		t.Errorf("outbox after delivery: %v (want sent by twilio, body scrubbed)", rows)
	}
	a := into[authJSON](t, live.ok(200, "POST", "/v1/otps/authenticate", map[string]any{"method_id": phoneID, "code": code, "session_duration_minutes": 5}))
	if a.MethodID != phoneID || a.Session == nil || !a.User.PhoneNumbers[0].Verified {
		t.Fatalf("authenticate with the delivered code: %+v", a)
	}
}

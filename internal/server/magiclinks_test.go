package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/tenant"
)

func TestMagicLinkFlow(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Acme Test", tenant.Test)
	const addr = "Flow.User@Example.COM"
	const stored = "flow.user@example.com"

	r := p.ok(200, "POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": addr})
	sent := into[sentJSON](t, r)
	if !sent.UserCreated || !idRe("user", tenant.Test).MatchString(sent.UserID) || !idRe("email", tenant.Test).MatchString(sent.EmailID) {
		t.Fatalf("login_or_create = %s", r.raw)
	}

	// A new user is active but unverified until the link is used.
	u := into[userJSON](t, p.ok(200, "GET", "/v1/users/"+sent.UserID, nil))
	if u.Status != "active" || len(u.Emails) != 1 || u.Emails[0].Email != stored || u.Emails[0].Verified {
		t.Fatalf("user before authenticate = %+v", u)
	}

	msgs := p.outbox(stored)
	if len(msgs) != 1 {
		t.Fatalf("outbox has %d messages to %s, want 1", len(msgs), stored)
	}
	m := msgs[0]
	if m.Channel != "email" || m.To != stored || m.Subject != "Finish signing up for Acme Test" ||
		m.Link == nil || m.Token == nil || !idRe("message", tenant.Test).MatchString(m.MessageID) {
		t.Fatalf("outbox message = %+v", m)
	}
	token := *m.Token
	if len(token) != 44 || !strings.HasSuffix(token, "=") {
		t.Errorf("token %q is not 44 characters of padded base64url", token)
	}
	link, err := url.Parse(*m.Link)
	if err != nil {
		t.Fatalf("link %q: %v", *m.Link, err)
	}
	if got := link.Scheme + "://" + link.Host + link.Path; got != h.publicURL+"/v1/magic_links/redirect" {
		t.Errorf("link points at %s, want %s/v1/magic_links/redirect", got, h.publicURL)
	}
	if q := link.Query(); q.Get("project_id") != p.id || q.Get("token") != token || len(q) != 2 {
		t.Errorf("link query = %v", q)
	}
	for _, body := range []string{m.BodyText, m.BodyHTML} {
		if !strings.Contains(body, *m.Link) && !strings.Contains(body, strings.ReplaceAll(*m.Link, "&", "&amp;")) {
			t.Errorf("body does not carry the link:\n%s", body)
		}
	}

	// The emailed link redirects (no credentials) to the app with the token,
	// consuming nothing: it works twice.
	for i := range 2 {
		r = h.do("GET", *m.Link, nil, noAuth)
		want := "http://localhost:3000/authenticate?stytch_token_type=magic_links&token=" + url.QueryEscape(token)
		if r.status != 302 || r.header.Get("Location") != want {
			t.Fatalf("redirect #%d = %d Location %q, want 302 %q", i, r.status, r.header.Get("Location"), want)
		}
		if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("redirect headers = %v", r.header)
		}
	}
	wantError(t, h.do("GET", "/v1/magic_links/redirect?project_id="+p.id+"&token=nope", nil, noAuth), 404, "magic_link_not_found")

	// The token is stored only as its SHA-256.
	db := h.db()
	rows := queryRows(t, db, `SELECT * FROM magic_links WHERE project_id = ?`, p.id)
	if len(rows) != 1 {
		t.Fatalf("magic_links rows = %d, want 1", len(rows))
	}
	if got := fmt.Sprint(rows[0]["token_hash"]); got != sha256hex(token) {
		t.Errorf("token_hash = %s, want hex sha256(token) %s", got, sha256hex(token))
	}
	for col, v := range rows[0] {
		if s := fmt.Sprintf("%s", v); strings.Contains(s, token) || strings.Contains(s, url.QueryEscape(token)) {
			t.Errorf("magic_links.%s holds the plaintext token", col)
		}
	}

	h.clock.Advance(90 * time.Second)
	r = p.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": token, "session_duration_minutes": 60})
	a := into[authJSON](t, r)
	if a.UserID != sent.UserID || a.MethodID != sent.EmailID {
		t.Errorf("authenticate user_id/method_id = %s/%s, want %s/%s", a.UserID, a.MethodID, sent.UserID, sent.EmailID)
	}
	now := h.clock.Now()
	s := a.Session
	if s == nil || !idRe("session", tenant.Test).MatchString(s.SessionID) || s.UserID != sent.UserID ||
		s.StartedAt != wireTime(now) || s.LastAccessedAt != wireTime(now) || s.ExpiresAt != wireTime(now.Add(60*time.Minute)) {
		t.Fatalf("session = %+v", s)
	}
	if len(s.AuthenticationFactors) != 1 {
		t.Fatalf("factors = %+v", s.AuthenticationFactors)
	}
	f := s.AuthenticationFactors[0]
	if f.Type != "magic_link" || f.DeliveryMethod != "email" || f.LastAuthenticatedAt != wireTime(now) ||
		f.EmailFactor == nil || f.EmailFactor.EmailID != sent.EmailID || f.EmailFactor.EmailAddress != stored {
		t.Errorf("factor = %+v", f)
	}
	if len(a.SessionToken) != 44 || a.SessionJWT == "" {
		t.Errorf("session_token %q / session_jwt %q", a.SessionToken, a.SessionJWT)
	}
	if a.User.Status != "active" || len(a.User.Emails) != 1 || !a.User.Emails[0].Verified {
		t.Errorf("user in response = %+v", a.User)
	}
	u = into[userJSON](t, p.ok(200, "GET", "/v1/users/"+sent.UserID, nil))
	if !u.Emails[0].Verified || u.Status != "active" {
		t.Errorf("stored user after authenticate = %+v", u)
	}

	// The session token is stored only hashed too.
	srows := queryRows(t, db, `SELECT * FROM sessions WHERE project_id = ?`, p.id)
	if len(srows) != 1 || fmt.Sprint(srows[0]["token_hash"]) != sha256hex(a.SessionToken) {
		t.Fatalf("sessions rows = %v", srows)
	}
	for col, v := range srows[0] {
		if strings.Contains(fmt.Sprintf("%s", v), a.SessionToken) {
			t.Errorf("sessions.%s holds the plaintext session token", col)
		}
	}

	// Used once: a second redemption fails, and does not start a session.
	wantError(t, p.call("POST", "/v1/magic_links/authenticate", map[string]any{"token": token, "session_duration_minutes": 60}),
		401, "unable_to_auth_magic_link")
	wantError(t, p.call("POST", "/v1/magic_links/authenticate", map[string]any{"token": "not-a-token"}), 404, "magic_link_not_found")
	wantError(t, p.call("POST", "/v1/magic_links/authenticate", map[string]any{}), 400, "missing_argument")

	// A second login_or_create finds the now verified user and sends a login link.
	r = p.ok(200, "POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": stored})
	if again := into[sentJSON](t, r); again.UserCreated || again.UserID != sent.UserID || again.EmailID != sent.EmailID {
		t.Errorf("second login_or_create = %s", r.raw)
	}
	if msgs := p.outbox(stored); len(msgs) != 2 || msgs[0].Subject != "Your login link for Acme Test" {
		t.Errorf("outbox after second send: %d messages, newest subject %q", len(msgs), msgs[0].Subject)
	}
}

func TestMagicLinkConcurrentRedemption(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Race", tenant.Test)

	const n = 50
	// Open n keep-alive connections first, so the racing requests do not
	// serialise behind TCP handshakes and really overlap in the server.
	h.client.Transport.(*http.Transport).MaxIdleConnsPerHost = n
	race := func(req func() (*resp, error)) ([]*resp, []error) {
		start := make(chan struct{})
		var ready, done sync.WaitGroup
		results := make([]*resp, n)
		errs := make([]error, n)
		for i := range n {
			ready.Add(1)
			done.Add(1)
			go func() {
				defer done.Done()
				ready.Done()
				<-start
				results[i], errs[i] = req()
			}()
		}
		ready.Wait()
		close(start)
		done.Wait()
		return results, errs
	}
	race(func() (*resp, error) { return h.send("GET", "/healthz", nil, noAuth) })
	// No signing key exists yet, so the winner's first signature inserts it
	// while losers' transactions may hold the writer. That once hung on
	// sqlstore's statement cache; TestPrepareWaitingForWriterDoesNotBlockTx
	// pins the fix, and this race covers it end to end.

	// Three rounds, each racing one fresh token, to make a lost race likely
	// to show if redemption were not a single conditional write.
	for round := range 3 {
		sent, token := p.sendLink(fmt.Sprintf("race%d@example.com", round), nil)
		results, errs := race(func() (*resp, error) {
			return h.send("POST", "/v1/magic_links/authenticate", map[string]any{"token": token, "session_duration_minutes": 30}, p.auth())
		})
		ok, rejected := 0, 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("request %d: %v", i, errs[i])
			}
			switch r := results[i]; {
			case r.status == 200:
				ok++
			case r.status == 401 && r.str("error_type") == "unable_to_auth_magic_link":
				rejected++
			default:
				t.Errorf("request %d = %d %s", i, r.status, r.raw)
			}
		}
		if ok != 1 || rejected != n-1 {
			t.Fatalf("round %d: %d succeeded and %d were rejected, want 1 and %d", round, ok, rejected, n-1)
		}
		r := p.ok(200, "GET", "/v1/sessions?user_id="+sent.UserID, nil)
		if got := len(into[struct {
			Sessions []sessionJSON `json:"sessions"`
		}](t, r).Sessions); got != 1 {
			t.Errorf("round %d: user has %d sessions after the race, want 1", round, got)
		}
	}
}

func TestMagicLinkExpiry(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Expiry", tenant.Test)
	const addr = "expiry@example.com"
	p.ok(201, "POST", "/v1/users", map[string]any{"email": addr}) // active: login links

	_, early := p.sendLink(addr, map[string]any{"login_expiration_minutes": 5})
	_, late := p.sendLink(addr, map[string]any{"login_expiration_minutes": 5})
	if msgs := p.outbox(addr); msgs[0].Subject != "Your login link for Expiry" || !strings.Contains(msgs[0].BodyText, "expires in 5 minutes") {
		t.Errorf("login email = %q / %q", msgs[0].Subject, msgs[0].BodyText)
	}

	h.clock.Advance(5*time.Minute - time.Second)
	p.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": early})
	h.clock.Advance(time.Second) // exactly at expiry: expired
	wantError(t, p.call("POST", "/v1/magic_links/authenticate", map[string]any{"token": late}), 401, "unable_to_auth_magic_link")

	// Signup links default to a week.
	_, signup := p.sendLink("new@example.com", nil)
	h.clock.Advance(7*24*time.Hour - time.Second)
	p.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": signup})
	_, signup2 := p.sendLink("newer@example.com", map[string]any{"signup_expiration_minutes": 10})
	h.clock.Advance(10*time.Minute + time.Second)
	wantError(t, p.call("POST", "/v1/magic_links/authenticate", map[string]any{"token": signup2}), 401, "unable_to_auth_magic_link")
}

func TestMagicLinkValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Validation", tenant.Test)
	p.ok(201, "POST", "/v1/users", map[string]any{"email": "active@example.com"})
	p.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": func() string {
		_, tok := p.sendLink("active@example.com", nil)
		return tok
	}()})

	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		typ    string
	}{
		{"login expiration 4", map[string]any{"email": "active@example.com", "login_expiration_minutes": 4}, 400, "invalid_expiration"},
		{"login expiration 10081", map[string]any{"email": "active@example.com", "login_expiration_minutes": 10081}, 400, "invalid_expiration"},
		{"signup expiration 4", map[string]any{"email": "x@example.com", "signup_expiration_minutes": 4}, 400, "invalid_expiration"},
		{"signup expiration 10081", map[string]any{"email": "x@example.com", "signup_expiration_minutes": 10081}, 400, "invalid_expiration"},
		{"login expiration 5 ok", map[string]any{"email": "active@example.com", "login_expiration_minutes": 5}, 200, ""},
		{"login expiration 10080 ok", map[string]any{"email": "active@example.com", "login_expiration_minutes": 10080}, 200, ""},
		{"unregistered login url", map[string]any{"email": "active@example.com", "login_magic_link_url": "https://evil.example/cb"}, 400, "no_match_for_provided_magic_link_url"},
		{"unregistered signup url", map[string]any{"email": "y@example.com", "signup_magic_link_url": "https://evil.example/cb"}, 400, "no_match_for_provided_magic_link_url"},
		{"registered url, other path", map[string]any{"email": "active@example.com", "login_magic_link_url": "http://localhost:3000/authenticate/x"}, 400, "no_match_for_provided_magic_link_url"},
		{"not a url", map[string]any{"email": "active@example.com", "login_magic_link_url": "javascript:alert(1)"}, 400, "invalid_magic_link_url"},
		{"registered url ok", map[string]any{"email": "active@example.com", "login_magic_link_url": "http://localhost:3000/authenticate"}, 200, ""},
		{"bad email", map[string]any{"email": "not-an-email"}, 400, "invalid_email"},
		{"missing email", map[string]any{}, 400, "invalid_email"},
		{"bad locale", map[string]any{"email": "active@example.com", "locale": "xx"}, 400, "invalid_locale"},
		{"unknown template", map[string]any{"email": "active@example.com", "login_template_id": "nope"}, 400, "email_template_not_found"},
		{"bad code challenge", map[string]any{"email": "active@example.com", "code_challenge": "short"}, 400, "invalid_argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := p.call("POST", "/v1/magic_links/email/login_or_create", tc.body)
			if tc.status == 200 {
				if r.status != 200 {
					t.Errorf("= %d %s, want 200", r.status, r.raw)
				}
				return
			}
			wantError(t, r, tc.status, tc.typ)
		})
	}
	// No rejected request created a user.
	r := p.ok(200, "POST", "/v1/users/search", map[string]any{})
	if got := into[searchJSON](t, r).ResultsMetadata.Total; got != 1 {
		t.Errorf("users = %d, want 1", got)
	}
	// Session duration is validated before the token is consumed.
	_, tok := p.sendLink("active@example.com", nil)
	wantError(t, p.call("POST", "/v1/magic_links/authenticate", map[string]any{"token": tok, "session_duration_minutes": 4}),
		400, "invalid_session_duration_minutes")
	p.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": tok, "session_duration_minutes": 5})
}

func TestMagicLinkPendingUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Pending", tenant.Test)
	sent, tok := p.sendLink("pending@example.com", map[string]any{"create_user_as_pending": true})
	if !sent.UserCreated {
		t.Fatal("user not created")
	}
	u := into[userJSON](t, p.ok(200, "GET", "/v1/users/"+sent.UserID, nil))
	if u.Status != "pending" || u.Emails[0].Verified {
		t.Fatalf("before authenticate: %+v", u)
	}
	// A pending user gets signup links.
	if m := p.outbox("pending@example.com")[0]; m.Subject != "Finish signing up for Pending" {
		t.Errorf("subject = %q", m.Subject)
	}
	// Without session_duration_minutes no session starts.
	r := p.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": tok})
	a := into[authJSON](t, r)
	if a.Session != nil || a.SessionToken != "" || a.SessionJWT != "" {
		t.Errorf("authenticate without duration started a session: %s", r.raw)
	}
	if a.User.Status != "active" || !a.User.Emails[0].Verified {
		t.Errorf("user in response = %+v", a.User)
	}
	u = into[userJSON](t, p.ok(200, "GET", "/v1/users/"+sent.UserID, nil))
	if u.Status != "active" || !u.Emails[0].Verified {
		t.Errorf("after authenticate: %+v", u)
	}
}

// Magic-link emails are written in the request's locale; the email methods
// accept the four locales the SDK's types list for them.
func TestMagicLinkLocales(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Acme", tenant.Test)

	sent, tok := p.sendLink("ana@example.com", map[string]any{"locale": "es"})
	m := p.outbox("ana@example.com")[0]
	link := *m.Link
	if m.Subject != "Termina de registrarte en Acme" ||
		m.BodyText != "Te damos la bienvenida a Acme\n\nHaz clic en el enlace de abajo para terminar de crear tu cuenta. El enlace caduca en 7 días.\n\n"+
			link+"\n\nSi no pediste registrarte, puedes ignorar este correo.\n" ||
		!strings.Contains(m.BodyHTML, `<html lang="es">`) || !strings.Contains(m.BodyHTML, ">Terminar registro</a>") {
		t.Errorf("Spanish signup email: %q\n%q", m.Subject, m.BodyText)
	}
	// The Spanish link works like any other; telemetry_id is accepted and ignored.
	a := into[authJSON](t, p.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": tok, "telemetry_id": "026ac93b-8cdf-4b82-9d3d-b5ab3ff4bf9b"}))
	if a.UserID != sent.UserID {
		t.Fatalf("authenticate: %+v", a)
	}
	h.clock.Advance(time.Second) // so the outbox lists the next message first
	p.sendLink("ana@example.com", map[string]any{"locale": "pt-BR", "login_expiration_minutes": 60})
	if m := p.outbox("ana@example.com")[0]; m.Subject != "Seu link de acesso para Acme" || !strings.Contains(m.BodyText, "O link expira em 1 hora.") {
		t.Errorf("Brazilian login email: %q %q", m.Subject, m.BodyText)
	}
	p.ok(200, "POST", "/v1/magic_links/email/invite", map[string]any{"email": "zoe@example.com", "locale": "fr"})
	if m := p.outbox("zoe@example.com")[0]; m.Subject != "Vous êtes invité à rejoindre Acme" || !strings.Contains(m.BodyText, "Le lien expire dans 1 heure.") {
		t.Errorf("French invite email: %q %q", m.Subject, m.BodyText)
	}

	// SMS-only locales, and the ones Latch accepted before it followed the
	// SDK's list, are refused before anything is stored or sent.
	for _, loc := range []string{"ja", "it", "de-DE", "xx"} {
		r := p.call("POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": "new@example.com", "locale": loc})
		wantError(t, r, 400, "invalid_locale")
		if r.str("error_message") != "locale must be one of en, es, pt-br, fr." {
			t.Errorf("locale %q: %q", loc, r.str("error_message"))
		}
	}
	if msgs := p.outbox("new@example.com"); len(msgs) != 0 {
		t.Errorf("a refused locale queued %d messages", len(msgs))
	}
	wantError(t, p.call("POST", "/v1/magic_links/authenticate", map[string]any{"token": tok, "telemetry_id": 42}), 400, "invalid_argument")
}

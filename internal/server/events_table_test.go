package server_test

// One action per event type through the real handler stack, each checked
// against the project's event log: the event's type, its object id and the
// key ids in its body. The table must name every type in events.Types, so a
// new type without a row here fails the test.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/latchhq/latch/internal/events"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
)

// evFixture is one row's world: its own project, so its log holds only
// what the row did.
type evFixture struct {
	t      *testing.T
	h      *harness
	p      *project
	before map[string]bool // event ids present when mark was called
	// secrets are values no event body may contain (tokens, codes,
	// passwords, client secrets).
	secrets []string
}

// evWant is what the action's event must carry: its object id (unless
// anyID) and body values by dotted path ("user.emails.0.email").
type evWant struct {
	id     string
	anyID  bool
	fields map[string]any
}

type evRow struct {
	name string
	typ  string
	// act sets up what it needs, calls f.mark() just before the action
	// under test, performs it and says what its event must carry.
	act func(f *evFixture) evWant
}

const evRedirect = "https://app.example/callback"

func (f *evFixture) mark() {
	f.t.Helper()
	f.before = map[string]bool{}
	for _, e := range f.events() {
		f.before[e.ID] = true
	}
}

func (f *evFixture) events() []store.Event {
	f.t.Helper()
	list, err := f.h.app.Store.ListEvents(context.Background(), f.p.id, 1000)
	if err != nil {
		f.t.Fatalf("ListEvents: %v", err)
	}
	return list
}

func (f *evFixture) secret(s string) string {
	f.secrets = append(f.secrets, s)
	return s
}

func (f *evFixture) newUser(email string, extra map[string]any) string {
	f.t.Helper()
	body := map[string]any{"email": email}
	for k, v := range extra {
		body[k] = v
	}
	return f.p.ok(201, "POST", "/v1/users", body).str("user_id")
}

func (f *evFixture) login(email string) authJSON {
	f.t.Helper()
	a := f.p.login(email, 60)
	f.secret(a.SessionToken)
	f.secret(a.SessionJWT)
	return a
}

func (f *evFixture) client(body map[string]any) (id, secret string) {
	f.t.Helper()
	r := f.p.ok(200, "POST", "/v1/connected_apps/clients", body)
	app, _ := r.body["connected_app"].(map[string]any)
	id, _ = app["client_id"].(string)
	secret, _ = app["client_secret"].(string)
	if id == "" {
		f.t.Fatalf("client create answered %s", r.raw)
	}
	if secret != "" {
		f.secret(secret)
	}
	return id, secret
}

func (f *evFixture) authorize(clientID string, a authJSON, extra map[string]any, scopes ...string) string {
	f.t.Helper()
	body := map[string]any{"client_id": clientID, "redirect_uri": evRedirect, "response_type": "code", "scopes": scopes,
		"session_token": a.SessionToken, "consent_granted": true}
	for k, v := range extra {
		body[k] = v
	}
	code := f.p.ok(200, "POST", "/v1/idp/oauth/authorize", body).str("authorization_code")
	if code == "" {
		f.t.Fatal("authorize issued no code")
	}
	return f.secret(code)
}

// token posts form params to the token endpoint and requires want.
func (f *evFixture) token(want int, params url.Values) *resp {
	f.t.Helper()
	r := f.h.do("POST", "/v1/public/"+f.p.id+"/oauth2/token", params.Encode(), noAuth, "Content-Type", "application/x-www-form-urlencoded")
	if r.status != want {
		f.t.Fatalf("token endpoint = %d, want %d: %s", r.status, want, r.raw)
	}
	return r
}

// resetToken starts a password reset for email and returns its token.
func (f *evFixture) resetToken(email string) string {
	f.t.Helper()
	f.p.ok(200, "POST", "/v1/passwords/email/reset/start", map[string]any{"email": email})
	msgs := f.p.outbox(email)
	if len(msgs) == 0 || msgs[0].Token == nil {
		f.t.Fatalf("no reset email to %s", email)
	}
	return f.secret(*msgs[0].Token)
}

func evTable() []evRow {
	return []evRow{
		{"users.create", events.UserCreate, func(f *evFixture) evWant {
			f.mark()
			r := f.p.ok(201, "POST", "/v1/users", map[string]any{"email": "create@example.com"})
			return evWant{id: r.str("user_id"), fields: map[string]any{
				"user.user_id": r.str("user_id"), "user.emails.0.email_id": r.str("email_id"), "user.emails.0.email": "create@example.com"}}
		}},
		{"users.update", events.UserUpdate, func(f *evFixture) evWant {
			id := f.newUser("update@example.com", nil)
			f.mark()
			f.p.ok(200, "PUT", "/v1/users/"+id, map[string]any{"name": map[string]any{"first_name": "Ada"}})
			return evWant{id: id, fields: map[string]any{"user.user_id": id, "user.name.first_name": "Ada"}}
		}},
		{"users.delete", events.UserDelete, func(f *evFixture) evWant {
			id := f.newUser("delete@example.com", nil)
			f.mark()
			f.p.ok(200, "DELETE", "/v1/users/"+id, nil)
			return evWant{id: id, fields: map[string]any{"object_type": "user", "action": "DELETE"}}
		}},
		{"magic_links.authenticate starts a session", events.SessionCreate, func(f *evFixture) evWant {
			sent, tok := f.p.sendLink("session@example.com", nil)
			f.secret(tok)
			f.mark()
			a := into[authJSON](f.t, f.p.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": tok, "session_duration_minutes": 60}))
			f.secret(a.SessionToken)
			f.secret(a.SessionJWT)
			return evWant{id: a.Session.SessionID, fields: map[string]any{
				"session.session_id": a.Session.SessionID, "session.user_id": sent.UserID}}
		}},
		{"otps.authenticate adds a factor to a session", events.SessionUpdate, func(f *evFixture) evWant {
			a := f.login("mfa@example.com")
			r := f.p.ok(200, "POST", "/v1/otps/sms/send", map[string]any{"phone_number": "+14155550123", "session_token": a.SessionToken})
			code := f.secret(*f.p.lastCode("+14155550123").Code)
			f.mark()
			f.p.ok(200, "POST", "/v1/otps/authenticate", map[string]any{"method_id": r.str("phone_id"), "code": code, "session_token": a.SessionToken})
			return evWant{id: a.Session.SessionID, fields: map[string]any{
				"session.session_id": a.Session.SessionID, "session.user_id": a.UserID,
				"session.authentication_factors.1.type": "otp", "session.authentication_factors.1.phone_number_factor.phone_id": r.str("phone_id")}}
		}},
		{"sessions.revoke", events.SessionRevoke, func(f *evFixture) evWant {
			a := f.login("revoke@example.com")
			f.mark()
			f.p.ok(200, "POST", "/v1/sessions/revoke", map[string]any{"session_id": a.Session.SessionID})
			return evWant{id: a.Session.SessionID, fields: map[string]any{"session.session_id": a.Session.SessionID, "session.user_id": a.UserID}}
		}},
		{"magic_links.email.login_or_create", events.MagicLinkSend, func(f *evFixture) evWant {
			f.mark()
			sent, tok := f.p.sendLink("link@example.com", nil)
			f.secret(tok)
			return evWant{id: sent.EmailID, fields: map[string]any{
				"magic_link.user_id": sent.UserID, "magic_link.email_id": sent.EmailID, "magic_link.email": "link@example.com"}}
		}},
		{"magic_links.email.revokeInvite", events.MagicLinkRevokeInvite, func(f *evFixture) evWant {
			r := f.p.ok(200, "POST", "/v1/magic_links/email/invite", map[string]any{"email": "invitee@example.com"})
			f.mark()
			f.p.ok(200, "POST", "/v1/magic_links/email/revoke_invite", map[string]any{"email": "invitee@example.com"})
			return evWant{id: r.str("email_id"), fields: map[string]any{
				"magic_link.user_id": r.str("user_id"), "magic_link.email_id": r.str("email_id"), "magic_link.email": "invitee@example.com",
				"magic_link.revoked": 1}}
		}},
		{"otps.email.login_or_create", events.OTPSend, func(f *evFixture) evWant {
			f.mark()
			r := f.p.ok(200, "POST", "/v1/otps/email/login_or_create", map[string]any{"email": "otp@example.com"})
			f.secret(*f.p.lastCode("otp@example.com").Code)
			return evWant{id: r.str("email_id"), fields: map[string]any{
				"otp.user_id": r.str("user_id"), "otp.method_id": r.str("email_id"), "otp.channel": "email"}}
		}},
		{"passwords.create", events.PasswordUpdate, func(f *evFixture) evWant {
			f.mark()
			a := into[authJSON](f.t, f.p.ok(200, "POST", "/v1/passwords", map[string]any{"email": "pw@example.com", "password": f.secret(strongPassword)}))
			u := f.p.ok(200, "GET", "/v1/users/"+a.UserID, nil)
			pw, _ := u.body["password"].(map[string]any)
			pwID, _ := pw["password_id"].(string)
			if pwID == "" {
				f.t.Fatalf("user has no password_id: %s", u.raw)
			}
			return evWant{id: pwID, fields: map[string]any{"password.user_id": a.UserID, "password.password_id": pwID}}
		}},
		{"passwords.strength_check", events.PasswordStrengthCheckFail, func(f *evFixture) evWant {
			id := f.newUser("weak@example.com", nil)
			f.mark()
			r := f.p.ok(200, "POST", "/v1/passwords/strength_check", map[string]any{"email": "weak@example.com", "password": f.secret("zzzzzzzzzy")})
			if r.body["valid_password"] != false {
				f.t.Fatalf("weak password judged valid: %s", r.raw)
			}
			return evWant{anyID: true, fields: map[string]any{"password.user_id": id}}
		}},
		// The two rows below cover the passwords helper's events: a strength
		// failure on the write paths, and the user update when a password
		// login activates a pending user.
		{"passwords.create refuses a weak password", events.PasswordStrengthCheckFail, func(f *evFixture) evWant {
			f.mark()
			r := f.p.call("POST", "/v1/passwords", map[string]any{"email": "weakcreate@example.com", "password": f.secret("zzzzzzzzzy")})
			wantError(f.t, r, 400, "weak_password")
			return evWant{anyID: true, fields: map[string]any{"object_type": "password", "action": "STRENGTH_CHECK_FAIL"}}
		}},
		{"passwords.email.reset refuses a weak password", events.PasswordStrengthCheckFail, func(f *evFixture) evWant {
			id := f.newUser("weakreset@example.com", nil)
			tok := f.resetToken("weakreset@example.com")
			f.mark()
			wantError(f.t, f.p.call("POST", "/v1/passwords/email/reset", map[string]any{"token": tok, "password": f.secret("zzzzzzzzzy")}), 400, "weak_password")
			return evWant{anyID: true, fields: map[string]any{"password.user_id": id}}
		}},
		{"passwords.email.reset activates a pending user", events.UserUpdate, func(f *evFixture) evWant {
			id := f.newUser("pending@example.com", map[string]any{"create_user_as_pending": true})
			tok := f.resetToken("pending@example.com")
			f.mark()
			a := into[authJSON](f.t, f.p.ok(200, "POST", "/v1/passwords/email/reset", map[string]any{
				"token": tok, "password": f.secret(strongPassword), "session_duration_minutes": 60}))
			f.secret(a.SessionToken)
			f.secret(a.SessionJWT)
			return evWant{id: id, fields: map[string]any{"user.user_id": id, "user.status": "active"}}
		}},
		{"connectedApp.clients.create", events.ConnectedAppCreate, func(f *evFixture) evWant {
			f.mark()
			id, _ := f.client(map[string]any{"client_type": "first_party", "client_name": "CLI", "redirect_urls": []string{evRedirect}})
			return evWant{id: id, fields: map[string]any{"connected_app.client_id": id, "connected_app.client_name": "CLI"}}
		}},
		{"connectedApp.clients.update", events.ConnectedAppUpdate, func(f *evFixture) evWant {
			id, _ := f.client(map[string]any{"client_type": "first_party", "redirect_urls": []string{evRedirect}})
			f.mark()
			f.p.ok(200, "PUT", "/v1/connected_apps/clients/"+id, map[string]any{"client_name": "Renamed"})
			return evWant{id: id, fields: map[string]any{"connected_app.client_id": id, "connected_app.client_name": "Renamed"}}
		}},
		{"connectedApp.clients.delete", events.ConnectedAppDelete, func(f *evFixture) evWant {
			id, _ := f.client(map[string]any{"client_type": "first_party", "redirect_urls": []string{evRedirect}})
			f.mark()
			f.p.ok(200, "DELETE", "/v1/connected_apps/clients/"+id, map[string]any{})
			return evWant{id: id, fields: map[string]any{"object_type": "connected_app", "action": "DELETE"}}
		}},
		{"idp.oauth.authorize", events.ConnectedAppConsentGrant, func(f *evFixture) evWant {
			id, _ := f.client(map[string]any{"client_type": "first_party", "redirect_urls": []string{evRedirect}})
			a := f.login("consent@example.com")
			f.mark()
			f.authorize(id, a, nil, "openid", "email")
			return evWant{id: id, fields: map[string]any{
				"connected_app_consent.user_id": a.UserID, "connected_app_consent.connected_app_id": id,
				"connected_app_consent.scopes_granted": "openid email"}}
		}},
		{"users.revoke", events.ConnectedAppConsentRevoke, func(f *evFixture) evWant {
			id, _ := f.client(map[string]any{"client_type": "first_party", "redirect_urls": []string{evRedirect}})
			a := f.login("unconsent@example.com")
			f.authorize(id, a, nil, "openid")
			f.mark()
			f.p.ok(200, "POST", "/v1/users/"+a.UserID+"/connected_apps/"+id+"/revoke", map[string]any{})
			return evWant{id: id, fields: map[string]any{
				"connected_app_consent.user_id": a.UserID, "connected_app_consent.connected_app_id": id}}
		}},
		{"a reused authorization code", events.ConnectedAppTokenRevoke, func(f *evFixture) evWant {
			id, secret := f.client(map[string]any{"client_type": "first_party", "redirect_urls": []string{evRedirect}})
			a := f.login("codereuse@example.com")
			code := f.authorize(id, a, nil, "openid")
			params := url.Values{"grant_type": {"authorization_code"}, "client_id": {id}, "client_secret": {secret},
				"code": {code}, "redirect_uri": {evRedirect}}
			f.secret(f.token(200, params).str("access_token"))
			f.mark()
			f.token(400, params)
			return evWant{id: id, fields: map[string]any{
				"connected_app_token.user_id": a.UserID, "connected_app_token.connected_app_id": id,
				"connected_app_token.reason": "authorization_code_reuse"}}
		}},
		{"a rotated-out refresh token", events.ConnectedAppTokenRevoke, func(f *evFixture) evWant {
			// Public clients rotate refresh tokens, so the first one is spent
			// after one refresh.
			id, _ := f.client(map[string]any{"client_type": "first_party_public", "redirect_urls": []string{evRedirect},
				"bypass_consent_for_offline_access": true})
			a := f.login("refreshreuse@example.com")
			verifier := strings.Repeat("v", 64)
			code := f.authorize(id, a, map[string]any{"code_challenge": challengeS256(verifier)}, "openid", "offline_access")
			tok := f.token(200, url.Values{"grant_type": {"authorization_code"}, "client_id": {id}, "code": {code},
				"redirect_uri": {evRedirect}, "code_verifier": {verifier}})
			first := f.secret(tok.str("refresh_token"))
			refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {id}, "refresh_token": {first}}
			f.secret(f.token(200, refresh).str("refresh_token"))
			f.mark()
			f.token(400, refresh)
			return evWant{id: id, fields: map[string]any{
				"connected_app_token.user_id": a.UserID, "connected_app_token.connected_app_id": id,
				"connected_app_token.reason": "refresh_token_reuse"}}
		}},
	}
}

func TestEveryEventTypeIsAppended(t *testing.T) {
	h := newHarness(t)
	covered := map[string]bool{}
	for i, row := range evTable() {
		covered[row.typ] = true
		t.Run(row.name, func(t *testing.T) {
			if !events.Known(row.typ) {
				t.Fatalf("%s is not in events.Types", row.typ)
			}
			f := &evFixture{t: t, h: h, p: h.project("Events "+strconv.Itoa(i), tenant.Test)}
			want := row.act(f)
			var fresh []store.Event
			for _, e := range f.events() {
				if !f.before[e.ID] {
					fresh = append(fresh, e)
				}
			}
			var match *store.Event
			var near []string
			for i, e := range fresh {
				if e.Type != row.typ {
					continue
				}
				var body map[string]any
				if err := json.Unmarshal(e.Payload, &body); err != nil {
					t.Fatalf("event %s body does not decode: %v", e.ID, err)
				}
				if problem := evMismatch(e, body, f.p.id, want); problem != "" {
					near = append(near, problem)
					continue
				}
				match = &fresh[i]
			}
			if match == nil {
				types := make([]string, len(fresh))
				for i, e := range fresh {
					types[i] = e.Type
				}
				t.Fatalf("no %s event with id %q and %v; appended by the action: %v; %s events that differ: %v",
					row.typ, want.id, want.fields, types, row.typ, near)
			}
			// No event of the row's project may carry a credential. A short
			// one (a 6-digit code) is matched as a whole JSON string, since
			// its digits may occur by chance inside an id.
			for _, e := range f.events() {
				for _, s := range f.secrets {
					needle := s
					if len(s) < 8 {
						needle = strconv.Quote(s)
					}
					if s != "" && strings.Contains(string(e.Payload), needle) {
						t.Errorf("%s event %s carries a secret (%.8s...)", e.Type, e.ID, s)
					}
				}
			}
		})
	}
	for _, name := range events.Names() {
		if !covered[name] {
			t.Errorf("event type %s has no row in the table: add one that performs it", name)
		}
	}
}

// evMismatch says how an event differs from want, or "" when it matches.
func evMismatch(e store.Event, body map[string]any, projectID string, want evWant) string {
	if body["project_id"] != projectID || e.ProjectID != projectID {
		return fmt.Sprintf("%s: project %v", e.ID, body["project_id"])
	}
	if !want.anyID && (e.ObjectID != want.id || body["id"] != want.id) {
		return fmt.Sprintf("%s: id %q", e.ID, e.ObjectID)
	}
	for path, v := range want.fields {
		got, ok := evPath(body, path)
		if !ok || fmt.Sprint(got) != fmt.Sprint(v) {
			return fmt.Sprintf("%s: %s = %v", e.ID, path, got)
		}
	}
	return ""
}

// evPath reads a dotted path from decoded JSON; numeric segments index arrays.
func evPath(v any, path string) (any, bool) {
	for _, seg := range strings.Split(path, ".") {
		switch t := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = t[seg]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(t) {
				return nil, false
			}
			v = t[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// challengeS256 is the PKCE S256 challenge of verifier.
func challengeS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

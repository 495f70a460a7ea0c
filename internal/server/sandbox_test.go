package server_test

import (
	"strings"
	"testing"

	"github.com/latchhq/latch/internal/sandbox"
	"github.com/latchhq/latch/internal/tenant"
)

func TestSandboxValuesInTestEnvironments(t *testing.T) {
	h := newHarness(t)
	p := h.project("Sandbox", tenant.Test)

	r := p.ok(200, "POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": "Sandbox@Stytch.com"})
	if r.str("user_id") != sandbox.UserID || r.str("email_id") != sandbox.EmailID {
		t.Fatalf("login_or_create: %s", r.raw)
	}
	if n := len(p.outbox(sandbox.Email)); n != 0 {
		t.Fatalf("sandbox send queued %d messages", n)
	}
	a := into[authJSON](t, p.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": sandbox.MagicLinkToken}))
	if a.UserID != sandbox.UserID || a.Session != nil || a.SessionToken != "" {
		t.Fatalf("sandbox authenticate without duration: %+v", a)
	}
	a = into[authJSON](t, p.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": sandbox.MagicLinkToken, "session_duration_minutes": 60}))
	if a.SessionToken != sandbox.SessionToken || a.Session == nil || a.SessionJWT == "" {
		t.Fatalf("sandbox authenticate with duration: %+v", a)
	}
	wantError(t, p.call("POST", "/v1/magic_links/authenticate", map[string]any{"token": sandbox.MagicLinkTokenUsed}), 401, "unable_to_auth_magic_link")
	wantError(t, p.call("POST", "/v1/magic_links/authenticate", map[string]any{"token": sandbox.MagicLinkTokenNotFound}), 404, "magic_link_not_found")

	s := into[authJSON](t, p.ok(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": sandbox.SessionToken}))
	if s.Session == nil || s.Session.StartedAt != "2021-08-28T00:41:58Z" || s.User.UserID != sandbox.UserID || s.SessionJWT == "" {
		t.Fatalf("sandbox session: %+v", s)
	}
	wantError(t, p.call("POST", "/v1/sessions/authenticate", map[string]any{"session_token": "59cnLELtq5cFVS6uYK9f-pAWzBkhqZl8AvLhbhOvKNWw"}), 404, "session_not_found")
	wantError(t, p.call("GET", "/v1/sessions?user_id="+sandbox.UserID, nil), 404, "user_not_found")

	for _, path := range []string{"/v1/otps/sms/send", "/v1/otps/sms/login_or_create", "/v1/otps/whatsapp/send", "/v1/otps/whatsapp/login_or_create"} {
		r := p.ok(200, "POST", path, map[string]any{"phone_number": sandbox.Phone})
		if r.str("phone_id") != sandbox.PhoneID {
			t.Fatalf("%s: %s", path, r.raw)
		}
	}
	for _, path := range []string{"/v1/otps/email/send", "/v1/otps/email/login_or_create"} {
		e := p.ok(200, "POST", path, map[string]any{"email": "SANDBOX@stytch.com"})
		if e.str("email_id") != sandbox.EmailID || e.str("user_id") != sandbox.UserID {
			t.Fatalf("%s: %s", path, e.raw)
		}
	}
	if n := len(p.outbox(sandbox.Phone)); n != 0 {
		t.Fatalf("sandbox SMS/WhatsApp OTP queued %d messages", n)
	}
	if n := len(p.outbox(sandbox.Email)); n != 0 {
		t.Fatalf("sandbox email OTP queued %d messages", n)
	}
	// Nor anything to any other address: the outbox table is empty.
	if rows := queryRows(t, h.db(), `SELECT recipient FROM outbox WHERE project_id = ?`, p.id); len(rows) != 0 {
		t.Fatalf("sandbox sends queued %v", rows)
	}
	o := into[authJSON](t, p.ok(200, "POST", "/v1/otps/authenticate", map[string]any{"method_id": sandbox.PhoneID, "code": "000000", "session_duration_minutes": 5}))
	if o.UserID != sandbox.UserID || o.SessionToken != sandbox.SessionToken {
		t.Fatalf("sandbox otp: %+v", o)
	}
	wantError(t, p.call("POST", "/v1/otps/authenticate", map[string]any{"method_id": sandbox.EmailID, "code": "123456"}), 404, "otp_code_not_found")
	// Passwords: any password, create and authenticate alike.
	pw := into[authJSON](t, p.ok(200, "POST", "/v1/passwords", map[string]any{"email": sandbox.Email, "password": "x", "session_duration_minutes": 60}))
	if pw.UserID != sandbox.UserID || pw.SessionToken != sandbox.SessionToken {
		t.Fatalf("sandbox passwords.create: %+v", pw)
	}
	pw = into[authJSON](t, p.ok(200, "POST", "/v1/passwords/authenticate", map[string]any{"email": "SANDBOX@stytch.com", "password": "anything at all"}))
	if pw.UserID != sandbox.UserID || pw.Session != nil {
		t.Fatalf("sandbox passwords.authenticate: %+v", pw)
	}

	// TOTP: the sandbox user's fixed registration; 000000 and a1b2-c3d4-e5f6.
	tc := p.ok(200, "POST", "/v1/totps", map[string]any{"user_id": sandbox.UserID})
	if tc.str("totp_id") != sandbox.TOTPID || tc.str("secret") != sandbox.TOTPSecret || tc.str("user_id") != sandbox.UserID ||
		!strings.HasPrefix(tc.str("qr_code"), "data:image/png;base64,") {
		t.Fatalf("sandbox totps.create: %s", tc.raw)
	}
	if codes := tc.body["recovery_codes"].([]any); len(codes) != 10 || codes[0] != sandbox.TOTPRecoveryCode {
		t.Fatalf("sandbox recovery codes %v", codes)
	}
	ta := p.ok(200, "POST", "/v1/totps/authenticate", map[string]any{"user_id": sandbox.UserID, "totp_code": "000000", "session_duration_minutes": 60})
	if ta.str("totp_id") != sandbox.TOTPID || ta.str("session_token") != sandbox.SessionToken {
		t.Fatalf("sandbox totps.authenticate: %s", ta.raw)
	}
	wantError(t, p.call("POST", "/v1/totps/authenticate", map[string]any{"user_id": sandbox.UserID, "totp_code": "123456"}), 401, "unable_to_authenticate_totp")
	tr := p.ok(200, "POST", "/v1/totps/recover", map[string]any{"user_id": sandbox.UserID, "recovery_code": sandbox.TOTPRecoveryCode})
	if tr.str("user_id") != sandbox.UserID || tr.body["session"] != nil {
		t.Fatalf("sandbox totps.recover: %s", tr.raw)
	}
	wantError(t, p.call("POST", "/v1/totps/recover", map[string]any{"user_id": sandbox.UserID, "recovery_code": "zzzz-zzzz-zzzz"}), 401, "unable_to_authenticate_recovery_code")
	rc := p.ok(200, "POST", "/v1/totps/recovery_codes", map[string]any{"user_id": sandbox.UserID})
	if totps := rc.body["totps"].([]any); len(totps) != 1 || totps[0].(map[string]any)["totp_id"] != sandbox.TOTPID {
		t.Fatalf("sandbox recovery_codes: %s", rc.raw)
	}
	// Nothing was stored for the sandbox user.
	if rows := queryRows(t, h.db(), `SELECT id FROM users WHERE id = ?`, sandbox.UserID); len(rows) != 0 {
		t.Fatalf("the sandbox user was stored: %v", rows)
	}
}

func TestLiveEnvironmentsIgnoreSandboxValues(t *testing.T) {
	h := newHarness(t)
	p := h.project("Live", tenant.Live)
	wantError(t, p.call("POST", "/v1/magic_links/authenticate", map[string]any{"token": sandbox.MagicLinkToken}), 404, "magic_link_not_found")
	wantError(t, p.call("POST", "/v1/sessions/authenticate", map[string]any{"session_token": sandbox.SessionToken}), 404, "session_not_found")
	wantError(t, p.call("POST", "/v1/otps/sms/send", map[string]any{"phone_number": sandbox.Phone}), 400, "invalid_phone_number")
	wantError(t, p.call("POST", "/v1/otps/authenticate", map[string]any{"method_id": sandbox.PhoneID, "code": "000000"}), 404, "otp_code_not_found")
	wantError(t, p.call("POST", "/v1/magic_links/email/send", map[string]any{"email": sandbox.Email}), 404, "email_not_found")
	wantError(t, p.call("POST", "/v1/passwords/authenticate", map[string]any{"email": sandbox.Email, "password": "anything"}), 404, "email_not_found")
	wantError(t, p.call("POST", "/v1/totps/authenticate", map[string]any{"user_id": sandbox.UserID, "totp_code": "000000"}), 404, "user_not_found")
	wantError(t, p.call("POST", "/v1/totps/recover", map[string]any{"user_id": sandbox.UserID, "recovery_code": sandbox.TOTPRecoveryCode}), 404, "user_not_found")
}

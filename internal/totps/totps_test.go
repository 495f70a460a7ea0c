package totps_test

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/sessions"
	"github.com/latchhq/latch/internal/tenant"
	"github.com/latchhq/latch/internal/totps"
)

var recoveryCodeRe = regexp.MustCompile(`^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$`)

// code is the TOTP code of secret at t.
func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totps.Code(secret, at)
	if err != nil {
		t.Fatalf("Code: %v", err)
	}
	return c
}

// create registers a TOTP for userID and checks the response's shape.
func (p *project) create(userID string, extra map[string]any) createJSON {
	t := p.H.T
	t.Helper()
	body := map[string]any{"user_id": userID}
	for k, v := range extra {
		body[k] = v
	}
	c := into[createJSON](t, p.OK(200, "POST", "/v1/totps", body))
	if !idRe("totp", p.Env).MatchString(c.TOTPID) || c.UserID != userID || c.User.UserID != userID {
		t.Fatalf("create = %+v", c)
	}
	return c
}

// wrong returns a 6-digit code that is none of the codes accepted at now.
func wrong(t *testing.T, secret string, now time.Time) string {
	t.Helper()
	bad := map[string]bool{}
	for _, d := range []time.Duration{-totps.Period, 0, totps.Period} {
		bad[code(t, secret, now.Add(d))] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if !bad[c] {
			return c
		}
	}
	t.Fatal("no wrong code")
	return ""
}

func TestCreateAuthenticateReplay(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Acme Test", tenant.Test)
	const email = "alice@example.com"
	uid := p.newUser(email)

	c := p.create(uid, nil)
	// The secret: 32 base32 characters of 20 bytes.
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(c.Secret)
	if len(c.Secret) != 32 || err != nil || len(raw) != 20 {
		t.Fatalf("secret %q: %d bytes, %v", c.Secret, len(raw), err)
	}
	// The QR code: a PNG data URL that encodes the otpauth URI.
	b64, ok := strings.CutPrefix(c.QRCode, "data:image/png;base64,")
	if !ok {
		t.Fatalf("qr_code %.40q is not a PNG data URL", c.QRCode)
	}
	pngBytes, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("qr_code base64: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil {
		t.Fatalf("qr_code PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dx() != b.Dy() {
		t.Errorf("QR image is %v", b)
	}
	wantURL := "otpauth://totp/Acme%20Test:alice@example.com?algorithm=SHA1&digits=6&issuer=Acme%20Test&period=30&secret=" + c.Secret
	if u, _ := totps.KeyURL("Acme Test", email, raw); u != wantURL {
		t.Fatalf("KeyURL = %q, want %q", u, wantURL)
	}
	if !sameImage(t, img, qrOf(t, wantURL)) {
		t.Error("the QR code does not encode " + wantURL)
	}
	// Ten distinct recovery codes.
	seen := map[string]bool{}
	for _, rc := range c.RecoveryCodes {
		if !recoveryCodeRe.MatchString(rc) || seen[rc] {
			t.Errorf("recovery code %q malformed or repeated", rc)
		}
		seen[rc] = true
	}
	if len(c.RecoveryCodes) != 10 {
		t.Errorf("%d recovery codes, want 10", len(c.RecoveryCodes))
	}
	if len(c.User.TOTPs) != 1 || c.User.TOTPs[0] != (totpJSON{c.TOTPID, false}) {
		t.Errorf("user.totps after create = %+v", c.User.TOTPs)
	}

	// At rest: the secret is sealed, the recovery codes hashed.
	var sealed string
	if err := h.DB().QueryRow(`SELECT secret_sealed FROM totps WHERE id = ?`, c.TOTPID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, c.Secret) || bytes.Contains([]byte(sealed), raw) || strings.Contains(sealed, base64.StdEncoding.EncodeToString(raw)) {
		t.Error("secret stored in the clear")
	}
	rows, err := h.DB().Query(`SELECT code_hash FROM recovery_codes WHERE totp_id = ?`, c.TOTPID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var hash string
		rows.Scan(&hash)
		if seen[hash] || len(hash) != 64 {
			t.Errorf("recovery code stored as %q", hash)
		}
		n++
	}
	rows.Close()
	if n != 10 {
		t.Errorf("%d recovery_codes rows", n)
	}

	// Authenticate with the current code and a session.
	now := h.Clock.Now()
	cur := code(t, c.Secret, now)
	r := p.OK(200, "POST", "/v1/totps/authenticate", map[string]any{"user_id": uid, "totp_code": cur, "session_duration_minutes": 60})
	a := into[authJSON](t, r)
	if a.UserID != uid || a.TOTPID != c.TOTPID || a.Session == nil || len(a.SessionToken) != 44 || a.SessionJWT == "" {
		t.Fatalf("authenticate = %s", r.Raw)
	}
	f := a.Session.AuthenticationFactors
	if len(f) != 1 || f[0].Type != "totp" || f[0].DeliveryMethod != "authenticator_app" || f[0].AuthenticatorApp == nil ||
		f[0].AuthenticatorApp.TOTPID != c.TOTPID || f[0].LastAuthenticatedAt != now.Format(time.RFC3339) {
		t.Errorf("factors = %s", r.Raw)
	}
	if len(a.User.TOTPs) != 1 || a.User.TOTPs[0] != (totpJSON{c.TOTPID, true}) {
		t.Errorf("user.totps after authenticate = %+v", a.User.TOTPs)
	}

	// The same code again, even a few seconds later in the same step: refused.
	h.Clock.Advance(5 * time.Second)
	wantError(t, p.Call("POST", "/v1/totps/authenticate", map[string]any{"user_id": uid, "totp_code": cur}), 400, "totp_code_already_authenticated")

	// The next step's code is fine; without a duration there is no session.
	h.Clock.Advance(totps.Period)
	next := code(t, c.Secret, h.Clock.Now())
	if next == cur {
		t.Skip("consecutive codes collide (one in a million)")
	}
	r = p.OK(200, "POST", "/v1/totps/authenticate", map[string]any{"user_id": uid, "totp_code": next})
	if a := into[authJSON](t, r); a.Session != nil || a.SessionToken != "" || a.SessionJWT != "" || r.Body["session"] != nil {
		t.Errorf("authenticate without session_duration_minutes = %s", r.Raw)
	}

	// Wrong and malformed codes.
	wantError(t, p.Call("POST", "/v1/totps/authenticate", map[string]any{"user_id": uid, "totp_code": wrong(t, c.Secret, h.Clock.Now())}), 401, "unable_to_authenticate_totp")
	for _, bad := range []string{"", "12345", "1234567", "abcdef", " 123456"} {
		wantError(t, p.Call("POST", "/v1/totps/authenticate", map[string]any{"user_id": uid, "totp_code": bad}), 400, "invalid_totp_code")
	}

	// Skew: the next step's code is accepted now; then the current step's
	// code is older than an accepted one and refused; two steps ahead is not
	// within the window.
	h.Clock.Advance(totps.Period)
	ahead := code(t, c.Secret, h.Clock.Now().Add(totps.Period))
	p.OK(200, "POST", "/v1/totps/authenticate", map[string]any{"user_id": uid, "totp_code": ahead})
	wantError(t, p.Call("POST", "/v1/totps/authenticate", map[string]any{"user_id": uid, "totp_code": code(t, c.Secret, h.Clock.Now())}), 400, "totp_code_already_authenticated")
	far := code(t, c.Secret, h.Clock.Now().Add(3*totps.Period))
	if far != ahead && far != code(t, c.Secret, h.Clock.Now()) && far != code(t, c.Secret, h.Clock.Now().Add(-totps.Period)) {
		wantError(t, p.Call("POST", "/v1/totps/authenticate", map[string]any{"user_id": uid, "totp_code": far}), 401, "unable_to_authenticate_totp")
	}

	// One active TOTP per user.
	wantError(t, p.Call("POST", "/v1/totps", map[string]any{"user_id": uid}), 400, "active_totp_exists")

	// users.get still renders the user (its totps are not loaded there).
	p.OK(200, "GET", "/v1/users/"+uid, nil)
}

func TestCreateRules(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Rules", tenant.Test)
	uid := p.newUser("bob@example.com")

	for _, m := range []int{0, 4, 1441} {
		wantError(t, p.Call("POST", "/v1/totps", map[string]any{"user_id": uid, "expiration_minutes": m}), 400, "invalid_expiration")
	}
	wantError(t, p.Call("POST", "/v1/totps", map[string]any{"user_id": "user-test-00000000-0000-4000-8000-000000000000"}), 404, "user_not_found")
	wantError(t, p.Call("POST", "/v1/totps", map[string]any{}), 400, "invalid_user_id")
	wantError(t, p.Call("POST", "/v1/totps/authenticate", map[string]any{"user_id": uid, "totp_code": "123456"}), 404, "totp_not_found")
	wantError(t, p.Call("POST", "/v1/totps/recover", map[string]any{"user_id": uid, "recovery_code": "abcd-efgh-1234"}), 404, "totp_not_found")

	// An unverified registration is replaced by the next create.
	first := p.create(uid, map[string]any{"expiration_minutes": 5})
	second := p.create(uid, map[string]any{"expiration_minutes": 5})
	if first.TOTPID == second.TOTPID || len(second.User.TOTPs) != 1 || second.User.TOTPs[0].TOTPID != second.TOTPID {
		t.Fatalf("second create = %+v", second)
	}
	var n int
	h.DB().QueryRow(`SELECT count(*) FROM totps WHERE user_id = ?`, uid).Scan(&n)
	if n != 1 {
		t.Errorf("%d totps rows after replacing, want 1", n)
	}
	if c1 := code(t, first.Secret, h.Clock.Now()); c1 != code(t, second.Secret, h.Clock.Now()) {
		wantError(t, p.Call("POST", "/v1/totps/authenticate", map[string]any{"user_id": uid, "totp_code": c1}), 401, "unable_to_authenticate_totp")
	}
	rc := into[struct {
		UserID string `json:"user_id"`
		TOTPs  []struct {
			TOTPID        string   `json:"totp_id"`
			Verified      bool     `json:"verified"`
			RecoveryCodes []string `json:"recovery_codes"`
		} `json:"totps"`
	}](t, p.OK(200, "POST", "/v1/totps/recovery_codes", map[string]any{"user_id": uid}))
	if rc.UserID != uid || len(rc.TOTPs) != 1 || rc.TOTPs[0].TOTPID != second.TOTPID || rc.TOTPs[0].Verified || len(rc.TOTPs[0].RecoveryCodes) != 10 {
		t.Errorf("recovery_codes = %+v", rc)
	}
	want := append([]string(nil), second.RecoveryCodes...)
	sort.Strings(want)
	if fmt.Sprint(rc.TOTPs[0].RecoveryCodes) != fmt.Sprint(want) {
		t.Errorf("recovery_codes shows %v, want the codes of create %v", rc.TOTPs[0].RecoveryCodes, want)
	}
	// Recovery codes of an unverified registration do not work.
	wantError(t, p.Call("POST", "/v1/totps/recover", map[string]any{"user_id": uid, "recovery_code": second.RecoveryCodes[0]}), 404, "totp_not_found")

	// After its expiration the unverified registration is unusable.
	h.Clock.Advance(5*time.Minute + time.Second)
	wantError(t, p.Call("POST", "/v1/totps/authenticate", map[string]any{"user_id": uid, "totp_code": code(t, second.Secret, h.Clock.Now())}), 400, "expired_totp")
	r := p.OK(200, "POST", "/v1/totps/recovery_codes", map[string]any{"user_id": uid})
	if l, ok := r.Body["totps"].([]any); !ok || len(l) != 0 {
		t.Errorf("recovery_codes lists an expired registration: %s", r.Raw)
	}
	// And a new create replaces it.
	third := p.create(uid, nil)
	p.OK(200, "POST", "/v1/totps/authenticate", map[string]any{"user_id": uid, "totp_code": code(t, third.Secret, h.Clock.Now())})

	// external_id works as user_id.
	p.OK(200, "PUT", "/v1/users/"+uid, map[string]any{"external_id": "bob-ext"})
	if r := p.OK(200, "POST", "/v1/totps/recovery_codes", map[string]any{"user_id": "bob-ext"}); r.Str("user_id") != uid {
		t.Errorf("recovery_codes by external_id = %s", r.Raw)
	}

	// Another project cannot see the user.
	q := h.project("Other", tenant.Test)
	wantError(t, q.Call("POST", "/v1/totps/recovery_codes", map[string]any{"user_id": uid}), 404, "user_not_found")
}

func TestRecover(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Recover", tenant.Test)
	uid := p.newUser("carol@example.com")
	c := p.create(uid, nil)
	p.OK(200, "POST", "/v1/totps/authenticate", map[string]any{"user_id": uid, "totp_code": code(t, c.Secret, h.Clock.Now())})

	r := p.OK(200, "POST", "/v1/totps/recover", map[string]any{"user_id": uid, "recovery_code": c.RecoveryCodes[0], "session_duration_minutes": 30})
	a := into[authJSON](t, r)
	if a.UserID != uid || a.TOTPID != c.TOTPID || a.Session == nil || a.SessionToken == "" || a.SessionJWT == "" {
		t.Fatalf("recover = %s", r.Raw)
	}
	f := a.Session.AuthenticationFactors
	if len(f) != 1 || f[0].Type != "recovery_codes" || f[0].DeliveryMethod != "recovery_code" || f[0].RecoveryCode == nil ||
		!idRe("totp-recovery-code", tenant.Test).MatchString(f[0].RecoveryCode.TOTPRecoveryCodeID) {
		t.Fatalf("recover factors = %s", r.Raw)
	}
	id0 := f[0].RecoveryCode.TOTPRecoveryCodeID

	// Single use.
	wantError(t, p.Call("POST", "/v1/totps/recover", map[string]any{"user_id": uid, "recovery_code": c.RecoveryCodes[0]}), 401, "unable_to_authenticate_recovery_code")
	wantError(t, p.Call("POST", "/v1/totps/recover", map[string]any{"user_id": uid, "recovery_code": "zzzz-zzzz-zzzz"}), 401, "unable_to_authenticate_recovery_code")
	for _, bad := range []string{"", "abcd-efgh", "abcdefghijkl", "abcd_efgh_ijkl", "abcd-efgh-ijk!"} {
		wantError(t, p.Call("POST", "/v1/totps/recover", map[string]any{"user_id": uid, "recovery_code": bad}), 400, "invalid_recovery_code")
	}
	// Another user's code does not work for this one.
	other := p.newUser("dave@example.com")
	oc := p.create(other, nil)
	p.OK(200, "POST", "/v1/totps/authenticate", map[string]any{"user_id": other, "totp_code": code(t, oc.Secret, h.Clock.Now())})
	wantError(t, p.Call("POST", "/v1/totps/recover", map[string]any{"user_id": uid, "recovery_code": oc.RecoveryCodes[0]}), 401, "unable_to_authenticate_recovery_code")

	// Upper case and surrounding space are forgiven; a second code adds a
	// second factor to the same session.
	r = p.OK(200, "POST", "/v1/totps/recover", map[string]any{"user_id": uid, "recovery_code": " " + strings.ToUpper(c.RecoveryCodes[1]) + " ",
		"session_token": a.SessionToken})
	b := into[authJSON](t, r)
	if b.Session == nil || b.Session.SessionID != a.Session.SessionID || len(b.Session.AuthenticationFactors) != 2 ||
		b.Session.AuthenticationFactors[1].RecoveryCode.TOTPRecoveryCodeID == id0 {
		t.Errorf("second recover = %s", r.Raw)
	}

	// recovery_codes shows the eight unused codes again.
	r = p.OK(200, "POST", "/v1/totps/recovery_codes", map[string]any{"user_id": uid})
	unused := append([]string(nil), c.RecoveryCodes[2:]...)
	sort.Strings(unused)
	wantJSON, _ := json.Marshal(unused)
	if got := string(r.Raw); !strings.Contains(got, `"totps":[{"totp_id":"`+c.TOTPID+`","verified":true,"recovery_codes":`+string(wantJSON)+`}]`) {
		t.Errorf("recovery_codes = %s", got)
	}

	// The id is stable: the same registration and code give the same id.
	var hash string
	h.DB().QueryRow(`SELECT code_hash FROM recovery_codes WHERE totp_id = ? AND used_at IS NOT NULL ORDER BY used_at LIMIT 1`, c.TOTPID).Scan(&hash)
	if got := totps.RecoveryCodeID(tenant.Test, c.TOTPID, hash); got != id0 && got != b.Session.AuthenticationFactors[1].RecoveryCode.TOTPRecoveryCodeID {
		t.Errorf("RecoveryCodeID = %s, want one of the factor ids", got)
	}
}

func TestMultiFactorSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("MFA", tenant.Test)
	const email = "erin@example.com"
	first := p.login(email, 60)
	uid := first.UserID

	c := p.create(uid, nil)
	r := p.OK(200, "POST", "/v1/totps/authenticate", map[string]any{"user_id": uid, "totp_code": code(t, c.Secret, h.Clock.Now()),
		"session_token": first.SessionToken, "session_custom_claims": map[string]any{"mfa": true}})
	a := into[authJSON](t, r)
	if a.Session == nil || a.Session.SessionID != first.Session.SessionID || a.SessionToken != first.SessionToken {
		t.Fatalf("authenticate with session_token = %s", r.Raw)
	}
	types := func(fs []factorJSON) string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Type+"/"+f.DeliveryMethod)
		}
		return strings.Join(out, ",")
	}
	if got := types(a.Session.AuthenticationFactors); got != "magic_link/email,totp/authenticator_app" {
		t.Errorf("factors = %s", got)
	}
	claims := jwtClaims(t, a.SessionJWT)
	sc, _ := claims[sessions.SessionClaim].(map[string]any)
	fs, _ := sc["authentication_factors"].([]any)
	if len(fs) != 2 || fs[0].(map[string]any)["type"] != "magic_link" || fs[1].(map[string]any)["type"] != "totp" ||
		fs[1].(map[string]any)["authenticator_app_factor"].(map[string]any)["totp_id"] != c.TOTPID {
		t.Errorf("JWT factors = %v", sc["authentication_factors"])
	}
	if claims["mfa"] != true {
		t.Errorf("JWT custom claim mfa = %v", claims["mfa"])
	}

	// sessions.authenticate sees both factors.
	r = p.OK(200, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": first.SessionToken})
	if s := into[authJSON](t, r); s.Session == nil || types(s.Session.AuthenticationFactors) != "magic_link/email,totp/authenticator_app" {
		t.Errorf("sessions.authenticate = %s", r.Raw)
	}

	// A recovery code by session_jwt adds a third factor.
	r = p.OK(200, "POST", "/v1/totps/recover", map[string]any{"user_id": uid, "recovery_code": c.RecoveryCodes[0], "session_jwt": a.SessionJWT})
	if b := into[authJSON](t, r); b.Session == nil || b.Session.SessionID != first.Session.SessionID ||
		types(b.Session.AuthenticationFactors) != "magic_link/email,totp/authenticator_app,recovery_codes/recovery_code" {
		t.Errorf("recover with session_jwt = %s", r.Raw)
	}

	// Someone else's session is refused before the code is spent.
	other := p.login("frank@example.com", 60)
	h.Clock.Advance(totps.Period)
	next := code(t, c.Secret, h.Clock.Now())
	wantError(t, p.Call("POST", "/v1/totps/authenticate", map[string]any{"user_id": uid, "totp_code": next, "session_token": other.SessionToken}), 400, "session_user_mismatch")
	wantError(t, p.Call("POST", "/v1/totps/authenticate", map[string]any{"user_id": uid, "totp_code": next, "session_token": "nope-nope-nope-nope-nope"}), 404, "session_not_found")
	wantError(t, p.Call("POST", "/v1/totps/authenticate", map[string]any{"user_id": uid, "totp_code": next, "session_token": first.SessionToken, "session_jwt": a.SessionJWT}), 400, "too_many_session_arguments")
	p.OK(200, "POST", "/v1/totps/authenticate", map[string]any{"user_id": uid, "totp_code": next})
	wantError(t, p.Call("POST", "/v1/totps/recover", map[string]any{"user_id": uid, "recovery_code": c.RecoveryCodes[1], "session_token": other.SessionToken}), 400, "session_user_mismatch")
	p.OK(200, "POST", "/v1/totps/recover", map[string]any{"user_id": uid, "recovery_code": c.RecoveryCodes[1]})
}

// TestConcurrentRedemption: of many simultaneous uses of one code (or one
// recovery code), exactly one succeeds.
func TestConcurrentRedemption(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Race", tenant.Test)
	uid := p.newUser("gina@example.com")
	c := p.create(uid, nil)
	p.OK(200, "POST", "/v1/totps/authenticate", map[string]any{"user_id": uid, "totp_code": code(t, c.Secret, h.Clock.Now())})
	h.Clock.Advance(totps.Period)
	next := code(t, c.Secret, h.Clock.Now())

	for _, tc := range []struct {
		path string
		body map[string]any
	}{
		{"/v1/totps/authenticate", map[string]any{"user_id": uid, "totp_code": next, "session_duration_minutes": 10}},
		{"/v1/totps/recover", map[string]any{"user_id": uid, "recovery_code": c.RecoveryCodes[3], "session_duration_minutes": 10}},
	} {
		const n = 12
		var wg sync.WaitGroup
		statuses := make(chan int, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := p.Send("POST", tc.path, tc.body)
				if err != nil {
					t.Error(err)
					return
				}
				statuses <- r.Status
			}()
		}
		wg.Wait()
		close(statuses)
		ok := 0
		for s := range statuses {
			switch s {
			case 200:
				ok++
			case 400, 401:
			default:
				t.Errorf("%s: status %d", tc.path, s)
			}
		}
		if ok != 1 {
			t.Errorf("%s: %d successes, want 1", tc.path, ok)
		}
	}
}

func qrOf(t *testing.T, u string) image.Image {
	t.Helper()
	// The same library and size the server uses: pixel equality proves
	// the served image encodes u.
	img, err := totps.QRImage(u)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func sameImage(t *testing.T, a, b image.Image) bool {
	t.Helper()
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				return false
			}
		}
	}
	return true
}

// TestCodeRFC6238 checks Code against RFC 6238's SHA-1 test vectors
// (the last six of the eight digits).
func TestCodeRFC6238(t *testing.T) {
	secret := base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))
	for _, v := range []struct {
		unix int64
		want string
	}{{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"}, {1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"}} {
		if got := code(t, secret, time.Unix(v.unix, 0)); got != v.want {
			t.Errorf("Code at %d = %s, want %s", v.unix, got, v.want)
		}
	}
}

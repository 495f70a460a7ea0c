package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/latchhq/latch/internal/store"
)

var factorTests = []subtest{
	// One-time passcodes.
	{"OTPPutAndAttemptCounts", testOTPPutAttempt},
	{"OTPPutReplacesEarlierCode", testOTPPutReplaces},
	{"OTPAttemptUnknownOrOtherProjectIsNotFound", testOTPAttemptUnknown},
	{"OTPAttemptDiesAfterMaxAttempts", testOTPMaxAttempts},
	{"OTPAttemptExpiredAtNow", testOTPExpired},
	{"OTPConsumeOnce", testOTPConsume},
	{"OTPConsumeUnknownOrOtherProjectFails", testOTPConsumeUnknown},
	// Passwords.
	{"PasswordPutGet", testPasswordPutGet},
	{"PasswordPutReplacesKeepsIDAndCreatedAt", testPasswordReplace},
	{"PasswordUnknownOrOtherProjectIsNotFound", testPasswordNotFound},
	{"PasswordDelete", testPasswordDelete},
	// Login-failure locks.
	{"AuthFailureLocksAtThreshold", testAuthFailureLock},
	{"AuthFailureCountsAfreshAfterLockExpires", testAuthFailureAfterExpiry},
	{"AuthFailureResetClearsCount", testAuthFailureReset},
	{"AuthFailureResetKeepsUnexpiredLock", testAuthFailureResetKeepsLock},
	{"AuthFailureUnknownOrOtherProjectUserIsNotFound", testAuthFailureUnknown},
	{"VerifyPhone", testVerifyPhone},
	// TOTPs and recovery codes.
	{"TOTPCreateGet", testTOTPCreateGet},
	{"TOTPCreateIsAtomic", testTOTPCreateAtomic},
	{"TOTPListOrderedByCreation", testTOTPList},
	{"TOTPAcceptStepOnlyIncreasing", testTOTPAcceptStep},
	{"RecoveryCodeUseOnce", testRecoveryCodeUse},
	{"TOTPDeleteCascadesRecoveryCodes", testTOTPDelete},
	{"UserDeleteCascadesFactors", testUserDeleteCascadesFactors},
}

var factorConcurrencyTests = []subtest{
	{"ConsumeOTPExactlyOnce", testConcurrentConsumeOTP},
	{"AttemptOTPExactlyMax", testConcurrentAttemptOTP},
	{"AcceptTOTPStepExactlyOnce", testConcurrentAcceptTOTPStep},
	{"UseRecoveryCodeExactlyOnce", testConcurrentUseRecoveryCode},
}

// ---- fixtures ----

func newOTP(u *store.User, methodID, channel string) *store.OTP {
	return &store.OTP{
		ProjectID: u.ProjectID,
		MethodID:  methodID,
		UserID:    u.ID,
		Channel:   channel,
		CodeHash:  "hmac-sha256:" + uuid.NewString(),
		CreatedAt: base,
		ExpiresAt: base.Add(5 * time.Minute),
	}
}

func putOTP(t *testing.T, s store.Store, o *store.OTP) *store.OTP {
	t.Helper()
	if err := s.PutOTP(t.Context(), o); err != nil {
		t.Fatalf("PutOTP %s: %v", o.MethodID, err)
	}
	return o
}

// attemptOTP counts one attempt (max 5) that must succeed.
func attemptOTP(t *testing.T, s store.Store, projectID, methodID string, now time.Time) *store.OTP {
	t.Helper()
	o, err := s.AttemptOTP(t.Context(), projectID, methodID, 5, now)
	if err != nil {
		t.Fatalf("AttemptOTP %s: %v", methodID, err)
	}
	return o
}

func checkOTP(t *testing.T, got, want *store.OTP) {
	t.Helper()
	if got.ProjectID != want.ProjectID || got.MethodID != want.MethodID || got.UserID != want.UserID ||
		got.Channel != want.Channel || got.CodeHash != want.CodeHash || got.Attempts != want.Attempts {
		t.Errorf("otp = {%s %s %s %s %s attempts=%d}, want {%s %s %s %s %s attempts=%d}",
			got.ProjectID, got.MethodID, got.UserID, got.Channel, got.CodeHash, got.Attempts,
			want.ProjectID, want.MethodID, want.UserID, want.Channel, want.CodeHash, want.Attempts)
	}
	checkTime(t, "otp CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "otp ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	checkTimePtr(t, "otp UsedAt", got.UsedAt, want.UsedAt)
}

// withAttempts is o as AttemptOTP returns it after n attempts.
func withAttempts(o *store.OTP, n int) *store.OTP {
	c := *o
	c.Attempts = n
	return &c
}

func newPassword(u *store.User, created time.Time) *store.Password {
	return &store.Password{
		ProjectID: u.ProjectID,
		ID:        newID("password"),
		UserID:    u.ID,
		Hash:      "$argon2id$v=19$m=65536,t=3,p=4$" + uuid.NewString(),
		CreatedAt: created,
		UpdatedAt: created,
	}
}

func putPassword(t *testing.T, s store.Store, p *store.Password) *store.Password {
	t.Helper()
	if err := s.PutPassword(t.Context(), p); err != nil {
		t.Fatalf("PutPassword: %v", err)
	}
	return p
}

func getPassword(t *testing.T, s store.Store, projectID, userID string) *store.Password {
	t.Helper()
	p, err := s.GetPassword(t.Context(), projectID, userID)
	if err != nil {
		t.Fatalf("GetPassword %s: %v", userID, err)
	}
	return p
}

func getPasswordByID(t *testing.T, s store.Store, projectID, passwordID string) *store.Password {
	t.Helper()
	p, err := s.GetPasswordByID(t.Context(), projectID, passwordID)
	if err != nil {
		t.Fatalf("GetPasswordByID %s: %v", passwordID, err)
	}
	return p
}

func checkPassword(t *testing.T, got, want *store.Password) {
	t.Helper()
	if got.ProjectID != want.ProjectID || got.ID != want.ID || got.UserID != want.UserID ||
		got.Hash != want.Hash || got.RequiresReset != want.RequiresReset {
		t.Errorf("password = {%s %s %s %s reset=%v}, want {%s %s %s %s reset=%v}",
			got.ProjectID, got.ID, got.UserID, got.Hash, got.RequiresReset,
			want.ProjectID, want.ID, want.UserID, want.Hash, want.RequiresReset)
	}
	checkTime(t, "password CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "password UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

// sealedSecret is a fake sealed TOTP secret holding every byte value
// (NUL, invalid UTF-8, ...), so any lossy encoding shows up.
func sealedSecret() []byte {
	b := make([]byte, 0, 256+16)
	for i := range 256 {
		b = append(b, byte(255-i))
	}
	id := uuid.New()
	return append(b, id[:]...)
}

func newTOTP(u *store.User, created time.Time) *store.TOTP {
	return &store.TOTP{
		ProjectID:    u.ProjectID,
		ID:           newID("totp"),
		UserID:       u.ID,
		SecretSealed: sealedSecret(),
		CreatedAt:    created,
		ExpiresAt:    created.Add(10 * time.Minute),
	}
}

// newRecoveryCodes returns n unused codes for t, sorted by hash.
func newRecoveryCodes(t *store.TOTP, n int) []store.RecoveryCode {
	codes := make([]store.RecoveryCode, n)
	for i := range codes {
		codes[i] = store.RecoveryCode{ProjectID: t.ProjectID, TOTPID: t.ID, UserID: t.UserID, CodeHash: "sha256:" + uuid.NewString()}
	}
	sort.Slice(codes, func(i, j int) bool { return codes[i].CodeHash < codes[j].CodeHash })
	return codes
}

func createTOTP(t *testing.T, s store.Store, tp *store.TOTP, codes []store.RecoveryCode) *store.TOTP {
	t.Helper()
	if err := s.CreateTOTP(t.Context(), tp, codes); err != nil {
		t.Fatalf("CreateTOTP %s: %v", tp.ID, err)
	}
	return tp
}

func getTOTP(t *testing.T, s store.Store, projectID, totpID string) *store.TOTP {
	t.Helper()
	tp, err := s.GetTOTP(t.Context(), projectID, totpID)
	if err != nil {
		t.Fatalf("GetTOTP %s: %v", totpID, err)
	}
	return tp
}

func checkTOTP(t *testing.T, got, want *store.TOTP) {
	t.Helper()
	if got.ProjectID != want.ProjectID || got.ID != want.ID || got.UserID != want.UserID ||
		got.Verified != want.Verified || got.LastStep != want.LastStep {
		t.Errorf("totp = {%s %s %s verified=%v step=%d}, want {%s %s %s verified=%v step=%d}",
			got.ProjectID, got.ID, got.UserID, got.Verified, got.LastStep,
			want.ProjectID, want.ID, want.UserID, want.Verified, want.LastStep)
	}
	if !bytes.Equal(got.SecretSealed, want.SecretSealed) {
		t.Errorf("totp %s SecretSealed = %x (%d bytes), want %x (%d bytes)",
			want.ID, got.SecretSealed, len(got.SecretSealed), want.SecretSealed, len(want.SecretSealed))
	}
	checkTime(t, "totp CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "totp ExpiresAt", got.ExpiresAt, want.ExpiresAt)
}

// checkRecoveryCodes compares the TOTP's stored codes with want (sorted by
// hash); the interface does not fix an order, so got is sorted first.
func checkRecoveryCodes(t *testing.T, s store.Store, projectID, totpID string, want []store.RecoveryCode) {
	t.Helper()
	got, err := s.ListRecoveryCodes(t.Context(), projectID, totpID)
	if err != nil {
		t.Fatalf("ListRecoveryCodes %s: %v", totpID, err)
	}
	sort.Slice(got, func(i, j int) bool { return got[i].CodeHash < got[j].CodeHash })
	if len(got) != len(want) {
		t.Fatalf("ListRecoveryCodes %s: %d codes, want %d", totpID, len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ProjectID != w.ProjectID || g.TOTPID != w.TOTPID || g.UserID != w.UserID || g.CodeHash != w.CodeHash {
			t.Errorf("recovery code %d = {%s %s %s %s}, want {%s %s %s %s}", i,
				g.ProjectID, g.TOTPID, g.UserID, g.CodeHash, w.ProjectID, w.TOTPID, w.UserID, w.CodeHash)
		}
		checkTimePtr(t, "recovery code "+w.CodeHash+" UsedAt", g.UsedAt, w.UsedAt)
	}
}

// ---- OTP ----

func testOTPPutAttempt(t *testing.T, s store.Store) {
	p := createProject(t, s)
	u := newUser(p.ID, "otp@example.com")
	addPhone(u, "+14155550101", false)
	createUser(t, s, u)
	o := putOTP(t, s, newOTP(u, u.Phones[0].ID, "sms"))

	for n := 1; n <= 3; n++ {
		checkOTP(t, attemptOTP(t, s, p.ID, o.MethodID, base.Add(time.Duration(n)*time.Second)), withAttempts(o, n))
	}

	// A code stored with attempts already counted carries on from there.
	e := newOTP(u, u.Emails[0].ID, "email")
	e.Attempts = 2
	putOTP(t, s, e)
	checkOTP(t, attemptOTP(t, s, p.ID, e.MethodID, base), withAttempts(e, 3))
	// And the two methods' codes are separate.
	checkOTP(t, attemptOTP(t, s, p.ID, o.MethodID, base), withAttempts(o, 4))
}

func testOTPPutReplaces(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "otp@example.com"))
	method := u.Emails[0].ID

	old := putOTP(t, s, newOTP(u, method, "email"))
	attemptOTP(t, s, p.ID, method, base)
	attemptOTP(t, s, p.ID, method, base)
	attemptOTP(t, s, p.ID, method, base)

	// The new code replaces the old one outright: new hash, channel and
	// times, attempts back to zero.
	repl := newOTP(u, method, "whatsapp")
	repl.CreatedAt, repl.ExpiresAt = base.Add(time.Minute), base.Add(11*time.Minute)
	putOTP(t, s, repl)
	got := attemptOTP(t, s, p.ID, method, base.Add(2*time.Minute))
	checkOTP(t, got, withAttempts(repl, 1))
	if got.CodeHash == old.CodeHash {
		t.Errorf("old code hash %s survived PutOTP", old.CodeHash)
	}

	// Replacing a used code makes the method usable again.
	if err := s.ConsumeOTP(ctx, p.ID, method, base.Add(3*time.Minute)); err != nil {
		t.Fatalf("ConsumeOTP: %v", err)
	}
	_, err := s.AttemptOTP(ctx, p.ID, method, 5, base.Add(3*time.Minute))
	wantErr(t, err, store.ErrConsumed, "AttemptOTP of a used code")
	fresh := newOTP(u, method, "email")
	fresh.CreatedAt, fresh.ExpiresAt = base.Add(4*time.Minute), base.Add(14*time.Minute)
	putOTP(t, s, fresh)
	checkOTP(t, attemptOTP(t, s, p.ID, method, base.Add(5*time.Minute)), withAttempts(fresh, 1))
	if err := s.ConsumeOTP(ctx, p.ID, method, base.Add(5*time.Minute)); err != nil {
		t.Errorf("ConsumeOTP of the replacement code: %v", err)
	}

	// A code stored already used reads as used.
	used := newOTP(u, method, "email")
	used.UsedAt = ptr(base)
	putOTP(t, s, used)
	_, err = s.AttemptOTP(ctx, p.ID, method, 5, base)
	wantErr(t, err, store.ErrConsumed, "AttemptOTP of a code put used")
	wantErr(t, s.ConsumeOTP(ctx, p.ID, method, base), store.ErrConsumed, "ConsumeOTP of a code put used")
}

func testOTPAttemptUnknown(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := createProject(t, s), createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "otp@example.com"))
	ou := createUser(t, s, newUser(other.ID, "otp@example.com"))
	o := putOTP(t, s, newOTP(u, u.Emails[0].ID, "email"))

	_, err := s.AttemptOTP(ctx, p.ID, newID("email"), 5, base)
	wantErr(t, err, store.ErrNotFound, "AttemptOTP unknown method")
	_, err = s.AttemptOTP(ctx, other.ID, o.MethodID, 5, base)
	wantErr(t, err, store.ErrNotFound, "AttemptOTP via another project")

	// The same method id in another project is a separate code: putting
	// it there neither replaces nor counts against this one.
	oo := newOTP(ou, o.MethodID, "sms")
	putOTP(t, s, oo)
	checkOTP(t, attemptOTP(t, s, p.ID, o.MethodID, base), withAttempts(o, 1))
	checkOTP(t, attemptOTP(t, s, other.ID, o.MethodID, base), withAttempts(oo, 1))
	checkOTP(t, attemptOTP(t, s, p.ID, o.MethodID, base), withAttempts(o, 2))
}

func testOTPMaxAttempts(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "otp@example.com"))
	o := putOTP(t, s, newOTP(u, u.Emails[0].ID, "email"))

	const max = 3
	for n := 1; n <= max; n++ {
		got, err := s.AttemptOTP(ctx, p.ID, o.MethodID, max, base)
		if err != nil {
			t.Fatalf("attempt %d of %d: %v", n, max, err)
		}
		checkOTP(t, got, withAttempts(o, n))
	}
	// The (max+1)th attempt fails even though the row exists, and so does
	// every one after it.
	for n := max + 1; n <= max+3; n++ {
		got, err := s.AttemptOTP(ctx, p.ID, o.MethodID, max, base)
		wantErr(t, err, store.ErrConsumed, fmt.Sprintf("attempt %d with max %d", n, max))
		if got != nil {
			t.Errorf("attempt %d returned %+v alongside its error", n, *got)
		}
	}
	// A code put with max attempts already spent is dead on arrival.
	dead := newOTP(u, u.Emails[0].ID, "email")
	dead.Attempts = max
	putOTP(t, s, dead)
	_, err := s.AttemptOTP(ctx, p.ID, dead.MethodID, max, base)
	wantErr(t, err, store.ErrConsumed, "AttemptOTP of a code put with max attempts")
	// A larger max lets it count on (max is the caller's policy).
	checkOTP(t, attemptOTP(t, s, p.ID, dead.MethodID, base), withAttempts(dead, max+1))
}

func testOTPExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "otp@example.com"))
	o := putOTP(t, s, newOTP(u, u.Emails[0].ID, "email"))

	_, err := s.AttemptOTP(ctx, p.ID, o.MethodID, 5, o.ExpiresAt)
	wantErr(t, err, store.ErrConsumed, "AttemptOTP at expiry")
	_, err = s.AttemptOTP(ctx, p.ID, o.MethodID, 5, o.ExpiresAt.Add(time.Hour))
	wantErr(t, err, store.ErrConsumed, "AttemptOTP after expiry")
	// The failed attempts were not counted: one microsecond before expiry
	// is the first attempt.
	checkOTP(t, attemptOTP(t, s, p.ID, o.MethodID, o.ExpiresAt.Add(-time.Microsecond)), withAttempts(o, 1))
}

func testOTPConsume(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := newUser(p.ID, "otp@example.com")
	addPhone(u, "+14155550101", true)
	createUser(t, s, u)
	o := putOTP(t, s, newOTP(u, u.Emails[0].ID, "email"))
	sibling := putOTP(t, s, newOTP(u, u.Phones[0].ID, "sms"))

	checkOTP(t, attemptOTP(t, s, p.ID, o.MethodID, base), withAttempts(o, 1))
	if err := s.ConsumeOTP(ctx, p.ID, o.MethodID, base.Add(time.Second)); err != nil {
		t.Fatalf("ConsumeOTP: %v", err)
	}
	wantErr(t, s.ConsumeOTP(ctx, p.ID, o.MethodID, base.Add(time.Second)), store.ErrConsumed, "second ConsumeOTP")
	wantErr(t, s.ConsumeOTP(ctx, p.ID, o.MethodID, base.Add(2*time.Second)), store.ErrConsumed, "third ConsumeOTP")
	_, err := s.AttemptOTP(ctx, p.ID, o.MethodID, 5, base.Add(2*time.Second))
	wantErr(t, err, store.ErrConsumed, "AttemptOTP after ConsumeOTP")
	// The other method's code is untouched.
	checkOTP(t, attemptOTP(t, s, p.ID, sibling.MethodID, base), withAttempts(sibling, 1))
	if err := s.ConsumeOTP(ctx, p.ID, sibling.MethodID, base); err != nil {
		t.Errorf("ConsumeOTP of the other method's code: %v", err)
	}
}

func testOTPConsumeUnknown(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := createProject(t, s), createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "otp@example.com"))
	o := putOTP(t, s, newOTP(u, u.Emails[0].ID, "email"))

	// The interface does not say whether a missing code is ErrNotFound or
	// ErrConsumed (as for magic links); it must not succeed.
	notFoundOrConsumed := func(err error, what string) {
		t.Helper()
		if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConsumed) {
			t.Errorf("%s = %v, want ErrNotFound or ErrConsumed", what, err)
		}
	}
	notFoundOrConsumed(s.ConsumeOTP(ctx, p.ID, newID("email"), base), "ConsumeOTP unknown method")
	notFoundOrConsumed(s.ConsumeOTP(ctx, other.ID, o.MethodID, base), "ConsumeOTP via another project")
	// This project's code is still live and unattempted.
	checkOTP(t, attemptOTP(t, s, p.ID, o.MethodID, base), withAttempts(o, 1))
	if err := s.ConsumeOTP(ctx, p.ID, o.MethodID, base); err != nil {
		t.Errorf("ConsumeOTP: %v", err)
	}
}

// ---- passwords ----

func testPasswordPutGet(t *testing.T, s store.Store) {
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "pw@example.com"))
	v := createUser(t, s, newUser(p.ID, "pw2@example.com"))

	pw := putPassword(t, s, newPassword(u, base))
	checkPassword(t, getPassword(t, s, p.ID, u.ID), pw)
	checkPassword(t, getPasswordByID(t, s, p.ID, pw.ID), pw)

	// A migrated hash that must be reset, with distinct times.
	pv := newPassword(v, base.Add(time.Second))
	pv.Hash = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
	pv.RequiresReset = true
	pv.UpdatedAt = base.Add(time.Minute)
	putPassword(t, s, pv)
	checkPassword(t, getPassword(t, s, p.ID, v.ID), pv)
	checkPassword(t, getPasswordByID(t, s, p.ID, pv.ID), pv)
	// The first user's is unchanged.
	checkPassword(t, getPassword(t, s, p.ID, u.ID), pw)
}

func testPasswordReplace(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "pw@example.com"))
	orig := newPassword(u, base)
	orig.RequiresReset = true
	putPassword(t, s, orig)

	// The replacement comes with a new id and creation time; the stored
	// password keeps its own and takes the new hash, flag and update time.
	repl := newPassword(u, base.Add(time.Hour))
	repl.UpdatedAt = base.Add(2 * time.Hour)
	putPassword(t, s, repl)

	want := *orig
	want.Hash, want.RequiresReset, want.UpdatedAt = repl.Hash, false, repl.UpdatedAt
	checkPassword(t, getPassword(t, s, p.ID, u.ID), &want)
	checkPassword(t, getPasswordByID(t, s, p.ID, orig.ID), &want)
	_, err := s.GetPasswordByID(ctx, p.ID, repl.ID)
	wantErr(t, err, store.ErrNotFound, "GetPasswordByID of the replacement's unused id")

	// Back to requiring a reset.
	again := newPassword(u, base.Add(3*time.Hour))
	again.RequiresReset = true
	putPassword(t, s, again)
	want.Hash, want.RequiresReset, want.UpdatedAt = again.Hash, true, again.UpdatedAt
	checkPassword(t, getPassword(t, s, p.ID, u.ID), &want)
}

func testPasswordNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := createProject(t, s), createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "pw@example.com"))
	none := createUser(t, s, newUser(p.ID, "nopw@example.com"))
	pw := putPassword(t, s, newPassword(u, base))

	_, err := s.GetPassword(ctx, p.ID, none.ID)
	wantErr(t, err, store.ErrNotFound, "GetPassword of a user without one")
	_, err = s.GetPassword(ctx, p.ID, newID("user"))
	wantErr(t, err, store.ErrNotFound, "GetPassword unknown user")
	_, err = s.GetPasswordByID(ctx, p.ID, newID("password"))
	wantErr(t, err, store.ErrNotFound, "GetPasswordByID unknown")
	wantErr(t, s.DeletePassword(ctx, p.ID, newID("password")), store.ErrNotFound, "DeletePassword unknown")

	_, err = s.GetPassword(ctx, other.ID, u.ID)
	wantErr(t, err, store.ErrNotFound, "GetPassword via another project")
	_, err = s.GetPasswordByID(ctx, other.ID, pw.ID)
	wantErr(t, err, store.ErrNotFound, "GetPasswordByID via another project")
	wantErr(t, s.DeletePassword(ctx, other.ID, pw.ID), store.ErrNotFound, "DeletePassword via another project")
	checkPassword(t, getPasswordByID(t, s, p.ID, pw.ID), pw)
}

func testPasswordDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "pw@example.com"))
	keep := createUser(t, s, newUser(p.ID, "keep@example.com"))
	pw := putPassword(t, s, newPassword(u, base))
	kept := putPassword(t, s, newPassword(keep, base))

	if err := s.DeletePassword(ctx, p.ID, pw.ID); err != nil {
		t.Fatalf("DeletePassword: %v", err)
	}
	_, err := s.GetPassword(ctx, p.ID, u.ID)
	wantErr(t, err, store.ErrNotFound, "GetPassword after delete")
	_, err = s.GetPasswordByID(ctx, p.ID, pw.ID)
	wantErr(t, err, store.ErrNotFound, "GetPasswordByID after delete")
	wantErr(t, s.DeletePassword(ctx, p.ID, pw.ID), store.ErrNotFound, "second DeletePassword")
	checkPassword(t, getPassword(t, s, p.ID, keep.ID), kept)
	// The user itself is untouched.
	checkUser(t, getUser(t, s, p.ID, u.ID), u)

	// A new password after deletion is a new one, id and all.
	fresh := putPassword(t, s, newPassword(u, base.Add(time.Hour)))
	checkPassword(t, getPassword(t, s, p.ID, u.ID), fresh)
}

// ---- login-failure locks ----

// failAuth records one failure and checks the lock expiry it reports.
func failAuth(t *testing.T, s store.Store, u *store.User, threshold int, lockFor time.Duration, now time.Time, want *time.Time, what string) {
	t.Helper()
	got, err := s.RecordAuthFailure(t.Context(), u.ProjectID, u.ID, threshold, lockFor, now)
	if err != nil {
		t.Fatalf("%s: RecordAuthFailure: %v", what, err)
	}
	switch {
	case got == nil && want == nil:
	case got == nil:
		t.Fatalf("%s: RecordAuthFailure = no lock, want locked until %s", what, want.Format(time.RFC3339Nano))
	case want == nil:
		t.Fatalf("%s: RecordAuthFailure = locked until %s, want no lock", what, got.Format(time.RFC3339Nano))
	default:
		checkTime(t, what+": lock expiry", *got, *want)
	}
}

func checkLock(t *testing.T, s store.Store, u *store.User, created, expires *time.Time) {
	t.Helper()
	got := getUser(t, s, u.ProjectID, u.ID)
	checkTimePtr(t, "LockCreatedAt", got.LockCreatedAt, created)
	checkTimePtr(t, "LockExpiresAt", got.LockExpiresAt, expires)
}

func testAuthFailureLock(t *testing.T, s store.Store) {
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "locked@example.com"))
	bystander := createUser(t, s, newUser(p.ID, "bystander@example.com"))
	const threshold, lockFor = 3, 10 * time.Minute

	failAuth(t, s, u, threshold, lockFor, base, nil, "failure 1")
	failAuth(t, s, u, threshold, lockFor, base.Add(time.Second), nil, "failure 2")
	checkLock(t, s, u, nil, nil)
	lockedAt := base.Add(2 * time.Second)
	until := lockedAt.Add(lockFor)
	failAuth(t, s, u, threshold, lockFor, lockedAt, &until, "failure 3 (threshold)")
	checkLock(t, s, u, &lockedAt, &until)

	// While locked, failures report the same expiry and do not extend it.
	failAuth(t, s, u, threshold, lockFor, lockedAt.Add(time.Second), &until, "failure while locked")
	failAuth(t, s, u, threshold, lockFor, until.Add(-time.Microsecond), &until, "failure just before expiry")
	checkLock(t, s, u, &lockedAt, &until)

	// Another user's count is their own.
	failAuth(t, s, bystander, threshold, lockFor, lockedAt, nil, "bystander failure 1")
	checkLock(t, s, bystander, nil, nil)
}

func testAuthFailureAfterExpiry(t *testing.T, s store.Store) {
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "locked@example.com"))
	const threshold, lockFor = 3, 10 * time.Minute

	for i := range threshold - 1 {
		failAuth(t, s, u, threshold, lockFor, base.Add(time.Duration(i)*time.Second), nil, fmt.Sprintf("failure %d", i+1))
	}
	lockedAt := base.Add((threshold - 1) * time.Second)
	until := lockedAt.Add(lockFor)
	failAuth(t, s, u, threshold, lockFor, lockedAt, &until, "failure at threshold")
	// Failures while locked must not count towards the next lock.
	for i := range threshold {
		failAuth(t, s, u, threshold, lockFor, lockedAt.Add(time.Duration(i+1)*time.Minute), &until, fmt.Sprintf("failure %d while locked", i+1))
	}

	// From the expiry on, failures count afresh from zero.
	for i := range threshold - 1 {
		failAuth(t, s, u, threshold, lockFor, until.Add(time.Duration(i)*time.Second), nil, fmt.Sprintf("failure %d after expiry", i+1))
	}
	relockAt := until.Add(time.Minute)
	relockUntil := relockAt.Add(2 * lockFor)
	failAuth(t, s, u, threshold, 2*lockFor, relockAt, &relockUntil, "failure at threshold after expiry")
	checkLock(t, s, u, &relockAt, &relockUntil)

	// Likewise for a user with no failures during the lock: the failures
	// that set it are not carried over.
	quiet := createUser(t, s, newUser(p.ID, "quiet@example.com"))
	for i := range threshold - 1 {
		failAuth(t, s, quiet, threshold, lockFor, base, nil, fmt.Sprintf("quiet failure %d", i+1))
	}
	failAuth(t, s, quiet, threshold, lockFor, base, ptr(base.Add(lockFor)), "quiet failure at threshold")
	for i := range threshold - 1 {
		failAuth(t, s, quiet, threshold, lockFor, base.Add(lockFor), nil, fmt.Sprintf("quiet failure %d after expiry", i+1))
	}
}

func testAuthFailureReset(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := createProject(t, s), createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "reset@example.com"))
	const threshold, lockFor = 5, 10 * time.Minute

	// Resetting a user with no failures is fine.
	if err := s.ResetAuthFailures(ctx, p.ID, u.ID); err != nil {
		t.Fatalf("ResetAuthFailures with no failures: %v", err)
	}
	now := base
	fail := func(want *time.Time, what string) {
		t.Helper()
		now = now.Add(time.Second)
		failAuth(t, s, u, threshold, lockFor, now, want, what)
	}
	for round := 1; round <= 3; round++ {
		for i := range threshold - 1 {
			fail(nil, fmt.Sprintf("round %d failure %d", round, i+1))
		}
		if err := s.ResetAuthFailures(ctx, p.ID, u.ID); err != nil {
			t.Fatalf("ResetAuthFailures: %v", err)
		}
	}
	checkLock(t, s, u, nil, nil)

	// A reset through another project does not touch this user's count.
	for i := range threshold - 1 {
		fail(nil, fmt.Sprintf("failure %d before a foreign reset", i+1))
	}
	if err := s.ResetAuthFailures(ctx, other.ID, u.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ResetAuthFailures via another project: %v", err)
	}
	until := now.Add(time.Second).Add(lockFor)
	fail(&until, "failure at threshold after a foreign reset")
	checkLock(t, s, u, ptr(now), &until)
}

func testAuthFailureResetKeepsLock(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "locked@example.com"))
	// The lock outlasts any clock the store might consult (ResetAuthFailures
	// takes no now), so it is unexpired whatever "now" means.
	const threshold, lockFor = 1, 100 * 365 * 24 * time.Hour
	until := base.Add(lockFor)
	failAuth(t, s, u, threshold, lockFor, base, &until, "failure at threshold")

	if err := s.ResetAuthFailures(ctx, p.ID, u.ID); err != nil {
		t.Fatalf("ResetAuthFailures: %v", err)
	}
	checkLock(t, s, u, &base, &until)
	failAuth(t, s, u, threshold, lockFor, base.Add(time.Hour), &until, "failure after reset while locked")
}

func testAuthFailureUnknown(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := createProject(t, s), createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "locked@example.com"))

	_, err := s.RecordAuthFailure(ctx, p.ID, newID("user"), 1, time.Minute, base)
	wantErr(t, err, store.ErrNotFound, "RecordAuthFailure unknown user")
	// A threshold-1 failure through another project would lock u if it
	// reached it.
	_, err = s.RecordAuthFailure(ctx, other.ID, u.ID, 1, time.Minute, base)
	wantErr(t, err, store.ErrNotFound, "RecordAuthFailure via another project")
	checkLock(t, s, u, nil, nil)
	failAuth(t, s, u, 2, time.Minute, base, nil, "first failure in the user's project")
}

func testVerifyPhone(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := createProject(t, s), createProject(t, s)
	u := newUser(p.ID, "phone@example.com")
	addPhone(u, "+14155550101", false)
	addPhone(u, "+14155550102", false)
	createUser(t, s, u)
	ph := u.Phones[0]

	wantErr(t, s.VerifyPhone(ctx, p.ID, newID("phone-number")), store.ErrNotFound, "VerifyPhone unknown")
	wantErr(t, s.VerifyPhone(ctx, other.ID, ph.ID), store.ErrNotFound, "VerifyPhone via another project")
	got, err := s.GetPhone(ctx, p.ID, ph.ID)
	if err != nil {
		t.Fatalf("GetPhone: %v", err)
	}
	checkPhone(t, *got, ph)

	if err := s.VerifyPhone(ctx, p.ID, ph.ID); err != nil {
		t.Fatalf("VerifyPhone: %v", err)
	}
	// Verifying again (a later OTP login) is not an error.
	if err := s.VerifyPhone(ctx, p.ID, ph.ID); err != nil {
		t.Fatalf("VerifyPhone of a verified phone: %v", err)
	}
	want := *u
	want.Phones = append([]store.Phone(nil), u.Phones...)
	want.Phones[0].Verified = true
	checkUser(t, getUser(t, s, p.ID, u.ID), &want)
}

// ---- TOTPs and recovery codes ----

func testTOTPCreateGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := createProject(t, s), createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "totp@example.com"))

	tp := newTOTP(u, base)
	codes := newRecoveryCodes(tp, 10)
	createTOTP(t, s, tp, codes)
	checkTOTP(t, getTOTP(t, s, p.ID, tp.ID), tp)
	checkRecoveryCodes(t, s, p.ID, tp.ID, codes)

	// A verified TOTP with a step and no recovery codes; an empty secret.
	v := newTOTP(u, base.Add(time.Second))
	v.Verified, v.LastStep = true, 59_071_234
	v.SecretSealed = []byte{0}
	createTOTP(t, s, v, nil)
	checkTOTP(t, getTOTP(t, s, p.ID, v.ID), v)
	checkRecoveryCodes(t, s, p.ID, v.ID, nil)

	_, err := s.GetTOTP(ctx, p.ID, newID("totp"))
	wantErr(t, err, store.ErrNotFound, "GetTOTP unknown")
	_, err = s.GetTOTP(ctx, other.ID, tp.ID)
	wantErr(t, err, store.ErrNotFound, "GetTOTP via another project")
	checkRecoveryCodes(t, s, other.ID, tp.ID, nil)
	if list, err := s.ListTOTPs(ctx, other.ID, u.ID); err != nil || len(list) != 0 {
		t.Errorf("ListTOTPs via another project = %d, %v; want none", len(list), err)
	}
}

func testTOTPCreateAtomic(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "totp@example.com"))
	first := newTOTP(u, base)
	firstCodes := newRecoveryCodes(first, 10)
	createTOTP(t, s, first, firstCodes)

	// A registration whose last recovery code collides fails as a whole.
	second := newTOTP(u, base.Add(time.Second))
	codes := newRecoveryCodes(second, 9)
	codes = append(codes, store.RecoveryCode{ProjectID: p.ID, TOTPID: second.ID, UserID: u.ID, CodeHash: firstCodes[0].CodeHash})
	wantErr(t, s.CreateTOTP(ctx, second, codes), store.ErrConflict, "CreateTOTP with a duplicate recovery code")
	_, err := s.GetTOTP(ctx, p.ID, second.ID)
	wantErr(t, err, store.ErrNotFound, "GetTOTP of the failed registration")
	checkRecoveryCodes(t, s, p.ID, second.ID, nil)
	for _, c := range codes[:9] {
		_, err := s.UseRecoveryCode(ctx, p.ID, u.ID, c.CodeHash, base)
		wantErr(t, err, store.ErrConsumed, "UseRecoveryCode of the failed registration's code")
	}
	checkRecoveryCodes(t, s, p.ID, first.ID, firstCodes)

	// A duplicate TOTP id conflicts too.
	dup := newTOTP(u, base)
	dup.ID = first.ID
	wantErr(t, s.CreateTOTP(ctx, dup, newRecoveryCodes(dup, 1)), store.ErrConflict, "CreateTOTP with a duplicate id")
	checkTOTP(t, getTOTP(t, s, p.ID, first.ID), first)
	checkRecoveryCodes(t, s, p.ID, first.ID, firstCodes)
}

func testTOTPList(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "totp@example.com"))
	v := createUser(t, s, newUser(p.ID, "other@example.com"))

	if list, err := s.ListTOTPs(ctx, p.ID, u.ID); err != nil || len(list) != 0 {
		t.Fatalf("ListTOTPs of a user with none = %d, %v", len(list), err)
	}
	// Ids sort opposite to creation, so listing by id shows up.
	ids := descendingIDs("totp", 3)
	var want []*store.TOTP
	for i, id := range ids {
		tp := newTOTP(u, base.Add(time.Duration(i)*time.Second))
		tp.ID = id
		want = append(want, createTOTP(t, s, tp, newRecoveryCodes(tp, 2)))
	}
	createTOTP(t, s, newTOTP(v, base), nil)

	list, err := s.ListTOTPs(ctx, p.ID, u.ID)
	if err != nil {
		t.Fatalf("ListTOTPs: %v", err)
	}
	if len(list) != len(want) {
		t.Fatalf("ListTOTPs: %d TOTPs, want %d", len(list), len(want))
	}
	for i := range want {
		checkTOTP(t, &list[i], want[i])
	}
}

func testTOTPAcceptStep(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := createProject(t, s), createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "totp@example.com"))
	tp := createTOTP(t, s, newTOTP(u, base), nil)
	sibling := createTOTP(t, s, newTOTP(u, base), nil)

	const step = 58_907_000
	if err := s.AcceptTOTPStep(ctx, p.ID, tp.ID, step); err != nil {
		t.Fatalf("AcceptTOTPStep: %v", err)
	}
	want := *tp
	want.Verified, want.LastStep = true, step
	checkTOTP(t, getTOTP(t, s, p.ID, tp.ID), &want)

	// The same step again, or an older one, is a replay.
	wantErr(t, s.AcceptTOTPStep(ctx, p.ID, tp.ID, step), store.ErrConsumed, "AcceptTOTPStep same step")
	wantErr(t, s.AcceptTOTPStep(ctx, p.ID, tp.ID, step-1), store.ErrConsumed, "AcceptTOTPStep older step")
	checkTOTP(t, getTOTP(t, s, p.ID, tp.ID), &want)

	for _, next := range []int64{step + 1, step + 3} {
		if err := s.AcceptTOTPStep(ctx, p.ID, tp.ID, next); err != nil {
			t.Fatalf("AcceptTOTPStep %d: %v", next, err)
		}
		want.LastStep = next
		checkTOTP(t, getTOTP(t, s, p.ID, tp.ID), &want)
	}
	wantErr(t, s.AcceptTOTPStep(ctx, p.ID, tp.ID, step+2), store.ErrConsumed, "AcceptTOTPStep step between accepted ones")
	// The sibling registration is untouched and keeps its own steps.
	checkTOTP(t, getTOTP(t, s, p.ID, sibling.ID), sibling)
	if err := s.AcceptTOTPStep(ctx, p.ID, sibling.ID, step); err != nil {
		t.Errorf("AcceptTOTPStep of the sibling at a step used by the other: %v", err)
	}

	// Unknown or another project's TOTP never accepts a step.
	for _, c := range []struct{ project, id, what string }{
		{p.ID, newID("totp"), "AcceptTOTPStep unknown TOTP"},
		{other.ID, tp.ID, "AcceptTOTPStep via another project"},
	} {
		err := s.AcceptTOTPStep(ctx, c.project, c.id, step+100)
		if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConsumed) {
			t.Errorf("%s = %v, want ErrNotFound or ErrConsumed", c.what, err)
		}
	}
	checkTOTP(t, getTOTP(t, s, p.ID, tp.ID), &want)
}

func testRecoveryCodeUse(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := createProject(t, s), createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "totp@example.com"))
	v := createUser(t, s, newUser(p.ID, "other@example.com"))
	tp := newTOTP(u, base)
	codes := newRecoveryCodes(tp, 10)
	createTOTP(t, s, tp, codes)
	vt := newTOTP(v, base)
	vcodes := newRecoveryCodes(vt, 10)
	createTOTP(t, s, vt, vcodes)

	now := base.Add(time.Minute)
	got, err := s.UseRecoveryCode(ctx, p.ID, u.ID, codes[3].CodeHash, now)
	if err != nil {
		t.Fatalf("UseRecoveryCode: %v", err)
	}
	codes[3].UsedAt = &now
	if got.ProjectID != p.ID || got.TOTPID != tp.ID || got.UserID != u.ID || got.CodeHash != codes[3].CodeHash {
		t.Errorf("UseRecoveryCode = %+v, want %+v", *got, codes[3])
	}
	checkTimePtr(t, "UseRecoveryCode UsedAt", got.UsedAt, &now)
	checkRecoveryCodes(t, s, p.ID, tp.ID, codes)

	_, err = s.UseRecoveryCode(ctx, p.ID, u.ID, codes[3].CodeHash, now.Add(time.Second))
	wantErr(t, err, store.ErrConsumed, "second UseRecoveryCode")
	_, err = s.UseRecoveryCode(ctx, p.ID, u.ID, "sha256:"+uuid.NewString(), now)
	wantErr(t, err, store.ErrConsumed, "UseRecoveryCode unknown hash")
	// Another user's code is not this user's, and stays unused.
	_, err = s.UseRecoveryCode(ctx, p.ID, u.ID, vcodes[0].CodeHash, now)
	wantErr(t, err, store.ErrConsumed, "UseRecoveryCode of another user's code")
	_, err = s.UseRecoveryCode(ctx, other.ID, u.ID, codes[4].CodeHash, now)
	wantErr(t, err, store.ErrConsumed, "UseRecoveryCode via another project")
	checkRecoveryCodes(t, s, p.ID, vt.ID, vcodes)
	// The first use is kept.
	checkRecoveryCodes(t, s, p.ID, tp.ID, codes)

	// The other user can use their own.
	later := now.Add(time.Hour)
	if _, err := s.UseRecoveryCode(ctx, p.ID, v.ID, vcodes[0].CodeHash, later); err != nil {
		t.Fatalf("UseRecoveryCode by its owner: %v", err)
	}
	vcodes[0].UsedAt = &later
	checkRecoveryCodes(t, s, p.ID, vt.ID, vcodes)
}

func testTOTPDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := createProject(t, s), createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "totp@example.com"))
	tp := newTOTP(u, base)
	codes := newRecoveryCodes(tp, 10)
	createTOTP(t, s, tp, codes)
	keep := newTOTP(u, base.Add(time.Second))
	keepCodes := newRecoveryCodes(keep, 10)
	createTOTP(t, s, keep, keepCodes)

	wantErr(t, s.DeleteTOTP(ctx, other.ID, tp.ID), store.ErrNotFound, "DeleteTOTP via another project")
	wantErr(t, s.DeleteTOTP(ctx, p.ID, newID("totp")), store.ErrNotFound, "DeleteTOTP unknown")
	checkTOTP(t, getTOTP(t, s, p.ID, tp.ID), tp)

	if err := s.DeleteTOTP(ctx, p.ID, tp.ID); err != nil {
		t.Fatalf("DeleteTOTP: %v", err)
	}
	_, err := s.GetTOTP(ctx, p.ID, tp.ID)
	wantErr(t, err, store.ErrNotFound, "GetTOTP after delete")
	wantErr(t, s.DeleteTOTP(ctx, p.ID, tp.ID), store.ErrNotFound, "second DeleteTOTP")
	checkRecoveryCodes(t, s, p.ID, tp.ID, nil)
	for _, c := range codes {
		_, err := s.UseRecoveryCode(ctx, p.ID, u.ID, c.CodeHash, base)
		wantErr(t, err, store.ErrConsumed, "UseRecoveryCode of a deleted TOTP's code")
	}
	// The user's other registration and its codes remain.
	list, err := s.ListTOTPs(ctx, p.ID, u.ID)
	if err != nil || len(list) != 1 {
		t.Fatalf("ListTOTPs after delete = %d, %v; want 1", len(list), err)
	}
	checkTOTP(t, &list[0], keep)
	checkRecoveryCodes(t, s, p.ID, keep.ID, keepCodes)
}

func testUserDeleteCascadesFactors(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	type fixture struct {
		u     *store.User
		otps  []*store.OTP
		pw    *store.Password
		totp  *store.TOTP
		codes []store.RecoveryCode
	}
	setup := func(address, number string) *fixture {
		u := newUser(p.ID, address)
		addPhone(u, number, true)
		createUser(t, s, u)
		f := &fixture{u: u}
		f.otps = []*store.OTP{
			putOTP(t, s, newOTP(u, u.Emails[0].ID, "email")),
			putOTP(t, s, newOTP(u, u.Phones[0].ID, "sms")),
		}
		f.pw = putPassword(t, s, newPassword(u, base))
		f.totp = newTOTP(u, base)
		f.codes = newRecoveryCodes(f.totp, 10)
		createTOTP(t, s, f.totp, f.codes)
		return f
	}
	gone, kept := setup("gone@example.com", "+14155550101"), setup("kept@example.com", "+14155550102")

	if err := s.DeleteUser(ctx, p.ID, gone.u.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	for _, o := range gone.otps {
		_, err := s.AttemptOTP(ctx, p.ID, o.MethodID, 5, base)
		wantErr(t, err, store.ErrNotFound, "AttemptOTP after user delete")
	}
	_, err := s.GetPassword(ctx, p.ID, gone.u.ID)
	wantErr(t, err, store.ErrNotFound, "GetPassword after user delete")
	_, err = s.GetPasswordByID(ctx, p.ID, gone.pw.ID)
	wantErr(t, err, store.ErrNotFound, "GetPasswordByID after user delete")
	_, err = s.GetTOTP(ctx, p.ID, gone.totp.ID)
	wantErr(t, err, store.ErrNotFound, "GetTOTP after user delete")
	if list, err := s.ListTOTPs(ctx, p.ID, gone.u.ID); err != nil || len(list) != 0 {
		t.Errorf("ListTOTPs after user delete = %d, %v; want none", len(list), err)
	}
	checkRecoveryCodes(t, s, p.ID, gone.totp.ID, nil)
	_, err = s.UseRecoveryCode(ctx, p.ID, gone.u.ID, gone.codes[0].CodeHash, base)
	wantErr(t, err, store.ErrConsumed, "UseRecoveryCode after user delete")

	// The other user's factors are all there.
	for _, o := range kept.otps {
		checkOTP(t, attemptOTP(t, s, p.ID, o.MethodID, base), withAttempts(o, 1))
	}
	checkPassword(t, getPassword(t, s, p.ID, kept.u.ID), kept.pw)
	checkTOTP(t, getTOTP(t, s, p.ID, kept.totp.ID), kept.totp)
	checkRecoveryCodes(t, s, p.ID, kept.totp.ID, kept.codes)

	// A user created again with the deleted one's id starts with nothing.
	again := newUser(p.ID)
	again.ID = gone.u.ID
	createUser(t, s, again)
	_, err = s.GetPassword(ctx, p.ID, again.ID)
	wantErr(t, err, store.ErrNotFound, "GetPassword of a re-created user")
	if list, err := s.ListTOTPs(ctx, p.ID, again.ID); err != nil || len(list) != 0 {
		t.Errorf("ListTOTPs of a re-created user = %d, %v; want none", len(list), err)
	}
	// Ids from the deleted user's recovery codes are free again.
	fresh := newTOTP(again, base)
	createTOTP(t, s, fresh, gone.codes[:1])
	checkRecoveryCodes(t, s, p.ID, fresh.ID, []store.RecoveryCode{{ProjectID: p.ID, TOTPID: fresh.ID, UserID: again.ID, CodeHash: gone.codes[0].CodeHash}})
}

// ---- concurrency ----

// tally counts nil errors and ErrConsumed, reporting any other error.
func tally(t *testing.T, errs []error) (won, consumed int) {
	t.Helper()
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, store.ErrConsumed):
			consumed++
		default:
			t.Errorf("caller %d: unexpected error %v", i, err)
		}
	}
	return won, consumed
}

func testConcurrentConsumeOTP(t *testing.T, s store.Store) {
	const n = 50
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "race@example.com"))
	o := putOTP(t, s, newOTP(u, u.Emails[0].ID, "email"))

	errs := make([]error, n)
	race(n, func(i int) {
		errs[i] = s.ConsumeOTP(t.Context(), p.ID, o.MethodID, base.Add(time.Duration(i)*time.Microsecond))
	})
	if won, consumed := tally(t, errs); won != 1 || consumed != n-1 {
		t.Fatalf("%d callers consumed the code and %d got ErrConsumed; want 1 and %d", won, consumed, n-1)
	}
	_, err := s.AttemptOTP(t.Context(), p.ID, o.MethodID, 5, base)
	wantErr(t, err, store.ErrConsumed, "AttemptOTP after the race")
}

func testConcurrentAttemptOTP(t *testing.T, s store.Store) {
	const n, max = 30, 5
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "race@example.com"))
	o := putOTP(t, s, newOTP(u, u.Emails[0].ID, "email"))

	errs := make([]error, n)
	got := make([]*store.OTP, n)
	race(n, func(i int) {
		got[i], errs[i] = s.AttemptOTP(t.Context(), p.ID, o.MethodID, max, base)
	})
	won, consumed := tally(t, errs)
	if won != max || consumed != n-max {
		t.Fatalf("%d attempts counted and %d got ErrConsumed; want %d and %d", won, consumed, max, n-max)
	}
	// Each counted attempt saw a distinct count, 1 through max.
	seen := map[int]int{}
	for i, g := range got {
		if errs[i] != nil {
			continue
		}
		if prev, dup := seen[g.Attempts]; dup {
			t.Errorf("callers %d and %d both saw attempts = %d", prev, i, g.Attempts)
		}
		seen[g.Attempts] = i
		checkOTP(t, g, withAttempts(o, g.Attempts))
	}
	for a := 1; a <= max; a++ {
		if _, ok := seen[a]; !ok {
			t.Errorf("no caller saw attempts = %d (saw %v)", a, seen)
		}
	}
	_, err := s.AttemptOTP(t.Context(), p.ID, o.MethodID, max, base)
	wantErr(t, err, store.ErrConsumed, "AttemptOTP after the race")
}

func testConcurrentAcceptTOTPStep(t *testing.T, s store.Store) {
	const n, step = 20, 58_907_000
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "race@example.com"))
	tp := createTOTP(t, s, newTOTP(u, base), nil)

	errs := make([]error, n)
	race(n, func(i int) { errs[i] = s.AcceptTOTPStep(t.Context(), p.ID, tp.ID, step) })
	if won, consumed := tally(t, errs); won != 1 || consumed != n-1 {
		t.Fatalf("%d callers had the step accepted and %d got ErrConsumed; want 1 and %d", won, consumed, n-1)
	}
	want := *tp
	want.Verified, want.LastStep = true, step
	checkTOTP(t, getTOTP(t, s, p.ID, tp.ID), &want)
}

func testConcurrentUseRecoveryCode(t *testing.T, s store.Store) {
	const n = 20
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "race@example.com"))
	tp := newTOTP(u, base)
	codes := newRecoveryCodes(tp, 10)
	createTOTP(t, s, tp, codes)

	errs := make([]error, n)
	got := make([]*store.RecoveryCode, n)
	race(n, func(i int) {
		got[i], errs[i] = s.UseRecoveryCode(t.Context(), p.ID, u.ID, codes[0].CodeHash, base.Add(time.Duration(i)*time.Microsecond))
	})
	if won, consumed := tally(t, errs); won != 1 || consumed != n-1 {
		t.Fatalf("%d callers used the code and %d got ErrConsumed; want 1 and %d", won, consumed, n-1)
	}
	// The stored use is the winner's; the other codes are untouched.
	for i, err := range errs {
		if err == nil {
			codes[0].UsedAt = ptr(base.Add(time.Duration(i) * time.Microsecond))
			checkTimePtr(t, "winner's UsedAt", got[i].UsedAt, codes[0].UsedAt)
		}
	}
	checkRecoveryCodes(t, s, p.ID, tp.ID, codes)
}

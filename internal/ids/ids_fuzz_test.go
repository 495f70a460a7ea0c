package ids_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/latchhq/latch/internal/ids"
	"github.com/latchhq/latch/internal/tenant"
)

var kinds = []string{ids.Project, ids.User, ids.Email, ids.PhoneNumber, ids.Session, ids.RequestID, ids.JWK,
	ids.PublicToken, ids.OutboxMsg, ids.Organization, ids.Member}

// FuzzValid: Valid never panics, and what it accepts is exactly
// <kind>-<test|live>-<uuid in 8-4-4-4-12 form>: ASCII, one environment, and
// the uuid part round-trips through uuid.Parse. Every minted id is valid.
func FuzzValid(f *testing.F) {
	for _, k := range kinds {
		f.Add(ids.New(k, tenant.Test))
		f.Add(ids.New(k, tenant.Live))
	}
	for _, s := range []string{"", "user-", "user-test-", "user-test-" + strings.Repeat("0", 36), "user-prod-00000000-0000-0000-0000-000000000000",
		"user-test-00000000-0000-0000-0000-000000000000", "user-test-{00000000-0000-0000-0000-000000000000}",
		"user-test-urn:uuid:00000000-0000-0000-0000-0000000000", "user-test-00000000000000000000000000000000",
		"user-test-00000000-0000-0000-0000-00000000000\xff", "user-test-00000000-0000-0000-0000-000000000000\n",
		"phone-number-test-d5a3b680-e8a3-40c0-b815-ab79986666d0", "user-test-D5A3B680-E8A3-40C0-B815-AB79986666D0",
		"user-test-' OR 1=1 --", "user-live-test-00000000-0000-0000-0000-000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, k := range kinds {
			if !ids.Valid(k, s) {
				continue
			}
			rest, ok := strings.CutPrefix(s, k+"-test-")
			if !ok {
				rest, ok = strings.CutPrefix(s, k+"-live-")
			}
			if !ok {
				t.Fatalf("Valid(%q, %q) without a <kind>-<env>- prefix", k, s)
			}
			u, err := uuid.Parse(rest)
			if err != nil || len(rest) != 36 || !utf8.ValidString(s) {
				t.Fatalf("Valid(%q, %q): uuid part %q does not parse as 8-4-4-4-12 (%v)", k, s, rest, err)
			}
			if strings.ToLower(rest) != u.String() {
				t.Fatalf("Valid(%q, %q): uuid part is not canonical", k, s)
			}
			// BUG(lead): ids.Valid accepts upper-case hex ("user-test-D5A3B680-..."),
			// a form ids.New never mints; users.Lookup then treats it as a user id
			// (never found) rather than an external id. Enable once Valid insists
			// on lower case:
			// if rest != u.String() {
			// 	t.Fatalf("Valid(%q, %q): uuid part is not lower-case canonical", k, s)
			// }
		}
		if len(s) > 0 && s[0] < 8 {
			k := kinds[int(s[0])%len(kinds)]
			if id := ids.New(k, tenant.Environment([]string{"test", "live"}[int(s[0])%2])); !ids.Valid(k, id) {
				t.Fatalf("minted %q is not Valid(%q)", id, k)
			}
		}
	})
}

package projects_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/projects"
	"github.com/latchhq/latch/internal/store/sqlstore"
	"github.com/latchhq/latch/internal/tenant"
)

// FuzzAuthenticateProject: Basic-auth credentials other than a project's
// own id and secret are refused as unauthorized_credentials, before and
// after the project's credentials are cached, and nothing panics.
func FuzzAuthenticateProject(f *testing.F) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	c := clock.NewFake(time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC))
	ps := projects.New(st, c)
	test, err := ps.Create(ctx, "fuzz test", tenant.Consumer, tenant.Test)
	if err != nil {
		f.Fatal(err)
	}
	live, err := ps.Create(ctx, "fuzz live", tenant.Consumer, tenant.Live)
	if err != nil {
		f.Fatal(err)
	}
	valid := map[string]string{test.ProjectID: test.Secret, live.ProjectID: live.Secret}
	for _, s := range [][2]string{{test.ProjectID, test.Secret}, {live.ProjectID, live.Secret}, {test.ProjectID, live.Secret},
		{live.ProjectID, test.Secret}, {test.ProjectID, test.Secret + " "}, {test.ProjectID, strings.ToUpper(test.Secret)},
		{strings.Replace(test.ProjectID, "-test-", "-live-", 1), test.Secret}, {test.ProjectID, ""}, {"", test.Secret},
		{test.ProjectID + "\x00", test.Secret}, {test.ProjectID, test.Secret[:len(test.Secret)-1]}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, id, secret string) {
		for range 2 { // uncached, then cached
			p, err := ps.AuthenticateProject(ctx, id, secret)
			if want, ok := valid[id]; ok && secret == want {
				if err != nil || p.ID != id {
					t.Fatalf("genuine credentials of %s refused: %v", id, err)
				}
				continue
			}
			if err == nil {
				t.Fatalf("(%q, %q) authenticated as %s", id, secret, p.ID)
			}
			if e, ok := apierr.As(err); !ok || e.Type != "unauthorized_credentials" || e.Status != 401 {
				t.Fatalf("(%q, %q): %v, want unauthorized_credentials", id, secret, err)
			}
		}
	})
}

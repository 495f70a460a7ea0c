package projects_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/projects"
	"github.com/latchhq/latch/internal/store/sqlstore"
	"github.com/latchhq/latch/internal/tenant"
)

func TestPasswordPolicy(t *testing.T) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ps := projects.New(st, clock.NewFake(time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)))
	c, err := ps.Create(ctx, "policy", tenant.Consumer, tenant.Test)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ps.PasswordPolicy(ctx, c.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Policy != "zxcvbn" || got.LUDSMinLength != 8 || got.LUDSMinComplexity != 3 || got.BreachDetectionOnCreate == nil || !*got.BreachDetectionOnCreate {
		t.Fatalf("default policy %+v", got)
	}

	off := false
	set := func(p projects.PasswordPolicy) error {
		return ps.UpdateSettings(ctx, c.ProjectID, func(s *projects.Settings) error { s.Passwords = &p; return nil })
	}
	if err := set(projects.PasswordPolicy{Policy: "luds", LUDSMinLength: 12, BreachDetectionOnCreate: &off}); err != nil {
		t.Fatal(err)
	}
	got, _ = ps.PasswordPolicy(ctx, c.ProjectID)
	if got.Policy != "luds" || got.LUDSMinLength != 12 || got.LUDSMinComplexity != 3 || *got.BreachDetectionOnCreate {
		t.Fatalf("stored policy %+v", got)
	}

	// Every bad field is reported, and nothing is stored.
	err = set(projects.PasswordPolicy{Policy: "strong", LUDSMinLength: 7, LUDSMinComplexity: 5})
	for _, want := range []string{`"strong"`, "8..32, not 7", "1..4, not 5"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to mention %s", err, want)
		}
	}
	for _, bad := range []projects.PasswordPolicy{{LUDSMinLength: 33}, {LUDSMinComplexity: -1}} {
		if set(bad) == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if again, _ := ps.PasswordPolicy(ctx, c.ProjectID); again.LUDSMinLength != 12 || again.Policy != "luds" {
		t.Fatalf("a refused update changed the policy: %+v", again)
	}
}

package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/tenant"
)

// The sweeper deletes events older than the retention and keeps newer
// ones; with no retention it keeps everything.
func TestRetentionSweep(t *testing.T) {
	count := func(h *harness, projectID string) int {
		t.Helper()
		var n int
		if err := h.db().QueryRow(`SELECT COUNT(*) FROM events WHERE project_id = $1`, projectID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, keep := range []time.Duration{30 * 24 * time.Hour, 0} {
		h := newHarnessWith(t, harnessOptions{retention: keep})
		p := h.project("Retained", tenant.Test)
		p.ok(http.StatusCreated, "POST", "/v1/users", map[string]any{"email": "old@example.com"})
		h.clock.Advance(31 * 24 * time.Hour)
		p.ok(http.StatusCreated, "POST", "/v1/users", map[string]any{"email": "new@example.com"})
		if n := count(h, p.id); n != 2 {
			t.Fatalf("%d events before the sweep, want 2", n)
		}
		h.app.SweepOnce(context.Background())
		want := 1
		if keep == 0 {
			want = 2
		}
		if n := count(h, p.id); n != want {
			t.Errorf("retention %s: %d events after the sweep, want %d", keep, n, want)
		}
	}
}

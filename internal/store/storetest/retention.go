package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/store"
)

var retentionTests = []subtest{
	{"OldEventsGoUnlessUndelivered", testDeleteOldEvents},
	{"OldSettledMessagesGo", testDeleteOldMessages},
}

func testDeleteOldEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, q := createProject(t, s), createProject(t, s)
	w := newWebhook(t, s, p.ID, base)
	// Old and delivered, old and still queued, recent; in two projects.
	oldDone := appendEvent(t, s, p.ID, "direct.user.create", base.Add(time.Second))
	oldQueued := appendEvent(t, s, p.ID, "direct.user.create", base.Add(2*time.Second))
	recent := appendEvent(t, s, p.ID, "direct.user.create", base.Add(time.Hour))
	oldOther := appendEvent(t, s, q.ID, "direct.user.create", base.Add(3*time.Second))
	got := leaseD(t, s, base.Add(time.Minute), time.Minute, 10)
	if len(got) != 1 || got[0].EventID != oldDone.ID {
		t.Fatalf("leased %+v, want the oldest event", got)
	}
	if err := s.MarkDelivered(ctx, got[0].ID, got[0].Attempts, 200, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}

	cutoff := base.Add(10 * time.Minute)
	n, err := s.DeleteEventsBefore(ctx, cutoff, 100)
	if err != nil || n != 2 {
		t.Fatalf("DeleteEventsBefore = %d, %v; want 2 (the delivered one and the one without endpoints)", n, err)
	}
	for _, e := range []*store.Event{oldDone, oldOther} {
		if _, err := s.GetEvent(ctx, e.ProjectID, e.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("old event %s: %v, want ErrNotFound", e.ID, err)
		}
	}
	for _, e := range []*store.Event{oldQueued, recent} {
		if _, err := s.GetEvent(ctx, e.ProjectID, e.ID); err != nil {
			t.Errorf("event %s should stay: %v", e.ID, err)
		}
	}
	// The delivered event's record went with it; the queued ones stay.
	for _, d := range deliveries(t, s, p.ID, w.ID) {
		if d.EventID == oldDone.ID {
			t.Errorf("delivery of a deleted event remains: %+v", d)
		}
	}
	if got := len(deliveries(t, s, p.ID, w.ID)); got != 2 {
		t.Errorf("%d deliveries remain, want 2", got)
	}

	// The limit bounds one call.
	for i := range 3 {
		appendEvent(t, s, q.ID, "direct.user.update", base.Add(time.Duration(4+i)*time.Second))
	}
	if n, err := s.DeleteEventsBefore(ctx, cutoff, 2); err != nil || n != 2 {
		t.Fatalf("limited DeleteEventsBefore = %d, %v; want 2", n, err)
	}
	if n, err := s.DeleteEventsBefore(ctx, cutoff, 2); err != nil || n != 1 {
		t.Fatalf("second DeleteEventsBefore = %d, %v; want 1", n, err)
	}
}

func testDeleteOldMessages(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	sent := enqueue(t, s, newMessage(p.ID, "a@example.com", base))
	failed := enqueue(t, s, newMessage(p.ID, "b@example.com", base.Add(time.Second)))
	pending := enqueue(t, s, newMessage(p.ID, "c@example.com", base.Add(2*time.Second)))
	recent := enqueue(t, s, newMessage(p.ID, "d@example.com", base.Add(time.Hour)))
	if err := s.MarkSent(ctx, sent.ID, base.Add(time.Minute), true); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkFailed(ctx, failed.ID, "550 no such user", base.Add(time.Minute), true); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(ctx, recent.ID, base.Add(time.Hour), true); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteMessagesBefore(ctx, base.Add(10*time.Minute), 100)
	if err != nil || n != 2 {
		t.Fatalf("DeleteMessagesBefore = %d, %v; want 2", n, err)
	}
	left := map[string]bool{}
	for _, to := range []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com"} {
		ms, err := s.ListMessages(ctx, p.ID, to, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			left[m.ID] = true
		}
	}
	if left[sent.ID] || left[failed.ID] || !left[pending.ID] || !left[recent.ID] {
		t.Fatalf("left %v: want only the pending and the recent message", left)
	}
}

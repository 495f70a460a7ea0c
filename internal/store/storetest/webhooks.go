package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/store"
)

var webhookTests = []subtest{
	{"CreateGetList", testWebhookCRUD},
	{"AppendFansOutToMatchingEndpoints", testAppendFanOut},
	{"FilterMatchesExactTypes", testAppendFilterExact},
	{"NewEndpointGetsOnlyLaterEvents", testAppendNewEndpoint},
	{"AppendRollsBackWithTx", testAppendRollback},
	{"ListEventsNewestFirst", testListEvents},
	{"LeaseOnlyHeadOfLine", testLeaseHeadOfLine},
	{"FailedHeadStopsBlocking", testLeaseFailedHead},
	{"LeaseExpiresAndFences", testLeaseExpiryFencing},
	{"ListDeliveries", testListDeliveries},
	{"Requeue", testRequeue},
	{"DeleteStopsDeliveries", testDeleteWebhook},
	{"ProjectsAreIsolated", testWebhookIsolation},
}

var webhookConcurrencyTests = []subtest{
	{"LeaseDeliveriesNoDoubleLeaseInOrder", testConcurrentDeliveryLease},
}

func newWebhook(t *testing.T, s store.Store, projectID string, created time.Time, events ...string) *store.WebhookEndpoint {
	t.Helper()
	w := &store.WebhookEndpoint{
		ProjectID: projectID,
		ID:        newID("webhook"),
		URL:       "https://hooks.example.com/" + newID("path"),
		Events:    events,
		Secret:    []byte("sealed:" + newID("key")),
		CreatedAt: created,
	}
	if err := s.CreateWebhook(t.Context(), w); err != nil {
		t.Fatalf("CreateWebhook: %v", err)
	}
	return w
}

func appendEvent(t *testing.T, s store.Store, projectID, typ string, at time.Time) *store.Event {
	t.Helper()
	id := newID("webhook-event")
	e := &store.Event{
		ProjectID:  projectID,
		ID:         id,
		Type:       typ,
		ObjectType: "user",
		Action:     "CREATE",
		ObjectID:   newID("user"),
		Payload:    json.RawMessage(fmt.Sprintf(`{"event_id":%q,"action":"CREATE"}`, id)),
		CreatedAt:  at,
	}
	if err := s.AppendEvent(t.Context(), e); err != nil {
		t.Fatalf("AppendEvent %s: %v", typ, err)
	}
	return e
}

func deliveries(t *testing.T, s store.Store, projectID, webhookID string) []store.WebhookDelivery {
	t.Helper()
	ds, err := s.ListDeliveries(t.Context(), projectID, webhookID, 1000)
	if err != nil {
		t.Fatalf("ListDeliveries: %v", err)
	}
	return ds
}

// deliveredEvents lists the event ids queued for an endpoint, oldest first.
func queuedEvents(t *testing.T, s store.Store, projectID, webhookID string) []string {
	t.Helper()
	ds := deliveries(t, s, projectID, webhookID)
	var out []string
	for i := len(ds) - 1; i >= 0; i-- {
		out = append(out, ds[i].EventID)
	}
	return out
}

func leaseD(t *testing.T, s store.Store, now time.Time, d time.Duration, n int) []store.LeasedDelivery {
	t.Helper()
	got, err := s.LeaseDeliveries(t.Context(), now, d, n)
	if err != nil {
		t.Fatalf("LeaseDeliveries at %v: %v", now, err)
	}
	return got
}

func leasedEvents(ls []store.LeasedDelivery) map[string]string {
	m := map[string]string{}
	for _, l := range ls {
		m[l.WebhookID] = l.EventID
	}
	return m
}

func testWebhookCRUD(t *testing.T, s store.Store) {
	p := createProject(t, s)
	all := newWebhook(t, s, p.ID, base)
	some := newWebhook(t, s, p.ID, base.Add(time.Second), "direct.user.create", "direct.user.delete", "direct.user.create")

	got, err := s.GetWebhook(t.Context(), p.ID, some.ID)
	if err != nil {
		t.Fatalf("GetWebhook: %v", err)
	}
	if got.URL != some.URL || string(got.Secret) != string(some.Secret) || got.ProjectID != p.ID {
		t.Errorf("GetWebhook = %+v, want %+v", got, some)
	}
	if !slices.Equal(got.Events, some.Events) {
		t.Errorf("Events = %q, want %q", got.Events, some.Events)
	}
	checkTime(t, "webhook CreatedAt", got.CreatedAt, some.CreatedAt)

	list, err := s.ListWebhooks(t.Context(), p.ID)
	if err != nil {
		t.Fatalf("ListWebhooks: %v", err)
	}
	if len(list) != 2 || list[0].ID != all.ID || list[1].ID != some.ID {
		t.Fatalf("ListWebhooks = %+v, want [%s %s]", list, all.ID, some.ID)
	}
	if list[0].Events == nil || len(list[0].Events) != 0 {
		t.Errorf("all-events webhook Events = %#v, want empty non-nil", list[0].Events)
	}
	_, err = s.GetWebhook(t.Context(), p.ID, newID("webhook"))
	wantErr(t, err, store.ErrNotFound, "GetWebhook unknown")
	err = s.CreateWebhook(t.Context(), &store.WebhookEndpoint{ProjectID: p.ID, ID: all.ID, URL: "https://x.example", CreatedAt: base})
	wantConflict(t, err, "", "CreateWebhook duplicate id")
}

func testAppendFanOut(t *testing.T, s store.Store) {
	p := createProject(t, s)
	other := createProject(t, s)
	all := newWebhook(t, s, p.ID, base)
	users := newWebhook(t, s, p.ID, base, "direct.user.create")
	sessions := newWebhook(t, s, p.ID, base, "direct.session.create", "direct.session.revoke")
	foreign := newWebhook(t, s, other.ID, base)

	e1 := appendEvent(t, s, p.ID, "direct.user.create", base.Add(time.Second))
	e2 := appendEvent(t, s, p.ID, "direct.session.create", base.Add(2*time.Second))
	e3 := appendEvent(t, s, p.ID, "direct.user.update", base.Add(3*time.Second))

	for _, c := range []struct {
		w    *store.WebhookEndpoint
		want []string
	}{
		{all, []string{e1.ID, e2.ID, e3.ID}},
		{users, []string{e1.ID}},
		{sessions, []string{e2.ID}},
	} {
		if got := queuedEvents(t, s, p.ID, c.w.ID); !slices.Equal(got, c.want) {
			t.Errorf("webhook %v queued %v, want %v", c.w.Events, got, c.want)
		}
	}
	if got := deliveries(t, s, other.ID, foreign.ID); len(got) != 0 {
		t.Errorf("other project's webhook got %d deliveries", len(got))
	}
	ds := deliveries(t, s, p.ID, all.ID)
	d := ds[len(ds)-1]
	if d.Status != store.DeliveryPending || d.Attempts != 0 || d.EventType != "direct.user.create" ||
		d.LeaseUntil != nil || d.DeliveredAt != nil || d.LastError != "" || d.LastStatus != 0 || d.ProjectID != p.ID {
		t.Errorf("fresh delivery = %+v", d)
	}
	checkTime(t, "delivery NextAttempt", d.NextAttempt, e1.CreatedAt)
	checkTime(t, "delivery CreatedAt", d.CreatedAt, e1.CreatedAt)

	got, err := s.GetEvent(t.Context(), p.ID, e2.ID)
	if err != nil {
		t.Fatalf("GetEvent: %v", err)
	}
	if got.Type != e2.Type || got.ObjectType != e2.ObjectType || got.Action != e2.Action || got.ObjectID != e2.ObjectID || got.ProjectID != p.ID {
		t.Errorf("GetEvent = %+v, want %+v", got, e2)
	}
	checkJSON(t, "event Payload", got.Payload, e2.Payload)
	checkTime(t, "event CreatedAt", got.CreatedAt, e2.CreatedAt)

	// An event with no endpoint at all is still logged.
	lone := appendEvent(t, s, other.ID, "direct.user.create", base)
	if _, err := s.GetEvent(t.Context(), other.ID, lone.ID); err != nil {
		t.Errorf("GetEvent of an event nobody listens to: %v", err)
	}
}

func testAppendFilterExact(t *testing.T, s store.Store) {
	p := createProject(t, s)
	w := newWebhook(t, s, p.ID, base, "direct.magic_link.send")
	appendEvent(t, s, p.ID, "direct.magicXlink.send", base)
	appendEvent(t, s, p.ID, "direct.magic_link.sen", base)
	appendEvent(t, s, p.ID, "direct.magic_link.send.x", base)
	e := appendEvent(t, s, p.ID, "direct.magic_link.send", base)
	if got := queuedEvents(t, s, p.ID, w.ID); !slices.Equal(got, []string{e.ID}) {
		t.Errorf("queued %v, want only %s", got, e.ID)
	}
}

func testAppendNewEndpoint(t *testing.T, s store.Store) {
	p := createProject(t, s)
	appendEvent(t, s, p.ID, "direct.user.create", base)
	w := newWebhook(t, s, p.ID, base.Add(time.Second))
	e2 := appendEvent(t, s, p.ID, "direct.user.create", base.Add(2*time.Second))
	if got := queuedEvents(t, s, p.ID, w.ID); !slices.Equal(got, []string{e2.ID}) {
		t.Errorf("new endpoint queued %v, want only the later event %s", got, e2.ID)
	}
}

func testAppendRollback(t *testing.T, s store.Store) {
	p := createProject(t, s)
	w := newWebhook(t, s, p.ID, base)
	boom := errors.New("boom")
	var id string
	err := s.Tx(t.Context(), func(tx store.Store) error {
		id = appendEvent(t, tx, p.ID, "direct.user.create", base).ID
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx = %v, want boom", err)
	}
	_, err = s.GetEvent(t.Context(), p.ID, id)
	wantErr(t, err, store.ErrNotFound, "event of a rolled-back Tx")
	if got := deliveries(t, s, p.ID, w.ID); len(got) != 0 {
		t.Errorf("rolled-back event left %d deliveries", len(got))
	}
	// Committed inside a Tx: both the event and its delivery.
	err = s.Tx(t.Context(), func(tx store.Store) error {
		id = appendEvent(t, tx, p.ID, "direct.user.create", base).ID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := queuedEvents(t, s, p.ID, w.ID); !slices.Equal(got, []string{id}) {
		t.Errorf("committed Tx queued %v, want %s", got, id)
	}
}

func testListEvents(t *testing.T, s store.Store) {
	p := createProject(t, s)
	var want []string
	for i := range 5 {
		want = append(want, appendEvent(t, s, p.ID, "direct.user.create", base.Add(time.Duration(i)*time.Second)).ID)
	}
	slices.Reverse(want)
	got, err := s.ListEvents(t.Context(), p.ID, 3)
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	var ids []string
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	if !slices.Equal(ids, want[:3]) {
		t.Errorf("ListEvents = %v, want %v", ids, want[:3])
	}
}

func testLeaseHeadOfLine(t *testing.T, s store.Store) {
	p := createProject(t, s)
	a := newWebhook(t, s, p.ID, base)
	b := newWebhook(t, s, p.ID, base, "direct.user.create")
	var evs []*store.Event
	for i := range 3 {
		evs = append(evs, appendEvent(t, s, p.ID, "direct.user.create", base.Add(time.Duration(i)*time.Second)))
	}
	later := appendEvent(t, s, p.ID, "direct.user.update", base.Add(10*time.Second)) // a only
	now := base.Add(time.Minute)

	got := leaseD(t, s, now, time.Hour, 100)
	if len(got) != 2 {
		t.Fatalf("leased %d deliveries, want one head per endpoint (2): %+v", len(got), got)
	}
	if m := leasedEvents(got); m[a.ID] != evs[0].ID || m[b.ID] != evs[0].ID {
		t.Fatalf("leased %v, want the first event for both endpoints", m)
	}
	for _, l := range got {
		if l.Status != store.DeliverySending || l.Attempts != 1 || l.LeaseUntil == nil {
			t.Errorf("leased delivery = %+v", l.WebhookDelivery)
		}
		checkTimePtr(t, "LeaseUntil", l.LeaseUntil, ptr(now.Add(time.Hour)))
		checkJSON(t, "leased Payload", l.Payload, evs[0].Payload)
		if l.EventType != "direct.user.create" {
			t.Errorf("leased EventType = %q", l.EventType)
		}
		w := a
		if l.WebhookID == b.ID {
			w = b
		}
		if l.URL != w.URL || string(l.Secret) != string(w.Secret) {
			t.Errorf("leased URL/secret = %q/%q, want %q/%q", l.URL, l.Secret, w.URL, w.Secret)
		}
	}
	// Heads are in flight: nothing else of either endpoint may go.
	if more := leaseD(t, s, now, time.Hour, 100); len(more) != 0 {
		t.Fatalf("leased %+v while both heads are in flight", leasedEvents(more))
	}
	// a's head is delivered: a's second event is next; b stays blocked.
	var la, lb store.LeasedDelivery
	for _, l := range got {
		if l.WebhookID == a.ID {
			la = l
		} else {
			lb = l
		}
	}
	if err := s.MarkDelivered(t.Context(), la.ID, la.Attempts, 204, now); err != nil {
		t.Fatalf("MarkDelivered: %v", err)
	}
	got = leaseD(t, s, now, time.Hour, 100)
	if m := leasedEvents(got); len(got) != 1 || m[a.ID] != evs[1].ID {
		t.Fatalf("after delivering a's head leased %v, want a: %s", m, evs[1].ID)
	}
	// b's head fails and waits a minute: it still blocks b's queue.
	if err := s.MarkDeliveryFailed(t.Context(), lb.ID, lb.Attempts, "HTTP 500", 500, now.Add(time.Minute), false); err != nil {
		t.Fatalf("MarkDeliveryFailed: %v", err)
	}
	if more := leaseD(t, s, now.Add(59*time.Second), time.Hour, 100); len(more) != 0 {
		t.Fatalf("leased %v while b's head waits for its retry and a's is in flight", leasedEvents(more))
	}
	got = leaseD(t, s, now.Add(time.Minute), time.Hour, 100)
	if m := leasedEvents(got); len(got) != 1 || m[b.ID] != evs[0].ID || got[0].Attempts != 2 || got[0].LastStatus != 500 || got[0].LastError != "HTTP 500" {
		t.Fatalf("at the retry leased %+v, want b's first event again on attempt 2", got)
	}
	// Delivering everything in turn yields each endpoint's events in order.
	done := map[string][]string{a.ID: {evs[0].ID, evs[1].ID}, b.ID: {}}
	for _, l := range got {
		s.MarkDelivered(t.Context(), l.ID, l.Attempts, 200, now)
		done[l.WebhookID] = append(done[l.WebhookID], l.EventID)
	}
	for _, d := range deliveries(t, s, p.ID, a.ID) {
		if d.Status == store.DeliverySending {
			s.MarkDelivered(t.Context(), d.ID, d.Attempts, 200, now)
		}
	}
	for range 10 {
		ls := leaseD(t, s, now.Add(2*time.Minute), time.Hour, 100)
		if len(ls) == 0 {
			break
		}
		for _, l := range ls {
			done[l.WebhookID] = append(done[l.WebhookID], l.EventID)
			if err := s.MarkDelivered(t.Context(), l.ID, l.Attempts, 200, now); err != nil {
				t.Fatal(err)
			}
		}
	}
	wantA := []string{evs[0].ID, evs[1].ID, evs[2].ID, later.ID}
	wantB := []string{evs[0].ID, evs[1].ID, evs[2].ID}
	if !slices.Equal(done[a.ID], wantA) || !slices.Equal(done[b.ID], wantB) {
		t.Errorf("delivery order a=%v b=%v, want a=%v b=%v", done[a.ID], done[b.ID], wantA, wantB)
	}
	for _, d := range deliveries(t, s, p.ID, "") {
		if d.Status != store.DeliveryDelivered || d.DeliveredAt == nil {
			t.Errorf("delivery %d of %s: status %s delivered_at %v", d.ID, d.EventID, d.Status, d.DeliveredAt)
		}
	}
}

func testLeaseFailedHead(t *testing.T, s store.Store) {
	p := createProject(t, s)
	w := newWebhook(t, s, p.ID, base)
	e1 := appendEvent(t, s, p.ID, "direct.user.create", base)
	e2 := appendEvent(t, s, p.ID, "direct.user.create", base)
	got := leaseD(t, s, base, time.Minute, 10)
	if len(got) != 1 || got[0].EventID != e1.ID {
		t.Fatalf("leased %v, want %s", leasedEvents(got), e1.ID)
	}
	if err := s.MarkDeliveryFailed(t.Context(), got[0].ID, 1, "gave up", 0, base, true); err != nil {
		t.Fatalf("MarkDeliveryFailed final: %v", err)
	}
	got = leaseD(t, s, base, time.Minute, 10)
	if len(got) != 1 || got[0].EventID != e2.ID {
		t.Fatalf("after the head failed for good leased %v, want %s", leasedEvents(got), e2.ID)
	}
	ds := deliveries(t, s, p.ID, w.ID)
	if ds[1].Status != store.DeliveryFailed || ds[1].LastError != "gave up" || ds[1].LeaseUntil != nil {
		t.Errorf("failed delivery = %+v", ds[1])
	}
}

func testLeaseExpiryFencing(t *testing.T, s store.Store) {
	p := createProject(t, s)
	newWebhook(t, s, p.ID, base)
	e := appendEvent(t, s, p.ID, "direct.user.create", base)
	first := leaseD(t, s, base, 30*time.Second, 10)
	if len(first) != 1 {
		t.Fatalf("leased %d, want 1", len(first))
	}
	if got := leaseD(t, s, base.Add(30*time.Second), 30*time.Second, 10); len(got) != 0 {
		t.Fatalf("leased %d before the lease expired", len(got))
	}
	second := leaseD(t, s, base.Add(31*time.Second), 30*time.Second, 10)
	if len(second) != 1 || second[0].ID != first[0].ID || second[0].EventID != e.ID || second[0].Attempts != 2 {
		t.Fatalf("after expiry leased %+v, want the same delivery on attempt 2", second)
	}
	// The first dispatcher comes back late: its lease is gone.
	err := s.MarkDelivered(t.Context(), first[0].ID, first[0].Attempts, 200, base.Add(40*time.Second))
	wantErr(t, err, store.ErrConsumed, "MarkDelivered with a lost lease")
	err = s.MarkDeliveryFailed(t.Context(), first[0].ID, first[0].Attempts, "late", 500, base, false)
	wantErr(t, err, store.ErrConsumed, "MarkDeliveryFailed with a lost lease")
	if err := s.MarkDelivered(t.Context(), second[0].ID, second[0].Attempts, 202, base.Add(40*time.Second)); err != nil {
		t.Fatalf("MarkDelivered by the lease holder: %v", err)
	}
	err = s.MarkDelivered(t.Context(), second[0].ID, second[0].Attempts, 202, base.Add(41*time.Second))
	wantErr(t, err, store.ErrConsumed, "MarkDelivered twice")
	d := deliveries(t, s, p.ID, "")[0]
	if d.Status != store.DeliveryDelivered || d.LastStatus != 202 || d.Attempts != 2 {
		t.Errorf("delivery = %+v", d)
	}
	checkTimePtr(t, "DeliveredAt", d.DeliveredAt, ptr(base.Add(40*time.Second)))
}

func testListDeliveries(t *testing.T, s store.Store) {
	p := createProject(t, s)
	a := newWebhook(t, s, p.ID, base)
	b := newWebhook(t, s, p.ID, base)
	for i := range 3 {
		appendEvent(t, s, p.ID, "direct.user.create", base.Add(time.Duration(i)*time.Second))
	}
	all := deliveries(t, s, p.ID, "")
	if len(all) != 6 {
		t.Fatalf("listed %d deliveries, want 6", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID {
			t.Errorf("deliveries not newest first: %d after %d", all[i].ID, all[i-1].ID)
		}
	}
	for _, w := range []*store.WebhookEndpoint{a, b} {
		ds := deliveries(t, s, p.ID, w.ID)
		if len(ds) != 3 {
			t.Errorf("webhook lists %d deliveries, want 3", len(ds))
		}
		for _, d := range ds {
			if d.WebhookID != w.ID {
				t.Errorf("delivery of %s listed under %s", d.WebhookID, w.ID)
			}
		}
	}
	few, err := s.ListDeliveries(t.Context(), p.ID, a.ID, 2)
	if err != nil || len(few) != 2 {
		t.Fatalf("ListDeliveries limit 2 = %d, %v", len(few), err)
	}
	empty := deliveries(t, s, p.ID, newID("webhook"))
	if empty == nil || len(empty) != 0 {
		t.Errorf("unknown webhook lists %#v, want empty non-nil", empty)
	}
}

func testRequeue(t *testing.T, s store.Store) {
	p := createProject(t, s)
	a := newWebhook(t, s, p.ID, base)
	b := newWebhook(t, s, p.ID, base, "direct.user.update")
	e := appendEvent(t, s, p.ID, "direct.user.create", base)
	ls := leaseD(t, s, base, time.Minute, 10)
	if len(ls) != 1 {
		t.Fatalf("leased %d, want 1", len(ls))
	}
	s.MarkDelivered(t.Context(), ls[0].ID, ls[0].Attempts, 200, base)
	later := base.Add(time.Hour)

	// Without a webhook: the endpoints that had it (a, not b).
	re, err := s.RequeueEvent(t.Context(), p.ID, e.ID, "", later)
	if err != nil {
		t.Fatalf("RequeueEvent: %v", err)
	}
	if len(re) != 1 || re[0].WebhookID != a.ID || re[0].EventID != e.ID || re[0].Status != store.DeliveryPending ||
		re[0].Attempts != 0 || re[0].ID <= ls[0].ID || re[0].EventType != e.Type {
		t.Fatalf("RequeueEvent = %+v, want one new pending delivery to a", re)
	}
	checkTime(t, "requeued NextAttempt", re[0].NextAttempt, later)
	if got := leaseD(t, s, later.Add(-time.Second), time.Minute, 10); len(got) != 0 {
		t.Errorf("requeued delivery leased before it is due")
	}
	got := leaseD(t, s, later, time.Minute, 10)
	if len(got) != 1 || got[0].ID != re[0].ID {
		t.Fatalf("leased %+v, want the requeued delivery", got)
	}
	s.MarkDelivered(t.Context(), got[0].ID, got[0].Attempts, 200, later)

	// Named: b gets it although its filter does not match.
	re, err = s.RequeueEvent(t.Context(), p.ID, e.ID, b.ID, later)
	if err != nil || len(re) != 1 || re[0].WebhookID != b.ID {
		t.Fatalf("RequeueEvent to b = %+v, %v", re, err)
	}
	// It goes behind b's own queue.
	e2 := appendEvent(t, s, p.ID, "direct.user.update", later)
	_ = e2
	if q := queuedEvents(t, s, p.ID, b.ID); !slices.Equal(q, []string{e.ID, e2.ID}) {
		t.Errorf("b's queue = %v", q)
	}

	_, err = s.RequeueEvent(t.Context(), p.ID, newID("webhook-event"), "", later)
	wantErr(t, err, store.ErrNotFound, "RequeueEvent unknown event")
	_, err = s.RequeueEvent(t.Context(), p.ID, e.ID, newID("webhook"), later)
	wantErr(t, err, store.ErrNotFound, "RequeueEvent unknown webhook")
	// An event that went nowhere requeues to nothing.
	orphan := appendEvent(t, s, p.ID, "direct.session.create", later) // a only
	if err := s.DeleteWebhook(t.Context(), p.ID, a.ID, later); err != nil {
		t.Fatal(err)
	}
	re, err = s.RequeueEvent(t.Context(), p.ID, orphan.ID, "", later)
	if err != nil || re == nil || len(re) != 0 {
		t.Errorf("RequeueEvent to a deleted endpoint = %#v, %v; want empty", re, err)
	}
	_, err = s.RequeueEvent(t.Context(), p.ID, orphan.ID, a.ID, later)
	wantErr(t, err, store.ErrNotFound, "RequeueEvent to a named deleted webhook")
}

func testDeleteWebhook(t *testing.T, s store.Store) {
	p := createProject(t, s)
	gone := newWebhook(t, s, p.ID, base)
	kept := newWebhook(t, s, p.ID, base)
	appendEvent(t, s, p.ID, "direct.user.create", base)
	appendEvent(t, s, p.ID, "direct.user.create", base)
	inflight := leaseD(t, s, base, time.Minute, 10)
	if len(inflight) != 2 {
		t.Fatalf("leased %d, want 2", len(inflight))
	}
	if err := s.DeleteWebhook(t.Context(), p.ID, gone.ID, base); err != nil {
		t.Fatalf("DeleteWebhook: %v", err)
	}
	wantErr(t, s.DeleteWebhook(t.Context(), p.ID, gone.ID, base), store.ErrNotFound, "DeleteWebhook twice")
	_, err := s.GetWebhook(t.Context(), p.ID, gone.ID)
	wantErr(t, err, store.ErrNotFound, "GetWebhook deleted")
	list, _ := s.ListWebhooks(t.Context(), p.ID)
	if len(list) != 1 || list[0].ID != kept.ID {
		t.Errorf("ListWebhooks after delete = %+v", list)
	}
	for _, l := range inflight {
		err := s.MarkDelivered(t.Context(), l.ID, l.Attempts, 200, base)
		if l.WebhookID == gone.ID {
			wantErr(t, err, store.ErrConsumed, "MarkDelivered to a deleted webhook")
		} else if err != nil {
			t.Fatalf("MarkDelivered: %v", err)
		}
	}
	appendEvent(t, s, p.ID, "direct.user.create", base)
	for range 5 {
		for _, l := range leaseD(t, s, base.Add(time.Hour), time.Minute, 10) {
			if l.WebhookID == gone.ID {
				t.Fatalf("leased a delivery to a deleted webhook: %+v", l)
			}
			s.MarkDelivered(t.Context(), l.ID, l.Attempts, 200, base)
		}
	}
	ds := deliveries(t, s, p.ID, gone.ID)
	if len(ds) != 2 {
		t.Fatalf("deleted webhook lists %d deliveries, want its 2 old ones", len(ds))
	}
	for _, d := range ds {
		if d.Status != store.DeliveryCanceled {
			t.Errorf("delivery to the deleted webhook: status %s, want canceled", d.Status)
		}
	}
	if n := len(deliveries(t, s, p.ID, kept.ID)); n != 3 {
		t.Errorf("kept webhook has %d deliveries, want 3", n)
	}
}

func testWebhookIsolation(t *testing.T, s store.Store) {
	p := createProject(t, s)
	q := createProject(t, s)
	w := newWebhook(t, s, p.ID, base)
	e := appendEvent(t, s, p.ID, "direct.user.create", base)

	_, err := s.GetEvent(t.Context(), q.ID, e.ID)
	wantErr(t, err, store.ErrNotFound, "GetEvent from another project")
	_, err = s.GetWebhook(t.Context(), q.ID, w.ID)
	wantErr(t, err, store.ErrNotFound, "GetWebhook from another project")
	if l, _ := s.ListWebhooks(t.Context(), q.ID); len(l) != 0 {
		t.Errorf("ListWebhooks of another project = %d", len(l))
	}
	if l, _ := s.ListEvents(t.Context(), q.ID, 10); len(l) != 0 {
		t.Errorf("ListEvents of another project = %d", len(l))
	}
	if l := deliveries(t, s, q.ID, ""); len(l) != 0 {
		t.Errorf("ListDeliveries of another project = %d", len(l))
	}
	if l := deliveries(t, s, q.ID, w.ID); len(l) != 0 {
		t.Errorf("ListDeliveries of another project's webhook = %d", len(l))
	}
	wantErr(t, s.DeleteWebhook(t.Context(), q.ID, w.ID, base), store.ErrNotFound, "DeleteWebhook from another project")
	_, err = s.RequeueEvent(t.Context(), q.ID, e.ID, "", base)
	wantErr(t, err, store.ErrNotFound, "RequeueEvent from another project")
	// q's endpoint cannot be named for p's event either.
	qw := newWebhook(t, s, q.ID, base)
	_, err = s.RequeueEvent(t.Context(), p.ID, e.ID, qw.ID, base)
	wantErr(t, err, store.ErrNotFound, "RequeueEvent to another project's webhook")
	if _, err := s.GetWebhook(t.Context(), p.ID, w.ID); err != nil {
		t.Errorf("p's webhook after q's attempts: %v", err)
	}
}

// testConcurrentDeliveryLease races dispatchers over many endpoints: no
// delivery is leased twice, no endpoint ever has two in flight, and each
// endpoint's events are leased in the order they were appended.
func testConcurrentDeliveryLease(t *testing.T, s store.Store) {
	const endpoints, perEndpoint, workers = 12, 5, 4
	p := createProject(t, s)
	var hooks []string
	for range endpoints {
		hooks = append(hooks, newWebhook(t, s, p.ID, base).ID)
	}
	var order []string
	for i := range perEndpoint {
		order = append(order, appendEvent(t, s, p.ID, "direct.user.create", base.Add(time.Duration(i)*time.Millisecond)).ID)
	}

	var mu sync.Mutex
	inFlight := map[string]int64{} // webhook -> delivery
	got := map[string][]string{}   // webhook -> events in lease order
	leasedBy := map[int64]int{}    // delivery -> worker
	var problems []string
	now := base.Add(time.Second)
	race(workers, func(w int) {
		for idle := 0; idle < 50; {
			ls, err := s.LeaseDeliveries(t.Context(), now, time.Hour, 3)
			if err != nil {
				mu.Lock()
				problems = append(problems, fmt.Sprintf("worker %d: %v", w, err))
				mu.Unlock()
				return
			}
			if len(ls) == 0 {
				idle++
				time.Sleep(time.Millisecond)
				continue
			}
			idle = 0
			mu.Lock()
			for _, l := range ls {
				if prev, dup := leasedBy[l.ID]; dup {
					problems = append(problems, fmt.Sprintf("delivery %d leased by %d and %d", l.ID, prev, w))
				}
				leasedBy[l.ID] = w
				if other, busy := inFlight[l.WebhookID]; busy {
					problems = append(problems, fmt.Sprintf("webhook %s has %d and %d in flight", l.WebhookID, other, l.ID))
				}
				inFlight[l.WebhookID] = l.ID
				got[l.WebhookID] = append(got[l.WebhookID], l.EventID)
			}
			mu.Unlock()
			for _, l := range ls {
				mu.Lock()
				delete(inFlight, l.WebhookID)
				mu.Unlock()
				if err := s.MarkDelivered(t.Context(), l.ID, l.Attempts, 200, now); err != nil {
					mu.Lock()
					problems = append(problems, fmt.Sprintf("MarkDelivered %d: %v", l.ID, err))
					mu.Unlock()
				}
			}
		}
	})
	for _, pr := range problems {
		t.Error(pr)
	}
	for _, h := range hooks {
		if !slices.Equal(got[h], order) {
			t.Errorf("webhook %s got %v, want %v", h, got[h], order)
		}
	}
	if len(leasedBy) != endpoints*perEndpoint {
		t.Errorf("leased %d deliveries, want %d", len(leasedBy), endpoints*perEndpoint)
	}
}

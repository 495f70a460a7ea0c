package storetest

import (
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/store"
)

var outboxTests = []subtest{
	{"EnqueueAndList", testOutboxEnqueueList},
	{"LeaseDueMessages", testOutboxLease},
	{"LeaseExpiresAndReleases", testOutboxLeaseExpiry},
	{"LeaseHonoursLimit", testOutboxLeaseLimit},
	{"MarkSentScrubs", testOutboxMarkSentScrub},
	{"MarkSentKeeps", testOutboxMarkSentKeep},
	{"MarkFailedFinal", testOutboxMarkFailedFinal},
	{"MarkFailedRetries", testOutboxMarkFailedRetry},
	{"UnknownIDIsNotFound", testOutboxNotFound},
	{"ListNewestFirstFilteredLimited", testOutboxListMessages},
}

func newMessage(projectID, to string, created time.Time) *store.OutboxMessage {
	id := newID("message")
	return &store.OutboxMessage{
		ProjectID:   projectID,
		ID:          id,
		Channel:     "email",
		Provider:    "smtp",
		To:          to,
		Subject:     "Your login link",
		BodyText:    "Log in: https://app.example.com/authenticate?token=tok-" + id,
		BodyHTML:    `<p><a href="https://app.example.com/authenticate?token=tok-` + id + `">Log in</a></p>`,
		Link:        "https://app.example.com/authenticate?token=tok-" + id,
		Token:       "tok-" + id,
		Code:        "123456",
		Status:      "pending",
		NextAttempt: created,
		CreatedAt:   created,
	}
}

func enqueue(t *testing.T, s store.Store, m *store.OutboxMessage) *store.OutboxMessage {
	t.Helper()
	if err := s.EnqueueMessage(t.Context(), m); err != nil {
		t.Fatalf("EnqueueMessage: %v", err)
	}
	return m
}

func lease(t *testing.T, s store.Store, now time.Time, d time.Duration, n int) []store.OutboxMessage {
	t.Helper()
	got, err := s.LeaseMessages(t.Context(), now, d, n)
	if err != nil {
		t.Fatalf("LeaseMessages at %v: %v", now, err)
	}
	return got
}

// getMessage finds a message by id through ListMessages.
func getMessage(t *testing.T, s store.Store, projectID, id string) *store.OutboxMessage {
	t.Helper()
	list, err := s.ListMessages(t.Context(), projectID, "", 1000)
	if err != nil {
		t.Fatalf("ListMessages: %v", err)
	}
	for i := range list {
		if list[i].ID == id {
			return &list[i]
		}
	}
	t.Fatalf("message %s not listed", id)
	return nil
}

func messageIDs(ms []store.OutboxMessage) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

func testOutboxEnqueueList(t *testing.T, s store.Store) {
	p := createProject(t, s)
	m := newMessage(p.ID, "ada@example.com", base)
	m.Channel, m.Provider, m.To = "sms", "dev", "+14155550101"
	m.Subject, m.BodyHTML, m.Link, m.Token = "", "", "", ""
	m.BodyText = "Your code is 123456"
	enqueue(t, s, m)
	checkMessage(t, getMessage(t, s, p.ID, m.ID), m)

	dup := newMessage(p.ID, "ada@example.com", base)
	dup.ID = m.ID
	wantConflict(t, s.EnqueueMessage(t.Context(), dup), "", "EnqueueMessage duplicate id")
}

func testOutboxLease(t *testing.T, s store.Store) {
	p := createProject(t, s)
	due := enqueue(t, s, newMessage(p.ID, "a@example.com", base.Add(-time.Minute)))
	dueNow := enqueue(t, s, newMessage(p.ID, "b@example.com", base))
	future := newMessage(p.ID, "c@example.com", base)
	future.NextAttempt = base.Add(10 * time.Minute)
	enqueue(t, s, future)
	sent := newMessage(p.ID, "d@example.com", base.Add(-time.Hour))
	sent.Status, sent.SentAt = "sent", ptr(base.Add(-time.Hour))
	enqueue(t, s, sent)
	failed := newMessage(p.ID, "e@example.com", base.Add(-time.Hour))
	failed.Status, failed.Attempts, failed.LastError = "failed", 5, "550 mailbox unavailable"
	enqueue(t, s, failed)

	got := lease(t, s, base, time.Minute, 10)
	ids := messageIDs(got)
	sort.Strings(ids)
	want := []string{due.ID, dueNow.ID}
	sort.Strings(want)
	if !slices.Equal(ids, want) {
		t.Fatalf("leased %v, want %v", ids, want)
	}
	until := base.Add(time.Minute)
	for i := range got {
		m := &got[i]
		if m.Status != "sending" || m.Attempts != 1 || m.LeaseUntil == nil || !m.LeaseUntil.Equal(until) {
			t.Errorf("leased message status %q attempts %d lease %v; want sending, 1, %v", m.Status, m.Attempts, m.LeaseUntil, until)
		}
		// The lease is stored, not just reported.
		stored := getMessage(t, s, p.ID, m.ID)
		if stored.Status != "sending" || stored.Attempts != 1 || stored.LeaseUntil == nil || !stored.LeaseUntil.Equal(until) {
			t.Errorf("stored leased message status %q attempts %d lease %v", stored.Status, stored.Attempts, stored.LeaseUntil)
		}
		if m.ID == due.ID {
			want := *due
			want.Status, want.Attempts, want.LeaseUntil = "sending", 1, &until
			checkMessage(t, m, &want)
		}
	}

	// While leased, nothing is handed out again.
	if again := lease(t, s, base.Add(30*time.Second), time.Minute, 10); len(again) != 0 {
		t.Errorf("second lease before expiry returned %v", messageIDs(again))
	}
	checkMessage(t, getMessage(t, s, p.ID, sent.ID), sent)
	checkMessage(t, getMessage(t, s, p.ID, failed.ID), failed)
	checkMessage(t, getMessage(t, s, p.ID, future.ID), future)
	// Once due (and the first two delivered), the future message is leased.
	for _, id := range want {
		if err := s.MarkSent(t.Context(), id, base.Add(time.Second), false); err != nil {
			t.Fatalf("MarkSent: %v", err)
		}
	}
	if early := lease(t, s, future.NextAttempt.Add(-time.Microsecond), time.Minute, 10); len(early) != 0 {
		t.Errorf("lease before the future message is due = %v", messageIDs(early))
	}
	if got := lease(t, s, future.NextAttempt, time.Minute, 10); len(got) != 1 || got[0].ID != future.ID {
		t.Errorf("lease at the future message's next attempt = %v, want %s", messageIDs(got), future.ID)
	}
}

func testOutboxLeaseExpiry(t *testing.T, s store.Store) {
	p := createProject(t, s)
	m := enqueue(t, s, newMessage(p.ID, "a@example.com", base))
	got := lease(t, s, base, time.Minute, 10)
	if len(got) != 1 || got[0].ID != m.ID {
		t.Fatalf("first lease = %v", messageIDs(got))
	}
	if again := lease(t, s, base.Add(time.Minute-time.Microsecond), time.Minute, 10); len(again) != 0 {
		t.Fatalf("lease just before expiry returned %v", messageIDs(again))
	}
	// The worker died; after the lease runs out the message is taken again.
	later := base.Add(2 * time.Minute)
	got = lease(t, s, later, time.Minute, 10)
	if len(got) != 1 || got[0].ID != m.ID {
		t.Fatalf("lease after expiry = %v, want %s", messageIDs(got), m.ID)
	}
	if got[0].Attempts != 2 || got[0].Status != "sending" || got[0].LeaseUntil == nil || !got[0].LeaseUntil.Equal(later.Add(time.Minute)) {
		t.Errorf("re-leased message attempts %d status %q lease %v", got[0].Attempts, got[0].Status, got[0].LeaseUntil)
	}
	if again := lease(t, s, later.Add(30*time.Second), time.Minute, 10); len(again) != 0 {
		t.Errorf("lease during second lease returned %v", messageIDs(again))
	}
}

func testOutboxLeaseLimit(t *testing.T, s store.Store) {
	p := createProject(t, s)
	for i := range 5 {
		enqueue(t, s, newMessage(p.ID, fmt.Sprintf("u%d@example.com", i), base.Add(time.Duration(i)*time.Second)))
	}
	seen := map[string]bool{}
	for _, want := range []int{2, 2, 1, 0} {
		got := lease(t, s, base.Add(time.Minute), time.Hour, 2)
		if len(got) != want {
			t.Fatalf("lease of 2 returned %d, want %d", len(got), want)
		}
		for _, m := range got {
			if seen[m.ID] {
				t.Fatalf("message %s leased twice", m.ID)
			}
			seen[m.ID] = true
		}
	}
}

func testOutboxMarkSentScrub(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	m := enqueue(t, s, newMessage(p.ID, "a@example.com", base))
	lease(t, s, base, time.Minute, 10)
	at := base.Add(5 * time.Second)
	if err := s.MarkSent(ctx, m.ID, at, true); err != nil {
		t.Fatalf("MarkSent: %v", err)
	}
	got := getMessage(t, s, p.ID, m.ID)
	if got.Status != "sent" || got.SentAt == nil || !got.SentAt.Equal(at) {
		t.Errorf("after MarkSent: status %q sent_at %v", got.Status, got.SentAt)
	}
	if got.BodyText != "" || got.BodyHTML != "" || got.Link != "" || got.Token != "" || got.Code != "" {
		t.Errorf("scrubbed message still holds body %q html %q link %q token %q code %q",
			got.BodyText, got.BodyHTML, got.Link, got.Token, got.Code)
	}
	if got.To != m.To || got.Channel != m.Channel || got.Attempts != 1 {
		t.Errorf("scrub changed to/channel/attempts: %+v", got)
	}
	if again := lease(t, s, base.Add(time.Hour), time.Minute, 10); len(again) != 0 {
		t.Errorf("sent message leased again: %v", messageIDs(again))
	}
}

func testOutboxMarkSentKeep(t *testing.T, s store.Store) {
	p := createProject(t, s)
	m := enqueue(t, s, newMessage(p.ID, "a@example.com", base))
	lease(t, s, base, time.Minute, 10)
	at := base.Add(5 * time.Second)
	if err := s.MarkSent(t.Context(), m.ID, at, false); err != nil {
		t.Fatalf("MarkSent: %v", err)
	}
	got := getMessage(t, s, p.ID, m.ID)
	want := *m
	want.Status, want.Attempts, want.SentAt = "sent", 1, &at
	want.LeaseUntil = got.LeaseUntil // unspecified once sent
	checkMessage(t, got, &want)
	if again := lease(t, s, base.Add(time.Hour), time.Minute, 10); len(again) != 0 {
		t.Errorf("sent message leased again: %v", messageIDs(again))
	}
}

func testOutboxMarkFailedFinal(t *testing.T, s store.Store) {
	p := createProject(t, s)
	m := enqueue(t, s, newMessage(p.ID, "a@example.com", base))
	lease(t, s, base, time.Minute, 10)
	if err := s.MarkFailed(t.Context(), m.ID, "550 5.1.1 user unknown", base.Add(time.Minute), true); err != nil {
		t.Fatalf("MarkFailed: %v", err)
	}
	got := getMessage(t, s, p.ID, m.ID)
	if got.Status != "failed" || got.LastError != "550 5.1.1 user unknown" || got.SentAt != nil {
		t.Errorf("after final MarkFailed: status %q error %q sent %v", got.Status, got.LastError, got.SentAt)
	}
	if got.BodyText != "" || got.BodyHTML != "" || got.Link != "" || got.Token != "" || got.Code != "" {
		t.Errorf("a message that will never be sent kept its secrets: %+v", got)
	}
	for _, at := range []time.Time{base.Add(time.Minute), base.Add(2 * time.Minute), base.Add(24 * time.Hour)} {
		if again := lease(t, s, at, time.Minute, 10); len(again) != 0 {
			t.Errorf("failed message leased at %v: %v", at, messageIDs(again))
		}
	}
}

func testOutboxMarkFailedRetry(t *testing.T, s store.Store) {
	p := createProject(t, s)
	m := enqueue(t, s, newMessage(p.ID, "a@example.com", base))
	lease(t, s, base, time.Minute, 10)
	next := base.Add(5 * time.Minute)
	if err := s.MarkFailed(t.Context(), m.ID, "421 try again later", next, false); err != nil {
		t.Fatalf("MarkFailed: %v", err)
	}
	got := getMessage(t, s, p.ID, m.ID)
	if got.Status != "pending" || got.LastError != "421 try again later" || !got.NextAttempt.Equal(next) || got.Attempts != 1 ||
		got.Token != m.Token || got.BodyText != m.BodyText {
		t.Errorf("after retryable MarkFailed: status %q error %q next %v attempts %d", got.Status, got.LastError, got.NextAttempt, got.Attempts)
	}
	// Not before next_attempt, even though the old lease has long expired.
	if early := lease(t, s, next.Add(-time.Microsecond), time.Minute, 10); len(early) != 0 {
		t.Errorf("leased before next attempt: %v", messageIDs(early))
	}
	retry := lease(t, s, next, time.Minute, 10)
	if len(retry) != 1 || retry[0].ID != m.ID || retry[0].Attempts != 2 || retry[0].LastError != "421 try again later" {
		t.Fatalf("lease at next attempt = %+v", retry)
	}
}

func testOutboxNotFound(t *testing.T, s store.Store) {
	id := newID("message")
	wantErr(t, s.MarkSent(t.Context(), id, base, true), store.ErrNotFound, "MarkSent unknown")
	wantErr(t, s.MarkSent(t.Context(), id, base, false), store.ErrNotFound, "MarkSent unknown")
	wantErr(t, s.MarkFailed(t.Context(), id, "x", base, true), store.ErrNotFound, "MarkFailed unknown")
	wantErr(t, s.MarkFailed(t.Context(), id, "x", base, false), store.ErrNotFound, "MarkFailed unknown")
	if got := lease(t, s, base, time.Minute, 10); len(got) != 0 {
		t.Errorf("empty outbox leased %v", messageIDs(got))
	}
}

func testOutboxListMessages(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := createProject(t, s), createProject(t, s)
	var toAda, all []*store.OutboxMessage
	for i := range 6 {
		to := "ada@example.com"
		if i%2 == 1 {
			to = "bob@example.com"
		}
		m := enqueue(t, s, newMessage(p.ID, to, base.Add(time.Duration(i)*time.Minute)))
		all = append(all, m)
		if to == "ada@example.com" {
			toAda = append(toAda, m)
		}
	}
	enqueue(t, s, newMessage(other.ID, "ada@example.com", base.Add(time.Hour)))

	newestFirst := func(ms []*store.OutboxMessage) []string {
		ids := make([]string, len(ms))
		for i, m := range ms {
			ids[len(ms)-1-i] = m.ID
		}
		return ids
	}
	check := func(to string, limit int, want []string) {
		t.Helper()
		got, err := s.ListMessages(ctx, p.ID, to, limit)
		if err != nil {
			t.Fatalf("ListMessages(%q, %d): %v", to, limit, err)
		}
		if !slices.Equal(messageIDs(got), want) {
			t.Errorf("ListMessages(%q, %d) = %v, want %v", to, limit, messageIDs(got), want)
		}
	}
	check("", 100, newestFirst(all))
	check("", 4, newestFirst(all)[:4])
	check("ada@example.com", 100, newestFirst(toAda))
	check("ada@example.com", 2, newestFirst(toAda)[:2])
	check("nobody@example.com", 100, []string{})

	got, err := s.ListMessages(ctx, p.ID, "ada@example.com", 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("ListMessages limit 1 = %d, %v", len(got), err)
	}
	checkMessage(t, &got[0], toAda[len(toAda)-1])
}

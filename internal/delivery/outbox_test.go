package delivery_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/delivery"
	"github.com/latchhq/latch/internal/projects"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/store/sqlstore"
	"github.com/latchhq/latch/internal/tenant"
)

// slowProvider takes a whole half lease per message, as a sick SMTP server
// would.
type slowProvider struct {
	clock *clock.Fake
	by    time.Duration
	sent  []string
}

func (p *slowProvider) Send(_ context.Context, m *store.OutboxMessage) error {
	p.clock.Advance(p.by)
	p.sent = append(p.sent, m.ID)
	return nil
}
func (p *slowProvider) Keeps() bool { return false }

// A worker must not start a send its lease may not outlast: another
// replica takes the message when the lease lapses, and both would send it.
func TestWorkerStopsABatchBeforeItsLeaseCanLapse(t *testing.T) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	proj, err := projects.New(st, clk).Create(ctx, "p", tenant.Consumer, tenant.Live)
	if err != nil {
		t.Fatal(err)
	}
	p := tenant.Project{ID: proj.ProjectID, Environment: tenant.Live, Vertical: tenant.Consumer}
	outbox := delivery.NewOutbox(clk, "slow")
	var queued []string
	for _, to := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		id, err := outbox.EnqueueEmail(ctx, st, p, delivery.Email{To: to, Rendered: delivery.Rendered{Subject: "s", Text: "t", HTML: "h"}})
		if err != nil {
			t.Fatal(err)
		}
		queued = append(queued, id)
	}
	const lease = 10 * time.Second
	slow := &slowProvider{clock: clk, by: lease/2 + time.Second}
	w := &delivery.Worker{Store: st, Outbox: outbox, Providers: map[string]delivery.Provider{"slow": slow}, Clock: clk,
		Log: slog.New(slog.DiscardHandler), Poll: time.Hour, Lease: lease, MaxAttempts: 3}

	if n := w.Batch(ctx); n != 1 || len(slow.sent) != 1 {
		t.Fatalf("first batch handled %d, sent %v; want one send, then stop", n, slow.sent)
	}
	// The other two are still leased: nobody may take them yet.
	if n := w.Batch(ctx); n != 0 {
		t.Fatalf("a batch inside the lease took %d messages", n)
	}
	clk.Advance(lease)
	if n := w.Batch(ctx); n != 1 || len(slow.sent) != 2 {
		t.Fatalf("after the lease lapsed: handled %d, sent %v", n, slow.sent)
	}
	clk.Advance(lease)
	if n := w.Batch(ctx); n != 1 || len(slow.sent) != 3 {
		t.Fatalf("after the next lapse: handled %d, sent %v", n, slow.sent)
	}
	seen := map[string]int{}
	for _, id := range slow.sent {
		seen[id]++
	}
	for _, id := range queued {
		if seen[id] != 1 {
			t.Errorf("message %s sent %d times", id, seen[id])
		}
	}
}

// Messages the dev provider keeps are settled together, in the batch that
// leased them, next to ones a real provider sends one by one.
func TestWorkerSettlesKeptMessagesTogether(t *testing.T) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	var ps []tenant.Project
	for _, env := range []tenant.Environment{tenant.Test, tenant.Live} {
		c, err := projects.New(st, clk).Create(ctx, "p", tenant.Consumer, env)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, tenant.Project{ID: c.ProjectID, Environment: env, Vertical: tenant.Consumer})
	}
	outbox := delivery.NewOutbox(clk, "slow")
	for i := range 12 {
		if _, err := outbox.EnqueueEmail(ctx, st, ps[i%2], delivery.Email{To: "a@example.com", Rendered: delivery.Rendered{Subject: "s", Text: "t", HTML: "h"}}); err != nil {
			t.Fatal(err)
		}
	}
	slow := &slowProvider{clock: clk, by: time.Millisecond}
	w := &delivery.Worker{Store: st, Outbox: outbox, Providers: map[string]delivery.Provider{"dev": delivery.Dev{}, "slow": slow}, Clock: clk,
		Log: slog.New(slog.DiscardHandler), Poll: time.Hour, Lease: time.Minute, MaxAttempts: 3}
	if n := w.Batch(ctx); n != 12 || len(slow.sent) != 6 {
		t.Fatalf("batch handled %d with %d real sends; want 12, 6 of them real", n, len(slow.sent))
	}
	for _, p := range ps {
		msgs, err := st.ListMessages(ctx, p.ID, "a@example.com", 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Status != "sent" || m.SentAt == nil {
				t.Errorf("%s message %s is %s", p.Environment, m.ID, m.Status)
			}
		}
		if len(msgs) != 6 {
			t.Errorf("%s project has %d messages", p.Environment, len(msgs))
		}
	}
}

// gatedProvider holds every send until released, counting how many are in
// flight at once.
type gatedProvider struct {
	mu            sync.Mutex
	inFlight, max int
	started       chan struct{}
	release       chan struct{}
}

func (p *gatedProvider) Send(context.Context, *store.OutboxMessage) error {
	p.mu.Lock()
	p.inFlight++
	p.max = max(p.max, p.inFlight)
	p.mu.Unlock()
	p.started <- struct{}{}
	<-p.release
	p.mu.Lock()
	p.inFlight--
	p.mu.Unlock()
	return nil
}
func (p *gatedProvider) Keeps() bool { return false }

// Real sends run Concurrency at a time, never more.
func TestWorkerSendsConcurrently(t *testing.T) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	c, err := projects.New(st, clk).Create(ctx, "p", tenant.Consumer, tenant.Live)
	if err != nil {
		t.Fatal(err)
	}
	p := tenant.Project{ID: c.ProjectID, Environment: tenant.Live, Vertical: tenant.Consumer}
	outbox := delivery.NewOutbox(clk, "gated")
	for range 8 {
		if _, err := outbox.EnqueueEmail(ctx, st, p, delivery.Email{To: "a@example.com", Rendered: delivery.Rendered{Subject: "s", Text: "t", HTML: "h"}}); err != nil {
			t.Fatal(err)
		}
	}
	gp := &gatedProvider{started: make(chan struct{}, 8), release: make(chan struct{})}
	w := &delivery.Worker{Store: st, Outbox: outbox, Providers: map[string]delivery.Provider{"gated": gp}, Clock: clk,
		Log: slog.New(slog.DiscardHandler), Poll: time.Hour, Lease: time.Minute, MaxAttempts: 3, Concurrency: 3}
	done := make(chan int)
	go func() { done <- w.Batch(ctx) }()
	for i := range 3 {
		select {
		case <-gp.started:
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d sends started; want 3 at once", i)
		}
	}
	close(gp.release)
	if n := <-done; n != 8 {
		t.Fatalf("batch handled %d, want 8", n)
	}
	if gp.max != 3 {
		t.Fatalf("at most %d sends ran at once, want 3", gp.max)
	}
	msgs, _ := st.ListMessages(ctx, p.ID, "a@example.com", 100)
	for _, m := range msgs {
		if m.Status != "sent" {
			t.Errorf("message %s is %s", m.ID, m.Status)
		}
	}
}

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

// fixture is a fresh SQLite store, a fake clock and an outbox whose live
// email goes to provider.
type fixture struct {
	st     *sqlstore.Store
	clk    *clock.Fake
	outbox *delivery.Outbox
}

func newFixture(t *testing.T, provider string) *fixture {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	return &fixture{st: st, clk: clk, outbox: delivery.NewOutbox(clk, provider)}
}

func (f *fixture) project(t *testing.T, env tenant.Environment) tenant.Project {
	t.Helper()
	c, err := projects.New(f.st, f.clk).Create(context.Background(), "p", tenant.Consumer, env)
	if err != nil {
		t.Fatal(err)
	}
	return tenant.Project{ID: c.ProjectID, Environment: env, Vertical: tenant.Consumer}
}

// queue enqueues one email to each address and returns the message ids.
func (f *fixture) queue(t *testing.T, p tenant.Project, to ...string) []string {
	t.Helper()
	var ids []string
	for _, addr := range to {
		id, err := f.outbox.EnqueueEmail(context.Background(), f.st, p, delivery.Email{To: addr, Rendered: delivery.Rendered{Subject: "s", Text: "t", HTML: "h"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func (f *fixture) worker(providers map[string]delivery.Provider, lease time.Duration, concurrency int) *delivery.Worker {
	return &delivery.Worker{Store: f.st, Outbox: f.outbox, Providers: providers, Clock: f.clk,
		Log: slog.New(slog.DiscardHandler), Poll: time.Hour, Lease: lease, MaxAttempts: 3, Concurrency: concurrency}
}

// A worker must not start a send its lease may not outlast: another
// replica takes the message when the lease lapses, and both would send it.
func TestWorkerStopsABatchBeforeItsLeaseCanLapse(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "slow")
	clk := f.clk
	queued := f.queue(t, f.project(t, tenant.Live), "a@example.com", "b@example.com", "c@example.com")
	const lease = 10 * time.Second
	slow := &slowProvider{clock: clk, by: lease/2 + time.Second}
	w := f.worker(map[string]delivery.Provider{"slow": slow}, lease, 0)

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
	f := newFixture(t, "slow")
	ps := []tenant.Project{f.project(t, tenant.Test), f.project(t, tenant.Live)}
	for i := range 12 {
		f.queue(t, ps[i%2], "a@example.com")
	}
	st := f.st
	slow := &slowProvider{clock: f.clk, by: time.Millisecond}
	w := f.worker(map[string]delivery.Provider{"dev": delivery.Dev{}, "slow": slow}, time.Minute, 0)
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
	f := newFixture(t, "gated")
	p := f.project(t, tenant.Live)
	f.queue(t, p, "a@example.com", "a@example.com", "a@example.com", "a@example.com", "a@example.com", "a@example.com", "a@example.com", "a@example.com")
	st := f.st
	gp := &gatedProvider{started: make(chan struct{}, 8), release: make(chan struct{})}
	w := f.worker(map[string]delivery.Provider{"gated": gp}, time.Minute, 3)
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

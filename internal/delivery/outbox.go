// Package delivery owns outgoing messages: built-in templates, the outbox
// written in the same transaction as the token a message carries, the
// worker that delivers it with retries, the providers (dev, SMTP) and the
// dev outbox API that lets tests read links and codes without a mailbox.
package delivery

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/ids"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
)

// Provider delivers one message.
type Provider interface {
	Send(ctx context.Context, m *store.OutboxMessage) error
	// Keeps reports whether the message bodies stay readable after delivery
	// (the dev provider) or are scrubbed (real providers).
	Keeps() bool
}

// PermanentError marks a delivery failure retrying cannot fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Dev keeps messages in the outbox for the dev outbox API; nothing leaves.
type Dev struct{}

func (Dev) Send(context.Context, *store.OutboxMessage) error { return nil }
func (Dev) Keeps() bool                                      { return true }

// Outbox queues messages and wakes the worker.
type Outbox struct {
	clock clock.Clock
	// EmailProvider is the provider name used for live projects' email;
	// empty means none is configured and live sends are refused.
	EmailProvider string
	// TextProvider is the provider name used for live projects' SMS and
	// WhatsApp; empty means none is configured.
	TextProvider string
	wake         chan struct{}
}

// NewOutbox returns an outbox.
func NewOutbox(c clock.Clock, emailProvider string) *Outbox {
	return &Outbox{clock: c, EmailProvider: emailProvider, wake: make(chan struct{}, 1)}
}

// Email is a message to queue.
type Email struct {
	To       string
	Rendered Rendered
	Link     string
	Token    string
	Code     string
}

// Text is an SMS or WhatsApp message to queue.
type Text struct {
	Channel string // sms or whatsapp
	To      string // E.164
	Body    string
	Code    string
}

// EnqueueText writes an SMS or WhatsApp message to the outbox inside st.
func (o *Outbox) EnqueueText(ctx context.Context, st store.Store, p tenant.Project, t Text) (string, error) {
	provider := "dev"
	if !p.IsTest() {
		if o.TextProvider == "" {
			return "", apierr.SMSProviderNotConfigured
		}
		provider = o.TextProvider
	}
	now := o.clock.Now()
	m := &store.OutboxMessage{
		ProjectID: p.ID, ID: ids.New(ids.OutboxMsg, p.Environment), Channel: t.Channel, Provider: provider,
		To: t.To, BodyText: t.Body, Code: t.Code, Status: "pending", NextAttempt: now, CreatedAt: now,
	}
	if err := st.EnqueueMessage(ctx, m); err != nil {
		return "", err
	}
	return m.ID, nil
}

// EnqueueEmail writes an email to the outbox inside st (the caller's
// transaction). Test projects use the dev provider; live projects need a
// configured real one.
func (o *Outbox) EnqueueEmail(ctx context.Context, st store.Store, p tenant.Project, e Email) (string, error) {
	provider := "dev"
	if !p.IsTest() {
		if o.EmailProvider == "" {
			return "", apierr.EmailProviderNotConfigured
		}
		provider = o.EmailProvider
	}
	now := o.clock.Now()
	m := &store.OutboxMessage{
		ProjectID:   p.ID,
		ID:          ids.New(ids.OutboxMsg, p.Environment),
		Channel:     "email",
		Provider:    provider,
		To:          e.To,
		Subject:     e.Rendered.Subject,
		BodyText:    e.Rendered.Text,
		BodyHTML:    e.Rendered.HTML,
		Link:        e.Link,
		Token:       e.Token,
		Code:        e.Code,
		Status:      "pending",
		NextAttempt: now,
		CreatedAt:   now,
	}
	if err := st.EnqueueMessage(ctx, m); err != nil {
		return "", err
	}
	return m.ID, nil
}

// Wake tells the worker new messages are committed.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Worker delivers outbox messages. On PostgreSQL every replica runs one;
// leases keep them from sending a message twice.
type Worker struct {
	Store     store.Store
	Outbox    *Outbox
	Providers map[string]Provider
	Clock     clock.Clock
	Log       *slog.Logger
	// Poll is how often the worker looks for due messages without a wake-up.
	Poll        time.Duration
	Lease       time.Duration
	MaxAttempts int
	// Concurrency is how many real-provider sends run at once (each its
	// own SMTP conversation or HTTP call); zero means one.
	Concurrency int
}

// Run delivers until ctx is cancelled, then returns after the current batch.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.Poll)
	defer t.Stop()
	for {
		for w.batch(ctx) > 0 && ctx.Err() == nil {
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.Outbox.wake:
		}
	}
}

func (w *Worker) batch(ctx context.Context) int {
	leased := w.Clock.Now()
	msgs, err := w.Store.LeaseMessages(ctx, leased, w.Lease, 20)
	if err != nil {
		if ctx.Err() == nil {
			w.Log.Warn("outbox lease failed", "err", err)
		}
		return 0
	}
	sendCtx := context.WithoutCancel(ctx)
	rest := w.keepAll(sendCtx, msgs)
	handled := len(msgs) - len(rest)
	slots := make(chan struct{}, max(1, w.Concurrency))
	var wg sync.WaitGroup
	for i := range rest {
		slots <- struct{}{}
		// A send may take up to Lease/2; one started later could still be
		// running when the lease lapses and another replica takes the
		// message, and both would send it. The rest wait for their lease
		// to lapse and go to whichever worker leases them next.
		if w.Clock.Now().Sub(leased) > w.Lease/2 {
			<-slots
			w.Log.Info("outbox batch outlived half its lease; leaving the rest for a later lease", "left", len(rest)-i)
			break
		}
		handled++
		wg.Add(1)
		go func(m *store.OutboxMessage) {
			defer func() { <-slots; wg.Done() }()
			w.deliver(sendCtx, m)
		}(&rest[i])
	}
	wg.Wait()
	return handled
}

// keepAll settles the batch's messages for providers that keep them in
// the outbox (dev): nothing leaves the machine, so one transaction marks
// them all, where one per message would queue each behind request writes
// on SQLite's single writer. It returns the messages still to deliver.
func (w *Worker) keepAll(ctx context.Context, msgs []store.OutboxMessage) []store.OutboxMessage {
	var kept []*store.OutboxMessage
	rest := msgs[:0:0]
	for i := range msgs {
		if p, ok := w.Providers[msgs[i].Provider]; ok && p.Keeps() && p.Send(ctx, &msgs[i]) == nil {
			kept = append(kept, &msgs[i])
		} else {
			rest = append(rest, msgs[i])
		}
	}
	if len(kept) == 0 {
		return rest
	}
	now := w.Clock.Now()
	err := w.Store.Tx(ctx, func(tx store.Store) error {
		for _, m := range kept {
			if err := tx.MarkSent(ctx, m.ID, now, false); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// Their leases lapse and a later batch settles them.
		w.Log.Error("outbox mark kept messages sent", "count", len(kept), "err", err)
	}
	return rest
}

func (w *Worker) deliver(ctx context.Context, m *store.OutboxMessage) {
	p, ok := w.Providers[m.Provider]
	var err error
	if !ok {
		err = &PermanentError{Err: errors.New("provider " + m.Provider + " is not configured")}
	} else {
		sendCtx, cancel := context.WithTimeout(ctx, w.Lease/2)
		err = p.Send(sendCtx, m)
		cancel()
	}
	now := w.Clock.Now()
	if err == nil {
		if err := w.Store.MarkSent(ctx, m.ID, now, !p.Keeps()); err != nil {
			w.Log.Error("outbox mark sent", "message_id", m.ID, "err", err)
		}
		return
	}
	var perm *PermanentError
	final := errors.As(err, &perm) || m.Attempts >= w.MaxAttempts
	// Exponential backoff from 2s, capped at 1h.
	backoff := time.Duration(math.Min(float64(time.Hour), float64(2*time.Second)*math.Pow(2, float64(m.Attempts-1))))
	w.Log.Warn("outbox delivery failed", "message_id", m.ID, "provider", m.Provider, "attempt", m.Attempts, "final", final, "err", err)
	if err := w.Store.MarkFailed(ctx, m.ID, err.Error(), now.Add(backoff), final); err != nil {
		w.Log.Error("outbox mark failed", "message_id", m.ID, "err", err)
	}
}

package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/store"
)

// Dispatcher defaults.
const (
	DefaultPoll        = time.Second
	DefaultTimeout     = 10 * time.Second
	DefaultLease       = time.Minute
	DefaultMaxAttempts = 20
	DefaultBaseBackoff = 5 * time.Second
	DefaultMaxBackoff  = time.Hour
	DefaultJitter      = 0.2
	DefaultConcurrency = 8
)

// Dispatcher delivers queued webhook deliveries. Every replica may run
// one: a delivery is leased before it is sent, and its outcome is written
// only by the attempt that holds the lease, so dispatchers in any number
// of processes never send one attempt twice. Delivery is at least once: a
// dispatcher that dies mid-send leaves a lease that expires, and the next
// one sends again with the same webhook-id.
//
// Zero fields take the Default* values; set them before Run.
type Dispatcher struct {
	Store  store.WebhookStore
	Sealer *secrets.Sealer
	Clock  clock.Clock
	// Client sends the requests. Redirects are never followed (a 3xx is a
	// failed attempt), whatever the client's own CheckRedirect says.
	Client *http.Client
	Log    *slog.Logger

	// Poll is how often Run looks for due deliveries without a Notify.
	Poll time.Duration
	// Timeout bounds one attempt (connect, send, response headers and
	// the first KiB of body).
	Timeout time.Duration
	// Lease is how long an attempt owns its delivery; at least 2*Timeout.
	Lease time.Duration
	// MaxAttempts is the cap: the delivery fails for good after it, and
	// the endpoint's next delivery goes.
	MaxAttempts int
	// After attempt n fails, the next waits
	// min(BaseBackoff*2^(n-1), MaxBackoff), plus up to Jitter of it.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// Jitter is a fraction in [0, 1]; negative means none.
	Jitter float64
	// Concurrency is how many attempts run at once (each to a different
	// endpoint: an endpoint has at most one in flight).
	Concurrency int

	once   sync.Once
	wake   chan struct{}
	client *http.Client
}

// NewDispatcher returns a dispatcher with the default settings. log may
// be nil (logs are discarded).
func NewDispatcher(st store.WebhookStore, sealer *secrets.Sealer, c clock.Clock, log *slog.Logger) *Dispatcher {
	return &Dispatcher{Store: st, Sealer: sealer, Clock: c, Log: log}
}

func (d *Dispatcher) init() {
	d.once.Do(func() {
		if d.Clock == nil {
			d.Clock = clock.System{}
		}
		if d.Log == nil {
			d.Log = slog.New(slog.DiscardHandler)
		}
		if d.Poll <= 0 {
			d.Poll = DefaultPoll
		}
		if d.Timeout <= 0 {
			d.Timeout = DefaultTimeout
		}
		if d.Lease <= 0 {
			d.Lease = DefaultLease
		}
		if d.Lease < 2*d.Timeout {
			d.Lease = 2 * d.Timeout
		}
		if d.MaxAttempts <= 0 {
			d.MaxAttempts = DefaultMaxAttempts
		}
		if d.BaseBackoff <= 0 {
			d.BaseBackoff = DefaultBaseBackoff
		}
		if d.MaxBackoff <= 0 {
			d.MaxBackoff = DefaultMaxBackoff
		}
		if d.Jitter == 0 {
			d.Jitter = DefaultJitter
		}
		if d.Jitter < 0 {
			d.Jitter = 0
		}
		if d.Jitter > 1 {
			d.Jitter = 1
		}
		if d.Concurrency <= 0 {
			d.Concurrency = DefaultConcurrency
		}
		c := &http.Client{}
		if d.Client != nil {
			copied := *d.Client
			c = &copied
		}
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		d.client = c
		d.wake = make(chan struct{}, 1)
	})
}

// Notify tells Run that deliveries were queued (after the transaction
// that appended events commits), so they go out without waiting for the
// next poll. It never blocks.
func (d *Dispatcher) Notify() {
	d.init()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Backoff is the wait after failed attempt n (1-based), before jitter.
func (d *Dispatcher) Backoff(attempt int) time.Duration {
	d.init()
	b := d.BaseBackoff
	for i := 1; i < attempt && b < d.MaxBackoff; i++ {
		b *= 2
	}
	return min(b, d.MaxBackoff)
}

func (d *Dispatcher) nextAttempt(now time.Time, attempt int) time.Time {
	b := d.Backoff(attempt)
	if d.Jitter > 0 {
		b += time.Duration(rand.Float64() * d.Jitter * float64(b))
	}
	return now.Add(b)
}

// Run delivers until ctx is cancelled, then waits for the attempts in
// flight (each bounded by Timeout) to finish and be recorded.
func (d *Dispatcher) Run(ctx context.Context) {
	d.init()
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, d.Concurrency)
	done := make(chan struct{}, 1)
	t := time.NewTicker(d.Poll)
	defer t.Stop()
	for {
		// Fill the free slots; a finished attempt may have freed its
		// endpoint's next delivery, so completions loop back here too.
		for ctx.Err() == nil {
			free := cap(slots) - len(slots)
			if free == 0 {
				break
			}
			leased, err := d.Store.LeaseDeliveries(ctx, d.Clock.Now(), d.Lease, free)
			if err != nil {
				if ctx.Err() == nil {
					d.Log.Warn("webhook lease failed", "err", err)
				}
				break
			}
			for i := range leased {
				slots <- struct{}{}
				wg.Add(1)
				go func(l *store.LeasedDelivery) {
					defer wg.Done()
					d.attempt(context.WithoutCancel(ctx), l)
					<-slots
					select {
					case done <- struct{}{}:
					default:
					}
				}(&leased[i])
			}
			if len(leased) < free {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.wake:
		case <-done:
		}
	}
}

// DeliverDue leases the deliveries due now (up to Concurrency), attempts
// them concurrently and returns how many it attempted once all are
// recorded. Run is the long-running form; this one suits tests and tools.
func (d *Dispatcher) DeliverDue(ctx context.Context) (int, error) {
	d.init()
	leased, err := d.Store.LeaseDeliveries(ctx, d.Clock.Now(), d.Lease, d.Concurrency)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for i := range leased {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.attempt(context.WithoutCancel(ctx), &leased[i])
		}()
	}
	wg.Wait()
	return len(leased), nil
}

// attempt sends one leased delivery and records the outcome.
func (d *Dispatcher) attempt(ctx context.Context, l *store.LeasedDelivery) {
	status, err := d.send(ctx, l)
	now := d.Clock.Now()
	log := d.Log.With("webhook_id", l.WebhookID, "delivery_id", l.ID, "event_id", l.EventID, "event_type", l.EventType, "attempt", l.Attempts)
	if err == nil {
		if err := d.Store.MarkDelivered(ctx, l.ID, l.Attempts, status, now); err != nil {
			d.markError(log, err)
			return
		}
		log.Debug("webhook delivered", "status", status)
		return
	}
	final := l.Attempts >= d.MaxAttempts
	next := now
	if !final {
		next = d.nextAttempt(now, l.Attempts)
	}
	log.Warn("webhook delivery failed", "status", status, "final", final, "next_attempt", next, "err", err.Error())
	if err := d.Store.MarkDeliveryFailed(ctx, l.ID, l.Attempts, err.Error(), status, next, final); err != nil {
		d.markError(log, err)
	}
}

func (d *Dispatcher) markError(log *slog.Logger, err error) {
	if errors.Is(err, store.ErrConsumed) {
		// The lease expired and another attempt took over, or the
		// endpoint was deleted meanwhile.
		log.Info("webhook attempt outcome dropped: lease lost")
		return
	}
	log.Error("webhook delivery not recorded", "err", err)
}

// send POSTs the event. It returns the HTTP status (0 when none came) and
// nil only for a 2xx. Errors never carry the URL: its query may hold a
// receiver's token.
func (d *Dispatcher) send(ctx context.Context, l *store.LeasedDelivery) (int, error) {
	key, err := d.Sealer.Open(l.Secret, secretAAD(l.ProjectID, l.WebhookID))
	if err != nil {
		return 0, errors.New("cannot open the endpoint's signing secret (is the master key the one it was created with?)")
	}
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.URL, bytes.NewReader(l.Payload))
	if err != nil {
		return 0, errors.New("bad endpoint URL")
	}
	SetHeaders(req.Header, key, l.EventID, d.Clock.Now(), l.Payload)
	resp, err := d.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, fmt.Errorf("timed out after %s", d.Timeout)
		}
		return 0, err
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, nil
	}
	msg := "HTTP " + resp.Status
	if s := printable(excerpt, 200); s != "" {
		msg += ": " + s
	}
	return resp.StatusCode, errors.New(msg)
}

// printable keeps the first n runes of b, control characters replaced.
func printable(b []byte, n int) string {
	var sb strings.Builder
	for _, r := range strings.TrimSpace(string(b)) {
		if n == 0 {
			sb.WriteString("…")
			break
		}
		if unicode.IsControl(r) {
			r = ' '
		}
		sb.WriteRune(r)
		n--
	}
	return sb.String()
}

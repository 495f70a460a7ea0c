package webhooks

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/events"
	"github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/store/sqlstore"
	"github.com/latchhq/latch/internal/tenant"
)

// ---- fixture ----

type fixture struct {
	st      *sqlstore.Store
	dbPath  string
	sealer  *secrets.Sealer
	clock   *clock.Fake
	svc     *Service
	project tenant.Project
}

func newSealer(t *testing.T) *secrets.Sealer {
	t.Helper()
	s, err := secrets.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newFixture opens a fresh SQLite store with one project of env. The
// clock starts at the real time so signatures pass the receiver's
// timestamp tolerance until a test moves it.
func newFixture(t *testing.T, env tenant.Environment) *fixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "latch.db")
	st, err := sqlstore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, dbPath: path, sealer: newSealer(t), clock: clock.NewFake(time.Now().Truncate(time.Microsecond))}
	f.svc = NewService(st, f.sealer, f.clock)
	f.project = createProject(t, st, env, f.clock.Now())
	return f
}

var projectN int

func createProject(t *testing.T, st store.Store, env tenant.Environment, now time.Time) tenant.Project {
	t.Helper()
	projectN++
	p := tenant.Project{ID: fmt.Sprintf("project-%s-00000000-0000-4000-8000-%012d", env, projectN), Environment: env, Vertical: tenant.Consumer}
	if err := st.CreateProject(context.Background(), &store.Project{ID: p.ID, Name: "Acme", Vertical: "consumer", Environment: string(env),
		SecretHash: "h", PublicToken: "public-token-" + p.ID, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) dispatcher() *Dispatcher {
	d := NewDispatcher(f.st, f.sealer, f.clock, nil)
	d.Jitter = -1
	d.Timeout = 5 * time.Second
	return d
}

// emit appends an event the way a service does: inside a transaction.
func (f *fixture) emit(t *testing.T, typ, objectID string) *store.Event {
	t.Helper()
	e, err := events.Build(f.project, f.clock.Now(), typ, objectID, map[string]any{"user_id": objectID})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.Tx(context.Background(), func(tx store.Store) error { return tx.AppendEvent(context.Background(), e) }); err != nil {
		t.Fatal(err)
	}
	return e
}

func (f *fixture) deliveries(t *testing.T, webhookID string) []Delivery {
	t.Helper()
	ds, err := f.svc.Deliveries(context.Background(), f.project.ID, webhookID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// waitFor polls cond (reading the store, or the receiver) until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// ---- receiver ----

// receipt is one request as the receiver saw and verified it.
type receipt struct {
	msgID, eventID, eventType string
	timestamp                 int64
	answered                  int
	body                      []byte
}

// receiver verifies every request on its own: the Standard Webhooks
// library for webhook-* and svix-* headers, crypto/hmac for
// stytch-signature. A request failing any check is answered 400 and fails
// the test.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	// strictTime makes the library check the timestamp against the real
	// clock; tests that move the fake clock far turn it off.
	strictTime bool
	answer     func(n int) int // status for the n-th request (0-based)
	hook       func()          // runs first in every request when set
	got        []receipt
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, strictTime: true, answer: func(int) int { return http.StatusNoContent }}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) setSecret(s string) {
	r.mu.Lock()
	r.secret = s
	r.mu.Unlock()
}

func (r *receiver) setAnswer(fn func(n int) int) {
	r.mu.Lock()
	r.answer = fn
	r.mu.Unlock()
}

func (r *receiver) fail(w http.ResponseWriter, format string, args ...any) {
	r.t.Errorf("receiver: "+format, args...)
	http.Error(w, "bad request", http.StatusBadRequest)
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	hook := r.hook
	r.mu.Unlock()
	if hook != nil {
		hook()
	}
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	secret, strict, answer := r.secret, r.strictTime, r.answer
	r.mu.Unlock()
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
		r.fail(w, "method %s content type %q", req.Method, req.Header.Get("Content-Type"))
		return
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		r.fail(w, "NewWebhook(%q): %v", secret, err)
		return
	}
	verify := wh.VerifyIgnoringTimestamp
	if strict {
		verify = wh.Verify
	}
	if err := verify(body, req.Header); err != nil {
		r.fail(w, "webhook-* headers do not verify: %v", err)
		return
	}
	// The svix-* twins, checked by the same library under its header names.
	svix := http.Header{}
	svix.Set("webhook-id", req.Header.Get("svix-id"))
	svix.Set("webhook-timestamp", req.Header.Get("svix-timestamp"))
	svix.Set("webhook-signature", req.Header.Get("svix-signature"))
	if err := verify(body, svix); err != nil {
		r.fail(w, "svix-* headers do not verify: %v", err)
		return
	}
	// stytch-signature: hex HMAC-SHA256 of the raw body with the raw key.
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		r.fail(w, "secret %q is not whsec_<base64>", secret)
		return
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	want := hex.EncodeToString(mac.Sum(nil))
	if got := req.Header.Get("stytch-signature"); !hmac.Equal([]byte(got), []byte(want)) {
		r.fail(w, "stytch-signature %q, want %q", got, want)
		return
	}
	var payload struct {
		EventID    string `json:"event_id"`
		ObjectType string `json:"object_type"`
		Action     string `json:"action"`
		Source     string `json:"source"`
	}
	if err := json.Unmarshal(body, &payload); err != nil {
		r.fail(w, "body %s: %v", body, err)
		return
	}
	if payload.EventID != req.Header.Get("webhook-id") {
		r.fail(w, "webhook-id %q is not the body's event_id %q", req.Header.Get("webhook-id"), payload.EventID)
		return
	}
	ts, _ := strconv.ParseInt(req.Header.Get("webhook-timestamp"), 10, 64)
	r.mu.Lock()
	status := answer(len(r.got))
	r.got = append(r.got, receipt{msgID: req.Header.Get("webhook-id"), eventID: payload.EventID,
		eventType: strings.ToLower(payload.Source + "." + payload.ObjectType + "." + payload.Action), timestamp: ts, answered: status, body: body})
	r.mu.Unlock()
	w.WriteHeader(status)
	io.WriteString(w, "answer "+strconv.Itoa(status))
}

func (r *receiver) receipts() []receipt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// accepted lists the event ids answered 2xx, in arrival order.
func (r *receiver) accepted() []string {
	var out []string
	for _, g := range r.receipts() {
		if g.answered >= 200 && g.answered < 300 {
			out = append(out, g.eventID)
		}
	}
	return out
}

func (f *fixture) register(t *testing.T, r *receiver, eventTypes ...string) *Created {
	t.Helper()
	c, err := f.svc.Create(context.Background(), f.project.ID, r.srv.URL+"/hooks?tenant=acme", eventTypes)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	r.setSecret(c.Secret)
	return c
}

func eventIDs(es []*store.Event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

// ---- tests ----

func TestSignedDeliveryVerifiesIndependently(t *testing.T) {
	f := newFixture(t, tenant.Test)
	r := newReceiver(t)
	c := f.register(t, r)
	if !strings.HasPrefix(c.Secret, "whsec_") || !strings.HasPrefix(c.WebhookID, "webhook-test-") {
		t.Fatalf("Created = %+v", c)
	}
	if key, err := DecodeSecret(c.Secret); err != nil || len(key) != KeySize {
		t.Fatalf("secret decodes to %d bytes, %v", len(key), err)
	}
	e := f.emit(t, events.UserCreate, "user-test-1")
	d := f.dispatcher()
	n, err := d.DeliverDue(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("DeliverDue = %d, %v", n, err)
	}
	got := r.receipts()
	if len(got) != 1 || got[0].msgID != e.ID || got[0].answered != http.StatusNoContent {
		t.Fatalf("receipts = %+v", got)
	}
	if string(got[0].body) != string(e.Payload) {
		t.Errorf("body = %s, want the stored payload %s", got[0].body, e.Payload)
	}
	if got[0].timestamp != f.clock.Now().Unix() {
		t.Errorf("webhook-timestamp = %d, want the injected clock's %d", got[0].timestamp, f.clock.Now().Unix())
	}
	ds := f.deliveries(t, c.WebhookID)
	if len(ds) != 1 || ds[0].Status != store.DeliveryDelivered || ds[0].Attempts != 1 || ds[0].LastStatus != 204 || ds[0].DeliveredAt == nil {
		t.Errorf("deliveries = %+v", ds)
	}

	// Each endpoint signs with its own secret.
	r2 := newReceiver(t)
	c2 := f.register(t, r2)
	if c2.Secret == c.Secret {
		t.Fatal("two endpoints share a secret")
	}
	e2 := f.emit(t, events.UserUpdate, "user-test-1")
	if n, err := d.DeliverDue(context.Background()); err != nil || n != 2 {
		t.Fatalf("DeliverDue = %d, %v", n, err)
	}
	if a, a2 := r.accepted(), r2.accepted(); !slices.Equal(a, []string{e.ID, e2.ID}) || !slices.Equal(a2, []string{e2.ID}) {
		t.Errorf("accepted %v and %v", a, a2)
	}
}

func TestSignHelpersMatchTheLibrary(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	ts := time.Unix(1732171669, 0)
	body := []byte(`{"action":"CREATE"}`)
	wh, _ := standardwebhooks.NewWebhookRaw(key)
	want, _ := wh.Sign("webhook-event-test-1", ts, body)
	if got := Sign(key, "webhook-event-test-1", ts, body); got != want {
		t.Errorf("Sign = %s, library %s", got, want)
	}
	back, err := DecodeSecret(EncodeSecret(key))
	if err != nil || string(back) != string(key) {
		t.Errorf("DecodeSecret(EncodeSecret) = %q, %v", back, err)
	}
	if _, err := DecodeSecret("nope"); err == nil {
		t.Error("DecodeSecret accepted a secret without whsec_")
	}
}

// TestOutageThenInOrder: the receiver is down for a while; the running
// dispatcher retries the head with backoff (driven by the injected clock)
// and sends nothing behind it; when the receiver comes back every event
// arrives, in order, each under its own stable webhook-id.
func TestOutageThenInOrder(t *testing.T) {
	f := newFixture(t, tenant.Test)
	r := newReceiver(t)
	r.strictTime = false
	c := f.register(t, r)
	down := true
	r.setAnswer(func(int) int {
		if down {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	var evs []*store.Event
	for i := range 5 {
		evs = append(evs, f.emit(t, events.UserUpdate, fmt.Sprintf("user-test-%d", i)))
	}
	d := f.dispatcher()
	d.Poll = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { d.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()

	head := func() Delivery {
		ds := f.deliveries(t, c.WebhookID)
		return ds[len(ds)-1]
	}
	const failures = 6
	for attempt := 1; attempt <= failures; attempt++ {
		waitFor(t, fmt.Sprintf("attempt %d to fail", attempt), func() bool {
			h := head()
			return h.Attempts == attempt && h.Status == store.DeliveryPending
		})
		h := head()
		if want := f.clock.Now().Add(d.Backoff(attempt)); !h.NextAttempt.Equal(want) {
			t.Errorf("after attempt %d next_attempt = %s, want %s", attempt, h.NextAttempt, want)
		}
		if h.LastStatus != http.StatusServiceUnavailable || !strings.HasPrefix(h.LastError, "HTTP 503") {
			t.Errorf("head last status %d error %q", h.LastStatus, h.LastError)
		}
		if attempt == failures {
			r.mu.Lock()
			down = false
			r.mu.Unlock()
		}
		f.clock.Advance(d.Backoff(attempt))
		d.Notify()
	}
	waitFor(t, "every event to be delivered", func() bool { return len(r.accepted()) == len(evs) })
	if got := r.accepted(); !slices.Equal(got, eventIDs(evs)) {
		t.Errorf("accepted %v, want %v", got, eventIDs(evs))
	}
	got := r.receipts()
	if len(got) != failures+len(evs) {
		t.Errorf("receiver saw %d requests, want %d", len(got), failures+len(evs))
	}
	for i := range failures + 1 {
		if got[i].msgID != evs[0].ID {
			t.Errorf("request %d carried %s before the head was delivered, want %s", i, got[i].msgID, evs[0].ID)
		}
	}
	waitFor(t, "every delivery recorded", func() bool {
		for _, dl := range f.deliveries(t, c.WebhookID) {
			if dl.Status != store.DeliveryDelivered {
				return false
			}
		}
		return true
	})
}

func TestBackoffSchedule(t *testing.T) {
	d := NewDispatcher(nil, nil, nil, nil)
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second,
		160 * time.Second, 320 * time.Second, 640 * time.Second, 1280 * time.Second, 2560 * time.Second, time.Hour, time.Hour}
	for i, w := range want {
		if got := d.Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %s, want %s", i+1, got, w)
		}
	}
	if got := d.Backoff(1000); got != time.Hour {
		t.Errorf("Backoff(1000) = %s, want the 1h cap", got)
	}
	// Jitter adds at most its fraction.
	now := time.Unix(0, 0)
	for range 200 {
		next := d.nextAttempt(now, 3).Sub(now)
		if next < 20*time.Second || next > 24*time.Second {
			t.Fatalf("jittered backoff %s outside [20s, 24s]", next)
		}
	}
	d2 := NewDispatcher(nil, nil, nil, nil)
	d2.Jitter = -1
	if got := d2.nextAttempt(now, 3).Sub(now); got != 20*time.Second {
		t.Errorf("no-jitter backoff = %s", got)
	}
}

// TestFailureCap: after MaxAttempts the head fails for good and the
// endpoint's next event goes.
func TestFailureCap(t *testing.T) {
	f := newFixture(t, tenant.Test)
	r := newReceiver(t)
	r.strictTime = false
	c := f.register(t, r)
	first := f.emit(t, events.UserCreate, "user-test-1")
	second := f.emit(t, events.UserUpdate, "user-test-1")
	r.setAnswer(func(n int) int {
		if n < 3 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	d := f.dispatcher()
	d.MaxAttempts = 3
	for attempt := 1; attempt <= 3; attempt++ {
		if n, err := d.DeliverDue(context.Background()); n != 1 || err != nil {
			t.Fatalf("attempt %d: DeliverDue = %d, %v", attempt, n, err)
		}
		f.clock.Advance(time.Hour)
	}
	ds := f.deliveries(t, c.WebhookID)
	if ds[1].EventID != first.ID || ds[1].Status != store.DeliveryFailed || ds[1].Attempts != 3 {
		t.Fatalf("head after the cap = %+v", ds[1])
	}
	if n, _ := d.DeliverDue(context.Background()); n != 1 {
		t.Fatalf("the next event was not attempted after the head failed")
	}
	if got := r.accepted(); !slices.Equal(got, []string{second.ID}) {
		t.Errorf("accepted %v, want the second event", got)
	}
}

func TestReplay(t *testing.T) {
	f := newFixture(t, tenant.Test)
	r := newReceiver(t)
	c := f.register(t, r)
	e := f.emit(t, events.UserCreate, "user-test-1")
	d := f.dispatcher()
	d.DeliverDue(context.Background())
	woken := 0
	f.svc.Notify = func() { woken++ }

	re, err := f.svc.Replay(context.Background(), f.project.ID, e.ID, "")
	if err != nil || len(re) != 1 || re[0].WebhookID != c.WebhookID || re[0].Status != store.DeliveryPending || woken != 1 {
		t.Fatalf("Replay = %+v, %v (woken %d)", re, err, woken)
	}
	if n, _ := d.DeliverDue(context.Background()); n != 1 {
		t.Fatal("replayed delivery not attempted")
	}
	got := r.receipts()
	if len(got) != 2 || got[0].msgID != e.ID || got[1].msgID != e.ID || string(got[1].body) != string(e.Payload) {
		t.Errorf("receipts = %+v; want the same event id and body twice", got)
	}
	ds := f.deliveries(t, c.WebhookID)
	if len(ds) != 2 || ds[0].Status != store.DeliveryDelivered || ds[1].Status != store.DeliveryDelivered {
		t.Errorf("deliveries after replay = %+v", ds)
	}
	if _, err := f.svc.Replay(context.Background(), f.project.ID, "webhook-event-test-nope", ""); err == nil {
		t.Error("Replay of an unknown event succeeded")
	}
	if _, err := f.svc.Replay(context.Background(), f.project.ID, e.ID, "webhook-test-nope"); err == nil {
		t.Error("Replay to an unknown webhook succeeded")
	}
}

func TestValidateURL(t *testing.T) {
	cases := []struct {
		env tenant.Environment
		url string
		ok  bool
	}{
		{tenant.Test, "https://hooks.example.com/latch", true},
		{tenant.Live, "https://hooks.example.com/latch?token=x", true},
		{tenant.Test, "http://127.0.0.1:8080/hook", true},
		{tenant.Test, "http://127.9.9.9/hook", true},
		{tenant.Test, "http://localhost:3000/hook", true},
		{tenant.Test, "http://api.localhost/hook", true},
		{tenant.Test, "http://[::1]:8080/hook", true},
		{tenant.Live, "http://127.0.0.1:8080/hook", false},
		{tenant.Live, "http://localhost/hook", false},
		{tenant.Test, "http://hooks.example.com/hook", false},
		{tenant.Test, "http://10.0.0.5/hook", false},
		{tenant.Test, "http://localhost.example.com/hook", false},
		{tenant.Test, "ftp://hooks.example.com/", false},
		{tenant.Test, "hooks.example.com/hook", false},
		{tenant.Test, "https://", false},
		{tenant.Test, "https://user:pw@hooks.example.com/", false},
		{tenant.Test, "https://hooks.example.com/#frag", false},
		{tenant.Test, "", false},
	}
	for _, c := range cases {
		err := ValidateURL(c.env, c.url)
		if (err == nil) != c.ok {
			t.Errorf("ValidateURL(%s, %q) = %v, want ok=%v", c.env, c.url, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateURL(%q) error %v is not ErrInvalid", c.url, err)
		}
	}
}

func TestCreateRules(t *testing.T) {
	live := newFixture(t, tenant.Live)
	ctx := context.Background()
	if _, err := live.svc.Create(ctx, live.project.ID, "http://127.0.0.1:9/hook", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("live project with http:// = %v, want ErrInvalid", err)
	}
	c, err := live.svc.Create(ctx, live.project.ID, "https://hooks.example.com/hook", nil)
	if err != nil || !strings.HasPrefix(c.WebhookID, "webhook-live-") || c.Events == nil || len(c.Events) != 0 {
		t.Errorf("live https Create = %+v, %v", c, err)
	}
	if _, err := live.svc.Create(ctx, "project-test-missing", "https://hooks.example.com/hook", nil); err == nil {
		t.Error("Create for a missing project succeeded")
	}
	_, err = live.svc.Create(ctx, live.project.ID, "https://hooks.example.com/hook", []string{events.UserCreate, "direct.user.explode"})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "direct.user.explode") {
		t.Errorf("unknown event type = %v", err)
	}
	live.clock.Advance(time.Second)
	c, err = live.svc.Create(ctx, live.project.ID, "https://hooks.example.com/hook", []string{events.UserCreate, " " + events.UserCreate, events.SessionCreate})
	if err != nil || !slices.Equal(c.Events, []string{events.UserCreate, events.SessionCreate}) {
		t.Errorf("Create with a duplicate filter = %+v, %v", c, err)
	}
	list, err := live.svc.List(ctx, live.project.ID)
	if err != nil || len(list) != 2 || list[1].WebhookID != c.WebhookID || !slices.Equal(list[1].Events, c.Events) {
		t.Errorf("List = %+v, %v", list, err)
	}
	raw, _ := json.Marshal(list)
	if strings.Contains(string(raw), "whsec_") || strings.Contains(string(raw), "secret") {
		t.Errorf("List leaks secrets: %s", raw)
	}
}

func TestEventsFilter(t *testing.T) {
	f := newFixture(t, tenant.Test)
	rAll, rUsers := newReceiver(t), newReceiver(t)
	f.register(t, rAll)
	f.register(t, rUsers, events.UserCreate, events.UserDelete)
	a := f.emit(t, events.UserCreate, "user-test-1")
	b := f.emit(t, events.SessionCreate, "session-test-1")
	c := f.emit(t, events.UserDelete, "user-test-1")
	d := f.dispatcher()
	for {
		n, err := d.DeliverDue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if got := rAll.accepted(); !slices.Equal(got, eventIDs([]*store.Event{a, b, c})) {
		t.Errorf("all-events receiver got %v", got)
	}
	if got := rUsers.accepted(); !slices.Equal(got, eventIDs([]*store.Event{a, c})) {
		t.Errorf("filtered receiver got %v", got)
	}
	for _, g := range rUsers.receipts() {
		if g.eventType != events.UserCreate && g.eventType != events.UserDelete {
			t.Errorf("filtered receiver got a %s", g.eventType)
		}
	}
}

func TestSecretSealedAtRest(t *testing.T) {
	f := newFixture(t, tenant.Test)
	r := newReceiver(t)
	c := f.register(t, r)
	key, _ := DecodeSecret(c.Secret)

	db, err := sql.Open("sqlite", "file:"+f.dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var row string
	if err := db.QueryRow("SELECT secret_sealed FROM webhook_endpoints WHERE id = $1", c.WebhookID).Scan(&row); err != nil {
		t.Fatal(err)
	}
	sealed, err := base64.StdEncoding.DecodeString(row)
	if err != nil {
		t.Fatalf("stored secret is not base64: %v", err)
	}
	b64 := strings.TrimPrefix(c.Secret, "whsec_")
	if strings.Contains(string(sealed), string(key)) || strings.Contains(row, b64) || strings.Contains(row, hex.EncodeToString(key)) {
		t.Fatal("the signing key is stored in clear")
	}
	opened, err := f.sealer.Open(sealed, secretAAD(f.project.ID, c.WebhookID))
	if err != nil || string(opened) != string(key) {
		t.Fatalf("sealed secret does not open to the key: %v", err)
	}
	// Bound to its endpoint: it does not open as another one's.
	if _, err := f.sealer.Open(sealed, secretAAD(f.project.ID, "webhook-test-other")); err == nil {
		t.Error("sealed secret opens under another endpoint's id")
	}
	// A dispatcher with the wrong master key cannot sign: the attempt
	// fails and is retried, nothing is sent.
	wrong, _ := secrets.NewSealer([]byte("ffffffffffffffffffffffffffffffff"))
	f.emit(t, events.UserCreate, "user-test-1")
	d := NewDispatcher(f.st, wrong, f.clock, nil)
	d.DeliverDue(context.Background())
	if len(r.receipts()) != 0 {
		t.Error("sent with an unopenable secret")
	}
	ds := f.deliveries(t, c.WebhookID)
	if ds[0].Status != store.DeliveryPending || !strings.Contains(ds[0].LastError, "master key") {
		t.Errorf("delivery with the wrong master key = %+v", ds[0])
	}
	// Deleting erases it.
	if err := f.svc.Delete(context.Background(), f.project.ID, c.WebhookID); err != nil {
		t.Fatal(err)
	}
	db.QueryRow("SELECT secret_sealed FROM webhook_endpoints WHERE id = $1", c.WebhookID).Scan(&row)
	if row != "" {
		t.Error("deleted endpoint keeps its sealed secret")
	}
}

func TestDeleteStopsDelivery(t *testing.T) {
	f := newFixture(t, tenant.Test)
	r := newReceiver(t)
	r.setAnswer(func(int) int { return http.StatusBadGateway })
	r.strictTime = false
	c := f.register(t, r)
	f.emit(t, events.UserCreate, "user-test-1")
	d := f.dispatcher()
	d.DeliverDue(context.Background())
	if err := f.svc.Delete(context.Background(), f.project.ID, c.WebhookID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Delete(context.Background(), f.project.ID, c.WebhookID); err == nil {
		t.Error("second Delete succeeded")
	}
	f.emit(t, events.UserUpdate, "user-test-1")
	f.clock.Advance(24 * time.Hour)
	if n, _ := d.DeliverDue(context.Background()); n != 0 {
		t.Errorf("attempted %d deliveries to a deleted endpoint", n)
	}
	if len(r.receipts()) != 1 {
		t.Errorf("receiver saw %d requests, want the 1 before deletion", len(r.receipts()))
	}
	ds := f.deliveries(t, c.WebhookID)
	if len(ds) != 1 || ds[0].Status != store.DeliveryCanceled {
		t.Errorf("deliveries after delete = %+v", ds)
	}
}

func TestRedirectAndTimeoutAreFailures(t *testing.T) {
	f := newFixture(t, tenant.Test)
	target := newReceiver(t)
	redirect := httptest.NewServer(http.RedirectHandler(target.srv.URL, http.StatusFound))
	defer redirect.Close()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer slow.Close()
	defer close(release)
	ctx := context.Background()
	rc, _ := f.svc.Create(ctx, f.project.ID, redirect.URL, nil)
	sc, _ := f.svc.Create(ctx, f.project.ID, slow.URL, nil)
	f.emit(t, events.UserCreate, "user-test-1")
	d := f.dispatcher()
	d.Timeout = 50 * time.Millisecond
	d.Client = &http.Client{} // follows redirects by default: the dispatcher must not
	if n, err := d.DeliverDue(ctx); n != 2 || err != nil {
		t.Fatalf("DeliverDue = %d, %v", n, err)
	}
	if len(target.receipts()) != 0 {
		t.Error("the redirect was followed")
	}
	rd := f.deliveries(t, rc.WebhookID)[0]
	if rd.Status != store.DeliveryPending || rd.LastStatus != http.StatusFound {
		t.Errorf("redirected delivery = %+v", rd)
	}
	sd := f.deliveries(t, sc.WebhookID)[0]
	if sd.Status != store.DeliveryPending || sd.LastStatus != 0 || !strings.Contains(sd.LastError, "timed out") {
		t.Errorf("timed-out delivery = %+v", sd)
	}
	if strings.Contains(sd.LastError, slow.URL) {
		t.Errorf("last_error carries the URL: %q", sd.LastError)
	}
}

// TestNewEndpointWithoutRestart: an endpoint registered through another
// store handle (as the CLI does, in its own process) while the dispatcher
// runs gets the next event; the server needs no restart or reload.
func TestNewEndpointWithoutRestart(t *testing.T) {
	f := newFixture(t, tenant.Test)
	d := f.dispatcher()
	d.Poll = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { d.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()

	f.emit(t, events.UserCreate, "user-test-0") // nobody listens yet

	cli, err := sqlstore.Open(context.Background(), f.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	r := newReceiver(t)
	c, err := NewService(cli, newSealer(t), clock.System{}).Create(context.Background(), f.project.ID, r.srv.URL, nil)
	cli.Close()
	if err != nil {
		t.Fatal(err)
	}
	r.setSecret(c.Secret)
	e := f.emit(t, events.UserCreate, "user-test-1")
	d.Notify()
	waitFor(t, "the new endpoint to get the event", func() bool { return len(r.accepted()) == 1 })
	if got := r.accepted(); got[0] != e.ID {
		t.Errorf("new endpoint got %v, want only %s", got, e.ID)
	}
}

// TestGracefulStop: cancelling Run waits for the attempt in flight and
// records it.
func TestGracefulStop(t *testing.T) {
	f := newFixture(t, tenant.Test)
	r := newReceiver(t)
	c := f.register(t, r)
	entered, release := make(chan struct{}), make(chan struct{})
	r.mu.Lock()
	r.hook = func() { close(entered); <-release }
	r.mu.Unlock()
	f.emit(t, events.UserCreate, "user-test-1")
	d := f.dispatcher()
	d.Poll = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { d.Run(ctx); close(stopped) }()
	<-entered
	cancel()
	select {
	case <-stopped:
		t.Fatal("Run returned with an attempt in flight")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	<-stopped
	if ds := f.deliveries(t, c.WebhookID); ds[0].Status != store.DeliveryDelivered {
		t.Errorf("in-flight attempt not recorded: %+v", ds[0])
	}
}

// TestDispatchersNeverDoubleDeliver runs several dispatchers, each on its
// own store handle as separate processes would be, against one database:
// every endpoint gets every event exactly once, in order.
func TestDispatchersNeverDoubleDeliver(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		f := newFixture(t, tenant.Test)
		testManyDispatchers(t, f, func() store.Store {
			s, err := sqlstore.Open(context.Background(), f.dbPath)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv("LATCH_TEST_POSTGRES_URL")
		if base == "" {
			t.Skip("LATCH_TEST_POSTGRES_URL is not set")
		}
		u := newPostgresSchema(t, base)
		open := func() store.Store {
			s, err := sqlstore.Open(context.Background(), u)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		st := open().(*sqlstore.Store)
		f := &fixture{st: st, sealer: newSealer(t), clock: clock.NewFake(time.Now().Truncate(time.Microsecond))}
		f.svc = NewService(st, f.sealer, f.clock)
		f.project = createProject(t, st, tenant.Test, f.clock.Now())
		testManyDispatchers(t, f, open)
	})
}

func newPostgresSchema(t *testing.T, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("latch_webhooks_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

func testManyDispatchers(t *testing.T, f *fixture, open func() store.Store) {
	const endpoints, perEndpoint, dispatchers = 6, 8, 3
	var rs []*receiver
	for range endpoints {
		r := newReceiver(t)
		r.strictTime = false
		f.register(t, r)
		rs = append(rs, r)
	}
	var evs []*store.Event
	for i := range perEndpoint {
		evs = append(evs, f.emit(t, events.UserUpdate, fmt.Sprintf("user-test-%d", i)))
	}
	var stores []store.Store
	for range dispatchers {
		stores = append(stores, open())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for _, st := range stores {
		d := NewDispatcher(st, f.sealer, f.clock, nil)
		d.Poll = 5 * time.Millisecond
		d.Concurrency = 2
		wg.Add(1)
		go func() { defer wg.Done(); d.Run(ctx) }()
	}
	waitFor(t, "every delivery", func() bool {
		for _, r := range rs {
			if len(r.receipts()) < perEndpoint {
				return false
			}
		}
		return true
	})
	// Let any duplicate show itself before stopping.
	time.Sleep(50 * time.Millisecond)
	cancel()
	wg.Wait()
	for i, r := range rs {
		got := r.receipts()
		var seen []string
		for _, g := range got {
			seen = append(seen, g.msgID)
		}
		if !slices.Equal(seen, eventIDs(evs)) {
			t.Errorf("endpoint %d got %v, want each event once in order %v", i, seen, eventIDs(evs))
		}
	}
}

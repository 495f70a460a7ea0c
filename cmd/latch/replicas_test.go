package main

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/sessions"
)

// Two `latch serve` processes on one PostgreSQL database serve the same
// project: sessions cross replicas, a revoke through one is honoured by
// the other within sessions.CacheTTL, and the outbox and webhook workers
// of both, racing for the same rows, deliver every message and event
// exactly once to a real SMTP server and webhook receiver.
func TestReplicasShareOnePostgres(t *testing.T) {
	dsn, db := postgresSchema(t, "latch_replicas_")
	mail := startMailPeer(t)
	hooks := startHookReceiver(t)
	env := []string{"LATCH_MASTER_KEY=" + randomKey(), "SSL_CERT_FILE=" + hooks.certFile}
	args := []string{"--database-url", dsn, "--rate-limits", "off", "--delivery-lease", "4s",
		"--smtp-host", "127.0.0.1", "--smtp-port", strconv.Itoa(mail.port), "--smtp-tls", "none", "--smtp-from", "Latch <no-reply@latch.test>"}

	// Replicas start together, as a deployment starts them: migrations
	// take an advisory lock.
	dirs := []string{t.TempDir(), t.TempDir()}
	reps := make([]*latchProc, 2)
	var wg sync.WaitGroup
	for i := range reps {
		wg.Add(1)
		go func() { defer wg.Done(); reps[i] = startLatch(t, dirs[i], env, args...) }()
	}
	wg.Wait()
	if reps[0] == nil || reps[1] == nil {
		t.FailNow()
	}
	a, b := reps[0].URL, reps[1].URL
	// Both found an empty database; they made one project between them.
	if dev := queryStrings(t, db, `SELECT id FROM projects WHERE name = 'Latch development project'`); len(dev) != 1 {
		t.Fatalf("replicas starting together made %d development projects", len(dev))
	}

	// Created while both run; neither restarts.
	project, secret := liveProject(t, env, []string{"--database-url", dsn}, hooks.URL)
	c := newAPIClient(t, project, secret, dirs...)

	// Sends spread over both replicas, eight at a time.
	const sends = 40
	var sendWG sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range sends {
		sendWG.Add(1)
		sem <- struct{}{}
		go func() {
			defer sendWG.Done()
			defer func() { <-sem }()
			c.must(t, []string{a, b}[i%2], "POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": fmt.Sprintf("replica-%d@example.com", i)}, 200)
		}()
	}
	sendWG.Wait()

	outboxIDs := queryStrings(t, db, `SELECT id FROM outbox WHERE project_id = $1`, project)
	if len(outboxIDs) != sends {
		t.Fatalf("%d outbox rows for %d sends", len(outboxIDs), sends)
	}
	waitFor(t, 60*time.Second, "every message at the SMTP peer and marked sent", func() bool {
		_, _, n := mail.snapshot()
		return n >= sends && len(queryStrings(t, db, `SELECT id FROM outbox WHERE project_id = $1 AND status <> 'sent'`, project)) == 0
	})
	byID, to, n := mail.snapshot()
	if n != sends {
		t.Errorf("SMTP peer received %d messages for %d sends", n, sends)
	}
	for _, id := range outboxIDs {
		if byID[id] != 1 {
			t.Errorf("message %s received %d times", id, byID[id])
		}
	}
	for i := range sends {
		if got := to[fmt.Sprintf("replica-%d@example.com", i)]; got != 1 {
			t.Errorf("replica-%d@example.com got %d messages", i, got)
		}
	}

	// Every event, once, at the receiver.
	events := queryStrings(t, db, `SELECT id FROM events WHERE project_id = $1`, project)
	if len(events) < 2*sends { // at least direct.user.create and magic_link.send per send
		t.Fatalf("%d events for %d sends", len(events), sends)
	}
	waitFor(t, 60*time.Second, "every event at the webhook receiver and marked delivered", func() bool {
		return len(hooks.snapshot()) >= len(events) &&
			len(queryStrings(t, db, `SELECT event_id FROM webhook_deliveries WHERE project_id = $1 AND status <> 'delivered'`, project)) == 0
	})
	got := hooks.snapshot()
	if len(got) != len(events) {
		t.Errorf("receiver saw %d distinct events, the log has %d", len(got), len(events))
	}
	for _, id := range events {
		if got[id] != 1 {
			t.Errorf("event %s delivered %d times", id, got[id])
		}
	}

	// A session made through B authenticates through A, by token and JWT.
	user := c.must(t, a, "POST", "/v1/users", map[string]any{"email": "crossing@example.com"}, 201)
	ml := c.must(t, a, "POST", "/v1/magic_links", map[string]any{"user_id": user["user_id"]}, 200)
	auth := c.must(t, b, "POST", "/v1/magic_links/authenticate", map[string]any{"token": ml["token"], "session_duration_minutes": 60}, 200)
	sessionID := auth["session"].(map[string]any)["session_id"]
	for _, body := range []map[string]any{{"session_token": auth["session_token"]}, {"session_jwt": auth["session_jwt"]}} {
		got := c.must(t, a, "POST", "/v1/sessions/authenticate", body, 200)
		if got["session"].(map[string]any)["session_id"] != sessionID || got["user"].(map[string]any)["user_id"] != user["user_id"] {
			t.Fatalf("replica A authenticated %v as %v", body, got["session"])
		}
	}

	// Revoked through B; A, whose cache holds the session, must refuse it
	// once that cache entry's time is up. A's entry was made while the
	// warm-up call ran, so no call sent later than warm+CacheTTL may
	// succeed, however slow the machine (a latency-proof statement of the
	// bound), and every call is refused eventually.
	for _, body := range []map[string]any{{"session_token": auth["session_token"]}, {"session_jwt": auth["session_jwt"]}} {
		c.must(t, a, "POST", "/v1/sessions/authenticate", body, 200)
	}
	warm := time.Now()
	c.must(t, b, "POST", "/v1/sessions/revoke", map[string]any{"session_id": sessionID}, 200)
	for _, body := range []map[string]any{{"session_token": auth["session_token"]}, {"session_jwt": auth["session_jwt"]}} {
		waitFor(t, 15*time.Second, fmt.Sprintf("replica A to refuse the revoked session (%v)", body), func() bool {
			sent := time.Now()
			status, out, err := c.do(a, "POST", "/v1/sessions/authenticate", body)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case status == 200 && sent.After(warm.Add(sessions.CacheTTL)):
				t.Fatalf("replica A served the revoked session %s after its cache entry could last", sent.Sub(warm))
			case status == 404 && out["error_type"] != "session_not_found":
				t.Fatalf("revoked session refused with %v", out["error_type"])
			}
			return status == 404
		})
	}
	t.Logf("revoke through B honoured by A %s after A last cached the session (bound %s)", time.Since(warm).Round(time.Millisecond), sessions.CacheTTL)

	reps[0].stop(t)
	reps[1].stop(t)
}

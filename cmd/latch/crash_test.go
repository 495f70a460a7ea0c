package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/server"
)

// SIGKILL in the middle of a write-heavy load, then a restart: every write
// that was acknowledged with a 2xx is there, every queued message and
// event reaches its peer, none twice unless its send was in flight at the
// kill (then again with the same Message-ID or webhook-id, which is how
// receivers tell), and the database passes `latch db check`.
func TestCrashUnderWriteLoad(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "latch.db")+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		crashUnderLoad(t, dir, nil, []string{"--data-dir", dir}, db)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, db := postgresSchema(t, "latch_crash_")
		// So `latch db check` checks every index against its table too.
		if _, err := db.Exec("CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA public"); err != nil {
			t.Fatal(err)
		}
		crashUnderLoad(t, t.TempDir(), []string{"--database-url", dsn}, []string{"--database-url", dsn}, db)
	})
}

// acked is what the server acknowledged before it died.
type acked struct {
	mu       sync.Mutex
	users    map[string]string // user_id -> email
	sessions map[string]string // session_token -> user_id
	sent     []string          // emails a login_or_create was acknowledged for
}

func crashUnderLoad(t *testing.T, dataDir string, serveArgs, where []string, db *sql.DB) {
	mail := startMailPeer(t)
	hooks := startHookReceiver(t)
	env := []string{"LATCH_MASTER_KEY=" + randomKey(), "SSL_CERT_FILE=" + hooks.certFile}
	args := append([]string{"--rate-limits", "off", "--delivery-lease", "3s",
		"--smtp-host", "127.0.0.1", "--smtp-port", strconv.Itoa(mail.port), "--smtp-tls", "none", "--smtp-from", "Latch <no-reply@latch.test>"}, serveArgs...)

	srv := startLatch(t, dataDir, env, args...)
	project, secret := liveProject(t, env, where, hooks.URL)
	c := newAPIClient(t, project, secret, dataDir)

	// Eight writers until the kill: users.create, magic-link sends (outbox
	// message and events) and sessions (magic link redeemed).
	got := &acked{users: map[string]string{}, sessions: map[string]string{}}
	var n atomic.Int64
	const killAfter = 240
	killed := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				email := fmt.Sprintf("crash-%d-%d@example.com", w, i)
				var ok bool
				switch i % 3 {
				case 0:
					status, out, err := c.do(srv.URL, "POST", "/v1/users", map[string]any{"email": email})
					if ok = err == nil && status == 201; ok {
						got.mu.Lock()
						got.users[out["user_id"].(string)] = email
						got.mu.Unlock()
					}
				case 1:
					status, _, err := c.do(srv.URL, "POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": email})
					if ok = err == nil && status == 200; ok {
						got.mu.Lock()
						got.sent = append(got.sent, email)
						got.mu.Unlock()
					}
				case 2:
					status, out, err := c.do(srv.URL, "POST", "/v1/users", map[string]any{"email": email})
					if err == nil && status == 201 {
						uid := out["user_id"].(string)
						got.mu.Lock()
						got.users[uid] = email
						got.mu.Unlock()
						status, out, err = c.do(srv.URL, "POST", "/v1/magic_links", map[string]any{"user_id": uid})
						if err == nil && status == 200 {
							status, out, err = c.do(srv.URL, "POST", "/v1/magic_links/authenticate", map[string]any{"token": out["token"], "session_duration_minutes": 60})
							if ok = err == nil && status == 200; ok {
								got.mu.Lock()
								got.sessions[out["session_token"].(string)] = uid
								got.mu.Unlock()
							}
						}
					}
				}
				if !ok {
					select {
					case <-killed:
						return // the server is gone: expected
					default:
						t.Errorf("writer %d call %d failed before the kill", w, i)
						return
					}
				}
				if n.Add(1) == killAfter {
					close(killed)
					srv.kill()
				}
			}
		}()
	}
	wg.Wait()

	// What was in flight at the kill may reach a peer twice.
	inFlightMail := set(queryStrings(t, db, `SELECT id FROM outbox WHERE project_id = $1 AND status = 'sending'`, project))
	inFlightHooks := set(queryStrings(t, db, `SELECT event_id FROM webhook_deliveries WHERE project_id = $1 AND status = 'sending'`, project))
	checkDB(t, env, where, "after SIGKILL")

	srv = startLatch(t, dataDir, env, args...)
	got.mu.Lock()
	defer got.mu.Unlock()
	t.Logf("acknowledged before the kill: %d users, %d sessions, %d magic-link sends; in flight: %d messages, %d webhook deliveries",
		len(got.users), len(got.sessions), len(got.sent), len(inFlightMail), len(inFlightHooks))
	if len(got.users) < killAfter/3 || len(got.sessions) < killAfter/10 || len(got.sent) < killAfter/10 {
		t.Fatalf("too little load before the kill to prove anything")
	}
	for id, email := range got.users {
		u := c.must(t, srv.URL, "GET", "/v1/users/"+id, nil, 200)
		if emails := u["emails"].([]any); len(emails) != 1 || emails[0].(map[string]any)["email"] != email {
			t.Errorf("user %s lost or changed: %v", id, u["emails"])
		}
	}
	for token, uid := range got.sessions {
		s := c.must(t, srv.URL, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": token}, 200)
		if s["user"].(map[string]any)["user_id"] != uid {
			t.Errorf("session of %s now authenticates %v", uid, s["user"].(map[string]any)["user_id"])
		}
	}
	queued := queryStrings(t, db, `SELECT id FROM outbox WHERE project_id = $1`, project)
	recipients := set(queryStrings(t, db, `SELECT recipient FROM outbox WHERE project_id = $1`, project))
	for _, email := range got.sent {
		if !recipients[email] {
			t.Errorf("acknowledged send to %s has no outbox message", email)
		}
	}
	events := queryStrings(t, db, `SELECT id FROM events WHERE project_id = $1`, project)

	waitFor(t, 60*time.Second, "every queued message sent and every event delivered after the restart", func() bool {
		byID, _, _ := mail.snapshot()
		hooked := hooks.snapshot()
		return len(byID) >= len(queued) && len(hooked) >= len(events) &&
			len(queryStrings(t, db, `SELECT id FROM outbox WHERE project_id = $1 AND status <> 'sent'`, project)) == 0 &&
			len(queryStrings(t, db, `SELECT event_id FROM webhook_deliveries WHERE project_id = $1 AND status <> 'delivered'`, project)) == 0
	})
	byID, _, _ := mail.snapshot()
	if len(byID) != len(queued) {
		t.Errorf("SMTP peer saw %d distinct messages; %d were queued", len(byID), len(queued))
	}
	for _, id := range queued {
		if byID[id] != 1 && !(inFlightMail[id] && byID[id] == 2) {
			t.Errorf("message %s received %d times (in flight at the kill: %v)", id, byID[id], inFlightMail[id])
		}
	}
	twice := 0
	for _, id := range queued {
		if byID[id] == 2 {
			twice++
		}
	}
	// At most the sends in their SMTP conversation at the kill can have
	// reached the peer already.
	if twice > server.OutboxConcurrency {
		t.Errorf("%d messages sent twice; at most the %d in flight may be", twice, server.OutboxConcurrency)
	}
	hooked := hooks.snapshot()
	if len(hooked) != len(events) {
		t.Errorf("receiver saw %d distinct events; the log has %d", len(hooked), len(events))
	}
	for _, id := range events {
		if hooked[id] != 1 && !(inFlightHooks[id] && hooked[id] == 2) {
			t.Errorf("event %s delivered %d times (in flight at the kill: %v)", id, hooked[id], inFlightHooks[id])
		}
	}
	srv.stop(t)
	checkDB(t, env, where, "after the restart")
}

func checkDB(t *testing.T, env, where []string, when string) {
	t.Helper()
	var r struct {
		Checks   []string `json:"checks"`
		Problems []string `json:"problems"`
	}
	if err := json.Unmarshal(latchCLI(t, env, append([]string{"db", "check", "--json"}, where...)...), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) != 0 || len(r.Checks) < 2 {
		t.Fatalf("db check %s: %+v", when, r)
	}
	t.Logf("db check %s: %v", when, r.Checks)
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

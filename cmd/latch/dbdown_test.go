package main

import (
	"encoding/json"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// outage takes the database away and brings it back.
type outage interface {
	down(t *testing.T)
	up(t *testing.T)
}

// tcpGate forwards a loopback port to PostgreSQL and can go down (every
// connection reset, new ones refused) and come back on the same port:
// what `latch serve` sees when the database is stopped and restarted.
type tcpGate struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]struct{}
}

func startGate(t *testing.T, target string) *tcpGate {
	t.Helper()
	g := &tcpGate{target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g.addr = ln.Addr().String()
	g.serve(ln)
	t.Cleanup(func() { g.down(t) })
	return g
}

func (g *tcpGate) serve(ln net.Listener) {
	g.mu.Lock()
	g.ln = ln
	g.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", g.target)
			if err != nil {
				c.Close()
				continue
			}
			g.mu.Lock()
			g.conns[c], g.conns[up] = struct{}{}, struct{}{}
			g.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

func (g *tcpGate) down(*testing.T) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ln != nil {
		g.ln.Close()
		g.ln = nil
	}
	for c := range g.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // reset, as a stopped server's kernel would
		}
		c.Close()
	}
	clear(g.conns)
}

func (g *tcpGate) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", g.addr)
	if err != nil {
		t.Fatal(err)
	}
	g.serve(ln)
}

// pgService stops and starts the PostgreSQL server itself, with the
// commands in LATCH_TEST_PG_STOP and LATCH_TEST_PG_START.
type pgService struct{ stopCmd, startCmd string }

func (p pgService) down(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("sh", "-c", p.stopCmd).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", p.stopCmd, err, out)
	}
}

func (p pgService) up(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("sh", "-c", p.startCmd).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", p.startCmd, err, out)
	}
}

// PostgreSQL going away gives clean 503s in the error envelope, quickly;
// /readyz says so; service resumes by itself when the database returns.
// By default a TCP gate in front of PostgreSQL plays the outage, so the
// test can run beside others that use the same server. With
// LATCH_TEST_PG_STOP and LATCH_TEST_PG_START set (.ci/run sets them and runs
// this test alone, after everything else) the server itself is stopped and
// started.
func TestDatabaseOutage(t *testing.T) {
	dsn, _ := postgresSchema(t, "latch_outage_")
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	var gate outage
	if stop, start := os.Getenv("LATCH_TEST_PG_STOP"), os.Getenv("LATCH_TEST_PG_START"); stop != "" && start != "" {
		svc := pgService{stopCmd: stop, startCmd: start}
		gate = svc
		// Whatever happens, leave the server running for what comes next.
		t.Cleanup(func() { exec.Command("sh", "-c", start).Run() })
		t.Log("stopping and starting the PostgreSQL server itself")
	} else {
		g := startGate(t, u.Host)
		u.Host = g.addr
		gate = g
	}
	dir := t.TempDir()
	hooks := startHookReceiver(t)
	env := []string{"LATCH_MASTER_KEY=" + randomKey(), "SSL_CERT_FILE=" + hooks.certFile}
	srv := startLatch(t, dir, env, "--database-url", u.String(), "--rate-limits", "off")
	projectID, secret := devCredentials(t, dir)
	c := newAPIClient(t, projectID, secret, dir)
	latchCLI(t, env, "webhooks", "create", "--database-url", u.String(), "--project", projectID, "--url", hooks.URL, "--json")
	user := c.must(t, srv.URL, "POST", "/v1/users", map[string]any{"email": "before@example.com"}, 201)
	sess := c.must(t, srv.URL, "POST", "/v1/passwords", map[string]any{"email": "sess@example.com",
		"password": "an outage-proof passphrase 61", "session_duration_minutes": 60}, 200)
	c.must(t, srv.URL, "GET", "/readyz", nil, 200)

	gate.down(t)
	calls := []struct{ method, path string }{
		{"GET", "/readyz"},
		{"POST", "/v1/users"},
		{"GET", "/v1/users/" + user["user_id"].(string)},
		{"POST", "/v1/magic_links/email/login_or_create"},
	}
	bodies := map[string]any{"/v1/users": map[string]any{"email": "during@example.com"},
		"/v1/magic_links/email/login_or_create": map[string]any{"email": "during@example.com"}}
	for round := range 2 { // pooled connections die in the first, new ones are refused in the second
		for _, call := range calls {
			start := time.Now()
			status, out, err := c.do(srv.URL, call.method, call.path, bodies[call.path])
			if err != nil {
				t.Fatalf("round %d %s %s: %v", round, call.method, call.path, err)
			}
			if status != 503 || out["error_type"] != "server_unavailable" || out["status_code"] != float64(503) ||
				out["request_id"] == "" || out["error_message"] == "" {
				logs, _ := os.ReadFile(srv.LogFile)
				t.Errorf("round %d %s %s with the database down: %d %v\nserver log:\n%s", round, call.method, call.path, status, out, logs)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("round %d %s %s took %s to fail", round, call.method, call.path, d)
			}
		}
	}

	gate.up(t)
	waitFor(t, 15*time.Second, "/readyz to report the database back", func() bool {
		status, _, err := c.do(srv.URL, "GET", "/readyz", nil)
		return err == nil && status == 200
	})
	c.must(t, srv.URL, "POST", "/v1/users", map[string]any{"email": "after@example.com"}, 201)
	got := c.must(t, srv.URL, "GET", "/v1/users/"+user["user_id"].(string), nil, 200)
	if got["user_id"] != user["user_id"] {
		t.Fatalf("after recovery: %v", got)
	}
	// The outbox worker, which failed its polls during the outage, works
	// again: a message queued now is settled.
	c.must(t, srv.URL, "POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": "after@example.com"}, 200)
	waitFor(t, 15*time.Second, "the outbox worker to settle a message after the outage", func() bool {
		out := c.must(t, srv.URL, "GET", "/v1/dev/outbox?to=after@example.com", nil, 200)
		msgs, _ := out["messages"].([]any)
		return len(msgs) == 1 && msgs[0].(map[string]any)["status"] == "sent"
	})
	// A session from before the outage is still good.
	again := c.must(t, srv.URL, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": sess["session_token"]}, 200)
	if again["session"].(map[string]any)["session_id"] != sess["session"].(map[string]any)["session_id"] {
		t.Fatalf("session after the outage: %v", again)
	}
	// The webhook dispatcher, which also failed its polls, delivers every
	// event in the log, from before the outage and after it.
	var logged struct {
		Events []struct {
			EventID string `json:"event_id"`
		} `json:"events"`
	}
	if err := json.Unmarshal(latchCLI(t, env, "webhooks", "events", "--database-url", u.String(), "--project", projectID, "--json"), &logged); err != nil {
		t.Fatal(err)
	}
	if len(logged.Events) < 5 { // before's and after's user.create, sess's user.create, password.update, session.create
		t.Fatalf("event log holds %d events", len(logged.Events))
	}
	waitFor(t, 30*time.Second, "every event to reach the webhook receiver after the outage", func() bool {
		got := hooks.snapshot()
		for _, e := range logged.Events {
			if got[e.EventID] == 0 {
				return false
			}
		}
		return true
	})
	// Nothing was half-written while it was down.
	search := c.must(t, srv.URL, "POST", "/v1/users/search", map[string]any{"query": map[string]any{"operator": "AND",
		"operands": []any{map[string]any{"filter_name": "email_address", "filter_value": []string{"during@example.com"}}}}}, 200)
	if n := len(search["results"].([]any)); n != 0 {
		t.Errorf("a user from a failed call exists: %v", search["results"])
	}
	srv.stop(t)
}

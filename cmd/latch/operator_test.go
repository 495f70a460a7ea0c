package main

// The operator contract of DESIGN.md section 8 as a user meets it: the
// first start's banner and credentials file, a stale credentials file, and
// SIGTERM letting an in-flight request finish.

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/store/sqlstore"
)

func TestFirstStartBannerAndCredentials(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	// A stale, world-readable file from an earlier data dir must not keep
	// its mode when the new secret is written over it.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	credsPath := filepath.Join(dir, "credentials.json")
	if err := os.WriteFile(credsPath, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startLatch(t, dir, nil)
	waitFor(t, 10*time.Second, "the whole banner", func() bool { return strings.Contains(p.Stdout(), "dev outbox:") })

	info, err := os.Stat(credsPath)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("credentials.json has mode %v, want 0600", info.Mode().Perm())
	}
	var c struct {
		ProjectID string `json:"project_id"`
		Secret    string `json:"secret"`
	}
	raw, _ := os.ReadFile(credsPath)
	if err := json.Unmarshal(raw, &c); err != nil || !strings.HasPrefix(c.ProjectID, "project-test-") || !strings.HasPrefix(c.Secret, "secret-test-") {
		t.Fatalf("credentials.json = %s (%v)", raw, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".credentials-") {
			t.Fatalf("temp file %s left behind", e.Name())
		}
	}

	out := p.Stdout()
	for _, want := range []string{
		"Latch is running at " + p.URL + " (database: sqlite)",
		"project_id:  " + c.ProjectID,
		"secret:      in " + credsPath,
		"export NODE_EXTRA_CA_CERTS=" + filepath.Join(dir, "tls", "ca.pem"),
		`custom_base_url: "` + p.URL + `/"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, c.Secret) {
		t.Fatal("the banner printed the secret")
	}

	// The printed credentials and CA are all a client needs.
	api := newAPIClient(t, c.ProjectID, c.Secret, dir)
	u := api.must(t, p.URL, "POST", "/v1/users", map[string]any{"email": "first@example.com"}, 201)
	if u["user"].(map[string]any)["emails"].([]any)[0].(map[string]any)["email"] != "first@example.com" {
		t.Fatalf("users.create answered %v", u)
	}
	p.stop(t)

	// A restart keeps the project and the file.
	p = startLatch(t, dir, nil)
	waitFor(t, 10*time.Second, "the whole banner", func() bool { return strings.Contains(p.Stdout(), "dev outbox:") })
	if !strings.Contains(p.Stdout(), "project_id:  "+c.ProjectID) {
		t.Fatalf("restart banner names another project:\n%s", p.Stdout())
	}
	if again, _ := os.ReadFile(credsPath); string(again) != string(raw) {
		t.Fatal("a restart rewrote credentials.json")
	}
	p.stop(t)
}

func TestSIGTERMFinishesInFlightRequests(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := startLatch(t, dir, nil)
	projectID, secret := devCredentials(t, dir)
	api := newAPIClient(t, projectID, secret, dir)

	// A users.create whose handler is running when SIGTERM arrives. A
	// request whose headers reach the server after shutdown has begun is
	// dropped unanswered by net/http (the client may retry it: nothing ran),
	// so the test waits for the handler itself: with Expect: 100-continue
	// the server answers "100 Continue" only when the handler first reads
	// the body, and the body is sent only after the signal.
	pr, pw := io.Pipe()
	started := make(chan struct{})
	trace := &httptrace.ClientTrace{Got100Continue: func() { close(started) }}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "POST", p.URL+"/v1/users", pr)
	req.SetBasicAuth(projectID, secret)
	req.Header.Set("Expect", "100-continue")
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: api.http.Transport.(*http.Transport).TLSClientConfig,
		ExpectContinueTimeout: time.Minute}}
	t.Cleanup(client.CloseIdleConnections)
	type result struct {
		status int
		body   map[string]any
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		var body map[string]any
		err = json.NewDecoder(resp.Body).Decode(&body)
		done <- result{resp.StatusCode, body, err}
	}()
	select {
	case <-started:
	case r := <-done:
		t.Fatalf("the request ended before its handler read the body: %+v", r)
	case <-time.After(30 * time.Second):
		t.Fatal("no 100 Continue: the handler never started")
	}

	p.cmd.Process.Signal(syscall.SIGTERM)
	waitFor(t, 10*time.Second, "the shutdown log line", func() bool {
		b, _ := os.ReadFile(p.LogFile)
		return strings.Contains(string(b), `"msg":"shutting down"`)
	})
	// New connections are refused once shutdown has begun.
	addr := strings.TrimPrefix(p.URL, "https://")
	waitFor(t, 10*time.Second, "the listener to close", func() bool {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
		}
		return err != nil
	})

	if _, err := pw.Write([]byte(`{"email": "inflight@example.com"}`)); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	select {
	case r := <-done:
		if r.err != nil || r.status != 201 {
			logs, _ := os.ReadFile(p.LogFile)
			t.Fatalf("in-flight request: status %d, %v, %v\nserver log:\n%s", r.status, r.body, r.err, logs)
		}
		emails := r.body["user"].(map[string]any)["emails"].([]any)
		if emails[0].(map[string]any)["email"] != "inflight@example.com" {
			t.Fatalf("in-flight request created %v", r.body)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the in-flight request never finished")
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("latch serve did not exit after its last request")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}

	// What it acknowledged is there after a restart.
	p = startLatch(t, dir, nil)
	found := api.must(t, p.URL, "POST", "/v1/users/search", map[string]any{"query": map[string]any{"operator": "AND",
		"operands": []any{map[string]any{"filter_name": "email_address", "filter_value": []string{"inflight@example.com"}}}}}, 200)
	if n := len(found["results"].([]any)); n != 1 {
		t.Fatalf("after restart found %d users for the in-flight create", n)
	}
	p.stop(t)
}

func TestProjectsCreateCarriesTheVertical(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var c struct {
		ProjectID   string `json:"project_id"`
		Vertical    string `json:"vertical"`
		Environment string `json:"environment"`
	}
	out := latchCLI(t, nil, "projects", "create", "--name", "Acme B2B", "--vertical", "b2b", "--environment", "live", "--data-dir", dir, "--json")
	if err := json.Unmarshal(out, &c); err != nil || c.Vertical != "b2b" || c.Environment != "live" || !strings.HasPrefix(c.ProjectID, "project-live-") {
		t.Fatalf("projects create --vertical b2b printed %s (%v)", out, err)
	}

	st, err := sqlstore.Open(context.Background(), filepath.Join(dir, "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := st.GetProject(context.Background(), c.ProjectID)
	if err != nil || p.Vertical != "b2b" || p.Environment != "live" || p.Name != "Acme B2B" {
		t.Fatalf("stored project %+v (%v)", p, err)
	}

	cmd := exec.Command(latchBinary(t), "projects", "create", "--name", "X", "--vertical", "enterprise", "--data-dir", dir)
	if msg, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(msg), `vertical must be consumer or b2b`) {
		t.Fatalf("an unknown vertical: %v %s", err, msg)
	}
}

package main

// Harness for tests that run the real `latch serve` binary as separate
// processes (replicas on one PostgreSQL, SIGKILL under load), with real
// protocol peers: an SMTP server and an HTTPS webhook receiver.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// latchBinary builds cmd/latch once per test run.
func latchBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "latch-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "latch")
		out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// latchProc is one running `latch serve`.
type latchProc struct {
	cmd     *exec.Cmd
	URL     string
	DataDir string
	LogFile string
	done    chan struct{}

	mu     sync.Mutex
	stdout []string // every line printed, the banner first
}

// Stdout is what the process has printed so far.
func (p *latchProc) Stdout() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.stdout, "\n")
}

// startLatch runs `latch serve` on a free loopback port and waits for its
// banner. The process is killed when t ends if it is still running.
func startLatch(t *testing.T, dataDir string, env []string, args ...string) *latchProc {
	t.Helper()
	bin := latchBinary(t)
	logFile := dataDir + fmt.Sprintf(".%d.log", time.Now().UnixNano())
	lf, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--log-format", "json"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = lf
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &latchProc{cmd: cmd, DataDir: dataDir, LogFile: logFile, done: make(chan struct{})}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.mu.Lock()
			p.stdout = append(p.stdout, sc.Text())
			p.mu.Unlock()
			if rest, ok := strings.CutPrefix(sc.Text(), "Latch is running at "); ok {
				urls <- strings.Fields(rest)[0]
			}
		}
		io.Copy(io.Discard, out)
	}()
	go func() { cmd.Wait(); lf.Close(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	select {
	case p.URL = <-urls:
	case <-p.done:
		b, _ := os.ReadFile(logFile)
		t.Fatalf("latch serve exited before serving:\n%s", b)
	case <-time.After(60 * time.Second):
		t.Fatal("latch serve did not print its banner within 60s")
	}
	return p
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *latchProc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and waits for a graceful exit.
func (p *latchProc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("latch serve did not stop within 30s of SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("latch serve exited with %d after SIGTERM", code)
	}
}

// devCredentials reads the development project a first start wrote.
func devCredentials(t *testing.T, dir string) (projectID, secret string) {
	t.Helper()
	var c struct {
		ProjectID string `json:"project_id"`
		Secret    string `json:"secret"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &c); err != nil || c.ProjectID == "" || c.Secret == "" {
		t.Fatalf("credentials.json = %s (%v)", b, err)
	}
	return c.ProjectID, c.Secret
}

// latchCLI runs an operator command and returns its stdout.
func latchCLI(t *testing.T, env []string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(latchBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("latch %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return out
}

// liveProject creates a live consumer project with default login and
// signup redirect URLs and a webhook endpoint to hookURL, through the CLI.
// where is --data-dir DIR or --database-url URL.
func liveProject(t *testing.T, env []string, where []string, hookURL string) (projectID, secret string) {
	t.Helper()
	var c struct {
		ProjectID string `json:"project_id"`
		Secret    string `json:"secret"`
	}
	if err := json.Unmarshal(latchCLI(t, env, append([]string{"projects", "create", "--name", "Acme", "--environment", "live", "--json"}, where...)...), &c); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"login", "signup"} {
		latchCLI(t, env, append([]string{"projects", "redirect-urls", "add", "--project", c.ProjectID, "--type", typ, "--url", "https://app.example/authenticate", "--default"}, where...)...)
	}
	var w struct {
		WebhookID string `json:"webhook_id"`
	}
	if err := json.Unmarshal(latchCLI(t, env, append([]string{"webhooks", "create", "--project", c.ProjectID, "--url", hookURL, "--json"}, where...)...), &w); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(w.WebhookID, "webhook-live-") {
		t.Fatalf("webhook id %q", w.WebhookID)
	}
	return c.ProjectID, c.Secret
}

// apiClient calls Latch's HTTP API as the SDK does (Basic auth, JSON),
// trusting the CAs of the given data dirs.
type apiClient struct {
	http            *http.Client
	project, secret string
}

func newAPIClient(t *testing.T, project, secret string, dataDirs ...string) *apiClient {
	t.Helper()
	pool := x509.NewCertPool()
	for _, d := range dataDirs {
		b, err := os.ReadFile(filepath.Join(d, "tls", "ca.pem"))
		if err != nil {
			t.Fatal(err)
		}
		pool.AppendCertsFromPEM(b)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	return &apiClient{http: &http.Client{Transport: tr, Timeout: 15 * time.Second}, project: project, secret: secret}
}

// do sends one request and returns the status and decoded body; a
// transport error (the server is gone) is returned as is.
func (c *apiClient) do(base, method, path string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.SetBasicAuth(c.project, c.secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("status %d, body %q: %w", resp.StatusCode, raw, err)
	}
	return resp.StatusCode, out, nil
}

// must is do for calls that have to succeed with want.
func (c *apiClient) must(t *testing.T, base, method, path string, body any, want int) map[string]any {
	t.Helper()
	status, out, err := c.do(base, method, path, body)
	if err != nil || status != want {
		t.Fatalf("%s %s: status %d (want %d), %v, %v", method, path, status, want, out, err)
	}
	return out
}

// mailPeer is an SMTP server on loopback that records every accepted
// message's Message-ID and recipient.
type mailPeer struct {
	port int
	mu   sync.Mutex
	byID map[string]int // Message-ID -> times received
	to   map[string]int // recipient -> times received
	n    int
}

func startMailPeer(t *testing.T) *mailPeer {
	t.Helper()
	p := &mailPeer{byID: map[string]int{}, to: map[string]int{}}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(*gosmtp.Conn) (gosmtp.Session, error) { return &mailSession{peer: p}, nil }))
	srv.Domain = "peer.test"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.port = ln.Addr().(*net.TCPAddr).Port
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return p
}

func (p *mailPeer) snapshot() (byID, to map[string]int, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	byID, to = map[string]int{}, map[string]int{}
	for k, v := range p.byID {
		byID[k] = v
	}
	for k, v := range p.to {
		to[k] = v
	}
	return byID, to, p.n
}

type mailSession struct {
	peer *mailPeer
	to   []string
}

func (s *mailSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	m, err := netmail.ReadMessage(r)
	if err != nil {
		return err
	}
	// Latch's Message-ID is <outbox id@sender domain>.
	id, _, _ := strings.Cut(strings.Trim(m.Header.Get("Message-Id"), "<>"), "@")
	s.peer.mu.Lock()
	defer s.peer.mu.Unlock()
	s.peer.byID[id]++
	s.peer.n++
	for _, to := range s.to {
		s.peer.to[to]++
	}
	return nil
}
func (s *mailSession) Reset()        { s.to = nil }
func (s *mailSession) Logout() error { return nil }

// hookReceiver is an HTTPS webhook endpoint counting deliveries by
// webhook-id (the event id). certFile holds its certificate, for the
// server's SSL_CERT_FILE.
type hookReceiver struct {
	URL      string
	certFile string
	mu       sync.Mutex
	byID     map[string]int
	order    []string
}

func startHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	h := &hookReceiver{byID: map[string]int{}}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		id := r.Header.Get("webhook-id")
		if id == "" || r.Header.Get("stytch-signature") == "" || !strings.HasPrefix(r.Header.Get("webhook-signature"), "v1,") {
			http.Error(w, "unsigned", http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.byID[id]++
		h.order = append(h.order, id)
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	h.URL = srv.URL + "/hooks/latch"
	h.certFile = filepath.Join(t.TempDir(), "receiver.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(h.certFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *hookReceiver) snapshot() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for k, v := range h.byID {
		out[k] = v
	}
	return out
}

// randomKey is a master key shared by processes that share a database.
func randomKey() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// postgresSchema makes a fresh schema on LATCH_TEST_POSTGRES_URL (or skips)
// and returns the URL bound to it and an admin connection.
func postgresSchema(t *testing.T, prefix string) (string, *sql.DB) {
	t.Helper()
	base := os.Getenv("LATCH_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("LATCH_TEST_POSTGRES_URL is not set")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	schema := prefix + strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
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
	db, err := sql.Open("pgx", base+sep+"search_path="+schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return base + sep + "search_path=" + schema, db
}

// waitFor polls cond every 25ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// queryStrings runs q and returns its single text column.
func queryStrings(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

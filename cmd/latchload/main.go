// Command latchload measures Latch's HTTP hot paths under concurrent load on
// loopback, next to a plain net/http handler measured in the same run as the
// ceiling. By default it starts Latch in process (same handler stack as
// `latch serve`) on SQLite, or on PostgreSQL with --database-url, both
// behind real TLS listeners, and prints a Markdown table.
//
// The mix scenario is a realistic blend: magic-link sign-ins (send, token
// read back from the dev outbox, redeem), session checks by token and by
// JWT, and user reads, each counted as its own row plus a total.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/latchhq/latch/internal/hashes"
	pooledargon2 "github.com/latchhq/latch/internal/hashes/argon2"
	"golang.org/x/crypto/argon2"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchhq/latch/internal/server"
	"github.com/latchhq/latch/internal/store/sqlstore"
	"github.com/latchhq/latch/internal/tenant"
	"github.com/latchhq/latch/internal/tlsca"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "plain-server" {
		plainServer(os.Args[2])
		return
	}
	if len(os.Args) == 3 && (os.Args[1] == "argon2id-raw" || os.Args[1] == "argon2id-raw-pooled") {
		pooled := os.Args[1] == "argon2id-raw-pooled"
		d, err := time.ParseDuration(os.Args[2])
		if err != nil {
			log.Fatal(err)
		}
		// A fresh process hashes slowly until its heap has grown to hold
		// one 19 MiB buffer per core (each first touch faults pages in and
		// the collector runs at a tiny heap): warm up untimed, or the slice
		// measures process start instead of argon2id.
		rawArgon2(300*time.Millisecond, pooled)
		r := rawArgon2(d, pooled)
		fmt.Println(r.n, r.rps)
		return
	}
	duration := flag.Duration("duration", 10*time.Second, "how long each scenario runs")
	conns := flag.Int("connections", 32, "concurrent keep-alive connections")
	dbURL := flag.String("database-url", "", "postgres://... (default: SQLite in a temp dir)")
	only := flag.String("scenarios", "plain,session-token,session-jwt,users-create",
		"comma-separated: plain, session-token, session-jwt, users-create, password-login, otp-send, argon2id-raw, argon2id-raw-pooled, password-ratio, mix (realistic mix)")
	target := flag.String("target", "", "base URL of a running `latch serve` to load instead of an in-process one")
	targetDir := flag.String("target-data-dir", "./latch-data", "with --target: its data dir (credentials.json and tls/ca.pem)")
	targetPID := flag.Int("target-pid", 0, "with --target: pid of that `latch serve`, to print its peak RSS (VmHWM) after the run")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the load process (client and in-process Latch) here")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	var ext *external
	if *target != "" {
		ext = &external{url: strings.TrimRight(*target, "/"), dataDir: *targetDir, pid: *targetPID}
	} else if *targetPID != 0 {
		log.Fatal("-target-pid needs -target")
	}
	if err := run(*duration, *conns, *dbURL, strings.Split(*only, ","), ext); err != nil {
		log.Fatal(err)
	}
}

type result struct {
	name          string
	n, errs       int64
	rps           float64
	p50, p99, max time.Duration
	part          bool // one kind of request within the mix: no "vs plain"
}

// external names a running server to load.
type external struct {
	url, dataDir string
	pid          int
}

func run(d time.Duration, conns int, dbURL string, scenarios []string, ext *external) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "latchload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cert, caFile, err := tlsca.Ensure(filepath.Join(dir, "tls"), []string{"127.0.0.1"})
	if err != nil {
		return err
	}
	var latchURL, projectID, secret, dialect string
	// runWorkers starts the in-process app's background workers (outbox
	// delivery, webhooks, sweep) as `latch serve` runs them, and returns
	// their stop; nil when Latch is external.
	var runWorkers func() func()
	roots := []string{caFile}
	if ext != nil {
		var creds struct {
			ProjectID string `json:"project_id"`
			Secret    string `json:"secret"`
		}
		b, err := os.ReadFile(filepath.Join(ext.dataDir, "credentials.json"))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &creds); err != nil {
			return err
		}
		latchURL, projectID, secret, dialect = ext.url, creds.ProjectID, creds.Secret, "in a separate `latch serve` process at "+ext.url
		roots = append(roots, filepath.Join(ext.dataDir, "tls", "ca.pem"))
	} else {
		dsn := dbURL
		if dsn == "" {
			dsn = filepath.Join(dir, "latch.db")
		}
		st, err := sqlstore.Open(ctx, dsn)
		if err != nil {
			return err
		}
		defer st.Close()
		app, err := server.New(st, server.Options{Log: slog.New(slog.DiscardHandler), MasterKey: make([]byte, 32), PublicURL: "https://127.0.0.1"})
		if err != nil {
			return err
		}
		proj, err := app.Projects.Create(ctx, "load", tenant.Consumer, tenant.Test)
		if err != nil {
			return err
		}
		var stop func()
		if latchURL, stop, err = serveTLS(app.Handler, cert); err != nil {
			return err
		}
		defer stop()
		projectID, secret, dialect = proj.ProjectID, proj.Secret, "in-process on "+st.Dialect()
		runWorkers = func() func() {
			wctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { app.RunWorkers(wctx); close(done) }()
			return func() { cancel(); <-done }
		}
	}
	// The ceiling runs where Latch runs: in this process, or in a process of
	// its own when Latch is an external `latch serve`.
	var plainURL string
	var stopPlain func()
	if ext != nil {
		plainURL, stopPlain, err = spawnPlain(dir)
	} else {
		plainURL, stopPlain, err = serveTLS(plainHandler, cert)
	}
	if err != nil {
		return err
	}
	defer stopPlain()

	client, err := newClient(roots, conns)
	if err != nil {
		return err
	}
	c := &caller{client: client, base: latchURL, project: projectID, secret: secret}
	_, token, jwt, err := c.sessionFor(fmt.Sprintf("load-session-%d@example.com", time.Now().UnixNano()))
	if err != nil {
		return err
	}

	var results []result
	var notes []string
	for _, s := range scenarios {
		var r result
		switch strings.TrimSpace(s) {
		case "plain":
			r = load("plain net/http handler", d, conns, func(int64) (*http.Request, int) {
				req, _ := http.NewRequest("POST", plainURL+"/v1/sessions/authenticate", strings.NewReader(`{"session_token":"x"}`))
				return req, 200
			}, client)
		case "session-token":
			body := fmt.Sprintf(`{"session_token":%q}`, token)
			r = load("sessions.authenticate (token)", d, conns, func(int64) (*http.Request, int) {
				return c.req("POST", "/v1/sessions/authenticate", body), 200
			}, client)
		case "session-jwt":
			body := fmt.Sprintf(`{"session_jwt":%q}`, jwt)
			r = load("sessions.authenticate (JWT)", d, conns, func(int64) (*http.Request, int) {
				return c.req("POST", "/v1/sessions/authenticate", body), 200
			}, client)
		case "password-login":
			email := fmt.Sprintf("load-pw-%d@example.com", time.Now().UnixNano())
			if _, err := c.call("POST", "/v1/passwords", fmt.Sprintf(`{"email":%q,"password":"correct horse battery staple 9"}`, email), 200); err != nil {
				return err
			}
			body := fmt.Sprintf(`{"email":%q,"password":"correct horse battery staple 9"}`, email)
			r = load("passwords.authenticate", d, conns, func(int64) (*http.Request, int) {
				return c.req("POST", "/v1/passwords/authenticate", body), 200
			}, client)
		case "mix":
			// The outbox worker delivers the mix's emails as in `latch
			// serve`; the other scenarios keep their quiet background.
			stopWorkers := func() {}
			if runWorkers != nil {
				stopWorkers = runWorkers()
			}
			rs, ns, err := mix(c, d, conns)
			stopWorkers()
			if err != nil {
				return err
			}
			results = append(results, rs...)
			notes = append(notes, ns...)
			r := rs[len(rs)-1]
			fmt.Fprintf(os.Stderr, "%s: %.0f req/s, %d errors\n", r.name, r.rps, r.errs)
			continue
		case "argon2id-raw":
			r = rawArgon2(d, false)
		case "argon2id-raw-pooled":
			r = rawArgon2(d, true)
		case "password-ratio":
			// The machine's speed drifts from second to second when it is
			// shared; alternating one-second slices of raw hashing and logins
			// exposes both to the same drift, so their ratio is steadier
			// than two back-to-back runs. The raw slices run in a process
			// of their own, so Latch's heap does not tax them.
			email := fmt.Sprintf("load-pw-%d@example.com", time.Now().UnixNano())
			if _, err := c.call("POST", "/v1/passwords", fmt.Sprintf(`{"email":%q,"password":"correct horse battery staple 9"}`, email), 200); err != nil {
				return err
			}
			body := fmt.Sprintf(`{"email":%q,"password":"correct horse battery staple 9"}`, email)
			// Two baselines: golang.org/x/crypto/argon2 as anyone would
			// call it, and the pooled-memory copy Latch's hasher uses.
			raw := result{name: "raw argon2id (x/crypto), alternating 1 s slices"}
			rawPooled := result{name: "raw argon2id (pooled, as Latch), alternating 1 s slices"}
			login := result{name: "passwords.authenticate, alternating 1 s slices"}
			var spent [3]time.Duration
			for t0 := time.Now(); time.Since(t0) < d; {
				for i, pooled := range []bool{false, true} {
					a, err := rawArgon2Process(time.Second, pooled)
					if err != nil {
						return err
					}
					spent[i] += time.Duration(float64(a.n) / a.rps * float64(time.Second))
					[]*result{&raw, &rawPooled}[i].n += a.n
				}
				b := load("", time.Second, conns, func(int64) (*http.Request, int) {
					return c.req("POST", "/v1/passwords/authenticate", body), 200
				}, client)
				spent[2] += time.Duration(float64(b.n) / b.rps * float64(time.Second))
				login.n, login.errs = login.n+b.n, login.errs+b.errs
				login.p50, login.p99, login.max = max(login.p50, b.p50), max(login.p99, b.p99), max(login.max, b.max)
			}
			raw.rps, rawPooled.rps, login.rps = float64(raw.n)/spent[0].Seconds(), float64(rawPooled.n)/spent[1].Seconds(), float64(login.n)/spent[2].Seconds()
			results = append(results, raw, rawPooled)
			r = login
			fmt.Printf("password logins at %.1f%% of raw x/crypto argon2id and %.1f%% of raw pooled argon2id (alternating slices)\n",
				100*login.rps/raw.rps, 100*login.rps/rawPooled.rps)
		case "otp-send":
			stamp := time.Now().UnixNano() % 1_000_000
			r = load("otps.sms.login_or_create (queued)", d, conns, func(i int64) (*http.Request, int) {
				return c.req("POST", "/v1/otps/sms/login_or_create", fmt.Sprintf(`{"phone_number":"+1415555%04d"}`, (stamp+i)%10_000)), 200
			}, client)
		case "users-create":
			stamp := time.Now().UnixNano()
			r = load("users.create", d, conns, func(i int64) (*http.Request, int) {
				return c.req("POST", "/v1/users", fmt.Sprintf(`{"email":"load-%d-%d@example.com","name":{"first_name":"Load"}}`, stamp, i)), 201
			}, client)
		default:
			return fmt.Errorf("unknown scenario %q", s)
		}
		results = append(results, r)
		fmt.Fprintf(os.Stderr, "%s: %.0f req/s\n", r.name, r.rps)
	}
	print(results, d, conns, dialect)
	if len(notes) > 0 {
		fmt.Println()
		for _, n := range notes {
			fmt.Println("errors in", n)
		}
	}
	if ext == nil {
		fmt.Printf("\npeak RSS of the load process (Latch in process plus the client): %s\n", procPeakRSS("self"))
	} else if ext.pid != 0 {
		fmt.Printf("\npeak RSS of latch serve (pid %d): %s\n", ext.pid, procPeakRSS(fmt.Sprint(ext.pid)))
	}
	return nil
}

var plainHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"status_code":200,"request_id":"request-id-test-00000000-0000-0000-0000-000000000000"}`))
})

// plainServer serves the plain handler with dir's certificate and prints
// its URL on stdout; it runs until killed.
func plainServer(dir string) {
	cert, _, err := tlsca.Ensure(filepath.Join(dir, "tls"), []string{"127.0.0.1"})
	if err != nil {
		log.Fatal(err)
	}
	url, _, err := serveTLS(plainHandler, cert)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(url)
	select {}
}

func spawnPlain(dir string) (string, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(self, "plain-server", dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		return "", nil, err
	}
	return strings.TrimSpace(line), func() { cmd.Process.Kill(); cmd.Wait() }, nil
}

// rawArgon2 hashes with the default parameters on every core for d: the
// ceiling of password logins on this machine. pooled uses Latch's copy of
// argon2 that reuses block memory; otherwise golang.org/x/crypto/argon2.
func rawArgon2(d time.Duration, pooled bool) result {
	idKey, name := argon2.IDKey, "raw argon2id (x/crypto, m=19456, t=2, p=1), all cores"
	if pooled {
		idKey, name = pooledargon2.IDKey, "raw argon2id (pooled, m=19456, t=2, p=1), all cores"
	}
	var n atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			salt := make([]byte, 16)
			for time.Now().Before(deadline) {
				idKey([]byte("correct horse battery staple 9"), salt, hashes.DefaultParams.Iterations, hashes.DefaultParams.MemoryKiB, hashes.DefaultParams.Parallelism, hashes.DefaultParams.KeyLen)
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return result{name: name, n: n.Load(), rps: float64(n.Load()) / time.Since(start).Seconds()}
}

func serveTLS(h http.Handler, cert tls.Certificate) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}},
		ErrorLog: log.New(io.Discard, "", 0)}
	go srv.ServeTLS(ln, "", "")
	return "https://" + ln.Addr().String(), func() { srv.Close() }, nil
}

func newClient(caFiles []string, conns int) (*http.Client, error) {
	pool := x509.NewCertPool()
	for _, f := range caFiles {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		pool.AppendCertsFromPEM(pem)
	}
	// HTTP/1.1 only, one connection per worker, as the Node SDK does.
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool},
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, nil
}

type caller struct {
	client          *http.Client
	base            string
	project, secret string
}

func (c *caller) req(method, path, body string) *http.Request {
	r, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	r.SetBasicAuth(c.project, c.secret)
	r.Header.Set("Content-Type", "application/json")
	return r
}

func (c *caller) call(method, path, body string, want int) (map[string]any, error) {
	resp, err := c.client.Do(c.req(method, path, body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	var out map[string]any
	return out, json.Unmarshal(b, &out)
}

// sessionFor makes a user with that email and a 600-minute session through
// the public API, and returns the user id, session token and JWT.
func (c *caller) sessionFor(email string) (string, string, string, error) {
	u, err := c.call("POST", "/v1/users", fmt.Sprintf(`{"email":%q}`, email), 201)
	if err != nil {
		return "", "", "", err
	}
	ml, err := c.call("POST", "/v1/magic_links", fmt.Sprintf(`{"user_id":%q}`, u["user_id"]), 200)
	if err != nil {
		return "", "", "", err
	}
	a, err := c.call("POST", "/v1/magic_links/authenticate", fmt.Sprintf(`{"token":%q,"session_duration_minutes":600}`, ml["token"]), 200)
	if err != nil {
		return "", "", "", err
	}
	userID, _ := u["user_id"].(string)
	token, _ := a["session_token"].(string)
	jwt, _ := a["session_jwt"].(string)
	if userID == "" || token == "" || jwt == "" {
		return "", "", "", fmt.Errorf("no user_id, session_token or session_jwt in the responses for %s", email)
	}
	return userID, token, jwt, nil
}

// load runs conns workers for d, each sending requests back to back.
func load(name string, d time.Duration, conns int, mk func(i int64) (*http.Request, int), client *http.Client) result {
	var seq, errs atomic.Int64
	lat := make([][]time.Duration, conns)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for time.Now().Before(deadline) {
				req, want := mk(seq.Add(1))
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != want {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				lat[w] = append(lat[w], time.Since(t0))
				if err != nil {
					errs.Add(1)
				}
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	r := result{name: name, n: int64(len(all)), errs: errs.Load(), rps: float64(len(all)) / elapsed.Seconds()}
	if len(all) > 0 {
		r.p50, r.p99, r.max = all[len(all)/2], all[len(all)*99/100], all[len(all)-1]
	}
	return r
}

func print(rs []result, d time.Duration, conns int, dialect string) {
	var plain float64
	for _, r := range rs {
		if strings.HasPrefix(r.name, "plain") {
			plain = r.rps
		}
	}
	fmt.Printf("%d connections, %s per scenario, Latch %s, GOMAXPROCS=%d, HTTP/1.1 over TLS on loopback\n\n", conns, d, dialect, runtime.GOMAXPROCS(0))
	fmt.Println("| scenario | requests | errors | req/s | vs plain | p50 | p99 | max |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rs {
		ratio := "-"
		if plain > 0 && !r.part {
			ratio = fmt.Sprintf("%.0f%%", 100*r.rps/plain)
		}
		fmt.Printf("| %s | %d | %d | %.0f | %s | %s | %s | %s |\n", r.name, r.n, r.errs, r.rps, ratio,
			r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.max.Round(100*time.Microsecond))
	}
}

// rawArgon2Process runs rawArgon2 for d in a fresh process of this binary.
func rawArgon2Process(d time.Duration, pooled bool) (result, error) {
	self, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	mode := "argon2id-raw"
	if pooled {
		mode = "argon2id-raw-pooled"
	}
	out, err := exec.Command(self, mode, d.String()).Output()
	if err != nil {
		return result{}, err
	}
	var r result
	if _, err := fmt.Sscan(string(out), &r.n, &r.rps); err != nil {
		return result{}, fmt.Errorf("argon2id-raw printed %q: %w", out, err)
	}
	return r, nil
}

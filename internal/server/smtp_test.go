package server_test

// End-to-end delivery: a live project's magic link goes through the outbox
// worker and the SMTP provider to a real SMTP server (emersion/go-smtp)
// listening on loopback inside the test.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
	"github.com/latchhq/latch/internal/delivery"
	"github.com/latchhq/latch/internal/delivery/smtp"
	"github.com/latchhq/latch/internal/tenant"
)

const smtpFrom = "Latch <no-reply@latch.example>"

// smtpEvent is something the peer saw: a delivered message or a refused
// recipient.
type smtpEvent struct {
	kind string // "delivered" or "rejected"
	from string
	rcpt string
	data []byte
	tls  bool
}

// smtpPeer accepts mail on 127.0.0.1. Recipients whose local part starts
// with reject-perm get 550, reject-temp get 451.
type smtpPeer struct {
	port   int
	events chan smtpEvent
	mu     sync.Mutex
	seen   []smtpEvent
}

func startSMTPPeer(t *testing.T, tlsConf *tls.Config) *smtpPeer {
	t.Helper()
	p := &smtpPeer{events: make(chan smtpEvent, 64)}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		return &peerSession{peer: p, conn: c}, nil
	}))
	srv.Domain = "peer.test"
	srv.TLSConfig = tlsConf
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = discardSMTPLog{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.port = ln.Addr().(*net.TCPAddr).Port
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		<-served
	})
	return p
}

type discardSMTPLog struct{}

func (discardSMTPLog) Printf(string, ...any) {}
func (discardSMTPLog) Println(...any)        {}

func (p *smtpPeer) record(e smtpEvent) {
	p.mu.Lock()
	p.seen = append(p.seen, e)
	p.mu.Unlock()
	p.events <- e
}

func (p *smtpPeer) count(kind, rcpt string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, e := range p.seen {
		if e.kind == kind && e.rcpt == rcpt {
			n++
		}
	}
	return n
}

// next waits for the peer's next event.
func (p *smtpPeer) next(t *testing.T) smtpEvent {
	t.Helper()
	select {
	case e := <-p.events:
		return e
	case <-time.After(15 * time.Second):
		t.Fatal("timed out waiting for the SMTP peer")
		return smtpEvent{}
	}
}

type peerSession struct {
	peer *smtpPeer
	conn *gosmtp.Conn
	from string
	to   []string
	tls  bool
}

func (s *peerSession) Mail(from string, _ *gosmtp.MailOptions) error {
	_, s.tls = s.conn.TLSConnectionState()
	s.from = from
	return nil
}

func (s *peerSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	switch {
	case strings.HasPrefix(to, "reject-perm"):
		s.peer.record(smtpEvent{kind: "rejected", from: s.from, rcpt: to})
		return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	case strings.HasPrefix(to, "reject-temp"):
		s.peer.record(smtpEvent{kind: "rejected", from: s.from, rcpt: to})
		return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *peerSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	for _, to := range s.to {
		s.peer.record(smtpEvent{kind: "delivered", from: s.from, rcpt: to, data: data, tls: s.tls})
	}
	return nil
}

func (s *peerSession) Reset()        { s.from, s.to = "", nil }
func (s *peerSession) Logout() error { return nil }

// selfSigned is a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "latch server test smtp peer"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}}, MinVersion: tls.VersionTLS12}, pool
}

// smtpSetup is a harness whose live projects send through the peer.
type smtpSetup struct {
	h    *harness
	peer *smtpPeer
	live *project
}

func newSMTPSetup(t *testing.T, mode smtp.TLSMode) *smtpSetup {
	t.Helper()
	var serverTLS *tls.Config
	var pool *x509.CertPool
	if mode == smtp.TLSStartTLS {
		serverTLS, pool = selfSigned(t)
	}
	peer := startSMTPPeer(t, serverTLS)
	sender, err := smtp.New(smtp.Config{Host: "127.0.0.1", Port: peer.port, From: smtpFrom, TLS: mode, RootCAs: pool, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("smtp.New: %v", err)
	}
	h := newHarnessWith(t, harnessOptions{
		providers: map[string]delivery.Provider{"smtp": delivery.SMTP{Sender: sender}},
		emailLive: "smtp",
		poll:      50 * time.Millisecond,
	})
	live := h.project("Acme Live", tenant.Live)
	for _, typ := range []string{"login", "signup"} {
		if err := h.app.Projects.AddRedirectURL(context.Background(), live.id, typ, "https://app.example/auth", true); err != nil {
			t.Fatal(err)
		}
	}
	return &smtpSetup{h: h, peer: peer, live: live}
}

// workers runs the App's background workers; the returned stop cancels
// them and waits until they have returned (the batch in progress finishes).
func (s *smtpSetup) workers(t *testing.T) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		s.h.app.RunWorkers(ctx)
		close(done)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				t.Error("workers did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func (s *smtpSetup) outboxRow(t *testing.T, to string) map[string]any {
	t.Helper()
	rows := queryRows(t, s.h.db(), `SELECT * FROM outbox WHERE project_id = ? AND recipient = ?`, s.live.id, to)
	if len(rows) != 1 {
		t.Fatalf("outbox rows to %s = %d, want 1", to, len(rows))
	}
	return rows[0]
}

type mailParts struct {
	header netmail.Header
	parts  map[string]string
}

func parseMail(t *testing.T, data []byte) mailParts {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, data)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v), want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	out := mailParts{header: m.Header, parts: map[string]string{}}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		pt, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		b, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		out.parts[pt] = string(b)
	}
	return out
}

func TestDeliverySMTPEndToEnd(t *testing.T) {
	t.Parallel()
	for _, mode := range []smtp.TLSMode{smtp.TLSNone, smtp.TLSStartTLS} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			s := newSMTPSetup(t, mode)
			h, live := s.h, s.live
			stop := s.workers(t)

			r := live.ok(200, "POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": "Receiver@Example.com"})
			sent := into[sentJSON](t, r)
			if !sent.UserCreated || !idRe("user", tenant.Live).MatchString(sent.UserID) {
				t.Fatalf("login_or_create = %s", r.raw)
			}

			e := s.peer.next(t)
			if e.kind != "delivered" || e.rcpt != "receiver@example.com" || e.from != "no-reply@latch.example" {
				t.Fatalf("peer saw %s from %s to %s", e.kind, e.from, e.rcpt)
			}
			if e.tls != (mode == smtp.TLSStartTLS) {
				t.Errorf("message arrived with tls=%v in mode %s", e.tls, mode)
			}
			m := parseMail(t, e.data)
			dec := new(mime.WordDecoder)
			subject, _ := dec.DecodeHeader(m.header.Get("Subject"))
			if subject != "Finish signing up for Acme Live" {
				t.Errorf("Subject = %q", subject)
			}
			if to, err := netmail.ParseAddress(m.header.Get("To")); err != nil || to.Address != "receiver@example.com" {
				t.Errorf("To = %q", m.header.Get("To"))
			}
			if from, err := netmail.ParseAddress(m.header.Get("From")); err != nil || from.Address != "no-reply@latch.example" {
				t.Errorf("From = %q", m.header.Get("From"))
			}
			text, html := m.parts["text/plain"], m.parts["text/html"]
			link := regexp.MustCompile(`https?://\S+/v1/magic_links/redirect\?\S+`).FindString(text)
			if !strings.HasPrefix(link, h.publicURL+"/v1/magic_links/redirect?") {
				t.Fatalf("text body has no link to %s:\n%s", h.publicURL, text)
			}
			lu, _ := url.Parse(link)
			token := lu.Query().Get("token")
			if lu.Query().Get("project_id") != live.id || len(token) != 44 {
				t.Errorf("link query = %v", lu.Query())
			}
			if !strings.Contains(html, `href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`) {
				t.Errorf("HTML body lacks the link %s:\n%s", link, html)
			}
			if !strings.Contains(text, "expires in 7 days") {
				t.Errorf("text body: %s", text)
			}

			// Once the worker is done the row is sent and scrubbed of the
			// bodies and the token.
			stop()
			row := s.outboxRow(t, "receiver@example.com")
			if row["status"] != "sent" || row["provider"] != "smtp" || row["attempts"].(int64) != 1 || row["sent_at"] == nil {
				t.Errorf("outbox row = status %v provider %v attempts %v sent_at %v", row["status"], row["provider"], row["attempts"], row["sent_at"])
			}
			for _, col := range []string{"body_text", "body_html", "link", "token", "code"} {
				if row[col] != "" {
					t.Errorf("outbox.%s not scrubbed: %.60v", col, row[col])
				}
			}
			if row["subject"] != "Finish signing up for Acme Live" {
				t.Errorf("outbox subject = %v", row["subject"])
			}
			if id := fmt.Sprint(row["id"]); !idRe("message", tenant.Live).MatchString(id) || !strings.Contains(m.header.Get("Message-Id"), id) {
				t.Errorf("Message-ID %q does not carry the outbox id %s", m.header.Get("Message-Id"), id)
			}

			// The emailed link works end to end on the live project.
			r = h.do("GET", link, nil, noAuth)
			if want := "https://app.example/auth?stytch_token_type=magic_links&token=" + url.QueryEscape(token); r.status != 302 || r.header.Get("Location") != want {
				t.Fatalf("redirect = %d %q, want %q", r.status, r.header.Get("Location"), want)
			}
			r = live.ok(200, "POST", "/v1/magic_links/authenticate", map[string]any{"token": token, "session_duration_minutes": 60})
			a := into[authJSON](t, r)
			if !idRe("session", tenant.Live).MatchString(a.Session.SessionID) || a.UserID != sent.UserID || !a.User.Emails[0].Verified {
				t.Errorf("live authenticate = %s", r.raw)
			}
			if kid, _ := decodeJWT(t, a.SessionJWT).header["kid"].(string); !strings.HasPrefix(kid, "jwk-live-") {
				t.Errorf("live kid = %s", kid)
			}
		})
	}
}

func TestDeliverySMTPFailures(t *testing.T) {
	t.Parallel()
	s := newSMTPSetup(t, smtp.TLSNone)
	h, live := s.h, s.live

	// 550: permanent. The message fails once and is never retried.
	stop := s.workers(t)
	live.ok(200, "POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": "reject-perm@example.com"})
	if e := s.peer.next(t); e.kind != "rejected" || e.rcpt != "reject-perm@example.com" {
		t.Fatalf("peer saw %s %s", e.kind, e.rcpt)
	}
	stop()
	row := s.outboxRow(t, "reject-perm@example.com")
	if row["status"] != "failed" || row["attempts"].(int64) != 1 || !strings.Contains(fmt.Sprint(row["last_error"]), "550") {
		t.Fatalf("after 550: status %v attempts %v last_error %v", row["status"], row["attempts"], row["last_error"])
	}

	// Long after any backoff, a new worker run delivers new mail and leaves
	// the failed message alone. Were it still due, it would be leased first
	// (it is older), so the next event would be a second rejection.
	h.clock.Advance(2 * time.Hour)
	stop = s.workers(t)
	live.ok(200, "POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": "ok@example.com"})
	if e := s.peer.next(t); e.kind != "delivered" || e.rcpt != "ok@example.com" {
		t.Fatalf("peer saw %s %s, want delivery to ok@example.com", e.kind, e.rcpt)
	}

	// 451: temporary. The message stays pending and is retried after backoff.
	// The same worker run goes on: a request racing its MarkSent once hung on
	// sqlstore's statement cache (fixed; TestPrepareWaitingForWriterDoesNotBlockTx).
	live.ok(200, "POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": "reject-temp@example.com"})
	if e := s.peer.next(t); e.kind != "rejected" || e.rcpt != "reject-temp@example.com" {
		t.Fatalf("peer saw %s %s", e.kind, e.rcpt)
	}
	stop() // the failure is recorded before the worker returns
	row = s.outboxRow(t, "reject-temp@example.com")
	if row["status"] != "pending" || row["attempts"].(int64) != 1 {
		t.Fatalf("after one 451: status %v attempts %v", row["status"], row["attempts"])
	}
	h.clock.Advance(3 * time.Second) // past the first backoff (2s)
	stop = s.workers(t)
	if e := s.peer.next(t); e.kind != "rejected" || e.rcpt != "reject-temp@example.com" {
		t.Fatalf("peer saw %s %s, want the retry", e.kind, e.rcpt)
	}
	stop()

	if n := s.peer.count("rejected", "reject-perm@example.com"); n != 1 {
		t.Errorf("the 550 recipient was tried %d times, want 1", n)
	}
	row = s.outboxRow(t, "reject-perm@example.com")
	if row["status"] != "failed" || row["attempts"].(int64) != 1 {
		t.Errorf("failed message changed: status %v attempts %v", row["status"], row["attempts"])
	}
	row = s.outboxRow(t, "reject-temp@example.com")
	if row["status"] != "pending" || row["attempts"].(int64) != 2 || !strings.Contains(fmt.Sprint(row["last_error"]), "451") {
		t.Errorf("after two 451s: status %v attempts %v last_error %v", row["status"], row["attempts"], row["last_error"])
	}
	// Bodies of undelivered mail are kept for the retry.
	if row["body_text"] == "" || row["token"] == "" {
		t.Error("pending message lost its body")
	}
	if row := s.outboxRow(t, "ok@example.com"); row["status"] != "sent" {
		t.Errorf("ok@example.com status %v", row["status"])
	}
}

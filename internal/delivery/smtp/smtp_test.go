package smtp

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gosasl "github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
	mail "github.com/wneessen/go-mail"
)

const (
	testUser = "latch-relay"
	testPass = "s3cret-Pa55word!"
	testFrom = "Latch <no-reply@latch.example>"
)

// testCert is a self-signed ECDSA certificate for 127.0.0.1 and localhost,
// and a pool that trusts it.
type testCert struct {
	cert tls.Certificate
	pool *x509.CertPool
}

func newTestCert(t *testing.T) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		t.Fatalf("serial: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "latch smtp test peer"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create certificate: %v", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return testCert{
		cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		pool: pool,
	}
}

func (c testCert) serverConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.cert}, MinVersion: tls.VersionTLS12}
}

// delivery is one message the peer accepted.
type delivery struct {
	from string
	to   []string
	data []byte
	tls  bool   // connection was TLS when MAIL FROM arrived
	user string // authenticated user, "" if none
}

type peerOptions struct {
	tls      *tls.Config // nil: no STARTTLS offered
	implicit bool        // TLS from the first byte (needs tls)
	user     string      // non-empty: AUTH PLAIN offered and required
	pass     string
}

// peer is a real SMTP server (emersion/go-smtp) on 127.0.0.1:0.
//
// Recipients whose local part starts with "reject-perm" are refused with 550,
// "reject-temp" with 451, and "reject-data" get a 554 after DATA.
type peer struct {
	port int
	opts peerOptions

	mu         sync.Mutex
	deliveries []delivery
	authFails  int
}

func startPeer(t *testing.T, opts peerOptions) *peer {
	t.Helper()
	p := &peer{opts: opts}

	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		return &peerSession{peer: p, conn: c}, nil
	}))
	srv.Domain = "peer.test"
	srv.TLSConfig = opts.tls
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = newTestLogger(t)

	var (
		ln  net.Listener
		err error
	)
	if opts.implicit {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", opts.tls)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	p.port = ln.Addr().(*net.TCPAddr).Port

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("peer did not shut down cleanly (a client connection was left open?): %v", err)
			_ = srv.Close()
		}
		// Serve registers ln with the server only once its goroutine runs, so a
		// Shutdown that comes first would not close it.
		_ = ln.Close()
		if err := <-served; err != nil {
			t.Errorf("peer Serve: %v", err)
		}
	})
	return p
}

func (p *peer) snapshot() ([]delivery, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]delivery(nil), p.deliveries...), p.authFails
}

type peerSession struct {
	peer   *peer
	conn   *gosmtp.Conn
	authed string
	from   string
	to     []string
	tls    bool
}

func (s *peerSession) AuthMechanisms() []string {
	if s.peer.opts.user == "" {
		return nil
	}
	return []string{gosasl.Plain}
}

func (s *peerSession) Auth(mech string) (gosasl.Server, error) {
	if mech != gosasl.Plain || s.peer.opts.user == "" {
		return nil, gosmtp.ErrAuthUnknownMechanism
	}
	return gosasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.peer.opts.user || password != s.peer.opts.pass {
			s.peer.mu.Lock()
			s.peer.authFails++
			s.peer.mu.Unlock()
			return gosmtp.ErrAuthFailed
		}
		s.authed = username
		return nil
	}), nil
}

func (s *peerSession) Mail(from string, _ *gosmtp.MailOptions) error {
	if s.peer.opts.user != "" && s.authed == "" {
		return gosmtp.ErrAuthRequired
	}
	_, s.tls = s.conn.TLSConnectionState()
	s.from = from
	return nil
}

func (s *peerSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	switch {
	case strings.HasPrefix(to, "reject-perm"):
		return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	case strings.HasPrefix(to, "reject-temp"):
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
		if strings.HasPrefix(to, "reject-data") {
			return &gosmtp.SMTPError{Code: 554, EnhancedCode: gosmtp.EnhancedCode{5, 6, 0}, Message: "Content rejected"}
		}
	}
	s.peer.mu.Lock()
	s.peer.deliveries = append(s.peer.deliveries, delivery{
		from: s.from, to: append([]string(nil), s.to...), data: data, tls: s.tls, user: s.authed,
	})
	s.peer.mu.Unlock()
	return nil
}

func (s *peerSession) Reset() {
	s.from, s.to, s.tls = "", nil, false
}

func (s *peerSession) Logout() error { return nil }

// testLogger forwards the peer's error log to the test log until the test ends.
type testLogger struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func newTestLogger(t *testing.T) *testLogger {
	l := &testLogger{t: t}
	t.Cleanup(func() {
		l.mu.Lock()
		l.done = true
		l.mu.Unlock()
	})
	return l
}

func (l *testLogger) Printf(format string, v ...any) { l.log(fmt.Sprintf(format, v...)) }
func (l *testLogger) Println(v ...any)               { l.log(fmt.Sprintln(v...)) }
func (l *testLogger) log(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Log("peer: " + strings.TrimSpace(s))
	}
}

func newSender(t *testing.T, cfg Config) *Sender {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// parsedMessage is what a recipient would see.
type parsedMessage struct {
	header netmail.Header
	parts  map[string]string // media type -> decoded body
}

func parseMessage(t *testing.T, data []byte) parsedMessage {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("net/mail cannot parse the delivered message: %v\n%s", err, data)
	}
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type: %v", err)
	}
	if mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q, want multipart/alternative\n%s", mediaType, data)
	}
	parts := map[string]string{}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		// NextPart decodes quoted-printable parts transparently.
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		pt, pparams, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("part Content-Type: %v", err)
		}
		if cs := pparams["charset"]; !strings.EqualFold(cs, "utf-8") {
			t.Errorf("part %s charset = %q, want UTF-8", pt, cs)
		}
		body, err := io.ReadAll(part)
		if err != nil {
			t.Fatalf("part %s: %v", pt, err)
		}
		if _, dup := parts[pt]; dup {
			t.Fatalf("two %s parts", pt)
		}
		parts[pt] = string(body)
	}
	return parsedMessage{header: m.Header, parts: parts}
}

func decodeHeader(t *testing.T, v string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		t.Fatalf("decode header %q: %v", v, err)
	}
	return s
}

func TestSendStartTLSWithAuth(t *testing.T) {
	cert := newTestCert(t)
	p := startPeer(t, peerOptions{tls: cert.serverConfig(), user: testUser, pass: testPass})
	s := newSender(t, Config{
		Host: "127.0.0.1", Port: p.port, Username: testUser, Password: testPass,
		From: testFrom, TLS: TLSStartTLS, RootCAs: cert.pool,
	})

	// Multi-line bodies use CRLF: that is what SMTP carries, so they survive
	// the round trip byte for byte.
	msg := Message{
		To:        "Ada Lovelace <ada@example.org>",
		Subject:   "Your Latch sign-in code — 123456",
		Text:      "Hello Ada,\r\n\r\nYour code is 123456. It expires in 10 minutes.\r\nNon-ASCII: héllo wörld ✓ and a long line that has to be wrapped by quoted-printable soft line breaks because it is way longer than seventy-six characters.",
		HTML:      `<!doctype html><html><body><p style="color:#333">Hello Ada,</p><p>Your code is <b>123456</b>.</p><p>héllo ✓ =3D not an escape</p></body></html>`,
		MessageID: "outbox-42.attempt@latch.example",
	}
	if err := s.Send(testContext(t), msg); err != nil {
		t.Fatalf("Send: %v", err)
	}

	ds, _ := p.snapshot()
	if len(ds) != 1 {
		t.Fatalf("peer recorded %d deliveries, want 1", len(ds))
	}
	d := ds[0]
	if !d.tls {
		t.Error("peer saw MAIL FROM on a non-TLS connection; STARTTLS was not used")
	}
	if d.user != testUser {
		t.Errorf("authenticated user = %q, want %q", d.user, testUser)
	}
	if d.from != "no-reply@latch.example" {
		t.Errorf("envelope from = %q", d.from)
	}
	if len(d.to) != 1 || d.to[0] != "ada@example.org" {
		t.Errorf("envelope to = %q, want [ada@example.org]", d.to)
	}

	pm := parseMessage(t, d.data)
	if got := decodeHeader(t, pm.header.Get("Subject")); got != msg.Subject {
		t.Errorf("Subject = %q, want %q", got, msg.Subject)
	}
	if got := pm.header.Get("Message-ID"); got != "<outbox-42.attempt@latch.example>" {
		t.Errorf("Message-ID = %q", got)
	}
	from, err := pm.header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Address != "no-reply@latch.example" || from[0].Name != "Latch" {
		t.Errorf("From = %v (%v)", from, err)
	}
	to, err := pm.header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Address != "ada@example.org" || to[0].Name != "Ada Lovelace" {
		t.Errorf("To = %v (%v)", to, err)
	}
	if _, err := pm.header.Date(); err != nil {
		t.Errorf("Date header: %v", err)
	}
	if got := pm.parts["text/plain"]; got != msg.Text {
		t.Errorf("text/plain part =\n%q\nwant\n%q", got, msg.Text)
	}
	if got := pm.parts["text/html"]; got != msg.HTML {
		t.Errorf("text/html part =\n%q\nwant\n%q", got, msg.HTML)
	}
	if len(pm.parts) != 2 {
		t.Errorf("got parts %v, want exactly text/plain and text/html", slices.Sorted(maps.Keys(pm.parts)))
	}
	if bytes.Contains(d.data, []byte(testPass)) {
		t.Error("the password appears in the message data")
	}
}

func TestSendImplicitTLSWithAuth(t *testing.T) {
	cert := newTestCert(t)
	p := startPeer(t, peerOptions{tls: cert.serverConfig(), implicit: true, user: testUser, pass: testPass})
	// "localhost" exercises the DNS SAN (the STARTTLS test uses the IP SAN).
	s := newSender(t, Config{
		Host: "localhost", Port: p.port, Username: testUser, Password: testPass,
		From: "no-reply@latch.example", TLS: TLSImplicit, RootCAs: cert.pool,
	})
	err := s.Send(testContext(t), Message{
		To: "bob@example.org", Subject: "Hi", Text: "plain", HTML: "<p>html</p>", MessageID: "<row-7@latch.example>",
	})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	ds, _ := p.snapshot()
	if len(ds) != 1 {
		t.Fatalf("peer recorded %d deliveries, want 1", len(ds))
	}
	if !ds[0].tls || ds[0].user != testUser {
		t.Errorf("delivery tls=%v user=%q, want TLS and %q", ds[0].tls, ds[0].user, testUser)
	}
	pm := parseMessage(t, ds[0].data)
	if got := pm.header.Get("Message-ID"); got != "<row-7@latch.example>" {
		t.Errorf("Message-ID = %q", got)
	}
	if pm.parts["text/plain"] != "plain" || pm.parts["text/html"] != "<p>html</p>" {
		t.Errorf("parts = %q", pm.parts)
	}
}

func TestImplicitTLSRejectsUntrustedCertificate(t *testing.T) {
	cert := newTestCert(t)
	p := startPeer(t, peerOptions{tls: cert.serverConfig(), implicit: true})
	s := newSender(t, Config{
		Host: "127.0.0.1", Port: p.port, From: "no-reply@latch.example", TLS: TLSImplicit,
		RootCAs: x509.NewCertPool(), // trusts nothing
	})
	err := s.Send(testContext(t), Message{To: "bob@example.org", Subject: "x", Text: "x"})
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("Send error = %v, want an x509.UnknownAuthorityError", err)
	}
	if IsPermanent(err) {
		t.Error("IsPermanent = true for a TLS verification failure, want false")
	}
	if ds, _ := p.snapshot(); len(ds) != 0 {
		t.Errorf("peer recorded %d deliveries, want 0", len(ds))
	}
}

func TestSendWrongPasswordIsPermanent(t *testing.T) {
	cert := newTestCert(t)
	p := startPeer(t, peerOptions{tls: cert.serverConfig(), user: testUser, pass: testPass})
	const wrong = "not-the-Password-42"
	s := newSender(t, Config{
		Host: "127.0.0.1", Port: p.port, Username: testUser, Password: wrong,
		From: testFrom, TLS: TLSStartTLS, RootCAs: cert.pool,
	})
	err := s.Send(testContext(t), Message{To: "ada@example.org", Subject: "x", Text: "x", HTML: "<p>x</p>"})
	if err == nil {
		t.Fatal("Send succeeded with a wrong password")
	}
	t.Logf("Send error: %v", err)
	if !IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = false, want true", err)
	}
	var pe *textproto.Error
	if !errors.As(err, &pe) || pe.Code != 535 {
		t.Errorf("error does not wrap the 535 reply: %v", err)
	}
	blob := base64.StdEncoding.EncodeToString([]byte("\x00" + testUser + "\x00" + wrong))
	if msg := err.Error(); strings.Contains(msg, wrong) || strings.Contains(msg, blob) {
		t.Errorf("error leaks the password: %v", err)
	}
	ds, fails := p.snapshot()
	if len(ds) != 0 || fails != 1 {
		t.Errorf("peer: %d deliveries, %d auth failures; want 0 and 1", len(ds), fails)
	}
}

func TestSendRejectedRecipient(t *testing.T) {
	cert := newTestCert(t)
	p := startPeer(t, peerOptions{tls: cert.serverConfig(), user: testUser, pass: testPass})
	s := newSender(t, Config{
		Host: "127.0.0.1", Port: p.port, Username: testUser, Password: testPass,
		From: testFrom, TLS: TLSStartTLS, RootCAs: cert.pool,
	})
	for _, tc := range []struct {
		to        string
		code      int
		permanent bool
	}{
		{"reject-perm@example.org", 550, true},
		{"reject-temp@example.org", 451, false},
		{"reject-data@example.org", 554, true},
	} {
		t.Run(tc.to, func(t *testing.T) {
			err := s.Send(testContext(t), Message{To: tc.to, Subject: "x", Text: "x", HTML: "<p>x</p>", MessageID: "m1"})
			if err == nil {
				t.Fatal("Send succeeded, want a rejection")
			}
			t.Logf("Send error: %v", err)
			var se *mail.SendError
			if !errors.As(err, &se) {
				t.Fatalf("error does not wrap a go-mail SendError: %v", err)
			}
			if se.ErrorCode() != tc.code {
				t.Errorf("SendError.ErrorCode() = %d, want %d (%v)", se.ErrorCode(), tc.code, err)
			}
			if got := IsPermanent(err); got != tc.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, got, tc.permanent)
			}
		})
	}
	if ds, _ := p.snapshot(); len(ds) != 0 {
		t.Errorf("peer recorded %d deliveries, want 0", len(ds))
	}
}

func TestStartTLSRequiredButNotOffered(t *testing.T) {
	cert := newTestCert(t)
	p := startPeer(t, peerOptions{}) // no TLS config: no STARTTLS in EHLO
	s := newSender(t, Config{
		Host: "127.0.0.1", Port: p.port, From: testFrom, TLS: TLSStartTLS, RootCAs: cert.pool,
	})
	err := s.Send(testContext(t), Message{To: "ada@example.org", Subject: "x", Text: "x", HTML: "<p>x</p>"})
	if err == nil {
		t.Fatal("Send succeeded over plaintext although STARTTLS is mandatory")
	}
	t.Logf("Send error: %v", err)
	if !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("error does not mention STARTTLS: %v", err)
	}
	if IsPermanent(err) {
		t.Errorf("IsPermanent = true for a missing STARTTLS, want false: %v", err)
	}
	if ds, _ := p.snapshot(); len(ds) != 0 {
		t.Errorf("peer recorded %d deliveries, want 0", len(ds))
	}
}

func TestSendPlaintextLoopback(t *testing.T) {
	p := startPeer(t, peerOptions{})
	s := newSender(t, Config{Host: "127.0.0.1", Port: p.port, From: testFrom, TLS: TLSNone})
	if err := s.Send(testContext(t), Message{To: "ada@example.org", Subject: "x", Text: "t", HTML: "<i>h</i>"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	ds, _ := p.snapshot()
	if len(ds) != 1 || ds[0].tls {
		t.Fatalf("deliveries = %+v, want one over plaintext", ds)
	}
	pm := parseMessage(t, ds[0].data)
	id := pm.header.Get("Message-ID")
	if !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, ">") || !strings.Contains(id, "@") {
		t.Errorf("generated Message-ID = %q", id)
	}
}

func TestMessageIDWithoutDomainGetsFromDomain(t *testing.T) {
	s := newSender(t, Config{Host: "127.0.0.1", Port: 25, From: testFrom, TLS: TLSNone})
	for raw, want := range map[string]string{
		"42":                   "42@latch.example",
		"<42>":                 "42@latch.example",
		"a.b@c.example":        "a.b@c.example",
		"<outbox-1@x.example>": "outbox-1@x.example",
	} {
		got, err := s.messageID(raw)
		if err != nil || got != want {
			t.Errorf("messageID(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, raw := range []string{"<>", "a b@x", "a\r\nBcc: evil@x", "<a<b>", "é@x"} {
		if _, err := s.messageID(raw); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("messageID(%q) error = %v, want ErrInvalidMessage", raw, err)
		}
	}
}

func TestSendInvalidMessageIsPermanentAndDoesNotConnect(t *testing.T) {
	p := startPeer(t, peerOptions{})
	s := newSender(t, Config{Host: "127.0.0.1", Port: p.port, From: testFrom, TLS: TLSNone})
	for name, m := range map[string]Message{
		"bad recipient":     {To: "not an address", Text: "x"},
		"header injection":  {To: "ada@example.org\r\nBcc: eve@example.org", Text: "x"},
		"no body":           {To: "ada@example.org"},
		"bad message id":    {To: "ada@example.org", Text: "x", MessageID: "a b"},
		"empty bracket mid": {To: "ada@example.org", Text: "x", MessageID: "<>"},
	} {
		err := s.Send(testContext(t), m)
		if !errors.Is(err, ErrInvalidMessage) || !IsPermanent(err) {
			t.Errorf("%s: error = %v (permanent %v), want a permanent ErrInvalidMessage", name, err, IsPermanent(err))
		}
	}
	if ds, _ := p.snapshot(); len(ds) != 0 {
		t.Errorf("peer recorded %d deliveries, want 0", len(ds))
	}
}

func TestNewValidation(t *testing.T) {
	_, err := New(Config{Host: "", Port: 0, From: "not an address <", TLS: "ssl-please", Timeout: -time.Second})
	if err == nil {
		t.Fatal("New accepted an invalid config")
	}
	msg := err.Error()
	for _, want := range []string{"host is required", "port 0", `from "not an address <"`, `tls mode "ssl-please" is unknown`, "timeout -1s"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not name %q:\n%s", want, msg)
		}
	}
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 5 {
		t.Errorf("got %d joined problems, want 5:\n%s", n, msg)
	}

	for name, tc := range map[string]struct {
		cfg  Config
		want string
	}{
		"empty tls":         {Config{Host: "h", Port: 25, From: "a@b.c"}, "tls mode is required"},
		"empty from":        {Config{Host: "h", Port: 25, TLS: TLSStartTLS}, "from is required"},
		"port too big":      {Config{Host: "h", Port: 70000, From: "a@b.c", TLS: TLSStartTLS}, "port 70000"},
		"host with space":   {Config{Host: "mail example", Port: 25, From: "a@b.c", TLS: TLSStartTLS}, "host"},
		"plain auth remote": {Config{Host: "mail.example", Port: 25, Username: "u", Password: "p", From: "a@b.c", TLS: TLSNone}, "AUTH PLAIN over plaintext"},
		"password no user":  {Config{Host: "h", Port: 25, Password: "p", From: "a@b.c", TLS: TLSStartTLS}, "username is empty"},
	} {
		_, err := New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New error = %v, want one containing %q", name, err, tc.want)
		}
	}

	if _, err := New(Config{Host: "127.0.0.1", Port: 25, Username: "u", Password: "p", From: "a@b.c", TLS: TLSNone}); err != nil {
		t.Errorf("plaintext AUTH to loopback rejected: %v", err)
	}
	s, err := New(Config{Host: "smtp.example.com", Port: 587, Username: "u", Password: "p", From: "Latch <a@b.c>", TLS: TLSStartTLS})
	if err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
	if s.timeout != DefaultTimeout {
		t.Errorf("default timeout = %s, want %s", s.timeout, DefaultTimeout)
	}
}

func TestConfigFormattingRedactsPassword(t *testing.T) {
	cfg := Config{Host: "h", Port: 25, Username: "u", Password: testPass, From: "a@b.c", TLS: TLSStartTLS}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(verb, cfg); strings.Contains(out, testPass) {
			t.Errorf("%s of Config leaks the password: %s", verb, out)
		}
	}
	s := newSender(t, cfg)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(verb, s); strings.Contains(out, testPass) {
			t.Errorf("%s of *Sender leaks the password: %s", verb, out)
		}
	}
	if out := fmt.Sprint(cfg.LogValue()); strings.Contains(out, testPass) {
		t.Errorf("LogValue leaks the password: %s", out)
	}
}

// silentListener accepts connections and never writes a byte (no greeting).
type silentListener struct {
	port     int
	accepted chan struct{} // receives once per accepted connection
}

func startSilentListener(t *testing.T) *silentListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	sl := &silentListener{port: ln.Addr().(*net.TCPAddr).Port, accepted: make(chan struct{}, 16)}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case sl.accepted <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return sl
}

func TestSendTimeoutAgainstSilentServer(t *testing.T) {
	for _, mode := range []TLSMode{TLSStartTLS, TLSImplicit} {
		t.Run(string(mode), func(t *testing.T) {
			sl := startSilentListener(t)
			const timeout = 300 * time.Millisecond
			s := newSender(t, Config{Host: "127.0.0.1", Port: sl.port, From: testFrom, TLS: mode, Timeout: timeout})

			start := time.Now()
			err := s.Send(context.Background(), Message{To: "ada@example.org", Subject: "x", Text: "x", HTML: "<p>x</p>"})
			elapsed := time.Since(start)

			if err == nil {
				t.Fatal("Send succeeded against a server that never speaks")
			}
			t.Logf("Send error after %s: %v", elapsed, err)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error does not wrap context.DeadlineExceeded: %v", err)
			}
			if IsPermanent(err) {
				t.Errorf("IsPermanent = true for a timeout: %v", err)
			}
			// Generous slack for a loaded -race run; the point is that it is
			// bounded by Timeout and not by go-mail's or the OS's defaults.
			if elapsed > timeout+2*time.Second {
				t.Errorf("Send took %s with Timeout %s", elapsed, timeout)
			}
		})
	}
}

func TestSendHonoursContextCancellation(t *testing.T) {
	sl := startSilentListener(t)
	// Default 30s Timeout: only the cancellation can end this send in time.
	s := newSender(t, Config{Host: "127.0.0.1", Port: sl.port, From: testFrom, TLS: TLSStartTLS})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-sl.accepted: // the client is connected and waiting for the greeting
			cancel()
		case <-ctx.Done():
		}
	}()

	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- s.Send(ctx, Message{To: "ada@example.org", Subject: "x", Text: "x"}) }()

	select {
	case err := <-done:
		t.Logf("Send error after %s: %v", time.Since(start), err)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error does not wrap context.Canceled: %v", err)
		}
		if IsPermanent(err) {
			t.Errorf("IsPermanent = true for a cancellation: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("Send still running %s after its context was cancelled", time.Since(start))
	}
}

func TestSendAlreadyCancelledContext(t *testing.T) {
	sl := startSilentListener(t)
	s := newSender(t, Config{Host: "127.0.0.1", Port: sl.port, From: testFrom, TLS: TLSStartTLS})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Send(ctx, Message{To: "ada@example.org", Subject: "x", Text: "x"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error does not wrap context.Canceled: %v", err)
	}
}

func TestIsPermanent(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errors.New("boom"), false},
		{"timeout", fmt.Errorf("x: %w", context.DeadlineExceeded), false},
		{"535 auth", fmt.Errorf("dial failed: %w", fmt.Errorf("SMTP AUTH failed: %w", &textproto.Error{Code: 535, Msg: "nope"})), true},
		{"454 auth", fmt.Errorf("dial failed: %w", &textproto.Error{Code: 454, Msg: "later"}), false},
		{"invalid message", fmt.Errorf("%w: x", ErrInvalidMessage), true},
		{"net error", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, false},
	} {
		if got := IsPermanent(tc.err); got != tc.want {
			t.Errorf("%s: IsPermanent(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

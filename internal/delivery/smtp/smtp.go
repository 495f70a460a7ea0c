package smtp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"
)

// TLSMode says how the connection to the server is secured.
type TLSMode string

const (
	// TLSStartTLS connects in plaintext and then requires STARTTLS; the send
	// fails if the server does not offer it.
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte (port 465 style).
	TLSImplicit TLSMode = "implicit"
	// TLSNone is plaintext, for loopback relays only.
	TLSNone TLSMode = "none"
)

// DefaultTimeout bounds one send when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// ErrInvalidMessage is wrapped by Send when the Message itself cannot be sent
// (unparseable recipient, no body, malformed Message-ID). Retrying such a
// message cannot succeed, so IsPermanent reports true for it.
var ErrInvalidMessage = errors.New("smtp: invalid message")

// Config describes the SMTP relay that Latch sends through.
type Config struct {
	Host     string
	Port     int
	Username string // empty means no AUTH
	Password string
	From     string // "Name <addr>" or "addr"
	TLS      TLSMode
	// RootCAs verifies the server certificate; nil means the system pool.
	RootCAs *x509.CertPool
	// Timeout bounds one whole send (dial + conversation); zero means 30s.
	Timeout time.Duration
}

// String describes the config without the password, so a Config that ends up
// in a log line or an error does not leak it.
func (c Config) String() string {
	return fmt.Sprintf("smtp.Config{Host:%q Port:%d Username:%q Password:%s From:%q TLS:%q Timeout:%s}",
		c.Host, c.Port, c.Username, redacted(c.Password), c.From, c.TLS, c.Timeout)
}

// GoString is String, so %#v does not print the password either.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without the password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", c.Host),
		slog.Int("port", c.Port),
		slog.String("username", c.Username),
		slog.String("password", redacted(c.Password)),
		slog.String("from", c.From),
		slog.String("tls", string(c.TLS)),
		slog.Duration("timeout", c.Timeout),
	)
}

func redacted(secret string) string {
	if secret == "" {
		return `""`
	}
	return "[REDACTED]"
}

// Message is one email with both a text and an HTML body (multipart/alternative).
// If only one of Text and HTML is set, a single-part message of that type is
// sent; at least one must be set.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
	// MessageID, when set, becomes the Message-ID header so retries of the same
	// outbox row are recognisable. Surrounding angle brackets are optional. An
	// ID without "@" gets "@" and the From address's domain appended, since
	// RFC 5322 requires a msg-id of the form left@right. When empty, a random
	// Message-ID is generated.
	MessageID string
}

// Sender sends messages through one configured SMTP relay. It is safe for
// concurrent use: every Send opens its own connection.
type Sender struct {
	host     string
	port     int
	username string
	password string
	from     netmail.Address
	tlsMode  TLSMode
	rootCAs  *x509.CertPool
	timeout  time.Duration
}

// String describes the sender without the password.
func (s *Sender) String() string {
	return fmt.Sprintf("smtp.Sender{%s tls=%s auth=%t}",
		net.JoinHostPort(s.host, strconv.Itoa(s.port)), s.tlsMode, s.username != "")
}

// GoString is String, so %#v does not print the password either.
func (s *Sender) GoString() string { return s.String() }

// New validates cfg and returns a Sender. All problems found are returned
// joined, each naming the offending field.
func New(cfg Config) (*Sender, error) {
	var problems []error
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf("smtp: config: "+format, args...))
	}

	host := strings.TrimSpace(cfg.Host)
	switch {
	case host == "":
		bad("host is required")
	case strings.ContainsAny(host, " \t\r\n/"):
		bad("host %q is not a host name or IP address", cfg.Host)
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		bad("port %d is out of range 1-65535", cfg.Port)
	}

	var from netmail.Address
	if strings.TrimSpace(cfg.From) == "" {
		bad("from is required")
	} else if a, err := netmail.ParseAddress(cfg.From); err != nil {
		bad("from %q is not a valid address: %v", cfg.From, err)
	} else {
		from = *a
	}

	switch cfg.TLS {
	case TLSStartTLS, TLSImplicit:
	case TLSNone:
		// go-mail refuses AUTH PLAIN over plaintext unless the server name is
		// literally a loopback name; say so now rather than on every send.
		if cfg.Username != "" && !isLoopbackName(host) {
			bad("tls %q with a username: AUTH PLAIN over plaintext is only allowed to localhost, 127.0.0.1 or ::1", cfg.TLS)
		}
	case "":
		bad("tls mode is required (one of %q, %q, %q)", TLSStartTLS, TLSImplicit, TLSNone)
	default:
		bad("tls mode %q is unknown (want one of %q, %q, %q)", cfg.TLS, TLSStartTLS, TLSImplicit, TLSNone)
	}

	if cfg.Timeout < 0 {
		bad("timeout %s is negative", cfg.Timeout)
	}
	if cfg.Username == "" && cfg.Password != "" {
		bad("password is set but username is empty")
	}

	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}

	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return &Sender{
		host:     host,
		port:     cfg.Port,
		username: cfg.Username,
		password: cfg.Password,
		from:     from,
		tlsMode:  cfg.TLS,
		rootCAs:  cfg.RootCAs,
		timeout:  timeout,
	}, nil
}

// isLoopbackName mirrors go-mail's own exception for unencrypted PLAIN auth.
func isLoopbackName(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// Send delivers m in one SMTP transaction. It returns once the server has
// accepted the message (250 after DATA), or with an error that wraps the
// underlying cause; use IsPermanent to decide whether to retry. The whole send
// (dial, TLS, AUTH and conversation) is bounded by ctx and by Config.Timeout:
// when either ends, the connection is closed and Send returns an error that
// also wraps ctx's error (context.DeadlineExceeded or context.Canceled).
func (s *Sender) Send(ctx context.Context, m Message) error {
	msg, err := s.buildMsg(m)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()

	client, err := s.newClient(ctx)
	if err != nil {
		return fmt.Errorf("smtp: configuring client: %w", err)
	}

	err = client.DialAndSendWithContext(ctx, msg)
	if err == nil {
		return nil
	}
	if msg.IsDelivered() {
		// The server accepted the message (250 after DATA); only QUIT or the
		// connection teardown failed. Reporting an error here would make the
		// outbox send the email a second time.
		return nil
	}
	addr := net.JoinHostPort(s.host, strconv.Itoa(s.port))
	if ctxErr := sendContextErr(ctx); ctxErr != nil {
		return fmt.Errorf("smtp: sending via %s: %w: %w", addr, ctxErr, err)
	}
	return fmt.Errorf("smtp: sending via %s: %w", addr, err)
}

// sendContextErr returns why ctx ended, or nil if it has not. go-mail puts an
// I/O deadline on the socket that is never earlier than ctx's deadline, and it
// can fire a moment before ctx's own timer does; a send that failed after the
// deadline has passed is reported as context.DeadlineExceeded either way.
func sendContextErr(ctx context.Context) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// buildMsg turns m into a go-mail message, validating everything that does not
// need the server.
func (s *Sender) buildMsg(m Message) (*mail.Msg, error) {
	to, err := netmail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("%w: recipient %q: %v", ErrInvalidMessage, m.To, err)
	}
	if m.Text == "" && m.HTML == "" {
		return nil, fmt.Errorf("%w: no text or HTML body", ErrInvalidMessage)
	}

	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	from := s.from
	msg.FromMailAddress(&from)
	msg.ToMailAddress(to)
	msg.Subject(m.Subject)
	msg.SetDate()
	if m.MessageID != "" {
		id, err := s.messageID(m.MessageID)
		if err != nil {
			return nil, err
		}
		msg.SetMessageIDWithValue(id)
	} else {
		msg.SetMessageID()
	}

	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(mail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	case m.Text != "":
		msg.SetBodyString(mail.TypeTextPlain, m.Text)
	default:
		msg.SetBodyString(mail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// messageID normalises a caller-supplied Message-ID to the part between the
// angle brackets (go-mail adds them), rejecting anything that would not be a
// single valid header token.
func (s *Sender) messageID(raw string) (string, error) {
	id := raw
	if strings.HasPrefix(id, "<") && strings.HasSuffix(id, ">") {
		id = id[1 : len(id)-1]
	}
	if id == "" {
		return "", fmt.Errorf("%w: empty Message-ID %q", ErrInvalidMessage, raw)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c <= ' ' || c >= 0x7f || c == '<' || c == '>' {
			return "", fmt.Errorf("%w: Message-ID %q contains a space, control, non-ASCII or angle-bracket character", ErrInvalidMessage, raw)
		}
	}
	if !strings.Contains(id, "@") {
		domain := s.from.Address[strings.LastIndexByte(s.from.Address, '@')+1:]
		id += "@" + domain
	}
	return id, nil
}

// newClient builds a go-mail client for one send. sendCtx is the context that
// bounds the whole send; the connection is closed as soon as it is done.
func (s *Sender) newClient(sendCtx context.Context) (*mail.Client, error) {
	opts := []mail.Option{
		mail.WithPort(s.port),
		mail.WithTimeout(s.timeout),
		mail.WithTLSConfig(s.tlsConfig()),
		mail.WithDialContextFunc(s.dialFunc(sendCtx)),
		// No NOOP before MAIL (it hides the server's reply code behind
		// ErrNoActiveConnection) and no RSET after a delivered message (a failing
		// RSET would otherwise turn a delivered message into an error).
		mail.WithoutNoop(),
		mail.WithoutRset(),
	}
	switch s.tlsMode {
	case TLSStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case TLSImplicit:
		// The TLS handshake itself happens in dialFunc (go-mail skips its own
		// TLS dialer when a dial function is set); WithSSL stops go-mail from
		// also attempting STARTTLS on the already encrypted connection.
		opts = append(opts, mail.WithSSL(), mail.WithTLSPolicy(mail.NoTLS))
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if s.username != "" {
		opts = append(opts,
			mail.WithSMTPAuth(mail.SMTPAuthPlain),
			mail.WithUsername(s.username),
			mail.WithPassword(s.password),
		)
	}
	return mail.NewClient(s.host, opts...)
}

func (s *Sender) tlsConfig() *tls.Config {
	return &tls.Config{
		ServerName: s.host,
		RootCAs:    s.rootCAs,
		MinVersion: tls.VersionTLS12,
	}
}

// dialFunc returns the dialer go-mail uses. go-mail only honours its context
// while dialing and bounds each later step with its own deadline, so the
// dialer ties the connection to sendCtx: when the send's context is cancelled
// or times out (or Send returns), the socket is closed, which unblocks any
// read or write in progress. It dials host and port itself so IPv6 literals
// work (go-mail formats the address as host:port without brackets).
func (s *Sender) dialFunc(sendCtx context.Context) mail.DialContextFunc {
	addr := net.JoinHostPort(s.host, strconv.Itoa(s.port))
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		raw, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		context.AfterFunc(sendCtx, func() { _ = raw.Close() })
		if s.tlsMode != TLSImplicit {
			return raw, nil
		}
		// Return the *tls.Conn itself: go-mail decides whether the session is
		// encrypted (and so whether AUTH PLAIN is allowed) by its type.
		conn := tls.Client(raw, s.tlsConfig())
		if err := conn.HandshakeContext(ctx); err != nil {
			_ = raw.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		return conn, nil
	}
}

// IsPermanent reports whether err means that sending the same message again
// cannot succeed, so the outbox should stop retrying it: a 5xx SMTP reply
// (recipient or sender rejected, message refused, authentication failed) or
// an ErrInvalidMessage. 4xx replies, network and TLS failures, timeouts and
// cancellations are temporary, as is any error it does not recognise.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrInvalidMessage) {
		return true
	}
	// Failures of MAIL FROM / RCPT TO / DATA come back as go-mail SendErrors
	// carrying the server's reply code (0 if the failure was not a reply). Its
	// IsTemp is not used: it is false for anything that is not a 4xx reply,
	// including network errors.
	var sendErr *mail.SendError
	if errors.As(err, &sendErr) {
		if code := sendErr.ErrorCode(); code != 0 {
			return code >= 500 && code <= 599
		}
	}
	// Failures before MAIL FROM (greeting, EHLO, AUTH) wrap the reply as a
	// *textproto.Error.
	var protoErr *textproto.Error
	if errors.As(err, &protoErr) {
		return protoErr.Code >= 500 && protoErr.Code <= 599
	}
	return false
}

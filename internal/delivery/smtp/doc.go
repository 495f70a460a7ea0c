// Package smtp owns Latch's outbound email transport: it turns one rendered
// message (a plain-text and an HTML body, a subject, one recipient and an
// optional stable Message-ID) into a single SMTP transaction against the
// operator's configured relay, using github.com/wneessen/go-mail as the client.
// It is responsible for validating the relay configuration, securing the
// connection (mandatory STARTTLS, implicit TLS, or plaintext for loopback
// relays), authenticating with AUTH PLAIN, bounding each send by a context and
// a timeout, and classifying failures with IsPermanent so the outbox worker
// knows whether to retry. It does not queue, render templates or retry; the
// outbox owns those.
package smtp

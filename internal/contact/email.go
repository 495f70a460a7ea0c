package contact

import (
	"errors"
	"net"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// ErrInvalidEmail is returned by NormalizeEmail for any address it rejects.
var ErrInvalidEmail = errors.New("invalid email")

const (
	maxEmailLen  = 254 // RFC 5321 path limit minus the angle brackets
	maxLocalLen  = 64
	maxDomainLen = 253
	maxLabelLen  = 63
	// maxEmailInput bounds the work done on hostile input: no address
	// whose normalised form fits in maxEmailLen bytes is this long.
	maxEmailInput = 4 * maxEmailLen
)

// NormalizeEmail validates and normalises an email address. It trims
// surrounding space and rejects display names ("Bob <b@x.com>"), angle
// brackets, comments, quoted local parts, a missing "@", an empty local part
// or domain, whitespace or control characters, domains without a dot
// ("user@localhost"), empty labels, labels longer than 63 octets or starting
// or ending with '-', and IP-literal domains ("user@[127.0.0.1]",
// "user@127.0.0.1"). The domain is converted to its ASCII (punycode) form with
// the idna Lookup profile and lower-cased; the local part is lower-cased too,
// since Stytch treats emails case-insensitively. Length limits (254 octets in
// all, 64 in the local part, 253 in the domain) apply to the normalised form.
//
// The error, if any, is ErrInvalidEmail.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxEmailInput || !utf8.ValidString(s) {
		return "", ErrInvalidEmail
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "", ErrInvalidEmail
		}
	}

	// net/mail does the RFC 5322 syntax check. Requiring the parsed address
	// to be the whole input rules out display names, <angle brackets>,
	// (comments) and "quoted" local parts, which it would otherwise unwrap.
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", ErrInvalidEmail
	}

	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", ErrInvalidEmail
	}
	local, domain := strings.ToLower(s[:at]), s[at+1:]

	domain, err = normalizeDomain(domain)
	if err != nil {
		return "", err
	}
	// Lower-casing can change a UTF-8 local part's length, so the limits are
	// checked on the result, which is what gets stored.
	if len(local) > maxLocalLen {
		return "", ErrInvalidEmail
	}
	out := local + "@" + domain
	if len(out) > maxEmailLen {
		return "", ErrInvalidEmail
	}
	return out, nil
}

// normalizeDomain returns the lower-case ASCII form of a mail domain.
func normalizeDomain(domain string) (string, error) {
	if strings.HasPrefix(domain, "[") || net.ParseIP(domain) != nil {
		return "", ErrInvalidEmail // IP literal
	}
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil {
		return "", ErrInvalidEmail
	}
	// idna validates some labels (the bidi rule, for one) before mapping
	// them, so a Unicode label can map to a punycode label that Lookup
	// itself rejects: "exℵample" becomes "xn--example-64i", which holds a
	// Hebrew letter among Latin ones. Insist that the result is accepted as
	// it stands, so that the normal form is a fixed point.
	if !isASCII(domain) {
		if again, err := idna.Lookup.ToASCII(ascii); err != nil || again != ascii {
			return "", ErrInvalidEmail
		}
	}
	ascii = strings.ToLower(ascii)
	if len(ascii) > maxDomainLen || !strings.Contains(ascii, ".") {
		return "", ErrInvalidEmail
	}
	labels := strings.Split(ascii, ".")
	for _, label := range labels {
		if label == "" || len(label) > maxLabelLen || label[0] == '-' || label[len(label)-1] == '-' {
			return "", ErrInvalidEmail
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return "", ErrInvalidEmail
			}
		}
	}
	// An all-numeric top-level label means a dotted-quad-like address such
	// as 1.2.3.999, never a real mail domain.
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		return "", ErrInvalidEmail
	}
	return ascii, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

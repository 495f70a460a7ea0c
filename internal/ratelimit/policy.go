package ratelimit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Class names a kind of endpoint; endpoints of one class share budgets.
type Class string

const (
	// Send: calls that email or text someone: magic link, OTP and password
	// reset sends, invites. Identifier: the recipient (email or phone), so
	// every kind of send to one inbox or phone draws from one budget.
	Send Class = "send"
	// Authenticate: calls that check a guessable secret: OTP codes,
	// passwords, magic link and reset tokens, TOTP and recovery codes.
	// Identifier: the account being guessed at (user id, email, method id).
	// Not sessions.authenticate: apps call it on every page, and a session
	// token is too long to guess.
	Authenticate Class = "authenticate"
	// Create: calls that create things: users.create, passwords.migrate,
	// totps.create. Identifier: the user or email created for.
	Create Class = "create"
	// IP: every send and authenticate call, keyed by the end user's IP (the
	// request's attributes.ip_address, else the connection's address).
	// Calls without attributes all come from the app's own server, so the
	// default is generous: it stops one address hammering, not an app.
	IP Class = "ip"
)

// Classes lists every Class, in the order documentation shows them.
func Classes() []Class { return []Class{Send, Authenticate, Create, IP} }

// ClassRules are the two budgets of a class. A zero Rule means no limit.
type ClassRules struct {
	PerProject    Rule // all calls of the class in one project
	PerIdentifier Rule // calls naming one identifier, in one project
}

// Policy maps each Class to its rules, with per-project overrides. It is an
// immutable value: With and WithProject return a new Policy, so one can be
// swapped in atomically while requests read the old one. The zero Policy
// knows no class; start from DefaultPolicy.
type Policy struct {
	classes  map[Class]ClassRules
	projects map[string]Overrides
	// key, when set, keys the identifier hash (HMAC-SHA256), so whoever
	// reads the limiter's keys (Redis) cannot test guessed email addresses
	// or phone numbers against them.
	key []byte
}

// WithIdentifierKey returns p hashing identifiers with HMAC-SHA256 under
// key. Replicas sharing a limiter must share the key.
func (p Policy) WithIdentifierKey(key []byte) Policy {
	p.key = slices.Clone(key)
	return p
}

// DefaultPolicy returns the rules Latch applies unless configured otherwise.
//
// Stytch publishes the shape of its limits more than the numbers: sends are
// limited per recipient (email magic link send, login_or_create and invite
// together at one a second per email; SMS sends per phone number and
// country prefix), OTP authenticate so codes cannot be brute forced, and
// users.create and passwords.migrate per project (passwords.migrate at 100
// requests a second). We keep that shape. Our per-recipient numbers are far
// tighter than one a second, because Stytch backs its limits with fraud
// detection and Latch has nothing behind these:
//
//   - send, per recipient: 10 an hour, burst 5. A sign-in takes one message
//     and a "didn't get it, resend" or two; five at once and then one every
//     six minutes never stops a person but caps mail-bombing or SMS pumping
//     of one number at 240 a day.
//   - send, per project: 10 a second, burst 100. Tens of thousands of
//     sign-ins an hour, while a runaway loop or a spray across many
//     recipients stops well short of a provider ban or an SMS bill.
//   - authenticate, per account: 60 an hour, burst 10. Ten quick tries cover
//     typos; after that one a minute means about 20 guesses over a 10-minute
//     OTP's life (chance 2e-5 against 6 digits), and password guessing runs
//     into user locks long before it gets anywhere.
//   - authenticate, per project: 100 a second, burst 200, Stytch's
//     passwords.migrate figure; above that it bounds password-hash CPU more
//     than it stops any attack.
//   - create, per identifier: 30 an hour, burst 10. One user is created
//     once and enrols TOTP rarely; this only stops churn loops.
//   - create, per project: 100 a second, burst 100, as Stytch allows
//     passwords.migrate: a bulk import still runs at 360,000 users an hour.
//   - ip, per address: 50 a second, burst 200, and no project-wide rule
//     (the other classes have those). One app server without attributes
//     stays within it; one end-user address spraying many accounts does not.
func DefaultPolicy() Policy {
	return Policy{classes: map[Class]ClassRules{
		Send: {
			PerProject:    Rule{Limit: 10, Period: time.Second, Burst: 100},
			PerIdentifier: Rule{Limit: 10, Period: time.Hour, Burst: 5},
		},
		Authenticate: {
			PerProject:    Rule{Limit: 100, Period: time.Second, Burst: 200},
			PerIdentifier: Rule{Limit: 60, Period: time.Hour, Burst: 10},
		},
		Create: {
			PerProject:    Rule{Limit: 100, Period: time.Second, Burst: 100},
			PerIdentifier: Rule{Limit: 30, Period: time.Hour, Burst: 10},
		},
		IP: {
			PerIdentifier: Rule{Limit: 50, Period: time.Second, Burst: 200},
		},
	}}
}

// Overrides replaces some rules of some classes.
type Overrides map[Class]ClassOverride

// ClassOverride replaces a class's rules: a nil field keeps the current rule,
// a pointer to the zero Rule removes it (no limit), any other pointer
// replaces it.
type ClassOverride struct {
	PerProject    *Rule
	PerIdentifier *Rule
}

// Rules returns the rules of class c as they apply to projectID, and whether
// the Policy knows c.
func (p Policy) Rules(projectID string, c Class) (ClassRules, bool) {
	rules, ok := p.classes[c]
	if !ok {
		return ClassRules{}, false
	}
	return p.projects[projectID][c].apply(rules), true
}

func (o ClassOverride) apply(r ClassRules) ClassRules {
	if o.PerProject != nil {
		r.PerProject = *o.PerProject
	}
	if o.PerIdentifier != nil {
		r.PerIdentifier = *o.PerIdentifier
	}
	return r
}

// merge returns o with the fields later sets laid over it.
func (o ClassOverride) merge(later ClassOverride) ClassOverride {
	if later.PerProject != nil {
		o.PerProject = later.PerProject
	}
	if later.PerIdentifier != nil {
		o.PerIdentifier = later.PerIdentifier
	}
	return o
}

// With returns p with the overrides applied, in order, to every project.
func (p Policy) With(overrides ...Overrides) (Policy, error) {
	if err := p.validate(overrides); err != nil {
		return p, err
	}
	q := Policy{classes: maps.Clone(p.classes), projects: p.projects, key: p.key}
	for _, o := range overrides {
		for c, co := range o {
			q.classes[c] = co.apply(q.classes[c])
		}
	}
	return q, nil
}

// WithProject returns p with the overrides applied, in order, to projectID
// only. Rules a project does not override follow later With calls.
func (p Policy) WithProject(projectID string, overrides ...Overrides) (Policy, error) {
	if err := p.validate(overrides); err != nil {
		return p, err
	}
	q := Policy{classes: p.classes, projects: maps.Clone(p.projects), key: p.key}
	if q.projects == nil {
		q.projects = make(map[string]Overrides)
	}
	merged := maps.Clone(q.projects[projectID])
	if merged == nil {
		merged = make(Overrides)
	}
	for _, o := range overrides {
		for c, co := range o {
			merged[c] = merged[c].merge(co)
		}
	}
	q.projects[projectID] = merged
	return q, nil
}

// validate reports every unknown class and invalid rule in overrides, so a
// configuration is fixed in one round.
func (p Policy) validate(overrides []Overrides) error {
	var errs []error
	for _, o := range overrides {
		for _, c := range slices.Sorted(maps.Keys(o)) {
			if _, ok := p.classes[c]; !ok {
				errs = append(errs, unknownClass(string(c)))
				continue
			}
			for _, f := range []struct {
				name string
				rule *Rule
			}{{"per_project", o[c].PerProject}, {"per_identifier", o[c].PerIdentifier}} {
				if f.rule == nil || f.rule.IsZero() {
					continue
				}
				if err := f.rule.Validate(); err != nil {
					errs = append(errs, fmt.Errorf("%s.%s.%w", c, f.name, err))
				}
			}
		}
	}
	return errors.Join(errs...)
}

func unknownClass(name string) error {
	var known []string
	for _, c := range Classes() {
		known = append(known, string(c))
	}
	return fmt.Errorf("%q: unknown class (known: %s)", name, strings.Join(known, ", "))
}

// Check takes one event of class c in projectID naming identifiers (emails,
// phone numbers, user ids, IPs; empty ones are skipped), and returns the
// tightest Decision: the smallest Remaining when allowed, the largest
// RetryAfter when denied.
//
// Identifier rules go first and the project rule only if every identifier
// passed, so that hammering one email address cannot spend the whole
// project's budget and lock everyone else out. The price: a call denied by
// the project rule has already spent its identifiers' tokens, and when one
// of several identifiers denies, the others' tokens are spent. Both only
// bite once something is already over a limit.
//
// Keys are "<projectID>:<class>:p" and "<projectID>:<class>:i:<hash>", the
// hash being the first 128 bits of the identifier's HMAC-SHA256 under the
// policy's identifier key (plain SHA-256 without one) in hex, so no email
// address or phone number reaches Redis or a log. Pass identifiers
// normalised (lower-case email, E.164 phone), or variants get budgets of
// their own.
//
// On error Check returns the error with an allowing Decision: callers fail
// open and log.
func (p Policy) Check(ctx context.Context, l Limiter, projectID string, c Class, identifiers ...string) (Decision, error) {
	rules, ok := p.Rules(projectID, c)
	if !ok {
		return unlimited, fmt.Errorf("ratelimit: %w", unknownClass(string(c)))
	}
	if projectID == "" {
		// All projects would share one budget.
		return unlimited, errors.New("ratelimit: empty project id")
	}
	d := unlimited
	if !rules.PerIdentifier.IsZero() {
		keys := make([]string, 0, len(identifiers))
		for _, id := range identifiers {
			if id == "" {
				continue // an absent identifier must not become one shared bucket
			}
			key := p.identifierKey(projectID, c, id)
			if slices.Contains(keys, key) {
				continue // the same identifier twice is one event, not two
			}
			keys = append(keys, key)
			got, err := l.Allow(ctx, key, rules.PerIdentifier)
			if err != nil {
				return unlimited, err
			}
			d = tighter(d, got)
		}
		if !d.Allowed {
			return d, nil
		}
	}
	if !rules.PerProject.IsZero() {
		got, err := l.Allow(ctx, projectKey(projectID, c), rules.PerProject)
		if err != nil {
			return unlimited, err
		}
		d = tighter(d, got)
	}
	return d, nil
}

func projectKey(projectID string, c Class) string {
	return projectID + ":" + string(c) + ":p"
}

func (p Policy) identifierKey(projectID string, c Class, identifier string) string {
	var sum []byte
	if p.key != nil {
		m := hmac.New(sha256.New, p.key)
		m.Write([]byte(identifier))
		sum = m.Sum(nil)
	} else {
		s := sha256.Sum256([]byte(identifier))
		sum = s[:]
	}
	return projectID + ":" + string(c) + ":i:" + hex.EncodeToString(sum[:16])
}

// tighter returns the more restrictive of two Decisions.
func tighter(a, b Decision) Decision {
	switch {
	case a.Allowed && b.Allowed:
		if a.Remaining < 0 || (b.Remaining >= 0 && b.Remaining < a.Remaining) {
			return b
		}
		return a
	case a.Allowed:
		return b
	case b.Allowed:
		return a
	case b.RetryAfter > a.RetryAfter:
		return b
	default:
		return a
	}
}

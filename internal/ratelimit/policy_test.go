package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaultPolicy(t *testing.T) {
	p := DefaultPolicy()
	for _, c := range Classes() {
		rules, ok := p.Rules("any", c)
		if !ok {
			t.Fatalf("%s: no rules", c)
		}
		for name, r := range map[string]Rule{"per_project": rules.PerProject, "per_identifier": rules.PerIdentifier} {
			if c == IP && name == "per_project" {
				if !r.IsZero() {
					t.Errorf("ip.per_project = %v, want none: the other classes bound projects", r)
				}
				continue
			}
			if err := r.Validate(); err != nil {
				t.Errorf("%s.%s = %v: %v", c, name, r, err)
			}
		}
		if c == IP {
			continue
		}
		// An identifier is one person: it must be limited well below a project.
		if pi, pp := rules.PerIdentifier, rules.PerProject; pi.interval() <= pp.interval() || pi.burst() > pp.burst() {
			t.Errorf("%s: per_identifier %v is not tighter than per_project %v", c, pi, pp)
		}
	}
}

func rule(limit int, period time.Duration, burst int) *Rule {
	return &Rule{Limit: limit, Period: period, Burst: burst}
}

func TestParseOverrides(t *testing.T) {
	got, err := ParseOverrides([]byte(`{
		"send": {"per_identifier": {"limit": 5, "period": "1h"}, "per_project": null},
		"authenticate": {"per_project": {"limit": 50, "period": "1s", "burst": 80}},
		"create": {}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	want := Overrides{
		Send:         {PerIdentifier: rule(5, time.Hour, 0), PerProject: &Rule{}},
		Authenticate: {PerProject: rule(50, time.Second, 80)},
		Create:       {},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestParseOverridesErrors(t *testing.T) {
	tests := []struct {
		name string
		json string
		want []string // every one must appear in the error
	}{
		{"unknown class", `{"sned": {}}`, []string{`"sned": unknown class (known: send, authenticate, create, ip)`}},
		{"negative limit", `{"send": {"per_identifier": {"limit": -1, "period": "1h"}}}`, []string{"send.per_identifier.limit: must be at least 1"}},
		{"zero limit", `{"send": {"per_identifier": {"limit": 0, "period": "1h"}}}`, []string{"send.per_identifier.limit: must be at least 1 (null removes the rule)"}},
		{"negative burst", `{"create": {"per_project": {"limit": 5, "period": "1h", "burst": -2}}}`, []string{"create.per_project.burst: must not be negative"}},
		{"negative period", `{"send": {"per_project": {"limit": 5, "period": "-1h"}}}`, []string{"send.per_project.period: must be positive"}},
		{"zero period", `{"send": {"per_project": {"limit": 5, "period": "0s"}}}`, []string{"send.per_project.period: must be positive"}},
		{"period not a duration", `{"send": {"per_project": {"limit": 5, "period": "soon"}}}`, []string{`send.per_project.period: "soon" is not a duration`}},
		{"period as a number", `{"send": {"per_project": {"limit": 5, "period": 3600}}}`, []string{"send.per_project.period: must be a duration string"}},
		{"fractional limit", `{"send": {"per_project": {"limit": 1.5, "period": "1h"}}}`, []string{"send.per_project.limit: must be a whole number"}},
		{"limit as a string", `{"send": {"per_project": {"limit": "5", "period": "1h"}}}`, []string{"send.per_project.limit: must be a whole number"}},
		{"limit missing", `{"send": {"per_project": {"period": "1h"}}}`, []string{"send.per_project.limit: required"}},
		{"period missing", `{"send": {"per_project": {"limit": 5}}}`, []string{"send.per_project.period: required"}},
		{"unknown rule field", `{"send": {"per_project": {"limit": 5, "period": "1h", "rate": 3}}}`, []string{"send.per_project.rate: unknown field"}},
		{"unknown class field", `{"send": {"per_ip": null}}`, []string{"send.per_ip: unknown field"}},
		{"rule not an object", `{"send": {"per_project": 5}}`, []string{"send.per_project: must be a JSON object (or null to remove the rule)"}},
		{"class not an object", `{"send": []}`, []string{"send: must be a JSON object"}},
		{"document not an object", `[]`, []string{"must be a JSON object"}},
		{"document null", `null`, []string{"must be a JSON object"}},
		{"invalid JSON", `{"send": `, []string{"invalid JSON"}},
		{"too fast", `{"send": {"per_project": {"limit": 2000, "period": "1ms"}}}`, []string{"send.per_project.limit: must allow at most one event per microsecond"}},
		{"every problem at once", `{"bogus": {}, "send": {"per_project": {"limit": -1, "period": "1h"}, "per_identifier": {"limit": 1, "period": "x"}}}`, []string{
			`"bogus": unknown class`,
			"send.per_project.limit: must be at least 1",
			`send.per_identifier.period: "x" is not a duration`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ParseOverrides([]byte(tt.json))
			if err == nil {
				t.Fatalf("parsed %s as %+v, want an error", tt.json, o)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestWith(t *testing.T) {
	base := DefaultPolicy()
	o, err := ParseOverrides([]byte(`{"send": {"per_identifier": {"limit": 3, "period": "10m"}, "per_project": null}}`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := base.With(o)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := p.Rules("p1", Send)
	if want := (ClassRules{PerIdentifier: *rule(3, 10*time.Minute, 0)}); got != want {
		t.Fatalf("send rules = %+v, want %+v", got, want)
	}
	// Other classes untouched, and base is a value: With did not change it.
	if got, _ := p.Rules("p1", Create); got != base.classes[Create] {
		t.Fatalf("create rules changed to %+v", got)
	}
	if got, _ := base.Rules("p1", Send); got != DefaultPolicy().classes[Send] {
		t.Fatalf("With modified its receiver: send rules now %+v", got)
	}

	// Overrides built in Go are validated too.
	_, err = base.With(Overrides{Send: {PerProject: rule(1, time.Hour, -1)}, "login": {}})
	for _, w := range []string{"send.per_project.burst: must not be negative", `"login": unknown class`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("With(invalid) error %v does not contain %q", err, w)
		}
	}
}

func TestWithProject(t *testing.T) {
	p, err := DefaultPolicy().WithProject("big", Overrides{Send: {PerProject: rule(100, time.Second, 1000)}})
	if err != nil {
		t.Fatal(err)
	}
	p, err = p.WithProject("big", Overrides{Send: {PerIdentifier: rule(20, time.Hour, 0)}}) // merges with the first
	if err != nil {
		t.Fatal(err)
	}
	// A later instance-wide change reaches what the project did not override.
	p, err = p.With(Overrides{Send: {PerProject: rule(5, time.Second, 0), PerIdentifier: rule(2, time.Hour, 0)}, Create: {PerProject: &Rule{}}})
	if err != nil {
		t.Fatal(err)
	}

	big, _ := p.Rules("big", Send)
	if want := (ClassRules{PerProject: *rule(100, time.Second, 1000), PerIdentifier: *rule(20, time.Hour, 0)}); big != want {
		t.Errorf("big's send rules = %+v, want %+v", big, want)
	}
	other, _ := p.Rules("other", Send)
	if want := (ClassRules{PerProject: *rule(5, time.Second, 0), PerIdentifier: *rule(2, time.Hour, 0)}); other != want {
		t.Errorf("other's send rules = %+v, want %+v", other, want)
	}
	if create, _ := p.Rules("big", Create); !create.PerProject.IsZero() {
		t.Errorf("big's create per_project = %v, want the instance-wide removal to reach it", create.PerProject)
	}
	if _, err := p.WithProject("big", Overrides{Send: {PerProject: rule(0, time.Second, 0)}}); err == nil {
		t.Error("WithProject accepted limit 0")
	}
}

// recorder is a Limiter that records the keys it is asked about and answers
// from a script keyed by key; unknown keys are allowed with Remaining 9.
type recorder struct {
	keys    []string
	answers map[string]Decision
	err     error
}

func (r *recorder) Allow(_ context.Context, key string, _ Rule) (Decision, error) {
	r.keys = append(r.keys, key)
	if r.err != nil {
		return unlimited, r.err
	}
	if d, ok := r.answers[key]; ok {
		return d, nil
	}
	return Decision{Allowed: true, Remaining: 9}, nil
}

func hashed(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])[:32]
}

func TestCheckKeys(t *testing.T) {
	rec := &recorder{}
	email, phone := "ada@example.com", "+14155550100"
	_, err := DefaultPolicy().Check(context.Background(), rec, "project-test-1", Send, email, "", phone, email)
	if err != nil {
		t.Fatal(err)
	}
	// Identifiers first, each once, empty skipped, hashed; the project last.
	want := []string{
		"project-test-1:send:i:" + hashed(email),
		"project-test-1:send:i:" + hashed(phone),
		"project-test-1:send:p",
	}
	if !reflect.DeepEqual(rec.keys, want) {
		t.Fatalf("keys = %q, want %q", rec.keys, want)
	}
	for _, k := range rec.keys {
		if strings.Contains(k, "ada") || strings.Contains(k, "4155550100") {
			t.Fatalf("key %q holds the raw identifier", k)
		}
	}
}

func TestCheckCombinesDecisions(t *testing.T) {
	ctx := context.Background()
	idKey := func(id string) string { return DefaultPolicy().identifierKey("p", Send, id) }
	tests := []struct {
		name     string
		answers  map[string]Decision
		want     Decision
		wantKeys int // how many Allow calls: the project is skipped once an identifier denies
	}{
		{"all allow: smallest remaining", map[string]Decision{
			idKey("a"): {Allowed: true, Remaining: 4}, idKey("b"): {Allowed: true, Remaining: 2}, "p:send:p": {Allowed: true, Remaining: 50},
		}, Decision{Allowed: true, Remaining: 2}, 3},
		{"project tightest", map[string]Decision{
			"p:send:p": {Allowed: true, Remaining: 0},
		}, Decision{Allowed: true, Remaining: 0}, 3},
		{"one identifier denies: project untouched", map[string]Decision{
			idKey("b"): {RetryAfter: time.Minute},
		}, Decision{RetryAfter: time.Minute}, 2},
		{"both deny: largest RetryAfter", map[string]Decision{
			idKey("a"): {RetryAfter: 3 * time.Minute}, idKey("b"): {RetryAfter: time.Minute},
		}, Decision{RetryAfter: 3 * time.Minute}, 2},
		{"project denies", map[string]Decision{
			"p:send:p": {RetryAfter: 100 * time.Millisecond},
		}, Decision{RetryAfter: 100 * time.Millisecond}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{answers: tt.answers}
			got, err := DefaultPolicy().Check(ctx, rec, "p", Send, "a", "b")
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || len(rec.keys) != tt.wantKeys {
				t.Fatalf("got %+v after %d calls, want %+v after %d", got, len(rec.keys), tt.want, tt.wantKeys)
			}
		})
	}
}

func TestCheckWithMemory(t *testing.T) {
	ctx := context.Background()
	m, c := newFakeMemory(1000)
	p, err := DefaultPolicy().With(Overrides{Send: {
		PerProject:    rule(5, time.Minute, 0), // interval 12s
		PerIdentifier: rule(2, time.Minute, 0), // interval 30s
	}})
	if err != nil {
		t.Fatal(err)
	}
	check := func(id string) Decision {
		t.Helper()
		d, err := p.Check(ctx, m, "proj", Send, id)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	// Hammering one recipient spends its own budget and only two of the project's.
	for i := range 10 {
		d := check("victim@example.com")
		if wantAllowed := i < 2; d.Allowed != wantAllowed {
			t.Fatalf("send %d to the victim: %+v", i+1, d)
		}
		if i >= 2 && d.RetryAfter != 30*time.Second {
			t.Fatalf("send %d to the victim: RetryAfter %v, want 30s", i+1, d.RetryAfter)
		}
	}
	// Project: 2 of 5 spent. This takes the third: Remaining is the
	// identifier's 1, tighter than the project's 2.
	if d := check("a@example.com"); !d.Allowed || d.Remaining != 1 {
		t.Fatalf("other recipient: %+v, want allowed with Remaining 1", d)
	}
	check("b@example.com")
	if d := check("c@example.com"); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("fifth project send: %+v, want allowed with Remaining 0", d)
	}
	// The project budget is gone: a fresh recipient is denied by it.
	if d := check("d@example.com"); d.Allowed || d.RetryAfter != 12*time.Second {
		t.Fatalf("sixth project send: %+v, want denied with RetryAfter 12s", d)
	}
	c.Advance(12 * time.Second)
	if d := check("e@example.com"); !d.Allowed {
		t.Fatalf("after the project interval: %+v, want allowed", d)
	}
	// The victim's budget is back after its 30s, not pushed out by the denials.
	c.Advance(18 * time.Second)
	if d := check("victim@example.com"); !d.Allowed {
		t.Fatalf("victim after 30s: %+v, want allowed", d)
	}
}

func TestCheckFailsOpen(t *testing.T) {
	ctx := context.Background()
	down := errors.New("connection refused")
	rec := &recorder{err: down}
	d, err := DefaultPolicy().Check(ctx, rec, "p", Authenticate, "user-1")
	if !errors.Is(err, down) || d != unlimited {
		t.Fatalf("Check with a failing limiter = %+v, %v; want %+v, %v", d, err, unlimited, down)
	}
	if len(rec.keys) != 1 {
		t.Fatalf("kept going after an error: %q", rec.keys)
	}

	d, err = DefaultPolicy().Check(ctx, &recorder{}, "p", "login")
	if err == nil || !strings.Contains(err.Error(), `"login": unknown class`) || d != unlimited {
		t.Fatalf("unknown class: %+v, %v", d, err)
	}
	d, err = DefaultPolicy().Check(ctx, &recorder{}, "", Send, "a")
	if err == nil || d != unlimited {
		t.Fatalf("empty project id: %+v, %v", d, err)
	}
	if _, err := (Policy{}).Check(ctx, &recorder{}, "p", Send); err == nil {
		t.Fatal("the zero Policy knows no class, so Check must say so")
	}
}

func TestCheckUnlimited(t *testing.T) {
	ctx := context.Background()
	p, err := DefaultPolicy().With(Overrides{Create: {PerProject: &Rule{}, PerIdentifier: &Rule{}}})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	if d, err := p.Check(ctx, rec, "p", Create, "a"); err != nil || d != unlimited || len(rec.keys) != 0 {
		t.Fatalf("class without rules: %+v, %v after %q", d, err, rec.keys)
	}
	if d, err := DefaultPolicy().Check(ctx, Off(), "p", Send, "a"); err != nil || d != unlimited {
		t.Fatalf("Off: %+v, %v", d, err)
	}
}

func BenchmarkPolicyCheck(b *testing.B) {
	m := NewMemory(DefaultMaxKeys)
	p := DefaultPolicy()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.Check(context.Background(), m, "project-live-00000000-0000-0000-0000-000000000000", Authenticate, "user-live-00000000-0000-0000-0000-000000000000")
		}
	})
}

// With an identifier key the stored hash is an HMAC: the plain SHA-256 of
// a guessed address no longer finds its bucket, and replicas with the same
// key agree.
func TestIdentifierKey(t *testing.T) {
	email := "ada@example.com"
	plain := DefaultPolicy().identifierKey("p", Send, email)
	a := DefaultPolicy().WithIdentifierKey([]byte("replica key 0123456789abcdef0123"))
	b := DefaultPolicy().WithIdentifierKey([]byte("replica key 0123456789abcdef0123"))
	other := DefaultPolicy().WithIdentifierKey([]byte("another key 0123456789abcdef0123"))
	ka := a.identifierKey("p", Send, email)
	if ka == plain || !strings.HasPrefix(ka, "p:send:i:") || len(ka) != len(plain) {
		t.Fatalf("keyed %q, plain %q", ka, plain)
	}
	if kb := b.identifierKey("p", Send, email); kb != ka {
		t.Fatalf("same key, different hashes: %q, %q", ka, kb)
	}
	if ko := other.identifierKey("p", Send, email); ko == ka {
		t.Fatal("different keys, same hash")
	}
	// The key survives overrides.
	q, err := a.WithProject("p", Overrides{Send: {PerProject: &Rule{Limit: 1, Period: time.Second, Burst: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := q.With(Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if r.identifierKey("p", Send, email) != ka {
		t.Fatal("overrides dropped the identifier key")
	}
	rec := &recorder{}
	if _, err := a.Check(context.Background(), rec, "p", Send, email); err != nil {
		t.Fatal(err)
	}
	if rec.keys[0] != ka {
		t.Fatalf("Check used %q, want %q", rec.keys[0], ka)
	}
}

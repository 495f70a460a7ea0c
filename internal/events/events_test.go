package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/ids"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/store/sqlstore"
	"github.com/latchhq/latch/internal/tenant"
)

var (
	now      = time.Date(2024, 11, 21, 6, 47, 49, 555247073, time.UTC)
	consumer = tenant.Project{ID: "project-test-6e5b7b1c-8b8e-4f3e-9a57-6a3c7c3f0c11", Environment: tenant.Test, Vertical: tenant.Consumer}
)

func decode(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("payload %s: %v", raw, err)
	}
	return m
}

func TestBuildStytchShape(t *testing.T) {
	user := map[string]any{"user_id": "user-test-1", "name": map[string]any{"first_name": "Ada"}, "emails": []any{}}
	e, err := Build(consumer, now, UserCreate, "user-test-1", user)
	if err != nil {
		t.Fatal(err)
	}
	if !ids.Valid(IDKind, e.ID) || !strings.HasPrefix(e.ID, "webhook-event-test-") {
		t.Errorf("event id %q is not a webhook-event-test id", e.ID)
	}
	if e.Type != UserCreate || e.ObjectType != "user" || e.Action != "CREATE" || e.ObjectID != "user-test-1" ||
		e.ProjectID != consumer.ID || !e.CreatedAt.Equal(now) {
		t.Errorf("event = %+v", e)
	}
	want := map[string]any{
		"action":      "CREATE",
		"event_id":    e.ID,
		"id":          "user-test-1",
		"object_type": "user",
		"project_id":  consumer.ID,
		"source":      "DIRECT",
		"timestamp":   "2024-11-21T06:47:49.555247073Z",
		"user":        map[string]any{"user_id": "user-test-1", "name": map[string]any{"first_name": "Ada"}, "emails": []any{}},
		"vertical":    "CONSUMER",
	}
	if got := decode(t, e.Payload); !reflect.DeepEqual(got, want) {
		t.Errorf("payload =\n %v\nwant\n %v", got, want)
	}
	// Keys in Stytch's (alphabetical) order.
	if !strings.HasPrefix(string(e.Payload), `{"action":"CREATE","event_id":`) {
		t.Errorf("payload starts %s", e.Payload[:40])
	}
}

func TestBuildVariants(t *testing.T) {
	b2bLive := tenant.Project{ID: "project-live-1", Environment: tenant.Live, Vertical: tenant.B2B}
	e, err := Build(b2bLive, now.In(time.FixedZone("x", 3600)), UserDelete, "user-live-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, e.Payload)
	if m["vertical"] != "B2B" || m["action"] != "DELETE" || m["timestamp"] != "2024-11-21T06:47:49.555247073Z" {
		t.Errorf("payload = %v", m)
	}
	if _, ok := m["user"]; ok {
		t.Errorf("delete payload carries an object: %v", m)
	}
	if !strings.HasPrefix(e.ID, "webhook-event-live-") {
		t.Errorf("live event id %q", e.ID)
	}
	for _, c := range []struct {
		typ, objectType, action string
	}{
		{SessionRevoke, "session", "REVOKE"},
		{MagicLinkSend, "magic_link", "SEND"},
		{OTPSend, "otp", "SEND"},
		{PasswordStrengthCheckFail, "password", "STRENGTH_CHECK_FAIL"},
	} {
		e, err := Build(consumer, now, c.typ, "x", json.RawMessage(`{"user_id":"user-test-1"}`))
		if err != nil {
			t.Fatal(err)
		}
		m := decode(t, e.Payload)
		if e.ObjectType != c.objectType || e.Action != c.action || m["object_type"] != c.objectType || m["action"] != c.action {
			t.Errorf("%s: event %s/%s payload %v", c.typ, e.ObjectType, e.Action, m)
		}
		if obj, _ := m[c.objectType].(map[string]any); obj["user_id"] != "user-test-1" {
			t.Errorf("%s: object under %q missing: %v", c.typ, c.objectType, m)
		}
	}
	if _, err := Build(consumer, now, "direct.user.explode", "x", nil); err == nil {
		t.Error("unknown type accepted")
	}
	if _, err := Build(consumer, now, UserUpdate, "x", json.RawMessage(`{"broken"`)); err == nil {
		t.Error("invalid raw JSON accepted")
	}
}

func TestEveryTypeFollowsTheConvention(t *testing.T) {
	seen := map[string]bool{}
	for _, ti := range Types {
		parts := strings.Split(ti.Name, ".")
		if len(parts) != 3 || parts[0] != "direct" || ti.Name != strings.ToLower(ti.Name) || ti.When == "" {
			t.Errorf("type %+v does not follow source.object_type.action", ti)
		}
		if seen[ti.Name] {
			t.Errorf("type %s listed twice", ti.Name)
		}
		seen[ti.Name] = true
		if !Known(ti.Name) {
			t.Errorf("Known(%s) = false", ti.Name)
		}
	}
	if len(Names()) != len(Types) {
		t.Error("Names() and Types differ")
	}
}

func TestSecretsAreStripped(t *testing.T) {
	session := struct {
		SessionID    string         `json:"session_id"`
		SessionToken string         `json:"session_token"`
		SessionJWT   string         `json:"session_jwt"`
		Nested       map[string]any `json:"attributes"`
		Factors      []any          `json:"authentication_factors"`
	}{
		SessionID: "session-test-1", SessionToken: "tok-SECRET", SessionJWT: "eyJ.SECRET",
		Nested:  map[string]any{"code": "123456", "ip_address": "203.0.113.7"},
		Factors: []any{map[string]any{"type": "otp", "token_hash": "SECRET", "delivery_method": "sms"}},
	}
	e, err := Build(consumer, now, SessionCreate, "session-test-1", session)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(e.Payload), "SECRET") || strings.Contains(string(e.Payload), "123456") {
		t.Errorf("payload leaks a secret: %s", e.Payload)
	}
	m := decode(t, e.Payload)
	s := m["session"].(map[string]any)
	if s["session_id"] != "session-test-1" || s["attributes"].(map[string]any)["ip_address"] != "203.0.113.7" {
		t.Errorf("scrub removed too much: %v", s)
	}

	// A plaintext password goes; Stytch's password object of ids stays.
	e, err = Build(consumer, now, UserUpdate, "user-test-1", json.RawMessage(
		`{"user_id":"user-test-1","password":{"password_id":"password-test-1","requires_reset":false},"trusted_metadata":{"n":12345678901234567890}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(e.Payload), `"password_id":"password-test-1"`) || !strings.Contains(string(e.Payload), "12345678901234567890") {
		t.Errorf("password object or big number lost: %s", e.Payload)
	}
	e, err = Build(consumer, now, PasswordStrengthCheckFail, "user-test-1", map[string]any{"password": "hunter2", "user_id": "user-test-1"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(e.Payload), "hunter2") {
		t.Errorf("payload leaks the password: %s", e.Payload)
	}
}

// TestAppendInTransaction: the event and its delivery commit or roll back
// with the caller's transaction.
func TestAppendInTransaction(t *testing.T) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateProject(ctx, &store.Project{ID: consumer.ID, Name: "p", Vertical: "consumer", Environment: "test",
		SecretHash: "h", PublicToken: "public-token-test-1", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateWebhook(ctx, &store.WebhookEndpoint{ProjectID: consumer.ID, ID: "webhook-test-1", URL: "https://x.example",
		Secret: []byte("sealed"), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = st.Tx(ctx, func(tx store.Store) error {
		if err := Append(ctx, tx, consumer, now, UserCreate, "user-test-1", map[string]any{"user_id": "user-test-1"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx = %v", err)
	}
	if evs, _ := st.ListEvents(ctx, consumer.ID, 10); len(evs) != 0 {
		t.Fatalf("rolled-back event persisted: %+v", evs)
	}
	err = st.Tx(ctx, func(tx store.Store) error {
		return Append(ctx, tx, consumer, now, UserCreate, "user-test-1", map[string]any{"user_id": "user-test-1"})
	})
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := st.ListEvents(ctx, consumer.ID, 10)
	ds, _ := st.ListDeliveries(ctx, consumer.ID, "", 10)
	if len(evs) != 1 || len(ds) != 1 || ds[0].EventID != evs[0].ID || decode(t, evs[0].Payload)["event_id"] != evs[0].ID {
		t.Fatalf("events %+v deliveries %+v", evs, ds)
	}
	if err := Append(ctx, st, consumer, now, "direct.nope.create", "x", nil); err == nil {
		t.Error("Append of an unknown type succeeded")
	}
}

// BenchmarkAppend measures Append inside a transaction on SQLite, with no
// endpoint and with two, the cost every state change pays.
func BenchmarkAppend(b *testing.B) {
	for _, endpoints := range []int{0, 2} {
		b.Run(fmt.Sprintf("endpoints=%d", endpoints), func(b *testing.B) {
			ctx := context.Background()
			st, err := sqlstore.Open(ctx, filepath.Join(b.TempDir(), "latch.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			st.CreateProject(ctx, &store.Project{ID: consumer.ID, Name: "p", Vertical: "consumer", Environment: "test",
				SecretHash: "h", PublicToken: "public-token-test-1", CreatedAt: now})
			for i := range endpoints {
				st.CreateWebhook(ctx, &store.WebhookEndpoint{ProjectID: consumer.ID, ID: fmt.Sprintf("webhook-test-%d", i),
					URL: "https://x.example", Secret: []byte("s"), CreatedAt: now})
			}
			// A running dispatcher's first poll prepares Append's statements.
			if _, err := st.LeaseDeliveries(ctx, now, time.Minute, 1); err != nil {
				b.Fatal(err)
			}
			user := map[string]any{"user_id": "user-test-1", "name": map[string]any{"first_name": "Ada"}, "emails": []any{}}
			b.ResetTimer()
			for b.Loop() {
				if err := st.Tx(ctx, func(tx store.Store) error {
					return Append(ctx, tx, consumer, now, UserUpdate, "user-test-1", user)
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

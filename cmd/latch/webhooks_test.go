package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/events"
	"github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/store/sqlstore"
	"github.com/latchhq/latch/internal/tenant"
	"github.com/latchhq/latch/internal/webhooks"
)

func runJSON(t *testing.T, fn func([]string, *bytes.Buffer) error, args []string, into any) {
	t.Helper()
	var out bytes.Buffer
	if err := fn(args, &out); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if err := json.Unmarshal(out.Bytes(), into); err != nil {
		t.Fatalf("%v printed %q: %v", args, out.String(), err)
	}
}

func wh(args []string, out *bytes.Buffer) error { return webhooksCommand(args, out) }

func newProject(t *testing.T, dir, env string) string {
	t.Helper()
	var p struct {
		ProjectID string `json:"project_id"`
	}
	runJSON(t, func(a []string, out *bytes.Buffer) error { return projectsCreate(a, out) },
		[]string{"--data-dir", dir, "--name", "Acme", "--environment", env, "--json"}, &p)
	return p.ProjectID
}

func TestWebhooksCommands(t *testing.T) {
	t.Setenv("LATCH_MASTER_KEY", "")
	dir := t.TempDir()
	project := newProject(t, dir, "test")
	dd := []string{"--data-dir", dir, "--project", project}

	var created struct {
		WebhookID string   `json:"webhook_id"`
		Secret    string   `json:"secret"`
		URL       string   `json:"url"`
		Events    []string `json:"events"`
	}
	runJSON(t, wh, append([]string{"create", "--url", "http://127.0.0.1:9/hook", "--events", "direct.user.create,direct.user.delete", "--json"}, dd...), &created)
	if !strings.HasPrefix(created.WebhookID, "webhook-test-") || !strings.HasPrefix(created.Secret, "whsec_") ||
		created.URL != "http://127.0.0.1:9/hook" || len(created.Events) != 2 {
		t.Fatalf("create printed %+v", created)
	}
	var all struct {
		WebhookID string `json:"webhook_id"`
	}
	runJSON(t, wh, append([]string{"create", "--url", "https://hooks.example.com/x", "--json"}, dd...), &all)

	// The secret is sealed with the data dir's master key, as the server's.
	keyHex, err := os.ReadFile(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatalf("master key: %v", err)
	}
	master, _ := hex.DecodeString(strings.TrimSpace(string(keyHex)))
	sealer, _ := secrets.NewSealer(master)
	st, err := sqlstore.Open(context.Background(), filepath.Join(dir, "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w, err := st.GetWebhook(context.Background(), project, created.WebhookID)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := webhooks.DecodeSecret(created.Secret)
	if opened, err := sealer.Open(w.Secret, []byte(project+"/"+created.WebhookID)); err != nil || !bytes.Equal(opened, key) {
		t.Fatalf("stored secret does not open to the printed one: %v", err)
	}

	var list struct {
		Webhooks []map[string]any `json:"webhooks"`
	}
	runJSON(t, wh, append([]string{"list", "--json"}, dd...), &list)
	if len(list.Webhooks) != 2 || list.Webhooks[0]["webhook_id"] != created.WebhookID {
		t.Fatalf("list printed %+v", list)
	}
	for _, l := range list.Webhooks {
		if _, ok := l["secret"]; ok {
			t.Errorf("list prints a secret: %v", l)
		}
	}

	// A state change appends an event; both endpoints get a delivery.
	p := tenant.Project{ID: project, Environment: tenant.Test, Vertical: tenant.Consumer}
	var ev *store.Event
	err = st.Tx(context.Background(), func(tx store.Store) error {
		var err error
		if ev, err = events.Build(p, time.Now(), events.UserCreate, "user-test-1", map[string]any{"user_id": "user-test-1"}); err != nil {
			return err
		}
		return tx.AppendEvent(context.Background(), ev)
	})
	if err != nil {
		t.Fatal(err)
	}
	var evs struct {
		Events []struct {
			EventID string `json:"event_id"`
			Type    string `json:"type"`
		} `json:"events"`
	}
	runJSON(t, wh, append([]string{"events", "--json"}, dd...), &evs)
	if len(evs.Events) != 1 || evs.Events[0].EventID != ev.ID || evs.Events[0].Type != events.UserCreate {
		t.Fatalf("events printed %+v", evs)
	}
	type deliveries struct {
		Deliveries []struct {
			DeliveryID int64  `json:"delivery_id"`
			WebhookID  string `json:"webhook_id"`
			EventID    string `json:"event_id"`
			Status     string `json:"status"`
		} `json:"deliveries"`
	}
	var ds deliveries
	runJSON(t, wh, append([]string{"deliveries", "--json"}, dd...), &ds)
	if len(ds.Deliveries) != 2 || ds.Deliveries[0].Status != "pending" || ds.Deliveries[0].EventID != ev.ID {
		t.Fatalf("deliveries printed %+v", ds)
	}
	runJSON(t, wh, append([]string{"deliveries", "--webhook", created.WebhookID, "--json"}, dd...), &ds)
	if len(ds.Deliveries) != 1 || ds.Deliveries[0].WebhookID != created.WebhookID {
		t.Fatalf("deliveries --webhook printed %+v", ds)
	}

	var re deliveries
	runJSON(t, wh, append([]string{"replay", "--event", ev.ID, "--webhook", all.WebhookID, "--json"}, dd...), &re)
	if len(re.Deliveries) != 1 || re.Deliveries[0].WebhookID != all.WebhookID || re.Deliveries[0].Status != "pending" {
		t.Fatalf("replay printed %+v", re)
	}

	var del map[string]any
	runJSON(t, wh, append([]string{"delete", "--webhook", created.WebhookID, "--json"}, dd...), &del)
	if del["deleted"] != true {
		t.Fatalf("delete printed %v", del)
	}
	runJSON(t, wh, append([]string{"list", "--json"}, dd...), &list)
	if len(list.Webhooks) != 1 {
		t.Fatalf("list after delete printed %+v", list)
	}

	// Human output works too.
	var out bytes.Buffer
	if err := webhooksCommand(append([]string{"deliveries"}, dd...), &out); err != nil || !strings.Contains(out.String(), ev.ID) {
		t.Errorf("deliveries text = %q, %v", out.String(), err)
	}
}

func TestWebhooksCommandErrors(t *testing.T) {
	t.Setenv("LATCH_MASTER_KEY", "")
	dir := t.TempDir()
	test := newProject(t, dir, "test")
	live := newProject(t, dir, "live")
	var out bytes.Buffer
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "--data-dir", dir, "--url", "https://x.example"}, "--project"},
		{[]string{"create", "--data-dir", dir, "--project", test}, "--url"},
		{[]string{"create", "--data-dir", dir, "--project", live, "--url", "http://127.0.0.1:9/hook"}, "https"},
		{[]string{"create", "--data-dir", dir, "--project", test, "--url", "http://hooks.example.com/hook"}, "loopback"},
		{[]string{"create", "--data-dir", dir, "--project", test, "--url", "https://x.example", "--events", "direct.user.nope"}, "unknown event type"},
		{[]string{"create", "--data-dir", dir, "--project", "project-test-missing", "--url", "https://x.example"}, "not found"},
		{[]string{"delete", "--data-dir", dir, "--project", test}, "--webhook"},
		{[]string{"delete", "--data-dir", dir, "--project", test, "--webhook", "webhook-test-nope"}, "not found"},
		{[]string{"replay", "--data-dir", dir, "--project", test}, "--event"},
		{[]string{"replay", "--data-dir", dir, "--project", test, "--event", "webhook-event-test-nope"}, "not found"},
		{[]string{"explode"}, "unknown subcommand"},
		{nil, "no subcommand"},
	} {
		err := webhooksCommand(c.args, &out)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v = %v, want an error mentioning %q", c.args, err, c.want)
		}
	}
	// A live project takes an https endpoint.
	if err := webhooksCommand([]string{"create", "--data-dir", dir, "--project", live, "--url", "https://hooks.example.com/x"}, &out); err != nil {
		t.Errorf("live https create: %v", err)
	}
}

// TestWebhooksCreateRefusesAForeignMasterKey: a key that cannot open the
// server's signing keys would make endpoints nobody can sign for.
func TestWebhooksCreateRefusesAForeignMasterKey(t *testing.T) {
	t.Setenv("LATCH_MASTER_KEY", "")
	dir := t.TempDir()
	project := newProject(t, dir, "test")
	serverKey := bytes.Repeat([]byte{7}, 32)
	sealer, _ := secrets.NewSealer(serverKey)
	st, err := sqlstore.Open(context.Background(), filepath.Join(dir, "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateSigningKey(context.Background(), &store.SigningKey{ProjectID: project, KID: "jwk-test-1",
		Private: sealer.Seal([]byte("private"), []byte("jwk-test-1")), PublicJWK: json.RawMessage(`{}`), CreatedAt: time.Now(), ActiveAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	var out bytes.Buffer
	args := []string{"create", "--data-dir", dir, "--project", project, "--url", "https://hooks.example.com/x"}
	err = webhooksCommand(append(args, "--master-key", hex.EncodeToString(bytes.Repeat([]byte{8}, 32))), &out)
	if err == nil || !strings.Contains(err.Error(), "master key") {
		t.Errorf("create with a foreign master key = %v", err)
	}
	if err := webhooksCommand(append(args, "--master-key", hex.EncodeToString(serverKey)), &out); err != nil {
		t.Errorf("create with the server's master key: %v", err)
	}
	// --database-url with no key anywhere is refused rather than inventing one.
	err = webhooksCommand([]string{"create", "--data-dir", t.TempDir(), "--database-url", "postgres://127.0.0.1:1/x",
		"--project", project, "--url", "https://hooks.example.com/x"}, &out)
	if err == nil || !strings.Contains(err.Error(), "master key") {
		t.Errorf("create with --database-url and no key = %v", err)
	}
}

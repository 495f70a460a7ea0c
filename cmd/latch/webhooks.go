package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/config"
	"github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/webhooks"
)

const webhooksUsage = `Usage:
  latch webhooks create --project ID --url URL [--events TYPE,TYPE] [--master-key KEY] [--json]
  latch webhooks list --project ID [--json]
  latch webhooks delete --project ID --webhook ID [--json]
  latch webhooks deliveries --project ID [--webhook ID] [--limit N] [--json]
  latch webhooks replay --project ID --event EVENT_ID [--webhook ID] [--json]
  latch webhooks events --project ID [--limit N] [--json]
Every command also takes --data-dir DIR or --database-url URL.`

// webhooksCommand runs `latch webhooks ...`. It works while a server runs
// on the same data: the server reads endpoints from the database on every
// event, and its dispatcher polls for replays.
func webhooksCommand(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("webhooks: no subcommand\n" + webhooksUsage)
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("webhooks "+sub, flag.ContinueOnError)
	var sf storeFlags
	sf.bind(fs)
	project := fs.String("project", "", "project id (project-test-... or project-live-...)")
	asJSON := fs.Bool("json", false, "print JSON")
	var rawURL, eventsFlag, masterKey, webhookID, eventID *string
	var limit *int
	switch sub {
	case "create":
		rawURL = fs.String("url", "", "the receiver's URL: https://, or http:// to a loopback host for a test project")
		eventsFlag = fs.String("events", "", "comma-separated event types to deliver (default: all)")
		masterKey = fs.String("master-key", os.Getenv("LATCH_MASTER_KEY"), "the server's master key, if it is not DATA_DIR/master.key (LATCH_MASTER_KEY)")
	case "list":
	case "delete":
		webhookID = fs.String("webhook", "", "webhook id")
	case "deliveries":
		webhookID = fs.String("webhook", "", "only this webhook's deliveries")
		limit = fs.Int("limit", 100, "how many, newest first")
	case "replay":
		eventID = fs.String("event", "", "event id to deliver again")
		webhookID = fs.String("webhook", "", "only to this webhook (default: every webhook that had it)")
	case "events":
		limit = fs.Int("limit", 100, "how many, newest first")
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, webhooksUsage)
		return nil
	default:
		return fmt.Errorf("webhooks: unknown subcommand %q\n%s", sub, webhooksUsage)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *project == "" {
		return errors.New("webhooks " + sub + ": --project is required")
	}
	ctx := context.Background()

	var sealer *secrets.Sealer
	if sub == "create" {
		if *rawURL == "" {
			return errors.New("webhooks create: --url is required")
		}
		var err error
		if sealer, err = loadSealer(sf, *masterKey); err != nil {
			return err
		}
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := webhooks.NewService(st, sealer, clock.System{})

	switch sub {
	case "create":
		if err := checkMasterKey(ctx, st, sealer, *project); err != nil {
			return err
		}
		var types []string
		if *eventsFlag != "" {
			types = strings.Split(*eventsFlag, ",")
		}
		c, err := svc.Create(ctx, *project, *rawURL, types)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(c)
		}
		fmt.Fprintf(stdout, "webhook_id: %s\nsecret:     %s\nurl:        %s\nevents:     %s\n", c.WebhookID, c.Secret, c.URL, eventList(c.Events))
		fmt.Fprintln(stdout, "The secret is shown only now; receivers verify deliveries with it.")
		return nil

	case "list":
		list, err := svc.List(ctx, *project)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(map[string]any{"webhooks": list})
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "WEBHOOK_ID\tURL\tEVENTS\tCREATED_AT")
		for _, w := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", w.WebhookID, w.URL, eventList(w.Events), w.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()

	case "delete":
		if *webhookID == "" {
			return errors.New("webhooks delete: --webhook is required")
		}
		if err := svc.Delete(ctx, *project, *webhookID); err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(map[string]any{"webhook_id": *webhookID, "deleted": true})
		}
		fmt.Fprintf(stdout, "deleted webhook %s; its queued deliveries are canceled\n", *webhookID)
		return nil

	case "deliveries":
		list, err := svc.Deliveries(ctx, *project, *webhookID, *limit)
		if err != nil {
			return err
		}
		return printDeliveries(stdout, list, *asJSON)

	case "replay":
		if *eventID == "" {
			return errors.New("webhooks replay: --event is required")
		}
		list, err := svc.Replay(ctx, *project, *eventID, *webhookID)
		if err != nil {
			return err
		}
		if !*asJSON {
			fmt.Fprintf(stdout, "re-queued %d deliveries of %s\n", len(list), *eventID)
		}
		return printDeliveries(stdout, list, *asJSON)

	case "events":
		list, err := svc.Events(ctx, *project, *limit)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(map[string]any{"events": list})
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EVENT_ID\tTYPE\tOBJECT_ID\tCREATED_AT")
		for _, e := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.EventID, e.Type, e.ObjectID, e.CreatedAt.Format(time.RFC3339Nano))
		}
		return tw.Flush()
	}
	return nil
}

func eventList(events []string) string {
	if len(events) == 0 {
		return "all"
	}
	return strings.Join(events, ",")
}

func printDeliveries(stdout io.Writer, list []webhooks.Delivery, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"deliveries": list})
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DELIVERY\tWEBHOOK_ID\tEVENT_ID\tEVENT_TYPE\tSTATUS\tATTEMPTS\tLAST_STATUS\tNEXT_ATTEMPT\tLAST_ERROR")
	for _, d := range list {
		next := ""
		if d.Status == store.DeliveryPending {
			next = d.NextAttempt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", d.DeliveryID, d.WebhookID, d.EventID, d.EventType, d.Status,
			d.Attempts, d.LastStatus, next, d.LastError)
	}
	return tw.Flush()
}

// loadSealer finds the master key the way `latch serve` does: --master-key
// (LATCH_MASTER_KEY), else DATA_DIR/master.key. With --database-url the
// key must already exist: a new one here would not be the server's.
func loadSealer(sf storeFlags, masterKey string) (*secrets.Sealer, error) {
	cfg := config.Default()
	cfg.DataDir, cfg.DatabaseURL, cfg.MasterKey = sf.dataDir, sf.databaseURL, masterKey
	if cfg.MasterKey == "" {
		path := filepath.Join(cfg.DataDir, "master.key")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			if cfg.DatabaseURL != "" {
				return nil, fmt.Errorf("webhooks create: no master key: pass the server's --master-key (or LATCH_MASTER_KEY), or --data-dir holding its master.key")
			}
			if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
				return nil, err
			}
		}
	}
	key, err := cfg.LoadMasterKey()
	if err != nil {
		return nil, err
	}
	return secrets.NewSealer(key)
}

// checkMasterKey refuses a master key that cannot open the signing keys
// the server sealed: endpoints created with it could never be signed.
// With no signing key to try yet there is nothing to compare against.
func checkMasterKey(ctx context.Context, st store.Store, sealer *secrets.Sealer, projectID string) error {
	candidates := []string{projectID}
	if list, err := st.ListProjects(ctx); err == nil {
		for _, p := range list {
			if p.ID != projectID && len(candidates) < 20 {
				candidates = append(candidates, p.ID)
			}
		}
	}
	for _, id := range candidates {
		keys, err := st.ListSigningKeys(ctx, id)
		if err != nil || len(keys) == 0 {
			continue
		}
		if _, err := sealer.Open(keys[0].Private, []byte(keys[0].KID)); err != nil {
			return errors.New("webhooks create: the master key is not the server's (it cannot open the server's signing keys); pass --master-key or LATCH_MASTER_KEY as the server has it")
		}
		return nil
	}
	return nil
}

// Command latch is the Latch identity server and its operator tools.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/config"
	"github.com/latchhq/latch/internal/projects"
	"github.com/latchhq/latch/internal/ratelimit"
	"github.com/latchhq/latch/internal/server"
	"github.com/latchhq/latch/internal/store/sqlstore"
	"github.com/latchhq/latch/internal/tenant"
)

const usage = `latch: a self-hosted identity server speaking the Stytch API.

Usage:
  latch serve [--data-dir DIR] [--listen HOST:PORT] [--database-url URL] [--tls auto|off] ...
  latch projects create --name NAME [--vertical consumer|b2b] [--environment test|live] [--data-dir DIR | --database-url URL] [--json]
  latch projects update --project ID [--session-migration-url URL] [--rate-limits JSON]
        [--password-policy zxcvbn|luds] [--luds-min-length 8..32] [--luds-min-complexity 1..4]
        [--breach-detection-on-create true|false] [--data-dir DIR | --database-url URL]
  latch projects redirect-urls add --project ID --type login|signup|invite|reset_password|discovery --url URL [--default] [--data-dir DIR | --database-url URL]
  latch webhooks create --project ID --url URL [--events TYPE,...] [--data-dir DIR | --database-url URL] [--json]
  latch webhooks list|delete|deliveries|replay|events --project ID [--webhook ID] [--event ID] [--json]
  latch db check [--data-dir DIR | --database-url URL] [--json]

Run "latch serve -h" for every server flag.
`

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "latch:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout *os.File, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "projects":
		if len(args) >= 2 && args[1] == "create" {
			return projectsCreate(args[2:], stdout)
		}
		if len(args) >= 2 && args[1] == "update" {
			return projectsUpdate(args[2:], stdout)
		}
		if len(args) >= 3 && args[1] == "redirect-urls" && args[2] == "add" {
			return redirectURLAdd(args[3:], stdout)
		}
	case "webhooks":
		return webhooksCommand(args[1:], stdout)
	case "db":
		if len(args) >= 2 && args[1] == "check" {
			return dbCheck(args[2:], stdout)
		}
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func serve(args []string, stdout *os.File, stderr io.Writer) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler = slog.NewTextHandler(stderr, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(stderr, opts)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return server.Serve(ctx, cfg, slog.New(h), stdout)
}

// storeFlags are the flags every operator command uses to find the data.
type storeFlags struct{ dataDir, databaseURL string }

func (s *storeFlags) bind(fs *flag.FlagSet) {
	def := config.Default()
	dd := def.DataDir
	if v := os.Getenv("LATCH_DATA_DIR"); v != "" {
		dd = v
	}
	fs.StringVar(&s.dataDir, "data-dir", dd, "data directory of the server (LATCH_DATA_DIR)")
	fs.StringVar(&s.databaseURL, "database-url", os.Getenv("LATCH_DATABASE_URL"), "postgres://... (LATCH_DATABASE_URL)")
}

func (s *storeFlags) open(ctx context.Context) (*sqlstore.Store, error) {
	cfg := config.Default()
	cfg.DataDir, cfg.DatabaseURL = s.dataDir, s.databaseURL
	if cfg.DatabaseURL == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, err
		}
	}
	return sqlstore.Open(ctx, cfg.DatabaseOrSQLite())
}

// dbCheck runs the store's integrity check; it fails when anything is wrong,
// so scripts and the crash tests can rely on its exit status.
func dbCheck(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("db check", flag.ContinueOnError)
	var sf storeFlags
	sf.bind(fs)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := st.Check(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(r); err != nil {
			return err
		}
	} else {
		for _, c := range r.Checks {
			fmt.Fprintf(stdout, "checked: %s\n", c)
		}
		for _, p := range r.Problems {
			fmt.Fprintf(stdout, "PROBLEM: %s\n", p)
		}
	}
	if len(r.Problems) > 0 {
		return fmt.Errorf("%d integrity problems", len(r.Problems))
	}
	return nil
}

func projectsCreate(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("projects create", flag.ContinueOnError)
	var sf storeFlags
	sf.bind(fs)
	name := fs.String("name", "", "project name")
	vertical := fs.String("vertical", "consumer", "consumer or b2b")
	env := fs.String("environment", "test", "test or live")
	asJSON := fs.Bool("json", false, "print the credentials as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	c, err := projects.New(st, clock.System{}).Create(ctx, *name, tenant.Vertical(*vertical), tenant.Environment(*env))
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(c)
	}
	fmt.Fprintf(stdout, "project_id:   %s\nsecret:       %s\npublic_token: %s\nenvironment:  %s\nvertical:     %s\n",
		c.ProjectID, c.Secret, c.PublicToken, c.Environment, c.Vertical)
	if sf.databaseURL == "" {
		fmt.Fprintf(stdout, "data dir:     %s\n", filepath.Clean(sf.dataDir))
	}
	return nil
}

func redirectURLAdd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("projects redirect-urls add", flag.ContinueOnError)
	var sf storeFlags
	sf.bind(fs)
	project := fs.String("project", "", "project id")
	typ := fs.String("type", "login", "login, signup, invite, reset_password or discovery")
	url := fs.String("url", "", "the redirect URL, matched exactly")
	isDefault := fs.Bool("default", false, "make it the default of its type")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch *typ {
	case "login", "signup", "invite", "reset_password", "discovery":
	default:
		return fmt.Errorf("unknown redirect URL type %q", *typ)
	}
	ctx := context.Background()
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := projects.New(st, clock.System{}).AddRedirectURL(ctx, *project, *typ, *url, *isDefault); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "registered %s redirect URL %s\n", *typ, *url)
	return nil
}

func projectsUpdate(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("projects update", flag.ContinueOnError)
	var sf storeFlags
	sf.bind(fs)
	project := fs.String("project", "", "project id")
	var migrationURL optionalString
	fs.Var(&migrationURL, "session-migration-url", `the external OIDC UserInfo URL sessions.migrate calls ("" removes it)`)
	var rateLimits optionalString
	fs.Var(&rateLimits, "rate-limits", `JSON overrides of the default rate limits, e.g. {"send":{"per_identifier":{"limit":5,"period":"1h"}}} ("" removes them)`)
	var pwPolicy, ludsLength, ludsComplexity, breachOnCreate optionalString
	fs.Var(&pwPolicy, "password-policy", `password strength policy: zxcvbn (default) or luds`)
	fs.Var(&ludsLength, "luds-min-length", `LUDS minimum password length, 8..32 (default 8)`)
	fs.Var(&ludsComplexity, "luds-min-complexity", `LUDS minimum number of character classes among lower, upper, digit, symbol, 1..4 (default 3)`)
	fs.Var(&breachOnCreate, "breach-detection-on-create", `refuse breached passwords on create and reset: true (default) or false`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := projects.New(st, clock.System{})
	err = svc.UpdateSettings(ctx, *project, func(s *projects.Settings) error {
		if migrationURL.set {
			if migrationURL.v != "" {
				if err := projects.CheckOutboundURL(migrationURL.v, tenant.EnvironmentOf(*project)); err != nil {
					return fmt.Errorf("--session-migration-url: %w", err)
				}
			}
			s.SessionMigrationURL = migrationURL.v
		}
		if rateLimits.set {
			s.RateLimits = nil
			if strings.TrimSpace(rateLimits.v) != "" {
				if _, err := ratelimit.ParseOverrides([]byte(rateLimits.v)); err != nil {
					return fmt.Errorf("--rate-limits: %w", err)
				}
				s.RateLimits = json.RawMessage(rateLimits.v)
			}
		}
		return updatePasswordPolicy(s, pwPolicy, ludsLength, ludsComplexity, breachOnCreate)
	})
	if err != nil {
		return err
	}
	set, err := svc.Settings(ctx, *project)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(set)
}

// updatePasswordPolicy applies the password flags that were given; the
// settings keep only what differs from Stytch's defaults.
func updatePasswordPolicy(s *projects.Settings, policy, length, complexity, breach optionalString) error {
	if !policy.set && !length.set && !complexity.set && !breach.set {
		return nil
	}
	p := projects.PasswordPolicy{}
	if s.Passwords != nil {
		p = *s.Passwords
	}
	if policy.set {
		p.Policy = policy.v
	}
	for _, f := range []struct {
		name string
		flag optionalString
		dst  *int
	}{{"--luds-min-length", length, &p.LUDSMinLength}, {"--luds-min-complexity", complexity, &p.LUDSMinComplexity}} {
		if !f.flag.set {
			continue
		}
		n, err := strconv.Atoi(f.flag.v)
		if err != nil {
			return fmt.Errorf("%s: %q is not a number", f.name, f.flag.v)
		}
		*f.dst = n
	}
	if breach.set {
		b, err := strconv.ParseBool(breach.v)
		if err != nil {
			return fmt.Errorf("--breach-detection-on-create: %q is not true or false", breach.v)
		}
		p.BreachDetectionOnCreate = &b
	}
	if err := p.Validate(); err != nil {
		return err
	}
	s.Passwords = &p
	return nil
}

// optionalString is a string flag that knows whether it was given, so ""
// can mean "remove".
type optionalString struct {
	v   string
	set bool
}

func (o *optionalString) String() string     { return o.v }
func (o *optionalString) Set(s string) error { o.v, o.set = s, true; return nil }

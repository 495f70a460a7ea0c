// Package config is Latch's typed configuration: defaults, then LATCH_*
// environment variables, then flags; validated with every problem reported.
package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/latchhq/latch/internal/hashes"
)

// Config is everything `latch serve` needs.
type Config struct {
	DataDir     string
	Listen      string
	DatabaseURL string // empty: SQLite at DataDir/latch.db
	TLS         string // "auto" (generated local CA), "off"
	TLSCert     string
	TLSKey      string
	PublicURL   string // origin emailed links point at; derived from Listen if empty
	MasterKey   string // hex or base64 of 32 bytes; empty: DataDir/master.key
	LogLevel    string
	LogFormat   string // json or text
	SMTP        SMTP
	Twilio      Twilio
	RateLimits  string // "on" or "off"
	RedisURL    string // shares rate limits across replicas; empty: in process
	// ShutdownTimeout bounds how long in-flight requests get on SIGTERM.
	ShutdownTimeout time.Duration
	// DeliveryLease is how long a replica owns a message or webhook
	// delivery it is sending; one in flight when a replica dies is sent
	// again (same Message-ID or webhook-id) after this.
	DeliveryLease time.Duration
	// Retention is how long events, webhook delivery records and settled
	// outbox messages are kept; zero keeps them forever.
	Retention time.Duration
	// Argon2 are the parameters new password hashes are made with; stored
	// hashes with others are rehashed at their next successful login.
	Argon2 Argon2
	// HashMemoryMiB bounds the memory of all password hashes computed at
	// once; zero means hashes.DefaultMemoryBudget.
	HashMemoryMiB int

	envErrs []error // LATCH_* values that did not parse, reported by Validate
}

// Argon2 are argon2id parameters as configured.
type Argon2 struct {
	MemoryKiB   int
	Iterations  int
	Parallelism int
}

// SMTP configures the SMTP email provider; Host empty means none.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string
	TLS      string // starttls, implicit, none
}

// Twilio configures the SMS/WhatsApp provider; AccountSID empty means none.
type Twilio struct {
	BaseURL             string
	AccountSID          string
	AuthToken           string
	From                string
	MessagingServiceSID string
	WhatsAppFrom        string
}

// LogValue keeps the auth token out of logs.
func (t Twilio) LogValue() slog.Value {
	return slog.GroupValue(slog.String("account_sid", t.AccountSID), slog.String("from", t.From), slog.String("base_url", t.BaseURL))
}

// LogValue keeps secrets out of logs.
func (s SMTP) LogValue() slog.Value {
	return slog.GroupValue(slog.String("host", s.Host), slog.Int("port", s.Port), slog.String("from", s.From), slog.String("tls", s.TLS))
}

// Default returns the zero-setup configuration.
func Default() Config {
	return Config{
		DataDir:         "./latch-data",
		Listen:          "127.0.0.1:4000",
		TLS:             "auto",
		LogLevel:        "info",
		LogFormat:       "text",
		SMTP:            SMTP{Port: 587, TLS: "starttls"},
		RateLimits:      "on",
		ShutdownTimeout: 20 * time.Second,
		DeliveryLease:   time.Minute,
		Retention:       30 * 24 * time.Hour,
		Argon2: Argon2{MemoryKiB: int(hashes.DefaultParams.MemoryKiB), Iterations: int(hashes.DefaultParams.Iterations),
			Parallelism: int(hashes.DefaultParams.Parallelism)},
	}
}

// Flags binds the serve flags onto fs, with LATCH_* environment values as defaults.
func (c *Config) Flags(fs *flag.FlagSet) {
	env := func(name, def string) string {
		if v, ok := os.LookupEnv("LATCH_" + name); ok {
			return v
		}
		return def
	}
	// A value that does not parse is reported by Validate rather than
	// silently replaced by the default.
	envDuration := func(name string, def time.Duration) time.Duration {
		if v, ok := os.LookupEnv("LATCH_" + name); ok {
			d, err := time.ParseDuration(v)
			if err == nil {
				return d
			}
			c.envErrs = append(c.envErrs, fmt.Errorf("LATCH_%s=%q is not a duration", name, v))
		}
		return def
	}
	envInt := func(name string, def int) int {
		if v, ok := os.LookupEnv("LATCH_" + name); ok {
			n, err := strconv.Atoi(v)
			if err == nil {
				return n
			}
			c.envErrs = append(c.envErrs, fmt.Errorf("LATCH_%s=%q is not an integer", name, v))
		}
		return def
	}
	fs.StringVar(&c.DataDir, "data-dir", env("DATA_DIR", c.DataDir), "directory for the SQLite file, keys and TLS material (LATCH_DATA_DIR)")
	fs.StringVar(&c.Listen, "listen", env("LISTEN", c.Listen), "HOST:PORT to listen on (LATCH_LISTEN)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("DATABASE_URL", c.DatabaseURL), "postgres://... to use PostgreSQL instead of SQLite (LATCH_DATABASE_URL)")
	fs.StringVar(&c.TLS, "tls", env("TLS", c.TLS), "auto (generated local CA) or off (plain HTTP behind a proxy) (LATCH_TLS)")
	fs.StringVar(&c.TLSCert, "tls-cert", env("TLS_CERT", c.TLSCert), "PEM certificate file; with --tls-key replaces the generated one (LATCH_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", env("TLS_KEY", c.TLSKey), "PEM key file (LATCH_TLS_KEY)")
	fs.StringVar(&c.PublicURL, "public-url", env("PUBLIC_URL", c.PublicURL), "origin that emailed links point at (LATCH_PUBLIC_URL)")
	fs.StringVar(&c.MasterKey, "master-key", env("MASTER_KEY", c.MasterKey), "32-byte key (hex or base64) sealing secrets at rest; default DATA_DIR/master.key (LATCH_MASTER_KEY)")
	fs.StringVar(&c.LogLevel, "log-level", env("LOG_LEVEL", c.LogLevel), "debug, info, warn or error (LATCH_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("LOG_FORMAT", c.LogFormat), "text or json (LATCH_LOG_FORMAT)")
	fs.StringVar(&c.SMTP.Host, "smtp-host", env("SMTP_HOST", c.SMTP.Host), "SMTP server host; enables email delivery for live projects (LATCH_SMTP_HOST)")
	fs.IntVar(&c.SMTP.Port, "smtp-port", envInt("SMTP_PORT", c.SMTP.Port), "SMTP port (LATCH_SMTP_PORT)")
	fs.StringVar(&c.SMTP.Username, "smtp-username", env("SMTP_USERNAME", c.SMTP.Username), "SMTP AUTH user (LATCH_SMTP_USERNAME)")
	fs.StringVar(&c.SMTP.Password, "smtp-password", env("SMTP_PASSWORD", c.SMTP.Password), "SMTP AUTH password; prefer the environment variable (LATCH_SMTP_PASSWORD)")
	fs.StringVar(&c.SMTP.From, "smtp-from", env("SMTP_FROM", c.SMTP.From), "From address (LATCH_SMTP_FROM)")
	fs.StringVar(&c.SMTP.TLS, "smtp-tls", env("SMTP_TLS", c.SMTP.TLS), "starttls, implicit or none (LATCH_SMTP_TLS)")
	fs.StringVar(&c.Twilio.AccountSID, "twilio-account-sid", env("TWILIO_ACCOUNT_SID", c.Twilio.AccountSID), "Twilio account SID; enables SMS and WhatsApp for live projects (LATCH_TWILIO_ACCOUNT_SID)")
	fs.StringVar(&c.Twilio.AuthToken, "twilio-auth-token", env("TWILIO_AUTH_TOKEN", c.Twilio.AuthToken), "Twilio auth token; prefer the environment variable (LATCH_TWILIO_AUTH_TOKEN)")
	fs.StringVar(&c.Twilio.From, "twilio-from", env("TWILIO_FROM", c.Twilio.From), "E.164 sender number (LATCH_TWILIO_FROM)")
	fs.StringVar(&c.Twilio.MessagingServiceSID, "twilio-messaging-service-sid", env("TWILIO_MESSAGING_SERVICE_SID", c.Twilio.MessagingServiceSID), "Twilio messaging service instead of a number (LATCH_TWILIO_MESSAGING_SERVICE_SID)")
	fs.StringVar(&c.Twilio.WhatsAppFrom, "twilio-whatsapp-from", env("TWILIO_WHATSAPP_FROM", c.Twilio.WhatsAppFrom), "WhatsApp sender if not --twilio-from (LATCH_TWILIO_WHATSAPP_FROM)")
	fs.StringVar(&c.Twilio.BaseURL, "twilio-base-url", env("TWILIO_BASE_URL", c.Twilio.BaseURL), "API origin of a Twilio-compatible provider (LATCH_TWILIO_BASE_URL)")
	fs.StringVar(&c.RateLimits, "rate-limits", env("RATE_LIMITS", c.RateLimits), "on, or off for load tests and local benchmarking (LATCH_RATE_LIMITS)")
	fs.StringVar(&c.RedisURL, "redis-url", env("REDIS_URL", c.RedisURL), "redis://... to share rate limits across replicas (LATCH_REDIS_URL)")
	fs.DurationVar(&c.DeliveryLease, "delivery-lease", envDuration("DELIVERY_LEASE", c.DeliveryLease),
		"how long a replica owns a message or webhook it is sending; after a crash they are retried after this (LATCH_DELIVERY_LEASE)")
	fs.DurationVar(&c.Retention, "retention", envDuration("RETENTION", c.Retention),
		"how long events, webhook delivery records and sent messages are kept; 0 keeps them forever (LATCH_RETENTION)")
	fs.IntVar(&c.Argon2.MemoryKiB, "argon2-memory", envInt("ARGON2_MEMORY", c.Argon2.MemoryKiB),
		"argon2id memory for new password hashes, in KiB; at least OWASP's minimum for the iterations (LATCH_ARGON2_MEMORY)")
	fs.IntVar(&c.Argon2.Iterations, "argon2-iterations", envInt("ARGON2_ITERATIONS", c.Argon2.Iterations),
		"argon2id passes for new password hashes (LATCH_ARGON2_ITERATIONS)")
	fs.IntVar(&c.Argon2.Parallelism, "argon2-parallelism", envInt("ARGON2_PARALLELISM", c.Argon2.Parallelism),
		"argon2id lanes for new password hashes (LATCH_ARGON2_PARALLELISM)")
	fs.IntVar(&c.HashMemoryMiB, "hash-memory", envInt("HASH_MEMORY", c.HashMemoryMiB),
		"MiB that password hashes computed at once may use together; more wait in line. 0: max(320, 4 x one hash x CPUs) (LATCH_HASH_MEMORY)")
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	errs := append([]error(nil), c.envErrs...)
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data-dir is required"))
	}
	if !strings.Contains(c.Listen, ":") {
		errs = append(errs, fmt.Errorf("--listen %q must be HOST:PORT", c.Listen))
	}
	if c.TLS != "auto" && c.TLS != "off" {
		errs = append(errs, fmt.Errorf("--tls must be auto or off, not %q", c.TLS))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, errors.New("--database-url must start with postgres:// or postgresql://"))
	}
	if c.MasterKey != "" {
		if _, err := c.masterKeyBytes(); err != nil {
			errs = append(errs, err)
		}
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("--log-format must be text or json, not %q", c.LogFormat))
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		errs = append(errs, fmt.Errorf("--log-level %q: %v", c.LogLevel, err))
	}
	if c.RateLimits != "on" && c.RateLimits != "off" {
		errs = append(errs, fmt.Errorf("--rate-limits must be on or off, not %q", c.RateLimits))
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		errs = append(errs, errors.New("--redis-url must start with redis:// or rediss://"))
	}
	if c.DeliveryLease < 2*time.Second || c.DeliveryLease > time.Hour {
		errs = append(errs, fmt.Errorf("--delivery-lease must be between 2s and 1h, not %s", c.DeliveryLease))
	}
	if c.Retention != 0 && c.Retention < time.Hour {
		errs = append(errs, fmt.Errorf("--retention must be 0 (keep forever) or at least 1h, not %s", c.Retention))
	}
	if c.SMTP.Host != "" && c.SMTP.From == "" {
		errs = append(errs, errors.New("--smtp-from is required with --smtp-host"))
	}
	errs = append(errs, c.validateHashing()...)
	return errors.Join(errs...)
}

// Bounds of the hashing flags, checked before they are narrowed to the
// hasher's types.
const (
	maxArgon2MemoryKiB  = 1 << 20 // 1 GiB, as hashes allows
	maxArgon2Iterations = 100
	maxArgon2Lanes      = 255
	maxHashMemoryMiB    = 1 << 24 // 16 TiB: only guards the conversion to bytes
)

func (c *Config) validateHashing() []error {
	var errs []error
	a := c.Argon2
	if a.MemoryKiB < 1 || a.MemoryKiB > maxArgon2MemoryKiB {
		errs = append(errs, fmt.Errorf("--argon2-memory must be between 1 and %d KiB, not %d", maxArgon2MemoryKiB, a.MemoryKiB))
	}
	if a.Iterations < 1 || a.Iterations > maxArgon2Iterations {
		errs = append(errs, fmt.Errorf("--argon2-iterations must be between 1 and %d, not %d", maxArgon2Iterations, a.Iterations))
	}
	if a.Parallelism < 1 || a.Parallelism > maxArgon2Lanes {
		errs = append(errs, fmt.Errorf("--argon2-parallelism must be between 1 and %d, not %d", maxArgon2Lanes, a.Parallelism))
	}
	if c.HashMemoryMiB < 0 || c.HashMemoryMiB > maxHashMemoryMiB {
		errs = append(errs, fmt.Errorf("--hash-memory must be between 0 (automatic) and %d MiB, not %d", maxHashMemoryMiB, c.HashMemoryMiB))
	}
	if len(errs) > 0 {
		return errs
	}
	p := c.HashParams()
	if err := p.Validate(); err != nil {
		return []error{fmt.Errorf("--argon2-memory %d, --argon2-iterations %d, --argon2-parallelism %d: %w",
			a.MemoryKiB, a.Iterations, a.Parallelism, err)}
	}
	if need := p.MemoryCost(); c.HashMemoryMiB > 0 && int64(c.HashMemoryMiB)<<20 < need {
		return []error{fmt.Errorf("--hash-memory %d MiB cannot hold one password hash at --argon2-memory %d KiB (%d MiB)",
			c.HashMemoryMiB, a.MemoryKiB, (need+1<<20-1)>>20)}
	}
	return nil
}

// HashParams are the configured argon2id parameters, with hashes' default
// salt and key lengths. Meaningful once Validate has passed.
func (c *Config) HashParams() hashes.Params {
	return hashes.Params{MemoryKiB: uint32(c.Argon2.MemoryKiB), Iterations: uint32(c.Argon2.Iterations),
		Parallelism: uint8(c.Argon2.Parallelism), SaltLen: hashes.DefaultParams.SaltLen, KeyLen: hashes.DefaultParams.KeyLen}
}

// HashLimits is the configured hashing budget.
func (c *Config) HashLimits() hashes.Limits {
	return hashes.Limits{MemoryBytes: int64(c.HashMemoryMiB) << 20}
}

func (c *Config) masterKeyBytes() ([]byte, error) {
	if b, err := hex.DecodeString(c.MasterKey); err == nil && len(b) == 32 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(c.MasterKey); err == nil && len(b) == 32 {
		return b, nil
	}
	return nil, errors.New("--master-key must be 32 bytes in hex or base64")
}

// DatabaseOrSQLite returns the database URL, defaulting to the data dir's SQLite file.
func (c *Config) DatabaseOrSQLite() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return filepath.Join(c.DataDir, "latch.db")
}

// LoadMasterKey returns the configured key, or reads (creating on first
// use) DATA_DIR/master.key.
func (c *Config) LoadMasterKey() ([]byte, error) {
	if c.MasterKey != "" {
		return c.masterKeyBytes()
	}
	path := filepath.Join(c.DataDir, "master.key")
	if b, err := os.ReadFile(path); err == nil {
		k, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("%s is not a 32-byte hex key", path)
		}
		return k, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k := make([]byte, 32)
	if _, err := randRead(k); err != nil {
		return nil, err
	}
	// O_EXCL: if another process created it meanwhile, use theirs.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return c.LoadMasterKey()
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
		return nil, err
	}
	return k, f.Sync()
}

package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/store/storetest"
)

// pgURLEnv names the PostgreSQL server the PostgreSQL tests run against,
// e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const pgURLEnv = "LATCH_TEST_POSTGRES_URL"

// openSQLiteStore opens a fresh SQLite store in t's temporary directory.
func openSQLiteStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatalf("Open sqlite: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openSQLiteStore(t) })
}

func TestSQLiteConcurrency(t *testing.T) {
	storetest.RunConcurrency(t, func(t *testing.T) store.Store { return openSQLiteStore(t) })
}

// postgresURL returns the test server's URL or skips t.
func postgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(pgURLEnv)
	if u == "" {
		t.Skipf("%s is not set; skipping PostgreSQL tests (e.g. %s=postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", pgURLEnv, pgURLEnv)
	}
	return u
}

// withParam adds a query parameter to a postgres:// URL.
func withParam(t testing.TB, raw, key, value string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %s: %v", pgURLEnv, err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// newPostgresSchema creates an empty schema latch_test_<random>, dropped
// with everything in it when t ends, and returns the store URL bound to it.
func newPostgresSchema(t testing.TB, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open admin connection: %v", err)
	}
	var b [8]byte
	rand.Read(b[:])
	schema := "latch_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withParam(t, base, "search_path", schema)
}

// openPostgresStore opens a store in a fresh schema. The store is closed
// before the schema is dropped (cleanups run last-in, first-out).
func openPostgresStore(t testing.TB) *Store {
	t.Helper()
	u := newPostgresSchema(t, postgresURL(t))
	s, err := Open(context.Background(), u)
	if err != nil {
		t.Fatalf("Open postgres: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestPostgres(t *testing.T) {
	postgresURL(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openPostgresStore(t) })
}

func TestPostgresConcurrency(t *testing.T) {
	postgresURL(t)
	storetest.RunConcurrency(t, func(t *testing.T) store.Store { return openPostgresStore(t) })
}

// migrationVersions lists the embedded migrations' versions.
func migrationVersions(t *testing.T) []string {
	t.Helper()
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("embedded migrations: %v, %d files", err, len(files))
	}
	var vs []string
	for _, f := range files {
		vs = append(vs, strings.TrimSuffix(strings.TrimPrefix(f, "migrations/"), ".sql"))
	}
	return vs
}

// checkMigrated asserts every embedded migration is recorded exactly once.
func checkMigrated(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	versions := migrationVersions(t)
	var total int
	if err := s.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&total); err != nil {
		t.Fatalf("count schema_migrations: %v", err)
	}
	if total != len(versions) {
		t.Errorf("schema_migrations has %d rows, want %d", total, len(versions))
	}
	for _, v := range versions {
		var n int
		if err := s.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = $1", v).Scan(&n); err != nil {
			t.Fatalf("count version %s: %v", v, err)
		}
		if n != 1 {
			t.Errorf("migration %s recorded %d times, want 1", v, n)
		}
	}
}

// testReopen opens url, writes, closes, opens again and checks the data
// survived and the migrations were applied once.
func testReopen(t *testing.T, url string) {
	ctx := context.Background()
	s1, err := Open(ctx, url)
	if err != nil {
		t.Fatalf("first Open: %v", err)
	}
	checkMigrated(t, s1)
	p := &store.Project{ID: "project-test-reopen", Name: "Reopen", Vertical: "CONSUMER", Environment: "test",
		SecretHash: "h", PublicToken: "public-token-test-reopen", CreatedAt: time.Unix(1767322000, 0).UTC()}
	if err := s1.CreateProject(ctx, p); err != nil {
		t.Fatalf("CreateProject: %v", err)
	}
	if err := s1.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s2, err := Open(ctx, url)
	if err != nil {
		t.Fatalf("second Open over a migrated database: %v", err)
	}
	defer s2.Close()
	checkMigrated(t, s2)
	got, err := s2.GetProject(ctx, p.ID)
	if err != nil || got.Name != "Reopen" {
		t.Fatalf("project after reopen = %+v, %v", got, err)
	}
	// A third store on the same database while the second is open.
	s3, err := Open(ctx, url)
	if err != nil {
		t.Fatalf("third Open alongside the second: %v", err)
	}
	defer s3.Close()
	checkMigrated(t, s3)
	if err := s3.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func TestSQLiteOpenTwice(t *testing.T) {
	testReopen(t, filepath.Join(t.TempDir(), "latch.db"))
}

func TestPostgresOpenTwice(t *testing.T) {
	testReopen(t, newPostgresSchema(t, postgresURL(t)))
}

func TestDialect(t *testing.T) {
	if d := openSQLiteStore(t).Dialect(); d != "sqlite" {
		t.Errorf("sqlite Dialect() = %q", d)
	}
	if os.Getenv(pgURLEnv) != "" {
		if d := openPostgresStore(t).Dialect(); d != "postgres" {
			t.Errorf("postgres Dialect() = %q", d)
		}
	}
}

// TestPostgresUnreachable needs no database: nothing listens on port 1.
func TestPostgresUnreachable(t *testing.T) {
	const dead = "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=1"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	s, err := openPostgres(dead)
	if err != nil {
		t.Fatalf("openPostgres (lazy) failed: %v", err)
	}
	defer s.Close()
	err = s.Ping(ctx)
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Ping of an unreachable server = %v, want store.ErrUnavailable", err)
	}
	if _, err := s.GetProject(ctx, "project-test-x"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("GetProject on an unreachable server = %v, want store.ErrUnavailable", err)
	}
	if err := s.CreateProject(ctx, &store.Project{ID: "project-test-x"}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("CreateProject on an unreachable server = %v, want store.ErrUnavailable", err)
	}
	if err := s.Tx(ctx, func(store.Store) error { return nil }); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Tx on an unreachable server = %v, want store.ErrUnavailable", err)
	}

	if _, err := Open(ctx, dead); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open of an unreachable server = %v, want store.ErrUnavailable", err)
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

func TestWrap(t *testing.T) {
	conflict := func(field string) func(error) error {
		return func(err error) error {
			var ce *store.ConflictError
			if !errors.Is(err, store.ErrConflict) || !errors.As(err, &ce) {
				return fmt.Errorf("got %v, want a ConflictError", err)
			}
			if ce.Field != field {
				return fmt.Errorf("field %q, want %q", ce.Field, field)
			}
			return nil
		}
	}
	is := func(target error) func(error) error {
		return func(err error) error {
			if !errors.Is(err, target) {
				return fmt.Errorf("got %v, want %v", err, target)
			}
			return nil
		}
	}
	plain := errors.New("something else")
	cases := []struct {
		name  string
		in    error
		check func(error) error
	}{
		{"nil", nil, func(err error) error {
			if err != nil {
				return fmt.Errorf("wrap(nil) = %v", err)
			}
			return nil
		}},
		{"no rows", sql.ErrNoRows, is(store.ErrNotFound)},
		{"wrapped no rows", fmt.Errorf("scan: %w", sql.ErrNoRows), is(store.ErrNotFound)},
		{"other error passes through", plain, is(plain)},
		{"pg email", &pgconn.PgError{Code: "23505", ConstraintName: "emails_address",
			Detail: "Key (project_id, address)=(project-test-1, a@example.com) already exists."}, conflict("email")},
		{"pg phone", &pgconn.PgError{Code: "23505", ConstraintName: "phone_numbers_number",
			Detail: "Key (project_id, number)=(project-test-1, +14155550101) already exists."}, conflict("phone_number")},
		{"pg external id", &pgconn.PgError{Code: "23505", ConstraintName: "users_external_id",
			Detail: "Key (project_id, external_id)=(project-test-1, crm-7) already exists."}, conflict("external_id")},
		// The offending values are user data: they must not steer the field.
		{"pg external id whose value names another table", &pgconn.PgError{Code: "23505", ConstraintName: "users_external_id",
			Detail: "Key (project_id, external_id)=(project-test-1, import-emails-2024) already exists."}, conflict("external_id")},
		{"pg email whose address names another table", &pgconn.PgError{Code: "23505", ConstraintName: "emails_address",
			Detail: "Key (project_id, address)=(project-test-1, phone_numbers@example.com) already exists."}, conflict("email")},
		{"pg public token", &pgconn.PgError{Code: "23505", ConstraintName: "projects_public_token_key"}, conflict("public_token")},
		{"pg primary key", &pgconn.PgError{Code: "23505", ConstraintName: "users_pkey"}, conflict("id")},
		{"pg admin shutdown", &pgconn.PgError{Code: "57P01"}, is(store.ErrUnavailable)},
		{"pg cannot connect now", &pgconn.PgError{Code: "57P03"}, is(store.ErrUnavailable)},
		{"pg connection failure", &pgconn.PgError{Code: "08006"}, is(store.ErrUnavailable)},
		{"pg syntax error passes through", &pgconn.PgError{Code: "42601"}, func(err error) error {
			if errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("syntax error mapped to %v", err)
			}
			return nil
		}},
		{"net timeout", &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}, is(store.ErrUnavailable)},
		{"bad conn", driver.ErrBadConn, is(store.ErrUnavailable)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.check(wrap(c.in)); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestSQLiteConflictFields pins the SQLite error text conflictField reads.
func TestSQLiteConflictFields(t *testing.T) {
	s := openSQLiteStore(t)
	ctx := context.Background()
	p := &store.Project{ID: "project-test-a", Name: "A", Vertical: "CONSUMER", Environment: "test", SecretHash: "h",
		PublicToken: "public-token-test-a", CreatedAt: time.Unix(1767322000, 0)}
	if err := s.CreateProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	q := *p
	q.ID = "project-test-b"
	var ce *store.ConflictError
	if err := s.CreateProject(ctx, &q); !errors.As(err, &ce) || ce.Field != "public_token" {
		t.Errorf("duplicate public token = %v, want ConflictError{public_token}", err)
	}
	q = *p
	q.PublicToken = "public-token-test-b"
	if err := s.CreateProject(ctx, &q); !errors.As(err, &ce) || ce.Field != "id" {
		t.Errorf("duplicate project id = %v, want ConflictError{id}", err)
	}
}

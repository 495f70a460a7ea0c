package sqlstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckSQLite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "latch.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) != 0 || strings.Join(r.Checks, ",") != "integrity_check,foreign_key_check" {
		t.Fatalf("fresh database: %+v", r)
	}

	// An orphan row written behind the store's back (foreign keys off on
	// this connection) is what foreign_key_check exists to find.
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(0)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`INSERT INTO redirect_urls (project_id, type, url, is_default) VALUES ('project-test-missing', 'login', 'https://app.example/', true)`); err != nil {
		t.Fatal(err)
	}
	r, err = s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "of redirect_urls refers to a missing row of projects") {
		t.Fatalf("orphan not reported: %+v", r)
	}
}

func TestCheckPostgres(t *testing.T) {
	base := postgresURL(t)
	ctx := context.Background()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// Installed once per database, as an operator would; Check finds it in
	// whichever schema it lives.
	if _, err := admin.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS amcheck`); err != nil {
		t.Fatalf("amcheck: %v", err)
	}
	s, err := Open(ctx, newPostgresSchema(t, base))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) != 0 || len(r.Checks) != 2 || !strings.Contains(r.Checks[1], "amcheck bt_index_check of") ||
		strings.Contains(r.Checks[1], " of 0 ") || strings.Contains(r.Checks[0], " of 0 ") {
		t.Fatalf("fresh schema: %+v", r)
	}
}

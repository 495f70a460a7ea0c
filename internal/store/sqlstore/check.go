package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// CheckReport is what Check looked at and what it found wrong.
type CheckReport struct {
	// Checks names each check that ran, in order.
	Checks []string `json:"checks"`
	// Problems is empty when the database is sound.
	Problems []string `json:"problems"`
}

// Check verifies the database's physical and referential integrity: on
// SQLite, PRAGMA integrity_check and foreign_key_check; on PostgreSQL, a
// full read of every table of the schema and, where the amcheck extension
// is installed, bt_index_check of every B-tree index against its table
// (heapallindexed), which finds index entries missing for live rows.
// It only reads.
func (s *Store) Check(ctx context.Context) (*CheckReport, error) {
	r := &CheckReport{Checks: []string{}, Problems: []string{}}
	if s.d.name == "sqlite" {
		if err := s.collect(ctx, r, "integrity_check", "PRAGMA integrity_check", func(v []string) string {
			if v[0] == "ok" {
				return ""
			}
			return v[0]
		}); err != nil {
			return nil, err
		}
		if err := s.collect(ctx, r, "foreign_key_check", "PRAGMA foreign_key_check", func(v []string) string {
			return fmt.Sprintf("row %s of %s refers to a missing row of %s", v[1], v[0], v[2])
		}); err != nil {
			return nil, err
		}
		return r, nil
	}
	tables, err := s.column(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		return nil, err
	}
	r.Checks = append(r.Checks, fmt.Sprintf("read every row of %d tables", len(tables)))
	for _, t := range tables {
		var n int64
		// Reading every column of every row makes a damaged heap page or
		// TOAST chunk fail here rather than in a request.
		if err := s.write.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT t::text FROM "`+t+`" t) x`).Scan(&n); err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("table %s: %v", t, err))
		}
	}
	var amcheck string
	err = s.write.QueryRowContext(ctx, `SELECT quote_ident(n.nspname) FROM pg_extension e
		JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'amcheck'`).Scan(&amcheck)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, wrap(err)
	}
	if amcheck == "" {
		r.Checks = append(r.Checks, "index check skipped: the amcheck extension is not installed (CREATE EXTENSION amcheck)")
		return r, nil
	}
	indexes, err := s.column(ctx, `SELECT c.oid::regclass::text FROM pg_index i
		JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
		WHERE c.relnamespace = current_schema()::regnamespace AND a.amname = 'btree' AND i.indisvalid
		ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	r.Checks = append(r.Checks, fmt.Sprintf("amcheck bt_index_check of %d B-tree indexes (heapallindexed)", len(indexes)))
	for _, ix := range indexes {
		if _, err := s.write.ExecContext(ctx, `SELECT `+amcheck+`.bt_index_check($1::regclass, true)`, ix); err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("index %s: %v", ix, err))
		}
	}
	return r, nil
}

// collect runs a SQLite pragma whose rows are problems, as problem renders them.
func (s *Store) collect(ctx context.Context, r *CheckReport, name, q string, problem func([]string) string) error {
	r.Checks = append(r.Checks, name)
	rows, err := s.write.QueryContext(ctx, q)
	if err != nil {
		return wrap(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		for i := range vals {
			vals[i] = new(any)
		}
		if err := rows.Scan(vals...); err != nil {
			return wrap(err)
		}
		strs := make([]string, len(cols))
		for i, v := range vals {
			strs[i] = fmt.Sprint(*(v.(*any)))
		}
		if p := problem(strs); p != "" {
			r.Problems = append(r.Problems, p)
		}
	}
	return wrap(rows.Err())
}

func (s *Store) column(ctx context.Context, q string) ([]string, error) {
	rows, err := s.write.QueryContext(ctx, q)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, wrap(err)
		}
		out = append(out, v)
	}
	return out, wrap(rows.Err())
}

package sqlstore

import (
	"context"
	"encoding/json"

	"github.com/latchhq/latch/internal/store"
)

func (s *Store) CreateProject(ctx context.Context, p *store.Project) error {
	settings := string(p.Settings)
	if settings == "" {
		settings = "{}"
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO projects (id, name, vertical, environment, secret_hash, public_token, created_at, settings)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, p.ID, p.Name, p.Vertical, p.Environment, p.SecretHash, p.PublicToken, us(p.CreatedAt), settings)
	return wrap(err)
}

const projectCols = `id, name, vertical, environment, secret_hash, public_token, created_at, settings`

func scanProject(sc interface{ Scan(...any) error }) (*store.Project, error) {
	var p store.Project
	var created int64
	var settings string
	if err := sc.Scan(&p.ID, &p.Name, &p.Vertical, &p.Environment, &p.SecretHash, &p.PublicToken, &created, &settings); err != nil {
		return nil, wrap(err)
	}
	p.CreatedAt, p.Settings = fromUS(created), json.RawMessage(settings)
	return &p, nil
}

func (s *Store) GetProject(ctx context.Context, id string) (*store.Project, error) {
	return scanProject(s.r.QueryRowContext(ctx, `SELECT `+projectCols+` FROM projects WHERE id = $1`, id))
}

func (s *Store) UpdateProjectSettings(ctx context.Context, id string, settings json.RawMessage) error {
	n, err := rowsAffected(s.w.ExecContext(ctx, `UPDATE projects SET settings = $2 WHERE id = $1`, id, string(settings)))
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (s *Store) ListProjects(ctx context.Context) ([]store.Project, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+projectCols+` FROM projects ORDER BY created_at, id`)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := []store.Project{}
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	return out, wrap(rows.Err())
}

func (s *Store) AddRedirectURL(ctx context.Context, u store.RedirectURL) error {
	return s.Tx(ctx, func(st store.Store) error {
		t := st.(*Store)
		if u.IsDefault {
			if _, err := t.w.ExecContext(ctx, `UPDATE redirect_urls SET is_default = $1 WHERE project_id = $2 AND type = $3`, false, u.ProjectID, u.Type); err != nil {
				return wrap(err)
			}
		}
		_, err := t.w.ExecContext(ctx, `INSERT INTO redirect_urls (project_id, type, url, is_default) VALUES ($1, $2, $3, $4)
			ON CONFLICT (project_id, type, url) DO UPDATE SET is_default = excluded.is_default`, u.ProjectID, u.Type, u.URL, u.IsDefault)
		return wrap(err)
	})
}

func (s *Store) ListRedirectURLs(ctx context.Context, projectID string) ([]store.RedirectURL, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT project_id, type, url, is_default FROM redirect_urls WHERE project_id = $1 ORDER BY type, url`, projectID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := []store.RedirectURL{}
	for rows.Next() {
		var u store.RedirectURL
		if err := rows.Scan(&u.ProjectID, &u.Type, &u.URL, &u.IsDefault); err != nil {
			return nil, wrap(err)
		}
		out = append(out, u)
	}
	return out, wrap(rows.Err())
}

// firstStartLock is the PostgreSQL advisory lock key of SerializeFirstStart
// (migrations use 745283).
const firstStartLock = 745284

func (s *Store) SerializeFirstStart(ctx context.Context) error {
	if s.d.name != "postgres" {
		return nil
	}
	_, err := s.w.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", firstStartLock)
	return wrap(err)
}

package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/latchhq/latch/internal/store"
)

func jsonOr(m json.RawMessage, def string) string {
	if len(m) == 0 {
		return def
	}
	return string(m)
}

func (s *Store) CreateSession(ctx context.Context, ss *store.Session) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO sessions (project_id, id, user_id, token_hash, started_at, last_accessed_at, expires_at,
		attributes, factors, custom_claims, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		ss.ProjectID, ss.ID, ss.UserID, ss.TokenHash, us(ss.StartedAt), us(ss.LastAccessedAt), us(ss.ExpiresAt),
		jsonOr(ss.Attributes, "{}"), jsonOr(ss.Factors, "[]"), jsonOr(ss.CustomClaims, "{}"), us(ss.UpdatedAt))
	return wrap(err)
}

const sessionCols = `project_id, id, user_id, token_hash, started_at, last_accessed_at, expires_at, attributes, factors, custom_claims, updated_at`

func scanSession(sc interface{ Scan(...any) error }) (*store.Session, error) {
	var ss store.Session
	var started, last, expires, updated int64
	var attrs, factors, claims string
	if err := sc.Scan(&ss.ProjectID, &ss.ID, &ss.UserID, &ss.TokenHash, &started, &last, &expires, &attrs, &factors, &claims, &updated); err != nil {
		return nil, wrap(err)
	}
	ss.StartedAt, ss.LastAccessedAt, ss.ExpiresAt, ss.UpdatedAt = fromUS(started), fromUS(last), fromUS(expires), fromUS(updated)
	ss.Attributes, ss.Factors, ss.CustomClaims = json.RawMessage(attrs), json.RawMessage(factors), json.RawMessage(claims)
	return &ss, nil
}

func (s *Store) GetSession(ctx context.Context, projectID, sessionID string) (*store.Session, error) {
	return scanSession(s.r.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE project_id = $1 AND id = $2`, projectID, sessionID))
}

func (s *Store) GetSessionByTokenHash(ctx context.Context, projectID, tokenHash string) (*store.Session, error) {
	return scanSession(s.r.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE token_hash = $1 AND project_id = $2`, tokenHash, projectID))
}

func (s *Store) ListSessions(ctx context.Context, projectID, userID string) ([]store.Session, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE project_id = $1 AND user_id = $2 ORDER BY started_at, id`, projectID, userID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := []store.Session{}
	for rows.Next() {
		ss, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *ss)
	}
	return out, wrap(rows.Err())
}

func (s *Store) UpdateSession(ctx context.Context, ss *store.Session) error {
	return execOne(ctx, s.w, `UPDATE sessions SET last_accessed_at = $3, expires_at = $4, attributes = $5, factors = $6,
		custom_claims = $7, updated_at = $8 WHERE project_id = $1 AND id = $2`,
		ss.ProjectID, ss.ID, us(ss.LastAccessedAt), us(ss.ExpiresAt), jsonOr(ss.Attributes, "{}"), jsonOr(ss.Factors, "[]"),
		jsonOr(ss.CustomClaims, "{}"), us(ss.UpdatedAt))
}

func (s *Store) TouchSession(ctx context.Context, projectID, sessionID string, at time.Time) error {
	_, err := s.w.ExecContext(ctx, `UPDATE sessions SET last_accessed_at = $3 WHERE project_id = $1 AND id = $2 AND last_accessed_at < $3`,
		projectID, sessionID, us(at))
	return wrap(err)
}

func (s *Store) DeleteSession(ctx context.Context, projectID, sessionID string) error {
	return execOne(ctx, s.w, `DELETE FROM sessions WHERE project_id = $1 AND id = $2`, projectID, sessionID)
}

func (s *Store) DeleteUserSessions(ctx context.Context, projectID, userID string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE project_id = $1 AND user_id = $2`, projectID, userID)
	return wrap(err)
}

func (s *Store) DeleteExpiredSessions(ctx context.Context, before time.Time) (int64, error) {
	return rowsAffected(s.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < $1`, us(before)))
}

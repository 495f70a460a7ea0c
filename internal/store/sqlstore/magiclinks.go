package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/latchhq/latch/internal/store"
)

func (s *Store) CreateMagicLink(ctx context.Context, m *store.MagicLink) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO magic_links (project_id, token_hash, user_id, email_id, kind, redirect_url, code_challenge,
		ip_address, user_agent, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		m.ProjectID, m.TokenHash, m.UserID, m.EmailID, m.Kind, m.RedirectURL, m.CodeChallenge, m.IPAddress, m.UserAgent,
		us(m.CreatedAt), us(m.ExpiresAt), nullUS(m.UsedAt))
	return wrap(err)
}

func (s *Store) GetMagicLink(ctx context.Context, projectID, tokenHash string) (*store.MagicLink, error) {
	var m store.MagicLink
	var created, expires int64
	var used sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT project_id, token_hash, user_id, email_id, kind, redirect_url, code_challenge, ip_address, user_agent,
		created_at, expires_at, used_at FROM magic_links WHERE project_id = $1 AND token_hash = $2`, projectID, tokenHash).
		Scan(&m.ProjectID, &m.TokenHash, &m.UserID, &m.EmailID, &m.Kind, &m.RedirectURL, &m.CodeChallenge, &m.IPAddress, &m.UserAgent, &created, &expires, &used)
	if err != nil {
		return nil, wrap(err)
	}
	m.CreatedAt, m.ExpiresAt, m.UsedAt = fromUS(created), fromUS(expires), fromNullUS(used)
	return &m, nil
}

func (s *Store) ConsumeMagicLink(ctx context.Context, projectID, tokenHash string, now time.Time) error {
	n, err := rowsAffected(s.w.ExecContext(ctx, `UPDATE magic_links SET used_at = $3
		WHERE project_id = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > $3`, projectID, tokenHash, us(now)))
	if err != nil {
		return err
	}
	if n != 1 {
		return store.ErrConsumed
	}
	return nil
}

func (s *Store) RevokeInvites(ctx context.Context, projectID, emailID string) (int64, error) {
	return rowsAffected(s.w.ExecContext(ctx, `DELETE FROM magic_links WHERE project_id = $1 AND email_id = $2 AND kind = 'invite' AND used_at IS NULL`,
		projectID, emailID))
}

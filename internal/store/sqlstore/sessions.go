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

// sessionWithUserQuery is built once per dialect.
func (s *Store) sessionWithUserQuery(byID bool) string {
	where := "s.token_hash = $1 AND s.project_id = $2"
	if byID {
		where = "s.id = $1 AND s.project_id = $2"
	}
	return `SELECT ` + prefixed("s.", sessionCols) + `, ` + prefixed("u.", userCols) + `, ` + s.userFactorColumns() + `
		FROM sessions s JOIN users u ON u.project_id = s.project_id AND u.id = s.user_id WHERE ` + where
}

// userFactorColumns selects the factors of the user aliased u as four JSON
// arrays (emails, phones, TOTPs, password), so a user and its factors come
// back in one row; userFactors.decode reads them.
func (s *Store) userFactorColumns() string {
	return `(SELECT ` + s.d.jsonRows("e.id, e.address, e.verified, e.created_at", "e.created_at, e.id") + `
			FROM emails e WHERE e.project_id = u.project_id AND e.user_id = u.id),
		(SELECT ` + s.d.jsonRows("p.id, p.number, p.verified, p.created_at", "p.created_at, p.id") + `
			FROM phone_numbers p WHERE p.project_id = u.project_id AND p.user_id = u.id),
		(SELECT ` + s.d.jsonRows("t.id, t.verified, t.expires_at", "t.created_at, t.id") + `
			FROM totps t WHERE t.project_id = u.project_id AND t.user_id = u.id),
		(SELECT ` + s.d.jsonRows("w.id, w.requires_reset", "w.id") + `
			FROM passwords w WHERE w.project_id = u.project_id AND w.user_id = u.id)`
}

// userFactors receives userFactorColumns.
type userFactors struct{ emails, phones, totps, passwords string }

func (f *userFactors) dest() []any { return []any{&f.emails, &f.phones, &f.totps, &f.passwords} }

func (f *userFactors) decode(u *store.User) error {
	var rows [][4]any
	if err := json.Unmarshal([]byte(f.emails), &rows); err != nil {
		return err
	}
	for _, r := range rows {
		u.Emails = append(u.Emails, store.Email{ID: str(r[0]), UserID: u.ID, Address: str(r[1]), Verified: truthy(r[2]), CreatedAt: fromUS(num(r[3]))})
	}
	rows = rows[:0]
	if err := json.Unmarshal([]byte(f.phones), &rows); err != nil {
		return err
	}
	for _, r := range rows {
		u.Phones = append(u.Phones, store.Phone{ID: str(r[0]), UserID: u.ID, Number: str(r[1]), Verified: truthy(r[2]), CreatedAt: fromUS(num(r[3]))})
	}
	var small [][3]any
	if err := json.Unmarshal([]byte(f.totps), &small); err != nil {
		return err
	}
	for _, r := range small {
		u.TOTPs = append(u.TOTPs, store.UserTOTP{ID: str(r[0]), Verified: truthy(r[1]), ExpiresAt: fromUS(num(r[2]))})
	}
	small = small[:0]
	if err := json.Unmarshal([]byte(f.passwords), &small); err != nil {
		return err
	}
	for _, r := range small {
		u.Password = &store.UserPassword{ID: str(r[0]), RequiresReset: truthy(r[1])}
	}
	return nil
}

func (s *Store) GetSessionWithUser(ctx context.Context, projectID, sessionID, tokenHash string) (*store.Session, *store.User, error) {
	key := tokenHash
	if sessionID != "" {
		key = sessionID
	}
	var ss store.Session
	var started, last, expires, updated int64
	var attrs, factors, claims string
	var uc userScan
	var uf userFactors
	dest := []any{&ss.ProjectID, &ss.ID, &ss.UserID, &ss.TokenHash, &started, &last, &expires, &attrs, &factors, &claims, &updated}
	dest = append(dest, uc.dest()...)
	dest = append(dest, uf.dest()...)
	if err := s.r.QueryRowContext(ctx, s.sessionWithUserQuery(sessionID != ""), key, projectID).Scan(dest...); err != nil {
		return nil, nil, wrap(err)
	}
	ss.StartedAt, ss.LastAccessedAt, ss.ExpiresAt, ss.UpdatedAt = fromUS(started), fromUS(last), fromUS(expires), fromUS(updated)
	ss.Attributes, ss.Factors, ss.CustomClaims = json.RawMessage(attrs), json.RawMessage(factors), json.RawMessage(claims)
	u := uc.user()
	if err := uf.decode(u); err != nil {
		return nil, nil, err
	}
	return &ss, u, nil
}

func str(v any) string { s, _ := v.(string); return s }

func num(v any) int64 { f, _ := v.(float64); return int64(f) }

// truthy reads a boolean that SQLite renders as 0/1 and PostgreSQL as true/false.
func truthy(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case float64:
		return b != 0
	}
	return false
}

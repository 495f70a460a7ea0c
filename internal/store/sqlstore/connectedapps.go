package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/latchhq/latch/internal/store"
)

// listJSON stores a string list as a JSON array (never null).
func listJSON(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l)
	return string(b)
}

func fromListJSON(s string) []string {
	out := []string{}
	_ = json.Unmarshal([]byte(s), &out)
	if out == nil {
		out = []string{}
	}
	return out
}

// scopesText stores scopes space-separated, the form of the OAuth scope
// parameter.
func scopesText(l []string) string { return strings.Join(l, " ") }

func fromScopesText(s string) []string {
	out := strings.Fields(s)
	if out == nil {
		out = []string{}
	}
	return out
}

const connectedAppCols = `project_id, id, client_type, name, description, status, full_access_allowed, redirect_urls,
	post_logout_redirect_urls, access_token_expiry_minutes, access_token_custom_audience, access_token_template,
	id_token_template, logo_url, bypass_consent_offline, creation_method, secret_hash, secret_last_four,
	next_secret_hash, next_secret_last_four, created_at, updated_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanConnectedApp(row rowScanner) (*store.ConnectedApp, error) {
	var c store.ConnectedApp
	var redirects, logout string
	var created, updated int64
	if err := row.Scan(&c.ProjectID, &c.ID, &c.ClientType, &c.Name, &c.Description, &c.Status, &c.FullAccessAllowed, &redirects,
		&logout, &c.AccessTokenExpiryMinutes, &c.AccessTokenCustomAudience, &c.AccessTokenTemplate,
		&c.IDTokenTemplate, &c.LogoURL, &c.BypassConsentForOfflineAccess, &c.CreationMethod, &c.SecretHash, &c.SecretLastFour,
		&c.NextSecretHash, &c.NextSecretLastFour, &created, &updated); err != nil {
		return nil, wrap(err)
	}
	c.RedirectURLs, c.PostLogoutRedirectURLs = fromListJSON(redirects), fromListJSON(logout)
	c.CreatedAt, c.UpdatedAt = fromUS(created), fromUS(updated)
	return &c, nil
}

func (s *Store) CreateConnectedApp(ctx context.Context, c *store.ConnectedApp) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO connected_apps (`+connectedAppCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`,
		c.ProjectID, c.ID, c.ClientType, c.Name, c.Description, c.Status, c.FullAccessAllowed, listJSON(c.RedirectURLs),
		listJSON(c.PostLogoutRedirectURLs), c.AccessTokenExpiryMinutes, c.AccessTokenCustomAudience, c.AccessTokenTemplate,
		c.IDTokenTemplate, c.LogoURL, c.BypassConsentForOfflineAccess, c.CreationMethod, c.SecretHash, c.SecretLastFour,
		c.NextSecretHash, c.NextSecretLastFour, us(c.CreatedAt), us(c.UpdatedAt))
	return wrap(err)
}

func (s *Store) GetConnectedApp(ctx context.Context, projectID, clientID string) (*store.ConnectedApp, error) {
	return scanConnectedApp(s.r.QueryRowContext(ctx, `SELECT `+connectedAppCols+` FROM connected_apps WHERE project_id = $1 AND id = $2`,
		projectID, clientID))
}

func (s *Store) UpdateConnectedApp(ctx context.Context, c *store.ConnectedApp) error {
	return execOne(ctx, s.w, `UPDATE connected_apps SET name = $3, description = $4, status = $5, full_access_allowed = $6,
		redirect_urls = $7, post_logout_redirect_urls = $8, access_token_expiry_minutes = $9, access_token_custom_audience = $10,
		access_token_template = $11, id_token_template = $12, logo_url = $13, bypass_consent_offline = $14,
		secret_hash = $15, secret_last_four = $16, next_secret_hash = $17, next_secret_last_four = $18, updated_at = $19
		WHERE project_id = $1 AND id = $2`,
		c.ProjectID, c.ID, c.Name, c.Description, c.Status, c.FullAccessAllowed, listJSON(c.RedirectURLs),
		listJSON(c.PostLogoutRedirectURLs), c.AccessTokenExpiryMinutes, c.AccessTokenCustomAudience, c.AccessTokenTemplate,
		c.IDTokenTemplate, c.LogoURL, c.BypassConsentForOfflineAccess, c.SecretHash, c.SecretLastFour, c.NextSecretHash,
		c.NextSecretLastFour, us(c.UpdatedAt))
}

func (s *Store) DeleteConnectedApp(ctx context.Context, projectID, clientID string) error {
	return execOne(ctx, s.w, `DELETE FROM connected_apps WHERE project_id = $1 AND id = $2`, projectID, clientID)
}

func (s *Store) ListConnectedApps(ctx context.Context, projectID string, after *store.ConnectedAppCursor, limit int) ([]store.ConnectedApp, int, error) {
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM connected_apps WHERE project_id = $1`, projectID).Scan(&total); err != nil {
		return nil, 0, wrap(err)
	}
	var rows *sql.Rows
	var err error
	if after == nil {
		rows, err = s.r.QueryContext(ctx, `SELECT `+connectedAppCols+` FROM connected_apps WHERE project_id = $1
			ORDER BY created_at, id LIMIT $2`, projectID, limit)
	} else {
		rows, err = s.r.QueryContext(ctx, `SELECT `+connectedAppCols+` FROM connected_apps WHERE project_id = $1
			AND (created_at > $2 OR (created_at = $2 AND id > $3)) ORDER BY created_at, id LIMIT $4`,
			projectID, us(after.CreatedAt), after.ID, limit)
	}
	if err != nil {
		return nil, 0, wrap(err)
	}
	defer rows.Close()
	out := []store.ConnectedApp{}
	for rows.Next() {
		c, err := scanConnectedApp(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *c)
	}
	return out, total, wrap(rows.Err())
}

// ---- authorizations ----

func (s *Store) PutAuthorization(ctx context.Context, a *store.ConnectedAppAuthorization) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO connected_app_authorizations (project_id, user_id, client_id, scopes, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (project_id, user_id, client_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
		a.ProjectID, a.UserID, a.ClientID, scopesText(a.Scopes), us(a.CreatedAt), us(a.UpdatedAt))
	return wrap(err)
}

func scanAuthorization(row rowScanner) (*store.ConnectedAppAuthorization, error) {
	var a store.ConnectedAppAuthorization
	var scopes string
	var created, updated int64
	if err := row.Scan(&a.ProjectID, &a.UserID, &a.ClientID, &scopes, &created, &updated); err != nil {
		return nil, wrap(err)
	}
	a.Scopes, a.CreatedAt, a.UpdatedAt = fromScopesText(scopes), fromUS(created), fromUS(updated)
	return &a, nil
}

func (s *Store) GetAuthorization(ctx context.Context, projectID, userID, clientID string) (*store.ConnectedAppAuthorization, error) {
	return scanAuthorization(s.r.QueryRowContext(ctx, `SELECT project_id, user_id, client_id, scopes, created_at, updated_at
		FROM connected_app_authorizations WHERE project_id = $1 AND user_id = $2 AND client_id = $3`, projectID, userID, clientID))
}

func (s *Store) ListAuthorizations(ctx context.Context, projectID, userID string) ([]store.ConnectedAppAuthorization, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT project_id, user_id, client_id, scopes, created_at, updated_at
		FROM connected_app_authorizations WHERE project_id = $1 AND user_id = $2 ORDER BY created_at, client_id`, projectID, userID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := []store.ConnectedAppAuthorization{}
	for rows.Next() {
		a, err := scanAuthorization(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, wrap(rows.Err())
}

func (s *Store) RevokeAuthorization(ctx context.Context, projectID, userID, clientID string) (bool, error) {
	var existed bool
	err := s.Tx(ctx, func(st store.Store) error {
		t := st.(*Store)
		n, err := rowsAffected(t.w.ExecContext(ctx, `DELETE FROM connected_app_authorizations WHERE project_id = $1 AND user_id = $2 AND client_id = $3`,
			projectID, userID, clientID))
		if err != nil {
			return err
		}
		existed = n > 0
		for _, table := range []string{"connected_app_codes", "connected_app_refresh_tokens", "connected_app_access_tokens"} {
			if _, err := t.w.ExecContext(ctx, `DELETE FROM `+table+` WHERE project_id = $1 AND user_id = $2 AND client_id = $3`,
				projectID, userID, clientID); err != nil {
				return wrap(err)
			}
		}
		return nil
	})
	return existed, err
}

// ---- authorization codes ----

func (s *Store) CreateAuthorizationCode(ctx context.Context, c *store.AuthorizationCode) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO connected_app_codes (project_id, code_hash, grant_id, client_id, user_id, session_id,
		redirect_uri, scopes, resources, nonce, code_challenge, created_at, expires_at, used_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		c.ProjectID, c.CodeHash, c.GrantID, c.ClientID, c.UserID, c.SessionID, c.RedirectURI, scopesText(c.Scopes),
		listJSON(c.Resources), c.Nonce, c.CodeChallenge, us(c.CreatedAt), us(c.ExpiresAt), nullUS(c.UsedAt))
	return wrap(err)
}

func (s *Store) GetAuthorizationCode(ctx context.Context, projectID, codeHash string) (*store.AuthorizationCode, error) {
	var c store.AuthorizationCode
	var scopes, resources string
	var created, expires int64
	var used sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT project_id, code_hash, grant_id, client_id, user_id, session_id, redirect_uri, scopes,
		resources, nonce, code_challenge, created_at, expires_at, used_at FROM connected_app_codes WHERE project_id = $1 AND code_hash = $2`,
		projectID, codeHash).Scan(&c.ProjectID, &c.CodeHash, &c.GrantID, &c.ClientID, &c.UserID, &c.SessionID, &c.RedirectURI, &scopes,
		&resources, &c.Nonce, &c.CodeChallenge, &created, &expires, &used)
	if err != nil {
		return nil, wrap(err)
	}
	c.Scopes, c.Resources = fromScopesText(scopes), fromListJSON(resources)
	c.CreatedAt, c.ExpiresAt, c.UsedAt = fromUS(created), fromUS(expires), fromNullUS(used)
	return &c, nil
}

// consume runs a conditional single-use UPDATE; no row changed means
// ErrConsumed when the row exists and ErrNotFound when it does not.
func (s *Store) consume(ctx context.Context, update, exists string, args ...any) error {
	n, err := rowsAffected(s.w.ExecContext(ctx, update, args...))
	if err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	var c int
	if err := s.w.QueryRowContext(ctx, exists, args[0], args[1]).Scan(&c); err != nil {
		return wrap(err)
	}
	if c == 0 {
		return store.ErrNotFound
	}
	return store.ErrConsumed
}

func (s *Store) ConsumeAuthorizationCode(ctx context.Context, projectID, codeHash string, now time.Time) error {
	return s.consume(ctx, `UPDATE connected_app_codes SET used_at = $3
		WHERE project_id = $1 AND code_hash = $2 AND used_at IS NULL AND expires_at > $3`,
		`SELECT COUNT(*) FROM connected_app_codes WHERE project_id = $1 AND code_hash = $2`, projectID, codeHash, us(now))
}

// ---- refresh tokens ----

func (s *Store) CreateRefreshToken(ctx context.Context, t *store.RefreshToken) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO connected_app_refresh_tokens (project_id, token_hash, grant_id, client_id, user_id,
		session_id, scopes, resources, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		t.ProjectID, t.TokenHash, t.GrantID, t.ClientID, t.UserID, t.SessionID, scopesText(t.Scopes), listJSON(t.Resources),
		us(t.CreatedAt), us(t.ExpiresAt), nullUS(t.UsedAt))
	return wrap(err)
}

func (s *Store) GetRefreshToken(ctx context.Context, projectID, tokenHash string) (*store.RefreshToken, error) {
	var t store.RefreshToken
	var scopes, resources string
	var created, expires int64
	var used sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT project_id, token_hash, grant_id, client_id, user_id, session_id, scopes, resources,
		created_at, expires_at, used_at FROM connected_app_refresh_tokens WHERE project_id = $1 AND token_hash = $2`, projectID, tokenHash).
		Scan(&t.ProjectID, &t.TokenHash, &t.GrantID, &t.ClientID, &t.UserID, &t.SessionID, &scopes, &resources, &created, &expires, &used)
	if err != nil {
		return nil, wrap(err)
	}
	t.Scopes, t.Resources = fromScopesText(scopes), fromListJSON(resources)
	t.CreatedAt, t.ExpiresAt, t.UsedAt = fromUS(created), fromUS(expires), fromNullUS(used)
	return &t, nil
}

func (s *Store) UseRefreshToken(ctx context.Context, projectID, tokenHash string, now time.Time) error {
	return s.consume(ctx, `UPDATE connected_app_refresh_tokens SET used_at = $3
		WHERE project_id = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > $3`,
		`SELECT COUNT(*) FROM connected_app_refresh_tokens WHERE project_id = $1 AND token_hash = $2`, projectID, tokenHash, us(now))
}

func (s *Store) ExtendRefreshToken(ctx context.Context, projectID, tokenHash string, now, until time.Time) error {
	return s.consume(ctx, `UPDATE connected_app_refresh_tokens SET expires_at = $4
		WHERE project_id = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > $3`,
		`SELECT COUNT(*) FROM connected_app_refresh_tokens WHERE project_id = $1 AND token_hash = $2`, projectID, tokenHash, us(now), us(until))
}

// ---- access-token records ----

func (s *Store) CreateAccessTokenRecord(ctx context.Context, r *store.AccessTokenRecord) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO connected_app_access_tokens (project_id, jti, grant_id, client_id, user_id, session_id,
		scopes, issued_at, expires_at, exchanged_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		r.ProjectID, r.JTI, r.GrantID, r.ClientID, r.UserID, r.SessionID, scopesText(r.Scopes), us(r.IssuedAt), us(r.ExpiresAt),
		nullUS(r.ExchangedAt))
	return wrap(err)
}

func (s *Store) GetAccessTokenRecord(ctx context.Context, projectID, jti string) (*store.AccessTokenRecord, error) {
	var r store.AccessTokenRecord
	var scopes string
	var issued, expires int64
	var exchanged sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT project_id, jti, grant_id, client_id, user_id, session_id, scopes, issued_at, expires_at,
		exchanged_at FROM connected_app_access_tokens WHERE project_id = $1 AND jti = $2`, projectID, jti).
		Scan(&r.ProjectID, &r.JTI, &r.GrantID, &r.ClientID, &r.UserID, &r.SessionID, &scopes, &issued, &expires, &exchanged)
	if err != nil {
		return nil, wrap(err)
	}
	r.Scopes, r.IssuedAt, r.ExpiresAt, r.ExchangedAt = fromScopesText(scopes), fromUS(issued), fromUS(expires), fromNullUS(exchanged)
	return &r, nil
}

func (s *Store) MarkAccessTokenExchanged(ctx context.Context, projectID, jti string, now time.Time) error {
	return s.consume(ctx, `UPDATE connected_app_access_tokens SET exchanged_at = $3
		WHERE project_id = $1 AND jti = $2 AND exchanged_at IS NULL`,
		`SELECT COUNT(*) FROM connected_app_access_tokens WHERE project_id = $1 AND jti = $2`, projectID, jti, us(now))
}

func (s *Store) RevokeGrant(ctx context.Context, projectID, grantID string) error {
	return s.Tx(ctx, func(st store.Store) error {
		t := st.(*Store)
		for _, table := range []string{"connected_app_refresh_tokens", "connected_app_access_tokens"} {
			if _, err := t.w.ExecContext(ctx, `DELETE FROM `+table+` WHERE project_id = $1 AND grant_id = $2`, projectID, grantID); err != nil {
				return wrap(err)
			}
		}
		return nil
	})
}

func (s *Store) DeleteExpiredConnectedAppTokens(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	err := s.Tx(ctx, func(st store.Store) error {
		t := st.(*Store)
		for _, table := range []string{"connected_app_codes", "connected_app_refresh_tokens", "connected_app_access_tokens"} {
			n, err := rowsAffected(t.w.ExecContext(ctx, `DELETE FROM `+table+` WHERE expires_at < $1`, us(before)))
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	return total, err
}

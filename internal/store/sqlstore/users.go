package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/latchhq/latch/internal/store"
)

func fullName(u *store.User) string {
	parts := []string{}
	for _, p := range []string{u.FirstName, u.MiddleName, u.LastName} {
		if p != "" {
			parts = append(parts, strings.ToLower(p))
		}
	}
	return strings.Join(parts, " ")
}

func rolesJSON(r []string) string {
	if r == nil {
		r = []string{}
	}
	b, _ := json.Marshal(r)
	return string(b)
}

func nullJSON(m json.RawMessage) sql.NullString {
	if m == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: string(m), Valid: true}
}

func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	return s.Tx(ctx, func(st store.Store) error {
		t := st.(*Store)
		_, err := t.w.ExecContext(ctx, `INSERT INTO users (project_id, id, status, first_name, middle_name, last_name, full_name,
			external_id, trusted_metadata, untrusted_metadata, roles, created_at, updated_at, lock_created_at, lock_expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			u.ProjectID, u.ID, u.Status, u.FirstName, u.MiddleName, u.LastName, fullName(u),
			nullString(u.ExternalID), nullJSON(u.TrustedMetadata), nullJSON(u.UntrustedMetadata), rolesJSON(u.Roles),
			us(u.CreatedAt), us(u.UpdatedAt), nullUS(u.LockCreatedAt), nullUS(u.LockExpiresAt))
		if err != nil {
			return wrap(err)
		}
		for i := range u.Emails {
			if err := t.AddEmail(ctx, u.ProjectID, &u.Emails[i]); err != nil {
				return err
			}
		}
		for i := range u.Phones {
			if err := t.AddPhone(ctx, u.ProjectID, &u.Phones[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

const userCols = `project_id, id, status, first_name, middle_name, last_name, external_id, trusted_metadata, untrusted_metadata,
	roles, created_at, updated_at, lock_created_at, lock_expires_at`

// userScan holds a users row while it is scanned.
type userScan struct {
	u                store.User
	ext, tm, um      sql.NullString
	roles            string
	created, updated int64
	lc, le           sql.NullInt64
}

func (s *userScan) dest() []any {
	u := &s.u
	return []any{&u.ProjectID, &u.ID, &u.Status, &u.FirstName, &u.MiddleName, &u.LastName, &s.ext, &s.tm, &s.um,
		&s.roles, &s.created, &s.updated, &s.lc, &s.le}
}

func (s *userScan) user() *store.User {
	u := s.u
	u.ExternalID = s.ext.String
	if s.tm.Valid {
		u.TrustedMetadata = json.RawMessage(s.tm.String)
	}
	if s.um.Valid {
		u.UntrustedMetadata = json.RawMessage(s.um.String)
	}
	if err := json.Unmarshal([]byte(s.roles), &u.Roles); err != nil || u.Roles == nil {
		u.Roles = []string{}
	}
	u.CreatedAt, u.UpdatedAt = fromUS(s.created), fromUS(s.updated)
	u.LockCreatedAt, u.LockExpiresAt = fromNullUS(s.lc), fromNullUS(s.le)
	u.Emails, u.Phones = []store.Email{}, []store.Phone{}
	return &u
}

func scanUser(sc interface{ Scan(...any) error }) (*store.User, error) {
	var us userScan
	if err := sc.Scan(us.dest()...); err != nil {
		return nil, wrap(err)
	}
	return us.user(), nil
}

func (s *Store) GetUser(ctx context.Context, projectID, userID string) (*store.User, error) {
	return s.getUser(ctx, "id", projectID, userID)
}

func (s *Store) GetUserByExternalID(ctx context.Context, projectID, externalID string) (*store.User, error) {
	return s.getUser(ctx, "external_id", projectID, externalID)
}

// getUser reads the user whose column col equals key, with its factors:
// in one row where the dialect prefers it, else the user and then one
// query for its factors.
func (s *Store) getUser(ctx context.Context, col, projectID, key string) (*store.User, error) {
	if !s.d.userFactorsInline {
		u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE project_id = $1 AND `+col+` = $2`, projectID, key))
		if err != nil {
			return nil, err
		}
		return u, s.loadFactors(ctx, projectID, []*store.User{u})
	}
	var uc userScan
	var uf userFactors
	q := `SELECT ` + prefixed("u.", userCols) + `, ` + s.userFactorColumns() + ` FROM users u WHERE u.project_id = $1 AND u.` + col + ` = $2`
	if err := s.r.QueryRowContext(ctx, q, projectID, key).Scan(append(uc.dest(), uf.dest()...)...); err != nil {
		return nil, wrap(err)
	}
	u := uc.user()
	return u, uf.decode(u)
}

// loadFactors fills the factors of many users (a search page) in one query.
func (s *Store) loadFactors(ctx context.Context, projectID string, users []*store.User) error {
	if len(users) == 0 {
		return nil
	}
	byID := make(map[string]*store.User, len(users))
	args := []any{projectID}
	marks := make([]string, 0, len(users))
	for _, u := range users {
		byID[u.ID] = u
		args = append(args, u.ID)
		marks = append(marks, placeholder(len(args)))
	}
	in := strings.Join(marks, ", ")
	// One round trip for every factor table. The flag column is verified,
	// or requires_reset for passwords; extra is a TOTP's expiry.
	rows, err := s.r.QueryContext(ctx, `SELECT 'e', id, user_id, address, verified, created_at, 0 FROM emails
		WHERE project_id = $1 AND user_id IN (`+in+`)
		UNION ALL SELECT 'p', id, user_id, number, verified, created_at, 0 FROM phone_numbers
		WHERE project_id = $1 AND user_id IN (`+in+`)
		UNION ALL SELECT 't', id, user_id, '', verified, created_at, expires_at FROM totps
		WHERE project_id = $1 AND user_id IN (`+in+`)
		UNION ALL SELECT 'w', id, user_id, '', requires_reset, created_at, 0 FROM passwords
		WHERE project_id = $1 AND user_id IN (`+in+`) ORDER BY 1, 6, 2`, args...)
	if err != nil {
		return wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, id, userID, value string
		var flag bool
		var created, extra int64
		if err := rows.Scan(&kind, &id, &userID, &value, &flag, &created, &extra); err != nil {
			return wrap(err)
		}
		u := byID[userID]
		switch kind {
		case "e":
			u.Emails = append(u.Emails, store.Email{ID: id, UserID: userID, Address: value, Verified: flag, CreatedAt: fromUS(created)})
		case "p":
			u.Phones = append(u.Phones, store.Phone{ID: id, UserID: userID, Number: value, Verified: flag, CreatedAt: fromUS(created)})
		case "t":
			u.TOTPs = append(u.TOTPs, store.UserTOTP{ID: id, Verified: flag, ExpiresAt: fromUS(extra)})
		case "w":
			u.Password = &store.UserPassword{ID: id, RequiresReset: flag}
		}
	}
	return wrap(rows.Err())
}

func placeholder(n int) string { return "$" + strconv.Itoa(n) }

func (s *Store) UpdateUser(ctx context.Context, u *store.User) error {
	return execOne(ctx, s.w, `UPDATE users SET status = $3, first_name = $4, middle_name = $5, last_name = $6, full_name = $7,
		external_id = $8, trusted_metadata = $9, untrusted_metadata = $10, roles = $11, updated_at = $12,
		lock_created_at = $13, lock_expires_at = $14 WHERE project_id = $1 AND id = $2`,
		u.ProjectID, u.ID, u.Status, u.FirstName, u.MiddleName, u.LastName, fullName(u),
		nullString(u.ExternalID), nullJSON(u.TrustedMetadata), nullJSON(u.UntrustedMetadata), rolesJSON(u.Roles),
		us(u.UpdatedAt), nullUS(u.LockCreatedAt), nullUS(u.LockExpiresAt))
}

func (s *Store) DeleteUser(ctx context.Context, projectID, userID string) error {
	return execOne(ctx, s.w, `DELETE FROM users WHERE project_id = $1 AND id = $2`, projectID, userID)
}

func (s *Store) AddEmail(ctx context.Context, projectID string, e *store.Email) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO emails (project_id, id, user_id, address, verified, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		projectID, e.ID, e.UserID, e.Address, e.Verified, us(e.CreatedAt))
	return wrap(err)
}

func scanEmail(row *sql.Row) (*store.Email, error) {
	var e store.Email
	var created int64
	if err := row.Scan(&e.ID, &e.UserID, &e.Address, &e.Verified, &created); err != nil {
		return nil, wrap(err)
	}
	e.CreatedAt = fromUS(created)
	return &e, nil
}

func (s *Store) GetEmailByAddress(ctx context.Context, projectID, address string) (*store.Email, error) {
	return scanEmail(s.r.QueryRowContext(ctx, `SELECT id, user_id, address, verified, created_at FROM emails WHERE project_id = $1 AND address = $2`, projectID, address))
}

func (s *Store) GetEmail(ctx context.Context, projectID, emailID string) (*store.Email, error) {
	return scanEmail(s.r.QueryRowContext(ctx, `SELECT id, user_id, address, verified, created_at FROM emails WHERE project_id = $1 AND id = $2`, projectID, emailID))
}

func (s *Store) VerifyEmail(ctx context.Context, projectID, emailID string) error {
	return execOne(ctx, s.w, `UPDATE emails SET verified = $3 WHERE project_id = $1 AND id = $2`, projectID, emailID, true)
}

func (s *Store) DeleteEmail(ctx context.Context, projectID, emailID string) error {
	return execOne(ctx, s.w, `DELETE FROM emails WHERE project_id = $1 AND id = $2`, projectID, emailID)
}

func (s *Store) AddPhone(ctx context.Context, projectID string, p *store.Phone) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO phone_numbers (project_id, id, user_id, number, verified, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		projectID, p.ID, p.UserID, p.Number, p.Verified, us(p.CreatedAt))
	return wrap(err)
}

func scanPhone(row *sql.Row) (*store.Phone, error) {
	var p store.Phone
	var created int64
	if err := row.Scan(&p.ID, &p.UserID, &p.Number, &p.Verified, &created); err != nil {
		return nil, wrap(err)
	}
	p.CreatedAt = fromUS(created)
	return &p, nil
}

func (s *Store) GetPhone(ctx context.Context, projectID, phoneID string) (*store.Phone, error) {
	return scanPhone(s.r.QueryRowContext(ctx, `SELECT id, user_id, number, verified, created_at FROM phone_numbers WHERE project_id = $1 AND id = $2`, projectID, phoneID))
}

func (s *Store) GetPhoneByNumber(ctx context.Context, projectID, number string) (*store.Phone, error) {
	return scanPhone(s.r.QueryRowContext(ctx, `SELECT id, user_id, number, verified, created_at FROM phone_numbers WHERE project_id = $1 AND number = $2`, projectID, number))
}

func (s *Store) DeletePhone(ctx context.Context, projectID, phoneID string) error {
	return execOne(ctx, s.w, `DELETE FROM phone_numbers WHERE project_id = $1 AND id = $2`, projectID, phoneID)
}

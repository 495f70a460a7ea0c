package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"time"

	"github.com/latchhq/latch/internal/store"
)

func (s *Store) PutOTP(ctx context.Context, o *store.OTP) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO otp_codes (project_id, method_id, user_id, channel, code_hash, attempts, created_at, expires_at, used_at, ip_address, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (project_id, method_id) DO UPDATE SET user_id = excluded.user_id, channel = excluded.channel,
		code_hash = excluded.code_hash, attempts = excluded.attempts, created_at = excluded.created_at,
		expires_at = excluded.expires_at, used_at = excluded.used_at, ip_address = excluded.ip_address, user_agent = excluded.user_agent`,
		o.ProjectID, o.MethodID, o.UserID, o.Channel, o.CodeHash, o.Attempts, us(o.CreatedAt), us(o.ExpiresAt), nullUS(o.UsedAt), o.IPAddress, o.UserAgent)
	return wrap(err)
}

func (s *Store) AttemptOTP(ctx context.Context, projectID, methodID string, max int, now time.Time) (*store.OTP, error) {
	var o store.OTP
	var created, expires int64
	var used sql.NullInt64
	err := s.w.QueryRowContext(ctx, `UPDATE otp_codes SET attempts = attempts + 1
		WHERE project_id = $1 AND method_id = $2 AND used_at IS NULL AND expires_at > $3 AND attempts < $4
		RETURNING project_id, method_id, user_id, channel, code_hash, attempts, created_at, expires_at, used_at, ip_address, user_agent`,
		projectID, methodID, us(now), max).Scan(&o.ProjectID, &o.MethodID, &o.UserID, &o.Channel, &o.CodeHash, &o.Attempts, &created, &expires, &used, &o.IPAddress, &o.UserAgent)
	if errors.Is(err, sql.ErrNoRows) {
		var n int
		if err := s.w.QueryRowContext(ctx, `SELECT COUNT(*) FROM otp_codes WHERE project_id = $1 AND method_id = $2`, projectID, methodID).Scan(&n); err != nil {
			return nil, wrap(err)
		}
		if n == 0 {
			return nil, store.ErrNotFound
		}
		return nil, store.ErrConsumed
	}
	if err != nil {
		return nil, wrap(err)
	}
	o.CreatedAt, o.ExpiresAt, o.UsedAt = fromUS(created), fromUS(expires), fromNullUS(used)
	return &o, nil
}

func (s *Store) ConsumeOTP(ctx context.Context, projectID, methodID string, now time.Time) error {
	n, err := rowsAffected(s.w.ExecContext(ctx, `UPDATE otp_codes SET used_at = $3 WHERE project_id = $1 AND method_id = $2 AND used_at IS NULL`,
		projectID, methodID, us(now)))
	if err != nil {
		return err
	}
	if n != 1 {
		return store.ErrConsumed
	}
	return nil
}

func (s *Store) PutPassword(ctx context.Context, p *store.Password) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO passwords (project_id, id, user_id, hash, requires_reset, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (project_id, user_id) DO UPDATE SET hash = excluded.hash, requires_reset = excluded.requires_reset,
		updated_at = excluded.updated_at`,
		p.ProjectID, p.ID, p.UserID, p.Hash, p.RequiresReset, us(p.CreatedAt), us(p.UpdatedAt))
	return wrap(err)
}

func scanPassword(row *sql.Row) (*store.Password, error) {
	var p store.Password
	var created, updated int64
	if err := row.Scan(&p.ProjectID, &p.ID, &p.UserID, &p.Hash, &p.RequiresReset, &created, &updated); err != nil {
		return nil, wrap(err)
	}
	p.CreatedAt, p.UpdatedAt = fromUS(created), fromUS(updated)
	return &p, nil
}

func (s *Store) GetPassword(ctx context.Context, projectID, userID string) (*store.Password, error) {
	return scanPassword(s.r.QueryRowContext(ctx, `SELECT project_id, id, user_id, hash, requires_reset, created_at, updated_at
		FROM passwords WHERE project_id = $1 AND user_id = $2`, projectID, userID))
}

func (s *Store) GetPasswordByID(ctx context.Context, projectID, passwordID string) (*store.Password, error) {
	return scanPassword(s.r.QueryRowContext(ctx, `SELECT project_id, id, user_id, hash, requires_reset, created_at, updated_at
		FROM passwords WHERE project_id = $1 AND id = $2`, projectID, passwordID))
}

func (s *Store) DeletePassword(ctx context.Context, projectID, passwordID string) error {
	return execOne(ctx, s.w, `DELETE FROM passwords WHERE project_id = $1 AND id = $2`, projectID, passwordID)
}

func (s *Store) RecordAuthFailure(ctx context.Context, projectID, userID string, threshold int, lockFor time.Duration, now time.Time) (*time.Time, error) {
	var out *time.Time
	err := s.Tx(ctx, func(st store.Store) error {
		t := st.(*Store)
		var failures int
		var lockExp sql.NullInt64
		// Failures while locked do not count towards the next lock: the
		// count starts afresh when the lock expires.
		err := t.w.QueryRowContext(ctx, `UPDATE users
			SET failed_auths = CASE WHEN lock_expires_at > $3 THEN 0 ELSE failed_auths + 1 END
			WHERE project_id = $1 AND id = $2
			RETURNING failed_auths, lock_expires_at`, projectID, userID, us(now)).Scan(&failures, &lockExp)
		if err != nil {
			return wrap(err)
		}
		if lockExp.Valid && lockExp.Int64 > us(now) {
			out = fromNullUS(lockExp)
			return nil
		}
		if failures < threshold {
			return nil
		}
		until := now.Add(lockFor)
		if _, err := t.w.ExecContext(ctx, `UPDATE users SET lock_created_at = $3, lock_expires_at = $4, failed_auths = 0
			WHERE project_id = $1 AND id = $2`, projectID, userID, us(now), us(until)); err != nil {
			return wrap(err)
		}
		out = &until
		return nil
	})
	return out, err
}

func (s *Store) ResetAuthFailures(ctx context.Context, projectID, userID string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE users SET failed_auths = 0 WHERE project_id = $1 AND id = $2 AND failed_auths <> 0`, projectID, userID)
	return wrap(err)
}

func (s *Store) VerifyPhone(ctx context.Context, projectID, phoneID string) error {
	return execOne(ctx, s.w, `UPDATE phone_numbers SET verified = $3 WHERE project_id = $1 AND id = $2`, projectID, phoneID, true)
}

func (s *Store) CreateTOTP(ctx context.Context, t *store.TOTP, codes []store.RecoveryCode) error {
	return s.Tx(ctx, func(st store.Store) error {
		tx := st.(*Store)
		if _, err := tx.w.ExecContext(ctx, `INSERT INTO totps (project_id, id, user_id, secret_sealed, verified, last_step, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, t.ProjectID, t.ID, t.UserID, base64.StdEncoding.EncodeToString(t.SecretSealed),
			t.Verified, t.LastStep, us(t.CreatedAt), us(t.ExpiresAt)); err != nil {
			return wrap(err)
		}
		for _, c := range codes {
			if _, err := tx.w.ExecContext(ctx, `INSERT INTO recovery_codes (project_id, totp_id, user_id, code_hash, code_sealed, used_at) VALUES ($1, $2, $3, $4, $5, $6)`,
				t.ProjectID, t.ID, t.UserID, c.CodeHash, base64.StdEncoding.EncodeToString(c.CodeSealed), nullUS(c.UsedAt)); err != nil {
				return wrap(err)
			}
		}
		return nil
	})
}

const totpCols = `project_id, id, user_id, secret_sealed, verified, last_step, created_at, expires_at`

func scanTOTP(sc interface{ Scan(...any) error }) (*store.TOTP, error) {
	var t store.TOTP
	var secret string
	var created, expires int64
	if err := sc.Scan(&t.ProjectID, &t.ID, &t.UserID, &secret, &t.Verified, &t.LastStep, &created, &expires); err != nil {
		return nil, wrap(err)
	}
	b, err := base64.StdEncoding.DecodeString(secret)
	if err != nil {
		return nil, err
	}
	t.SecretSealed, t.CreatedAt, t.ExpiresAt = b, fromUS(created), fromUS(expires)
	return &t, nil
}

func (s *Store) ListTOTPs(ctx context.Context, projectID, userID string) ([]store.TOTP, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+totpCols+` FROM totps WHERE project_id = $1 AND user_id = $2 ORDER BY created_at, id`, projectID, userID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := []store.TOTP{}
	for rows.Next() {
		t, err := scanTOTP(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, wrap(rows.Err())
}

func (s *Store) GetTOTP(ctx context.Context, projectID, totpID string) (*store.TOTP, error) {
	return scanTOTP(s.r.QueryRowContext(ctx, `SELECT `+totpCols+` FROM totps WHERE project_id = $1 AND id = $2`, projectID, totpID))
}

func (s *Store) DeleteTOTP(ctx context.Context, projectID, totpID string) error {
	return execOne(ctx, s.w, `DELETE FROM totps WHERE project_id = $1 AND id = $2`, projectID, totpID)
}

func (s *Store) AcceptTOTPStep(ctx context.Context, projectID, totpID string, step int64) error {
	n, err := rowsAffected(s.w.ExecContext(ctx, `UPDATE totps SET last_step = $3, verified = $4
		WHERE project_id = $1 AND id = $2 AND last_step < $3`, projectID, totpID, step, true))
	if err != nil {
		return err
	}
	if n != 1 {
		return store.ErrConsumed
	}
	return nil
}

func (s *Store) ListRecoveryCodes(ctx context.Context, projectID, totpID string) ([]store.RecoveryCode, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT project_id, totp_id, user_id, code_hash, code_sealed, used_at FROM recovery_codes
		WHERE project_id = $1 AND totp_id = $2 ORDER BY code_hash`, projectID, totpID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := []store.RecoveryCode{}
	for rows.Next() {
		var c store.RecoveryCode
		var used sql.NullInt64
		var sealed string
		if err := rows.Scan(&c.ProjectID, &c.TOTPID, &c.UserID, &c.CodeHash, &sealed, &used); err != nil {
			return nil, wrap(err)
		}
		if c.CodeSealed, err = base64.StdEncoding.DecodeString(sealed); err != nil {
			return nil, err
		}
		c.UsedAt = fromNullUS(used)
		out = append(out, c)
	}
	return out, wrap(rows.Err())
}

func (s *Store) UseRecoveryCode(ctx context.Context, projectID, userID, codeHash string, now time.Time) (*store.RecoveryCode, error) {
	var c store.RecoveryCode
	var used sql.NullInt64
	err := s.w.QueryRowContext(ctx, `UPDATE recovery_codes SET used_at = $4
		WHERE project_id = $1 AND user_id = $2 AND code_hash = $3 AND used_at IS NULL
		RETURNING project_id, totp_id, user_id, code_hash, used_at`, projectID, userID, codeHash, us(now)).
		Scan(&c.ProjectID, &c.TOTPID, &c.UserID, &c.CodeHash, &used)
	// CodeSealed is not returned: the caller already holds the code.
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrConsumed
	}
	if err != nil {
		return nil, wrap(err)
	}
	c.UsedAt = fromNullUS(used)
	return &c, nil
}

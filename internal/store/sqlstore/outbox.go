package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/latchhq/latch/internal/store"
)

func (s *Store) EnqueueMessage(ctx context.Context, m *store.OutboxMessage) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO outbox (project_id, id, channel, provider, recipient, subject, body_text, body_html,
		link, token, code, status, attempts, next_attempt, lease_until, last_error, created_at, sent_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		m.ProjectID, m.ID, m.Channel, m.Provider, m.To, m.Subject, m.BodyText, m.BodyHTML, m.Link, m.Token, m.Code,
		m.Status, m.Attempts, us(m.NextAttempt), nullUS(m.LeaseUntil), m.LastError, us(m.CreatedAt), nullUS(m.SentAt))
	return wrap(err)
}

const outboxCols = `project_id, id, channel, provider, recipient, subject, body_text, body_html, link, token, code, status,
	attempts, next_attempt, lease_until, last_error, created_at, sent_at`

func scanMessage(sc interface{ Scan(...any) error }) (*store.OutboxMessage, error) {
	var m store.OutboxMessage
	var next, created int64
	var lease, sent sql.NullInt64
	if err := sc.Scan(&m.ProjectID, &m.ID, &m.Channel, &m.Provider, &m.To, &m.Subject, &m.BodyText, &m.BodyHTML, &m.Link,
		&m.Token, &m.Code, &m.Status, &m.Attempts, &next, &lease, &m.LastError, &created, &sent); err != nil {
		return nil, wrap(err)
	}
	m.NextAttempt, m.CreatedAt = fromUS(next), fromUS(created)
	m.LeaseUntil, m.SentAt = fromNullUS(lease), fromNullUS(sent)
	return &m, nil
}

func (s *Store) LeaseMessages(ctx context.Context, now time.Time, lease time.Duration, n int) ([]store.OutboxMessage, error) {
	var out []store.OutboxMessage
	err := s.Tx(ctx, func(st store.Store) error {
		t := st.(*Store)
		// Due: pending and past next_attempt, or sending with an expired
		// lease (its worker died mid-send).
		rows, err := t.w.QueryContext(ctx, `SELECT `+outboxCols+` FROM outbox
			WHERE (status = 'pending' AND next_attempt <= $1) OR (status = 'sending' AND lease_until < $1)
			ORDER BY next_attempt, created_at LIMIT $2`+s.d.skipLocked, us(now), n)
		if err != nil {
			return wrap(err)
		}
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, *m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap(err)
		}
		until := now.Add(lease)
		for i := range out {
			if _, err := t.w.ExecContext(ctx, `UPDATE outbox SET status = 'sending', lease_until = $2, attempts = attempts + 1 WHERE id = $1`,
				out[i].ID, us(until)); err != nil {
				return wrap(err)
			}
			out[i].Status, out[i].LeaseUntil = "sending", &until
			out[i].Attempts++
		}
		return nil
	})
	return out, err
}

func (s *Store) MarkSent(ctx context.Context, id string, at time.Time, scrub bool) error {
	if scrub {
		// Delivered through a real provider: the bodies carried live tokens
		// and need not outlive delivery.
		return execOne(ctx, s.w, `UPDATE outbox SET status = 'sent', sent_at = $2, lease_until = NULL,
			body_text = '', body_html = '', link = '', token = '', code = '' WHERE id = $1`, id, us(at))
	}
	return execOne(ctx, s.w, `UPDATE outbox SET status = 'sent', sent_at = $2, lease_until = NULL WHERE id = $1`, id, us(at))
}

func (s *Store) MarkFailed(ctx context.Context, id string, errText string, next time.Time, final bool) error {
	if final {
		// Never to be sent: the live link, token or code it carries has no
		// further use, so it does not wait for the retention sweep.
		return execOne(ctx, s.w, `UPDATE outbox SET status = 'failed', last_error = $2, next_attempt = $3, lease_until = NULL,
			body_text = '', body_html = '', link = '', token = '', code = '' WHERE id = $1`, id, errText, us(next))
	}
	return execOne(ctx, s.w, `UPDATE outbox SET status = 'pending', last_error = $2, next_attempt = $3, lease_until = NULL WHERE id = $1`,
		id, errText, us(next))
}

func (s *Store) ListMessages(ctx context.Context, projectID, to string, limit int) ([]store.OutboxMessage, error) {
	q := `SELECT ` + outboxCols + ` FROM outbox WHERE project_id = $1`
	args := []any{projectID}
	if to != "" {
		q += ` AND recipient = $2`
		args = append(args, to)
	}
	args = append(args, limit)
	q += ` ORDER BY created_at DESC, id DESC LIMIT ` + placeholder(len(args))
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := []store.OutboxMessage{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, wrap(rows.Err())
}

package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/latchhq/latch/internal/store"
)

// Deliveries are ordered by seq. PostgreSQL fills it from the BIGSERIAL
// sequence; SQLite has no sequences, so inserts there write MAX(seq)+n in
// the same statement (its single writer makes that race-free). ordered
// is the ORDER BY that numbers the rows one statement inserts.
func (s *Store) seqInsert(ordered string) (col, expr string) {
	if s.d.name == "postgres" {
		return "", ""
	}
	return "seq, ", "(SELECT COALESCE(MAX(seq), 0) FROM webhook_deliveries) + ROW_NUMBER() OVER (ORDER BY " + ordered + "), "
}

// matchesFilter is true for an endpoint w that takes events of type $3.
const matchesFilter = `(w.all_events = TRUE OR EXISTS (SELECT 1 FROM webhook_endpoint_events f
	WHERE f.project_id = w.project_id AND f.webhook_id = w.id AND f.event_type = $3))`

// AppendEvent's statements. PostgreSQL: one round trip, the event and its
// fan-out in a single statement. SQLite (no DML in WITH): two, the second
// numbering its rows after MAX(seq).
const (
	appendEventPostgres = `WITH e AS (
		INSERT INTO events (project_id, id, type, object_type, action, object_id, payload, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id)
		INSERT INTO webhook_deliveries (project_id, webhook_id, event_id, status, attempts, next_attempt, last_error, last_status, created_at)
		SELECT w.project_id, w.id, e.id, 'pending', 0, $8, '', 0, $8
		FROM e, webhook_endpoints w
		WHERE w.project_id = $1 AND w.deleted_at IS NULL AND ` + matchesFilter
	insertEventSQLite = `INSERT INTO events (project_id, id, type, object_type, action, object_id, payload, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	fanOutSQLite = `INSERT INTO webhook_deliveries (seq, project_id, webhook_id, event_id, status, attempts, next_attempt, last_error, last_status, created_at)
		SELECT (SELECT COALESCE(MAX(seq), 0) FROM webhook_deliveries) + ROW_NUMBER() OVER (ORDER BY w.id),
		w.project_id, w.id, $2, 'pending', 0, $4, '', 0, $4
		FROM webhook_endpoints w
		WHERE w.project_id = $1 AND w.deleted_at IS NULL AND ` + matchesFilter
)

func (s *Store) AppendEvent(ctx context.Context, e *store.Event) error {
	if s.d.name == "postgres" {
		_, err := s.w.ExecContext(ctx, appendEventPostgres,
			e.ProjectID, e.ID, e.Type, e.ObjectType, e.Action, e.ObjectID, string(e.Payload), us(e.CreatedAt))
		return wrap(err)
	}
	return s.Tx(ctx, func(st store.Store) error {
		t := st.(*Store)
		if _, err := t.w.ExecContext(ctx, insertEventSQLite,
			e.ProjectID, e.ID, e.Type, e.ObjectType, e.Action, e.ObjectID, string(e.Payload), us(e.CreatedAt)); err != nil {
			return wrap(err)
		}
		_, err := t.w.ExecContext(ctx, fanOutSQLite, e.ProjectID, e.ID, e.Type, us(e.CreatedAt))
		return wrap(err)
	})
}

// prepareAppend puts AppendEvent's SQLite statements in the writer's
// statement cache. A transaction reuses only statements cached already
// (it cannot prepare on the pool while it holds SQLite's one writer), and
// services call AppendEvent inside theirs, so without this every event
// would parse its SQL again: that was 40% of its cost. It must run outside
// a transaction; the dispatcher's idle poll does it.
func (s *Store) prepareAppend(ctx context.Context) {
	if s.inTx || s.d.name != "sqlite" {
		return
	}
	for _, q := range []string{insertEventSQLite, fanOutSQLite} {
		s.wc.get(ctx, q) // on failure the statement is just not cached
	}
}

const eventCols = `project_id, id, type, object_type, action, object_id, payload, created_at`

func scanEvent(sc interface{ Scan(...any) error }) (*store.Event, error) {
	var e store.Event
	var payload string
	var created int64
	if err := sc.Scan(&e.ProjectID, &e.ID, &e.Type, &e.ObjectType, &e.Action, &e.ObjectID, &payload, &created); err != nil {
		return nil, wrap(err)
	}
	e.Payload, e.CreatedAt = json.RawMessage(payload), fromUS(created)
	return &e, nil
}

func (s *Store) GetEvent(ctx context.Context, projectID, eventID string) (*store.Event, error) {
	return scanEvent(s.r.QueryRowContext(ctx, `SELECT `+eventCols+` FROM events WHERE project_id = $1 AND id = $2`, projectID, eventID))
}

func (s *Store) ListEvents(ctx context.Context, projectID string, limit int) ([]store.Event, error) {
	// Events appended in one instant tie on created_at; the id breaks the
	// tie (stable, if arbitrary).
	rows, err := s.r.QueryContext(ctx, `SELECT `+eventCols+` FROM events WHERE project_id = $1
		ORDER BY created_at DESC, id DESC LIMIT $2`, projectID, limit)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := []store.Event{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, wrap(rows.Err())
}

func (s *Store) CreateWebhook(ctx context.Context, w *store.WebhookEndpoint) error {
	events := w.Events
	if events == nil {
		events = []string{}
	}
	filter, _ := json.Marshal(events)
	return s.Tx(ctx, func(st store.Store) error {
		t := st.(*Store)
		if _, err := t.w.ExecContext(ctx, `INSERT INTO webhook_endpoints (project_id, id, url, all_events, events, secret_sealed, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, w.ProjectID, w.ID, w.URL, len(events) == 0, string(filter),
			base64.StdEncoding.EncodeToString(w.Secret), us(w.CreatedAt)); err != nil {
			return wrap(err)
		}
		seen := map[string]bool{}
		for _, typ := range events {
			if seen[typ] {
				continue
			}
			seen[typ] = true
			if _, err := t.w.ExecContext(ctx, `INSERT INTO webhook_endpoint_events (project_id, webhook_id, event_type) VALUES ($1, $2, $3)`,
				w.ProjectID, w.ID, typ); err != nil {
				return wrap(err)
			}
		}
		return nil
	})
}

const webhookCols = `project_id, id, url, events, secret_sealed, created_at`

func scanWebhook(sc interface{ Scan(...any) error }) (*store.WebhookEndpoint, error) {
	var w store.WebhookEndpoint
	var events, secret string
	var created int64
	if err := sc.Scan(&w.ProjectID, &w.ID, &w.URL, &events, &secret, &created); err != nil {
		return nil, wrap(err)
	}
	if err := json.Unmarshal([]byte(events), &w.Events); err != nil {
		return nil, err
	}
	if w.Events == nil {
		w.Events = []string{}
	}
	var err error
	if w.Secret, err = base64.StdEncoding.DecodeString(secret); err != nil {
		return nil, err
	}
	w.CreatedAt = fromUS(created)
	return &w, nil
}

func (s *Store) GetWebhook(ctx context.Context, projectID, webhookID string) (*store.WebhookEndpoint, error) {
	return scanWebhook(s.r.QueryRowContext(ctx, `SELECT `+webhookCols+` FROM webhook_endpoints
		WHERE project_id = $1 AND id = $2 AND deleted_at IS NULL`, projectID, webhookID))
}

func (s *Store) ListWebhooks(ctx context.Context, projectID string) ([]store.WebhookEndpoint, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+webhookCols+` FROM webhook_endpoints
		WHERE project_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`, projectID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := []store.WebhookEndpoint{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *w)
	}
	return out, wrap(rows.Err())
}

func (s *Store) DeleteWebhook(ctx context.Context, projectID, webhookID string, at time.Time) error {
	return s.Tx(ctx, func(st store.Store) error {
		t := st.(*Store)
		if err := execOne(ctx, t.w, `UPDATE webhook_endpoints SET deleted_at = $3, secret_sealed = ''
			WHERE project_id = $1 AND id = $2 AND deleted_at IS NULL`, projectID, webhookID, us(at)); err != nil {
			return err
		}
		_, err := t.w.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'canceled', lease_until = NULL, last_error = 'webhook deleted'
			WHERE project_id = $1 AND webhook_id = $2 AND status IN ('pending', 'sending')`, projectID, webhookID)
		return wrap(err)
	})
}

const deliveryCols = `d.seq, d.project_id, d.webhook_id, d.event_id, e.type, d.status, d.attempts, d.next_attempt,
	d.lease_until, d.last_error, d.last_status, d.created_at, d.delivered_at`

type deliveryTimes struct {
	next, created      int64
	lease, deliveredAt sql.NullInt64
}

func (t *deliveryTimes) fill(d *store.WebhookDelivery) {
	d.NextAttempt, d.CreatedAt = fromUS(t.next), fromUS(t.created)
	d.LeaseUntil, d.DeliveredAt = fromNullUS(t.lease), fromNullUS(t.deliveredAt)
}

// deliveryDest returns the Scan destinations of deliveryCols into d.
func deliveryDest(d *store.WebhookDelivery, t *deliveryTimes) []any {
	return []any{&d.ID, &d.ProjectID, &d.WebhookID, &d.EventID, &d.EventType, &d.Status, &d.Attempts, &t.next,
		&t.lease, &d.LastError, &d.LastStatus, &t.created, &t.deliveredAt}
}

// headSeq is the seq of endpoint w's head: its lowest delivery that is
// pending or sending (webhook_deliveries_queue answers it).
const headSeq = `SELECT MIN(p.seq) FROM webhook_deliveries p
	WHERE p.project_id = w.project_id AND p.webhook_id = w.id AND p.status IN ('pending', 'sending')`

// due is true for a delivery d that may be attempted at $1.
const due = `((d.status = 'pending' AND d.next_attempt <= $1) OR (d.status = 'sending' AND d.lease_until < $1))`

func (s *Store) LeaseDeliveries(ctx context.Context, now time.Time, lease time.Duration, n int) ([]store.LeasedDelivery, error) {
	lock := ""
	if s.d.name == "postgres" {
		lock = " FOR UPDATE OF d SKIP LOCKED"
	}
	s.prepareAppend(ctx)
	// An idle poll stays read-only: on SQLite, taking the one write lock
	// every poll would queue behind (and starve) the requests' writes.
	var one int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM webhook_endpoints w CROSS JOIN webhook_deliveries d
		WHERE w.deleted_at IS NULL AND d.seq = (`+headSeq+`) AND `+due+` LIMIT 1`, us(now)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(err)
	}
	var out []store.LeasedDelivery
	err = s.Tx(ctx, func(st store.Store) error {
		t := st.(*Store)
		// Head of line: per live endpoint, only its lowest-seq delivery
		// that is pending or sending is a candidate, and only if due. The
		// endpoint drives the loop (CROSS JOIN keeps SQLite from starting
		// at the deliveries), so a long backlog costs nothing here. On
		// PostgreSQL a head being leased elsewhere is skipped, and it
		// keeps blocking its successors.
		rows, err := t.w.QueryContext(ctx, `SELECT `+deliveryCols+`, w.url, w.secret_sealed, e.payload
			FROM webhook_endpoints w
			CROSS JOIN webhook_deliveries d
			JOIN events e ON e.project_id = d.project_id AND e.id = d.event_id
			WHERE w.deleted_at IS NULL AND d.seq = (`+headSeq+`) AND `+due+`
			ORDER BY d.next_attempt, d.seq LIMIT $2`+lock, us(now), n)
		if err != nil {
			return wrap(err)
		}
		for rows.Next() {
			var l store.LeasedDelivery
			var tm deliveryTimes
			var secret, payload string
			if err := rows.Scan(append(deliveryDest(&l.WebhookDelivery, &tm), &l.URL, &secret, &payload)...); err != nil {
				rows.Close()
				return wrap(err)
			}
			tm.fill(&l.WebhookDelivery)
			if l.Secret, err = base64.StdEncoding.DecodeString(secret); err != nil {
				rows.Close()
				return err
			}
			l.Payload = json.RawMessage(payload)
			out = append(out, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap(err)
		}
		until := now.Add(lease)
		for i := range out {
			if _, err := t.w.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'sending', lease_until = $2, attempts = attempts + 1 WHERE seq = $1`,
				out[i].ID, us(until)); err != nil {
				return wrap(err)
			}
			out[i].Status, out[i].LeaseUntil = store.DeliverySending, &until
			out[i].Attempts++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// fenced runs a write on a delivery leased for attempt; a lost lease is
// ErrConsumed.
func fenced(ctx context.Context, q querier, query string, args ...any) error {
	n, err := rowsAffected(q.ExecContext(ctx, query, args...))
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrConsumed
	}
	return nil
}

func (s *Store) MarkDelivered(ctx context.Context, id int64, attempt int, httpStatus int, at time.Time) error {
	return fenced(ctx, s.w, `UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $3, last_status = $4, last_error = '', lease_until = NULL
		WHERE seq = $1 AND attempts = $2 AND status = 'sending'`, id, attempt, us(at), httpStatus)
}

func (s *Store) MarkDeliveryFailed(ctx context.Context, id int64, attempt int, errText string, httpStatus int, next time.Time, final bool) error {
	status := store.DeliveryPending
	if final {
		status = store.DeliveryFailed
	}
	return fenced(ctx, s.w, `UPDATE webhook_deliveries SET status = $3, last_error = $4, last_status = $5, next_attempt = $6, lease_until = NULL
		WHERE seq = $1 AND attempts = $2 AND status = 'sending'`, id, attempt, status, errText, httpStatus, us(next))
}

func (s *Store) ListDeliveries(ctx context.Context, projectID, webhookID string, limit int) ([]store.WebhookDelivery, error) {
	q := `SELECT ` + deliveryCols + ` FROM webhook_deliveries d JOIN events e ON e.project_id = d.project_id AND e.id = d.event_id
		WHERE d.project_id = $1`
	args := []any{projectID}
	if webhookID != "" {
		q += ` AND d.webhook_id = $2`
		args = append(args, webhookID)
	}
	args = append(args, limit)
	q += ` ORDER BY d.seq DESC LIMIT ` + placeholder(len(args))
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := []store.WebhookDelivery{}
	for rows.Next() {
		var d store.WebhookDelivery
		var tm deliveryTimes
		if err := rows.Scan(deliveryDest(&d, &tm)...); err != nil {
			return nil, wrap(err)
		}
		tm.fill(&d)
		out = append(out, d)
	}
	return out, wrap(rows.Err())
}

func (s *Store) RequeueEvent(ctx context.Context, projectID, eventID, webhookID string, now time.Time) ([]store.WebhookDelivery, error) {
	var out []store.WebhookDelivery
	err := s.Tx(ctx, func(st store.Store) error {
		t := st.(*Store)
		ev, err := t.GetEvent(ctx, projectID, eventID)
		if err != nil {
			return err
		}
		col, expr := t.seqInsert("w.created_at, w.id")
		which := `AND EXISTS (SELECT 1 FROM webhook_deliveries o WHERE o.project_id = w.project_id AND o.webhook_id = w.id AND o.event_id = $2)`
		args := []any{projectID, eventID, us(now)}
		if webhookID != "" {
			which = `AND w.id = $4`
			args = append(args, webhookID)
		}
		rows, err := t.w.QueryContext(ctx, `INSERT INTO webhook_deliveries (`+col+`project_id, webhook_id, event_id, status, attempts, next_attempt, last_error, last_status, created_at)
			SELECT `+expr+`w.project_id, w.id, $2, 'pending', 0, $3, '', 0, $3
			FROM webhook_endpoints w
			WHERE w.project_id = $1 AND w.deleted_at IS NULL `+which+`
			RETURNING seq, project_id, webhook_id, event_id, status, attempts, next_attempt, lease_until, last_error, last_status, created_at, delivered_at`, args...)
		if err != nil {
			return wrap(err)
		}
		defer rows.Close()
		for rows.Next() {
			d := store.WebhookDelivery{EventType: ev.Type}
			var tm deliveryTimes
			if err := rows.Scan(&d.ID, &d.ProjectID, &d.WebhookID, &d.EventID, &d.Status, &d.Attempts, &tm.next, &tm.lease,
				&d.LastError, &d.LastStatus, &tm.created, &tm.deliveredAt); err != nil {
				return wrap(err)
			}
			tm.fill(&d)
			out = append(out, d)
		}
		if err := rows.Err(); err != nil {
			return wrap(err)
		}
		if webhookID != "" && len(out) == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []store.WebhookDelivery{}
	}
	return out, nil
}

package sqlstore

import (
	"context"
	"time"
)

func (s *Store) DeleteEventsBefore(ctx context.Context, before time.Time, limit int) (int64, error) {
	// Deliveries go with their event (ON DELETE CASCADE).
	return rowsAffected(s.w.ExecContext(ctx, `DELETE FROM events WHERE (project_id, id) IN (
		SELECT e.project_id, e.id FROM events e
		WHERE e.created_at < $1 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
			WHERE d.project_id = e.project_id AND d.event_id = e.id AND d.status IN ('pending', 'sending'))
		ORDER BY e.created_at LIMIT $2)`, us(before), limit))
}

func (s *Store) DeleteMessagesBefore(ctx context.Context, before time.Time, limit int) (int64, error) {
	return rowsAffected(s.w.ExecContext(ctx, `DELETE FROM outbox WHERE id IN (
		SELECT id FROM outbox WHERE created_at < $1 AND status IN ('sent', 'failed')
		ORDER BY created_at LIMIT $2)`, us(before), limit))
}

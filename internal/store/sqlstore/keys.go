package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/latchhq/latch/internal/store"
)

func (s *Store) CreateSigningKey(ctx context.Context, k *store.SigningKey) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO signing_keys (project_id, kid, private, public_jwk, created_at, active_at, retired_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, k.ProjectID, k.KID, base64.StdEncoding.EncodeToString(k.Private), string(k.PublicJWK),
		us(k.CreatedAt), us(k.ActiveAt), nullUS(k.RetiredAt))
	return wrap(err)
}

func (s *Store) ListSigningKeys(ctx context.Context, projectID string) ([]store.SigningKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT project_id, kid, private, public_jwk, created_at, active_at, retired_at
		FROM signing_keys WHERE project_id = $1 ORDER BY active_at, kid`, projectID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := []store.SigningKey{}
	for rows.Next() {
		var k store.SigningKey
		var priv, pub string
		var created, active int64
		var retired sql.NullInt64
		if err := rows.Scan(&k.ProjectID, &k.KID, &priv, &pub, &created, &active, &retired); err != nil {
			return nil, wrap(err)
		}
		if k.Private, err = base64.StdEncoding.DecodeString(priv); err != nil {
			return nil, err
		}
		k.PublicJWK = json.RawMessage(pub)
		k.CreatedAt, k.ActiveAt, k.RetiredAt = fromUS(created), fromUS(active), fromNullUS(retired)
		out = append(out, k)
	}
	return out, wrap(rows.Err())
}

func (s *Store) RetireSigningKey(ctx context.Context, projectID, kid string, at time.Time) error {
	return execOne(ctx, s.w, `UPDATE signing_keys SET retired_at = $3 WHERE project_id = $1 AND kid = $2`, projectID, kid, us(at))
}

package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/latchhq/latch/internal/store"
)

// likeEscape makes a user string literal inside LIKE.
func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(strings.ToLower(s))
}

type whereBuilder struct {
	args  []any
	parts []string
}

func (b *whereBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return placeholder(len(b.args))
}

func (b *whereBuilder) list(vs []string) string {
	marks := make([]string, len(vs))
	for i, v := range vs {
		marks[i] = b.arg(v)
	}
	return strings.Join(marks, ", ")
}

// exists builds a correlated subquery on a factor table of the user.
func exists(table, cond string) string {
	return "EXISTS (SELECT 1 FROM " + table + " f WHERE f.project_id = u.project_id AND f.user_id = u.id AND " + cond + ")"
}

func (b *whereBuilder) filter(f store.UserFilter) (string, error) {
	switch f.Name {
	case "created_at_greater_than":
		return "u.created_at > " + b.arg(us(*f.From)), nil
	case "created_at_less_than":
		return "u.created_at < " + b.arg(us(*f.To)), nil
	case "created_at_between":
		return "(u.created_at > " + b.arg(us(*f.From)) + " AND u.created_at < " + b.arg(us(*f.To)) + ")", nil
	case "user_id":
		l := b.list(f.Strings)
		return "(u.id IN (" + l + ") OR u.external_id IN (" + l + "))", nil
	case "status":
		return "u.status = " + b.arg(f.String), nil
	case "full_name_fuzzy":
		return `u.full_name LIKE ` + b.arg("%"+likeEscape(f.String)+"%") + ` ESCAPE '\'`, nil
	case "email_address":
		return exists("emails", "f.address IN ("+b.list(f.Strings)+")"), nil
	case "email_id":
		return exists("emails", "f.id IN ("+b.list(f.Strings)+")"), nil
	case "email_verified":
		return exists("emails", "f.verified = "+b.arg(f.Bool)), nil
	case "email_address_fuzzy":
		v := likeEscape(f.String)
		return exists("emails", `(f.address LIKE `+b.arg(v+"%")+` ESCAPE '\' OR f.address LIKE `+b.arg("%@"+v+"%")+` ESCAPE '\')`), nil
	case "phone_number":
		return exists("phone_numbers", "f.number IN ("+b.list(f.Strings)+")"), nil
	case "phone_id":
		return exists("phone_numbers", "f.id IN ("+b.list(f.Strings)+")"), nil
	case "phone_verified":
		return exists("phone_numbers", "f.verified = "+b.arg(f.Bool)), nil
	case "phone_number_fuzzy":
		return exists("phone_numbers", `f.number LIKE `+b.arg("%"+likeEscape(f.String)+"%")+` ESCAPE '\'`), nil
	case "totp_id":
		return exists("totps", "f.id IN ("+b.list(f.Strings)+")"), nil
	case "totp_verified":
		return exists("totps", "f.verified = "+b.arg(f.Bool)), nil
	case "password_exists":
		c := exists("passwords", "1 = 1")
		if !f.Bool {
			c = "NOT " + c
		}
		return c, nil
	case "webauthn_registration_id", "webauthn_registration_verified",
		"crypto_wallet_id", "crypto_wallet_address", "crypto_wallet_verified", "oauth_provider":
		// No user holds these factors until their products exist, so no
		// user matches; the filters become EXISTS subqueries then.
		return "1 = 0", nil
	}
	return "", fmt.Errorf("sqlstore: unknown user filter %q", f.Name)
}

func (s *Store) SearchUsers(ctx context.Context, projectID string, q store.UserQuery) ([]store.User, int, error) {
	b := &whereBuilder{}
	base := "u.project_id = " + b.arg(projectID)
	var conds []string
	for _, f := range q.Filters {
		c, err := b.filter(f)
		if err != nil {
			return nil, 0, err
		}
		conds = append(conds, c)
	}
	where := base
	if len(conds) > 0 {
		op := " AND "
		if q.Operator == "OR" {
			op = " OR "
		}
		where += " AND (" + strings.Join(conds, op) + ")"
	}
	var total int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM users u WHERE "+where, b.args...).Scan(&total); err != nil {
		return nil, 0, wrap(err)
	}
	page := where
	if q.After != nil {
		a := b.arg(us(q.After.CreatedAt))
		page += " AND (u.created_at > " + a + " OR (u.created_at = " + a + " AND u.id > " + b.arg(q.After.ID) + "))"
	}
	query := "SELECT " + prefixed("u.", userCols) + " FROM users u WHERE " + page + " ORDER BY u.created_at, u.id LIMIT " + b.arg(q.Limit)
	rows, err := s.r.QueryContext(ctx, query, b.args...)
	if err != nil {
		return nil, 0, wrap(err)
	}
	defer rows.Close()
	var ptrs []*store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, err
		}
		ptrs = append(ptrs, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, wrap(err)
	}
	rows.Close()
	if err := s.loadFactors(ctx, projectID, ptrs); err != nil {
		return nil, 0, err
	}
	out := make([]store.User, len(ptrs))
	for i, u := range ptrs {
		out[i] = *u
	}
	return out, total, nil
}

func prefixed(p, cols string) string {
	fields := strings.Split(cols, ",")
	for i, f := range fields {
		fields[i] = p + strings.TrimSpace(f)
	}
	return strings.Join(fields, ", ")
}

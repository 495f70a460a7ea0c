package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds the cache; search builds queries whose text varies
// with its filters, and those beyond the bound are simply not cached.
const maxCachedStmts = 512

// stmtCache prepares each query text once per pool. Parsing SQL was a third
// of the CPU of a session lookup on SQLite before it.
type stmtCache struct {
	db *sql.DB
	mu sync.RWMutex
	m  map[string]*sql.Stmt
	// pending are queries a transaction ran unprepared because they were
	// not cached yet; they are prepared once the transaction has ended.
	pending map[string]struct{}
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, pending: map[string]struct{}{}}
}

// want records a query a transaction could not run from the cache.
func (c *stmtCache) want(query string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[query]; !ok && len(c.m)+len(c.pending) < maxCachedStmts {
		c.pending[query] = struct{}{}
	}
}

// preparePending prepares the queries transactions wanted, now that no
// transaction holds the connection (on SQLite, the only writer). Without
// it, statements that only ever run inside transactions (inserts, event
// fan-out) would be parsed on every execution.
func (c *stmtCache) preparePending(ctx context.Context) {
	c.mu.Lock()
	if len(c.pending) == 0 {
		c.mu.Unlock()
		return
	}
	queries := make([]string, 0, len(c.pending))
	for q := range c.pending {
		queries = append(queries, q)
	}
	clear(c.pending)
	c.mu.Unlock()
	for _, q := range queries {
		// A failure only means the query stays uncached.
		c.get(ctx, q)
	}
}

func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.RLock()
	st, ok := c.m[query]
	c.mu.RUnlock()
	if ok {
		return st, nil
	}
	c.mu.RLock()
	full := len(c.m) >= maxCachedStmts
	c.mu.RUnlock()
	if full {
		return nil, nil
	}
	// Prepare without holding the lock: on SQLite it may wait for the one
	// writer connection, whose transaction needs the lock to find its
	// statements.
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.m[query]; ok || len(c.m) >= maxCachedStmts {
		st.Close()
		return cur, nil
	}
	c.m[query] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = map[string]*sql.Stmt{}
}

// poolQuerier runs queries on a pool through cached statements.
type poolQuerier struct{ c *stmtCache }

func (q poolQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := q.c.get(ctx, query)
	if err != nil || st == nil {
		return q.c.db.ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

func (q poolQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := q.c.get(ctx, query)
	if err != nil || st == nil {
		return q.c.db.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

func (q poolQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := q.c.get(ctx, query)
	if err != nil || st == nil {
		return q.c.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// txQuerier runs a transaction's queries through the pool's cached
// statements, which database/sql reuses on the transaction's connection.
type txQuerier struct {
	tx *sql.Tx
	c  *stmtCache
}

// stmt uses a statement only if it is cached already: preparing one would
// need a second connection, and SQLite's single writer is held by this
// transaction.
func (q txQuerier) stmt(ctx context.Context, query string) *sql.Stmt {
	q.c.mu.RLock()
	st, ok := q.c.m[query]
	q.c.mu.RUnlock()
	if !ok {
		q.c.want(query)
		return nil
	}
	return q.tx.StmtContext(ctx, st)
}

func (q txQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.tx.ExecContext(ctx, query, args...)
}

func (q txQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.tx.QueryContext(ctx, query, args...)
}

func (q txQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.tx.QueryRowContext(ctx, query, args...)
}

package sqlstore

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/store"
)

// A write preparing a new statement waits for SQLite's single writer
// connection; the transaction holding it must still be able to run its
// statements meanwhile (it once needed the cache lock the preparer held).
func TestPrepareWaitingForWriterDoesNotBlockTx(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Cache the statement the transaction will run, as on a warm server.
	if _, err := s.ListRedirectURLs(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	inTx, release := make(chan struct{}), make(chan struct{})
	txDone := make(chan error, 1)
	go func() {
		txDone <- s.Tx(ctx, func(tx store.Store) error {
			close(inTx)
			<-release
			_, err := tx.(*Store).w.QueryContext(ctx, `SELECT project_id, type, url, is_default FROM redirect_urls WHERE project_id = $1 ORDER BY type, url`, "p")
			return err
		})
	}()
	<-inTx
	before := s.write.Stats().WaitCount
	markDone := make(chan error, 1)
	go func() { markDone <- s.MarkSent(ctx, "message-none", time.Now(), true) }()
	// Wait until MarkSent is queued for the writer connection.
	for s.write.Stats().WaitCount == before {
		select {
		case <-ctx.Done():
			t.Fatal("MarkSent never waited for the writer")
		default:
			time.Sleep(time.Millisecond) // polling a condition, not timing
		}
	}
	close(release)
	if err := <-txDone; err != nil {
		t.Fatalf("transaction: %v", err)
	}
	if err := <-markDone; err != store.ErrNotFound {
		t.Fatalf("MarkSent: %v, want ErrNotFound", err)
	}
}

// A statement that only ever runs inside transactions is prepared once
// the first such transaction ends, and runs prepared from then on.
func TestTxStatementsAreCachedAfterCommit(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const q = `SELECT COUNT(*) FROM redirect_urls WHERE project_id = $1 AND type = $2`
	run := func() {
		t.Helper()
		if err := s.Tx(ctx, func(tx store.Store) error {
			var n int
			return tx.(*Store).w.QueryRowContext(ctx, q, "p", "login").Scan(&n)
		}); err != nil {
			t.Fatal(err)
		}
	}
	cached := func() bool {
		s.wc.mu.RLock()
		defer s.wc.mu.RUnlock()
		_, ok := s.wc.m[q]
		return ok
	}
	if cached() {
		t.Fatal("cached before first use")
	}
	run()
	if !cached() {
		t.Fatal("not cached after the first transaction that ran it")
	}
	run()
	if len(s.wc.pending) != 0 {
		t.Fatalf("pending after a cached run: %v", s.wc.pending)
	}
	// A rolled-back transaction's queries are still worth preparing, but
	// only after it ended: nothing is prepared while it holds the writer.
	errBoom := errors.New("boom")
	const q2 = `SELECT COUNT(*) FROM redirect_urls WHERE url = $1`
	if err := s.Tx(ctx, func(tx store.Store) error {
		var n int
		if err := tx.(*Store).w.QueryRowContext(ctx, q2, "x").Scan(&n); err != nil {
			return err
		}
		return errBoom
	}); !errors.Is(err, errBoom) {
		t.Fatal(err)
	}
	s.wc.mu.RLock()
	_, pending := s.wc.pending[q2]
	s.wc.mu.RUnlock()
	if !pending {
		t.Fatal("a query of a rolled-back transaction was not remembered")
	}
}

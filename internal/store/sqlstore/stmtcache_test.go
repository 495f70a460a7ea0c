package sqlstore

import (
	"context"
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

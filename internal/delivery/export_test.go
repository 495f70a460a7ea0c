package delivery

import "context"

// Batch runs one lease-and-deliver round, for tests.
func (w *Worker) Batch(ctx context.Context) int { return w.batch(ctx) }

package httpx

import (
	"context"
	"net/http"

	"github.com/google/uuid"
	"github.com/latchhq/latch/internal/tenant"
)

// requestInfo is filled in as a request moves through the middleware.
type requestInfo struct {
	uuid      string
	env       tenant.Environment
	projectID string
}

type infoKey struct{}

func withInfo(ctx context.Context) (context.Context, *requestInfo) {
	ri := &requestInfo{uuid: uuid.NewString(), env: tenant.Test}
	return context.WithValue(ctx, infoKey{}, ri), ri
}

// RequestID returns the request's id, request-id-<env>-<uuid>.
func RequestID(ctx context.Context) string {
	ri, ok := ctx.Value(infoKey{}).(*requestInfo)
	if !ok {
		return ""
	}
	return "request-id-" + string(ri.env) + "-" + ri.uuid
}

func setProject(ctx context.Context, p tenant.Project) {
	if ri, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		ri.env = p.Environment
		ri.projectID = p.ID
	}
}

// statusWriter records the status and stamps the request id header.
type statusWriter struct {
	http.ResponseWriter
	r      *http.Request
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.Header().Set("X-Request-Id", RequestID(w.r.Context()))
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

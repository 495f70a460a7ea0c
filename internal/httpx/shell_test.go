package httpx

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestShellTurnsAPanicIntoAnEnvelope(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	m := NewMetrics(prometheus.NewRegistry())
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/boom", func(http.ResponseWriter, *http.Request) { panic("index out of range") })
	mux.HandleFunc("POST /v1/late", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		panic("after the header")
	})
	srv := httptest.NewServer(Shell(log, m, mux))
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/v1/boom", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatalf("the connection must survive a panic: %v", err)
	}
	defer resp.Body.Close()
	var env struct {
		StatusCode int    `json:"status_code"`
		RequestID  string `json:"request_id"`
		ErrorType  string `json:"error_type"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 500 || env.StatusCode != 500 || env.ErrorType != "internal_server_error" ||
		env.RequestID == "" || resp.Header.Get("X-Request-Id") != env.RequestID {
		t.Fatalf("got %d %+v (header id %q)", resp.StatusCode, env, resp.Header.Get("X-Request-Id"))
	}
	if got := counted(t, m, "POST /v1/boom", "500"); got != 1 {
		t.Fatalf("metrics counted %v panicking requests, want 1", got)
	}
	if !strings.Contains(logs.String(), `"msg":"handler panic"`) || !strings.Contains(logs.String(), env.RequestID) {
		t.Fatalf("panic not logged with its request id:\n%s", logs.String())
	}

	// Once the answer has begun nothing can be rewritten; the request is
	// still logged and counted as a failure.
	if r, err := http.Post(srv.URL+"/v1/late", "application/json", nil); err == nil {
		r.Body.Close()
	}
	if got := counted(t, m, "POST /v1/late", "500"); got != 1 {
		t.Fatalf("a late panic counted %v times as 500, want 1", got)
	}
}

func counted(t *testing.T, m *Metrics, route, status string) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.requests.WithLabelValues(route, status).Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.GetCounter().GetValue()
}

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/latchhq/latch/internal/server"
	"github.com/latchhq/latch/internal/store/sqlstore"
	"github.com/latchhq/latch/internal/tenant"
)

type fixture struct {
	h               http.Handler
	project, secret string
}

func newFixture(b *testing.B) *fixture {
	b.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	app, err := server.New(st, server.Options{Log: slog.New(slog.DiscardHandler), MasterKey: make([]byte, 32), PublicURL: "https://127.0.0.1"})
	if err != nil {
		b.Fatal(err)
	}
	c, err := app.Projects.Create(ctx, "bench", tenant.Consumer, tenant.Test)
	if err != nil {
		b.Fatal(err)
	}
	return &fixture{h: app.Handler, project: c.ProjectID, secret: c.Secret}
}

func (f *fixture) do(b testing.TB, method, path string, body any, want int) map[string]any {
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	r := httptest.NewRequest(method, path, rd)
	r.SetBasicAuth(f.project, f.secret)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	if w.Code != want {
		b.Fatalf("%s %s: status %d: %s", method, path, w.Code, w.Body.String())
	}
	var out map[string]any
	json.Unmarshal(w.Body.Bytes(), &out)
	return out
}

// session creates a user and a 60-minute session through the API.
func (f *fixture) session(b *testing.B) (token, jwt string) {
	u := f.do(b, "POST", "/v1/users", map[string]any{"email": "bench@example.com"}, 201)
	ml := f.do(b, "POST", "/v1/magic_links", map[string]any{"user_id": u["user_id"]}, 200)
	a := f.do(b, "POST", "/v1/magic_links/authenticate", map[string]any{"token": ml["token"], "session_duration_minutes": 60}, 200)
	return a["session_token"].(string), a["session_jwt"].(string)
}

func BenchmarkPlainHandler(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status_code":200}`))
	})
	body := []byte(`{"session_token":"x"}`)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("POST", "/v1/sessions/authenticate", bytes.NewReader(body))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
		}
	})
}

func benchAuthenticate(b *testing.B, field string) {
	f := newFixture(b)
	token, jwt := f.session(b)
	val := token
	if field == "session_jwt" {
		val = jwt
	}
	body, _ := json.Marshal(map[string]string{field: val})
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("POST", "/v1/sessions/authenticate", bytes.NewReader(body))
			r.SetBasicAuth(f.project, f.secret)
			w := httptest.NewRecorder()
			f.h.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Errorf("status %d: %s", w.Code, w.Body.String())
				return
			}
		}
	})
}

func BenchmarkSessionsAuthenticateToken(b *testing.B) { benchAuthenticate(b, "session_token") }

func BenchmarkSessionsAuthenticateJWT(b *testing.B) { benchAuthenticate(b, "session_jwt") }

func BenchmarkUsersCreate(b *testing.B) {
	f := newFixture(b)
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := fmt.Appendf(nil, `{"email":"user%d@example.com","name":{"first_name":"Bench"}}`, n.Add(1))
			r := httptest.NewRequest("POST", "/v1/users", bytes.NewReader(body))
			r.SetBasicAuth(f.project, f.secret)
			w := httptest.NewRecorder()
			f.h.ServeHTTP(w, r)
			if w.Code != 201 {
				b.Errorf("status %d: %s", w.Code, w.Body.String())
				return
			}
		}
	})
}

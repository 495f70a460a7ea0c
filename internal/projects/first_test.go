package projects_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/projects"
	"github.com/latchhq/latch/internal/store/sqlstore"
	"github.com/latchhq/latch/internal/tenant"
)

// Processes starting together on one empty database (each its own
// connection pool) create one first project between them.
func TestCreateFirstOnce(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "latch.db")
		createFirstRace(t, func() string { return path })
	})
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv("LATCH_TEST_POSTGRES_URL")
		if base == "" {
			t.Skip("LATCH_TEST_POSTGRES_URL is not set")
		}
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Fatal(err)
		}
		schema := fmt.Sprintf("latch_first_%d", time.Now().UnixNano())
		if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.Exec("DROP SCHEMA " + schema + " CASCADE"); admin.Close() })
		sep := "?"
		if strings.Contains(base, "?") {
			sep = "&"
		}
		createFirstRace(t, func() string { return base + sep + "search_path=" + schema })
	})
}

func createFirstRace(t *testing.T, dsn func() string) {
	ctx := context.Background()
	const processes = 8
	svcs := make([]*projects.Service, processes)
	for i := range svcs {
		st, err := sqlstore.Open(ctx, dsn())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		svcs[i] = projects.New(st, clock.System{})
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	start := make(chan struct{})
	for _, svc := range svcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, ok, err := svc.CreateFirst(ctx, "Latch development project", tenant.Consumer, tenant.Test)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				created++
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	if created != 1 {
		t.Fatalf("%d of %d racing first starts created a project, want 1", created, processes)
	}
	c, ok, err := svcs[0].CreateFirst(ctx, "Latch development project", tenant.Consumer, tenant.Test)
	if err != nil || ok || c != nil {
		t.Fatalf("a later start: %v, %v, %v; want nothing created", c, ok, err)
	}
}

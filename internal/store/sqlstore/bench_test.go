package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/latchhq/latch/internal/store"
)

var benchBase = time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)

const benchRows = 1000

// benchFixture is a SQLite store with one project and benchRows users,
// each with an email, a phone and a session.
type benchFixture struct {
	s        *Store
	project  string
	users    []string
	sessions []string // token hashes
}

func newBenchFixture(b *testing.B, withUsers bool) *benchFixture {
	return newBenchFixtureOn(b, openSQLiteStore(b), withUsers)
}

func newBenchFixtureOn(b *testing.B, st *Store, withUsers bool) *benchFixture {
	b.Helper()
	ctx := context.Background()
	f := &benchFixture{s: st, project: "project-test-" + uuid.NewString()}
	if err := f.s.CreateProject(ctx, &store.Project{ID: f.project, Name: "Bench", Vertical: "CONSUMER", Environment: "test",
		SecretHash: "h", PublicToken: "public-token-test-" + uuid.NewString(), CreatedAt: benchBase}); err != nil {
		b.Fatal(err)
	}
	if !withUsers {
		return f
	}
	err := f.s.Tx(ctx, func(st store.Store) error {
		for i := range benchRows {
			u := benchUser(f.project, i)
			u.Phones = []store.Phone{{ID: "phone-number-test-" + uuid.NewString(), UserID: u.ID,
				Number: fmt.Sprintf("+1415%07d", i), CreatedAt: benchBase}}
			if err := st.CreateUser(ctx, u); err != nil {
				return err
			}
			ss := &store.Session{ProjectID: f.project, ID: "session-test-" + uuid.NewString(), UserID: u.ID,
				TokenHash: "sha256:" + uuid.NewString(), StartedAt: benchBase, LastAccessedAt: benchBase,
				ExpiresAt: benchBase.Add(time.Hour), Attributes: json.RawMessage(`{"ip_address":"203.0.113.7"}`),
				Factors: json.RawMessage(`[{"type":"magic_link","delivery_method":"email"}]`), UpdatedAt: benchBase}
			if err := st.CreateSession(ctx, ss); err != nil {
				return err
			}
			f.users = append(f.users, u.ID)
			f.sessions = append(f.sessions, ss.TokenHash)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return f
}

func benchUser(projectID string, i int) *store.User {
	id := "user-test-" + uuid.NewString()
	return &store.User{ProjectID: projectID, ID: id, Status: "active", FirstName: "Bench", LastName: fmt.Sprint(i),
		TrustedMetadata: json.RawMessage(`{"plan":"pro"}`), Roles: []string{"member"},
		CreatedAt: benchBase.Add(time.Duration(i) * time.Microsecond), UpdatedAt: benchBase,
		Emails: []store.Email{{ID: "email-test-" + uuid.NewString(), UserID: id,
			Address: fmt.Sprintf("bench%d-%s@example.com", i, id[len(id)-12:]), CreatedAt: benchBase}}}
}

func BenchmarkGetSessionByTokenHash(b *testing.B) {
	f := newBenchFixture(b, true)
	ctx := context.Background()
	var next atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h := f.sessions[next.Add(1)%benchRows]
			if _, err := f.s.GetSessionByTokenHash(ctx, f.project, h); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkGetUser(b *testing.B) { benchGetUser(b, newBenchFixture(b, true)) }

// BenchmarkGetUserPostgres is GetUser over a network round trip (skipped
// without LATCH_TEST_POSTGRES_URL).
func BenchmarkGetUserPostgres(b *testing.B) {
	benchGetUser(b, newBenchFixtureOn(b, openPostgresStore(b), true))
}

func benchGetUser(b *testing.B, f *benchFixture) {
	ctx := context.Background()
	var next atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			u, err := f.s.GetUser(ctx, f.project, f.users[next.Add(1)%benchRows])
			if err != nil {
				b.Error(err)
				return
			}
			if len(u.Emails) != 1 || len(u.Phones) != 1 {
				b.Errorf("user has %d emails, %d phones", len(u.Emails), len(u.Phones))
				return
			}
		}
	})
}

// BenchmarkCreateUser creates users with one email each: serially, and
// from parallel goroutines contending for SQLite's single writer.
func BenchmarkCreateUser(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		f := newBenchFixture(b, false)
		ctx := context.Background()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := f.s.CreateUser(ctx, benchUser(f.project, i)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		f := newBenchFixture(b, false)
		ctx := context.Background()
		var n atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := f.s.CreateUser(ctx, benchUser(f.project, int(n.Add(1)))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

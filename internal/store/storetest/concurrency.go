package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/store"
)

var concurrencyTests = []subtest{
	{"ConsumeMagicLinkExactlyOnce", testConcurrentConsume},
	{"CreateUserSameEmailOnce", testConcurrentCreateUser},
	{"LeaseMessagesNoDoubleLease", testConcurrentLease},
}

// race runs fn(i) for i in [0, n) in n goroutines released together.
func race(n int, fn func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

func testConcurrentConsume(t *testing.T, s store.Store) {
	const n = 50
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "race@example.com"))
	m := createMagicLink(t, s, newMagicLink(u, u.Emails[0].ID, "login"))

	errs := make([]error, n)
	race(n, func(i int) {
		errs[i] = s.ConsumeMagicLink(t.Context(), p.ID, m.TokenHash, base.Add(time.Duration(i)*time.Microsecond))
	})
	var won, consumed int
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			won++
			winner = i
		case errors.Is(err, store.ErrConsumed):
			consumed++
		default:
			t.Errorf("caller %d: unexpected error %v", i, err)
		}
	}
	if won != 1 || consumed != n-1 {
		t.Fatalf("%d callers succeeded and %d got ErrConsumed; want 1 and %d", won, consumed, n-1)
	}
	// The stored use is the winner's.
	got := getMagicLink(t, s, p.ID, m.TokenHash)
	checkTimePtr(t, "UsedAt", got.UsedAt, ptr(base.Add(time.Duration(winner)*time.Microsecond)))
}

func testConcurrentCreateUser(t *testing.T, s store.Store) {
	const n = 20
	p := createProject(t, s)
	users := make([]*store.User, n)
	for i := range users {
		users[i] = newUser(p.ID, "contended@example.com")
		addPhone(users[i], fmt.Sprintf("+1415555%04d", i), false) // distinct: only the email collides
	}
	errs := make([]error, n)
	race(n, func(i int) { errs[i] = s.CreateUser(t.Context(), users[i]) })

	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Fatalf("users %d and %d both created with the same email", winner, i)
			}
			winner = i
			continue
		}
		var ce *store.ConflictError
		if !errors.Is(err, store.ErrConflict) || !errors.As(err, &ce) || ce.Field != "email" {
			t.Errorf("caller %d: got %v, want an email ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no CreateUser succeeded")
	}
	e, err := s.GetEmailByAddress(t.Context(), p.ID, "contended@example.com")
	if err != nil || e.UserID != users[winner].ID {
		t.Fatalf("email belongs to %+v, %v; want user %s", e, err, users[winner].ID)
	}
	// The losers left nothing behind: no user, no phone.
	_, total, err := s.SearchUsers(t.Context(), p.ID, store.UserQuery{Operator: "AND", Limit: 100})
	if err != nil || total != 1 {
		t.Errorf("SearchUsers total = %d, %v; want 1", total, err)
	}
	for i, u := range users {
		if i == winner {
			continue
		}
		_, err := s.GetPhoneByNumber(t.Context(), p.ID, u.Phones[0].Number)
		wantErr(t, err, store.ErrNotFound, "loser's phone")
	}
}

func testConcurrentLease(t *testing.T, s store.Store) {
	const n = 100
	p := createProject(t, s)
	want := map[string]bool{}
	for i := range n {
		m := enqueue(t, s, newMessage(p.ID, fmt.Sprintf("r%03d@example.com", i), base.Add(-time.Duration(n-i)*time.Second)))
		want[m.ID] = true
	}
	// Both workers lease at the same now with a lease far longer than the
	// test, so every lease stays live: no message may be handed out twice.
	const workers = 2
	leased := make([][]string, workers)
	errs := make([]error, workers)
	race(workers, func(w int) {
		for rounds := 0; rounds < 10*n; rounds++ {
			got, err := s.LeaseMessages(t.Context(), base, time.Hour, 7)
			if err != nil {
				errs[w] = err
				return
			}
			if len(got) == 0 {
				return
			}
			for _, m := range got {
				leased[w] = append(leased[w], m.ID)
			}
		}
		errs[w] = errors.New("worker did not drain the outbox")
	})
	for w, err := range errs {
		if err != nil {
			t.Fatalf("worker %d: %v", w, err)
		}
	}
	seen := map[string]int{}
	for w, ids := range leased {
		for _, id := range ids {
			if prev, dup := seen[id]; dup {
				t.Errorf("message %s leased by worker %d and again by worker %d", id, prev, w)
			}
			seen[id] = w
			if !want[id] {
				t.Errorf("worker %d leased unknown message %s", w, id)
			}
		}
	}
	if len(seen) != n {
		t.Errorf("leased %d distinct messages, want %d (worker 0: %d, worker 1: %d)", len(seen), n, len(leased[0]), len(leased[1]))
	}
	// Each was leased exactly once.
	list, err := s.ListMessages(t.Context(), p.ID, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if m.Status != "sending" || m.Attempts != 1 {
			t.Errorf("message %s: status %q attempts %d, want sending 1", m.ID, m.Status, m.Attempts)
		}
	}
	t.Logf("worker 0 leased %d, worker 1 leased %d", len(leased[0]), len(leased[1]))
}

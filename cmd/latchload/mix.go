package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The realistic mix. Each worker picks one operation at a time by weight;
// a magic-link operation is three requests (send, read the token from the
// dev outbox as a test app would from its inbox, redeem), so its share of
// requests is larger than its share of operations.
const (
	mixMagicLink = 10 // % of operations: login_or_create + outbox read + authenticate
	mixToken     = 40 // % sessions.authenticate by session_token
	mixJWT       = 25 // % sessions.authenticate by session_jwt
	mixUserGet   = 25 // % GET /v1/users/{user_id}
)

// Request kinds counted separately in the mix, in table order.
const (
	kToken = iota
	kJWT
	kUserGet
	kMLSend
	kOutbox
	kMLAuth
	nKinds
)

var kindNames = [nKinds]string{
	kToken:   "mix: sessions.authenticate (token)",
	kJWT:     "mix: sessions.authenticate (JWT)",
	kUserGet: "mix: users.get",
	kMLSend:  "mix: magic_links.email.login_or_create",
	kOutbox:  "mix: GET /v1/dev/outbox?to= (read the link's token)",
	kMLAuth:  "mix: magic_links.authenticate",
}

// pooled is a user with a live session.
type pooled struct{ userID, token, jwt string }

const (
	mixPoolSize = 64  // users with a session made before the clock starts
	mixOwnMax   = 256 // sessions one worker keeps in its rotation
)

// mixPool makes mixPoolSize users, each with a session, through the public
// API, a few at a time.
func (c *caller) mixPool() ([]pooled, error) {
	pool := make([]pooled, mixPoolSize)
	errs := make([]error, mixPoolSize)
	stamp := time.Now().UnixNano()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < mixPoolSize; i = int(next.Add(1) - 1) {
				var s pooled
				s.userID, s.token, s.jwt, errs[i] = c.sessionFor(fmt.Sprintf("load-mix-pool-%d-%d@example.com", stamp, i))
				pool[i] = s
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("mix setup: %w", err)
		}
	}
	return pool, nil
}

// mixStats collects latencies per worker and kind, and errors per kind
// with the first few messages, so none is hidden.
type mixStats struct {
	lat  [][nKinds][]time.Duration // [worker][kind]
	errs [nKinds]atomic.Int64
	mu   sync.Mutex
	seen [nKinds][]string
}

func (s *mixStats) fail(kind int, msg string) {
	s.errs[kind].Add(1)
	s.mu.Lock()
	if len(s.seen[kind]) < 3 {
		s.seen[kind] = append(s.seen[kind], msg)
	}
	s.mu.Unlock()
}

// do sends one request of a kind, times it (body read included), checks
// the status and returns the body.
func (s *mixStats) do(client *http.Client, w, kind int, req *http.Request, want int) ([]byte, bool) {
	t0 := time.Now()
	resp, err := client.Do(req)
	var b []byte
	if err == nil {
		b, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	s.lat[w][kind] = append(s.lat[w][kind], time.Since(t0))
	switch {
	case err != nil:
		s.fail(kind, err.Error())
		return nil, false
	case resp.StatusCode != want:
		s.fail(kind, fmt.Sprintf("status %d: %.300s", resp.StatusCode, strings.TrimSpace(string(b))))
		return nil, false
	}
	return b, true
}

// mix runs the realistic mix for d on conns workers and returns one result
// per request kind, then the total. Error samples go to stdout after the
// table via the returned notes.
func mix(c *caller, d time.Duration, conns int) ([]result, []string, error) {
	pool, err := c.mixPool()
	if err != nil {
		return nil, nil, err
	}
	st := &mixStats{lat: make([][nKinds][]time.Duration, conns)}
	stamp := time.Now().UnixNano()
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range conns {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(stamp), uint64(w)))
			own := slices.Clone(pool)
			replace := 0
			for i := 0; time.Now().Before(deadline); i++ {
				s := own[rng.IntN(len(own))]
				switch p := rng.IntN(100); {
				case p < mixMagicLink:
					ns, ok := c.mixMagicLink(st, w, fmt.Sprintf("load-mix-%d-%d-%d@example.com", stamp, w, i))
					if !ok {
						continue
					}
					if len(own) < mixOwnMax {
						own = append(own, ns)
					} else {
						own[len(pool)+replace] = ns // the setup pool stays; new ones rotate
						replace = (replace + 1) % (mixOwnMax - len(pool))
					}
				case p < mixMagicLink+mixToken:
					st.do(c.client, w, kToken, c.req("POST", "/v1/sessions/authenticate", fmt.Sprintf(`{"session_token":%q}`, s.token)), 200)
				case p < mixMagicLink+mixToken+mixJWT:
					st.do(c.client, w, kJWT, c.req("POST", "/v1/sessions/authenticate", fmt.Sprintf(`{"session_jwt":%q}`, s.jwt)), 200)
				default:
					st.do(c.client, w, kUserGet, c.req("GET", "/v1/users/"+url.PathEscape(s.userID), ""), 200)
				}
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)

	var results []result
	var all []time.Duration
	var totalErrs int64
	var notes []string
	for k := range nKinds {
		var l []time.Duration
		for w := range conns {
			l = append(l, st.lat[w][k]...)
		}
		all = append(all, l...)
		e := st.errs[k].Load()
		totalErrs += e
		results = append(results, summarize(kindNames[k], l, e, elapsed, true))
		if e > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d errors, first: %s", kindNames[k], e, strings.Join(st.seen[k], " | ")))
		}
	}
	name := fmt.Sprintf("mix total (ops: %d%% magic link send+read+redeem, %d%% token, %d%% JWT, %d%% users.get)", mixMagicLink, mixToken, mixJWT, mixUserGet)
	results = append(results, summarize(name, all, totalErrs, elapsed, false))
	return results, notes, nil
}

// mixMagicLink sends a login_or_create link to a fresh address, reads its
// token from the dev outbox (the message row is written in the same
// transaction as the token, so it is there when the send returns) and
// redeems it for a 60-minute session.
func (c *caller) mixMagicLink(st *mixStats, w int, email string) (pooled, bool) {
	if _, ok := st.do(c.client, w, kMLSend, c.req("POST", "/v1/magic_links/email/login_or_create", fmt.Sprintf(`{"email":%q}`, email)), 200); !ok {
		return pooled{}, false
	}
	b, ok := st.do(c.client, w, kOutbox, c.req("GET", "/v1/dev/outbox?limit=1&to="+url.QueryEscape(email), ""), 200)
	if !ok {
		return pooled{}, false
	}
	var box struct {
		Messages []struct {
			Token *string `json:"token"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(b, &box); err != nil || len(box.Messages) == 0 || box.Messages[0].Token == nil {
		st.fail(kOutbox, fmt.Sprintf("no token for %s in the outbox (err %v): %.300s", email, err, b))
		return pooled{}, false
	}
	b, ok = st.do(c.client, w, kMLAuth, c.req("POST", "/v1/magic_links/authenticate",
		fmt.Sprintf(`{"token":%q,"session_duration_minutes":60}`, *box.Messages[0].Token)), 200)
	if !ok {
		return pooled{}, false
	}
	var a struct {
		UserID       string `json:"user_id"`
		SessionToken string `json:"session_token"`
		SessionJWT   string `json:"session_jwt"`
	}
	if err := json.Unmarshal(b, &a); err != nil || a.UserID == "" || a.SessionToken == "" || a.SessionJWT == "" {
		st.fail(kMLAuth, fmt.Sprintf("no session in the response (err %v): %.300s", err, b))
		return pooled{}, false
	}
	return pooled{a.UserID, a.SessionToken, a.SessionJWT}, true
}

// summarize turns sorted-or-not latencies into a result row.
func summarize(name string, l []time.Duration, errs int64, elapsed time.Duration, part bool) result {
	slices.Sort(l)
	r := result{name: name, n: int64(len(l)), errs: errs, rps: float64(len(l)) / elapsed.Seconds(), part: part}
	if len(l) > 0 {
		r.p50, r.p99, r.max = l[len(l)/2], l[len(l)*99/100], l[len(l)-1]
	}
	return r
}

// procPeakRSS reads VmHWM from /proc/<pid>/status.
func procPeakRSS(pid string) string {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "unknown"
}

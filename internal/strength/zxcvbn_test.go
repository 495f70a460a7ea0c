package strength

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

type corpusEntry struct {
	Password   string   `json:"password"`
	UserInputs []string `json:"user_inputs"`
}

func loadCorpus(t testing.TB) []corpusEntry {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "corpus.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []corpusEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var e corpusEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("corpus.jsonl:%d: %v", line, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type oracleResult struct {
	Score            int      `json:"score"`
	Warning          string   `json:"warning"`
	Suggestions      []string `json:"suggestions"`
	Guesses          float64  `json:"guesses"`
	CrackTimeDisplay string   `json:"crack_time_display"`
}

const oracleDir = "testdata/oracle"

// requireOracle skips the test (or fails it under CI=true) when the npm
// package behind the oracle is not installed.
func requireOracle(t *testing.T) {
	t.Helper()
	missing := ""
	if _, err := os.Stat(filepath.Join(oracleDir, "node_modules", "zxcvbn", "package.json")); err != nil {
		missing = "zxcvbn oracle not installed: run `npm ci --no-audit --no-fund` in internal/strength/testdata/oracle (make gotest does)"
	} else if _, err := exec.LookPath("node"); err != nil {
		missing = "node not found: the zxcvbn oracle needs Node.js"
	}
	if missing == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(missing)
	}
	t.Skip(missing)
}

// TestOracle checks that Check agrees with the npm package zxcvbn@4.4.2 run
// by node on every password of testdata/corpus.jsonl.
func TestOracle(t *testing.T) {
	requireOracle(t)
	corpus := loadCorpus(t)
	if len(corpus) < 200 {
		t.Fatalf("corpus has %d entries, want at least 200", len(corpus))
	}
	for i, e := range corpus {
		if len(e.Password) > MaxPasswordBytes {
			t.Fatalf("corpus entry %d is longer than MaxPasswordBytes; node would not truncate it", i)
		}
	}

	corpusPath, err := filepath.Abs(filepath.Join("testdata", "corpus.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "oracle.js", corpusPath)
	cmd.Dir = oracleDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node oracle.js: %v\n%s", err, stderr.Bytes())
	}
	var want []oracleResult
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatalf("oracle output: %v", err)
	}
	if len(want) != len(corpus) {
		t.Fatalf("oracle returned %d results for %d passwords", len(want), len(corpus))
	}

	got := make([]Result, len(corpus))
	errs := make([]error, len(corpus))
	c := NewChecker(0)
	var wg sync.WaitGroup
	work := make(chan int)
	for range cap(c.slots) {
		wg.Go(func() {
			for i := range work {
				got[i], errs[i] = c.Check(context.Background(), corpus[i].Password, corpus[i].UserInputs)
			}
		})
	}
	for i := range corpus {
		work <- i
	}
	close(work)
	wg.Wait()

	agree := 0
	for i, e := range corpus {
		if errs[i] != nil {
			t.Errorf("Check(%q): %v", e.Password, errs[i])
			continue
		}
		g, w := got[i], want[i]
		var diffs []string
		if g.Score != w.Score {
			diffs = append(diffs, fmt.Sprintf("score %d, zxcvbn.js %d", g.Score, w.Score))
		}
		if g.Feedback.Warning != w.Warning {
			diffs = append(diffs, fmt.Sprintf("warning %q, zxcvbn.js %q", g.Feedback.Warning, w.Warning))
		}
		if g.Feedback.Suggestions == nil || !slices.Equal(g.Feedback.Suggestions, w.Suggestions) {
			diffs = append(diffs, fmt.Sprintf("suggestions %#v, zxcvbn.js %#v", g.Feedback.Suggestions, w.Suggestions))
		}
		// Guesses come out of Math.log/pow and friends: allow for the last
		// bits of Go's and V8's libm differing.
		if !closeEnough(g.Guesses, w.Guesses) {
			diffs = append(diffs, fmt.Sprintf("guesses %v, zxcvbn.js %v", g.Guesses, w.Guesses))
		}
		if g.CrackTimeDisplay != w.CrackTimeDisplay {
			diffs = append(diffs, fmt.Sprintf("crack time %q, zxcvbn.js %q", g.CrackTimeDisplay, w.CrackTimeDisplay))
		}
		if len(diffs) > 0 {
			t.Errorf("disagreement on %q (user inputs %q): %s", e.Password, e.UserInputs, strings.Join(diffs, "; "))
			continue
		}
		agree++
	}
	t.Logf("agreement with zxcvbn.js 4.4.2 (node): %d/%d passwords", agree, len(corpus))
}

func closeEnough(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// TestEmbeddedScriptMatchesNPM checks that the embedded zxcvbn.js is the
// registry's dist/zxcvbn.js, byte for byte.
func TestEmbeddedScriptMatchesNPM(t *testing.T) {
	requireOracle(t)
	npm, err := os.ReadFile(filepath.Join(oracleDir, "node_modules", "zxcvbn", "dist", "zxcvbn.js"))
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(npm) != sha256.Sum256([]byte(zxcvbnJS)) {
		t.Fatal("third_party/zxcvbn/zxcvbn.js differs from the npm package's dist/zxcvbn.js")
	}
}

func TestCheckKnown(t *testing.T) {
	c := NewChecker(1)
	ctx := context.Background()

	res, err := c.Check(ctx, "password", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Score != 0 || res.Feedback.Warning != "This is a top-10 common password" ||
		!slices.Equal(res.Feedback.Suggestions, []string{"Add another word or two. Uncommon words are better."}) ||
		res.Guesses != 3 || res.CrackTimeDisplay != "less than a second" {
		t.Errorf(`Check("password") = %+v`, res)
	}

	res, err = c.Check(ctx, "correct horse battery staple", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Score != 4 || res.Score < ValidScore || res.Feedback.Warning != "" {
		t.Errorf("Check(passphrase) = %+v", res)
	}
	if res.Feedback.Suggestions == nil || len(res.Feedback.Suggestions) != 0 {
		t.Errorf("Suggestions = %#v, want non-nil and empty", res.Feedback.Suggestions)
	}

	// User inputs are a dictionary: the same password scores lower with them.
	without, err := c.Check(ctx, "latchhqrocks", nil)
	if err != nil {
		t.Fatal(err)
	}
	with, err := c.Check(ctx, "latchhqrocks", []string{"LatchHQ"})
	if err != nil {
		t.Fatal(err)
	}
	if with.Guesses >= without.Guesses {
		t.Errorf("user inputs did not lower guesses: %v with, %v without", with.Guesses, without.Guesses)
	}
	// ... and do not stick to the runtime for the next call.
	again, err := c.Check(ctx, "latchhqrocks", nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Guesses != without.Guesses {
		t.Errorf("user inputs leaked into the next check: %v, want %v", again.Guesses, without.Guesses)
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"", 4, ""},
		{"abcd", 4, "abcd"},
		{"abcde", 4, "abcd"},
		{"abcé", 4, "abc"},               // é is 2 bytes: not split
		{"ab😀", 4, "ab"},                 // 4-byte rune cut back to its start
		{"😀😀", 4, "😀"},                   // exactly one rune fits
		{"ab\xff\xffc", 4, "ab\xff\xff"}, // invalid bytes are each their own start
	} {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestCheckLongPassword(t *testing.T) {
	// zxcvbn on a 256-character password takes a second or more under goja,
	// so the truncation itself is tested in TestTruncate and this only checks
	// that Check applies it. 200 × "é" is 400 bytes and must be checked as
	// 128 × "é" (256 bytes), which zxcvbn sees as 128 UTF-16 units.
	c := NewChecker(1)
	ctx := context.Background()
	got, err := c.Check(ctx, strings.Repeat("é", 200), nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := c.Check(ctx, strings.Repeat("é", 128), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !equalResult(got, want) {
		t.Errorf("long password: %+v, truncated: %+v", got, want)
	}
	shorter, err := c.Check(ctx, strings.Repeat("é", 127), nil)
	if err != nil {
		t.Fatal(err)
	}
	if equalResult(got, shorter) {
		t.Errorf("127 × é scored like the truncated 128 × é: %+v", got)
	}
}

func equalResult(a, b Result) bool {
	return a.Score == b.Score && a.Guesses == b.Guesses && a.CrackTimeDisplay == b.CrackTimeDisplay &&
		a.Feedback.Warning == b.Feedback.Warning && slices.Equal(a.Feedback.Suggestions, b.Feedback.Suggestions)
}

// TestConcurrentChecks runs 16 goroutines against a pool of 2 (meant for
// -race): every result must equal the sequential one and no more than 2
// runtimes may be made.
func TestConcurrentChecks(t *testing.T) {
	passwords := []string{"password", "Tr0ub4dor&3", "correct horse battery staple", "qwerty123", "пароль", "alice2020"}
	inputs := [][]string{nil, nil, nil, nil, nil, {"alice"}}
	seq := NewChecker(1)
	want := make([]Result, len(passwords))
	for i, p := range passwords {
		var err error
		if want[i], err = seq.Check(context.Background(), p, inputs[i]); err != nil {
			t.Fatal(err)
		}
	}

	c := NewChecker(2)
	var wg sync.WaitGroup
	errs := make(chan error, 16*len(passwords))
	for g := range 16 {
		wg.Go(func() {
			for k := range passwords {
				i := (g + k) % len(passwords)
				got, err := c.Check(context.Background(), passwords[i], inputs[i])
				if err != nil {
					errs <- err
					continue
				}
				if !equalResult(got, want[i]) {
					errs <- fmt.Errorf("goroutine %d: Check(%q) = %+v, want %+v", g, passwords[i], got, want[i])
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := c.created.Load(); n < 1 || n > 2 {
		t.Errorf("pool of 2 made %d runtimes", n)
	}
	if len(c.slots) != 2 {
		t.Errorf("%d runtimes back in the pool, want 2", len(c.slots))
	}
}

func TestCheckContext(t *testing.T) {
	c := NewChecker(1)

	// An ended context fails fast, before any runtime is made.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Check(ctx, "password", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: err = %v", err)
	}
	if n := c.created.Load(); n != 0 {
		t.Fatalf("cancelled Check made %d runtimes", n)
	}

	// Waiting for the only runtime gives up when ctx does.
	rt, err := c.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Check(ctx, "password", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("busy pool: err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("waited %v past the deadline", d)
	}

	// A run that outlives ctx is interrupted, and the runtime stays usable.
	// (Check never feeds zxcvbn anything this slow; call the runtime
	// directly with an untruncated password.)
	slow := strings.Repeat("x9Kq!mZ2vB7#", 400)
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := rt.check(ctx, slow, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("interrupted run: err = %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("interrupt took %v", d)
	}
	c.slots <- rt
	res, err := c.Check(context.Background(), "password", nil)
	if err != nil || res.Score != 0 {
		t.Fatalf("after interrupt: %+v, %v", res, err)
	}
	if n := c.created.Load(); n != 1 {
		t.Errorf("made %d runtimes, want 1", n)
	}
}

// TestCheckContextDuringCreation cancels while the first runtime is being
// made: the caller returns at once and the runtime still lands in the pool.
func TestCheckContextDuringCreation(t *testing.T) {
	c := NewChecker(1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	_, err := c.Check(ctx, "password", nil)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	res, err := c.Check(context.Background(), "password", nil)
	if err != nil || res.Score != 0 {
		t.Fatalf("%+v, %v", res, err)
	}
	if n := c.created.Load(); n != 1 {
		t.Errorf("made %d runtimes, want 1", n)
	}
}

func TestNewCheckerDefaultSize(t *testing.T) {
	if c := NewChecker(0); cap(c.slots) < 1 || len(c.slots) != cap(c.slots) {
		t.Errorf("NewChecker(0): %d/%d slots", len(c.slots), cap(c.slots))
	}
	if c := NewChecker(3); cap(c.slots) != 3 {
		t.Errorf("NewChecker(3): %d slots", cap(c.slots))
	}
}

// BenchmarkCheck measures one Check on a warm runtime, over a mix of
// passwords from the corpus.
func BenchmarkCheck(b *testing.B) {
	corpus := loadCorpus(b)
	c := NewChecker(1)
	ctx := context.Background()
	if _, err := c.Check(ctx, "warm up", nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		e := corpus[i%len(corpus)]
		if _, err := c.Check(ctx, e.Password, e.UserInputs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRuntimeLoad measures preparing one runtime (running the compiled
// zxcvbn.js), the cost of each pool slot's first Check.
func BenchmarkRuntimeLoad(b *testing.B) {
	if _, err := program(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := newJSRuntime(); err != nil {
			b.Fatal(err)
		}
	}
}

// A runtime unused for IdleRelease leaves the pool (and the heap); the
// next Check makes a new one and answers as before.
func TestIdleRuntimesAreReleased(t *testing.T) {
	c := NewChecker(2)
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	first, err := c.Check(context.Background(), "correct horse battery staple", nil)
	if err != nil {
		t.Fatal(err)
	}
	if kept := c.trim(now.Add(c.IdleRelease - time.Second)); kept != 1 {
		t.Fatalf("a runtime used %s ago: %d kept, want 1", c.IdleRelease-time.Second, kept)
	}
	if kept := c.trim(now.Add(c.IdleRelease)); kept != 0 {
		t.Fatalf("a runtime idle for IdleRelease: %d kept, want 0", kept)
	}
	if len(c.slots) != 2 {
		t.Fatalf("the pool lost slots: %d of 2", len(c.slots))
	}
	again, err := c.Check(context.Background(), "correct horse battery staple", nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := c.created.Load(); n != 2 {
		t.Errorf("made %d runtimes, want 2 (one after the release)", n)
	}
	if again.Score != first.Score || again.Guesses != first.Guesses {
		t.Errorf("after the release: %+v, before: %+v", again, first)
	}
}

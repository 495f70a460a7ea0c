package strength

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// zxcvbnJS is dist/zxcvbn.js of the npm package zxcvbn@4.4.2, byte for byte
// (sha256 f42c651f40506acb6b662490f338dd47a5951d3312039c4ab8fe5090484f351a).
//
//go:embed third_party/zxcvbn/zxcvbn.js
var zxcvbnJS string

// ZxcvbnLicense is the MIT licence of the embedded zxcvbn.js (Copyright (c)
// 2012-2016 Dan Wheeler and Dropbox, Inc.), kept in the binary with the code
// it covers.
//
//go:embed third_party/zxcvbn/LICENSE.txt
var ZxcvbnLicense string

// MaxPasswordBytes is how much of a password Check looks at. zxcvbn's
// matching is superlinear in the password's length (it considers every
// substring against every dictionary, and its search over match sequences is
// quadratic), so an attacker-chosen multi-kilobyte password would pin a
// runtime for a long time. Longer passwords are scored on their first
// MaxPasswordBytes bytes (cut back to a UTF-8 character boundary); 256 bytes
// is far beyond the length at which zxcvbn already reports the maximum score
// for anything that is not a trivial repetition. Even so a 256-character
// password costs roughly 1-4 s of CPU under goja (0.3-0.6 s under node),
// against ~10 ms for a typical one: the pool size bounds how many such
// checks run at once, and a caller's ctx deadline interrupts one.
const MaxPasswordBytes = 256

// wrapperJS adapts zxcvbn's result to the few fields Check needs, so that one
// call crosses the Go/JS boundary instead of one per property.
const wrapperJS = `(function (password, userInputs) {
	var r = zxcvbn(password, userInputs);
	return [r.score, r.feedback.warning, r.feedback.suggestions, r.guesses,
		r.crack_times_display.offline_slow_hashing_1e4_per_second];
})`

// Feedback is zxcvbn's feedback: at most one warning ("" when none) and a list
// of suggestions (never nil, possibly empty).
type Feedback struct {
	Warning     string
	Suggestions []string
}

// Result is zxcvbn's verdict on one password.
type Result struct {
	// Score is 0 (too guessable) to 4 (very unguessable). Stytch treats a
	// password as valid when Score >= 3.
	Score    int
	Feedback Feedback
	// Guesses is zxcvbn's estimate of the guesses needed to crack it.
	Guesses float64
	// CrackTimeDisplay is zxcvbn's crack_times_display for an offline attack
	// on a slow hash at 1e4 guesses per second, e.g. "3 hours", "centuries".
	CrackTimeDisplay string
}

// ValidScore is the lowest zxcvbn score Stytch accepts.
const ValidScore = 3

// Checker runs zxcvbn.js 4.4.2 in a bounded pool of goja runtimes. A goja
// Runtime may only be used by one goroutine at a time, so each Check borrows a
// runtime for the length of its call; at most poolSize checks run at once and
// the rest wait (or give up when their context ends). Runtimes are created on
// first need and then kept for the Checker's lifetime. A Checker is safe for
// concurrent use; its zero value is not usable, call NewChecker.
//
// A runtime nobody has used for IdleRelease is dropped (and made again,
// about 85 ms, when next needed): its 15 MB of pointer-dense heap would
// otherwise be marked by every garbage collection, and argon2id's 19 MiB
// per hash makes collections frequent, so a login-heavy server paid about
// a tenth of its CPU to keep dictionaries nobody was consulting.
type Checker struct {
	// slots holds exactly poolSize entries at rest: a prepared runtime, or
	// nil for one not created yet. Taking an entry is the right to run.
	slots chan *jsRuntime
	// created counts the runtimes this Checker has made (for tests).
	created atomic.Int64
	// IdleRelease is how long an unused runtime is kept.
	IdleRelease time.Duration
	now         func() time.Time
	trimPending atomic.Bool
}

// DefaultIdleRelease is how long a Checker keeps a runtime nobody uses.
const DefaultIdleRelease = time.Minute

// NewChecker returns a Checker with at most poolSize runtimes;
// poolSize <= 0 means one per four cores (at least one): a check takes
// about 6 ms, and every password it guards also costs an argon2id hash of
// about 35 ms of one core, so a quarter of the cores' worth of runtimes
// keeps up with as many password changes as the cores can hash. Each
// runtime holds zxcvbn's dictionaries, about 15 MB of heap, and takes
// about 85 ms to prepare (on the first Check that needs it).
func NewChecker(poolSize int) *Checker {
	if poolSize <= 0 {
		poolSize = max(1, runtime.GOMAXPROCS(0)/4)
	}
	c := &Checker{slots: make(chan *jsRuntime, poolSize), IdleRelease: DefaultIdleRelease, now: time.Now}
	for range poolSize {
		c.slots <- nil
	}
	return c
}

// Check runs zxcvbn(password, userInputs), as zxcvbn.js 4.4.2 would.
// userInputs are extra dictionary words specific to the user (email, name, …);
// zxcvbn lower-cases them. Passwords longer than MaxPasswordBytes bytes are
// checked on their first MaxPasswordBytes bytes only, because zxcvbn's cost
// grows superlinearly with length (see MaxPasswordBytes). Invalid UTF-8 bytes
// reach zxcvbn as U+FFFD.
//
// Check waits for a free runtime while ctx allows; it returns ctx.Err() if
// ctx ends first, or while zxcvbn runs (the run is interrupted).
func (c *Checker) Check(ctx context.Context, password string, userInputs []string) (Result, error) {
	password = truncate(password, MaxPasswordBytes)
	rt, err := c.acquire(ctx)
	if err != nil {
		return Result{}, err
	}
	defer c.release(rt)
	return rt.check(ctx, password, userInputs)
}

// release returns rt to the pool and makes sure an idle trim will run.
func (c *Checker) release(rt *jsRuntime) {
	rt.lastUsed = c.now()
	c.slots <- rt
	c.scheduleTrim()
}

// scheduleTrim arranges one trim IdleRelease from now, unless one is
// already due; a trim that leaves runtimes in the pool arranges the next.
func (c *Checker) scheduleTrim() {
	if !c.trimPending.CompareAndSwap(false, true) {
		return
	}
	time.AfterFunc(c.IdleRelease, func() {
		c.trimPending.Store(false)
		if c.trim(c.now()) > 0 {
			c.scheduleTrim()
		}
	})
}

// trim drops the idle runtimes resting in the pool at now and returns how
// many prepared runtimes remain there. Runtimes in use are not touched;
// their release schedules the next trim.
func (c *Checker) trim(now time.Time) int {
	var rest []*jsRuntime
	for len(rest) < cap(c.slots) {
		select {
		case rt := <-c.slots:
			if rt != nil && now.Sub(rt.lastUsed) >= c.IdleRelease {
				rt = nil
			}
			rest = append(rest, rt)
			continue
		default:
		}
		break
	}
	kept := 0
	for _, rt := range rest {
		if rt != nil {
			kept++
		}
		c.slots <- rt
	}
	return kept
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// acquire takes a slot, creating its runtime if it has none yet. Creation
// (about the cost of loading zxcvbn.js) also honours ctx: if ctx ends first
// the runtime is still finished in the background and parked in the pool.
func (c *Checker) acquire(ctx context.Context) (*jsRuntime, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var rt *jsRuntime
	select {
	case rt = <-c.slots:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if rt != nil {
		return rt, nil
	}
	type made struct {
		rt  *jsRuntime
		err error
	}
	ch := make(chan made, 1)
	go func() {
		rt, err := newJSRuntime()
		if err == nil {
			c.created.Add(1)
		}
		ch <- made{rt, err}
	}()
	select {
	case m := <-ch:
		if m.err != nil {
			c.slots <- nil
			return nil, m.err
		}
		return m.rt, nil
	case <-ctx.Done():
		go func() {
			m := <-ch
			if m.rt != nil {
				m.rt.lastUsed = c.now()
			}
			c.slots <- m.rt // nil on error: the next caller tries again
		}()
		return nil, ctx.Err()
	}
}

// program is zxcvbn.js compiled once per process: compiling the 800 KB
// script is most of the cost of preparing a runtime, and a *goja.Program is
// immutable and may be run by any number of runtimes.
var program = sync.OnceValues(func() (*[2]*goja.Program, error) {
	lib, err := goja.Compile("zxcvbn.js", zxcvbnJS, false)
	if err != nil {
		return nil, fmt.Errorf("strength: compile zxcvbn.js: %w", err)
	}
	wrap, err := goja.Compile("wrapper.js", wrapperJS, true)
	if err != nil {
		return nil, fmt.Errorf("strength: compile wrapper: %w", err)
	}
	return &[2]*goja.Program{lib, wrap}, nil
})

// jsRuntime is one goja runtime with zxcvbn loaded.
type jsRuntime struct {
	vm       *goja.Runtime
	fn       goja.Callable
	lastUsed time.Time
}

func newJSRuntime() (*jsRuntime, error) {
	progs, err := program()
	if err != nil {
		return nil, err
	}
	vm := goja.New()
	// The UMD wrapper of zxcvbn.js falls back to `this` (the global object)
	// when there is no module system, defining the global function zxcvbn.
	if _, err := vm.RunProgram(progs[0]); err != nil {
		return nil, fmt.Errorf("strength: load zxcvbn.js: %w", err)
	}
	v, err := vm.RunProgram(progs[1])
	if err != nil {
		return nil, fmt.Errorf("strength: load wrapper: %w", err)
	}
	fn, ok := goja.AssertFunction(v)
	if !ok {
		return nil, errors.New("strength: wrapper is not a function")
	}
	return &jsRuntime{vm: vm, fn: fn}, nil
}

func (r *jsRuntime) check(ctx context.Context, password string, userInputs []string) (Result, error) {
	inputs := make([]any, len(userInputs))
	for i, s := range userInputs {
		inputs[i] = s
	}
	// Interrupt the run if ctx ends during it. After the call, make sure the
	// interrupt callback is not pending or running before clearing the flag,
	// so the runtime goes back to the pool clean.
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		r.vm.Interrupt(context.Cause(ctx))
	})
	v, err := r.fn(goja.Undefined(), r.vm.ToValue(password), r.vm.NewArray(inputs...))
	if !stop() {
		<-fired
		r.vm.ClearInterrupt()
	}
	if err != nil {
		var ie *goja.InterruptedError
		if errors.As(err, &ie) && ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		return Result{}, fmt.Errorf("strength: zxcvbn: %w", err)
	}
	return r.result(v)
}

func (r *jsRuntime) result(v goja.Value) (Result, error) {
	arr, ok := v.Export().([]any)
	if !ok || len(arr) != 5 {
		return Result{}, fmt.Errorf("strength: unexpected zxcvbn result %v", v)
	}
	var res Result
	score, ok1 := toFloat(arr[0])
	res.Feedback.Warning, _ = arr[1].(string)
	sugg, ok2 := arr[2].([]any)
	guesses, ok3 := toFloat(arr[3])
	res.CrackTimeDisplay, _ = arr[4].(string)
	if !ok1 || !ok2 || !ok3 {
		return Result{}, fmt.Errorf("strength: unexpected zxcvbn result %v", v)
	}
	res.Score = int(score)
	res.Guesses = guesses
	res.Feedback.Suggestions = make([]string, 0, len(sugg))
	for _, s := range sugg {
		str, ok := s.(string)
		if !ok {
			return Result{}, fmt.Errorf("strength: unexpected zxcvbn suggestion %v", s)
		}
		res.Feedback.Suggestions = append(res.Feedback.Suggestions, str)
	}
	return res, nil
}

// toFloat accepts the number types goja exports (int64 for integral values,
// float64 otherwise).
func toFloat(x any) (float64, bool) {
	switch n := x.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

package hashes

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"runtime"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id parameters Latch hashes new passwords with.
type Params struct {
	MemoryKiB   uint32 // m, in KiB
	Iterations  uint32 // t
	Parallelism uint8  // p
	SaltLen     uint32 // bytes of random salt
	KeyLen      uint32 // bytes of derived key
}

// DefaultParams is the OWASP minimum for argon2id: 19 MiB, 2 passes, 1 lane.
var DefaultParams = Params{MemoryKiB: 19456, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// Limits on argon2 parameters, for native hashing and for imported hashes
// alike: they keep one verification from exhausting the machine.
const (
	maxArgon2MemoryKiB  = 1 << 20 // 1 GiB
	maxArgon2Iterations = 100
	maxSaltLen          = 1024
	maxKeyLen           = 1024
	minArgon2KeyLen     = 4 // RFC 9106 minimum tag length
)

// Validate reports whether p can be used for native hashing.
func (p Params) Validate() error {
	switch {
	case p.Parallelism < 1:
		return fmt.Errorf("hashes: parallelism must be at least 1")
	case p.MemoryKiB < 8*uint32(p.Parallelism):
		return fmt.Errorf("hashes: memory must be at least 8 KiB per lane (%d KiB for p=%d)", 8*uint32(p.Parallelism), p.Parallelism)
	case p.MemoryKiB > maxArgon2MemoryKiB:
		return fmt.Errorf("hashes: memory must be at most %d KiB", maxArgon2MemoryKiB)
	case p.Iterations < 1 || p.Iterations > maxArgon2Iterations:
		return fmt.Errorf("hashes: iterations must be between 1 and %d", maxArgon2Iterations)
	case p.SaltLen < 8 || p.SaltLen > maxSaltLen:
		return fmt.Errorf("hashes: salt length must be between 8 and %d bytes", maxSaltLen)
	case p.KeyLen < 16 || p.KeyLen > maxKeyLen:
		return fmt.Errorf("hashes: key length must be between 16 and %d bytes", maxKeyLen)
	}
	return nil
}

// Hasher hashes new passwords with argon2id and verifies any supported stored
// hash. It bounds how many hashes are computed at once: each argon2id hash
// holds MemoryKiB of memory while it runs, so an unbounded burst of logins
// could exhaust the machine. A Hasher is safe for concurrent use.
type Hasher struct {
	params Params
	sem    chan struct{}

	inFlight atomic.Int64 // computations holding a slot now
	peak     atomic.Int64 // highest inFlight seen

	// testHookHeld, when set (tests only), runs while a slot is held, before
	// the computation.
	testHookHeld func()
}

// NewHasher returns a Hasher for p that runs at most maxConcurrent hash
// computations at once (runtime.GOMAXPROCS(0) when maxConcurrent <= 0). Zero
// fields of p take DefaultParams' values. NewHasher panics when the result
// fails Params.Validate: check configuration with Validate first.
func NewHasher(p Params, maxConcurrent int) *Hasher {
	d := DefaultParams
	if p.MemoryKiB == 0 {
		p.MemoryKiB = d.MemoryKiB
	}
	if p.Iterations == 0 {
		p.Iterations = d.Iterations
	}
	if p.Parallelism == 0 {
		p.Parallelism = d.Parallelism
	}
	if p.SaltLen == 0 {
		p.SaltLen = d.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}
	if err := p.Validate(); err != nil {
		panic(err)
	}
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.GOMAXPROCS(0)
	}
	return &Hasher{params: p, sem: make(chan struct{}, maxConcurrent)}
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// MaxConcurrent returns how many computations may run at once.
func (h *Hasher) MaxConcurrent() int { return cap(h.sem) }

// InFlight returns how many hash computations are running now.
func (h *Hasher) InFlight() int { return int(h.inFlight.Load()) }

// acquire takes a computation slot, waiting until one is free or ctx is done.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	n := h.inFlight.Add(1)
	for {
		p := h.peak.Load()
		if n <= p || h.peak.CompareAndSwap(p, n) {
			break
		}
	}
	if h.testHookHeld != nil {
		h.testHookHeld()
	}
	return nil
}

func (h *Hasher) release() {
	h.inFlight.Add(-1)
	<-h.sem
}

// Hash returns password hashed with argon2id in PHC string form,
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>, salt and key in
// unpadded standard base64. It waits for a computation slot; if ctx is done
// first it returns ctx.Err().
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hashes: reading salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	p := h.params
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, p.KeyLen)
	s := &stored{kind: kindArgon2id, salt: salt, key: key, m: p.MemoryKiB, t: p.Iterations, p: p.Parallelism}
	return s.encode(), nil
}

// Verify checks password against stored, which may be any form this package
// understands: an argon2id or argon2i PHC string (made by Hash or imported) or
// the canonical form Normalize returns for a migrated hash. A wrong password
// gives ok=false and a nil error; err is non-nil only when stored cannot be
// parsed or its parameters are out of bounds (an *Error, typically of Type
// TypeInvalidHash), or when ctx is done before a computation slot is free
// (ctx.Err()).
//
// needsRehash reports, for a stored string that parses, whether it is
// anything other than argon2id with exactly this Hasher's parameters; callers
// should rehash with Hash after a successful Verify when it is true.
func (h *Hasher) Verify(ctx context.Context, stored string, password string) (ok bool, needsRehash bool, err error) {
	s, err := parseStored(stored)
	if err != nil {
		return false, false, err
	}
	needsRehash = s.needsRehash(h.params)
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	return s.verify(password), needsRehash, nil
}

// needsRehash reports whether s is not argon2id made with exactly p.
func (s *stored) needsRehash(p Params) bool {
	return s.kind != kindArgon2id ||
		s.m != p.MemoryKiB || s.t != p.Iterations || s.p != p.Parallelism ||
		uint32(len(s.salt)) != p.SaltLen || uint32(len(s.key)) != p.KeyLen
}

// verify recomputes the hash of password under s and compares in constant time.
func (s *stored) verify(password string) bool {
	var got []byte
	switch s.kind {
	case kindArgon2id:
		got = argon2.IDKey([]byte(password), s.salt, s.t, s.m, s.p, uint32(len(s.key)))
	case kindArgon2i:
		got = argon2.Key([]byte(password), s.salt, s.t, s.m, s.p, uint32(len(s.key)))
	case kindBcrypt:
		return bcryptVerify(s.raw, password)
	case kindPHPass:
		return phpassVerify(s.raw, password)
	case kindMD5, kindSHA1, kindSHA512:
		got = digest(s.kind, s.prepend+password+s.append)
	case kindScrypt:
		got = scryptKey(password, s)
	case kindPBKDF2SHA256, kindPBKDF2SHA512:
		got = pbkdf2Key(password, s)
	default:
		return false
	}
	return got != nil && subtle.ConstantTimeCompare(got, s.key) == 1
}

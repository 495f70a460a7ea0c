package hashes

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"runtime"

	"github.com/latchhq/latch/internal/hashes/argon2"
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

// OWASPMinimums are the argon2id configurations OWASP's Password Storage
// Cheat Sheet gives as equally strong minimums, trading memory for passes.
// Validate accepts parameters at least as strong as one of them.
var OWASPMinimums = []Params{
	{MemoryKiB: 47104, Iterations: 1, Parallelism: 1},
	{MemoryKiB: 19456, Iterations: 2, Parallelism: 1},
	{MemoryKiB: 12288, Iterations: 3, Parallelism: 1},
	{MemoryKiB: 9216, Iterations: 4, Parallelism: 1},
	{MemoryKiB: 7168, Iterations: 5, Parallelism: 1},
}

// Limits on argon2 parameters, for native hashing and for imported hashes
// alike: they keep one verification from exhausting the machine.
const (
	maxArgon2MemoryKiB  = 1 << 20 // 1 GiB
	maxArgon2Iterations = 100
	maxSaltLen          = 1024
	maxKeyLen           = 1024
	minArgon2KeyLen     = 4 // RFC 9106 minimum tag length
)

// withDefaults fills zero fields from DefaultParams.
func (p Params) withDefaults() Params {
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
	return p
}

// Validate reports whether p is fit to hash new passwords with: within the
// bounds every stored hash is held to, and at least as strong as one of
// OWASPMinimums (memory and passes both at or above it).
func (p Params) Validate() error {
	if err := p.checkBounds(); err != nil {
		return err
	}
	for _, o := range OWASPMinimums {
		if p.MemoryKiB >= o.MemoryKiB && p.Iterations >= o.Iterations {
			return nil
		}
	}
	return fmt.Errorf("hashes: argon2id m=%d KiB, t=%d is weaker than OWASP's minimum; use at least one of "+
		"m=47104,t=1; m=19456,t=2; m=12288,t=3; m=9216,t=4; m=7168,t=5", p.MemoryKiB, p.Iterations)
}

// checkBounds is Validate without the OWASP floor.
func (p Params) checkBounds() error {
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

// MemoryCost is the memory, in bytes, that one hash with p holds while it
// runs. Zero fields count as DefaultParams'.
func (p Params) MemoryCost() int64 {
	p = p.withDefaults()
	return argon2Cost(p.MemoryKiB, p.Parallelism)
}

// Memory costs of one computation, in bytes.
const (
	// smallCost stands for the algorithms that need only kilobytes (bcrypt's
	// 4 KiB of S-boxes, the digests, pbkdf2, phpass): they still take a
	// computation slot, and weigh something so the budget sees them.
	smallCost = 64 << 10
	// argon2Overhead covers argon2's per-call buffers beside its blocks.
	argon2Overhead = 16 << 10
)

// argon2Cost is what golang.org/x/crypto/argon2 allocates: m KiB of 1 KiB
// blocks, rounded down to a multiple of 4p and at least 8p.
func argon2Cost(m uint32, p uint8) int64 {
	return int64(max(m, 8*uint32(p)))<<10 + argon2Overhead
}

// scryptCost is what golang.org/x/crypto/scrypt allocates: V of 128·r·N
// bytes, B of 128·r·p and XY of 256·r. The p blocks are mixed one after
// another through the same V, so p does not multiply the large term.
func scryptCost(logN, r, p int) int64 {
	return 128 * int64(r) * (int64(1)<<logN + int64(p) + 2)
}

// memoryCost is what verifying s holds while it runs.
func (s *stored) memoryCost() int64 {
	switch s.kind {
	case kindArgon2id, kindArgon2i:
		return argon2Cost(s.m, s.p)
	case kindScrypt:
		return scryptCost(s.logN, s.r, s.sp)
	}
	return smallCost
}

// minDefaultBudget is the floor of DefaultMemoryBudget. It admits, on any
// machine, the largest scrypt hash Stytch documents for migration (N=2^18,
// r=8: 256 MiB) with room beside it for native hashes; the argon2 hashes met
// in practice are smaller (Django's default is 100 MiB).
const minDefaultBudget = 320 << 20

// DefaultMemoryBudget is the budget NewHasher uses when Limits.MemoryBytes is
// zero: 4 × one hash at p × maxConcurrent, at least 320 MiB. Native hashes
// fill at most a quarter of it at full concurrency, leaving the rest for
// imported hashes with heavier parameters alongside them.
func DefaultMemoryBudget(p Params, maxConcurrent int) int64 {
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.GOMAXPROCS(0)
	}
	return max(minDefaultBudget, 4*p.MemoryCost()*int64(maxConcurrent))
}

// Limits bound the work a Hasher does at once. Zero fields take defaults.
type Limits struct {
	// MemoryBytes bounds the memory of all computations running at once:
	// each reserves its own cost (an argon2 hash its m KiB, scrypt 128·N·r
	// bytes, the rest 64 KiB) before it starts. Zero means
	// DefaultMemoryBudget.
	MemoryBytes int64
	// MaxConcurrent bounds how many computations run at once, whatever their
	// memory; zero means runtime.GOMAXPROCS(0), since more than one per core
	// only adds latency.
	MaxConcurrent int
}

// ErrOverBudget is returned, wrapped, by Verify when one computation of the
// stored hash needs more memory than the Hasher's whole budget: it could never
// start, so it is refused at once rather than queued forever.
var ErrOverBudget = errors.New("hashes: verifying this hash needs more memory than the hashing budget")

// Hasher hashes new passwords with argon2id and verifies any supported stored
// hash. Each computation reserves its memory cost and a slot from a shared
// budget first, waiting in line (FIFO) while the budget is full, so a burst of
// logins queues instead of exhausting memory. A Hasher is safe for concurrent
// use.
type Hasher struct {
	params Params
	cost   int64 // MemoryCost of params
	budget *budget

	// testHookHeld, when set (tests only), runs while a reservation is held,
	// before the computation.
	testHookHeld func()
}

// NewHasher returns a Hasher for p within l. Zero fields of p take
// DefaultParams' values. It fails when p is out of bounds or one hash with p
// would not fit the memory budget. It does not hold p to OWASP's floor, so
// tests can hash cheaply: configuration is checked with Params.Validate.
func NewHasher(p Params, l Limits) (*Hasher, error) {
	p = p.withDefaults()
	if err := p.checkBounds(); err != nil {
		return nil, err
	}
	if l.MaxConcurrent <= 0 {
		l.MaxConcurrent = runtime.GOMAXPROCS(0)
	}
	if l.MemoryBytes <= 0 {
		l.MemoryBytes = DefaultMemoryBudget(p, l.MaxConcurrent)
	}
	cost := p.MemoryCost()
	if cost > l.MemoryBytes {
		return nil, fmt.Errorf("hashes: a memory budget of %d KiB cannot hold one argon2id hash at m=%d KiB (%d KiB)",
			l.MemoryBytes>>10, p.MemoryKiB, ceilKiB(cost))
	}
	return &Hasher{params: p, cost: cost, budget: newBudget(l.MemoryBytes, l.MaxConcurrent)}, nil
}

func ceilKiB(n int64) int64 { return (n + 1<<10 - 1) >> 10 }

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Stats is a snapshot of a Hasher's load.
type Stats struct {
	InFlight      int   // computations running now
	InFlightBytes int64 // memory they reserved
	PeakInFlight  int   // most computations ever running at once
	PeakBytes     int64 // most memory ever reserved at once; never above MemoryBudget
	Queued        int   // computations waiting for room
	MaxConcurrent int
	MemoryBudget  int64
}

// Stats returns the Hasher's current load and its high-water marks.
func (h *Hasher) Stats() Stats {
	b := h.budget
	b.mu.Lock()
	defer b.mu.Unlock()
	return Stats{InFlight: int(b.slots), InFlightBytes: b.bytes, PeakInFlight: int(b.peakSlots), PeakBytes: b.peakBytes,
		Queued: b.queue.Len(), MaxConcurrent: int(b.maxSlots), MemoryBudget: b.maxBytes}
}

// acquire reserves cost bytes and a slot, waiting until they are free or ctx
// is done. A cost above the whole budget is refused with ErrOverBudget.
func (h *Hasher) acquire(ctx context.Context, cost int64) error {
	if cost > h.budget.maxBytes {
		return fmt.Errorf("%w (needs %d KiB, budget %d KiB)", ErrOverBudget, ceilKiB(cost), h.budget.maxBytes>>10)
	}
	if err := h.budget.acquire(ctx, cost); err != nil {
		return err
	}
	if h.testHookHeld != nil {
		h.testHookHeld()
	}
	return nil
}

func (h *Hasher) release(cost int64) { h.budget.release(cost) }

// Hash returns password hashed with argon2id in PHC string form,
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>, salt and key in
// unpadded standard base64. It waits for room in the budget; if ctx is done
// first it returns ctx.Err().
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hashes: reading salt: %w", err)
	}
	if err := h.acquire(ctx, h.cost); err != nil {
		return "", err
	}
	defer h.release(h.cost)
	p := h.params
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, p.KeyLen)
	s := &stored{kind: kindArgon2id, salt: salt, key: key, m: p.MemoryKiB, t: p.Iterations, p: p.Parallelism}
	return s.encode(), nil
}

// Verify checks password against stored, which may be any form this package
// understands: an argon2id or argon2i PHC string (made by Hash or imported) or
// the canonical form Normalize returns for a migrated hash. A wrong password
// gives ok=false and a nil error. err is non-nil only when stored cannot be
// parsed or its parameters are out of bounds (an *Error, typically of Type
// TypeInvalidHash); when verifying it needs more memory than the whole budget
// (ErrOverBudget); or when ctx is done before there is room (ctx.Err()).
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
	cost := s.memoryCost()
	if err := h.acquire(ctx, cost); err != nil {
		return false, false, err
	}
	defer h.release(cost)
	return s.verify(password), needsRehash, nil
}

// Normalize is the package's Normalize for this Hasher: it also refuses a
// hash whose verification would need more memory than the Hasher's whole
// budget, since no login could ever succeed with it. The error is an *Error
// of the hash's config type (invalid_argon_2_config or invalid_scrypt_config).
func (h *Hasher) Normalize(m Migration) (string, error) {
	s, err := normalize(m)
	if err != nil {
		return "", err
	}
	if cost := s.memoryCost(); cost > h.budget.maxBytes {
		typ := TypeInvalidArgon2Config
		if s.kind == kindScrypt {
			typ = TypeInvalidScryptConfig
		}
		return "", errf(typ, fmt.Sprintf("verifying this hash needs %d MiB of memory, more than this server's hashing budget of %d MiB",
			(cost+1<<20-1)>>20, h.budget.maxBytes>>20))
	}
	return s.encode(), nil
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

package hashes

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// vector is one independently produced hash; vectors_test.go holds them.
type vector struct {
	name     string    // what it exercises
	source   string    // the implementation that produced it
	password string    // the password it is a hash of
	m        Migration // the passwords.migrate input
	want     string    // Normalize's expected output; "" when not pinned
}

// testParams are cheap argon2id parameters for tests that hash a lot.
var testParams = Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

var hashTypes = []string{
	HashTypeBcrypt, HashTypeMD5, HashTypeArgon2i, HashTypeArgon2id, HashTypeSHA1,
	HashTypeSHA512, HashTypeScrypt, HashTypePHPass, HashTypePBKDF2,
}

func TestVectorsCoverEveryHashType(t *testing.T) {
	n := map[string]int{}
	for _, v := range vectors {
		n[v.m.HashType]++
	}
	for _, ht := range hashTypes {
		if n[ht] < 2 {
			t.Errorf("hash type %s has %d vectors; want at least 2", ht, n[ht])
		}
	}
}

func TestVectors(t *testing.T) {
	h := newHasher(t, DefaultParams, 0)
	ctx := context.Background()
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			stored, err := Normalize(v.m)
			if err != nil {
				t.Fatalf("Normalize: %v (vector from %s)", err, v.source)
			}
			if v.want != "" && stored != v.want {
				t.Errorf("Normalize = %q\nwant        %q", stored, v.want)
			}
			ok, rehash, err := h.Verify(ctx, stored, v.password)
			if err != nil || !ok {
				t.Fatalf("Verify(correct password) = %v, %v; want true, nil (vector from %s)", ok, err, v.source)
			}
			if !rehash {
				t.Errorf("Verify of a migrated %s hash: needsRehash = false, want true", v.m.HashType)
			}
			// A different first byte: bcrypt ignores bytes past 72, so appending
			// would not make a wrong password for the long-password vector.
			ok, _, err = h.Verify(ctx, stored, "X"+v.password)
			if err != nil || ok {
				t.Errorf("Verify(wrong password) = %v, %v; want false, nil", ok, err)
			}
			if v.password != "" && (v.m.HashType != HashTypeBcrypt || len(v.password) <= 72) {
				ok, _, _ = h.Verify(ctx, stored, v.password[:len(v.password)-1])
				if ok {
					t.Errorf("Verify(truncated password) = true")
				}
			}
			// Normalizing the canonical form again (where the type accepts its
			// canonical form as input) is a fixed point.
			if strings.HasPrefix(stored, "$") && !strings.HasPrefix(stored, "$latch-") {
				again, err := Normalize(Migration{HashType: v.m.HashType, Hash: stored})
				if err != nil || again != stored {
					t.Errorf("Normalize(canonical) = %q, %v; want %q", again, err, stored)
				}
			}
		})
	}
}

func TestBcryptTruncatesAt72Bytes(t *testing.T) {
	h := newHasher(t, testParams, 0)
	for _, v := range vectors {
		if v.name != "bcrypt >72-byte password" {
			continue
		}
		ok, _, err := h.Verify(context.Background(), v.m.Hash, v.password[:72])
		if err != nil || !ok {
			t.Fatalf("72-byte prefix: Verify = %v, %v; want true", ok, err)
		}
		return
	}
	t.Fatal("long-password bcrypt vector missing")
}

var phcRe = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$`)

func TestHashRoundTrip(t *testing.T) {
	h := newHasher(t, DefaultParams, 0)
	ctx := context.Background()
	for _, pw := range []string{"correct horse battery staple", "", "pässwörd✓ 🔑", strings.Repeat("long", 300)} {
		s, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatal(err)
		}
		m := phcRe.FindStringSubmatch(s)
		if m == nil || m[1] != "19456" || m[2] != "2" || m[3] != "1" || len(m[4]) != 22 || len(m[5]) != 43 {
			t.Fatalf("Hash = %q; want $argon2id$v=19$m=19456,t=2,p=1$<22 chars>$<43 chars>", s)
		}
		ok, rehash, err := h.Verify(ctx, s, pw)
		if err != nil || !ok || rehash {
			t.Fatalf("Verify(own hash) = %v, %v, %v; want true, false, nil", ok, rehash, err)
		}
		ok, _, err = h.Verify(ctx, s, pw+"!")
		if err != nil || ok {
			t.Fatalf("Verify(wrong) = %v, %v; want false, nil", ok, err)
		}
		s2, _ := h.Hash(ctx, pw)
		if s2 == s {
			t.Fatal("two hashes of one password are equal: salt not random")
		}
	}
}

func TestNeedsRehashWhenDefaultParamsChange(t *testing.T) {
	ctx := context.Background()
	old := DefaultParams
	t.Cleanup(func() { DefaultParams = old })

	s, err := newHasher(t, DefaultParams, 0).Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	DefaultParams.Iterations = 3
	ok, rehash, err := newHasher(t, DefaultParams, 0).Verify(ctx, s, "pw")
	if err != nil || !ok || !rehash {
		t.Fatalf("after raising DefaultParams.Iterations: Verify = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
	DefaultParams = old
	if ok, rehash, _ := newHasher(t, DefaultParams, 0).Verify(ctx, s, "pw"); !ok || rehash {
		t.Fatalf("with the original DefaultParams: Verify = %v, needsRehash %v; want true, false", ok, rehash)
	}
}

func TestNeedsRehashEachParam(t *testing.T) {
	ctx := context.Background()
	base := testParams
	s, err := newHasher(t, base, 1).Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Params){
		"memory":      func(p *Params) { p.MemoryKiB = 128 },
		"iterations":  func(p *Params) { p.Iterations = 2 },
		"parallelism": func(p *Params) { p.Parallelism = 2 },
		"salt length": func(p *Params) { p.SaltLen = 32 },
		"key length":  func(p *Params) { p.KeyLen = 64 },
	} {
		p := base
		mod(&p)
		ok, rehash, err := newHasher(t, p, 1).Verify(ctx, s, "pw")
		if err != nil || !ok || !rehash {
			t.Errorf("%s changed: Verify = %v, %v, %v; want true, true, nil", name, ok, rehash, err)
		}
	}
	// argon2i with the very same parameters still needs a rehash to argon2id.
	i := strings.Replace(s, "$argon2id$", "$argon2i$", 1)
	if _, rehash, err := newHasher(t, base, 1).Verify(ctx, i, "pw"); err != nil || !rehash {
		t.Errorf("argon2i: needsRehash = %v, %v; want true", rehash, err)
	}
}

// newHasher is NewHasher for tests: at most maxConcurrent computations at
// once (0: GOMAXPROCS) within the default memory budget.
func newHasher(t testing.TB, p Params, maxConcurrent int) *Hasher {
	t.Helper()
	h, err := NewHasher(p, Limits{MaxConcurrent: maxConcurrent})
	if err != nil {
		t.Fatalf("NewHasher(%+v): %v", p, err)
	}
	return h
}

func TestNewHasherDefaultsAndValidation(t *testing.T) {
	h := newHasher(t, Params{}, 0)
	if h.Params() != DefaultParams {
		t.Errorf("NewHasher(Params{}) params = %+v; want DefaultParams", h.Params())
	}
	st := h.Stats()
	if st.MaxConcurrent != runtime.GOMAXPROCS(0) {
		t.Errorf("MaxConcurrent = %d; want GOMAXPROCS %d", st.MaxConcurrent, runtime.GOMAXPROCS(0))
	}
	if want := max(320<<20, 4*DefaultParams.MemoryCost()*int64(runtime.GOMAXPROCS(0))); st.MemoryBudget != want {
		t.Errorf("MemoryBudget = %d; want %d", st.MemoryBudget, want)
	}
	for _, p := range []Params{
		{MemoryKiB: 8, Iterations: 1, Parallelism: 2, SaltLen: 16, KeyLen: 32},        // < 8 KiB per lane
		{MemoryKiB: 1 << 21, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32},  // > 1 GiB
		{MemoryKiB: 64, Iterations: 101, Parallelism: 1, SaltLen: 16, KeyLen: 32},     // too many passes
		{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 4, KeyLen: 32},        // short salt
		{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 8},        // short key
		{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 1 << 20},  // huge key
		{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 1 << 20, KeyLen: 32},  // huge salt
		{MemoryKiB: 64, Iterations: 1, Parallelism: 9, SaltLen: 16, KeyLen: 32 << 10}, // both
	} {
		if p.Validate() == nil {
			t.Errorf("Validate(%+v) = nil; want an error", p)
		}
		if h, err := NewHasher(p, Limits{}); err == nil || h != nil {
			t.Errorf("NewHasher(%+v) = %v, %v; want an error", p, h, err)
		}
	}
	if err := DefaultParams.Validate(); err != nil {
		t.Errorf("DefaultParams.Validate() = %v", err)
	}
	// A budget that cannot hold one native hash is refused up front.
	if _, err := NewHasher(DefaultParams, Limits{MemoryBytes: 16 << 20}); err == nil ||
		!strings.Contains(err.Error(), "cannot hold one argon2id hash") {
		t.Errorf("NewHasher with a 16 MiB budget at m=19456 KiB: %v; want a budget error", err)
	}
}

func TestValidateOWASPFloor(t *testing.T) {
	with := func(m, it uint32, p uint8) Params {
		return Params{MemoryKiB: m, Iterations: it, Parallelism: p, SaltLen: 16, KeyLen: 32}
	}
	for _, p := range []Params{
		with(47104, 1, 1), with(19456, 2, 1), with(12288, 3, 1), with(9216, 4, 1), with(7168, 5, 1), // OWASP's five
		with(65536, 3, 4), with(19456, 10, 1), with(7168, 100, 1), with(1<<20, 1, 1), // stronger
	} {
		if err := p.Validate(); err != nil {
			t.Errorf("Validate(m=%d,t=%d,p=%d) = %v; want nil", p.MemoryKiB, p.Iterations, p.Parallelism, err)
		}
	}
	for _, p := range []Params{
		with(47103, 1, 1), with(19455, 2, 1), with(12287, 3, 1), with(9215, 4, 1), with(7167, 5, 1), // just under each
		with(7167, 100, 1), with(64, 1, 1), with(19456, 1, 1), with(19456, 1, 8),
	} {
		err := p.Validate()
		if err == nil || !strings.Contains(err.Error(), "weaker than OWASP's minimum") {
			t.Errorf("Validate(m=%d,t=%d,p=%d) = %v; want the OWASP floor error", p.MemoryKiB, p.Iterations, p.Parallelism, err)
		}
	}
}

func TestMemoryCost(t *testing.T) {
	for _, tc := range []struct {
		stored string
		want   int64
	}{
		{"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$c29tZXNhbHQ", 19456<<10 + argon2Overhead},
		{"$argon2i$v=19$m=1048576,t=1,p=4$c29tZXNhbHQ$c29tZXNhbHQ", 1<<30 + argon2Overhead},
		{"$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$c29tZXNhbHQ", 8<<10 + argon2Overhead},
		{"$scrypt$ln=14,r=8,p=1$c2FsdA$c2FsdA", 128 * 8 * (1<<14 + 1 + 2)},   // 16 MiB
		{"$scrypt$ln=17,r=8,p=16$c2FsdA$c2FsdA", 128 * 8 * (1<<17 + 16 + 2)}, // 128 MiB
		{"$scrypt$ln=10,r=1024,p=1$c2FsdA$c2FsdA", 128 * 1024 * (1<<10 + 3)}, // 128 MiB through r
		{"$2b$10$" + strings.Repeat(".", 53), smallCost},
		{"$latch-md5$$$2ab96390c7dbe3439de74d0c9b0b1767", smallCost},
		{"$pbkdf2-sha256$i=1000$c2FsdA$c2FsdA", smallCost},
	} {
		s, err := parseStored(tc.stored)
		if err != nil {
			t.Fatalf("parseStored(%q): %v", tc.stored, err)
		}
		if got := s.memoryCost(); got != tc.want {
			t.Errorf("memoryCost(%q) = %d; want %d", tc.stored, got, tc.want)
		}
	}
	if got := DefaultParams.MemoryCost(); got != 19456<<10+argon2Overhead {
		t.Errorf("DefaultParams.MemoryCost() = %d", got)
	}
}

func TestMigrationJSON(t *testing.T) {
	// The request shape Stytch's SDKs send.
	body := `{"email":"a@example.com","hash_type":"scrypt","hash":"abc",
		"scrypt_config":{"salt":"c2FsdA==","n_parameter":16384,"r_parameter":8,"p_parameter":1,"key_length":32},
		"pbkdf_2_config":{"salt":"s","iteration_amount":1000,"key_length":32,"algorithm":"sha512"},
		"argon_2_config":{"salt":"s","iteration_amount":2,"memory":19456,"threads":1,"key_length":32},
		"md_5_config":{"prepend_salt":"a","append_salt":"b"},
		"sha_1_config":{"prepend_salt":"c","append_salt":"d"},
		"sha_512_config":{"prepend_salt":"e","append_salt":"f"}}`
	var m Migration
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	want := Migration{
		HashType: "scrypt", Hash: "abc",
		Scrypt: &ScryptConfig{Salt: "c2FsdA==", N: 16384, R: 8, P: 1, KeyLength: 32},
		PBKDF2: &PBKDF2Config{Salt: "s", IterationAmount: 1000, KeyLength: 32, Algorithm: "sha512"},
		Argon2: &Argon2Config{Salt: "s", IterationAmount: 2, Memory: 19456, Threads: 1, KeyLength: 32},
		MD5:    &MD5Config{PrependSalt: "a", AppendSalt: "b"},
		SHA1:   &SHA1Config{PrependSalt: "c", AppendSalt: "d"},
		SHA512: &SHA512Config{PrependSalt: "e", AppendSalt: "f"},
	}
	got, _ := json.Marshal(m)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		t.Errorf("decoded %s\nwant    %s", got, exp)
	}
}

func TestNormalizeErrors(t *testing.T) {
	const md5hex = "2ab96390c7dbe3439de74d0c9b0b1767"
	key32 := "kqpq77SniYoduMB0Kn0waOir1fDuOtQveB14uXBHBSA=" // 32 bytes
	argon := func(c Argon2Config) Migration { return Migration{HashType: "argon_2id", Hash: key32, Argon2: &c} }
	goodArgon := Argon2Config{Salt: "somesalt", IterationAmount: 2, Memory: 1024, Threads: 1, KeyLength: 32}
	scr := func(c ScryptConfig) Migration { return Migration{HashType: "scrypt", Hash: key32, Scrypt: &c} }
	goodScrypt := ScryptConfig{Salt: "c2FsdA", N: 1024, R: 8, P: 1, KeyLength: 32}
	pb := func(c PBKDF2Config) Migration { return Migration{HashType: "pbkdf_2", Hash: key32, PBKDF2: &c} }
	goodPB := PBKDF2Config{Salt: "c2FsdA", IterationAmount: 1000, KeyLength: 32}
	with := func(c Argon2Config, f func(*Argon2Config)) Argon2Config { f(&c); return c }
	withS := func(c ScryptConfig, f func(*ScryptConfig)) ScryptConfig { f(&c); return c }
	withP := func(c PBKDF2Config, f func(*PBKDF2Config)) PBKDF2Config { f(&c); return c }

	for _, tc := range []struct {
		name string
		m    Migration
		typ  string
	}{
		{"unknown hash_type", Migration{HashType: "md5", Hash: md5hex}, TypeInvalidHashType},
		{"empty hash_type", Migration{Hash: md5hex}, TypeInvalidHashType},
		{"empty hash", Migration{HashType: "bcrypt", Hash: "  "}, TypeInvalidHash},

		{"bcrypt short", Migration{HashType: "bcrypt", Hash: "$2a$10$abc"}, TypeInvalidBcryptHash},
		{"bcrypt $2x$", Migration{HashType: "bcrypt", Hash: "$2x$07$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi"}, TypeInvalidBcryptHash},
		{"bcrypt cost 03", Migration{HashType: "bcrypt", Hash: "$2a$03$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi"}, TypeInvalidBcryptHash},
		{"bcrypt cost 32", Migration{HashType: "bcrypt", Hash: "$2a$32$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi"}, TypeInvalidBcryptHash},
		{"bcrypt bad char", Migration{HashType: "bcrypt", Hash: "$2a$07$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6h!"}, TypeInvalidBcryptHash},
		{"bcrypt given phpass", Migration{HashType: "bcrypt", Hash: "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0"}, TypeInvalidBcryptHash},

		{"md5 wrong length", Migration{HashType: "md_5", Hash: md5hex + "00"}, TypeInvalidMD5Hash},
		{"md5 not encoded", Migration{HashType: "md_5", Hash: "not a digest!"}, TypeInvalidMD5Hash},
		{"md5 given sha1", Migration{HashType: "md_5", Hash: "f3bbbd66a63d4bf1747940578ec3d0103530e21d"}, TypeInvalidMD5Hash},
		{"sha1 given md5", Migration{HashType: "sha_1", Hash: md5hex}, TypeInvalidSHA1Hash},
		{"sha512 given md5", Migration{HashType: "sha_512", Hash: md5hex}, TypeInvalidSHA512Hash},

		{"argon2 no config", Migration{HashType: "argon_2id", Hash: key32}, TypeInvalidArgon2Config},
		{"argon2 key_length mismatch", argon(with(goodArgon, func(c *Argon2Config) { c.KeyLength = 16 })), TypeArgon2KeyLengthMismatch},
		{"argon2 key_length missing", argon(with(goodArgon, func(c *Argon2Config) { c.KeyLength = 0 })), TypeInvalidArgon2Config},
		{"argon2 hash garbage", Migration{HashType: "argon_2i", Hash: "!!!", Argon2: &goodArgon}, TypeInvalidHash},
		{"argon2 memory too low", argon(with(goodArgon, func(c *Argon2Config) { c.Memory = 7 })), TypeInvalidArgon2Config},
		{"argon2 memory too high", argon(with(goodArgon, func(c *Argon2Config) { c.Memory = 1<<20 + 1 })), TypeInvalidArgon2Config},
		{"argon2 threads 0", argon(with(goodArgon, func(c *Argon2Config) { c.Threads = 0 })), TypeInvalidArgon2Config},
		{"argon2 threads 256", argon(with(goodArgon, func(c *Argon2Config) { c.Threads = 256; c.Memory = 4096 })), TypeInvalidArgon2Config},
		{"argon2 iterations 0", argon(with(goodArgon, func(c *Argon2Config) { c.IterationAmount = 0 })), TypeInvalidArgon2Config},
		{"argon2 negative", argon(with(goodArgon, func(c *Argon2Config) { c.Memory = -1 })), TypeInvalidArgon2Config},
		{"argon2 empty salt", argon(with(goodArgon, func(c *Argon2Config) { c.Salt = "" })), TypeInvalidArgon2Config},
		{"argon2 PHC variant mismatch", Migration{HashType: "argon_2i", Hash: "$argon2id$v=19$m=4096,t=3,p=1$c29tZXNhbHQ$fkBPRKOAxuajnxTp7cTpQndXe4DY+WgTlwvpFnWGLSU"}, TypeInvalidHash},
		{"argon2 PHC v=16", Migration{HashType: "argon_2i", Hash: "$argon2i$m=4096,t=3,p=1$c29tZXNhbHQ$fkBPRKOAxuajnxTp7cTpQndXe4DY+WgTlwvpFnWGLSU"}, TypeInvalidHash},
		{"argon2 PHC argon2d", Migration{HashType: "argon_2id", Hash: "$argon2d$v=19$m=4096,t=3,p=1$c29tZXNhbHQ$fkBPRKOAxuajnxTp7cTpQndXe4DY+WgTlwvpFnWGLSU"}, TypeInvalidHash},
		{"argon2 PHC bad params", Migration{HashType: "argon_2id", Hash: "$argon2id$v=19$t=3,m=4096,p=1$c29tZXNhbHQ$fkBPRKOAxuajnxTp7cTpQndXe4DY+WgTlwvpFnWGLSU"}, TypeInvalidHash},
		{"argon2 PHC huge memory", Migration{HashType: "argon_2id", Hash: "$argon2id$v=19$m=4194304,t=3,p=1$c29tZXNhbHQ$fkBPRKOAxuajnxTp7cTpQndXe4DY+WgTlwvpFnWGLSU"}, TypeInvalidArgon2Config},
		{"argon2 PHC short key", Migration{HashType: "argon_2id", Hash: "$argon2id$v=19$m=4096,t=3,p=1$c29tZXNhbHQ$fkBP"}, TypeInvalidArgon2Config},

		{"scrypt no config", Migration{HashType: "scrypt", Hash: key32}, TypeInvalidScryptConfig},
		{"scrypt N not power of two", scr(withS(goodScrypt, func(c *ScryptConfig) { c.N = 1000 })), TypeInvalidScryptConfig},
		{"scrypt N=1", scr(withS(goodScrypt, func(c *ScryptConfig) { c.N = 1 })), TypeInvalidScryptConfig},
		{"scrypt N=2^19", scr(withS(goodScrypt, func(c *ScryptConfig) { c.N = 1 << 19 })), TypeInvalidScryptConfig},
		{"scrypt r=0", scr(withS(goodScrypt, func(c *ScryptConfig) { c.R = 0 })), TypeInvalidScryptConfig},
		{"scrypt p=0", scr(withS(goodScrypt, func(c *ScryptConfig) { c.P = 0 })), TypeInvalidScryptConfig},
		{"scrypt memory > 1 GiB", scr(withS(goodScrypt, func(c *ScryptConfig) { c.N = 1 << 18; c.R = 64 })), TypeInvalidScryptConfig},
		{"scrypt salt not base64", scr(withS(goodScrypt, func(c *ScryptConfig) { c.Salt = "not base64!" })), TypeInvalidScryptConfig},
		{"scrypt key_length mismatch", scr(withS(goodScrypt, func(c *ScryptConfig) { c.KeyLength = 64 })), TypeInvalidScryptConfig},
		{"scrypt PHC bad", Migration{HashType: "scrypt", Hash: "$scrypt$n=1024,r=8,p=1$c2FsdA$" + key32}, TypeInvalidHash},

		{"pbkdf2 no config", Migration{HashType: "pbkdf_2", Hash: key32}, TypeInvalidPBKDF2Config},
		{"pbkdf2 algorithm sha1", pb(withP(goodPB, func(c *PBKDF2Config) { c.Algorithm = "sha1" })), TypeInvalidPBKDF2Config},
		{"pbkdf2 iterations 0", pb(withP(goodPB, func(c *PBKDF2Config) { c.IterationAmount = 0 })), TypeInvalidPBKDF2Config},
		{"pbkdf2 iterations huge", pb(withP(goodPB, func(c *PBKDF2Config) { c.IterationAmount = 1 << 30 })), TypeInvalidPBKDF2Config},
		{"pbkdf2 key_length mismatch", pb(withP(goodPB, func(c *PBKDF2Config) { c.KeyLength = 20 })), TypeInvalidPBKDF2Config},
		{"pbkdf2 salt not base64", pb(withP(goodPB, func(c *PBKDF2Config) { c.Salt = "%%" })), TypeInvalidPBKDF2Config},
		{"pbkdf2 PHC sha1", Migration{HashType: "pbkdf_2", Hash: "$pbkdf2-sha1$1000$c2FsdA$" + key32}, TypeInvalidHash},

		{"phpass short", Migration{HashType: "phpass", Hash: "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L"}, TypeInvalidPHPassHash},
		{"phpass bad char", Migration{HashType: "phpass", Hash: "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r!L0"}, TypeInvalidPHPassHash},
		{"phpass count too low", Migration{HashType: "phpass", Hash: "$P$1IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0"}, TypeInvalidPHPassHash},
		{"phpass count too high", Migration{HashType: "phpass", Hash: "$P$zIQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0"}, TypeInvalidPHPassHash},
		{"phpass $Q$", Migration{HashType: "phpass", Hash: "$Q$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0"}, TypeInvalidPHPassHash},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Normalize(tc.m)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Normalize = %q, %v; want *Error %s", s, err, tc.typ)
			}
			if e.Type != tc.typ || e.Msg == "" {
				t.Fatalf("Normalize error = %v; want type %s", e, tc.typ)
			}
			if !errors.Is(err, &Error{Type: tc.typ}) {
				t.Errorf("errors.Is by type failed")
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	h := newHasher(t, testParams, 1)
	for _, s := range []string{
		"", "plaintext", "$", "$$$$", "$argon2id$", "$argon2id$v=19$m=64,t=1,p=1$$",
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$", "$argon2id$v=19$m=64,t=1,p=0$c29tZXNhbHQ$c29tZXNhbHQ",
		"$argon2id$v=19$m=064,t=1,p=1$c29tZXNhbHQ$c29tZXNhbHQ", "$argon2id$v=19$m=+64,t=1,p=1$c29tZXNhbHQ$c29tZXNhbHQ",
		"$argon2id$v=19$m=64,t=1,p=1$c29tZX\nNhbHQ$c29tZXNhbHQ", "$argon2id$v=19$m=64,t=1,p=1,k=2$c29tZXNhbHQ$c29tZXNhbHQ",
		"$2a$10$", "$2a$10$" + strings.Repeat(".", 53) + "x",
		"$P$", "$H$9aaaaaSXBjgypwqm.JsMssPLiS8YQ0",
		"$latch-md5$", "$latch-md5$$$abcd", "$latch-md5$!$$2ab96390c7dbe3439de74d0c9b0b1767",
		"$latch-sha1$$$2ab96390c7dbe3439de74d0c9b0b1767", "$latch-sha512$$$$",
		"$scrypt$ln=0,r=8,p=1$c2FsdA$c2FsdA", "$scrypt$ln=19,r=8,p=1$c2FsdA$c2FsdA", "$scrypt$ln=10,r=8,p=17$c2FsdA$c2FsdA",
		"$pbkdf2-sha256$i=0$c2FsdA$c2FsdA", "$pbkdf2-sha256$i=99999999$c2FsdA$c2FsdA", "$pbkdf2-md5$i=1$c2FsdA$c2FsdA",
	} {
		ok, rehash, err := h.Verify(context.Background(), s, "pw")
		var e *Error
		if ok || rehash || !errors.As(err, &e) {
			t.Errorf("Verify(%q) = %v, %v, %v; want false, false, *Error", s, ok, rehash, err)
		}
	}
}

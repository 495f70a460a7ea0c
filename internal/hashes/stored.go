package hashes

import (
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"math/bits"
	"strconv"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// kind is the algorithm of a stored hash.
type kind int

const (
	kindArgon2id kind = iota + 1
	kindArgon2i
	kindBcrypt
	kindPHPass
	kindMD5
	kindSHA1
	kindSHA512
	kindScrypt
	kindPBKDF2SHA256
	kindPBKDF2SHA512
)

// stored is a parsed stored hash. Which fields are set depends on kind.
type stored struct {
	kind kind
	raw  string // bcrypt, phpass: the modular-crypt string itself

	salt, key []byte // argon2, scrypt, pbkdf2; key is the digest for md5/sha*

	m, t uint32 // argon2 memory (KiB) and passes
	p    uint8  // argon2 lanes

	logN, r, sp int // scrypt: log2 N, r, p
	iter        int // pbkdf2 iterations

	prepend, append string // md5/sha*: salts around the password
}

// Prefixes of the stored forms without a standard encoding.
const (
	prefixMD5    = "$latch-md5$"
	prefixSHA1   = "$latch-sha1$"
	prefixSHA512 = "$latch-sha512$"
)

// Limits on imported scrypt and pbkdf2 parameters.
const (
	maxScryptLogN     = 18      // N < 262145, as Stytch documents
	maxScryptMemBytes = 1 << 30 // 128*N*r
	maxScryptP        = 16
	maxPBKDF2Iter     = 10_000_000
)

var b64 = base64.RawStdEncoding

// parseStored parses any stored form Verify accepts.
func parseStored(s string) (*stored, error) {
	switch {
	case strings.HasPrefix(s, "$argon2"):
		return parseArgon2PHC(s)
	case strings.HasPrefix(s, "$2"):
		return parseBcrypt(s)
	case strings.HasPrefix(s, "$P$"), strings.HasPrefix(s, "$H$"):
		return parsePHPass(s)
	case strings.HasPrefix(s, "$scrypt$"):
		return parseScryptPHC(s)
	case strings.HasPrefix(s, "$pbkdf2-"):
		return parsePBKDF2PHC(s)
	case strings.HasPrefix(s, prefixMD5):
		return parseDigest(s, kindMD5, prefixMD5)
	case strings.HasPrefix(s, prefixSHA1):
		return parseDigest(s, kindSHA1, prefixSHA1)
	case strings.HasPrefix(s, prefixSHA512):
		return parseDigest(s, kindSHA512, prefixSHA512)
	}
	return nil, errf(TypeInvalidHash, "unrecognised stored hash format")
}

// encode returns the canonical stored form of s.
func (s *stored) encode() string {
	switch s.kind {
	case kindArgon2id, kindArgon2i:
		name := "argon2id"
		if s.kind == kindArgon2i {
			name = "argon2i"
		}
		return "$" + name + "$v=19$m=" + u(uint64(s.m)) + ",t=" + u(uint64(s.t)) + ",p=" + u(uint64(s.p)) +
			"$" + b64.EncodeToString(s.salt) + "$" + b64.EncodeToString(s.key)
	case kindBcrypt, kindPHPass:
		return s.raw
	case kindMD5, kindSHA1, kindSHA512:
		prefix := map[kind]string{kindMD5: prefixMD5, kindSHA1: prefixSHA1, kindSHA512: prefixSHA512}[s.kind]
		return prefix + b64.EncodeToString([]byte(s.prepend)) + "$" + b64.EncodeToString([]byte(s.append)) +
			"$" + hex.EncodeToString(s.key)
	case kindScrypt:
		return "$scrypt$ln=" + strconv.Itoa(s.logN) + ",r=" + strconv.Itoa(s.r) + ",p=" + strconv.Itoa(s.sp) +
			"$" + b64.EncodeToString(s.salt) + "$" + b64.EncodeToString(s.key)
	case kindPBKDF2SHA256, kindPBKDF2SHA512:
		name := "pbkdf2-sha256"
		if s.kind == kindPBKDF2SHA512 {
			name = "pbkdf2-sha512"
		}
		return "$" + name + "$i=" + strconv.Itoa(s.iter) + "$" + b64.EncodeToString(s.salt) + "$" + b64.EncodeToString(s.key)
	}
	return ""
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }

// decodePHCB64 decodes a PHC base64 field: standard alphabet, padding
// optional; passlib's "adapted" variant with '.' for '+' is accepted too.
func decodePHCB64(s string) ([]byte, bool) {
	s = strings.TrimRight(s, "=")
	s = strings.ReplaceAll(s, ".", "+")
	if strings.ContainsAny(s, "\r\n") {
		return nil, false
	}
	b, err := b64.DecodeString(s)
	return b, err == nil
}

// parseUint parses a plain decimal number (no sign, no leading zeros) up to max.
func parseUint(s string, max uint64) (uint64, bool) {
	if s == "" || len(s) > 20 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > max {
		return 0, false
	}
	return v, true
}

// parseParams parses "k1=v1,k2=v2" with exactly the keys given, in order.
func parseParams(s string, keys ...string) ([]uint64, bool) {
	parts := strings.Split(s, ",")
	if len(parts) != len(keys) {
		return nil, false
	}
	out := make([]uint64, len(keys))
	for i, part := range parts {
		k, v, ok := strings.Cut(part, "=")
		if !ok || k != keys[i] {
			return nil, false
		}
		n, ok := parseUint(v, 1<<32-1)
		if !ok {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

// parseArgon2PHC parses $argon2id$v=19$m=..,t=..,p=..$salt$hash (or argon2i).
func parseArgon2PHC(str string) (*stored, error) {
	f := strings.Split(str, "$")
	if len(f) == 5 && (f[1] == "argon2i" || f[1] == "argon2id") && !strings.HasPrefix(f[2], "v=") {
		return nil, errf(TypeInvalidHash, "argon2 version 16 (a PHC string without v=) is not supported; only v=19")
	}
	if len(f) != 6 || f[0] != "" {
		return nil, errf(TypeInvalidHash, "argon2 hash must be a PHC string $argon2id$v=19$m=<KiB>,t=<iterations>,p=<threads>$<salt>$<hash>")
	}
	s := &stored{}
	switch f[1] {
	case "argon2id":
		s.kind = kindArgon2id
	case "argon2i":
		s.kind = kindArgon2i
	default:
		return nil, errf(TypeInvalidHash, "unsupported argon2 variant "+strconv.Quote(f[1])+"; only argon2i and argon2id")
	}
	if f[2] != "v=19" {
		return nil, errf(TypeInvalidHash, "unsupported argon2 version; only v=19")
	}
	v, ok := parseParams(f[3], "m", "t", "p")
	if !ok {
		return nil, errf(TypeInvalidHash, "argon2 parameters must read m=<KiB>,t=<iterations>,p=<threads>")
	}
	var okS, okK bool
	s.salt, okS = decodePHCB64(f[4])
	s.key, okK = decodePHCB64(f[5])
	if !okS || !okK {
		return nil, errf(TypeInvalidHash, "argon2 salt and hash must be base64")
	}
	if err := checkArgon2(v[0], v[1], v[2], len(s.salt), len(s.key)); err != nil {
		return nil, err
	}
	s.m, s.t, s.p = uint32(v[0]), uint32(v[1]), uint8(v[2])
	return s, nil
}

// checkArgon2 validates argon2 parameters from a PHC string or a config.
func checkArgon2(m, t, p uint64, saltLen, keyLen int) *Error {
	bad := func(msg string) *Error { return errf(TypeInvalidArgon2Config, msg) }
	switch {
	case p < 1 || p > 255:
		return bad("threads must be between 1 and 255")
	case m < 8*p:
		return bad("memory must be at least 8 KiB per thread")
	case m > maxArgon2MemoryKiB:
		return bad("memory must be at most " + u(maxArgon2MemoryKiB) + " KiB")
	case t < 1 || t > maxArgon2Iterations:
		return bad("iteration_amount must be between 1 and " + u(maxArgon2Iterations))
	case saltLen < 1 || saltLen > maxSaltLen:
		return bad("salt must be between 1 and " + u(maxSaltLen) + " bytes")
	case keyLen < minArgon2KeyLen || keyLen > maxKeyLen:
		return bad("key_length must be between " + u(minArgon2KeyLen) + " and " + u(maxKeyLen) + " bytes")
	}
	return nil
}

// parseScryptPHC parses $scrypt$ln=<log2 N>,r=<r>,p=<p>$salt$hash.
func parseScryptPHC(str string) (*stored, error) {
	f := strings.Split(str, "$")
	if len(f) != 5 || f[0] != "" || f[1] != "scrypt" {
		return nil, errf(TypeInvalidHash, "scrypt PHC string must read $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>")
	}
	v, ok := parseParams(f[2], "ln", "r", "p")
	if !ok {
		return nil, errf(TypeInvalidHash, "scrypt parameters must read ln=<log2 N>,r=<r>,p=<p>")
	}
	salt, okS := decodePHCB64(f[3])
	key, okK := decodePHCB64(f[4])
	if !okS || !okK {
		return nil, errf(TypeInvalidHash, "scrypt salt and hash must be base64")
	}
	if v[0] < 1 || v[0] > maxScryptLogN {
		return nil, errf(TypeInvalidScryptConfig, "N must be a power of two greater than 1 and less than 262145")
	}
	if err := checkScrypt(int(v[0]), v[1], v[2], len(salt), len(key)); err != nil {
		return nil, err
	}
	return &stored{kind: kindScrypt, salt: salt, key: key, logN: int(v[0]), r: int(v[1]), sp: int(v[2])}, nil
}

// checkScrypt validates scrypt parameters; N = 1<<logN, already in range.
func checkScrypt(logN int, r, p uint64, saltLen, keyLen int) *Error {
	bad := func(msg string) *Error { return errf(TypeInvalidScryptConfig, msg) }
	switch {
	case r < 1:
		return bad("r_parameter must be at least 1")
	case r > maxScryptMemBytes/128 || 128*(uint64(1)<<logN)*r > maxScryptMemBytes:
		return bad("128*N*r must be at most 1 GiB")
	case p < 1 || p > maxScryptP:
		return bad("p_parameter must be between 1 and " + u(maxScryptP))
	case saltLen < 1 || saltLen > maxSaltLen:
		return bad("salt must be between 1 and " + u(maxSaltLen) + " bytes")
	case keyLen < 1 || keyLen > maxKeyLen:
		return bad("key_length must be between 1 and " + u(maxKeyLen) + " bytes")
	}
	return nil
}

// parsePBKDF2PHC parses $pbkdf2-sha256$i=<iterations>$salt$hash (or sha512).
// passlib's form, with the bare iteration count and adapted base64, is
// accepted too.
func parsePBKDF2PHC(str string) (*stored, error) {
	f := strings.Split(str, "$")
	if len(f) != 5 || f[0] != "" {
		return nil, errf(TypeInvalidHash, "pbkdf2 PHC string must read $pbkdf2-sha256$i=<iterations>$<salt>$<hash>")
	}
	s := &stored{}
	switch f[1] {
	case "pbkdf2-sha256":
		s.kind = kindPBKDF2SHA256
	case "pbkdf2-sha512":
		s.kind = kindPBKDF2SHA512
	default:
		return nil, errf(TypeInvalidHash, "unsupported pbkdf2 variant "+strconv.Quote(f[1])+"; only pbkdf2-sha256 and pbkdf2-sha512")
	}
	iter, ok := parseUint(strings.TrimPrefix(f[2], "i="), maxPBKDF2Iter)
	if !ok || iter < 1 {
		return nil, errf(TypeInvalidPBKDF2Config, "iteration_amount must be between 1 and "+u(maxPBKDF2Iter))
	}
	var okS, okK bool
	s.salt, okS = decodePHCB64(f[3])
	s.key, okK = decodePHCB64(f[4])
	if !okS || !okK {
		return nil, errf(TypeInvalidHash, "pbkdf2 salt and hash must be base64")
	}
	if err := checkPBKDF2(len(s.salt), len(s.key)); err != nil {
		return nil, err
	}
	s.iter = int(iter)
	return s, nil
}

func checkPBKDF2(saltLen, keyLen int) *Error {
	switch {
	case saltLen < 1 || saltLen > maxSaltLen:
		return errf(TypeInvalidPBKDF2Config, "salt must be between 1 and "+u(maxSaltLen)+" bytes")
	case keyLen < 1 || keyLen > maxKeyLen:
		return errf(TypeInvalidPBKDF2Config, "key_length must be between 1 and "+u(maxKeyLen)+" bytes")
	}
	return nil
}

// parseDigest parses $latch-<alg>$<prepend b64>$<append b64>$<digest hex>.
func parseDigest(str string, k kind, prefix string) (*stored, error) {
	f := strings.Split(strings.TrimPrefix(str, prefix), "$")
	if len(f) != 3 {
		return nil, errf(TypeInvalidHash, "malformed "+strings.Trim(prefix, "$")+" hash")
	}
	pre, err1 := b64.DecodeString(f[0])
	app, err2 := b64.DecodeString(f[1])
	sum, err3 := hex.DecodeString(f[2])
	if err1 != nil || err2 != nil || err3 != nil || len(sum) != digestSize(k) ||
		strings.ContainsAny(f[0]+f[1], "\r\n") {
		return nil, errf(TypeInvalidHash, "malformed "+strings.Trim(prefix, "$")+" hash")
	}
	return &stored{kind: k, prepend: string(pre), append: string(app), key: sum}, nil
}

func digestSize(k kind) int {
	switch k {
	case kindMD5:
		return md5.Size
	case kindSHA1:
		return sha1.Size
	case kindSHA512:
		return sha512.Size
	}
	return 0
}

func digest(k kind, in string) []byte {
	switch k {
	case kindMD5:
		h := md5.Sum([]byte(in))
		return h[:]
	case kindSHA1:
		h := sha1.Sum([]byte(in))
		return h[:]
	case kindSHA512:
		h := sha512.Sum512([]byte(in))
		return h[:]
	}
	return nil
}

func scryptKey(password string, s *stored) []byte {
	k, err := scrypt.Key([]byte(password), s.salt, 1<<s.logN, s.r, s.sp, len(s.key))
	if err != nil {
		return nil
	}
	return k
}

func pbkdf2Key(password string, s *stored) []byte {
	var k []byte
	var err error
	if s.kind == kindPBKDF2SHA512 {
		k, err = pbkdf2.Key(sha512.New, password, s.salt, s.iter, len(s.key))
	} else {
		k, err = pbkdf2.Key(sha256.New, password, s.salt, s.iter, len(s.key))
	}
	if err != nil {
		return nil
	}
	return k
}

// log2 returns log2(n) when n is a power of two greater than 1, else -1.
func log2(n int) int {
	if n < 2 || n&(n-1) != 0 {
		return -1
	}
	return bits.TrailingZeros(uint(n))
}

package hashes

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Hash types of Stytch's passwords.migrate hash_type field.
const (
	HashTypeBcrypt   = "bcrypt"
	HashTypeMD5      = "md_5"
	HashTypeArgon2i  = "argon_2i"
	HashTypeArgon2id = "argon_2id"
	HashTypeSHA1     = "sha_1"
	HashTypeSHA512   = "sha_512"
	HashTypeScrypt   = "scrypt"
	HashTypePHPass   = "phpass"
	HashTypePBKDF2   = "pbkdf_2"
)

// MD5Config is passwords.migrate's md_5_config: the digest is
// md5(prepend_salt + password + append_salt).
type MD5Config struct {
	PrependSalt string `json:"prepend_salt"`
	AppendSalt  string `json:"append_salt"`
}

// SHA1Config is passwords.migrate's sha_1_config.
type SHA1Config struct {
	PrependSalt string `json:"prepend_salt"`
	AppendSalt  string `json:"append_salt"`
}

// SHA512Config is passwords.migrate's sha_512_config.
type SHA512Config struct {
	PrependSalt string `json:"prepend_salt"`
	AppendSalt  string `json:"append_salt"`
}

// Argon2Config is passwords.migrate's argon_2_config, needed when hash is the
// bare base64 key rather than a PHC string. Salt is taken as the raw bytes of
// the string (Stytch documents it only as "the salt value", unlike the scrypt
// and pbkdf2 salts); Memory is in KiB.
type Argon2Config struct {
	Salt            string `json:"salt"`
	IterationAmount int    `json:"iteration_amount"`
	Memory          int    `json:"memory"`
	Threads         int    `json:"threads"`
	KeyLength       int    `json:"key_length"`
}

// ScryptConfig is passwords.migrate's scrypt_config, needed when hash is not
// a $scrypt$ PHC string. Salt is base64, as Stytch's API reference requires
// ("The salt value, which should be in a base64 encoded string form").
type ScryptConfig struct {
	Salt      string `json:"salt"`
	N         int    `json:"n_parameter"`
	R         int    `json:"r_parameter"`
	P         int    `json:"p_parameter"`
	KeyLength int    `json:"key_length"`
}

// PBKDF2Config is passwords.migrate's pbkdf_2_config. Salt is base64, as
// Stytch's API reference requires; Algorithm is "sha256" (the default when
// empty) or "sha512".
type PBKDF2Config struct {
	Salt            string `json:"salt"`
	IterationAmount int    `json:"iteration_amount"`
	KeyLength       int    `json:"key_length"`
	Algorithm       string `json:"algorithm"`
}

// Migration is the hash part of a passwords.migrate request.
type Migration struct {
	HashType string        `json:"hash_type"`
	Hash     string        `json:"hash"`
	MD5      *MD5Config    `json:"md_5_config,omitempty"`
	SHA1     *SHA1Config   `json:"sha_1_config,omitempty"`
	SHA512   *SHA512Config `json:"sha_512_config,omitempty"`
	Argon2   *Argon2Config `json:"argon_2_config,omitempty"`
	Scrypt   *ScryptConfig `json:"scrypt_config,omitempty"`
	PBKDF2   *PBKDF2Config `json:"pbkdf_2_config,omitempty"`
}

// Normalize validates a migration and returns the canonical stored form of
// its hash, which Hasher.Verify accepts:
//
//	bcrypt     the $2a$/$2b$/$2y$ string as given
//	phpass     the $P$/$H$ string as given
//	argon_2i   $argon2i$v=19$m=..,t=..,p=..$<salt>$<hash>
//	argon_2id  $argon2id$v=19$m=..,t=..,p=..$<salt>$<hash>
//	scrypt     $scrypt$ln=<log2 N>,r=..,p=..$<salt>$<hash>
//	pbkdf_2    $pbkdf2-sha256$i=<iterations>$<salt>$<hash> (or pbkdf2-sha512)
//	md_5       $latch-md5$<prepend_salt>$<append_salt>$<digest hex>
//	sha_1      $latch-sha1$<prepend_salt>$<append_salt>$<digest hex>
//	sha_512    $latch-sha512$<prepend_salt>$<append_salt>$<digest hex>
//
// Salts, hashes and the prepend/append salts are unpadded standard base64
// except where hex is written. Errors are *Error values.
//
// Normalize does not know a Hasher's memory budget: callers holding one
// should use Hasher.Normalize, which also refuses hashes too costly to verify.
func Normalize(m Migration) (string, error) {
	s, err := normalize(m)
	if err != nil {
		return "", err
	}
	return s.encode(), nil
}

func normalize(m Migration) (*stored, error) {
	h := strings.TrimSpace(m.Hash)
	if h == "" {
		return nil, errf(TypeInvalidHash, "hash is required")
	}
	var s *stored
	var err error
	switch m.HashType {
	case HashTypeBcrypt:
		s, err = parseBcrypt(h)
	case HashTypePHPass:
		s, err = parsePHPass(h)
	case HashTypeMD5:
		var c MD5Config
		if m.MD5 != nil {
			c = *m.MD5
		}
		s, err = normalizeDigest(kindMD5, h, c.PrependSalt, c.AppendSalt, TypeInvalidMD5Hash)
	case HashTypeSHA1:
		var c SHA1Config
		if m.SHA1 != nil {
			c = *m.SHA1
		}
		s, err = normalizeDigest(kindSHA1, h, c.PrependSalt, c.AppendSalt, TypeInvalidSHA1Hash)
	case HashTypeSHA512:
		var c SHA512Config
		if m.SHA512 != nil {
			c = *m.SHA512
		}
		s, err = normalizeDigest(kindSHA512, h, c.PrependSalt, c.AppendSalt, TypeInvalidSHA512Hash)
	case HashTypeArgon2i, HashTypeArgon2id:
		s, err = normalizeArgon2(m.HashType, h, m.Argon2)
	case HashTypeScrypt:
		s, err = normalizeScrypt(h, m.Scrypt)
	case HashTypePBKDF2:
		s, err = normalizePBKDF2(h, m.PBKDF2)
	default:
		return nil, errf(TypeInvalidHashType, "hash_type must be one of bcrypt, md_5, argon_2i, argon_2id, sha_1, sha_512, scrypt, phpass, pbkdf_2")
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// decodeAnyB64 decodes standard or URL-safe base64, padded or not.
func decodeAnyB64(s string) ([]byte, bool) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, false
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

// decodeKey decodes a hash given as base64 (any variant) or hex, choosing the
// reading whose length is want. It reports whether any reading succeeded at
// all, so callers can tell a length mismatch from garbage.
func decodeKey(s string, want int) (key []byte, decoded bool) {
	if b, ok := decodeAnyB64(s); ok {
		if len(b) == want {
			return b, true
		}
		decoded = true
	}
	if b, err := hex.DecodeString(s); err == nil {
		if len(b) == want {
			return b, true
		}
		decoded = true
	}
	return nil, decoded
}

func normalizeDigest(k kind, h, prepend, appendSalt, errType string) (*stored, error) {
	sum, _ := decodeKey(h, digestSize(k))
	if sum == nil {
		return nil, errf(errType, "hash must be the hex or base64 encoding of a "+u(uint64(digestSize(k)))+"-byte digest")
	}
	return &stored{kind: k, prepend: prepend, append: appendSalt, key: sum}, nil
}

func normalizeArgon2(hashType, h string, c *Argon2Config) (*stored, error) {
	want := kindArgon2id
	if hashType == HashTypeArgon2i {
		want = kindArgon2i
	}
	if strings.HasPrefix(h, "$") {
		// A PHC string carries its own parameters; any config is ignored.
		s, err := parseArgon2PHC(h)
		if err != nil {
			return nil, err
		}
		if s.kind != want {
			return nil, errf(TypeInvalidHash, "hash_type "+hashType+" does not match the hash's argon2 variant")
		}
		return s, nil
	}
	if c == nil {
		return nil, errf(TypeInvalidArgon2Config, "argon_2_config is required unless hash is a PHC string")
	}
	if c.KeyLength < 0 || c.Memory < 0 || c.IterationAmount < 0 || c.Threads < 0 {
		return nil, errf(TypeInvalidArgon2Config, "argon_2_config values must not be negative")
	}
	if c.KeyLength == 0 {
		return nil, errf(TypeInvalidArgon2Config, "key_length is required")
	}
	if err := checkArgon2(uint64(c.Memory), uint64(c.IterationAmount), uint64(c.Threads), len(c.Salt), c.KeyLength); err != nil {
		return nil, err
	}
	key, decoded := decodeKey(h, c.KeyLength)
	if key == nil {
		if decoded {
			return nil, errf(TypeArgon2KeyLengthMismatch, "key_length does not match the length of the decoded hash")
		}
		return nil, errf(TypeInvalidHash, "argon2 hash must be a PHC string or a base64 key")
	}
	return &stored{kind: want, salt: []byte(c.Salt), key: key,
		m: uint32(c.Memory), t: uint32(c.IterationAmount), p: uint8(c.Threads)}, nil
}

func normalizeScrypt(h string, c *ScryptConfig) (*stored, error) {
	if strings.HasPrefix(h, "$") {
		return parseScryptPHC(h)
	}
	if c == nil {
		return nil, errf(TypeInvalidScryptConfig, "scrypt_config is required unless hash is a PHC string")
	}
	logN := log2(c.N)
	if logN < 1 || logN > maxScryptLogN {
		return nil, errf(TypeInvalidScryptConfig, "n_parameter must be a power of two greater than 1 and less than 262145")
	}
	if c.R < 0 || c.P < 0 || c.KeyLength < 0 {
		return nil, errf(TypeInvalidScryptConfig, "scrypt_config values must not be negative")
	}
	salt, ok := decodeAnyB64(c.Salt)
	if !ok {
		return nil, errf(TypeInvalidScryptConfig, "salt must be base64")
	}
	if err := checkScrypt(logN, uint64(c.R), uint64(c.P), len(salt), c.KeyLength); err != nil {
		return nil, err
	}
	key, decoded := decodeKey(h, c.KeyLength)
	if key == nil {
		if decoded {
			return nil, errf(TypeInvalidScryptConfig, "key_length does not match the length of the decoded hash")
		}
		return nil, errf(TypeInvalidHash, "scrypt hash must be a PHC string, base64 or hex")
	}
	return &stored{kind: kindScrypt, salt: salt, key: key, logN: logN, r: c.R, sp: c.P}, nil
}

func normalizePBKDF2(h string, c *PBKDF2Config) (*stored, error) {
	if strings.HasPrefix(h, "$") {
		return parsePBKDF2PHC(h)
	}
	if c == nil {
		return nil, errf(TypeInvalidPBKDF2Config, "pbkdf_2_config is required")
	}
	s := &stored{}
	switch strings.ToLower(c.Algorithm) {
	case "", "sha256":
		s.kind = kindPBKDF2SHA256
	case "sha512":
		s.kind = kindPBKDF2SHA512
	default:
		return nil, errf(TypeInvalidPBKDF2Config, `algorithm must be "sha256" or "sha512"`)
	}
	if c.IterationAmount < 1 || c.IterationAmount > maxPBKDF2Iter {
		return nil, errf(TypeInvalidPBKDF2Config, "iteration_amount must be between 1 and "+u(maxPBKDF2Iter))
	}
	if c.KeyLength < 0 {
		return nil, errf(TypeInvalidPBKDF2Config, "key_length must not be negative")
	}
	salt, ok := decodeAnyB64(c.Salt)
	if !ok {
		return nil, errf(TypeInvalidPBKDF2Config, "salt must be base64")
	}
	if err := checkPBKDF2(len(salt), c.KeyLength); err != nil {
		return nil, err
	}
	key, decoded := decodeKey(h, c.KeyLength)
	if key == nil {
		if decoded {
			return nil, errf(TypeInvalidPBKDF2Config, "key_length does not match the length of the decoded hash")
		}
		return nil, errf(TypeInvalidHash, "pbkdf2 hash must be base64 or hex")
	}
	s.salt, s.key, s.iter = salt, key, c.IterationAmount
	return s, nil
}

package hashes

import (
	"crypto/md5"
	"crypto/subtle"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// itoa64 is the alphabet of bcrypt's and phpass's base64 variants (bcrypt
// orders it differently, but the set of characters is the same).
const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func allItoa64(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(itoa64, s[i]) < 0 {
			return false
		}
	}
	return true
}

// parseBcrypt accepts $2a$, $2b$ and $2y$ modular-crypt bcrypt hashes:
const maxBcryptCost = 16

// $2b$<cost 04..16>$<22 chars salt><31 chars hash>, 60 characters in all.
func parseBcrypt(s string) (*stored, error) {
	bad := errf(TypeInvalidBcryptHash, "bcrypt hash must be a 60-character $2a$, $2b$ or $2y$ modular crypt string")
	if len(s) != 60 || s[0] != '$' || s[1] != '2' || s[3] != '$' || s[6] != '$' {
		return nil, bad
	}
	if s[2] != 'a' && s[2] != 'b' && s[2] != 'y' {
		return nil, bad
	}
	if s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' {
		return nil, bad
	}
	// Above 16 one verification costs seconds to days of CPU: a hash like
	// that is an attack on the server, not a password to keep.
	if cost := int(s[4]-'0')*10 + int(s[5]-'0'); cost < bcrypt.MinCost || cost > maxBcryptCost {
		return nil, errf(TypeInvalidBcryptHash, "bcrypt cost must be between 04 and 16")
	}
	if !allItoa64(s[7:]) {
		return nil, bad
	}
	return &stored{kind: kindBcrypt, raw: s}, nil
}

// bcryptVerify checks password against a parsed bcrypt hash. bcrypt reads at
// most 72 bytes of password: longer ones are truncated, exactly as the
// OpenBSD, PHP and other implementations that made the hash did.
func bcryptVerify(hash, password string) bool {
	pw := []byte(password)
	if len(pw) > 72 {
		pw = pw[:72]
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), pw) == nil
}

// phpassMaxPassword is the longest password phpass checks (Openwall's
// PasswordHash.php refuses longer ones); it bounds the md5 work per check.
const phpassMaxPassword = 4096

// parsePHPass accepts phpass portable hashes: $P$ (WordPress, Openwall) or $H$
// (phpBB3), then one itoa64 character giving log2 of the iteration count
// (7..30), 8 characters of salt and 22 of hash.
func parsePHPass(s string) (*stored, error) {
	if len(s) != 34 || (!strings.HasPrefix(s, "$P$") && !strings.HasPrefix(s, "$H$")) || !allItoa64(s[3:]) {
		return nil, errf(TypeInvalidPHPassHash, "phpass hash must be a 34-character $P$ or $H$ portable hash")
	}
	if n := strings.IndexByte(itoa64, s[3]); n < 7 || n > 30 {
		return nil, errf(TypeInvalidPHPassHash, "phpass iteration count must be between 2^7 and 2^30")
	}
	return &stored{kind: kindPHPass, raw: s}, nil
}

// phpassVerify recomputes a parsed phpass hash. The algorithm (Openwall
// phpass 0.3, crypt_private): x = md5(salt . password), then 2^n times
// x = md5(x . password); the result is the first 12 characters of the stored
// string followed by x in phpass's base64.
func phpassVerify(hash, password string) bool {
	if len(password) > phpassMaxPassword {
		return false
	}
	count := 1 << strings.IndexByte(itoa64, hash[3])
	pw := []byte(password)
	buf := make([]byte, 0, md5.Size+len(pw))
	sum := md5.Sum(append([]byte(hash[4:12]), pw...))
	for range count {
		buf = append(append(buf[:0], sum[:]...), pw...)
		sum = md5.Sum(buf)
	}
	got := hash[:12] + phpassEncode64(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(hash)) == 1
}

// phpassEncode64 is phpass's encode64: little-endian groups of three bytes,
// six bits at a time, least significant first.
func phpassEncode64(in []byte) string {
	var out strings.Builder
	for i := 0; i < len(in); i += 3 {
		v := uint(in[i])
		n := 2 // characters for this group
		if i+1 < len(in) {
			v |= uint(in[i+1]) << 8
			n = 3
		}
		if i+2 < len(in) {
			v |= uint(in[i+2]) << 16
			n = 4
		}
		for j := 0; j < n; j++ {
			out.WriteByte(itoa64[v&0x3f])
			v >>= 6
		}
	}
	return out.String()
}

package hashes

import (
	"context"
	"testing"
)

// cheap reports whether verifying s costs little enough to run on every fuzz
// input (the parser's bounds still allow hashes that take seconds).
func cheap(s *stored) bool {
	switch s.kind {
	case kindArgon2id, kindArgon2i:
		return uint64(s.m)*uint64(s.t) <= 1<<12
	case kindScrypt:
		return (1<<s.logN)*s.r*s.sp <= 1<<14
	case kindPBKDF2SHA256, kindPBKDF2SHA512:
		return s.iter <= 1<<12
	case kindBcrypt:
		return s.raw[4] == '0' && s.raw[5] <= '6'
	case kindPHPass:
		return s.raw[3] <= '9' // 2^11 rounds at most
	}
	return true
}

// FuzzVerify feeds arbitrary stored strings to the parser and, when they parse
// and are cheap, to Verify: none may panic, and every parsed hash must
// re-encode to a string that parses to the same canonical form.
func FuzzVerify(f *testing.F) {
	for _, v := range vectors {
		f.Add(v.m.Hash, v.password)
		if s, err := Normalize(v.m); err == nil {
			f.Add(s, v.password)
		}
	}
	for _, s := range []string{
		"", "$", "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$c29tZXNhbHQ", "$argon2i$v=19$m=8,t=1,p=1$YQ$YWFhYQ",
		"$2y$04$" + "......................" + "...............................",
		"$P$7........aaaaaaaaaaaaaaaaaaaaaa", "$H$9", "$latch-md5$$$", "$latch-sha512$YQ$Yg$00",
		"$scrypt$ln=1,r=1,p=1$YQ$YQ", "$pbkdf2-sha512$i=1$YQ$YQ", "$pbkdf2-sha256$1$Y.$Y.",
	} {
		f.Add(s, "pw")
	}
	h := newHasher(f, testParams, 1)
	f.Fuzz(func(t *testing.T, in, password string) {
		s, err := parseStored(in)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("parseStored(%q) error %T, want *Error", in, err)
			}
			return
		}
		enc := s.encode()
		s2, err := parseStored(enc)
		if err != nil {
			t.Fatalf("parseStored(%q) ok but its encoding %q fails: %v", in, enc, err)
		}
		if enc2 := s2.encode(); enc2 != enc {
			t.Fatalf("encoding not stable: %q -> %q -> %q", in, enc, enc2)
		}
		if !cheap(s) {
			return
		}
		ok, _, err := h.Verify(context.Background(), in, password)
		if err != nil {
			t.Fatalf("Verify(%q): parse succeeded but Verify errs: %v", in, err)
		}
		ok2, _, _ := h.Verify(context.Background(), enc, password)
		if ok != ok2 {
			t.Fatalf("Verify(%q) = %v but Verify(canonical %q) = %v", in, ok, enc, ok2)
		}
	})
}

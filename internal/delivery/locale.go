package delivery

import (
	"fmt"
	"strings"
	"time"

	"github.com/latchhq/latch/internal/apierr"
)

// Locales the SDK's types list for each kind of delivery, in their order.
// Email methods (magic links, email OTP, password reset) list four; SMS and
// WhatsApp list sixteen. "" means English.
var (
	EmailLocales = []string{"en", "es", "pt-br", "fr"}
	TextLocales  = []string{"en", "es", "pt-br", "fr", "it", "de-DE", "zh-Hans", "ca-ES", "ja", "ru", "nl", "pl", "tr", "fa", "vi", "cs"}
)

// EmailLocale reports whether locale is one an email can be sent in.
// BCP 47 tags are case-insensitive, so "pt-BR" is "pt-br".
func EmailLocale(locale string) bool {
	_, ok := emailCopy[key(locale)]
	return ok
}

// TextLocale reports whether locale is one an SMS or WhatsApp message can
// be sent in.
func TextLocale(locale string) bool {
	_, ok := textCopy[key(locale)]
	return ok
}

// CheckEmailLocale is EmailLocale as an API error naming the accepted list.
func CheckEmailLocale(locale string) error {
	if !EmailLocale(locale) {
		return apierr.InvalidLocale.Withf("locale must be one of %s.", strings.Join(EmailLocales, ", "))
	}
	return nil
}

// CheckTextLocale is TextLocale as an API error naming the accepted list.
func CheckTextLocale(locale string) error {
	if !TextLocale(locale) {
		return apierr.InvalidLocale.Withf("locale must be one of %s.", strings.Join(TextLocales, ", "))
	}
	return nil
}

// key is the table key of locale: lower case, and English when empty.
func key(locale string) string {
	if locale == "" {
		return "en"
	}
	return strings.ToLower(locale)
}

// emailFor returns the copy of a supported locale, else English.
func emailFor(locale string) emailLang {
	if c, ok := emailCopy[key(locale)]; ok {
		return c
	}
	return emailCopy["en"]
}

func textFor(locale string) textLang {
	if c, ok := textCopy[key(locale)]; ok {
		return c
	}
	return textCopy["en"]
}

// units are the singular and plural of minute, hour and day in one language.
type units struct{ minute, minutes, hour, hours, day, days string }

// duration spells d in whole days, hours or minutes, the largest that
// divides it.
func (u units) duration(d time.Duration) string {
	pick := func(n int, one, many string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, one)
		}
		return fmt.Sprintf("%d %s", n, many)
	}
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return pick(int(d/(24*time.Hour)), u.day, u.days)
	case d >= time.Hour && d%time.Hour == 0:
		return pick(int(d/time.Hour), u.hour, u.hours)
	default:
		return pick(int(d/time.Minute), u.minute, u.minutes)
	}
}

// slavic is the plural rule of Russian and Polish for n minutes: one
// (1, 21, ...), few (2-4, 22-24, ...) or many (5-20, 25-30, ...).
func slavic(n int, one, few, many string) string {
	switch {
	case n%10 == 1 && n%100 != 11:
		return one
	case n%10 >= 2 && n%10 <= 4 && (n%100 < 12 || n%100 > 14):
		return few
	default:
		return many
	}
}

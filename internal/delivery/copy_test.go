package delivery

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// Every table has exactly the locales the SDK lists for its kind, so a
// language cannot be half translated.
func TestCopyTablesCoverTheSDKLocales(t *testing.T) {
	lower := func(list []string) []string {
		out := []string{}
		for _, l := range list {
			out = append(out, strings.ToLower(l))
		}
		slices.Sort(out)
		return out
	}
	email, text := lower(EmailLocales), lower(TextLocales)
	for name, got := range map[string][]string{
		"loginCopy":  slices.Sorted(maps.Keys(loginCopy)),
		"signupCopy": slices.Sorted(maps.Keys(signupCopy)),
		"inviteCopy": slices.Sorted(maps.Keys(inviteCopy)),
		"resetCopy":  slices.Sorted(maps.Keys(resetCopy)),
		"otpEmail":   slices.Sorted(maps.Keys(otpEmail)),
		"emailCopy":  slices.Sorted(maps.Keys(emailCopy)),
	} {
		if !slices.Equal(got, email) {
			t.Errorf("%s has %v, want %v", name, got, email)
		}
	}
	if got := slices.Sorted(maps.Keys(textCopy)); !slices.Equal(got, text) {
		t.Errorf("textCopy has %v, want %v", got, text)
	}
}

// Every row renders without a formatting error, names the project and,
// outside English, differs from the English copy.
func TestEveryLocaleRenders(t *testing.T) {
	bad := func(s string) bool { return strings.Contains(s, "%!") || strings.Contains(s, "<no value>") }
	en := map[EmailKind]Rendered{}
	for _, loc := range EmailLocales {
		for _, kind := range []EmailKind{KindLogin, KindSignup, KindInvite, KindResetPassword} {
			r, err := RenderEmail(kind, EmailData{ProjectName: "Acme", Link: "https://latch.test/l?token=t", Expires: time.Hour, Locale: loc})
			if err != nil {
				t.Fatalf("%s %s: %v", loc, kind, err)
			}
			if bad(r.Subject+r.Text+r.HTML) || !strings.Contains(r.Subject, "Acme") || !strings.Contains(r.Text, "https://latch.test/l?token=t") {
				t.Errorf("%s %s: %+v", loc, kind, r)
			}
			if loc == "en" {
				en[kind] = r
			} else if r.Subject == en[kind].Subject || r.Text == en[kind].Text {
				t.Errorf("%s %s is the English copy: %q", loc, kind, r.Subject)
			}
		}
		r := RenderOTPEmail(loc, "Acme", "123456", 2*time.Minute)
		if bad(r.Subject+r.Text+r.HTML) || !strings.Contains(r.Text, "123456") || !strings.Contains(r.HTML, "123456") {
			t.Errorf("%s otp email: %+v", loc, r)
		}
	}
	seen := map[string]string{}
	for _, loc := range TextLocales {
		for n := 1; n <= 10; n++ {
			s := TextOTP(loc, "Acme", "123456", time.Duration(n)*time.Minute)
			if bad(s) || !strings.Contains(s, "Acme") || !strings.Contains(s, "123456") {
				t.Errorf("%s %d min: %q", loc, n, s)
			}
		}
		s := TextOTP(loc, "Acme", "123456", 2*time.Minute)
		if other, dup := seen[s]; dup {
			t.Errorf("%s and %s send the same text %q", loc, other, s)
		}
		seen[s] = loc
	}
}

func TestLocalizedCopy(t *testing.T) {
	link := "https://latch.test/v1/magic_links/redirect?token=t"
	es, err := RenderEmail(KindLogin, EmailData{ProjectName: "Acme", Link: link, Expires: 5 * time.Minute, Locale: "es"})
	if err != nil {
		t.Fatal(err)
	}
	if es.Subject != "Tu enlace para iniciar sesión en Acme" ||
		es.Text != "Inicia sesión en Acme\n\nHaz clic en el enlace de abajo para iniciar sesión. El enlace caduca en 5 minutos.\n\n"+link+"\n\nSi no pediste iniciar sesión, puedes ignorar este correo.\n" ||
		!strings.Contains(es.HTML, `<html lang="es">`) || !strings.Contains(es.HTML, ">Iniciar sesión</a>") {
		t.Errorf("Spanish login email: %q\n%q\n%s", es.Subject, es.Text, es.HTML)
	}
	// English stays as it was; BCP 47 tags match in any case.
	if r, _ := RenderEmail(KindSignup, EmailData{ProjectName: "Acme", Expires: 7 * 24 * time.Hour}); r.Subject != "Finish signing up for Acme" || !strings.Contains(r.Text, "It expires in 7 days.") {
		t.Errorf("English signup: %q %q", r.Subject, r.Text)
	}
	if r, _ := RenderEmail(KindResetPassword, EmailData{ProjectName: "Acme", Expires: time.Hour, Locale: "PT-BR"}); r.Subject != "Redefina sua senha de Acme" || !strings.Contains(r.Text, "O link expira em 1 hora.") {
		t.Errorf("pt-BR reset: %q %q", r.Subject, r.Text)
	}
	if r := RenderOTPEmail("fr", "", "654321", 10*time.Minute); r.Subject != "Votre code de vérification pour votre application" ||
		r.Text != "Votre code de vérification pour votre application est 654321.\n\nLe code expire dans 10 minutes. Si vous ne l'avez pas demandé, vous pouvez ignorer cet e-mail.\n" {
		t.Errorf("French OTP email: %q %q", r.Subject, r.Text)
	}
	for _, tc := range []struct {
		locale string
		min    int
		want   string
	}{
		{"", 2, "Your Acme verification code is 123456. It expires in 2 minutes."},
		{"en", 1, "Your Acme verification code is 123456. It expires in 1 minute."},
		{"xx", 2, "Your Acme verification code is 123456. It expires in 2 minutes."}, // callers refuse it first
		{"ja", 2, "Acmeの認証コードは123456です。有効期限は2分です。"},
		{"zh-Hans", 5, "您的Acme验证码是123456，5分钟内有效。"},
		{"de-DE", 1, "Ihr Bestätigungscode für Acme lautet 123456. Er ist 1 Minute gültig."},
		{"ru", 1, "Ваш код подтверждения для Acme: 123456. Он действует 1 минуту."},
		{"ru", 3, "Ваш код подтверждения для Acme: 123456. Он действует 3 минуты."},
		{"ru", 5, "Ваш код подтверждения для Acme: 123456. Он действует 5 минут."},
		{"pl", 1, "Twój kod weryfikacyjny do Acme to 123456. Wygasa za 1 minutę."},
		{"pl", 4, "Twój kod weryfikacyjny do Acme to 123456. Wygasa za 4 minuty."},
		{"pl", 10, "Twój kod weryfikacyjny do Acme to 123456. Wygasa za 10 minut."},
		{"cs", 2, "Váš ověřovací kód pro Acme je 123456. Platnost vyprší za 2 minuty."},
		{"cs", 5, "Váš ověřovací kód pro Acme je 123456. Platnost vyprší za 5 minut."},
		{"tr", 2, "Acme doğrulama kodunuz: 123456. Kodun süresi 2 dakika içinde dolar."},
	} {
		if got := TextOTP(tc.locale, "Acme", "123456", time.Duration(tc.min)*time.Minute); got != tc.want {
			t.Errorf("TextOTP(%q, %d min) = %q, want %q", tc.locale, tc.min, got, tc.want)
		}
	}
	if !TextLocale("ja") || !TextLocale("zh-hans") || EmailLocale("ja") || !EmailLocale("") || TextLocale("de") {
		t.Error("locale lists")
	}
}

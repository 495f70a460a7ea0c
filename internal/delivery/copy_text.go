package delivery

import "fmt"

// textLang is the SMS and WhatsApp passcode message in one language. body
// takes the project name, the code and how long it lasts; codes live 1 to
// 10 minutes, so minutes is the only unit a message needs.
type textLang struct {
	body    string
	app     string // stands in for an empty project name
	minutes func(n int) string
}

// forms is a plural rule that only tells one from many.
func forms(one, many string) func(int) string {
	return func(n int) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, one)
		}
		return fmt.Sprintf("%d %s", n, many)
	}
}

// invariant is for languages that do not inflect a noun after a number.
func invariant(unit string) func(int) string {
	return func(n int) string { return fmt.Sprintf("%d%s", n, unit) }
}

// One table, keyed by lower-cased locale; every locale in TextLocales has a
// row (a test checks).
var textCopy = map[string]textLang{
	"en":      {"Your %[1]s verification code is %[2]s. It expires in %[3]s.", "your app", forms("minute", "minutes")},
	"es":      {"Tu código de verificación de %[1]s es %[2]s. Caduca en %[3]s.", "tu aplicación", forms("minuto", "minutos")},
	"pt-br":   {"Seu código de verificação para %[1]s é %[2]s. Expira em %[3]s.", "seu app", forms("minuto", "minutos")},
	"fr":      {"Votre code de vérification pour %[1]s est %[2]s. Il expire dans %[3]s.", "votre application", forms("minute", "minutes")},
	"it":      {"Il tuo codice di verifica per %[1]s è %[2]s. Scade tra %[3]s.", "la tua app", forms("minuto", "minuti")},
	"de-de":   {"Ihr Bestätigungscode für %[1]s lautet %[2]s. Er ist %[3]s gültig.", "Ihre App", forms("Minute", "Minuten")},
	"zh-hans": {"您的%[1]s验证码是%[2]s，%[3]s内有效。", "应用", invariant("分钟")},
	"ca-es":   {"El teu codi de verificació per a %[1]s és %[2]s. Caduca d'aquí a %[3]s.", "la teva aplicació", forms("minut", "minuts")},
	"ja":      {"%[1]sの認証コードは%[2]sです。有効期限は%[3]sです。", "アプリ", invariant("分")},
	// Accusative after "действует": 1 минуту, 2 минуты, 5 минут.
	"ru": {"Ваш код подтверждения для %[1]s: %[2]s. Он действует %[3]s.", "приложения", func(n int) string {
		return fmt.Sprintf("%d %s", n, slavic(n, "минуту", "минуты", "минут"))
	}},
	"nl": {"Je verificatiecode voor %[1]s is %[2]s. Deze verloopt over %[3]s.", "je app", forms("minuut", "minuten")},
	// Accusative after "za": 1 minutę, 2 minuty, 5 minut.
	"pl": {"Twój kod weryfikacyjny do %[1]s to %[2]s. Wygasa za %[3]s.", "aplikacji", func(n int) string {
		if n == 1 {
			return "1 minutę"
		}
		return fmt.Sprintf("%d %s", n, slavic(n, "minut", "minuty", "minut"))
	}},
	"tr": {"%[1]s doğrulama kodunuz: %[2]s. Kodun süresi %[3]s içinde dolar.", "Uygulama", invariant(" dakika")},
	"fa": {"کد تأیید %[1]s شما: %[2]s. این کد تا %[3]s دیگر معتبر است.", "برنامه", invariant(" دقیقه")},
	"vi": {"Mã xác minh %[1]s của bạn là %[2]s. Mã sẽ hết hạn sau %[3]s.", "ứng dụng", invariant(" phút")},
	// Accusative after "za": 1 minutu, 2 minuty, 5 minut.
	"cs": {"Váš ověřovací kód pro %[1]s je %[2]s. Platnost vyprší za %[3]s.", "aplikaci", func(n int) string {
		switch {
		case n == 1:
			return "1 minutu"
		case n >= 2 && n <= 4:
			return fmt.Sprintf("%d minuty", n)
		}
		return fmt.Sprintf("%d minut", n)
	}},
}

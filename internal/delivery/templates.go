package delivery

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	texttemplate "text/template"
	"time"
)

//go:embed templates/*
var templateFS embed.FS

var (
	textTemplates = texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/*.txt"))
	htmlTemplates = htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/*.html"))
)

// EmailKind names a built-in email template.
type EmailKind string

const (
	KindLogin  EmailKind = "login"
	KindSignup EmailKind = "signup"
	KindInvite EmailKind = "invite"
	// KindResetPassword is the password reset email.
	KindResetPassword EmailKind = "reset_password"
	// KindOTP is the email carrying a one-time passcode.
	KindOTP EmailKind = "otp"
)

var linkCopies = map[EmailKind]map[string]linkCopy{
	KindLogin: loginCopy, KindSignup: signupCopy, KindInvite: inviteCopy, KindResetPassword: resetCopy,
}

// EmailData fills a template.
type EmailData struct {
	ProjectName string
	Link        string
	Expires     time.Duration
	// Locale picks the language; "" or an unsupported one is English.
	Locale string
	// LoginLink, in a password reset email, is the "log in without a
	// password" magic link offered beside the reset link.
	LoginLink string
}

// Rendered is a finished email.
type Rendered struct{ Subject, Text, HTML string }

// HasTemplate reports whether id names a template usable for kind: empty
// (the default) or the built-in kind's own name.
func HasTemplate(kind EmailKind, id string) bool {
	return id == "" || id == string(kind)
}

// RenderEmail renders the built-in text and HTML bodies of kind.
func RenderEmail(kind EmailKind, d EmailData) (Rendered, error) {
	table, ok := linkCopies[kind]
	if !ok {
		return Rendered{}, fmt.Errorf("delivery: no template %q", kind)
	}
	lang := emailFor(d.Locale)
	c, ok := table[key(d.Locale)]
	if !ok {
		c = table["en"]
	}
	name := d.ProjectName
	if name == "" {
		name = lang.app
	}
	vars := map[string]string{
		"Lang":    lang.lang,
		"Link":    d.Link,
		"Subject": fmt.Sprintf(c.subject, name),
		"Heading": fmt.Sprintf(c.heading, name),
		"Intro":   c.intro,
		"Expires": fmt.Sprintf(lang.linkExp, lang.units.duration(d.Expires)),
		"Button":  c.button,
		"Paste":   lang.paste,
		"Footer":  c.footer,
	}
	if d.LoginLink != "" {
		vars["LoginLink"], vars["LoginButton"] = d.LoginLink, lang.passwordless
	}
	return render("link", vars)
}

// RenderOTPEmail renders the one-time passcode email in locale.
func RenderOTPEmail(locale, projectName, code string, expires time.Duration) Rendered {
	lang := emailFor(locale)
	c, ok := otpEmail[key(locale)]
	if !ok {
		c = otpEmail["en"]
	}
	if projectName == "" {
		projectName = lang.app
	}
	r, err := render("otp", map[string]string{
		"Lang":    lang.lang,
		"Code":    code,
		"Subject": fmt.Sprintf(c.subject, projectName),
		"Heading": fmt.Sprintf(c.heading, projectName),
		"Line":    fmt.Sprintf(c.line, projectName, code),
		"Expires": fmt.Sprintf(lang.codeExp, lang.units.duration(expires)),
		"Footer":  c.footer,
	})
	if err != nil {
		panic(err) // the embedded templates take only strings, so cannot fail
	}
	return r
}

// render runs name.txt and name.html, the HTML escaping every value.
func render(name string, vars map[string]string) (Rendered, error) {
	var text, html bytes.Buffer
	if err := textTemplates.ExecuteTemplate(&text, name+".txt", vars); err != nil {
		return Rendered{}, err
	}
	if err := htmlTemplates.ExecuteTemplate(&html, name+".html", vars); err != nil {
		return Rendered{}, err
	}
	return Rendered{Subject: vars["Subject"], Text: text.String(), HTML: html.String()}, nil
}

// TextOTP is the SMS or WhatsApp body carrying a one-time passcode, in
// locale.
func TextOTP(locale, projectName, code string, expires time.Duration) string {
	c := textFor(locale)
	if projectName == "" {
		projectName = c.app
	}
	return fmt.Sprintf(c.body, projectName, code, c.minutes(int(expires/time.Minute)))
}

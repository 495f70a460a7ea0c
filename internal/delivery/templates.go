package delivery

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"
)

//go:embed templates/*
var templateFS embed.FS

var (
	textTemplates = texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/*.txt"))
	htmlLayout    = htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/layout.html"))
)

// EmailKind names a built-in email template.
type EmailKind string

const (
	KindLogin  EmailKind = "login"
	KindSignup EmailKind = "signup"
	KindInvite EmailKind = "invite"
	// KindResetPassword is the password reset email.
	KindResetPassword EmailKind = "reset_password"
)

type copyText struct{ subject, heading, intro, button, footer string }

var copies = map[EmailKind]copyText{
	KindLogin:         {"Your login link for %s", "Log in to %s", "Click the button below to log in.", "Log in", "If you did not ask to log in, you can ignore this email."},
	KindSignup:        {"Finish signing up for %s", "Welcome to %s", "Click the button below to finish creating your account.", "Finish sign up", "If you did not ask to sign up, you can ignore this email."},
	KindResetPassword: {"Reset your %s password", "Reset your password for %s", "Click the button below to choose a new password.", "Reset password", "If you did not ask to reset your password, you can ignore this email."},
	KindInvite:        {"You're invited to %s", "You have been invited to %s", "Click the button below to accept the invitation.", "Accept invitation", "If you were not expecting this invitation, you can ignore this email."},
}

// EmailData fills a template.
type EmailData struct {
	ProjectName string
	Link        string
	Expires     time.Duration
	InviterName string
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
	c, ok := copies[kind]
	if !ok {
		return Rendered{}, fmt.Errorf("delivery: no template %q", kind)
	}
	name := d.ProjectName
	if name == "" {
		name = "your app"
	}
	vars := map[string]any{
		"ProjectName": name,
		"Link":        d.Link,
		"ExpiresIn":   humanDuration(d.Expires),
		"InviterName": d.InviterName,
		"Subject":     fmt.Sprintf(c.subject, name),
		"Heading":     fmt.Sprintf(c.heading, name),
		"Intro":       c.intro,
		"Button":      c.button,
		"Footer":      c.footer,
	}
	var text, html bytes.Buffer
	if err := textTemplates.ExecuteTemplate(&text, string(kind)+".txt", vars); err != nil {
		return Rendered{}, err
	}
	// html/template escapes the link in attribute and text context.
	if err := htmlLayout.ExecuteTemplate(&html, "layout.html", vars); err != nil {
		return Rendered{}, err
	}
	return Rendered{Subject: vars["Subject"].(string), Text: text.String(), HTML: html.String()}, nil
}

func humanDuration(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return plural(int(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	default:
		return plural(int(d/time.Minute), "minute")
	}
}

func plural(n int, unit string) string {
	s := fmt.Sprintf("%d %s", n, unit)
	if n != 1 {
		s += "s"
	}
	return strings.TrimSpace(s)
}

// KindOTP is the email carrying a one-time passcode.
const KindOTP EmailKind = "otp"

// RenderOTPEmail renders the one-time passcode email.
func RenderOTPEmail(projectName, code string, expires time.Duration) Rendered {
	if projectName == "" {
		projectName = "your app"
	}
	subject := fmt.Sprintf("Your verification code for %s", projectName)
	text := fmt.Sprintf("Your %s verification code is %s.\n\nIt expires in %s. If you did not ask for it, you can ignore this email.\n",
		projectName, code, humanDuration(expires))
	var html bytes.Buffer
	htmlOTP.Execute(&html, map[string]string{"Subject": subject, "Project": projectName, "Code": code, "ExpiresIn": humanDuration(expires)})
	return Rendered{Subject: subject, Text: text, HTML: html.String()}
}

// TextOTP is the SMS or WhatsApp body carrying a one-time passcode.
func TextOTP(projectName, code string, expires time.Duration) string {
	if projectName == "" {
		projectName = "your app"
	}
	return fmt.Sprintf("Your %s verification code is %s. It expires in %s.", projectName, code, humanDuration(expires))
}

var htmlOTP = htmltemplate.Must(htmltemplate.New("otp").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family:system-ui,-apple-system,Segoe UI,sans-serif;background:#f6f7f9;margin:0;padding:32px">
<table role="presentation" width="100%" style="max-width:520px;margin:0 auto;background:#fff;border-radius:8px;padding:32px"><tr><td>
<h1 style="font-size:20px;margin:0 0 16px">Your {{.Project}} verification code</h1>
<p style="font-size:32px;letter-spacing:6px;font-weight:600;margin:0 0 24px">{{.Code}}</p>
<p style="font-size:13px;color:#555;margin:0">It expires in {{.ExpiresIn}}. If you did not ask for it, you can ignore this email.</p>
</td></tr></table></body></html>`))

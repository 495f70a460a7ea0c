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
)

type copyText struct{ subject, heading, intro, button, footer string }

var copies = map[EmailKind]copyText{
	KindLogin:  {"Your login link for %s", "Log in to %s", "Click the button below to log in.", "Log in", "If you did not ask to log in, you can ignore this email."},
	KindSignup: {"Finish signing up for %s", "Welcome to %s", "Click the button below to finish creating your account.", "Finish sign up", "If you did not ask to sign up, you can ignore this email."},
	KindInvite: {"You're invited to %s", "You have been invited to %s", "Click the button below to accept the invitation.", "Accept invitation", "If you were not expecting this invitation, you can ignore this email."},
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

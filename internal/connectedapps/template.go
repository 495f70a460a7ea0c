package connectedapps

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/secrets"
)

// A claims template (access_token_template_content, id_token_template_content)
// is Stytch's custom-claim-template markup: a JSON object in which
// {{ user.<path> }} stands for a JSON value taken from the user object
// (users.get's shape, plus user.rbac.roles). Variables may only be values,
// never keys; a variable that resolves to nothing or null removes its key.

const maxTemplateBytes = 4096

var varPattern = regexp.MustCompile(`^user(\.[A-Za-z0-9_$-]+)+$`)

// parsedTemplate is a template with its variables replaced by placeholder
// strings, and the user path each placeholder stands for.
type parsedTemplate struct {
	doc   map[string]any
	paths map[string][]string
}

// parseTemplate checks a template; an empty one is nil.
func parseTemplate(src string) (*parsedTemplate, error) {
	if strings.TrimSpace(src) == "" {
		return nil, nil
	}
	if len(src) > maxTemplateBytes {
		return nil, apierr.JWTTemplateInvalidJSON.With("Claims templates may be at most 4096 bytes.")
	}
	nonce := secrets.Token(9)
	paths := map[string][]string{}
	var b strings.Builder
	rest := src
	for n := 0; ; n++ {
		// A "}}" outside a tag is only JSON closing two objects.
		open := strings.Index(rest, "{{")
		if open < 0 {
			b.WriteString(rest)
			break
		}
		end := strings.Index(rest[open+2:], "}}")
		if end < 0 {
			return nil, apierr.JWTTemplateMismatchedTag
		}
		inner := strings.TrimSpace(rest[open+2 : open+2+end])
		if strings.Contains(inner, "{{") {
			return nil, apierr.JWTTemplateMismatchedTag
		}
		if !varPattern.MatchString(inner) {
			return nil, apierr.JWTTemplateInvalidTag.Withf("%.64q is not a template variable; use {{ user.<field> }}.", inner)
		}
		ph := "__latch_var_" + nonce + "_" + strconv.Itoa(n) + "__"
		paths[ph] = strings.Split(inner, ".")[1:]
		b.WriteString(rest[:open])
		b.WriteString(`"` + ph + `"`)
		rest = rest[open+2+end+2:]
	}
	dec := json.NewDecoder(strings.NewReader(b.String()))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, apierr.JWTTemplateInvalidJSON
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, apierr.JWTTemplateInvalidJSON
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, apierr.JWTTemplateInvalidJSON.With("A claims template must be a JSON object.")
	}
	t := &parsedTemplate{doc: obj, paths: paths}
	// Every variable must have landed as a whole JSON value (a variable
	// used as a key is not found among the values).
	found := map[string]bool{}
	t.collect(obj, found)
	if len(found) != len(paths) {
		return nil, apierr.JWTTemplateInvalidTag.With("Template variables may only be used as JSON values, not as keys or inside strings.")
	}
	return t, nil
}

func (t *parsedTemplate) collect(v any, found map[string]bool) {
	switch x := v.(type) {
	case string:
		if _, ok := t.paths[x]; ok {
			found[x] = true
		}
	case map[string]any:
		for _, val := range x {
			t.collect(val, found)
		}
	case []any:
		for _, val := range x {
			t.collect(val, found)
		}
	}
}

// render fills the template from user (users.get's JSON plus rbac) and
// returns the claims object; nil template gives nil.
func (t *parsedTemplate) render(user map[string]any) map[string]any {
	if t == nil {
		return nil
	}
	out, _ := t.fill(t.doc, user).(map[string]any)
	return out
}

// fill copies v, resolving placeholders; a nil result means "drop".
func (t *parsedTemplate) fill(v any, user map[string]any) any {
	switch x := v.(type) {
	case string:
		if path, ok := t.paths[x]; ok {
			return lookup(user, path)
		}
		return x
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			if r := t.fill(val, user); r != nil {
				m[k] = r
			}
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, val := range x {
			a[i] = t.fill(val, user)
		}
		return a
	}
	return v
}

func lookup(v any, path []string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// userDoc is the value template variables read: the user as users.get
// shows it, plus rbac.roles.
func userDoc(user any, roles []string) map[string]any {
	b, _ := json.Marshal(user)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	m := map[string]any{}
	_ = dec.Decode(&m)
	r := make([]any, len(roles))
	for i, s := range roles {
		r[i] = s
	}
	m["rbac"] = map[string]any{"roles": r}
	return m
}

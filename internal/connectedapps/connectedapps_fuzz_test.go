package connectedapps

import (
	"encoding/json"
	"testing"

	"github.com/latchhq/latch/internal/apierr"
)

// FuzzParseTemplate: any template either fails with one of the template
// error types or renders to a JSON object, without panicking.
func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{`{"a": {{ user.user_id }}}`, `{"a": {"b": {{ user.trusted_metadata.x }}}}`, `{{`, `}}`, `{"a": "{{"}`,
		`{ {{ user.x }}: 1}`, `[{{ user.x }}]`, `{"a": [1, {{ user.rbac.roles }}]}`} {
		f.Add(s)
	}
	user := userDoc(map[string]any{"user_id": "user-test-1", "trusted_metadata": map[string]any{"x": []any{1, "y"}}}, []string{"stytch_user"})
	f.Fuzz(func(t *testing.T, src string) {
		tpl, err := parseTemplate(src)
		if err != nil {
			e, ok := apierr.As(err)
			if !ok || (e.Type != "jwt_template_invalid_json" && e.Type != "jwt_template_invalid_tag" && e.Type != "jwt_template_mismatched_tag") {
				t.Fatalf("parseTemplate(%q) = %v", src, err)
			}
			return
		}
		out := tpl.render(user)
		if tpl != nil && out == nil {
			t.Fatalf("render(%q) = nil", src)
		}
		if _, err := json.Marshal(out); err != nil {
			t.Fatalf("render(%q) does not marshal: %v", src, err)
		}
	})
}

// FuzzDecodeCursor: a cursor decodes only to a well-formed position and
// re-encodes to itself.
func FuzzDecodeCursor(f *testing.F) {
	f.Add("")
	f.Add("MTc0MjAwMDAwMDAwMDAwMDpjb25uZWN0ZWQtYXBwLXRlc3QtMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw")
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := decodeCursor(s)
		if !ok {
			return
		}
		if got := encodeCursor(*c); got != s {
			t.Fatalf("decodeCursor(%q) re-encodes to %q", s, got)
		}
	})
}

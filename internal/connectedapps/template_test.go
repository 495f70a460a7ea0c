package connectedapps

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/latchhq/latch/internal/apierr"
)

func TestTemplateRender(t *testing.T) {
	user := userDoc(map[string]any{
		"user_id":          "user-test-1",
		"trusted_metadata": map[string]any{"plan": map[string]any{"level": "gold", "seats": 3}, "flags": []any{"a", "b"}, "off": nil},
		"name":             map[string]any{"first_name": "Ada"},
	}, []string{"stytch_user", "admin"})
	for _, tc := range []struct {
		name, src, want string
	}{
		{"empty", "  ", "null"},
		{"literal", `{"a": 1, "b": [true, "x"]}`, `{"a":1,"b":[true,"x"]}`},
		{"values", `{"id": {{ user.user_id }}, "level": {{user.trusted_metadata.plan.level}}, "seats": {{ user.trusted_metadata.plan.seats }}}`,
			`{"id":"user-test-1","level":"gold","seats":3}`},
		{"object and array", `{"plan": {{ user.trusted_metadata.plan }}, "flags": {{ user.trusted_metadata.flags }}}`,
			`{"flags":["a","b"],"plan":{"level":"gold","seats":3}}`},
		{"missing and null drop their key", `{"x": {{ user.trusted_metadata.nope }}, "y": {{ user.trusted_metadata.off }}, "z": 1}`, `{"z":1}`},
		{"nested objects", `{"outer": {"inner": {{ user.name.first_name }}, "gone": {{ user.name.last }}}}`, `{"outer":{"inner":"Ada"}}`},
		{"arrays keep positions", `{"l": [{{ user.user_id }}, {{ user.nope }}]}`, `{"l":["user-test-1",null]}`},
		{"roles", `{"roles": {{ user.rbac.roles }}}`, `{"roles":["stytch_user","admin"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := parseTemplate(tc.src)
			if err != nil {
				t.Fatalf("parseTemplate: %v", err)
			}
			got, _ := json.Marshal(tpl.render(user))
			if string(got) != tc.want {
				t.Errorf("render = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestTemplateErrors(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want *apierr.Error
	}{
		{`{"a": {{ user.user_id }`, apierr.JWTTemplateMismatchedTag},
		{`{"a": 1}}`, apierr.JWTTemplateInvalidJSON},
		{`{"a": }} {{ user.user_id }}`, apierr.JWTTemplateInvalidJSON},
		{`{"a": {{ {{ user.user_id }} }}}`, apierr.JWTTemplateMismatchedTag},
		{`{"a": {{ member.id }}}`, apierr.JWTTemplateInvalidTag},
		{`{"a": {{ user }}}`, apierr.JWTTemplateInvalidTag},
		{`{"a": {{ user.x y }}}`, apierr.JWTTemplateInvalidTag},
		{`{ {{ user.user_id }}: 1 }`, apierr.JWTTemplateInvalidTag},
		{`{"a": "{{ user.user_id }}"}`, apierr.JWTTemplateInvalidJSON},
		{`{"a": 1} {"b": 2}`, apierr.JWTTemplateInvalidJSON},
		{`"str"`, apierr.JWTTemplateInvalidJSON},
		{`{"a": ` + string(make([]byte, 5000)) + `}`, apierr.JWTTemplateInvalidJSON},
	} {
		if _, err := parseTemplate(tc.src); !errors.Is(err, tc.want) {
			t.Errorf("parseTemplate(%.40q) = %v, want %s", tc.src, err, tc.want.Type)
		}
	}
}

package httpx

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/latchhq/latch/internal/apierr"
)

type fuzzTarget struct {
	Email    string          `json:"email"`
	Minutes  *int            `json:"session_duration_minutes"`
	Claims   map[string]any  `json:"session_custom_claims"`
	Names    []string        `json:"roles"`
	Metadata json.RawMessage `json:"trusted_metadata"`
	Nested   *struct {
		On bool `json:"ip_match_required"`
	} `json:"options"`
}

// FuzzDecode: any body either decodes or yields a 4xx API error; never a
// panic, never an error that would render as a 500.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"email":"a@b.co"}`, `{"session_duration_minutes":"x"}`, `[]`, `null`, `{"options":{"ip_match_required":1}}`,
		`{"email":`, "\xff\xfe", `{"roles":[1,2]}`, `{"session_custom_claims":{"a":{"b":[null]}}}`, `{"trusted_metadata":{}}`, `"str"`, `1e400`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/v1/x", bytes.NewReader(body))
		var dst fuzzTarget
		err := Decode(r, &dst)
		if err == nil {
			return
		}
		e, ok := apierr.As(err)
		if !ok || e.Status < 400 || e.Status >= 500 {
			t.Fatalf("body %q: error %v is not a 4xx API error", body, err)
		}
	})
}

func TestDecodeNamesField(t *testing.T) {
	r := httptest.NewRequest("POST", "/v1/x", bytes.NewReader([]byte(`{"session_duration_minutes":"sixty"}`)))
	var dst fuzzTarget
	err := Decode(r, &dst)
	e, ok := apierr.As(err)
	if !ok || e.Type != "invalid_argument" || !bytes.Contains([]byte(e.Msg), []byte("session_duration_minutes")) {
		t.Fatalf("got %v, want invalid_argument naming session_duration_minutes", err)
	}
}

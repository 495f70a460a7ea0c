package httpx

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchhq/latch/internal/apierr"
)

type embeddedFields struct {
	Minutes *int `json:"session_duration_minutes"`
}

type decodeTarget struct {
	Name string `json:"name"`
	embeddedFields
	Inner *struct {
		Deep struct {
			Count int `json:"count"`
		} `json:"deep"`
	} `json:"inner"`
	List []struct {
		N int `json:"n"`
	} `json:"list"`
}

// Type errors name the field as the client sent it: embedded structs add
// no segment, nested objects and arrays keep theirs.
func TestDecodeNamesTheJSONField(t *testing.T) {
	for body, field := range map[string]string{
		`{"session_duration_minutes":"x"}`: "session_duration_minutes",
		`{"name":5}`:                       "name",
		`{"inner":{"deep":{"count":"x"}}}`: "inner.deep.count",
		`{"list":[{"n":"x"}]}`:             "list.n",
	} {
		var dst decodeTarget
		err := Decode(httptest.NewRequest("POST", "/", strings.NewReader(body)), &dst)
		e, ok := apierr.As(err)
		if !ok || e.Type != "invalid_argument" || !strings.HasPrefix(e.Msg, field+" must be ") {
			t.Errorf("%s: %v", body, err)
		}
	}
}

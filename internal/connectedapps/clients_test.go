package connectedapps_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/tenant"
)

func TestCreateGetUpdateDelete(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Clients", tenant.Test)
	other := h.project("Other", tenant.Test)

	c := p.createClient(map[string]any{
		"client_type": "first_party", "client_name": "Acme CLI", "client_description": "The CLI",
		"redirect_urls": []string{"https://app.example/cb", "http://localhost:8080/cb", "https://app.example/cb"}, "full_access_allowed": true,
		"access_token_expiry_minutes": 30, "access_token_custom_audience": "https://api.example",
		"post_logout_redirect_urls": []string{"https://app.example/bye"}, "logo_url": "https://app.example/logo.png",
		"bypass_consent_for_offline_access": true, "access_token_template_content": `{"tier": {{ user.trusted_metadata.tier }}}`,
	})
	if !clientIDRe.MatchString(c.ClientID) {
		t.Fatalf("client_id %q", c.ClientID)
	}
	if c.ClientSecret == nil || len(*c.ClientSecret) != 44 || c.ClientSecretLastFour == nil || *c.ClientSecretLastFour != (*c.ClientSecret)[40:] {
		t.Fatalf("secret %v last four %v", c.ClientSecret, c.ClientSecretLastFour)
	}
	if c.ClientName != "Acme CLI" || c.ClientDescription != "The CLI" || c.Status != "active" || !c.FullAccessAllowed ||
		c.ClientType != "first_party" || c.AccessTokenExpiryMinutes != 30 || c.AccessTokenCustomAudience != "https://api.example" ||
		!slices.Equal(c.RedirectURLs, []string{"https://app.example/cb", "http://localhost:8080/cb"}) ||
		!slices.Equal(c.PostLogoutRedirectURLs, []string{"https://app.example/bye"}) || c.LogoURL != "https://app.example/logo.png" ||
		!c.BypassConsentForOfflineAccess || c.CreationMethod != "api" || c.NextClientSecretLastFour != nil {
		t.Errorf("created client = %+v", c)
	}
	// The secret is kept only as its SHA-256.
	if n := h.count(`SELECT COUNT(*) FROM connected_apps WHERE id = ? AND secret_hash = ?`, c.ClientID, secrets.Hash(*c.ClientSecret)); n != 1 {
		t.Errorf("stored secret hash rows = %d", n)
	}
	if n := h.count(`SELECT COUNT(*) FROM connected_apps WHERE secret_hash = ? OR name = ?`, *c.ClientSecret, *c.ClientSecret); n != 0 {
		t.Errorf("plaintext secret stored")
	}

	got := into[appResp](t, p.OK(200, "GET", "/v1/connected_apps/clients/"+c.ClientID, nil)).ConnectedApp
	if got.ClientSecret != nil || got.ClientName != "Acme CLI" || *got.ClientSecretLastFour != *c.ClientSecretLastFour {
		t.Errorf("get = %+v", got)
	}
	if _, ok := p.OK(200, "GET", "/v1/connected_apps/clients/"+c.ClientID, nil).Body["connected_app"].(map[string]any)["client_secret"]; ok {
		t.Error("get shows client_secret")
	}
	wantError(t, other.Call("GET", "/v1/connected_apps/clients/"+c.ClientID, nil), 404, "connected_app_not_found")
	wantError(t, other.Call("PUT", "/v1/connected_apps/clients/"+c.ClientID, map[string]any{"client_name": "x"}), 404, "connected_app_not_found")
	wantError(t, other.Call("DELETE", "/v1/connected_apps/clients/"+c.ClientID, map[string]any{}), 404, "connected_app_not_found")
	wantError(t, p.Call("GET", "/v1/connected_apps/clients/nope", nil), 400, "invalid_client_id")

	h.Clock.Advance(time.Minute)
	up := into[appResp](t, p.OK(200, "PUT", "/v1/connected_apps/clients/"+c.ClientID, map[string]any{
		"client_name": "Renamed", "redirect_urls": []string{"https://new.example/cb"}, "full_access_allowed": false,
	})).ConnectedApp
	if up.ClientName != "Renamed" || up.ClientDescription != "The CLI" || up.FullAccessAllowed || !slices.Equal(up.RedirectURLs, []string{"https://new.example/cb"}) ||
		up.AccessTokenExpiryMinutes != 30 || up.ClientSecret != nil {
		t.Errorf("updated = %+v", up)
	}
	wantError(t, p.Call("PUT", "/v1/connected_apps/clients/"+c.ClientID, map[string]any{"client_type": "third_party"}), 400, "invalid_argument")

	del := p.OK(200, "DELETE", "/v1/connected_apps/clients/"+c.ClientID, map[string]any{})
	if del.Str("client_id") != c.ClientID {
		t.Errorf("delete answered %s", del.Raw)
	}
	wantError(t, p.Call("GET", "/v1/connected_apps/clients/"+c.ClientID, nil), 404, "connected_app_not_found")
	wantError(t, p.Call("DELETE", "/v1/connected_apps/clients/"+c.ClientID, map[string]any{}), 404, "connected_app_not_found")

	// Events: create, update, delete.
	for _, typ := range []string{"direct.connected_app.create", "direct.connected_app.update", "direct.connected_app.delete"} {
		if n := h.count(`SELECT COUNT(*) FROM events WHERE project_id = ? AND type = ? AND object_id = ?`, p.ID, typ, c.ClientID); n != 1 {
			t.Errorf("%d %s events", n, typ)
		}
	}
	if n := h.count(`SELECT COUNT(*) FROM events WHERE payload LIKE ?`, "%"+*c.ClientSecret+"%"); n != 0 {
		t.Error("an event carries the client secret")
	}
}

func TestClientTypesAndValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Validation", tenant.Test)
	live := h.project("Live", tenant.Live)

	for _, typ := range []string{"first_party_public", "third_party_public"} {
		c := p.createClient(map[string]any{"client_type": typ, "redirect_urls": []string{"com.example.app:/callback"}})
		if c.ClientSecret != nil || c.ClientSecretLastFour != nil || c.ClientType != typ || c.AccessTokenExpiryMinutes != 60 {
			t.Errorf("%s client = %+v", typ, c)
		}
		wantError(t, p.Call("POST", "/v1/connected_apps/clients/"+c.ClientID+"/secrets/rotate/start", map[string]any{}), 400,
			"public_connected_apps_do_not_have_secrets")
	}
	if c := p.createClient(map[string]any{"client_type": "third_party"}); c.ClientSecret == nil || c.FullAccessAllowed {
		t.Errorf("third_party client = %+v", c)
	}

	for _, tc := range []struct {
		name   string
		body   map[string]any
		env    *project
		status int
		typ    string
	}{
		{"no type", map[string]any{}, p, 400, "missing_argument"},
		{"bad type", map[string]any{"client_type": "confidential"}, p, 400, "invalid_connected_app_type"},
		{"third party full access", map[string]any{"client_type": "third_party", "full_access_allowed": true}, p, 400, "third_party_clients_cannot_use_full_access"},
		{"third party public full access", map[string]any{"client_type": "third_party_public", "full_access_allowed": true}, p, 400, "third_party_clients_cannot_use_full_access"},
		{"third party bypass", map[string]any{"client_type": "third_party", "bypass_consent_for_offline_access": true}, p, 400, "third_party_clients_require_consent_for_offline_access"},
		{"no scheme", map[string]any{"client_type": "first_party", "redirect_urls": []string{"app.example/cb"}}, p, 400, "connected_app_redirect_url_must_include_scheme"},
		{"http not loopback", map[string]any{"client_type": "first_party", "redirect_urls": []string{"http://app.example/cb"}}, p, 400, "connected_app_redirect_url_http_scheme_must_use_loopback"},
		{"custom scheme confidential", map[string]any{"client_type": "first_party", "redirect_urls": []string{"myapp://cb"}}, p, 400, "connected_app_redirect_url_must_use_http_or_https_scheme"},
		{"fragment", map[string]any{"client_type": "first_party", "redirect_urls": []string{"https://app.example/cb#x"}}, p, 400, "connected_app_invalid_redirect_url"},
		{"space", map[string]any{"client_type": "first_party", "redirect_urls": []string{"https://app.example/c b"}}, p, 400, "connected_app_invalid_redirect_url"},
		{"localhost in live", map[string]any{"client_type": "first_party", "redirect_urls": []string{"https://localhost/cb"}}, live, 400, "connected_app_redirect_url_cannot_use_localhost"},
		{"expiry low", map[string]any{"client_type": "first_party", "access_token_expiry_minutes": 4}, p, 400, "idp_invalid_access_token_expiry_minutes"},
		{"expiry high", map[string]any{"client_type": "first_party", "access_token_expiry_minutes": 1441}, p, 400, "idp_invalid_access_token_expiry_minutes"},
		{"audience space", map[string]any{"client_type": "first_party", "access_token_custom_audience": "a b"}, p, 400, "idp_invalid_access_token_custom_audience"},
		{"template not json", map[string]any{"client_type": "first_party", "access_token_template_content": `{"a": }`}, p, 400, "jwt_template_invalid_json"},
		{"template array", map[string]any{"client_type": "first_party", "access_token_template_content": `[1]`}, p, 400, "jwt_template_invalid_json"},
		{"template unclosed", map[string]any{"client_type": "first_party", "access_token_template_content": `{"a": {{ user.user_id }`}, p, 400, "jwt_template_mismatched_tag"},
		{"template bad var", map[string]any{"client_type": "first_party", "access_token_template_content": `{"a": {{ request.x }}}`}, p, 400, "jwt_template_invalid_tag"},
		{"template var as key", map[string]any{"client_type": "first_party", "id_token_template_content": `{ {{ user.user_id }}: 1}`}, p, 400, "jwt_template_invalid_tag"},
		{"template var in string", map[string]any{"client_type": "first_party", "id_token_template_content": `{"a": "x{{ user.user_id }}"}`}, p, 400, "jwt_template_invalid_json"},
		{"long name", map[string]any{"client_type": "first_party", "client_name": strings.Repeat("n", 256)}, p, 400, "invalid_argument"},
		{"logo not url", map[string]any{"client_type": "first_party", "logo_url": "logo.png"}, p, 400, "invalid_argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, tc.env.Call("POST", "/v1/connected_apps/clients", tc.body), tc.status, tc.typ)
		})
	}
	if n := h.count(`SELECT COUNT(*) FROM connected_apps WHERE project_id = ?`, p.ID); n != 3 {
		t.Errorf("%d clients stored, want the 3 valid ones", n)
	}
	// Too many redirect URLs.
	many := make([]string, 51)
	for i := range many {
		many[i] = fmt.Sprintf("https://app.example/cb%d", i)
	}
	wantError(t, p.Call("POST", "/v1/connected_apps/clients", map[string]any{"client_type": "first_party", "redirect_urls": many}), 400, "too_many_redirect_urls")
	// An update of a third-party client cannot turn full access on.
	tp := p.createClient(map[string]any{"client_type": "third_party"})
	wantError(t, p.Call("PUT", "/v1/connected_apps/clients/"+tp.ClientID, map[string]any{"full_access_allowed": true}), 400,
		"third_party_clients_cannot_use_full_access")
}

func TestSearchPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Search", tenant.Test)
	other := h.project("Other", tenant.Test)
	other.createClient(map[string]any{"client_type": "first_party"})
	var want []string
	for i := 0; i < 5; i++ {
		want = append(want, p.createClient(map[string]any{"client_type": "third_party", "client_name": fmt.Sprint("c", i)}).ClientID)
		h.Clock.Advance(time.Second)
	}
	type page struct {
		ConnectedApps   []appJSON `json:"connected_apps"`
		ResultsMetadata struct {
			Total      int     `json:"total"`
			NextCursor *string `json:"next_cursor"`
		} `json:"results_metadata"`
	}
	var got []string
	body := map[string]any{"limit": 2}
	for i := 0; i < 5; i++ {
		pg := into[page](t, p.OK(200, "POST", "/v1/connected_apps/clients/search", body))
		if pg.ResultsMetadata.Total != 5 {
			t.Errorf("total = %d", pg.ResultsMetadata.Total)
		}
		for _, c := range pg.ConnectedApps {
			got = append(got, c.ClientID)
			if c.ClientSecret != nil {
				t.Error("search shows a secret")
			}
		}
		if pg.ResultsMetadata.NextCursor == nil {
			break
		}
		body = map[string]any{"limit": 2, "cursor": *pg.ResultsMetadata.NextCursor}
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged %v, want %v", got, want)
	}
	all := into[page](t, p.OK(200, "POST", "/v1/connected_apps/clients/search", map[string]any{}))
	if len(all.ConnectedApps) != 5 || all.ResultsMetadata.NextCursor != nil {
		t.Errorf("default page: %d apps, cursor %v", len(all.ConnectedApps), all.ResultsMetadata.NextCursor)
	}
	wantError(t, p.Call("POST", "/v1/connected_apps/clients/search", map[string]any{"limit": 0}), 400, "invalid_argument")
	wantError(t, p.Call("POST", "/v1/connected_apps/clients/search", map[string]any{"limit": 1001}), 400, "invalid_argument")
	wantError(t, p.Call("POST", "/v1/connected_apps/clients/search", map[string]any{"cursor": "bm9wZQ"}), 400, "invalid_argument")
}

func TestSecretRotation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.project("Rotation", tenant.Test)
	c := p.createClient(map[string]any{"client_type": "first_party"})
	old := *c.ClientSecret
	introspect := func(secret string) *resp {
		r, err := p.form("introspect", url.Values{"client_id": {c.ClientID}, "client_secret": {secret}, "token": {"x.y.z"}}, "", "")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := introspect(old); r.Status != 200 || r.Body["active"] != false {
		t.Fatalf("introspect with the secret: %s", r.Raw)
	}
	wantError(t, p.Call("POST", "/v1/connected_apps/clients/"+c.ClientID+"/secrets/rotate", map[string]any{}), 400, "connected_app_not_rotating_secret")
	wantError(t, p.Call("POST", "/v1/connected_apps/clients/"+c.ClientID+"/secrets/rotate/cancel", map[string]any{}), 400, "connected_app_not_rotating_secret")

	st := into[appResp](t, p.OK(200, "POST", "/v1/connected_apps/clients/"+c.ClientID+"/secrets/rotate/start", map[string]any{})).ConnectedApp
	if st.NextClientSecret == nil || len(*st.NextClientSecret) != 44 || *st.NextClientSecretLastFour != (*st.NextClientSecret)[40:] ||
		*st.ClientSecretLastFour != old[40:] || st.ClientSecret != nil {
		t.Fatalf("rotate start = %+v", st)
	}
	next := *st.NextClientSecret
	wantError(t, p.Call("POST", "/v1/connected_apps/clients/"+c.ClientID+"/secrets/rotate/start", map[string]any{}), 400, "connected_app_already_rotating_secret")
	if g := into[appResp](t, p.OK(200, "GET", "/v1/connected_apps/clients/"+c.ClientID, nil)).ConnectedApp; g.NextClientSecret != nil || *g.NextClientSecretLastFour != next[40:] {
		t.Errorf("get during rotation = %+v", g)
	}
	// Both work during the rotation.
	for _, s := range []string{old, next} {
		if r := introspect(s); r.Status != 200 {
			t.Errorf("secret refused during rotation: %s", r.Raw)
		}
	}
	// Cancel: only the old one works.
	p.OK(200, "POST", "/v1/connected_apps/clients/"+c.ClientID+"/secrets/rotate/cancel", map[string]any{})
	wantOAuthError(t, introspect(next), 400, "invalid_client")
	if r := introspect(old); r.Status != 200 {
		t.Errorf("old secret refused after cancel: %s", r.Raw)
	}
	// Start again and complete: only the new one works.
	next = *into[appResp](t, p.OK(200, "POST", "/v1/connected_apps/clients/"+c.ClientID+"/secrets/rotate/start", map[string]any{})).ConnectedApp.NextClientSecret
	done := into[appResp](t, p.OK(200, "POST", "/v1/connected_apps/clients/"+c.ClientID+"/secrets/rotate", map[string]any{})).ConnectedApp
	if *done.ClientSecretLastFour != next[40:] || done.NextClientSecretLastFour != nil {
		t.Errorf("after rotate = %+v", done)
	}
	wantOAuthError(t, introspect(old), 400, "invalid_client")
	if r := introspect(next); r.Status != 200 {
		t.Errorf("new secret refused after rotate: %s", r.Raw)
	}
}

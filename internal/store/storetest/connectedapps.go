package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/latchhq/latch/internal/store"
)

var connectedAppTests = []subtest{
	{"CreateGetUpdateDelete", testConnectedAppCRUD},
	{"ListPagesByCreation", testConnectedAppList},
	{"Authorizations", testConnectedAppAuthorizations},
	{"RevokeAuthorizationDeletesItsTokens", testConnectedAppRevokeAuthorization},
	{"CodeConsumedOnce", testConnectedAppCodeConsume},
	{"RefreshTokenUseAndExtend", testConnectedAppRefreshTokens},
	{"AccessTokenExchangedOnce", testConnectedAppAccessTokens},
	{"RevokeGrant", testConnectedAppRevokeGrant},
	{"DeletingClientOrUserCascades", testConnectedAppCascade},
	{"DeleteExpired", testConnectedAppDeleteExpired},
}

var connectedAppConcurrencyTests = []subtest{
	{"ConsumeCodeExactlyOnce", testConcurrentConsumeCode},
	{"ExchangeAccessTokenExactlyOnce", testConcurrentExchange},
	{"UseRefreshTokenExactlyOnce", testConcurrentUseRefreshToken},
}

func newConnectedApp(projectID string, created time.Time) *store.ConnectedApp {
	return &store.ConnectedApp{
		ProjectID:                     projectID,
		ID:                            newID("connected-app"),
		ClientType:                    "first_party",
		Name:                          "Acme CLI",
		Description:                   "The command line",
		Status:                        "active",
		FullAccessAllowed:             true,
		RedirectURLs:                  []string{"https://app.example/cb", "http://localhost:3000/cb?x=1"},
		PostLogoutRedirectURLs:        []string{},
		AccessTokenExpiryMinutes:      60,
		AccessTokenCustomAudience:     "https://api.example",
		AccessTokenTemplate:           `{"tier": {{ user.trusted_metadata.tier }}}`,
		IDTokenTemplate:               "",
		LogoURL:                       "https://app.example/logo.png",
		BypassConsentForOfflineAccess: true,
		CreationMethod:                "api",
		SecretHash:                    "sha256:" + uuid.NewString(),
		SecretLastFour:                "abcd",
		CreatedAt:                     created,
		UpdatedAt:                     created,
	}
}

func createConnectedApp(t *testing.T, s store.Store, c *store.ConnectedApp) *store.ConnectedApp {
	t.Helper()
	if err := s.CreateConnectedApp(t.Context(), c); err != nil {
		t.Fatalf("CreateConnectedApp: %v", err)
	}
	return c
}

func getConnectedApp(t *testing.T, s store.Store, projectID, id string) *store.ConnectedApp {
	t.Helper()
	c, err := s.GetConnectedApp(t.Context(), projectID, id)
	if err != nil {
		t.Fatalf("GetConnectedApp: %v", err)
	}
	return c
}

func checkConnectedApp(t *testing.T, got, want *store.ConnectedApp) {
	t.Helper()
	g, w := *got, *want
	checkTime(t, "connected app CreatedAt", g.CreatedAt, w.CreatedAt)
	checkTime(t, "connected app UpdatedAt", g.UpdatedAt, w.UpdatedAt)
	g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if w.RedirectURLs == nil {
		w.RedirectURLs = []string{}
	}
	if w.PostLogoutRedirectURLs == nil {
		w.PostLogoutRedirectURLs = []string{}
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("connected app =\n  %+v\nwant\n  %+v", g, w)
	}
}

func testConnectedAppCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := createProject(t, s), createProject(t, s)
	c := createConnectedApp(t, s, newConnectedApp(p.ID, base))
	checkConnectedApp(t, getConnectedApp(t, s, p.ID, c.ID), c)

	// A public client: no secret, nil lists read back empty.
	pub := newConnectedApp(p.ID, base.Add(time.Second))
	pub.ClientType, pub.SecretHash, pub.SecretLastFour, pub.RedirectURLs, pub.PostLogoutRedirectURLs = "third_party_public", "", "", nil, nil
	createConnectedApp(t, s, pub)
	got := getConnectedApp(t, s, p.ID, pub.ID)
	if got.RedirectURLs == nil || got.PostLogoutRedirectURLs == nil {
		t.Errorf("empty lists read back nil: %+v", got)
	}
	checkConnectedApp(t, got, pub)

	_, err := s.GetConnectedApp(ctx, other.ID, c.ID)
	wantErr(t, err, store.ErrNotFound, "GetConnectedApp via another project")
	_, err = s.GetConnectedApp(ctx, p.ID, newID("connected-app"))
	wantErr(t, err, store.ErrNotFound, "GetConnectedApp unknown")
	wantConflict(t, s.CreateConnectedApp(ctx, c), "", "CreateConnectedApp twice")

	// Update writes every mutable field, including a rotation's next secret.
	u := *c
	u.Name, u.Description, u.FullAccessAllowed = "Renamed", "", false
	u.RedirectURLs, u.PostLogoutRedirectURLs = []string{"https://new.example/cb"}, []string{"https://new.example/bye"}
	u.AccessTokenExpiryMinutes, u.AccessTokenCustomAudience, u.AccessTokenTemplate, u.IDTokenTemplate = 15, "", "", `{"a": 1}`
	u.LogoURL, u.BypassConsentForOfflineAccess = "", false
	u.NextSecretHash, u.NextSecretLastFour = "sha256:next", "wxyz"
	u.UpdatedAt = base.Add(time.Hour)
	if err := s.UpdateConnectedApp(ctx, &u); err != nil {
		t.Fatalf("UpdateConnectedApp: %v", err)
	}
	checkConnectedApp(t, getConnectedApp(t, s, p.ID, c.ID), &u)
	// Client type, creation method and created_at are fixed.
	v := u
	v.ClientType, v.CreationMethod, v.CreatedAt = "third_party", "dashboard", base.Add(time.Hour)
	if err := s.UpdateConnectedApp(ctx, &v); err != nil {
		t.Fatalf("UpdateConnectedApp: %v", err)
	}
	checkConnectedApp(t, getConnectedApp(t, s, p.ID, c.ID), &u)

	foreign := u
	foreign.ProjectID = other.ID
	wantErr(t, s.UpdateConnectedApp(ctx, &foreign), store.ErrNotFound, "UpdateConnectedApp via another project")
	wantErr(t, s.DeleteConnectedApp(ctx, other.ID, c.ID), store.ErrNotFound, "DeleteConnectedApp via another project")
	if err := s.DeleteConnectedApp(ctx, p.ID, c.ID); err != nil {
		t.Fatalf("DeleteConnectedApp: %v", err)
	}
	_, err = s.GetConnectedApp(ctx, p.ID, c.ID)
	wantErr(t, err, store.ErrNotFound, "GetConnectedApp after delete")
	wantErr(t, s.DeleteConnectedApp(ctx, p.ID, c.ID), store.ErrNotFound, "DeleteConnectedApp twice")
	checkConnectedApp(t, getConnectedApp(t, s, p.ID, pub.ID), pub)
}

func testConnectedAppList(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := createProject(t, s), createProject(t, s)
	createConnectedApp(t, s, newConnectedApp(other.ID, base))
	// Five clients; two share a creation time, so the id breaks the tie.
	ids := descendingIDs("connected-app", 5)
	var want []string
	for i, id := range ids {
		c := newConnectedApp(p.ID, base.Add(time.Duration(i/2)*time.Second))
		c.ID = id
		createConnectedApp(t, s, c)
	}
	// Expected order: by created_at, then id.
	want = []string{ids[1], ids[0], ids[3], ids[2], ids[4]}

	var got []string
	var after *store.ConnectedAppCursor
	for page := 0; page < 5; page++ {
		list, total, err := s.ListConnectedApps(ctx, p.ID, after, 2)
		if err != nil {
			t.Fatalf("ListConnectedApps: %v", err)
		}
		if total != 5 {
			t.Errorf("total = %d, want 5", total)
		}
		for _, c := range list {
			got = append(got, c.ID)
		}
		if len(list) < 2 {
			break
		}
		last := list[len(list)-1]
		after = &store.ConnectedAppCursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paged ids = %v, want %v", got, want)
	}
	list, total, err := s.ListConnectedApps(ctx, createProject(t, s).ID, nil, 10)
	if err != nil || total != 0 || list == nil || len(list) != 0 {
		t.Errorf("empty project: %v %d %v", list, total, err)
	}
}

func testConnectedAppAuthorizations(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := createProject(t, s), createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "grant@example.com"))
	c1 := createConnectedApp(t, s, newConnectedApp(p.ID, base))
	c2 := createConnectedApp(t, s, newConnectedApp(p.ID, base))

	a := &store.ConnectedAppAuthorization{ProjectID: p.ID, UserID: u.ID, ClientID: c1.ID, Scopes: []string{"openid", "email"}, CreatedAt: base, UpdatedAt: base}
	if err := s.PutAuthorization(ctx, a); err != nil {
		t.Fatalf("PutAuthorization: %v", err)
	}
	b := &store.ConnectedAppAuthorization{ProjectID: p.ID, UserID: u.ID, ClientID: c2.ID, Scopes: []string{"full_access"},
		CreatedAt: base.Add(time.Second), UpdatedAt: base.Add(time.Second)}
	if err := s.PutAuthorization(ctx, b); err != nil {
		t.Fatalf("PutAuthorization: %v", err)
	}
	// Replacing keeps created_at and takes the new scopes.
	a2 := *a
	a2.Scopes, a2.CreatedAt, a2.UpdatedAt = []string{"openid", "email", "offline_access"}, base.Add(time.Hour), base.Add(time.Hour)
	if err := s.PutAuthorization(ctx, &a2); err != nil {
		t.Fatalf("PutAuthorization again: %v", err)
	}
	got, err := s.GetAuthorization(ctx, p.ID, u.ID, c1.ID)
	if err != nil {
		t.Fatalf("GetAuthorization: %v", err)
	}
	if !reflect.DeepEqual(got.Scopes, a2.Scopes) || got.ClientID != c1.ID || got.UserID != u.ID {
		t.Errorf("authorization = %+v, want scopes %v", got, a2.Scopes)
	}
	checkTime(t, "authorization CreatedAt", got.CreatedAt, base)
	checkTime(t, "authorization UpdatedAt", got.UpdatedAt, base.Add(time.Hour))

	list, err := s.ListAuthorizations(ctx, p.ID, u.ID)
	if err != nil || len(list) != 2 || list[0].ClientID != c1.ID || list[1].ClientID != c2.ID {
		t.Fatalf("ListAuthorizations = %+v, %v", list, err)
	}
	if list, err := s.ListAuthorizations(ctx, other.ID, u.ID); err != nil || list == nil || len(list) != 0 {
		t.Errorf("ListAuthorizations via another project = %+v, %v", list, err)
	}
	_, err = s.GetAuthorization(ctx, other.ID, u.ID, c1.ID)
	wantErr(t, err, store.ErrNotFound, "GetAuthorization via another project")
	// A grant needs a real user and client.
	if err := s.PutAuthorization(ctx, &store.ConnectedAppAuthorization{ProjectID: p.ID, UserID: newID("user"), ClientID: c1.ID,
		Scopes: []string{"openid"}, CreatedAt: base, UpdatedAt: base}); err == nil {
		t.Error("PutAuthorization for an unknown user succeeded")
	}
}

func newCode(u *store.User, clientID string, expires time.Time) *store.AuthorizationCode {
	return &store.AuthorizationCode{
		ProjectID: u.ProjectID, CodeHash: "sha256:" + uuid.NewString(), GrantID: uuid.NewString(), ClientID: clientID, UserID: u.ID,
		SessionID: newID("session"), RedirectURI: "https://app.example/cb", Scopes: []string{"openid", "full_access"},
		Resources: []string{"https://api.example"}, Nonce: "n-0S6", CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CreatedAt: base, ExpiresAt: expires,
	}
}

func newRefreshToken(u *store.User, clientID, grantID string, expires time.Time) *store.RefreshToken {
	return &store.RefreshToken{ProjectID: u.ProjectID, TokenHash: "sha256:" + uuid.NewString(), GrantID: grantID, ClientID: clientID,
		UserID: u.ID, SessionID: "", Scopes: []string{"openid", "offline_access"}, Resources: []string{}, CreatedAt: base, ExpiresAt: expires}
}

func newAccessTokenRecord(u *store.User, clientID, grantID string, expires time.Time) *store.AccessTokenRecord {
	return &store.AccessTokenRecord{ProjectID: u.ProjectID, JTI: uuid.NewString(), GrantID: grantID, ClientID: clientID, UserID: u.ID,
		SessionID: newID("session"), Scopes: []string{"full_access"}, IssuedAt: base, ExpiresAt: expires}
}

func mustDo(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func testConnectedAppRevokeAuthorization(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "rev@example.com"))
	v := createUser(t, s, newUser(p.ID, "keep@example.com"))
	c := createConnectedApp(t, s, newConnectedApp(p.ID, base))
	d := createConnectedApp(t, s, newConnectedApp(p.ID, base))
	exp := base.Add(time.Hour)
	for _, pair := range []struct {
		u *store.User
		c string
	}{{u, c.ID}, {u, d.ID}, {v, c.ID}} {
		mustDo(t, "PutAuthorization", s.PutAuthorization(ctx, &store.ConnectedAppAuthorization{ProjectID: p.ID, UserID: pair.u.ID,
			ClientID: pair.c, Scopes: []string{"openid"}, CreatedAt: base, UpdatedAt: base}))
	}
	code, keepCode := newCode(u, c.ID, exp), newCode(v, c.ID, exp)
	rt, keepRT := newRefreshToken(u, c.ID, code.GrantID, exp), newRefreshToken(u, d.ID, "g2", exp)
	at, keepAT := newAccessTokenRecord(u, c.ID, code.GrantID, exp), newAccessTokenRecord(v, c.ID, keepCode.GrantID, exp)
	for _, x := range []*store.AuthorizationCode{code, keepCode} {
		mustDo(t, "CreateAuthorizationCode", s.CreateAuthorizationCode(ctx, x))
	}
	for _, x := range []*store.RefreshToken{rt, keepRT} {
		mustDo(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, x))
	}
	for _, x := range []*store.AccessTokenRecord{at, keepAT} {
		mustDo(t, "CreateAccessTokenRecord", s.CreateAccessTokenRecord(ctx, x))
	}

	existed, err := s.RevokeAuthorization(ctx, p.ID, u.ID, c.ID)
	if err != nil || !existed {
		t.Fatalf("RevokeAuthorization = %v, %v; want true", existed, err)
	}
	_, err = s.GetAuthorization(ctx, p.ID, u.ID, c.ID)
	wantErr(t, err, store.ErrNotFound, "revoked authorization")
	_, err = s.GetAuthorizationCode(ctx, p.ID, code.CodeHash)
	wantErr(t, err, store.ErrNotFound, "code of the revoked grant")
	_, err = s.GetRefreshToken(ctx, p.ID, rt.TokenHash)
	wantErr(t, err, store.ErrNotFound, "refresh token of the revoked grant")
	_, err = s.GetAccessTokenRecord(ctx, p.ID, at.JTI)
	wantErr(t, err, store.ErrNotFound, "access token of the revoked grant")
	// Other users' and other clients' grants stay.
	for _, k := range [][2]string{{u.ID, d.ID}, {v.ID, c.ID}} {
		if _, err := s.GetAuthorization(ctx, p.ID, k[0], k[1]); err != nil {
			t.Errorf("authorization %v gone: %v", k, err)
		}
	}
	if _, err := s.GetAuthorizationCode(ctx, p.ID, keepCode.CodeHash); err != nil {
		t.Errorf("other user's code gone: %v", err)
	}
	if _, err := s.GetRefreshToken(ctx, p.ID, keepRT.TokenHash); err != nil {
		t.Errorf("other client's refresh token gone: %v", err)
	}
	if _, err := s.GetAccessTokenRecord(ctx, p.ID, keepAT.JTI); err != nil {
		t.Errorf("other user's access token gone: %v", err)
	}
	existed, err = s.RevokeAuthorization(ctx, p.ID, u.ID, c.ID)
	if err != nil || existed {
		t.Errorf("second RevokeAuthorization = %v, %v; want false", existed, err)
	}
}

func testConnectedAppCodeConsume(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := createProject(t, s), createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "code@example.com"))
	c := createConnectedApp(t, s, newConnectedApp(p.ID, base))
	code := newCode(u, c.ID, base.Add(5*time.Minute))
	mustDo(t, "CreateAuthorizationCode", s.CreateAuthorizationCode(ctx, code))
	got, err := s.GetAuthorizationCode(ctx, p.ID, code.CodeHash)
	if err != nil {
		t.Fatalf("GetAuthorizationCode: %v", err)
	}
	g := *got
	checkTime(t, "code CreatedAt", g.CreatedAt, code.CreatedAt)
	checkTime(t, "code ExpiresAt", g.ExpiresAt, code.ExpiresAt)
	checkTimePtr(t, "code UsedAt", g.UsedAt, nil)
	w := *code
	g.CreatedAt, g.ExpiresAt, w.CreatedAt, w.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("code = %+v, want %+v", g, w)
	}
	_, err = s.GetAuthorizationCode(ctx, other.ID, code.CodeHash)
	wantErr(t, err, store.ErrNotFound, "GetAuthorizationCode via another project")
	wantErr(t, s.ConsumeAuthorizationCode(ctx, other.ID, code.CodeHash, base), store.ErrNotFound, "consume via another project")
	wantErr(t, s.ConsumeAuthorizationCode(ctx, p.ID, "sha256:unknown", base), store.ErrNotFound, "consume unknown")

	now := base.Add(time.Minute)
	mustDo(t, "ConsumeAuthorizationCode", s.ConsumeAuthorizationCode(ctx, p.ID, code.CodeHash, now))
	wantErr(t, s.ConsumeAuthorizationCode(ctx, p.ID, code.CodeHash, now), store.ErrConsumed, "second consume")
	got, _ = s.GetAuthorizationCode(ctx, p.ID, code.CodeHash)
	checkTimePtr(t, "code UsedAt", got.UsedAt, &now)

	expired := newCode(u, c.ID, base.Add(time.Minute))
	mustDo(t, "CreateAuthorizationCode", s.CreateAuthorizationCode(ctx, expired))
	wantErr(t, s.ConsumeAuthorizationCode(ctx, p.ID, expired.CodeHash, base.Add(time.Minute)), store.ErrConsumed, "consume at expiry")
	got, _ = s.GetAuthorizationCode(ctx, p.ID, expired.CodeHash)
	checkTimePtr(t, "expired code UsedAt", got.UsedAt, nil)
	wantConflict(t, s.CreateAuthorizationCode(ctx, code), "", "duplicate code hash")
}

func testConnectedAppRefreshTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := createProject(t, s), createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "rt@example.com"))
	c := createConnectedApp(t, s, newConnectedApp(p.ID, base))
	rt := newRefreshToken(u, c.ID, "grant-1", base.Add(90*24*time.Hour))
	mustDo(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, rt))
	got, err := s.GetRefreshToken(ctx, p.ID, rt.TokenHash)
	if err != nil {
		t.Fatalf("GetRefreshToken: %v", err)
	}
	g, w := *got, *rt
	checkTime(t, "refresh CreatedAt", g.CreatedAt, w.CreatedAt)
	checkTime(t, "refresh ExpiresAt", g.ExpiresAt, w.ExpiresAt)
	g.CreatedAt, g.ExpiresAt, w.CreatedAt, w.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("refresh token = %+v, want %+v", g, w)
	}
	_, err = s.GetRefreshToken(ctx, other.ID, rt.TokenHash)
	wantErr(t, err, store.ErrNotFound, "GetRefreshToken via another project")

	// Extending moves the expiry while the token is alive.
	until := base.Add(180 * 24 * time.Hour)
	mustDo(t, "ExtendRefreshToken", s.ExtendRefreshToken(ctx, p.ID, rt.TokenHash, base.Add(time.Hour), until))
	got, _ = s.GetRefreshToken(ctx, p.ID, rt.TokenHash)
	checkTime(t, "extended ExpiresAt", got.ExpiresAt, until)
	wantErr(t, s.ExtendRefreshToken(ctx, p.ID, rt.TokenHash, until, until.Add(time.Hour)), store.ErrConsumed, "extend at expiry")
	wantErr(t, s.ExtendRefreshToken(ctx, p.ID, "sha256:unknown", base, until), store.ErrNotFound, "extend unknown")

	// Using rotates it out once.
	now := base.Add(2 * time.Hour)
	mustDo(t, "UseRefreshToken", s.UseRefreshToken(ctx, p.ID, rt.TokenHash, now))
	wantErr(t, s.UseRefreshToken(ctx, p.ID, rt.TokenHash, now), store.ErrConsumed, "second use")
	wantErr(t, s.ExtendRefreshToken(ctx, p.ID, rt.TokenHash, now, until), store.ErrConsumed, "extend a used token")
	got, _ = s.GetRefreshToken(ctx, p.ID, rt.TokenHash)
	checkTimePtr(t, "refresh UsedAt", got.UsedAt, &now)
	wantErr(t, s.UseRefreshToken(ctx, other.ID, rt.TokenHash, now), store.ErrNotFound, "use via another project")

	old := newRefreshToken(u, c.ID, "grant-2", base)
	mustDo(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, old))
	wantErr(t, s.UseRefreshToken(ctx, p.ID, old.TokenHash, base), store.ErrConsumed, "use an expired token")
}

func testConnectedAppAccessTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := createProject(t, s), createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "at@example.com"))
	c := createConnectedApp(t, s, newConnectedApp(p.ID, base))
	r := newAccessTokenRecord(u, c.ID, "grant-1", base.Add(time.Hour))
	mustDo(t, "CreateAccessTokenRecord", s.CreateAccessTokenRecord(ctx, r))
	got, err := s.GetAccessTokenRecord(ctx, p.ID, r.JTI)
	if err != nil {
		t.Fatalf("GetAccessTokenRecord: %v", err)
	}
	g, w := *got, *r
	checkTime(t, "IssuedAt", g.IssuedAt, w.IssuedAt)
	checkTime(t, "ExpiresAt", g.ExpiresAt, w.ExpiresAt)
	checkTimePtr(t, "ExchangedAt", g.ExchangedAt, nil)
	g.IssuedAt, g.ExpiresAt, w.IssuedAt, w.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("access token record = %+v, want %+v", g, w)
	}
	wantErr(t, s.MarkAccessTokenExchanged(ctx, other.ID, r.JTI, base), store.ErrNotFound, "exchange via another project")
	wantErr(t, s.MarkAccessTokenExchanged(ctx, p.ID, "unknown", base), store.ErrNotFound, "exchange unknown")
	now := base.Add(time.Minute)
	mustDo(t, "MarkAccessTokenExchanged", s.MarkAccessTokenExchanged(ctx, p.ID, r.JTI, now))
	wantErr(t, s.MarkAccessTokenExchanged(ctx, p.ID, r.JTI, now.Add(time.Second)), store.ErrConsumed, "second exchange")
	got, _ = s.GetAccessTokenRecord(ctx, p.ID, r.JTI)
	checkTimePtr(t, "ExchangedAt", got.ExchangedAt, &now)
	wantConflict(t, s.CreateAccessTokenRecord(ctx, r), "", "duplicate jti")
}

func testConnectedAppRevokeGrant(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "grant@example.com"))
	c := createConnectedApp(t, s, newConnectedApp(p.ID, base))
	exp := base.Add(time.Hour)
	rt1, rt2 := newRefreshToken(u, c.ID, "g1", exp), newRefreshToken(u, c.ID, "g2", exp)
	at1, at2 := newAccessTokenRecord(u, c.ID, "g1", exp), newAccessTokenRecord(u, c.ID, "g2", exp)
	mustDo(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, rt1))
	mustDo(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, rt2))
	mustDo(t, "CreateAccessTokenRecord", s.CreateAccessTokenRecord(ctx, at1))
	mustDo(t, "CreateAccessTokenRecord", s.CreateAccessTokenRecord(ctx, at2))
	mustDo(t, "RevokeGrant", s.RevokeGrant(ctx, p.ID, "g1"))
	_, err := s.GetRefreshToken(ctx, p.ID, rt1.TokenHash)
	wantErr(t, err, store.ErrNotFound, "refresh token of the revoked grant")
	_, err = s.GetAccessTokenRecord(ctx, p.ID, at1.JTI)
	wantErr(t, err, store.ErrNotFound, "access token of the revoked grant")
	if _, err := s.GetRefreshToken(ctx, p.ID, rt2.TokenHash); err != nil {
		t.Errorf("other grant's refresh token: %v", err)
	}
	if _, err := s.GetAccessTokenRecord(ctx, p.ID, at2.JTI); err != nil {
		t.Errorf("other grant's access token: %v", err)
	}
}

func testConnectedAppCascade(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "cascade@example.com"))
	v := createUser(t, s, newUser(p.ID, "other@example.com"))
	c := createConnectedApp(t, s, newConnectedApp(p.ID, base))
	d := createConnectedApp(t, s, newConnectedApp(p.ID, base))
	exp := base.Add(time.Hour)
	type rows struct {
		code *store.AuthorizationCode
		rt   *store.RefreshToken
		at   *store.AccessTokenRecord
	}
	make3 := func(u *store.User, client string) rows {
		r := rows{code: newCode(u, client, exp)}
		r.rt, r.at = newRefreshToken(u, client, r.code.GrantID, exp), newAccessTokenRecord(u, client, r.code.GrantID, exp)
		mustDo(t, "PutAuthorization", s.PutAuthorization(ctx, &store.ConnectedAppAuthorization{ProjectID: p.ID, UserID: u.ID,
			ClientID: client, Scopes: []string{"openid"}, CreatedAt: base, UpdatedAt: base}))
		mustDo(t, "CreateAuthorizationCode", s.CreateAuthorizationCode(ctx, r.code))
		mustDo(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, r.rt))
		mustDo(t, "CreateAccessTokenRecord", s.CreateAccessTokenRecord(ctx, r.at))
		return r
	}
	gone := func(r rows, u *store.User, client, what string) {
		t.Helper()
		_, err := s.GetAuthorization(ctx, p.ID, u.ID, client)
		wantErr(t, err, store.ErrNotFound, what+": authorization")
		_, err = s.GetAuthorizationCode(ctx, p.ID, r.code.CodeHash)
		wantErr(t, err, store.ErrNotFound, what+": code")
		_, err = s.GetRefreshToken(ctx, p.ID, r.rt.TokenHash)
		wantErr(t, err, store.ErrNotFound, what+": refresh token")
		_, err = s.GetAccessTokenRecord(ctx, p.ID, r.at.JTI)
		wantErr(t, err, store.ErrNotFound, what+": access token")
	}
	uc, ud, vd := make3(u, c.ID), make3(u, d.ID), make3(v, d.ID)

	mustDo(t, "DeleteConnectedApp", s.DeleteConnectedApp(ctx, p.ID, c.ID))
	gone(uc, u, c.ID, "deleted client")
	if _, err := s.GetRefreshToken(ctx, p.ID, ud.rt.TokenHash); err != nil {
		t.Errorf("another client's token went with the deleted client: %v", err)
	}
	mustDo(t, "DeleteUser", s.DeleteUser(ctx, p.ID, u.ID))
	gone(ud, u, d.ID, "deleted user")
	if _, err := s.GetAccessTokenRecord(ctx, p.ID, vd.at.JTI); err != nil {
		t.Errorf("another user's token went with the deleted user: %v", err)
	}
}

func testConnectedAppDeleteExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "sweep@example.com"))
	c := createConnectedApp(t, s, newConnectedApp(p.ID, base))
	cut := base.Add(time.Hour)
	oldCode, newCodeRow := newCode(u, c.ID, cut.Add(-time.Second)), newCode(u, c.ID, cut.Add(time.Second))
	oldRT, newRT := newRefreshToken(u, c.ID, "g", cut.Add(-time.Second)), newRefreshToken(u, c.ID, "g", cut)
	oldAT, newAT := newAccessTokenRecord(u, c.ID, "g", cut.Add(-time.Microsecond)), newAccessTokenRecord(u, c.ID, "g", cut.Add(time.Minute))
	for _, x := range []*store.AuthorizationCode{oldCode, newCodeRow} {
		mustDo(t, "CreateAuthorizationCode", s.CreateAuthorizationCode(ctx, x))
	}
	for _, x := range []*store.RefreshToken{oldRT, newRT} {
		mustDo(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, x))
	}
	for _, x := range []*store.AccessTokenRecord{oldAT, newAT} {
		mustDo(t, "CreateAccessTokenRecord", s.CreateAccessTokenRecord(ctx, x))
	}
	n, err := s.DeleteExpiredConnectedAppTokens(ctx, cut)
	if err != nil || n != 3 {
		t.Fatalf("DeleteExpiredConnectedAppTokens = %d, %v; want 3", n, err)
	}
	_, err = s.GetAuthorizationCode(ctx, p.ID, oldCode.CodeHash)
	wantErr(t, err, store.ErrNotFound, "expired code")
	_, err = s.GetRefreshToken(ctx, p.ID, oldRT.TokenHash)
	wantErr(t, err, store.ErrNotFound, "expired refresh token")
	_, err = s.GetAccessTokenRecord(ctx, p.ID, oldAT.JTI)
	wantErr(t, err, store.ErrNotFound, "expired access token")
	if _, err := s.GetAuthorizationCode(ctx, p.ID, newCodeRow.CodeHash); err != nil {
		t.Errorf("live code swept: %v", err)
	}
	if _, err := s.GetRefreshToken(ctx, p.ID, newRT.TokenHash); err != nil {
		t.Errorf("refresh token expiring at the cut swept: %v", err)
	}
	if _, err := s.GetAccessTokenRecord(ctx, p.ID, newAT.JTI); err != nil {
		t.Errorf("live access token swept: %v", err)
	}
}

// raceOnce runs n callers of op together and checks exactly one wins and
// the rest get ErrConsumed.
func raceOnce(t *testing.T, n int, op func(i int) error) {
	t.Helper()
	errs := make([]error, n)
	race(n, func(i int) { errs[i] = op(i) })
	won, consumed := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, store.ErrConsumed):
			consumed++
		default:
			t.Errorf("caller %d: unexpected error %v", i, err)
		}
	}
	if won != 1 || consumed != n-1 {
		t.Fatalf("%d callers succeeded and %d got ErrConsumed; want 1 and %d", won, consumed, n-1)
	}
}

func testConcurrentConsumeCode(t *testing.T, s store.Store) {
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "race@example.com"))
	c := createConnectedApp(t, s, newConnectedApp(p.ID, base))
	code := newCode(u, c.ID, base.Add(time.Hour))
	mustDo(t, "CreateAuthorizationCode", s.CreateAuthorizationCode(t.Context(), code))
	raceOnce(t, 50, func(i int) error {
		return s.ConsumeAuthorizationCode(t.Context(), p.ID, code.CodeHash, base.Add(time.Duration(i)*time.Microsecond))
	})
}

func testConcurrentExchange(t *testing.T, s store.Store) {
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "race@example.com"))
	c := createConnectedApp(t, s, newConnectedApp(p.ID, base))
	r := newAccessTokenRecord(u, c.ID, "g", base.Add(time.Hour))
	mustDo(t, "CreateAccessTokenRecord", s.CreateAccessTokenRecord(t.Context(), r))
	raceOnce(t, 50, func(i int) error { return s.MarkAccessTokenExchanged(t.Context(), p.ID, r.JTI, base) })
}

func testConcurrentUseRefreshToken(t *testing.T, s store.Store) {
	p := createProject(t, s)
	u := createUser(t, s, newUser(p.ID, "race@example.com"))
	c := createConnectedApp(t, s, newConnectedApp(p.ID, base))
	rt := newRefreshToken(u, c.ID, "g", base.Add(time.Hour))
	mustDo(t, "CreateRefreshToken", s.CreateRefreshToken(t.Context(), rt))
	raceOnce(t, 50, func(i int) error { return s.UseRefreshToken(t.Context(), p.ID, rt.TokenHash, base) })
}

#!/usr/bin/env python3
"""Print the endpoint table of docs/compatibility.md from the SDK contract.

Usage: scripts/compat_table.py ../shared/api/stytch-contract.json
Statuses live in STATUS below: edit them there when an endpoint changes.
"""
import json
import sys

# sdk method -> (status, note)
STATUS = {
    "users.create": ("implemented", "HTTP 201 as on Stytch; `attributes` accepted and not stored"),
    "users.get": ("implemented", "by user_id or external_id"),
    "users.update": ("implemented", "metadata merges top-level keys; null deletes a key"),
    "users.delete": ("implemented", "cascades emails, phones, sessions, magic links"),
    "users.search": ("implemented", "every SearchUsersQueryOperand filter; AND and OR; cursor paging"),
    "users.searchAll": ("implemented", "SDK-side iterator over users.search"),
    "users.deleteEmail": ("implemented", ""),
    "users.deletePhoneNumber": ("implemented", ""),
    "users.deleteTOTP": ("implemented", "with its recovery codes"),
    "users.deletePassword": ("implemented", ""),
    "magicLinks.email.loginOrCreate": ("implemented", "template ids: built-in only; locale accepted, English copy"),
    "magicLinks.email.send": ("implemented", "user_id / session_token / session_jwt attach a new email"),
    "magicLinks.email.invite": ("implemented", ""),
    "magicLinks.email.revokeInvite": ("implemented", ""),
    "magicLinks.create": ("implemented", "the embeddable link (seed name createEmbeddable)"),
    "magicLinks.authenticate": ("implemented", "PKCE, attribute matching, session creation and factor adding"),
    "sessions.authenticate": ("partial", "token or JWT, extend, custom claims; `authorization_check` (RBAC) not yet"),
    "sessions.authenticateJwt": ("implemented", "SDK-local against the JWKS, falls back to sessions.authenticate"),
    "sessions.authenticateJwtLocal": ("implemented", "SDK-local against the JWKS"),
    "sessions.get": ("implemented", ""),
    "sessions.revoke": ("implemented", "by session_id, session_token or session_jwt"),
    "sessions.getJWKS": ("implemented", "also served without credentials, as the SDK's jose fetch needs"),
    "sessions.migrate": ("implemented", "calls the UserInfo URL set with `latch projects update --session-migration-url`; factor `imported` / `imported_auth0`"),
    "sessions.exchangeAccessToken": ("implemented", "full_access tokens at most 5 min old, from a session's authorization, exchanged once; factor `oauth` / `oauth_access_token_exchange`"),
    "otps.sms.send": ("implemented", "user_id / session_token / session_jwt attach a new phone"),
    "otps.sms.loginOrCreate": ("implemented", ""),
    "otps.whatsapp.send": ("implemented", ""),
    "otps.whatsapp.loginOrCreate": ("implemented", ""),
    "otps.email.send": ("implemented", "template ids: built-in only"),
    "otps.email.loginOrCreate": ("implemented", ""),
    "otps.authenticate": ("implemented", "codes, attempts, sessions and factors; `options` compared with the send's `attributes`"),
    "passwords.create": ("implemented", "zxcvbn policy; LUDS is in the code but not yet selectable per project"),
    "passwords.authenticate": ("implemented", "lockout after 10 failures for 60 min; outdated or migrated hashes rehashed to argon2id"),
    "passwords.strengthCheck": ("implemented", "zxcvbn.js 4.4.2 run in goja; breach check against an offline list when `email` is given"),
    "passwords.migrate": ("implemented", "bcrypt, md_5, sha_1, sha_512, argon_2i, argon_2id, scrypt, phpass, pbkdf_2"),
    "passwords.email.resetStart": ("implemented", "`locale` accepted, English copy; template id: built-in only"),
    "passwords.email.reset": ("implemented", "revokes every session of the user; PKCE"),
    "passwords.existingPassword.reset": ("implemented", "revokes every session of the user"),
    "passwords.sessions.reset": ("implemented", "needs a password, magic-link or email-OTP factor from the last 5 minutes; keeps the calling session"),
    "totps.create": ("implemented", "unverified registrations are replaced; one verified TOTP per user"),
    "totps.authenticate": ("implemented", "SHA-1, 6 digits, 30 s, one step of skew, no replay"),
    "totps.recoveryCodes": ("implemented", "unused codes, opened from sealed copies"),
    "totps.recover": ("implemented", ""),
    "connectedApp.clients.create": ("implemented", "four client types; confidential secrets shown once, stored as SHA-256; claims templates validated"),
    "connectedApp.clients.get": ("implemented", ""),
    "connectedApp.clients.update": ("implemented", "client_type cannot change"),
    "connectedApp.clients.delete": ("implemented", "deletes the client's grants, codes and tokens"),
    "connectedApp.clients.search": ("implemented", "cursor and limit (1..1000, default 100); oldest first"),
    "connectedApp.clients.secrets.rotateStart": ("implemented", "both secrets work until rotate or rotateCancel"),
    "connectedApp.clients.secrets.rotate": ("implemented", ""),
    "connectedApp.clients.secrets.rotateCancel": ("implemented", ""),
    "b2b.connectedApp.clients.create": ("partial", "the consumer endpoints at the same path answer it; not yet driven through the B2B SDK client, no organization scoping"),
    "b2b.connectedApp.clients.get": ("partial", "the consumer endpoints at the same path answer it; not yet driven through the B2B SDK client, no organization scoping"),
    "b2b.connectedApp.clients.update": ("partial", "the consumer endpoints at the same path answer it; not yet driven through the B2B SDK client, no organization scoping"),
    "b2b.connectedApp.clients.delete": ("partial", "the consumer endpoints at the same path answer it; not yet driven through the B2B SDK client, no organization scoping"),
    "b2b.connectedApp.clients.search": ("partial", "the consumer endpoints at the same path answer it; not yet driven through the B2B SDK client, no organization scoping"),
    "b2b.connectedApp.clients.secrets.rotateStart": ("partial", "the consumer endpoints at the same path answer it; not yet driven through the B2B SDK client, no organization scoping"),
    "b2b.connectedApp.clients.secrets.rotate": ("partial", "the consumer endpoints at the same path answer it; not yet driven through the B2B SDK client, no organization scoping"),
    "b2b.connectedApp.clients.secrets.rotateCancel": ("partial", "the consumer endpoints at the same path answer it; not yet driven through the B2B SDK client, no organization scoping"),
    "idp.oauth.authorizeStart": ("partial", "scopes openid, profile, email, phone, offline_access, full_access; custom (RBAC) scopes not yet"),
    "idp.oauth.authorize": ("partial", "codes single use, 5 min, PKCE S256 (required for public clients); custom (RBAC) scopes not yet"),
    "idp.introspectTokenNetwork": ("partial", "access and refresh tokens of the authenticating client (RFC 7662); `authorization_check` needs `rbac.policy` (not yet)"),
    "idp.introspectTokenLocal": ("partial", "Latch's access tokens verify against the session JWKS; `authorization_check` needs `rbac.policy` (not yet)"),
    "b2b.idp.introspectTokenNetwork": ("partial", "the endpoint works, but Latch issues no B2B (member) tokens yet"),
    "users.connectedApps": ("implemented", "the user's grants with the scopes granted"),
    "users.revoke": ("implemented", "deletes the grant and every code, refresh token and access-token record under it"),
    "m2m.token": ("not yet", "the endpoint exists for Connected Apps; `grant_type=client_credentials` answers `unsupported_grant_type` until M2M clients exist"),
}

def main(path):
    c = json.load(open(path))
    rows = []
    for e in c["entries"]:
        sdk = e["sdk"]
        status, note = STATUS.get(sdk, ("not yet", ""))
        where = "local (no request)" if e.get("local") else f'`{e["method"]} {e["path"]}`'
        rows.append((sdk, where, status, note))
    done = sum(1 for r in rows if r[2] == "implemented")
    part = sum(1 for r in rows if r[2] == "partial")
    print(f"{len(rows)} SDK methods: {done} implemented, {part} partial, {len(rows)-done-part} not yet.\n")
    print("| SDK method | HTTP | status | notes |")
    print("|---|---|---|---|")
    for sdk, where, status, note in rows:
        print(f"| `{sdk}` | {where} | {status} | {note} |")

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/api/stytch-contract.json")

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
    "sessions.exchangeAccessToken": ("not yet", "needs Connected Apps access tokens, which Latch does not issue yet (`idp.oauth.*`)"),
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

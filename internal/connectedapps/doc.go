// Package connectedapps is the consumer Connected Apps product: Latch as an
// OAuth 2.0 / OpenID Connect authorization server for the project's users.
//
//   - connectedApp.clients.*: clients of four types (first_party,
//     first_party_public, third_party, third_party_public). Confidential
//     clients get a 44-character client_secret shown once and kept only as
//     SHA-256; rotation keeps the next secret beside the current one until
//     rotate or rotateCancel.
//   - idp.oauth.authorizeStart / authorize: the consent step an app's own
//     authorization page drives for a signed-in user. authorize records the
//     user's grant and mints a single-use authorization code (SHA-256 at
//     rest, 5 minutes, PKCE S256 required for public clients).
//   - POST /v1/public/{project_id}/oauth2/token: authorization_code and
//     refresh_token grants, client auth by body or HTTP Basic. Access tokens
//     are RS256 JWTs signed with the project's session key (the same JWKS),
//     each with a random jti recorded in the store; refresh tokens (with
//     offline_access) are random, stored hashed, rotated for public clients
//     and extended for confidential ones, as Stytch documents.
//   - POST /v1/public/{project_id}/oauth2/introspect: RFC 7662.
//   - sessions.exchangeAccessToken: a full_access token at most 5 minutes
//     old, from an authorization made with a session, becomes a new session,
//     once (a conditional UPDATE on the token's record).
//   - users.connectedApps / users.revoke: the user's grants, and revoking
//     one with every code and token issued under it.
//
// Handlers decode and encode; the service returns apierr values. The OAuth
// endpoints answer errors in the OAuth form (error, error_description).
package connectedapps

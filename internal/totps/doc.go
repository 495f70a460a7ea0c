// Package totps owns consumer TOTP (authenticator app) registrations and
// their recovery codes: create, authenticate, recover and recovery_codes.
//
// Codes follow RFC 6238 with Google Authenticator's parameters: HMAC-SHA-1,
// 6 digits, 30-second steps, and the previous and next step are accepted
// for clock skew. Each accepted step is recorded, so a code (or any older
// one) cannot be replayed. The first accepted code verifies a registration;
// an unverified registration dies after its expiration_minutes.
//
// The 20-byte secret is sealed at rest with the master key (the
// registration id is the AEAD's associated data). Recovery codes are stored
// only as SHA-256 hashes and redeemed once by a conditional write; because
// the plaintext is never kept, recovery_codes cannot show them again and
// returns an empty list for each registration.
package totps

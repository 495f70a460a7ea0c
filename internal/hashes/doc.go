// Package hashes hashes Latch's passwords and verifies every hash type that
// Stytch's passwords.migrate accepts.
//
// # Native hashing
//
// New passwords are hashed with argon2id (RFC 9106) and stored as PHC strings:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with salt and key in unpadded standard base64. DefaultParams is the OWASP
// minimum (19 MiB, 2 passes, 1 lane, 16-byte salt, 32-byte key); a Hasher can
// be built with others, and Params.Validate refuses any weaker than all of
// OWASPMinimums.
//
// Every computation, in Hash and in Verify, first reserves its memory cost
// (argon2's m KiB, scrypt's 128·N·r bytes, 64 KiB for the rest) and one of
// MaxConcurrent slots from the Hasher's budget (Limits). Reservations are
// granted in arrival order, so a burst of logins queues instead of allocating
// at once, and a large imported hash is not starved by small ones; waiting
// honours the caller's context. A hash costing more than the whole budget is
// refused at once (ErrOverBudget), and Hasher.Normalize refuses to import one.
// Stats reports the load and its high-water marks.
//
// Verify accepts any stored form below and reports needsRehash when the hash
// is not argon2id with the Hasher's current parameters: after a successful
// login the caller rehashes with Hash and stores the result, so migrated and
// outdated hashes are upgraded as users sign in. All comparisons of derived
// keys are constant-time (crypto/subtle, or bcrypt's own).
//
// # Migration
//
// Normalize validates the hash part of a passwords.migrate request (Migration,
// with the SDK's per-type configs) and returns a self-describing stored string:
//
//	bcrypt     $2a$/$2b$/$2y$ modular crypt, kept as given
//	phpass     $P$ (WordPress) or $H$ (phpBB3) portable hash, kept as given
//	argon_2i   $argon2i$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>
//	argon_2id  $argon2id$v=19$...
//	scrypt     $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<key>
//	pbkdf_2    $pbkdf2-sha256$i=<iterations>$<salt>$<key>, or pbkdf2-sha512
//	md_5       $latch-md5$<prepend_salt>$<append_salt>$<digest hex>
//	sha_1      $latch-sha1$...
//	sha_512    $latch-sha512$...
//
// Rules for the incoming values, following Stytch's migration guide and API
// reference:
//
//   - md_5, sha_1, sha_512: hash is the digest of prepend_salt + password +
//     append_salt, in hex (either case) or base64 (standard or URL-safe,
//     padded or not); the digest length tells which.
//   - argon_2i, argon_2id: hash is a PHC string (v=19 only; any
//     argon_2_config is then ignored) or the bare key in base64 or hex with
//     argon_2_config. The config's salt is used as the raw bytes of the
//     string, memory is in KiB, iteration_amount is t and threads is p;
//     key_length must equal the decoded key's length, else
//     argon_2_key_length_mismatch.
//   - scrypt: hash is a $scrypt$ln=..,r=..,p=..$salt$hash PHC string or the
//     bare key in base64 or hex with scrypt_config, whose salt is base64 (as
//     Stytch's API reference specifies). N must be a power of two, 2..262144.
//   - pbkdf_2: hash is the key in base64 or hex with pbkdf_2_config, whose salt
//     is base64 (as Stytch specifies) and algorithm "sha256" (default) or
//     "sha512"; a $pbkdf2-sha256$ PHC string (also passlib's form) is accepted.
//   - bcrypt: passwords longer than 72 bytes are truncated when verifying, as
//     every bcrypt implementation does.
//   - phpass: the iteration count is 2^7..2^30 and passwords longer than 4096
//     bytes never match, as in Openwall's phpass.
//
// Parameters are bounded (argon2 memory at most 1 GiB and at most 100 passes,
// scrypt 128*N*r at most 1 GiB and p at most 16, pbkdf2 at most 10 million
// iterations, salts and keys at most 1024 bytes) both in Normalize and when
// Verify parses a stored string, so no stored value can make one verification
// unboundedly expensive.
//
// Normalize's errors are *Error values carrying Stytch's error type
// (invalid_hash, invalid_hash_type, invalid_bcrypt_hash, invalid_md_5_hash,
// invalid_sha_1_hash, invalid_sha_512_hash, invalid_scrypt_config,
// invalid_pbkdf_2_config, invalid_argon_2_config,
// argon_2_key_length_mismatch, invalid_phpass_hash); the API layer maps them
// to HTTP.
package hashes

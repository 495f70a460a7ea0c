package hashes

// Error is a validation failure with a Stytch-style error type. Normalize
// returns one for every bad migration; Verify returns one (Type
// TypeInvalidHash) when the stored string cannot be parsed. The API layer maps
// Type onto its own catalogue.
type Error struct {
	Type string
	Msg  string
}

func (e *Error) Error() string { return e.Type + ": " + e.Msg }

// Is matches another *Error by Type, so errors.Is(err, &Error{Type: TypeInvalidHash}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Type == e.Type
}

// Error types, named as Stytch names them.
const (
	TypeInvalidHash             = "invalid_hash"
	TypeInvalidHashType         = "invalid_hash_type"
	TypeInvalidBcryptHash       = "invalid_bcrypt_hash"
	TypeInvalidMD5Hash          = "invalid_md_5_hash"
	TypeInvalidSHA1Hash         = "invalid_sha_1_hash"
	TypeInvalidSHA512Hash       = "invalid_sha_512_hash"
	TypeInvalidScryptConfig     = "invalid_scrypt_config"
	TypeInvalidPBKDF2Config     = "invalid_pbkdf_2_config"
	TypeInvalidArgon2Config     = "invalid_argon_2_config"
	TypeArgon2KeyLengthMismatch = "argon_2_key_length_mismatch"
	TypeInvalidPHPassHash       = "invalid_phpass_hash"
)

func errf(typ, msg string) *Error { return &Error{Type: typ, Msg: msg} }

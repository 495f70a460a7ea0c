package keys

import (
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"math/big"
)

func publicJWK(kid string, pub *rsa.PublicKey) JWK {
	return JWK{
		Kty:    "RSA",
		Use:    "sig",
		KeyOps: []string{"verify"},
		Alg:    "RS256",
		KID:    kid,
		// No certificate chain backs these keys, so x5c is empty and
		// x5tS256 (a certificate thumbprint) blank; verifiers use n and e.
		X5C:     []string{},
		X5TS256: "",
		N:       base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E:       base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}

func (j JWK) publicKey() (*rsa.PublicKey, error) {
	n, err := base64.RawURLEncoding.DecodeString(j.N)
	if err != nil {
		return nil, err
	}
	e, err := base64.RawURLEncoding.DecodeString(j.E)
	if err != nil {
		return nil, err
	}
	if len(n) < 256 || len(e) == 0 || len(e) > 4 {
		return nil, errors.New("keys: bad rsa jwk")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
}

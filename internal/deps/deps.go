// Package deps pins modules other packages are about to import; removed once they do.
package deps

import (
	_ "github.com/dop251/goja"
	_ "github.com/pquerna/otp/totp"
	_ "golang.org/x/crypto/argon2"
	_ "golang.org/x/crypto/bcrypt"
	_ "golang.org/x/crypto/scrypt"
)

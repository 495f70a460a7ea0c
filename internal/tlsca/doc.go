// Package tlsca gives a self-hosted Latch server HTTPS without an external
// certificate authority: Ensure keeps a small local CA (an ECDSA P-256 key and
// a ten-year self-signed certificate named "Latch local CA") in a directory,
// and uses it to issue and renew a one-year server certificate for the hosts
// the server answers on. The CA is created once and never replaced silently,
// so clients that were told to trust ca.pem keep working when the server
// certificate is reissued; a CA that cannot be read is reported as an error
// for the operator to resolve.
package tlsca

package tlsca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names inside the directory given to Ensure.
const (
	CAFile        = "ca.pem"
	CAKeyFile     = "ca-key.pem"
	ServerFile    = "server.pem"
	ServerKeyFile = "server-key.pem"
)

const (
	caCommonName = "Latch local CA"

	// caValidityYears is how long a new CA is valid.
	caValidityYears = 10
	// leafValidity is how long a new server certificate is valid. Together
	// with backdate it stays well under the 397-day limit browsers enforce.
	leafValidity = 365 * 24 * time.Hour
	// renewBefore is the minimum remaining lifetime for a server
	// certificate on disk to be reused.
	renewBefore = 30 * 24 * time.Hour
	// backdate is subtracted from NotBefore to tolerate clock skew between
	// the server and its clients.
	backdate = time.Hour
)

// Ensure loads or creates, under dir, a local CA (dir/ca.pem, dir/ca-key.pem)
// and a server certificate signed by it (dir/server.pem, dir/server-key.pem)
// valid for the given hosts (DNS names and IPs, e.g. "localhost", "127.0.0.1",
// "::1"; an IPv6 address may be bracketed). Private keys are written with mode
// 0600, certificates 0644, and dir is created 0700 if it does not exist.
//
// If neither CA file exists a new CA is created. If either CA file exists but
// the pair cannot be loaded (missing half, corrupt PEM, not a CA, key does not
// match) Ensure returns an error and leaves the files alone: replacing the CA
// would silently break every client that trusts it.
//
// An existing server certificate is reused only if it is signed by the CA on
// disk, matches its key, covers every host asked for and has more than 30 days
// left; otherwise a new one is issued for exactly the hosts given (the CA is
// kept so clients keep trusting it).
//
// Ensure returns the tls.Certificate (leaf followed by the CA, with Leaf
// populated) and the path of the CA file.
func Ensure(dir string, hosts []string) (tls.Certificate, string, error) {
	dnsNames, ips, err := parseHosts(hosts)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, "", fmt.Errorf("tlsca: create %s: %w", dir, err)
	}
	caPath := filepath.Join(dir, CAFile)
	caKeyPath := filepath.Join(dir, CAKeyFile)
	leafPath := filepath.Join(dir, ServerFile)
	leafKeyPath := filepath.Join(dir, ServerKeyFile)

	now := time.Now()
	ca, caKey, err := loadOrCreateCA(caPath, caKeyPath, now)
	if err != nil {
		return tls.Certificate{}, "", err
	}

	leaf, leafKey, ok := loadLeaf(leafPath, leafKeyPath)
	if !ok || !reusable(leaf, ca, dnsNames, ips, now) {
		notAfter := now.Add(leafValidity)
		if notAfter.After(ca.NotAfter) {
			notAfter = ca.NotAfter // never outlive the issuer
		}
		leafDER, key, err := issueLeaf(ca, caKey, dnsNames, ips, now.Add(-backdate), notAfter)
		if err != nil {
			return tls.Certificate{}, "", err
		}
		keyPEM, err := encodeKey(key)
		if err != nil {
			return tls.Certificate{}, "", err
		}
		// Key first: if we stop between the two writes the old certificate
		// no longer matches the key and is reissued on the next call.
		if err := writeFileAtomic(leafKeyPath, keyPEM, 0o600); err != nil {
			return tls.Certificate{}, "", err
		}
		if err := writeFileAtomic(leafPath, encodeCert(leafDER), 0o644); err != nil {
			return tls.Certificate{}, "", err
		}
		if leaf, err = x509.ParseCertificate(leafDER); err != nil {
			return tls.Certificate{}, "", fmt.Errorf("tlsca: parse new server certificate: %w", err)
		}
		leafKey = key
	}

	return tls.Certificate{
		Certificate: [][]byte{leaf.Raw, ca.Raw},
		PrivateKey:  leafKey,
		Leaf:        leaf,
	}, caPath, nil
}

// parseHosts splits hosts into lower-cased, de-duplicated DNS names and IP
// addresses, rejecting anything that cannot appear in a certificate SAN.
func parseHosts(hosts []string) ([]string, []net.IP, error) {
	var dnsNames []string
	var ips []net.IP
	seen := make(map[string]bool)
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
			h = h[1 : len(h)-1]
		}
		if h == "" {
			return nil, nil, errors.New("tlsca: empty host name")
		}
		if ip := net.ParseIP(h); ip != nil {
			if ip4 := ip.To4(); ip4 != nil {
				ip = ip4
			}
			if key := ip.String(); !seen[key] {
				seen[key] = true
				ips = append(ips, ip)
			}
			continue
		}
		h = strings.ToLower(strings.TrimSuffix(h, "."))
		if !validDNSName(h) {
			return nil, nil, fmt.Errorf("tlsca: invalid host %q", h)
		}
		if !seen[h] {
			seen[h] = true
			dnsNames = append(dnsNames, h)
		}
	}
	if len(dnsNames) == 0 && len(ips) == 0 {
		return nil, nil, errors.New("tlsca: no hosts given")
	}
	return dnsNames, ips, nil
}

// validDNSName accepts lower-case LDH names, optionally with a leading "*."
// wildcard label.
func validDNSName(name string) bool {
	name = strings.TrimPrefix(name, "*.")
	if name == "" || len(name) > 253 {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
				return false
			}
		}
	}
	return true
}

// loadOrCreateCA loads the CA pair, or creates one if neither file exists.
func loadOrCreateCA(certPath, keyPath string, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	certExists, err := exists(certPath)
	if err != nil {
		return nil, nil, err
	}
	keyExists, err := exists(keyPath)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case certExists && keyExists:
		return loadCA(certPath, keyPath, now)
	case certExists || keyExists:
		return nil, nil, fmt.Errorf("tlsca: found only one of %s and %s; restore the other or remove both to create a new CA (clients will need to trust it again)", certPath, keyPath)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsca: generate CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: caCommonName, Organization: []string{"Latch"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.AddDate(caValidityYears, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsca: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsca: parse new CA certificate: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return nil, nil, err
	}
	if err := writeFileAtomic(certPath, encodeCert(der), 0o644); err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

func loadCA(certPath, keyPath string, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	cert, err := readCert(certPath)
	if err != nil {
		return nil, nil, err
	}
	if !cert.BasicConstraintsValid || !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, nil, fmt.Errorf("tlsca: %s is not a CA certificate", certPath)
	}
	if now.After(cert.NotAfter) {
		return nil, nil, fmt.Errorf("tlsca: CA %s expired on %s; remove %s and %s to create a new one (clients will need to trust it again)",
			certPath, cert.NotAfter.Format(time.DateOnly), certPath, keyPath)
	}
	key, err := readKey(keyPath)
	if err != nil {
		return nil, nil, err
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, nil, fmt.Errorf("tlsca: %s does not match %s", keyPath, certPath)
	}
	return cert, key, nil
}

// loadLeaf reads the server pair; ok is false if it is missing, unreadable or
// mismatched, in which case the caller issues a new one.
func loadLeaf(certPath, keyPath string) (*x509.Certificate, crypto.Signer, bool) {
	cert, err := readCert(certPath)
	if err != nil {
		return nil, nil, false
	}
	key, err := readKey(keyPath)
	if err != nil {
		return nil, nil, false
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, nil, false
	}
	return cert, key, true
}

// reusable reports whether leaf was signed by ca, is a server certificate,
// covers every requested name and address, and has more than renewBefore left.
func reusable(leaf, ca *x509.Certificate, dnsNames []string, ips []net.IP, now time.Time) bool {
	if leaf.CheckSignatureFrom(ca) != nil || !bytes.Equal(leaf.RawIssuer, ca.RawSubject) {
		return false
	}
	if now.Before(leaf.NotBefore) || leaf.NotAfter.Sub(now) <= renewBefore {
		return false
	}
	serverAuth := false
	for _, u := range leaf.ExtKeyUsage {
		if u == x509.ExtKeyUsageServerAuth {
			serverAuth = true
		}
	}
	if !serverAuth {
		return false
	}
	for _, name := range dnsNames {
		found := false
		for _, have := range leaf.DNSNames {
			if strings.EqualFold(have, name) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for _, ip := range ips {
		found := false
		for _, have := range leaf.IPAddresses {
			if have.Equal(ip) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// issueLeaf creates a server certificate for the given names, signed by ca.
func issueLeaf(ca *x509.Certificate, caKey crypto.Signer, dnsNames []string, ips []net.IP, notBefore, notAfter time.Time) ([]byte, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsca: generate server key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	cn := ""
	if len(dnsNames) > 0 {
		cn = dnsNames[0]
	} else if len(ips) > 0 {
		cn = ips[0].String()
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Latch"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              dnsNames,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsca: create server certificate: %w", err)
	}
	return der, key, nil
}

// newSerial returns a random, positive 128-bit serial number.
func newSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("tlsca: generate serial number: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

func readCert(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tlsca: %w", err)
	}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("tlsca: %s: no CERTIFICATE PEM block", path)
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("tlsca: %s: %w", path, err)
		}
		return cert, nil
	}
}

func readKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tlsca: %w", err)
	}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("tlsca: %s: no private key PEM block", path)
		}
		var key any
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("tlsca: %s: %w", path, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("tlsca: %s: unsupported key type %T", path, key)
		}
		return signer, nil
	}
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ak, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ak.Equal(b)
}

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("tlsca: marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func exists(path string) (bool, error) {
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("tlsca: %w", err)
	}
}

// writeFileAtomic writes data to a temporary file in the same directory and
// renames it over path, so readers never see a half-written file and the
// mode is set before any content is written.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("tlsca: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("tlsca: %w", err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("tlsca: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("tlsca: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("tlsca: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("tlsca: %w", err)
	}
	return nil
}

// ServeHosts is what the generated server certificate should cover for a
// listener on addr: the loopback names always, the listen IP, or (for a
// wildcard listen such as 0.0.0.0) this machine's host name and every
// interface address, so clients on the network can verify it too, and
// the host of the public URL if one is set. Names that cannot appear in a
// certificate are left out rather than failing the start.
func ServeHosts(addr net.Addr, publicHost string) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	add := func(h string) {
		if h == "" {
			return
		}
		if _, _, err := parseHosts([]string{h}); err == nil {
			hosts = append(hosts, h)
		}
	}
	if t, ok := addr.(*net.TCPAddr); ok {
		if !t.IP.IsUnspecified() {
			add(t.IP.String())
		} else {
			if name, err := os.Hostname(); err == nil {
				add(name)
			}
			if addrs, err := net.InterfaceAddrs(); err == nil {
				for _, a := range addrs {
					if n, ok := a.(*net.IPNet); ok && !n.IP.IsLinkLocalUnicast() {
						add(n.IP.String())
					}
				}
			}
		}
	}
	add(publicHost)
	return hosts
}

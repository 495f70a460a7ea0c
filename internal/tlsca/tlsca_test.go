package tlsca

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

var defaultHosts = []string{"localhost", "127.0.0.1", "::1"}

func mustEnsure(t *testing.T, dir string, hosts []string) (tls.Certificate, string) {
	t.Helper()
	cert, caPath, err := Ensure(dir, hosts)
	if err != nil {
		t.Fatalf("Ensure(%v): %v", hosts, err)
	}
	return cert, caPath
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEnsureCreatesFiles(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "tls", "certs")
	cert, caPath, err := Ensure(dir, defaultHosts)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, CAFile); caPath != want {
		t.Errorf("ca path = %q, want %q", caPath, want)
	}

	tests := []struct {
		path string
		mode os.FileMode
	}{
		{dir, os.ModeDir | 0o700},
		{filepath.Join(dir, CAKeyFile), 0o600},
		{filepath.Join(dir, ServerKeyFile), 0o600},
		{filepath.Join(dir, CAFile), 0o644},
		{filepath.Join(dir, ServerFile), 0o644},
	}
	for _, tt := range tests {
		fi, err := os.Stat(tt.path)
		if err != nil {
			t.Errorf("stat %s: %v", tt.path, err)
			continue
		}
		if fi.Mode() != tt.mode {
			t.Errorf("%s: mode %v, want %v", filepath.Base(tt.path), fi.Mode(), tt.mode)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 4 {
		t.Errorf("dir has %d entries, want 4 (temporary files left behind?)", len(entries))
	}

	if len(cert.Certificate) != 2 {
		t.Fatalf("chain length %d, want 2", len(cert.Certificate))
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(cert.Certificate[1])
	if err != nil {
		t.Fatal(err)
	}
	if cert.Leaf == nil || !bytes.Equal(cert.Leaf.Raw, leaf.Raw) {
		t.Error("Leaf not populated with the first certificate")
	}
	if onDisk, err := readCert(caPath); err != nil || !bytes.Equal(onDisk.Raw, ca.Raw) {
		t.Errorf("chain CA differs from %s (err %v)", caPath, err)
	}

	// CA properties.
	if !ca.IsCA || !ca.BasicConstraintsValid || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("CA: IsCA=%v BasicConstraintsValid=%v KeyUsage=%v", ca.IsCA, ca.BasicConstraintsValid, ca.KeyUsage)
	}
	if ca.Subject.CommonName != "Latch local CA" {
		t.Errorf("CA CN = %q", ca.Subject.CommonName)
	}
	if life := ca.NotAfter.Sub(ca.NotBefore); life < 10*365*24*time.Hour || life > 10*366*24*time.Hour+2*time.Hour {
		t.Errorf("CA lifetime %v, want about 10 years", life)
	}
	if err := ca.CheckSignatureFrom(ca); err != nil {
		t.Errorf("CA not self-signed: %v", err)
	}

	// Leaf properties.
	if leaf.IsCA {
		t.Error("leaf is a CA")
	}
	if !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		t.Errorf("leaf ExtKeyUsage = %v, want ServerAuth", leaf.ExtKeyUsage)
	}
	if life := leaf.NotAfter.Sub(leaf.NotBefore); life > 397*24*time.Hour || life < 360*24*time.Hour {
		t.Errorf("leaf lifetime %v, want about a year and at most 397 days", life)
	}
	if err := leaf.CheckSignatureFrom(ca); err != nil {
		t.Errorf("leaf not signed by CA: %v", err)
	}
	if !slices.Equal(leaf.DNSNames, []string{"localhost"}) {
		t.Errorf("leaf DNSNames = %v", leaf.DNSNames)
	}
	if len(leaf.IPAddresses) != 2 || !leaf.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")) || !leaf.IPAddresses[1].Equal(net.IPv6loopback) {
		t.Errorf("leaf IPAddresses = %v", leaf.IPAddresses)
	}

	// Keys and serials.
	for name, c := range map[string]*x509.Certificate{"CA": ca, "leaf": leaf} {
		pub, ok := c.PublicKey.(*ecdsa.PublicKey)
		if !ok || pub.Curve != elliptic.P256() {
			t.Errorf("%s key is %T, want ECDSA P-256", name, c.PublicKey)
		}
		if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() > 128 {
			t.Errorf("%s serial %v not a positive 128-bit number", name, c.SerialNumber)
		}
	}
	if ca.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
		t.Error("CA and leaf share a serial number")
	}
	if _, ok := cert.PrivateKey.(*ecdsa.PrivateKey); !ok {
		t.Errorf("private key is %T", cert.PrivateKey)
	}
}

func TestHandshake(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, caPath := mustEnsure(t, dir, defaultHosts)

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(readFile(t, caPath)) {
		t.Fatal("no certificates in ca.pem")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	addr := ln.Addr().String()

	tests := []struct {
		name       string
		serverName string // "" means taken from the dialled address, 127.0.0.1
		wantErr    bool
	}{
		{"dns name", "localhost", false},
		{"by ip", "", false},
		{"explicit ip", "127.0.0.1", false},
		{"ipv6 loopback", "::1", false},
		{"uncovered name", "example.com", true},
		{"uncovered ip", "10.0.0.1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A raw TLS handshake.
			conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: tt.serverName})
			if err == nil {
				err = conn.Handshake()
				conn.Close()
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("tls.Dial: err = %v, wantErr %v", err, tt.wantErr)
			}

			// And an HTTPS request.
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: tt.serverName}}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + addr + "/")
			if (err != nil) != tt.wantErr {
				t.Fatalf("GET: err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || string(body) != "ok" {
				t.Errorf("GET: %d %q", resp.StatusCode, body)
			}
		})
	}

	// Without the CA in the pool the handshake must fail.
	if conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: x509.NewCertPool(), ServerName: "localhost"}); err == nil {
		conn.Close()
		t.Error("handshake succeeded without trusting the CA")
	}
}

func TestEnsureReuse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		first  []string
		second []string
		reuse  bool
	}{
		{"same hosts", defaultHosts, defaultHosts, true},
		{"different order and case", []string{"localhost", "127.0.0.1"}, []string{"127.0.0.1", "LOCALHOST"}, true},
		{"subset", defaultHosts, []string{"localhost"}, true},
		{"bracketed ipv6", defaultHosts, []string{"[::1]"}, true},
		{"extra dns name", defaultHosts, append(slices.Clone(defaultHosts), "latch.test"), false},
		{"extra ip", defaultHosts, append(slices.Clone(defaultHosts), "192.168.1.10"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			first, caPath := mustEnsure(t, dir, tt.first)
			ca1 := readFile(t, caPath)
			caKey1 := readFile(t, filepath.Join(dir, CAKeyFile))

			second, caPath2 := mustEnsure(t, dir, tt.second)
			if caPath2 != caPath {
				t.Errorf("CA path changed: %q -> %q", caPath, caPath2)
			}
			if !bytes.Equal(readFile(t, caPath), ca1) || !bytes.Equal(readFile(t, filepath.Join(dir, CAKeyFile)), caKey1) {
				t.Error("CA files changed")
			}
			if !bytes.Equal(first.Certificate[1], second.Certificate[1]) {
				t.Error("CA in chain changed")
			}
			sameLeaf := bytes.Equal(first.Certificate[0], second.Certificate[0])
			if sameLeaf != tt.reuse {
				t.Fatalf("leaf reused = %v, want %v", sameLeaf, tt.reuse)
			}
			for _, h := range tt.second {
				if err := second.Leaf.VerifyHostname(h); err != nil {
					t.Errorf("second leaf does not cover %q: %v", h, err)
				}
			}
			if !tt.reuse {
				if err := second.Leaf.CheckSignatureFrom(second.Leaf); err == nil {
					t.Error("unexpected self-signed leaf")
				}
				ca, _ := x509.ParseCertificate(first.Certificate[1])
				if err := second.Leaf.CheckSignatureFrom(ca); err != nil {
					t.Errorf("new leaf not signed by the original CA: %v", err)
				}
				// The reissued leaf is itself reused next time.
				third, _ := mustEnsure(t, dir, tt.second)
				if !bytes.Equal(third.Certificate[0], second.Certificate[0]) {
					t.Error("reissued leaf not reused on the following call")
				}
			}
			// The server files on disk match what was returned.
			onDisk, err := readCert(filepath.Join(dir, ServerFile))
			if err != nil || !bytes.Equal(onDisk.Raw, second.Certificate[0]) {
				t.Errorf("server.pem does not hold the returned leaf (err %v)", err)
			}
		})
	}
}

// TestEnsureReissues damages the server certificate in different ways and
// checks that Ensure replaces it while keeping the CA.
func TestEnsureReissues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
	}{
		{"server.pem missing", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, ServerFile)); err != nil {
				t.Fatal(err)
			}
		}},
		{"server-key.pem missing", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, ServerKeyFile)); err != nil {
				t.Fatal(err)
			}
		}},
		{"server.pem corrupt", func(t *testing.T, dir string) {
			writeTestFile(t, filepath.Join(dir, ServerFile), []byte("not a certificate"))
		}},
		{"server key does not match", func(t *testing.T, dir string) {
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			pemKey, err := encodeKey(key)
			if err != nil {
				t.Fatal(err)
			}
			writeTestFile(t, filepath.Join(dir, ServerKeyFile), pemKey)
		}},
		{"expires within 30 days", func(t *testing.T, dir string) {
			now := time.Now()
			reissueWith(t, dir, now.Add(-300*24*time.Hour), now.Add(29*24*time.Hour))
		}},
		{"not yet valid", func(t *testing.T, dir string) {
			now := time.Now()
			reissueWith(t, dir, now.Add(24*time.Hour), now.Add(200*24*time.Hour))
		}},
		{"signed by another CA", func(t *testing.T, dir string) {
			other := t.TempDir()
			mustEnsure(t, other, defaultHosts)
			for _, f := range []string{ServerFile, ServerKeyFile} {
				writeTestFile(t, filepath.Join(dir, f), readFile(t, filepath.Join(other, f)))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			first, caPath := mustEnsure(t, dir, defaultHosts)
			ca := readFile(t, caPath)
			tt.damage(t, dir)
			damaged := readFileIfExists(filepath.Join(dir, ServerFile))

			second, _ := mustEnsure(t, dir, defaultHosts)
			if bytes.Equal(second.Certificate[0], first.Certificate[0]) || bytes.Equal(second.Certificate[0], certDER(damaged)) {
				t.Fatal("damaged leaf was reused")
			}
			if !bytes.Equal(readFile(t, caPath), ca) {
				t.Error("CA replaced")
			}
			caCert, _ := x509.ParseCertificate(first.Certificate[1])
			if err := second.Leaf.CheckSignatureFrom(caCert); err != nil {
				t.Errorf("new leaf not signed by CA: %v", err)
			}
			if time.Until(second.Leaf.NotAfter) < 300*24*time.Hour {
				t.Errorf("new leaf expires %v", second.Leaf.NotAfter)
			}
			if _, err := tls.X509KeyPair(readFile(t, filepath.Join(dir, ServerFile)), readFile(t, filepath.Join(dir, ServerKeyFile))); err != nil {
				t.Errorf("server files on disk do not form a pair: %v", err)
			}
		})
	}
}

// TestEnsureBadCA checks that a CA that cannot be used is reported, never
// silently replaced.
func TestEnsureBadCA(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
	}{
		{"ca.pem garbage", func(t *testing.T, dir string) {
			writeTestFile(t, filepath.Join(dir, CAFile), []byte("garbage\n"))
		}},
		{"ca.pem empty", func(t *testing.T, dir string) {
			writeTestFile(t, filepath.Join(dir, CAFile), nil)
		}},
		{"ca.pem bad DER", func(t *testing.T, dir string) {
			writeTestFile(t, filepath.Join(dir, CAFile), []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
		}},
		{"ca.pem truncated", func(t *testing.T, dir string) {
			b := readFile(t, filepath.Join(dir, CAFile))
			writeTestFile(t, filepath.Join(dir, CAFile), b[:len(b)/2])
		}},
		{"ca.pem missing", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, CAFile)); err != nil {
				t.Fatal(err)
			}
		}},
		{"ca-key.pem missing", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, CAKeyFile)); err != nil {
				t.Fatal(err)
			}
		}},
		{"ca-key.pem corrupt", func(t *testing.T, dir string) {
			writeTestFile(t, filepath.Join(dir, CAKeyFile), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
		}},
		{"ca-key.pem from another CA", func(t *testing.T, dir string) {
			other := t.TempDir()
			mustEnsure(t, other, defaultHosts)
			writeTestFile(t, filepath.Join(dir, CAKeyFile), readFile(t, filepath.Join(other, CAKeyFile)))
		}},
		{"ca.pem is not a CA", func(t *testing.T, dir string) {
			writeTestFile(t, filepath.Join(dir, CAFile), readFile(t, filepath.Join(dir, ServerFile)))
			writeTestFile(t, filepath.Join(dir, CAKeyFile), readFile(t, filepath.Join(dir, ServerKeyFile)))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			mustEnsure(t, dir, defaultHosts)
			tt.damage(t, dir)
			before := snapshot(dir)

			if _, _, err := Ensure(dir, defaultHosts); err == nil {
				t.Fatal("Ensure succeeded with a damaged CA")
			}
			if after := snapshot(dir); !maps.Equal(before, after) {
				t.Error("files in dir changed after the failed call")
			}
		})
	}
}

func TestEnsureBadHosts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		hosts []string
	}{
		{"nil", nil},
		{"empty", []string{}},
		{"blank", []string{"localhost", " "}},
		{"with port", []string{"localhost:8443"}},
		{"url", []string{"https://localhost"}},
		{"leading hyphen", []string{"-bad.example"}},
		{"empty label", []string{"a..example"}},
		{"space inside", []string{"my host"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "x")
			if _, _, err := Ensure(dir, tt.hosts); err == nil {
				t.Fatalf("Ensure(%q) succeeded", tt.hosts)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("dir created despite invalid hosts (stat err %v)", err)
			}
		})
	}
}

func TestEnsureIPOnly(t *testing.T) {
	t.Parallel()
	cert, _ := mustEnsure(t, t.TempDir(), []string{"127.0.0.1"})
	if len(cert.Leaf.DNSNames) != 0 || len(cert.Leaf.IPAddresses) != 1 {
		t.Errorf("SANs: %v %v", cert.Leaf.DNSNames, cert.Leaf.IPAddresses)
	}
	if err := cert.Leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}
}

// reissueWith replaces the server certificate in dir by one for
// defaultHosts, signed by the CA on disk, with the given validity.
func reissueWith(t *testing.T, dir string, notBefore, notAfter time.Time) {
	t.Helper()
	ca, caKey, err := loadCA(filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dnsNames, ips, err := parseHosts(defaultHosts)
	if err != nil {
		t.Fatal(err)
	}
	der, key, err := issueLeaf(ca, caKey, dnsNames, ips, notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(dir, ServerKeyFile), keyPEM)
	writeTestFile(t, filepath.Join(dir, ServerFile), encodeCert(der))
}

func writeTestFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFileIfExists(path string) []byte {
	b, _ := os.ReadFile(path)
	return b
}

// certDER returns the DER of the first PEM block in b, or nil.
func certDER(b []byte) []byte {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil
	}
	return block.Bytes
}

// snapshot maps each file name in dir to its contents and mode.
func snapshot(dir string) map[string]string {
	m := make(map[string]string)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		info, _ := e.Info()
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		m[e.Name()] = info.Mode().String() + "\x00" + string(b)
	}
	return m
}

func TestServeHosts(t *testing.T) {
	specific := ServeHosts(&net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 4000}, "auth.example.com")
	if !slices.Equal(specific, []string{"localhost", "127.0.0.1", "::1", "10.1.2.3", "auth.example.com"}) {
		t.Fatalf("specific listen: %v", specific)
	}
	if got := ServeHosts(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, "bad host!"); !slices.Equal(got, []string{"localhost", "127.0.0.1", "::1", "127.0.0.1"}) {
		t.Fatalf("an unusable public host must be left out: %v", got)
	}

	// A wildcard listen covers every interface address of this machine.
	wild := ServeHosts(&net.TCPAddr{IP: net.IPv4zero, Port: 4000}, "")
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLinkLocalUnicast() && !slices.Contains(wild, n.IP.String()) {
			t.Errorf("wildcard listen misses interface address %s: %v", n.IP, wild)
		}
	}
	// And Ensure accepts the whole list.
	if _, _, err := Ensure(t.TempDir(), wild); err != nil {
		t.Fatalf("Ensure(%v): %v", wild, err)
	}
}

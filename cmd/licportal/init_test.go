package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/cmd/licportal/internal/statedir"
	"github.com/licensed-dev/licensed/license"
)

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, rest := pem.Decode(data)
	if blk == nil || blk.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("%s: want one CERTIFICATE block", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "portal")
	code, out, errOut := licportal(t, "init", "--state-dir", dir,
		"--listen-name", "portal.example", "--listen-name", "192.0.2.10", "--listen-name", "2001:db8::1", "--listen-name", "localhost")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("state dir: %v %v", fi.Mode(), err)
	}
	for name, perm := range map[string]os.FileMode{
		"signing.key": 0o600, "ca.key": 0o600, "tls.key": 0o600,
		"trust.pem": 0o644, "ca.pem": 0o644, "tls.pem": 0o644,
	} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != perm {
			t.Errorf("%s: mode %v, %v; want %v", name, fi.Mode().Perm(), err, perm)
		}
	}

	// The trust file names exactly the signing key.
	d := statedir.Dir{Path: dir}
	signer, err := d.LoadSigner()
	if err != nil {
		t.Fatal(err)
	}
	trustData, _ := os.ReadFile(d.File(statedir.TrustFile))
	tr, err := license.ParseTrust(trustData)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tr.IDs(), []string{signer.KeyID}) {
		t.Errorf("trust.pem holds %v; want [%s]", tr.IDs(), signer.KeyID)
	}
	if !strings.Contains(out, "Signing key ID:  "+signer.KeyID) || !strings.Contains(out, filepath.Join(dir, "trust.pem")) {
		t.Errorf("summary does not name the key and trust file:\n%s", out)
	}

	ca := readCert(t, d.File(statedir.CAFile))
	if !ca.IsCA || !ca.BasicConstraintsValid || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("CA certificate is not a CA: %+v", ca)
	}
	if got := ca.NotAfter.Sub(now); got < 10*365*24*time.Hour || got > 10*366*24*time.Hour {
		t.Errorf("CA valid for %v; want 10 years", got)
	}
	server := readCert(t, d.File(statedir.TLSCertFile))
	if got := server.NotAfter.Sub(now); got < 2*365*24*time.Hour || got > 2*366*24*time.Hour {
		t.Errorf("server certificate valid for %v; want 2 years", got)
	}
	if server.IsCA || !slices.Contains(server.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		t.Errorf("server certificate usage: CA %v, ext %v", server.IsCA, server.ExtKeyUsage)
	}
	for _, c := range []*x509.Certificate{ca, server} {
		k, ok := c.PublicKey.(*ecdsa.PublicKey)
		if !ok || k.Curve != elliptic.P256() {
			t.Errorf("%s: key %T; want ECDSA P-256", c.Subject.CommonName, c.PublicKey)
		}
		if c.NotBefore.After(now) {
			t.Errorf("%s: not valid before %v", c.Subject.CommonName, c.NotBefore)
		}
	}
	if !slices.Equal(server.DNSNames, []string{"localhost", "portal.example"}) {
		t.Errorf("DNS names %v", server.DNSNames)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	for _, name := range []string{"localhost", "portal.example", "127.0.0.1", "::1", "192.0.2.10", "2001:db8::1"} {
		_, err := server.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, CurrentTime: now})
		if err != nil {
			t.Errorf("server certificate for %s: %v", name, err)
		}
	}
	if _, err := server.Verify(x509.VerifyOptions{DNSName: "other.example", Roots: pool, CurrentTime: now}); err == nil {
		t.Error("server certificate verifies for a name it was not made for")
	}
	if _, err := tls.LoadX509KeyPair(d.File(statedir.TLSCertFile), d.File(statedir.TLSKeyFile)); err != nil {
		t.Errorf("tls.pem and tls.key do not pair: %v", err)
	}
}

// TestInitTLSHandshake serves TLS on loopback with the material init made
// and connects as an agent would, trusting only ca.pem, by IP address and by
// name.
func TestInitTLSHandshake(t *testing.T) {
	dir := t.TempDir()
	var errOut bytes.Buffer
	// The handshake checks validity against the real clock, so init uses it too.
	if code := run([]string{"init", "--state-dir", dir}, &env{Stdout: io.Discard, Stderr: &errOut, Now: time.Now}); code != exitOK {
		t.Fatalf("init: %s", errOut.String())
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "tls.pem"), filepath.Join(dir, "tls.key"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	serverNames := []string{"", "localhost"} // "": verify the IP address
	go func() {
		for range serverNames {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			_, _ = c.Write([]byte("ok"))
			c.Close()
		}
	}()
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem holds no certificate")
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	for _, name := range serverNames {
		conn, err := tls.DialWithDialer(dialer, "tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: name, MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatalf("TLS handshake (server name %q): %v", name, err)
		}
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(conn)
		conn.Close()
		if err != nil || string(got) != "ok" {
			t.Errorf("read %q, %v", got, err)
		}
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := licportal(t, "init", "--state-dir", dir); code != exitOK {
		t.Fatalf("init: %s", errOut)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "signing.key"))
	code, out, errOut := licportal(t, "init", "--state-dir", dir)
	if code != exitFailure || out != "" || !strings.Contains(errOut, "signing.key already exists") || !strings.Contains(errOut, "--force") {
		t.Errorf("second init: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "signing.key"))
	if !bytes.Equal(before, after) {
		t.Error("second init replaced the signing key")
	}
	// Any one key is enough to refuse.
	for _, name := range []string{"ca.key", "tls.key"} {
		d2 := t.TempDir()
		if err := os.WriteFile(filepath.Join(d2, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, _, errOut := licportal(t, "init", "--state-dir", d2); code != exitFailure || !strings.Contains(errOut, name+" already exists") {
			t.Errorf("init over %s: exit %d, %s", name, code, errOut)
		}
	}

	code, _, errOut = licportal(t, "init", "--state-dir", dir, "--force")
	if code != exitOK {
		t.Fatalf("init --force: %s", errOut)
	}
	replaced, _ := os.ReadFile(filepath.Join(dir, "signing.key"))
	if bytes.Equal(before, replaced) {
		t.Error("init --force kept the old signing key")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 7 {
		t.Errorf("state dir holds %d entries; want the 6 files and the store", len(entries))
	}
}

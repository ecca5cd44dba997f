// Package portaltest runs a licensing portal in-process for tests: a fresh
// signing key, a CA and server certificate made as licportal init makes
// them, a bbolt store in a temporary directory, and an HTTPS server on
// loopback with the portal's TLS settings.
package portaltest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/license"
	"github.com/licensed-dev/licensed/portal"
)

// Server is a running test portal.
type Server struct {
	*portal.Portal
	Store   *portal.BoltStore
	Signer  *license.Signer
	Trust   *license.Trust
	URL     string // https://127.0.0.1:PORT
	RootCAs *x509.CertPool
	CAFile  string // the CA certificate, PEM, for clients that read a file
	HTTP    *httptest.Server
	Dir     string
}

// TLS is a CA and a server certificate it signed.
type TLS struct {
	CA      *x509.Certificate
	CAPEM   []byte
	Pool    *x509.CertPool
	Cert    tls.Certificate
	CAKey   *ecdsa.PrivateKey
	Created time.Time
}

// NewTLS makes a CA and a certificate for localhost, 127.0.0.1 and ::1,
// ECDSA P-256 as licportal init makes them.
func NewTLS(t testing.TB) *TLS {
	t.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "portaltest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "portaltest"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &TLS{
		CA: ca, CAPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), Pool: pool,
		Cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, CAKey: caKey, Created: now,
	}
}

// Start runs a portal until the test ends. Fields of cfg left zero take
// the portal's defaults; Store and Signer are made here when nil.
func Start(t testing.TB, cfg portal.Config) *Server {
	t.Helper()
	s := &Server{Dir: t.TempDir()}
	if cfg.Signer == nil {
		k, err := license.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		cfg.Signer = license.NewSigner(k)
	}
	s.Signer = cfg.Signer
	trust, err := license.NewTrust(cfg.Signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	s.Trust = trust
	if cfg.Store == nil {
		// Tests check logic, not durability: no fsync.
		st, err := portal.OpenBolt(filepath.Join(s.Dir, "portal.db"), portal.BoltOptions{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		s.Store = st
		cfg.Store = st
	}
	if cfg.Logf == nil {
		cfg.Logf = t.Logf
	}
	p, err := portal.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Portal = p
	if _, err := p.SeedSKUs(portal.WithActor(t.Context(), "portaltest")); err != nil {
		t.Fatal(err)
	}
	m := NewTLS(t)
	s.RootCAs = m.Pool
	s.CAFile = filepath.Join(s.Dir, "ca.pem")
	if err := os.WriteFile(s.CAFile, m.CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	s.HTTP = Serve(t, p.Handler(), m.Cert)
	s.URL = s.HTTP.URL
	t.Cleanup(func() {
		s.HTTP.Close() // before the store: no request may outlive it
		if s.Store != nil {
			s.Store.Close()
		}
	})
	return s
}

// Serve runs h over HTTPS on loopback with the portal's server settings
// and cert, until the test ends.
func Serve(t testing.TB, h http.Handler, cert tls.Certificate) *httptest.Server {
	t.Helper()
	ref := portal.NewHTTPServer(h, cert, t.Logf)
	hs := httptest.NewUnstartedServer(h)
	hs.TLS = ref.TLSConfig
	hs.Config.ReadHeaderTimeout = ref.ReadHeaderTimeout
	hs.Config.ReadTimeout = ref.ReadTimeout
	hs.Config.WriteTimeout = ref.WriteTimeout
	hs.Config.MaxHeaderBytes = ref.MaxHeaderBytes
	hs.Config.ErrorLog = ref.ErrorLog
	hs.StartTLS()
	t.Cleanup(hs.Close)
	return hs
}

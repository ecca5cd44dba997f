package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/licensed-dev/licensed/cmd/licportal/internal/statedir"
	"github.com/licensed-dev/licensed/license"
	"github.com/licensed-dev/licensed/portal"
	"github.com/spf13/cobra"
)

// Lifetimes of the TLS material init makes.
const (
	caYears     = 10
	serverYears = 2
	// backdate covers clocks that are a little behind the portal's.
	backdate = time.Hour
)

type initOptions struct {
	stateDir    string
	listenNames []string // extra DNS names or IP addresses for the server certificate
	force       bool     // replace existing keys
}

func newInitCmd(e *env) *cobra.Command {
	o := &initOptions{}
	cmd := &cobra.Command{
		Use:   "init --state-dir DIR [flags]",
		Short: "Create the portal's signing key and TLS material",
		Long: `init creates the state directory (mode 0700) and in it:

  signing.key  the Ed25519 key that signs licenses (PEM, PKCS #8, mode 0600)
  trust.pem    its public key, for licensed --trust
  ca.pem       a CA certificate (ECDSA P-256, 10 years), for licensed --portal-ca
  ca.key       the CA's key (mode 0600)
  tls.pem      the HTTPS server certificate (2 years) for localhost, 127.0.0.1,
               ::1 and each --listen-name
  tls.key      the server's key (mode 0600)
  portal.db    the store: SKUs, PAKs, devices, licenses, audit log

and seeds the SKU catalog with one permanent SKU per licensable feature of
the built-in platforms, named PLATFORM-FEATURE (c3750e-ipservices,
uc500-phones).

init refuses to replace existing keys unless --force is given. After --force,
agents must be given the new trust.pem and ca.pem: they reject licenses signed
by the new key until then.`,
		Args: cobra.NoArgs,
		RunE: runE(e, func(cmd *cobra.Command, _ []string) error {
			return runInit(cmd, e, o)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.stateDir, "state-dir", "", "portal state directory (required)")
	f.StringArrayVar(&o.listenNames, "listen-name", nil, "extra DNS name or IP address the server certificate is valid for (repeatable)")
	f.BoolVar(&o.force, "force", false, "replace existing keys")
	_ = cmd.MarkFlagRequired("state-dir")
	return cmd
}

func runInit(cmd *cobra.Command, e *env, o *initOptions) error {
	d, err := statedir.New(o.stateDir)
	if err != nil {
		return &usageError{err}
	}
	dnsNames, ips, err := serverNames(o.listenNames)
	if err != nil {
		return err
	}
	if !o.force {
		for _, name := range []string{statedir.SigningKeyFile, statedir.CAKeyFile, statedir.TLSKeyFile} {
			exists, err := d.Exists(name)
			if err != nil {
				return err
			}
			if exists {
				return fmt.Errorf("%s already exists; refusing to replace the portal's keys (use --force: agents then need the new trust.pem and ca.pem)", d.File(name))
			}
		}
	}
	if err := d.Create(); err != nil {
		return err
	}

	signingKey, err := license.GenerateKey()
	if err != nil {
		return err
	}
	now := e.Now()
	caKey, caCert, err := newCA(now)
	if err != nil {
		return err
	}
	tlsKey, tlsCert, err := newServerCert(now, caKey, caCert, dnsNames, ips)
	if err != nil {
		return err
	}
	caKeyPEM, err := ecKeyPEM(caKey)
	if err != nil {
		return err
	}
	tlsKeyPEM, err := ecKeyPEM(tlsKey)
	if err != nil {
		return err
	}
	pub := signingKey.Public().(ed25519.PublicKey)
	// Keys first, certificates after: an interrupted run leaves keys that
	// make the next init refuse, never certificates without their keys.
	files := []struct {
		name string
		data []byte
		perm fs.FileMode
	}{
		{statedir.SigningKeyFile, license.MarshalPrivateKey(signingKey), statedir.SecretPerm},
		{statedir.CAKeyFile, caKeyPEM, statedir.SecretPerm},
		{statedir.TLSKeyFile, tlsKeyPEM, statedir.SecretPerm},
		{statedir.TrustFile, license.MarshalTrust(pub), statedir.PublicPerm},
		{statedir.CAFile, certPEM(caCert), statedir.PublicPerm},
		{statedir.TLSCertFile, certPEM(tlsCert), statedir.PublicPerm},
	}
	for _, f := range files {
		if err := d.WriteFile(f.name, f.data, f.perm); err != nil {
			return err
		}
	}

	// The catalog starts with one SKU per licensable feature of the
	// built-in platforms; SKUs already there are kept.
	ctx, admin, done, err := openAdmin(e, d.Path)
	if err != nil {
		return err
	}
	_, err = admin.SeedSKUs(ctx)
	var skus []portal.SKU
	if err == nil {
		skus, err = admin.SKUs(ctx)
	}
	done()
	if err != nil {
		return fmt.Errorf("seeding the SKU catalog: %w", err)
	}

	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "State directory: %s\n", d.Path)
	fmt.Fprintf(out, "Signing key ID:  %s\n", license.KeyID(pub))
	fmt.Fprintf(out, "Trust file:      %s (licensed --trust)\n", d.File(statedir.TrustFile))
	fmt.Fprintf(out, "Portal CA:       %s (licensed --portal-ca)\n", d.File(statedir.CAFile))
	names := slices.Clone(dnsNames)
	for _, ip := range ips {
		names = append(names, ip.String())
	}
	fmt.Fprintf(out, "TLS names:       %s (valid until %s)\n", strings.Join(names, ", "), tlsCert.NotAfter.UTC().Format(time.DateOnly))
	fmt.Fprintf(out, "SKU catalog:     %d SKUs (licportal sku list)\n", len(skus))
	return nil
}

// serverNames splits --listen-name values into DNS names and IP addresses
// and adds the loopback names every certificate carries.
func serverNames(extra []string) ([]string, []net.IP, error) {
	dnsNames := []string{"localhost"}
	ips := []net.IP{net.IPv4(127, 0, 0, 1).To4(), net.IPv6loopback}
	for _, n := range extra {
		if ip := net.ParseIP(n); ip != nil {
			if v4 := ip.To4(); v4 != nil {
				ip = v4
			}
			if !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
			continue
		}
		name := strings.ToLower(strings.TrimSuffix(n, "."))
		if err := checkDNSName(name); err != nil {
			return nil, nil, usagef("--listen-name %q: %v", n, err)
		}
		if !slices.Contains(dnsNames, name) {
			dnsNames = append(dnsNames, name)
		}
	}
	return dnsNames, ips, nil
}

// checkDNSName accepts a host name (RFC 1123 labels), optionally with a
// leading "*." wildcard label.
func checkDNSName(name string) error {
	if name == "" {
		return fmt.Errorf("empty name")
	}
	if len(name) > 253 {
		return fmt.Errorf("longer than 253 characters")
	}
	labels := strings.Split(name, ".")
	for i, l := range labels {
		if i == 0 && l == "*" && len(labels) > 2 {
			continue
		}
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("not an IP address or DNS name (bad label %q)", l)
		}
		for _, c := range l {
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return fmt.Errorf("not an IP address or DNS name (%q is not allowed)", c)
			}
		}
	}
	return nil
}

// serialNumber is a random 128-bit certificate serial number.
func serialNumber() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil // never zero
}

// newCA makes the self-signed CA agents are given with --portal-ca.
func newCA(now time.Time) (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("CA key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "licportal CA", Organization: []string{"licensed portal"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.AddDate(caYears, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("CA certificate: %w", err)
	}
	return key, cert, nil
}

// newServerCert makes the HTTPS server certificate, signed by the CA.
func newServerCert(now time.Time, caKey *ecdsa.PrivateKey, ca *x509.Certificate, dnsNames []string, ips []net.IP) (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("server key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "licportal", Organization: []string{"licensed portal"}},
		NotBefore:    now.Add(-backdate),
		NotAfter:     now.AddDate(serverYears, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     dnsNames,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("server certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("server certificate: %w", err)
	}
	return key, cert, nil
}

func ecKeyPEM(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

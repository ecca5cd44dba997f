package license

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestTestKeys proves the committed test-only keys are usable: the trust
// file parses and names exactly the test portal key, and the other key is
// unrelated to it.
func TestTestKeys(t *testing.T) {
	for _, path := range []string{testPortalKey, testTrustPEM, otherKey} {
		if first, _, _ := strings.Cut(string(readFile(t, path)), "\n"); first != "# TEST ONLY — never trust in production" {
			t.Errorf("%s: first line %q is not the test-only warning", path, first)
		}
	}
	portal := NewSigner(loadKey(t, testPortalKey))
	other := NewSigner(loadKey(t, otherKey))
	tr := testTrust(t)
	if got, want := tr.IDs(), []string{portal.KeyID}; !slices.Equal(got, want) {
		t.Fatalf("test-trust.pem holds keys %v; want %v", got, want)
	}
	if portal.KeyID == other.KeyID {
		t.Fatal("other-portal.key is the test portal key")
	}
	l := signed(t, portal, permanent("k1", "ipservices"))
	if err := tr.Verify(l); err != nil {
		t.Errorf("Verify with the test portal key: %v", err)
	}
	o := signed(t, other, permanent("k2", "ipservices"))
	if err := tr.Verify(o); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Verify with the other key: %v; want ErrUnknownKey", err)
	}
}

func TestKeyID(t *testing.T) {
	// A known answer: SHA-256 of 32 zero bytes starts 66687aadf862bd77.
	if got := KeyID(make(ed25519.PublicKey, 32)); got != "66687aadf862bd77" {
		t.Errorf("KeyID(zero key) = %s", got)
	}
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s := NewSigner(k)
	if s.KeyID != KeyID(s.Public()) || !validKeyID(s.KeyID) {
		t.Errorf("Signer.KeyID %q does not match its public key", s.KeyID)
	}
}

func TestVerify(t *testing.T) {
	s, tr := testSigner(t), testTrust(t)
	tests := []struct {
		name   string
		change func(*License)
		is     error
		want   string
	}{
		{"untouched", func(*License) {}, nil, ""},
		{"feature changed", func(l *License) { l.Feature = "advipservices" }, ErrBadSignature, "license t1: signature does not verify with key " + s.KeyID},
		{"UDI changed", func(l *License) { l.UDI = "WS-C3750E-24TD-S:FDO1234X0AC" }, ErrBadSignature, "does not verify"},
		{"comment added", func(l *License) { l.Comment = "x" }, ErrBadSignature, "does not verify"},
		{"signature flipped", func(l *License) { l.Signature[10] ^= 1 }, ErrBadSignature, "does not verify"},
		{"signature cut", func(l *License) { l.Signature = l.Signature[:63] }, ErrBadSignature, "signature is 63 bytes"},
		{"no key id", func(l *License) { l.KeyID = "" }, ErrUnknownKey, "license t1 names no signing key"},
		{"unknown key id", func(l *License) { l.KeyID = "0000000000000000" }, ErrUnknownKey, "license t1 is signed by key 0000000000000000, which is not trusted (trusted: " + s.KeyID + ")"},
	}
	for _, tt := range tests {
		l := signed(t, s, permanent("t1", "ipservices"))
		tt.change(l)
		err := tr.Verify(l)
		if tt.is == nil {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v; want %v containing %q", tt.name, err, tt.is, tt.want)
		}
	}

	// Domain separation: a license signature is not a plain Ed25519
	// signature, nor one under another context.
	l := signed(t, s, permanent("t2", "ipservices"))
	if ed25519.Verify(s.Public(), l.Canonical(), l.Signature) {
		t.Error("license signature verifies as plain Ed25519")
	}
	if ed25519.VerifyWithOptions(s.Public(), l.Canonical(), l.Signature, &ed25519.Options{Context: contextPermission}) == nil {
		t.Error("license signature verifies under the permission ticket context")
	}

	var empty Trust
	if err := empty.Verify(l); !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), "trusted: none") {
		t.Errorf("zero Trust: %v", err)
	}
	var nilTrust *Trust
	if err := nilTrust.Verify(l); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("nil Trust: %v", err)
	}
	if err := tr.Verify(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Verify(nil): %v", err)
	}
}

func TestSignerInvalidKey(t *testing.T) {
	s := NewSigner(ed25519.PrivateKey{1, 2, 3})
	if s.KeyID != "" || s.Public() != nil {
		t.Errorf("signer from a short key: KeyID %q", s.KeyID)
	}
	if err := s.Sign(permanent("x", "ipservices")); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("Sign with a short key: %v", err)
	}
	if err := s.SignTicket(&PermissionTicket{}); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("SignTicket with a short key: %v", err)
	}
	// A key whose public half is damaged still signs as its seed says.
	k := slices.Clone(loadKey(t, testPortalKey))
	k[40] ^= 0xff
	if got, want := NewSigner(k).KeyID, testSigner(t).KeyID; got != want {
		t.Errorf("damaged public half: KeyID %s; want %s", got, want)
	}
}

func TestTrustRoundTrip(t *testing.T) {
	a, _ := GenerateKey()
	b, _ := GenerateKey()
	pa, pb := a.Public().(ed25519.PublicKey), b.Public().(ed25519.PublicKey)
	data := MarshalTrust(pa, pb, pa)
	if n := bytes.Count(data, []byte("-----BEGIN PUBLIC KEY-----")); n != 2 {
		t.Errorf("MarshalTrust wrote %d blocks; want 2 (duplicates dropped)", n)
	}
	if !bytes.Contains(data, []byte("# key-id "+KeyID(pa)+"\n")) {
		t.Error("MarshalTrust does not name the key id")
	}
	tr, err := ParseTrust(data)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{KeyID(pa), KeyID(pb)}
	slices.Sort(want)
	if !slices.Equal(tr.IDs(), want) {
		t.Errorf("IDs() = %v; want %v", tr.IDs(), want)
	}
	// The OpenSSL form of the same key parses too.
	der, _ := x509.MarshalPKIXPublicKey(pa)
	if _, err := ParseTrust(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})); err != nil {
		t.Error(err)
	}
	if _, err := NewTrust(ed25519.PublicKey{1}); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("NewTrust(short key): %v", err)
	}
}

func TestParseTrustErrors(t *testing.T) {
	good := readFile(t, testTrustPEM)
	priv := MarshalPrivateKey(loadKey(t, testPortalKey))
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER})
	tests := []struct {
		name string
		in   []byte
		is   error
		want string
	}{
		{"empty", nil, ErrInvalidKey, "holds no \"PUBLIC KEY\" PEM block"},
		{"text only", []byte("# TEST ONLY\n"), ErrInvalidKey, "holds no"},
		{"private key", priv, ErrInvalidKey, "a private key does not belong in a trust file"},
		{"ECDSA key", ecPEM, ErrInvalidKey, "want Ed25519"},
		{"garbage DER", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("junk")}), ErrInvalidKey, "PEM block 1"},
		{"truncated block", good[:len(good)-30], ErrInvalidKey, "damaged or truncated"},
		{"damaged block before a good one", append([]byte("-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----\n"), good...), ErrInvalidKey, "1 of 2 PEM blocks are damaged"},
		{"too large", append(bytes.Repeat([]byte("#"), MaxFileSize), good...), ErrTooLarge, "limit"},
	}
	for _, tt := range tests {
		_, err := ParseTrust(tt.in)
		if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v; want %v containing %q", tt.name, err, tt.is, tt.want)
		}
	}
}

func TestPrivateKeyRoundTrip(t *testing.T) {
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	data := MarshalPrivateKey(k)
	if !bytes.HasPrefix(data, []byte("-----BEGIN PRIVATE KEY-----\n")) {
		t.Errorf("MarshalPrivateKey:\n%s", data)
	}
	got, err := ParsePrivateKey(append([]byte("# a note\n"), data...))
	if err != nil {
		t.Fatal(err)
	}
	if !k.Equal(got) {
		t.Error("private key changed in the round trip")
	}
}

func TestParsePrivateKeyErrors(t *testing.T) {
	good := readFile(t, testPortalKey)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, `no "PRIVATE KEY" PEM block`},
		{"public key", readFile(t, testTrustPEM), `is "PUBLIC KEY"; want "PRIVATE KEY"`},
		{"ECDSA", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}), "want Ed25519"},
		{"encrypted", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), "is encrypted"},
		{"two keys", append(slices.Clone(good), good...), "more than one private key"},
		{"truncated", good[:len(good)-20], "damaged or truncated"},
		{"garbage DER", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")}), "PEM block 1"},
	}
	for _, tt := range tests {
		_, err := ParsePrivateKey(tt.in)
		if !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v; want ErrInvalidKey containing %q", tt.name, err, tt.want)
		}
	}
}

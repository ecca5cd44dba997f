package license

import (
	"bytes"
	"crypto/ed25519"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files and the sample license files")

// Paths of the repository's shared test data.
const (
	testPortalKey = "../testdata/keys/test-portal.key"
	testTrustPEM  = "../testdata/keys/test-trust.pem"
	otherKey      = "../testdata/keys/other-portal.key"
	samplesDir    = "../testdata/licenses"
)

const testUDI = "WS-C3750E-24TD-S:FDO1234X0AB"

// t0 is the fixed issue time of test documents.
var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func loadKey(tb testing.TB, path string) ed25519.PrivateKey {
	tb.Helper()
	k, err := ParsePrivateKey(readFile(tb, path))
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return k
}

func testSigner(tb testing.TB) *Signer { return NewSigner(loadKey(tb, testPortalKey)) }

func testTrust(tb testing.TB) *Trust {
	tb.Helper()
	tr, err := ParseTrust(readFile(tb, testTrustPEM))
	if err != nil {
		tb.Fatal(err)
	}
	return tr
}

// deviceKey is a fixed device key, so documents signed with it are stable.
func deviceKey(n byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{n}, ed25519.SeedSize))
}

// permanent returns an unsigned permanent license for testUDI.
func permanent(id, feature string) *License {
	return &License{
		ID: id, Feature: feature, Version: "1.0", Type: Permanent,
		UDI: testUDI, Addition: Exclusive, Issued: t0, PAK: "3XA7QK2M9TZ",
	}
}

func signed(tb testing.TB, s *Signer, l *License) *License {
	tb.Helper()
	if err := s.Sign(l); err != nil {
		tb.Fatal(err)
	}
	return l
}

// golden compares got with the file testdata/golden/name, or rewrites the
// file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -update after checking the change)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

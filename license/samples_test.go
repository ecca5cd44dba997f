package license

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// sample is one file of ../testdata/licenses, which tests of other
// packages install. go test -update rewrites them from this table; without
// it the committed files must match byte for byte (Ed25519 signatures are
// deterministic).
type sample struct {
	file    string
	key     string // private key that signs it
	trusted bool   // signed by the key in test-trust.pem
	udis    []string
	ls      []*License
}

// sampleID is a fixed, random-looking license id.
func sampleID(name string) string {
	sum := sha256.Sum256([]byte("sample license " + name))
	return hex.EncodeToString(sum[:8])
}

const otherUDI = "WS-C3750E-24TD-S:FDO9876Y5ZZ"

func samples() []sample {
	lic := func(name, feature string, typ Type, udi string) *License {
		l := &License{ID: sampleID(name), Feature: feature, Version: "1.0", Type: typ, UDI: udi,
			Addition: Exclusive, Issued: t0, PAK: "3XA7QK2M9TZ"}
		if typ.Metered() {
			l.Period = 60 * 24 * time.Hour
		}
		return l
	}
	return []sample{
		{"ws-c3750e-ipservices.lic", testPortalKey, true, []string{testUDI},
			[]*License{lic("ipservices", "ipservices", Permanent, testUDI)}},
		{"ws-c3750e-advipservices.lic", testPortalKey, true, []string{testUDI},
			[]*License{lic("advipservices", "advipservices", Permanent, testUDI)}},
		{"other-udi-ipservices.lic", testPortalKey, true, []string{otherUDI},
			[]*License{lic("other-udi", "ipservices", Permanent, otherUDI)}},
		{"ws-c3750e-three.lic", testPortalKey, true, []string{testUDI, testUDI, testUDI},
			[]*License{
				lic("three-1", "ipservices", Permanent, testUDI),
				lic("three-2", "advipservices", Permanent, testUDI),
				lic("three-3", "advipservices", Extension, testUDI),
			}},
		{"untrusted-key-ipservices.lic", otherKey, false, []string{testUDI},
			[]*License{lic("untrusted", "ipservices", Permanent, testUDI)}},
	}
}

func TestSampleLicenses(t *testing.T) {
	tr := testTrust(t)
	for _, s := range samples() {
		t.Run(s.file, func(t *testing.T) {
			signer := NewSigner(loadKey(t, s.key))
			for _, l := range s.ls {
				signed(t, signer, l)
			}
			want := Encode(s.ls...)
			path := filepath.Join(samplesDir, s.file)
			if *update {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			data := readFile(t, path)
			if !bytes.Equal(data, want) {
				t.Fatalf("%s differs from what the table makes (run go test -update after checking the change)", path)
			}
			ls, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(ls) != len(s.udis) {
				t.Fatalf("%d licenses; want %d", len(ls), len(s.udis))
			}
			for i, l := range ls {
				if l.UDI != s.udis[i] {
					t.Errorf("license %d is for %s; want %s", i+1, l.UDI, s.udis[i])
				}
				err := tr.Verify(l)
				if s.trusted && err != nil {
					t.Errorf("license %d: %v", i+1, err)
				}
				if !s.trusted && !errors.Is(err, ErrUnknownKey) {
					t.Errorf("license %d signed by the other key: %v; want ErrUnknownKey", i+1, err)
				}
			}
		})
	}
}

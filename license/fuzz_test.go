package license

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// addSeeds adds every committed sample license file and golden document.
func addSeeds(f *testing.F, patterns ...string) {
	for _, p := range patterns {
		files, err := filepath.Glob(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
}

// parseFailed checks that a parse error is one of the documented kinds.
func parseFailed(t *testing.T, err error) {
	if !errors.Is(err, ErrInvalidFile) && !errors.Is(err, ErrTooLarge) &&
		!errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("error of no documented kind: %v", err)
	}
}

// FuzzParse: Parse never panics; what it accepts is valid, and encodes to
// a file that parses to equal values and re-encodes to the same bytes.
func FuzzParse(f *testing.F) {
	addSeeds(f, filepath.Join(samplesDir, "*.lic"), "testdata/golden/license-file.golden")
	f.Add([]byte("licensed-license-file v1\n"))
	f.Add([]byte("licensed-license-file v1\n\nid: a\nfeature: b\nversion: 1\ntype: rightToUse\nissued: 2026-11-01T00:00:00Z\nkey-id: 0000000000000000\nsignature: " +
		b64.EncodeToString(make([]byte, 64)) + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ls, err := Parse(data)
		if err != nil {
			parseFailed(t, err)
			return
		}
		for _, l := range ls {
			if err := l.Validate(); err != nil {
				t.Fatalf("Parse accepted an invalid license: %v", err)
			}
			if len(l.Signature) != signatureSize || l.KeyID == "" {
				t.Fatalf("Parse accepted an unsigned license: %+v", l)
			}
		}
		enc := Encode(ls...)
		if len(enc) > MaxFileSize {
			return // the notes Encode adds may push a file at the limit over it
		}
		again, err := Parse(enc)
		if err != nil {
			t.Fatalf("Parse(Encode(Parse(x))): %v\n%s", err, enc)
		}
		if !reflect.DeepEqual(again, ls) {
			t.Fatalf("Encode(Parse(x)) parses to other values:\n%+v\n%+v", again, ls)
		}
		if !bytes.Equal(Encode(again...), enc) {
			t.Fatal("Encode is not stable")
		}
	})
}

func FuzzParseCredential(f *testing.F) {
	addSeeds(f, "testdata/golden/credential.golden")
	if c, err := NewCredential([]string{testUDI}, " core\tsw\u202e\n# x: y ", deviceKey(3), t0); err == nil {
		f.Add(c.Encode())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCredential(data)
		if err != nil {
			parseFailed(t, err)
			return
		}
		again, err := ParseCredential(c.Encode())
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, c)
		}
	})
}

func FuzzParsePermissionTicket(f *testing.F) {
	addSeeds(f, "testdata/golden/permission-ticket.golden")
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePermissionTicket(data)
		if err != nil {
			parseFailed(t, err)
			return
		}
		enc := p.Encode()
		if len(enc) > MaxFileSize {
			return
		}
		again, err := ParsePermissionTicket(enc)
		if err != nil || !reflect.DeepEqual(again, p) {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, p)
		}
	})
}

func FuzzParseRehostTicket(f *testing.F) {
	addSeeds(f, "testdata/golden/rehost-ticket.golden")
	p := testTicket()
	if r, err := NewRehostTicket(p, p.LicenseIDs[1:], deviceKey(3), t0); err == nil {
		f.Add(r.Encode())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRehostTicket(data)
		if err != nil {
			parseFailed(t, err)
			return
		}
		again, err := ParseRehostTicket(r.Encode())
		if err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, r)
		}
	})
}

func FuzzParseTrust(f *testing.F) {
	addSeeds(f, testTrustPEM, testPortalKey)
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := ParseTrust(data)
		if err != nil {
			parseFailed(t, err)
			return
		}
		var pubs []ed25519.PublicKey
		for _, id := range tr.IDs() {
			pubs = append(pubs, tr.keys[id])
		}
		again, err := ParseTrust(MarshalTrust(pubs...))
		if err != nil || !slices.Equal(again.IDs(), tr.IDs()) {
			t.Fatalf("round trip: %v, %v; want %v", again.IDs(), err, tr.IDs())
		}
	})
}

func FuzzParsePrivateKey(f *testing.F) {
	addSeeds(f, testPortalKey, otherKey, testTrustPEM)
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParsePrivateKey(data)
		if err != nil {
			parseFailed(t, err)
			return
		}
		again, err := ParsePrivateKey(MarshalPrivateKey(k))
		if err != nil || !again.Equal(k) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzEscape: every value has a one-line spelling that reads back as
// itself.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"plain", " edge ", "a\\b\nc", "\u202e\ufeff\x00", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := escapeValue(s)
		if msg := checkLine([]byte("k: " + e)); msg != "" {
			t.Fatalf("escapeValue(%q) = %q: %s", s, e, msg)
		}
		if s == "" {
			return
		}
		back, err := unescapeValue(e)
		if err != nil || back != s {
			t.Fatalf("unescapeValue(%q) = %q, %v; want %q", e, back, err, s)
		}
	})
}

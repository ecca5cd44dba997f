package protocol

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestNewPAK(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		p, err := NewPAK(nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != PAKLength || seen[p] {
			t.Fatalf("PAK %q (seen before: %v)", p, seen[p])
		}
		seen[p] = true
		if n, err := NormalizePAK(p); err != nil || n != p {
			t.Fatalf("NormalizePAK(%q) = %q, %v", p, n, err)
		}
	}
	// A short random source is an error, not a short PAK.
	if _, err := NewPAK(bytes.NewReader([]byte{1, 2, 3})); err == nil {
		t.Fatal("NewPAK with 3 random bytes succeeded")
	}
}

func TestNormalizePAK(t *testing.T) {
	good, _ := NewPAK(bytes.NewReader(bytes.Repeat([]byte{7}, 16)))
	for _, tc := range []struct {
		in, out, err string
	}{
		{good, good, ""},
		{strings.ToLower(good), good, ""},
		{"", "", "11 characters, not 0"},
		{good + "0", "", "not 12"},
		{good[:10] + "Z", "", "not a PAK symbol"},
		{good[:10] + "-", "", "character 11"},
		{"ÄBCDEFGHJK", "", "character 1 (a non-ASCII byte)"},
	} {
		got, err := NormalizePAK(tc.in)
		if tc.err == "" && (err != nil || got != tc.out) || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrBadPAK)) {
			t.Errorf("NormalizePAK(%q) = %q, %v; want %q, %q", tc.in, got, err, tc.out, tc.err)
		}
	}
	// O, I and L are read as 0, 1 and 1.
	p := []byte(good)
	for i, c := range p[:PAKLength-1] {
		if c == '0' || c == '1' {
			alt := map[byte]byte{'0': 'O', '1': 'I'}[c]
			q := append([]byte(nil), p...)
			q[i] = alt
			if n, err := NormalizePAK(string(q)); err != nil || n != good {
				t.Errorf("NormalizePAK(%s) = %q, %v", q, n, err)
			}
		}
	}
}

// TestPAKCheckCatchesTypos: every single substitution and every swap of
// neighbours in a sample of PAKs is refused.
func TestPAKCheckCatchesTypos(t *testing.T) {
	for range 50 {
		p, _ := NewPAK(nil)
		for i := range PAKLength {
			for _, c := range []byte(pakAlphabet) {
				if c == p[i] {
					continue
				}
				q := []byte(p)
				q[i] = c
				if _, err := NormalizePAK(string(q)); err == nil {
					t.Fatalf("%s accepted in place of %s", q, p)
				}
			}
			if i+1 < PAKLength && p[i] != p[i+1] {
				q := []byte(p)
				q[i], q[i+1] = q[i+1], q[i]
				if _, err := NormalizePAK(string(q)); err == nil {
					t.Fatalf("swap %s accepted in place of %s", q, p)
				}
			}
		}
	}
}

func TestSigningMessage(t *testing.T) {
	m := SigningMessage("POST", PathRedeem, "PID:SN", 1700000000, "nonce0123456789ab", "key0123456789abcd", []byte(`{"pak":"X"}`))
	want := "licensed-callhome-request-v1\nPOST\n/v1/pak/redeem\nPID:SN\n1700000000\nnonce0123456789ab\nkey0123456789abcd\n"
	if !strings.HasPrefix(string(m), want) || len(m) != len(want)+65 {
		t.Fatalf("message %q", m)
	}
	// Every input changes the message.
	for _, other := range [][]byte{
		SigningMessage("GET", PathRedeem, "PID:SN", 1700000000, "nonce0123456789ab", "key0123456789abcd", []byte(`{"pak":"X"}`)),
		SigningMessage("POST", PathResend, "PID:SN", 1700000000, "nonce0123456789ab", "key0123456789abcd", []byte(`{"pak":"X"}`)),
		SigningMessage("POST", PathRedeem, "PID:SM", 1700000000, "nonce0123456789ab", "key0123456789abcd", []byte(`{"pak":"X"}`)),
		SigningMessage("POST", PathRedeem, "PID:SN", 1700000001, "nonce0123456789ab", "key0123456789abcd", []byte(`{"pak":"X"}`)),
		SigningMessage("POST", PathRedeem, "PID:SN", 1700000000, "nonce0123456789ac", "key0123456789abcd", []byte(`{"pak":"X"}`)),
		SigningMessage("POST", PathRedeem, "PID:SN", 1700000000, "nonce0123456789ab", "", []byte(`{"pak":"X"}`)),
		SigningMessage("POST", PathRedeem, "PID:SN", 1700000000, "nonce0123456789ab", "key0123456789abcd", []byte(`{"pak":"Y"}`)),
	} {
		if bytes.Equal(m, other) {
			t.Fatal("a changed input left the message unchanged")
		}
	}
}

func TestValidToken(t *testing.T) {
	for s, want := range map[string]bool{
		"0123456789abcdef": true, strings.Repeat("a", 64): true, "ABC_def-0123456789": true,
		"short": false, strings.Repeat("a", 65): false, "0123456789abcde!": false, "0123456789abcdef\n": false,
	} {
		if ValidToken(s) != want {
			t.Errorf("ValidToken(%q) = %v", s, !want)
		}
	}
}

func TestDecode(t *testing.T) {
	type v struct {
		A int `json:"a"`
	}
	for _, tc := range []struct {
		in     string
		strict bool
		err    string
	}{
		{`{"a":1}`, true, ""},
		{` {"a":1} `, true, ""},
		{`{"a":1,"b":2}`, false, ""},
		{`{"a":1,"b":2}`, true, "unknown field"},
		{`{"a":1}{"a":2}`, false, "data after"},
		{`null`, false, "want a JSON object"},
		{`[1]`, false, "want a JSON object"},
		{``, false, "want a JSON object"},
		{`{"a":"x"}`, false, "cannot unmarshal"},
		{`{"a":1`, false, "unexpected EOF"},
	} {
		var out v
		err := Decode([]byte(tc.in), &out, tc.strict)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrMalformed)) {
			t.Errorf("Decode(%q, %v) = %v; want %q", tc.in, tc.strict, err, tc.err)
		}
	}
}

func FuzzNormalizePAK(f *testing.F) {
	f.Add("7K2M9X4PQ84")
	f.Add("o1l1o1l1o1l")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := NormalizePAK(s)
		if err != nil {
			if !errors.Is(err, ErrBadPAK) {
				t.Fatalf("error of no documented kind: %v", err)
			}
			return
		}
		if len(p) != PAKLength || strings.Trim(p, pakAlphabet) != "" {
			t.Fatalf("NormalizePAK(%q) = %q", s, p)
		}
		if again, err := NormalizePAK(p); err != nil || again != p {
			t.Fatalf("not idempotent: %q → %q, %v", p, again, err)
		}
	})
}

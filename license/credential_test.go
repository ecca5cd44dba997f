package license

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var stackUDIs = []string{testUDI, "WS-C3750E-24TD-S:FDO1234X0AC"}

func TestCredentialRoundTrip(t *testing.T) {
	dev := deviceKey(1)
	c, err := NewCredential(stackUDIs, "sw-lab-1", dev, t0.Add(1500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if c.Issued != t0.Add(time.Second) {
		t.Errorf("Issued = %v; want it truncated to the second", c.Issued)
	}
	data := c.Encode()
	golden(t, "credential.golden", data)
	got, err := ParseCredential(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, c)
	}
	if !got.PublicKey.Equal(dev.Public()) {
		t.Error("credential does not carry the device public key")
	}

	// Without a hostname, and with a hostname that needs escaping.
	for _, host := range []string{"", "core sw\n# injected: yes"} {
		c, err := NewCredential([]string{testUDI}, host, dev, t0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseCredential(c.Encode())
		if err != nil || got.Hostname != host {
			t.Errorf("hostname %q: got %+v, %v", host, got, err)
		}
	}
}

func TestNewCredentialErrors(t *testing.T) {
	dev := deviceKey(1)
	tests := []struct {
		name string
		udis []string
		host string
		key  []byte
		is   error
		want string
	}{
		{"no UDIs", nil, "h", dev, ErrInvalid, "udi: at least one UDI is required"},
		{"bad UDI", []string{"nocolon"}, "h", dev, ErrInvalid, "want PID:SN"},
		{"duplicate UDI", []string{testUDI, testUDI}, "h", dev, ErrInvalid, "listed twice"},
		{"long hostname", []string{testUDI}, strings.Repeat("h", 256), dev, ErrInvalid, "hostname: 256 bytes"},
		{"hostname not UTF-8", []string{testUDI}, "\xff", dev, ErrInvalid, "hostname: not valid UTF-8"},
		{"short key", []string{testUDI}, "h", []byte{1, 2}, ErrInvalidKey, "device key is 2 bytes"},
	}
	for _, tt := range tests {
		_, err := NewCredential(tt.udis, tt.host, tt.key, t0)
		if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v; want %v containing %q", tt.name, err, tt.is, tt.want)
		}
	}
}

func TestParseCredentialErrors(t *testing.T) {
	c, err := NewCredential(stackUDIs, "sw-lab-1", deviceKey(1), t0)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewCredential(stackUDIs, "sw-lab-1", deviceKey(2), t0)
	base := string(c.Encode())
	otherKey := b64.EncodeToString(other.PublicKey)
	tests := []struct {
		name string
		in   string
		is   error
		want string
	}{
		{"UDI swapped", strings.Replace(base, "FDO1234X0AC", "FDO9999X0ZZ", 1), ErrBadSignature, "device credential of " + testUDI + ": signature does not verify"},
		{"hostname changed", strings.Replace(base, "sw-lab-1", "sw-lab-2", 1), ErrBadSignature, "does not verify"},
		{"key replaced", strings.Replace(base, b64.EncodeToString(c.PublicKey), otherKey, 1), ErrBadSignature, "does not verify"},
		{"license file header", strings.Replace(base, "licensed-device-credential v1", "licensed-license-file v1", 1), ErrInvalidFile, "want the header line"},
		{"two blocks", base + "\n" + base[strings.Index(base, "udi:"):], ErrInvalidFile, "want one credential block, found 2"},
		{"duplicate UDI", strings.Replace(base, "FDO1234X0AC", "FDO1234X0AB", 1), ErrInvalidFile, "line 6: udi: UDI " + testUDI + " is listed twice"},
		{"UDIs apart", strings.Replace(base, "hostname: sw-lab-1\n", "hostname: sw-lab-1\nudi: A:B\n", 1), ErrInvalidFile, "lines of a repeated field must be together"},
		{"no public key", strings.Replace(base, "public-key: ", "publickey: ", 1), ErrInvalidFile, `unknown field "publickey"`},
		{"short public key", strings.Replace(base, b64.EncodeToString(c.PublicKey), "AAAA", 1), ErrInvalidFile, "public-key: 3 bytes; want 32"},
		{"too large", base + strings.Repeat("#\n", MaxFileSize), ErrTooLarge, "device credential is"},
	}
	for _, tt := range tests {
		_, err := ParseCredential([]byte(tt.in))
		if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v; want %v containing %q", tt.name, err, tt.is, tt.want)
		}
	}
}

package license

import (
	"crypto/ed25519"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func graceLicense(id string) *License {
	return &License{ID: id, Feature: "ipservices", Version: "1.0", Type: GracePeriod,
		UDI: testUDI, Addition: Exclusive, Period: 60 * 24 * time.Hour, Issued: t0}
}

func testTicket() *PermissionTicket {
	return &PermissionTicket{
		ID: "pt00000000000001", UDI: testUDI,
		LicenseIDs: []string{"6a1f3e0c9b2d4a57", "b3c8e1f04d2a6957"},
		Grace:      []*License{graceLicense("9000000000000001")},
		Issued:     t0, Expires: t0.Add(30 * 24 * time.Hour),
	}
}

func TestPermissionTicketRoundTrip(t *testing.T) {
	s, tr := testSigner(t), testTrust(t)
	p := testTicket()
	g := p.Grace[0]
	if err := s.SignTicket(p); err != nil {
		t.Fatal(err)
	}
	if p.Grace[0] != g || len(g.Signature) != 64 || g.KeyID != s.KeyID {
		t.Error("SignTicket did not sign the caller's grace license in place")
	}
	if err := tr.Verify(g); err != nil {
		t.Errorf("grace license alone: %v", err)
	}
	data := p.Encode()
	golden(t, "permission-ticket.golden", data)
	got, err := ParsePermissionTicket(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, p)
	}
	if err := tr.VerifyTicket(got); err != nil {
		t.Error(err)
	}
	if got.Expired(t0.Add(29*24*time.Hour)) || !got.Expired(p.Expires) {
		t.Error("Expired is wrong at the edges")
	}

	// No grace licenses.
	q := testTicket()
	q.Grace = nil
	if err := s.SignTicket(q); err != nil {
		t.Fatal(err)
	}
	got, err = ParsePermissionTicket(q.Encode())
	if err != nil || tr.VerifyTicket(got) != nil || len(got.Grace) != 0 {
		t.Errorf("ticket without grace: %+v, %v", got, err)
	}
}

func TestVerifyTicket(t *testing.T) {
	s, tr := testSigner(t), testTrust(t)
	other := NewSigner(loadKey(t, otherKey))
	tests := []struct {
		name   string
		change func(*PermissionTicket)
		is     error
		want   string
	}{
		{"license added", func(p *PermissionTicket) { p.LicenseIDs = append(p.LicenseIDs, "x") }, ErrBadSignature, "permission ticket pt00000000000001: signature does not verify"},
		{"expiry moved", func(p *PermissionTicket) { p.Expires = p.Expires.AddDate(1, 0, 0) }, ErrBadSignature, "does not verify"},
		{"grace license dropped", func(p *PermissionTicket) { p.Grace = nil }, ErrBadSignature, "does not verify"},
		{"grace period changed", func(p *PermissionTicket) { p.Grace[0].Period *= 2 }, ErrBadSignature, "permission ticket pt00000000000001: signature does not verify"},
		{"unknown key", func(p *PermissionTicket) { p.KeyID = other.KeyID }, ErrUnknownKey, "permission ticket pt00000000000001 is signed by key " + other.KeyID},
	}
	for _, tt := range tests {
		p := testTicket()
		if err := s.SignTicket(p); err != nil {
			t.Fatal(err)
		}
		tt.change(p)
		err := tr.VerifyTicket(p)
		if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v; want %v containing %q", tt.name, err, tt.is, tt.want)
		}
	}

	// A ticket signed by a trusted key whose grace license is not.
	p := testTicket()
	if err := s.SignTicket(p); err != nil {
		t.Fatal(err)
	}
	if err := other.Sign(p.Grace[0]); err != nil {
		t.Fatal(err)
	}
	p.Signature, _ = s.sign(contextPermission, p.Canonical())
	err := tr.VerifyTicket(p)
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), "permission ticket pt00000000000001: unknown signing key: license 9000000000000001") {
		t.Errorf("grace license signed by an untrusted key: %v", err)
	}
	// A permission ticket signature does not verify as a license's.
	if ticket := testTicket(); s.SignTicket(ticket) == nil {
		fake := *ticket.Grace[0]
		fake.Signature = ticket.Signature
		if err := tr.Verify(&fake); !errors.Is(err, ErrBadSignature) {
			t.Errorf("ticket signature accepted on a license: %v", err)
		}
	}
}

func TestSignTicketErrors(t *testing.T) {
	s := testSigner(t)
	tests := []struct {
		name   string
		change func(*PermissionTicket)
		want   string
	}{
		{"no licenses", func(p *PermissionTicket) { p.LicenseIDs = nil }, "license: at least one license id is required"},
		{"duplicate license", func(p *PermissionTicket) { p.LicenseIDs = []string{"a", "a"} }, "license a is listed twice"},
		{"bad UDI", func(p *PermissionTicket) { p.UDI = "x" }, "udi: UDI \"x\": want PID:SN"},
		{"expires before issued", func(p *PermissionTicket) { p.Expires = p.Issued }, "expires: 2026-11-01T00:00:00Z is not after issued"},
		{"no expiry", func(p *PermissionTicket) { p.Expires = time.Time{} }, "expires: required"},
		{"grace of another type", func(p *PermissionTicket) { p.Grace[0].Type = Extension }, "grace license 9000000000000001 has type extension; want gracePeriod"},
		{"grace for another UDI", func(p *PermissionTicket) { p.Grace[0].UDI = "WS-C3750E-24TD-S:FDO0000X0AA" }, "is for WS-C3750E-24TD-S:FDO0000X0AA, not the ticket's UDI"},
		{"grace is revoked too", func(p *PermissionTicket) { p.Grace[0].ID = p.LicenseIDs[0] }, "is also a license the ticket revokes"},
		{"grace twice", func(p *PermissionTicket) { p.Grace = append(p.Grace, graceLicense("9000000000000001")) }, "appears twice"},
		{"grace invalid", func(p *PermissionTicket) { p.Grace[0].Period = 0 }, "grace license 1: invalid license 9000000000000001: period: required"},
		{"grace nil", func(p *PermissionTicket) { p.Grace[0] = nil }, "grace license 1 is nil"},
	}
	for _, tt := range tests {
		p := testTicket()
		tt.change(p)
		before := *p
		err := s.SignTicket(p)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v; want ErrInvalid containing %q", tt.name, err, tt.want)
		}
		if !reflect.DeepEqual(*p, before) {
			t.Errorf("%s: SignTicket changed the ticket on error", tt.name)
		}
	}
}

func TestParsePermissionTicketErrors(t *testing.T) {
	s := testSigner(t)
	p := testTicket()
	if err := s.SignTicket(p); err != nil {
		t.Fatal(err)
	}
	base := string(p.Encode())
	tests := []struct {
		name, in, want string
	}{
		{"license file", string(Encode(p.Grace[0])), "want the header line \"licensed-permission-ticket v1\""},
		{"no block", "licensed-permission-ticket v1\n", "no ticket block"},
		{"licenses apart", strings.Replace(base, "expires:", "license: zz\nexpires:", 1), "license: lines of a repeated field must be together"},
		{"grace not grace", strings.Replace(base, "type: gracePeriod", "type: extension", 1), "type: grace license 9000000000000001 has type extension"},
		{"grace unsigned", base[:strings.LastIndex(base, "signature:")], "no \"signature\" field"},
		{"unknown ticket field", strings.Replace(base, "expires:", "note: x\nexpires:", 1), "unknown field \"note\" in a permission ticket"},
	}
	for _, tt := range tests {
		_, err := ParsePermissionTicket([]byte(tt.in))
		if !errors.Is(err, ErrInvalidFile) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v; want ErrInvalidFile containing %q", tt.name, err, tt.want)
		}
	}
	// The error points at the grace license's own line.
	in := strings.Replace(base, "type: gracePeriod", "type: extension", 1)
	_, err := ParsePermissionTicket([]byte(in))
	var se *SyntaxError
	if !errors.As(err, &se) || strings.Split(in, "\n")[se.Line-1] != "type: extension" {
		t.Errorf("error %v does not point at the type line", err)
	}
}

func TestRehostTicket(t *testing.T) {
	s := testSigner(t)
	p := testTicket()
	if err := s.SignTicket(p); err != nil {
		t.Fatal(err)
	}
	dev := deviceKey(1)
	r, err := NewRehostTicket(p, p.LicenseIDs, dev, t0.Add(time.Hour+time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if r.UDI != p.UDI || r.PermissionTicketID != p.ID || !slices.Equal(r.Revoked, p.LicenseIDs) ||
		r.Issued != t0.Add(time.Hour) || !r.PublicKey.Equal(dev.Public()) || !validToken(r.ID, maxTokenLen) {
		t.Errorf("NewRehostTicket = %+v", r)
	}
	r2, _ := NewRehostTicket(p, p.LicenseIDs, dev, t0)
	if r2.ID == r.ID {
		t.Error("two rehost tickets share an id")
	}
	got, err := ParseRehostTicket(r.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, r)
	}

	// A fixed id makes the document stable for the golden file.
	r.ID = "rh00000000000001"
	r.Signature, _ = signWith(dev, contextRehost, r.canonical())
	golden(t, "rehost-ticket.golden", r.Encode())

	base := string(r.Encode())
	for name, in := range map[string]string{
		"revoked list shortened": strings.Replace(base, "revoked: b3c8e1f04d2a6957\n", "", 1),
		"UDI changed":            strings.Replace(base, "udi: "+testUDI, "udi: WS-C3750E-24TD-S:FDO1234X0AC", 1),
		"key replaced":           strings.Replace(base, b64.EncodeToString(r.PublicKey), b64.EncodeToString(deviceKey(2).Public().(ed25519.PublicKey)), 1),
	} {
		if _, err := ParseRehostTicket([]byte(in)); !errors.Is(err, ErrBadSignature) || !strings.Contains(err.Error(), "rehost ticket rh00000000000001: signature does not verify") {
			t.Errorf("%s: %v; want ErrBadSignature", name, err)
		}
	}
	if _, err := ParseRehostTicket([]byte(strings.Replace(base, "revoked: ", "revoke: ", 1))); !errors.Is(err, ErrInvalidFile) {
		t.Errorf("unknown field: %v", err)
	}

	for name, tc := range map[string]struct {
		revoked []string
		key     []byte
		is      error
		want    string
	}{
		"nothing revoked":   {nil, dev, ErrInvalid, "revoked: at least one license id is required"},
		"not in the ticket": {[]string{"zzz"}, dev, ErrInvalid, "license zzz is not named by permission ticket pt00000000000001"},
		"revoked twice":     {[]string{p.LicenseIDs[0], p.LicenseIDs[0]}, dev, ErrInvalid, "listed twice"},
		"short device key":  {p.LicenseIDs, []byte{1}, ErrInvalidKey, "device key is 1 bytes"},
		"a subset":          {p.LicenseIDs[:1], dev, nil, ""},
	} {
		_, err := NewRehostTicket(p, tc.revoked, tc.key, t0)
		if tc.is == nil {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v; want %v containing %q", name, err, tc.is, tc.want)
		}
	}
}

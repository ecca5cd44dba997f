package snmp

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

func TestParseOID(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    oid
		wantErr string
	}{
		{".1.3.6.1.2.1.1.1.0", oid{1, 3, 6, 1, 2, 1, 1, 1, 0}, ""},
		{"1.3.6", oid{1, 3, 6}, ""},
		{"0.0", oid{0, 0}, ""},
		{"2.999.4294967295", oid{2, 999, 4294967295}, ""},
		{"", nil, "empty"},
		{".", nil, "empty"},
		{"1", nil, "at least two"},
		{"1.3.4294967296", nil, "not a number"},
		{"1..3", nil, "not a number"},
		{"1.3.-1", nil, "not a number"},
		{"1.3.a", nil, "not a number"},
		{"3.1", nil, "first arc"},
		{"1.40", nil, "first arc"},
		{strings.Repeat("1.", 128) + "1", nil, "more than 128"},
	} {
		got, err := parseOID(c.in)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("parseOID(%q) error %v, want %q", c.in, err, c.wantErr)
			}
			if _, ok := nameBERLen(c.in); ok {
				t.Errorf("nameBERLen(%q) accepts an invalid OID", c.in)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("parseOID(%q) = %v, %v", c.in, got, err)
		}
		if s := got.String(); s != "."+strings.TrimPrefix(c.in, ".") {
			t.Errorf("String() = %q", s)
		}
		if _, ok := nameBERLen(c.in); !ok {
			t.Errorf("nameBERLen(%q) refuses a valid OID", c.in)
		}
	}
}

// SNMP orders by sub-identifier value, a prefix before its extensions; not
// as strings.
func TestOIDOrder(t *testing.T) {
	sorted := []string{
		"1.3.6.1.2.1.1",
		"1.3.6.1.2.1.1.1.0",
		"1.3.6.1.2.1.1.2.0",
		"1.3.6.1.2.1.1.10.0",
		"1.3.6.1.2.1.2",
		"1.3.6.1.4.1.9.9.543.1.2.3.1.3.1001.1.1",
		"1.3.6.1.4.1.9.9.543.1.2.3.1.3.1001.2.4",
		"1.3.6.1.4.1.9.9.543.1.2.3.1.3.2001.1.2",
		"1.3.6.1.4.1.9.9.543.1.2.3.1.3.10001.1.1",
		"1.3.6.1.4.1.9.9.640.1.1.1.2.1001.2.97.98",
		"1.3.6.1.4.1.9.9.640.1.1.1.2.1001.3.97.97.97", // shorter string sorts first: length comes first
		"1.3.6.1.4.1.4294967295",
	}
	for i := range sorted {
		for j := range sorted {
			a, b := mustOID(sorted[i]), mustOID(sorted[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := a.compare(b); got != want {
				t.Errorf("compare(%s, %s) = %d, want %d", sorted[i], sorted[j], got, want)
			}
		}
	}
	if !mustOID("1.3.6.1.2.1.1.1.0").hasPrefix(mustOID("1.3.6.1.2.1.1")) || mustOID("1.3.6.1.2.1.10").hasPrefix(mustOID("1.3.6.1.2.1.1")) {
		t.Error("hasPrefix")
	}
	if got := mustOID("1.3").appendString("c3750e").String(); got != ".1.3.6.99.51.55.53.48.101" {
		t.Errorf("appendString = %s", got)
	}
}

// varbindLen must match gosnmp's encoding octet for octet, or responses
// would be fitted to the wrong size.
func TestVarbindLenMatchesGosnmp(t *testing.T) {
	names := []string{".1.3", ".1.3.6.1.2.1.1.1.0", ".1.3.6.1.4.1.9.9.543.1.2.3.1.13.4294967295.128.16384",
		".2.999.1", ".1.3.6.1.4.1.9.9.640.1.1.1.2.1001.6.99.51.55.53.48.101"}
	values := []struct {
		typ gosnmp.Asn1BER
		val any
	}{
		{gosnmp.Null, nil}, {gosnmp.NoSuchObject, nil}, {gosnmp.NoSuchInstance, nil}, {gosnmp.EndOfMibView, nil},
		{gosnmp.Integer, 0}, {gosnmp.Integer, 127}, {gosnmp.Integer, 128}, {gosnmp.Integer, -128}, {gosnmp.Integer, -129},
		{gosnmp.Integer, math.MaxInt32}, {gosnmp.Integer, math.MinInt32}, {gosnmp.Integer, 65535},
		{gosnmp.Gauge32, uint32(0)}, {gosnmp.Gauge32, uint32(127)}, {gosnmp.Gauge32, uint32(128)}, {gosnmp.Gauge32, uint32(math.MaxUint32)},
		{gosnmp.Counter32, uint32(1 << 23)}, {gosnmp.TimeTicks, uint32(1<<31 - 1)},
		{gosnmp.Counter64, uint64(0)}, {gosnmp.Counter64, uint64(math.MaxUint64)}, {gosnmp.Counter64, uint64(1 << 40)},
		{gosnmp.OctetString, ""}, {gosnmp.OctetString, "ipservices"}, {gosnmp.OctetString, strings.Repeat("x", 200)},
		{gosnmp.OctetString, []byte(strings.Repeat("y", 70000))}, {gosnmp.OctetString, dateAndTime(time.Now())},
		{gosnmp.ObjectIdentifier, "0.0"}, {gosnmp.ObjectIdentifier, ".1.3.6.1.4.1.8072.3.2.10"},
	}
	for _, name := range names {
		for _, v := range values {
			vb := gosnmp.SnmpPDU{Name: name, Type: v.typ, Value: v.val}
			p := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "c", PDUType: gosnmp.GetResponse, Variables: []gosnmp.SnmpPDU{vb}}
			b, err := p.MarshalMsg()
			if err != nil {
				t.Fatalf("%s %v: %v", name, v.typ, err)
			}
			got, ok := varbindLen(name, v.typ, v.val)
			if !ok {
				t.Errorf("%s %v %v: not encodable", name, v.typ, v.val)
				continue
			}
			if want := encodedVarbindLen(t, b); got != want {
				t.Errorf("%s %v %v: varbindLen %d, gosnmp %d", name, v.typ, v.val, got, want)
			}
		}
	}
	for _, bad := range []struct {
		typ gosnmp.Asn1BER
		val any
	}{{gosnmp.Integer, "x"}, {gosnmp.Integer, int64(1)}, {gosnmp.Gauge32, 5}, {gosnmp.OctetString, 5}, {gosnmp.ObjectIdentifier, "x.y"}, {gosnmp.IPAddress, "1.2.3.4"}} {
		if _, ok := varbindLen("1.3", bad.typ, bad.val); ok {
			t.Errorf("%v %#v accepted", bad.typ, bad.val)
		}
	}
}

// encodedVarbindLen finds the first variable binding of a v2c message
// and returns its encoded size.
func encodedVarbindLen(t *testing.T, b []byte) int {
	t.Helper()
	_, off, err := msgVersion(b)
	if err != nil {
		t.Fatal(err)
	}
	_, next, err := expect(b, off, tagOctets, "community")
	if err != nil {
		t.Fatal(err)
	}
	_, pdu, _, err := tlv(b, next)
	if err != nil {
		t.Fatal(err)
	}
	p := 0
	for range 3 { // request-id, error-status, error-index
		if _, _, p, err = tlv(pdu, p); err != nil {
			t.Fatal(err)
		}
	}
	_, vbl, _, err := tlv(pdu, p)
	if err != nil {
		t.Fatal(err)
	}
	_, _, end, err := tlv(vbl, 0)
	if err != nil {
		t.Fatal(err)
	}
	return end
}

func TestBERReader(t *testing.T) {
	for _, c := range []struct {
		in      []byte
		wantErr string
	}{
		{[]byte{0x30}, "truncated"},
		{[]byte{0x30, 0x05, 0x02}, "truncated"},
		{[]byte{0x30, 0x80, 0x00, 0x00}, "indefinite"},
		{[]byte{0x1f, 0x01, 0x00}, "multi-octet"},
		{[]byte{0x30, 0x85, 0, 0, 0, 0, 1}, "truncated"},
		{[]byte{0x30, 0x03, 0x02, 0x01, 0x01, 0x00}, "trailing"},
		{[]byte{0x30, 0x03, 0x04, 0x01, 0x01}, "tag"},
		{[]byte{0x30, 0x0b, 0x02, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9}, "INTEGER of 9 octets"},
		{[]byte{0x30, 0x07, 0x02, 0x05, 0x01, 0, 0, 0, 0}, "out of range"},
	} {
		if _, _, err := msgVersion(c.in); err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("msgVersion(% x) error %v, want %q", c.in, err, c.wantErr)
		}
	}
	for _, c := range []struct {
		in   []byte
		want int64
	}{{[]byte{0x00}, 0}, {[]byte{0x7f}, 127}, {[]byte{0x00, 0x80}, 128}, {[]byte{0x80}, -128}, {[]byte{0xff, 0x7f}, -129}, {[]byte{0x00, 0xff, 0xff, 0xff, 0xff}, 1<<32 - 1}} {
		if got, err := berInt(c.in); err != nil || got != c.want {
			t.Errorf("berInt(% x) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

// The v3 header reader sees what gosnmp encoded.
func TestReadV3Header(t *testing.T) {
	eng := []byte("\x80\x00\x00\x09\x04FDO1234X0AB")
	r := v3Req{user: userSHA256, level: gosnmp.AuthPriv, engine: eng, boots: 12, time: 3456, msgID: 777, maxSize: 1500, reqID: 9, vbs: nulls(sysDescr0)}
	b := r.encode(t)
	ver, off, err := msgVersion(b)
	if err != nil || ver != 3 {
		t.Fatal(ver, err)
	}
	h, err := readV3Header(b, off)
	if err != nil {
		t.Fatal(err)
	}
	if h.msgID != 777 || h.maxSize != 1500 || h.flags != byte(gosnmp.AuthPriv|gosnmp.Reportable) || h.secModel != 3 ||
		string(h.engineID) != string(eng) || h.boots != 12 || h.time != 3456 || string(h.user) != "nms256" ||
		len(h.authParams) != 24 || len(h.privParams) != 8 || h.dataTag != tagOctets {
		t.Errorf("header %+v", h)
	}
	r.level = gosnmp.AuthNoPriv
	b = r.encode(t)
	_, off, _ = msgVersion(b)
	h, err = readV3Header(b, off)
	if err != nil || h.dataTag != tagSequence {
		t.Fatalf("%+v %v", h, err)
	}
	ce, cn, pdu, err := scopedHeader(b, h.dataOff)
	if err != nil || string(ce) != string(eng) || len(cn) != 0 || pdu.requestID != 9 || pdu.tag != byte(gosnmp.GetRequest) {
		t.Errorf("scoped PDU %x %q %+v %v", ce, cn, pdu, err)
	}
}

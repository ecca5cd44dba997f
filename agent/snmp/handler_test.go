package snmp

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/licensed-dev/licensed/agent"
)

var ctx = context.Background()

// Instances of the fixture used across tests.
const (
	sysDescr0    = ".1.3.6.1.2.1.1.1.0"
	sysUpTime0   = ".1.3.6.1.2.1.1.3.0"
	sysName0     = ".1.3.6.1.2.1.1.5.0"
	licName1     = ".1.3.6.1.4.1.9.9.543.1.2.3.1.3.1001.1.1"  // ipservices, member 1, primary store
	licComment1  = ".1.3.6.1.4.1.9.9.543.1.2.3.1.13.1001.1.1" // "PO 4711"
	licComment6  = ".1.3.6.1.4.1.9.9.543.1.2.3.1.13.1001.1.6" // advipservices subscription
	licStatusBI5 = ".1.3.6.1.4.1.9.9.543.1.2.3.1.14.1001.2.5" // built-in eval, on the active member
)

func TestGetV2c(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	s := newServer(t, newFakeSource(t), func(c *Config) { c.Clock = clk.Now })
	clk.Advance(12340 * time.Millisecond)

	p := decode(t, gosnmp.Version2c, s.Handle(ctx, encode(t, gosnmp.Version2c, "public", gosnmp.GetRequest, 0, 0,
		sysDescr0, sysUpTime0, sysName0, ".1.3.6.1.2.1.1.2.0", licName1, licStatusBI5,
		".1.3.6.1.4.1.9.9.543.1.2.3.1.16.1001.1.6",               // end date of the subscription
		".1.3.6.1.4.1.9.9.543.1.2.3.1.3.9999.1.1",                // no such row
		".1.3.6.1.2.1.1.1",                                       // the object, not an instance
		".1.3.6.1.2.1.1.99.0",                                    // no such object
		".1.3.6.1.4.1.9.9.640.1.1.1.2.1001.6.99.51.55.53.48.101", // cilmCurrentImageLevel.1001."c3750e"
	), nil))
	if p.Error != gosnmp.NoError || p.RequestID == 0 {
		t.Fatalf("error %v index %d", p.Error, p.ErrorIndex)
	}
	want := []struct {
		typ gosnmp.Asn1BER
		val any
	}{
		{gosnmp.OctetString, []byte("licensed 1.0.0 Catalyst 3750-E switch")},
		{gosnmp.TimeTicks, uint32(1234)},
		{gosnmp.OctetString, []byte("sw-stack-1")},
		{gosnmp.ObjectIdentifier, "." + DefaultSysObjectID},
		{gosnmp.OctetString, []byte("ipservices")},
		{gosnmp.Integer, 2}, // notInUse
		{gosnmp.OctetString, []byte{0x07, 0xeb, 1, 1, 0, 0, 0, 0, '+', 0, 0}},
		{gosnmp.NoSuchInstance, nil},
		{gosnmp.NoSuchInstance, nil},
		{gosnmp.NoSuchObject, nil},
		{gosnmp.OctetString, []byte("ipservices")},
	}
	if len(p.Variables) != len(want) {
		t.Fatalf("%d variables, want %d", len(p.Variables), len(want))
	}
	for i, w := range want {
		vb := p.Variables[i]
		if vb.Type != w.typ || fmt.Sprint(vb.Value) != fmt.Sprint(w.val) {
			t.Errorf("variable %d %s = %v %v, want %v %v", i, vb.Name, vb.Type, vb.Value, w.typ, w.val)
		}
	}
}

// walk runs GETNEXT from root to the end of the view through Handle.
func walk(t *testing.T, s *Server, ver gosnmp.SnmpVersion, root string) []gosnmp.SnmpPDU {
	t.Helper()
	var out []gosnmp.SnmpPDU
	cur := root
	for i := 0; i < 100000; i++ {
		p := decode(t, ver, s.Handle(ctx, encode(t, ver, "public", gosnmp.GetNextRequest, 0, 0, cur), nil))
		if p.Error == gosnmp.NoSuchName && ver == gosnmp.Version1 {
			return out
		}
		vb := p.Variables[0]
		if vb.Type == gosnmp.EndOfMibView {
			return out
		}
		if a, b := mustOID(cur), mustOID(vb.Name); b.compare(a) <= 0 {
			t.Fatalf("GETNEXT(%s) = %s, not increasing", cur, vb.Name)
		}
		out = append(out, vb)
		cur = vb.Name
	}
	t.Fatal("walk did not end")
	return nil
}

func TestGetNextWalksEverythingInOrder(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	v, err := s.snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := walk(t, s, gosnmp.Version2c, ".0.0")
	if len(got) != len(v.entries) {
		t.Fatalf("walk saw %d instances, view has %d", len(got), len(v.entries))
	}
	// The license table holds all 15 readable columns for all 6 licenses,
	// the feature table 7 columns for 3 features on 3 members.
	count := func(prefix string) int {
		n := 0
		for _, vb := range got {
			if strings.HasPrefix(vb.Name, prefix+".") {
				n++
			}
		}
		return n
	}
	for _, c := range []struct {
		prefix string
		n      int
	}{
		{".1.3.6.1.4.1.9.9.543.1.2.3.1", 15 * 6},
		{".1.3.6.1.4.1.9.9.543.1.2.4.1", 7 * 3 * 3},
		{".1.3.6.1.4.1.9.9.543.1.2.1.1", 3 * 2 * 3},
		{".1.3.6.1.4.1.9.9.543.1.2.2.1", 3},
		{".1.3.6.1.2.1.47.1.1.1.1", 15 * 3},
		{".1.3.6.1.4.1.9.9.640.1.1.1", 7 * 3},
		{".1.3.6.1.4.1.9.9.640.1.2.1", 3 * 3 * 3},
		{".1.3.6.1.6.3.15.1.1", 6},
	} {
		if n := count(c.prefix); n != c.n {
			t.Errorf("%s: %d instances, want %d", c.prefix, n, c.n)
		}
	}
	// Column 1 and 2 of clmgmtLicenseInfoEntry are not-accessible.
	if n := count(".1.3.6.1.4.1.9.9.543.1.2.3.1.1") + count(".1.3.6.1.4.1.9.9.543.1.2.3.1.2"); n != 0 {
		t.Errorf("index columns served: %d", n)
	}
}

func TestV1Mapping(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	v1 := gosnmp.Version1

	// A missing instance: noSuchName, 1-based index, bindings echoed.
	p := decode(t, v1, s.Handle(ctx, encode(t, v1, "public", gosnmp.GetRequest, 0, 0, sysDescr0, ".1.3.6.1.2.1.1.9.0", sysName0), nil))
	if p.Error != gosnmp.NoSuchName || p.ErrorIndex != 2 {
		t.Errorf("GET missing: %v index %d, want noSuchName 2", p.Error, p.ErrorIndex)
	}
	if len(p.Variables) != 3 || p.Variables[1].Name != ".1.3.6.1.2.1.1.9.0" || p.Variables[0].Type != gosnmp.Null {
		t.Errorf("GET missing: bindings not echoed: %+v", p.Variables)
	}

	// GETNEXT at the end: noSuchName.
	p = decode(t, v1, s.Handle(ctx, encode(t, v1, "public", gosnmp.GetNextRequest, 0, 0, sysName0, ".1.3.6.1.6.3.99"), nil))
	if p.Error != gosnmp.NoSuchName || p.ErrorIndex != 2 {
		t.Errorf("GETNEXT past the end: %v index %d", p.Error, p.ErrorIndex)
	}

	// GetBulk is not an SNMPv1 PDU: no answer.
	before := s.Stats().ASNParseErrs
	if b := s.Handle(ctx, encode(t, v1, "public", gosnmp.GetBulkRequest, 0, 5, sysDescr0), nil); b != nil {
		t.Error("answered an SNMPv1 GetBulk")
	}
	if s.Stats().ASNParseErrs != before+1 {
		t.Error("v1 GetBulk not counted as a parse error")
	}

	// SET with the read-only community: notWritable maps to noSuchName.
	set := encodeVBs(t, v1, "public", gosnmp.SetRequest, 0, 0,
		[]gosnmp.SnmpPDU{{Name: licComment1, Type: gosnmp.OctetString, Value: "x"}})
	p = decode(t, v1, s.Handle(ctx, set, nil))
	if p.Error != gosnmp.NoSuchName || p.ErrorIndex != 1 {
		t.Errorf("v1 SET: %v index %d", p.Error, p.ErrorIndex)
	}
	if got := walk(t, s, v1, ".1.3.6.1.4.1.9.9.543"); len(got) == 0 || got[0].Name != ".1.3.6.1.4.1.9.9.543.1.2.1.1.2.1001.1" {
		t.Errorf("v1 walk: %v", got[:min(len(got), 1)])
	}
}

func TestV1Status(t *testing.T) {
	for _, c := range []struct{ in, want gosnmp.SNMPError }{
		{gosnmp.NoError, gosnmp.NoError},
		{gosnmp.TooBig, gosnmp.TooBig},
		{gosnmp.GenErr, gosnmp.GenErr},
		{gosnmp.WrongType, gosnmp.BadValue},
		{gosnmp.WrongLength, gosnmp.BadValue},
		{gosnmp.WrongValue, gosnmp.BadValue},
		{gosnmp.InconsistentValue, gosnmp.BadValue},
		{gosnmp.NotWritable, gosnmp.NoSuchName},
		{gosnmp.NoCreation, gosnmp.NoSuchName},
		{gosnmp.NoAccess, gosnmp.NoSuchName},
		{gosnmp.AuthorizationError, gosnmp.NoSuchName},
		{gosnmp.CommitFailed, gosnmp.GenErr},
		{gosnmp.UndoFailed, gosnmp.GenErr},
		{gosnmp.ResourceUnavailable, gosnmp.GenErr},
	} {
		if got := v1Status(c.in); got != c.want {
			t.Errorf("v1Status(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// Counter64 is not an SNMPv1 type: GET says noSuchName, GETNEXT skips it.
func TestCounter64HiddenFromV1(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	var b viewBuilder
	b.scalar(mustOID("1.3.6.1.9.1"), gosnmp.Integer, 1)
	b.scalar(mustOID("1.3.6.1.9.2"), gosnmp.Counter64, uint64(1)<<40)
	b.scalar(mustOID("1.3.6.1.9.3"), gosnmp.Integer, 3)
	v := b.build()
	for _, c := range []struct {
		ver       gosnmp.SnmpVersion
		pdu       gosnmp.PDUType
		oid       string
		wantErr   gosnmp.SNMPError
		wantName  string
		wantValue any
	}{
		{gosnmp.Version1, gosnmp.GetRequest, ".1.3.6.1.9.2.0", gosnmp.NoSuchName, "", nil},
		{gosnmp.Version1, gosnmp.GetNextRequest, ".1.3.6.1.9.1.0", gosnmp.NoError, ".1.3.6.1.9.3.0", 3},
		{gosnmp.Version2c, gosnmp.GetRequest, ".1.3.6.1.9.2.0", gosnmp.NoError, ".1.3.6.1.9.2.0", uint64(1) << 40},
		{gosnmp.Version2c, gosnmp.GetNextRequest, ".1.3.6.1.9.1.0", gosnmp.NoError, ".1.3.6.1.9.2.0", uint64(1) << 40},
	} {
		req := &request{version: c.ver, pdu: c.pdu, vbs: nulls(c.oid), limit: MaxMessageSize}
		var r result
		if c.pdu == gosnmp.GetRequest {
			r = s.get(v, req)
		} else {
			r = s.getNext(v, req)
		}
		if r.status != c.wantErr {
			t.Errorf("%v %v %s: status %v, want %v", c.ver, c.pdu, c.oid, r.status, c.wantErr)
			continue
		}
		if c.wantErr == gosnmp.NoError && (r.vbs[0].Name != c.wantName || r.vbs[0].Value != c.wantValue) {
			t.Errorf("%v %v %s: got %s = %v", c.ver, c.pdu, c.oid, r.vbs[0].Name, r.vbs[0].Value)
		}
	}
}

func TestBulkShape(t *testing.T) {
	for _, c := range []struct {
		nonRep, maxRep int64
		n              int
		N, R, M        int
	}{
		{0, 10, 1, 0, 1, 10},
		{1, 10, 3, 1, 2, 10},
		{5, 10, 3, 3, 0, 0},   // more non-repeaters than bindings
		{-4, 10, 2, 0, 2, 10}, // negative non-repeaters count as 0
		{0, -1, 2, 0, 2, 0},   // negative max-repetitions as 0
		{0, 1 << 30, 1, 0, 1, maxBulkVarbinds},
		{2, 1 << 30, 4, 2, 2, (maxBulkVarbinds - 2) / 2},
		{0, 5, 0, 0, 0, 0},
	} {
		N, R, M := bulkShape(c.nonRep, c.maxRep, c.n)
		if N != c.N || R != c.R || M != c.M {
			t.Errorf("bulkShape(%d, %d, %d) = %d, %d, %d; want %d, %d, %d", c.nonRep, c.maxRep, c.n, N, R, M, c.N, c.R, c.M)
		}
	}
}

func TestGetBulk(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	v2 := gosnmp.Version2c
	// One non-repeater (sysDescr → sysObjectID) and two repeated columns.
	p := decode(t, v2, s.Handle(ctx, encode(t, v2, "public", gosnmp.GetBulkRequest, 1, 4,
		sysDescr0, ".1.3.6.1.2.1.47.1.1.1.1.13", ".1.3.6.1.2.1.47.1.1.1.1.11"), nil))
	want := []string{
		".1.3.6.1.2.1.1.2.0 ",
		".1.3.6.1.2.1.47.1.1.1.1.13.1001 WS-C3750E-24TD-S", ".1.3.6.1.2.1.47.1.1.1.1.11.1001 FDO1234X0AB",
		".1.3.6.1.2.1.47.1.1.1.1.13.2001 WS-C3750E-48PD-S", ".1.3.6.1.2.1.47.1.1.1.1.11.2001 FDO1234X0CD",
		".1.3.6.1.2.1.47.1.1.1.1.13.3001 WS-C3750E-24TD-S", ".1.3.6.1.2.1.47.1.1.1.1.11.3001 FDO1234X0EF",
		".1.3.6.1.2.1.47.1.1.1.1.14.1001 ", ".1.3.6.1.2.1.47.1.1.1.1.12.1001 ",
	}
	if len(p.Variables) != len(want) {
		t.Fatalf("%d bindings, want %d: %v", len(p.Variables), len(want), p.Variables)
	}
	for i, vb := range p.Variables {
		got := vb.Name + " "
		if b, ok := vb.Value.([]byte); ok {
			got += string(b)
		}
		if got != want[i] {
			t.Errorf("binding %d = %q, want %q", i, got, want[i])
		}
	}

	// Near the end: repetitions stop after the first all-endOfMibView row.
	p = decode(t, v2, s.Handle(ctx, encode(t, v2, "public", gosnmp.GetBulkRequest, 0, 10,
		".1.3.6.1.6.3.15.1.1.6", ".1.3.6.1.6.3.15.1.1.5.0"), nil))
	var types []string
	for _, vb := range p.Variables {
		types = append(types, fmt.Sprintf("%s=%v", vb.Name, vb.Type))
	}
	wantTypes := []string{
		".1.3.6.1.6.3.15.1.1.6.0=Counter32", ".1.3.6.1.6.3.15.1.1.6.0=Counter32",
		".1.3.6.1.6.3.15.1.1.6.0=EndOfMibView", ".1.3.6.1.6.3.15.1.1.6.0=EndOfMibView",
	}
	if strings.Join(types, " ") != strings.Join(wantTypes, " ") {
		t.Errorf("bulk at the end:\n got %v\nwant %v", types, wantTypes)
	}
}

// A bulk walk returns exactly what a GETNEXT walk does.
func TestBulkWalkEqualsWalk(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	v2 := gosnmp.Version2c
	want := walk(t, s, v2, ".1.3.6.1.4.1.9.9")
	var got []gosnmp.SnmpPDU
	cur := ".1.3.6.1.4.1.9.9"
	for len(got) < 10000 {
		p := decode(t, v2, s.Handle(ctx, encode(t, v2, "public", gosnmp.GetBulkRequest, 0, 7, cur), nil))
		done := false
		for _, vb := range p.Variables {
			if vb.Type == gosnmp.EndOfMibView {
				done = true
				break
			}
			got = append(got, vb)
		}
		if done || len(p.Variables) == 0 {
			break
		}
		cur = got[len(got)-1].Name
	}
	// The walk from .9.9 runs to the end of the view; compare the license MIBs.
	if fmt.Sprint(got[:len(want)]) != fmt.Sprint(want) || len(got) != len(want) {
		t.Errorf("bulk walk (%d) differs from walk (%d)", len(got), len(want))
	}
}

func TestTooBigAndTruncation(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	v, _ := s.snapshot(ctx)
	var all []gosnmp.SnmpPDU
	for i := range v.entries {
		all = append(all, s.value(&v.entries[i]))
	}
	community := func(ver gosnmp.SnmpVersion) encoder {
		return func(r *result) ([]byte, error) {
			p := &gosnmp.SnmpPacket{Version: ver, Community: "public", PDUType: gosnmp.GetResponse, RequestID: 9,
				Error: r.status, ErrorIndex: uint8(r.index), Variables: r.vbs}
			return p.MarshalMsg()
		}
	}
	const limit = 600

	// GET whose response does not fit: tooBig, no bindings (v2c).
	req := &request{version: gosnmp.Version2c, pdu: gosnmp.GetRequest, vbs: nulls(sysDescr0), limit: limit}
	b := s.finish(req, result{vbs: all[:40]}, community(gosnmp.Version2c), 64)
	p := decode(t, gosnmp.Version2c, b)
	if p.Error != gosnmp.TooBig || p.ErrorIndex != 0 || len(p.Variables) != 0 || len(b) > limit {
		t.Errorf("v2c GET: %v index %d, %d bindings, %d octets", p.Error, p.ErrorIndex, len(p.Variables), len(b))
	}

	// SNMPv1 echoes the request's bindings with tooBig.
	req.version = gosnmp.Version1
	p = decode(t, gosnmp.Version1, s.finish(req, result{vbs: all[:40]}, community(gosnmp.Version1), 64))
	if p.Error != gosnmp.TooBig || len(p.Variables) != 1 || p.Variables[0].Name != sysDescr0 {
		t.Errorf("v1 GET: %v %v", p.Error, p.Variables)
	}

	// GetBulk keeps the longest prefix that fits.
	req = &request{version: gosnmp.Version2c, pdu: gosnmp.GetBulkRequest, vbs: nulls(sysDescr0), limit: limit}
	b = s.finish(req, result{vbs: all[:40]}, community(gosnmp.Version2c), 64)
	p = decode(t, gosnmp.Version2c, b)
	if p.Error != gosnmp.NoError || len(p.Variables) == 0 || len(p.Variables) >= 40 || len(b) > limit {
		t.Fatalf("bulk: %v, %d bindings, %d octets", p.Error, len(p.Variables), len(b))
	}
	for i, vb := range p.Variables {
		if vb.Name != all[i].Name {
			t.Fatalf("bulk binding %d is %s, want %s", i, vb.Name, all[i].Name)
		}
	}
	// And it is the longest: one more binding would not fit.
	more := community(gosnmp.Version2c)
	if b2, _ := more(&result{vbs: all[:len(p.Variables)+1]}); len(b2) <= limit-lengthSlack {
		t.Errorf("bulk stopped at %d bindings, but %d fit in %d octets", len(p.Variables), len(p.Variables)+1, len(b2))
	}

	// A binding that alone exceeds the limit: tooBig even for GetBulk.
	big := []gosnmp.SnmpPDU{{Name: sysDescr0, Type: gosnmp.OctetString, Value: strings.Repeat("x", 1000)}}
	p = decode(t, gosnmp.Version2c, s.finish(req, result{vbs: big}, community(gosnmp.Version2c), 64))
	if p.Error != gosnmp.TooBig {
		t.Errorf("bulk with one huge binding: %v", p.Error)
	}

	// Requests with more than 255 bindings are refused with tooBig.
	oids := make([]string, maxRequestVarbinds+1)
	for i := range oids {
		oids[i] = sysDescr0
	}
	g := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: "public", MaxOids: len(oids)}
	pkt, err := g.SnmpEncodePacket(gosnmp.GetRequest, nulls(oids...), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p := decode(t, gosnmp.Version2c, s.Handle(ctx, pkt, nil)); p.Error != gosnmp.TooBig {
		t.Errorf("%d bindings: %v", len(oids), p.Error)
	}
}

// An SNMPv3 manager that accepts only 484-octet messages gets a bulk
// response that fits, and tooBig for a GET that cannot.
func TestV3MaxSize(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	eng := s.EngineID()
	r := v3Req{user: userAuthPriv, level: gosnmp.AuthPriv, engine: eng, boots: testBoots, reqID: 77,
		maxSize: 484, pdu: gosnmp.GetBulkRequest, maxRep: 50, vbs: nulls(".1.3.6.1.4.1.9.9.543")}
	b := s.Handle(ctx, r.encode(t), nil)
	if len(b) > 484 {
		t.Fatalf("response of %d octets for msgMaxSize 484", len(b))
	}
	p := decodeV3(t, userAuthPriv, eng, b)
	if p.Error != gosnmp.NoError || len(p.Variables) < 3 || len(p.Variables) >= 50 {
		t.Errorf("bulk: %v with %d bindings", p.Error, len(p.Variables))
	}

	oids := make([]string, 20)
	for i := range oids {
		oids[i] = sysDescr0
	}
	r.pdu, r.vbs = gosnmp.GetRequest, nulls(oids...)
	p = decodeV3(t, userAuthPriv, eng, s.Handle(ctx, r.encode(t), nil))
	if p.Error != gosnmp.TooBig || len(p.Variables) != 0 {
		t.Errorf("GET: %v with %d bindings", p.Error, len(p.Variables))
	}
}

func TestCommunityChecks(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	if b := s.Handle(ctx, encode(t, gosnmp.Version2c, "private", gosnmp.GetRequest, 0, 0, sysDescr0), nil); b != nil {
		t.Error("answered a wrong community")
	}
	if got := s.Stats().BadCommunityNames; got != 1 {
		t.Errorf("snmpInBadCommunityNames = %d", got)
	}
	// v1/v2c disabled: no community answers.
	s3 := newServer(t, newFakeSource(t), func(c *Config) { c.Community = "" })
	if b := s3.Handle(ctx, encode(t, gosnmp.Version2c, "", gosnmp.GetRequest, 0, 0, sysDescr0), nil); b != nil {
		t.Error("answered v2c with v1/v2c disabled")
	}
	// Garbage and unknown versions are counted and dropped.
	for _, pkt := range [][]byte{nil, {0x30}, {0x30, 0x03, 0x02, 0x01, 0x02}, []byte("GET / HTTP/1.0")} {
		if b := s.Handle(ctx, pkt, nil); b != nil {
			t.Errorf("answered %q", pkt)
		}
	}
	if st := s.Stats(); st.BadVersions != 1 || st.ASNParseErrs != 3 {
		t.Errorf("badVersions %d, parse errors %d", st.BadVersions, st.ASNParseErrs)
	}
	// Responses and traps sent to the agent are ignored.
	g := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: "public"}
	trap, err := g.SnmpEncodePacket(gosnmp.SNMPv2Trap, nulls(sysDescr0), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b := s.Handle(ctx, trap, nil); b != nil {
		t.Error("answered a trap")
	}
}

func TestSetComment(t *testing.T) {
	src := newFakeSource(t)
	s := newServer(t, src, nil)
	eng := s.EngineID()
	setReq := func(u User, level gosnmp.SnmpV3MsgFlags, vbs ...gosnmp.SnmpPDU) *gosnmp.SnmpPacket {
		r := v3Req{user: u, level: level, engine: eng, boots: testBoots, reqID: 5, pdu: gosnmp.SetRequest, vbs: vbs}
		return decodeV3(t, u, eng, s.Handle(ctx, r.encode(t), nil))
	}
	str := func(name string, v string) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: name, Type: gosnmp.OctetString, Value: v}
	}

	// v2c is read-only.
	set := encodeVBs(t, gosnmp.Version2c, "public", gosnmp.SetRequest, 0, 0, []gosnmp.SnmpPDU{str(licComment1, "x")})
	if p := decode(t, gosnmp.Version2c, s.Handle(ctx, set, nil)); p.Error != gosnmp.NotWritable || p.ErrorIndex != 1 {
		t.Errorf("v2c SET: %v %d", p.Error, p.ErrorIndex)
	}
	if s.Stats().BadCommunityUses != 1 {
		t.Error("v2c SET not counted in snmpInBadCommunityUses")
	}

	for _, c := range []struct {
		name    string
		vbs     []gosnmp.SnmpPDU
		status  gosnmp.SNMPError
		index   uint8
		comment string // ipservices afterwards
	}{
		{"ok", []gosnmp.SnmpPDU{str(licComment1, "moved to rack 7")}, gosnmp.NoError, 0, "moved to rack 7"},
		{"delete", []gosnmp.SnmpPDU{str(licComment1, "")}, gosnmp.NoError, 0, ""},
		{"wrong type", []gosnmp.SnmpPDU{{Name: licComment1, Type: gosnmp.Integer, Value: 3}}, gosnmp.WrongType, 1, ""},
		{"too long", []gosnmp.SnmpPDU{str(licComment1, strings.Repeat("a", 256))}, gosnmp.WrongLength, 1, ""},
		{"not UTF-8", []gosnmp.SnmpPDU{str(licComment1, "\xff\xfe")}, gosnmp.WrongValue, 1, ""},
		{"no such row", []gosnmp.SnmpPDU{str(licComment1, "a"), str(".1.3.6.1.4.1.9.9.543.1.2.3.1.13.1001.1.99", "b")}, gosnmp.NoCreation, 2, ""},
		{"read-only object", []gosnmp.SnmpPDU{str(sysName0, "x")}, gosnmp.NotWritable, 1, ""},
		{"two rows", []gosnmp.SnmpPDU{str(licComment1, "one"), str(licComment6, "six")}, gosnmp.NoError, 0, "one"},
	} {
		p := setReq(userAuthPriv, gosnmp.AuthPriv, c.vbs...)
		if p.Error != c.status || p.ErrorIndex != c.index {
			t.Errorf("%s: %v index %d, want %v %d", c.name, p.Error, p.ErrorIndex, c.status, c.index)
		}
		if got := src.comment("ipservices"); got != c.comment {
			t.Errorf("%s: comment %q, want %q", c.name, got, c.comment)
		}
	}
	if got := src.comment("advipservices"); got != "six" {
		t.Errorf("advipservices comment %q", got)
	}
	if a := src.actors[0]; a.Name != "snmp:user nms" || a.Privilege != agent.PrivAdmin {
		t.Errorf("actor %+v", a)
	}
	// The change is visible at once: a SET invalidates the snapshot.
	r := v3Req{user: userAuthPriv, level: gosnmp.AuthPriv, engine: eng, boots: testBoots, reqID: 6, vbs: nulls(licComment1)}
	if p := decodeV3(t, userAuthPriv, eng, s.Handle(ctx, r.encode(t), nil)); string(p.Variables[0].Value.([]byte)) != "one" {
		t.Errorf("read back %q", p.Variables[0].Value)
	}

	// A failed second change undoes the first.
	src.failComment = map[string]error{"advipservices": fmt.Errorf("disk full")}
	p := setReq(userAuthPriv, gosnmp.AuthPriv, str(licComment1, "three"), str(licComment6, "x"))
	if p.Error != gosnmp.CommitFailed || p.ErrorIndex != 2 {
		t.Errorf("failed commit: %v %d", p.Error, p.ErrorIndex)
	}
	if got := src.comment("ipservices"); got != "one" {
		t.Errorf("after undo the comment is %q, want %q", got, "one")
	}
	// A first change the agent refuses as invalid is wrongValue.
	src.failComment = map[string]error{"ipservices": agent.Errorf(agent.CauseInvalidArgument, "bad")}
	if p := setReq(userAuthPriv, gosnmp.AuthPriv, str(licComment1, "x")); p.Error != gosnmp.WrongValue {
		t.Errorf("invalid comment: %v", p.Error)
	}

	// Without SetComment everything is notWritable.
	s2 := newServer(t, newFakeSource(t), func(c *Config) { c.SetComment = nil })
	r = v3Req{user: userAuthPriv, level: gosnmp.AuthPriv, engine: eng, boots: testBoots, reqID: 5, pdu: gosnmp.SetRequest,
		vbs: []gosnmp.SnmpPDU{str(licComment1, "x")}}
	if p := decodeV3(t, userAuthPriv, eng, s2.Handle(ctx, r.encode(t), nil)); p.Error != gosnmp.NotWritable {
		t.Errorf("SetComment nil: %v", p.Error)
	}
}

func TestSnapshotCache(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	src := newFakeSource(t)
	s := newServer(t, src, func(c *Config) { c.Clock = clk.Now; c.EngineID = []byte("\x80\x00\x00\x09\x04test") })
	get := func() *gosnmp.SnmpPacket {
		return decode(t, gosnmp.Version2c, s.Handle(ctx, encode(t, gosnmp.Version2c, "public", gosnmp.GetRequest, 0, 0, sysName0), nil))
	}
	get()
	get()
	if n := src.statusCalls(); n != 1 {
		t.Fatalf("%d status reads for two requests within the TTL", n)
	}
	clk.Advance(DefaultCacheTTL)
	get()
	if n := src.statusCalls(); n != 2 {
		t.Fatalf("%d status reads after the TTL", n)
	}
	s.invalidate()
	get()
	if n := src.statusCalls(); n != 3 {
		t.Fatalf("%d status reads after invalidation", n)
	}
	// When the status cannot be read the previous snapshot serves.
	src.mu.Lock()
	src.err = errBoom
	src.mu.Unlock()
	clk.Advance(DefaultCacheTTL)
	if p := get(); p.Error != gosnmp.NoError || string(p.Variables[0].Value.([]byte)) != "sw-stack-1" {
		t.Errorf("stale snapshot not served: %v", p.Error)
	}
	// Without any snapshot the request fails with genErr.
	s2 := newServer(t, src, func(c *Config) { c.EngineID = []byte("\x80\x00\x00\x09\x04test") })
	p := decode(t, gosnmp.Version2c, s2.Handle(ctx, encode(t, gosnmp.Version2c, "public", gosnmp.GetRequest, 0, 0, sysName0), nil))
	if p.Error != gosnmp.GenErr || p.ErrorIndex != 1 {
		t.Errorf("no status: %v %d", p.Error, p.ErrorIndex)
	}
}

// The response echoes the request-id and uses the configured community.
func TestResponseHeader(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	g := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: "public"}
	g.SetRequestID(0x7ffffff0)
	pkt, err := g.SnmpEncodePacket(gosnmp.GetRequest, nulls(sysName0), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := s.Handle(ctx, pkt, nil)
	p := decode(t, gosnmp.Version2c, b)
	if p.RequestID != 0x7ffffff1 || p.Community != "public" {
		t.Errorf("request-id %#x community %q", p.RequestID, p.Community)
	}
	if !bytes.Contains(b, []byte("sw-stack-1")) {
		t.Error("no sysName in the response")
	}
}

func TestServeLifecycle(t *testing.T) {
	s := newServer(t, newFakeSource(t), func(c *Config) { c.Listen = "127.0.0.1:0" })
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(cctx) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ListenAndServe after cancel: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("ListenAndServe did not return")
	}

	bad := newServer(t, newFakeSource(t), func(c *Config) { c.Listen = "192.0.2.300:161" })
	if err := bad.ListenAndServe(ctx); err == nil {
		t.Error("ListenAndServe on an invalid address: no error")
	}

	// A socket closed under Serve ends it with an error.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, pc) }()
	time.Sleep(50 * time.Millisecond)
	pc.Close()
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "reading") {
			t.Errorf("Serve on a closed socket: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Serve did not return after the socket closed")
	}
}

package snmp

import (
	"fmt"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/licensed-dev/licensed/agent"
)

// BenchmarkGet is one SNMPv2c GET of two objects through Handle, with the
// snapshot cached.
func BenchmarkGet(b *testing.B) {
	clk := &fakeClock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	s := newServer(b, newFakeSource(b), func(c *Config) { c.Clock, c.Logf = clk.Now, nil })
	pkt := encode(b, gosnmp.Version2c, "public", gosnmp.GetRequest, 0, 0, sysDescr0, licName1)
	if s.Handle(ctx, pkt, nil) == nil {
		b.Fatal("no response")
	}
	b.ReportAllocs()
	for b.Loop() {
		if s.Handle(ctx, pkt, nil) == nil {
			b.Fatal("no response")
		}
	}
}

// status1000 is the fixture with 1000 licenses spread over the members.
func status1000(b *testing.B) *fakeSource {
	src := newFakeSource(b)
	st := src.st
	tmpl := st.Licenses
	st.Licenses = make([]agent.LicenseInfo, 0, 1000)
	for i := range 1000 {
		l := tmpl[i%len(tmpl)]
		l.Index = i + 1
		l.ID = fmt.Sprintf("L-%04d", i+1)
		l.Comment = fmt.Sprintf("order %d", i)
		st.Licenses = append(st.Licenses, l)
	}
	return src
}

// walkBulk walks root with GetBulk (max-repetitions 50) through Handle and
// returns the number of bindings.
func walkBulk(b *testing.B, s *Server, root string) int {
	n, cur := 0, root
	rootOID := mustOID(root)
	for {
		resp := s.Handle(ctx, encode(b, gosnmp.Version2c, "public", gosnmp.GetBulkRequest, 0, 50, cur), nil)
		p, err := (&gosnmp.GoSNMP{Version: gosnmp.Version2c}).SnmpDecodePacket(resp)
		if err != nil {
			b.Fatal(err)
		}
		for _, vb := range p.Variables {
			if vb.Type == gosnmp.EndOfMibView || !mustOID(vb.Name).hasPrefix(rootOID) {
				return n
			}
			n++
			cur = vb.Name
		}
	}
}

// BenchmarkBulkWalk1000 walks CISCO-LICENSE-MGMT-MIB with 1000 licenses,
// the way snmpbulkwalk does; ns/op is per walk.
func BenchmarkBulkWalk1000(b *testing.B) {
	clk := &fakeClock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	s := newServer(b, status1000(b), func(c *Config) { c.Clock, c.Logf = clk.Now, nil })
	want := walkBulk(b, s, ".1.3.6.1.4.1.9.9.543")
	if want < 15000 {
		b.Fatalf("walk saw %d bindings", want)
	}
	b.ReportAllocs()
	for b.Loop() {
		if n := walkBulk(b, s, ".1.3.6.1.4.1.9.9.543"); n != want {
			b.Fatalf("walk saw %d bindings, first %d", n, want)
		}
	}
	b.ReportMetric(float64(want), "varbinds/walk")
}

// BenchmarkBuildView1000 is the cost of a new snapshot with 1000 licenses,
// paid at most once per cache period.
func BenchmarkBuildView1000(b *testing.B) {
	src := status1000(b)
	s := newServer(b, src, func(c *Config) { c.Logf = nil })
	st, err := src.Status(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.buildView(st)
	}
}

package snmp

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gosnmp/gosnmp"
	"github.com/licensed-dev/licensed/agent"
)

// get reads instances straight from a view built for st.
func viewValues(t *testing.T, st *agent.Status, oids ...string) []string {
	t.Helper()
	src := newFakeSource(t)
	s := newServer(t, src, func(c *Config) { c.EngineID = fuzzEngine })
	v := s.buildView(st)
	out := make([]string, len(oids))
	for i, o := range oids {
		idx := v.find(mustOID(o))
		if idx < 0 {
			out[i] = "missing"
			continue
		}
		val := s.value(&v.entries[idx]).Value
		if b, ok := val.([]byte); ok {
			val = string(b)
		}
		out[i] = fmt.Sprint(val)
	}
	return out
}

// The builders emit instances in OID order, so build only checks it.
func TestViewEmittedInOrder(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	st := loadStatus(t, "status-c3750e-stack.json")
	// Shuffle the inputs: the order of the status must not matter.
	slices.Reverse(st.Licenses)
	slices.Reverse(st.Members)
	slices.Reverse(st.Features)
	var b viewBuilder
	s.addSystem(&b, st)
	s.addSNMPGroup(&b)
	ms, active := members(st)
	addEntity(&b, st, ms)
	addLicenseMIB(&b, st, ms, active)
	addImageMIB(&b, st, ms, active)
	s.addEngine(&b)
	for i := 1; i < len(b.v.entries); i++ {
		if b.v.entries[i-1].oid.compare(b.v.entries[i].oid) >= 0 {
			t.Fatalf("entry %d (%v) is not after %v", i, b.v.entries[i].oid, b.v.entries[i-1].oid)
		}
	}
	v := b.build()
	for i := range v.entries {
		if v.entries[i].name != v.entries[i].oid.String() {
			t.Fatalf("entry %d named %q, OID %v", i, v.entries[i].name, v.entries[i].oid)
		}
	}
}

// A duplicate license index keeps the first row, everywhere.
func TestViewDuplicateIndex(t *testing.T) {
	st := loadStatus(t, "status-c3750e-stack.json")
	dup := st.Licenses[0]
	dup.Feature, dup.Comment = "other", "dup"
	st.Licenses = append(st.Licenses, dup)
	got := viewValues(t, st, licName1, licComment1)
	if got[0] != "ipservices" || got[1] != "PO 4711" {
		t.Errorf("duplicate row won: %v", got)
	}
}

// A router with technology packages and a counted feature.
func TestViewPackagesAndCounts(t *testing.T) {
	st := loadStatus(t, "status-c3750e-stack.json")
	st.Kind, st.Module, st.Level, st.NextLevel, st.ConfiguredLevel = "technology-packages", "c2900", "", "", ""
	st.Members = st.Members[:1]
	st.Packages = []agent.PackageInfo{
		{Technology: "ipbase", Current: "ipbasek9", Type: "Permanent", NextReboot: "ipbasek9"},
		{Technology: "security", Current: "None", Type: "None", NextReboot: "securityk9"},
	}
	st.Features = append(st.Features, agent.FeatureInfo{Index: 4, Name: "phones", Version: "1.0", Counted: true, WhatIsCounted: "IP phones", Capacity: 12, InUse: 5})
	st.Licenses = append(st.Licenses,
		agent.LicenseInfo{Index: 7, StoreIndex: 0, EntPhysicalIndex: 1001, Feature: "phones", Version: "1.0", Type: "permanent", State: "inUse", Counted: true, Count: 8},
		agent.LicenseInfo{Index: 8, StoreIndex: 0, EntPhysicalIndex: 1001, Feature: "securityk9", Version: "1.0", Type: "evalRightToUse", State: "notInUse", Period: 5184000, Remaining: 100},
	)
	// Row (1001, "security"): "security" is 8 octets.
	sec := ".1001.8.115.101.99.117.114.105.116.121"
	got := viewValues(t, st,
		".1.3.6.1.4.1.9.9.640.1.1.1.2"+sec, ".1.3.6.1.4.1.9.9.640.1.1.1.4"+sec, ".1.3.6.1.4.1.9.9.640.1.1.1.8"+sec,
		".1.3.6.1.4.1.9.9.543.1.2.3.1.6.1001.1.7", ".1.3.6.1.4.1.9.9.543.1.2.3.1.10.1001.1.7", ".1.3.6.1.4.1.9.9.543.1.2.3.1.11.1001.1.7",
		".1.3.6.1.4.1.9.9.543.1.2.3.1.5.1001.1.8", ".1.3.6.1.4.1.9.9.543.1.2.3.1.8.1001.1.8",
		".1.3.6.1.4.1.9.9.543.1.2.4.1.5.1001.4", ".1.3.6.1.2.1.1.7.0",
	)
	want := []string{"", "securityk9", "8", "1", "8", "7", "8", "100", "IP phones", "78"}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// Missing or invalid indices never produce rows an NMS cannot address.
func TestViewSkipsInvalidRows(t *testing.T) {
	st := loadStatus(t, "status-c3750e-stack.json")
	st.Members = append(st.Members, agent.Member{Device: 9, PID: "X", SN: "Y", EntPhysicalIndex: 0})
	st.Licenses = append(st.Licenses, agent.LicenseInfo{Index: 0, Feature: "noindex"}, agent.LicenseInfo{Index: 9, StoreIndex: -1, Feature: "nostore"})
	s := newServer(t, newFakeSource(t), nil)
	v := s.buildView(st)
	for _, e := range v.entries {
		if e.typ == gosnmp.OctetString {
			if str, ok := e.val.(string); ok && (str == "noindex" || str == "nostore" || str == "Y") {
				t.Errorf("%s = %q served", e.name, str)
			}
		}
	}
}

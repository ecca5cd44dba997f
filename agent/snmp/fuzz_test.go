package snmp

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// fuzzEngine is the engine ID of the fuzzed server, fixed so the seed
// corpus stays valid.
var fuzzEngine = []byte("\x80\x00\x00\x09\x04FUZZ0001")

// fuzzServer has a fixed clock so SNMPv3 seeds stay in the time window.
func fuzzServer(t testing.TB) *Server {
	clk := &fakeClock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	return newServer(t, newFakeSource(t), func(c *Config) {
		c.Clock, c.EngineID, c.Logf = clk.Now, fuzzEngine, nil
		c.Users = append(c.Users, userNoAuth)
		c.AllowNoAuth = true
	})
}

// fuzzSeeds are requests of every version and operation, encoded by gosnmp.
func fuzzSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	for _, ver := range []gosnmp.SnmpVersion{gosnmp.Version1, gosnmp.Version2c} {
		seeds[fmt.Sprintf("%v-get", ver)] = encode(t, ver, "public", gosnmp.GetRequest, 0, 0, sysDescr0, licName1)
		seeds[fmt.Sprintf("%v-getnext", ver)] = encode(t, ver, "public", gosnmp.GetNextRequest, 0, 0, ".1.3.6.1.4.1.9.9.543")
		seeds[fmt.Sprintf("%v-set", ver)] = encodeVBs(t, ver, "public", gosnmp.SetRequest, 0, 0,
			[]gosnmp.SnmpPDU{{Name: licComment1, Type: gosnmp.OctetString, Value: "x"}})
	}
	seeds["v2c-getbulk"] = encode(t, gosnmp.Version2c, "public", gosnmp.GetBulkRequest, 1, 20, sysDescr0, ".1.3.6.1.4.1.9.9.640")
	for _, c := range []struct {
		name  string
		u     User
		level gosnmp.SnmpV3MsgFlags
	}{{"v3-authpriv", userSHA256, gosnmp.AuthPriv}, {"v3-authnopriv", userAuthOnly, gosnmp.AuthNoPriv}, {"v3-noauth", userNoAuth, gosnmp.NoAuthNoPriv}} {
		base := v3Req{user: c.u, level: c.level, engine: fuzzEngine, boots: testBoots, reqID: 1}
		for pdu, r := range map[string]v3Req{
			"get":     {pdu: gosnmp.GetRequest, vbs: nulls(sysName0, licStatusBI5)},
			"getnext": {pdu: gosnmp.GetNextRequest, vbs: nulls(".1.3.6.1.2.1.47")},
			"getbulk": {pdu: gosnmp.GetBulkRequest, nonRep: 1, maxRep: 10, vbs: nulls(sysDescr0, ".1.3.6.1.4.1.9.9.543.1.2.3")},
			"set":     {pdu: gosnmp.SetRequest, vbs: []gosnmp.SnmpPDU{{Name: licComment1, Type: gosnmp.OctetString, Value: "fuzz"}}},
		} {
			req := base
			req.pdu, req.nonRep, req.maxRep, req.vbs = r.pdu, r.nonRep, r.maxRep, r.vbs
			seeds[c.name+"-"+pdu] = req.encode(t)
		}
	}
	probe := &gosnmp.SnmpPacket{Version: gosnmp.Version3, MsgFlags: gosnmp.Reportable, SecurityModel: gosnmp.UserSecurityModel,
		SecurityParameters: &gosnmp.UsmSecurityParameters{}, MsgID: 1, MsgMaxSize: 65507, PDUType: gosnmp.GetRequest, RequestID: 1}
	b, err := probe.MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	seeds["v3-discovery"] = b
	return seeds
}

// TestFuzzCorpus keeps testdata/fuzz/FuzzHandle in step with the seeds;
// go test -update rewrites it.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzHandle")
	seeds := fuzzSeeds(t)
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range seeds {
			data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
			if err := os.WriteFile(filepath.Join(dir, "seed-"+name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	for name := range seeds {
		b, err := os.ReadFile(filepath.Join(dir, "seed-"+name))
		if err != nil {
			t.Errorf("corpus file for %s: %v (go test -update writes it)", name, err)
			continue
		}
		if !strings.HasPrefix(string(b), "go test fuzz v1\n[]byte(") {
			t.Errorf("corpus file for %s is not in the fuzz corpus format", name)
		}
	}
}

// Every seed is answered: the corpus exercises the deep paths, not just
// the parser.
func TestFuzzSeedsAreAnswered(t *testing.T) {
	s := fuzzServer(t)
	for name, b := range fuzzSeeds(t) {
		resp := s.Handle(ctx, b, nil)
		if resp == nil {
			t.Errorf("%s: no response", name)
		}
	}
}

func FuzzHandle(f *testing.F) {
	for _, b := range fuzzSeeds(f) {
		f.Add(b)
	}
	s := fuzzServer(f)
	from := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		orig := bytes.Clone(pkt)
		resp := s.Handle(ctx, pkt, from)
		if n := s.stats.panics.Load(); n != 0 {
			t.Fatalf("Handle recovered from %d decoder panics", n)
		}
		if !bytes.Equal(orig, pkt) {
			t.Fatal("Handle modified the request")
		}
		if resp == nil {
			return
		}
		if len(resp) > MaxMessageSize {
			t.Fatalf("response of %d octets", len(resp))
		}
		ver, _, err := msgVersion(resp)
		if err != nil {
			t.Fatalf("response does not parse: %v", err)
		}
		if ver != int64(gosnmp.Version3) {
			p, err := (&gosnmp.GoSNMP{Version: gosnmp.SnmpVersion(ver)}).SnmpDecodePacket(resp)
			if err != nil || p.PDUType != gosnmp.GetResponse {
				t.Fatalf("response: %v %v", p, err)
			}
		}
	})
}

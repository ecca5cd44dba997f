package snmp

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/licensed-dev/licensed/agent"
)

// A gosnmp manager discovers the engine and reads with every supported
// protocol combination.
func TestV3WithGosnmpManager(t *testing.T) {
	s := newServer(t, newFakeSource(t), func(c *Config) {
		c.Users = append(c.Users, User{Name: "mid", Auth: "SHA-224", AuthPass: "authpass224", Priv: "AES-192", PrivPass: "privpass192"},
			User{Name: "big", Auth: "SHA-384", AuthPass: "authpass384", Priv: "AES", PrivPass: "privpass128"})
	})
	port := serve(t, s)
	for _, c := range []struct {
		u     User
		level gosnmp.SnmpV3MsgFlags
	}{
		{userAuthPriv, gosnmp.AuthPriv},
		{userSHA256, gosnmp.AuthPriv},
		{userAuthOnly, gosnmp.AuthNoPriv},
		{User{Name: "mid", Auth: "SHA-224", AuthPass: "authpass224", Priv: "AES-192", PrivPass: "privpass192"}, gosnmp.AuthPriv},
		{User{Name: "big", Auth: "SHA-384", AuthPass: "authpass384", Priv: "AES", PrivPass: "privpass128"}, gosnmp.AuthPriv},
	} {
		t.Run(c.u.Name, func(t *testing.T) {
			g := v3Client(t, port, c.u, c.level)
			p, err := g.Get([]string{sysName0, licName1})
			if err != nil {
				t.Fatal(err)
			}
			if p.Error != gosnmp.NoError || string(p.Variables[0].Value.([]byte)) != "sw-stack-1" ||
				string(p.Variables[1].Value.([]byte)) != "ipservices" {
				t.Fatalf("GET: %v %v", p.Error, p.Variables)
			}
			vbs, err := g.BulkWalkAll(".1.3.6.1.4.1.9.9.543.1.2.3.1.3")
			if err != nil {
				t.Fatal(err)
			}
			if len(vbs) != 6 {
				t.Errorf("license names: %d, want 6", len(vbs))
			}
		})
	}
	if st := s.Stats(); st.UnknownEngineIDs == 0 || st.WrongDigests != 0 || st.DecryptionErrors != 0 {
		t.Errorf("stats after clean sessions: %+v", st)
	}
}

// Bad credentials get unauthenticated reports naming the counter that
// moved (a gosnmp manager cannot take those once it knows the engine, so
// the requests are made by hand; the net-snmp tests show the messages).
func TestV3Failures(t *testing.T) {
	s := newServer(t, newFakeSource(t), func(c *Config) { c.Users = append(c.Users, userNoAuth) })
	port := serve(t, s)
	eng := s.EngineID()
	wrongAuth := userAuthPriv
	wrongAuth.AuthPass = "not-the-pass"
	wrongPriv := userAuthPriv
	wrongPriv.PrivPass = "not-the-pass"
	unknown := userAuthPriv
	unknown.Name = "stranger"
	wrongProto := userAuthPriv
	wrongProto.Auth = "SHA-256"
	for _, c := range []struct {
		name    string
		u       User
		level   gosnmp.SnmpV3MsgFlags
		report  string
		counter func(Stats) uint64
	}{
		{"wrong auth pass", wrongAuth, gosnmp.AuthPriv, ".1.3.6.1.6.3.15.1.1.5.0", func(s Stats) uint64 { return s.WrongDigests }},
		{"wrong auth protocol", wrongProto, gosnmp.AuthPriv, ".1.3.6.1.6.3.15.1.1.5.0", func(s Stats) uint64 { return s.WrongDigests }},
		{"wrong priv pass", wrongPriv, gosnmp.AuthPriv, ".1.3.6.1.6.3.15.1.1.6.0", func(s Stats) uint64 { return s.DecryptionErrors }},
		{"unknown user", unknown, gosnmp.AuthPriv, ".1.3.6.1.6.3.15.1.1.3.0", func(s Stats) uint64 { return s.UnknownUserNames }},
		{"priv for an auth-only user", User{Name: "monitor", Auth: "SHA-512", AuthPass: "authpass512", Priv: "AES", PrivPass: "privpass123"},
			gosnmp.AuthPriv, ".1.3.6.1.6.3.15.1.1.1.0", func(s Stats) uint64 { return s.UnsupportedSecLevels }},
		{"noAuth from an auth user", userAuthPriv, gosnmp.NoAuthNoPriv, ".1.3.6.1.6.3.15.1.1.1.0", func(s Stats) uint64 { return s.UnsupportedSecLevels }},
		{"noAuth user not allowed", userNoAuth, gosnmp.NoAuthNoPriv, ".1.3.6.1.6.3.15.1.1.1.0", func(s Stats) uint64 { return s.UnsupportedSecLevels }},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := c.counter(s.Stats())
			r := v3Req{user: c.u, level: c.level, engine: eng, boots: testBoots, reqID: 71, vbs: nulls(sysName0)}
			p := decodeReport(t, s.Handle(ctx, r.encode(t), nil))
			if p.PDUType != gosnmp.Report || len(p.Variables) != 1 || p.Variables[0].Name != c.report {
				t.Fatalf("%v %v, want a report of %s", p.PDUType, p.Variables, c.report)
			}
			if p.MsgFlags != gosnmp.NoAuthNoPriv {
				t.Errorf("report flags %v", p.MsgFlags)
			}
			after := c.counter(s.Stats())
			if after != before+1 || gosnmp.ToBigInt(p.Variables[0].Value).Uint64() != after {
				t.Errorf("counter %d → %d, report says %v", before, after, p.Variables[0].Value)
			}
		})
	}

	// An authNoPriv request from a user configured with privacy is
	// authenticated but not authorized.
	g := v3Client(t, port, userAuthPriv, gosnmp.AuthNoPriv)
	p, err := g.Get([]string{sysName0})
	if err != nil {
		t.Fatal(err)
	}
	if p.Error != gosnmp.AuthorizationError {
		t.Errorf("authNoPriv for an authPriv user: %v", p.Error)
	}
}

func TestV3NoAuthAllowed(t *testing.T) {
	s := newServer(t, newFakeSource(t), func(c *Config) { c.Users = append(c.Users, userNoAuth); c.AllowNoAuth = true })
	port := serve(t, s)
	g := v3Client(t, port, userNoAuth, gosnmp.NoAuthNoPriv)
	p, err := g.Get([]string{sysName0})
	if err != nil || p.Error != gosnmp.NoError {
		t.Fatalf("noAuthNoPriv: %v %v", err, p)
	}
	// Unauthenticated users may not write.
	set, err := g.Set([]gosnmp.SnmpPDU{{Name: licComment1, Type: gosnmp.OctetString, Value: "x"}})
	if err != nil || set.Error != gosnmp.NotWritable {
		t.Errorf("noAuth SET: %v %v", err, set)
	}
}

// The engine ID check: gosnmp would re-localize the keys to the engine ID
// a message names, so a message for another engine, authenticated with
// keys for that engine, must get unknownEngineIDs and never a response.
func TestV3ForeignEngineID(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	other := []byte("\x80\x00\x1f\x88\x04otherengine")
	r := v3Req{user: userAuthPriv, level: gosnmp.AuthPriv, engine: other, boots: testBoots, reqID: 11, vbs: nulls(sysName0)}
	b := s.Handle(ctx, r.encode(t), nil)
	p := decodeReport(t, b)
	if p.PDUType != gosnmp.Report || p.Variables[0].Name != ".1.3.6.1.6.3.15.1.1.4.0" {
		t.Fatalf("got %v %v, want an unknownEngineIDs report", p.PDUType, p.Variables)
	}
	if sp := p.SecurityParameters.(*gosnmp.UsmSecurityParameters); sp.AuthoritativeEngineID != string(s.EngineID()) ||
		sp.AuthoritativeEngineBoots != testBoots {
		t.Errorf("report engine %x boots %d", sp.AuthoritativeEngineID, sp.AuthoritativeEngineBoots)
	}
	if p.MsgFlags&gosnmp.AuthNoPriv != 0 || p.MsgFlags&gosnmp.Reportable != 0 {
		t.Errorf("report flags %v", p.MsgFlags)
	}
	if p.MsgID != 4242 {
		t.Errorf("msgID %d not echoed", p.MsgID)
	}
	// Not reportable: counted, not answered.
	r.noReport = true
	if b := s.Handle(ctx, r.encode(t), nil); b != nil {
		t.Error("answered a non-reportable message")
	}
	if got := s.Stats().UnknownEngineIDs; got != 2 {
		t.Errorf("usmStatsUnknownEngineIDs = %d", got)
	}
}

// decodeReport decodes an unauthenticated report.
func decodeReport(t *testing.T, b []byte) *gosnmp.SnmpPacket {
	t.Helper()
	if b == nil {
		t.Fatal("no report")
	}
	g := &gosnmp.GoSNMP{Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel, SecurityParameters: &gosnmp.UsmSecurityParameters{}}
	p, err := g.UnmarshalTrap(bytes.Clone(b), false)
	if err != nil {
		t.Fatalf("decoding report: %v", err)
	}
	return p
}

func TestV3TimeWindow(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	s := newServer(t, newFakeSource(t), func(c *Config) { c.Clock = clk.Now })
	clk.Advance(1000 * time.Second)
	eng := s.EngineID()
	for _, c := range []struct {
		name        string
		boots, time uint32
		ok          bool
	}{
		{"in window", testBoots, 1000, true},
		{"150 s ahead", testBoots, 1150, true},
		{"150 s behind", testBoots, 850, true},
		{"151 s ahead", testBoots, 1151, false},
		{"151 s behind", testBoots, 849, false},
		{"old boots", testBoots - 1, 1000, false},
		{"new boots", testBoots + 1, 1000, false},
	} {
		for _, level := range []gosnmp.SnmpV3MsgFlags{gosnmp.AuthPriv, gosnmp.AuthNoPriv} {
			u := userAuthPriv
			if level == gosnmp.AuthNoPriv {
				u = userAuthOnly
			}
			r := v3Req{user: u, level: level, engine: eng, boots: c.boots, time: c.time, reqID: 21, vbs: nulls(sysName0)}
			before := s.Stats().NotInTimeWindows
			p := decodeV3(t, u, eng, s.Handle(ctx, r.encode(t), nil)) // verifies the report's digest
			if c.ok {
				if p.PDUType != gosnmp.GetResponse || p.Error != gosnmp.NoError {
					t.Errorf("%s %v: %v %v", c.name, level, p.PDUType, p.Error)
				}
				continue
			}
			if p.PDUType != gosnmp.Report || p.Variables[0].Name != ".1.3.6.1.6.3.15.1.1.2.0" {
				t.Errorf("%s %v: %v %v, want a notInTimeWindows report", c.name, level, p.PDUType, p.Variables)
				continue
			}
			sp := p.SecurityParameters.(*gosnmp.UsmSecurityParameters)
			if p.MsgFlags&gosnmp.AuthPriv != gosnmp.AuthNoPriv || sp.AuthoritativeEngineBoots != testBoots || sp.AuthoritativeEngineTime != 1000 {
				t.Errorf("%s: report flags %v boots %d time %d", c.name, p.MsgFlags, sp.AuthoritativeEngineBoots, sp.AuthoritativeEngineTime)
			}
			if s.Stats().NotInTimeWindows != before+1 {
				t.Errorf("%s: counter did not move", c.name)
			}
		}
	}
}

// Responses carry this engine's parameters, no Reportable flag, the
// request's msgID and a new privacy salt every time.
func TestV3ResponseParameters(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	eng := s.EngineID()
	r := v3Req{user: userSHA256, level: gosnmp.AuthPriv, engine: eng, boots: testBoots, msgID: 99, reqID: 31, vbs: nulls(sysName0)}
	pkt := r.encode(t)
	var salts [][]byte
	for range 3 {
		p := decodeV3(t, userSHA256, eng, s.Handle(ctx, pkt, nil))
		if p.PDUType != gosnmp.GetResponse || p.MsgID != 99 || p.RequestID != 31 {
			t.Fatalf("%v msgID %d reqID %d", p.PDUType, p.MsgID, p.RequestID)
		}
		if p.MsgFlags != gosnmp.AuthPriv {
			t.Errorf("flags %v, want authPriv without reportable", p.MsgFlags)
		}
		if p.ContextEngineID != string(eng) {
			t.Errorf("contextEngineID %x", p.ContextEngineID)
		}
		salts = append(salts, p.SecurityParameters.(*gosnmp.UsmSecurityParameters).PrivacyParameters)
	}
	if bytes.Equal(salts[0], salts[1]) || bytes.Equal(salts[1], salts[2]) || bytes.Equal(salts[0], r.encode(t)[len(r.encode(t))-1:]) {
		t.Errorf("privacy salts repeat: %x", salts)
	}
}

// A message altered in transit fails the digest, whichever octet changed.
func TestV3TamperedMessage(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	eng := s.EngineID()
	r := v3Req{user: userAuthPriv, level: gosnmp.AuthPriv, engine: eng, boots: testBoots, reqID: 41, vbs: nulls(sysName0)}
	pkt := r.encode(t)
	for _, pos := range []int{len(pkt) - 1, len(pkt) - 10} {
		bad := bytes.Clone(pkt)
		bad[pos] ^= 0x01
		before := s.Stats().WrongDigests
		p := decodeReport(t, s.Handle(ctx, bad, nil))
		if p.Variables[0].Name != ".1.3.6.1.6.3.15.1.1.5.0" || s.Stats().WrongDigests != before+1 {
			t.Errorf("octet %d changed: %v", pos, p.Variables)
		}
	}
	// The original still works, and Handle did not modify it.
	orig := bytes.Clone(pkt)
	decodeV3(t, userAuthPriv, eng, s.Handle(ctx, pkt, nil))
	if !bytes.Equal(orig, pkt) {
		t.Error("Handle modified the request buffer")
	}
	// Claiming privacy without encrypting is a decryption error.
	r.level = gosnmp.AuthNoPriv
	plain := r.encode(t)
	flagsAt := bytes.Index(plain, []byte{0x04, 0x01, byte(gosnmp.AuthNoPriv | gosnmp.Reportable)})
	plain[flagsAt+2] = byte(gosnmp.AuthPriv | gosnmp.Reportable)
	if p := decodeReport(t, s.Handle(ctx, plain, nil)); p.Variables[0].Name != ".1.3.6.1.6.3.15.1.1.6.0" {
		t.Errorf("plaintext with the priv flag: %v", p.Variables)
	}
}

func TestV3Discovery(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	probe := &gosnmp.SnmpPacket{
		Version: gosnmp.Version3, MsgFlags: gosnmp.Reportable, SecurityModel: gosnmp.UserSecurityModel,
		SecurityParameters: &gosnmp.UsmSecurityParameters{}, MsgID: 1, MsgMaxSize: 65507,
		PDUType: gosnmp.GetRequest, RequestID: 17,
	}
	pkt, err := probe.MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	p := decodeReport(t, s.Handle(ctx, pkt, nil))
	sp := p.SecurityParameters.(*gosnmp.UsmSecurityParameters)
	if p.Variables[0].Name != ".1.3.6.1.6.3.15.1.1.4.0" || sp.AuthoritativeEngineID != string(s.EngineID()) || p.RequestID != 17 {
		t.Errorf("discovery: %v engine %x reqID %d", p.Variables, sp.AuthoritativeEngineID, p.RequestID)
	}
	// Priv without auth is an invalid message.
	probe.MsgFlags = 0x2 | gosnmp.Reportable
	probe.SecurityParameters = &gosnmp.UsmSecurityParameters{AuthoritativeEngineID: string(s.EngineID()), UserName: "nms"}
	if pkt, err = probe.MarshalMsg(); err == nil {
		if b := s.Handle(ctx, pkt, nil); b != nil || s.Stats().InvalidMsgs != 1 {
			t.Errorf("priv without auth answered or not counted")
		}
	}
}

func TestV3Contexts(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	eng := s.EngineID()
	r := v3Req{user: userAuthPriv, level: gosnmp.AuthPriv, engine: eng, boots: testBoots, reqID: 51, vbs: nulls(sysName0), ctxName: "vlan-10"}
	p := decodeV3(t, userAuthPriv, eng, s.Handle(ctx, r.encode(t), nil))
	if p.PDUType != gosnmp.Report || p.Variables[0].Name != ".1.3.6.1.6.3.12.1.5.0" {
		t.Errorf("unknown context: %v %v", p.PDUType, p.Variables)
	}
	r.ctxName, r.ctxEngine = "", []byte("\x80\x00\x00\x09\x04elsewhere")
	p = decodeV3(t, userAuthPriv, eng, s.Handle(ctx, r.encode(t), nil))
	if p.PDUType != gosnmp.Report || p.Variables[0].Name != ".1.3.6.1.6.3.11.2.1.3.0" {
		t.Errorf("unknown context engine: %v %v", p.PDUType, p.Variables)
	}
	if st := s.Stats(); st.UnknownContexts != 1 || st.UnknownPDUHandlers != 1 {
		t.Errorf("stats %+v", st)
	}
}

// GetBulk over SNMPv3 uses the exact non-repeaters and max-repetitions,
// which gosnmp itself narrows; they come from the decrypted scopedPDU.
func TestV3BulkFieldsFromPlaintext(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	eng := s.EngineID()
	r := v3Req{user: userAuthPriv, level: gosnmp.AuthPriv, engine: eng, boots: testBoots, reqID: 61,
		pdu: gosnmp.GetBulkRequest, nonRep: 1, maxRep: 300, vbs: nulls(sysDescr0, ".1.3.6.1.4.1.9.9.543")}
	p := decodeV3(t, userAuthPriv, eng, s.Handle(ctx, r.encode(t), nil))
	if p.Error != gosnmp.NoError || len(p.Variables) < 200 {
		t.Fatalf("bulk: %v, %d bindings", p.Error, len(p.Variables))
	}
	if p.Variables[0].Name != ".1.3.6.1.2.1.1.2.0" || !strings.HasPrefix(p.Variables[1].Name, ".1.3.6.1.4.1.9.9.543.") {
		t.Errorf("bulk starts %s, %s", p.Variables[0].Name, p.Variables[1].Name)
	}
}

// Concurrent managers of every version while events invalidate the
// snapshot (run with -race).
func TestConcurrentRequests(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	port := serve(t, s)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ev := make(chan agent.Event)
	go s.Notify(cctx, ev)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	var clients []*gosnmp.GoSNMP
	for i := range 6 {
		switch i % 3 {
		case 0:
			g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(port), Version: gosnmp.Version2c, Community: "public", Timeout: 2 * time.Second, Retries: 1}
			if err := g.Connect(); err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			clients = append(clients, g)
		case 1:
			clients = append(clients, v3Client(t, port, userAuthPriv, gosnmp.AuthPriv))
		default:
			clients = append(clients, v3Client(t, port, userSHA256, gosnmp.AuthPriv))
		}
	}
	for _, g := range clients {
		wg.Go(func() {
			for range 10 {
				vbs, err := g.BulkWalkAll(".1.3.6.1.4.1.9.9.543.1.2.3.1.3")
				if err != nil {
					errs <- err
					return
				}
				if len(vbs) != 6 {
					errs <- fmt.Errorf("walk of %d", len(vbs))
					return
				}
			}
		})
	}
	go func() {
		for range 20 {
			select {
			case ev <- agent.Event{Kind: agent.EventTamper}:
			case <-cctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// GetBulk fields outside gosnmp's uint8 non-repeaters: negative values
// count as 0 (RFC 3416 §4.2.3). The requests are patched after encoding.
func TestBulkExactFields(t *testing.T) {
	s := newServer(t, newFakeSource(t), func(c *Config) { c.Users = append(c.Users, userNoAuth); c.AllowNoAuth = true })
	eng := s.EngineID()
	// non-repeaters 1, max-repetitions 3, then the variable bindings.
	fields := []byte{0x02, 0x01, 0x01, 0x02, 0x01, 0x03, 0x30}
	patch := func(b []byte, nonRep, maxRep byte) []byte {
		i := bytes.Index(b, fields)
		if i < 0 || bytes.Index(b[i+1:], fields) >= 0 {
			t.Fatal("GetBulk fields not found once")
		}
		b = bytes.Clone(b)
		b[i+2], b[i+5] = nonRep, maxRep
		return b
	}
	oids := []string{sysDescr0, sysName0}
	for _, c := range []struct {
		name           string
		nonRep, maxRep byte
		want           []string // names in the response
	}{
		{"as sent", 0x01, 0x03, []string{".1.3.6.1.2.1.1.2.0", ".1.3.6.1.2.1.1.6.0", ".1.3.6.1.2.1.1.7.0", ".1.3.6.1.2.1.11.1.0"}},
		// gosnmp would read 255 non-repeaters and answer two bindings.
		{"non-repeaters -1", 0xff, 0x02, []string{".1.3.6.1.2.1.1.2.0", ".1.3.6.1.2.1.1.6.0", ".1.3.6.1.2.1.1.3.0", ".1.3.6.1.2.1.1.7.0"}},
		// gosnmp would read 2^31-3 repetitions.
		{"max-repetitions -3", 0x01, 0xfd, []string{".1.3.6.1.2.1.1.2.0"}},
	} {
		v2 := patch(encode(t, gosnmp.Version2c, "public", gosnmp.GetBulkRequest, 1, 3, oids...), c.nonRep, c.maxRep)
		r := v3Req{user: userNoAuth, level: gosnmp.NoAuthNoPriv, engine: eng, boots: testBoots, reqID: 3,
			pdu: gosnmp.GetBulkRequest, nonRep: 1, maxRep: 3, vbs: nulls(oids...)}
		v3 := patch(r.encode(t), c.nonRep, c.maxRep)
		for ver, p := range map[string]*gosnmp.SnmpPacket{
			"v2c": decode(t, gosnmp.Version2c, s.Handle(ctx, v2, nil)),
			"v3":  decodeV3(t, userNoAuth, eng, s.Handle(ctx, v3, nil)),
		} {
			var got []string
			for _, vb := range p.Variables {
				got = append(got, vb.Name)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("%s %s: %v, want %v", c.name, ver, got, c.want)
			}
		}
	}
}

// The exact GetBulk fields of an encrypted request are read from the
// buffer gosnmp decrypted in place; this pins that behaviour of gosnmp.
func TestGosnmpDecryptsInPlace(t *testing.T) {
	eng := []byte("\x80\x00\x00\x09\x04FDO1234X0AB")
	r := v3Req{user: userSHA256, level: gosnmp.AuthPriv, engine: eng, boots: 1, reqID: 1234,
		pdu: gosnmp.GetBulkRequest, nonRep: 2, maxRep: 40, vbs: nulls(sysDescr0, sysName0, licName1)}
	pkt := r.encode(t)
	_, off, _ := msgVersion(pkt)
	h, err := readV3Header(pkt, off)
	if err != nil {
		t.Fatal(err)
	}
	u := userSHA256
	if err := u.normalize(); err != nil {
		t.Fatal(err)
	}
	sp, _ := u.securityParameters(eng)
	dec := &gosnmp.GoSNMP{Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel, SecurityParameters: sp}
	if _, err := dec.UnmarshalTrap(pkt, true); err != nil {
		t.Fatal(err)
	}
	_, _, ph, err := scopedHeader(pkt, h.dataOff)
	if err != nil || ph.requestID != 1234 || ph.f1 != 2 || ph.f2 != 40 || ph.tag != byte(gosnmp.GetBulkRequest) {
		t.Errorf("plaintext not found where gosnmp decrypted: %+v %v", ph, err)
	}
}

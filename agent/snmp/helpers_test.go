package snmp

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/licensed-dev/licensed/agent"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/snmp")

// fixtureDir holds the fixtures of this package.
const fixtureDir = "../../testdata/snmp"

// Test users. net-snmp needs pass phrases of at least eight characters.
var (
	userAuthPriv = User{Name: "nms", Auth: "SHA", AuthPass: "authpass123", Priv: "AES", PrivPass: "privpass123"}
	userSHA256   = User{Name: "nms256", Auth: "SHA-256", AuthPass: "authpass256", Priv: "AES-256", PrivPass: "privpass256"}
	userAuthOnly = User{Name: "monitor", Auth: "SHA-512", AuthPass: "authpass512"}
	userNoAuth   = User{Name: "anon"}
)

const testBoots = 7

// fakeSource serves a fixed status and records comment changes.
type fakeSource struct {
	mu     sync.Mutex
	st     *agent.Status
	err    error
	calls  int
	actors []agent.Actor
	// failComment makes SetComment fail for a feature.
	failComment map[string]error
}

func loadStatus(t testing.TB, name string) *agent.Status {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var st agent.Status
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &st
}

func newFakeSource(t testing.TB) *fakeSource {
	return &fakeSource{st: loadStatus(t, "status-c3750e-stack.json")}
}

// Status returns a deep copy, as the agent does.
func (f *fakeSource) Status(context.Context) (*agent.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	b, err := json.Marshal(f.st)
	if err != nil {
		return nil, err
	}
	var st agent.Status
	err = json.Unmarshal(b, &st)
	return &st, err
}

func (f *fakeSource) SetComment(ctx context.Context, feature, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actors = append(f.actors, agent.ActorFrom(ctx))
	if err := f.failComment[feature]; err != nil {
		return err
	}
	found := false
	for i := range f.st.Licenses {
		if f.st.Licenses[i].Feature == feature {
			f.st.Licenses[i].Comment = text
			found = true
		}
	}
	if !found {
		return agent.Errorf(agent.CauseUnknownFeature, "unknown feature %s", feature)
	}
	return nil
}

func (f *fakeSource) comment(feature string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.st.Licenses {
		if l.Feature == feature {
			return l.Comment
		}
	}
	return ""
}

func (f *fakeSource) statusCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newServer builds a Server over the fixture; mod adjusts the config.
func newServer(t testing.TB, src *fakeSource, mod func(*Config)) *Server {
	t.Helper()
	cfg := Config{
		Community:   "public",
		Users:       []User{userAuthPriv, userSHA256, userAuthOnly},
		EngineBoots: testBoots,
		Contact:     "noc@example.net",
		Location:    "rack 4, row B",
		Source:      src,
		SetComment:  src.SetComment,
		Logf:        t.Logf,
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// serve runs s on a loopback socket until the test ends and returns the
// port.
func serve(t testing.TB, s *Server) int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, pc) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after cancel")
		}
		pc.Close()
	})
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// encode builds a v1/v2c request the way a manager would.
func encode(t testing.TB, ver gosnmp.SnmpVersion, community string, pdu gosnmp.PDUType, nonRep uint8, maxRep uint32, oids ...string) []byte {
	t.Helper()
	vbs := make([]gosnmp.SnmpPDU, len(oids))
	for i, o := range oids {
		vbs[i] = gosnmp.SnmpPDU{Name: o, Type: gosnmp.Null}
	}
	return encodeVBs(t, ver, community, pdu, nonRep, maxRep, vbs)
}

func encodeVBs(t testing.TB, ver gosnmp.SnmpVersion, community string, pdu gosnmp.PDUType, nonRep uint8, maxRep uint32, vbs []gosnmp.SnmpPDU) []byte {
	t.Helper()
	g := &gosnmp.GoSNMP{Version: ver, Community: community}
	b, err := g.SnmpEncodePacket(pdu, vbs, nonRep, maxRep)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decode parses a v1/v2c response.
func decode(t testing.TB, ver gosnmp.SnmpVersion, b []byte) *gosnmp.SnmpPacket {
	t.Helper()
	if b == nil {
		t.Fatal("no response")
	}
	p, err := (&gosnmp.GoSNMP{Version: ver}).SnmpDecodePacket(b)
	if err != nil {
		t.Fatalf("decoding response: %v", err)
	}
	if p.PDUType != gosnmp.GetResponse {
		t.Fatalf("response PDU %v", p.PDUType)
	}
	return p
}

// v3Params returns USM parameters for u, localized to engine when set.
func v3Params(t testing.TB, u User, engine []byte, boots, etime uint32) *gosnmp.UsmSecurityParameters {
	t.Helper()
	if err := u.normalize(); err != nil {
		t.Fatal(err)
	}
	sp, err := u.securityParameters(engine)
	if err != nil {
		t.Fatal(err)
	}
	sp.AuthoritativeEngineBoots, sp.AuthoritativeEngineTime = boots, etime
	return sp
}

// encodeV3 builds a v3 request for u as if the manager had already
// discovered the engine: engine ID, boots and time as given.
func encodeV3(t testing.TB, u User, level gosnmp.SnmpV3MsgFlags, engine []byte, boots, etime uint32, pdu gosnmp.PDUType, nonRep uint8, maxRep uint32, oids ...string) []byte {
	t.Helper()
	vbs := make([]gosnmp.SnmpPDU, len(oids))
	for i, o := range oids {
		vbs[i] = gosnmp.SnmpPDU{Name: o, Type: gosnmp.Null}
	}
	g := &gosnmp.GoSNMP{
		Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel, MsgFlags: level,
		SecurityParameters: v3Params(t, u, engine, boots, etime), ContextEngineID: string(engine),
	}
	b, err := g.SnmpEncodePacket(pdu, vbs, nonRep, maxRep)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeV3 verifies and decodes a v3 response or report for u.
func decodeV3(t testing.TB, u User, engine []byte, b []byte) *gosnmp.SnmpPacket {
	t.Helper()
	if b == nil {
		t.Fatal("no response")
	}
	g := &gosnmp.GoSNMP{Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel, SecurityParameters: v3Params(t, u, engine, 0, 0)}
	p, err := g.UnmarshalTrap(append([]byte(nil), b...), true)
	if err != nil {
		t.Fatalf("decoding v3 response: %v", err)
	}
	return p
}

// v3Client is a gosnmp manager for u against a served Server.
func v3Client(t testing.TB, port int, u User, level gosnmp.SnmpV3MsgFlags) *gosnmp.GoSNMP {
	t.Helper()
	sp := v3Params(t, u, nil, 0, 0)
	g := &gosnmp.GoSNMP{
		Target: "127.0.0.1", Port: uint16(port), Version: gosnmp.Version3,
		SecurityModel: gosnmp.UserSecurityModel, MsgFlags: level, SecurityParameters: sp,
		Timeout: 2 * time.Second, Retries: 1, MaxRepetitions: 25,
	}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// pollFile waits up to limit for path to contain all of want.
func pollFile(t testing.TB, path string, limit time.Duration, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(limit)
	var text string
	for {
		b, _ := os.ReadFile(path)
		text = string(b)
		missing := ""
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return text
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %q did not appear within %v; file:\n%s", path, missing, limit, text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var errBoom = errors.New("status unavailable")

// v3Req describes a hand-made SNMPv3 request, for the cases a well-behaved
// manager never sends.
type v3Req struct {
	user      User
	level     gosnmp.SnmpV3MsgFlags // security level, Reportable is added unless noReport
	noReport  bool
	engine    []byte // msgAuthoritativeEngineID
	keyEngine []byte // engine the keys are localized to; default engine
	boots     uint32
	time      uint32
	msgID     uint32
	maxSize   uint32
	ctxEngine []byte // default engine
	ctxName   string
	pdu       gosnmp.PDUType
	reqID     uint32
	nonRep    uint8
	maxRep    uint32
	vbs       []gosnmp.SnmpPDU
}

func (r v3Req) encode(t testing.TB) []byte {
	t.Helper()
	keyEngine := r.keyEngine
	if keyEngine == nil {
		keyEngine = r.engine
	}
	sp := v3Params(t, r.user, keyEngine, r.boots, r.time)
	sp.AuthoritativeEngineID = string(r.engine)
	if r.level == gosnmp.AuthPriv {
		sp.PrivacyParameters = []byte{1, 2, 3, 4, 5, 6, 7, byte(r.reqID)}
	}
	flags := r.level
	if !r.noReport {
		flags |= gosnmp.Reportable
	}
	ctxEngine := r.ctxEngine
	if ctxEngine == nil {
		ctxEngine = r.engine
	}
	if r.maxSize == 0 {
		r.maxSize = 65507
	}
	if r.msgID == 0 {
		r.msgID = 4242
	}
	if r.pdu == 0 {
		r.pdu = gosnmp.GetRequest
	}
	p := &gosnmp.SnmpPacket{
		Version: gosnmp.Version3, MsgFlags: flags, SecurityModel: gosnmp.UserSecurityModel,
		SecurityParameters: sp, MsgID: r.msgID, MsgMaxSize: r.maxSize,
		ContextEngineID: string(ctxEngine), ContextName: r.ctxName,
		PDUType: r.pdu, RequestID: r.reqID, NonRepeaters: r.nonRep, MaxRepetitions: r.maxRep, Variables: r.vbs,
	}
	b, err := p.MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// nulls makes GET-style bindings.
func nulls(oids ...string) []gosnmp.SnmpPDU {
	vbs := make([]gosnmp.SnmpPDU, len(oids))
	for i, o := range oids {
		vbs[i] = gosnmp.SnmpPDU{Name: o, Type: gosnmp.Null}
	}
	return vbs
}

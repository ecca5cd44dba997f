package snmp

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/licensed-dev/licensed/agent"
)

func TestParseUser(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    User
		wantErr string
	}{
		{"nms:SHA:authpass123:AES:privpass123", User{"nms", "SHA", "authpass123", "AES", "privpass123"}, ""},
		{"nms:sha-256:authpass123:aes-256:priv:pass:123", User{"nms", "SHA-256", "authpass123", "AES-256", "priv:pass:123"}, ""},
		{"nms:SHA512:authpass123:AES128:privpass123", User{"nms", "SHA-512", "authpass123", "AES", "privpass123"}, ""},
		{"mon:SHA-224:authpass123", User{"mon", "SHA-224", "authpass123", "", ""}, ""},
		{"nms", User{}, "want NAME:AUTH:AUTHPASS"},
		{"nms:SHA:authpass123:AES", User{}, "want NAME:AUTH:AUTHPASS"},
		{"nms:MD5:authpass123", User{}, `unknown authentication protocol "MD5"`},
		{"nms:SHA:authpass123:DES:privpass123", User{}, `unknown privacy protocol "DES"`},
		{"nms:SHA:short", User{}, "at least 8 characters"},
		{"nms:SHA:authpass123:AES:short", User{}, "privacy pass phrase must have at least 8"},
		{":SHA:authpass123", User{}, "must be 1 to 32 characters"},
		{"a b:SHA:authpass123", User{}, "printable ASCII"},
		{strings.Repeat("u", 33) + ":SHA:authpass123", User{}, "1 to 32"},
		{"nms::authpass123", User{}, "authentication protocol is empty"},
	} {
		got, err := ParseUser(c.in)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("ParseUser(%q) error %v, want %q", c.in, err, c.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "authpass123") {
				t.Errorf("ParseUser(%q): the error shows the pass phrase: %v", c.in, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseUser(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

func TestApplyLine(t *testing.T) {
	var c Config
	for _, line := range []string{
		"snmp-server community public RO",
		"snmp-server user nms NMS v3 auth sha-256 authpass123 priv aes 256 privpass123",
		"snmp-server user mon NMS v3 auth sha authpass123",
		"snmp-server host 192.0.2.10 version 2c public",
		"snmp-server host 192.0.2.11 informs version 3 priv nms udp-port 1162",
		"snmp-server host 2001:db8::1 traps version 3 auth nms",
		"snmp-server contact NOC +1 555 0100",
		"snmp-server location Building 4, rack 7",
		"snmp-server enable traps license",
		"snmp-server enable traps license",
	} {
		if err := c.ApplyLine(line); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
	}
	if c.Community != "public" || c.Contact != "NOC +1 555 0100" || c.Location != "Building 4, rack 7" {
		t.Errorf("config %+v", c)
	}
	if len(c.Users) != 2 || c.Users[0] != (User{"nms", "SHA-256", "authpass123", "AES-256", "privpass123"}) || c.Users[1].Priv != "" {
		t.Errorf("users %+v", c.Users)
	}
	if len(c.Receivers) != 3 {
		t.Fatalf("receivers %+v", c.Receivers)
	}
	r0, r1, r2 := c.Receivers[0], c.Receivers[1], c.Receivers[2]
	if r0.Addr != "192.0.2.10:162" || r0.Version != "2c" || r0.Community != "public" || r0.Inform {
		t.Errorf("receiver 0 %+v", r0)
	}
	if r1.Addr != "192.0.2.11:1162" || r1.Version != "3" || !r1.Inform || r1.User.Name != "nms" || r1.User.Priv != "AES-256" {
		t.Errorf("receiver 1 %+v", r1)
	}
	if r2.Addr != "[2001:db8::1]:162" || r2.User.Priv != "" {
		t.Errorf("receiver 2 %+v %+v", r2, r2.User)
	}
	if len(c.Traps) != 1 || c.Traps[0] != TrapsLicense {
		t.Errorf("traps %v", c.Traps)
	}

	for _, c := range []struct{ line, wantErr string }{
		{"snmp-server community private RW", "write communities are not supported"},
		{"snmp-server community x", "want snmp-server community NAME RO"},
		{"snmp-server user x G v2c auth sha authpass123", "only v3 users"},
		{"snmp-server user x G v3 auth md5 authpass123", "unknown authentication protocol"},
		{"snmp-server user x G v3 auth sha authpass123 priv des 56 privpass123", "priv aes"},
		{"snmp-server user x G v3 auth sha authpass123 priv aes 512 privpass123", "AES key size"},
		{"snmp-server host 192.0.2.1 version 3 priv ghost", `user "ghost" is not defined`},
		{"snmp-server host 192.0.2.1 version 1 public", "version \"1\""},
		{"snmp-server host 192.0.2.1 version 2c public udp-port 99999", "not 1 to 65535"},
		{"snmp-server host 192.0.2.1 version 2c public extra", "unexpected"},
		{"snmp-server enable traps bgp", "unknown notification group"},
		{"snmp-server view all iso included", "unknown snmp-server command"},
		{"logging host 192.0.2.1", "not an snmp-server line"},
	} {
		var cfg Config
		_ = cfg.ApplyLine("snmp-server user mon G v3 auth sha authpass123")
		err := cfg.ApplyLine(c.line)
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%q: error %v, want %q", c.line, err, c.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "authpass123") {
			t.Errorf("%q: error shows a pass phrase: %v", c.line, err)
		}
	}
}

func TestNewValidation(t *testing.T) {
	src := newFakeSource(t)
	base := func() Config { return Config{Source: src, Community: "public", EngineBoots: 3} }
	for _, c := range []struct {
		name    string
		mod     func(*Config)
		wantErr string
	}{
		{"no source", func(c *Config) { c.Source = nil }, "Source is required"},
		{"bad listen", func(c *Config) { c.Listen = "localhost" }, "listen address"},
		{"long community", func(c *Config) { c.Community = strings.Repeat("c", 128) }, "at most 127"},
		{"bad sysObjectID", func(c *Config) { c.SysObjectID = "1.3.x" }, "sysObjectID"},
		{"boots exhausted", func(c *Config) { c.EngineBoots = 1<<31 - 1 }, "reached its limit"},
		{"short engine ID", func(c *Config) { c.EngineID = []byte{0x80, 0, 0, 9} }, "want 5 to 32"},
		{"duplicate user", func(c *Config) { c.Users = []User{userAuthPriv, userAuthPriv} }, "configured twice"},
		{"bad user", func(c *Config) { c.Users = []User{{Name: "x", Auth: "MD5", AuthPass: "authpass123"}} }, "unknown authentication protocol"},
		{"receiver without port", func(c *Config) { c.Receivers = []Receiver{{Addr: "192.0.2.1"}} }, "want HOST:PORT"},
		{"v2c receiver without community", func(c *Config) { c.Community = ""; c.Receivers = []Receiver{{Addr: "192.0.2.1:162"}} }, "needs a community"},
		{"v3 receiver without user", func(c *Config) { c.Receivers = []Receiver{{Addr: "192.0.2.1:162", Version: "3"}} }, "needs a user"},
		{"v3 receiver without auth", func(c *Config) { c.Receivers = []Receiver{{Addr: "192.0.2.1:162", Version: "3", User: &userNoAuth}} }, "needs authentication"},
		{"receiver version", func(c *Config) { c.Receivers = []Receiver{{Addr: "192.0.2.1:162", Version: "1"}} }, "want 2c or 3"},
		{"trap group", func(c *Config) { c.Traps = []string{"bgp"} }, "notification group"},
		{"negative retries", func(c *Config) { c.InformRetries = -1 }, "must not be negative"},
		{"status fails", func(c *Config) { c.Source = &fakeSource{err: errBoom} }, "status unavailable"},
	} {
		cfg := base()
		c.mod(&cfg)
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.wantErr)
		}
	}
	// Defaults.
	s, err := New(Config{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg.Listen != DefaultListen || s.boots != 1 || s.sysObjectID != DefaultSysObjectID || s.cfg.Workers != DefaultWorkers ||
		s.cfg.QueueSize != DefaultQueueSize || s.cfg.InformTimeout != DefaultInformTimeout || s.cfg.InformRetries != DefaultInformRetries {
		t.Errorf("defaults: %+v boots %d", s.cfg, s.boots)
	}
}

func TestDeriveEngineID(t *testing.T) {
	st := loadStatus(t, "status-c3750e-stack.json")
	id, err := DeriveEngineID(st)
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]byte{0x80, 0, 0, 9, 4}, "FDO1234X0AB"...); !bytes.Equal(id, want) {
		t.Errorf("engine ID %x, want %x", id, want)
	}
	// The active member decides, not the first.
	st.Members[0].Active, st.Members[2].Active = false, true
	if id, _ := DeriveEngineID(st); !bytes.HasSuffix(id, []byte("FDO1234X0EF")) {
		t.Errorf("engine ID %x does not follow the active member", id)
	}
	// A serial number that does not fit as text is hashed.
	st.Members[2].SN = strings.Repeat("S", 28)
	id, _ = DeriveEngineID(st)
	if len(id) != 21 || id[4] != 5 {
		t.Errorf("long serial: engine ID %x", id)
	}
	st.Members[2].SN = "SN WITH SPACE"
	if id2, _ := DeriveEngineID(st); id2[4] != 5 || bytes.Equal(id, id2) {
		t.Errorf("serial with a space: engine ID %x", id2)
	}
	if _, err := DeriveEngineID(&agent.Status{}); err == nil {
		t.Error("no members: no error")
	}
}

// The configuration example of docs/SNMP.md is valid.
func TestDocsConfigExample(t *testing.T) {
	b, err := os.ReadFile("../../docs/SNMP.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "### Device configuration")
	block := doc[start:]
	block = block[strings.Index(block, "```\n")+4:]
	block = block[:strings.Index(block, "```")]
	var c Config
	n := 0
	for line := range strings.Lines(block) {
		if err := c.ApplyLine(strings.TrimSpace(line)); err != nil {
			t.Errorf("docs: %v", err)
		}
		n++
	}
	if n < 5 || len(c.Receivers) != 3 || len(c.Users) != 2 {
		t.Errorf("docs example: %d lines, config %+v", n, c)
	}
	if _, err := New(Config{Source: newFakeSource(t), Community: c.Community, Users: c.Users, Receivers: c.Receivers, Traps: c.Traps}); err != nil {
		t.Errorf("docs example config: %v", err)
	}
}

package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestExampleFileParses(t *testing.T) {
	data, err := os.ReadFile("../../docs/licensed.conf.example")
	if err != nil {
		t.Fatal(err)
	}
	o, err := Parse(data)
	if err != nil {
		t.Fatalf("the shipped example does not parse: %v", err)
	}
	if o.Hostname != "sw1" || o.StateDir != "/var/lib/licensed" || o.SNMPCommunity != "public" || o.Banner != "Authorized access only" {
		t.Fatalf("example parsed to %+v", o)
	}
}

// TestEveryFlagHasALine: the example file documents a line for every flag
// of licensed.
func TestEveryFlagHasALine(t *testing.T) {
	data, err := os.ReadFile("../../docs/licensed.conf.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"state-dir", "socket", "device-key", "identity", "boot-id-file", "trust",
		"features-file", "admin-group", "time-scale", "demo", "ssh-listen", "ssh-authorized-keys", "ssh-user",
		"snmp-listen", "snmp-community", "snmp-v3-user", "trap-receiver", "syslog", "portal", "portal-ca"} {
		if !strings.Contains(string(data), "--"+flag) {
			t.Errorf("no line in the example for --%s", flag)
		}
	}
}

func TestParse(t *testing.T) {
	conf := `! comment
hostname rtr1
licensed state-dir /tmp/x
licensed time-scale 2.5
username oper privilege 1 secret $2a$10$abcdefghijklmnopqrstuu
username admin privilege 15 key ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB admin@lab
snmp-server community nms RO
snmp-server user nms SHA authpass123 AES privpass123
snmp-server host 127.0.0.1 version 2c nms
snmp-server host 127.0.0.1:1162 informs version 3 nms
logging host 127.0.0.1 transport tcp port 6514
logging host ipv6 ::1
logging host udp://127.0.0.1:5514
logging trap warnings
license boot module c2900 technology-package securityk9
license accept end user agreement
license call-home url https://127.0.0.1:8443
end
`
	o, err := Parse([]byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	want := &Options{
		Hostname: "rtr1", StateDir: "/tmp/x", TimeScale: 2.5,
		Users: []User{
			{Name: "oper", Privilege: 1, Secret: "$2a$10$abcdefghijklmnopqrstuu"},
			{Name: "admin", Privilege: 15, Key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB admin@lab"},
		},
		SNMPCommunity: "nms",
		SNMPUsers:     []string{"nms:SHA:authpass123:AES:privpass123"},
		TrapReceivers: []string{"127.0.0.1:162 version 2c nms", "127.0.0.1:1162 informs version 3 nms"},
		Syslog:        []string{"tcp://127.0.0.1:6514", "udp://[::1]:514", "udp://127.0.0.1:5514"},
		LoggingTrap:   4,
		Packages:      []string{"securityk9"},
		EULA:          true,
		Portal:        "https://127.0.0.1:8443",
	}
	if !reflect.DeepEqual(o, want) {
		t.Fatalf("got  %+v\nwant %+v", o, want)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ conf, want string }{
		{"hostname a\nfrobnicate on", "line 2"},
		{"licensed time-scale -1", "positive"},
		{"licensed colour blue", `unknown licensed setting "colour"`},
		{"username x privilege 7 secret $2a$x", "privilege must be 1 or 15"},
		{"username x privilege 15 secret plaintext", "bcrypt"},
		{"snmp-server community public RW", "read-only"},
		{"snmp-server user a b", "snmp-server user NAME"},
		{"logging host 127.0.0.1 transport sctp", "transport"},
		{"logging trap loud", "loud"},
		{"logging host ftp://x", "ftp"},
		{"licensed state-dir", "one value"},
	} {
		_, err := Parse([]byte(tc.conf))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error naming %q", tc.conf, err, tc.want)
		}
	}
}

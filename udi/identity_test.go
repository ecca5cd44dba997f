package udi

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMemberUDI(t *testing.T) {
	m := Member{PID: "WS-C3750E-24TD-S", SN: "FDO1234X0AB", Active: true}
	if got, want := m.UDI(), "WS-C3750E-24TD-S:FDO1234X0AB"; got != want {
		t.Errorf("UDI() = %q, want %q", got, want)
	}
}

func TestIdentityActive(t *testing.T) {
	a := Member{PID: "A", SN: "1"}
	b := Member{PID: "B", SN: "2"}
	bActive := Member{PID: "B", SN: "2", Active: true}
	for _, tt := range []struct {
		name    string
		members []Member
		want    Member
	}{
		{"marked member", []Member{a, bActive}, bActive},
		{"none marked: the first", []Member{a, b}, a},
		{"no members", nil, Member{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := &Identity{Members: tt.members}
			checkEqual(t, "Active()", id.Active(), tt.want)
		})
	}
}

func TestCheckValues(t *testing.T) {
	tests := []struct {
		check   func(string) error
		name    string
		in      string
		problem string // "" means valid
	}{
		{CheckPID, "cisco switch", "WS-C3750E-24TD-S", ""},
		{CheckPID, "slash", "CISCO2911/K9", ""},
		{CheckPID, "plus and dot", "C9300-24P+.E", ""},
		{CheckPID, "32 characters", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", ""},
		{CheckPID, "33 characters", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", `PID "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456" is 33 characters, longer than 32`},
		{CheckPID, "empty", "", "empty PID"},
		{CheckPID, "colon", "WS:C3750E", `PID "WS:C3750E" has ':' at position 3; allowed are letters, digits and - / + . _`},
		{CheckPID, "space", "WS C3750E", `has ' ' at position 3`},
		{CheckPID, "leading dash", "-WS", `PID "-WS" starts with '-'; it must start with a letter or digit`},
		{CheckPID, "control character", "WS\x07", `has '\a' at position 3`},
		{CheckPID, "non-ASCII", "WS-Ç3750", `has 'Ç' at position 4`},
		{CheckSN, "cisco serial", "FDO1234X0AB", ""},
		{CheckSN, "dash and dot", "CN-0X1.7", ""},
		{CheckSN, "slash", "7XK2/JR2", `serial number "7XK2/JR2" has '/' at position 5; allowed are letters, digits and - . _`},
		{CheckSN, "colon", "FDO:1", `has ':' at position 4`},
		{CheckSN, "tab", "FDO\t1", `has '\t' at position 4`},
		{CheckSN, "NUL", "FDO\x001", `has '\x00' at position 4`},
		{CheckSN, "empty", "", "empty serial number"},
		{CheckSN, "too long", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", "is 33 characters, longer than 32"},
		{CheckHostname, "plain", "sw1", ""},
		{CheckHostname, "fqdn and underscore", "core_sw1.lab.example", ""},
		{CheckHostname, "63 characters", "a23456789012345678901234567890123456789012345678901234567890123", ""},
		{CheckHostname, "64 characters", "a234567890123456789012345678901234567890123456789012345678901234", "is 64 characters, longer than 63"},
		{CheckHostname, "space", "sw 1", `hostname "sw 1" has ' ' at position 3`},
		{CheckHostname, "leading dot", ".sw1", `starts with '.'`},
		{CheckHostname, "empty", "", "empty hostname"},
		{CheckPlatform, "catalog id", "c3750e", ""},
		{CheckPlatform, "upper case", "C3750E", `platform "C3750E" has 'C' at position 1; a platform id is lower-case letters and digits, starting with a letter`},
		{CheckPlatform, "leading digit", "3750", `has '3' at position 1`},
		{CheckPlatform, "dash", "c-3750", `has '-' at position 2`},
		{CheckPlatform, "empty", "", "empty platform"},
		{CheckPlatform, "too long", "abcdefghijklmnopqrstuvwxyzabcdefg", "is 33 characters, longer than 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.in, func(t *testing.T) {
			err := tt.check(tt.in)
			if tt.problem == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			checkErr(t, err, nil, tt.problem)
		})
	}
}

func TestValidate(t *testing.T) {
	m := func(pid, sn string, active bool) Member { return Member{PID: pid, SN: sn, Active: active} }
	tests := []struct {
		name    string
		id      Identity
		problem string
	}{
		{"valid stack", Identity{Hostname: "s", Platform: "c3750e", Members: []Member{m("A", "1", false), m("A", "2", true)}}, ""},
		{"platform may be empty", Identity{Hostname: "s", Members: []Member{m("A", "1", true)}}, ""},
		{"bad hostname", Identity{Hostname: "s 1", Members: []Member{m("A", "1", true)}}, `invalid identity: hostname: hostname "s 1" has ' '`},
		{"bad platform", Identity{Hostname: "s", Platform: "C2900", Members: []Member{m("A", "1", true)}}, `invalid identity: platform: platform "C2900"`},
		{"no members", Identity{Hostname: "s"}, "members: no members"},
		{"ten members", Identity{Hostname: "s", Members: []Member{
			m("A", "1", true), m("A", "2", false), m("A", "3", false), m("A", "4", false), m("A", "5", false),
			m("A", "6", false), m("A", "7", false), m("A", "8", false), m("A", "9", false), m("A", "10", false),
		}}, "members: 10 members, more than the 9 a stack may have"},
		{"bad PID", Identity{Hostname: "s", Members: []Member{m("A", "1", true), m("A B", "2", false)}}, `members[1].pid: PID "A B" has ' '`},
		{"bad SN", Identity{Hostname: "s", Members: []Member{m("A", "", true)}}, "members[0].sn: empty serial number"},
		{"same SN twice", Identity{Hostname: "s", Members: []Member{m("A", "FDO1", true), m("B", "fdo1", false)}}, `members[1].sn: serial number "fdo1" is also members[0]'s`},
		{"two active", Identity{Hostname: "s", Members: []Member{m("A", "1", true), m("A", "2", false), m("A", "3", true)}}, "members[2].active: more than one active member (members[0] is active too)"},
		{"none active", Identity{Hostname: "s", Members: []Member{m("A", "1", false)}}, "members: no member is active"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.id.Validate()
			if tt.problem == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			checkErr(t, err, []error{ErrInvalidIdentity}, tt.problem)
		})
	}
}

func TestParseUDI(t *testing.T) {
	got, err := ParseUDI("CISCO2911/K9:FTX1524A0CD")
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, "ParseUDI", got, Member{PID: "CISCO2911/K9", SN: "FTX1524A0CD"})
	for in, problem := range map[string]string{
		"WS-C3750E-24TD-S":   `UDI "WS-C3750E-24TD-S" has no ':' between PID and SN`,
		":FDO1":              `UDI ":FDO1": empty PID`,
		"WS-C3750E:":         `UDI "WS-C3750E:": empty serial number`,
		"WS-C3750E:FDO1:X":   `UDI "WS-C3750E:FDO1:X": serial number "FDO1:X" has ':' at position 5`,
		"WS C3750E:FDO1234X": `UDI "WS C3750E:FDO1234X": PID "WS C3750E" has ' '`,
	} {
		_, err := ParseUDI(in)
		checkErr(t, err, []error{ErrInvalidIdentity}, problem)
	}
}

func TestPlatformForPIDAndDefaultHostname(t *testing.T) {
	for _, tt := range []struct{ pid, platform, hostname string }{
		{"WS-C3750E-24TD-S", "c3750e", "Switch"},
		{"WS-C3750E-48PD-SF", "c3750e", "Switch"},
		{"CISCO2911/K9", "c2900", "Router"},
		{"CISCO2951/K9", "c2900", "Router"},
		{"UC520-8U-4FXO-K9", "uc500", "Switch"},
		{"WS-C3750X-24P", "", "Switch"},
		{"CISCO1941/K9", "", "Switch"},
		{"FP4ZZ7632014A", "", "Switch"},
	} {
		p := PlatformForPID(tt.pid)
		if p != tt.platform {
			t.Errorf("PlatformForPID(%q) = %q, want %q", tt.pid, p, tt.platform)
		}
		if h := DefaultHostname(p); h != tt.hostname {
			t.Errorf("DefaultHostname(%q) = %q, want %q", p, h, tt.hostname)
		}
	}
}

func TestDefaultDemo(t *testing.T) {
	want := &Identity{
		Hostname: "sw1",
		Platform: "c3750e",
		Members:  []Member{{PID: "WS-C3750E-24TD-S", SN: "FDO1234X0AB", Active: true}},
		Source:   "built-in demo identity",
	}
	got := DefaultDemo()
	checkEqual(t, "DefaultDemo()", got, want)
	if udi := got.Active().UDI(); udi != "WS-C3750E-24TD-S:FDO1234X0AB" {
		t.Errorf("demo UDI = %q", udi)
	}

	// Each call is a fresh copy.
	got.Members[0].SN = "CHANGED"
	got.Hostname = "changed"
	checkEqual(t, "DefaultDemo() after the last result was changed", DefaultDemo(), want)

	// The committed demo identity file is the same device.
	data, err := os.ReadFile(filepath.Join("..", "testdata", "identities", "c3750e.json"))
	if err != nil {
		t.Fatal(err)
	}
	file, err := ParseIdentityJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	file.Source = DemoSource
	checkEqual(t, "testdata/identities/c3750e.json", file, want)
}

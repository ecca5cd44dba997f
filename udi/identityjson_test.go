package udi

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseIdentityJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *Identity
	}{
		{
			name: "contract example: second member active",
			in:   `{"hostname": "sw1", "platform": "c3750e", "members": [{"pid": "WS-C3750E-24TD-S", "sn": "FDO1234X0AB"}, {"pid": "WS-C3750E-24TD-S", "sn": "FDO1234X0AC", "active": true}]}`,
			want: &Identity{Hostname: "sw1", Platform: "c3750e", Members: []Member{
				{PID: "WS-C3750E-24TD-S", SN: "FDO1234X0AB"},
				{PID: "WS-C3750E-24TD-S", SN: "FDO1234X0AC", Active: true},
			}},
		},
		{
			name: "no member marked: the first is active",
			in:   `{"hostname":"sw1","platform":"c3750e","members":[{"pid":"WS-C3750E-24TD-S","sn":"A1"},{"pid":"WS-C3750E-24TD-S","sn":"A2","active":false}]}`,
			want: &Identity{Hostname: "sw1", Platform: "c3750e", Members: []Member{
				{PID: "WS-C3750E-24TD-S", SN: "A1", Active: true},
				{PID: "WS-C3750E-24TD-S", SN: "A2"},
			}},
		},
		{
			name: "router without hostname is Router",
			in:   `{"platform": "c2900", "members": [{"pid": "CISCO2911/K9", "sn": "FTX1524A0CD"}]}`,
			want: &Identity{Hostname: "Router", Platform: "c2900", Members: []Member{{PID: "CISCO2911/K9", SN: "FTX1524A0CD", Active: true}}},
		},
		{
			name: "uc500 without hostname is Switch",
			in:   `{"platform": "uc500", "members": [{"pid": "UC520-8U-4FXO-K9", "sn": "FHK1238Z1EF"}]}`,
			want: &Identity{Hostname: "Switch", Platform: "uc500", Members: []Member{{PID: "UC520-8U-4FXO-K9", SN: "FHK1238Z1EF", Active: true}}},
		},
		{
			name: "platform left out: implied by a Cisco PID, hostname follows",
			in:   `{"members": [{"sn": "FTX1524A0CD", "pid": "CISCO2911/K9"}]}`,
			want: &Identity{Hostname: "Router", Platform: "c2900", Members: []Member{{PID: "CISCO2911/K9", SN: "FTX1524A0CD", Active: true}}},
		},
		{
			name: "platform left out and not implied",
			in:   `{"members": [{"pid": "FP4ZZ7632014A", "sn": "732656X1916031"}]}`,
			want: &Identity{Hostname: "Switch", Members: []Member{{PID: "FP4ZZ7632014A", SN: "732656X1916031", Active: true}}},
		},
		{
			name: "platform named wins over the PID",
			in:   `{"platform": "lab", "members": [{"pid": "WS-C3750E-24TD-S", "sn": "FDO1"}]}`,
			want: &Identity{Hostname: "Switch", Platform: "lab", Members: []Member{{PID: "WS-C3750E-24TD-S", SN: "FDO1", Active: true}}},
		},
		{
			name: "nine members, keys in any order, surrounding whitespace",
			in: "\n\t{ \"members\" : [\n" +
				`{"pid":"WS-C3750E-24TD-S","sn":"S1"},{"pid":"WS-C3750E-24TD-S","sn":"S2"},{"pid":"WS-C3750E-24TD-S","sn":"S3"},` +
				`{"pid":"WS-C3750E-24TD-S","sn":"S4"},{"pid":"WS-C3750E-24TD-S","sn":"S5"},{"pid":"WS-C3750E-24TD-S","sn":"S6"},` +
				`{"pid":"WS-C3750E-24TD-S","sn":"S7"},{"pid":"WS-C3750E-24TD-S","sn":"S8"},{"pid":"WS-C3750E-24TD-S","sn":"S9","active":true}` +
				"\n], \"hostname\": \"big_stack.lab\" }\n\n",
			want: &Identity{Hostname: "big_stack.lab", Platform: "c3750e", Members: []Member{
				{PID: "WS-C3750E-24TD-S", SN: "S1"}, {PID: "WS-C3750E-24TD-S", SN: "S2"}, {PID: "WS-C3750E-24TD-S", SN: "S3"},
				{PID: "WS-C3750E-24TD-S", SN: "S4"}, {PID: "WS-C3750E-24TD-S", SN: "S5"}, {PID: "WS-C3750E-24TD-S", SN: "S6"},
				{PID: "WS-C3750E-24TD-S", SN: "S7"}, {PID: "WS-C3750E-24TD-S", SN: "S8"}, {PID: "WS-C3750E-24TD-S", SN: "S9", Active: true},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIdentityJSON([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			checkEqual(t, "Identity", got, tt.want)
		})
	}
}

func TestParseIdentityJSONErrors(t *testing.T) {
	member := `{"pid": "WS-C3750E-24TD-S", "sn": "FDO1234X0AB"}`
	ten := strings.Repeat(`{"pid":"A","sn":"S"},`, 9) + `{"pid":"A","sn":"S"}`
	tests := []struct {
		name, in  string
		fragments []string
	}{
		{"empty file", "", []string{`invalid identity: empty: want a JSON object with "members"`}},
		{"blank file", " \n\t", []string{"empty"}},
		{"too large", `{"hostname":"` + strings.Repeat("a", MaxIdentityFileSize) + `"}`,
			[]string{"65551 bytes, more than the 64 KiB an identity file may have"}},
		{"array at top", `[` + member + `]`, []string{"want a JSON object, found an array"}},
		{"string at top", `"sw1"`, []string{`want a JSON object, found the string "sw1"`}},
		{"syntax error", "{\n  \"hostname\": \"sw1\",\n  \"members\": [" + member + ",]\n}",
			[]string{"members[1]: malformed JSON at line 3, column 64", "invalid character ']'"}},
		{"cut short", `{"hostname": "sw1", "members": [` + member, []string{"JSON ends early: the file is cut short"}},
		{"second object", `{"members": [` + member + `]} {}`, []string{"an object after the JSON object (line 1, column", "a file holds one object"}},
		{"garbage after", `{"members": [` + member + `]} x`, []string{"after the JSON object: malformed JSON at line 1, column"}},
		{"unknown key", `{"members": [` + member + `], "model": "x"}`,
			[]string{`unknown key "model" (line 1, column`, "allowed here: hostname, platform, members"}},
		{"key in upper case", `{"Hostname": "sw1", "members": [` + member + `]}`, []string{`unknown key "Hostname"`, `keys are lower case: "hostname"`}},
		{"duplicate key", `{"hostname": "a", "hostname": "b", "members": [` + member + `]}`, []string{`duplicate key "hostname" (line 1, column`}},
		{"hostname null", `{"hostname": null, "members": [` + member + `]}`, []string{"hostname: want a string, found null"}},
		{"hostname number", `{"hostname": 1, "members": [` + member + `]}`, []string{"hostname: want a string, found the number 1"}},
		{"hostname empty", `{"hostname": "", "members": [` + member + `]}`, []string{"hostname: empty hostname"}},
		{"hostname with space", `{"hostname": "sw 1", "members": [` + member + `]}`, []string{`hostname: hostname "sw 1" has ' ' at position 3`}},
		{"hostname too long", `{"hostname": "` + strings.Repeat("h", 64) + `", "members": [` + member + `]}`, []string{"is 64 characters, longer than 63"}},
		{"platform empty", `{"platform": "", "members": [` + member + `]}`, []string{"platform: empty platform"}},
		{"platform upper case", `{"platform": "C3750E", "members": [` + member + `]}`, []string{`platform: platform "C3750E" has 'C'`}},
		{"platform object", `{"platform": {}, "members": [` + member + `]}`, []string{"platform: want a string, found an object"}},
		{"members missing", `{"hostname": "sw1"}`, []string{`missing "members": a device has at least one member`}},
		{"members empty", `{"members": []}`, []string{"members: empty list"}},
		{"members null", `{"members": null}`, []string{"members: want an array, found null"}},
		{"members object", `{"members": ` + member + `}`, []string{"members: want an array, found an object"}},
		{"member not an object", `{"members": [` + member + `, "WS-C3750E-24TD-S:FDO1"]}`,
			[]string{`members[1]: want an object with "pid" and "sn", found the string "WS-C3750E-24TD-S:FDO1"`}},
		{"ten members", `{"members": [` + ten + `]}`, []string{"members: more than 9 members; a stack has at most 9"}},
		{"pid missing", `{"members": [{"sn": "FDO1"}]}`, []string{`members[0]: missing "pid"`}},
		{"sn missing", `{"members": [` + member + `, {"pid": "WS-C3750E-24TD-S"}]}`, []string{`members[1]: missing "sn"`}},
		{"pid empty", `{"members": [{"pid": "", "sn": "FDO1"}]}`, []string{"members[0].pid: empty PID"}},
		{"pid number", `{"members": [{"pid": 2911, "sn": "FDO1"}]}`, []string{"members[0].pid: want a string, found the number 2911"}},
		{"pid with colon", `{"members": [{"pid": "WS:C", "sn": "FDO1"}]}`, []string{`members[0].pid: PID "WS:C" has ':' at position 3`}},
		{"pid too long", `{"members": [{"pid": "` + strings.Repeat("P", 33) + `", "sn": "FDO1"}]}`, []string{"members[0].pid: PID", "is 33 characters, longer than 32"}},
		{"sn with space", `{"members": [{"pid": "A", "sn": "FDO 1"}]}`, []string{`members[0].sn: serial number "FDO 1" has ' ' at position 4`}},
		{"sn with control char", `{"members": [{"pid": "A", "sn": "FDO\u00011"}]}`, []string{`members[0].sn: serial number "FDO\x011" has '\x01' at position 4`}},
		{"sn with invalid UTF-8", "{\"members\": [{\"pid\": \"A\", \"sn\": \"FDO\xff\"}]}", []string{"members[0].sn: serial number \"FDO\ufffd\" has '\ufffd' at position 4"}},
		{"unknown member key", `{"members": [{"pid": "A", "sn": "B", "vid": "V01"}]}`, []string{`unknown key "members[0].vid"`, "allowed here: pid, sn, active"}},
		{"member key upper case", `{"members": [{"PID": "A", "sn": "B"}]}`, []string{`unknown key "members[0].PID"`, `keys are lower case: "pid"`}},
		{"duplicate member key", `{"members": [{"pid": "A", "sn": "B", "sn": "C"}]}`, []string{`duplicate key "members[0].sn"`}},
		{"active not boolean", `{"members": [{"pid": "A", "sn": "B", "active": "yes"}]}`, []string{`members[0].active: want true or false, found the string "yes"`}},
		{"active null", `{"members": [{"pid": "A", "sn": "B", "active": null}]}`, []string{"members[0].active: want true or false, found null"}},
		{"duplicate SN", `{"members": [` + member + `, ` + member + `]}`, []string{`members[1].sn: serial number "FDO1234X0AB" is also members[0]'s`}},
		{"two active", `{"members": [{"pid": "A", "sn": "1", "active": true}, {"pid": "A", "sn": "2", "active": true}]}`,
			[]string{"members[1].active: more than one active member (members[0] is active too)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := ParseIdentityJSON([]byte(tt.in))
			if id != nil {
				t.Errorf("got %+v with the error", id)
			}
			checkErr(t, err, []error{ErrInvalidIdentity}, tt.fragments...)
		})
	}
}

func TestIdentityFiles(t *testing.T) {
	want := map[string]*Identity{
		"c3750e.json": {Hostname: "sw1", Platform: "c3750e", Members: []Member{
			{PID: "WS-C3750E-24TD-S", SN: "FDO1234X0AB", Active: true},
		}},
		"c2900.json": {Hostname: "rtr1", Platform: "c2900", Members: []Member{
			{PID: "CISCO2911/K9", SN: "FTX1524A0CD", Active: true},
		}},
		"uc500.json": {Hostname: "uc1", Platform: "uc500", Members: []Member{
			{PID: "UC520-8U-4FXO-K9", SN: "FHK1238Z1EF", Active: true},
		}},
		"stack3750e.json": {Hostname: "stack1", Platform: "c3750e", Members: []Member{
			{PID: "WS-C3750E-24TD-S", SN: "FDO1310R1AA"},
			{PID: "WS-C3750E-48PD-S", SN: "FDO1310R1AB", Active: true},
			{PID: "WS-C3750E-24PD-S", SN: "FDO1311S2CD"},
		}},
	}
	dir := filepath.Join("..", "testdata", "identities")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	var wantNames []string
	for n := range want {
		wantNames = append(wantNames, n)
	}
	slices.Sort(wantNames)
	checkEqual(t, "identity files in "+dir, names, wantNames)

	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			id, err := Reader{IdentityFile: path, Root: filepath.Join(fixtureRoot, "onie-switch")}.Read()
			if err != nil {
				t.Fatal(err)
			}
			w.Source = "identity file " + path
			checkEqual(t, "Identity", id, w)
		})
	}
}

// An Identity marshalled as JSON is an identity file for the same device.
func TestIdentityJSONRoundTrip(t *testing.T) {
	ids := []*Identity{
		DefaultDemo(),
		{Hostname: "Router", Platform: "c2900", Members: []Member{{PID: "CISCO2911/K9", SN: "FTX1", Active: true}}},
		{Hostname: "s", Members: []Member{{PID: "A", SN: "1"}, {PID: "B", SN: "2"}, {PID: "C", SN: "3", Active: true}}},
	}
	for _, id := range ids {
		data, err := json.Marshal(id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseIdentityJSON(data)
		if err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		want := *id
		want.Source = ""
		checkEqual(t, string(data), got, &want)
	}
}

func TestDemoJSONMatchesTestdata(t *testing.T) {
	file, err := os.ReadFile(filepath.Join("..", "testdata", "identities", "c3750e.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(file) != demoJSON {
		t.Errorf("udi/demo.json and testdata/identities/c3750e.json differ:\n%s", lineDiff(demoJSON, string(file)))
	}
}

package udi

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTree makes a root with the given files (contents as strings) and
// returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for rel, content := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// attempts is the Place and Reason of a search error's attempts, with
// root replaced by "<root>".
func attempts(t *testing.T, err error, root string) []Attempt {
	t.Helper()
	var se *SearchError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *SearchError", err, err)
	}
	if !errors.Is(err, ErrNoIdentity) {
		t.Errorf("error %v does not wrap ErrNoIdentity", err)
	}
	var out []Attempt
	for _, a := range se.Attempts {
		out = append(out, Attempt{
			Place:  strings.ReplaceAll(a.Place, root, "<root>"),
			Reason: strings.ReplaceAll(a.Reason, root, "<root>"),
		})
	}
	return out
}

const (
	i2cMissing   = "ONIE EEPROM <root>/sys/bus/i2c/devices/*/eeprom"
	nvmemMissing = "ONIE EEPROM <root>/sys/bus/nvmem/devices/*/nvmem"
	dmiPlace     = "DMI <root>/sys/class/dmi/id"
)

func TestReadFixtureTrees(t *testing.T) {
	tests := []struct {
		fixture  string
		platform string
		want     *Identity // nil: Read fails with attempts
		attempts []Attempt
	}{
		{
			fixture: "onie-switch",
			want: &Identity{
				Hostname: "leaf01",
				Members:  []Member{{PID: "FP4ZZ7632014A", SN: "732656X1916031", Active: true}},
				Source:   "ONIE EEPROM <root>/sys/bus/i2c/devices/0-0050/eeprom",
			},
		},
		{
			fixture:  "onie-switch",
			platform: "c3750e",
			want: &Identity{
				Hostname: "leaf01",
				Platform: "c3750e",
				Members:  []Member{{PID: "FP4ZZ7632014A", SN: "732656X1916031", Active: true}},
				Source:   "ONIE EEPROM <root>/sys/bus/i2c/devices/0-0050/eeprom",
			},
		},
		{
			fixture:  "dmi-server",
			platform: "c2900",
			want: &Identity{
				Hostname: "srv-lab-01",
				Platform: "c2900",
				Members:  []Member{{PID: "PowerEdge-R640", SN: "7XK2JR2", Active: true}},
				Source:   dmiPlace,
			},
		},
		{
			fixture: "onie-badcrc",
			attempts: []Attempt{
				{Place: "ONIE EEPROM <root>/sys/bus/i2c/devices/0-0050/eeprom",
					Reason: "invalid TlvInfo EEPROM: CRC-32 mismatch: stored 0xC8D62193, computed 0x" +
						fmt.Sprintf("%08X", crcOf(t, "onie-badcrc/sys/bus/i2c/devices/0-0050/eeprom"))},
				{Place: "ONIE EEPROM <root>/sys/bus/i2c/devices/1-0050/eeprom", Reason: "no TlvInfo header: not a system EEPROM"},
				{Place: nvmemMissing, Reason: "no <root>/sys/bus/nvmem/devices directory"},
				{Place: dmiPlace, Reason: "missing"},
			},
		},
		{
			fixture: "dmi-placeholder",
			attempts: []Attempt{
				{Place: i2cMissing, Reason: "no <root>/sys/bus/i2c/devices directory"},
				{Place: nvmemMissing, Reason: "no <root>/sys/bus/nvmem/devices directory"},
				{Place: dmiPlace, Reason: `product_name is the firmware placeholder "To Be Filled By O.E.M.", ` +
					`product_serial is the firmware placeholder "To Be Filled By O.E.M.", ` +
					`board_serial is the firmware placeholder "Default string"`},
			},
		},
		{
			fixture: "empty",
			attempts: []Attempt{
				{Place: i2cMissing, Reason: "no <root>/sys/bus/i2c/devices directory"},
				{Place: nvmemMissing, Reason: "no <root>/sys/bus/nvmem/devices directory"},
				{Place: dmiPlace, Reason: "missing"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.fixture+"/"+tt.platform, func(t *testing.T) {
			root := filepath.Join(fixtureRoot, tt.fixture)
			id, err := Reader{Root: root, Platform: tt.platform}.Read()
			if tt.want != nil {
				if err != nil {
					t.Fatal(err)
				}
				id.Source = strings.ReplaceAll(id.Source, root, "<root>")
				checkEqual(t, "Identity", id, tt.want)
				return
			}
			if id != nil {
				t.Errorf("got %+v with the error", id)
			}
			checkEqual(t, "attempts", attempts(t, err, root), tt.attempts)
		})
	}
}

// crcOf computes the CRC-32 the damaged fixture's bytes really have.
func crcOf(t *testing.T, rel string) uint32 {
	data, err := os.ReadFile(filepath.Join(fixtureRoot, rel))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParseONIE(data)
	var stored, computed uint32
	if _, scanErr := fmt.Sscanf(err.Error(), "invalid TlvInfo EEPROM: CRC-32 mismatch: stored 0x%X, computed 0x%X", &stored, &computed); scanErr != nil {
		t.Fatalf("%v: %v", err, scanErr)
	}
	return computed
}

func TestSearchErrorMessage(t *testing.T) {
	root := filepath.Join(fixtureRoot, "dmi-placeholder")
	_, err := Reader{Root: root}.Read()
	want := "no device identity: looked at " +
		"ONIE EEPROM " + root + "/sys/bus/i2c/devices/*/eeprom (no " + root + "/sys/bus/i2c/devices directory); " +
		"ONIE EEPROM " + root + "/sys/bus/nvmem/devices/*/nvmem (no " + root + "/sys/bus/nvmem/devices directory); " +
		"DMI " + root + `/sys/class/dmi/id (product_name is the firmware placeholder "To Be Filled By O.E.M.", ` +
		`product_serial is the firmware placeholder "To Be Filled By O.E.M.", board_serial is the firmware placeholder "Default string")`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not wrap fs.ErrNotExist from the missing directories", err)
	}
}

func TestReadHardware(t *testing.T) {
	eeprom := func(tlvs ...TLV) string { return string(padEEPROM(encodeONIE(tlvs), 256)) }
	blank := string(padEEPROM(nil, 256))
	i2c := func(dev string) string { return "sys/bus/i2c/devices/" + dev + "/eeprom" }
	dmi := func(name string) string { return "sys/class/dmi/id/" + name }
	tests := []struct {
		name     string
		files    map[string]string
		platform string
		want     *Identity
		attempts []Attempt
		is       []error // sentinels the search error wraps besides ErrNoIdentity
	}{
		{
			name: "bad EEPROM, good DMI: DMI is used",
			files: map[string]string{
				i2c("0-0050"):           string(badCRCEEPROM()),
				dmi("product_name"):     "ProLiant DL360 Gen10\n",
				dmi("product_serial"):   "CZJ9280B7K\n",
				"etc/hostname":          "# set by the installer\n\n  edge7  \n",
				dmi("sys_vendor"):       "HPE\n",
				"sys/bus/i2c/devices/x": "not a device directory",
			},
			want: &Identity{Hostname: "edge7", Members: []Member{{PID: "ProLiant-DL360-Gen10", SN: "CZJ9280B7K", Active: true}}, Source: dmiPlace},
		},
		{
			name: "Product Name stands in for a missing Part Number; Cisco PID names the platform",
			files: map[string]string{
				i2c("0-0050"):  blank,
				i2c("0-0056"):  eeprom(str(TLVProductName, "WS-C3750E-24TD-S"), str(TLVSerialNumber, "FDO1234X0AB")),
				"etc/hostname": "",
			},
			platform: "uc500",
			want: &Identity{Hostname: "Switch", Platform: "c3750e", Members: []Member{{PID: "WS-C3750E-24TD-S", SN: "FDO1234X0AB", Active: true}},
				Source: "ONIE EEPROM <root>/sys/bus/i2c/devices/0-0056/eeprom"},
		},
		{
			name: "NVMEM device; blanks in the part number become dashes; c2900 default gives Router",
			files: map[string]string{
				"sys/bus/i2c/devices/i2c-0/name": "SMBus I801 adapter\n",
				"sys/bus/nvmem/devices/0-00500/nvmem": eeprom(str(TLVPartNumber, "DCS 7050SX  64"), str(TLVProductName, "ignored"),
					str(TLVSerialNumber, "JPE15040000\x00\x00")),
			},
			platform: "c2900",
			want: &Identity{Hostname: "Router", Platform: "c2900", Members: []Member{{PID: "DCS-7050SX-64", SN: "JPE15040000", Active: true}},
				Source: "ONIE EEPROM <root>/sys/bus/nvmem/devices/0-00500/nvmem"},
		},
		{
			name: "EEPROMs without usable identity TLVs",
			files: map[string]string{
				i2c("0-0050"):                        eeprom(str(TLVProductName, "AS5812")),
				i2c("0-0051"):                        eeprom(str(TLVSerialNumber, "SN1")),
				i2c("0-0052"):                        eeprom(str(TLVPartNumber, "P1"), str(TLVSerialNumber, "AB:CD")),
				i2c("0-0053"):                        eeprom(str(TLVProductName, "Bad(PID)"), str(TLVSerialNumber, "S")),
				i2c("0-0054"):                        "TlvI",
				"sys/bus/nvmem/devices/cmos/nvmem":   "\x00\x00\x00",
				"sys/bus/nvmem/devices/empty/nvmem":  "",
				"sys/bus/nvmem/devices/nodata/other": "x",
				"sys/bus/nvmem/devices/trunc/nvmem":  "TlvInfo\x00\x01\x00\x20\x21",
				"sys/class/dmi/id/product_name":      "OptiPlex 7070\n",
				"sys/class/dmi/id/product_serial":    "\n",
				"sys/class/dmi/id/board_serial":      "/B1RX2Y2/CNFCW0097400FZ/\n",
				"sys/class/dmi/id/sys_vendor":        "Dell Inc.\n",
			},
			attempts: []Attempt{
				{Place: "ONIE EEPROM <root>/sys/bus/i2c/devices/0-0050/eeprom", Reason: "invalid identity: EEPROM has no Serial Number TLV (0x23)"},
				{Place: "ONIE EEPROM <root>/sys/bus/i2c/devices/0-0051/eeprom", Reason: "invalid identity: EEPROM has neither a Part Number (0x22) nor a Product Name (0x21) TLV"},
				{Place: "ONIE EEPROM <root>/sys/bus/i2c/devices/0-0052/eeprom",
					Reason: `invalid identity: Serial Number: serial number "AB:CD" has ':' at position 3; allowed are letters, digits and - . _`},
				{Place: "ONIE EEPROM <root>/sys/bus/i2c/devices/0-0053/eeprom",
					Reason: `invalid identity: Product Name: PID "Bad(PID)" has '(' at position 4; allowed are letters, digits and - / + . _`},
				{Place: "ONIE EEPROM <root>/sys/bus/i2c/devices/0-0054/eeprom", Reason: "no TlvInfo header: not a system EEPROM"},
				{Place: "ONIE EEPROM <root>/sys/bus/nvmem/devices/cmos/nvmem", Reason: "no TlvInfo header: not a system EEPROM"},
				{Place: "ONIE EEPROM <root>/sys/bus/nvmem/devices/empty/nvmem", Reason: "no TlvInfo header: not a system EEPROM"},
				{Place: "ONIE EEPROM <root>/sys/bus/nvmem/devices/trunc/nvmem",
					Reason: "invalid TlvInfo EEPROM: declared length 32 needs 43 bytes, only 12 present"},
				{Place: dmiPlace, Reason: `product_serial is empty, board_serial "/B1RX2Y2/CNFCW0097400FZ/" is unusable: ` +
					`serial number "/B1RX2Y2/CNFCW0097400FZ/" starts with '/'; it must start with a letter or digit`},
			},
			is: []error{ErrInvalidIdentity, ErrInvalidEEPROM},
		},
		{
			name: "DMI of a virtual machine",
			files: map[string]string{
				"sys/bus/i2c/devices/i2c-0/name": "SMBus PIIX4 adapter at 0700\n",
				dmi("product_name"):              "Standard PC (Q35 + ICH9, 2009)\n",
				dmi("product_serial"):            "VMware-42 1a 2b 3c 4d 5e 6f 70-81 92 a3 b4 c5 d6 e7 f8\n",
				dmi("board_serial"):              "None\n",
			},
			attempts: []Attempt{
				{Place: i2cMissing, Reason: "no such files"},
				{Place: nvmemMissing, Reason: "no <root>/sys/bus/nvmem/devices directory"},
				{Place: dmiPlace, Reason: `product_name "Standard PC (Q35 + ICH9, 2009)" is unusable: PID "Standard-PC-(Q35-+-ICH9,-2009)" has '(' at position 13; allowed are letters, digits and - / + . _, ` +
					`product_serial "VMware-42 1a 2b 3c 4d 5e 6f 70-81 92 a3 b4 c5 d6 e7 f8" is unusable: serial number "VMware-42-1a-2b-3c-4d-5e-6f-70-81-92-a3-b4-c5-d6-e7-f8" is 54 characters, longer than 32, ` +
					`board_serial is the firmware placeholder "None"`},
			},
			is: []error{ErrInvalidIdentity},
		},
		{
			name: "DMI placeholders: zeros, O.E.M., Not Specified",
			files: map[string]string{
				dmi("product_name"):   "System Product Name\n",
				dmi("product_serial"): "0000000000\n",
				dmi("board_serial"):   "Not Specified\n",
			},
			attempts: []Attempt{
				{Place: i2cMissing, Reason: "no <root>/sys/bus/i2c/devices directory"},
				{Place: nvmemMissing, Reason: "no <root>/sys/bus/nvmem/devices directory"},
				{Place: dmiPlace, Reason: `product_name is the firmware placeholder "System Product Name", ` +
					`product_serial is the firmware placeholder "0000000000", board_serial is the firmware placeholder "Not Specified"`},
			},
		},
		{
			name:  "DMI serials missing",
			files: map[string]string{dmi("product_name"): "X11SSH-F\n"},
			attempts: []Attempt{
				{Place: i2cMissing, Reason: "no <root>/sys/bus/i2c/devices directory"},
				{Place: nvmemMissing, Reason: "no <root>/sys/bus/nvmem/devices directory"},
				{Place: dmiPlace, Reason: "product_serial is missing, board_serial is missing"},
			},
			is: []error{fs.ErrNotExist},
		},
		{
			name: "DMI board serial stands in for a placeholder product serial",
			files: map[string]string{
				dmi("product_name"):   "Super Server\n",
				dmi("product_serial"): "To be filled by O.E.M.\n",
				dmi("board_serial"):   "ZM18AS000123\n",
				"etc/hostname":        "#only a comment\n",
			},
			platform: "c3750e",
			want: &Identity{Hostname: "Switch", Platform: "c3750e", Members: []Member{{PID: "Super-Server", SN: "ZM18AS000123", Active: true}},
				Source: dmiPlace},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, tt.files)
			id, err := Reader{Root: root, Platform: tt.platform}.Read()
			if tt.want != nil {
				if err != nil {
					t.Fatal(err)
				}
				id.Source = strings.ReplaceAll(id.Source, root, "<root>")
				checkEqual(t, "Identity", id, tt.want)
				return
			}
			if id != nil {
				t.Errorf("got %+v with the error", id)
			}
			checkEqual(t, "attempts", attempts(t, err, root), tt.attempts)
			for _, s := range tt.is {
				if !errors.Is(err, s) {
					t.Errorf("error does not wrap %v", s)
				}
			}
		})
	}
}

func TestReadCandidateLimit(t *testing.T) {
	files := map[string]string{}
	blank := string(padEEPROM(nil, 256))
	for i := range MaxEEPROMCandidates + 1 {
		files[fmt.Sprintf("sys/bus/i2c/devices/%d-0050/eeprom", 10+i)] = blank
	}
	// A good EEPROM beyond the limit is not reached.
	files["sys/bus/nvmem/devices/0-00560/nvmem"] = string(switchEEPROM())
	root := writeTree(t, files)
	_, err := Reader{Root: root}.Read()
	got := attempts(t, err, root)
	// Each candidate examined, the first one left, then DMI.
	if len(got) != MaxEEPROMCandidates+2 {
		t.Fatalf("%d attempts, want %d: %v", len(got), MaxEEPROMCandidates+2, got)
	}
	checkEqual(t, "first attempt", got[0], Attempt{Place: "ONIE EEPROM <root>/sys/bus/i2c/devices/10-0050/eeprom", Reason: "no TlvInfo header: not a system EEPROM"})
	checkEqual(t, "last two attempts", got[len(got)-2:], []Attempt{
		{
			Place:  fmt.Sprintf("ONIE EEPROM <root>/sys/bus/i2c/devices/%d-0050/eeprom", 10+MaxEEPROMCandidates),
			Reason: "not examined: only the first 64 candidate files are",
		},
		{Place: dmiPlace, Reason: "missing"},
	})
}

func TestReadLargeEEPROM(t *testing.T) {
	// An 8 KiB part (24c64): only the start is read, and that is enough.
	root := writeTree(t, map[string]string{"sys/bus/i2c/devices/40-0050/eeprom": string(padEEPROM(switchEEPROM(), 8<<10))})
	id, err := Reader{Root: root}.Read()
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, "active member", id.Active(), Member{PID: "FP4ZZ7632014A", SN: "732656X1916031", Active: true})
}

func TestReadSpecialFiles(t *testing.T) {
	root := writeTree(t, map[string]string{"sys/bus/i2c/devices/0-0050/eeprom/x": "a directory named eeprom is skipped"})
	if err := os.MkdirAll(filepath.Join(root, "sys/bus/i2c/devices/0-0051"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A character device must not be opened as an EEPROM (a FIFO would block).
	if err := os.Symlink("/dev/null", filepath.Join(root, "sys/bus/i2c/devices/0-0051/eeprom")); err != nil {
		t.Fatal(err)
	}
	// A link to itself cannot be resolved.
	loop := filepath.Join(root, "sys/bus/i2c/devices/0-0052/eeprom")
	if err := os.MkdirAll(filepath.Dir(loop), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "sys/class/dmi/id/product_name"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Reader{Root: root}.Read()
	checkEqual(t, "attempts", attempts(t, err, root), []Attempt{
		{Place: "ONIE EEPROM <root>/sys/bus/i2c/devices/0-0051/eeprom", Reason: "not a regular file"},
		{Place: "ONIE EEPROM <root>/sys/bus/i2c/devices/0-0052/eeprom", Reason: "too many levels of symbolic links"},
		{Place: nvmemMissing, Reason: "no <root>/sys/bus/nvmem/devices directory"},
		{Place: dmiPlace, Reason: "product_name is unreadable: not a regular file, product_serial is missing, board_serial is missing"},
	})
}

func TestReadUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("permissions do not stop root")
	}
	root := writeTree(t, map[string]string{
		"sys/bus/i2c/devices/0-0050/eeprom": string(switchEEPROM()),
		"sys/class/dmi/id/product_name":     "PowerEdge R640\n",
		"sys/class/dmi/id/product_serial":   "7XK2JR2\n",
	})
	for _, p := range []string{"sys/bus/i2c/devices/0-0050/eeprom", "sys/class/dmi/id/product_serial"} {
		if err := os.Chmod(filepath.Join(root, p), 0); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Reader{Root: root}.Read()
	checkEqual(t, "attempts", attempts(t, err, root), []Attempt{
		{Place: "ONIE EEPROM <root>/sys/bus/i2c/devices/0-0050/eeprom", Reason: "permission denied"},
		{Place: nvmemMissing, Reason: "no <root>/sys/bus/nvmem/devices directory"},
		{Place: dmiPlace, Reason: "product_serial is unreadable: permission denied, board_serial is missing"},
	})
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("error %v does not wrap fs.ErrPermission", err)
	}
}

func TestReadHostname(t *testing.T) {
	base := map[string]string{"sys/bus/i2c/devices/0-0050/eeprom": string(switchEEPROM())}
	with := func(hostname string) map[string]string {
		m := map[string]string{"etc/hostname": hostname}
		for k, v := range base {
			m[k] = v
		}
		return m
	}
	for _, tt := range []struct {
		name  string
		files map[string]string
		want  string
		err   []string
	}{
		{"no file", base, "Switch", nil},
		{"empty file", with(""), "Switch", nil},
		{"no newline", with("tor-3"), "tor-3", nil},
		{"comments and blanks first", with("# hostname(5)\n\n\t \nspine1.dc2\n# trailing\n"), "spine1.dc2", nil},
		{"only the first name counts", with("a1\nb2\n"), "a1", nil},
		{"invalid", with("my switch\n"), "", []string{"invalid identity: <root>/etc/hostname: hostname \"my switch\" has ' ' at position 3"}},
		{"too long", with(strings.Repeat("h", 64) + "\n"), "", []string{"is 64 characters, longer than 63"}},
		{"too big to be a hostname file", with(strings.Repeat("#", maxSysfsValue)), "", []string{"invalid identity: hostname: read <root>/etc/hostname: larger than 4095 bytes"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, tt.files)
			id, err := Reader{Root: root}.Read()
			if tt.err != nil {
				if !errors.Is(err, ErrInvalidIdentity) || errors.Is(err, ErrNoIdentity) {
					t.Errorf("error %v: want ErrInvalidIdentity, not ErrNoIdentity", err)
				}
				if err != nil {
					err = errors.New(strings.ReplaceAll(err.Error(), root, "<root>"))
				}
				checkErr(t, err, nil, tt.err...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.Hostname != tt.want {
				t.Errorf("hostname %q, want %q", id.Hostname, tt.want)
			}
		})
	}
}

func TestReadBadDefaultPlatform(t *testing.T) {
	for _, r := range []Reader{
		{Root: filepath.Join(fixtureRoot, "onie-switch"), Platform: "Cat3750"},
		{IdentityFile: filepath.Join("..", "testdata", "identities", "c3750e.json"), Platform: "Cat3750"},
	} {
		_, err := r.Read()
		checkErr(t, err, []error{ErrInvalidIdentity}, `invalid identity: default platform: platform "Cat3750" has 'C' at position 1`)
		if errors.Is(err, ErrNoIdentity) {
			t.Errorf("error %v wraps ErrNoIdentity", err)
		}
	}
}

func TestReadIdentityFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	noPlatform := write("noplatform.json", `{"members": [{"pid": "LAB-BOX-1", "sn": "LB0001"}]}`)
	ciscoPID := write("ciscopid.json", `{"members": [{"pid": "UC520-8U-4FXO-K9", "sn": "FHK1"}]}`)
	bad := write("bad.json", `{"members": [{"pid": "A", "sn": "B", "slot": 1}]}`)
	big := write("big.json", strings.Repeat(" ", MaxIdentityFileSize+1))
	small := `{"members":[{"pid":"A","sn":"B"}]}`
	exact := write("exact.json", small+strings.Repeat(" ", MaxIdentityFileSize-len(small)))
	missing := filepath.Join(dir, "missing.json")
	hw := filepath.Join(fixtureRoot, "onie-switch")

	for _, tt := range []struct {
		name     string
		r        Reader
		want     *Identity
		attempts []Attempt
		is       []error
	}{
		{
			name: "no platform in the file: the reader's default, and its hostname",
			r:    Reader{IdentityFile: noPlatform, Platform: "c2900"},
			want: &Identity{Hostname: "Router", Platform: "c2900", Members: []Member{{PID: "LAB-BOX-1", SN: "LB0001", Active: true}},
				Source: "identity file " + noPlatform},
		},
		{
			name: "no platform anywhere",
			r:    Reader{IdentityFile: noPlatform},
			want: &Identity{Hostname: "Switch", Members: []Member{{PID: "LAB-BOX-1", SN: "LB0001", Active: true}}, Source: "identity file " + noPlatform},
		},
		{
			name: "the PID's platform comes before the reader's default",
			r:    Reader{IdentityFile: ciscoPID, Platform: "c2900"},
			want: &Identity{Hostname: "Switch", Platform: "uc500", Members: []Member{{PID: "UC520-8U-4FXO-K9", SN: "FHK1", Active: true}}, Source: "identity file " + ciscoPID},
		},
		{
			name: "exactly 64 KiB",
			r:    Reader{IdentityFile: exact},
			want: &Identity{Hostname: "Switch", Members: []Member{{PID: "A", SN: "B", Active: true}}, Source: "identity file " + exact},
		},
		{
			name:     "missing file; hardware is not consulted",
			r:        Reader{IdentityFile: missing, Root: hw},
			attempts: []Attempt{{Place: "identity file " + missing, Reason: "missing"}},
			is:       []error{fs.ErrNotExist},
		},
		{
			name: "invalid file",
			r:    Reader{IdentityFile: bad, Root: hw},
			attempts: []Attempt{{Place: "identity file " + bad,
				Reason: `invalid identity: unknown key "members[0].slot" (line 1, column 44); allowed here: pid, sn, active`}},
			is: []error{ErrInvalidIdentity},
		},
		{
			name:     "too big",
			r:        Reader{IdentityFile: big},
			attempts: []Attempt{{Place: "identity file " + big, Reason: "larger than 65536 bytes"}},
		},
		{
			name:     "a directory",
			r:        Reader{IdentityFile: dir},
			attempts: []Attempt{{Place: "identity file " + dir, Reason: "not a regular file"}},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id, err := tt.r.Read()
			if tt.want != nil {
				if err != nil {
					t.Fatal(err)
				}
				checkEqual(t, "Identity", id, tt.want)
				return
			}
			checkEqual(t, "attempts", attempts(t, err, "\x00"), tt.attempts)
			for _, s := range tt.is {
				if !errors.Is(err, s) {
					t.Errorf("error %v does not wrap %v", err, s)
				}
			}
		})
	}
}

func TestReaderDefaultRoot(t *testing.T) {
	if got := (Reader{}).path("sys/class/dmi/id"); got != "/sys/class/dmi/id" {
		t.Errorf("zero Reader reads %q, want /sys/class/dmi/id", got)
	}
}

package udi

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// encodeONIE builds a TlvInfo image: header, the TLVs, and a correct
// CRC-32 TLV.
func encodeONIE(tlvs []TLV) []byte {
	var body []byte
	for _, t := range tlvs {
		body = append(body, t.Type, byte(len(t.Value)))
		body = append(body, t.Value...)
	}
	b := rawONIE(1, len(body)+onieCRCTrailerLen, body)
	b = append(b, TLVCRC32, onieCRCValueLen)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// rawONIE builds a header with any version and length before body, with
// no CRC added.
func rawONIE(version byte, total int, body []byte) []byte {
	b := append([]byte(onieMagic), version, byte(total>>8), byte(total))
	return append(b, body...)
}

// padEEPROM fills the rest of an EEPROM of size bytes with 0xFF, as an
// erased part reads.
func padEEPROM(b []byte, size int) []byte {
	return append(b, bytes.Repeat([]byte{0xFF}, size-len(b))...)
}

func str(t byte, s string) TLV { return TLV{Type: t, Value: []byte(s)} }

// switchTLVs is the system EEPROM of a 56-port data-centre switch, as a
// white-box vendor programs it.
func switchTLVs() []TLV {
	return []TLV{
		str(TLVProductName, "7326-56X-O-AC-F"),
		str(TLVPartNumber, "FP4ZZ7632014A"),
		str(TLVSerialNumber, "732656X1916031"),
		{TLVMACBase, []byte{0x80, 0xa2, 0x35, 0x5e, 0x10, 0xc0}},
		str(TLVManufactureDate, "04/22/2019 11:23:45"),
		{TLVDeviceVersion, []byte{1}},
		str(TLVLabelRevision, "R01B"),
		str(TLVPlatformName, "x86_64-accton_as7326_56x-r0"),
		str(TLVONIEVersion, "2018.05.00.05"),
		{TLVMACCount, []byte{0x00, 0x85}},
		str(TLVManufacturer, "Accton"),
		str(TLVCountryCode, "TW"),
		str(TLVVendor, "Edgecore"),
		str(TLVDiagVersion, "0.0.1.1"),
		{TLVVendorExtension, []byte{0x00, 0x00, 0x01, 0x03, 0x01, 0x02}},
	}
}

// switchEEPROM is the onie-switch fixture: a 256-byte 24c02 image.
func switchEEPROM() []byte { return padEEPROM(encodeONIE(switchTLVs()), 256) }

// switchCRC is the CRC-32 of switchEEPROM, worked out apart from this
// package (zlib's crc32 over the bytes before the CRC value).
const switchCRC = 0xC8D62193

func wantSwitchInfo() *ONIEInfo {
	return &ONIEInfo{
		ProductName:     "7326-56X-O-AC-F",
		PartNumber:      "FP4ZZ7632014A",
		SerialNumber:    "732656X1916031",
		MACBase:         "80:a2:35:5e:10:c0",
		ManufactureDate: "04/22/2019 11:23:45",
		LabelRevision:   "R01B",
		Platform:        "x86_64-accton_as7326_56x-r0",
		MACCount:        133,
		Manufacturer:    "Accton",
		Vendor:          "Edgecore",
		TLVs:            switchTLVs(),
		CRC:             switchCRC,
	}
}

// badCRCEEPROM is switchEEPROM after one bit of the serial number flipped.
func badCRCEEPROM() []byte {
	b := switchEEPROM()
	i := bytes.Index(b, []byte("732656X1916031"))
	b[i+3] ^= 0x02
	return b
}

// generatedFixtures are the binary files of the fixture trees, relative to
// testdata/udi.
func generatedFixtures() map[string][]byte {
	return map[string][]byte{
		"onie-switch/sys/bus/i2c/devices/0-0050/eeprom": switchEEPROM(),
		"onie-badcrc/sys/bus/i2c/devices/0-0050/eeprom": badCRCEEPROM(),
		// An erased EEPROM beside it, as on boards with spare parts.
		"onie-badcrc/sys/bus/i2c/devices/1-0050/eeprom": padEEPROM(nil, 256),
	}
}

const fixtureRoot = "../testdata/udi"

func TestGeneratedFixtures(t *testing.T) {
	for rel, want := range generatedFixtures() {
		p := filepath.Join(fixtureRoot, rel)
		if *update {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (run go test ./udi -run TestGeneratedFixtures -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale (run go test ./udi -run TestGeneratedFixtures -update)", p)
		}
	}
}

func TestParseONIE(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want *ONIEInfo
	}{
		{
			name: "switch EEPROM padded with 0xFF",
			data: switchEEPROM(),
			want: wantSwitchInfo(),
		},
		{
			name: "serial number only",
			data: encodeONIE([]TLV{str(TLVSerialNumber, "SN1")}),
			want: &ONIEInfo{
				SerialNumber: "SN1",
				TLVs:         []TLV{str(TLVSerialNumber, "SN1")},
				CRC:          crc32.ChecksumIEEE(append(rawONIE(1, 11, []byte("\x23\x03SN1")), 0xFE, 4)),
			},
		},
		{
			name: "NUL and blank padding after strings is dropped",
			data: encodeONIE([]TLV{str(TLVProductName, "S4048T-ON  \x00\x00"), str(TLVSerialNumber, "CN0X1\x00")}),
			want: &ONIEInfo{
				ProductName:  "S4048T-ON",
				SerialNumber: "CN0X1",
				TLVs:         []TLV{str(TLVProductName, "S4048T-ON  \x00\x00"), str(TLVSerialNumber, "CN0X1\x00")},
			},
		},
		{
			name: "vendor extensions repeat, unknown types and empty values are kept",
			data: encodeONIE([]TLV{
				{TLVVendorExtension, []byte{0, 0, 0x01, 0x03, 7}},
				{0x50, []byte{1, 2}},
				{TLVVendorExtension, []byte{0, 0, 0x01, 0x03, 8}},
				{TLVLabelRevision, []byte{}},
			}),
			want: &ONIEInfo{
				TLVs: []TLV{
					{TLVVendorExtension, []byte{0, 0, 0x01, 0x03, 7}},
					{0x50, []byte{1, 2}},
					{TLVVendorExtension, []byte{0, 0, 0x01, 0x03, 8}},
					{TLVLabelRevision, []byte{}},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseONIE(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want.CRC == 0 {
				// Cases whose CRC is not the point take the stored one.
				tt.want.CRC = binary.BigEndian.Uint32(tt.data[len(tt.data)-4:])
			}
			checkEqual(t, "ONIEInfo", got, tt.want)
		})
	}
}

func TestONIEInfoPID(t *testing.T) {
	for _, tt := range []struct {
		info ONIEInfo
		want string
	}{
		{ONIEInfo{ProductName: "AS7326-56X", PartNumber: "FP4ZZ7632014A"}, "FP4ZZ7632014A"},
		{ONIEInfo{ProductName: "AS7326-56X"}, "AS7326-56X"},
		{ONIEInfo{}, ""},
	} {
		if got := tt.info.PID(); got != tt.want {
			t.Errorf("PID() of %+v = %q, want %q", tt.info, got, tt.want)
		}
	}
}

func TestParseONIEErrors(t *testing.T) {
	good := encodeONIE([]TLV{str(TLVSerialNumber, "SN1")}) // 11 + 5 + 6 bytes
	with := func(b []byte, f func([]byte)) []byte {
		b = append([]byte{}, b...)
		f(b)
		return b
	}
	// afterCRC has a valid CRC but a TLV after it inside the declared length.
	afterCRC := encodeONIE([]TLV{str(TLVSerialNumber, "SN1")})
	afterCRC = append(afterCRC, 0x27, 0x01, 'A')
	binary.BigEndian.PutUint16(afterCRC[9:], uint16(len(afterCRC)-onieHeaderLen))
	binary.BigEndian.PutUint32(afterCRC[18:], crc32.ChecksumIEEE(afterCRC[:18]))

	tests := []struct {
		name      string
		data      []byte
		fragments []string
	}{
		{"empty", nil, []string{"0 bytes, shorter than the 11-byte TlvInfo header"}},
		{"header cut short", []byte("TlvInfo\x00\x01\x00"), []string{"10 bytes, shorter than the 11-byte"}},
		{"wrong magic", with(good, func(b []byte) { b[6] = 'x' }), []string{`header is "TlvInfx\x00"`}},
		{"erased EEPROM", padEEPROM(nil, 256), []string{`header is "\xff\xff`}},
		{"wrong version", with(good, func(b []byte) { b[8] = 2 }), []string{"TlvInfo version 2, want 1"}},
		{"length past the buffer", good[:len(good)-1], []string{"declared length 11 needs 22 bytes, only 21 present"}},
		{"length above the maximum", padEEPROM(rawONIE(1, 2038, nil), 4096), []string{"declared length 2038 exceeds the TlvInfo maximum of 2037"}},
		{"TLV value cut short", rawONIE(1, 5, []byte{0x21, 10, 'A', 'B', 'C'}),
			[]string{"TLV 0x21 (Product Name) at offset 11: 10-byte value runs past the declared end at 16"}},
		{"TLV header cut short", rawONIE(1, 4, []byte{0x21, 1, 'A', 0x22}),
			[]string{"TLV at offset 14: type and length cut off by the declared end at 15"}},
		{"no TLVs", rawONIE(1, 0, nil), []string{"no CRC-32 TLV (0xFE) within the declared length 0"}},
		{"no CRC TLV", padEEPROM(rawONIE(1, 5, []byte("\x23\x03SN1")), 64), []string{"no CRC-32 TLV (0xFE) within the declared length 5"}},
		{"CRC TLV of the wrong length", rawONIE(1, 4, []byte{0xFE, 2, 0, 0}), []string{"CRC-32 TLV at offset 11 has length 2, want 4"}},
		{"TLV after the CRC", afterCRC, []string{"3 bytes after the CRC-32 TLV (offset 16) within the declared length"}},
		{"CRC mismatch", with(good, func(b []byte) { b[13] ^= 1 }),
			[]string{"CRC-32 mismatch: stored 0x", ", computed 0x"}},
		{"CRC value damaged", with(good, func(b []byte) { b[len(b)-1] ^= 0x80 }), []string{"CRC-32 mismatch"}},
		{"serial number twice", encodeONIE([]TLV{str(TLVSerialNumber, "A"), str(TLVSerialNumber, "B")}),
			[]string{"TLV 0x23 (Serial Number) at offset 14 repeats the one at offset 11"}},
		{"MAC address of 5 bytes", encodeONIE([]TLV{{TLVMACBase, []byte{1, 2, 3, 4, 5}}}),
			[]string{"TLV 0x24 (Base MAC Address) at offset 11 has length 5, want 6"}},
		{"MAC count of 1 byte", encodeONIE([]TLV{{TLVMACCount, []byte{1}}}),
			[]string{"TLV 0x2A (MAC Addresses) at offset 11 has length 1, want 2"}},
		{"device version of 2 bytes", encodeONIE([]TLV{{TLVDeviceVersion, []byte{1, 2}}}),
			[]string{"TLV 0x26 (Device Version) at offset 11 has length 2, want 1"}},
		{"country code of 3 bytes", encodeONIE([]TLV{str(TLVCountryCode, "USA")}),
			[]string{"TLV 0x2C (Country Code) at offset 11 has length 3, want 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := ParseONIE(tt.data)
			if info != nil {
				t.Errorf("got %+v with the error", info)
			}
			checkErr(t, err, []error{ErrInvalidEEPROM}, tt.fragments...)
		})
	}
}

func TestParseONIEDoesNotAliasInput(t *testing.T) {
	data := switchEEPROM()
	info, err := ParseONIE(data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		data[i] = 0
	}
	checkEqual(t, "ONIEInfo after the input was overwritten", info, wantSwitchInfo())
}

func TestTLVName(t *testing.T) {
	for typ, want := range map[byte]string{
		0x21: "Product Name", 0x22: "Part Number", 0x23: "Serial Number", 0x24: "Base MAC Address",
		0x25: "Manufacture Date", 0x26: "Device Version", 0x27: "Label Revision", 0x28: "Platform Name",
		0x29: "ONIE Version", 0x2A: "MAC Addresses", 0x2B: "Manufacturer", 0x2C: "Country Code",
		0x2D: "Vendor Name", 0x2E: "Diag Version", 0x2F: "Service Tag", 0xFD: "Vendor Extension",
		0xFE: "CRC-32", 0x00: "unknown type", 0x30: "unknown type",
	} {
		if got := TLVName(typ); got != want {
			t.Errorf("TLVName(0x%02X) = %q, want %q", typ, got, want)
		}
	}
}

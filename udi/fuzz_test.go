package udi

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func FuzzParseONIE(f *testing.F) {
	f.Add(switchEEPROM())
	f.Add(badCRCEEPROM())
	f.Add(padEEPROM(nil, 256))
	f.Add(encodeONIE(nil))
	f.Add(encodeONIE([]TLV{str(TLVSerialNumber, "SN1"), {TLVVendorExtension, []byte{0, 0, 1, 3}}, {TLVVendorExtension, nil}}))
	f.Add(rawONIE(1, 5, []byte{0x21, 10, 'A', 'B', 'C'}))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := ParseONIE(data)
		if err != nil {
			if info != nil || !errors.Is(err, ErrInvalidEEPROM) {
				t.Fatalf("ParseONIE = %v, %v: want nil and an ErrInvalidEEPROM", info, err)
			}
			return
		}
		// What was accepted is exactly the TLVs it reports plus a correct CRC.
		end := onieHeaderLen + int(binary.BigEndian.Uint16(data[9:11]))
		if again := encodeONIE(info.TLVs); !bytes.Equal(again, data[:end]) {
			t.Fatalf("re-encoded TLVs differ from the input:\n got % x\nwant % x", again, data[:end])
		}
		again, err := ParseONIE(data[:end])
		if err != nil {
			t.Fatalf("the structure alone does not parse: %v", err)
		}
		checkEqual(t, "ONIEInfo of the structure alone", again, info)
	})
}

func FuzzParseIdentityJSON(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "identities", "*.json"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"members": [{"pid": "A", "sn": "1"}, {"pid": "B", "sn": "2", "active": true}]}`))
	f.Add([]byte(`{"hostname": "a", "hostname": "b", "members": []}`))
	f.Add([]byte(`{"members": [{"pid": "A", "sn": "1", "active": "yes"}]} x`))
	f.Fuzz(func(t *testing.T, data []byte) {
		id, err := ParseIdentityJSON(data)
		if err != nil {
			if id != nil || !errors.Is(err, ErrInvalidIdentity) {
				t.Fatalf("ParseIdentityJSON = %v, %v: want nil and an ErrInvalidIdentity", id, err)
			}
			return
		}
		if err := id.Validate(); err != nil {
			t.Fatalf("accepted an identity that does not validate: %v", err)
		}
		out, err := json.Marshal(id)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseIdentityJSON(out)
		if err != nil {
			t.Fatalf("marshalled identity %s does not parse: %v", out, err)
		}
		checkEqual(t, "identity after a JSON round trip", again, id)
	})
}

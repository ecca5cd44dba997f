package udi

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strings"
)

// TlvInfo format constants (ONIE system EEPROM). The header is the 8 bytes
// "TlvInfo\x00", a version byte and a big-endian 16-bit length of the TLVs
// that follow; the whole structure is at most 2048 bytes.
const (
	onieMagic         = "TlvInfo\x00"
	onieVersion       = 0x01
	onieHeaderLen     = 11
	onieMaxLen        = 2048
	onieMaxTotalLen   = onieMaxLen - onieHeaderLen
	onieCRCValueLen   = 4
	onieCRCTrailerLen = 2 + onieCRCValueLen
)

// TlvInfo TLV types.
const (
	TLVProductName     byte = 0x21
	TLVPartNumber      byte = 0x22
	TLVSerialNumber    byte = 0x23
	TLVMACBase         byte = 0x24
	TLVManufactureDate byte = 0x25
	TLVDeviceVersion   byte = 0x26
	TLVLabelRevision   byte = 0x27
	TLVPlatformName    byte = 0x28
	TLVONIEVersion     byte = 0x29
	TLVMACCount        byte = 0x2A
	TLVManufacturer    byte = 0x2B
	TLVCountryCode     byte = 0x2C
	TLVVendor          byte = 0x2D
	TLVDiagVersion     byte = 0x2E
	TLVServiceTag      byte = 0x2F
	TLVVendorExtension byte = 0xFD
	TLVCRC32           byte = 0xFE
)

// TLVName is the name the ONIE specification gives a TLV type.
func TLVName(t byte) string {
	switch t {
	case TLVProductName:
		return "Product Name"
	case TLVPartNumber:
		return "Part Number"
	case TLVSerialNumber:
		return "Serial Number"
	case TLVMACBase:
		return "Base MAC Address"
	case TLVManufactureDate:
		return "Manufacture Date"
	case TLVDeviceVersion:
		return "Device Version"
	case TLVLabelRevision:
		return "Label Revision"
	case TLVPlatformName:
		return "Platform Name"
	case TLVONIEVersion:
		return "ONIE Version"
	case TLVMACCount:
		return "MAC Addresses"
	case TLVManufacturer:
		return "Manufacturer"
	case TLVCountryCode:
		return "Country Code"
	case TLVVendor:
		return "Vendor Name"
	case TLVDiagVersion:
		return "Diag Version"
	case TLVServiceTag:
		return "Service Tag"
	case TLVVendorExtension:
		return "Vendor Extension"
	case TLVCRC32:
		return "CRC-32"
	}
	return "unknown type"
}

// TLV is one type-length-value field as stored.
type TLV struct {
	Type  byte
	Value []byte
}

// ONIEInfo is the content of a TlvInfo EEPROM. String fields are the TLV
// values with trailing NUL bytes and blanks removed; "" where the TLV is
// absent.
type ONIEInfo struct {
	ProductName     string // 0x21
	PartNumber      string // 0x22
	SerialNumber    string // 0x23
	MACBase         string // 0x24, as 00:11:22:33:44:55
	ManufactureDate string // 0x25, MM/DD/YYYY hh:mm:ss by the spec, kept as written
	LabelRevision   string // 0x27
	Platform        string // 0x28, the ONIE platform name, e.g. x86_64-accton_as7326_56x-r0
	MACCount        int    // 0x2A
	Manufacturer    string // 0x2B
	Vendor          string // 0x2D
	// TLVs holds every TLV before the CRC, in EEPROM order, including the
	// ones decoded above.
	TLVs []TLV
	// CRC is the CRC-32 stored in (and checked against) the EEPROM.
	CRC uint32
}

// PID is the product ID the EEPROM gives: the Part Number, else the
// Product Name.
func (o *ONIEInfo) PID() string {
	if o.PartNumber != "" {
		return o.PartNumber
	}
	return o.ProductName
}

// ParseONIE parses a TlvInfo EEPROM image. data may be longer than the
// structure (EEPROM dumps are padded with 0xFF); bytes after the declared
// length are ignored. It refuses a wrong header or version, a declared
// length past the end of data or beyond the 2048-byte maximum, a TLV cut
// short, a missing CRC-32 TLV, anything after the CRC TLV within the
// declared length, a CRC mismatch, a defined TLV given twice (only Vendor
// Extension may repeat) and binary TLVs of the wrong size. Errors wrap
// ErrInvalidEEPROM and give the offset and TLV at fault.
func ParseONIE(data []byte) (*ONIEInfo, error) {
	if len(data) < onieHeaderLen {
		return nil, eepromErr("%d bytes, shorter than the %d-byte TlvInfo header", len(data), onieHeaderLen)
	}
	if string(data[:len(onieMagic)]) != onieMagic {
		return nil, eepromErr("header is %q, want \"TlvInfo\\x00\"", data[:len(onieMagic)])
	}
	if v := data[8]; v != onieVersion {
		return nil, eepromErr("TlvInfo version %d, want %d", v, onieVersion)
	}
	total := int(binary.BigEndian.Uint16(data[9:11]))
	if total > onieMaxTotalLen {
		return nil, eepromErr("declared length %d exceeds the TlvInfo maximum of %d", total, onieMaxTotalLen)
	}
	end := onieHeaderLen + total
	if end > len(data) {
		return nil, eepromErr("declared length %d needs %d bytes, only %d present", total, end, len(data))
	}

	info := &ONIEInfo{}
	crcAt := -1
	for off := onieHeaderLen; off < end; {
		if end-off < 2 {
			return nil, eepromErr("TLV at offset %d: type and length cut off by the declared end at %d", off, end)
		}
		t, n := data[off], int(data[off+1])
		if off+2+n > end {
			return nil, eepromErr("TLV 0x%02X (%s) at offset %d: %d-byte value runs past the declared end at %d", t, TLVName(t), off, n, end)
		}
		if t == TLVCRC32 {
			if n != onieCRCValueLen {
				return nil, eepromErr("CRC-32 TLV at offset %d has length %d, want %d", off, n, onieCRCValueLen)
			}
			crcAt = off
			break
		}
		info.TLVs = append(info.TLVs, TLV{Type: t, Value: data[off+2 : off+2+n : off+2+n]})
		off += 2 + n
	}
	if crcAt < 0 {
		return nil, eepromErr("no CRC-32 TLV (0xFE) within the declared length %d", total)
	}
	if after := crcAt + onieCRCTrailerLen; after != end {
		return nil, eepromErr("%d bytes after the CRC-32 TLV (offset %d) within the declared length; the CRC must be last", end-after, crcAt)
	}
	stored := binary.BigEndian.Uint32(data[crcAt+2 : end])
	if sum := crc32.ChecksumIEEE(data[:crcAt+2]); sum != stored {
		return nil, eepromErr("CRC-32 mismatch: stored 0x%08X, computed 0x%08X", stored, sum)
	}
	info.CRC = stored

	// Values are copied out so the result does not pin the caller's buffer.
	seenAt := map[byte]int{}
	off := onieHeaderLen
	for i := range info.TLVs {
		tlv := &info.TLVs[i]
		tlv.Value = append([]byte{}, tlv.Value...)
		if err := info.decode(off, *tlv, seenAt); err != nil {
			return nil, err
		}
		off += 2 + len(tlv.Value)
	}
	return info, nil
}

func (o *ONIEInfo) decode(off int, tlv TLV, seenAt map[byte]int) error {
	t, v := tlv.Type, tlv.Value
	defined := TLVName(t) != "unknown type"
	if defined && t != TLVVendorExtension {
		if first, dup := seenAt[t]; dup {
			return eepromErr("TLV 0x%02X (%s) at offset %d repeats the one at offset %d", t, TLVName(t), off, first)
		}
		seenAt[t] = off
	}
	wantLen := func(n int) error {
		if len(v) != n {
			return eepromErr("TLV 0x%02X (%s) at offset %d has length %d, want %d", t, TLVName(t), off, len(v), n)
		}
		return nil
	}
	switch t {
	case TLVProductName:
		o.ProductName = tlvString(v)
	case TLVPartNumber:
		o.PartNumber = tlvString(v)
	case TLVSerialNumber:
		o.SerialNumber = tlvString(v)
	case TLVMACBase:
		if err := wantLen(6); err != nil {
			return err
		}
		o.MACBase = fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", v[0], v[1], v[2], v[3], v[4], v[5])
	case TLVManufactureDate:
		o.ManufactureDate = tlvString(v)
	case TLVLabelRevision:
		o.LabelRevision = tlvString(v)
	case TLVPlatformName:
		o.Platform = tlvString(v)
	case TLVMACCount:
		if err := wantLen(2); err != nil {
			return err
		}
		o.MACCount = int(binary.BigEndian.Uint16(v))
	case TLVManufacturer:
		o.Manufacturer = tlvString(v)
	case TLVVendor:
		o.Vendor = tlvString(v)
	case TLVDeviceVersion:
		return wantLen(1)
	case TLVCountryCode:
		return wantLen(2)
	}
	return nil
}

// tlvString drops the NUL and blank padding some manufacturing tools
// leave after a string.
func tlvString(v []byte) string {
	return strings.TrimRight(string(v), "\x00 ")
}

func eepromErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidEEPROM, fmt.Sprintf(format, args...))
}

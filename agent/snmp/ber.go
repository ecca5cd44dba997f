package snmp

import (
	"errors"
	"fmt"
	"math"

	"github.com/gosnmp/gosnmp"
)

// This file holds the little BER reading gosnmp does not export: the SNMPv3
// header (needed before any decoding to pick the user and check the engine
// ID) and the exact integer fields of a PDU (gosnmp keeps non-repeaters as
// a uint8 and masks max-repetitions). It also computes encoded sizes so a
// response can be fitted to the requester's maximum message size.

// BER tags used here.
const (
	tagInteger  = 0x02
	tagOctets   = 0x04
	tagSequence = 0x30
)

var errTruncated = errors.New("truncated BER encoding")

// tlv reads one BER TLV at b[off:]: its tag, contents and the offset after
// it. Only single-octet tags and definite lengths of up to four octets are
// valid in SNMP (RFC 3417 §8).
func tlv(b []byte, off int) (tag byte, content []byte, next int, err error) {
	if off < 0 || off+2 > len(b) {
		return 0, nil, 0, errTruncated
	}
	tag = b[off]
	if tag&0x1f == 0x1f {
		return 0, nil, 0, fmt.Errorf("multi-octet BER tag %#x", tag)
	}
	l := int(b[off+1])
	p := off + 2
	if l&0x80 != 0 {
		n := l & 0x7f
		if n == 0 {
			return 0, nil, 0, errors.New("indefinite BER length")
		}
		if n > 4 || p+n > len(b) {
			return 0, nil, 0, errTruncated
		}
		l = 0
		for _, c := range b[p : p+n] {
			l = l<<8 | int(c)
		}
		p += n
	}
	if l > len(b)-p {
		return 0, nil, 0, errTruncated
	}
	return tag, b[p : p+l], p + l, nil
}

// expect reads a TLV and checks its tag.
func expect(b []byte, off int, want byte, what string) ([]byte, int, error) {
	tag, c, next, err := tlv(b, off)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", what, err)
	}
	if tag != want {
		return nil, 0, fmt.Errorf("%s: tag %#x, want %#x", what, tag, want)
	}
	return c, next, nil
}

// berInt decodes a two's complement INTEGER of up to 8 octets.
func berInt(c []byte) (int64, error) {
	if len(c) == 0 || len(c) > 8 {
		return 0, fmt.Errorf("INTEGER of %d octets", len(c))
	}
	v := int64(int8(c[0]))
	for _, x := range c[1:] {
		v = v<<8 | int64(x)
	}
	return v, nil
}

// expectInt reads an INTEGER TLV within [lo, hi].
func expectInt(b []byte, off int, lo, hi int64, what string) (int64, int, error) {
	c, next, err := expect(b, off, tagInteger, what)
	if err != nil {
		return 0, 0, err
	}
	v, err := berInt(c)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", what, err)
	}
	if v < lo || v > hi {
		return 0, 0, fmt.Errorf("%s %d out of range %d..%d", what, v, lo, hi)
	}
	return v, next, nil
}

// msgVersion reads the outer SEQUENCE and the version of an SNMP message
// and returns the offset of the field after the version.
func msgVersion(b []byte) (int64, int, error) {
	c, next, err := expect(b, 0, tagSequence, "message")
	if err != nil {
		return 0, 0, err
	}
	if next != len(b) {
		return 0, 0, fmt.Errorf("message: %d trailing octets", len(b)-next)
	}
	start := len(b) - len(c)
	return expectInt(b, start, math.MinInt32, math.MaxInt32, "version")
}

// pduHeader is what a PDU says before its variable bindings.
type pduHeader struct {
	tag       byte
	requestID int64
	// f1 and f2 are error-status and error-index, or non-repeaters and
	// max-repetitions in a GetBulkRequest.
	f1, f2 int64
}

// readPDUHeader reads the PDU at b[off:].
func readPDUHeader(b []byte, off int) (pduHeader, error) {
	tag, c, _, err := tlv(b, off)
	if err != nil {
		return pduHeader{}, fmt.Errorf("PDU: %w", err)
	}
	if tag < 0xa0 || tag > 0xa8 {
		return pduHeader{}, fmt.Errorf("PDU tag %#x", tag)
	}
	h := pduHeader{tag: tag}
	p := 0
	if h.requestID, p, err = expectInt(c, p, math.MinInt32, math.MaxInt32, "request-id"); err != nil {
		return h, err
	}
	if h.f1, p, err = expectInt(c, p, math.MinInt32, math.MaxInt32, "error-status"); err != nil {
		return h, err
	}
	if h.f2, _, err = expectInt(c, p, math.MinInt32, math.MaxInt32, "error-index"); err != nil {
		return h, err
	}
	return h, nil
}

// communityHeader is the start of a v1 or v2c message.
type communityHeader struct {
	community []byte
	pdu       pduHeader
}

func readCommunityHeader(b []byte, off int) (communityHeader, error) {
	var h communityHeader
	c, next, err := expect(b, off, tagOctets, "community")
	if err != nil {
		return h, err
	}
	h.community = c
	h.pdu, err = readPDUHeader(b, next)
	return h, err
}

// v3Header is the SNMPv3 message header and USM security parameters
// (RFC 3412 §6, RFC 3414 §2.4).
type v3Header struct {
	msgID      int64
	maxSize    int64
	flags      byte
	secModel   int64
	engineID   []byte
	boots      int64
	time       int64
	user       []byte
	authParams []byte
	privParams []byte
	// dataOff is the offset of msgData: a plaintext scopedPDU SEQUENCE or
	// an encrypted OCTET STRING.
	dataOff int
	dataTag byte
}

// readV3Header reads everything up to msgData. off is the offset after
// the version field.
func readV3Header(b []byte, off int) (v3Header, error) {
	var h v3Header
	g, next, err := expect(b, off, tagSequence, "msgGlobalData")
	if err != nil {
		return h, err
	}
	p := 0
	if h.msgID, p, err = expectInt(g, p, 0, math.MaxInt32, "msgID"); err != nil {
		return h, err
	}
	if h.maxSize, p, err = expectInt(g, p, 484, math.MaxInt32, "msgMaxSize"); err != nil {
		return h, err
	}
	flags, p, err := expect(g, p, tagOctets, "msgFlags")
	if err != nil {
		return h, err
	}
	if len(flags) != 1 {
		return h, fmt.Errorf("msgFlags of %d octets", len(flags))
	}
	h.flags = flags[0]
	if h.secModel, p, err = expectInt(g, p, 1, math.MaxInt32, "msgSecurityModel"); err != nil {
		return h, err
	}
	if p != len(g) {
		return h, errors.New("msgGlobalData: trailing octets")
	}
	sp, next, err := expect(b, next, tagOctets, "msgSecurityParameters")
	if err != nil {
		return h, err
	}
	h.dataOff = next
	tag, _, end, err := tlv(b, next)
	if err != nil {
		return h, fmt.Errorf("msgData: %w", err)
	}
	if end != len(b) {
		return h, errors.New("msgData: trailing octets")
	}
	if tag != tagSequence && tag != tagOctets {
		return h, fmt.Errorf("msgData tag %#x", tag)
	}
	h.dataTag = tag
	if h.secModel != int64(gosnmp.UserSecurityModel) {
		return h, nil // the caller counts unknown models; USM fields do not apply
	}
	u, end, err := expect(sp, 0, tagSequence, "UsmSecurityParameters")
	if err != nil {
		return h, err
	}
	if end != len(sp) {
		return h, errors.New("UsmSecurityParameters: trailing octets")
	}
	p = 0
	if h.engineID, p, err = expect(u, p, tagOctets, "msgAuthoritativeEngineID"); err != nil {
		return h, err
	}
	if len(h.engineID) > 32 {
		return h, fmt.Errorf("msgAuthoritativeEngineID of %d octets", len(h.engineID))
	}
	if h.boots, p, err = expectInt(u, p, 0, math.MaxInt32, "msgAuthoritativeEngineBoots"); err != nil {
		return h, err
	}
	if h.time, p, err = expectInt(u, p, 0, math.MaxInt32, "msgAuthoritativeEngineTime"); err != nil {
		return h, err
	}
	if h.user, p, err = expect(u, p, tagOctets, "msgUserName"); err != nil {
		return h, err
	}
	if len(h.user) > 32 {
		return h, fmt.Errorf("msgUserName of %d octets", len(h.user))
	}
	if h.authParams, p, err = expect(u, p, tagOctets, "msgAuthenticationParameters"); err != nil {
		return h, err
	}
	if h.privParams, p, err = expect(u, p, tagOctets, "msgPrivacyParameters"); err != nil {
		return h, err
	}
	if p != len(u) {
		return h, errors.New("UsmSecurityParameters: trailing octets")
	}
	return h, nil
}

// scopedHeader reads a plaintext scopedPDU at b[off:]: context engine ID,
// context name and the PDU header.
func scopedHeader(b []byte, off int) (ctxEngine, ctxName []byte, pdu pduHeader, err error) {
	s, _, err := expect(b, off, tagSequence, "scopedPDU")
	if err != nil {
		return nil, nil, pdu, err
	}
	if ctxEngine, off, err = expect(s, 0, tagOctets, "contextEngineID"); err != nil {
		return nil, nil, pdu, err
	}
	if ctxName, off, err = expect(s, off, tagOctets, "contextName"); err != nil {
		return nil, nil, pdu, err
	}
	pdu, err = readPDUHeader(s, off)
	return ctxEngine, ctxName, pdu, err
}

// tlvLen is the size of a TLV with n content octets.
func tlvLen(n int) int { return 1 + lenLen(n) + n }

// lenLen is the size of a definite length field for n.
func lenLen(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n <= 0xff:
		return 2
	case n <= 0xffff:
		return 3
	case n <= 0xffffff:
		return 4
	}
	return 5
}

// intContentLen is the size of a minimal two's complement encoding.
func intContentLen(v int64) int {
	n := 1
	for v < -0x80 || v > 0x7f {
		v >>= 8
		n++
	}
	return n
}

// uintContentLen is the size gosnmp gives an unsigned value: minimal
// octets plus a leading zero when the top bit is set.
func uintContentLen(v uint64) int {
	n := 1
	for x := v >> 8; x > 0; x >>= 8 {
		n++
	}
	if v>>(uint(n)*8-1)&1 == 1 {
		n++
	}
	return n
}

// varbindLen is the encoded size of one variable binding as gosnmp
// marshals it. ok is false for a name or value gosnmp would refuse.
func varbindLen(name string, typ gosnmp.Asn1BER, value any) (int, bool) {
	nc, ok := nameBERLen(name)
	if !ok {
		return 0, false
	}
	var vc int // value contents
	switch typ {
	case gosnmp.Null, gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView:
		vc = 0
	case gosnmp.Integer:
		v, ok := value.(int)
		if !ok || v < math.MinInt32 || v > math.MaxInt32 {
			return 0, false
		}
		vc = intContentLen(int64(v))
	case gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks:
		v, ok := value.(uint32)
		if !ok {
			return 0, false
		}
		vc = uintContentLen(uint64(v))
	case gosnmp.Counter64:
		v, ok := value.(uint64)
		if !ok {
			return 0, false
		}
		vc = uintContentLen(v)
	case gosnmp.OctetString:
		switch v := value.(type) {
		case string:
			vc = len(v)
		case []byte:
			vc = len(v)
		default:
			return 0, false
		}
	case gosnmp.ObjectIdentifier:
		s, ok := value.(string)
		if !ok {
			return 0, false
		}
		if vc, ok = nameBERLen(s); !ok {
			return 0, false
		}
	default:
		return 0, false
	}
	return tlvLen(tlvLen(nc) + tlvLen(vc)), true
}

package snmp

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// oid is a numeric object identifier. SNMP orders OIDs lexicographically
// by sub-identifier, a prefix before its extensions (RFC 3416 §4.2.2), which
// is exactly slices.Compare on the arcs.
type oid []uint32

// maxOIDArcs is the SMI limit on sub-identifiers (RFC 2578 §3.5).
const maxOIDArcs = 128

var errEmptyOID = errors.New("empty object identifier")

// parseOID reads a dotted OID with or without the leading dot, as gosnmp
// decodes names (".1.3.6.1…").
func parseOID(s string) (oid, error) {
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return nil, errEmptyOID
	}
	n := strings.Count(s, ".") + 1
	if n > maxOIDArcs {
		return nil, fmt.Errorf("object identifier %q has %d sub-identifiers, more than %d", s, n, maxOIDArcs)
	}
	o := make(oid, 0, n)
	for part := range strings.SplitSeq(s, ".") {
		v, err := strconv.ParseUint(part, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("object identifier %q: sub-identifier %q is not a number between 0 and 4294967295", s, part)
		}
		o = append(o, uint32(v))
	}
	if len(o) < 2 {
		return nil, fmt.Errorf("object identifier %q needs at least two sub-identifiers", s)
	}
	if o[0] > 2 || (o[0] < 2 && o[1] >= 40) {
		return nil, fmt.Errorf("object identifier %q does not start with a valid first arc pair", s)
	}
	if o[0] == 2 && o[1] > 0xFFFFFFFF-80 {
		return nil, fmt.Errorf("object identifier %q: second sub-identifier too large", s)
	}
	return o, nil
}

// mustOID is parseOID for the constant OIDs of this package.
func mustOID(s string) oid {
	o, err := parseOID(s)
	if err != nil {
		panic(err)
	}
	return o
}

// String formats the OID with a leading dot, the form gosnmp produces and
// net-snmp prints with -On.
func (o oid) String() string {
	b := make([]byte, 0, len(o)*4)
	for _, a := range o {
		b = append(b, '.')
		b = strconv.AppendUint(b, uint64(a), 10)
	}
	return string(b)
}

// compare orders two OIDs the SNMP way: -1, 0 or +1.
func (o oid) compare(p oid) int { return slices.Compare(o, p) }

// hasPrefix reports whether p is a prefix of o (or equal to it).
func (o oid) hasPrefix(p oid) bool {
	return len(o) >= len(p) && slices.Equal(o[:len(p)], p)
}

// child returns o extended by arcs, in a new slice.
func (o oid) child(arcs ...uint32) oid {
	c := make(oid, 0, len(o)+len(arcs))
	c = append(c, o...)
	return append(c, arcs...)
}

// appendString appends a string table index the SMI way: the length, then
// one sub-identifier per octet (RFC 2578 §7.7, not IMPLIED).
func (o oid) appendString(s string) oid {
	c := make(oid, 0, len(o)+1+len(s))
	c = append(c, o...)
	c = append(c, uint32(len(s)))
	for i := 0; i < len(s); i++ {
		c = append(c, uint32(s[i]))
	}
	return c
}

// nameBERLen is the length of the BER contents octets of the dotted OID
// s (the first two arcs share one sub-identifier, each sub-identifier is
// base 128), computed without building the OID; ok is false when s is not
// a valid OID.
func nameBERLen(s string) (n int, ok bool) {
	s = strings.TrimPrefix(s, ".")
	var arcs int
	var first, v uint64
	digits := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			c := s[i] - '0'
			if c > 9 {
				return 0, false
			}
			v = v*10 + uint64(c)
			digits++
			if v > 0xFFFFFFFF {
				return 0, false
			}
			continue
		}
		if digits == 0 {
			return 0, false
		}
		switch arcs {
		case 0:
			if v > 2 {
				return 0, false
			}
			first = v
		case 1:
			if (first < 2 && v >= 40) || v > 0xFFFFFFFF-80 {
				return 0, false
			}
			n += base128Len(first*40 + v)
		default:
			n += base128Len(v)
		}
		arcs++
		v, digits = 0, 0
	}
	if arcs < 2 || arcs > maxOIDArcs {
		return 0, false
	}
	return n, true
}

func base128Len(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

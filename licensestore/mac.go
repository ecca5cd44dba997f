package licensestore

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Every value in the store is an envelope:
//
//	envelope = version (1 byte, 1) || mac (32 bytes) || payload
//	mac      = HMAC-SHA256(MACKey, bucket || 0 || key || 0 || payload)
//
// The envelope layout is the same in every schema version, so a build can
// always check a store before it decides whether it can read it. The input
// is unambiguous because bucket names and string keys never contain a NUL
// byte and binary keys (audit sequence numbers) have a fixed length.

const (
	envelopeVersion = 1
	macSize         = sha256.Size
	envelopeHeader  = 1 + macSize
	minMACKeySize   = 32
)

type macer struct{ key []byte }

func (m macer) sum(bucket string, key, payload []byte) [macSize]byte {
	h := hmac.New(sha256.New, m.key)
	h.Write([]byte(bucket))
	h.Write([]byte{0})
	h.Write(key)
	h.Write([]byte{0})
	h.Write(payload)
	var out [macSize]byte
	h.Sum(out[:0])
	return out
}

// seal wraps payload in an envelope for bucket/key.
func (m macer) seal(bucket string, key, payload []byte) (env []byte, mac [macSize]byte) {
	mac = m.sum(bucket, key, payload)
	env = make([]byte, 0, envelopeHeader+len(payload))
	env = append(env, envelopeVersion)
	env = append(env, mac[:]...)
	env = append(env, payload...)
	return env, mac
}

// open checks an envelope and returns its payload (aliasing env) and MAC.
func (m macer) open(bucket string, key, env []byte) (payload []byte, mac [macSize]byte, err error) {
	if len(env) < envelopeHeader {
		return nil, mac, fmt.Errorf("%w: %s/%s: value is %d bytes, too short for an envelope", ErrTampered, bucket, printableKey(key), len(env))
	}
	if env[0] != envelopeVersion {
		return nil, mac, fmt.Errorf("%w: %s/%s: unknown envelope version %d", ErrTampered, bucket, printableKey(key), env[0])
	}
	copy(mac[:], env[1:envelopeHeader])
	payload = env[envelopeHeader:]
	want := m.sum(bucket, key, payload)
	if !hmac.Equal(mac[:], want[:]) {
		return nil, mac, fmt.Errorf("%w: %s/%s: MAC mismatch", ErrTampered, bucket, printableKey(key))
	}
	return payload, mac, nil
}

// storedMAC returns the MAC field of an envelope without checking it, or
// zero if the value is too short to have one.
func storedMAC(env []byte) (mac [macSize]byte) {
	if len(env) >= envelopeHeader {
		copy(mac[:], env[1:envelopeHeader])
	}
	return mac
}

func xorInto(dst *[macSize]byte, mac [macSize]byte) {
	for i := range dst {
		dst[i] ^= mac[i]
	}
}

// printableKey renders a key for messages: audit keys as their sequence
// number, text as is, anything else quoted.
func printableKey(k []byte) string {
	if len(k) == 8 && !isText(k) {
		return "#" + strconv.FormatUint(be.Uint64(k), 10)
	}
	if isText(k) {
		return string(k)
	}
	return strconv.Quote(string(k))
}

func isText(k []byte) bool {
	if !utf8.Valid(k) {
		return false
	}
	for _, r := range string(k) {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

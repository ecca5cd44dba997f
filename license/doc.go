// Package license is the signed document format shared by the agent and the
// portal: license files, device credentials, permission tickets and rehost
// tickets.
//
// Every document is UTF-8 text: a versioned header line, then blocks of
// "key: value" lines separated by blank lines. Lines starting with "#" are
// notes for people and are not signed. Fields appear in one fixed order,
// values are escaped so that no value can break a line, and each kind of
// document has exactly one encoding, so the bytes under a signature are the
// field lines a person sees in the file.
//
// A license file:
//
//	licensed-license-file v1
//	# 1 license. Lines starting with # are notes for people and are not signed.
//
//	# License 1 of 1: ipservices 1.0, permanent, node-locked to WS-C3750E-24TD-S:FDO1234X0AB
//	id: 3c9e5a1f0b7d2e48
//	feature: ipservices
//	version: 1.0
//	type: permanent
//	udi: WS-C3750E-24TD-S:FDO1234X0AB
//	addition: exclusive
//	issued: 2026-11-01T00:00:00Z
//	key-id: 5b1f0c3a9d2e7f64
//	signature: <base64 of 64 bytes>
//
// Optional fields (udi, count, addition, period, start, end, comment, pak)
// are omitted when they have their zero value. Times are RFC 3339 in UTC to
// the second; period is a whole number of seconds of usage time.
//
// Values are written as they are except for a backslash (\\), line feed
// (\n), carriage return (\r), tab (\t), other control bytes and bytes that
// are not UTF-8 (\xHH), characters that can hide or reorder text such as
// bidi overrides, zero-width characters and line separators (\uHHHH,
// \UHHHHHHHH), and a space at either end (\x20). No line of a document may
// hold any of those characters raw, nor a carriage return, so a file shows
// a person exactly what it says.
//
// Signatures are Ed25519ctx (RFC 8032) with one context string per document
// kind, so a signature made for one kind never verifies as another. Licenses
// and permission tickets are signed by a portal key, named in the document by
// its key ID; the agent holds the trusted public keys in a Trust. Device
// credentials and rehost tickets are signed by the device key and carry its
// public key.
//
// Parse and the other Parse functions check syntax and field values; of the
// signatures they check only those that need no trust decision (the
// self-signed credential and the rehost ticket). Trust.Verify and
// Trust.VerifyTicket check portal signatures. Syntax and value errors are
// *SyntaxError, naming the line and the field at fault, so a caller can tell
// a bad count or period from a damaged file.
package license

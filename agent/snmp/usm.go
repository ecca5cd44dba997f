package snmp

import (
	"bytes"
	"context"
	"crypto/rand"
	"math"
	"net"
	"strings"

	"github.com/gosnmp/gosnmp"
)

// timeWindow is the USM time window in seconds (RFC 3414 §2.2.3).
const timeWindow = 150

// privWithoutAuth is the msgFlags combination RFC 3412 §7.2 step 5 rejects.
const privWithoutAuth = gosnmp.SnmpV3MsgFlags(0x2)

// v3Message is what the USM processing learned about a request, enough
// to answer it or report on it.
type v3Message struct {
	h          v3Header
	level      gosnmp.SnmpV3MsgFlags
	reportable bool
	reqID      uint32 // 0 until known
}

// handleV3 serves SNMPv3 with the User-based Security Model. gosnmp
// decodes, verifies and decrypts; the checks it lacks are done here, in
// the order of RFC 3414 §3.2: engine ID, user, security level, digest,
// time window, decryption. Each failure counts in usmStats and, when the
// request asks for it, is answered with a Report.
func (s *Server) handleV3(ctx context.Context, pkt []byte, off int, from net.Addr) []byte {
	h, err := readV3Header(pkt, off)
	if err != nil {
		s.stats.asnParseErrs.Add(1)
		return nil
	}
	if h.secModel != int64(gosnmp.UserSecurityModel) {
		s.stats.unknownSecurityModels.Add(1)
		return nil
	}
	m := &v3Message{
		h:          h,
		level:      gosnmp.SnmpV3MsgFlags(h.flags) & gosnmp.AuthPriv,
		reportable: gosnmp.SnmpV3MsgFlags(h.flags)&gosnmp.Reportable != 0,
	}
	if m.level == privWithoutAuth {
		s.stats.invalidMsgs.Add(1)
		return nil
	}
	if h.dataTag == tagSequence {
		if _, _, ph, err := scopedHeader(pkt, h.dataOff); err == nil && ph.requestID >= 0 {
			m.reqID = uint32(ph.requestID)
		}
	}

	// gosnmp would re-localize the user's keys to whatever engine ID the
	// message names, so only this engine's ID may pass.
	if !bytes.Equal(h.engineID, s.engineID) {
		return s.report(m, usmUnknownEngineIDs, s.stats.unknownEngineIDs.Add(1), nil, gosnmp.NoAuthNoPriv)
	}
	u := s.users[string(h.user)]
	if u == nil {
		return s.report(m, usmUnknownUserNames, s.stats.unknownUserNames.Add(1), nil, gosnmp.NoAuthNoPriv)
	}
	if m.level > u.level ||
		(m.level == gosnmp.NoAuthNoPriv && u.level != gosnmp.NoAuthNoPriv) ||
		(u.level == gosnmp.NoAuthNoPriv && !s.cfg.AllowNoAuth) {
		return s.report(m, usmUnsupportedSecLevels, s.stats.unsupportedSecLevels.Add(1), nil, gosnmp.NoAuthNoPriv)
	}
	encrypted := h.dataTag == tagOctets
	if encrypted != (m.level == gosnmp.AuthPriv) {
		if m.level == gosnmp.AuthPriv {
			return s.report(m, usmDecryptionErrors, s.stats.decryptionErrors.Add(1), nil, gosnmp.NoAuthNoPriv)
		}
		s.stats.asnParseErrs.Add(1)
		return nil
	}

	// UnmarshalTrap with the response's parameters verifies the HMAC
	// (SnmpDecodePacket does not) and decrypts. It blanks the digest and
	// decrypts in place, so it works on a copy.
	plain := bytes.Clone(pkt)
	dec := &gosnmp.GoSNMP{Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel, SecurityParameters: u.tmpl.Copy()}
	p, err := dec.UnmarshalTrap(plain, true)
	authenticated := m.level&gosnmp.AuthNoPriv != 0
	if err != nil {
		msg := err.Error()
		switch {
		case authenticated && (strings.Contains(msg, "not authentic") || strings.Contains(msg, "msgAuthenticationParameters")):
			// gosnmp's only ways of saying the digest is wrong.
			return s.report(m, usmWrongDigests, s.stats.wrongDigests.Add(1), nil, gosnmp.NoAuthNoPriv)
		case encrypted:
			// The digest was right; RFC 3414 checks the time before decrypting.
			if !s.inTimeWindow(&h) {
				return s.report(m, usmNotInTimeWindows, s.stats.notInTimeWindows.Add(1), u, gosnmp.AuthNoPriv)
			}
			return s.report(m, usmDecryptionErrors, s.stats.decryptionErrors.Add(1), nil, gosnmp.NoAuthNoPriv)
		}
		s.stats.asnParseErrs.Add(1)
		return nil
	}
	if authenticated && !s.inTimeWindow(&h) {
		m.reqID = p.RequestID
		return s.report(m, usmNotInTimeWindows, s.stats.notInTimeWindows.Add(1), u, gosnmp.AuthNoPriv)
	}

	// Exact PDU integers: gosnmp narrows non-repeaters to a uint8. The
	// plaintext scopedPDU is in the message, or where gosnmp decrypted it.
	_, _, exact, err := scopedHeader(plain, h.dataOff)
	if err != nil || uint32(exact.requestID) != p.RequestID {
		exact = pduHeader{requestID: int64(int32(p.RequestID)), f1: int64(p.NonRepeaters), f2: int64(p.MaxRepetitions)}
	}
	m.reqID = p.RequestID
	switch p.PDUType {
	case gosnmp.GetRequest, gosnmp.GetNextRequest, gosnmp.GetBulkRequest, gosnmp.SetRequest:
	default:
		return nil // responses, traps, informs, reports: not for a command responder
	}
	if exact.requestID < 0 {
		s.stats.silentDrops.Add(1) // gosnmp encodes request-ids 0..2^31-1 only
		return nil
	}
	if p.ContextEngineID != "" && p.ContextEngineID != string(s.engineID) {
		return s.report(m, 0, s.stats.unknownPDUHandlers.Add(1), u, m.level, oidMPDStats.child(3, 0))
	}
	if p.ContextName != "" {
		return s.report(m, 0, s.stats.unknownContexts.Add(1), u, m.level, oidTargetObj.child(5, 0))
	}

	req := &request{
		version: gosnmp.Version3, pdu: p.PDUType, reqID: p.RequestID,
		nonRep: exact.f1, maxRep: exact.f2, vbs: p.Variables,
		limit: int(min(h.maxSize, MaxMessageSize)),
		write: m.level != gosnmp.NoAuthNoPriv,
		who:   "user " + u.name, from: from,
	}
	var res result
	if m.level < u.level {
		// Users must use the level they are configured for.
		res = errorResult(req, gosnmp.AuthorizationError, 0)
	} else {
		res = s.process(ctx, req)
	}
	enc := func(r *result) ([]byte, error) {
		out := s.v3Packet(m, u, m.level)
		out.PDUType = gosnmp.GetResponse
		out.RequestID = req.reqID
		out.Error, out.ErrorIndex, out.Variables = r.status, uint8(r.index), r.vbs
		return out.MarshalMsg()
	}
	return s.finish(req, res, enc, 160+2*len(s.engineID)+len(h.user))
}

// inTimeWindow checks the message's boots and time against this engine
// (RFC 3414 §3.2 step 7a).
func (s *Server) inTimeWindow(h *v3Header) bool {
	if s.boots >= math.MaxInt32 || h.boots != int64(s.boots) {
		return false
	}
	d := h.time - int64(s.engineTime())
	return d >= -timeWindow && d <= timeWindow
}

// v3Packet starts an outgoing message for the request m at the given
// security level: this engine is authoritative, the Reportable flag is
// clear, and a privacy salt is fresh for every message (reusing one
// repeats the AES-CFB key stream).
func (s *Server) v3Packet(m *v3Message, u *usmUser, level gosnmp.SnmpV3MsgFlags) *gosnmp.SnmpPacket {
	sp := &gosnmp.UsmSecurityParameters{
		AuthoritativeEngineID:    string(s.engineID),
		AuthoritativeEngineBoots: s.boots,
		AuthoritativeEngineTime:  s.engineTime(),
		UserName:                 string(m.h.user),
	}
	if level&gosnmp.AuthNoPriv != 0 {
		sp.AuthenticationProtocol, sp.SecretKey = u.tmpl.AuthenticationProtocol, u.tmpl.SecretKey
	}
	if level == gosnmp.AuthPriv {
		sp.PrivacyProtocol, sp.PrivacyKey = u.tmpl.PrivacyProtocol, u.tmpl.PrivacyKey
		sp.PrivacyParameters = make([]byte, 8)
		_, _ = rand.Read(sp.PrivacyParameters) // crypto/rand.Read never fails
	}
	return &gosnmp.SnmpPacket{
		Version:            gosnmp.Version3,
		MsgFlags:           level,
		SecurityModel:      gosnmp.UserSecurityModel,
		SecurityParameters: sp,
		MsgID:              uint32(m.h.msgID),
		MsgMaxSize:         MaxMessageSize,
		ContextEngineID:    string(s.engineID),
	}
}

// report answers a failed request with a Report PDU carrying the counter
// that moved: usmStats scalar stat, or the instance given in at. u and
// level give the report's security (RFC 3412 §7.1.3: noAuthNoPriv, except
// notInTimeWindow, which must be authenticated).
func (s *Server) report(m *v3Message, stat uint32, count uint64, u *usmUser, level gosnmp.SnmpV3MsgFlags, at ...oid) []byte {
	if !m.reportable {
		return nil
	}
	name := oidUsmStats.child(stat, 0)
	if len(at) > 0 {
		name = at[0]
	}
	out := s.v3Packet(m, u, level)
	out.PDUType = gosnmp.Report
	out.RequestID = m.reqID
	out.Variables = []gosnmp.SnmpPDU{{Name: name.String(), Type: gosnmp.Counter32, Value: uint32(count)}}
	b, err := out.MarshalMsg()
	if err != nil {
		s.logf("snmp: encoding report: %v", err)
		s.stats.silentDrops.Add(1)
		return nil
	}
	s.stats.outPkts.Add(1)
	return b
}

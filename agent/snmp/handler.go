package snmp

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net"
	"unicode/utf8"

	"github.com/gosnmp/gosnmp"
	"github.com/licensed-dev/licensed/agent"
)

// Limits of request processing.
const (
	// maxRequestVarbinds bounds the variable bindings of a request; more
	// are answered with tooBig. gosnmp carries error-index in one octet.
	maxRequestVarbinds = 255
	// maxBulkVarbinds caps non-repeaters + max-repetitions × repeaters.
	maxBulkVarbinds = 1024
	// lengthSlack covers the growth of the length fields that enclose the
	// variable bindings (at most five, two octets each) when estimating a
	// response's size from an empty one.
	lengthSlack = 10
)

// request is one decoded request of any version.
type request struct {
	version gosnmp.SnmpVersion
	pdu     gosnmp.PDUType
	reqID   uint32
	nonRep  int64 // GetBulk non-repeaters, exact
	maxRep  int64 // GetBulk max-repetitions, exact
	vbs     []gosnmp.SnmpPDU
	limit   int  // largest response the requester accepts
	write   bool // may SET clmgmtLicenseComments
	who     string
	from    net.Addr
}

// result is the PDU part of a response.
type result struct {
	status gosnmp.SNMPError
	index  int
	vbs    []gosnmp.SnmpPDU
}

// encoder marshals a response for the request's version and security.
type encoder func(r *result) ([]byte, error)

// Handle processes one request message and returns the response message,
// or nil when nothing is to be sent (wrong community, malformed message,
// a PDU this agent does not answer). It never retains pkt.
func (s *Server) Handle(ctx context.Context, pkt []byte, from net.Addr) (resp []byte) {
	s.stats.inPkts.Add(1)
	defer func() {
		// A malformed message must cost one request, not the daemon.
		if r := recover(); r != nil {
			s.stats.panics.Add(1)
			s.stats.asnParseErrs.Add(1)
			s.logf("snmp: message from %v: decoder panic: %v", from, r)
			resp = nil
		}
	}()
	ver, off, err := msgVersion(pkt)
	if err != nil {
		s.stats.asnParseErrs.Add(1)
		return nil
	}
	switch ver {
	case int64(gosnmp.Version1), int64(gosnmp.Version2c):
		return s.handleCommunity(ctx, pkt, off, gosnmp.SnmpVersion(ver), from)
	case int64(gosnmp.Version3):
		return s.handleV3(ctx, pkt, off, from)
	}
	s.stats.badVersions.Add(1)
	return nil
}

// handleCommunity serves SNMPv1 and SNMPv2c.
func (s *Server) handleCommunity(ctx context.Context, pkt []byte, off int, ver gosnmp.SnmpVersion, from net.Addr) []byte {
	h, err := readCommunityHeader(pkt, off)
	if err != nil {
		s.stats.asnParseErrs.Add(1)
		return nil
	}
	if len(s.community) == 0 || subtle.ConstantTimeCompare(h.community, s.community) != 1 {
		s.stats.badCommunityNames.Add(1)
		return nil
	}
	pduType := gosnmp.PDUType(h.pdu.tag)
	switch pduType {
	case gosnmp.GetRequest, gosnmp.GetNextRequest, gosnmp.SetRequest:
	case gosnmp.GetBulkRequest:
		if ver == gosnmp.Version1 {
			s.stats.asnParseErrs.Add(1) // not an SNMPv1 PDU (RFC 3584 §4.1)
			return nil
		}
	default:
		return nil // responses, traps, informs, reports: not for a command responder
	}
	if h.pdu.requestID < 0 {
		// gosnmp can only encode request-ids 0..2^31-1 in a response.
		s.stats.silentDrops.Add(1)
		return nil
	}
	p, err := (&gosnmp.GoSNMP{Version: ver}).SnmpDecodePacket(pkt)
	if err != nil {
		s.stats.asnParseErrs.Add(1)
		return nil
	}
	req := &request{
		version: ver, pdu: pduType, reqID: uint32(h.pdu.requestID),
		nonRep: h.pdu.f1, maxRep: h.pdu.f2, vbs: p.Variables,
		limit: MaxMessageSize, who: "community", from: from,
	}
	res := s.process(ctx, req)
	community := string(s.community)
	enc := func(r *result) ([]byte, error) {
		out := &gosnmp.SnmpPacket{
			Version: ver, Community: community, PDUType: gosnmp.GetResponse,
			RequestID: req.reqID, Error: r.status, ErrorIndex: uint8(r.index), Variables: r.vbs,
		}
		return out.MarshalMsg()
	}
	return s.finish(req, res, enc, 64+len(community))
}

// process runs the operation of a request.
func (s *Server) process(ctx context.Context, req *request) result {
	if len(req.vbs) > maxRequestVarbinds {
		return s.tooBig(req)
	}
	if req.pdu == gosnmp.SetRequest {
		return s.set(ctx, req)
	}
	v, err := s.snapshot(ctx)
	if err != nil {
		s.logf("snmp: %v", err)
		return errorResult(req, gosnmp.GenErr, 1)
	}
	switch req.pdu {
	case gosnmp.GetRequest:
		return s.get(v, req)
	case gosnmp.GetNextRequest:
		return s.getNext(v, req)
	case gosnmp.GetBulkRequest:
		return s.getBulk(v, req)
	}
	return errorResult(req, gosnmp.GenErr, 1)
}

// errorResult is an error response: the request's bindings unchanged,
// the index pointing at the first one (0 if there are none).
func errorResult(req *request, status gosnmp.SNMPError, index int) result {
	if len(req.vbs) == 0 {
		index = 0
	}
	return result{status: status, index: index, vbs: echo(req.vbs)}
}

// echo returns request bindings for an error response, with values
// gosnmp cannot encode replaced by NULL.
func echo(vbs []gosnmp.SnmpPDU) []gosnmp.SnmpPDU {
	out := make([]gosnmp.SnmpPDU, len(vbs))
	for i, vb := range vbs {
		out[i] = vb
		if _, ok := nameBERLen(vb.Name); !ok {
			out[i].Name = ".0.0"
		}
		if _, ok := varbindLen(out[i].Name, vb.Type, vb.Value); !ok {
			out[i].Type, out[i].Value = gosnmp.Null, nil
		}
	}
	return out
}

// value materializes an entry as a variable binding.
func (s *Server) value(e *entry) gosnmp.SnmpPDU {
	v := e.val
	if e.dyn != nil {
		v = e.dyn(s)
	}
	return gosnmp.SnmpPDU{Name: e.name, Type: e.typ, Value: v}
}

// get answers a GetRequest (RFC 3416 §4.2.1; v1 per RFC 3584 §4.4).
func (s *Server) get(v *view, req *request) result {
	v1 := req.version == gosnmp.Version1
	out := make([]gosnmp.SnmpPDU, len(req.vbs))
	for i, vb := range req.vbs {
		o, err := parseOID(vb.Name)
		idx := -1
		if err == nil {
			idx = v.find(o)
		}
		if idx >= 0 && !(v1 && v.entries[idx].typ == gosnmp.Counter64) {
			out[i] = s.value(&v.entries[idx])
			continue
		}
		if v1 {
			return errorResult(req, gosnmp.NoSuchName, i+1)
		}
		typ := gosnmp.NoSuchObject
		if err == nil && v.isObject(o) {
			typ = gosnmp.NoSuchInstance
		}
		out[i] = gosnmp.SnmpPDU{Name: vb.Name, Type: typ}
	}
	return result{vbs: out}
}

// nextIndex returns the entry following o in the view, skipping Counter64
// for SNMPv1, or -1 at the end of the MIB view.
func (v *view) nextIndex(o oid, v1 bool) int {
	i := v.next(o)
	for v1 && i < len(v.entries) && v.entries[i].typ == gosnmp.Counter64 {
		i++
	}
	if i >= len(v.entries) {
		return -1
	}
	return i
}

// nextOf parses a requested name for a GETNEXT; an unparsable name sorts
// before everything.
func nextOf(name string) oid {
	o, err := parseOID(name)
	if err != nil {
		return oid{}
	}
	return o
}

// getNext answers a GetNextRequest (RFC 3416 §4.2.2).
func (s *Server) getNext(v *view, req *request) result {
	v1 := req.version == gosnmp.Version1
	out := make([]gosnmp.SnmpPDU, len(req.vbs))
	for i, vb := range req.vbs {
		idx := v.nextIndex(nextOf(vb.Name), v1)
		if idx < 0 {
			if v1 {
				return errorResult(req, gosnmp.NoSuchName, i+1)
			}
			out[i] = gosnmp.SnmpPDU{Name: vb.Name, Type: gosnmp.EndOfMibView}
			continue
		}
		out[i] = s.value(&v.entries[idx])
	}
	return result{vbs: out}
}

// bulkShape computes the GetBulk arithmetic of RFC 3416 §4.2.3: N
// non-repeaters, R repeaters and M repetitions, with M capped so the
// response holds at most maxBulkVarbinds bindings.
func bulkShape(nonRep, maxRep int64, n int) (N, R, M int) {
	N = int(min(max(nonRep, 0), int64(n)))
	R = n - N
	if R == 0 {
		return N, 0, 0
	}
	M = int(min(max(maxRep, 0), int64((maxBulkVarbinds-N)/R)))
	return N, R, M
}

// getBulk answers a GetBulkRequest. Repetitions stop after one in which
// every repeater reached the end of the MIB view.
func (s *Server) getBulk(v *view, req *request) result {
	N, R, M := bulkShape(req.nonRep, req.maxRep, len(req.vbs))
	out := make([]gosnmp.SnmpPDU, 0, N+R*min(M, 64))
	for _, vb := range req.vbs[:N] {
		if idx := v.nextIndex(nextOf(vb.Name), false); idx >= 0 {
			out = append(out, s.value(&v.entries[idx]))
		} else {
			out = append(out, gosnmp.SnmpPDU{Name: vb.Name, Type: gosnmp.EndOfMibView})
		}
	}
	cur := make([]oid, R)
	names := make([]string, R)
	for r, vb := range req.vbs[N:] {
		cur[r], names[r] = nextOf(vb.Name), vb.Name
	}
	ended := make([]bool, R)
	for range M {
		all := true
		for r := range R {
			if !ended[r] {
				if idx := v.nextIndex(cur[r], false); idx >= 0 {
					e := &v.entries[idx]
					out = append(out, s.value(e))
					cur[r], names[r] = e.oid, e.name
					all = false
					continue
				}
				ended[r] = true
			}
			out = append(out, gosnmp.SnmpPDU{Name: names[r], Type: gosnmp.EndOfMibView})
		}
		if all {
			break
		}
	}
	return result{vbs: out}
}

// commentChange is one validated SET of clmgmtLicenseComments.
type commentChange struct {
	index         int // 1-based binding index
	feature       string
	text, oldText string
}

// set answers a SetRequest. Only clmgmtLicenseComments is writable, by
// SNMPv3 users with authentication, through Config.SetComment. All
// bindings are checked before any is applied; a failed apply undoes the
// earlier ones (RFC 3416 §4.2.5).
func (s *Server) set(ctx context.Context, req *request) result {
	if len(req.vbs) == 0 {
		return result{}
	}
	if !req.write || s.cfg.SetComment == nil {
		if req.who == "community" {
			s.stats.badCommunityUses.Add(1)
		}
		return errorResult(req, gosnmp.NotWritable, 1)
	}
	v, err := s.snapshot(ctx)
	if err != nil {
		s.logf("snmp: %v", err)
		return errorResult(req, gosnmp.GenErr, 1)
	}
	commentCol := oidCLMLicEntry.child(licComments)
	changes := make([]commentChange, 0, len(req.vbs))
	current := map[string]string{}
	for i, vb := range req.vbs {
		o, err := parseOID(vb.Name)
		if err != nil {
			return errorResult(req, gosnmp.NotWritable, i+1)
		}
		row, ok := v.comments[o.String()]
		if !ok {
			if o.hasPrefix(commentCol) && len(o) > len(commentCol) {
				return errorResult(req, gosnmp.NoCreation, i+1)
			}
			return errorResult(req, gosnmp.NotWritable, i+1)
		}
		if vb.Type != gosnmp.OctetString {
			return errorResult(req, gosnmp.WrongType, i+1)
		}
		text, ok := vb.Value.([]byte)
		if !ok {
			return errorResult(req, gosnmp.WrongType, i+1)
		}
		if len(text) > licCommentsMaxSize {
			return errorResult(req, gosnmp.WrongLength, i+1)
		}
		if !utf8.Valid(text) {
			return errorResult(req, gosnmp.WrongValue, i+1)
		}
		old, seen := current[row.feature]
		if !seen {
			old = row.current
		}
		current[row.feature] = string(text)
		changes = append(changes, commentChange{index: i + 1, feature: row.feature, text: string(text), oldText: old})
	}

	actx := agent.WithActor(ctx, agent.Actor{Name: "snmp:" + req.who, Source: fmt.Sprintf("snmp %v", req.from), Privilege: agent.PrivAdmin})
	defer s.invalidate()
	for k, c := range changes {
		err := s.cfg.SetComment(actx, c.feature, c.text)
		if err == nil {
			s.logf("snmp: %s from %v set the comment of %s", req.who, req.from, c.feature)
			continue
		}
		s.logf("snmp: %s from %v: setting the comment of %s: %v", req.who, req.from, c.feature, err)
		if k == 0 {
			switch agent.CauseOf(err) {
			case agent.CauseInvalidArgument, agent.CauseUnknownFeature:
				return errorResult(req, gosnmp.WrongValue, c.index)
			}
			return errorResult(req, gosnmp.CommitFailed, c.index)
		}
		for j := k - 1; j >= 0; j-- {
			if uerr := s.cfg.SetComment(actx, changes[j].feature, changes[j].oldText); uerr != nil {
				s.logf("snmp: undoing the comment of %s: %v", changes[j].feature, uerr)
				return errorResult(req, gosnmp.UndoFailed, c.index)
			}
		}
		return errorResult(req, gosnmp.CommitFailed, c.index)
	}
	return result{vbs: echo(req.vbs)}
}

// v1Status maps an SNMPv2 error-status to SNMPv1 (RFC 3584 §4.4).
func v1Status(e gosnmp.SNMPError) gosnmp.SNMPError {
	switch e {
	case gosnmp.NoError, gosnmp.TooBig, gosnmp.NoSuchName, gosnmp.BadValue, gosnmp.ReadOnly, gosnmp.GenErr:
		return e
	case gosnmp.WrongValue, gosnmp.WrongEncoding, gosnmp.WrongType, gosnmp.WrongLength, gosnmp.InconsistentValue:
		return gosnmp.BadValue
	case gosnmp.NoAccess, gosnmp.NotWritable, gosnmp.NoCreation, gosnmp.InconsistentName, gosnmp.AuthorizationError:
		return gosnmp.NoSuchName
	}
	return gosnmp.GenErr // resourceUnavailable, commitFailed, undoFailed
}

// finish fits the result to the requester's maximum message size and
// encodes it. A GetBulk response loses bindings from its end; any other
// response that does not fit becomes tooBig (RFC 3416 §4.2.1, §4.2.3).
// overhead estimates the size of the response without bindings.
func (s *Server) finish(req *request, res result, enc encoder, overhead int) []byte {
	if req.version == gosnmp.Version1 {
		res.status = v1Status(res.status)
	}
	total := 0
	sizes := make([]int, len(res.vbs))
	for i, vb := range res.vbs {
		n, ok := varbindLen(vb.Name, vb.Type, vb.Value)
		if !ok {
			// Values come from the view, so this is a bug, not bad input.
			s.logf("snmp: cannot encode %s (%v %T): answering genErr", vb.Name, vb.Type, vb.Value)
			return s.finish(req, errorResult(req, gosnmp.GenErr, 0), enc, overhead)
		}
		sizes[i] = n
		total += n
	}
	if overhead+total+lengthSlack > req.limit {
		base, err := enc(&result{status: res.status, index: res.index})
		if err != nil {
			s.logf("snmp: encoding response: %v", err)
			s.stats.silentDrops.Add(1)
			return nil
		}
		room := req.limit - len(base) - lengthSlack
		if req.pdu == gosnmp.GetBulkRequest && res.status == gosnmp.NoError {
			k, used := 0, 0
			for k < len(sizes) && used+sizes[k] <= room {
				used += sizes[k]
				k++
			}
			if k == 0 && len(sizes) > 0 {
				res = s.tooBig(req)
			} else {
				res.vbs = res.vbs[:k]
			}
		} else if total > room {
			res = s.tooBig(req)
		}
	}
	b, err := enc(&res)
	if err != nil {
		s.logf("snmp: encoding response: %v", err)
		s.stats.silentDrops.Add(1)
		return nil
	}
	if len(b) > req.limit {
		if res.status == gosnmp.TooBig {
			s.stats.silentDrops.Add(1)
			return nil
		}
		tb := s.tooBig(req)
		if b, err = enc(&tb); err != nil || len(b) > req.limit {
			s.stats.silentDrops.Add(1)
			return nil
		}
	}
	s.stats.outPkts.Add(1)
	return b
}

// tooBig is the response when the result does not fit: SNMPv2 sends no
// bindings, SNMPv1 echoes the request's (RFC 1157 §4.1.2).
func (s *Server) tooBig(req *request) result {
	if req.version == gosnmp.Version1 {
		return result{status: gosnmp.TooBig, vbs: echo(req.vbs)}
	}
	return result{status: gosnmp.TooBig}
}

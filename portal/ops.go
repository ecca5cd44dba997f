package portal

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/licensed-dev/licensed/call-home/protocol"
	"github.com/licensed-dev/licensed/license"
)

const day = 24 * time.Hour

// errNeedWrite: a read-only pass found something to write (a device seen
// for the first time); the caller runs the work again in Update.
var errNeedWrite = errors.New("portal: the request needs a write transaction")

// dateTime formats a time in messages.
func dateTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// bindCredential binds the credential's key to each of its UDIs (trust on
// first contact) and refuses a key other than the bound one. acting is
// the UDI the request acts for; a retired (RMA'd) acting UDI is refused.
// With write false, it returns errNeedWrite instead of writing.
func (p *Portal) bindCredential(tx Tx, now time.Time, cred *license.Credential, acting string, write bool) error {
	keyID := license.KeyID(cred.PublicKey)
	for _, u := range cred.UDIs {
		var d Device
		ok, err := found(getJSON(tx, TableDevices, u, &d))
		if err != nil {
			return err
		}
		if ok && d.PublicKey != nil && !bytes.Equal(d.PublicKey, cred.PublicKey) {
			return errorf(protocol.CodeKeyMismatch, "UDI %s is bound to device key %s (since %s); this request is signed with device key %s. If the device lost its key, an administrator must reset the binding (licportal device reset-key --udi %s)",
				u, d.KeyID, dateTime(d.FirstSeen), keyID, u)
		}
		if u == acting && d.RetiredTo != "" {
			return errorf(protocol.CodeForbidden, "UDI %s was replaced by %s in an RMA on %s and may no longer call home", u, d.RetiredTo, dateTime(d.Retired))
		}
		if !ok {
			d = Device{UDI: u}
		}
		bound, change := false, false
		if d.PublicKey == nil {
			d.PublicKey, d.KeyID, bound, change = cred.PublicKey, keyID, true, true
			if d.FirstSeen.IsZero() {
				d.FirstSeen = now
			}
		}
		if u == acting && now.Sub(d.LastSeen) >= p.cfg.LastSeenInterval {
			d.LastSeen, change = now, true
		}
		if cred.Hostname != "" && d.Hostname != cred.Hostname {
			d.Hostname, change = cred.Hostname, true
		}
		if !change {
			continue
		}
		if !write {
			return errNeedWrite
		}
		if err := putJSON(tx, TableDevices, u, &d); err != nil {
			return err
		}
		if bound {
			if err := p.audit(tx, now, "device "+acting, "device-key-bound", u, "device key "+keyID+" bound at first contact", u); err != nil {
				return err
			}
		}
	}
	return nil
}

// device reads a device record; ok is false when the portal never heard
// of the UDI.
func device(tx Tx, udi string) (Device, bool, error) {
	var d Device
	ok, err := found(getJSON(tx, TableDevices, udi, &d))
	return d, ok, err
}

// licensesOf returns the license records of a UDI, every state, in ID
// order.
func licensesOf(tx Tx, udi string) ([]*LicenseRecord, error) {
	var ids []string
	err := tx.Scan(TableUDILicenses, udi+"/", func(k string, _ []byte) error {
		ids = append(ids, k[len(udi)+1:])
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*LicenseRecord, 0, len(ids))
	for _, id := range ids {
		r := new(LicenseRecord)
		if err := getJSON(tx, TableLicenses, id, r); err != nil {
			return nil, fmt.Errorf("license %s of UDI %s: %w", id, udi, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func activeOf(tx Tx, udi string) ([]*LicenseRecord, error) {
	all, err := licensesOf(tx, udi)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(r *LicenseRecord) bool { return r.State != StateActive }), nil
}

// parseRecord returns the signed license a record holds.
func parseRecord(r *LicenseRecord) (*license.License, error) {
	ls, err := license.Parse([]byte(r.Raw))
	if err != nil {
		return nil, fmt.Errorf("license %s is damaged in the store: %w", r.ID, err)
	}
	if len(ls) != 1 || ls[0].ID != r.ID {
		return nil, fmt.Errorf("license %s is damaged in the store: it holds another license", r.ID)
	}
	return ls[0], nil
}

// putLicense writes a license record and its index entry.
func putLicense(tx Tx, r *LicenseRecord) error {
	if err := putJSON(tx, TableLicenses, r.ID, r); err != nil {
		return err
	}
	return tx.Put(TableUDILicenses, r.UDI+"/"+r.ID, nil)
}

// newLicenseID returns an identifier no stored license has.
func (p *Portal) newLicenseID(tx Tx) (string, error) {
	for range 8 {
		id, err := p.newID()
		if err != nil {
			return "", err
		}
		if ok, err := found(func() error { _, err := tx.Get(TableLicenses, id); return err }()); err != nil {
			return "", err
		} else if !ok {
			return id, nil
		}
	}
	return "", errors.New("could not find an unused license identifier")
}

// issue signs l (ID and Issued are set here) and records it.
func (p *Portal) issue(tx Tx, now time.Time, l *license.License, rec LicenseRecord) (*LicenseRecord, error) {
	id, err := p.newLicenseID(tx)
	if err != nil {
		return nil, err
	}
	l.ID, l.Issued = id, now
	if err := p.signer.Sign(l); err != nil {
		return nil, err
	}
	rec.ID, rec.UDI, rec.Feature, rec.Type, rec.Count = l.ID, l.UDI, l.Feature, l.Type, l.Count
	rec.State, rec.Issued, rec.Raw = StateActive, now, string(license.Encode(l))
	if err := putLicense(tx, &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}

// fromSKU is the license one feature of a SKU brings to udi for qty units.
func fromSKU(s *SKU, feature, udi, pak string, qty int, now time.Time) (*license.License, error) {
	l := &license.License{Feature: feature, Version: s.Version, Type: s.Type, UDI: udi, PAK: pak, Addition: license.Exclusive}
	if l.Version == "" {
		l.Version = "1.0"
	}
	if s.Count > 0 {
		if qty > license.MaxCount/s.Count {
			return nil, errorf(protocol.CodeBadRequest, "%d units of SKU %s are %d %s units; a license holds at most %d", qty, s.Name, qty*s.Count, feature, license.MaxCount)
		}
		l.Count, l.Addition = s.Count*qty, license.Additive
	}
	switch {
	case s.Type.Metered():
		l.Period = time.Duration(s.Days) * day
	case s.Type == license.PaidSubscription:
		l.Start, l.End = now, now.AddDate(0, 0, s.Days)
	}
	return l, nil
}

// carry is a license with the same terms as old for another UDI.
func carry(old *license.License, udi string) *license.License {
	return &license.License{
		Feature: old.Feature, Version: old.Version, Type: old.Type, UDI: udi, Count: old.Count,
		Addition: old.Addition, Period: old.Period, Start: old.Start, End: old.End,
		Comment: old.Comment, PAK: old.PAK,
	}
}

// redeem takes units of a PAK for udi and issues the licenses.
func (p *Portal) redeem(tx Tx, now time.Time, actor, udi string, req protocol.RedeemRequest) (*protocol.RedeemResponse, error) {
	var pk PAK
	if ok, err := found(getJSON(tx, TablePAKs, req.PAK, &pk)); err != nil {
		return nil, err
	} else if !ok {
		return nil, errorf(protocol.CodeNotFound, "PAK %s is not known to this portal", req.PAK)
	}
	qty := max(req.Qty, 1)
	var chosen []int
	if len(req.SKUs) == 0 {
		for i, l := range pk.Lines {
			if l.Remaining > 0 {
				chosen = append(chosen, i)
			}
		}
		if len(chosen) == 0 {
			return nil, errorf(protocol.CodeExhausted, "PAK %s is fully redeemed: %s", pk.Code, pakUsage(&pk))
		}
	} else {
		for _, name := range req.SKUs {
			i := slices.IndexFunc(pk.Lines, func(l PAKLine) bool { return l.SKU == name })
			if i < 0 {
				return nil, errorf(protocol.CodeNotFound, "PAK %s holds no SKU %s (it holds %s)", pk.Code, name, pakSKUNames(&pk))
			}
			chosen = append(chosen, i)
		}
	}
	type plan struct {
		line int
		sku  *SKU
	}
	var plans []plan
	for _, i := range chosen {
		l := pk.Lines[i]
		s := new(SKU)
		if err := getJSON(tx, TableSKUs, l.SKU, s); err != nil {
			return nil, fmt.Errorf("SKU %s of PAK %s: %w", l.SKU, pk.Code, err)
		}
		if s.Count == 0 && qty > 1 {
			return nil, errorf(protocol.CodeBadRequest, "SKU %s licenses uncounted features (%s): one unit per device; redeem it on each device", s.Name, strings.Join(s.Features, ", "))
		}
		if l.Remaining < qty {
			if l.Remaining == 0 {
				return nil, errorf(protocol.CodeExhausted, "PAK %s: SKU %s is fully redeemed (%d of %d units used)", pk.Code, l.SKU, l.Qty, l.Qty)
			}
			return nil, errorf(protocol.CodeExhausted, "PAK %s: SKU %s has %d unit(s) left; the request asks for %d", pk.Code, l.SKU, l.Remaining, qty)
		}
		if s.Count == 0 {
			held, err := activeOf(tx, udi)
			if err != nil {
				return nil, err
			}
			for _, r := range held {
				if r.PAK == pk.Code && r.SKU == s.Name {
					return nil, errorf(protocol.CodeConflict, "UDI %s already holds SKU %s from PAK %s (license %s); each device takes one unit", udi, s.Name, pk.Code, r.ID)
				}
			}
		}
		plans = append(plans, plan{i, s})
	}
	resp := &protocol.RedeemResponse{PAK: pk.Code, UDI: udi}
	var issued []*license.License
	var lastRaw string
	red := Redemption{PAK: pk.Code, UDI: udi, Time: now, Actor: actor}
	for _, pl := range plans {
		for _, f := range pl.sku.Features {
			l, err := fromSKU(pl.sku, f, udi, pk.Code, qty, now)
			if err != nil {
				return nil, err
			}
			rec, err := p.issue(tx, now, l, LicenseRecord{Source: SourcePAK, PAK: pk.Code, SKU: pl.sku.Name})
			if err != nil {
				return nil, err
			}
			issued = append(issued, l)
			lastRaw = rec.Raw
			resp.LicenseIDs = append(resp.LicenseIDs, rec.ID)
		}
		pk.Lines[pl.line].Remaining -= qty
		line := pk.Lines[pl.line]
		resp.Redeemed = append(resp.Redeemed, skuInfo(pl.sku, PAKLine{SKU: line.SKU, Qty: qty, Remaining: line.Remaining}))
		red.SKUs = append(red.SKUs, RedeemedSKU{SKU: pl.sku.Name, Qty: qty})
	}
	red.LicenseIDs = resp.LicenseIDs
	pk.Redemptions++
	if err := putJSON(tx, TablePAKs, pk.Code, &pk); err != nil {
		return nil, err
	}
	seq, err := tx.NextSeq(TableRedemptions)
	if err != nil {
		return nil, err
	}
	if err := putJSON(tx, TableRedemptions, pk.Code+"/"+seqKey(seq), &red); err != nil {
		return nil, err
	}
	var parts []string
	for _, r := range red.SKUs {
		parts = append(parts, fmt.Sprintf("%s x%d", r.SKU, r.Qty))
	}
	detail := fmt.Sprintf("to %s: %s; licenses %s", udi, strings.Join(parts, ", "), strings.Join(resp.LicenseIDs, " "))
	if err := p.audit(tx, now, actor, "redeem", pk.Code, detail, udi); err != nil {
		return nil, err
	}
	if len(issued) == 1 {
		// A one-license file is exactly the record's text.
		resp.LicenseFiles = []string{lastRaw}
	} else {
		resp.LicenseFiles = []string{string(license.Encode(issued...))}
	}
	return resp, nil
}

func pakUsage(pk *PAK) string {
	var parts []string
	for _, l := range pk.Lines {
		parts = append(parts, fmt.Sprintf("%s %d of %d units used", l.SKU, l.Qty-l.Remaining, l.Qty))
	}
	return strings.Join(parts, ", ")
}

func pakSKUNames(pk *PAK) string {
	var names []string
	for _, l := range pk.Lines {
		names = append(names, l.SKU)
	}
	return strings.Join(names, ", ")
}

// skuInfo is a SKU and one PAK line as the wire carries them.
func skuInfo(s *SKU, l PAKLine) protocol.SKU {
	return protocol.SKU{Name: s.Name, Features: slices.Clone(s.Features), Type: string(s.Type), Count: s.Count, Days: s.Days, Qty: l.Qty, Remaining: l.Remaining}
}

// showPAK lists what a PAK holds.
func showPAK(tx Tx, code string) (*protocol.ShowPAKResponse, error) {
	var pk PAK
	if ok, err := found(getJSON(tx, TablePAKs, code, &pk)); err != nil {
		return nil, err
	} else if !ok {
		return nil, errorf(protocol.CodeNotFound, "PAK %s is not known to this portal", code)
	}
	out := &protocol.ShowPAKResponse{PAK: pk.Code}
	for _, l := range pk.Lines {
		s := new(SKU)
		if err := getJSON(tx, TableSKUs, l.SKU, s); err != nil {
			return nil, fmt.Errorf("SKU %s of PAK %s: %w", l.SKU, pk.Code, err)
		}
		out.SKUs = append(out.SKUs, skuInfo(s, l))
	}
	return out, nil
}

// maxFileBytes is the budget of one license file in an answer, below
// license.MaxFileSize with room for the notes Encode adds.
const maxFileBytes = license.MaxFileSize * 3 / 4

// licenseFiles parses the records and writes them as license files of at
// most maxFileBytes each.
func licenseFiles(recs []*LicenseRecord) (files, ids []string, err error) {
	var cur []*license.License
	size := 0
	flush := func() {
		if len(cur) > 0 {
			files = append(files, string(license.Encode(cur...)))
			cur, size = nil, 0
		}
	}
	for _, r := range recs {
		l, err := parseRecord(r)
		if err != nil {
			return nil, nil, err
		}
		if size+len(r.Raw) > maxFileBytes {
			flush()
		}
		cur = append(cur, l)
		size += len(r.Raw)
		ids = append(ids, l.ID)
	}
	flush()
	if len(files) > protocol.MaxLicenseFiles {
		return nil, nil, errorf(protocol.CodeConflict, "%d licenses do not fit in one answer (%d files; at most %d)", len(ids), len(files), protocol.MaxLicenseFiles)
	}
	return files, ids, nil
}

// resend gathers every active license of the UDIs.
func resend(tx Tx, udis []string) (*protocol.ResendResponse, error) {
	out := &protocol.ResendResponse{UDIs: udis}
	var all []*LicenseRecord
	for _, u := range udis {
		recs, err := activeOf(tx, u)
		if err != nil {
			return nil, err
		}
		all = append(all, recs...)
	}
	files, ids, err := licenseFiles(all)
	if err != nil {
		return nil, err
	}
	out.LicenseFiles, out.LicenseIDs = files, ids
	return out, nil
}

// movable reports whether a license may be named by a permission ticket:
// grace licenses stay with the device they were given to.
func movable(r *LicenseRecord) bool {
	return r.State == StateActive && r.Type != license.GracePeriod && r.Type != license.Evaluation
}

// openTicket reports the open, unexpired ticket a license is named by.
func openTicket(tx Tx, now time.Time, r *LicenseRecord) (*Ticket, error) {
	if r.Ticket == "" || r.Source == SourceGrace {
		return nil, nil
	}
	t := new(Ticket)
	if ok, err := found(getJSON(tx, TableTickets, r.Ticket, t)); err != nil || !ok {
		return nil, err
	}
	if t.State != TicketOpen || !now.Before(t.Expires) || !slices.Contains(t.Licenses, r.ID) {
		return nil, nil
	}
	return t, nil
}

// permissionArgs describe a permission ticket to issue.
type permissionArgs struct {
	UDI      string
	Target   string   // may be empty for an administrator's ticket
	Licenses []string // empty: every movable license
	Grace    time.Duration
	Validity time.Duration
}

// permission issues a permission ticket for licenses of a.UDI.
func (p *Portal) permission(tx Tx, now time.Time, actor string, a permissionArgs) (*Ticket, error) {
	d, ok, err := device(tx, a.UDI)
	if err != nil {
		return nil, err
	}
	switch {
	case !ok || d.PublicKey == nil:
		return nil, errorf(protocol.CodeConflict, "the portal does not know the device key of UDI %s, so it could not check the rehost ticket; give the device's credential (license save credential)", a.UDI)
	case d.RetiredTo != "":
		return nil, errorf(protocol.CodeForbidden, "UDI %s was replaced by %s in an RMA on %s", a.UDI, d.RetiredTo, dateTime(d.Retired))
	}
	if a.Target != "" {
		if err := p.checkTarget(tx, a.UDI, a.Target); err != nil {
			return nil, err
		}
	}
	held, err := activeOf(tx, a.UDI)
	if err != nil {
		return nil, err
	}
	var moving []*LicenseRecord
	if len(a.Licenses) == 0 {
		for _, r := range held {
			if movable(r) {
				moving = append(moving, r)
			}
		}
		if len(moving) == 0 {
			return nil, errorf(protocol.CodeConflict, "UDI %s holds no licenses the portal issued that can move", a.UDI)
		}
	} else {
		for _, id := range a.Licenses {
			i := slices.IndexFunc(held, func(r *LicenseRecord) bool { return r.ID == id })
			if i < 0 {
				return nil, errorf(protocol.CodeNotFound, "license %s is not an active license of UDI %s", id, a.UDI)
			}
			if !movable(held[i]) {
				return nil, errorf(protocol.CodeConflict, "license %s of UDI %s is a %s license, which stays with its device", id, a.UDI, held[i].Type)
			}
			moving = append(moving, held[i])
		}
	}
	if len(moving) > license.MaxTicketIDs {
		return nil, errorf(protocol.CodeConflict, "%d licenses are more than one ticket names (%d); name them in parts", len(moving), license.MaxTicketIDs)
	}
	for _, r := range moving {
		t, err := openTicket(tx, now, r)
		if err != nil {
			return nil, err
		}
		if t != nil {
			return nil, errorf(protocol.CodeConflict, "license %s is already named by open permission ticket %s (until %s); process that ticket on the device, or wait until it expires", r.ID, t.ID, dateTime(t.Expires))
		}
	}
	tid, err := p.newID()
	if err != nil {
		return nil, err
	}
	pt := &license.PermissionTicket{ID: tid, UDI: a.UDI, Issued: now, Expires: now.Add(a.Validity)}
	for _, r := range moving {
		pt.LicenseIDs = append(pt.LicenseIDs, r.ID)
	}
	if a.Grace > 0 {
		for _, r := range moving {
			old, err := parseRecord(r)
			if err != nil {
				return nil, err
			}
			gid, err := p.newLicenseID(tx)
			if err != nil {
				return nil, err
			}
			pt.Grace = append(pt.Grace, &license.License{
				ID: gid, Feature: old.Feature, Version: old.Version, Type: license.GracePeriod, UDI: a.UDI,
				Count: old.Count, Addition: old.Addition, Period: a.Grace, Issued: now, PAK: old.PAK,
				Comment: "grace period while licenses move under permission ticket " + tid,
			})
		}
	}
	if err := p.signer.SignTicket(pt); err != nil {
		return nil, err
	}
	t := &Ticket{ID: tid, UDI: a.UDI, Target: a.Target, Licenses: pt.LicenseIDs, Issued: now, Expires: pt.Expires, State: TicketOpen, Raw: string(pt.Encode())}
	for _, g := range pt.Grace {
		rec := &LicenseRecord{ID: g.ID, UDI: g.UDI, Feature: g.Feature, Type: g.Type, Count: g.Count, State: StateActive,
			Source: SourceGrace, PAK: g.PAK, Ticket: tid, Issued: now, Raw: string(license.Encode(g))}
		if err := putLicense(tx, rec); err != nil {
			return nil, err
		}
		t.Grace = append(t.Grace, g.ID)
	}
	for _, r := range moving {
		r.Ticket = tid
		if err := putLicense(tx, r); err != nil {
			return nil, err
		}
	}
	if err := putJSON(tx, TableTickets, tid, t); err != nil {
		return nil, err
	}
	detail := fmt.Sprintf("licenses %s off %s", strings.Join(t.Licenses, " "), a.UDI)
	udis := []string{a.UDI}
	if a.Target != "" {
		detail += " to " + a.Target
		udis = append(udis, a.Target)
	}
	if len(t.Grace) > 0 {
		detail += "; grace " + strings.Join(t.Grace, " ")
	}
	if err := p.audit(tx, now, actor, "permission-ticket", tid, detail, udis...); err != nil {
		return nil, err
	}
	return t, nil
}

// checkTarget refuses a target UDI that is malformed, the source itself,
// or retired.
func (p *Portal) checkTarget(tx Tx, source, target string) error {
	if err := license.ValidateUDI(target); err != nil {
		return errorf(protocol.CodeBadRequest, "target: %v", err)
	}
	if target == source {
		return errorf(protocol.CodeBadRequest, "the target UDI %s is the source UDI itself", target)
	}
	d, ok, err := device(tx, target)
	if err != nil {
		return err
	}
	if ok && d.RetiredTo != "" {
		return errorf(protocol.CodeConflict, "target UDI %s was replaced by %s in an RMA on %s", target, d.RetiredTo, dateTime(d.Retired))
	}
	return nil
}

// rehost accepts a device's rehost ticket and issues the licenses it gave
// up to the target UDI. signer is the key of the device handing the ticket
// in over call-home, nil for an administrator. It answers a ticket handed
// in again with the same result.
func (p *Portal) rehost(tx Tx, now time.Time, actor string, rt *license.RehostTicket, target string, signer []byte) (*Ticket, []*license.License, error) {
	d, ok, err := device(tx, rt.UDI)
	if err != nil {
		return nil, nil, err
	}
	if !ok || d.PublicKey == nil {
		return nil, nil, errorf(protocol.CodeForbidden, "rehost ticket %s is for UDI %s, whose device key the portal does not know", rt.ID, rt.UDI)
	}
	if !bytes.Equal(d.PublicKey, rt.PublicKey) {
		return nil, nil, errorf(protocol.CodeKeyMismatch, "rehost ticket %s is signed with device key %s, but UDI %s is bound to device key %s", rt.ID, license.KeyID(rt.PublicKey), rt.UDI, d.KeyID)
	}
	if signer != nil && !bytes.Equal(signer, rt.PublicKey) {
		return nil, nil, errorf(protocol.CodeForbidden, "rehost ticket %s is for UDI %s; a device may only hand in its own rehost tickets", rt.ID, rt.UDI)
	}
	t := new(Ticket)
	if ok, err := found(getJSON(tx, TableTickets, rt.PermissionTicketID, t)); err != nil {
		return nil, nil, err
	} else if !ok {
		return nil, nil, errorf(protocol.CodeNotFound, "permission ticket %s named by rehost ticket %s is not known to this portal", rt.PermissionTicketID, rt.ID)
	}
	if t.UDI != rt.UDI {
		return nil, nil, errorf(protocol.CodeForbidden, "permission ticket %s is for UDI %s, not %s", t.ID, t.UDI, rt.UDI)
	}
	switch t.State {
	case TicketUsed:
		if t.RehostTicket == rt.ID && (target == "" || target == t.MovedTo) {
			lics, err := ticketLicenses(tx, t)
			return t, lics, err
		}
		return nil, nil, errorf(protocol.CodeConflict, "permission ticket %s was already used on %s (rehost ticket %s, licenses moved to %s)", t.ID, dateTime(t.Used), t.RehostTicket, t.MovedTo)
	case TicketCancelled:
		return nil, nil, errorf(protocol.CodeConflict, "permission ticket %s was cancelled", t.ID)
	}
	if rt.Issued.After(t.Expires.Add(protocol.MaxSkew)) {
		return nil, nil, errorf(protocol.CodeConflict, "the device processed permission ticket %s on %s, after it expired on %s", t.ID, dateTime(rt.Issued), dateTime(t.Expires))
	}
	want, got := slices.Clone(t.Licenses), slices.Clone(rt.Revoked)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(want, got) {
		return nil, nil, errorf(protocol.CodeBadRequest, "rehost ticket %s revokes %s, but permission ticket %s names %s", rt.ID, strings.Join(got, " "), t.ID, strings.Join(want, " "))
	}
	switch {
	case t.Target != "" && target != "" && target != t.Target:
		return nil, nil, errorf(protocol.CodeBadRequest, "permission ticket %s moves licenses to %s, not %s", t.ID, t.Target, target)
	case target == "":
		target = t.Target
	}
	if target == "" {
		return nil, nil, errorf(protocol.CodeBadRequest, "permission ticket %s names no target: give the UDI the licenses move to", t.ID)
	}
	if err := p.checkTarget(tx, t.UDI, target); err != nil {
		return nil, nil, err
	}
	var issued []*license.License
	for _, id := range t.Licenses {
		r := new(LicenseRecord)
		if err := getJSON(tx, TableLicenses, id, r); err != nil {
			return nil, nil, fmt.Errorf("license %s of ticket %s: %w", id, t.ID, err)
		}
		if r.State != StateActive {
			return nil, nil, errorf(protocol.CodeConflict, "license %s named by permission ticket %s is %s", id, t.ID, r.State)
		}
		old, err := parseRecord(r)
		if err != nil {
			return nil, nil, err
		}
		l := carry(old, target)
		nr, err := p.issue(tx, now, l, LicenseRecord{Source: SourceRehost, PAK: r.PAK, SKU: r.SKU, From: r.ID, Ticket: t.ID})
		if err != nil {
			return nil, nil, err
		}
		r.State, r.ReplacedBy, r.Changed = StateRehosted, nr.ID, now
		if err := putLicense(tx, r); err != nil {
			return nil, nil, err
		}
		issued = append(issued, l)
		t.NewLicenses = append(t.NewLicenses, nr.ID)
	}
	if err := p.ensureDevice(tx, target); err != nil {
		return nil, nil, err
	}
	t.State, t.RehostTicket, t.Used, t.MovedTo = TicketUsed, rt.ID, now, target
	if err := putJSON(tx, TableTickets, t.ID, t); err != nil {
		return nil, nil, err
	}
	detail := fmt.Sprintf("rehost ticket %s: %s moved from %s to %s as %s", rt.ID, strings.Join(t.Licenses, " "), t.UDI, target, strings.Join(t.NewLicenses, " "))
	if err := p.audit(tx, now, actor, "rehost", t.ID, detail, t.UDI, target); err != nil {
		return nil, nil, err
	}
	return t, issued, nil
}

// ticketLicenses returns the licenses a used ticket issued.
func ticketLicenses(tx Tx, t *Ticket) ([]*license.License, error) {
	var out []*license.License
	for _, id := range t.NewLicenses {
		r := new(LicenseRecord)
		if err := getJSON(tx, TableLicenses, id, r); err != nil {
			return nil, err
		}
		l, err := parseRecord(r)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// ensureDevice records a UDI the portal has issued licenses to but never
// heard from.
func (p *Portal) ensureDevice(tx Tx, udi string) error {
	_, ok, err := device(tx, udi)
	if err != nil || ok {
		return err
	}
	return putJSON(tx, TableDevices, udi, &Device{UDI: udi})
}

package portal

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/licensed-dev/licensed/call-home/protocol"
	"github.com/licensed-dev/licensed/featureset"
	"github.com/licensed-dev/licensed/license"
)

// Admin is what licportal's administrative commands ask of a portal.
// *Portal implements it over its store; *AdminClient implements it over
// the admin socket of a running licportal serve. The actor recorded in
// the audit log comes from the context (WithActor) or, over the socket,
// from the peer's user ID.
type Admin interface {
	AddSKU(ctx context.Context, s SKU) error
	SKUs(ctx context.Context) ([]SKU, error)
	// SeedSKUs adds the SKUs of the built-in platforms that are missing
	// and returns their names.
	SeedSKUs(ctx context.Context) ([]string, error)
	CreatePAKs(ctx context.Context, r PAKRequest) ([]string, error)
	PAK(ctx context.Context, code string) (*PAKView, error)
	IssueExtension(ctx context.Context, r ExtensionRequest) (*IssueResult, error)
	Device(ctx context.Context, udi string) (*DeviceView, error)
	ResetDeviceKey(ctx context.Context, udi string) error
	PermissionTicket(ctx context.Context, r PermissionRequest) (*PermissionResult, error)
	Rehost(ctx context.Context, r RehostRequest) (*RehostResult, error)
	RMA(ctx context.Context, r RMARequest) (*RMAResult, error)
	Redeem(ctx context.Context, r OfflineRedeemRequest) (*protocol.RedeemResponse, error)
	Audit(ctx context.Context, limit int) ([]AuditEntry, error)
	Stats(ctx context.Context) (Stats, error)
}

var _ Admin = (*Portal)(nil)

// Bounds of administrative requests.
const (
	MaxPAKsPerRequest = 100_000
	maxSKUFeatures    = 16
	maxDescription    = 200
	maxTokenLen       = 64
)

// seedCountedUnits: one unit of a seeded counted SKU adds this many units
// of the feature, as the UC500's 8-phone upgrade does.
const seedCountedUnits = 8

// DefaultSKUs is one permanent SKU per licensable feature of the built-in
// platforms, named PLATFORM-FEATURE (c3750e-ipservices, uc500-phones).
func DefaultSKUs() []SKU {
	var out []SKU
	for _, pl := range featureset.Platforms() {
		cat, ok := featureset.Lookup(pl)
		if !ok {
			continue
		}
		for _, f := range cat.Features {
			if f.Base {
				continue
			}
			s := SKU{Name: pl + "-" + f.Name, Features: []string{f.Name}, Type: license.Permanent,
				Version: f.Version, Description: cat.Description + ": " + f.Description}
			if f.Counted {
				s.Count = seedCountedUnits
				s.Description = fmt.Sprintf("%s: %d more units of %s (%s)", cat.Description, seedCountedUnits, f.Name, f.WhatIsCounted)
			}
			out = append(out, s)
		}
	}
	return out
}

// validToken: 1..max of letters, digits, '.', '_', '-', starting with a
// letter or digit.
func validToken(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return true
}

// ValidFeature reports whether s can be a feature name: a lowercase token.
func ValidFeature(s string) bool {
	return validToken(s, 128) && strings.ToLower(s) == s
}

// Validate checks a SKU; the error names the field at fault.
func (s *SKU) Validate() error {
	bad := func(format string, args ...any) error {
		return errorf(protocol.CodeBadRequest, "SKU %q: %s", s.Name, fmt.Sprintf(format, args...))
	}
	if !validToken(s.Name, maxTokenLen) {
		return errorf(protocol.CodeBadRequest, "SKU name %q: want 1 to %d letters, digits, '.', '_' or '-', starting with a letter or digit", s.Name, maxTokenLen)
	}
	if len(s.Features) == 0 || len(s.Features) > maxSKUFeatures {
		return bad("%d features; want 1 to %d", len(s.Features), maxSKUFeatures)
	}
	for i, f := range s.Features {
		if !ValidFeature(f) {
			return bad("feature %q: want a lowercase token such as ipservices", f)
		}
		if slices.Contains(s.Features[:i], f) {
			return bad("feature %s is listed twice", f)
		}
	}
	switch {
	case !s.Type.Valid():
		return bad("unknown type %q", s.Type)
	case s.Type == license.Evaluation:
		return bad("evaluation licenses are built into the device, not sold")
	case s.Type == license.GracePeriod:
		return bad("grace period licenses come only with permission tickets")
	}
	if s.Count < 0 || s.Count > license.MaxCount {
		return bad("count %d: want 0 to %d", s.Count, license.MaxCount)
	}
	maxDays := int(license.MaxPeriod / day)
	switch {
	case s.Days < 0 || s.Days > maxDays:
		return bad("days %d: want 0 to %d", s.Days, maxDays)
	case (s.Type.Metered() || s.Type == license.PaidSubscription) && s.Days == 0:
		return bad("type %s needs days (usage days, or calendar days of a subscription)", s.Type)
	case !s.Type.Metered() && s.Type != license.PaidSubscription && s.Days != 0:
		return bad("days apply only to metered types and paidSubscription, not %s", s.Type)
	}
	if s.Version != "" && !validToken(s.Version, 128) {
		return bad("version %q: want a token such as 1.0", s.Version)
	}
	if len(s.Description) > maxDescription || !utf8.ValidString(s.Description) || strings.ContainsAny(s.Description, "\r\n") {
		return bad("description: one line of at most %d bytes", maxDescription)
	}
	// The license format has the last word.
	for _, f := range s.Features {
		l, err := fromSKU(s, f, "PID:SN", "", 1, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			return err
		}
		l.ID, l.Issued = "x", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := l.Validate(); err != nil {
			return bad("%v", err)
		}
	}
	return nil
}

// AddSKU adds a SKU to the catalog. SKUs cannot change once added, as
// PAKs refer to them.
func (p *Portal) AddSKU(ctx context.Context, s SKU) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return p.store.Update(ctx, func(tx Tx) error {
		return p.addSKU(tx, ActorFrom(ctx), &s)
	})
}

func (p *Portal) addSKU(tx Tx, actor string, s *SKU) error {
	if ok, err := found(func() error { _, err := tx.Get(TableSKUs, s.Name); return err }()); err != nil {
		return err
	} else if ok {
		return errorf(protocol.CodeConflict, "SKU %s already exists (SKUs cannot change once added)", s.Name)
	}
	if err := putJSON(tx, TableSKUs, s.Name, s); err != nil {
		return err
	}
	detail := fmt.Sprintf("features %s, type %s", strings.Join(s.Features, ","), s.Type)
	if s.Count > 0 {
		detail += fmt.Sprintf(", count %d", s.Count)
	}
	if s.Days > 0 {
		detail += fmt.Sprintf(", days %d", s.Days)
	}
	return p.audit(tx, p.now(), actor, "sku-add", s.Name, detail)
}

// SKUs lists the catalog by name.
func (p *Portal) SKUs(ctx context.Context) ([]SKU, error) {
	var out []SKU
	err := p.store.View(ctx, func(tx Tx) error {
		out = nil
		return tx.Scan(TableSKUs, "", func(k string, v []byte) error {
			var s SKU
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("portal store: %s/%s is damaged: %w", TableSKUs, k, err)
			}
			out = append(out, s)
			return nil
		})
	})
	return out, err
}

// SeedSKUs adds the missing DefaultSKUs.
func (p *Portal) SeedSKUs(ctx context.Context) ([]string, error) {
	var added []string
	err := p.store.Update(ctx, func(tx Tx) error {
		added = nil
		for _, s := range DefaultSKUs() {
			if ok, err := found(func() error { _, err := tx.Get(TableSKUs, s.Name); return err }()); err != nil {
				return err
			} else if ok {
				continue
			}
			if err := p.addSKU(tx, ActorFrom(ctx), &s); err != nil {
				return err
			}
			added = append(added, s.Name)
		}
		return nil
	})
	return added, err
}

// PAKRequest describes PAKs to create: Count PAKs (default 1), each with
// the same lines.
type PAKRequest struct {
	Lines []PAKLineRequest `json:"lines"`
	Count int              `json:"count,omitempty"`
	Order string           `json:"order,omitempty"`
}

// PAKLineRequest is a SKU and the units of it bought (default 1).
type PAKLineRequest struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty,omitempty"`
}

// CreatePAKs makes new PAKs and returns their codes.
func (p *Portal) CreatePAKs(ctx context.Context, r PAKRequest) ([]string, error) {
	n := max(r.Count, 1)
	switch {
	case r.Count < 0 || r.Count > MaxPAKsPerRequest:
		return nil, errorf(protocol.CodeBadRequest, "count %d: want 1 to %d PAKs", r.Count, MaxPAKsPerRequest)
	case len(r.Lines) == 0:
		return nil, errorf(protocol.CodeBadRequest, "a PAK needs at least one SKU")
	case len(r.Lines) > protocol.MaxSKUsPerRequest:
		return nil, errorf(protocol.CodeBadRequest, "%d SKUs; a PAK holds at most %d", len(r.Lines), protocol.MaxSKUsPerRequest)
	case len(r.Order) > maxDescription || !utf8.ValidString(r.Order) || strings.ContainsAny(r.Order, "\r\n"):
		return nil, errorf(protocol.CodeBadRequest, "order: one line of at most %d bytes", maxDescription)
	}
	lines := make([]PAKLine, len(r.Lines))
	for i, l := range r.Lines {
		qty := max(l.Qty, 1)
		if l.Qty < 0 || l.Qty > protocol.MaxQty {
			return nil, errorf(protocol.CodeBadRequest, "SKU %s: quantity %d; want 1 to %d", l.SKU, l.Qty, protocol.MaxQty)
		}
		if slices.ContainsFunc(r.Lines[:i], func(o PAKLineRequest) bool { return o.SKU == l.SKU }) {
			return nil, errorf(protocol.CodeBadRequest, "SKU %s is listed twice; give its total quantity once", l.SKU)
		}
		lines[i] = PAKLine{SKU: l.SKU, Qty: qty, Remaining: qty}
	}
	var codes []string
	err := p.store.Update(ctx, func(tx Tx) error {
		codes = codes[:0]
		now := p.now()
		for _, l := range lines {
			if ok, err := found(func() error { _, err := tx.Get(TableSKUs, l.SKU); return err }()); err != nil {
				return err
			} else if !ok {
				return errorf(protocol.CodeNotFound, "SKU %s is not in the catalog (licportal sku list)", l.SKU)
			}
		}
		var parts []string
		for _, l := range lines {
			parts = append(parts, fmt.Sprintf("%s x%d", l.SKU, l.Qty))
		}
		detail := strings.Join(parts, ", ")
		if r.Order != "" {
			detail += "; order " + r.Order
		}
		for len(codes) < n {
			code, err := protocol.NewPAK(p.cfg.Rand)
			if err != nil {
				return err
			}
			if ok, err := found(func() error { _, err := tx.Get(TablePAKs, code); return err }()); err != nil {
				return err
			} else if ok {
				continue
			}
			pk := PAK{Code: code, Lines: slices.Clone(lines), Order: r.Order, Created: now}
			if err := putJSON(tx, TablePAKs, code, &pk); err != nil {
				return err
			}
			if err := p.audit(tx, now, ActorFrom(ctx), "pak-create", code, detail); err != nil {
				return err
			}
			codes = append(codes, code)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// PAKView is a PAK with its SKUs and redemptions.
type PAKView struct {
	PAK         PAK            `json:"pak"`
	SKUs        []protocol.SKU `json:"skus"`
	Redemptions []Redemption   `json:"redemptions"`
}

// PAK shows a PAK.
func (p *Portal) PAK(ctx context.Context, code string) (*PAKView, error) {
	code, err := protocol.NormalizePAK(code)
	if err != nil {
		return nil, errorf(protocol.CodeBadRequest, "%v", err)
	}
	var v *PAKView
	err = p.store.View(ctx, func(tx Tx) error {
		v = &PAKView{}
		if err := getJSON(tx, TablePAKs, code, &v.PAK); err != nil {
			if ok, ferr := found(err); ferr == nil && !ok {
				return errorf(protocol.CodeNotFound, "PAK %s is not known to this portal", code)
			}
			return err
		}
		sp, err := showPAK(tx, code)
		if err != nil {
			return err
		}
		v.SKUs = sp.SKUs
		return tx.Scan(TableRedemptions, code+"/", func(k string, _ []byte) error {
			var r Redemption
			if err := getJSON(tx, TableRedemptions, k, &r); err != nil {
				return err
			}
			v.Redemptions = append(v.Redemptions, r)
			return nil
		})
	})
	return v, err
}

// ExtensionRequest asks for an extension license: a longer trial of one
// feature for one UDI.
type ExtensionRequest struct {
	UDI     string `json:"udi"`
	Feature string `json:"feature"`
	Version string `json:"version,omitempty"` // default 1.0
	Days    int    `json:"days,omitempty"`    // usage days; default Config.ExtensionDays
	Count   int    `json:"count,omitempty"`   // units of a counted feature
	Comment string `json:"comment,omitempty"`
}

// IssueResult is licenses issued to a device by an administrator.
type IssueResult struct {
	LicenseIDs  []string `json:"licenseIds"`
	LicenseFile string   `json:"licenseFile"`
}

// IssueExtension issues and records an extension license; the device gets
// it from the file or by call-home resend.
func (p *Portal) IssueExtension(ctx context.Context, r ExtensionRequest) (*IssueResult, error) {
	if err := license.ValidateUDI(r.UDI); err != nil {
		return nil, errorf(protocol.CodeBadRequest, "udi: %v", err)
	}
	if !ValidFeature(r.Feature) {
		return nil, errorf(protocol.CodeBadRequest, "feature %q: want a lowercase token such as ipservices", r.Feature)
	}
	days := r.Days
	if days == 0 {
		days = p.cfg.ExtensionDays
	}
	l := &license.License{Feature: r.Feature, Version: r.Version, Type: license.Extension, UDI: r.UDI,
		Count: r.Count, Addition: license.Exclusive, Period: time.Duration(days) * day, Comment: r.Comment}
	if l.Version == "" {
		l.Version = "1.0"
	}
	if r.Count > 0 {
		l.Addition = license.Additive
	}
	if maxDays := int(license.MaxPeriod / day); days < 0 || days > maxDays {
		return nil, errorf(protocol.CodeBadRequest, "days %d: want 1 to %d", days, maxDays)
	}
	probe := *l
	probe.ID, probe.Issued = "x", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := probe.Validate(); err != nil {
		return nil, errorf(protocol.CodeBadRequest, "%v", err)
	}
	var res *IssueResult
	err := p.store.Update(ctx, func(tx Tx) error {
		now := p.now()
		d, ok, err := device(tx, r.UDI)
		if err != nil {
			return err
		}
		if ok && d.RetiredTo != "" {
			return errorf(protocol.CodeConflict, "UDI %s was replaced by %s in an RMA on %s", r.UDI, d.RetiredTo, dateTime(d.Retired))
		}
		lc := *l
		rec, err := p.issue(tx, now, &lc, LicenseRecord{Source: SourceExtension})
		if err != nil {
			return err
		}
		if err := p.ensureDevice(tx, r.UDI); err != nil {
			return err
		}
		detail := fmt.Sprintf("%s %s, %d days of use, license %s", lc.Feature, lc.Type, days, rec.ID)
		if err := p.audit(tx, now, ActorFrom(ctx), "extension-issue", r.UDI, detail, r.UDI); err != nil {
			return err
		}
		res = &IssueResult{LicenseIDs: []string{rec.ID}, LicenseFile: rec.Raw}
		return nil
	})
	return res, err
}

// DeviceView is what the portal holds for a UDI and what happened to it.
type DeviceView struct {
	Device   Device          `json:"device"`
	Licenses []LicenseRecord `json:"licenses"`
	Tickets  []Ticket        `json:"tickets"`
	History  []AuditEntry    `json:"history"`
}

// Device shows a UDI: key binding, licenses in every state, permission
// tickets and history.
func (p *Portal) Device(ctx context.Context, udi string) (*DeviceView, error) {
	if err := license.ValidateUDI(udi); err != nil {
		return nil, errorf(protocol.CodeBadRequest, "udi: %v", err)
	}
	var v *DeviceView
	err := p.store.View(ctx, func(tx Tx) error {
		d, ok, err := device(tx, udi)
		if err != nil {
			return err
		}
		v = &DeviceView{Device: d}
		recs, err := licensesOf(tx, udi)
		if err != nil {
			return err
		}
		if !ok && len(recs) == 0 {
			return errorf(protocol.CodeNotFound, "the portal knows nothing of UDI %s", udi)
		}
		// Oldest first, for people; the index keeps them by ID.
		slices.SortStableFunc(recs, func(a, b *LicenseRecord) int {
			if c := a.Issued.Compare(b.Issued); c != 0 {
				return c
			}
			return strings.Compare(a.Feature+"/"+string(a.Type), b.Feature+"/"+string(b.Type))
		})
		seen := map[string]bool{}
		for _, r := range recs {
			rc := *r
			rc.Raw = ""
			v.Licenses = append(v.Licenses, rc)
			if r.Ticket != "" && !seen[r.Ticket] {
				seen[r.Ticket] = true
				var t Ticket
				if ok, err := found(getJSON(tx, TableTickets, r.Ticket, &t)); err != nil {
					return err
				} else if ok && t.UDI == udi {
					t.Raw = ""
					v.Tickets = append(v.Tickets, t)
				}
			}
		}
		return tx.Scan(TableDeviceLog, udi+"/", func(k string, _ []byte) error {
			var e AuditEntry
			if err := getJSON(tx, TableAudit, k[len(udi)+1:], &e); err != nil {
				return err
			}
			v.History = append(v.History, e)
			return nil
		})
	})
	return v, err
}

// ResetDeviceKey forgets the device key bound to a UDI, so that the next
// call-home binds the key it is signed with: for a device that lost its
// key.
func (p *Portal) ResetDeviceKey(ctx context.Context, udi string) error {
	if err := license.ValidateUDI(udi); err != nil {
		return errorf(protocol.CodeBadRequest, "udi: %v", err)
	}
	return p.store.Update(ctx, func(tx Tx) error {
		d, ok, err := device(tx, udi)
		if err != nil {
			return err
		}
		if !ok || d.PublicKey == nil {
			return errorf(protocol.CodeNotFound, "no device key is bound to UDI %s", udi)
		}
		old := d.KeyID
		d.PublicKey, d.KeyID = nil, ""
		if err := putJSON(tx, TableDevices, udi, &d); err != nil {
			return err
		}
		return p.audit(tx, p.now(), ActorFrom(ctx), "device-key-reset", udi, "forgot device key "+old, udi)
	})
}

// PermissionRequest asks for a permission ticket for licenses of a UDI.
type PermissionRequest struct {
	UDI      string   `json:"udi"`
	Target   string   `json:"target,omitempty"`
	Licenses []string `json:"licenses,omitempty"` // default: every license that can move
	// GraceDays is the usage time of the grace licenses (0: the portal's
	// default; negative: none). ValidDays is how long the ticket may be
	// used (0: the portal's default).
	GraceDays int `json:"graceDays,omitempty"`
	ValidDays int `json:"validDays,omitempty"`
	// Credential is the device's credential, needed when the portal has
	// not learned its key by call-home.
	Credential []byte `json:"credential,omitempty"`
}

// PermissionResult is the ticket issued.
type PermissionResult struct {
	Ticket Ticket `json:"ticket"`
	File   string `json:"file"` // the permission ticket document for the device
}

// PermissionTicket issues a permission ticket (the start of a rehost).
func (p *Portal) PermissionTicket(ctx context.Context, r PermissionRequest) (*PermissionResult, error) {
	if err := license.ValidateUDI(r.UDI); err != nil {
		return nil, errorf(protocol.CodeBadRequest, "udi: %v", err)
	}
	a := permissionArgs{UDI: r.UDI, Target: r.Target, Licenses: r.Licenses, Grace: p.cfg.GracePeriod, Validity: p.cfg.TicketValidity}
	switch {
	case r.GraceDays < 0:
		a.Grace = 0
	case r.GraceDays > 0:
		a.Grace = time.Duration(r.GraceDays) * day
	}
	if r.ValidDays < 0 || r.ValidDays > 366 {
		return nil, errorf(protocol.CodeBadRequest, "valid days %d: want 1 to 366", r.ValidDays)
	} else if r.ValidDays > 0 {
		a.Validity = time.Duration(r.ValidDays) * day
	}
	if a.Grace > license.MaxPeriod {
		return nil, errorf(protocol.CodeBadRequest, "grace days %d are too many", r.GraceDays)
	}
	var cred *license.Credential
	if len(r.Credential) > 0 {
		c, err := license.ParseCredential(r.Credential)
		if err != nil {
			return nil, errorf(protocol.CodeBadRequest, "credential: %v", err)
		}
		if !slices.Contains(c.UDIs, r.UDI) {
			return nil, errorf(protocol.CodeBadRequest, "the credential is for %s, not %s", strings.Join(c.UDIs, ", "), r.UDI)
		}
		cred = c
	}
	var res *PermissionResult
	err := p.store.Update(ctx, func(tx Tx) error {
		now := p.now()
		if cred != nil {
			if err := p.bindCredential(tx, now, cred, r.UDI, true); err != nil {
				return err
			}
		}
		t, err := p.permission(tx, now, ActorFrom(ctx), a)
		if err != nil {
			return err
		}
		res = &PermissionResult{Ticket: *t, File: t.Raw}
		res.Ticket.Raw = ""
		return nil
	})
	return res, err
}

// RehostRequest hands in a rehost ticket (the offline path).
type RehostRequest struct {
	RehostTicket []byte `json:"rehostTicket"`
	Target       string `json:"target,omitempty"` // default: the permission ticket's target
}

// RehostResult says what moved, with the target's license file.
type RehostResult struct {
	Ticket      Ticket `json:"ticket"`
	LicenseFile string `json:"licenseFile"`
}

// Rehost completes a rehost from a rehost ticket brought by hand.
func (p *Portal) Rehost(ctx context.Context, r RehostRequest) (*RehostResult, error) {
	rt, err := license.ParseRehostTicket(r.RehostTicket)
	if err != nil {
		return nil, errorf(protocol.CodeBadRequest, "rehost ticket: %v", err)
	}
	var res *RehostResult
	err = p.store.Update(ctx, func(tx Tx) error {
		t, lics, err := p.rehost(tx, p.now(), ActorFrom(ctx), rt, r.Target, nil)
		if err != nil {
			return err
		}
		res = &RehostResult{Ticket: *t, LicenseFile: string(license.Encode(lics...))}
		res.Ticket.Raw = ""
		return nil
	})
	return res, err
}

// RMARequest moves the licenses of a dead device to its replacement.
// Force allows a replacement with another product ID.
type RMARequest struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Force bool   `json:"force,omitempty"`
}

// RMAResult says what moved.
type RMAResult struct {
	From        string   `json:"from"`
	To          string   `json:"to"`
	Moved       []string `json:"moved"`   // license IDs of the dead device
	Issued      []string `json:"issued"`  // their replacements, in the same order
	Revoked     []string `json:"revoked"` // grace licenses withdrawn
	Cancelled   []string `json:"cancelled,omitempty"`
	LicenseFile string   `json:"licenseFile"`
}

// RMA revokes the licenses of a dead device, issues them to its
// replacement and retires the dead UDI, which may no longer call home. The
// replacement gets them by call-home resend or from the file.
func (p *Portal) RMA(ctx context.Context, r RMARequest) (*RMAResult, error) {
	for _, u := range []struct{ name, v string }{{"from", r.From}, {"to", r.To}} {
		if err := license.ValidateUDI(u.v); err != nil {
			return nil, errorf(protocol.CodeBadRequest, "%s: %v", u.name, err)
		}
	}
	if r.From == r.To {
		return nil, errorf(protocol.CodeBadRequest, "the replacement UDI %s is the dead device itself", r.To)
	}
	fromPID, _, _ := strings.Cut(r.From, ":")
	toPID, _, _ := strings.Cut(r.To, ":")
	if fromPID != toPID && !r.Force {
		return nil, errorf(protocol.CodeBadRequest, "the replacement's product ID %s differs from the dead device's %s; licenses may not fit it (force to move them anyway)", toPID, fromPID)
	}
	var res *RMAResult
	err := p.store.Update(ctx, func(tx Tx) error {
		now := p.now()
		res = &RMAResult{From: r.From, To: r.To}
		d, ok, err := device(tx, r.From)
		if err != nil {
			return err
		}
		if ok && d.RetiredTo != "" {
			return errorf(protocol.CodeConflict, "UDI %s was already replaced by %s in an RMA on %s", r.From, d.RetiredTo, dateTime(d.Retired))
		}
		if err := p.checkTarget(tx, r.From, r.To); err != nil {
			return err
		}
		recs, err := activeOf(tx, r.From)
		if err != nil {
			return err
		}
		var issued []*license.License
		tickets := map[string]bool{}
		for _, rec := range recs {
			if rec.Ticket != "" {
				tickets[rec.Ticket] = true
			}
			if !movable(rec) {
				rec.State, rec.Changed = StateRevoked, now
				if err := putLicense(tx, rec); err != nil {
					return err
				}
				res.Revoked = append(res.Revoked, rec.ID)
				continue
			}
			old, err := parseRecord(rec)
			if err != nil {
				return err
			}
			l := carry(old, r.To)
			nr, err := p.issue(tx, now, l, LicenseRecord{Source: SourceRMA, PAK: rec.PAK, SKU: rec.SKU, From: rec.ID})
			if err != nil {
				return err
			}
			rec.State, rec.ReplacedBy, rec.Changed = StateReplaced, nr.ID, now
			if err := putLicense(tx, rec); err != nil {
				return err
			}
			issued = append(issued, l)
			res.Moved = append(res.Moved, rec.ID)
			res.Issued = append(res.Issued, nr.ID)
		}
		if len(res.Moved) == 0 {
			return errorf(protocol.CodeNotFound, "the portal holds no licenses of UDI %s to move", r.From)
		}
		for id := range tickets {
			var t Ticket
			if ok, err := found(getJSON(tx, TableTickets, id, &t)); err != nil {
				return err
			} else if ok && t.State == TicketOpen && t.UDI == r.From {
				t.State = TicketCancelled
				if err := putJSON(tx, TableTickets, id, &t); err != nil {
					return err
				}
				res.Cancelled = append(res.Cancelled, id)
			}
		}
		slices.Sort(res.Cancelled)
		if !ok {
			d = Device{UDI: r.From}
		}
		d.RetiredTo, d.Retired = r.To, now
		if err := putJSON(tx, TableDevices, r.From, &d); err != nil {
			return err
		}
		if err := p.ensureDevice(tx, r.To); err != nil {
			return err
		}
		detail := fmt.Sprintf("%s replaced by %s: licenses %s reissued as %s", r.From, r.To, strings.Join(res.Moved, " "), strings.Join(res.Issued, " "))
		if len(res.Revoked) > 0 {
			detail += "; revoked " + strings.Join(res.Revoked, " ")
		}
		if err := p.audit(tx, now, ActorFrom(ctx), "rma", r.From, detail, r.From, r.To); err != nil {
			return err
		}
		res.LicenseFile = string(license.Encode(issued...))
		return nil
	})
	return res, err
}

// OfflineRedeemRequest redeems a PAK for a device that cannot call home,
// from its credential file (license save credential).
type OfflineRedeemRequest struct {
	Credential []byte   `json:"credential"`
	UDI        string   `json:"udi,omitempty"` // default: the credential's first (active) UDI
	PAK        string   `json:"pak"`
	SKUs       []string `json:"skus,omitempty"`
	Qty        int      `json:"qty,omitempty"`
}

// Redeem redeems a PAK onto the UDI of a device credential and returns
// the license file. The credential binds the device key as a first
// call-home would.
func (p *Portal) Redeem(ctx context.Context, r OfflineRedeemRequest) (*protocol.RedeemResponse, error) {
	cred, err := license.ParseCredential(r.Credential)
	if err != nil {
		return nil, errorf(protocol.CodeBadRequest, "credential: %v", err)
	}
	udi := r.UDI
	if udi == "" {
		udi = cred.UDIs[0]
	} else if !slices.Contains(cred.UDIs, udi) {
		return nil, errorf(protocol.CodeBadRequest, "UDI %s is not in the credential (it has %s)", udi, strings.Join(cred.UDIs, ", "))
	}
	req, err := checkRedeem(protocol.RedeemRequest{PAK: r.PAK, SKUs: r.SKUs, Qty: r.Qty})
	if err != nil {
		return nil, err
	}
	var res *protocol.RedeemResponse
	err = p.store.Update(ctx, func(tx Tx) error {
		now := p.now()
		if err := p.bindCredential(tx, now, cred, udi, true); err != nil {
			return err
		}
		var err error
		res, err = p.redeem(tx, now, ActorFrom(ctx), udi, req)
		return err
	})
	return res, err
}

// checkRedeem validates and normalises a redemption request.
func checkRedeem(r protocol.RedeemRequest) (protocol.RedeemRequest, error) {
	pak, err := protocol.NormalizePAK(r.PAK)
	if err != nil {
		return r, errorf(protocol.CodeBadRequest, "%v", err)
	}
	r.PAK = pak
	if r.Qty < 0 || r.Qty > protocol.MaxQty {
		return r, errorf(protocol.CodeBadRequest, "quantity %d: want 1 to %d", r.Qty, protocol.MaxQty)
	}
	if len(r.SKUs) > protocol.MaxSKUsPerRequest {
		return r, errorf(protocol.CodeBadRequest, "%d SKUs; at most %d", len(r.SKUs), protocol.MaxSKUsPerRequest)
	}
	for i, s := range r.SKUs {
		if !validToken(s, maxTokenLen) {
			return r, errorf(protocol.CodeBadRequest, "SKU name %q is not valid", s)
		}
		if slices.Contains(r.SKUs[:i], s) {
			return r, errorf(protocol.CodeBadRequest, "SKU %s is named twice", s)
		}
	}
	return r, nil
}

// Audit returns the newest limit entries (0: all), oldest first.
func (p *Portal) Audit(ctx context.Context, limit int) ([]AuditEntry, error) {
	if limit < 0 {
		return nil, errorf(protocol.CodeBadRequest, "limit %d is negative", limit)
	}
	var out []AuditEntry
	err := p.store.View(ctx, func(tx Tx) error {
		out = nil
		return tx.Scan(TableAudit, "", func(k string, v []byte) error {
			var e AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("portal store: %s/%s is damaged: %w", TableAudit, k, err)
			}
			out = append(out, e)
			if limit > 0 && len(out) > 2*limit {
				out = append(out[:0], out[len(out)-limit:]...)
			}
			return nil
		})
	})
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out, err
}

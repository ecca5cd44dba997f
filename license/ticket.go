package license

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"time"
)

// PermissionTicket is issued by the portal: it allows a device to move the
// named licenses off its UDI. It may carry grace licenses (type
// gracePeriod, locked to the same UDI) that keep the features running on
// the device until the move is done; they are signed as licenses and bound
// to the ticket by its signature.
type PermissionTicket struct {
	ID         string
	UDI        string   // the device the licenses move off
	LicenseIDs []string // licenses to revoke
	Grace      []*License
	Issued     time.Time
	Expires    time.Time // the device refuses the ticket from then on
	KeyID      string    // portal key that signed it
	Signature  []byte
}

var permissionSchema = newSchema("permission ticket", []fieldSpec{
	{key: "id", required: true},
	{key: "udi", required: true},
	{key: "license", required: true, repeated: true},
	{key: "issued", required: true},
	{key: "expires", required: true},
	{key: "key-id", required: true},
	{key: "signature", required: true},
})

// RehostTicket is the device's proof that it revoked what a permission
// ticket named, signed with the device key. The portal checks that
// PublicKey is the key it knows for the UDI (from the device's credential).
type RehostTicket struct {
	ID                 string
	PermissionTicketID string
	UDI                string
	Revoked            []string // license IDs the device removed
	Issued             time.Time
	PublicKey          ed25519.PublicKey // the device key
	Signature          []byte
}

var rehostSchema = newSchema("rehost ticket", []fieldSpec{
	{key: "id", required: true},
	{key: "permission-ticket", required: true},
	{key: "udi", required: true},
	{key: "revoked", required: true, repeated: true},
	{key: "issued", required: true},
	{key: "public-key", required: true},
	{key: "signature", required: true},
})

// Expired reports whether the ticket may no longer be used at now.
func (p *PermissionTicket) Expired(now time.Time) bool { return !now.Before(p.Expires) }

// validate checks the ticket's own fields.
func (p *PermissionTicket) validate() *FieldError {
	switch {
	case p.ID == "":
		return fieldErrorf("id", "required")
	case !validToken(p.ID, maxTokenLen):
		return fieldErrorf("id", "%q: want 1 to %d letters, digits, '.', '_' or '-', starting with a letter or digit", truncate(p.ID), maxTokenLen)
	case p.UDI == "":
		return fieldErrorf("udi", "required")
	}
	if err := ValidateUDI(p.UDI); err != nil {
		return fieldErrorf("udi", "%v", err)
	}
	if fe := checkIDList("license", p.LicenseIDs, MaxTicketIDs); fe != nil {
		return fe
	}
	if fe := checkTime("issued", p.Issued, true); fe != nil {
		return fe
	}
	if fe := checkTime("expires", p.Expires, true); fe != nil {
		return fe
	}
	if !p.Issued.Before(p.Expires) {
		return fieldErrorf("expires", "%s is not after issued %s", formatTime(p.Expires), formatTime(p.Issued))
	}
	if p.KeyID != "" && !validKeyID(p.KeyID) {
		return fieldErrorf("key-id", "%q: want %d lowercase hex digits", truncate(p.KeyID), 2*keyIDSize)
	}
	if len(p.Signature) != 0 && len(p.Signature) != signatureSize {
		return fieldErrorf("signature", "%d bytes; want %d", len(p.Signature), signatureSize)
	}
	return nil
}

// checkGrace checks grace license i against the ticket: a valid
// gracePeriod license for the ticket's UDI, not one of the licenses it
// moves, and not listed twice.
func (p *PermissionTicket) checkGrace(i int) *FieldError {
	g := p.Grace[i]
	if g == nil {
		return fieldErrorf("grace", "grace license %d is nil", i+1)
	}
	if fe := g.validate(); fe != nil {
		return fe
	}
	switch {
	case g.Type != GracePeriod:
		return fieldErrorf("type", "grace license %s has type %s; want %s", g.ID, g.Type, GracePeriod)
	case g.UDI != p.UDI:
		return fieldErrorf("udi", "grace license %s is for %s, not the ticket's UDI %s", g.ID, g.UDI, p.UDI)
	case slices.Contains(p.LicenseIDs, g.ID):
		return fieldErrorf("id", "grace license %s is also a license the ticket revokes", g.ID)
	}
	for _, o := range p.Grace[:i] {
		if o != nil && o.ID == g.ID {
			return fieldErrorf("id", "grace license %s appears twice", g.ID)
		}
	}
	return nil
}

// Canonical returns the bytes the ticket's signature covers: its fields but
// the signature, then each grace license's block (signature included), each
// after a blank line, as Encode writes them.
func (p *PermissionTicket) Canonical() []byte {
	b := make([]byte, 0, 256+400*len(p.Grace))
	b = appendField(b, "id", p.ID)
	b = appendField(b, "udi", p.UDI)
	for _, id := range p.LicenseIDs {
		b = appendField(b, "license", id)
	}
	b = appendField(b, "issued", formatTime(p.Issued))
	b = appendField(b, "expires", formatTime(p.Expires))
	b = appendField(b, "key-id", p.KeyID)
	for _, g := range p.Grace {
		if g != nil {
			b = append(b, '\n')
			b = g.appendBlock(b)
		}
	}
	return b
}

// SignTicket signs every grace license of p and then p itself, after
// bringing its times to UTC whole seconds and validating it. On error p
// and its grace licenses are left unchanged.
func (s *Signer) SignTicket(p *PermissionTicket) error {
	if p == nil {
		return fmt.Errorf("%w permission ticket: nil", ErrInvalid)
	}
	if s == nil || s.priv == nil {
		return fmt.Errorf("%w: signer has no valid Ed25519 private key", ErrInvalidKey)
	}
	c := *p
	c.Issued, c.Expires = normalizeTime(c.Issued), normalizeTime(c.Expires)
	c.KeyID = s.KeyID
	c.Signature = nil
	c.Grace = make([]*License, len(p.Grace))
	for i, g := range p.Grace {
		if g == nil {
			return fmt.Errorf("%w permission ticket %s: grace license %d is nil", ErrInvalid, display(c.ID), i+1)
		}
		gc := *g
		if err := s.Sign(&gc); err != nil {
			return fmt.Errorf("permission ticket %s: grace license %d: %w", display(c.ID), i+1, err)
		}
		c.Grace[i] = &gc
	}
	if fe := c.validate(); fe != nil {
		return fmt.Errorf("%w permission ticket %s: %w", ErrInvalid, display(c.ID), fe)
	}
	for i := range c.Grace {
		if fe := c.checkGrace(i); fe != nil {
			return fmt.Errorf("%w permission ticket %s: %w", ErrInvalid, display(c.ID), fe)
		}
	}
	sig, err := s.sign(contextPermission, c.Canonical())
	if err != nil {
		return err
	}
	c.Signature = sig
	for i, g := range p.Grace {
		*g = *c.Grace[i]
		c.Grace[i] = g
	}
	*p = c
	return nil
}

// VerifyTicket checks that p and each of its grace licenses are signed by
// trusted keys (ErrUnknownKey, ErrBadSignature). It does not check Expires;
// see Expired.
func (t *Trust) VerifyTicket(p *PermissionTicket) error {
	if p == nil {
		return fmt.Errorf("%w permission ticket: nil", ErrInvalid)
	}
	what := "permission ticket " + display(p.ID)
	k, err := t.key(what, p.KeyID)
	if err != nil {
		return err
	}
	if err := verifyWith(k, contextPermission, p.Canonical(), p.Signature, what, "key "+p.KeyID); err != nil {
		return err
	}
	for i, g := range p.Grace {
		if g == nil {
			return fmt.Errorf("%w %s: grace license %d is nil", ErrInvalid, what, i+1)
		}
		if err := t.Verify(g); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}

// Encode writes the ticket document: the ticket block, then one block per
// grace license.
func (p *PermissionTicket) Encode() []byte {
	b := make([]byte, 0, 512+400*len(p.Grace))
	b = append(b, docPermission.headerLine()...)
	b = append(b, '\n')
	b = fmt.Appendf(b, "# Permission ticket: allows %s to give up %d license(s), until %s.\n",
		escapeValue(p.UDI), len(p.LicenseIDs), formatTime(p.Expires))
	b = append(b, "# Lines starting with # are not signed.\n\n"...)
	b = appendField(b, "id", p.ID)
	b = appendField(b, "udi", p.UDI)
	for _, id := range p.LicenseIDs {
		b = appendField(b, "license", id)
	}
	b = appendField(b, "issued", formatTime(p.Issued))
	b = appendField(b, "expires", formatTime(p.Expires))
	b = appendField(b, "key-id", p.KeyID)
	b = appendField(b, "signature", b64.EncodeToString(p.Signature))
	for i, g := range p.Grace {
		if g == nil {
			continue
		}
		b = fmt.Appendf(b, "\n# Grace license %d of %d: %s\n", i+1, len(p.Grace), escapeValue(g.summary()))
		b = g.appendBlock(b)
	}
	return b
}

// ParsePermissionTicket reads a permission ticket and its grace licenses.
// It checks syntax and values, not signatures (see Trust.VerifyTicket).
func ParsePermissionTicket(data []byte) (*PermissionTicket, error) {
	d := docPermission
	blocks, err := scan(d, data)
	if err != nil {
		return nil, err
	}
	if len(blocks) == 0 {
		return nil, d.errorf(0, "", "no ticket block")
	}
	b := &blocks[0]
	if err := permissionSchema.check(d, b); err != nil {
		return nil, err
	}
	p := new(PermissionTicket)
	for _, f := range b.fields {
		var err error
		switch f.key {
		case "id":
			p.ID = f.val
		case "udi":
			p.UDI = f.val
		case "license":
			p.LicenseIDs = append(p.LicenseIDs, f.val)
		case "issued":
			p.Issued, err = parseTime(d, f)
		case "expires":
			p.Expires, err = parseTime(d, f)
		case "key-id":
			p.KeyID = f.val
		case "signature":
			p.Signature, err = parseBytes(d, f, signatureSize)
		}
		if err != nil {
			return nil, err
		}
	}
	if fe := p.validate(); fe != nil {
		return nil, atLine(d, b, fe)
	}
	for i := range blocks[1:] {
		gb := &blocks[1+i]
		g, err := decodeLicense(d, gb)
		if err != nil {
			return nil, err
		}
		p.Grace = append(p.Grace, g)
		if fe := p.checkGrace(i); fe != nil {
			return nil, atLine(d, gb, fe)
		}
	}
	return p, nil
}

// NewRehostTicket makes the device's proof that it revoked the licenses
// revoked, all of which p must name, and signs it with the device key. The
// ticket ID is random; now is truncated to the second. The caller checks
// that p is trusted and not expired before revoking anything.
func NewRehostTicket(p *PermissionTicket, revoked []string, devKey ed25519.PrivateKey, now time.Time) (*RehostTicket, error) {
	if p == nil {
		return nil, fmt.Errorf("%w rehost ticket: nil permission ticket", ErrInvalid)
	}
	if len(devKey) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: device key is %d bytes; an Ed25519 private key is %d", ErrInvalidKey, len(devKey), ed25519.PrivateKeySize)
	}
	for _, id := range revoked {
		if !slices.Contains(p.LicenseIDs, id) {
			return nil, fmt.Errorf("%w rehost ticket: license %s is not named by permission ticket %s", ErrInvalid, display(id), display(p.ID))
		}
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:]) // never fails (crypto/rand)
	k := ed25519.NewKeyFromSeed(devKey.Seed())
	r := &RehostTicket{
		ID:                 hex.EncodeToString(rnd[:]),
		PermissionTicketID: p.ID,
		UDI:                p.UDI,
		Revoked:            slices.Clone(revoked),
		Issued:             normalizeTime(now),
		PublicKey:          k.Public().(ed25519.PublicKey),
	}
	if fe := r.validate(); fe != nil {
		return nil, fmt.Errorf("%w rehost ticket: %w", ErrInvalid, fe)
	}
	sig, err := signWith(k, contextRehost, r.canonical())
	if err != nil {
		return nil, err
	}
	r.Signature = sig
	return r, nil
}

func (r *RehostTicket) validate() *FieldError {
	switch {
	case r.ID == "":
		return fieldErrorf("id", "required")
	case !validToken(r.ID, maxTokenLen):
		return fieldErrorf("id", "%q: want 1 to %d letters, digits, '.', '_' or '-', starting with a letter or digit", truncate(r.ID), maxTokenLen)
	case r.PermissionTicketID == "":
		return fieldErrorf("permission-ticket", "required")
	case !validToken(r.PermissionTicketID, maxTokenLen):
		return fieldErrorf("permission-ticket", "%q: want 1 to %d letters, digits, '.', '_' or '-', starting with a letter or digit", truncate(r.PermissionTicketID), maxTokenLen)
	case r.UDI == "":
		return fieldErrorf("udi", "required")
	}
	if err := ValidateUDI(r.UDI); err != nil {
		return fieldErrorf("udi", "%v", err)
	}
	if fe := checkIDList("revoked", r.Revoked, MaxTicketIDs); fe != nil {
		return fe
	}
	if fe := checkTime("issued", r.Issued, true); fe != nil {
		return fe
	}
	if len(r.PublicKey) != ed25519.PublicKeySize {
		return fieldErrorf("public-key", "%d bytes; want %d", len(r.PublicKey), ed25519.PublicKeySize)
	}
	if len(r.Signature) != 0 && len(r.Signature) != signatureSize {
		return fieldErrorf("signature", "%d bytes; want %d", len(r.Signature), signatureSize)
	}
	return nil
}

func (r *RehostTicket) canonical() []byte {
	b := make([]byte, 0, 256)
	b = appendField(b, "id", r.ID)
	b = appendField(b, "permission-ticket", r.PermissionTicketID)
	b = appendField(b, "udi", r.UDI)
	for _, id := range r.Revoked {
		b = appendField(b, "revoked", id)
	}
	b = appendField(b, "issued", formatTime(r.Issued))
	return appendField(b, "public-key", b64.EncodeToString(r.PublicKey))
}

// Verify checks the signature against r.PublicKey. Whether that key
// belongs to r.UDI is for the portal to decide.
func (r *RehostTicket) Verify() error {
	if r == nil {
		return fmt.Errorf("%w rehost ticket: nil", ErrInvalid)
	}
	return verifyWith(r.PublicKey, contextRehost, r.canonical(), r.Signature, "rehost ticket "+display(r.ID), "the device key it carries")
}

// Encode writes the rehost ticket document.
func (r *RehostTicket) Encode() []byte {
	b := make([]byte, 0, 512)
	b = append(b, docRehost.headerLine()...)
	b = append(b, '\n')
	b = fmt.Appendf(b, "# Rehost ticket: %s gave up %d license(s) under permission ticket %s.\n",
		escapeValue(r.UDI), len(r.Revoked), escapeValue(r.PermissionTicketID))
	b = append(b, "# Lines starting with # are not signed.\n\n"...)
	b = append(b, r.canonical()...)
	return appendField(b, "signature", b64.EncodeToString(r.Signature))
}

// ParseRehostTicket reads a rehost ticket and verifies its signature
// against the public key it carries (ErrBadSignature).
func ParseRehostTicket(data []byte) (*RehostTicket, error) {
	d := docRehost
	blocks, err := scan(d, data)
	if err != nil {
		return nil, err
	}
	if len(blocks) != 1 {
		return nil, d.errorf(0, "", "want one rehost ticket block, found %d", len(blocks))
	}
	b := &blocks[0]
	if err := rehostSchema.check(d, b); err != nil {
		return nil, err
	}
	r := new(RehostTicket)
	for _, f := range b.fields {
		var err error
		switch f.key {
		case "id":
			r.ID = f.val
		case "permission-ticket":
			r.PermissionTicketID = f.val
		case "udi":
			r.UDI = f.val
		case "revoked":
			r.Revoked = append(r.Revoked, f.val)
		case "issued":
			r.Issued, err = parseTime(d, f)
		case "public-key":
			var k []byte
			k, err = parseBytes(d, f, ed25519.PublicKeySize)
			r.PublicKey = k
		case "signature":
			r.Signature, err = parseBytes(d, f, signatureSize)
		}
		if err != nil {
			return nil, err
		}
	}
	if fe := r.validate(); fe != nil {
		return nil, atLine(d, b, fe)
	}
	if err := r.Verify(); err != nil {
		return nil, err
	}
	return r, nil
}

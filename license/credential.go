package license

import (
	"crypto/ed25519"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// Limits of credential and ticket values.
const (
	MaxUDIs        = 64   // UDIs in one credential (stack members, modules)
	MaxTicketIDs   = 1024 // license IDs named by one ticket
	maxHostnameLen = 255
)

// Credential identifies a device to the portal: its UDIs and its device
// public key, self-signed with the device key. The portal learns the key
// from it and later checks rehost tickets against that key.
type Credential struct {
	UDIs      []string // "PID:SN" of each member; the first is the active one
	Hostname  string   // for people at the portal; may be empty
	PublicKey ed25519.PublicKey
	Issued    time.Time
	Signature []byte
}

var credentialSchema = newSchema("credential", []fieldSpec{
	{key: "udi", required: true, repeated: true},
	{key: "hostname"},
	{key: "public-key", required: true},
	{key: "issued", required: true},
	{key: "signature", required: true},
})

// NewCredential makes and self-signs the credential of a device with the
// given UDIs. now is truncated to the second.
func NewCredential(udis []string, hostname string, devKey ed25519.PrivateKey, now time.Time) (*Credential, error) {
	if len(devKey) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: device key is %d bytes; an Ed25519 private key is %d", ErrInvalidKey, len(devKey), ed25519.PrivateKeySize)
	}
	k := ed25519.NewKeyFromSeed(devKey.Seed())
	c := &Credential{
		UDIs:      slices.Clone(udis),
		Hostname:  hostname,
		PublicKey: k.Public().(ed25519.PublicKey),
		Issued:    normalizeTime(now),
	}
	if fe := c.validate(); fe != nil {
		return nil, fmt.Errorf("%w device credential: %w", ErrInvalid, fe)
	}
	sig, err := signWith(k, contextCredential, c.canonical())
	if err != nil {
		return nil, err
	}
	c.Signature = sig
	return c, nil
}

func (c *Credential) validate() *FieldError {
	if fe := checkUDIList("udi", c.UDIs, MaxUDIs); fe != nil {
		return fe
	}
	if !utf8.ValidString(c.Hostname) {
		return fieldErrorf("hostname", "not valid UTF-8")
	}
	if len(c.Hostname) > maxHostnameLen {
		return fieldErrorf("hostname", "%d bytes; at most %d", len(c.Hostname), maxHostnameLen)
	}
	if len(c.PublicKey) != ed25519.PublicKeySize {
		return fieldErrorf("public-key", "%d bytes; want %d", len(c.PublicKey), ed25519.PublicKeySize)
	}
	if fe := checkTime("issued", c.Issued, true); fe != nil {
		return fe
	}
	if len(c.Signature) != 0 && len(c.Signature) != signatureSize {
		return fieldErrorf("signature", "%d bytes; want %d", len(c.Signature), signatureSize)
	}
	return nil
}

// checkUDIList: 1..max distinct valid UDIs.
func checkUDIList(name string, udis []string, max int) *FieldError {
	if len(udis) == 0 {
		return fieldErrorf(name, "at least one UDI is required")
	}
	if len(udis) > max {
		return fieldErrorf(name, "%d UDIs; at most %d", len(udis), max)
	}
	for i, u := range udis {
		if err := ValidateUDI(u); err != nil {
			return fieldErrorf(name, "%v", err).at(i)
		}
		if slices.Contains(udis[:i], u) {
			return fieldErrorf(name, "UDI %s is listed twice", u).at(i)
		}
	}
	return nil
}

// checkIDList: 1..max distinct ids.
func checkIDList(name string, ids []string, max int) *FieldError {
	if len(ids) == 0 {
		return fieldErrorf(name, "at least one license id is required")
	}
	if len(ids) > max {
		return fieldErrorf(name, "%d license ids; at most %d", len(ids), max)
	}
	for i, id := range ids {
		if !validToken(id, maxTokenLen) {
			return fieldErrorf(name, "%q: want 1 to %d letters, digits, '.', '_' or '-', starting with a letter or digit", truncate(id), maxTokenLen).at(i)
		}
		if slices.Contains(ids[:i], id) {
			return fieldErrorf(name, "license %s is listed twice", id).at(i)
		}
	}
	return nil
}

// canonical is the bytes under the self-signature.
func (c *Credential) canonical() []byte {
	b := make([]byte, 0, 256)
	for _, u := range c.UDIs {
		b = appendField(b, "udi", u)
	}
	if c.Hostname != "" {
		b = appendField(b, "hostname", c.Hostname)
	}
	b = appendField(b, "public-key", b64.EncodeToString(c.PublicKey))
	return appendField(b, "issued", formatTime(c.Issued))
}

// Verify checks the self-signature against c.PublicKey.
func (c *Credential) Verify() error {
	if c == nil {
		return fmt.Errorf("%w device credential: nil", ErrInvalid)
	}
	what := "device credential"
	if len(c.UDIs) > 0 {
		what += " of " + display(c.UDIs[0])
	}
	return verifyWith(c.PublicKey, contextCredential, c.canonical(), c.Signature, what, "the device key it carries")
}

// Encode writes the credential document.
func (c *Credential) Encode() []byte {
	b := make([]byte, 0, 512)
	b = append(b, docCredential.headerLine()...)
	b = append(b, '\n')
	b = append(b, "# Device credential: identifies this device to the licensing portal.\n"...)
	b = fmt.Appendf(b, "# Device key ID %s. Lines starting with # are not signed.\n\n", KeyID(c.PublicKey))
	b = append(b, c.canonical()...)
	return appendField(b, "signature", b64.EncodeToString(c.Signature))
}

// ParseCredential reads a credential and verifies its self-signature
// (ErrBadSignature). Syntax errors are *SyntaxError.
func ParseCredential(data []byte) (*Credential, error) {
	d := docCredential
	blocks, err := scan(d, data)
	if err != nil {
		return nil, err
	}
	if len(blocks) != 1 {
		return nil, d.errorf(0, "", "want one credential block, found %d", len(blocks))
	}
	b := &blocks[0]
	if err := credentialSchema.check(d, b); err != nil {
		return nil, err
	}
	c := new(Credential)
	for _, f := range b.fields {
		var err error
		switch f.key {
		case "udi":
			c.UDIs = append(c.UDIs, f.val)
		case "hostname":
			c.Hostname = f.val
		case "public-key":
			var k []byte
			k, err = parseBytes(d, f, ed25519.PublicKeySize)
			c.PublicKey = k
		case "issued":
			c.Issued, err = parseTime(d, f)
		case "signature":
			c.Signature, err = parseBytes(d, f, signatureSize)
		}
		if err != nil {
			return nil, err
		}
	}
	if fe := c.validate(); fe != nil {
		return nil, atLine(d, b, fe)
	}
	if err := c.Verify(); err != nil {
		return nil, err
	}
	return c, nil
}

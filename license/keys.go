package license

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
)

const (
	signatureSize = ed25519.SignatureSize
	keyIDSize     = 8 // bytes of SHA-256 in a key ID
)

// PEM block types.
const (
	pemPublicKey  = "PUBLIC KEY"  // PKIX SubjectPublicKeyInfo
	pemPrivateKey = "PRIVATE KEY" // PKCS #8
)

// KeyID is the short, stable name of a public key that documents carry to
// say which key signed them: the first 8 bytes of SHA-256 of the raw 32-byte
// key, in lowercase hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:keyIDSize])
}

func validKeyID(s string) bool {
	if len(s) != 2*keyIDSize {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// GenerateKey makes a new Ed25519 key from the system's secure random source.
func GenerateKey() (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate Ed25519 key: %w", err)
	}
	return priv, nil
}

// Signer signs licenses and permission tickets with a portal key.
type Signer struct {
	KeyID string // KeyID of the public key; "" when the key given was not a valid Ed25519 key
	priv  ed25519.PrivateKey
}

// NewSigner returns a Signer for priv. The key is rebuilt from its seed, so
// a private key whose public half was damaged still signs consistently. A
// key of the wrong length gives a Signer whose methods return
// ErrInvalidKey.
func NewSigner(priv ed25519.PrivateKey) *Signer {
	if len(priv) != ed25519.PrivateKeySize {
		return &Signer{}
	}
	k := ed25519.NewKeyFromSeed(priv.Seed())
	return &Signer{KeyID: KeyID(k.Public().(ed25519.PublicKey)), priv: k}
}

// Public returns the public key, nil if the Signer has no valid key.
func (s *Signer) Public() ed25519.PublicKey {
	if s == nil || s.priv == nil {
		return nil
	}
	return s.priv.Public().(ed25519.PublicKey)
}

func (s *Signer) sign(context string, msg []byte) ([]byte, error) {
	if s == nil || s.priv == nil {
		return nil, fmt.Errorf("%w: signer has no valid Ed25519 private key", ErrInvalidKey)
	}
	return signWith(s.priv, context, msg)
}

func signWith(priv ed25519.PrivateKey, context string, msg []byte) ([]byte, error) {
	sig, err := priv.Sign(nil, msg, &ed25519.Options{Context: context})
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return sig, nil
}

// Sign sets l.KeyID and l.Signature. It first brings the times of l to UTC
// whole seconds (the only form the file can hold) and validates l; on error
// l is left unchanged.
func (s *Signer) Sign(l *License) error {
	if l == nil {
		return fmt.Errorf("%w license: nil", ErrInvalid)
	}
	if s == nil || s.priv == nil {
		return fmt.Errorf("%w: signer has no valid Ed25519 private key", ErrInvalidKey)
	}
	c := *l
	c.Start, c.End, c.Issued = normalizeTime(c.Start), normalizeTime(c.End), normalizeTime(c.Issued)
	c.KeyID = s.KeyID
	c.Signature = nil
	if err := c.Validate(); err != nil {
		return err
	}
	sig, err := s.sign(contextLicense, c.Canonical())
	if err != nil {
		return err
	}
	c.Signature = sig
	*l = c
	return nil
}

// Trust is the set of portal public keys an agent accepts signatures from,
// by key ID. The zero value trusts nothing.
type Trust struct {
	keys map[string]ed25519.PublicKey
}

// NewTrust returns a Trust holding pubs. Keys that are not 32 bytes are
// refused.
func NewTrust(pubs ...ed25519.PublicKey) (*Trust, error) {
	t := &Trust{keys: make(map[string]ed25519.PublicKey, len(pubs))}
	for i, p := range pubs {
		if len(p) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: key %d is %d bytes; an Ed25519 public key is %d", ErrInvalidKey, i+1, len(p), ed25519.PublicKeySize)
		}
		t.keys[KeyID(p)] = slices.Clone(p)
	}
	return t, nil
}

// ParseTrust reads one or more PEM "PUBLIC KEY" blocks (PKIX) holding
// Ed25519 keys. Text outside the blocks is ignored, so a file may carry
// notes for people; a block of another type, a key of another algorithm or
// a damaged block is an error.
func ParseTrust(pemData []byte) (*Trust, error) {
	if len(pemData) > MaxFileSize {
		return nil, fmt.Errorf("%w: trust file is %d bytes; the limit is %d", ErrTooLarge, len(pemData), MaxFileSize)
	}
	var pubs []ed25519.PublicKey
	rest := pemData
	for n := 1; ; n++ {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != pemPublicKey {
			hint := ""
			if strings.Contains(blk.Type, "PRIVATE") {
				hint = " (a private key does not belong in a trust file)"
			}
			return nil, fmt.Errorf("%w: trust file: PEM block %d is %q; want %q%s", ErrInvalidKey, n, blk.Type, pemPublicKey, hint)
		}
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: trust file: PEM block %d: %v", ErrInvalidKey, n, err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: trust file: PEM block %d holds a %T key; want Ed25519", ErrInvalidKey, n, k)
		}
		pubs = append(pubs, pub)
	}
	if n := pemBegins(pemData); n != len(pubs) {
		return nil, fmt.Errorf("%w: trust file: %d of %d PEM blocks are damaged or truncated", ErrInvalidKey, n-len(pubs), n)
	}
	if len(pubs) == 0 {
		return nil, fmt.Errorf("%w: trust file holds no %q PEM block", ErrInvalidKey, pemPublicKey)
	}
	return NewTrust(pubs...)
}

// MarshalTrust writes pubs as PEM "PUBLIC KEY" blocks, each after a note
// naming its key ID, for ParseTrust. It panics if a key is not 32 bytes, as
// ed25519.Verify does.
func MarshalTrust(pubs ...ed25519.PublicKey) []byte {
	var b bytes.Buffer
	seen := make(map[string]bool)
	for _, p := range pubs {
		if len(p) != ed25519.PublicKeySize {
			panic(fmt.Sprintf("license.MarshalTrust: bad Ed25519 public key length: %d", len(p)))
		}
		id := KeyID(p)
		if seen[id] {
			continue
		}
		seen[id] = true
		der, err := x509.MarshalPKIXPublicKey(p)
		if err != nil {
			panic("license.MarshalTrust: " + err.Error()) // cannot happen for a 32-byte key
		}
		fmt.Fprintf(&b, "# key-id %s\n", id)
		_ = pem.Encode(&b, &pem.Block{Type: pemPublicKey, Bytes: der})
	}
	return b.Bytes()
}

// IDs returns the trusted key IDs, sorted.
func (t *Trust) IDs() []string {
	if t == nil {
		return nil
	}
	ids := make([]string, 0, len(t.keys))
	for id := range t.keys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// key returns the trusted key named id.
func (t *Trust) key(what, id string) (ed25519.PublicKey, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: %s names no signing key", ErrUnknownKey, what)
	}
	if t != nil {
		if k, ok := t.keys[id]; ok {
			return k, nil
		}
	}
	trusted := "none"
	if ids := t.IDs(); len(ids) > 0 {
		trusted = strings.Join(ids, ", ")
	}
	return nil, fmt.Errorf("%w: %s is signed by key %s, which is not trusted (trusted: %s)", ErrUnknownKey, what, display(id), trusted)
}

// Verify checks that l is signed by a trusted key. It returns an error
// wrapping ErrUnknownKey when l.KeyID is not trusted and ErrBadSignature
// when the signature does not match, each naming the license and key.
// Verify does not check the fields; Parse does.
func (t *Trust) Verify(l *License) error {
	if l == nil {
		return fmt.Errorf("%w license: nil", ErrInvalid)
	}
	what := "license " + display(l.ID)
	k, err := t.key(what, l.KeyID)
	if err != nil {
		return err
	}
	return verifyWith(k, contextLicense, l.Canonical(), l.Signature, what, "key "+l.KeyID)
}

// verifyWith checks an Ed25519ctx signature and says what failed.
func verifyWith(pub ed25519.PublicKey, context string, msg, sig []byte, what, keyName string) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: %s: public key is %d bytes", ErrInvalidKey, what, len(pub))
	}
	if len(sig) != signatureSize {
		return fmt.Errorf("%w: %s: signature is %d bytes; want %d", ErrBadSignature, what, len(sig), signatureSize)
	}
	if err := ed25519.VerifyWithOptions(pub, msg, sig, &ed25519.Options{Context: context}); err != nil {
		return fmt.Errorf("%w: %s: signature does not verify with %s", ErrBadSignature, what, keyName)
	}
	return nil
}

// pemBegins counts the PEM blocks that start in data. pem.Decode skips
// what it cannot read, so comparing with the blocks it returned is how a
// damaged or truncated block is noticed instead of silently dropped.
func pemBegins(data []byte) int {
	return bytes.Count(data, []byte("-----BEGIN "))
}

// display makes an identifier or UDI from a document safe to quote in a
// message.
func display(s string) string {
	if validToken(s, maxTokenLen) || ValidateUDI(s) == nil {
		return s
	}
	return fmt.Sprintf("%q", truncate(s))
}

// MarshalPrivateKey writes priv as a PEM "PRIVATE KEY" block (PKCS #8).
// It panics if priv is not a 64-byte Ed25519 key.
func MarshalPrivateKey(priv ed25519.PrivateKey) []byte {
	if len(priv) != ed25519.PrivateKeySize {
		panic(fmt.Sprintf("license.MarshalPrivateKey: bad Ed25519 private key length: %d", len(priv)))
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		panic("license.MarshalPrivateKey: " + err.Error()) // cannot happen for a 64-byte key
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der})
}

// ParsePrivateKey reads one PEM "PRIVATE KEY" block (PKCS #8, unencrypted)
// holding an Ed25519 key. Text outside the block is ignored.
func ParsePrivateKey(pemData []byte) (ed25519.PrivateKey, error) {
	if len(pemData) > MaxFileSize {
		return nil, fmt.Errorf("%w: key file is %d bytes; the limit is %d", ErrTooLarge, len(pemData), MaxFileSize)
	}
	var priv ed25519.PrivateKey
	rest := pemData
	for n := 1; ; n++ {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		switch {
		case blk.Type == "ENCRYPTED PRIVATE KEY" || blk.Headers["Proc-Type"] != "":
			return nil, fmt.Errorf("%w: PEM block %d is encrypted; want an unencrypted PKCS #8 key", ErrInvalidKey, n)
		case blk.Type != pemPrivateKey:
			return nil, fmt.Errorf("%w: PEM block %d is %q; want %q (PKCS #8)", ErrInvalidKey, n, blk.Type, pemPrivateKey)
		case priv != nil:
			return nil, fmt.Errorf("%w: more than one private key", ErrInvalidKey)
		}
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PEM block %d: %v", ErrInvalidKey, n, err)
		}
		p, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: PEM block %d holds a %T key; want Ed25519", ErrInvalidKey, n, k)
		}
		priv = p
	}
	n := pemBegins(pemData)
	switch {
	case priv == nil && n == 0:
		return nil, fmt.Errorf("%w: no %q PEM block", ErrInvalidKey, pemPrivateKey)
	case priv == nil || n != 1:
		return nil, fmt.Errorf("%w: a PEM block is damaged or truncated", ErrInvalidKey)
	}
	return priv, nil
}

package license

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of license field values.
const (
	MaxCount      = 1_000_000                  // largest count of units
	MaxPeriod     = 100 * 365 * 24 * time.Hour // longest usage period
	MaxCommentLen = 255                        // bytes; the size of clmgmtLicenseComments
	maxNameLen    = 128                        // feature and version; the size of the MIB's strings
	maxTokenLen   = 64                         // ids, PAKs, PID and SN
)

// Signature contexts: one per kind of document, so that a signature over
// one kind can never be presented as another.
const (
	contextLicense    = "licensed/license/v1"
	contextCredential = "licensed/credential/v1"
	contextPermission = "licensed/permission-ticket/v1"
	contextRehost     = "licensed/rehost-ticket/v1"
)

// Times outside this range are refused: zero means "not set", and RFC 3339
// has four-digit years.
var (
	minTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// licenseSchema lists the fields of a license block in canonical order.
var licenseSchema = newSchema("license", []fieldSpec{
	{key: "id", required: true},
	{key: "feature", required: true},
	{key: "version", required: true},
	{key: "type", required: true},
	{key: "udi"},
	{key: "count"},
	{key: "addition"},
	{key: "period"},
	{key: "start"},
	{key: "end"},
	{key: "comment"},
	{key: "issued", required: true},
	{key: "pak"},
	{key: "key-id", required: true},
	{key: "signature", required: true},
})

// Canonical returns the bytes the signature covers: every field but the
// signature, one "key: value" line each, in canonical order, optional
// fields omitted when zero. It is exactly those lines of the license's block
// in a file written by Encode.
func (l *License) Canonical() []byte {
	return l.appendCanonical(make([]byte, 0, 320))
}

func (l *License) appendCanonical(b []byte) []byte {
	b = appendField(b, "id", l.ID)
	b = appendField(b, "feature", l.Feature)
	b = appendField(b, "version", l.Version)
	b = appendField(b, "type", string(l.Type))
	if l.UDI != "" {
		b = appendField(b, "udi", l.UDI)
	}
	if l.Count != 0 {
		b = appendField(b, "count", strconv.Itoa(l.Count))
	}
	if l.Addition != "" {
		b = appendField(b, "addition", string(l.Addition))
	}
	if l.Period != 0 {
		b = appendField(b, "period", strconv.FormatInt(int64(l.Period/time.Second), 10))
	}
	if !l.Start.IsZero() {
		b = appendField(b, "start", formatTime(l.Start))
	}
	if !l.End.IsZero() {
		b = appendField(b, "end", formatTime(l.End))
	}
	if l.Comment != "" {
		b = appendField(b, "comment", l.Comment)
	}
	b = appendField(b, "issued", formatTime(l.Issued))
	if l.PAK != "" {
		b = appendField(b, "pak", l.PAK)
	}
	return appendField(b, "key-id", l.KeyID)
}

// appendBlock writes the whole block: the canonical lines and the signature.
func (l *License) appendBlock(b []byte) []byte {
	b = l.appendCanonical(b)
	return appendField(b, "signature", b64.EncodeToString(l.Signature))
}

// Encode writes a license file holding ls, in order: the header line, a
// note for people, then one block per license, each after a blank line and
// a one-line summary comment. Encode writes the licenses as they are; Parse
// accepts the result only if every license is valid and signed. Encode does
// not enforce MaxFileSize: a portal issuing thousands of licenses at once
// should split them over several files.
func Encode(ls ...*License) []byte {
	b := make([]byte, 0, 128+400*len(ls))
	b = append(b, docLicenseFile.headerLine()...)
	b = append(b, '\n')
	noun := "licenses"
	if len(ls) == 1 {
		noun = "license"
	}
	b = fmt.Appendf(b, "# %d %s. Lines starting with # are notes for people and are not signed.\n", len(ls), noun)
	for i, l := range ls {
		b = append(b, '\n')
		b = fmt.Appendf(b, "# License %d of %d: %s\n", i+1, len(ls), escapeValue(l.summary()))
		b = l.appendBlock(b)
	}
	return b
}

// summary is a line for people: what the license allows, in words.
func (l *License) summary() string {
	var s strings.Builder
	fmt.Fprintf(&s, "%s %s, %s", l.Feature, l.Version, strings.ToLower(l.Type.Display()))
	if l.UDI != "" {
		fmt.Fprintf(&s, ", node-locked to %s", l.UDI)
	} else {
		s.WriteString(", not node-locked")
	}
	if l.Count != 0 {
		fmt.Fprintf(&s, ", %d units", l.Count)
		if l.Addition != "" {
			fmt.Fprintf(&s, " (%s)", l.Addition)
		}
	}
	if l.Period != 0 {
		if l.Period%(24*time.Hour) == 0 {
			fmt.Fprintf(&s, ", %d days of use", l.Period/(24*time.Hour))
		} else {
			fmt.Fprintf(&s, ", %s of use", l.Period)
		}
	}
	if !l.Start.IsZero() {
		fmt.Fprintf(&s, ", from %s", l.Start.UTC().Format(time.DateOnly))
	}
	if !l.End.IsZero() {
		fmt.Fprintf(&s, ", until %s", l.End.UTC().Format(time.DateOnly))
	}
	return s.String()
}

// Parse reads a license file. It checks the syntax and every field value
// but no signature (see Trust.Verify). It rejects input larger than
// MaxFileSize (ErrTooLarge), empty files, unknown, duplicate, missing and
// out-of-order fields, values not in canonical form, invalid values, blocks
// without a signature and a license id used twice; other errors are
// *SyntaxError (errors.Is ErrInvalidFile) naming the line and field.
func Parse(data []byte) ([]*License, error) {
	d := docLicenseFile
	blocks, err := scan(d, data)
	if err != nil {
		return nil, err
	}
	if len(blocks) == 0 {
		return nil, d.errorf(0, "", "no licenses")
	}
	ls := make([]*License, 0, len(blocks))
	ids := make(map[string]int, len(blocks))
	for i := range blocks {
		b := &blocks[i]
		l, err := decodeLicense(d, b)
		if err != nil {
			return nil, err
		}
		if first, dup := ids[l.ID]; dup {
			return nil, d.errorf(b.line, "id", "license %s appears twice (first on line %d)", l.ID, first)
		}
		ids[l.ID] = b.line
		ls = append(ls, l)
	}
	return ls, nil
}

// decodeLicense turns one block into a valid License.
func decodeLicense(d docKind, b *block) (*License, error) {
	if err := licenseSchema.check(d, b); err != nil {
		return nil, err
	}
	l := new(License)
	for _, f := range b.fields {
		var err error
		switch f.key {
		case "id":
			l.ID = f.val
		case "feature":
			l.Feature = f.val
		case "version":
			l.Version = f.val
		case "type":
			l.Type = Type(f.val)
		case "udi":
			l.UDI = f.val
		case "count":
			var v uint64
			v, err = parseUint(d, f, MaxCount)
			l.Count = int(v)
			if err == nil && v == 0 {
				err = d.errorf(f.line, f.key, "0 is the default; omit the field")
			}
		case "addition":
			l.Addition = Addition(f.val)
		case "period":
			var v uint64
			v, err = parseUint(d, f, uint64(MaxPeriod/time.Second))
			l.Period = time.Duration(v) * time.Second
			if err == nil && v == 0 {
				err = d.errorf(f.line, f.key, "0 is the default; omit the field")
			}
		case "start":
			l.Start, err = parseTime(d, f)
		case "end":
			l.End, err = parseTime(d, f)
		case "comment":
			l.Comment = f.val
		case "issued":
			l.Issued, err = parseTime(d, f)
		case "pak":
			l.PAK = f.val
		case "key-id":
			l.KeyID = f.val
		case "signature":
			l.Signature, err = parseBytes(d, f, signatureSize)
		}
		if err != nil {
			return nil, err
		}
	}
	if fe := l.validate(); fe != nil {
		return nil, atLine(d, b, fe)
	}
	return l, nil
}

// Validate checks every field of l against the rules of the format; it
// does not check the signature. The error wraps ErrInvalid and names
// the field.
func (l *License) Validate() error {
	if l == nil {
		return fmt.Errorf("%w license: nil", ErrInvalid)
	}
	if fe := l.validate(); fe != nil {
		id := l.ID
		if id == "" || !validToken(id, maxTokenLen) {
			id = "(no valid id)"
		}
		return fmt.Errorf("%w license %s: %w", ErrInvalid, id, fe)
	}
	return nil
}

// needsLock reports whether licenses of type t must be node-locked: only
// evaluations and right-to-use licenses may run on any device.
func needsLock(t Type) bool {
	return t == Permanent || t == Extension || t == GracePeriod || t == PaidSubscription
}

func (l *License) validate() *FieldError {
	switch {
	case l.ID == "":
		return fieldErrorf("id", "required")
	case !validToken(l.ID, maxTokenLen):
		return fieldErrorf("id", "%q: want 1 to %d letters, digits, '.', '_' or '-', starting with a letter or digit", truncate(l.ID), maxTokenLen)
	case l.Feature == "":
		return fieldErrorf("feature", "empty feature name")
	case !validToken(l.Feature, maxNameLen):
		return fieldErrorf("feature", "%q: want 1 to %d letters, digits, '.', '_' or '-', starting with a letter or digit", truncate(l.Feature), maxNameLen)
	case l.Version == "":
		return fieldErrorf("version", "required")
	case !validToken(l.Version, maxNameLen):
		return fieldErrorf("version", "%q: want 1 to %d letters, digits, '.', '_' or '-', starting with a letter or digit", truncate(l.Version), maxNameLen)
	case l.Type == "":
		return fieldErrorf("type", "required")
	case !l.Type.Valid():
		return fieldErrorf("type", "unknown type %q (known: %s)", truncate(string(l.Type)), typeNames())
	}
	if l.UDI != "" {
		if err := ValidateUDI(l.UDI); err != nil {
			return fieldErrorf("udi", "%v", err)
		}
	} else if needsLock(l.Type) {
		return fieldErrorf("udi", "required for type %s (only evaluation and right-to-use licenses may be unlocked)", l.Type)
	}
	if l.Count < 0 || l.Count > MaxCount {
		return fieldErrorf("count", "%d is out of range 0..%d", l.Count, MaxCount)
	}
	if l.Addition != "" && l.Addition != Exclusive && l.Addition != Additive {
		return fieldErrorf("addition", "%q: want %s or %s", truncate(string(l.Addition)), Exclusive, Additive)
	}
	switch {
	case l.Period < 0 || l.Period > MaxPeriod:
		return fieldErrorf("period", "%s is out of range (at most %d days)", l.Period, MaxPeriod/(24*time.Hour))
	case l.Period%time.Second != 0:
		return fieldErrorf("period", "%s is not a whole number of seconds", l.Period)
	case l.Type.Metered() && l.Period == 0:
		return fieldErrorf("period", "required for metered type %s", l.Type)
	case !l.Type.Metered() && l.Period != 0:
		return fieldErrorf("period", "not allowed for type %s, which is not metered", l.Type)
	}
	if fe := checkTime("start", l.Start, false); fe != nil {
		return fe
	}
	if fe := checkTime("end", l.End, false); fe != nil {
		return fe
	}
	if !l.Start.IsZero() && !l.End.IsZero() && !l.Start.Before(l.End) {
		return fieldErrorf("end", "%s is not after start %s", formatTime(l.End), formatTime(l.Start))
	}
	if l.Type == PaidSubscription && l.End.IsZero() {
		return fieldErrorf("end", "required for type %s", l.Type)
	}
	if !utf8.ValidString(l.Comment) {
		return fieldErrorf("comment", "not valid UTF-8")
	}
	if len(l.Comment) > MaxCommentLen {
		return fieldErrorf("comment", "%d bytes; at most %d", len(l.Comment), MaxCommentLen)
	}
	if fe := checkTime("issued", l.Issued, true); fe != nil {
		return fe
	}
	if l.PAK != "" && !validToken(l.PAK, maxTokenLen) {
		return fieldErrorf("pak", "%q: want 1 to %d letters, digits, '.', '_' or '-'", truncate(l.PAK), maxTokenLen)
	}
	if l.KeyID != "" && !validKeyID(l.KeyID) {
		return fieldErrorf("key-id", "%q: want %d lowercase hex digits", truncate(l.KeyID), 2*keyIDSize)
	}
	if len(l.Signature) != 0 && len(l.Signature) != signatureSize {
		return fieldErrorf("signature", "%d bytes; want %d", len(l.Signature), signatureSize)
	}
	return nil
}

// checkTime checks that t can be written canonically.
func checkTime(name string, t time.Time, required bool) *FieldError {
	switch {
	case t.IsZero() && required:
		return fieldErrorf(name, "required")
	case t.IsZero():
		return nil
	case t.Before(minTime) || t.After(maxTime):
		return fieldErrorf(name, "%s is out of range (years 1970 to 9999)", t.UTC().Format(time.RFC3339Nano))
	case t.Nanosecond() != 0:
		return fieldErrorf(name, "%s is not a whole second", t.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// normalizeTime is what signing does to a time: UTC, whole seconds.
func normalizeTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Second)
}

func typeNames() string {
	s := make([]string, len(Types))
	for i, t := range Types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// validToken: 1..max of [A-Za-z0-9._-], starting with a letter or digit.
func validToken(s string, max int) bool {
	if s == "" || len(s) > max || !alnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !alnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func alnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// ValidateUDI checks that udi is "PID:SN": a product ID of letters, digits
// and . _ - + / and a serial number of letters, digits and . _ -, each 1 to
// 64 characters and starting with a letter or digit.
func ValidateUDI(udi string) error {
	pid, sn, ok := strings.Cut(udi, ":")
	if !ok {
		return fmt.Errorf("UDI %q: want PID:SN", truncate(udi))
	}
	if pid == "" || len(pid) > maxTokenLen || !alnum(pid[0]) {
		return fmt.Errorf("UDI %q: product ID must be 1 to %d characters starting with a letter or digit", truncate(udi), maxTokenLen)
	}
	for i := 0; i < len(pid); i++ {
		if c := pid[i]; !alnum(c) && !strings.ContainsRune("._-+/", rune(c)) {
			return fmt.Errorf("UDI %q: product ID holds %q; allowed are letters, digits and . _ - + /", truncate(udi), c)
		}
	}
	if !validToken(sn, maxTokenLen) {
		return fmt.Errorf("UDI %q: serial number must be 1 to %d letters, digits, '.', '_' or '-', starting with a letter or digit", truncate(udi), maxTokenLen)
	}
	return nil
}

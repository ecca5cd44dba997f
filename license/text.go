package license

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// formatVersion is the version every header line carries. A reader refuses
// other versions rather than guess at their meaning.
const formatVersion = "v1"

// timeLayout is RFC 3339 in UTC to the second: the only time form the
// documents use.
const timeLayout = "2006-01-02T15:04:05Z"

// docKind names one kind of document: its header and, for errors, what a
// person calls it.
type docKind struct {
	name   string // "license file"
	header string // first word of the header line
}

var (
	docLicenseFile = docKind{"license file", "licensed-license-file"}
	docCredential  = docKind{"device credential", "licensed-device-credential"}
	docPermission  = docKind{"permission ticket", "licensed-permission-ticket"}
	docRehost      = docKind{"rehost ticket", "licensed-rehost-ticket"}
)

func (d docKind) headerLine() string { return d.header + " " + formatVersion }

func (d docKind) errorf(line int, field, format string, args ...any) *SyntaxError {
	return &SyntaxError{Doc: d.name, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// invisible reports whether r is a character that must never appear raw in
// a document: controls, and format characters that can hide or reorder text
// on a terminal (bidi overrides, zero-width characters, line separators).
// The set is fixed here rather than taken from the unicode tables, because
// it decides the canonical bytes under a signature, which must not change
// with the Go release that builds the agent or the portal.
func invisible(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0xad, r == 0x061c, r == 0x180e:
		return true
	case r >= 0x200b && r <= 0x200f, r >= 0x2028 && r <= 0x202e, r >= 0x2060 && r <= 0x206f:
		return true
	case r == 0xfeff, r >= 0xfff9 && r <= 0xfffb, r >= 0xe0000 && r <= 0xe007f:
		return true
	}
	return false
}

// escapeValue makes s safe to write after "key: " on one line. Backslash,
// controls, invisible characters, bytes that are not UTF-8 and a space at
// either end are escaped; everything else is written as is, so a comment in
// any language stays readable. The result is the one canonical form of s.
func escapeValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case invisible(r) && r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		case invisible(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		case r == ' ' && (i == 0 || i+size == len(s)):
			b.WriteString(`\x20`)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// unescapeValue reverses escapeValue and insists that raw is in canonical
// form, so that one value has exactly one spelling in a document.
func unescapeValue(raw string) (string, error) {
	if strings.HasSuffix(raw, " ") {
		return "", fmt.Errorf(`value ends with a space (a space at either end is written \x20)`)
	}
	if strings.HasPrefix(raw, " ") {
		return "", fmt.Errorf(`value starts with a space after "key: " (a space at either end is written \x20)`)
	}
	if !strings.Contains(raw, `\`) {
		return raw, nil // the common case: nothing escaped (raw lines hold no controls)
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(raw) {
			return "", fmt.Errorf("value ends with a lone backslash")
		}
		i++
		switch raw[i] {
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'x', 'u', 'U':
			n := 2
			switch raw[i] {
			case 'u':
				n = 4
			case 'U':
				n = 8
			}
			if i+n >= len(raw) {
				return "", fmt.Errorf("escape \\%c needs %d hex digits", raw[i], n)
			}
			hex := raw[i+1 : i+1+n]
			v, err := strconv.ParseUint(hex, 16, 32)
			if err != nil || strings.ToLower(hex) != hex {
				return "", fmt.Errorf("escape \\%c%s: want %d lowercase hex digits", raw[i], hex, n)
			}
			if raw[i] == 'x' {
				b.WriteByte(byte(v))
			} else {
				if !utf8.ValidRune(rune(v)) {
					return "", fmt.Errorf("escape \\%c%s is not a Unicode character", raw[i], hex)
				}
				b.WriteRune(rune(v))
			}
			i += n
		default:
			return "", fmt.Errorf("unknown escape \\%c", raw[i])
		}
	}
	v := b.String()
	if want := escapeValue(v); want != raw {
		return "", fmt.Errorf("value is not escaped in canonical form (want %s)", want)
	}
	return v, nil
}

// checkLine rejects bytes that could make a line mean something other than
// what a person sees: bytes that are not UTF-8, NUL, CR and every character
// escapeValue would escape.
func checkLine(line []byte) string {
	if !utf8.Valid(line) {
		return "not valid UTF-8"
	}
	for _, r := range string(line) {
		switch {
		case r == 0:
			return "contains a NUL byte"
		case r == '\r':
			return "contains a carriage return (CRLF line endings are not accepted)"
		case r == '\t':
			return "contains a tab"
		case r == 0xfeff:
			return "contains a byte order mark (U+FEFF)"
		case invisible(r):
			return fmt.Sprintf("contains the control or invisible character U+%04X", r)
		}
	}
	return ""
}

// field is one "key: value" line; val is unescaped.
type field struct {
	line int
	key  string
	val  string
}

// block is a run of field lines, ended by a blank line or the end of the
// document. Comment lines inside a block are skipped.
type block struct {
	line   int // line of the first field
	fields []field
}

// get returns the single field named key.
func (b *block) get(key string) (field, bool) {
	for _, f := range b.fields {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

// all returns every field named key, in order.
func (b *block) all(key string) []field {
	var fs []field
	for _, f := range b.fields {
		if f.key == key {
			fs = append(fs, f)
		}
	}
	return fs
}

// lineOf is the line of field key, or of the block when it is absent.
func (b *block) lineOf(key string) int {
	if f, ok := b.get(key); ok {
		return f.line
	}
	return b.line
}

// scan splits a document into blocks after checking its size, its bytes
// and its header line.
func scan(d docKind, data []byte) ([]block, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: %s is %d bytes; the limit is %d", ErrTooLarge, d.name, len(data), MaxFileSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, d.errorf(0, "", "empty input")
	}
	lines := bytes.Split(data, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1] // the final newline ends the last line
	}
	var (
		blocks     []block
		cur        *block
		haveHeader bool
	)
	for i, raw := range lines {
		n := i + 1
		if msg := checkLine(raw); msg != "" {
			return nil, d.errorf(n, "", "%s", msg)
		}
		line := string(raw)
		switch {
		case line == "":
			cur = nil
			continue
		case line[0] == '#':
			continue
		case strings.TrimSpace(line) == "":
			return nil, d.errorf(n, "", "line holds only spaces")
		}
		if !haveHeader {
			if line == d.headerLine() {
				haveHeader = true
				continue
			}
			if v, ok := strings.CutPrefix(line, d.header+" "); ok {
				return nil, d.errorf(n, "", "unsupported version %q (this reader knows %s)", v, formatVersion)
			}
			return nil, d.errorf(n, "", "want the header line %q before anything else, got %q", d.headerLine(), truncate(line))
		}
		if line == d.headerLine() {
			return nil, d.errorf(n, "", "second header line")
		}
		key, rawVal, ok := strings.Cut(line, ":")
		if !ok || !validKey(key) {
			return nil, d.errorf(n, "", "want \"key: value\", got %q", truncate(line))
		}
		var val string
		switch {
		case rawVal == "" || rawVal == " ":
			// An empty value; the schema decides what to say about it.
		case rawVal[0] != ' ':
			return nil, d.errorf(n, key, "want a space after the colon")
		default:
			var err error
			if val, err = unescapeValue(rawVal[1:]); err != nil {
				return nil, d.errorf(n, key, "%v", err)
			}
		}
		if cur == nil {
			blocks = append(blocks, block{line: n})
			cur = &blocks[len(blocks)-1]
		}
		cur.fields = append(cur.fields, field{line: n, key: key, val: val})
	}
	if !haveHeader {
		return nil, d.errorf(0, "", "no header line %q (only comments)", d.headerLine())
	}
	return blocks, nil
}

// validKey: lowercase letters and inner hyphens.
func validKey(k string) bool {
	if k == "" || k[0] == '-' || k[len(k)-1] == '-' || len(k) > 32 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; (c < 'a' || c > 'z') && c != '-' {
			return false
		}
	}
	return true
}

// truncate shortens text quoted in error messages.
func truncate(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// fieldSpec is one field of a block, in canonical order.
type fieldSpec struct {
	key      string
	required bool
	repeated bool // may appear on several consecutive lines
}

// schema is the fields of one kind of block.
type schema struct {
	what   string // "license", "ticket", ... for messages
	fields []fieldSpec
	index  map[string]int // key -> position in fields
}

func newSchema(what string, fields []fieldSpec) *schema {
	s := &schema{what: what, fields: fields, index: make(map[string]int, len(fields))}
	for i, f := range fields {
		s.index[f.key] = i
	}
	return s
}

// check enforces the schema on b: known fields, canonical order, no
// duplicates, every required field present.
func (s *schema) check(d docKind, b *block) error {
	last := len(s.fields) - 1
	seen := make([]int, len(s.fields)) // line of the first occurrence; 0: not seen
	prev := -1
	for _, f := range b.fields {
		i, ok := s.index[f.key]
		if !ok {
			return d.errorf(f.line, "", "unknown field %q in a %s", f.key, s.what)
		}
		if first := seen[i]; first != 0 && (!s.fields[i].repeated || i != prev) {
			if s.fields[i].repeated {
				return d.errorf(f.line, f.key, "lines of a repeated field must be together (first on line %d)", first)
			}
			return d.errorf(f.line, f.key, "duplicate field (first on line %d)", first)
		}
		if i < prev {
			if prev == last {
				return d.errorf(f.line, "", "field %q after %q; separate one %s from the next with a blank line", f.key, s.fields[last].key, s.what)
			}
			return d.errorf(f.line, "", "field %q must come before %q", f.key, s.fields[prev].key)
		}
		if f.val == "" { // escaping never yields an empty spelling of a value
			if s.fields[i].required {
				return d.errorf(f.line, f.key, "empty value; every %s needs one", s.what)
			}
			return d.errorf(f.line, f.key, "empty value; leave the field out instead")
		}
		if seen[i] == 0 {
			seen[i] = f.line
		}
		prev = i
	}
	for i, f := range s.fields {
		if f.required && seen[i] == 0 {
			return d.errorf(b.line, "", "%s starting here has no %q field", s.what, f.key)
		}
	}
	return nil
}

// appendField writes one canonical field line.
func appendField(b []byte, key, val string) []byte {
	b = append(b, key...)
	b = append(b, ": "...)
	b = append(b, escapeValue(val)...)
	return append(b, '\n')
}

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// parseTime reads a canonical time value.
func parseTime(d docKind, f field) (time.Time, error) {
	t, err := time.Parse(timeLayout, f.val)
	if err != nil || formatTime(t) != f.val {
		return time.Time{}, d.errorf(f.line, f.key, "%q is not a time in the form 2006-01-02T15:04:05Z (RFC 3339, UTC, whole seconds)", truncate(f.val))
	}
	return t, nil
}

// parseUint reads a canonical whole number no larger than max.
func parseUint(d docKind, f field, max uint64) (uint64, error) {
	v, err := strconv.ParseUint(f.val, 10, 64)
	if err != nil || strconv.FormatUint(v, 10) != f.val {
		return 0, d.errorf(f.line, f.key, "%q is not a whole number written in decimal without leading zeros", truncate(f.val))
	}
	if v > max {
		return 0, d.errorf(f.line, f.key, "%d is out of range (at most %d)", v, max)
	}
	return v, nil
}

// b64 is the one base64 form of keys and signatures: standard alphabet,
// padded, with zero padding bits.
var b64 = base64.StdEncoding.Strict()

// parseBytes reads base64 of exactly n bytes.
func parseBytes(d docKind, f field, n int) ([]byte, error) {
	v, err := b64.DecodeString(f.val)
	if err != nil {
		return nil, d.errorf(f.line, f.key, "not valid base64: %v", err)
	}
	if len(v) != n {
		return nil, d.errorf(f.line, f.key, "%d bytes; want %d", len(v), n)
	}
	return v, nil
}

// atLine turns a rule broken by a decoded block into a *SyntaxError at the
// line of the field at fault (of the value at fault, for repeated fields).
func atLine(d docKind, b *block, fe *FieldError) error {
	line := b.lineOf(fe.Field)
	if fs := b.all(fe.Field); fe.item > 0 && fe.item <= len(fs) {
		line = fs[fe.item-1].line
	}
	return d.errorf(line, fe.Field, "%s", fe.Msg)
}

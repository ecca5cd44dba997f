package license

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscapeValue(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"plain text", "plain text"},
		{"", ""},
		{`back\slash`, `back\\slash`},
		{"two\nlines", `two\nlines`},
		{"cr\rlf", `cr\rlf`},
		{"tab\tstop", `tab\tstop`},
		{"nul\x00byte", `nul\x00byte`},
		{"del\x7f", `del\x7f`},
		{"esc\x1b[31mred", `esc\x1b[31mred`},
		{" lead", `\x20lead`},
		{"trail ", `trail\x20`},
		{" ", `\x20`},
		{"  ", `\x20\x20`},
		{"inner  spaces", "inner  spaces"},
		{"café 日本語 ✓", "café 日本語 ✓"},
		{"rtl\u202eoverride", `rtl\u202eoverride`},
		{"line\u2028sep", `line\u2028sep`},
		{"zero\u200bwidth", `zero\u200bwidth`},
		{"bom\ufeff", `bom\ufeff`},
		{"c1\u0085next", `c1\u0085next`},
		{"tag\U000e0041", `tag\U000e0041`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"signature: AAAA", "signature: AAAA"},
		{"# not a comment", "# not a comment"},
	}
	for _, tt := range tests {
		got := escapeValue(tt.in)
		if got != tt.want {
			t.Errorf("escapeValue(%q) = %q; want %q", tt.in, got, tt.want)
		}
		if msg := checkLine([]byte("comment: " + got)); msg != "" {
			t.Errorf("escapeValue(%q) = %q is not a safe line: %s", tt.in, got, msg)
		}
		if tt.in == "" {
			continue
		}
		back, err := unescapeValue(got)
		if err != nil || back != tt.in {
			t.Errorf("unescapeValue(%q) = %q, %v; want %q", got, back, err, tt.in)
		}
	}
}

func TestUnescapeValueRejects(t *testing.T) {
	tests := []struct {
		raw, want string
	}{
		{`a\q`, `unknown escape \q`},
		{`a\`, "lone backslash"},
		{`\x4`, "needs 2 hex digits"},
		{`\x4g`, "lowercase hex digits"},
		{`\x4A`, "lowercase hex digits"},
		{`\u12`, "needs 4 hex digits"},
		{`\ud800`, "not a Unicode character"},
		{`\U00110000`, "not a Unicode character"},
		{`\x41`, "canonical form (want A)"},
		{`\u00e9`, "canonical form (want é)"},
		{`\xc3\xa9`, "canonical form"},
		{`a\x20b`, "canonical form (want a b)"},
		{"x ", "ends with a space"},
		{" x", "starts with a space"},
	}
	for _, tt := range tests {
		_, err := unescapeValue(tt.raw)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("unescapeValue(%q) error = %v; want it to contain %q", tt.raw, err, tt.want)
		}
	}
}

// TestEscapeRoundTrip checks on random strings, weighted towards the
// characters that matter, that every value has one safe spelling.
func TestEscapeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		s := randomText(r, 40)
		e := escapeValue(s)
		if strings.ContainsAny(e, "\n\r\x00") {
			t.Fatalf("escapeValue(%q) = %q holds a line break or NUL", s, e)
		}
		if msg := checkLine([]byte("k: " + e)); msg != "" {
			t.Fatalf("escapeValue(%q) = %q: %s", s, e, msg)
		}
		if s == "" {
			continue
		}
		back, err := unescapeValue(e)
		if err != nil || back != s {
			t.Fatalf("unescapeValue(escapeValue(%q)) = %q, %v", s, back, err)
		}
	}
}

// randomText mixes plain letters with every class of character the
// escaping treats specially, including bytes that are not UTF-8.
func randomText(r *rand.Rand, max int) string {
	pieces := []string{"a", "Z", "0", " ", "\\", "\n", "\r", "\t", "\x00", "\x1b", "\x7f", "\xff", "\xc3",
		"é", "日", "✓", "😀", "\u0085", "\u00ad", "\u200b", "\u200d", "\u202e", "\u2028", "\u2066",
		"\ufeff", "\U000e0041", "#", ":", ": ", "\\x20", "\\n"}
	var b strings.Builder
	for range r.IntN(max) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

func TestCheckLine(t *testing.T) {
	tests := []struct {
		line, want string
	}{
		{"feature: ipservices", ""},
		{"# café ✓", ""},
		{"a\x00b", "NUL"},
		{"a\rb", "carriage return"},
		{"a\tb", "tab"},
		{"\ufeffx", "byte order mark"},
		{"x\u202ey", "U+202E"},
		{"x\x1by", "U+001B"},
		{"x\u0085y", "U+0085"},
		{"x\xffy", "UTF-8"},
	}
	for _, tt := range tests {
		got := checkLine([]byte(tt.line))
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("checkLine(%q) = %q; want %q", tt.line, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	long := strings.Repeat("é", 100)
	got := truncate(long)
	if !utf8.ValidString(got) || !strings.HasSuffix(got, "...") || len(got) > 64 {
		t.Errorf("truncate = %q", got)
	}
	if truncate("short") != "short" {
		t.Error("truncate changed a short string")
	}
}

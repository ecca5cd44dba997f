package syslog

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestLineFormats(t *testing.T) {
	zone := time.FixedZone("PDT", -7*3600)
	h := header{facility: 16, hostname: "rtr-2", appName: "licensed", procID: "99", loc: zone}
	m := Message{Facility: "LICENSE", Severity: 3, Mnemonic: "TEST", Text: "a\tb\nc\x7fd"}
	ts := time.Date(2025, time.November, 9, 23, 4, 5, 6_000_000, time.UTC) // 16:04:05.006 PDT
	for _, tt := range []struct {
		format, want string
	}{
		{FormatRFC3164, "<131>Nov  9 16:04:05 rtr-2 %LICENSE-3-TEST: a b c d"},
		{"", "<131>Nov  9 16:04:05 rtr-2 %LICENSE-3-TEST: a b c d"},
		{FormatRFC5424, "<131>1 2025-11-09T16:04:05.006-07:00 rtr-2 licensed 99 TEST - %LICENSE-3-TEST: a b c d"},
	} {
		if got := string(h.line(tt.format, ts, m)); got != tt.want {
			t.Errorf("format %q:\n got %q\nwant %q", tt.format, got, tt.want)
		}
	}
	if got, want := string(h.localLine(ts, m)), "Nov  9 16:04:05.006 PDT: %LICENSE-3-TEST: a b c d\n"; got != want {
		t.Errorf("local line %q, want %q", got, want)
	}
}

func TestLineLimits(t *testing.T) {
	h := testHeader()
	text := strings.Repeat("é", 3000) // 6000 bytes
	m := Message{Facility: "LICENSE", Severity: 6, Mnemonic: "X", Text: text}
	for _, tt := range []struct {
		format string
		limit  int
	}{{FormatRFC3164, 1024}, {FormatRFC5424, 2048}} {
		b := h.line(tt.format, testTime, m)
		if len(b) > tt.limit || len(b) < tt.limit-utf8.UTFMax {
			t.Errorf("%s: %d bytes, want at most %d and close to it", tt.format, len(b), tt.limit)
		}
		if !utf8.Valid(b) {
			t.Errorf("%s: cut inside a UTF-8 sequence", tt.format)
		}
	}
	bad := Message{Facility: "LICENSE", Severity: 6, Mnemonic: "X", Text: "ok\xff\xfeend"}
	if got := string(h.line(FormatRFC3164, testTime, bad)); !strings.HasSuffix(got, "ok\uFFFDend") {
		t.Errorf("invalid UTF-8 not replaced: %q", got)
	}
}

func TestTruncate(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"},   // é is 2 bytes
		{"a€b", 3, "a"},  // € is 3 bytes
		{"a€b", 4, "a€"}, // exactly after €
		{"😀x", 3, ""},
	} {
		if got := string(truncate([]byte(tt.in), tt.n)); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestCleanNames(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"sw1.example.net", "sw1.example.net"},
		{"core sw 1", "core-sw-1"},
		{"rtr:1/ä", "rtr-1---"},
		{strings.Repeat("h", 300), strings.Repeat("h", 255)},
	} {
		if got := cleanHostname(tt.in); got != tt.want {
			t.Errorf("cleanHostname(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := cleanAppName("lic d\x01"); got != "lic_d_" {
		t.Errorf("cleanAppName = %q", got)
	}
}

func TestOctetCounted(t *testing.T) {
	if got := string(octetCounted([]byte("<190>hello"))); got != "10 <190>hello" {
		t.Errorf("octetCounted = %q", got)
	}
	if got := string(octetCounted([]byte("é"))); got != "2 é" {
		t.Errorf("octetCounted counts bytes, not runes: %q", got)
	}
}

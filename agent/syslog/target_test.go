package syslog

import (
	"errors"
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Target
		str  string // String(), when it differs from in
	}{
		{"udp://127.0.0.1:5514", Target{"udp", "127.0.0.1:5514", "rfc3164"}, ""},
		{"tcp://[::1]:601", Target{"tcp", "[::1]:601", "rfc3164"}, ""},
		{"udp://host", Target{"udp", "host:514", "rfc3164"}, "udp://host:514"},
		{"tcp://syslog.example.net", Target{"tcp", "syslog.example.net:601", "rfc3164"}, "tcp://syslog.example.net:601"},
		{"udp://[2001:db8::1]", Target{"udp", "[2001:db8::1]:514", "rfc3164"}, "udp://[2001:db8::1]:514"},
		{"udp://10.0.0.1:514?format=rfc5424", Target{"udp", "10.0.0.1:514", "rfc5424"}, ""},
		{"TCP://10.0.0.1?format=RFC5424", Target{"tcp", "10.0.0.1:601", "rfc5424"}, "tcp://10.0.0.1:601?format=rfc5424"},
		{"udp://10.0.0.1?format=rfc3164", Target{"udp", "10.0.0.1:514", "rfc3164"}, "udp://10.0.0.1:514"},
		{"udp://log_host.lab:65535", Target{"udp", "log_host.lab:65535", "rfc3164"}, ""},
		{"udp://sw1.example.net.", Target{"udp", "sw1.example.net.:514", "rfc3164"}, "udp://sw1.example.net.:514"},
	} {
		got, err := ParseTarget(tt.in)
		if err != nil {
			t.Errorf("ParseTarget(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseTarget(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		str := tt.str
		if str == "" {
			str = tt.in
		}
		if got.String() != str {
			t.Errorf("ParseTarget(%q).String() = %q, want %q", tt.in, got.String(), str)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("ParseTarget(%q) result fails Validate: %v", tt.in, err)
		}
	}
}

func TestParseTargetErrors(t *testing.T) {
	for _, tt := range []struct {
		in, want string
	}{
		{"", "missing transport"},
		{"127.0.0.1:514", "missing transport"},
		{"http://127.0.0.1", `unknown transport "http"`},
		{"udp://", "missing host"},
		{"udp://:514", "missing host"},
		{"udp://127.0.0.1:", "empty port"},
		{"udp://127.0.0.1:0", "port 0 out of range"},
		{"udp://127.0.0.1:65536", "port 65536 out of range"},
		{"udp://127.0.0.1:syslog", `port "syslog" is not a number`},
		{"udp://127.0.0.1:+514", `port "+514" is not a number`},
		{"udp://::1", "IPv6 address without brackets"},
		{"udp://[::1", `missing "]"`},
		{"udp://[10.0.0.1]:514", "is not an IPv6 address"},
		{"udp://[::1]x", `unexpected "x" after the IPv6 address`},
		{"udp://[fe80::1%eth0]:514", "zoned IPv6"},
		{"udp://127.0.0.1/path", `unexpected '/'`},
		{"udp://user@127.0.0.1", `unexpected '@'`},
		{"udp://127.0.0.1#frag", `unexpected '#'`},
		{"udp://127.0.0.1?", "empty query"},
		{"udp://127.0.0.1?fmt=rfc5424", `unknown option "fmt"`},
		{"udp://127.0.0.1?format=json", `unknown format "json"`},
		{"udp://bad host", `' ' is not allowed`},
		{"udp://-bad.example", `may not start or end with "-"`},
		{"udp://a..b", "bad name"},
		{"udp://" + strings.Repeat("a", 64) + ".example", "bad name"},
	} {
		_, err := ParseTarget(tt.in)
		if err == nil {
			t.Errorf("ParseTarget(%q) succeeded, want an error with %q", tt.in, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseTarget(%q) error = %q, want it to contain %q", tt.in, err, tt.want)
		}
		if !errors.Is(err, ErrInvalidTarget) {
			t.Errorf("ParseTarget(%q) error does not wrap ErrInvalidTarget", tt.in)
		}
		if !strings.Contains(err.Error(), tt.in) {
			t.Errorf("ParseTarget(%q) error %q does not quote the input", tt.in, err)
		}
	}
}

func TestTargetValidate(t *testing.T) {
	for _, tt := range []struct {
		t    Target
		want string // "" = valid
	}{
		{Target{Addr: "127.0.0.1:514"}, ""},
		{Target{Network: "tcp", Addr: "[::1]:601", Format: "rfc5424"}, ""},
		{Target{Network: "sctp", Addr: "127.0.0.1:514"}, `unknown transport "sctp"`},
		{Target{Addr: "127.0.0.1:514", Format: "cef"}, `unknown format "cef"`},
		{Target{Addr: "127.0.0.1"}, "want host:port"},
		{Target{Addr: "127.0.0.1:0"}, "out of range"},
		{Target{Addr: ":514"}, "missing host"},
	} {
		err := tt.t.Validate()
		if tt.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", tt.t, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalidTarget) {
			t.Errorf("%+v: error %v, want %q wrapping ErrInvalidTarget", tt.t, err, tt.want)
		}
	}
}

func TestParseLoggingHost(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Target
		line string // ConfigLine(), when it differs from "logging host "+in
	}{
		{"192.0.2.10", Target{"udp", "192.0.2.10:514", "rfc3164"}, ""},
		{"192.0.2.10 transport udp port 5514", Target{"udp", "192.0.2.10:5514", "rfc3164"}, ""},
		{"192.0.2.10 transport udp port 514", Target{"udp", "192.0.2.10:514", "rfc3164"}, "logging host 192.0.2.10"},
		{"syslog.example.net transport tcp port 6514", Target{"tcp", "syslog.example.net:6514", "rfc3164"}, ""},
		{"192.0.2.10 transport tcp", Target{"tcp", "192.0.2.10:601", "rfc3164"}, ""},
		{"ipv6 2001:db8::10 transport tcp", Target{"tcp", "[2001:db8::10]:601", "rfc3164"}, ""},
		{"2001:db8::10", Target{"udp", "[2001:db8::10]:514", "rfc3164"}, "logging host ipv6 2001:db8::10"},
		{"192.0.2.10 transport tcp format rfc5424", Target{"tcp", "192.0.2.10:601", "rfc5424"}, ""},
		{"192.0.2.10 port 5514 TRANSPORT TCP", Target{"tcp", "192.0.2.10:5514", "rfc3164"}, "logging host 192.0.2.10 transport tcp port 5514"},
		{"192.0.2.10 format rfc5424", Target{"udp", "192.0.2.10:514", "rfc5424"}, ""},
	} {
		got, err := ParseLoggingHost(tt.in)
		if err != nil {
			t.Errorf("ParseLoggingHost(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseLoggingHost(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		line := tt.line
		if line == "" {
			line = "logging host " + tt.in
		}
		if got.ConfigLine() != line {
			t.Errorf("ParseLoggingHost(%q).ConfigLine() = %q, want %q", tt.in, got.ConfigLine(), line)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"", "missing host"},
		{"ipv6", "missing IPv6 address"},
		{"ipv6 192.0.2.1", "is not an IPv6 address"},
		{"192.0.2.10 transport", "missing udp or tcp"},
		{"192.0.2.10 transport sctp", `unknown transport "sctp"`},
		{"192.0.2.10 port", `missing number after "port"`},
		{"192.0.2.10 port 70000", "out of range"},
		{"192.0.2.10 format", "missing rfc3164 or rfc5424"},
		{"192.0.2.10 format xml", `unknown format "xml"`},
		{"192.0.2.10 vrf mgmt", `unknown keyword "vrf"`},
		{"bad!host", `'!' is not allowed`},
	} {
		_, err := ParseLoggingHost(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalidTarget) {
			t.Errorf("ParseLoggingHost(%q) error = %v, want %q", tt.in, err, tt.want)
		}
	}
}

// FuzzParseTarget checks that ParseTarget never panics, that what it
// accepts is valid, and that String gives back the same target.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{
		"udp://127.0.0.1:5514", "tcp://[::1]:601", "udp://host", "udp://host?format=rfc5424",
		"tcp://a.b.c:1?format=rfc3164&format=rfc5424", "udp://[::ffff:1.2.3.4]", "udp://[fe80::1%25eth0]:1",
		"udp://1.2.3.4:00514", "udp://", "://", "tcp://[", "udp://é",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidTarget) {
				t.Fatalf("ParseTarget(%q) error %v does not wrap ErrInvalidTarget", s, err)
			}
			return
		}
		if err := tg.Validate(); err != nil {
			t.Fatalf("ParseTarget(%q) = %+v, which fails Validate: %v", s, tg, err)
		}
		back, err := ParseTarget(tg.String())
		if err != nil {
			t.Fatalf("ParseTarget(%q).String() = %q does not parse: %v", s, tg.String(), err)
		}
		if back != tg {
			t.Fatalf("round trip of %q: %+v, then %+v", s, tg, back)
		}
		line, err := ParseLoggingHost(strings.TrimPrefix(tg.ConfigLine(), "logging host "))
		if err != nil {
			t.Fatalf("ConfigLine %q of %q does not parse: %v", tg.ConfigLine(), s, err)
		}
		if line != tg {
			t.Fatalf("config line round trip of %q: %+v, then %+v", s, tg, line)
		}
	})
}

// FuzzParseLoggingHost checks the configuration file form the same way.
func FuzzParseLoggingHost(f *testing.F) {
	for _, s := range []string{
		"192.0.2.10", "192.0.2.10 transport tcp port 6514 format rfc5424", "ipv6 2001:db8::1 transport udp",
		"2001:db8::1", "host port 1 port 2", "ipv6", "x transport", "a.b port 65535",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseLoggingHost(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidTarget) {
				t.Fatalf("ParseLoggingHost(%q) error %v does not wrap ErrInvalidTarget", s, err)
			}
			return
		}
		if err := tg.Validate(); err != nil {
			t.Fatalf("ParseLoggingHost(%q) = %+v, which fails Validate: %v", s, tg, err)
		}
		back, err := ParseLoggingHost(strings.TrimPrefix(tg.ConfigLine(), "logging host "))
		if err != nil || back != tg {
			t.Fatalf("round trip of %q via %q: %+v, %v", s, tg.ConfigLine(), back, err)
		}
		if u, err := ParseTarget(tg.String()); err != nil || u != tg {
			t.Fatalf("ParseTarget(%q) = %+v, %v; want %+v", tg.String(), u, err, tg)
		}
	})
}

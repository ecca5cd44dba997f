package syslog

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Transports and formats of a Target.
const (
	NetworkUDP    = "udp"
	NetworkTCP    = "tcp"
	FormatRFC3164 = "rfc3164"
	FormatRFC5424 = "rfc5424"
)

// Default ports: 514 for UDP (RFC 5426) and 601 for TCP, the port IOS uses
// for `logging host … transport tcp`.
const (
	DefaultUDPPort = 514
	DefaultTCPPort = 601
)

// ErrInvalidTarget is wrapped by every error about a target.
var ErrInvalidTarget = errors.New("invalid syslog target")

// Target is one remote syslog host.
type Target struct {
	Network string // "udp" (default) or "tcp"
	Addr    string // host:port
	Format  string // "rfc3164" (default) or "rfc5424"
}

// String returns the target in the form ParseTarget reads:
// "udp://192.0.2.1:514", "tcp://[2001:db8::1]:601?format=rfc5424".
func (t Target) String() string {
	s := t.network() + "://" + t.Addr
	if t.format() != FormatRFC3164 {
		s += "?format=" + t.format()
	}
	return s
}

func (t Target) network() string {
	if t.Network == "" {
		return NetworkUDP
	}
	return t.Network
}

func (t Target) format() string {
	if t.Format == "" {
		return FormatRFC3164
	}
	return t.Format
}

// Validate reports what is wrong with a target; empty Network and Format
// mean udp and rfc3164.
func (t Target) Validate() error {
	switch t.network() {
	case NetworkUDP, NetworkTCP:
	default:
		return fmt.Errorf("%w: unknown transport %q (want udp or tcp)", ErrInvalidTarget, t.Network)
	}
	switch t.format() {
	case FormatRFC3164, FormatRFC5424:
	default:
		return fmt.Errorf("%w: unknown format %q (want rfc3164 or rfc5424)", ErrInvalidTarget, t.Format)
	}
	host, port, err := net.SplitHostPort(t.Addr)
	if err != nil {
		return fmt.Errorf("%w: address %q: want host:port", ErrInvalidTarget, t.Addr)
	}
	if err := checkHost(host); err != nil {
		return fmt.Errorf("%w: address %q: %w", ErrInvalidTarget, t.Addr, err)
	}
	if _, err := parsePort(port); err != nil {
		return fmt.Errorf("%w: address %q: %w", ErrInvalidTarget, t.Addr, err)
	}
	return nil
}

// ParseTarget reads a target as the --syslog flag gives it:
// "udp://HOST[:PORT]" or "tcp://HOST[:PORT]", an IPv6 address in brackets,
// the port 514 for UDP and 601 for TCP when left out, and an optional
// "?format=rfc5424" (or rfc3164, the default).
func ParseTarget(s string) (Target, error) {
	errf := func(format string, args ...any) (Target, error) {
		return Target{}, fmt.Errorf("%w %q: %s", ErrInvalidTarget, s, fmt.Sprintf(format, args...))
	}
	scheme, rest, found := strings.Cut(s, "://")
	if !found {
		return errf("missing transport: want udp://HOST[:PORT] or tcp://HOST[:PORT]")
	}
	var t Target
	switch strings.ToLower(scheme) {
	case NetworkUDP:
		t.Network = NetworkUDP
	case NetworkTCP:
		t.Network = NetworkTCP
	default:
		return errf("unknown transport %q (want udp or tcp)", scheme)
	}
	hostport, query, hasQuery := strings.Cut(rest, "?")
	if i := strings.IndexAny(hostport, "/#@"); i >= 0 {
		return errf("unexpected %q after the host (want HOST[:PORT] only)", hostport[i])
	}
	t.Format = FormatRFC3164
	if hasQuery {
		if query == "" {
			return errf("empty query after \"?\"")
		}
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			if k != "format" {
				return errf("unknown option %q (want format=rfc3164 or format=rfc5424)", k)
			}
			switch strings.ToLower(v) {
			case FormatRFC3164:
				t.Format = FormatRFC3164
			case FormatRFC5424:
				t.Format = FormatRFC5424
			default:
				return errf("unknown format %q (want rfc3164 or rfc5424)", v)
			}
		}
	}
	host, port, hasPort, err := splitHostPort(hostport)
	if err != nil {
		return errf("%v", err)
	}
	if err := checkHost(host); err != nil {
		return errf("%v", err)
	}
	p := t.defaultPort()
	if hasPort {
		if p, err = parsePort(port); err != nil {
			return errf("%v", err)
		}
	}
	t.Addr = net.JoinHostPort(host, strconv.Itoa(p))
	return t, nil
}

func (t Target) defaultPort() int {
	if t.network() == NetworkTCP {
		return DefaultTCPPort
	}
	return DefaultUDPPort
}

// splitHostPort splits "host", "host:port", "[v6]" and "[v6]:port"; a bare
// IPv6 address without brackets is refused because its last group would
// read as a port.
func splitHostPort(s string) (host, port string, hasPort bool, err error) {
	if s == "" {
		return "", "", false, errors.New("missing host")
	}
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", false, errors.New("missing \"]\" after the IPv6 address")
		}
		host, rest := s[1:end], s[end+1:]
		if _, err := netip.ParseAddr(host); err != nil || !strings.Contains(host, ":") {
			return "", "", false, fmt.Errorf("%q in brackets is not an IPv6 address", host)
		}
		switch {
		case rest == "":
			return host, "", false, nil
		case strings.HasPrefix(rest, ":"):
			return host, rest[1:], true, nil
		}
		return "", "", false, fmt.Errorf("unexpected %q after the IPv6 address", rest)
	}
	switch strings.Count(s, ":") {
	case 0:
		return s, "", false, nil
	case 1:
		host, port, _ := strings.Cut(s, ":")
		return host, port, true, nil
	}
	return "", "", false, errors.New("IPv6 address without brackets (write [ADDR]:PORT)")
}

// checkHost accepts an IP address or a DNS name.
func checkHost(host string) error {
	if host == "" {
		return errors.New("missing host")
	}
	if _, err := netip.ParseAddr(host); err == nil {
		if strings.Contains(host, "%") {
			return fmt.Errorf("host %q: zoned IPv6 addresses are not supported", host)
		}
		return nil
	}
	if len(host) > 253 {
		return fmt.Errorf("host name longer than 253 characters")
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("host %q: bad name (empty or longer than 63 characters between dots)", host)
		}
		for _, c := range label {
			if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' {
				return fmt.Errorf("host %q: %q is not allowed in a host name", host, c)
			}
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("host %q: a name may not start or end with \"-\"", host)
		}
	}
	return nil
}

func parsePort(s string) (int, error) {
	if s == "" {
		return 0, errors.New("empty port")
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("port %q is not a number", s)
		}
	}
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("port %s out of range 1..65535", s)
	}
	return p, nil
}

// ParseLoggingHost reads the words after "logging host" in the device
// configuration file:
//
//	logging host 192.0.2.10
//	logging host 192.0.2.10 transport udp port 5514
//	logging host syslog.example.net transport tcp port 6514
//	logging host ipv6 2001:db8::10 transport tcp
//	logging host 192.0.2.10 transport tcp format rfc5424
//
// The "format" keyword is this project's; the rest is IOS syntax. An IPv6
// address may also stand alone, without "ipv6". The port defaults to 514
// for UDP and 601 for TCP.
func ParseLoggingHost(args string) (Target, error) {
	words := strings.Fields(args)
	errf := func(format string, a ...any) (Target, error) {
		return Target{}, fmt.Errorf("%w: logging host %s: %s", ErrInvalidTarget, strings.Join(words, " "), fmt.Sprintf(format, a...))
	}
	if len(words) == 0 {
		return errf("missing host")
	}
	host := words[0]
	rest := words[1:]
	v6 := false
	if strings.EqualFold(host, "ipv6") {
		if len(rest) == 0 {
			return errf("missing IPv6 address after \"ipv6\"")
		}
		host, rest, v6 = rest[0], rest[1:], true
	}
	if _, err := netip.ParseAddr(host); v6 && (err != nil || !strings.Contains(host, ":")) {
		return errf("%q is not an IPv6 address", host)
	}
	if err := checkHost(host); err != nil {
		return errf("%v", err)
	}
	t := Target{Network: NetworkUDP, Format: FormatRFC3164}
	port := 0
	for len(rest) > 0 {
		switch kw := strings.ToLower(rest[0]); kw {
		case "transport":
			if len(rest) < 2 {
				return errf("missing udp or tcp after \"transport\"")
			}
			switch strings.ToLower(rest[1]) {
			case NetworkUDP:
				t.Network = NetworkUDP
			case NetworkTCP:
				t.Network = NetworkTCP
			default:
				return errf("unknown transport %q (want udp or tcp)", rest[1])
			}
			rest = rest[2:]
		case "port":
			if len(rest) < 2 {
				return errf("missing number after \"port\"")
			}
			p, err := parsePort(rest[1])
			if err != nil {
				return errf("%v", err)
			}
			port, rest = p, rest[2:]
		case "format":
			if len(rest) < 2 {
				return errf("missing rfc3164 or rfc5424 after \"format\"")
			}
			switch strings.ToLower(rest[1]) {
			case FormatRFC3164:
				t.Format = FormatRFC3164
			case FormatRFC5424:
				t.Format = FormatRFC5424
			default:
				return errf("unknown format %q (want rfc3164 or rfc5424)", rest[1])
			}
			rest = rest[2:]
		default:
			return errf("unknown keyword %q (want transport, port or format)", rest[0])
		}
	}
	if port == 0 {
		port = t.defaultPort()
	}
	t.Addr = net.JoinHostPort(host, strconv.Itoa(port))
	return t, nil
}

// ConfigLine returns the target as a line of the device configuration
// file, in the form ParseLoggingHost reads after "logging host". Defaults
// are left out.
func (t Target) ConfigLine() string {
	host, port, err := net.SplitHostPort(t.Addr)
	if err != nil {
		return "logging host " + t.Addr
	}
	var b strings.Builder
	b.WriteString("logging host ")
	if strings.Contains(host, ":") {
		b.WriteString("ipv6 ")
	}
	b.WriteString(host)
	if t.network() == NetworkTCP {
		b.WriteString(" transport tcp")
	}
	if port != strconv.Itoa(t.defaultPort()) {
		if t.network() == NetworkUDP {
			b.WriteString(" transport udp")
		}
		b.WriteString(" port " + port)
	}
	if t.format() != FormatRFC3164 {
		b.WriteString(" format " + t.format())
	}
	return b.String()
}

package syslog

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Longest line sent per format: RFC 3164 limits a packet to 1024 bytes;
// RFC 5424 receivers should accept 2048. Longer messages are cut.
const (
	maxLine3164 = 1024
	maxLine5424 = 2048
)

// header carries what every line of one Logger shares.
type header struct {
	facility int
	hostname string // already cleaned
	appName  string // already cleaned
	procID   string
	loc      *time.Location
}

// line renders a message for the wire, without transport framing.
//
// RFC 3164, in the form rsyslog and syslog-ng parse into host, tag and text:
//
//	<190>Mar  1 00:01:02 sw1 %LICENSE-6-INSTALL: Feature ipservices 1.0 …
//
// RFC 5424, with the mnemonic as MSGID and no structured data:
//
//	<190>1 2025-03-01T00:01:02.123Z sw1 licensed 4711 INSTALL - %LICENSE-6-INSTALL: Feature …
func (h header) line(format string, t time.Time, m Message) []byte {
	pri := "<" + strconv.Itoa(h.facility*8+m.Severity) + ">"
	t = t.In(h.loc)
	var b []byte
	limit := maxLine3164
	if format == FormatRFC5424 {
		limit = maxLine5424
		b = append(b, pri+"1 "...)
		b = t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
		b = append(b, ' ')
		b = append(b, h.hostname...)
		b = append(b, ' ')
		b = append(b, h.appName...)
		b = append(b, ' ')
		b = append(b, h.procID...)
		b = append(b, ' ')
		b = append(b, m.Mnemonic...)
		b = append(b, " - "...)
	} else {
		b = append(b, pri...)
		b = t.AppendFormat(b, time.Stamp)
		b = append(b, ' ')
		b = append(b, h.hostname...)
		b = append(b, ' ')
	}
	b = append(b, cleanText(m.String())...)
	return truncate(b, limit)
}

// localLine is one line of the local log, with the timestamp devices print
// under `service timestamps log datetime msec show-timezone`.
func (h header) localLine(t time.Time, m Message) []byte {
	b := t.In(h.loc).AppendFormat(nil, "Jan _2 15:04:05.000 MST")
	b = append(b, ": "...)
	b = append(b, cleanText(m.String())...)
	return append(b, '\n')
}

// octetCounted frames a line for TCP as RFC 6587 octet counting:
// "LEN SP MSG".
func octetCounted(line []byte) []byte {
	b := strconv.AppendInt(nil, int64(len(line)), 10)
	b = append(b, ' ')
	return append(b, line...)
}

// cleanText replaces control characters (which would split or escape a
// line at the receiver) by spaces and invalid UTF-8 by U+FFFD.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// cleanHostname keeps the characters an RFC 3164 parser accepts in the
// host field (letters, digits, '.', '-', '_'), replacing the rest by '-',
// and cuts it at 255 bytes (the RFC 5424 limit).
func cleanHostname(s string) string {
	b := []byte(s)
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '.' && c != '-' && c != '_' {
			b[i] = '-'
		}
	}
	if len(b) > 255 {
		b = b[:255]
	}
	return string(b)
}

// cleanAppName keeps printable ASCII without spaces and cuts it at 48
// bytes (the RFC 5424 APP-NAME limit).
func cleanAppName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 33 || c > 126 {
			b[i] = '_'
		}
	}
	if len(b) > 48 {
		b = b[:48]
	}
	return string(b)
}

// truncate cuts b to at most n bytes without splitting a UTF-8 sequence.
func truncate(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	b = b[:n]
	// The input is valid UTF-8, so only the last rune can be cut short.
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				b = b[:i]
			}
			break
		}
	}
	return b
}

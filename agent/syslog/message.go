package syslog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Severity levels (RFC 5424 numbers), named by the `logging trap` keywords.
const (
	SeverityEmergencies   = 0
	SeverityAlerts        = 1
	SeverityCritical      = 2
	SeverityErrors        = 3
	SeverityWarnings      = 4
	SeverityNotifications = 5
	SeverityInformational = 6
	SeverityDebugging     = 7
)

// severityNames are the `logging trap` keywords, indexed by severity.
func severityNames() [8]string {
	return [8]string{"emergencies", "alerts", "critical", "errors",
		"warnings", "notifications", "informational", "debugging"}
}

// SeverityName returns the `logging trap` keyword of a severity
// ("informational" for 6), or the number itself when it is out of range.
func SeverityName(sev int) string {
	if sev < 0 || sev > 7 {
		return strconv.Itoa(sev)
	}
	return severityNames()[sev]
}

// ParseSeverity reads a `logging trap` level: a keyword (emergencies,
// alerts, critical, errors, warnings, notifications, informational,
// debugging; case-insensitive) or a number 0..7.
func ParseSeverity(s string) (int, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 7 {
			return 0, fmt.Errorf("syslog severity %d out of range 0..7", n)
		}
		return n, nil
	}
	for i, name := range severityNames() {
		if strings.EqualFold(s, name) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown syslog severity %q (want 0..7 or emergencies, alerts, critical, errors, warnings, notifications, informational, debugging)", s)
}

// FacilityLocal7 is the syslog facility IOS devices use unless told
// otherwise (`logging facility local7`).
const FacilityLocal7 = 23

func facilityNames() [24]string {
	return [24]string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr",
		"news", "uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock",
		"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}
}

// ParseFacility reads a `logging facility` value: a name (user, daemon,
// auth, local0 … local7 and the other RFC 5424 names; case-insensitive) or
// a number 0..23.
func ParseFacility(s string) (int, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 23 {
			return 0, fmt.Errorf("syslog facility %d out of range 0..23", n)
		}
		return n, nil
	}
	for i, name := range facilityNames() {
		if strings.EqualFold(s, name) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown syslog facility %q (want 0..23 or a name such as local7)", s)
}

// FacilityName returns the name of a syslog facility code ("local7" for 23),
// or the number itself when it is out of range.
func FacilityName(f int) string {
	if f < 0 || f > 23 {
		return strconv.Itoa(f)
	}
	return facilityNames()[f]
}

// Message is one IOS-style system message: %FACILITY-SEVERITY-MNEMONIC: Text.
// Facility here is the IOS message facility ("LICENSE"), not the syslog
// facility of the packet, which is Config.Facility.
type Message struct {
	Facility string // "LICENSE"
	Severity int    // 0..7
	Mnemonic string // "INSTALL"
	Text     string
}

// String returns the message as devices print it:
// "%LICENSE-6-INSTALL: Feature ipservices 1.0 was installed in this device. …".
func (m Message) String() string {
	return "%" + m.Facility + "-" + strconv.Itoa(m.Severity) + "-" + m.Mnemonic + ": " + m.Text
}

// Tag returns "%FACILITY-SEVERITY-MNEMONIC" without the colon.
func (m Message) Tag() string {
	return "%" + m.Facility + "-" + strconv.Itoa(m.Severity) + "-" + m.Mnemonic
}

// maxMnemonic is the RFC 5424 MSGID limit; the mnemonic is sent as MSGID.
const maxMnemonic = 32

// Validate reports what is wrong with a message built by hand: the facility
// and mnemonic must be upper-case letters, digits and underscores (the
// mnemonic at most 32 characters, the RFC 5424 MSGID limit), the severity
// 0..7, and the text not empty.
func (m Message) Validate() error {
	var errs []error
	if err := checkName("facility", m.Facility, 0); err != nil {
		errs = append(errs, err)
	}
	if m.Severity < 0 || m.Severity > 7 {
		errs = append(errs, fmt.Errorf("severity %d out of range 0..7", m.Severity))
	}
	if err := checkName("mnemonic", m.Mnemonic, maxMnemonic); err != nil {
		errs = append(errs, err)
	}
	if strings.TrimSpace(m.Text) == "" {
		errs = append(errs, errors.New("empty text"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid syslog message %q: %w", m.Tag(), errors.Join(errs...))
	}
	return nil
}

func checkName(what, s string, limit int) error {
	if s == "" {
		return fmt.Errorf("empty %s", what)
	}
	if limit > 0 && len(s) > limit {
		return fmt.Errorf("%s %q longer than %d characters", what, s, limit)
	}
	for _, c := range s {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return fmt.Errorf("%s %q has %q (want A-Z, 0-9 and _)", what, s, c)
		}
	}
	return nil
}

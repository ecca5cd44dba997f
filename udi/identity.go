package udi

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
)

// Limits on identity values. Cisco PIDs are at most 18 characters and
// serial numbers 11; the limits leave room for other vendors' hardware
// while keeping UDIs short enough for CLI columns and SNMP strings.
const (
	MaxPIDLen      = 32
	MaxSNLen       = 32
	MaxHostnameLen = 63
	MaxPlatformLen = 32
	// MaxMembers is the largest stack a 3750-E forms.
	MaxMembers = 9
)

// Errors at the package edge.
var (
	// ErrNoIdentity: no source gave a usable PID and SN.
	ErrNoIdentity = errors.New("no device identity")
	// ErrInvalidIdentity: an identity (file or value) breaks a rule.
	ErrInvalidIdentity = errors.New("invalid identity")
	// ErrInvalidEEPROM: bytes that are not a well-formed TlvInfo EEPROM.
	ErrInvalidEEPROM = errors.New("invalid TlvInfo EEPROM")
)

// Member is one device of a stack (a lone device is a stack of one).
type Member struct {
	PID    string `json:"pid"`
	SN     string `json:"sn"`
	Active bool   `json:"active,omitempty"`
}

// UDI returns "PID:SN".
func (m Member) UDI() string { return m.PID + ":" + m.SN }

// Identity is who the device is. Marshalled as JSON it is a valid identity
// file (Source is left out).
type Identity struct {
	Hostname string `json:"hostname"`
	// Platform is a catalog id: c3750e, c2900, uc500; "" if nothing says.
	Platform string `json:"platform,omitempty"`
	// Members has at least one member and exactly one is Active.
	Members []Member `json:"members"`
	// Source says what the identity was read from, for show output and logs.
	Source string `json:"-"`
}

// Active returns the active member: the one marked, else the first. An
// identity without members gives the zero Member.
func (id *Identity) Active() Member {
	for _, m := range id.Members {
		if m.Active {
			return m
		}
	}
	if len(id.Members) > 0 {
		return id.Members[0]
	}
	return Member{}
}

// Validate checks every rule an identity must keep: a valid hostname and
// platform, 1 to MaxMembers members with valid PIDs and SNs, no serial
// number twice, exactly one active member. The error wraps
// ErrInvalidIdentity and names the member and field at fault.
func (id *Identity) Validate() error {
	if err := CheckHostname(id.Hostname); err != nil {
		return invalidf("hostname: %v", err)
	}
	if id.Platform != "" {
		if err := CheckPlatform(id.Platform); err != nil {
			return invalidf("platform: %v", err)
		}
	}
	if len(id.Members) == 0 {
		return invalidf("members: no members: a device has at least one")
	}
	if len(id.Members) > MaxMembers {
		return invalidf("members: %d members, more than the %d a stack may have", len(id.Members), MaxMembers)
	}
	active := -1
	for i, m := range id.Members {
		if err := CheckPID(m.PID); err != nil {
			return invalidf("members[%d].pid: %v", i, err)
		}
		if err := CheckSN(m.SN); err != nil {
			return invalidf("members[%d].sn: %v", i, err)
		}
		for j := range i {
			if strings.EqualFold(id.Members[j].SN, m.SN) {
				return invalidf("members[%d].sn: serial number %q is also members[%d]'s", i, m.SN, j)
			}
		}
		if m.Active {
			if active >= 0 {
				return invalidf("members[%d].active: more than one active member (members[%d] is active too)", i, active)
			}
			active = i
		}
	}
	if active < 0 {
		return invalidf("members: no member is active")
	}
	return nil
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidIdentity, fmt.Sprintf(format, args...))
}

// CheckPID reports whether s is a usable product ID: 1 to MaxPIDLen
// characters, letters, digits and - / + . _, starting with a letter or
// digit. ":" is never allowed: it separates PID and SN in a UDI.
func CheckPID(s string) error {
	return checkToken(s, "PID", MaxPIDLen, "-/+._")
}

// CheckSN reports whether s is a usable serial number: 1 to MaxSNLen
// characters, letters, digits and - . _, starting with a letter or digit.
func CheckSN(s string) error {
	return checkToken(s, "serial number", MaxSNLen, "-._")
}

// CheckHostname reports whether s is a usable hostname: 1 to
// MaxHostnameLen characters, letters, digits and - . _, starting with a
// letter or digit.
func CheckHostname(s string) error {
	return checkToken(s, "hostname", MaxHostnameLen, "-._")
}

// CheckPlatform reports whether s looks like a catalog id: 1 to
// MaxPlatformLen lower-case letters and digits, starting with a letter.
// Whether the catalog knows it is for the caller to decide.
func CheckPlatform(s string) error {
	if s == "" {
		return errors.New("empty platform")
	}
	if len(s) > MaxPlatformLen {
		return fmt.Errorf("platform %q is %d characters, longer than %d", s, len(s), MaxPlatformLen)
	}
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return fmt.Errorf("platform %q has %q at position %d; a platform id is lower-case letters and digits, starting with a letter", s, r, i+1)
		}
	}
	return nil
}

func checkToken(s, what string, maxLen int, punct string) error {
	if s == "" {
		return fmt.Errorf("empty %s", what)
	}
	if len(s) > maxLen {
		return fmt.Errorf("%s %q is %d characters, longer than %d", what, s, len(s), maxLen)
	}
	for i, r := range s {
		alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if alnum {
			continue
		}
		if i == 0 {
			return fmt.Errorf("%s %q starts with %q; it must start with a letter or digit", what, s, r)
		}
		if !strings.ContainsRune(punct, r) {
			return fmt.Errorf("%s %q has %q at position %d; allowed are letters, digits and %s", what, s, r, i+1, spaced(punct))
		}
	}
	return nil
}

func spaced(punct string) string {
	return strings.Join(strings.Split(punct, ""), " ")
}

// ParseUDI splits "PID:SN" into a member (not marked active) and checks
// both halves.
func ParseUDI(s string) (Member, error) {
	pid, sn, ok := strings.Cut(s, ":")
	if !ok {
		return Member{}, fmt.Errorf("%w: UDI %q has no ':' between PID and SN", ErrInvalidIdentity, s)
	}
	if err := CheckPID(pid); err != nil {
		return Member{}, fmt.Errorf("%w: UDI %q: %v", ErrInvalidIdentity, s, err)
	}
	if err := CheckSN(sn); err != nil {
		return Member{}, fmt.Errorf("%w: UDI %q: %v", ErrInvalidIdentity, s, err)
	}
	return Member{PID: pid, SN: sn}, nil
}

// DefaultHostname is the name IOS gives an unconfigured device of the
// platform: "Router" for the c2900 routers, "Switch" for the rest.
func DefaultHostname(platform string) string {
	if platform == "c2900" {
		return "Router"
	}
	return "Switch"
}

// PlatformForPID returns the catalog id that a known Cisco PID implies, or
// "" for any other PID.
func PlatformForPID(pid string) string {
	switch {
	case strings.HasPrefix(pid, "WS-C3750E-"):
		return "c3750e"
	case strings.HasPrefix(pid, "CISCO29"):
		return "c2900"
	case strings.HasPrefix(pid, "UC5"):
		return "uc500"
	}
	return ""
}

//go:embed demo.json
var demoJSON string

// DemoSource is the Source of the DefaultDemo identity.
const DemoSource = "built-in demo identity"

// DefaultDemo returns a new copy of the demo device, a Catalyst 3750-E
// named sw1 with the UDI WS-C3750E-24TD-S:FDO1234X0AB. A simulated device
// started without --identity is this one.
func DefaultDemo() *Identity {
	id, err := ParseIdentityJSON([]byte(demoJSON))
	if err != nil {
		// demo.json is part of the package and checked by its tests.
		panic("udi: built-in demo identity: " + err.Error())
	}
	id.Source = DemoSource
	return id
}

package snmp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gosnmp/gosnmp"
	"github.com/licensed-dev/licensed/agent"
)

// User is an SNMPv3 USM user.
type User struct {
	Name string
	// Auth is "SHA" (HMAC-SHA-96), "SHA-224", "SHA-256", "SHA-384" or
	// "SHA-512" (RFC 7860), or "" for a user without authentication.
	Auth     string
	AuthPass string
	// Priv is "AES" (AES-128, RFC 3826), "AES-192" or "AES-256" (the
	// Blumenthal key extension, as net-snmp's AES-192/AES-256), or "" for
	// authNoPriv.
	Priv     string
	PrivPass string
}

// minPassLen is the shortest pass phrase accepted (RFC 3414 §11.2; the
// net-snmp tools refuse shorter ones too).
const minPassLen = 8

// ParseUser reads the --snmp-v3-user flag: "NAME:AUTH:AUTHPASS:PRIV:PRIVPASS"
// (authPriv) or "NAME:AUTH:AUTHPASS" (authNoPriv), e.g.
// "nms:SHA-256:secret-auth:AES-256:secret-priv". The protocol names are
// case-insensitive; the authentication pass phrase cannot contain ':'.
func ParseUser(s string) (User, error) {
	parts := strings.SplitN(s, ":", 5)
	var u User
	switch len(parts) {
	case 3:
		u = User{Name: parts[0], Auth: parts[1], AuthPass: parts[2]}
	case 5:
		u = User{Name: parts[0], Auth: parts[1], AuthPass: parts[2], Priv: parts[3], PrivPass: parts[4]}
	default:
		return User{}, fmt.Errorf("snmp user %q: want NAME:AUTH:AUTHPASS or NAME:AUTH:AUTHPASS:PRIV:PRIVPASS", redactUser(s))
	}
	if u.Auth == "" {
		return User{}, fmt.Errorf("snmp user %q: authentication protocol is empty", u.Name)
	}
	if err := u.normalize(); err != nil {
		return User{}, err
	}
	return u, nil
}

// redactUser hides pass phrases in an unparsable user string.
func redactUser(s string) string {
	name, _, found := strings.Cut(s, ":")
	if !found {
		return name
	}
	return name + ":…"
}

// normalize checks u and puts its protocol names in canonical form.
func (u *User) normalize() error {
	if u.Name == "" || len(u.Name) > 32 {
		return fmt.Errorf("snmp user name %q: must be 1 to 32 characters", u.Name)
	}
	for _, r := range u.Name {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) || r == ' ' || r == ':' {
			return fmt.Errorf("snmp user name %q: only printable ASCII without spaces or ':'", u.Name)
		}
	}
	auth, ok := authNames[normName(u.Auth)]
	if !ok {
		return fmt.Errorf("snmp user %q: unknown authentication protocol %q (want SHA, SHA-224, SHA-256, SHA-384 or SHA-512)", u.Name, u.Auth)
	}
	priv, ok := privNames[normName(u.Priv)]
	if !ok {
		return fmt.Errorf("snmp user %q: unknown privacy protocol %q (want AES, AES-192 or AES-256)", u.Name, u.Priv)
	}
	if auth.proto == gosnmp.NoAuth && priv.proto != gosnmp.NoPriv {
		return fmt.Errorf("snmp user %q: privacy needs authentication", u.Name)
	}
	if auth.proto != gosnmp.NoAuth && len(u.AuthPass) < minPassLen {
		return fmt.Errorf("snmp user %q: authentication pass phrase must have at least %d characters", u.Name, minPassLen)
	}
	if priv.proto != gosnmp.NoPriv && len(u.PrivPass) < minPassLen {
		return fmt.Errorf("snmp user %q: privacy pass phrase must have at least %d characters", u.Name, minPassLen)
	}
	u.Auth, u.Priv = auth.name, priv.name
	return nil
}

// protocols returns the gosnmp protocols of a normalized user.
func (u *User) protocols() (gosnmp.SnmpV3AuthProtocol, gosnmp.SnmpV3PrivProtocol) {
	return authNames[normName(u.Auth)].proto, privNames[normName(u.Priv)].proto
}

// level is the security level the user is configured for.
func (u *User) level() gosnmp.SnmpV3MsgFlags {
	a, p := u.protocols()
	switch {
	case p != gosnmp.NoPriv:
		return gosnmp.AuthPriv
	case a != gosnmp.NoAuth:
		return gosnmp.AuthNoPriv
	}
	return gosnmp.NoAuthNoPriv
}

// securityParameters returns USM parameters for u with keys localized to
// engineID ("" leaves localization to gosnmp's discovery).
func (u *User) securityParameters(engineID []byte) (*gosnmp.UsmSecurityParameters, error) {
	a, p := u.protocols()
	sp := &gosnmp.UsmSecurityParameters{
		UserName:                 u.Name,
		AuthenticationProtocol:   a,
		PrivacyProtocol:          p,
		AuthenticationPassphrase: u.AuthPass,
		PrivacyPassphrase:        u.PrivPass,
		AuthoritativeEngineID:    string(engineID),
	}
	if len(engineID) > 0 {
		if err := sp.InitSecurityKeys(); err != nil {
			return nil, fmt.Errorf("snmp user %q: localizing keys: %w", u.Name, err)
		}
	}
	return sp, nil
}

func normName(s string) string {
	return strings.ReplaceAll(strings.ToUpper(strings.TrimSpace(s)), "-", "")
}

type authName struct {
	name  string
	proto gosnmp.SnmpV3AuthProtocol
}

type privName struct {
	name  string
	proto gosnmp.SnmpV3PrivProtocol
}

// Protocol names, keyed by upper case without hyphens.
var (
	authNames = map[string]authName{
		"":       {"", gosnmp.NoAuth},
		"SHA":    {"SHA", gosnmp.SHA},
		"SHA1":   {"SHA", gosnmp.SHA},
		"SHA224": {"SHA-224", gosnmp.SHA224},
		"SHA256": {"SHA-256", gosnmp.SHA256},
		"SHA384": {"SHA-384", gosnmp.SHA384},
		"SHA512": {"SHA-512", gosnmp.SHA512},
	}
	privNames = map[string]privName{
		"":       {"", gosnmp.NoPriv},
		"AES":    {"AES", gosnmp.AES},
		"AES128": {"AES", gosnmp.AES},
		"AES192": {"AES-192", gosnmp.AES192},
		"AES256": {"AES-256", gosnmp.AES256},
	}
)

// Receiver is a notification destination.
type Receiver struct {
	Addr    string // host:port
	Version string // "2c" or "3"
	// Community for version 2c; empty means Config.Community.
	Community string
	// User for version 3; it needs authentication. Traps are sent with the
	// user's keys localized to this agent's engine ID (the receiver needs
	// the user with that engine ID); informs discover the receiver's engine.
	User *User
	// Inform sends InformRequests, which the receiver acknowledges and
	// which are retried, instead of traps.
	Inform bool
}

// Source provides the status the MIB objects are read from.
// *agent.Agent satisfies it.
type Source interface {
	Status(ctx context.Context) (*agent.Status, error)
}

// Notification groups for Config.Traps.
const (
	TrapsLicense    = "license"     // CISCO-LICENSE-MGMT-MIB notifications
	TrapsImageLevel = "image-level" // cilmBootImageLevelChanged
	TrapsSNMP       = "snmp"        // coldStart
)

// Config configures a Server. Zero values select the documented defaults.
type Config struct {
	// Listen is the UDP address ListenAndServe binds ("127.0.0.1:1161",
	// "[::1]:1161"); Serve takes a socket and ignores it. Default
	// "127.0.0.1:161".
	Listen string
	// Community is the read-only community of SNMPv1 and SNMPv2c. Empty
	// disables v1 and v2c: only SNMPv3 is answered.
	Community string
	Users     []User
	// AllowNoAuth accepts noAuthNoPriv requests from users configured
	// without authentication. By default they get an
	// usmStatsUnsupportedSecLevels report.
	AllowNoAuth bool
	// EngineID is snmpEngineID (5 to 32 octets). Default: derived from the
	// active member's serial number, see DeriveEngineID.
	EngineID []byte
	// EngineBoots is snmpEngineBoots: the caller persists it and increments
	// it at every start, so receivers of v3 traps accept them after a
	// restart. 0 is taken as 1.
	EngineBoots uint32
	Receivers   []Receiver
	// Contact and Location are sysContact and sysLocation.
	Contact, Location string
	// SysObjectID defaults to DefaultSysObjectID.
	SysObjectID string
	// Source provides the status (required).
	Source Source
	// Clock is the wall clock; nil is time.Now. sysUpTime and
	// snmpEngineTime count from the Clock reading at New; with time.Now
	// that difference uses the monotonic clock.
	Clock func() time.Time
	// Logf logs operational messages; nil discards them.
	Logf func(format string, args ...any)
	// SetComment, if set, makes clmgmtLicenseComments writable by SNMPv3
	// users with authentication (communities are read-only). nil answers
	// every SET with notWritable.
	SetComment func(ctx context.Context, feature, text string) error
	// Traps limits notifications to these groups (TrapsLicense,
	// TrapsImageLevel, TrapsSNMP); nil sends all of them. The MIB's
	// notification enables in the status apply in addition.
	Traps []string
	// CacheTTL is how long a status snapshot serves requests (default 1s);
	// agent events invalidate it earlier.
	CacheTTL time.Duration
	// Workers is the number of goroutines Serve handles requests with
	// (default 4).
	Workers int
	// QueueSize bounds the notifications waiting per receiver (default
	// 64); more are dropped and counted.
	QueueSize int
	// InformTimeout and InformRetries govern informs (defaults 2s and 2
	// retries).
	InformTimeout time.Duration
	InformRetries int
}

// Defaults.
const (
	DefaultListen        = "127.0.0.1:161"
	DefaultCacheTTL      = time.Second
	DefaultWorkers       = 4
	DefaultQueueSize     = 64
	DefaultInformTimeout = 2 * time.Second
	DefaultInformRetries = 2
	// MaxMessageSize is the largest message this engine sends or accepts:
	// 64 KiB less the IP and UDP headers (snmpEngineMaxMessageSize).
	MaxMessageSize = 65507
)

// maxCommunity keeps the community within gosnmp's one-octet length
// encoding.
const maxCommunity = 127

// ErrNoSource is returned by New when Config.Source is nil.
var ErrNoSource = errors.New("snmp: Config.Source is required")

// validateReceiver checks r and fills the community default.
func validateReceiver(r *Receiver, community string) error {
	host, port, err := net.SplitHostPort(r.Addr)
	if err != nil || host == "" {
		return fmt.Errorf("trap receiver %q: want HOST:PORT", r.Addr)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
		return fmt.Errorf("trap receiver %q: port %q is not 1 to 65535", r.Addr, port)
	}
	switch r.Version {
	case "2c", "":
		r.Version = "2c"
		if r.Community == "" {
			r.Community = community
		}
		if r.Community == "" {
			return fmt.Errorf("trap receiver %s: version 2c needs a community", r.Addr)
		}
		if len(r.Community) > maxCommunity {
			return fmt.Errorf("trap receiver %s: community longer than %d octets", r.Addr, maxCommunity)
		}
	case "3":
		if r.User == nil {
			return fmt.Errorf("trap receiver %s: version 3 needs a user", r.Addr)
		}
		u := *r.User
		if err := u.normalize(); err != nil {
			return fmt.Errorf("trap receiver %s: %w", r.Addr, err)
		}
		if u.level() == gosnmp.NoAuthNoPriv {
			return fmt.Errorf("trap receiver %s: user %q needs authentication", r.Addr, u.Name)
		}
		r.User = &u
	default:
		return fmt.Errorf("trap receiver %s: version %q, want 2c or 3", r.Addr, r.Version)
	}
	return nil
}

// ApplyLine applies one line of the device configuration that starts with
// "snmp-server" to c. It understands:
//
//	snmp-server community NAME RO
//	snmp-server user NAME GROUP v3 auth {sha|sha-224|sha-256|sha-384|sha-512} AUTHPASS [priv aes {128|192|256} PRIVPASS]
//	snmp-server host ADDRESS [traps|informs] version {2c COMMUNITY|3 {auth|priv} USER} [udp-port PORT]
//	snmp-server contact TEXT…
//	snmp-server location TEXT…
//	snmp-server enable traps [license|image-level|snmp]
//
// A host line names a user defined by an earlier user line. GROUP is
// accepted for familiarity and not used: every user may read everything.
func (c *Config) ApplyLine(line string) error {
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "snmp-server" {
		return fmt.Errorf("%q: not an snmp-server line", line)
	}
	rest := f[2:]
	switch f[1] {
	case "community":
		if len(rest) != 2 || !strings.EqualFold(rest[1], "RO") {
			if len(rest) == 2 && strings.EqualFold(rest[1], "RW") {
				return fmt.Errorf("%q: write communities are not supported; use an SNMPv3 user", line)
			}
			return fmt.Errorf("%q: want snmp-server community NAME RO", line)
		}
		if len(rest[0]) > maxCommunity {
			return fmt.Errorf("%q: community longer than %d octets", line, maxCommunity)
		}
		c.Community = rest[0]
	case "user":
		u, err := parseUserLine(rest)
		if err != nil {
			return fmt.Errorf("%q: %w", redactLine(f), err)
		}
		for i := range c.Users {
			if c.Users[i].Name == u.Name {
				c.Users[i] = u
				return nil
			}
		}
		c.Users = append(c.Users, u)
	case "host":
		r, err := c.parseHostLine(rest)
		if err != nil {
			return fmt.Errorf("%q: %w", line, err)
		}
		c.Receivers = append(c.Receivers, r)
	case "contact":
		c.Contact = strings.Join(rest, " ")
	case "location":
		c.Location = strings.Join(rest, " ")
	case "enable":
		if len(rest) < 1 || rest[0] != "traps" || len(rest) > 2 {
			return fmt.Errorf("%q: want snmp-server enable traps [license|image-level|snmp]", line)
		}
		groups := []string{TrapsLicense, TrapsImageLevel, TrapsSNMP}
		if len(rest) == 2 {
			switch rest[1] {
			case TrapsLicense, TrapsImageLevel, TrapsSNMP:
				groups = rest[1:]
			default:
				return fmt.Errorf("%q: unknown notification group %q (want license, image-level or snmp)", line, rest[1])
			}
		}
		if c.Traps == nil {
			c.Traps = []string{}
		}
		for _, g := range groups {
			if !slices.Contains(c.Traps, g) {
				c.Traps = append(c.Traps, g)
			}
		}
	default:
		return fmt.Errorf("%q: unknown snmp-server command %q", line, f[1])
	}
	return nil
}

// redactLine hides the pass phrases of a user line (fields 7 and 11 of
// "snmp-server user NAME GROUP v3 auth PROTO PASS priv aes BITS PASS").
func redactLine(f []string) string {
	out := make([]string, len(f))
	copy(out, f)
	for _, i := range []int{7, 11} {
		if i < len(out) {
			out[i] = "…"
		}
	}
	return strings.Join(out, " ")
}

// parseUserLine reads NAME GROUP v3 auth PROTO PASS [priv aes BITS PASS].
func parseUserLine(f []string) (User, error) {
	if len(f) != 6 && len(f) != 10 {
		return User{}, errors.New("want snmp-server user NAME GROUP v3 auth PROTO AUTHPASS [priv aes BITS PRIVPASS]")
	}
	if f[2] != "v3" || f[3] != "auth" {
		return User{}, errors.New("only v3 users with auth are supported")
	}
	u := User{Name: f[0], Auth: f[4], AuthPass: f[5]}
	if len(f) == 10 {
		if f[6] != "priv" || f[7] != "aes" {
			return User{}, errors.New("privacy must be 'priv aes 128|192|256 PASS'")
		}
		switch f[8] {
		case "128":
			u.Priv = "AES"
		case "192", "256":
			u.Priv = "AES-" + f[8]
		default:
			return User{}, fmt.Errorf("AES key size %q, want 128, 192 or 256", f[8])
		}
		u.PrivPass = f[9]
	}
	if err := u.normalize(); err != nil {
		return User{}, err
	}
	return u, nil
}

// parseHostLine reads ADDRESS [traps|informs] version {2c COMMUNITY|3 LEVEL USER} [udp-port PORT].
func (c *Config) parseHostLine(f []string) (Receiver, error) {
	if len(f) < 3 {
		return Receiver{}, errors.New("want snmp-server host ADDRESS [traps|informs] version {2c COMMUNITY|3 {auth|priv} USER} [udp-port PORT]")
	}
	host, port := f[0], "162"
	r := Receiver{}
	f = f[1:]
	switch f[0] {
	case "traps":
		f = f[1:]
	case "informs":
		r.Inform = true
		f = f[1:]
	}
	if len(f) < 3 || f[0] != "version" {
		return Receiver{}, errors.New("expected 'version 2c COMMUNITY' or 'version 3 {auth|priv} USER'")
	}
	switch f[1] {
	case "2c":
		r.Version, r.Community = "2c", f[2]
		f = f[3:]
	case "3":
		if len(f) < 4 || (f[2] != "auth" && f[2] != "priv") {
			return Receiver{}, errors.New("expected 'version 3 {auth|priv} USER'")
		}
		var user *User
		for i := range c.Users {
			if c.Users[i].Name == f[3] {
				u := c.Users[i]
				user = &u
			}
		}
		if user == nil {
			return Receiver{}, fmt.Errorf("user %q is not defined by an earlier snmp-server user line", f[3])
		}
		if f[2] == "priv" && user.Priv == "" {
			return Receiver{}, fmt.Errorf("user %q has no privacy protocol", f[3])
		}
		if f[2] == "auth" {
			user.Priv, user.PrivPass = "", ""
		}
		r.Version, r.User = "3", user
		f = f[4:]
	default:
		return Receiver{}, fmt.Errorf("version %q, want 2c or 3", f[1])
	}
	if len(f) == 2 && f[0] == "udp-port" {
		port, f = f[1], f[2:]
	}
	if len(f) != 0 {
		return Receiver{}, fmt.Errorf("unexpected %q", strings.Join(f, " "))
	}
	r.Addr = net.JoinHostPort(host, port)
	if err := validateReceiver(&r, c.Community); err != nil {
		return Receiver{}, err
	}
	return r, nil
}

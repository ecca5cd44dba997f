// Package config reads licensed's configuration file. The syntax is the
// IOS configuration operators already write (hostname, username,
// snmp-server, logging host, license boot level, license call-home url),
// plus "licensed …" lines for what only the daemon has (state directory,
// socket, trust file). Every command-line flag of licensed has a line; a
// flag given on the command line wins over the file.
//
// Lines starting with "!" or "#" are comments. Unknown lines are errors
// that name the line number, so a typo never passes silently.
package config

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/licensed-dev/licensed/agent/syslog"
)

// Options is the daemon's whole configuration.
type Options struct {
	StateDir          string   // licensed state-dir DIR
	Socket            string   // licensed socket PATH
	DeviceKey         string   // licensed device-key FILE
	Identity          string   // licensed identity FILE
	BootIDFile        string   // licensed boot-id-file FILE
	Trust             string   // licensed trust FILE
	FeaturesFile      string   // licensed features-file FILE
	AdminGroup        string   // licensed admin-group GROUP
	TimeScale         float64  // licensed time-scale N
	Demo              bool     // licensed demo
	Hostname          string   // hostname NAME
	SSHListen         string   // ip ssh listen ADDR
	SSHAuthorizedKeys string   // ip ssh authorized-keys FILE
	Users             []User   // username NAME privilege N (secret HASH | key TYPE BLOB)
	Banner            string   // banner login TEXT
	SNMPListen        string   // snmp-server listen ADDR
	SNMPCommunity     string   // snmp-server community NAME RO
	SNMPUsers         []string // snmp-server user NAME SHA AUTHPASS AES PRIVPASS (NAME:SHA:AUTH:AES:PRIV)
	TrapReceivers     []string // snmp-server host HOST:PORT [informs] [version 2c|3 USER]
	SNMPContact       string   // snmp-server contact TEXT
	SNMPLocation      string   // snmp-server location TEXT
	Syslog            []string // logging host udp://HOST:PORT | tcp://HOST:PORT
	LoggingTrap       int      // logging trap LEVEL (0-7 or a name); -1 = default
	Portal            string   // license call-home url URL
	PortalCA          string   // license call-home ca FILE
	BootLevel         string   // license boot level LEVEL
	Packages          []string // license boot module M technology-package P
	EULA              bool     // license accept end user agreement
}

// User is a local SSH user.
type User struct {
	Name      string
	Privilege int
	Secret    string // bcrypt hash
	Key       string // authorized_keys format public key
}

// Parse reads a configuration file.
func Parse(data []byte) (*Options, error) {
	o := &Options{LoggingTrap: -1}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '!' || line[0] == '#' || line == "end" {
			continue
		}
		if err := o.apply(strings.Fields(line), line); err != nil {
			return nil, fmt.Errorf("line %d: %q: %w", n, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", n+1, err)
	}
	return o, nil
}

func (o *Options) apply(w []string, line string) error {
	rest := func(k int) string {
		// The text after the first k words, spacing kept.
		s := line
		for i := 0; i < k; i++ {
			s = strings.TrimSpace(s)
			if j := strings.IndexAny(s, " \t"); j >= 0 {
				s = s[j:]
			} else {
				s = ""
			}
		}
		return strings.TrimSpace(s)
	}
	one := func(dst *string) error {
		if len(w) != 3 {
			return fmt.Errorf("expects one value")
		}
		*dst = w[2]
		return nil
	}
	switch {
	case w[0] == "hostname" && len(w) == 2:
		o.Hostname = w[1]
	case w[0] == "licensed" && len(w) >= 2:
		switch w[1] {
		case "state-dir":
			return one(&o.StateDir)
		case "socket":
			return one(&o.Socket)
		case "device-key":
			return one(&o.DeviceKey)
		case "identity":
			return one(&o.Identity)
		case "boot-id-file":
			return one(&o.BootIDFile)
		case "trust":
			return one(&o.Trust)
		case "features-file":
			return one(&o.FeaturesFile)
		case "admin-group":
			return one(&o.AdminGroup)
		case "demo":
			o.Demo = true
		case "time-scale":
			if len(w) != 3 {
				return fmt.Errorf("expects one value")
			}
			f, err := strconv.ParseFloat(w[2], 64)
			if err != nil || f <= 0 {
				return fmt.Errorf("time-scale must be a positive number")
			}
			o.TimeScale = f
		default:
			return fmt.Errorf("unknown licensed setting %q", w[1])
		}
	case w[0] == "ip" && len(w) == 4 && w[1] == "ssh" && w[2] == "listen":
		o.SSHListen = w[3]
	case w[0] == "ip" && len(w) == 4 && w[1] == "ssh" && w[2] == "authorized-keys":
		o.SSHAuthorizedKeys = w[3]
	case w[0] == "username":
		u, err := parseUser(w)
		if err != nil {
			return err
		}
		o.Users = append(o.Users, u)
	case w[0] == "banner" && len(w) >= 3 && w[1] == "login":
		o.Banner = rest(2)
	case w[0] == "snmp-server" && len(w) >= 2:
		return o.snmp(w, rest)
	case w[0] == "logging" && len(w) >= 3 && w[1] == "host":
		return o.logging(w)
	case w[0] == "logging" && len(w) == 3 && w[1] == "trap":
		s, err := syslog.ParseSeverity(w[2])
		if err != nil {
			return err
		}
		o.LoggingTrap = s
	case w[0] == "license" && len(w) == 4 && w[1] == "boot" && w[2] == "level":
		o.BootLevel = w[3]
	case w[0] == "license" && len(w) == 6 && w[1] == "boot" && w[2] == "module" && w[4] == "technology-package":
		o.Packages = append(o.Packages, w[5])
	case line == "license accept end user agreement":
		o.EULA = true
	case w[0] == "license" && len(w) == 4 && w[1] == "call-home" && w[2] == "url":
		o.Portal = w[3]
	case w[0] == "license" && len(w) == 4 && w[1] == "call-home" && w[2] == "ca":
		o.PortalCA = w[3]
	case w[0] == "license" && len(w) == 6 && w[1] == "udi":
		// "license udi pid X sn Y" is printed by show running-config for
		// information; the identity comes from the hardware.
	default:
		return fmt.Errorf("unknown or incomplete command")
	}
	return nil
}

// parseUser reads "username NAME privilege N secret HASH" or
// "username NAME privilege N key ssh-ed25519 AAAA…".
func parseUser(w []string) (User, error) {
	if len(w) < 6 || w[2] != "privilege" {
		return User{}, fmt.Errorf("expected: username NAME privilege 1|15 secret HASH | key TYPE BASE64")
	}
	p, err := strconv.Atoi(w[3])
	if err != nil || (p != 1 && p != 15) {
		return User{}, fmt.Errorf("privilege must be 1 or 15")
	}
	u := User{Name: w[1], Privilege: p}
	switch w[4] {
	case "secret":
		if len(w) != 6 || !strings.HasPrefix(w[5], "$2") {
			return User{}, fmt.Errorf("secret must be one bcrypt hash ($2a$…)")
		}
		u.Secret = w[5]
	case "key":
		if len(w) < 7 {
			return User{}, fmt.Errorf("key needs a type and a base64 blob")
		}
		u.Key = strings.Join(w[5:], " ")
	default:
		return User{}, fmt.Errorf("expected secret or key after the privilege")
	}
	return u, nil
}

func (o *Options) snmp(w []string, rest func(int) string) error {
	switch w[1] {
	case "listen":
		if len(w) != 3 {
			return fmt.Errorf("expects one address")
		}
		o.SNMPListen = w[2]
	case "community":
		if len(w) < 3 || len(w) > 4 || (len(w) == 4 && !strings.EqualFold(w[3], "RO")) {
			return fmt.Errorf("only read-only communities are supported: snmp-server community NAME RO")
		}
		o.SNMPCommunity = w[2]
	case "user":
		// snmp-server user NAME AUTH AUTHPASS [PRIV PRIVPASS]
		if len(w) != 5 && len(w) != 7 {
			return fmt.Errorf("expected: snmp-server user NAME SHA AUTHPASS [AES PRIVPASS]")
		}
		o.SNMPUsers = append(o.SNMPUsers, strings.Join(w[2:], ":"))
	case "host":
		// snmp-server host HOST[:PORT] [informs] [version 2c|3 USER]
		if len(w) < 3 {
			return fmt.Errorf("expected a receiver address")
		}
		r := w[2]
		if _, _, err := net.SplitHostPort(r); err != nil {
			r = net.JoinHostPort(r, "162")
		}
		for _, x := range w[3:] {
			r += " " + x
		}
		o.TrapReceivers = append(o.TrapReceivers, r)
	case "contact":
		o.SNMPContact = rest(2)
	case "location":
		o.SNMPLocation = rest(2)
	case "enable":
		// snmp-server enable traps license: traps go to every host; accepted.
	default:
		return fmt.Errorf("unknown snmp-server setting %q", w[1])
	}
	return nil
}

// logging reads the IOS "logging host" forms (syslog.ParseLoggingHost) or a
// URL "logging host udp://HOST:PORT".
func (o *Options) logging(w []string) error {
	if strings.Contains(w[2], "://") {
		if len(w) != 3 {
			return fmt.Errorf("expected: logging host udp://HOST:PORT")
		}
		if _, err := syslog.ParseTarget(w[2]); err != nil {
			return err
		}
		o.Syslog = append(o.Syslog, w[2])
		return nil
	}
	t, err := syslog.ParseLoggingHost(strings.Join(w[2:], " "))
	if err != nil {
		return err
	}
	o.Syslog = append(o.Syslog, t.String())
	return nil
}

package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/licensed-dev/licensed/agent"
	"github.com/licensed-dev/licensed/agent/cli"
	"github.com/licensed-dev/licensed/agent/config"
	"github.com/licensed-dev/licensed/agent/snmp"
	"github.com/licensed-dev/licensed/agent/sshd"
	"github.com/licensed-dev/licensed/agent/syslog"
	"github.com/licensed-dev/licensed/licensestore"
	gossh "golang.org/x/crypto/ssh"
)

// surfaces starts and stops the optional adapters around the agent: the
// syslog writer, the SNMP agent and the SSH shell.
type surfaces struct {
	opts    *config.Options
	logf    func(string, ...any)
	stops   []func()
	running []string
}

func (s *surfaces) start(ctx context.Context, a *agent.Agent) error {
	if err := s.startSyslog(ctx, a); err != nil {
		return err
	}
	if err := s.startSNMP(ctx, a); err != nil {
		return err
	}
	return s.startSSH(ctx, a)
}

func (s *surfaces) stop() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
}

// runningConfig is the surfaces' part of show running-config.
func (s *surfaces) runningConfig() []string {
	o := s.opts
	var out []string
	if o.SSHListen != "" {
		out = append(out, "ip ssh listen "+o.SSHListen)
	}
	if o.SSHAuthorizedKeys != "" {
		out = append(out, "ip ssh authorized-keys "+o.SSHAuthorizedKeys)
	}
	for _, u := range o.Users {
		out = append(out, fmt.Sprintf("username %s privilege %d %s", u.Name, u.Privilege, map[bool]string{true: "secret 5 <removed>", false: "key <public key>"}[u.Secret != ""]))
	}
	if o.SNMPListen != "" {
		out = append(out, "snmp-server listen "+o.SNMPListen)
	}
	if o.SNMPCommunity != "" {
		out = append(out, "snmp-server community <removed> RO")
	}
	for _, u := range o.SNMPUsers {
		out = append(out, "snmp-server user "+strings.SplitN(u, ":", 2)[0]+" <removed>")
	}
	for _, r := range o.TrapReceivers {
		out = append(out, "snmp-server host "+r)
	}
	if o.SNMPContact != "" {
		out = append(out, "snmp-server contact "+o.SNMPContact)
	}
	if o.SNMPLocation != "" {
		out = append(out, "snmp-server location "+o.SNMPLocation)
	}
	for _, l := range o.Syslog {
		out = append(out, "logging host "+l)
	}
	if o.LoggingTrap >= 0 {
		out = append(out, "logging trap "+syslog.SeverityName(o.LoggingTrap))
	}
	return out
}

func (s *surfaces) startSyslog(ctx context.Context, a *agent.Agent) error {
	cfg := syslog.Config{Hostname: a.Hostname(), LocalLog: os.Stderr}
	if s.opts.LoggingTrap >= 0 {
		cfg.Severity = s.opts.LoggingTrap
		if cfg.Severity == 0 {
			cfg.Severity = -1
		}
	}
	for _, t := range s.opts.Syslog {
		tg, err := syslog.ParseTarget(t)
		if err != nil {
			return fmt.Errorf("--syslog %s: %w", t, err)
		}
		cfg.Targets = append(cfg.Targets, tg)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	l := syslog.New(cfg)
	events, cancel := a.Subscribe()
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx, events) }()
	s.stops = append(s.stops, func() { cancel(); <-done; l.Close() })
	return nil
}

func (s *surfaces) startSNMP(ctx context.Context, a *agent.Agent) error {
	o := s.opts
	if o.SNMPListen == "" {
		return nil
	}
	var boots uint64
	err := a.Store().Update(func(tx *licensestore.Tx) error {
		var err error
		boots, err = tx.NextCounter("snmpEngineBoots")
		return err
	})
	if err != nil {
		return fmt.Errorf("snmp engine boots: %w", err)
	}
	cfg := snmp.Config{
		Listen: o.SNMPListen, Community: o.SNMPCommunity, EngineBoots: uint32(boots),
		Contact: o.SNMPContact, Location: o.SNMPLocation, Source: a, Logf: s.logf,
		SetComment: a.Comment,
	}
	for _, u := range o.SNMPUsers {
		user, err := snmp.ParseUser(u)
		if err != nil {
			return fmt.Errorf("--snmp-v3-user: %w", err)
		}
		cfg.Users = append(cfg.Users, user)
	}
	for _, r := range o.TrapReceivers {
		rc, err := parseReceiver(r, o.SNMPCommunity, cfg.Users)
		if err != nil {
			return fmt.Errorf("--trap-receiver %s: %w", r, err)
		}
		cfg.Receivers = append(cfg.Receivers, rc)
	}
	srv, err := snmp.New(cfg)
	if err != nil {
		return err
	}
	pc, err := net.ListenPacket("udp", o.SNMPListen)
	if err != nil {
		return fmt.Errorf("snmp: %w", err)
	}
	sctx, cancel := context.WithCancel(ctx)
	events, unsub := a.Subscribe()
	go srv.Serve(sctx, pc)
	go srv.Notify(sctx, events)
	s.stops = append(s.stops, func() { cancel(); unsub(); pc.Close() })
	return nil
}

// parseReceiver reads "HOST:PORT [informs] [version 2c|3 [USER|COMMUNITY]]".
func parseReceiver(s, community string, users []snmp.User) (snmp.Receiver, error) {
	w := strings.Fields(s)
	r := snmp.Receiver{Addr: w[0], Version: "2c", Community: community}
	for i := 1; i < len(w); i++ {
		switch {
		case w[i] == "informs":
			r.Inform = true
		case w[i] == "traps":
		case w[i] == "version" && i+1 < len(w):
			r.Version = w[i+1]
			i++
			if i+1 < len(w) {
				i++
				if r.Version == "3" {
					for j := range users {
						if users[j].Name == w[i] {
							r.User = &users[j]
						}
					}
					if r.User == nil {
						return r, fmt.Errorf("no snmp-server user %q", w[i])
					}
				} else {
					r.Community = w[i]
				}
			}
		default:
			return r, fmt.Errorf("unexpected %q", w[i])
		}
	}
	if r.Version == "3" && r.User == nil {
		if len(users) == 0 {
			return r, fmt.Errorf("v3 receiver needs an SNMPv3 user")
		}
		r.User = &users[0]
	}
	if r.Version == "2c" && r.Community == "" {
		return r, fmt.Errorf("v2c receiver needs a community (--snmp-community)")
	}
	return r, nil
}

func (s *surfaces) startSSH(ctx context.Context, a *agent.Agent) error {
	o := s.opts
	if o.SSHListen == "" {
		return nil
	}
	cfg := sshd.Config{
		Listen:      o.SSHListen,
		HostKeyPath: filepath.Join(o.StateDir, "ssh_host_ed25519_key"),
		Hostname:    a.Hostname(),
		Banner:      o.Banner,
		Shell:       shell{api: a, hostname: a.Hostname()},
		FlashDir:    filepath.Join(o.StateDir, "flash"),
		Logf:        s.logf,
	}
	if o.SSHAuthorizedKeys != "" {
		keys, err := sshd.LoadAuthorizedKeys(o.SSHAuthorizedKeys)
		if err != nil {
			return err
		}
		cfg.AuthorizedKeys = keys
	}
	// Several username lines for one user add keys (and a secret) to it.
	byName := map[string]int{}
	for _, u := range o.Users {
		i, seen := byName[u.Name]
		if !seen {
			i = len(cfg.Users)
			byName[u.Name] = i
			cfg.Users = append(cfg.Users, sshd.User{Name: u.Name, Privilege: u.Privilege})
		}
		su := &cfg.Users[i]
		if su.Privilege != u.Privilege {
			return fmt.Errorf("username %s: privilege %d and %d on different lines", u.Name, su.Privilege, u.Privilege)
		}
		if u.Secret != "" {
			su.PasswordHash = u.Secret
		}
		if u.Key != "" {
			k, _, _, _, err := gossh.ParseAuthorizedKey([]byte(u.Key))
			if err != nil {
				return fmt.Errorf("username %s: %w", u.Name, err)
			}
			su.Keys = append(su.Keys, k)
		}
	}
	cfg.Audit = func(user, remote, event string) {
		ctx := agent.WithActor(ctx, agent.Actor{Name: user, Source: "ssh " + remote, Privilege: agent.PrivRead})
		a.Record(ctx, "ssh", event, "ok", "")
	}
	srv, err := sshd.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.SSHListen)
	if err != nil {
		return fmt.Errorf("ssh: %w", err)
	}
	go srv.Serve(ln)
	s.stops = append(s.stops, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	return nil
}

// shell runs SSH command lines through the one command tree, as the
// session's user.
type shell struct {
	api      agent.API
	hostname string
}

// prompt is what the interactive shell shows before the line, so syntax
// errors put their caret under the right column.
func (sh shell) prompt(priv int) string {
	if priv >= agent.PrivAdmin {
		return sh.hostname + "#"
	}
	return sh.hostname + ">"
}

func (sh shell) RunLine(ctx context.Context, s sshd.Session, line string) int {
	ctx = agent.WithActor(ctx, agent.Actor{Name: s.User, Source: "ssh " + s.Remote, Privilege: s.Privilege})
	d := cli.Deps{
		API: sh.api, In: s.In, Out: s.Out, Err: s.Err,
		Interactive: s.Interactive, Privilege: s.Privilege,
	}
	if s.Files != nil { // a nil *Flash must not become a non-nil interface
		d.Files = s.Files
	}
	if s.Interactive {
		d.Prompt = sh.prompt(s.Privilege)
	}
	return cli.RunLine(ctx, d, line)
}

func (sh shell) Complete(line string, priv int) ([]sshd.Candidate, error) {
	cs, err := cli.Complete(line, priv)
	out := make([]sshd.Candidate, len(cs))
	for i, c := range cs {
		out[i] = sshd.Candidate{Word: c.Word, Help: c.Help}
	}
	return out, err
}

// Command licensed is the on-device license agent. It reads the device's
// UDI, verifies the installed licenses, decides the feature set of this
// boot and serves the control socket, and, when configured, the SSH shell,
// SNMP and syslog. See README.md and docs/ for the flags and the
// configuration file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/licensed-dev/licensed/agent"
	"github.com/licensed-dev/licensed/agent/config"
	"github.com/licensed-dev/licensed/license"
	"github.com/licensed-dev/licensed/udi"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "licensed: %v\n", err)
		os.Exit(1)
	}
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

// parseFlags reads the configuration file (if any) and lets flags given
// on the command line override it.
func parseFlags(args []string) (*config.Options, string, error) {
	fs := flag.NewFlagSet("licensed", flag.ContinueOnError)
	var (
		o                     config.Options
		confPath              string
		users, traps, syslogs multi
	)
	fs.StringVar(&confPath, "config", "", "configuration file (IOS syntax; see docs/licensed.conf.example)")
	fs.StringVar(&o.StateDir, "state-dir", "/var/lib/licensed", "directory for the license store, keys and features file")
	fs.StringVar(&o.Socket, "socket", "", "control socket (default STATE-DIR/licensed.sock, or $LICENSED_SOCKET)")
	fs.StringVar(&o.DeviceKey, "device-key", "", "device credential private key (default STATE-DIR/device.key)")
	fs.StringVar(&o.Identity, "identity", "", "identity file of a simulated device (JSON: hostname, platform, members)")
	fs.StringVar(&o.BootIDFile, "boot-id-file", "", "file naming this boot (default /proc/sys/kernel/random/boot_id)")
	fs.StringVar(&o.Trust, "trust", "", "PEM file of trusted portal public keys")
	fs.StringVar(&o.FeaturesFile, "features-file", "", "features file for device software (default STATE-DIR/features.json)")
	fs.StringVar(&o.AdminGroup, "admin-group", "", "group whose members may change licenses over the socket")
	fs.Float64Var(&o.TimeScale, "time-scale", 1, "simulated devices: usage time runs N times faster")
	fs.BoolVar(&o.Demo, "demo", false, "simulated demo device with the embedded default identity")
	fs.StringVar(&o.Hostname, "hostname", "", "host name (default from the identity)")
	fs.StringVar(&o.SSHListen, "ssh-listen", "", "SSH server address, e.g. 127.0.0.1:2222")
	fs.StringVar(&o.SSHAuthorizedKeys, "ssh-authorized-keys", "", "authorized_keys file: these keys log in with privilege 15")
	fs.Var(&users, "ssh-user", "local user line: 'NAME privilege 1|15 secret HASH|key TYPE BLOB' (repeatable)")
	fs.StringVar(&o.SNMPListen, "snmp-listen", "", "SNMP agent address, e.g. 127.0.0.1:1161")
	fs.StringVar(&o.SNMPCommunity, "snmp-community", "", "read-only v1/v2c community")
	var v3 multi
	fs.Var(&v3, "snmp-v3-user", "SNMPv3 user NAME:SHA:AUTHPASS:AES:PRIVPASS (repeatable)")
	fs.Var(&traps, "trap-receiver", "trap receiver HOST:PORT (v2c, the community above; repeatable)")
	fs.Var(&syslogs, "syslog", "syslog receiver udp://HOST:PORT or tcp://HOST:PORT (repeatable)")
	fs.StringVar(&o.Portal, "portal", "", "licensing portal URL for call-home")
	fs.StringVar(&o.PortalCA, "portal-ca", "", "CA certificate (PEM) the portal's TLS certificate must chain to")
	if err := fs.Parse(args); err != nil {
		return nil, "", err
	}
	if fs.NArg() > 0 {
		return nil, "", fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	final := &o
	if confPath != "" {
		data, err := os.ReadFile(confPath)
		if err != nil {
			return nil, "", err
		}
		file, err := config.Parse(data)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", confPath, err)
		}
		final = merge(file, &o, set)
	} else {
		o.LoggingTrap = -1
	}
	for _, u := range users {
		cu, err := config.Parse([]byte("username " + u))
		if err != nil {
			return nil, "", fmt.Errorf("--ssh-user: %w", err)
		}
		final.Users = append(final.Users, cu.Users...)
	}
	final.SNMPUsers = append(final.SNMPUsers, v3...)
	final.TrapReceivers = append(final.TrapReceivers, traps...)
	final.Syslog = append(final.Syslog, syslogs...)
	return final, confPath, nil
}

// merge overlays the flags set on the command line on the file's options.
func merge(file, flags *config.Options, set map[string]bool) *config.Options {
	out := *file
	str := func(name string, dst *string, v string) {
		if set[name] || *dst == "" {
			if set[name] || v != "" {
				*dst = v
			}
		}
	}
	str("state-dir", &out.StateDir, flags.StateDir)
	str("socket", &out.Socket, flags.Socket)
	str("device-key", &out.DeviceKey, flags.DeviceKey)
	str("identity", &out.Identity, flags.Identity)
	str("boot-id-file", &out.BootIDFile, flags.BootIDFile)
	str("trust", &out.Trust, flags.Trust)
	str("features-file", &out.FeaturesFile, flags.FeaturesFile)
	str("admin-group", &out.AdminGroup, flags.AdminGroup)
	str("hostname", &out.Hostname, flags.Hostname)
	str("ssh-listen", &out.SSHListen, flags.SSHListen)
	str("ssh-authorized-keys", &out.SSHAuthorizedKeys, flags.SSHAuthorizedKeys)
	str("snmp-listen", &out.SNMPListen, flags.SNMPListen)
	str("snmp-community", &out.SNMPCommunity, flags.SNMPCommunity)
	str("portal", &out.Portal, flags.Portal)
	str("portal-ca", &out.PortalCA, flags.PortalCA)
	if set["time-scale"] || out.TimeScale == 0 {
		out.TimeScale = flags.TimeScale
	}
	if set["demo"] {
		out.Demo = flags.Demo
	}
	return &out
}

func run(args []string) error {
	o, confPath, err := parseFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	logger := log.New(os.Stderr, "licensed: ", log.LstdFlags)
	logf := logger.Printf

	id, simulated, err := readIdentity(o)
	if err != nil {
		return err
	}
	if o.Socket == "" {
		o.Socket = filepath.Join(o.StateDir, "licensed.sock")
	}
	trust := &license.Trust{}
	if o.Trust != "" {
		data, err := os.ReadFile(o.Trust)
		if err != nil {
			return fmt.Errorf("trust: %w", err)
		}
		if trust, err = license.ParseTrust(data); err != nil {
			return fmt.Errorf("trust %s: %w", o.Trust, err)
		}
	} else {
		logf("no --trust file: no license can be installed until one is configured")
	}

	surfaces := &surfaces{opts: o, logf: logf}
	cfg := agent.Config{
		StateDir:      o.StateDir,
		DeviceKeyPath: o.DeviceKey,
		Identity:      id,
		Simulated:     simulated,
		BootIDFile:    o.BootIDFile,
		Trust:         trust,
		FeaturesFile:  o.FeaturesFile,
		TimeScale:     o.TimeScale,
		Logf:          logf,
		Settings:      settingsOf(o),
		ExtraConfig:   surfaces.runningConfig,
	}
	if o.TimeScale > 1000 {
		// Meter finely enough that warnings a day apart stay apart.
		cfg.TickInterval = 100 * time.Millisecond
		cfg.CheckpointInterval = 5 * time.Second
	}
	callHome, err := newCallHome(o, logf)
	if err != nil {
		return err
	}
	cfg.CallHome = callHome
	a, err := agent.New(cfg)
	if err != nil {
		return err
	}
	defer a.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := agent.Listen(o.Socket)
	if err != nil {
		return err
	}
	srv, err := agent.NewServer(a, agent.ServerConfig{AdminGroup: o.AdminGroup})
	if err != nil {
		return err
	}
	go srv.Serve(ln)
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		os.Remove(o.Socket)
	}()

	// Pending call-home operations retry in the background until done.
	go callHome.Run(ctx, a)

	if err := surfaces.start(ctx, a); err != nil {
		return err
	}
	defer surfaces.stop()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			if confPath == "" {
				logf("SIGHUP: no configuration file to re-read")
				continue
			}
			no, _, err := parseFlags(args)
			if err != nil {
				logf("SIGHUP: configuration not applied: %v", err)
				continue
			}
			if err := a.ApplySettings(ctx, settingsOf(no)); err != nil {
				logf("SIGHUP: configuration not applied: %v", err)
				continue
			}
			logf("SIGHUP: configuration %s applied", confPath)
		}
	}()

	st, _ := a.Status(ctx)
	fmt.Fprintf(os.Stderr, "licensed %s: %s (%s) UDI %s, level %q; control socket %s\n",
		agent.Version, st.Hostname, st.Platform, st.Members[0].PID+":"+st.Members[0].SN, st.Level, o.Socket)
	return a.Run(ctx)
}

// readIdentity finds the device's UDI; the demo device uses the embedded one.
func readIdentity(o *config.Options) (*udi.Identity, bool, error) {
	if o.Demo && o.Identity == "" {
		return udi.DefaultDemo(), true, nil
	}
	r := udi.Reader{Root: "/", IdentityFile: o.Identity}
	id, err := r.Read()
	if err != nil {
		return nil, false, err
	}
	return id, o.Identity != "" || o.Demo, nil
}

func settingsOf(o *config.Options) agent.Settings {
	return agent.Settings{
		Hostname:     o.Hostname,
		BootLevel:    o.BootLevel,
		Packages:     o.Packages,
		EULAAccepted: o.EULA,
	}
}

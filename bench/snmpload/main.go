package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/licensed-dev/licensed/license"
)

func main() {
	err := run(os.Args[1:], os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "snmpload:", err)
		os.Exit(1)
	}
}

// run dispatches on the mode in args[0] and writes results to out.
func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("no mode: usage: snmpload sign|get|ports [flags]")
	}
	switch args[0] {
	case "sign":
		return sign(args[1:], out)
	case "get":
		return get(args[1:], out)
	case "ports":
		return ports(args[1:], out)
	}
	return fmt.Errorf("unknown mode %q: want sign, get or ports", args[0])
}

// The c3750e test identity (testdata/identities/c3750e.json).
const udi = "WS-C3750E-24TD-S:FDO1234X0AB"

func sign(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	portal := fs.String("portal", "", "licportal state directory holding signing.key (required)")
	out := fs.String("out", "", "directory for the license files (required)")
	count := fs.Int("count", 1000, "number of licenses")
	chunk := fs.Int("chunk", 250, "licenses per file (a file may hold at most 256 KiB)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *portal == "" || *out == "":
		return errors.New("sign: --portal and --out are required")
	case *count < 1:
		return fmt.Errorf("sign: --count %d: want at least 1", *count)
	case *chunk < 1:
		return fmt.Errorf("sign: --chunk %d: want at least 1", *chunk)
	}
	pem, err := os.ReadFile(filepath.Join(*portal, "signing.key"))
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	priv, err := license.ParsePrivateKey(pem)
	if err != nil {
		return fmt.Errorf("sign: %s: %w", filepath.Join(*portal, "signing.key"), err)
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	s := license.NewSigner(priv)
	issued := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	for start := 0; start < *count; start += *chunk {
		n := min(*chunk, *count-start)
		ls := make([]*license.License, 0, n)
		for i := start; i < start+n; i++ {
			l := &license.License{ID: fmt.Sprintf("bench%05d", i), Feature: "ipservices", Version: "1.0",
				Type: license.Permanent, UDI: udi, Issued: issued}
			if err := s.Sign(l); err != nil {
				return fmt.Errorf("sign: license %d: %w", i, err)
			}
			ls = append(ls, l)
		}
		f := filepath.Join(*out, fmt.Sprintf("licenses-%03d.lic", start / *chunk))
		if err := os.WriteFile(f, license.Encode(ls...), 0o600); err != nil {
			return fmt.Errorf("sign: %w", err)
		}
		fmt.Fprintln(w, f)
	}
	return nil
}

// oidList is a repeatable --oid flag.
type oidList []string

func (o *oidList) String() string { return strings.Join(*o, ",") }
func (o *oidList) Set(v string) error {
	if v == "" || strings.Trim(v, ".0123456789") != "" {
		return fmt.Errorf("%q is not a dotted numeric OID", v)
	}
	*o = append(*o, v)
	return nil
}

func get(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	target := fs.String("target", "", "agent address HOST:PORT, loopback only (required)")
	community := fs.String("community", "public", "SNMPv2c community")
	clients := fs.Int("clients", 4, "concurrent clients")
	duration := fs.Duration("duration", 5*time.Second, "how long to send")
	timeout := fs.Duration("timeout", time.Second, "per-request timeout")
	var oids oidList
	fs.Var(&oids, "oid", "OID to GET in every request (repeatable, at least one)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(oids) == 0 {
		return errors.New("get: at least one --oid is required")
	}
	if *clients < 1 || *duration <= 0 {
		return fmt.Errorf("get: --clients %d --duration %v: want at least 1 client and a positive duration", *clients, *duration)
	}
	host, port, err := splitTarget(*target)
	if err != nil {
		return fmt.Errorf("get: --target: %w", err)
	}

	conns := make([]*gosnmp.GoSNMP, *clients)
	for i := range conns {
		c := &gosnmp.GoSNMP{Target: host, Port: port, Community: *community, Version: gosnmp.Version2c,
			Timeout: *timeout, Retries: 0, MaxOids: len(oids)}
		if err := c.Connect(); err != nil {
			return fmt.Errorf("get: connect %s: %w", *target, err)
		}
		defer c.Conn.Close()
		// A first request checks the OIDs before the clock starts.
		if err := check(c, oids); err != nil {
			return fmt.Errorf("get: %s: %w", *target, err)
		}
		conns[i] = c
	}

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		total    int
		failures int
		firstErr error
	)
	start := time.Now()
	deadline := start.Add(*duration)
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, bad := 0, 0
			var e error
			for time.Now().Before(deadline) {
				if err := check(c, oids); err != nil {
					bad++
					if e == nil {
						e = err
					}
					continue
				}
				ok++
			}
			mu.Lock()
			total += ok
			failures += bad
			if firstErr == nil {
				firstErr = e
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	fmt.Fprintf(w, "requests=%d errors=%d seconds=%.2f req/s=%.0f\n", total, failures, secs, float64(total)/secs)
	if failures > 0 {
		return fmt.Errorf("get: %d failed requests, first: %w", failures, firstErr)
	}
	return nil
}

// check sends one GET and verifies that every OID came back with a value.
func check(c *gosnmp.GoSNMP, oids []string) error {
	p, err := c.Get(oids)
	if err != nil {
		return err
	}
	if p.Error != gosnmp.NoError {
		return fmt.Errorf("error-status %v at index %d", p.Error, p.ErrorIndex)
	}
	if len(p.Variables) != len(oids) {
		return fmt.Errorf("%d bindings for %d OIDs", len(p.Variables), len(oids))
	}
	for _, v := range p.Variables {
		switch v.Type {
		case gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView, gosnmp.Null:
			return fmt.Errorf("%s: %v", v.Name, v.Type)
		}
	}
	return nil
}

// splitTarget accepts only loopback addresses: this is a load generator.
func splitTarget(t string) (string, uint16, error) {
	h, p, err := net.SplitHostPort(t)
	if err != nil {
		return "", 0, fmt.Errorf("%q: %w", t, err)
	}
	ip := net.ParseIP(h)
	if ip == nil || !ip.IsLoopback() {
		return "", 0, fmt.Errorf("%q: host must be a loopback address (127.0.0.0/8 or ::1)", t)
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil || port == 0 {
		return "", 0, fmt.Errorf("%q: port must be 1-65535", t)
	}
	return h, uint16(port), nil
}

func ports(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("ports", flag.ContinueOnError)
	count := fs.Int("count", 2, "number of ports")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *count < 1 || *count > 100 {
		return fmt.Errorf("ports: --count %d: want 1-100", *count)
	}
	// Holding every socket until all are chosen keeps the ports distinct.
	var conns []net.PacketConn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range *count {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("ports: %w", err)
		}
		conns = append(conns, c)
		fmt.Fprintln(w, c.LocalAddr().(*net.UDPAddr).Port)
	}
	return nil
}

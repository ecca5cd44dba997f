package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/licensed-dev/licensed/license"
)

func TestSplitTarget(t *testing.T) {
	for _, tc := range []struct {
		in, host string
		port     uint16
		err      string
	}{
		{in: "127.0.0.1:161", host: "127.0.0.1", port: 161},
		{in: "127.1.2.3:1161", host: "127.1.2.3", port: 1161},
		{in: "[::1]:65535", host: "::1", port: 65535},
		{in: "10.0.0.1:161", err: "loopback"},
		{in: "localhost:161", err: "loopback"},
		{in: "127.0.0.1", err: "missing port"},
		{in: "127.0.0.1:0", err: "port must be"},
		{in: "127.0.0.1:70000", err: "port must be"},
		{in: "127.0.0.1:16x", err: "port must be"},
	} {
		host, port, err := splitTarget(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("splitTarget(%q) error %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || host != tc.host || port != tc.port {
			t.Errorf("splitTarget(%q) = %q, %d, %v; want %q, %d", tc.in, host, port, err, tc.host, tc.port)
		}
	}
}

func TestOIDListSet(t *testing.T) {
	var o oidList
	for _, v := range []string{".1.3.6.1.2.1.1.3.0", "1.3.6"} {
		if err := o.Set(v); err != nil {
			t.Errorf("Set(%q): %v", v, err)
		}
	}
	for _, v := range []string{"", "sysUpTime.0", "1.3.x", "1 3"} {
		if err := o.Set(v); err == nil {
			t.Errorf("Set(%q) accepted", v)
		}
	}
	if got := o.String(); got != ".1.3.6.1.2.1.1.3.0,1.3.6" {
		t.Errorf("String() = %q", got)
	}
}

func TestSign(t *testing.T) {
	dir := t.TempDir()
	priv, err := license.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	portal := filepath.Join(dir, "portal")
	os.Mkdir(portal, 0o700)
	if err := os.WriteFile(filepath.Join(portal, "signing.key"), license.MarshalPrivateKey(priv), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run([]string{"sign", "--portal", portal, "--out", filepath.Join(dir, "lic"), "--count", "5", "--chunk", "2"}, &out); err != nil {
		t.Fatal(err)
	}
	files := strings.Fields(out.String())
	if len(files) != 3 {
		t.Fatalf("wrote %d files, want 3: %q", len(files), files)
	}
	trust, err := license.NewTrust(license.NewSigner(priv).Public())
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ls, err := license.Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if want := []int{2, 2, 1}[i]; len(ls) != want {
			t.Errorf("%s holds %d licenses, want %d", f, len(ls), want)
		}
		for _, l := range ls {
			if err := trust.Verify(l); err != nil {
				t.Errorf("%s: %s: %v", f, l.ID, err)
			}
			if l.UDI != udi || l.Feature != "ipservices" || l.Type != license.Permanent {
				t.Errorf("%s: %s: %s %s %v", f, l.ID, l.UDI, l.Feature, l.Type)
			}
			ids[l.ID] = true
		}
	}
	if len(ids) != 5 {
		t.Errorf("%d distinct IDs, want 5", len(ids))
	}
}

func TestSignErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	os.Mkdir(bad, 0o700)
	os.WriteFile(filepath.Join(bad, "signing.key"), []byte("not a key"), 0o600)
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"sign", "--out", dir}, "--portal and --out are required"},
		{[]string{"sign", "--portal", bad, "--out", dir, "--count", "0"}, "--count 0"},
		{[]string{"sign", "--portal", bad, "--out", dir, "--chunk", "0"}, "--chunk 0"},
		{[]string{"sign", "--portal", filepath.Join(dir, "none"), "--out", dir}, "no such file"},
		{[]string{"sign", "--portal", bad, "--out", dir}, "signing.key"},
		{[]string{"nope"}, `unknown mode "nope"`},
		{nil, "no mode"},
	} {
		err := run(tc.args, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("run(%q) error %v, want one containing %q", tc.args, err, tc.err)
		}
	}
}

func TestPorts(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"ports", "--count", "3"}, &out); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range strings.Fields(out.String()) {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			t.Errorf("port %q", p)
		}
		seen[p] = true
	}
	if len(seen) != 3 {
		t.Errorf("ports %q: want 3 distinct", out.String())
	}
	if err := run([]string{"ports", "--count", "0"}, &out); err == nil {
		t.Error("--count 0 accepted")
	}
}

const (
	oidPresent = ".1.3.6.1.2.1.1.3.0"
	oidMissing = ".1.3.6.1.4.1.9.9.543.1.2.3.1.3.1000.1.99999"
)

// fakeAgent answers v2c GETs for community public on loopback: oidMissing
// gets noSuchInstance, anything else a TimeTicks value. It stops when the
// test ends.
func fakeAgent(t *testing.T) string {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 65536)
		dec := &gosnmp.GoSNMP{Version: gosnmp.Version2c}
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			req, err := dec.SnmpDecodePacket(buf[:n])
			if err != nil || req.Community != "public" || req.PDUType != gosnmp.GetRequest {
				continue
			}
			resp := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: req.Community,
				PDUType: gosnmp.GetResponse, RequestID: req.RequestID}
			for _, v := range req.Variables {
				vb := gosnmp.SnmpPDU{Name: v.Name, Type: gosnmp.TimeTicks, Value: uint32(42)}
				if v.Name == oidMissing {
					vb = gosnmp.SnmpPDU{Name: v.Name, Type: gosnmp.NoSuchInstance}
				}
				resp.Variables = append(resp.Variables, vb)
			}
			b, err := resp.MarshalMsg()
			if err != nil {
				t.Errorf("marshal: %v", err)
				return
			}
			conn.WriteTo(b, from)
		}
	}()
	return conn.LocalAddr().String()
}

func TestGet(t *testing.T) {
	target := fakeAgent(t)
	var out bytes.Buffer
	err := run([]string{"get", "--target", target, "--clients", "2", "--duration", "200ms", "--oid", oidPresent, "--oid", oidPresent}, &out)
	if err != nil {
		t.Fatal(err)
	}
	var req, errs int
	var secs, rps float64
	if _, err := fmt.Sscanf(out.String(), "requests=%d errors=%d seconds=%f req/s=%f", &req, &errs, &secs, &rps); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if req < 1 || errs != 0 || secs < 0.2 || rps <= 0 {
		t.Errorf("output %q", out.String())
	}
}

func TestGetErrors(t *testing.T) {
	target := fakeAgent(t)
	silent, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"--target", target, "--oid", oidPresent, "--oid", oidMissing}, "NoSuchInstance"},
		{[]string{"--target", silent.LocalAddr().String(), "--timeout", "100ms", "--oid", oidPresent}, "timeout"},
		{[]string{"--target", target}, "at least one --oid"},
		{[]string{"--target", "192.0.2.1:161", "--oid", oidPresent}, "loopback"},
		{[]string{"--target", target, "--clients", "0", "--oid", oidPresent}, "at least 1 client"},
		{[]string{"--target", target, "--duration", "0s", "--oid", oidPresent}, "positive duration"},
	} {
		start := time.Now()
		err := run(append([]string{"get", "--duration", "100ms"}, tc.args...), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("get %q: error %v, want one containing %q", tc.args, err, tc.err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("get %q took %v", tc.args, d)
		}
	}
}

package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/license"
)

// BenchmarkIdleRSS1000 starts the real daemon, installs 1,000 licenses,
// lets it idle and reports its resident memory and the stripped binary size.
func BenchmarkIdleRSS1000(b *testing.B) {
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		portal := filepath.Join(dir, "portal")
		if out, err := runCmd(filepath.Join(binDir, "licportal"), "init", "--state-dir", portal); err != nil {
			b.Fatalf("licportal init: %v\n%s", err, out)
		}
		key, err := os.ReadFile(filepath.Join(portal, "signing.key"))
		if err != nil {
			b.Fatal(err)
		}
		priv, err := license.ParsePrivateKey(key)
		if err != nil {
			b.Fatal(err)
		}
		s := license.NewSigner(priv)
		socket := filepath.Join(dir, "sock")
		cmd := startBare(b, "--identity", repoPath("testdata/identities/c3750e.json"),
			"--state-dir", filepath.Join(dir, "state"), "--socket", socket, "--trust", filepath.Join(portal, "trust.pem"))
		for chunk := 0; chunk < 4; chunk++ {
			var ls []*license.License
			for j := 0; j < 250; j++ {
				l := &license.License{ID: fmt.Sprintf("rss%04d", chunk*250+j), Feature: "ipservices", Version: "1.0",
					Type: license.Permanent, UDI: "WS-C3750E-24TD-S:FDO1234X0AB", Issued: time.Now().Add(-time.Hour)}
				if err := s.Sign(l); err != nil {
					b.Fatal(err)
				}
				ls = append(ls, l)
			}
			f := filepath.Join(dir, fmt.Sprintf("c%d.lic", chunk))
			os.WriteFile(f, license.Encode(ls...), 0o600)
			if out, err := runCmd(filepath.Join(binDir, "licensectl"), "--socket", socket, "license", "install", f); err != nil {
				b.Fatalf("install: %v\n%s", err, out)
			}
		}
		time.Sleep(2 * time.Second) // idle: let the collector settle
		rss := vmRSS(b, cmd.Process.Pid)
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		b.ReportMetric(float64(rss)/1024, "RSS-MiB")
	}
	fi, err := os.Stat(filepath.Join(binDir, "licensed"))
	if err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "binary-MiB")
	}
}

func vmRSS(b *testing.B, pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

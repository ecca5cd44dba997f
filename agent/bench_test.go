package agent

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/license"
	"github.com/licensed-dev/licensed/udi"
)

// benchLicenses signs n permanent licenses for the test UDI. Features
// cycle so the file is realistic; IDs are unique.
func benchLicenses(b *testing.B, s *license.Signer, n int, typ license.Type) []*license.License {
	b.Helper()
	out := make([]*license.License, n)
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range out {
		l := &license.License{
			ID: fmt.Sprintf("bench%08d", i), Feature: []string{"ipservices", "advipservices"}[i%2], Version: "1.0",
			Type: typ, UDI: testUDI, Issued: now,
		}
		if typ.Metered() {
			l.Period = 60 * 24 * time.Hour
		}
		if err := s.Sign(l); err != nil {
			b.Fatal(err)
		}
		out[i] = l
	}
	return out
}

func benchRig(b *testing.B, dir string, s *license.Signer) Config {
	trust, err := license.ParseTrust(license.MarshalTrust(s.Public()))
	if err != nil {
		b.Fatal(err)
	}
	return Config{
		StateDir: dir, Simulated: true, Trust: trust,
		Identity: &udi.Identity{Hostname: "sw1", Platform: "c3750e", Members: []udi.Member{{PID: "WS-C3750E-24TD-S", SN: "FDO1234X0AB", Active: true}}},
	}
}

func benchSigner(b *testing.B) *license.Signer {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	return license.NewSigner(priv)
}

// BenchmarkBoot1000 is the boot sequence (open, verify, resolve, publish the
// features file) with 1,000 licenses in the store. Compare with
// BenchmarkVerify1000, the bare cost of the signatures, in the same run.
func BenchmarkBoot1000(b *testing.B) {
	s := benchSigner(b)
	dir := b.TempDir()
	cfg := benchRig(b, dir, s)
	a, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	lics := benchLicenses(b, s, 1000, license.Permanent)
	for i := 0; i < len(lics); i += 250 { // a file holds at most 256 KiB
		if _, err := a.Install(context.Background(), InstallRequest{Data: license.Encode(lics[i : i+250]...)}); err != nil {
			b.Fatal(err)
		}
	}
	a.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		a.Close()
		b.StartTimer()
	}
}

// BenchmarkVerify1000 verifies 1,000 license signatures: the floor under
// BenchmarkBoot1000.
func BenchmarkVerify1000(b *testing.B) {
	s := benchSigner(b)
	trust, _ := license.ParseTrust(license.MarshalTrust(s.Public()))
	lics := benchLicenses(b, s, 1000, license.Permanent)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, l := range lics {
			if err := trust.Verify(l); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkInstall100 is `license install` of one file with 100 licenses.
func BenchmarkInstall100(b *testing.B) {
	s := benchSigner(b)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		a, err := New(benchRig(b, b.TempDir(), s))
		if err != nil {
			b.Fatal(err)
		}
		data := license.Encode(benchLicenses(b, s, 100, license.Permanent)...)
		b.StartTimer()
		res, err := a.Install(context.Background(), InstallRequest{Data: data})
		if err != nil || res.Installed != 100 {
			b.Fatalf("%+v %v", res, err)
		}
		b.StopTimer()
		a.Close()
		b.StartTimer()
	}
}

// writtenBytes is this process's bytes passed to write calls (wchar).
func writtenBytes(b *testing.B) int64 {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		b.Skip("no /proc/self/io: not installed on this system")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "wchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkCheckpointBytesPerDay measures what one usage checkpoint writes
// with five metered licenses running (two built-in evaluations and three
// extensions) and reports it per day at the default interval.
func BenchmarkCheckpointBytesPerDay(b *testing.B) {
	s := benchSigner(b)
	clock := &fakeClock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	cfg := benchRig(b, b.TempDir(), s)
	cfg.Now = clock.Now
	a, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	a.Install(ctx, InstallRequest{Data: license.Encode(benchLicenses(b, s, 3, license.Extension)...)})
	a.SetBootLevel(ctx, "advipservices")
	a.AcceptEULA(ctx)
	a.Reload(ctx)
	b.ResetTimer()
	start := writtenBytes(b)
	for i := 0; i < b.N; i++ {
		clock.Advance(DefaultCheckpointInterval)
		a.Tick()
	}
	per := float64(writtenBytes(b)-start) / float64(b.N)
	b.ReportMetric(per, "bytes/checkpoint")
	b.ReportMetric(per*float64(24*time.Hour/DefaultCheckpointInterval)/(1<<20), "MiB/day")
}

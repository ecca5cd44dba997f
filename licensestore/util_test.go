package licensestore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var (
	testKey  = bytes.Repeat([]byte("device-derived-mac-key/"), 2)
	testNow  = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	testTime = func() time.Time { return testNow }
)

// testOptions returns options for a store in a fresh directory.
func testOptions(t testing.TB) Options {
	t.Helper()
	return Options{
		Path:    filepath.Join(t.TempDir(), "store.db"),
		Timeout: 300 * time.Millisecond,
		MACKey:  testKey,
		Logf:    func(f string, a ...any) { t.Logf(f, a...) },
		Now:     testTime,
	}
}

func mustOpen(t testing.TB, o Options) (*Store, OpenReport) {
	t.Helper()
	s, rep, err := Open(o)
	if err != nil {
		t.Fatalf("Open(%s): %v", o.Path, err)
	}
	return s, rep
}

func mustUpdate(t testing.TB, s *Store, fn func(*Tx) error) {
	t.Helper()
	if err := s.Update(fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// licenseText makes a license-sized text (~600 bytes).
func licenseText(id string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "license-file v1\nid: %s\nfeature: ipservices\nversion: 1.0\ntype: permanent\n", id)
	fmt.Fprintf(&b, "lock: WS-C3750E-24TD-S:FDO1234X0AB\ncount: 1\nissued: 2026-10-01T00:00:00Z\n")
	for b.Len() < 520 {
		b.WriteString("signature: ")
		b.WriteString(strings.Repeat("Zm9vYmFy", 8))
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// fill writes a representative set of records; n licenses.
func fill(t testing.TB, s *Store, n int) {
	t.Helper()
	mustUpdate(t, s, func(tx *Tx) error {
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("lic-%04d", i)
			if err := tx.PutLicense(LicenseRecord{
				ID: id, Raw: licenseText(id), StoreIndex: 1, Slot: n - i,
				Installed: testNow.Add(time.Duration(i) * time.Minute), Actor: "root", Comment: "c" + id,
			}); err != nil {
				return err
			}
		}
		for i, id := range []string{"eval-ipservices", "eval-advipservices", "eval-securityk9"} {
			if err := tx.PutUsage(id, Usage{Used: time.Duration(i+1) * time.Hour, Updated: testNow}); err != nil {
				return err
			}
		}
		if err := tx.Put("boot-level", "ipservices"); err != nil {
			return err
		}
		if err := tx.Put("eula", map[string]bool{"ipservices": true}); err != nil {
			return err
		}
		for i := 0; i < 40; i++ {
			if _, err := tx.AppendAudit(AuditRecord{Time: testNow, Actor: "root", Source: "cli", Action: "install", Target: fmt.Sprint(i), Result: "ok"}); err != nil {
				return err
			}
		}
		if err := tx.PutPending("0001-install", map[string]string{"pak": "3XJ6BA1C24B"}); err != nil {
			return err
		}
		_, err := tx.NextCounter("snmpEngineBoots")
		return err
	})
}

// contents is everything a store holds, for comparisons.
type contents struct {
	Licenses []LicenseRecord
	Usage    map[string]Usage
	Config   map[string]string
	Audit    []AuditRecord
	Pending  map[string]string
	Counters map[string]uint64
	Gen      uint64
}

func readAll(t testing.TB, s *Store) contents {
	t.Helper()
	var c contents
	err := s.View(func(tx *Tx) (err error) {
		if c.Licenses, err = tx.Licenses(); err != nil {
			return err
		}
		if c.Usage, err = tx.AllUsage(); err != nil {
			return err
		}
		c.Config = map[string]string{}
		if err := tx.each(bucketConfig, func(k, p []byte) error { c.Config[string(k)] = string(p); return nil }); err != nil {
			return err
		}
		if c.Audit, err = tx.Audit(0); err != nil {
			return err
		}
		c.Pending = map[string]string{}
		if err := tx.Pending(func(id string, raw []byte) error { c.Pending[id] = string(raw); return nil }); err != nil {
			return err
		}
		if c.Counters, err = tx.counters(); err != nil {
			return err
		}
		c.Gen, _, err = tx.metaUint(metaGeneration)
		return err
	})
	if err != nil {
		t.Fatalf("read store: %v", err)
	}
	return c
}

func sameData(a, b contents) bool {
	a.Gen, b.Gen = 0, 0
	return reflect.DeepEqual(a, b)
}

// readSealFile returns the seal's body, failing the test if it is invalid.
func readSealFile(t testing.TB, o Options) sealBody {
	t.Helper()
	b, err := readSeal(o.Path+".seal", macer{key: o.MACKey})
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	return b
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, os.ErrNotExist)
}

// damagedFiles lists the ".damaged-*" files next to the store.
func damagedFiles(t testing.TB, o Options) []string {
	t.Helper()
	m, err := filepath.Glob(o.Path + ".damaged-*")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// diff names the parts of two contents that differ (generation ignored).
func diff(a, b contents) string {
	var out []string
	for _, f := range []struct {
		name string
		x, y any
	}{
		{"Licenses", a.Licenses, b.Licenses}, {"Usage", a.Usage, b.Usage}, {"Config", a.Config, b.Config},
		{"Audit", a.Audit, b.Audit}, {"Pending", a.Pending, b.Pending}, {"Counters", a.Counters, b.Counters},
	} {
		if !reflect.DeepEqual(f.x, f.y) {
			x, _ := json.Marshal(f.x)
			y, _ := json.Marshal(f.y)
			out = append(out, fmt.Sprintf("%s: %.300s ≠ %.300s", f.name, x, y))
		}
	}
	return strings.Join(out, "\n")
}

// withCounters returns c with other's counters (counters never go back).
func withCounters(c contents, other contents) contents {
	c.Counters = other.Counters
	return c
}

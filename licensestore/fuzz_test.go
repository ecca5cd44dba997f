package licensestore

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the seed corpus in testdata/fuzz/FuzzOpen")

// seedStore returns the bytes of a small valid store (cut to its used
// pages, which bbolt accepts: the file only has to cover them).
func seedStore(t testing.TB) []byte {
	t.Helper()
	o := testOptions(t)
	o.Logf = nil
	s, _ := mustOpen(t, o)
	mustUpdate(t, s, func(tx *Tx) error {
		if err := tx.PutLicense(LicenseRecord{ID: "lic-1", Raw: licenseText("lic-1"), Slot: 1, Installed: testNow}); err != nil {
			return err
		}
		if err := tx.PutUsage("eval-ipservices", Usage{Used: time.Hour, Updated: testNow}); err != nil {
			return err
		}
		if err := tx.Put("boot-level", "ipservices"); err != nil {
			return err
		}
		if _, err := tx.AppendAudit(AuditRecord{Time: testNow, Action: "install", Target: "lic-1"}); err != nil {
			return err
		}
		if err := tx.PutPending("1", "resend"); err != nil {
			return err
		}
		_, err := tx.NextCounter("snmpEngineBoots")
		return err
	})
	s.Close()
	b, err := os.ReadFile(o.Path)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(o.Path)
	defer f.Close()
	sum, err := checkBoltFile(f, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return b[:int64(sum.pages)*sum.pageSize]
}

// FuzzOpen writes arbitrary bytes as the store file and opens it. The
// promise: never a panic or crash; either a working store that survives a
// write and a reopen, or ErrDamaged with the file moved aside.
func FuzzOpen(f *testing.F) {
	valid := seedStore(f)
	f.Add(valid)
	f.Add(valid[:8192])
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4<<20 {
			return
		}
		o := Options{Path: filepath.Join(t.TempDir(), "store.db"), MACKey: testKey, Timeout: -1, Now: testTime}
		if err := os.WriteFile(o.Path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, rep, err := Open(o)
		if err != nil {
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("Open: %v, want ErrDamaged", err)
			}
			aside := damagedFiles(t, o)
			if exists(o.Path) || len(aside) != 1 {
				t.Fatalf("damaged file not moved aside: %v", aside)
			}
			if kept, _ := os.ReadFile(aside[0]); !bytes.Equal(kept, data) {
				t.Fatal("the file kept aside differs from the damaged one")
			}
			return
		}
		if rep.Created || rep.Recovered {
			s.Close()
			t.Fatalf("report %+v for an existing file without backup", rep)
		}
		readAll(t, s)
		err = s.Update(func(tx *Tx) error {
			if err := tx.PutUsage("fuzz", Usage{Used: time.Minute}); err != nil {
				return err
			}
			_, err := tx.NextCounter("fuzz")
			return err
		})
		if err != nil {
			s.Close()
			t.Fatalf("Update on a store that passed the open check: %v", err)
		}
		s.Close()
		s, rep, err = Open(o)
		if err != nil {
			t.Fatalf("reopen after a write: %v", err)
		}
		s.Close()
		if rep.Recovered || rep.Rollback {
			t.Fatalf("reopen after a write: %+v", rep)
		}
	})
}

// TestFuzzSeedCorpus keeps the corpus files in step with the format;
// go test -run TestFuzzSeedCorpus -update rewrites them.
func TestFuzzSeedCorpus(t *testing.T) {
	valid := seedStore(t)
	seeds := map[string][]byte{
		"valid-store":     valid,
		"truncated-store": valid[:8192],
		"zero-bytes":      {},
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzOpen")
	for name, data := range seeds {
		path := filepath.Join(dir, name)
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to write the seed corpus)", err)
		}
		if name != "valid-store" {
			if string(got) != want {
				t.Errorf("%s is stale; run with -update", path)
			}
			continue
		}
		// The store seed must still open cleanly, or it no longer leads
		// the fuzzer past the checks.
		lit, ok := strings.CutPrefix(strings.TrimSpace(string(got)), "go test fuzz v1\n[]byte(")
		lit, ok2 := strings.CutSuffix(lit, ")")
		b, err := strconv.Unquote(lit)
		if !ok || !ok2 || err != nil {
			t.Fatalf("%s is not a corpus file of one []byte", path)
		}
		o := testOptions(t)
		os.WriteFile(o.Path, []byte(b), 0o600)
		s, rep, err := Open(o)
		if err != nil || rep.Recovered {
			t.Fatalf("%s no longer opens as a store (%+v, %v); run with -update", path, rep, err)
		}
		s.Close()
	}
}

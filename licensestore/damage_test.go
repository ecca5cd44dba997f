package licensestore

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// fixture is a store with history: a backup taken part way, then more
// commits, so backup and store differ.
type fixture struct {
	o              Options
	backup, latest contents
}

func makeFixture(t *testing.T) fixture {
	t.Helper()
	o := testOptions(t)
	s, _ := mustOpen(t, o)
	fill(t, s, 30)
	if err := s.Backup(); err != nil {
		t.Fatal(err)
	}
	fx := fixture{o: o, backup: readAll(t, s)}
	mustUpdate(t, s, func(tx *Tx) error {
		if err := tx.PutUsage("eval-ipservices", Usage{Used: 30 * time.Hour, Updated: testNow.Add(time.Hour)}); err != nil {
			return err
		}
		_, err := tx.NextCounter("snmpEngineBoots")
		return err
	})
	fx.latest = readAll(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return fx
}

// clone copies the fixture's files into a fresh directory.
func (fx fixture) clone(t *testing.T, withBackup bool) Options {
	t.Helper()
	o := fx.o
	dir := t.TempDir()
	o.Path = filepath.Join(dir, "store.db")
	o.BackupPath = ""
	copyFile(t, fx.o.Path, o.Path)
	copyFile(t, fx.o.Path+".seal", o.Path+".seal")
	if withBackup {
		copyFile(t, fx.o.Path+".bak", o.Path+".bak")
	}
	return o
}

func fileSummaryOf(t *testing.T, path string) fileSummary {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	sum, err := checkBoltFile(f, fi.Size())
	if err != nil {
		t.Fatalf("fixture fails the file check: %v", err)
	}
	return sum
}

// treePages lists the branch and leaf pages in use.
func treePages(t *testing.T, path string) []uint64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum := fileSummaryOf(t, path)
	buf := make([]byte, pageHeaderSize+metaSize)
	f.ReadAt(buf, 0)
	m := parseMeta(buf)
	f.ReadAt(buf, sum.pageSize)
	if m1 := parseMeta(buf); m1.txid > m.txid {
		m = m1
	}
	c := &fileCheck{r: f, ps: sum.pageSize, hwm: m.pgid, state: make([]uint8, m.pgid)}
	c.state[0], c.state[1] = pageReached, pageReached
	if err := c.run(m); err != nil {
		t.Fatal(err)
	}
	var out []uint64
	hdr := make([]byte, pageHeaderSize)
	for id := uint64(2); id < sum.pages; id++ {
		f.ReadAt(hdr, int64(id)*sum.pageSize)
		if c.state[id] == pageReached && ne.Uint64(hdr) == id && (ne.Uint16(hdr[8:]) == leafPageFlag || ne.Uint16(hdr[8:]) == branchPageFlag) {
			out = append(out, id)
		}
	}
	if len(out) < 3 {
		t.Fatalf("fixture has only %d tree pages", len(out))
	}
	return out
}

func writeAt(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// rawEdit changes the file with a plain bbolt handle, as bbolt tools would.
func rawEdit(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

type damage struct {
	name     string
	apply    func(t *testing.T, path string)
	reason   string // the report's Reason contains it
	tampered bool
}

func damages(t *testing.T, fx fixture) []damage {
	ds := []damage{
		{"zero length", func(t *testing.T, p string) { os.Truncate(p, 0) }, "zero length", false},
		{"truncated to 100 B", func(t *testing.T, p string) { os.Truncate(p, 100) }, "truncated to 100 bytes", false},
		{"truncated to 8 KiB", func(t *testing.T, p string) { os.Truncate(p, 8192) }, "truncated to 8192 bytes", false},
		{"truncated to half", func(t *testing.T, p string) {
			sum := fileSummaryOf(t, p)
			os.Truncate(p, int64(sum.pages)*sum.pageSize/2)
		}, "truncated to ", false},
		{"random bytes", func(t *testing.T, p string) {
			fi, _ := os.Stat(p)
			b := make([]byte, fi.Size())
			r := rand.NewChaCha8([32]byte{1})
			r.Read(b)
			os.WriteFile(p, b, 0o600)
		}, "both meta pages are invalid", false},
		{"both meta pages broken", func(t *testing.T, p string) {
			ps := fileSummaryOf(t, p).pageSize
			writeAt(t, p, pageHeaderSize+20, []byte{0xde, 0xad})
			writeAt(t, p, ps+pageHeaderSize+20, []byte{0xde, 0xad})
		}, "both meta pages are invalid", false},
		{"flipped byte in a license", func(t *testing.T, p string) {
			b, _ := os.ReadFile(p)
			i := bytes.Index(b, []byte(`"id":"lic-0007"`))
			if i < 0 {
				t.Fatal("license record not found in the file")
			}
			writeAt(t, p, int64(i+6), []byte{'L'})
		}, "licenses/lic-0007: MAC mismatch", true},
		{"edited usage counter", func(t *testing.T, p string) {
			rawEdit(t, p, func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte(bucketUsage))
				old := b.Get([]byte("eval-ipservices"))
				edited := append(append([]byte(nil), old[:envelopeHeader]...), `{"used_ns":0,"updated":"2026-11-03T10:00:00Z"}`...)
				return b.Put([]byte("eval-ipservices"), edited)
			})
		}, "usage/eval-ipservices: MAC mismatch", true},
		{"deleted usage record", func(t *testing.T, p string) {
			rawEdit(t, p, func(tx *bolt.Tx) error { return tx.Bucket([]byte(bucketUsage)).Delete([]byte("eval-ipservices")) })
		}, "do not match their digest", true},
		{"usage bucket deleted", func(t *testing.T, p string) {
			rawEdit(t, p, func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte(bucketUsage)) })
		}, `bucket "usage" is missing`, true},
		{"older copy of one record", func(t *testing.T, p string) {
			// Put back the backup's usage record, MAC and all.
			var old []byte
			db, err := bolt.Open(fx.o.Path+".bak", 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			db.View(func(tx *bolt.Tx) error {
				old = append(old, tx.Bucket([]byte(bucketUsage)).Get([]byte("eval-ipservices"))...)
				return nil
			})
			db.Close()
			rawEdit(t, p, func(tx *bolt.Tx) error { return tx.Bucket([]byte(bucketUsage)).Put([]byte("eval-ipservices"), old) })
		}, "do not match their digest", true},
		{"foreign bucket", func(t *testing.T, p string) {
			rawEdit(t, p, func(tx *bolt.Tx) error {
				b, err := tx.CreateBucket([]byte("extra"))
				if err != nil {
					return err
				}
				return b.Put([]byte("k"), []byte("v"))
			})
		}, "extra/k: value is 1 bytes", true},
	}
	for _, id := range treePages(t, fx.o.Path) {
		ds = append(ds, damage{
			name: fmt.Sprintf("page %d element table", id),
			apply: func(t *testing.T, p string) {
				ps := fileSummaryOf(t, p).pageSize
				writeAt(t, p, int64(id)*ps+pageHeaderSize, bytes.Repeat([]byte{0xa5}, 48))
			},
			reason: fmt.Sprintf("page %d", id),
		}, damage{
			name: fmt.Sprintf("page %d header", id),
			apply: func(t *testing.T, p string) {
				ps := fileSummaryOf(t, p).pageSize
				writeAt(t, p, int64(id)*ps, []byte{0x16, 0, 0, 0, 0, 0, 0, 0, 0x22})
			},
			reason: fmt.Sprintf("page %d", id),
		})
	}
	return ds
}

func TestDamageRecoveredFromBackup(t *testing.T) {
	fx := makeFixture(t)
	for _, d := range damages(t, fx) {
		t.Run(d.name, func(t *testing.T) {
			o := fx.clone(t, true)
			d.apply(t, o.Path)
			damaged, _ := os.ReadFile(o.Path)

			s, rep, err := Open(o)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			if !rep.Recovered || !strings.Contains(rep.Reason, d.reason) || rep.Tampered != d.tampered {
				t.Fatalf("report = %+v, want Recovered, Tampered=%v, reason containing %q", rep, d.tampered, d.reason)
			}
			// The backup predates the last commit, so this is a rollback too.
			if !rep.Rollback || !strings.Contains(rep.Reason, "older than its seal") {
				t.Errorf("report = %+v, want the rollback to the backup reported", rep)
			}
			// The backup's data, with counters raised to the sealed values.
			want := withCounters(fx.backup, fx.latest)
			if got := readAll(t, s); !sameData(got, want) {
				t.Fatalf("restored contents are not the backup's:\n%s", diff(got, want))
			}
			kept, err := os.ReadFile(rep.DamagedPath)
			if err != nil || !bytes.Equal(kept, damaged) {
				t.Fatalf("damaged file not kept as %q (%v)", rep.DamagedPath, err)
			}
			if exists(o.Path + ".tmp") {
				t.Error("restore left its temp file")
			}
			// The counter never goes back, even though the backup's is lower.
			err = s.Update(func(tx *Tx) error {
				n, err := tx.NextCounter("snmpEngineBoots")
				if want := fx.latest.Counters["snmpEngineBoots"] + 1; n != want {
					t.Errorf("counter after restore = %d, want %d", n, want)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			s2, rep2 := mustOpen(t, o)
			s2.Close()
			if rep2.Recovered || rep2.Rollback || rep2.Created || rep2.Reason != "" {
				t.Fatalf("second open after restore: %+v", rep2)
			}
		})
	}
}

func TestDamageWithoutBackup(t *testing.T) {
	fx := makeFixture(t)
	for _, d := range damages(t, fx) {
		t.Run(d.name, func(t *testing.T) {
			o := fx.clone(t, false)
			d.apply(t, o.Path)
			damaged, _ := os.ReadFile(o.Path)

			s, rep, err := Open(o)
			if err == nil {
				s.Close()
				t.Fatalf("Open of a damaged store without backup succeeded: %+v", rep)
			}
			if !errors.Is(err, ErrDamaged) || errors.Is(err, ErrTampered) != d.tampered {
				t.Fatalf("error = %v; want ErrDamaged, ErrTampered=%v", err, d.tampered)
			}
			for _, want := range []string{o.Path, d.reason, "backup " + o.Path + ".bak is not usable (there is none)"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			aside := damagedFiles(t, o)
			if len(aside) != 1 || exists(o.Path) {
				t.Fatalf("damaged file not moved aside: store exists=%v, aside=%v", exists(o.Path), aside)
			}
			if kept, _ := os.ReadFile(aside[0]); !bytes.Equal(kept, damaged) {
				t.Fatal("the file kept aside is not the damaged file")
			}
			// Never silently empty: the next Open says the store is new and
			// that one existed before.
			s, rep, err = Open(o)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if !rep.Created || !rep.Rollback {
				t.Fatalf("Open after ErrDamaged: %+v, want Created and Rollback", rep)
			}
		})
	}
}

// Random damage anywhere past the meta pages: the store either opens with
// exactly its data (the damage hit unused space) or is restored; nothing
// in between, and never a panic.
func TestRandomPageDamage(t *testing.T) {
	fx := makeFixture(t)
	sum := fileSummaryOf(t, fx.o.Path)
	for seed := uint64(0); seed < 60; seed++ {
		withBackup := seed%2 == 0
		t.Run(fmt.Sprintf("seed %d backup %v", seed, withBackup), func(t *testing.T) {
			o := fx.clone(t, withBackup)
			r := rand.New(rand.NewPCG(seed, 7))
			b, _ := os.ReadFile(o.Path)
			lo := 2 * sum.pageSize
			hi := int64(sum.pages) * sum.pageSize
			for i := 0; i < 1+r.IntN(8); i++ {
				off := lo + r.Int64N(hi-lo)
				n := 1 + r.IntN(32)
				for j := 0; j < n && off+int64(j) < int64(len(b)); j++ {
					b[off+int64(j)] = byte(r.Uint32())
				}
			}
			os.WriteFile(o.Path, b, 0o600)

			s, rep, err := Open(o)
			if err != nil {
				if withBackup || !errors.Is(err, ErrDamaged) {
					t.Fatalf("Open: %v", err)
				}
				return
			}
			defer s.Close()
			got := readAll(t, s)
			switch {
			case rep.Recovered && !sameData(got, withCounters(fx.backup, fx.latest)):
				t.Fatalf("recovered, but not to the backup (%s):\n%s", rep.Reason, diff(got, fx.backup))
			case !rep.Recovered && !sameData(got, fx.latest):
				t.Fatalf("opened without complaint but the data changed:\n%s", diff(got, fx.latest))
			}
		})
	}
}

// bbolt itself falls back to the previous commit when the newest meta page
// is torn; the seal notices the lost commit.
func TestNewestMetaBroken(t *testing.T) {
	fx := makeFixture(t)
	o := fx.clone(t, true)
	f, _ := os.Open(o.Path)
	buf := make([]byte, pageHeaderSize+metaSize)
	f.ReadAt(buf, 0)
	m0 := parseMeta(buf)
	ps := int64(m0.pageSize)
	f.ReadAt(buf, ps)
	m1 := parseMeta(buf)
	f.Close()
	newest := int64(0)
	if m1.txid > m0.txid {
		newest = ps
	}
	writeAt(t, o.Path, newest+pageHeaderSize+20, []byte{0xde, 0xad})

	s, rep := mustOpen(t, o)
	defer s.Close()
	if rep.Recovered || !rep.Rollback || !strings.Contains(rep.Reason, "older than its seal") {
		t.Fatalf("report = %+v, want a rollback by bbolt's meta fallback", rep)
	}
	if got := readAll(t, s); got.Usage["eval-ipservices"] == fx.latest.Usage["eval-ipservices"] {
		t.Fatal("the last commit survived a torn meta page; the test damaged the wrong page")
	}
}

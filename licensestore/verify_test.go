package licensestore

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

// The checker must never call a sound store damaged: that would move a
// good store aside. Drive a store through a random workload (values that
// overflow pages, deletes, audit trimming) and reopen it after each round.
func TestCheckerAcceptsWorkload(t *testing.T) {
	o := testOptions(t)
	o.Logf = nil
	r := rand.New(rand.NewPCG(1, 2))
	live := map[string]bool{}
	for round := 0; round < 12; round++ {
		s, rep := mustOpen(t, o)
		if rep.Recovered || rep.Rollback || rep.Reason != "" {
			t.Fatalf("round %d: report %+v", round, rep)
		}
		mustUpdate(t, s, func(tx *Tx) error {
			for i := 0; i < 40; i++ {
				id := fmt.Sprintf("lic-%03d", r.IntN(120))
				if live[id] && r.IntN(3) == 0 {
					delete(live, id)
					if err := tx.DeleteLicense(id); err != nil {
						return err
					}
					continue
				}
				raw := make([]byte, 100+r.IntN(9000)) // some span overflow pages
				for j := range raw {
					raw[j] = 'a' + byte(r.IntN(26))
				}
				live[id] = true
				if err := tx.PutLicense(LicenseRecord{ID: id, Raw: raw, Slot: r.IntN(50)}); err != nil {
					return err
				}
				if err := tx.PutUsage("eval-"+id, Usage{Used: time.Duration(r.IntN(1e6)) * time.Second}); err != nil {
					return err
				}
			}
			for i := 0; i < 1500; i++ {
				if _, err := tx.AppendAudit(AuditRecord{Time: testNow, Action: strings.Repeat("x", r.IntN(200))}); err != nil {
					return err
				}
			}
			return nil
		})
		if n := len(readAll(t, s).Licenses); n != len(live) {
			t.Fatalf("round %d: %d licenses, want %d", round, n, len(live))
		}
		s.Close()
		f, _ := os.Open(o.Path)
		fi, _ := f.Stat()
		_, err := checkBoltFile(f, fi.Size())
		f.Close()
		if err != nil {
			t.Fatalf("round %d: checker rejects a sound store: %v", round, err)
		}
	}
}

// Stores written with other page sizes (other CPUs use 16 or 64 KiB pages).
func TestOtherPageSizes(t *testing.T) {
	for _, ps := range []int{1024, 16384, 65536} {
		t.Run(fmt.Sprint(ps), func(t *testing.T) {
			o := testOptions(t)
			recs := map[string]string{}
			for i := 0; i < 50; i++ {
				recs[fmt.Sprintf("k%02d", i)] = strings.Repeat("v", 300)
			}
			buckets := map[string]map[string]string{bucketConfig: recs}
			for _, b := range dataBuckets {
				if buckets[b] == nil {
					buckets[b] = map[string]string{}
				}
			}
			writeRawStorePageSize(t, o.Path, schemaVersion, buckets, ps)
			if got := fileSummaryOf(t, o.Path).pageSize; got != int64(ps) {
				t.Fatalf("page size %d, want %d", got, ps)
			}
			s, rep := mustOpen(t, o)
			defer s.Close()
			if rep.Recovered || rep.Created {
				t.Fatalf("report %+v", rep)
			}
			if c := readAll(t, s); len(c.Config) != 50 {
				t.Fatalf("%d config records", len(c.Config))
			}
		})
	}
}

// Hand-made structural damage that only a bounds- and cycle-aware walk
// reports cleanly.
func TestCheckerStructure(t *testing.T) {
	fx := makeFixture(t)
	branch, leaf := uint64(0), uint64(0)
	sum := fileSummaryOf(t, fx.o.Path)
	hdr := make([]byte, pageHeaderSize)
	f, _ := os.Open(fx.o.Path)
	for _, id := range treePages(t, fx.o.Path) {
		f.ReadAt(hdr, int64(id)*sum.pageSize)
		switch ne.Uint16(hdr[8:]) {
		case branchPageFlag:
			branch = id
		case leafPageFlag:
			leaf = id
		}
	}
	f.Close()
	if branch == 0 || leaf == 0 {
		t.Fatal("fixture has no branch page")
	}
	u64 := func(v uint64) []byte { b := make([]byte, 8); ne.PutUint64(b, v); return b }
	u32 := func(v uint32) []byte { b := make([]byte, 4); ne.PutUint32(b, v); return b }
	at := func(id uint64, off int64) int64 { return int64(id)*sum.pageSize + off }
	tests := []struct {
		name string
		off  int64
		b    []byte
		want string
	}{
		// First element's child pointer (pos u32, ksize u32, pgid u64).
		{"branch points to itself", at(branch, pageHeaderSize+8), u64(branch), "): referenced more than once"},
		{"branch points past the end", at(branch, pageHeaderSize+8), u64(sum.pages + 5), "out of range"},
		{"branch points to a meta page", at(branch, pageHeaderSize+8), u64(1), "out of range [2,"},
		{"overflow past the end", at(leaf, 12), u32(1 << 30), "overflow pages run past the last page"},
		{"element count beyond the page", at(leaf, 10), []byte{0xff, 0x7f}, "elements do not fit"},
		{"leaf key runs off the page", at(leaf, pageHeaderSize+8), u32(1 << 20), "key or value runs past the page"},
		{"unknown leaf flags", at(leaf, pageHeaderSize), u32(4), "unknown flags 0x4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := fx.clone(t, false)
			writeAt(t, o.Path, tt.off, tt.b)
			f, _ := os.Open(o.Path)
			defer f.Close()
			fi, _ := f.Stat()
			_, err := checkBoltFile(f, fi.Size())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("check: %v, want %q", err, tt.want)
			}
			if _, ok := err.(*damageError); !ok {
				t.Fatalf("check returned %T, want damage", err)
			}
			// And Open turns it into ErrDamaged, without hanging on the cycle.
			if _, _, err := Open(o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open: %v", err)
			}
		})
	}
}

package soak

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

const pageSize = 4096 // bbolt's page size on this platform (os.Getpagesize)

// damage is one way a store file goes bad while licensed is stopped.
type damage struct {
	name string
	// apply damages the store file at path (the backup is path+".bak").
	apply func(t testing.TB, path string, rng *rand.Rand)
	// noBackup: the backup is also gone or damaged, so licensed must
	// refuse to start.
	noBackup bool
}

// goCrash matches what the Go runtime prints when a process dies of a
// panic or a fault.
var goCrash = regexp.MustCompile(`(?m)^(panic: |fatal error: |goroutine \d+ \[|\[signal )`)

func crashed(log string) bool { return goCrash.MatchString(log) }

func truncateTo(n func(size int64) int64) func(testing.TB, string, *rand.Rand) {
	return func(t testing.TB, path string, _ *rand.Rand) {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, n(fi.Size())); err != nil {
			t.Fatal(err)
		}
	}
}

// rewritePages changes pages of the file in place: fn gets each chosen
// page's bytes to change.
func rewritePages(t testing.TB, path string, pages []int64, fn func(p []byte)) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, id := range pages {
		p := make([]byte, pageSize)
		if _, err := f.ReadAt(p, id*pageSize); err != nil {
			t.Fatalf("read page %d: %v", id, err)
		}
		fn(p)
		if _, err := f.WriteAt(p, id*pageSize); err != nil {
			t.Fatal(err)
		}
	}
}

func pageCount(t testing.TB, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size() / pageSize
}

// randomPages picks n distinct pages.
func randomPages(t testing.TB, path string, rng *rand.Rand, n int) []int64 {
	total := pageCount(t, path)
	var out []int64
	for len(out) < n && len(out) < int(total) {
		id := rng.Int64N(total)
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func fillRandom(rng *rand.Rand) func([]byte) {
	return func(p []byte) {
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
	}
}

// fixedDamage is every named kind of damage, each tried once.
func fixedDamage() []damage {
	zero := func(p []byte) { clear(p) }
	metaSum := func(p []byte) { p[16+56] ^= 0xff } // a byte of the meta's checksum
	return []damage{
		{name: "zero length", apply: truncateTo(func(int64) int64 { return 0 })},
		{name: "truncated to 100 bytes", apply: truncateTo(func(int64) int64 { return 100 })},
		{name: "truncated to one page", apply: truncateTo(func(int64) int64 { return pageSize })},
		{name: "truncated to the two meta pages", apply: truncateTo(func(int64) int64 { return 2 * pageSize })},
		{name: "truncated to half", apply: truncateTo(func(n int64) int64 { return n / 2 / pageSize * pageSize })},
		{name: "cut mid-page", apply: truncateTo(func(n int64) int64 { return n - pageSize/2 })},
		{name: "meta page 0 checksum broken", apply: func(t testing.TB, path string, _ *rand.Rand) {
			rewritePages(t, path, []int64{0}, metaSum)
		}},
		{name: "both meta pages broken", apply: func(t testing.TB, path string, _ *rand.Rand) {
			rewritePages(t, path, []int64{0, 1}, metaSum)
		}},
		{name: "every data page zeroed", apply: func(t testing.TB, path string, _ *rand.Rand) {
			var all []int64
			for id := int64(2); id < pageCount(t, path); id++ {
				all = append(all, id)
			}
			rewritePages(t, path, all, zero)
		}},
		{name: "whole file random bytes", apply: func(t testing.TB, path string, rng *rand.Rand) {
			var all []int64
			for id := int64(0); id < pageCount(t, path); id++ {
				all = append(all, id)
			}
			rewritePages(t, path, all, fillRandom(rng))
		}},
		{name: "store and backup both zero length", noBackup: true, apply: func(t testing.TB, path string, _ *rand.Rand) {
			os.Truncate(path, 0)
			os.Truncate(path+".bak", 0)
		}},
		{name: "store truncated, backup random bytes", noBackup: true, apply: func(t testing.TB, path string, rng *rand.Rand) {
			os.Truncate(path, 2*pageSize)
			rewritePages(t, path+".bak", randomPages(t, path+".bak", rng, int(pageCount(t, path+".bak"))), fillRandom(rng))
		}},
		{name: "store damaged, backup deleted", noBackup: true, apply: func(t testing.TB, path string, rng *rand.Rand) {
			rewritePages(t, path, []int64{0, 1}, metaSum)
			if err := os.Remove(path + ".bak"); err != nil {
				t.Fatal(err)
			}
		}},
	}
}

// randomDamage is page-level damage of a seeded random kind.
func randomDamage(i int) damage {
	kinds := []struct {
		name string
		fn   func(rng *rand.Rand) func([]byte)
	}{
		{"random bytes", fillRandom},
		{"zeroed", func(*rand.Rand) func([]byte) { return func(p []byte) { clear(p) } }},
		{"bit flips", func(rng *rand.Rand) func([]byte) {
			return func(p []byte) {
				for range 1 + rng.IntN(8) {
					p[rng.IntN(len(p))] ^= 1 << rng.IntN(8)
				}
			}
		}},
	}
	k := kinds[i%len(kinds)]
	n := 1 + i/len(kinds)%3
	return damage{
		name: fmt.Sprintf("random %d page(s) %s #%d", n, k.name, i),
		apply: func(t testing.TB, path string, rng *rand.Rand) {
			rewritePages(t, path, randomPages(t, path, rng, n), k.fn(rng))
		},
	}
}

// TestDamagedStore damages the store of a stopped device (truncation, zero
// length, broken meta pages, random page-level damage) and starts licensed
// on it. Each start must either serve with the licenses of the last good
// backup and a STORE_RECOVERED message in its log, or serve the untouched
// licenses when the damage missed live data, or, when the backup is gone
// too, exit with status 1 and a message naming the damage. Never a crash,
// never a silently empty store.
//
// Short: the 13 named kinds and 9 random images. SOAK=1: also 300 random
// images.
func TestDamagedStore(t *testing.T) {
	p := newPortal(t)
	tmpl := newDevice(t, p)
	tmpl.start()
	installed := []string{}
	for _, f := range []string{"ipservices", "advipservices"} {
		l := p.license(t, f, nil)
		tmpl.must("license", "install", p.file(t, l))
		installed = append(installed, l.ID)
	}
	slices.Sort(installed)
	tmpl.stop()

	cases := fixedDamage()
	random := 9
	if long() {
		random = 300
	}
	for i := range random {
		cases = append(cases, randomDamage(i))
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	var recovered, intact, refused int
	for i, c := range cases {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		d := newDevice(t, p)
		copyDir(t, tmpl.state, d.state)
		backupIDs, backupErr := rawLicenseIDs(d.db() + ".bak")
		c.apply(t, d.db(), rng)
		d.launch()
		err := d.up(15 * time.Second)
		log := d.log.String()
		if crashed(log) {
			t.Fatalf("%s: licensed crashed:\n%s", c.name, log)
		}
		if err != nil {
			// Refused: status 1 and the damage named.
			if d.lastExit == nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if code := d.lastExit.ExitCode(); code != 1 || !strings.Contains(log, "damaged") || !strings.Contains(log, "licenses.db") {
				t.Fatalf("%s: licensed exited %d without naming the damage:\n%s", c.name, code, log)
			}
			if !c.noBackup {
				t.Fatalf("%s: licensed refused to start although a good backup exists:\n%s", c.name, log)
			}
			refused++
			continue
		}
		if c.noBackup {
			d.stop()
			t.Fatalf("%s: licensed served although the store and its backup are gone:\n%s", c.name, log)
		}
		got := ids(d.status())
		d.stop()
		gotIDs := slices.Sorted(maps.Keys(got))
		switch {
		case strings.Contains(log, "STORE_RECOVERED"):
			if backupErr != nil {
				t.Fatalf("%s: recovered from a backup the test cannot read: %v", c.name, backupErr)
			}
			if !slices.Equal(gotIDs, backupIDs) {
				t.Fatalf("%s: recovered licenses %v, the backup holds %v", c.name, gotIDs, backupIDs)
			}
			recovered++
		case slices.Equal(gotIDs, installed):
			intact++ // the damage hit pages the store does not use
		default:
			t.Fatalf("%s: licensed serves %v without saying it recovered (installed %v):\n%s", c.name, gotIDs, installed, log)
		}
		// The promise behind the backup: an installed license survives
		// damage to the store.
		if !slices.Equal(gotIDs, installed) {
			t.Errorf("%s: licenses %v after recovery, %v were installed: the backup did not keep them", c.name, gotIDs, installed)
		}
	}
	figure(t, "%d damaged store images (%d named kinds, %d random page-level): %d recovered from the backup, %d unaffected (damage in unused pages), %d refused with status 1 naming the damage (backup gone too); 0 crashes, 0 silent empty stores",
		len(cases), len(fixedDamage()), random, recovered, intact, refused)
}

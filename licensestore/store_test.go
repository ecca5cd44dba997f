package licensestore

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	berrors "go.etcd.io/bbolt/errors"
)

func TestOptionsRejected(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"no path", Options{MACKey: testKey}, "Options.Path is required"},
		{"no key", Options{Path: dir + "/s.db"}, "MACKey is 0 bytes"},
		{"short key", Options{Path: dir + "/s.db", MACKey: []byte("0123456789")}, "MACKey is 10 bytes, at least 32"},
		{"backup is store", Options{Path: dir + "/s.db", BackupPath: dir + "/s.db", MACKey: testKey}, "BackupPath is the store itself"},
		{"missing directory", Options{Path: dir + "/no/such/s.db", MACKey: testKey}, "create " + dir + "/no/such/s.db: open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Open(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open: got %v, want an error containing %q", err, tt.want)
			}
			if exists(dir + "/s.db") {
				t.Fatal("a rejected Open created the store")
			}
		})
	}
}

func TestCreateReopen(t *testing.T) {
	o := testOptions(t)
	s, rep := mustOpen(t, o)
	if !rep.Created || rep.Recovered || rep.Rollback || rep.Reason != "" {
		t.Fatalf("first Open report = %+v, want Created only", rep)
	}
	for _, p := range []string{o.Path + ".bak", o.Path + ".seal"} {
		if !exists(p) {
			t.Errorf("%s not written on create", p)
		}
	}
	if exists(o.Path + ".tmp") {
		t.Error("creation left its temp file behind")
	}
	fill(t, s, 5)
	want := readAll(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.View(func(*Tx) error { return nil }); !errors.Is(err, errClosed) {
		t.Fatalf("View after Close: %v", err)
	}

	s, rep = mustOpen(t, o)
	defer s.Close()
	if rep.Created || rep.Recovered || rep.Rollback || rep.Reason != "" {
		t.Fatalf("reopen report = %+v, want nothing", rep)
	}
	if got := readAll(t, s); !sameData(got, want) || got.Gen != want.Gen {
		t.Fatalf("reopened contents differ:\n%s", diff(got, want))
	}
	if s.Path() != o.Path {
		t.Errorf("Path() = %q", s.Path())
	}
	if n, err := s.Stats(); err != nil || n <= 0 {
		t.Errorf("Stats() = %d, %v", n, err)
	}
}

func TestRecords(t *testing.T) {
	s, _ := mustOpen(t, testOptions(t))
	defer s.Close()

	mustUpdate(t, s, func(tx *Tx) error {
		for _, r := range []LicenseRecord{
			{ID: "b", Raw: []byte("B"), Slot: 2, Installed: testNow},
			{ID: "a", Raw: []byte("A"), Slot: 3, Installed: testNow, Comment: "first"},
			{ID: "c", Raw: []byte("C"), Slot: 1, Installed: testNow, Actor: "admin"},
		} {
			if err := tx.PutLicense(r); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.View(func(tx *Tx) error {
		ls, err := tx.Licenses()
		if err != nil {
			return err
		}
		var order []string
		for _, l := range ls {
			order = append(order, l.ID)
		}
		if got := strings.Join(order, ","); got != "c,b,a" {
			t.Errorf("Licenses order = %s, want by Slot c,b,a", got)
		}
		l, err := tx.License("a")
		if err != nil || string(l.Raw) != "A" || l.Comment != "first" || !l.Installed.Equal(testNow) {
			t.Errorf("License(a) = %+v, %v", l, err)
		}
		if _, err := tx.License("zz"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"zz"`) {
			t.Errorf("License(zz) error = %v, want ErrNotFound naming it", err)
		}
		if u, err := tx.Usage("never"); err != nil || u != (Usage{}) {
			t.Errorf("Usage of unknown = %+v, %v; want zero, nil", u, err)
		}
		var v string
		if ok, err := tx.Get("missing", &v); ok || err != nil {
			t.Errorf("Get(missing) = %v, %v", ok, err)
		}
		if err := tx.PutUsage("x", Usage{Used: time.Hour}); !errors.Is(err, berrors.ErrTxNotWritable) {
			t.Errorf("PutUsage inside View: %v, want ErrTxNotWritable", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	mustUpdate(t, s, func(tx *Tx) error {
		if err := tx.DeleteLicense("b"); err != nil {
			return err
		}
		if err := tx.DeleteLicense("b"); !errors.Is(err, ErrNotFound) {
			t.Errorf("second DeleteLicense(b) = %v, want ErrNotFound", err)
		}
		if err := tx.PutUsage("eval", Usage{Used: 90 * time.Minute, Updated: testNow, Expired: true}); err != nil {
			return err
		}
		if err := tx.Put("level", map[string]int{"n": 3}); err != nil {
			return err
		}
		if err := tx.Put("gone", 1); err != nil {
			return err
		}
		if err := tx.Delete("gone"); err != nil {
			return err
		}
		if err := tx.Delete("never-set"); err != nil {
			t.Errorf("Delete of an unset key: %v", err)
		}
		for _, id := range []string{"2", "1", "3"} {
			if err := tx.PutPending(id, map[string]string{"op": "install", "id": id}); err != nil {
				return err
			}
		}
		return tx.DeletePending("3")
	})
	err = s.View(func(tx *Tx) error {
		all, err := tx.AllUsage()
		if err != nil {
			return err
		}
		if u := all["eval"]; u.Used != 90*time.Minute || !u.Expired || !u.Updated.Equal(testNow) || len(all) != 1 {
			t.Errorf("AllUsage = %+v", all)
		}
		var lv map[string]int
		if ok, err := tx.Get("level", &lv); !ok || err != nil || lv["n"] != 3 {
			t.Errorf("Get(level) = %v, %v, %v", lv, ok, err)
		}
		var n int
		if ok, _ := tx.Get("gone", &n); ok {
			t.Error("deleted config key still there")
		}
		var wrong []string
		if _, err := tx.Get("level", &wrong); err == nil || !strings.Contains(err.Error(), `"level"`) {
			t.Errorf("Get into the wrong type: %v, want an error naming the key", err)
		}
		var ids []string
		if err := tx.Pending(func(id string, raw []byte) error {
			ids = append(ids, id+"="+string(raw))
			return nil
		}); err != nil {
			return err
		}
		if got := strings.Join(ids, " "); got != `1={"id":"1","op":"install"} 2={"id":"2","op":"install"}` {
			t.Errorf("Pending = %s", got)
		}
		stop := errors.New("stop")
		if err := tx.Pending(func(string, []byte) error { return stop }); err != stop {
			t.Errorf("Pending did not return fn's error: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBadInput(t *testing.T) {
	s, _ := mustOpen(t, testOptions(t))
	defer s.Close()
	long := strings.Repeat("x", maxKeyLen+1)
	tests := []struct {
		name string
		fn   func(tx *Tx) error
		want string
	}{
		{"empty license ID", func(tx *Tx) error { return tx.PutLicense(LicenseRecord{Raw: []byte("x")}) }, "empty license ID"},
		{"no license text", func(tx *Tx) error { return tx.PutLicense(LicenseRecord{ID: "a"}) }, `license "a" has no license text`},
		{"NUL in ID", func(tx *Tx) error { return tx.PutLicense(LicenseRecord{ID: "a\x00b", Raw: []byte("x")}) }, "contains a NUL byte"},
		{"long key", func(tx *Tx) error { return tx.Put(long, 1) }, "the limit is 1024"},
		{"negative usage", func(tx *Tx) error { return tx.PutUsage("e", Usage{Used: -time.Second}) }, "negative"},
		{"unencodable config", func(tx *Tx) error { return tx.Put("k", func() {}) }, `config key "k"`},
		{"empty counter", func(tx *Tx) error { _, err := tx.NextCounter(""); return err }, "empty counter name"},
		{"negative audit limit", func(tx *Tx) error { _, err := tx.Audit(-1); return err }, "negative"},
		{"empty pending ID", func(tx *Tx) error { return tx.PutPending("", 1) }, "empty pending ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Update(tt.fn)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestUpdateAllOrNothing(t *testing.T) {
	o := testOptions(t)
	s, _ := mustOpen(t, o)
	defer s.Close()
	fill(t, s, 3)
	before := readAll(t, s)
	seal := readSealFile(t, o)

	boom := errors.New("boom")
	err := s.Update(func(tx *Tx) error {
		if err := tx.DeleteLicense("lic-0000"); err != nil {
			return err
		}
		if err := tx.PutUsage("eval-ipservices", Usage{}); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	func() {
		defer func() {
			if r := recover(); r != "panic in fn" {
				t.Fatalf("recovered %v, want the panic to pass through", r)
			}
		}()
		s.Update(func(tx *Tx) error {
			tx.Put("half", 1)
			panic("panic in fn")
		})
	}()
	if got := readAll(t, s); got.Gen != before.Gen || !sameData(got, before) {
		t.Fatalf("failed Updates changed the store:\n%s", diff(got, before))
	}
	if got := readSealFile(t, o); got.Generation != seal.Generation {
		t.Errorf("seal generation %d after failed Updates, want %d", got.Generation, seal.Generation)
	}
	s.Close()
	s, rep := mustOpen(t, o)
	s.Close()
	if rep.Recovered || rep.Rollback {
		t.Fatalf("reopen after failed Updates: %+v", rep)
	}
}

func TestUnchangedUpdateWritesNothing(t *testing.T) {
	o := testOptions(t)
	s, _ := mustOpen(t, o)
	defer s.Close()
	fill(t, s, 2)
	seal, _ := os.ReadFile(o.Path + ".seal")
	gen := readAll(t, s).Gen
	st, _ := os.Stat(o.Path + ".seal")
	mustUpdate(t, s, func(tx *Tx) error {
		_, err := tx.Licenses()
		return err
	})
	if readAll(t, s).Gen != gen {
		t.Error("a read-only Update bumped the generation")
	}
	after, _ := os.ReadFile(o.Path + ".seal")
	st2, _ := os.Stat(o.Path + ".seal")
	if string(after) != string(seal) || !os.SameFile(st, st2) {
		t.Error("a read-only Update rewrote the seal")
	}
}

func TestAuditTrim(t *testing.T) {
	o := testOptions(t)
	s, _ := mustOpen(t, o)
	const extra = 37
	total := MaxAuditEntries + extra
	for start := 1; start <= total; start += 4000 {
		mustUpdate(t, s, func(tx *Tx) error {
			for i := start; i < start+4000 && i <= total; i++ {
				seq, err := tx.AppendAudit(AuditRecord{Seq: 999999, Time: testNow, Action: "a", Target: fmt.Sprint(i)})
				if err != nil {
					return err
				}
				if seq != uint64(i) {
					return fmt.Errorf("AppendAudit #%d returned seq %d", i, seq)
				}
			}
			return nil
		})
	}
	check := func(s *Store) {
		t.Helper()
		err := s.View(func(tx *Tx) error {
			all, err := tx.Audit(0)
			if err != nil {
				return err
			}
			if len(all) != MaxAuditEntries || all[0].Seq != extra+1 || all[len(all)-1].Seq != uint64(total) {
				t.Fatalf("Audit(0): %d entries, seq %d..%d; want %d entries %d..%d",
					len(all), all[0].Seq, all[len(all)-1].Seq, MaxAuditEntries, extra+1, total)
			}
			for i, r := range all {
				if r.Target != fmt.Sprint(r.Seq) || (i > 0 && r.Seq != all[i-1].Seq+1) {
					t.Fatalf("entry %d = %+v", i, r)
				}
			}
			last3, err := tx.Audit(3)
			if err != nil {
				return err
			}
			if len(last3) != 3 || last3[0].Seq != uint64(total-2) || last3[2].Seq != uint64(total) {
				t.Fatalf("Audit(3) = %+v", last3)
			}
			more, err := tx.Audit(MaxAuditEntries * 2)
			if err != nil || len(more) != MaxAuditEntries {
				t.Fatalf("Audit(2×max): %d, %v", len(more), err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check(s)
	s.Close()
	// The trimmed store passes the full open check (digest included).
	s, rep := mustOpen(t, o)
	defer s.Close()
	if rep.Recovered || rep.Reason != "" {
		t.Fatalf("reopen: %+v", rep)
	}
	check(s)
}

func TestCountersMonotonic(t *testing.T) {
	o := testOptions(t)
	var last uint64
	for round := 0; round < 3; round++ {
		s, _ := mustOpen(t, o)
		for i := 0; i < 2; i++ {
			mustUpdate(t, s, func(tx *Tx) error {
				n, err := tx.NextCounter("snmpEngineBoots")
				if err != nil {
					return err
				}
				if n != last+1 {
					t.Fatalf("round %d: counter = %d after %d", round, n, last)
				}
				last = n
				return nil
			})
		}
		mustUpdate(t, s, func(tx *Tx) error {
			n, err := tx.NextCounter("other")
			if n != uint64(round+1) {
				t.Errorf("independent counter = %d in round %d", n, round)
			}
			return err
		})
		s.Close()
	}
	if seal := readSealFile(t, o); seal.Counters["snmpEngineBoots"] != last {
		t.Errorf("seal counters %v, want snmpEngineBoots=%d", seal.Counters, last)
	}
}

func TestReadDetectsTampering(t *testing.T) {
	s, _ := mustOpen(t, testOptions(t))
	defer s.Close()
	fill(t, s, 1)
	// Write a value with a MAC for another key, as a raw edit would.
	mustUpdate(t, s, func(tx *Tx) error {
		env, _ := tx.mac.seal(bucketUsage, []byte("eval-ipservices"), []byte(`{"used_ns":0}`))
		b, _ := tx.bucket(bucketUsage)
		tx.dirty = true
		return b.Put([]byte("eval-securityk9"), env)
	})
	err := s.View(func(tx *Tx) error {
		_, err := tx.Usage("eval-securityk9")
		return err
	})
	if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "usage/eval-securityk9") {
		t.Fatalf("Usage of a forged record: %v, want ErrTampered naming usage/eval-securityk9", err)
	}
	err = s.View(func(tx *Tx) error { _, err := tx.AllUsage(); return err })
	if !errors.Is(err, ErrTampered) {
		t.Fatalf("AllUsage: %v", err)
	}
}

func TestBackupIsAStore(t *testing.T) {
	o := testOptions(t)
	s, _ := mustOpen(t, o)
	fill(t, s, 4)
	if err := s.Backup(); err != nil {
		t.Fatal(err)
	}
	want := readAll(t, s)
	s.Close()
	if exists(o.BackupPath + ".tmp") {
		t.Error("Backup left its temp file")
	}
	o2 := o
	o2.Path = o.Path + ".bak"
	o2.BackupPath = o.Path + ".bak2"
	b, rep := mustOpen(t, o2)
	defer b.Close()
	if rep.Created || rep.Recovered {
		t.Fatalf("opening the backup as a store: %+v", rep)
	}
	if got := readAll(t, b); !sameData(got, want) {
		t.Fatalf("backup contents differ")
	}
}

// A file cut short while open makes reads fault; that must be an error.
func TestTruncatedWhileOpen(t *testing.T) {
	o := testOptions(t)
	s, _ := mustOpen(t, o)
	defer s.Close()
	fill(t, s, 60)
	if err := os.Truncate(o.Path, 8192); err != nil {
		t.Fatal(err)
	}
	err := s.View(func(tx *Tx) error {
		_, err := tx.Licenses()
		return err
	})
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "memory fault") {
		t.Fatalf("reading a truncated open store: %v, want ErrDamaged (memory fault)", err)
	}
}

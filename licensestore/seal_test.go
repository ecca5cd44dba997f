package licensestore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRolledBackCopy(t *testing.T) {
	o := testOptions(t)
	s, _ := mustOpen(t, o)
	fill(t, s, 3)
	s.Close()
	old := filepath.Join(t.TempDir(), "old.db")
	copyFile(t, o.Path, old)

	s, _ = mustOpen(t, o)
	for i := 0; i < 5; i++ {
		mustUpdate(t, s, func(tx *Tx) error {
			if err := tx.PutUsage("eval-ipservices", Usage{Used: time.Duration(i+10) * time.Hour}); err != nil {
				return err
			}
			_, err := tx.NextCounter("snmpEngineBoots")
			return err
		})
	}
	latest := readAll(t, s)
	s.Close()
	sealed := readSealFile(t, o).Generation

	copyFile(t, old, o.Path) // someone puts the older store back
	s, rep := mustOpen(t, o)
	if !rep.Rollback || rep.Recovered || rep.Created {
		t.Fatalf("report = %+v, want Rollback only", rep)
	}
	if !strings.Contains(rep.Reason, "older than its seal") || !strings.Contains(rep.Reason, "generation") {
		t.Errorf("Reason = %q", rep.Reason)
	}
	got := readAll(t, s)
	if got.Gen <= sealed {
		t.Errorf("generation after rollback = %d, want above the seal's %d", got.Gen, sealed)
	}
	if got.Counters["snmpEngineBoots"] != latest.Counters["snmpEngineBoots"] {
		t.Errorf("counter after rollback = %d, want the sealed %d", got.Counters["snmpEngineBoots"], latest.Counters["snmpEngineBoots"])
	}
	if got.Usage["eval-ipservices"] == latest.Usage["eval-ipservices"] {
		t.Fatal("the rolled-back copy was not opened; the test proves nothing")
	}
	s.Close()
	// Reported once; the seal now matches.
	s, rep = mustOpen(t, o)
	s.Close()
	if rep.Rollback || rep.Reason != "" {
		t.Fatalf("second open: %+v", rep)
	}
}

func TestDeletedStoreWithSeal(t *testing.T) {
	o := testOptions(t)
	s, _ := mustOpen(t, o)
	fill(t, s, 3)
	mustUpdate(t, s, func(tx *Tx) error { _, err := tx.NextCounter("snmpEngineBoots"); return err })
	sealed := readSealFile(t, o)
	s.Close()
	bak, _ := os.ReadFile(o.Path + ".bak")

	if err := os.Remove(o.Path); err != nil {
		t.Fatal(err)
	}
	s, rep := mustOpen(t, o)
	defer s.Close()
	if !rep.Created || !rep.Rollback || rep.Recovered {
		t.Fatalf("report = %+v, want Created and Rollback", rep)
	}
	if !strings.Contains(rep.Reason, "no store, but its seal") {
		t.Errorf("Reason = %q", rep.Reason)
	}
	got := readAll(t, s)
	if len(got.Licenses) != 0 {
		t.Fatalf("new store has %d licenses", len(got.Licenses))
	}
	if got.Gen <= sealed.Generation || got.Counters["snmpEngineBoots"] != sealed.Counters["snmpEngineBoots"] {
		t.Errorf("new store: generation %d counters %v; want above %d and %v", got.Gen, got.Counters, sealed.Generation, sealed.Counters)
	}
	// The old backup belongs to the deleted store: kept aside, not lost.
	stale, _ := filepath.Glob(o.Path + ".bak.stale-*")
	if len(stale) != 1 {
		t.Fatalf("stale backup not kept: %v", stale)
	}
	if b, _ := os.ReadFile(stale[0]); string(b) != string(bak) {
		t.Error("the kept backup is not the old one")
	}
	if !exists(o.Path + ".bak") {
		t.Error("no backup of the new store")
	}
}

func TestSealMissingOrInvalid(t *testing.T) {
	tests := []struct {
		name  string
		apply func(path string)
	}{
		{"missing", func(p string) { os.Remove(p) }},
		{"garbage", func(p string) { os.WriteFile(p, []byte("{not json"), 0o600) }},
		{"edited generation", func(p string) {
			b, _ := os.ReadFile(p)
			os.WriteFile(p, []byte(strings.Replace(string(b), `"generation":`, `"generation":9`, 1)), 0o600)
		}},
		{"other key", func(p string) {
			writeSeal(p, macer{key: []byte(strings.Repeat("x", 32))}, sealBody{Version: sealVersion, Store: "x", Generation: 99})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions(t)
			s, _ := mustOpen(t, o)
			fill(t, s, 1)
			gen := readAll(t, s).Gen
			s.Close()
			tt.apply(o.Path + ".seal")

			s, rep := mustOpen(t, o)
			defer s.Close()
			if rep.Rollback || rep.Recovered || rep.Created || rep.Reason != "" {
				t.Fatalf("report = %+v, want a plain open", rep)
			}
			if seal := readSealFile(t, o); seal.Generation != gen {
				t.Fatalf("seal rewritten with generation %d, want %d", seal.Generation, gen)
			}
		})
	}
}

func TestStoreReplacedByAnother(t *testing.T) {
	o := testOptions(t)
	s, _ := mustOpen(t, o)
	fill(t, s, 1)
	s.Close()

	other := testOptions(t)
	s2, _ := mustOpen(t, other)
	for i := 0; i < 10; i++ {
		mustUpdate(t, s2, func(tx *Tx) error { return tx.Put("n", i) })
	}
	s2.Close()
	copyFile(t, other.Path, o.Path)

	s, rep := mustOpen(t, o)
	defer s.Close()
	if !rep.Rollback || !strings.Contains(rep.Reason, "replaced by a different store") {
		t.Fatalf("report = %+v, want a rollback naming the replacement", rep)
	}
}

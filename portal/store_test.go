package portal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testStore checks the Store contract; a new implementation (a SQL
// database) runs it with its own constructor.
func testStore(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	t.Run("crud", func(t *testing.T) {
		s := open(t)
		err := s.Update(ctx, func(tx Tx) error {
			for _, k := range []string{"a/1", "a/2", "b/1", "a/3"} {
				if err := tx.Put(TableLicenses, k, []byte("v"+k)); err != nil {
					return err
				}
			}
			return tx.Put(TableSKUs, "a/1", []byte("other table"))
		})
		if err != nil {
			t.Fatal(err)
		}
		s.View(ctx, func(tx Tx) error {
			v, err := tx.Get(TableLicenses, "a/2")
			if err != nil || string(v) != "va/2" {
				t.Errorf("Get = %q, %v", v, err)
			}
			if _, err := tx.Get(TableLicenses, "zz"); !errors.Is(err, ErrNotFound) {
				t.Errorf("missing key: %v", err)
			}
			var keys []string
			tx.Scan(TableLicenses, "a/", func(k string, v []byte) error { keys = append(keys, k); return nil })
			if fmt.Sprint(keys) != "[a/1 a/2 a/3]" {
				t.Errorf("Scan a/ = %v", keys)
			}
			stop := errors.New("stop")
			n := 0
			if err := tx.Scan(TableLicenses, "", func(string, []byte) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
				t.Errorf("Scan stop = %v after %d", err, n)
			}
			if err := tx.Put(TableLicenses, "x", nil); err == nil {
				t.Error("Put inside View succeeded")
			}
			return nil
		})
		s.Update(ctx, func(tx Tx) error {
			if err := tx.Delete(TableLicenses, "a/2"); err != nil {
				t.Error(err)
			}
			if err := tx.Delete(TableLicenses, "never"); err != nil {
				t.Errorf("deleting a missing key: %v", err)
			}
			a, _ := tx.NextSeq(TableAudit)
			b, _ := tx.NextSeq(TableAudit)
			if a != 1 || b != 2 {
				t.Errorf("NextSeq = %d, %d", a, b)
			}
			if err := tx.Put(TableLicenses, "", nil); err == nil {
				t.Error("empty key accepted")
			}
			return nil
		})
	})
	t.Run("rollback", func(t *testing.T) {
		s := open(t)
		boom := errors.New("boom")
		err := s.Update(ctx, func(tx Tx) error {
			tx.Put(TableLicenses, "k", []byte("v"))
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update = %v", err)
		}
		err = s.Update(ctx, func(tx Tx) error { panic("bad") })
		if err == nil {
			t.Fatal("a panicking update succeeded")
		}
		s.View(ctx, func(tx Tx) error {
			if _, err := tx.Get(TableLicenses, "k"); !errors.Is(err, ErrNotFound) {
				t.Errorf("a failed update left its write: %v", err)
			}
			return nil
		})
	})
	t.Run("concurrent", func(t *testing.T) {
		s := open(t)
		const n = 200
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.Update(ctx, func(tx Tx) error {
					if i%7 == 0 {
						tx.Put(TableLicenses, fmt.Sprintf("bad%03d", i), nil)
						return fmt.Errorf("refused %d", i)
					}
					// A read-modify-write of one counter: serializable
					// transactions lose no increment.
					v, err := tx.Get(TableMeta, "counter")
					c := 0
					if err == nil {
						fmt.Sscan(string(v), &c)
					}
					if err := tx.Put(TableMeta, "counter", []byte(fmt.Sprint(c+1))); err != nil {
						return err
					}
					return tx.Put(TableLicenses, fmt.Sprintf("k%03d", i), []byte("v"))
				})
			}()
		}
		wg.Wait()
		failed := 0
		for i, err := range errs {
			if i%7 == 0 {
				if err == nil || err.Error() != fmt.Sprintf("refused %d", i) {
					t.Errorf("call %d: %v", i, err)
				}
				failed++
			} else if err != nil {
				t.Errorf("call %d: %v", i, err)
			}
		}
		s.View(ctx, func(tx Tx) error {
			v, _ := tx.Get(TableMeta, "counter")
			if string(v) != fmt.Sprint(n-failed) {
				t.Errorf("counter = %s; want %d", v, n-failed)
			}
			bad := 0
			tx.Scan(TableLicenses, "bad", func(string, []byte) error { bad++; return nil })
			if bad != 0 {
				t.Errorf("%d writes of failed calls kept", bad)
			}
			return nil
		})
		st := s.Stats()
		if st.Updates != uint64(n-failed) || st.Commits == 0 || st.Commits > st.Updates {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("closed", func(t *testing.T) {
		s := open(t)
		s.Close()
		if err := s.Update(ctx, func(Tx) error { return nil }); !errors.Is(err, ErrStoreClosed) {
			t.Errorf("Update after Close: %v", err)
		}
		if err := s.View(ctx, func(Tx) error { return nil }); !errors.Is(err, ErrStoreClosed) {
			t.Errorf("View after Close: %v", err)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		s := open(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.View(cctx, func(Tx) error { return nil }); !errors.Is(err, context.Canceled) {
			t.Errorf("View: %v", err)
		}
	})
}

func TestBoltStore(t *testing.T) {
	testStore(t, func(t *testing.T) Store {
		s, err := OpenBolt(filepath.Join(t.TempDir(), "p.db"), BoltOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestBoltStoreFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "p.db")
	s, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// One opener at a time.
	start := time.Now()
	if _, err := OpenBolt(path, BoltOptions{Timeout: 100 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("the lock wait was not bounded")
	}
	if err := s.Update(context.Background(), func(tx Tx) error { return tx.Put(TableSKUs, "k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Durable across a reopen.
	s, err = OpenBolt(path, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.View(context.Background(), func(tx Tx) error {
		if v, err := tx.Get(TableSKUs, "k"); err != nil || string(v) != "v" {
			t.Errorf("after reopen: %q, %v", v, err)
		}
		return nil
	})
	// A newer schema is refused.
	s.Update(context.Background(), func(tx Tx) error { return tx.Put(TableMeta, "schema", []byte("99")) })
	s.Close()
	if _, err := OpenBolt(path, BoltOptions{}); err == nil || !strings.Contains(err.Error(), "newer than this build") {
		t.Fatalf("schema 99: %v", err)
	}
	// A file that is not a store.
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte("this is not a bbolt file, not at all, not one page"), 0o600)
	if _, err := OpenBolt(junk, BoltOptions{}); err == nil {
		t.Fatal("opened a junk file")
	}
}

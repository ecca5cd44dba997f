package licensestore

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Options configures Open. Path and MACKey are required.
type Options struct {
	// Path is the bbolt file. Open also uses Path+".tmp" (a store being
	// created or restored), Path+".seal" (the rollback seal) and
	// Path+".damaged-<unix>" (damaged files kept for a human).
	Path string
	// BackupPath is the last good snapshot. Default Path+".bak".
	BackupPath string
	// Timeout is how long Open waits for the lock. Default 1s; negative
	// means try once. A second process on the same file fails with
	// ErrLocked after it.
	Timeout time.Duration
	// MACKey is the HMAC-SHA256 key that protects every record, at least 32
	// bytes. Derive it from the device key: a store is only readable with
	// the key that wrote it.
	MACKey []byte
	// Logf receives what Open and the seal writer did beyond the report
	// (restores, seal trouble, backups). nil means silent.
	Logf func(format string, args ...any)
	// Now names files moved aside (".damaged-<unix>"). Default time.Now.
	Now func() time.Time

	// migrations replaces the built-in schema steps (tests only).
	migrations []migration
}

func (o Options) normalize() (Options, error) {
	if o.Path == "" {
		return o, errors.New("licensestore: Options.Path is required")
	}
	if len(o.MACKey) < minMACKeySize {
		return o, fmt.Errorf("licensestore: Options.MACKey is %d bytes, at least %d are required", len(o.MACKey), minMACKeySize)
	}
	o.MACKey = append([]byte(nil), o.MACKey...)
	if o.BackupPath == "" {
		o.BackupPath = o.Path + ".bak"
	}
	if o.BackupPath == o.Path {
		return o, fmt.Errorf("licensestore: Options.BackupPath is the store itself (%s)", o.Path)
	}
	if o.Timeout == 0 {
		o.Timeout = time.Second
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.migrations == nil {
		o.migrations = builtinMigrations()
	}
	return o, nil
}

func (o Options) sealPath() string { return o.Path + ".seal" }

// OpenReport says what Open found and did.
type OpenReport struct {
	// Created: no store existed; a new one was made.
	Created bool
	// Recovered: the store was damaged and the backup was restored.
	Recovered bool
	// Reason says what was wrong, for syslog ("truncated to 8192 bytes: …",
	// "page 7 (root/usage): …", "zero length", "usage/x: MAC mismatch", the
	// rollback found). Empty when nothing was.
	Reason string
	// Rollback: the store is older than its seal: it was replaced by an
	// older copy of itself (or another store), or deleted after use. It is
	// also set after Recovered when the backup is older than the last
	// commit, which is the usual case. Open has already raised the
	// generation and the counters to the seal's.
	Rollback bool
	// Tampered: the damage was a record whose MAC or digest did not match
	// (edited outside licensed, or a different MAC key).
	Tampered bool
	// DamagedPath is where the damaged file was moved, when Recovered.
	DamagedPath string
	// Migrations lists the schema steps Open ran ("0→1 name").
	Migrations []string
}

// Store is an open license store. Its methods are safe for concurrent use.
type Store struct {
	o       Options
	db      *bolt.DB
	mac     macer
	storeID string

	mu     sync.Mutex // serialises Update (with its seal write), Backup and Close
	closed atomic.Bool
}

var errClosed = errors.New("licensestore: store is closed")

// Path returns the store file's path.
func (s *Store) Path() string { return s.o.Path }

// Close releases the store and its lock.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Swap(true) {
		return nil
	}
	return s.db.Close()
}

// Stats returns the size of the store file.
func (s *Store) Stats() (fileSize int64, err error) {
	fi, err := os.Stat(s.o.Path)
	if err != nil {
		return 0, fmt.Errorf("licensestore: %w", err)
	}
	return fi.Size(), nil
}

// Update runs fn in one read-write transaction: everything fn wrote is
// committed if it returns nil, nothing if it returns an error or panics.
// A transaction that changed something bumps the store's generation and
// rewrites the seal; one that changed nothing writes nothing.
func (s *Store) Update(fn func(*Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return errClosed
	}
	return s.updateLocked(fn)
}

func (s *Store) updateLocked(fn func(*Tx) error) error {
	var st sealBody
	err := guardFaults("update", func() error {
		return s.db.Update(func(btx *bolt.Tx) error {
			t := &Tx{mac: s.mac, tx: btx, writable: true}
			if err := fn(t); err != nil {
				return err
			}
			if !t.dirty {
				return errNoChange
			}
			gen, err := t.commitMeta()
			if err != nil {
				return err
			}
			counters, err := t.counters()
			if err != nil {
				return err
			}
			st = sealBody{Version: sealVersion, Store: s.storeID, Generation: gen, Counters: counters}
			return nil
		})
	})
	if err == errNoChange {
		return nil
	}
	if err != nil {
		return err
	}
	if err := writeSeal(s.o.sealPath(), s.mac, st); err != nil {
		// The commit stands; a seal behind the store is harmless and the
		// next commit rewrites it.
		s.o.Logf("licensestore: write seal %s: %v", s.o.sealPath(), err)
	}
	return nil
}

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(*Tx) error) error {
	if s.closed.Load() {
		return errClosed
	}
	return guardFaults("view", func() error {
		return s.db.View(func(btx *bolt.Tx) error {
			return fn(&Tx{mac: s.mac, tx: btx})
		})
	})
}

// Backup writes a consistent snapshot of the store to BackupPath (temp
// file, fsync, check, rename). Open restores it when the store is damaged.
// It writes the whole store, so call it after changes worth keeping (a
// license installed or removed), not on every checkpoint.
func (s *Store) Backup() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return errClosed
	}
	return s.backupLocked()
}

func (s *Store) backupLocked() error {
	tmp := s.o.BackupPath + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("licensestore: backup: %w", err)
	}
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("licensestore: backup to %s: %w", s.o.BackupPath, err)
	}
	err = guardFaults("backup", func() error {
		return s.db.View(func(btx *bolt.Tx) error {
			_, err := btx.WriteTo(f)
			return err
		})
	})
	if err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	fi, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if _, err := checkBoltFile(f, fi.Size()); err != nil {
		return fail(fmt.Errorf("the snapshot fails its own check: %w", err))
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, s.o.BackupPath); err != nil {
		return fail(err)
	}
	if err := syncDir(s.o.BackupPath); err != nil {
		return fmt.Errorf("licensestore: backup to %s: %w", s.o.BackupPath, err)
	}
	return nil
}

// guardFaults turns a memory fault while reading the mapped file (the file
// was cut short under us) into an error instead of a crash. Other panics
// are bugs and pass through.
func guardFaults(what string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(interface{ Addr() uintptr }); ok {
				err = fmt.Errorf("%w: %s: memory fault reading the store file: %v", ErrDamaged, what, r)
				return
			}
			panic(r)
		}
	}()
	return fn()
}

// guardAll is for opening files that may be damaged: any panic (bbolt
// asserts on damaged pages) or memory fault becomes damage.
func guardAll(what string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = damagef("%s: %v", what, r)
		}
	}()
	return fn()
}

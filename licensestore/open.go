package licensestore

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// damageError says what is wrong with a store file. It stays inside the
// package: Open turns it into a restore or an ErrDamaged.
type damageError struct {
	reason   string
	tampered bool
	lockLost bool // bbolt closed our descriptor (and lock) when it failed
}

func (e *damageError) Error() string { return e.reason }

func damagef(format string, args ...any) error {
	return &damageError{reason: fmt.Sprintf(format, args...)}
}

// multiError carries its own text and matches several sentinels.
type multiError struct {
	msg string
	is  []error
}

func (e *multiError) Error() string   { return e.msg }
func (e *multiError) Unwrap() []error { return e.is }

var errRetry = errors.New("licensestore: the store changed while waiting for its lock")

// storeInfo is what the open check read from a sound store.
type storeInfo struct {
	schema  int
	storeID string
}

// handle is a locked store file on its way to becoming a Store.
type handle struct {
	f  *os.File // our locked descriptor
	db *bolt.DB // bbolt's handle on f, once open (it owns f then)
}

func (h *handle) locked() bool { return h.db != nil || h.f != nil }

func (h *handle) release() {
	if h.db != nil {
		h.db.Close()
	} else if h.f != nil {
		h.f.Close()
	}
	h.db, h.f = nil, nil
}

type opener struct {
	o        Options
	mac      macer
	deadline time.Time
	tmpPath  string
}

// Open opens the store at o.Path, creating it if there is none.
//
// Before bbolt sees the file, Open checks its structure page by page; then
// it runs bbolt's own check and verifies the MAC of every record and the
// digest over all of them, with memory faults and panics turned into
// errors. A damaged store is moved aside (Path+".damaged-<unix>") and the
// backup is restored and checked the same way: the report says
// Recovered and why. With no usable backup Open returns an error wrapping
// ErrDamaged (and ErrTampered if records were edited); it never hands out
// an empty store in place of a damaged one.
//
// Open fails with ErrLocked when another process (or Store) holds the file
// past o.Timeout, and with ErrSchemaTooNew, leaving the file alone, when a
// newer build wrote it. Older schemas are migrated in one transaction,
// after a backup.
func Open(o Options) (*Store, OpenReport, error) {
	o, err := o.normalize()
	if err != nil {
		return nil, OpenReport{}, err
	}
	op := &opener{o: o, mac: macer{key: o.MACKey}, tmpPath: o.Path + ".tmp"}
	op.deadline = time.Now()
	if o.Timeout > 0 {
		op.deadline = op.deadline.Add(o.Timeout)
	}
	// Each retry means another process moved or created the file while we
	// waited; the loop ends at the deadline.
	for tries := 0; ; tries++ {
		s, rep, err := op.attempt()
		if errors.Is(err, errRetry) {
			if tries < 100 && time.Now().Before(op.deadline) {
				continue
			}
			err = op.lockedErr()
		}
		return s, rep, err
	}
}

func (op *opener) lockedErr() error {
	return fmt.Errorf("%w: another licensed holds the store %s (waited %v)", ErrLocked, op.o.Path, max(op.o.Timeout, 0))
}

// lockFile opens name and takes the exclusive lock bbolt uses, waiting until
// the deadline. If name no longer refers to the locked file once the lock
// is ours, someone moved it meanwhile: errRetry.
func (op *opener) lockFile(name string, create bool) (*os.File, error) {
	flag := os.O_RDWR
	if create {
		flag |= os.O_CREATE
	}
	f, err := os.OpenFile(name, flag, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("licensestore: lock %s: %w", name, err)
		}
		if ok {
			break
		}
		left := time.Until(op.deadline)
		if left <= 0 {
			f.Close()
			return nil, op.lockedErr()
		}
		time.Sleep(min(left, lockPoll))
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("licensestore: %w", err)
	}
	if cur, err := os.Stat(name); err != nil || !os.SameFile(fi, cur) {
		f.Close()
		return nil, errRetry
	}
	return f, nil
}

const lockPoll = 50 * time.Millisecond

func (op *opener) attempt() (*Store, OpenReport, error) {
	f, err := op.lockFile(op.o.Path, false)
	if errors.Is(err, fs.ErrNotExist) {
		return op.create()
	}
	if err != nil {
		return nil, OpenReport{}, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, OpenReport{}, fmt.Errorf("licensestore: %w", err)
	}
	var rep OpenReport
	h := &handle{f: f}
	info, err := op.check(h, op.o.Path)
	var dmg *damageError
	switch {
	case errors.As(err, &dmg):
		if h, info, err = op.recover(h, fi, dmg, &rep); err != nil {
			return nil, rep, err
		}
	case err != nil:
		h.release()
		return nil, rep, err
	}
	return op.finish(h.db, info, rep)
}

// check opens the locked file h.f with bbolt after proving it sound, and
// verifies every record. Damage comes back as *damageError; h stays locked
// unless the error says lockLost.
func (op *opener) check(h *handle, name string) (storeInfo, error) {
	fi, err := h.f.Stat()
	if err != nil {
		return storeInfo{}, fmt.Errorf("licensestore: %w", err)
	}
	var sum fileSummary
	err = guardAll("checking the file", func() (err error) {
		sum, err = checkBoltFile(h.f, fi.Size())
		return err
	})
	if err != nil {
		return storeInfo{}, err
	}
	if sum.note != "" {
		op.o.Logf("licensestore: %s: %s", name, sum.note)
	}

	var db *bolt.DB
	err = guardAll("bbolt panicked while opening", func() (err error) {
		db, err = bolt.Open(name, 0o600, &bolt.Options{
			// The lock is already ours: bbolt's flock on the same
			// descriptor succeeds at once.
			Timeout: time.Second,
			OpenFile: func(n string, _ int, _ os.FileMode) (*os.File, error) {
				if n != name {
					return nil, fmt.Errorf("licensestore: bbolt asked for %s, not %s", n, name)
				}
				return h.f, nil
			},
		})
		return err
	})
	var dmg *damageError
	switch {
	case errors.As(err, &dmg):
		// A panic inside bolt.Open leaves its mmap behind; the descriptor
		// and lock are still ours, and the file is never retried.
		return storeInfo{}, err
	case err != nil:
		// bbolt closed the descriptor, dropping the lock.
		h.f = nil
		if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrVersionMismatch) {
			return storeInfo{}, &damageError{reason: "bbolt: " + err.Error(), lockLost: true}
		}
		return storeInfo{}, fmt.Errorf("licensestore: open %s: %w", name, err)
	}
	h.db = db

	var info storeInfo
	err = guardAll("checking the records", func() error {
		return db.View(func(btx *bolt.Tx) (err error) {
			info, err = op.inspect(btx, name)
			return err
		})
	})
	return info, err
}

// inspect runs bbolt's check and verifies every record and the digest.
func (op *opener) inspect(btx *bolt.Tx, name string) (storeInfo, error) {
	var problems []string
	n := 0
	for err := range btx.Check() { // drain it all: the checker goroutine holds the tx
		if n++; len(problems) < 3 {
			problems = append(problems, err.Error())
		}
	}
	if n > 0 {
		return storeInfo{}, damagef("bbolt check found %d problem(s): %s", n, strings.Join(problems, "; "))
	}

	t := &Tx{mac: op.mac, tx: btx}
	if btx.Bucket([]byte(bucketMeta)) == nil {
		return storeInfo{}, damagef("no %q bucket: not a license store", bucketMeta)
	}
	// The schema first: a newer build's store is left alone, not "repaired".
	p, ok, err := t.get(bucketMeta, []byte(metaSchema))
	if err != nil {
		return storeInfo{}, tamperedf(err)
	}
	var ver int
	if !ok || json.Unmarshal(p, &ver) != nil || ver < 0 {
		return storeInfo{}, damagef("%s/%s is missing or malformed", bucketMeta, metaSchema)
	}
	if ver > schemaVersion {
		return storeInfo{}, fmt.Errorf("%w: %s has schema %d, this build knows up to %d", ErrSchemaTooNew, name, ver, schemaVersion)
	}

	var digest [macSize]byte
	err = btx.ForEach(func(bname []byte, b *bolt.Bucket) error {
		if b == nil {
			return damagef("top-level key %s is not a bucket", printableKey(bname))
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v == nil {
				return damagef("%s/%s is a nested bucket, want a record", printableKey(bname), printableKey(k))
			}
			_, mac, err := op.mac.open(string(bname), k, v)
			if err != nil {
				return tamperedf(err)
			}
			if string(bname) != bucketMeta {
				xorInto(&digest, mac)
			}
		}
		return nil
	})
	if err != nil {
		return storeInfo{}, err
	}
	if ver == schemaVersion {
		for _, b := range dataBuckets {
			if btx.Bucket([]byte(b)) == nil {
				return storeInfo{}, &damageError{reason: fmt.Sprintf("bucket %q is missing", b), tampered: true}
			}
		}
	}
	if err := t.loadDigest(); err != nil {
		return storeInfo{}, tamperedf(err)
	}
	if digest != t.digest {
		return storeInfo{}, &damageError{
			reason:   "the records do not match their digest: records were added, removed or replaced outside licensed",
			tampered: true,
		}
	}
	id, err := t.storeID()
	if err != nil {
		return storeInfo{}, damagef("%s/%s is missing or malformed", bucketMeta, metaStoreID)
	}
	if _, ok, err := t.metaUint(metaGeneration); err != nil || !ok {
		return storeInfo{}, damagef("%s/%s is missing or malformed", bucketMeta, metaGeneration)
	}
	return storeInfo{schema: ver, storeID: id}, nil
}

func tamperedf(err error) error {
	return &damageError{reason: strings.TrimPrefix(err.Error(), ErrTampered.Error()+": "), tampered: errors.Is(err, ErrTampered)}
}

// recover handles a damaged store: restore the backup over it, keeping the
// damaged file aside, or move it aside and report ErrDamaged.
func (op *opener) recover(h *handle, fi os.FileInfo, dmg *damageError, rep *OpenReport) (*handle, storeInfo, error) {
	path := op.o.Path
	op.o.Logf("licensestore: %s is damaged: %s", path, dmg.reason)
	rep.Reason, rep.Tampered = dmg.reason, dmg.tampered
	if !h.locked() || dmg.lockLost {
		h.release()
		f, err := op.lockFile(path, false)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, storeInfo{}, errRetry
		}
		if err != nil {
			return nil, storeInfo{}, err
		}
		if cur, err := f.Stat(); err != nil || !os.SameFile(fi, cur) {
			f.Close()
			return nil, storeInfo{}, errRetry // someone else dealt with it
		}
		h = &handle{f: f}
	}

	bh, info, berr := op.restoreBackup()
	if errors.Is(berr, errRetry) || errors.Is(berr, ErrLocked) {
		h.release()
		return nil, storeInfo{}, berr
	}

	aside, moveErr := op.moveAside(bh != nil)
	if bh == nil {
		h.release()
		var where string
		if moveErr != nil {
			where = fmt.Sprintf("it could not be moved aside (%v)", moveErr)
		} else {
			where = "the damaged file was moved to " + aside
		}
		is := []error{ErrDamaged}
		if dmg.tampered {
			is = append(is, ErrTampered)
		}
		return nil, storeInfo{}, &multiError{
			msg: fmt.Sprintf("licensestore: store %s is damaged (%s) and backup %s is not usable (%v); %s",
				path, dmg.reason, op.o.BackupPath, berr, where),
			is: is,
		}
	}
	if moveErr != nil {
		op.o.Logf("licensestore: could not keep the damaged %s aside (%v); it is replaced", path, moveErr)
		aside = ""
	}
	if err := os.Rename(op.tmpPath, path); err != nil {
		bh.release()
		h.release()
		return nil, storeInfo{}, fmt.Errorf("licensestore: put backup %s in place of %s: %w", op.o.BackupPath, path, err)
	}
	if err := syncDir(path); err != nil {
		op.o.Logf("licensestore: %v", err)
	}
	h.release()
	rep.Recovered, rep.DamagedPath = true, aside
	op.o.Logf("licensestore: restored %s from backup %s; the damaged file is kept as %s", path, op.o.BackupPath, aside)
	return bh, info, nil
}

// moveAside gives the damaged store a ".damaged-<unix>" name. With keep set
// the store's own name stays (a hard link) until the restored file is
// renamed over it, so the store never goes missing.
func (op *opener) moveAside(keep bool) (string, error) {
	aside, err := asideName(op.o.Path, "damaged", op.o.Now())
	if err != nil {
		return "", err
	}
	if keep {
		if err := os.Link(op.o.Path, aside); err == nil {
			return aside, nil
		}
	}
	if err := os.Rename(op.o.Path, aside); err != nil {
		return "", err
	}
	return aside, syncDir(aside)
}

// restoreBackup copies the backup to Path+".tmp" (locked) and checks it like
// a store. On success the handle owns the open copy.
func (op *opener) restoreBackup() (*handle, storeInfo, error) {
	src, err := os.Open(op.o.BackupPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, storeInfo{}, errors.New("there is none")
	}
	if err != nil {
		return nil, storeInfo{}, err
	}
	defer src.Close()
	tf, err := op.lockFile(op.tmpPath, true)
	if err != nil {
		return nil, storeInfo{}, err
	}
	h := &handle{f: tf}
	fail := func(err error) (*handle, storeInfo, error) {
		os.Remove(op.tmpPath)
		h.release()
		return nil, storeInfo{}, err
	}
	if err := tf.Truncate(0); err != nil {
		return fail(err)
	}
	if _, err := io.Copy(tf, src); err != nil {
		return fail(fmt.Errorf("copy: %w", err))
	}
	if err := tf.Sync(); err != nil {
		return fail(err)
	}
	info, err := op.check(h, op.tmpPath)
	var dmg *damageError
	if errors.As(err, &dmg) {
		return fail(errors.New(dmg.reason))
	}
	if err != nil {
		return fail(err)
	}
	return h, info, nil
}

// create makes a new store in Path+".tmp" and renames it into place, so a
// crash never leaves a half-made store under Path.
func (op *opener) create() (*Store, OpenReport, error) {
	tf, err := op.lockFile(op.tmpPath, true)
	if errors.Is(err, errRetry) || errors.Is(err, ErrLocked) {
		return nil, OpenReport{}, err
	}
	if err != nil {
		return nil, OpenReport{}, fmt.Errorf("licensestore: create %s: %w", op.o.Path, err)
	}
	h := &handle{f: tf}
	if _, err := os.Lstat(op.o.Path); err == nil {
		h.release()
		return nil, OpenReport{}, errRetry // made by someone else meanwhile
	} else if !errors.Is(err, fs.ErrNotExist) {
		h.release()
		return nil, OpenReport{}, fmt.Errorf("licensestore: %w", err)
	}
	fail := func(err error) (*Store, OpenReport, error) {
		os.Remove(op.tmpPath)
		h.release()
		return nil, OpenReport{}, fmt.Errorf("licensestore: create %s: %w", op.o.Path, err)
	}
	if err := tf.Truncate(0); err != nil {
		return fail(err)
	}
	id, err := newStoreID()
	if err != nil {
		return fail(err)
	}
	err = guardAll("bbolt panicked while creating", func() (err error) {
		h.db, err = bolt.Open(op.tmpPath, 0o600, &bolt.Options{
			Timeout:  time.Second,
			OpenFile: func(string, int, os.FileMode) (*os.File, error) { return tf, nil },
		})
		return err
	})
	if err != nil {
		return fail(err)
	}
	if err := h.db.Update(func(btx *bolt.Tx) error { return initSchema(btx, op.mac, id) }); err != nil {
		return fail(err)
	}
	if err := os.Rename(op.tmpPath, op.o.Path); err != nil {
		return fail(err)
	}
	if err := syncDir(op.o.Path); err != nil {
		op.o.Logf("licensestore: %v", err)
	}
	op.o.Logf("licensestore: created %s", op.o.Path)
	return op.finish(h.db, storeInfo{schema: schemaVersion, storeID: id}, OpenReport{Created: true})
}

func newStoreID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// initSchema lays out an empty store of the current schema.
func initSchema(btx *bolt.Tx, m macer, id string) error {
	t := &Tx{mac: m, tx: btx, writable: true, digestOK: true}
	for _, b := range append([]string{bucketMeta}, dataBuckets[:]...) {
		if _, err := btx.CreateBucket([]byte(b)); err != nil {
			return fmt.Errorf("create bucket %s: %w", b, err)
		}
	}
	for _, kv := range []struct {
		k string
		v any
	}{{metaSchema, schemaVersion}, {metaStoreID, id}, {metaGeneration, 0}, {metaAuditSeq, 0}} {
		if err := t.putMetaJSON(kv.k, kv.v); err != nil {
			return err
		}
	}
	return t.put(bucketMeta, []byte(metaDigest), t.digest[:])
}

// finish migrates, reconciles the seal and makes sure a backup exists.
func (op *opener) finish(db *bolt.DB, info storeInfo, rep OpenReport) (*Store, OpenReport, error) {
	s := &Store{o: op.o, db: db, mac: op.mac, storeID: info.storeID}
	// Read the seal and the generation before anything here commits.
	seal, serr := readSeal(op.o.sealPath(), op.mac)
	var gen uint64
	if err := s.View(func(t *Tx) (err error) { gen, _, err = t.metaUint(metaGeneration); return err }); err != nil {
		db.Close()
		return nil, rep, err
	}
	if info.schema < schemaVersion {
		if err := s.backupLocked(); err != nil {
			db.Close()
			return nil, rep, fmt.Errorf("licensestore: backup before migrating schema %d: %w", info.schema, err)
		}
		steps, err := s.migrate(info.schema)
		if err != nil {
			db.Close()
			return nil, rep, err
		}
		rep.Migrations = steps
		op.o.Logf("licensestore: migrated %s: %s", op.o.Path, strings.Join(steps, ", "))
	}
	if err := s.reconcileSeal(&rep, seal, serr, gen); err != nil {
		db.Close()
		return nil, rep, err
	}
	s.ensureBackup(rep.Created)
	return s, rep, nil
}

// ensureBackup writes a backup if there is none. A backup found next to a
// newly created store belongs to an earlier one: it is kept, renamed.
func (s *Store) ensureBackup(created bool) {
	_, err := os.Stat(s.o.BackupPath)
	if created && err == nil {
		stale, aerr := asideName(s.o.BackupPath, "stale", s.o.Now())
		if aerr == nil {
			aerr = os.Rename(s.o.BackupPath, stale)
		}
		if aerr != nil {
			s.o.Logf("licensestore: backup %s belongs to an earlier store and could not be moved aside: %v", s.o.BackupPath, aerr)
			return
		}
		s.o.Logf("licensestore: backup %s belonged to an earlier store; kept as %s", s.o.BackupPath, stale)
		err = fs.ErrNotExist
	}
	if errors.Is(err, fs.ErrNotExist) {
		if err := s.backupLocked(); err != nil {
			s.o.Logf("%v", err)
		}
	}
}

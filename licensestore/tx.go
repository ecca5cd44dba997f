package licensestore

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Tx is one transaction on the store, valid only inside the function given
// to Store.Update or Store.View. Every record read is checked against its
// MAC; a mismatch is an error wrapping ErrTampered that names the bucket and
// key.
type Tx struct {
	mac      macer
	tx       *bolt.Tx
	writable bool
	dirty    bool // a record changed: bump the generation at commit

	digest   [macSize]byte
	digestOK bool // digest loaded from the meta bucket
}

const maxKeyLen = 1024

var errReadOnly = fmt.Errorf("licensestore: write inside View: %w", berrors.ErrTxNotWritable)

func checkKey(kind, key string) error {
	switch {
	case key == "":
		return fmt.Errorf("licensestore: empty %s", kind)
	case len(key) > maxKeyLen:
		return fmt.Errorf("licensestore: %s %.40q… is %d bytes, the limit is %d", kind, key, len(key), maxKeyLen)
	case strings.IndexByte(key, 0) >= 0:
		return fmt.Errorf("licensestore: %s %q contains a NUL byte", kind, key)
	}
	return nil
}

func (t *Tx) bucket(name string) (*bolt.Bucket, error) {
	b := t.tx.Bucket([]byte(name))
	if b == nil {
		return nil, fmt.Errorf("%w: bucket %q is missing", ErrDamaged, name)
	}
	return b, nil
}

// get returns the checked payload of bucket/key. The payload aliases bbolt
// memory: decode it before the transaction ends.
func (t *Tx) get(bucket string, key []byte) ([]byte, bool, error) {
	b, err := t.bucket(bucket)
	if err != nil {
		return nil, false, err
	}
	env := b.Get(key)
	if env == nil {
		return nil, false, nil
	}
	p, _, err := t.mac.open(bucket, key, env)
	return p, err == nil, err
}

// each calls fn with every record of bucket in key order.
func (t *Tx) each(bucket string, fn func(key, payload []byte) error) error {
	b, err := t.bucket(bucket)
	if err != nil {
		return err
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v == nil {
			return fmt.Errorf("%w: %s/%s is a nested bucket, want a record", ErrDamaged, bucket, printableKey(k))
		}
		p, _, err := t.mac.open(bucket, k, v)
		if err != nil {
			return err
		}
		if err := fn(k, p); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tx) loadDigest() error {
	if t.digestOK {
		return nil
	}
	p, ok, err := t.get(bucketMeta, []byte(metaDigest))
	if err != nil {
		return err
	}
	if !ok || len(p) != macSize {
		return fmt.Errorf("%w: %s/%s is missing or malformed", ErrTampered, bucketMeta, metaDigest)
	}
	copy(t.digest[:], p)
	t.digestOK = true
	return nil
}

func (t *Tx) put(bucket string, key, payload []byte) error {
	if !t.writable {
		return errReadOnly
	}
	b, err := t.bucket(bucket)
	if err != nil {
		return err
	}
	env, mac := t.mac.seal(bucket, key, payload)
	inDigest := bucket != bucketMeta
	var oldMAC [macSize]byte
	if inDigest {
		if err := t.loadDigest(); err != nil {
			return err
		}
		if old := b.Get(key); old != nil {
			oldMAC = storedMAC(old)
		}
	}
	if err := b.Put(key, env); err != nil {
		return fmt.Errorf("licensestore: write %s/%s: %w", bucket, printableKey(key), err)
	}
	// Only after the write succeeded, so a refused write leaves the digest right.
	if inDigest {
		xorInto(&t.digest, oldMAC)
		xorInto(&t.digest, mac)
	}
	t.dirty = true
	return nil
}

// del removes bucket/key and reports whether it existed.
func (t *Tx) del(bucket string, key []byte) (bool, error) {
	if !t.writable {
		return false, errReadOnly
	}
	b, err := t.bucket(bucket)
	if err != nil {
		return false, err
	}
	old := b.Get(key)
	if old == nil {
		return false, nil
	}
	mac := storedMAC(old)
	if bucket != bucketMeta {
		if err := t.loadDigest(); err != nil {
			return false, err
		}
	}
	if err := b.Delete(key); err != nil {
		return false, fmt.Errorf("licensestore: delete %s/%s: %w", bucket, printableKey(key), err)
	}
	if bucket != bucketMeta {
		xorInto(&t.digest, mac)
	}
	t.dirty = true
	return true, nil
}

func (t *Tx) metaUint(key string) (uint64, bool, error) {
	p, ok, err := t.get(bucketMeta, []byte(key))
	if err != nil || !ok {
		return 0, ok, err
	}
	var n uint64
	if err := json.Unmarshal(p, &n); err != nil {
		return 0, false, fmt.Errorf("%w: %s/%s: %v", ErrDamaged, bucketMeta, key, err)
	}
	return n, true, nil
}

func (t *Tx) putMetaJSON(key string, v any) error {
	p, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return t.put(bucketMeta, []byte(key), p)
}

// commitMeta runs after the caller's function in a writable transaction
// that changed something: it bumps the generation and stores the digest.
func (t *Tx) commitMeta() (uint64, error) {
	gen, _, err := t.metaUint(metaGeneration)
	if err != nil {
		return 0, err
	}
	gen++
	if err := t.putMetaJSON(metaGeneration, gen); err != nil {
		return 0, err
	}
	if t.digestOK {
		if err := t.put(bucketMeta, []byte(metaDigest), t.digest[:]); err != nil {
			return 0, err
		}
	}
	return gen, nil
}

// Licenses returns every installed license, ordered by Slot (then ID).
func (t *Tx) Licenses() ([]LicenseRecord, error) {
	var out []LicenseRecord
	err := t.each(bucketLicenses, func(k, p []byte) error {
		r, err := decodeLicense(k, p)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrDamaged, err)
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Slot < out[j].Slot })
	return out, nil
}

// License returns one license; an error wrapping ErrNotFound if there is none.
func (t *Tx) License(id string) (LicenseRecord, error) {
	if err := checkKey("license ID", id); err != nil {
		return LicenseRecord{}, err
	}
	p, ok, err := t.get(bucketLicenses, []byte(id))
	if err != nil {
		return LicenseRecord{}, err
	}
	if !ok {
		return LicenseRecord{}, fmt.Errorf("%w: license %q", ErrNotFound, id)
	}
	r, err := decodeLicense([]byte(id), p)
	if err != nil {
		return LicenseRecord{}, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	return r, nil
}

// PutLicense adds or replaces the license r.ID.
func (t *Tx) PutLicense(r LicenseRecord) error {
	if err := checkKey("license ID", r.ID); err != nil {
		return err
	}
	if len(r.Raw) == 0 {
		return fmt.Errorf("licensestore: license %q has no license text", r.ID)
	}
	p, err := encodeLicense(r)
	if err != nil {
		return fmt.Errorf("licensestore: encode license %q: %w", r.ID, err)
	}
	return t.put(bucketLicenses, []byte(r.ID), p)
}

// DeleteLicense removes a license; an error wrapping ErrNotFound if there is
// none. Its usage record stays: usage belongs to the feature's history.
func (t *Tx) DeleteLicense(id string) error {
	if err := checkKey("license ID", id); err != nil {
		return err
	}
	ok, err := t.del(bucketLicenses, []byte(id))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: license %q", ErrNotFound, id)
	}
	return nil
}

// Usage returns the usage recorded for id, or a zero Usage and nil if none.
func (t *Tx) Usage(id string) (Usage, error) {
	if err := checkKey("usage ID", id); err != nil {
		return Usage{}, err
	}
	p, ok, err := t.get(bucketUsage, []byte(id))
	if err != nil || !ok {
		return Usage{}, err
	}
	u, err := decodeUsage([]byte(id), p)
	if err != nil {
		return Usage{}, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	return u, nil
}

// AllUsage returns every usage record by ID.
func (t *Tx) AllUsage() (map[string]Usage, error) {
	out := make(map[string]Usage)
	err := t.each(bucketUsage, func(k, p []byte) error {
		u, err := decodeUsage(k, p)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrDamaged, err)
		}
		out[string(k)] = u
		return nil
	})
	return out, err
}

// PutUsage records the usage of id.
func (t *Tx) PutUsage(id string, u Usage) error {
	if err := checkKey("usage ID", id); err != nil {
		return err
	}
	if u.Used < 0 {
		return fmt.Errorf("licensestore: usage of %q is negative (%v)", id, u.Used)
	}
	p, err := encodeUsage(u)
	if err != nil {
		return fmt.Errorf("licensestore: encode usage %q: %w", id, err)
	}
	return t.put(bucketUsage, []byte(id), p)
}

// Get decodes the JSON value of a config/meta key into v. It reports false
// (and leaves v alone) when the key is not set.
func (t *Tx) Get(key string, v any) (bool, error) {
	if err := checkKey("config key", key); err != nil {
		return false, err
	}
	p, ok, err := t.get(bucketConfig, []byte(key))
	if err != nil || !ok {
		return false, err
	}
	if err := json.Unmarshal(p, v); err != nil {
		return true, fmt.Errorf("licensestore: config key %q: %w", key, err)
	}
	return true, nil
}

// Put stores v, JSON-encoded, under a config/meta key.
func (t *Tx) Put(key string, v any) error {
	if err := checkKey("config key", key); err != nil {
		return err
	}
	p, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("licensestore: config key %q: %w", key, err)
	}
	return t.put(bucketConfig, []byte(key), p)
}

// Delete removes a config/meta key; removing a key that is not set is not
// an error.
func (t *Tx) Delete(key string) error {
	if err := checkKey("config key", key); err != nil {
		return err
	}
	_, err := t.del(bucketConfig, []byte(key))
	return err
}

// AppendAudit stores r with the next sequence number and returns it. The
// oldest entries beyond MaxAuditEntries are dropped.
func (t *Tx) AppendAudit(r AuditRecord) (uint64, error) {
	if !t.writable {
		return 0, errReadOnly
	}
	last, _, err := t.metaUint(metaAuditSeq)
	if err != nil {
		return 0, err
	}
	seq := last + 1
	p, err := encodeAudit(r)
	if err != nil {
		return 0, fmt.Errorf("licensestore: encode audit record: %w", err)
	}
	if err := t.put(bucketAudit, seqKey(seq), p); err != nil {
		return 0, err
	}
	if err := t.putMetaJSON(metaAuditSeq, seq); err != nil {
		return 0, err
	}
	if seq <= MaxAuditEntries {
		return seq, nil
	}
	// Keys are sequence numbers, so everything at or below the cutoff goes.
	cutoff := seq - MaxAuditEntries
	b, err := t.bucket(bucketAudit)
	if err != nil {
		return 0, err
	}
	var old [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) != 8 {
			return 0, fmt.Errorf("%w: %s/%s: key is %d bytes, want 8", ErrDamaged, bucketAudit, printableKey(k), len(k))
		}
		if be.Uint64(k) > cutoff {
			break
		}
		old = append(old, append([]byte(nil), k...))
	}
	for _, k := range old {
		if _, err := t.del(bucketAudit, k); err != nil {
			return 0, err
		}
	}
	return seq, nil
}

// Audit returns the newest limit audit records, oldest first; limit 0
// returns all.
func (t *Tx) Audit(limit int) ([]AuditRecord, error) {
	if limit < 0 {
		return nil, fmt.Errorf("licensestore: audit limit %d is negative", limit)
	}
	b, err := t.bucket(bucketAudit)
	if err != nil {
		return nil, err
	}
	var out []AuditRecord
	add := func(k, v []byte) error {
		if v == nil {
			return fmt.Errorf("%w: %s/%s is a nested bucket, want a record", ErrDamaged, bucketAudit, printableKey(k))
		}
		p, _, err := t.mac.open(bucketAudit, k, v)
		if err != nil {
			return err
		}
		r, err := decodeAudit(k, p)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrDamaged, err)
		}
		out = append(out, r)
		return nil
	}
	c := b.Cursor()
	if limit == 0 {
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if err := add(k, v); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
		if err := add(k, v); err != nil {
			return nil, err
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// PutPending queues (or replaces) the call-home operation id with v as JSON.
func (t *Tx) PutPending(id string, v any) error {
	if err := checkKey("pending ID", id); err != nil {
		return err
	}
	p, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("licensestore: pending %q: %w", id, err)
	}
	return t.put(bucketPending, []byte(id), p)
}

// DeletePending removes a queued operation; removing one that is not
// queued is not an error.
func (t *Tx) DeletePending(id string) error {
	if err := checkKey("pending ID", id); err != nil {
		return err
	}
	_, err := t.del(bucketPending, []byte(id))
	return err
}

// Pending calls fn for every queued operation in byte order of the IDs (use
// sortable IDs for first-in first-out). raw is the JSON value, a copy fn may
// keep. An error from fn stops the walk and is returned.
func (t *Tx) Pending(fn func(id string, raw []byte) error) error {
	return t.each(bucketPending, func(k, p []byte) error {
		return fn(string(k), append([]byte(nil), p...))
	})
}

// NextCounter increments the named counter and returns its new value; the
// first call returns 1. Counters never go backwards: they are mirrored in
// the seal, and Open raises them again after a rollback or restore.
func (t *Tx) NextCounter(name string) (uint64, error) {
	if err := checkKey("counter name", name); err != nil {
		return 0, err
	}
	if !t.writable {
		return 0, errReadOnly
	}
	n, err := t.counter(name)
	if err != nil {
		return 0, err
	}
	if n == ^uint64(0) {
		return 0, fmt.Errorf("licensestore: counter %q is at its maximum", name)
	}
	n++
	return n, t.setCounter(name, n)
}

func (t *Tx) counter(name string) (uint64, error) {
	p, ok, err := t.get(bucketCounters, []byte(name))
	if err != nil || !ok {
		return 0, err
	}
	if len(p) != 8 {
		return 0, fmt.Errorf("%w: %s/%s is %d bytes, want 8", ErrDamaged, bucketCounters, name, len(p))
	}
	return be.Uint64(p), nil
}

func (t *Tx) setCounter(name string, n uint64) error {
	v := make([]byte, 8)
	be.PutUint64(v, n)
	return t.put(bucketCounters, []byte(name), v)
}

// counters reads every counter, for the seal.
func (t *Tx) counters() (map[string]uint64, error) {
	out := make(map[string]uint64)
	err := t.each(bucketCounters, func(k, p []byte) error {
		if len(p) != 8 {
			return fmt.Errorf("%w: %s/%s is %d bytes, want 8", ErrDamaged, bucketCounters, printableKey(k), len(p))
		}
		out[string(k)] = be.Uint64(p)
		return nil
	})
	return out, err
}

// storeID reads the store's random ID.
func (t *Tx) storeID() (string, error) {
	p, ok, err := t.get(bucketMeta, []byte(metaStoreID))
	if err != nil {
		return "", err
	}
	var id string
	if !ok || json.Unmarshal(p, &id) != nil || id == "" {
		return "", fmt.Errorf("%w: %s/%s is missing or malformed", ErrDamaged, bucketMeta, metaStoreID)
	}
	return id, nil
}

var errNoChange = errors.New("licensestore: nothing changed")

package licensestore

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// migration upgrades the schema from one version to the next. Steps run in
// order inside one read-write transaction with the schema key written at
// the end, so a failed migration leaves the store as it was. Steps change
// records through Tx, which keeps MACs and the digest right.
type migration struct {
	from  int // the step turns schema from into from+1
	name  string
	apply func(t *Tx) error
}

// builtinMigrations lists the schema steps. Schema 1 is the first, so
// there are none yet; the next layout change adds {from: 1, …}.
func builtinMigrations() []migration { return nil }

// migrate runs the steps from schema from up to schemaVersion.
func (s *Store) migrate(from int) ([]string, error) {
	var done []string
	err := s.updateLocked(func(t *Tx) error {
		done = done[:0]
		for v := from; v < schemaVersion; v++ {
			var step *migration
			for i := range s.o.migrations {
				if s.o.migrations[i].from == v {
					step = &s.o.migrations[i]
					break
				}
			}
			if step == nil {
				return fmt.Errorf("licensestore: %s has schema %d and this build has no step from %d to %d", s.o.Path, from, v, v+1)
			}
			if err := step.apply(t); err != nil {
				return fmt.Errorf("licensestore: migrate %s from schema %d to %d (%s): %w", s.o.Path, v, v+1, step.name, err)
			}
			done = append(done, fmt.Sprintf("%d→%d %s", v, v+1, step.name))
		}
		for _, b := range dataBuckets {
			if _, err := t.tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return fmt.Errorf("licensestore: create bucket %s: %w", b, err)
			}
		}
		return t.putMetaJSON(metaSchema, schemaVersion)
	})
	if err != nil {
		return nil, err
	}
	return done, nil
}

// createBucket makes a bucket for a migration step.
func (t *Tx) createBucket(name string) (*bolt.Bucket, error) {
	if !t.writable {
		return nil, errReadOnly
	}
	b, err := t.tx.CreateBucketIfNotExists([]byte(name))
	if err != nil {
		return nil, fmt.Errorf("licensestore: create bucket %s: %w", name, err)
	}
	t.dirty = true
	return b, nil
}

// dropBucket deletes a bucket and takes its records out of the digest.
func (t *Tx) dropBucket(name string) error {
	if !t.writable {
		return errReadOnly
	}
	b := t.tx.Bucket([]byte(name))
	if b == nil {
		return nil
	}
	if err := t.loadDigest(); err != nil {
		return err
	}
	var macs [][macSize]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v == nil {
			return fmt.Errorf("licensestore: bucket %s holds a nested bucket %s", name, printableKey(k))
		}
		macs = append(macs, storedMAC(v))
	}
	if err := t.tx.DeleteBucket([]byte(name)); err != nil {
		return fmt.Errorf("licensestore: delete bucket %s: %w", name, err)
	}
	for _, m := range macs {
		xorInto(&t.digest, m)
	}
	t.dirty = true
	return nil
}

package licensestore

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// writeRawStore lays out a store by hand, MACs and digest included, with
// the given schema and buckets of text records.
func writeRawStore(t *testing.T, path string, schema int, buckets map[string]map[string]string) {
	t.Helper()
	writeRawStorePageSize(t, path, schema, buckets, 0)
}

func writeRawStorePageSize(t *testing.T, path string, schema int, buckets map[string]map[string]string, pageSize int) {
	t.Helper()
	m := macer{key: testKey}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, PageSize: pageSize})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		var digest [macSize]byte
		for name, recs := range buckets {
			b, err := tx.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			for k, v := range recs {
				env, mac := m.seal(name, []byte(k), []byte(v))
				xorInto(&digest, mac)
				if err := b.Put([]byte(k), env); err != nil {
					return err
				}
			}
		}
		meta, err := tx.CreateBucket([]byte(bucketMeta))
		if err != nil {
			return err
		}
		for k, v := range map[string]any{metaSchema: schema, metaStoreID: "0123456789abcdef", metaGeneration: 3, metaAuditSeq: 0} {
			p, _ := json.Marshal(v)
			env, _ := m.seal(bucketMeta, []byte(k), p)
			if err := meta.Put([]byte(k), env); err != nil {
				return err
			}
		}
		env, _ := m.seal(bucketMeta, []byte(metaDigest), digest[:])
		return meta.Put([]byte(metaDigest), env)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func rawSchema(t *testing.T, path string) int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	db.View(func(tx *bolt.Tx) error {
		env := tx.Bucket([]byte(bucketMeta)).Get([]byte(metaSchema))
		return json.Unmarshal(env[envelopeHeader:], &v)
	})
	return v
}

// A made-up schema 0 kept licenses as bare text in a bucket "lic".
func v0Store(t *testing.T) Options {
	o := testOptions(t)
	writeRawStore(t, o.Path, 0, map[string]map[string]string{
		"lic": {"a": "license A", "b": "license B"},
	})
	return o
}

var stepV0 = migration{from: 0, name: "licenses out of lic", apply: func(t *Tx) error {
	type rec struct{ id, raw string }
	var recs []rec
	if err := t.each("lic", func(k, p []byte) error {
		recs = append(recs, rec{string(k), string(p)})
		return nil
	}); err != nil {
		return err
	}
	if _, err := t.createBucket(bucketLicenses); err != nil {
		return err
	}
	for i, r := range recs {
		if err := t.PutLicense(LicenseRecord{ID: r.id, Raw: []byte(r.raw), Slot: i + 1}); err != nil {
			return err
		}
	}
	return t.dropBucket("lic")
}}

func TestMigrateV0(t *testing.T) {
	o := v0Store(t)
	o.migrations = []migration{stepV0}
	s, rep := mustOpen(t, o)
	if !reflect.DeepEqual(rep.Migrations, []string{"0→1 licenses out of lic"}) || rep.Created || rep.Recovered {
		t.Fatalf("report = %+v", rep)
	}
	got := readAll(t, s)
	if len(got.Licenses) != 2 || got.Licenses[0].ID != "a" || string(got.Licenses[1].Raw) != "license B" {
		t.Fatalf("migrated licenses = %+v", got.Licenses)
	}
	if got.Gen != 4 {
		t.Errorf("generation after migration = %d, want 4", got.Gen)
	}
	s.Close()
	if v := rawSchema(t, o.Path); v != schemaVersion {
		t.Fatalf("schema on disk = %d after migration", v)
	}
	if v := rawSchema(t, o.Path+".bak"); v != 0 {
		t.Errorf("pre-migration backup has schema %d, want 0", v)
	}
	// The migrated store passes the full check, digest included.
	s, rep = mustOpen(t, o)
	s.Close()
	if len(rep.Migrations) != 0 || rep.Recovered || rep.Reason != "" {
		t.Fatalf("reopen: %+v", rep)
	}
}

func TestMigrationFailureLeavesStore(t *testing.T) {
	tests := []struct {
		name  string
		steps []migration
		want  string
	}{
		{"step fails", []migration{{from: 0, name: "doomed", apply: func(t *Tx) error {
			if err := stepV0.apply(t); err != nil {
				return err
			}
			return errors.New("disk says no")
		}}}, "from schema 0 to 1 (doomed): disk says no"},
		{"no step", []migration{}, "has schema 0 and this build has no step from 0 to 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := v0Store(t)
			o.migrations = tt.steps
			_, _, err := Open(o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open: %v, want an error containing %q", err, tt.want)
			}
			if errors.Is(err, ErrDamaged) || len(damagedFiles(t, o)) > 0 {
				t.Fatal("a failed migration was treated as damage")
			}
			if v := rawSchema(t, o.Path); v != 0 {
				t.Fatalf("schema on disk = %d after a failed migration", v)
			}
			// Nothing was half-done: the fixed step runs on the old records.
			o.migrations = []migration{stepV0}
			s, rep := mustOpen(t, o)
			defer s.Close()
			if len(rep.Migrations) != 1 || len(readAll(t, s).Licenses) != 2 {
				t.Fatalf("retry after fixing the step: %+v", rep)
			}
		})
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	o := testOptions(t)
	writeRawStore(t, o.Path, schemaVersion+1, map[string]map[string]string{"future": {"x": "y"}})
	before, _ := os.ReadFile(o.Path)
	_, _, err := Open(o)
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "schema 2, this build knows up to 1") {
		t.Fatalf("Open: %v, want ErrSchemaTooNew naming both versions", err)
	}
	after, _ := os.ReadFile(o.Path)
	if string(after) != string(before) || len(damagedFiles(t, o)) > 0 || exists(o.Path+".seal") || exists(o.Path+".bak") {
		t.Fatal("a newer store was touched")
	}
}

package soak

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The store's record layout, as an editor with a raw bbolt handle sees it
// (licensestore/mac.go): version byte, 32-byte MAC, JSON payload.
const (
	envHeader      = 1 + 32
	bucketLicenses = "licenses"
	bucketUsage    = "usage"
)

func envPayload(env []byte) ([]byte, error) {
	if len(env) < envHeader {
		return nil, fmt.Errorf("record of %d bytes has no envelope", len(env))
	}
	return env[envHeader:], nil
}

// rawUsage reads the usage stored for id without checking its MAC. The
// key of a built-in evaluation is featureset.BuiltInID(feature).
func rawUsage(tx *bolt.Tx, id string) (time.Duration, error) {
	b := tx.Bucket([]byte(bucketUsage))
	if b == nil {
		return 0, fmt.Errorf("no %s bucket", bucketUsage)
	}
	env := b.Get([]byte(id))
	if env == nil {
		return 0, nil // never checkpointed yet: licensed reads it as zero
	}
	p, err := envPayload(env)
	if err != nil {
		return 0, err
	}
	var u struct {
		UsedNS int64 `json:"used_ns"`
	}
	if err := json.Unmarshal(p, &u); err != nil {
		return 0, fmt.Errorf("usage/%s: %v", id, err)
	}
	return time.Duration(u.UsedNS), nil
}

// rawLicenseIDs lists the license records of a store file (read-only).
func rawLicenseIDs(path string) ([]string, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var out []string
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketLicenses))
		if b == nil {
			return fmt.Errorf("no %s bucket", bucketLicenses)
		}
		return b.ForEach(func(k, _ []byte) error { out = append(out, string(k)); return nil })
	})
	sort.Strings(out)
	return out, err
}

// rawEdit rewrites one record of a stopped device's store with a raw bbolt
// handle, as someone editing the file would: edit gets the JSON payload
// and returns the new one; the envelope keeps its old MAC.
func rawEdit(t testing.TB, path, bucket, key string, edit func(payload []byte) []byte) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("raw open: %v", err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return fmt.Errorf("no bucket %s", bucket)
		}
		env := b.Get([]byte(key))
		if env == nil {
			return fmt.Errorf("no record %s/%s", bucket, key)
		}
		p, err := envPayload(env)
		if err != nil {
			return err
		}
		out := append(append([]byte(nil), env[:envHeader]...), edit(append([]byte(nil), p...))...)
		return b.Put([]byte(key), out)
	})
	if err != nil {
		t.Fatalf("raw edit %s/%s: %v", bucket, key, err)
	}
}

// copyDir copies a state directory (regular files only).
func copyDir(t testing.TB, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		copyFile(t, filepath.Join(from, e.Name()), filepath.Join(to, e.Name()))
	}
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		t.Fatal(err)
	}
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, fi.Mode().Perm())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

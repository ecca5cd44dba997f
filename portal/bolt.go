package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the layout of the records this build writes.
const SchemaVersion = 1

// BoltOptions configures OpenBolt. Zero values take the defaults.
type BoltOptions struct {
	// Timeout is how long OpenBolt waits for another process to release
	// the file (default 1 s). Past it, OpenBolt returns ErrLocked.
	Timeout time.Duration
	// MaxBatch is the most Update calls grouped into one commit (default
	// 1000).
	MaxBatch int
	// QueueLength is how many Update calls may wait for the committer
	// (default 4096); further callers block until there is room.
	QueueLength int
	// NoSync skips fsync at commit: for tests of the portal's logic only,
	// as a crash may then lose commits or damage the file.
	NoSync bool
}

// BoltStore is the embedded Store: one bbolt file with a bucket per table.
// Update calls that arrive while a commit is being written are grouped
// into the next one, so many requests share one fsync.
type BoltStore struct {
	db       *bolt.DB
	maxBatch int
	queue    chan *boltCall
	done     chan struct{}
	closing  sync.Once
	wg       sync.WaitGroup
	closed   atomic.Bool
	commits  atomic.Uint64
	updates  atomic.Uint64
}

type boltCall struct {
	ctx context.Context
	fn  func(Tx) error
	err chan error
}

var _ Store = (*BoltStore)(nil)

// OpenBolt opens (creating it if needed) the store at path. The file's
// directory is created with mode 0700.
func OpenBolt(path string, o BoltOptions) (*BoltStore, error) {
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 1000
	}
	if o.QueueLength <= 0 {
		o.QueueLength = 4096
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("portal store: %w", err)
	}
	var db *bolt.DB
	err := guard("open "+path, func() error {
		var err error
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: o.Timeout, NoSync: o.NoSync})
		return err
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s is in use (is licportal serve running on this state directory?)", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("portal store %s: %w", path, err)
	}
	if err := initSchema(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("portal store %s: %w", path, err)
	}
	s := &BoltStore{db: db, maxBatch: o.MaxBatch, queue: make(chan *boltCall, o.QueueLength), done: make(chan struct{})}
	s.wg.Add(1)
	go s.commitLoop()
	return s, nil
}

// initSchema creates the buckets and checks the schema version.
func initSchema(db *bolt.DB) error {
	return guard("schema", func() error {
		return db.Update(func(tx *bolt.Tx) error {
			for _, t := range Tables {
				if _, err := tx.CreateBucketIfNotExists([]byte(t)); err != nil {
					return err
				}
			}
			m := tx.Bucket([]byte(TableMeta))
			v := m.Get([]byte("schema"))
			if v == nil {
				b, _ := json.Marshal(SchemaVersion)
				return m.Put([]byte("schema"), b)
			}
			var n int
			if err := json.Unmarshal(v, &n); err != nil {
				return fmt.Errorf("schema version %q is damaged", v)
			}
			if n > SchemaVersion {
				return fmt.Errorf("schema version %d is newer than this build supports (%d)", n, SchemaVersion)
			}
			return nil
		})
	})
}

// guard turns a panic in bbolt (a damaged file) into an error.
func guard(what string, fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: panic: %v", what, r)
		}
	}()
	return fn()
}

// View runs fn in a read-only transaction.
func (s *BoltStore) View(ctx context.Context, fn func(Tx) error) error {
	if s.closed.Load() {
		return ErrStoreClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return guard("view", func() error {
		return s.db.View(func(tx *bolt.Tx) error { return fn(&boltTx{tx: tx}) })
	})
}

// Update queues fn for the next commit and waits for it.
func (s *BoltStore) Update(ctx context.Context, fn func(Tx) error) error {
	if s.closed.Load() {
		return ErrStoreClosed
	}
	c := &boltCall{ctx: ctx, fn: fn, err: make(chan error, 1)}
	select {
	case s.queue <- c:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return ErrStoreClosed
	}
	// Once queued the call may run: wait for its outcome, not the context.
	err := <-c.err
	if err == nil {
		s.updates.Add(1)
	}
	return err
}

// commitLoop takes every call waiting and commits them together.
func (s *BoltStore) commitLoop() {
	defer s.wg.Done()
	for {
		var first *boltCall
		select {
		case first = <-s.queue:
		case <-s.done:
			s.drain()
			return
		}
		batch := []*boltCall{first}
	more:
		for len(batch) < s.maxBatch {
			select {
			case c := <-s.queue:
				batch = append(batch, c)
			default:
				break more
			}
		}
		s.run(batch)
	}
}

// drain fails the calls still queued at Close.
func (s *BoltStore) drain() {
	for {
		select {
		case c := <-s.queue:
			c.err <- ErrStoreClosed
		default:
			return
		}
	}
}

// run commits a batch. A call whose fn fails is answered with its error
// and taken out, and the rest run again in a fresh transaction, so each
// call's writes are kept only if it succeeded.
func (s *BoltStore) run(batch []*boltCall) {
	live := batch[:0]
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			c.err <- err
			continue
		}
		live = append(live, c)
	}
	batch = live
	for len(batch) > 0 {
		failed, ferr := -1, error(nil)
		err := guard("update", func() error {
			return s.db.Update(func(tx *bolt.Tx) error {
				for i, c := range batch {
					if err := callFn(c.fn, &boltTx{tx: tx, writable: true}); err != nil {
						failed, ferr = i, err
						return err
					}
				}
				return nil
			})
		})
		if failed >= 0 {
			batch[failed].err <- ferr
			batch = append(batch[:failed], batch[failed+1:]...)
			continue
		}
		if err == nil {
			s.commits.Add(1)
		}
		for _, c := range batch {
			c.err <- err
		}
		return
	}
}

// callFn runs fn, turning a panic into an error so one bad call cannot
// take the committer down.
func callFn(fn func(Tx) error, tx Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("portal store: update panicked: %v", r)
		}
	}()
	return fn(tx)
}

// Stats returns the commit counters.
func (s *BoltStore) Stats() StoreStats {
	return StoreStats{Commits: s.commits.Load(), Updates: s.updates.Load()}
}

// Close waits for the commit in progress, fails queued calls and closes
// the file.
func (s *BoltStore) Close() error {
	var err error
	s.closing.Do(func() {
		s.closed.Store(true)
		close(s.done)
		s.wg.Wait()
		err = s.db.Close()
	})
	return err
}

type boltTx struct {
	tx       *bolt.Tx
	writable bool
}

func (t *boltTx) bucket(tb Table) (*bolt.Bucket, error) {
	b := t.tx.Bucket([]byte(tb))
	if b == nil {
		return nil, fmt.Errorf("portal store: table %q is missing", tb)
	}
	return b, nil
}

func checkKey(tb Table, key string) error {
	if key == "" {
		return fmt.Errorf("portal store: %s: empty key", tb)
	}
	if len(key) > bolt.MaxKeySize {
		return fmt.Errorf("portal store: %s: key of %d bytes", tb, len(key))
	}
	return nil
}

func (t *boltTx) Get(tb Table, key string) ([]byte, error) {
	if err := checkKey(tb, key); err != nil {
		return nil, err
	}
	b, err := t.bucket(tb)
	if err != nil {
		return nil, err
	}
	v := b.Get([]byte(key))
	if v == nil {
		return nil, fmt.Errorf("%w: %s/%s", ErrNotFound, tb, key)
	}
	return v, nil
}

func (t *boltTx) Put(tb Table, key string, value []byte) error {
	if err := checkKey(tb, key); err != nil {
		return err
	}
	b, err := t.bucket(tb)
	if err != nil {
		return err
	}
	if value == nil {
		value = []byte{}
	}
	return b.Put([]byte(key), value)
}

func (t *boltTx) Delete(tb Table, key string) error {
	if err := checkKey(tb, key); err != nil {
		return err
	}
	b, err := t.bucket(tb)
	if err != nil {
		return err
	}
	return b.Delete([]byte(key))
}

func (t *boltTx) Scan(tb Table, prefix string, fn func(key string, value []byte) error) error {
	b, err := t.bucket(tb)
	if err != nil {
		return err
	}
	c := b.Cursor()
	p := []byte(prefix)
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		if err := fn(string(k), v); err != nil {
			return err
		}
	}
	return nil
}

func (t *boltTx) NextSeq(tb Table) (uint64, error) {
	b, err := t.bucket(tb)
	if err != nil {
		return 0, err
	}
	return b.NextSequence()
}

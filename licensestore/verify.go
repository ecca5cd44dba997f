package licensestore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"strconv"
)

// This file checks a bbolt file by reading it with ReadAt and checking every
// bound before bbolt maps it. bbolt trusts the file: a truncated file faults
// on the mmap (fatal, not a panic), and a damaged page can panic in
// goroutines bbolt starts itself (tx.Check, the freelist rebuild), where no
// recover can reach. So nothing reaches bbolt that this walk has not proven
// to be in bounds, typed correctly and referenced once, with the same key
// order rules bbolt's own check applies.
//
// The on-disk format is bbolt's (file format version 2), in the CPU's byte
// order, as bbolt writes it with unsafe casts.

const (
	boltMagic          = 0xED0CDAED
	boltFormatVersion  = 2
	pageHeaderSize     = 16 // id u64, flags u16, count u16, overflow u32
	metaSize           = 64 // see fileMeta
	metaChecksumOffset = 56 // the checksum covers the meta bytes before it
	elementSize        = 16 // branch: pos u32, ksize u32, pgid u64; leaf: flags, pos, ksize, vsize u32
	bucketHeaderSize   = 16 // root pgid u64, sequence u64

	branchPageFlag   = 0x01
	leafPageFlag     = 0x02
	metaPageFlag     = 0x04
	freelistPageFlag = 0x10
	bucketLeafFlag   = 0x01

	noFreelist   = ^uint64(0)
	maxTreeDepth = 64
	minPageSize  = 512
	maxPageSize  = 1 << 16
)

var ne = binary.NativeEndian

// fileMeta is bbolt's meta page body.
type fileMeta struct {
	magic, version, pageSize, flags uint32
	root, sequence                  uint64
	freelist, pgid, txid, checksum  uint64
	err                             string // why it is not valid; "" if valid
}

// parseMeta decodes the meta body that starts at b[pageHeaderSize:].
func parseMeta(page []byte) fileMeta {
	if len(page) < pageHeaderSize+metaSize {
		return fileMeta{err: "cut short"}
	}
	b := page[pageHeaderSize : pageHeaderSize+metaSize]
	m := fileMeta{
		magic:    ne.Uint32(b[0:]),
		version:  ne.Uint32(b[4:]),
		pageSize: ne.Uint32(b[8:]),
		flags:    ne.Uint32(b[12:]),
		root:     ne.Uint64(b[16:]),
		sequence: ne.Uint64(b[24:]),
		freelist: ne.Uint64(b[32:]),
		pgid:     ne.Uint64(b[40:]),
		txid:     ne.Uint64(b[48:]),
		checksum: ne.Uint64(b[56:]),
	}
	h := fnv.New64a()
	h.Write(b[:metaChecksumOffset])
	switch {
	case m.magic != boltMagic:
		m.err = "bad magic"
	case m.version != boltFormatVersion:
		m.err = fmt.Sprintf("format version %d, want %d", m.version, boltFormatVersion)
	case m.checksum != h.Sum64():
		m.err = "checksum mismatch"
	}
	return m
}

// fileSummary is what the check learned about a sound file.
type fileSummary struct {
	pageSize int64
	pages    uint64 // high-water mark: pages in use
	txid     uint64
	note     string // something worth logging that is not damage
}

// checkBoltFile proves that bbolt can open r (size bytes) without touching
// memory outside the file. Damage comes back as *damageError.
func checkBoltFile(r io.ReaderAt, size int64) (sum fileSummary, err error) {
	if size == 0 {
		return sum, damagef("zero length")
	}
	ps, m0err := boltPageSize(r, size)
	if ps == 0 {
		if size < 0x1000 {
			return sum, damagef("truncated to %d bytes: too short to hold the meta pages", size)
		}
		return sum, damagef("both meta pages are invalid (meta 0: %s; no readable meta 1): not a bbolt store", m0err)
	}
	if ps < minPageSize || ps > maxPageSize || ps&(ps-1) != 0 {
		return sum, damagef("meta page gives page size %d, which bbolt never writes", ps)
	}
	if size < 2*ps {
		return sum, damagef("truncated to %d bytes: shorter than the two meta pages (%d bytes each)", size, ps)
	}
	first := make([]byte, pageHeaderSize+metaSize)
	if _, err := r.ReadAt(first, 0); err != nil {
		return sum, fmt.Errorf("read meta page 0: %w", err)
	}
	m0 := parseMeta(first)
	second := make([]byte, pageHeaderSize+metaSize)
	if _, err := r.ReadAt(second, ps); err != nil {
		return sum, fmt.Errorf("read meta page 1: %w", err)
	}
	m1 := parseMeta(second)

	// bbolt uses the valid meta with the higher txid (DB.meta).
	a, b := m0, m1
	if m1.txid > m0.txid {
		a, b = m1, m0
	}
	var m fileMeta
	switch {
	case a.err == "":
		m = a
		if b.err != "" {
			sum.note = fmt.Sprintf("one meta page is invalid (%s); the other is used", b.err)
		}
	case b.err == "":
		m = b
		sum.note = fmt.Sprintf("the newest meta page is invalid (%s); bbolt falls back to the previous commit", a.err)
	default:
		return sum, damagef("both meta pages are invalid (meta 0: %s; meta 1: %s)", m0.err, m1.err)
	}
	for _, x := range []fileMeta{m0, m1} {
		if x.err == "" && int64(x.pageSize) != ps {
			return sum, damagef("meta pages disagree on the page size (%d and %d)", m0.pageSize, m1.pageSize)
		}
	}
	if m.pgid < 3 || m.pgid > uint64(size/ps) {
		if m.pgid > uint64(size/ps) {
			return sum, damagef("truncated to %d bytes: the store needs %d (%d pages of %d bytes)",
				size, satMul(m.pgid, uint64(ps)), m.pgid, ps)
		}
		return sum, damagef("meta page: high-water mark %d pages is impossible", m.pgid)
	}

	c := &fileCheck{r: r, ps: ps, hwm: m.pgid, state: make([]uint8, m.pgid)}
	c.state[0], c.state[1] = pageReached, pageReached
	if err := c.run(m); err != nil {
		return sum, err
	}
	return fileSummary{pageSize: ps, pages: m.pgid, txid: m.txid, note: sum.note}, nil
}

// boltPageSize finds the page size exactly as bbolt's getPageSize does, so
// both read the meta pages at the same places: from a valid meta 0 (read as
// a whole 4 KiB), else from a valid meta 1 probed at 1 KiB, 2 KiB, …, else
// the OS page size if either probe could at least be read. 0 means bbolt
// refuses the file.
func boltPageSize(r io.ReaderAt, size int64) (ps int64, meta0 string) {
	buf := make([]byte, 0x1000)
	canRead := false
	if n, _ := r.ReadAt(buf, 0); n == len(buf) {
		canRead = true
		m := parseMeta(buf)
		if m.err == "" {
			return int64(m.pageSize), ""
		}
		meta0 = m.err
	} else {
		meta0 = fmt.Sprintf("file is %d bytes, too short to read", size)
	}
	for i := 0; i <= 14; i++ {
		pos := int64(1024) << i
		if pos >= size-1024 {
			break
		}
		clear(buf)
		n, _ := r.ReadAt(buf, pos)
		if n == len(buf) || int64(n) == size-pos {
			canRead = true
			if m := parseMeta(buf); m.err == "" {
				return int64(m.pageSize), meta0
			}
		}
	}
	if canRead {
		return int64(os.Getpagesize()), meta0
	}
	return 0, meta0
}

const (
	pageUnseen uint8 = iota
	pageReached
	pageFreed
)

type fileCheck struct {
	r     io.ReaderAt
	ps    int64
	hwm   uint64
	state []uint8
}

func (c *fileCheck) run(m fileMeta) error {
	persisted := m.freelist != noFreelist
	if persisted {
		if err := c.freelist(m.freelist); err != nil {
			return err
		}
	}
	if m.root < 2 || m.root >= c.hwm {
		return damagef("meta page: root page %d is out of range [2, %d)", m.root, c.hwm)
	}
	if _, err := c.page(m.root, nil, nil, 0, "root"); err != nil {
		return err
	}
	if persisted {
		for id, st := range c.state {
			if st == pageUnseen {
				return damagef("page %d: neither in use nor free", id)
			}
		}
	}
	return nil
}

// span reads page id and its overflow pages after checking the header.
func (c *fileCheck) span(id uint64, where string) ([]byte, error) {
	if id < 2 || id >= c.hwm {
		return nil, damagef("page %d (%s): out of range [2, %d)", id, where, c.hwm)
	}
	hdr := make([]byte, pageHeaderSize)
	if _, err := c.r.ReadAt(hdr, int64(id)*c.ps); err != nil {
		return nil, fmt.Errorf("read page %d: %w", id, err)
	}
	if self := ne.Uint64(hdr[0:]); self != id {
		return nil, damagef("page %d (%s): page header says it is page %d", id, where, self)
	}
	overflow := uint64(ne.Uint32(hdr[12:]))
	if overflow >= c.hwm-id {
		return nil, damagef("page %d (%s): %d overflow pages run past the last page (%d)", id, where, overflow, c.hwm-1)
	}
	buf := make([]byte, int64(overflow+1)*c.ps)
	if _, err := c.r.ReadAt(buf, int64(id)*c.ps); err != nil {
		return nil, fmt.Errorf("read page %d: %w", id, err)
	}
	return buf, nil
}

// claim marks a page span as reachable, once.
func (c *fileCheck) claim(id uint64, overflow uint32, where string) error {
	for i := uint64(0); i <= uint64(overflow); i++ {
		switch c.state[id+i] {
		case pageReached:
			return damagef("page %d (%s): referenced more than once", id+i, where)
		case pageFreed:
			return damagef("page %d (%s): in use and also on the free list", id+i, where)
		}
		c.state[id+i] = pageReached
	}
	return nil
}

func (c *fileCheck) freelist(id uint64) error {
	p, err := c.span(id, "freelist")
	if err != nil {
		return err
	}
	if flags := ne.Uint16(p[8:]); flags != freelistPageFlag {
		return damagef("page %d: freelist page has type %s", id, pageType(flags))
	}
	overflow := ne.Uint32(p[12:])
	if err := c.claim(id, overflow, "freelist"); err != nil {
		return err
	}
	count, idx := uint64(ne.Uint16(p[10:])), uint64(0)
	if count == 0xFFFF {
		if len(p) < pageHeaderSize+8 {
			return damagef("page %d: freelist count is cut short", id)
		}
		count, idx = ne.Uint64(p[pageHeaderSize:]), 1
	}
	room := uint64(len(p)-pageHeaderSize) / 8
	if count > room || idx+count > room {
		return damagef("page %d: freelist claims %d entries, the page holds %d", id, count, room)
	}
	for i := idx; i < idx+count; i++ {
		free := ne.Uint64(p[pageHeaderSize+8*i:])
		if free < 2 || free >= c.hwm {
			return damagef("page %d: freelist entry %d is out of range [2, %d)", id, free, c.hwm)
		}
		switch c.state[free] {
		case pageFreed:
			return damagef("page %d: freed twice", free)
		case pageReached:
			return damagef("page %d: the free list is on the free list", free)
		}
		c.state[free] = pageFreed
	}
	return nil
}

// page checks a branch or leaf page and everything under it, mirroring
// bbolt's key order rules: keys within [minKey, maxKey), strictly rising.
// It returns the largest key in the subtree.
func (c *fileCheck) page(id uint64, minKey, maxKey []byte, depth int, where string) ([]byte, error) {
	if depth > maxTreeDepth {
		return nil, damagef("page %d (%s): tree deeper than %d levels", id, where, maxTreeDepth)
	}
	p, err := c.span(id, where)
	if err != nil {
		return nil, err
	}
	if err := c.claim(id, ne.Uint32(p[12:]), where); err != nil {
		return nil, err
	}
	flags, count := ne.Uint16(p[8:]), int(ne.Uint16(p[10:]))
	if pageHeaderSize+count*elementSize > len(p) {
		return nil, damagef("page %d (%s): %d elements do not fit in the page", id, where, count)
	}
	switch flags {
	case branchPageFlag:
		if count == 0 {
			return nil, damagef("page %d (%s): empty branch page", id, where)
		}
		running := minKey
		var maxIn []byte
		for i := 0; i < count; i++ {
			key, child, err := branchElem(p, i)
			if err != nil {
				return nil, damagef("page %d (%s): element %d: %v", id, where, i, err)
			}
			if err := keyOrder(key, i, running, maxKey); err != nil {
				return nil, damagef("page %d (%s): element %d: %v", id, where, i, err)
			}
			upper := maxKey
			if i+1 < count {
				next, _, err := branchElem(p, i+1)
				if err != nil {
					return nil, damagef("page %d (%s): element %d: %v", id, where, i+1, err)
				}
				upper = next
			}
			if child < 2 || child >= c.hwm {
				return nil, damagef("page %d (%s): element %d points to page %d, out of range [2, %d)", id, where, i, child, c.hwm)
			}
			if maxIn, err = c.page(child, key, upper, depth+1, where); err != nil {
				return nil, err
			}
			running = maxIn
		}
		return maxIn, nil
	case leafPageFlag:
		return c.leaf(p, len(p), minKey, maxKey, depth, where, strconv.FormatUint(id, 10))
	default:
		return nil, damagef("page %d (%s): unexpected page type %s", id, where, pageType(flags))
	}
}

// leaf checks the leaf elements of p (a page or an inline bucket's page).
// end bounds the bytes elements may point to.
func (c *fileCheck) leaf(p []byte, end int, minKey, maxKey []byte, depth int, where, name string) ([]byte, error) {
	count := int(ne.Uint16(p[10:]))
	if pageHeaderSize+count*elementSize > end {
		return nil, damagef("page %s (%s): %d elements do not fit", name, where, count)
	}
	running := minKey
	for i := 0; i < count; i++ {
		flags, key, val, err := leafElem(p[:end], i)
		if err != nil {
			return nil, damagef("page %s (%s): element %d: %v", name, where, i, err)
		}
		if err := keyOrder(key, i, running, maxKey); err != nil {
			return nil, damagef("page %s (%s): element %d: %v", name, where, i, err)
		}
		running = key
		switch flags {
		case 0:
		case bucketLeafFlag:
			if err := c.bucket(val, depth+1, where+"/"+printableKey(key)); err != nil {
				return nil, err
			}
		default:
			return nil, damagef("page %s (%s): element %d has unknown flags %#x", name, where, i, flags)
		}
	}
	if count > 0 {
		return running, nil
	}
	return nil, nil
}

// bucket checks a bucket header and the tree (or inline page) behind it.
func (c *fileCheck) bucket(v []byte, depth int, where string) error {
	if len(v) < bucketHeaderSize {
		return damagef("bucket %s: header is %d bytes, want %d", where, len(v), bucketHeaderSize)
	}
	if depth > maxTreeDepth {
		return damagef("bucket %s: nested deeper than %d levels", where, maxTreeDepth)
	}
	root := ne.Uint64(v)
	if root != 0 {
		_, err := c.page(root, nil, nil, depth, where)
		return err
	}
	inline := v[bucketHeaderSize:]
	if len(inline) < pageHeaderSize {
		return damagef("bucket %s: inline page is %d bytes", where, len(inline))
	}
	if flags := ne.Uint16(inline[8:]); flags != leafPageFlag {
		return damagef("bucket %s: inline page has type %s", where, pageType(flags))
	}
	_, err := c.leaf(inline, len(inline), nil, nil, depth, where, "inline")
	return err
}

func branchElem(p []byte, i int) (key []byte, child uint64, err error) {
	off := pageHeaderSize + i*elementSize
	e := p[off : off+elementSize]
	pos, ksize := uint64(ne.Uint32(e[0:])), uint64(ne.Uint32(e[4:]))
	start := uint64(off) + pos
	if ksize == 0 {
		return nil, 0, fmt.Errorf("empty key")
	}
	if start+ksize > uint64(len(p)) {
		return nil, 0, fmt.Errorf("key runs past the page")
	}
	return p[start : start+ksize], ne.Uint64(e[8:]), nil
}

func leafElem(p []byte, i int) (flags uint32, key, val []byte, err error) {
	off := pageHeaderSize + i*elementSize
	e := p[off : off+elementSize]
	flags = ne.Uint32(e[0:])
	pos, ksize, vsize := uint64(ne.Uint32(e[4:])), uint64(ne.Uint32(e[8:])), uint64(ne.Uint32(e[12:]))
	start := uint64(off) + pos
	if ksize == 0 {
		return 0, nil, nil, fmt.Errorf("empty key")
	}
	if start+ksize+vsize > uint64(len(p)) {
		return 0, nil, nil, fmt.Errorf("key or value runs past the page")
	}
	return flags, p[start : start+ksize], p[start+ksize : start+ksize+vsize], nil
}

// keyOrder applies bbolt's verifyKeyOrder rules.
func keyOrder(key []byte, i int, prev, maxKey []byte) error {
	if i == 0 && prev != nil && bytes.Compare(prev, key) > 0 {
		return fmt.Errorf("first key %s sorts before the parent's key %s", printableKey(key), printableKey(prev))
	}
	if i > 0 && bytes.Compare(prev, key) >= 0 {
		return fmt.Errorf("key %s does not sort after %s", printableKey(key), printableKey(prev))
	}
	if maxKey != nil && bytes.Compare(key, maxKey) >= 0 {
		return fmt.Errorf("key %s is not below the next parent key %s", printableKey(key), printableKey(maxKey))
	}
	return nil
}

func pageType(flags uint16) string {
	switch flags {
	case branchPageFlag:
		return "branch"
	case leafPageFlag:
		return "leaf"
	case metaPageFlag:
		return "meta"
	case freelistPageFlag:
		return "freelist"
	}
	return fmt.Sprintf("unknown (%#04x)", flags)
}

func satMul(a, b uint64) uint64 {
	if a != 0 && b > ^uint64(0)/a {
		return ^uint64(0)
	}
	return a * b
}

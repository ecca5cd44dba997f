package snmp

import (
	"slices"
	"strconv"

	"github.com/gosnmp/gosnmp"
)

// valueFunc computes a value at response time (uptime, counters).
type valueFunc func(s *Server) any

// entry is one object instance the agent serves.
type entry struct {
	oid  oid
	name string // oid.String(), cached: gosnmp names variables by string
	typ  gosnmp.Asn1BER
	val  any       // static value
	dyn  valueFunc // non-nil: value computed per response
}

// view is an ordered snapshot of every instance served, built from one
// agent.Status so that a walk sees one consistent state.
type view struct {
	entries []entry // sorted by oid
	// objects are the OBJECT-TYPEs implemented (scalar and column OIDs
	// without instance), sorted; they tell noSuchObject from noSuchInstance.
	objects []oid
	// comments maps clmgmtLicenseComments instances to their feature, the
	// only writable column.
	comments map[string]commentRow
}

// commentRow is what a SET of clmgmtLicenseComments needs to know.
type commentRow struct {
	feature string
	current string
}

// viewBuilder collects entries. The add functions emit them in OID
// order (tables column by column, rows in index order), so build usually
// only has to check the order.
type viewBuilder struct {
	v     view
	arena []uint32 // backing store of the entries' OIDs
}

func (b *viewBuilder) object(o oid) { b.v.objects = append(b.v.objects, o) }

// instance returns prefix.arcs.idx as an OID carved from the arena.
func (b *viewBuilder) instance(prefix oid, idx oid, arcs ...uint32) oid {
	n := len(prefix) + len(arcs) + len(idx)
	if cap(b.arena)-len(b.arena) < n {
		b.arena = make([]uint32, 0, max(4096, n))
	}
	start := len(b.arena)
	b.arena = append(append(append(b.arena, prefix...), arcs...), idx...)
	return b.arena[start:len(b.arena):len(b.arena)]
}

func (b *viewBuilder) add(o oid, typ gosnmp.Asn1BER, val any) {
	b.v.entries = append(b.v.entries, entry{oid: o, typ: typ, val: val})
}

// scalar registers a scalar object and its .0 instance.
func (b *viewBuilder) scalar(o oid, typ gosnmp.Asn1BER, val any) {
	b.object(o)
	b.add(b.instance(o, nil, 0), typ, val)
}

func (b *viewBuilder) scalarDyn(o oid, typ gosnmp.Asn1BER, f valueFunc) {
	b.object(o)
	b.v.entries = append(b.v.entries, entry{oid: b.instance(o, nil, 0), typ: typ, dyn: f})
}

// cell is one column value of a table row.
type cell struct {
	typ gosnmp.Asn1BER
	val any
}

// table collects the rows of one conceptual table.
type table struct {
	entry oid      // the table's entry OID
	cols  []uint32 // accessible columns, ascending
	rows  []tableRow
}

type tableRow struct {
	idx   oid
	cells []cell // one per column of table.cols
}

func (t *table) row(idx oid, cells ...cell) {
	t.rows = append(t.rows, tableRow{idx: idx, cells: cells})
}

// addTable registers the columns of t and emits its instances column by
// column with the rows in index order, which is GETNEXT order.
func (b *viewBuilder) addTable(t *table) {
	slices.SortStableFunc(t.rows, func(x, y tableRow) int { return x.idx.compare(y.idx) })
	for i, c := range t.cols {
		b.object(t.entry.child(c))
		for _, r := range t.rows {
			b.add(b.instance(t.entry, r.idx, c), r.cells[i].typ, r.cells[i].val)
		}
	}
}

func (b *viewBuilder) build() *view {
	v := &b.v
	cmpEntry := func(x, y entry) int { return x.oid.compare(y.oid) }
	if !slices.IsSortedFunc(v.entries, cmpEntry) {
		slices.SortStableFunc(v.entries, cmpEntry)
	}
	// Two rows with one index would make GETNEXT ambiguous: keep the first.
	v.entries = slices.CompactFunc(v.entries, func(x, y entry) bool { return x.oid.compare(y.oid) == 0 })
	// Names are formatted into one buffer and sliced: two allocations for
	// all of them.
	buf := make([]byte, 0, len(v.entries)*40)
	ends := make([]int, len(v.entries))
	for i := range v.entries {
		for _, a := range v.entries[i].oid {
			buf = append(buf, '.')
			buf = strconv.AppendUint(buf, uint64(a), 10)
		}
		ends[i] = len(buf)
	}
	names := string(buf)
	start := 0
	for i := range v.entries {
		v.entries[i].name = names[start:ends[i]]
		start = ends[i]
	}
	slices.SortFunc(v.objects, oid.compare)
	v.objects = slices.CompactFunc(v.objects, func(x, y oid) bool { return x.compare(y) == 0 })
	return v
}

// find returns the index of the instance o, or -1.
func (v *view) find(o oid) int {
	i, ok := slices.BinarySearchFunc(v.entries, o, func(e entry, t oid) int { return e.oid.compare(t) })
	if !ok {
		return -1
	}
	return i
}

// next returns the index of the first instance after o, or len(entries).
func (v *view) next(o oid) int {
	i, ok := slices.BinarySearchFunc(v.entries, o, func(e entry, t oid) int { return e.oid.compare(t) })
	if ok {
		i++
	}
	return i
}

// isObject reports whether o has an implemented object type as prefix, so
// that a missing instance is noSuchInstance rather than noSuchObject
// (RFC 3416 §4.2.1).
func (v *view) isObject(o oid) bool {
	// Objects are leaves of the MIB tree, never prefixes of each other, so
	// only the greatest object not after o can be its prefix.
	i, ok := slices.BinarySearchFunc(v.objects, o, oid.compare)
	if ok {
		return true
	}
	return i > 0 && o.hasPrefix(v.objects[i-1])
}

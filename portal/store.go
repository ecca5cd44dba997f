package portal

import (
	"context"
	"errors"
)

// Table names a set of records in the store. Keys are unique within a
// table and iterate in byte order.
type Table string

// The portal's tables.
const (
	TableMeta        Table = "meta"         // schema version
	TableSKUs        Table = "skus"         // SKU name → SKU
	TablePAKs        Table = "paks"         // PAK → PAK record
	TableRedemptions Table = "redemptions"  // PAK "/" seq → redemption
	TableDevices     Table = "devices"      // UDI → device (key binding)
	TableLicenses    Table = "licenses"     // license ID → license record
	TableUDILicenses Table = "udi-licenses" // UDI "/" license ID → "" (index)
	TableTickets     Table = "tickets"      // permission ticket ID → ticket
	TableIdempotency Table = "idempotency"  // device key ID "/" idempotency key → stored answer
	TableAudit       Table = "audit"        // seq → audit record
	TableDeviceLog   Table = "device-log"   // UDI "/" audit seq → "" (index)
)

// Tables lists every table, for stores that create them up front.
var Tables = []Table{TableMeta, TableSKUs, TablePAKs, TableRedemptions, TableDevices,
	TableLicenses, TableUDILicenses, TableTickets, TableIdempotency, TableAudit, TableDeviceLog}

// Store keeps the portal's records. Implementations must be safe for
// concurrent use and give serializable transactions.
type Store interface {
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction that is durable when
	// Update returns nil. If fn returns an error, none of its writes are
	// kept and Update returns that error. fn may be run more than once
	// (a store may retry a group of calls), so it must have no effect
	// outside the transaction but on variables it sets afresh each run.
	Update(ctx context.Context, fn func(Tx) error) error
	// Stats counts what the store did since it was opened.
	Stats() StoreStats
	Close() error
}

// Tx is one transaction. Values returned by Get and Scan are valid only
// until the transaction ends; decode or copy them.
type Tx interface {
	// Get returns the value of key, or an error wrapping ErrNotFound.
	Get(t Table, key string) ([]byte, error)
	Put(t Table, key string, value []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(t Table, key string) error
	// Scan calls fn for every key starting with prefix, in byte order,
	// until fn returns an error (which Scan returns).
	Scan(t Table, prefix string, fn func(key string, value []byte) error) error
	// NextSeq returns the next number of a per-table sequence, from 1.
	NextSeq(t Table) (uint64, error)
}

// StoreStats are counters a benchmark or an operator reads.
type StoreStats struct {
	Commits uint64 // durable read-write transactions committed
	Updates uint64 // Update calls that succeeded (several share a commit)
}

// Store errors.
var (
	ErrNotFound    = errors.New("portal store: not found")
	ErrStoreClosed = errors.New("portal store: closed")
	ErrLocked      = errors.New("portal store: locked by another process")
)

package licensestore

// Every bucket and meta key the store uses is named here, so the on-disk
// schema can be read in one place. Bump schemaVersion and add a step to
// builtinMigrations when the layout changes.

// schemaVersion is the layout this build writes.
//
//	v1: buckets meta, licenses, usage, config, audit, pending, counters.
const schemaVersion = 1

// Top-level buckets. Every value in every bucket is an envelope (see mac.go).
const (
	// bucketMeta holds the store's own bookkeeping (the keys below). Its
	// records are MAC'd but not part of the digest.
	bucketMeta = "meta"
	// bucketLicenses: license ID → storedLicense (JSON).
	bucketLicenses = "licenses"
	// bucketUsage: license or feature ID → storedUsage (JSON).
	bucketUsage = "usage"
	// bucketConfig: key → caller's JSON value.
	bucketConfig = "config"
	// bucketAudit: 8-byte big-endian sequence number → storedAudit (JSON).
	bucketAudit = "audit"
	// bucketPending: operation ID → caller's JSON value (call-home queue).
	bucketPending = "pending"
	// bucketCounters: counter name → 8-byte big-endian uint64.
	bucketCounters = "counters"
)

// dataBuckets are the buckets the digest covers, in a fixed order.
var dataBuckets = [...]string{bucketLicenses, bucketUsage, bucketConfig, bucketAudit, bucketPending, bucketCounters}

// Keys in bucketMeta.
const (
	// metaSchema is the schema version (JSON integer). Its envelope format
	// never changes, so any build can tell that a store is too new for it.
	metaSchema = "schema"
	// metaStoreID is a random ID (hex string, JSON) made when the store is
	// created; the seal names it.
	metaStoreID = "store-id"
	// metaGeneration counts committed Updates (JSON integer).
	metaGeneration = "generation"
	// metaDigest is the XOR of the MACs of every record in dataBuckets
	// (32 raw bytes). It catches records that were deleted, added or
	// replaced by an older copy outside this package.
	metaDigest = "digest"
	// metaAuditSeq is the last audit sequence number handed out (JSON integer).
	metaAuditSeq = "audit-seq"
)

// MaxAuditEntries is how many audit records the store keeps; AppendAudit
// drops the oldest beyond it.
const MaxAuditEntries = 10000

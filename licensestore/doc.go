// Package licensestore keeps the license agent's state in one bbolt file:
// installed licenses, evaluation usage, configuration, the audit log, the
// call-home queue and persistent counters.
//
// The store protects itself against the ways a file on a device goes bad.
// Open checks the file page by page with bounds-checked reads before bbolt
// maps it (bbolt trusts the file, and a truncated or damaged one can crash
// the process from places no recover reaches), then runs bbolt's own check
// and verifies every record. A damaged store is moved aside and the last
// good backup restored; Open reports it, and never returns an empty store
// in place of a damaged one.
//
// Every value is MAC'd with HMAC-SHA256 under a key derived from the device
// key, and an XOR of all record MACs (the digest) catches records deleted,
// added or swapped for older copies. A seal file next to the store mirrors
// its generation and counters after each commit, so a store rolled back to
// an older copy, or deleted, is reported, and counters never go backwards.
//
// Writes stay small for flash: a checkpoint of one usage record rewrites
// three 4 KiB bbolt pages (the root leaf holding the small buckets, the
// freelist and a meta page) and a seal of about 190 bytes, some 12.5 KB or
// 585 KiB for a day of 30-minute checkpoints (BenchmarkCheckpointBytes);
// each extra B+tree level under the usage bucket adds one page. A
// transaction that changes nothing writes nothing.
//
// Known limit: the MACs prove records were written by a holder of the key,
// not that they are the newest; a whole-store rollback is caught by the
// seal only while the seal itself survives.
package licensestore

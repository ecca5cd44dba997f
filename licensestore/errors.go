package licensestore

import "errors"

// Sentinel errors. Functions wrap them with detail, so test with errors.Is.
var (
	// ErrLocked: another process (or another Store in this process) holds
	// the store, and the lock did not come free within Options.Timeout.
	ErrLocked = errors.New("licensestore: store locked")

	// ErrDamaged: the store file is damaged and no usable backup exists
	// (Open moves the damaged file aside before returning it), or a read
	// faulted on a file damaged while open (Close and Open again: Open
	// restores the backup).
	ErrDamaged = errors.New("licensestore: store damaged")

	// ErrTampered: a record's MAC does not match, or the records as a whole
	// do not match their digest: the file was edited outside this package,
	// or the MAC key changed.
	ErrTampered = errors.New("licensestore: record tampered with")

	// ErrNotFound: the license (or other record) does not exist.
	ErrNotFound = errors.New("licensestore: not found")

	// ErrSchemaTooNew: the store was written by a newer build with a schema
	// this build does not know. The file is left untouched.
	ErrSchemaTooNew = errors.New("licensestore: store schema is newer than this build supports")
)

package license

import (
	"errors"
	"fmt"
)

// Errors at the package edge. Functions wrap them with detail that names
// what is wrong; test with errors.Is.
var (
	// ErrInvalidFile: a document is not well formed or a field value is
	// not allowed. Parse errors are *SyntaxError, which unwraps to it.
	ErrInvalidFile = errors.New("invalid license file")
	// ErrTooLarge: the input is larger than MaxFileSize.
	ErrTooLarge = errors.New("file too large")
	// ErrUnknownKey: a document is signed by a key that is not trusted.
	ErrUnknownKey = errors.New("unknown signing key")
	// ErrBadSignature: a signature does not verify.
	ErrBadSignature = errors.New("bad signature")
	// ErrInvalid: a document in memory breaks a rule of the format;
	// returned by Validate and the functions that sign, usually with a
	// *FieldError: "invalid license 3c9e…: period: required…".
	ErrInvalid = errors.New("invalid")
	// ErrInvalidKey: a key or PEM file cannot be used.
	ErrInvalidKey = errors.New("invalid key")
)

// MaxFileSize is the largest document the Parse functions accept, in bytes.
const MaxFileSize = 256 << 10

// SyntaxError is a parse failure at a place in a document. It unwraps to
// ErrInvalidFile.
type SyntaxError struct {
	Doc   string // what was parsed: "license file", "permission ticket", ...
	Line  int    // 1-based line number; 0 when the error is about the whole document
	Field string // the field the error is about; empty when none
	Msg   string
}

func (e *SyntaxError) Error() string {
	s := "invalid " + e.Doc
	if e.Line > 0 {
		s += fmt.Sprintf(": line %d", e.Line)
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	return s + ": " + e.Msg
}

// Unwrap makes errors.Is(err, ErrInvalidFile) true.
func (e *SyntaxError) Unwrap() error { return ErrInvalidFile }

// FieldError is a rule broken by one field of a document in memory.
// Validate and the signing functions return it wrapped with ErrInvalid;
// Parse turns it into a *SyntaxError at the field's line.
type FieldError struct {
	Field string // canonical field name: "count", "period", "udi", ...
	Msg   string
	item  int // for a repeated field: 1 + the index of the value at fault; 0 otherwise
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// at marks the error as being about value i of a repeated field.
func (e *FieldError) at(i int) *FieldError {
	e.item = i + 1
	return e
}

func fieldErrorf(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

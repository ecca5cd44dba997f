package licensestore

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
)

var be = binary.BigEndian

// LicenseRecord is one installed license.
type LicenseRecord struct {
	ID         string    // license ID; the key
	Raw        []byte    // the signed license text, one license
	StoreIndex int       // license storage the license lives in (MIB clmgmtLicenseStoreIndex)
	Slot       int       // position in that storage; Licenses orders by it
	Installed  time.Time // when it was installed
	Comment    string    // operator comment (license comment add)
	Actor      string    // who installed it
}

// Usage is the metered use of an evaluation or extension license.
type Usage struct {
	Used    time.Duration // usage accumulated so far
	Updated time.Time     // wall time of the last checkpoint
	Expired bool          // the license ran out of usage
}

// AuditRecord is one entry of the audit log.
type AuditRecord struct {
	Seq                                           uint64 // assigned by AppendAudit; ignored on input
	Time                                          time.Time
	Actor, Source, Action, Target, Result, Detail string
}

// The stored forms are separate from the exported types so the on-disk
// layout changes only with a schema step.

type storedLicense struct {
	ID         string    `json:"id"`
	Raw        []byte    `json:"raw"`
	StoreIndex int       `json:"store_index"`
	Slot       int       `json:"slot"`
	Installed  time.Time `json:"installed"`
	Comment    string    `json:"comment,omitempty"`
	Actor      string    `json:"actor,omitempty"`
}

type storedUsage struct {
	UsedNS  int64     `json:"used_ns"`
	Updated time.Time `json:"updated"`
	Expired bool      `json:"expired,omitempty"`
}

type storedAudit struct {
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor,omitempty"`
	Source string    `json:"source,omitempty"`
	Action string    `json:"action,omitempty"`
	Target string    `json:"target,omitempty"`
	Result string    `json:"result,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

func encodeLicense(r LicenseRecord) ([]byte, error) {
	return json.Marshal(storedLicense{
		ID: r.ID, Raw: r.Raw, StoreIndex: r.StoreIndex, Slot: r.Slot,
		Installed: r.Installed.UTC(), Comment: r.Comment, Actor: r.Actor,
	})
}

func decodeLicense(key, payload []byte) (LicenseRecord, error) {
	var s storedLicense
	if err := json.Unmarshal(payload, &s); err != nil {
		return LicenseRecord{}, fmt.Errorf("%s/%s: %w", bucketLicenses, printableKey(key), err)
	}
	if s.ID != string(key) {
		return LicenseRecord{}, fmt.Errorf("%s/%s: record names license %q", bucketLicenses, printableKey(key), s.ID)
	}
	return LicenseRecord{
		ID: s.ID, Raw: s.Raw, StoreIndex: s.StoreIndex, Slot: s.Slot,
		Installed: s.Installed, Comment: s.Comment, Actor: s.Actor,
	}, nil
}

func encodeUsage(u Usage) ([]byte, error) {
	return json.Marshal(storedUsage{UsedNS: int64(u.Used), Updated: u.Updated.UTC(), Expired: u.Expired})
}

func decodeUsage(key, payload []byte) (Usage, error) {
	var s storedUsage
	if err := json.Unmarshal(payload, &s); err != nil {
		return Usage{}, fmt.Errorf("%s/%s: %w", bucketUsage, printableKey(key), err)
	}
	if s.UsedNS < 0 {
		return Usage{}, fmt.Errorf("%s/%s: negative usage %d", bucketUsage, printableKey(key), s.UsedNS)
	}
	return Usage{Used: time.Duration(s.UsedNS), Updated: s.Updated, Expired: s.Expired}, nil
}

func encodeAudit(r AuditRecord) ([]byte, error) {
	return json.Marshal(storedAudit{
		Time: r.Time.UTC(), Actor: r.Actor, Source: r.Source, Action: r.Action,
		Target: r.Target, Result: r.Result, Detail: r.Detail,
	})
}

func decodeAudit(key, payload []byte) (AuditRecord, error) {
	if len(key) != 8 {
		return AuditRecord{}, fmt.Errorf("%s/%s: key is %d bytes, want 8", bucketAudit, printableKey(key), len(key))
	}
	var s storedAudit
	if err := json.Unmarshal(payload, &s); err != nil {
		return AuditRecord{}, fmt.Errorf("%s/%s: %w", bucketAudit, printableKey(key), err)
	}
	return AuditRecord{
		Seq: be.Uint64(key), Time: s.Time, Actor: s.Actor, Source: s.Source,
		Action: s.Action, Target: s.Target, Result: s.Result, Detail: s.Detail,
	}, nil
}

func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	be.PutUint64(k, seq)
	return k
}

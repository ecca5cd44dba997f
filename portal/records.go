package portal

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/licensed-dev/licensed/license"
)

// SKU is a part number: what one unit of it licenses.
type SKU struct {
	Name     string       `json:"name"`
	Features []string     `json:"features"`
	Type     license.Type `json:"type"`
	// Count is the units of a counted feature one unit of the SKU adds; 0
	// for uncounted features.
	Count int `json:"count,omitempty"`
	// Days is the usage time of metered types or the calendar length of a
	// paidSubscription; 0 for others.
	Days        int    `json:"days,omitempty"`
	Version     string `json:"version,omitempty"` // feature version; default "1.0"
	Description string `json:"description,omitempty"`
}

// PAKLine is one SKU a PAK was bought with.
type PAKLine struct {
	SKU       string `json:"sku"`
	Qty       int    `json:"qty"`
	Remaining int    `json:"remaining"`
}

// PAK is a product authorization key and what is left of it. A line with
// Qty above 1 is partially fulfilled: redeemed in parts across devices.
type PAK struct {
	Code        string    `json:"code"`
	Lines       []PAKLine `json:"lines"`
	Order       string    `json:"order,omitempty"` // the order it came with, for people
	Created     time.Time `json:"created"`
	Redemptions int       `json:"redemptions"`
}

// Exhausted reports whether no line has units left.
func (p *PAK) Exhausted() bool {
	for _, l := range p.Lines {
		if l.Remaining > 0 {
			return false
		}
	}
	return true
}

// Redemption is one redemption of a PAK.
type Redemption struct {
	PAK        string        `json:"pak"`
	UDI        string        `json:"udi"`
	SKUs       []RedeemedSKU `json:"skus"`
	LicenseIDs []string      `json:"licenseIds"`
	Time       time.Time     `json:"time"`
	Actor      string        `json:"actor"`
}

// RedeemedSKU is a SKU and the units taken of it.
type RedeemedSKU struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

// Device is what the portal knows of a UDI.
type Device struct {
	UDI string `json:"udi"`
	// PublicKey is the device key bound at first contact; nil until then.
	PublicKey []byte    `json:"publicKey,omitempty"`
	KeyID     string    `json:"keyId,omitempty"`
	Hostname  string    `json:"hostname,omitempty"`
	FirstSeen time.Time `json:"firstSeen,omitzero"`
	LastSeen  time.Time `json:"lastSeen,omitzero"`
	// RetiredTo is the replacement UDI after an RMA; the UDI may no longer
	// call home.
	RetiredTo string    `json:"retiredTo,omitempty"`
	Retired   time.Time `json:"retired,omitzero"`
}

// License states at the portal.
const (
	StateActive   = "active"   // the UDI holds it
	StateRevoked  = "revoked"  // withdrawn (grace license of a dead device, cancelled)
	StateRehosted = "rehosted" // moved to another UDI by a rehost ticket
	StateReplaced = "replaced" // moved to a replacement UDI by an RMA
)

// Sources of a license.
const (
	SourcePAK       = "pak"
	SourceExtension = "extension"
	SourceGrace     = "grace"
	SourceRehost    = "rehost"
	SourceRMA       = "rma"
)

// LicenseRecord is one license the portal issued.
type LicenseRecord struct {
	ID         string       `json:"id"`
	UDI        string       `json:"udi"`
	Feature    string       `json:"feature"`
	Type       license.Type `json:"type"`
	Count      int          `json:"count,omitempty"`
	State      string       `json:"state"`
	Source     string       `json:"source"`
	PAK        string       `json:"pak,omitempty"`
	SKU        string       `json:"sku,omitempty"`
	From       string       `json:"from,omitempty"`       // the license this one replaces (rehost, RMA)
	ReplacedBy string       `json:"replacedBy,omitempty"` // the license that replaced this one
	Ticket     string       `json:"ticket,omitempty"`     // permission ticket that moved it or carried it
	Issued     time.Time    `json:"issued"`
	Changed    time.Time    `json:"changed,omitzero"`
	// Raw is the signed license file holding this one license.
	Raw string `json:"raw"`
}

// Ticket states.
const (
	TicketOpen      = "open"
	TicketUsed      = "used"
	TicketCancelled = "cancelled"
)

// Ticket is a permission ticket and how it ended.
type Ticket struct {
	ID       string    `json:"id"`
	UDI      string    `json:"udi"`
	Target   string    `json:"target,omitempty"`
	Licenses []string  `json:"licenses"`
	Grace    []string  `json:"grace,omitempty"`
	Issued   time.Time `json:"issued"`
	Expires  time.Time `json:"expires"`
	State    string    `json:"state"`
	Raw      string    `json:"raw"`
	// Set when the rehost ticket came back.
	RehostTicket string    `json:"rehostTicket,omitempty"`
	Used         time.Time `json:"used,omitzero"`
	NewLicenses  []string  `json:"newLicenses,omitempty"`
	MovedTo      string    `json:"movedTo,omitempty"`
}

// AuditEntry is one change.
type AuditEntry struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`  // "admin uid:0", "device WS-C3750E-24TD-S:FDO1234X0AB"
	Action string    `json:"action"` // sku-add, pak-create, redeem, ...
	Target string    `json:"target"` // PAK, UDI, SKU, ticket
	Detail string    `json:"detail,omitempty"`
	UDIs   []string  `json:"udis,omitempty"` // devices the change concerns
}

// idemRecord is the stored answer to a mutating call-home request.
type idemRecord struct {
	Path     string          `json:"path"`
	BodyHash string          `json:"bodyHash"`
	Body     json.RawMessage `json:"body"` // the answer, kept as the JSON it is
	Time     time.Time       `json:"time"`
}

// getJSON reads a record into v.
func getJSON(tx Tx, t Table, key string, v any) error {
	data, err := tx.Get(t, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("portal store: %s/%s is damaged: %w", t, key, err)
	}
	return nil
}

// putJSON writes v as a record.
func putJSON(tx Tx, t Table, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("portal store: encode %s/%s: %w", t, key, err)
	}
	return tx.Put(t, key, data)
}

// found reports whether err is nil, false for ErrNotFound, and passes on
// other errors.
func found(err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, err
}

// seqKey makes sequence numbers sort as text.
func seqKey(n uint64) string {
	s := strconv.FormatUint(n, 16)
	return "0000000000000000"[len(s):] + s
}

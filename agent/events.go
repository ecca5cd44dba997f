package agent

import "time"

// EventKind names what happened. The SNMP notifier and the syslog writer
// map each kind to a notification and a message.
type EventKind string

// Event kinds.
const (
	EventStarted            EventKind = "started"            // coldStart; LICENSE_LEVEL at boot
	EventInstalled          EventKind = "installed"          // clmgmtLicenseInstalled, %LICENSE-6-INSTALL
	EventCleared            EventKind = "cleared"            // clmgmtLicenseCleared
	EventRevoked            EventKind = "revoked"            // clmgmtLicenseRevoked
	EventEULAAccepted       EventKind = "eulaAccepted"       // clmgmtLicenseEULAAccepted
	EventExpiryWarning      EventKind = "expiryWarning"      // clmgmtLicenseExpiryWarning
	EventExpired            EventKind = "expired"            // clmgmtLicenseExpired
	EventCountAboutToExceed EventKind = "countAboutToExceed" // 80 % of capacity
	EventCountExceeded      EventKind = "countExceeded"      // at or beyond capacity
	EventRTUWarning         EventKind = "rtuTransitionWarning"
	EventRTUTransition      EventKind = "rtuTransition"
	EventBootLevel          EventKind = "bootLevel" // cilmBootImageLevelChanged, LICENSE_LEVEL
	EventTamper             EventKind = "tamper"
	EventClockRollback      EventKind = "clockRollback"
	EventStoreRecovered     EventKind = "storeRecovered"
	EventReload             EventKind = "reload"
)

// Event is one thing the agent reports to NMSes and the log.
type Event struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Kind      EventKind `json:"kind"`
	Feature   string    `json:"feature,omitempty"`
	Version   string    `json:"version,omitempty"`
	LicenseID string    `json:"licenseId,omitempty"`
	Type      string    `json:"type,omitempty"` // license.Type
	UDI       string    `json:"udi,omitempty"`  // active member's PID:SN
	// Indices so SNMP varbinds can name table rows.
	EntPhysicalIndex int    `json:"entPhysicalIndex,omitempty"`
	LicenseIndex     int    `json:"licenseIndex,omitempty"`
	FeatureIndex     int    `json:"featureIndex,omitempty"`
	StoreIndex       int    `json:"storeIndex"` // the store (0 primary, 1 built-in)
	Slot             int    `json:"slot"`       // 0-based position within the store: syslog's StoreIndex=
	StoreName        string `json:"storeName,omitempty"`
	Comment          string `json:"comment,omitempty"`
	// Image level events.
	Module    string `json:"module,omitempty"`
	Level     string `json:"level,omitempty"`     // running level
	NextLevel string `json:"nextLevel,omitempty"` // next-boot level
	License   string `json:"license,omitempty"`   // license serving the next level
	// Expiry and counts.
	Remaining     Seconds `json:"remaining,omitempty"`
	Capacity      int     `json:"capacity,omitempty"`
	InUse         int     `json:"inUse,omitempty"`
	WhatIsCounted string  `json:"whatIsCounted,omitempty"`
	// Detail is free text for tamper, recovery and clock events.
	Detail string `json:"detail,omitempty"`
}

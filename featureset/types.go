package featureset

import (
	"time"

	"github.com/licensed-dev/licensed/license"
)

// Kind is how a platform sells its features.
type Kind string

// Kinds of platform.
const (
	// ImageLevels: one level runs at a time; higher levels include lower
	// ones; a change takes effect at the next reload (Catalyst 3750-E).
	ImageLevels Kind = "image-levels"
	// TechnologyPackages: independent packages beside an always-on base
	// (ISR G2); a change takes effect at the next reload.
	TechnologyPackages Kind = "technology-packages"
	// Counted: features with units that device software acquires and
	// releases; capacity changes apply at once (UC500).
	Counted Kind = "counted"
)

// EvalPeriod is the usage time of a built-in evaluation license.
const EvalPeriod = 60 * 24 * time.Hour

// Feature is one licensable feature of a platform.
type Feature struct {
	Name        string // e.g. "ipservices"
	Version     string // e.g. "1.0"
	Description string // one line, for "?" help and SNMP
	// Rank orders image levels (0 = base level, always licensed). For
	// technology packages the base package has Rank 0 too.
	Rank int
	// Base marks the feature that runs without any license.
	Base bool
	// Eval is the type of the built-in evaluation (Evaluation or
	// EvalRightToUse); empty when the feature has none.
	Eval license.Type
	// Technology is the technology column of show version for a technology
	// package ("security" for securityk9); empty on other platforms.
	Technology string
	// Counted features: units built in without a license, and what a unit is.
	Counted       bool
	BuiltIn       int
	WhatIsCounted string
}

// Catalog is what one platform can license.
type Catalog struct {
	Platform    string // id used in identity files: c3750e, c2900, uc500
	Description string // e.g. "Catalyst 3750-E switch"
	Module      string // module name in show version and LICENSE_LEVEL syslog
	Kind        Kind
	Features    []Feature // in display order; index+1 is the SNMP feature index
}

// Input is everything the resolution depends on. It holds no clock: Now is
// the wall-clock time to judge calendar licenses by, which the caller has
// already raised to the high-water mark.
type Input struct {
	Catalog *Catalog
	// Licenses are installed licenses that passed signature and UDI checks.
	Licenses []*license.License
	// BootLevel is the configured next-boot image level ("" = none).
	BootLevel string
	// Packages are the technology packages configured for the next boot.
	Packages []string
	// EULAAccepted: built-in evaluations may only be used once accepted.
	EULAAccepted bool
	// Used is the usage time consumed per license ID (metered licenses and
	// built-in evaluations, whose IDs come from BuiltIns).
	Used map[string]time.Duration
	// Running is this boot's decision, nil while booting. When set, the
	// features that run stay as decided at boot (an expired evaluation keeps
	// running until the next reload); only statuses and counts change.
	Running *Result
	// InUse is the count of units acquired per counted feature.
	InUse map[string]int
	Now   time.Time
}

// State is clmgmtLicenseStatus.
type State string

// License states with their MIB values.
const (
	Inactive           State = "inactive"           // 1
	NotInUse           State = "notInUse"           // 2
	InUse              State = "inUse"              // 3
	ExpiredInUse       State = "expiredInUse"       // 4
	ExpiredNotInUse    State = "expiredNotInUse"    // 5
	UsageCountConsumed State = "usageCountConsumed" // 6
)

// LicenseState is the resolved state of one license.
type LicenseState struct {
	ID        string
	Feature   string
	State     State
	Priority  string        // "High", "Medium", "Low" or "None", as devices show it
	Remaining time.Duration // metered: usage time left (0 when expired); others 0
	Used      time.Duration // metered: usage consumed
	Expired   bool
	// RightToUse is set on an evalRightToUse license whose evaluation period
	// is used up: it has become a lifetime rightToUse license and is shown
	// with that type.
	RightToUse bool
}

// Capacity is the state of one counted feature.
type Capacity struct {
	Capacity  int // built-in units + licensed units
	InUse     int
	Violation int // units in use beyond capacity
}

// Result is the feature set of this boot and the state of every license.
type Result struct {
	// Level is the image level that runs (ImageLevels platforms).
	Level string
	// Enabled lists the features that run, base included, in catalog order.
	Enabled []string
	// Serving maps each enabled feature that a license serves to that
	// license's ID. Every enabled non-base, non-counted feature has an entry;
	// the base feature has one only when a license for it is installed, and a
	// counted feature only when a license adds units to it.
	Serving map[string]string
	// Licenses holds a state for every input license and built-in
	// evaluation, in input order then catalog order.
	Licenses []LicenseState
	// Counted holds the capacity of each counted feature.
	Counted map[string]Capacity
}

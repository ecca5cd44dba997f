package license

import "time"

// Type is a license type. The string values are the enumeration names of
// clmgmtLicenseType in CISCO-LICENSE-MGMT-MIB, except Evaluation, which the
// MIB calls demo.
type Type string

// License types.
const (
	Permanent           Type = "permanent"
	Evaluation          Type = "evaluation" // MIB demo(1): built in, metered, not node-locked
	Extension           Type = "extension"  // node-locked, metered, from the portal
	GracePeriod         Type = "gracePeriod"
	PaidSubscription    Type = "paidSubscription" // calendar dates
	EvalRightToUse      Type = "evalRightToUse"
	RightToUse          Type = "rightToUse"
	PermanentRightToUse Type = "permanentRightToUse"
)

// Types lists every type in MIB order.
var Types = []Type{Evaluation, Extension, GracePeriod, Permanent, PaidSubscription,
	EvalRightToUse, RightToUse, PermanentRightToUse}

// MIB returns the clmgmtLicenseType value.
func (t Type) MIB() int {
	switch t {
	case Evaluation:
		return 1
	case Extension:
		return 2
	case GracePeriod:
		return 3
	case Permanent:
		return 4
	case PaidSubscription:
		return 5
	case EvalRightToUse:
		return 8
	case RightToUse:
		return 9
	case PermanentRightToUse:
		return 10
	}
	return 0
}

// Display is the text devices print after "License Type:".
func (t Type) Display() string {
	switch t {
	case Permanent:
		return "Permanent"
	case Evaluation:
		return "Evaluation"
	case Extension:
		return "Extension"
	case GracePeriod:
		return "Grace Period"
	case PaidSubscription:
		return "Paid Subscription"
	case EvalRightToUse:
		return "EvalRightToUse"
	case RightToUse:
		return "RightToUse"
	case PermanentRightToUse:
		return "PermanentRightToUse"
	}
	return string(t)
}

// Valid reports whether t is a known type.
func (t Type) Valid() bool { return t.MIB() != 0 }

// Metered reports whether the type is valid for a period of usage time
// rather than calendar dates or for ever.
func (t Type) Metered() bool {
	return t == Evaluation || t == Extension || t == GracePeriod || t == EvalRightToUse
}

// Addition says how a license combines with others for the same feature.
type Addition string

// Additions.
const (
	Exclusive Addition = "exclusive"
	Additive  Addition = "additive"
)

// License is one license line: the right to run one feature, signed by the
// portal. A license file holds one or more of them.
type License struct {
	ID       string   // unique, assigned by the portal
	Feature  string   // feature name in the platform catalog, e.g. "ipservices"
	Version  string   // feature version, e.g. "1.0"
	Type     Type     //
	UDI      string   // "PID:SN" the license is locked to; empty: not node-locked
	Count    int      // units of a counted feature; 0: uncounted
	Addition Addition // how counts combine: exclusive (largest wins) or additive (sum)
	// Period is the usage time a metered license allows; zero for others.
	Period time.Duration
	// Start and End bound a calendar-dated license; zero values mean unbounded.
	Start, End time.Time
	Comment    string
	Issued     time.Time
	PAK        string // order reference: the PAK the license was redeemed from
	KeyID      string // ID of the portal key that signed it
	Signature  []byte
}

// Locked reports whether the license is node-locked.
func (l *License) Locked() bool { return l.UDI != "" }

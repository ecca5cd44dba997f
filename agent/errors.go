package agent

import (
	"errors"
	"fmt"
)

// Cause is the reason a request failed. The names are those of
// ClmgmtLicenseActionFailCause in CISCO-LICENSE-MGMT-MIB where one fits, so
// operators and NMSes see one vocabulary; the rest are the agent's own.
type Cause string

// Failure causes.
const (
	CauseGeneralFailure           Cause = "generalFailure"
	CauseInvalidLicenseFile       Cause = "invalidLicenseFile"
	CauseInvalidLicenseLine       Cause = "invalidLicenseLine"
	CauseLicenseAlreadyExists     Cause = "licenseAlreadyExists"
	CauseLicenseNotValidForDevice Cause = "licenseNotValidForDevice"
	CauseInvalidLicenseCount      Cause = "invalidLicenseCount"
	CauseInvalidLicensePeriod     Cause = "invalidLicensePeriod"
	CauseLicenseInUse             Cause = "licenseInUse"
	CauseInvalidLicenseStore      Cause = "invalidLicenseStore"
	CauseLicenseStorageFull       Cause = "licenseStorageFull"
	CauseInvalidPermissionTicket  Cause = "invalidPermissionTicket"
	CauseInvalidRehostTicket      Cause = "invalidRehostTicket"
	CauseUnrecognizedIndex        Cause = "unrecognizedEntPhysicalIndex"
	// The agent's own causes.
	CauseUnknownFeature    Cause = "unknownFeature"
	CauseUnknownLevel      Cause = "unknownBootLevel"
	CauseEULANotAccepted   Cause = "eulaNotAccepted"
	CauseAuthorization     Cause = "authorizationFailed"
	CauseInvalidArgument   Cause = "invalidArgument"
	CauseNotFound          Cause = "notFound"
	CausePortalUnreachable Cause = "portalUnreachable"
	CausePortalRefused     Cause = "portalRefused"
	CauseUnavailable       Cause = "unavailable"
)

// MIB returns the ClmgmtLicenseActionFailCause value, or 2 (generalFailure)
// for causes the MIB does not have.
func (c Cause) MIB() int {
	switch c {
	case CauseInvalidLicenseFile:
		return 7
	case CauseInvalidLicenseLine:
		return 8
	case CauseLicenseAlreadyExists:
		return 9
	case CauseLicenseNotValidForDevice:
		return 10
	case CauseInvalidLicenseCount:
		return 11
	case CauseInvalidLicensePeriod:
		return 12
	case CauseLicenseInUse:
		return 13
	case CauseInvalidLicenseStore:
		return 14
	case CauseLicenseStorageFull:
		return 15
	case CauseInvalidPermissionTicket:
		return 17
	case CauseInvalidRehostTicket:
		return 19
	case CauseUnrecognizedIndex:
		return 5
	}
	return 2
}

// Error is a failed request: a cause from the vocabulary above and a
// message for a person. It crosses the control socket intact.
type Error struct {
	Cause   Cause  `json:"cause"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if e.Message == "" {
		return string(e.Cause)
	}
	return e.Message
}

// Errorf makes an *Error with a formatted message.
func Errorf(c Cause, format string, args ...any) *Error {
	return &Error{Cause: c, Message: fmt.Sprintf(format, args...)}
}

// CauseOf returns the cause of err, generalFailure if it carries none.
func CauseOf(err error) Cause {
	var e *Error
	if errors.As(err, &e) {
		return e.Cause
	}
	return CauseGeneralFailure
}

// ErrUnreachable is returned by the Client when the daemon cannot be reached.
var ErrUnreachable = errors.New("cannot reach licensed")

package syslog

import (
	"strconv"
	"strings"

	"github.com/licensed-dev/licensed/agent"
	"github.com/licensed-dev/licensed/license"
)

// Message facilities.
const (
	FacilityLicense = "LICENSE"
	// FacilityImageLevel is the facility of the image-level message devices
	// print at every boot and after `license boot level`.
	FacilityImageLevel = "IOS_LICENSE_IMAGE_APPLICATION"
)

// Mnemonics of the catalog.
const (
	MnemonicInstall        = "INSTALL"
	MnemonicRemove         = "REMOVE"
	MnemonicRevoke         = "REVOKE"
	MnemonicEULAAccepted   = "EULA_ACCEPTED"
	MnemonicEULAAcceptAll  = "EULA_ACCEPT_ALL"
	MnemonicExpireWarning  = "EXPIRE_WARNING"
	MnemonicExpired        = "EXPIRED"
	MnemonicCountWarning   = "COUNT_WARNING"
	MnemonicCountExceeded  = "COUNT_EXCEEDED"
	MnemonicRTUWarning     = "RTU_WARNING"
	MnemonicRTUTransition  = "RTU_TRANSITION"
	MnemonicLicenseLevel   = "LICENSE_LEVEL"
	MnemonicTamper         = "TAMPER"
	MnemonicClockRollback  = "CLOCK_ROLLBACK"
	MnemonicStoreRecovered = "STORE_RECOVERED"
	MnemonicReload         = "RELOAD"
)

// Entry describes one message of the catalog.
type Entry struct {
	Facility string
	Severity int
	Mnemonic string
	// Kinds are the event kinds that produce the message.
	Kinds []agent.EventKind
	// Device is true when the text is the one IOS devices print, false when
	// the text is this project's, written in the same style.
	Device bool
	// Pattern is the text with {placeholders} for event fields; [brackets]
	// mark parts present only when the field inside is set ("[ of usage]":
	// for metered licenses); " | " separates alternative forms.
	Pattern string
	// When says when the agent sends it.
	When string
}

// Tag returns "%FACILITY-SEVERITY-MNEMONIC".
func (e Entry) Tag() string {
	return Message{Facility: e.Facility, Severity: e.Severity, Mnemonic: e.Mnemonic}.Tag()
}

const (
	udiStore = "[ UDI={udi}[; StoreIndex={storeIndex}[:{storeName}]]]"
	udiOnly  = "[ UDI={udi}]"
)

// Catalog returns every message Format can produce, in the order of
// docs/SYSLOG.md.
func Catalog() []Entry {
	return []Entry{
		{FacilityLicense, SeverityInformational, MnemonicInstall,
			[]agent.EventKind{agent.EventInstalled}, true,
			"Feature {feature} {version} was installed in this device." + udiStore,
			"a license was installed (license install, call-home install)"},
		{FacilityLicense, SeverityInformational, MnemonicRemove,
			[]agent.EventKind{agent.EventCleared}, false,
			"Feature {feature} {version} was removed from this device." + udiStore,
			"a license was removed by `license clear`"},
		{FacilityLicense, SeverityInformational, MnemonicRevoke,
			[]agent.EventKind{agent.EventRevoked}, false,
			"Feature {feature} {version} was revoked from this device." + udiStore,
			"a license was revoked by a permission ticket (rehost)"},
		{FacilityLicense, SeverityInformational, MnemonicEULAAccepted,
			[]agent.EventKind{agent.EventEULAAccepted}, true,
			"EULA for feature {feature} {version} has been accepted." + udiStore,
			"the end user agreement was accepted; one message per built-in evaluation license"},
		{FacilityLicense, SeverityInformational, MnemonicEULAAcceptAll,
			[]agent.EventKind{agent.EventEULAAccepted}, true,
			"The Right to Use End User License Agreement is accepted",
			"the end user agreement was accepted for all features (an event without a feature)"},
		{FacilityLicense, SeverityWarnings, MnemonicExpireWarning,
			[]agent.EventKind{agent.EventExpiryWarning}, false,
			"{Type} license for feature {feature} {version} will expire in {remaining}[ of usage]." + udiStore,
			"4, 3 and 2 weeks before a license expires, then daily in the last week"},
		{FacilityLicense, SeverityCritical, MnemonicExpired,
			[]agent.EventKind{agent.EventExpired}, false,
			"{Type} license for feature {feature} {version} has expired; the feature keeps running until the next reload." + udiStore,
			"a metered license in use expired; repeated weekly while the feature still runs on it"},
		{FacilityLicense, SeverityWarnings, MnemonicCountWarning,
			[]agent.EventKind{agent.EventCountAboutToExceed}, false,
			"Feature {feature} {version} is near its licensed count: {inUse} of {capacity}[ {whatIsCounted}] in use." + udiOnly,
			"units in use of a counted feature reached 80 % of capacity"},
		{FacilityLicense, SeverityErrors, MnemonicCountExceeded,
			[]agent.EventKind{agent.EventCountExceeded}, false,
			"Feature {feature} {version} reached its licensed count: {inUse} of {capacity}[ {whatIsCounted}] in use." + udiOnly +
				" | Feature {feature} {version} exceeded its licensed count: {inUse}[ {whatIsCounted}] in use, {capacity} licensed." + udiOnly,
			"units in use reached capacity (first form) or went beyond it (second form)"},
		{FacilityLicense, SeverityWarnings, MnemonicRTUWarning,
			[]agent.EventKind{agent.EventRTUWarning}, false,
			"Evaluation period of feature {feature} {version} ends in {remaining} of usage; the license then becomes RightToUse." + udiStore,
			"10 and 5 days before an EvalRightToUse license turns into RightToUse"},
		{FacilityLicense, SeverityNotifications, MnemonicRTUTransition,
			[]agent.EventKind{agent.EventRTUTransition}, false,
			"Evaluation period of feature {feature} {version} has ended; the license is now RightToUse." + udiStore,
			"an EvalRightToUse license turned into RightToUse"},
		{FacilityImageLevel, SeverityInformational, MnemonicLicenseLevel,
			[]agent.EventKind{agent.EventStarted, agent.EventBootLevel}, true,
			"Module name = {module} Next reboot level = {nextLevel} and License = {license|No valid license found}",
			"at every boot, and when `license boot level` changes the next-boot level; one line per technology package on routers"},
		{FacilityLicense, SeverityCritical, MnemonicTamper,
			[]agent.EventKind{agent.EventTamper}, false,
			"License tampering detected[: {detail}]." + udiOnly,
			"a signature, checksum or seal check of the stored licenses or usage failed"},
		{FacilityLicense, SeverityErrors, MnemonicClockRollback,
			[]agent.EventKind{agent.EventClockRollback}, false,
			"System clock moved backwards[: {detail}]." + udiOnly,
			"the wall clock went back further than the tolerance; dated licenses are then judged by the latest time seen"},
		{FacilityLicense, SeverityWarnings, MnemonicStoreRecovered,
			[]agent.EventKind{agent.EventStoreRecovered}, false,
			"License storage was recovered[: {detail}]." + udiOnly,
			"the license store failed its checks and was restored from its backup"},
		{FacilityLicense, SeverityNotifications, MnemonicReload,
			[]agent.EventKind{agent.EventReload}, false,
			"Reload requested[: {detail}]. Licenses and the image level are evaluated again at boot." + udiOnly,
			"`reload` was requested; the boot sequence runs again"},
	}
}

// catalogEntry returns the catalog entry of a mnemonic.
func catalogEntry(mnemonic string) Entry {
	for _, e := range Catalog() {
		if e.Mnemonic == mnemonic {
			return e
		}
	}
	panic("syslog: mnemonic " + mnemonic + " missing from the catalog")
}

func newMessage(mnemonic, text string) Message {
	e := catalogEntry(mnemonic)
	return Message{Facility: e.Facility, Severity: e.Severity, Mnemonic: e.Mnemonic, Text: text}
}

// noValidLicense is what devices print after "License =" when no license
// serves the next-boot level.
const noValidLicense = "No valid license found"

// Format returns the syslog message of an event: the first of Messages(e).
// ok is false for kinds that have no message (unknown kinds, and started
// or bootLevel events that carry no module or level, as on platforms
// without image levels).
func Format(e agent.Event) (msg Message, ok bool) {
	ms := Messages(e)
	if len(ms) == 0 {
		return Message{}, false
	}
	return ms[0], true
}

// Messages returns every syslog message of an event. It is one message,
// except for image-level events of routers with technology packages, whose
// next-boot level lists the packages separated by commas: devices print
// one LICENSE_LEVEL line per package.
func Messages(e agent.Event) []Message {
	if e.Kind == agent.EventStarted || e.Kind == agent.EventBootLevel {
		return levelMessages(e)
	}
	m, ok := format(e)
	if !ok {
		return nil
	}
	return []Message{m}
}

func levelMessages(e agent.Event) []Message {
	next := e.NextLevel
	if next == "" {
		next = e.Level
	}
	if e.Module == "" && next == "" {
		return nil
	}
	line := func(level, lic string) Message {
		if lic == "" {
			lic = noValidLicense
		}
		return newMessage(MnemonicLicenseLevel, "Module name = "+e.Module+" Next reboot level = "+level+" and License = "+lic)
	}
	if !strings.Contains(next, ",") {
		return []Message{line(next, e.License)}
	}
	var out []Message
	for _, p := range strings.Split(next, ",") {
		if p = strings.TrimSpace(p); p != "" {
			// An enabled package is one a license (or the base) serves.
			out = append(out, line(p, p))
		}
	}
	return out
}

func format(e agent.Event) (Message, bool) {
	feat := featureRef(e.Feature, e.Version)
	switch e.Kind {
	case agent.EventInstalled:
		return newMessage(MnemonicInstall, "Feature "+feat+" was installed in this device."+storeSuffix(e)), true
	case agent.EventCleared:
		return newMessage(MnemonicRemove, "Feature "+feat+" was removed from this device."+storeSuffix(e)), true
	case agent.EventRevoked:
		return newMessage(MnemonicRevoke, "Feature "+feat+" was revoked from this device."+storeSuffix(e)), true
	case agent.EventEULAAccepted:
		if e.Feature == "" {
			return newMessage(MnemonicEULAAcceptAll, "The Right to Use End User License Agreement is accepted"), true
		}
		return newMessage(MnemonicEULAAccepted, "EULA for feature "+feat+" has been accepted."+storeSuffix(e)), true
	case agent.EventExpiryWarning:
		usage := ""
		if license.Type(e.Type).Metered() {
			usage = " of usage"
		}
		return newMessage(MnemonicExpireWarning, typeLabel(e.Type)+" license for feature "+feat+
			" will expire in "+FormatRemaining(e.Remaining)+usage+"."+storeSuffix(e)), true
	case agent.EventExpired:
		return newMessage(MnemonicExpired, typeLabel(e.Type)+" license for feature "+feat+
			" has expired; the feature keeps running until the next reload."+storeSuffix(e)), true
	case agent.EventCountAboutToExceed:
		return newMessage(MnemonicCountWarning, "Feature "+feat+" is near its licensed count: "+
			strconv.Itoa(e.InUse)+" of "+strconv.Itoa(e.Capacity)+counted(e.WhatIsCounted)+" in use."+udiSuffix(e)), true
	case agent.EventCountExceeded:
		if e.InUse > e.Capacity {
			return newMessage(MnemonicCountExceeded, "Feature "+feat+" exceeded its licensed count: "+
				strconv.Itoa(e.InUse)+counted(e.WhatIsCounted)+" in use, "+strconv.Itoa(e.Capacity)+" licensed."+udiSuffix(e)), true
		}
		return newMessage(MnemonicCountExceeded, "Feature "+feat+" reached its licensed count: "+
			strconv.Itoa(e.InUse)+" of "+strconv.Itoa(e.Capacity)+counted(e.WhatIsCounted)+" in use."+udiSuffix(e)), true
	case agent.EventRTUWarning:
		return newMessage(MnemonicRTUWarning, "Evaluation period of feature "+feat+" ends in "+
			FormatRemaining(e.Remaining)+" of usage; the license then becomes RightToUse."+storeSuffix(e)), true
	case agent.EventRTUTransition:
		return newMessage(MnemonicRTUTransition, "Evaluation period of feature "+feat+
			" has ended; the license is now RightToUse."+storeSuffix(e)), true
	case agent.EventTamper:
		return newMessage(MnemonicTamper, "License tampering detected"+detail(e.Detail)+"."+udiSuffix(e)), true
	case agent.EventClockRollback:
		return newMessage(MnemonicClockRollback, "System clock moved backwards"+detail(e.Detail)+"."+udiSuffix(e)), true
	case agent.EventStoreRecovered:
		return newMessage(MnemonicStoreRecovered, "License storage was recovered"+detail(e.Detail)+"."+udiSuffix(e)), true
	case agent.EventReload:
		return newMessage(MnemonicReload, "Reload requested"+detail(e.Detail)+
			". Licenses and the image level are evaluated again at boot."+udiSuffix(e)), true
	}
	return Message{}, false
}

// featureRef is "name version", or the name alone when the version is not
// known.
func featureRef(name, version string) string {
	if version == "" {
		return name
	}
	return name + " " + version
}

// storeSuffix is the " UDI=PID:SN; StoreIndex=N:Store Name" tail of the
// license messages.
func storeSuffix(e agent.Event) string {
	if e.UDI == "" {
		return ""
	}
	// Devices print the license's position within its store here.
	s := " UDI=" + e.UDI + "; StoreIndex=" + strconv.Itoa(e.Slot)
	if e.StoreName != "" {
		s += ":" + e.StoreName
	}
	return s
}

func udiSuffix(e agent.Event) string {
	if e.UDI == "" {
		return ""
	}
	return " UDI=" + e.UDI
}

func typeLabel(t string) string {
	if t == "" {
		return "License"
	}
	return license.Type(t).Display()
}

func counted(what string) string {
	if what == "" {
		return ""
	}
	return " " + what
}

// detail is ": text" for a free-text detail, without a trailing period
// (the message adds its own).
func detail(s string) string {
	s = strings.TrimRight(strings.TrimSpace(s), ".")
	if s == "" {
		return ""
	}
	return ": " + s
}

// FormatRemaining writes a time left in its two largest units, such as
// "2 weeks 3 days", "6 days 4 hours", "3 hours 5 minutes" or "42 seconds";
// a zero lower unit is left out ("4 weeks"). Negative values read as
// "0 seconds".
func FormatRemaining(s agent.Seconds) string {
	if s <= 0 {
		return "0 seconds"
	}
	units := []struct {
		name string
		size int64
	}{{"week", 7 * 86400}, {"day", 86400}, {"hour", 3600}, {"minute", 60}, {"second", 1}}
	n := int64(s)
	for i, u := range units {
		if n < u.size {
			continue
		}
		out := plural(n/u.size, u.name)
		if i+1 < len(units) {
			if rest := n % u.size / units[i+1].size; rest > 0 {
				out += " " + plural(rest, units[i+1].name)
			}
		}
		return out
	}
	return "0 seconds"
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}

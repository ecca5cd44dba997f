package cli

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/licensed-dev/licensed/agent"
	"github.com/licensed-dev/licensed/featureset"
	"github.com/licensed-dev/licensed/license"
)

// periodUnit is one unit of a license period as devices print it.
type periodUnit struct {
	d              time.Duration
	single, plural string
}

func periodUnits() []periodUnit {
	return []periodUnit{
		{7 * 24 * time.Hour, "week", "weeks"},
		{24 * time.Hour, "day", "days"},
		{time.Hour, "hour", "hours"},
		{time.Minute, "minute", "minutes"},
		{time.Second, "second", "seconds"},
	}
}

// period formats a license period the way devices print it: the largest
// unit that is not zero and the unit below it ("8  weeks 4  days "), or
// minutes and seconds for anything under an hour ("0  minute  0  second  ").
// Each unit is printed as "%-2d %s " with the unit name padded to its
// plural's width and singular for 0 and 1, which gives the double spaces
// of the device samples. Smaller units are cut off, not rounded; negative
// periods print as zero. show license detail prints it as is (devices leave
// the trailing blanks); the short forms trim them.
func period(d time.Duration) string {
	units := periodUnits()
	d = max(d, 0)
	first := len(units) - 2 // minutes and seconds
	for i, u := range units[:len(units)-2] {
		if d >= u.d {
			first = i
			break
		}
	}
	var b strings.Builder
	for _, u := range units[first : first+2] {
		n := d / u.d
		d -= n * u.d
		name := u.plural
		if n <= 1 {
			name = u.single
		}
		fmt.Fprintf(&b, "%-2d %-*s ", n, len(u.plural), name)
	}
	return b.String()
}

// periodShort is period without the trailing blanks.
func periodShort(d time.Duration) string { return strings.TrimRight(period(d), " ") }

// uptime formats time since boot as IOS does in show version: "1 year,
// 2 weeks, 3 days, 4 hours, 5 minutes", leaving out units that are zero,
// "0 minutes" under a minute.
func uptime(d time.Duration) string {
	units := []struct {
		d    time.Duration
		name string
	}{
		{365 * 24 * time.Hour, "year"},
		{7 * 24 * time.Hour, "week"},
		{24 * time.Hour, "day"},
		{time.Hour, "hour"},
		{time.Minute, "minute"},
	}
	d = max(d, 0)
	var parts []string
	for _, u := range units {
		n := d / u.d
		d -= n * u.d
		switch {
		case n == 1:
			parts = append(parts, "1 "+u.name)
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %ss", n, u.name))
		}
	}
	if len(parts) == 0 {
		return "0 minutes"
	}
	return strings.Join(parts, ", ")
}

// stamp formats a point in time for tables and status lines, in UTC so
// the output does not depend on where it is printed.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("Jan 02 2006 15:04:05 UTC")
}

// pad left-aligns s in width columns, with at least one blank after it.
func pad(s string, width int) string {
	n := utf8.RuneCountInString(s)
	return s + strings.Repeat(" ", max(width-n, 1))
}

// yesNo is how the feature table prints a flag.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// capitalize upper-cases the first letter: "exclusive" → "Exclusive".
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// table prints rows in columns as wide as their widest cell plus two
// blanks; lines carry no trailing blanks.
func table(rows [][]string) string {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		var l strings.Builder
		for i, c := range r {
			if i == len(r)-1 {
				l.WriteString(c)
			} else {
				l.WriteString(pad(c, widths[i]+2))
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// typeDisplay is the "License Type:" text of l.
func typeDisplay(l agent.LicenseInfo) string {
	if l.TypeDisplay != "" {
		return l.TypeDisplay
	}
	return license.Type(l.Type).Display()
}

// stateDisplay is the "License State:" text of l. The agent words it; the
// fallback covers an agent that leaves it empty.
func stateDisplay(l agent.LicenseInfo) string {
	if l.StateDisplay != "" {
		return l.StateDisplay
	}
	var s string
	switch featureset.State(l.State) {
	case featureset.Inactive:
		s = "Inactive"
	case featureset.NotInUse:
		s = "Active, Not in Use"
	case featureset.InUse:
		s = "Active, In Use"
	case featureset.ExpiredInUse:
		s = "Active, In Use, Expired"
	case featureset.ExpiredNotInUse:
		s = "Expired, Not in Use"
	case featureset.UsageCountConsumed:
		s = "Active, In Use, Usage Count Consumed"
	default:
		s = l.State
	}
	if l.EULARequired {
		if l.EULAAccepted {
			s += ", EULA accepted"
		} else {
			s += ", EULA not accepted"
		}
	}
	return s
}

func priority(l agent.LicenseInfo) string {
	if l.Priority == "" {
		return "None"
	}
	return l.Priority
}

func metered(l agent.LicenseInfo) bool { return license.Type(l.Type).Metered() }

// rightToUse reports whether l is one of the right-to-use types, whose
// vendor info carries <T>RTU</T>.
func rightToUse(l agent.LicenseInfo) bool {
	switch license.Type(l.Type) {
	case license.EvalRightToUse, license.RightToUse, license.PermanentRightToUse:
		return true
	}
	return false
}

// periodLeft is the "Period left:" text of l at now: "Not Activated" for a
// metered license not used yet, the usage left for one in use, the time to
// the end date for a calendar license, else "Life time".
func periodLeft(l agent.LicenseInfo, now time.Time) string {
	switch {
	case metered(l) && !l.Activated:
		return "Not Activated"
	case metered(l):
		return periodShort(l.Remaining.Duration())
	case !l.End.IsZero():
		return periodShort(l.End.Sub(now))
	}
	return "Life time"
}

// licenseCount is the "License Count:" text of l: "Non-Counted", or the
// license's units with the feature's units in use and in violation.
func licenseCount(st *agent.Status, l agent.LicenseInfo) string {
	if !l.Counted {
		return "Non-Counted"
	}
	var f agent.FeatureInfo
	for _, x := range st.Features {
		if x.Name == l.Feature {
			f = x
			break
		}
	}
	return fmt.Sprintf("%d/%d/%d  (Active/In-use/Violation)", l.Count, f.InUse, f.Violation)
}

// vendorInfo is the "Vendor info:" text of l: the UDI it is locked to, or
// NOTLOCKED, with <T>RTU</T> for the right-to-use types.
func vendorInfo(l agent.LicenseInfo) string {
	pid, sn := "NOTLOCKED", "NOTLOCKED"
	if l.UDI != "" {
		pid, sn, _ = strings.Cut(l.UDI, ":")
	}
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	s := "<UDI><PID>" + esc.Replace(pid) + "</PID><SN>" + esc.Replace(sn) + "</SN></UDI>"
	if rightToUse(l) {
		s += "<T>RTU</T>"
	}
	return s
}

// causeText names a failure cause for a person.
func causeText(c agent.Cause) string {
	switch c {
	case agent.CauseInvalidLicenseFile:
		return "Invalid license file"
	case agent.CauseInvalidLicenseLine:
		return "Invalid license line"
	case agent.CauseLicenseAlreadyExists:
		return "License already exists"
	case agent.CauseLicenseNotValidForDevice:
		return "License not valid for this device"
	case agent.CauseInvalidLicenseCount:
		return "Invalid license count"
	case agent.CauseInvalidLicensePeriod:
		return "Invalid license period"
	case agent.CauseLicenseInUse:
		return "License in use"
	case agent.CauseInvalidLicenseStore:
		return "Invalid license store"
	case agent.CauseLicenseStorageFull:
		return "License storage full"
	case agent.CauseInvalidPermissionTicket:
		return "Invalid permission ticket"
	case agent.CauseInvalidRehostTicket:
		return "Invalid rehost ticket"
	case agent.CauseUnrecognizedIndex:
		return "Unrecognized stack member"
	case agent.CauseUnknownFeature:
		return "Unknown feature"
	case agent.CauseUnknownLevel:
		return "Unknown boot level"
	case agent.CauseEULANotAccepted:
		return "End user agreement not accepted"
	case agent.CauseAuthorization:
		return "Authorization failed"
	case agent.CauseInvalidArgument:
		return "Invalid argument"
	case agent.CauseNotFound:
		return "Not found"
	case agent.CausePortalUnreachable:
		return "Licensing portal unreachable"
	case agent.CausePortalRefused:
		return "Refused by the licensing portal"
	case agent.CauseUnavailable:
		return "Unavailable"
	case agent.CauseGeneralFailure, "":
		return "General failure"
	}
	return string(c)
}

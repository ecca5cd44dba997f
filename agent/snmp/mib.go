package snmp

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/licensed-dev/licensed/agent"
	"github.com/licensed-dev/licensed/featureset"
	"github.com/licensed-dev/licensed/license"
)

// Object identifiers served. Column and scalar numbers are those of the
// MIB modules named; instances are appended when the view is built.
var (
	// SNMPv2-MIB
	oidSystem      = mustOID("1.3.6.1.2.1.1")
	oidSysDescr    = oidSystem.child(1)
	oidSysObjectID = oidSystem.child(2)
	oidSysUpTime   = oidSystem.child(3)
	oidSysContact  = oidSystem.child(4)
	oidSysName     = oidSystem.child(5)
	oidSysLocation = oidSystem.child(6)
	oidSysServices = oidSystem.child(7)
	oidSNMPGroup   = mustOID("1.3.6.1.2.1.11")

	oidSysUpTimeInstance = oidSysUpTime.child(0).String()
	oidSnmpTrapOID       = mustOID("1.3.6.1.6.3.1.1.4.1.0").String()
	oidColdStart         = mustOID("1.3.6.1.6.3.1.1.5.1").String()

	// ENTITY-MIB entPhysicalEntry
	oidEntPhysicalEntry = mustOID("1.3.6.1.2.1.47.1.1.1.1")

	// CISCO-LICENSE-MGMT-MIB
	oidCLM            = mustOID("1.3.6.1.4.1.9.9.543")
	oidCLMNotifs      = oidCLM.child(0)
	oidCLMStoreEntry  = oidCLM.child(1, 2, 1, 1)
	oidCLMDeviceEntry = oidCLM.child(1, 2, 2, 1)
	oidCLMLicEntry    = oidCLM.child(1, 2, 3, 1)
	oidCLMFeatEntry   = oidCLM.child(1, 2, 4, 1)
	oidCLMNotifObject = oidCLM.child(1, 4)

	// CISCO-IMAGE-LICENSE-MGMT-MIB
	oidCILM          = mustOID("1.3.6.1.4.1.9.9.640")
	oidCILMBootEntry = oidCILM.child(1, 1, 1)
	oidCILMMapEntry  = oidCILM.child(1, 2, 1)
	oidCILMEULA      = oidCILM.child(1, 3)
	oidCILMNotifCntl = oidCILM.child(1, 4, 1)
	oidCILMLevelNtf  = oidCILM.child(0, 1).String()

	// SNMP-FRAMEWORK-MIB snmpEngine, SNMP-MPD-MIB snmpMPDStats,
	// SNMP-TARGET-MIB context counters, SNMP-USER-BASED-SM-MIB usmStats.
	oidEngine    = mustOID("1.3.6.1.6.3.10.2.1")
	oidMPDStats  = mustOID("1.3.6.1.6.3.11.2.1")
	oidTargetObj = mustOID("1.3.6.1.6.3.12.1")
	oidUsmStats  = mustOID("1.3.6.1.6.3.15.1.1")
)

// Columns of clmgmtLicenseInfoEntry.
const (
	licFeatureName     = 3
	licFeatureVersion  = 4
	licType            = 5
	licCounted         = 6
	licValidityPeriod  = 7
	licValidityRemain  = 8
	licExpiredPeriod   = 9
	licMaxUsageCount   = 10
	licUsageCountLeft  = 11
	licEULAStatus      = 12
	licComments        = 13
	licStatus          = 14
	licStartDate       = 15
	licEndDate         = 16
	licPeriodUsed      = 17
	licCommentsMaxSize = 255 // SnmpAdminString (SIZE (0..255))
)

// Columns of clmgmtLicensableFeatureEntry.
const (
	featName           = 2
	featVersion        = 3
	featValidityRemain = 4
	featWhatIsCounted  = 5
	featStartDate      = 6
	featEndDate        = 7
	featPeriodUsed     = 8
)

// Columns of cilmBootImageLevelEntry.
const (
	bootCurrentLevel    = 2
	bootConfiguredLevel = 3
)

// usmStats scalars (SNMP-USER-BASED-SM-MIB).
const (
	usmUnsupportedSecLevels = 1
	usmNotInTimeWindows     = 2
	usmUnknownUserNames     = 3
	usmUnknownEngineIDs     = 4
	usmWrongDigests         = 5
	usmDecryptionErrors     = 6
)

// DefaultSysObjectID is sysObjectID when Config.SysObjectID is empty:
// NET-SNMP-TC linux, "an agent running on Linux". The project has no
// enterprise number of its own, and a Cisco product OID would name one
// specific Cisco model, which the device is not.
const DefaultSysObjectID = "1.3.6.1.4.1.8072.3.2.10"

// TruthValue (SNMPv2-TC).
func truth(b bool) int {
	if b {
		return 1
	}
	return 2
}

// stateMIB maps a featureset.State to clmgmtLicenseStatus.
func stateMIB(s string) int {
	switch featureset.State(s) {
	case featureset.Inactive:
		return 1
	case featureset.NotInUse:
		return 2
	case featureset.InUse:
		return 3
	case featureset.ExpiredInUse:
		return 4
	case featureset.ExpiredNotInUse:
		return 5
	case featureset.UsageCountConsumed:
		return 6
	}
	return 1
}

// u32 clamps a count or a number of seconds to Unsigned32.
func u32[T int | int64 | agent.Seconds](v T) uint32 {
	switch {
	case v <= 0:
		return 0
	case int64(v) > math.MaxUint32:
		return math.MaxUint32
	}
	return uint32(v)
}

// dateAndTime encodes t as an 11-octet DateAndTime (SNMPv2-TC) in UTC, or
// as the zero-length string the license MIB uses for "not applicable".
func dateAndTime(t time.Time) []byte {
	if t.IsZero() {
		return []byte{}
	}
	t = t.UTC()
	y := min(max(t.Year(), 0), 65535)
	return []byte{
		byte(y >> 8), byte(y), byte(t.Month()), byte(t.Day()),
		byte(t.Hour()), byte(t.Minute()), byte(t.Second()), byte(t.Nanosecond() / 100_000_000),
		'+', 0, 0,
	}
}

// storeIndexMIB is the clmgmtLicenseStoreIndex of an agent store. The
// agent numbers stores from 0 as devices print them; the MIB's index is
// 1-based and 0 means "no license" in the image-level MIB, so SNMP shows
// store N as N+1.
func storeIndexMIB(i int) uint32 { return u32(i + 1) }

// members returns the stack members with a valid entPhysicalIndex, in
// index order, and the active one (the first if none is marked).
func members(st *agent.Status) (ms []agent.Member, active agent.Member) {
	for _, m := range st.Members {
		if m.EntPhysicalIndex > 0 && m.EntPhysicalIndex <= math.MaxInt32 {
			ms = append(ms, m)
		}
	}
	slices.SortStableFunc(ms, func(a, b agent.Member) int { return cmp.Compare(a.EntPhysicalIndex, b.EntPhysicalIndex) })
	for _, m := range ms {
		if m.Active {
			return ms, m
		}
	}
	if len(ms) > 0 {
		active = ms[0]
	}
	return ms, active
}

// licenseEnt is the entPhysicalIndex of the member a license belongs to;
// licenses without one (built-in evaluations) belong to the active member.
func licenseEnt(l *agent.LicenseInfo, active agent.Member) uint32 {
	if l.EntPhysicalIndex > 0 {
		return u32(l.EntPhysicalIndex)
	}
	return u32(active.EntPhysicalIndex)
}

// sysDescr is "licensed <version> <platform description>".
func sysDescr(st *agent.Status) string {
	return strings.Join(strings.Fields("licensed "+st.Software+" "+st.Description), " ")
}

// sysServices: a switch offers layers 2 and 3 (2+4); a router or a
// communications platform also 4 and 7 (+8+64).
func sysServices(kind string) int {
	if featureset.Kind(kind) == featureset.ImageLevels {
		return 6
	}
	return 78
}

// buildView turns a status snapshot into the ordered instance table. The
// groups are added in OID order.
func (s *Server) buildView(st *agent.Status) *view {
	var b viewBuilder
	s.addSystem(&b, st)
	s.addSNMPGroup(&b)
	if st != nil {
		ms, active := members(st)
		addEntity(&b, st, ms)
		addLicenseMIB(&b, st, ms, active)
		addImageMIB(&b, st, ms, active)
	}
	s.addEngine(&b)
	return b.build()
}

func (s *Server) addSystem(b *viewBuilder, st *agent.Status) {
	var descr, name string
	services := 78
	if st != nil {
		descr, name, services = sysDescr(st), st.Hostname, sysServices(st.Kind)
	}
	b.scalar(oidSysDescr, gosnmp.OctetString, descr)
	b.scalar(oidSysObjectID, gosnmp.ObjectIdentifier, s.sysObjectID)
	b.scalarDyn(oidSysUpTime, gosnmp.TimeTicks, func(s *Server) any { return s.sysUpTime() })
	b.scalar(oidSysContact, gosnmp.OctetString, s.cfg.Contact)
	b.scalar(oidSysName, gosnmp.OctetString, name)
	b.scalar(oidSysLocation, gosnmp.OctetString, s.cfg.Location)
	b.scalar(oidSysServices, gosnmp.Integer, services)
}

// counter returns a valueFunc reading one statistics counter as Counter32.
func counter(pick func(*Stats) uint64) valueFunc {
	return func(s *Server) any {
		st := s.Stats()
		return uint32(pick(&st)) // Counter32 wraps
	}
}

func (s *Server) addSNMPGroup(b *viewBuilder) {
	g := oidSNMPGroup
	b.scalarDyn(g.child(1), gosnmp.Counter32, counter(func(x *Stats) uint64 { return x.InPkts }))
	b.scalarDyn(g.child(3), gosnmp.Counter32, counter(func(x *Stats) uint64 { return x.BadVersions }))
	b.scalarDyn(g.child(4), gosnmp.Counter32, counter(func(x *Stats) uint64 { return x.BadCommunityNames }))
	b.scalarDyn(g.child(5), gosnmp.Counter32, counter(func(x *Stats) uint64 { return x.BadCommunityUses }))
	b.scalarDyn(g.child(6), gosnmp.Counter32, counter(func(x *Stats) uint64 { return x.ASNParseErrs }))
	b.scalar(g.child(30), gosnmp.Integer, 2) // snmpEnableAuthenTraps: disabled
	b.scalarDyn(g.child(31), gosnmp.Counter32, counter(func(x *Stats) uint64 { return x.SilentDrops }))
	b.scalar(g.child(32), gosnmp.Counter32, uint32(0)) // snmpProxyDrops: no proxy
}

func (s *Server) addEngine(b *viewBuilder) {
	b.scalar(oidEngine.child(1), gosnmp.OctetString, s.engineID)
	b.scalar(oidEngine.child(2), gosnmp.Integer, int(s.boots))
	b.scalarDyn(oidEngine.child(3), gosnmp.Integer, func(s *Server) any { return int(s.engineTime()) })
	b.scalar(oidEngine.child(4), gosnmp.Integer, MaxMessageSize)

	b.scalarDyn(oidMPDStats.child(1), gosnmp.Counter32, counter(func(x *Stats) uint64 { return x.UnknownSecurityModels }))
	b.scalarDyn(oidMPDStats.child(2), gosnmp.Counter32, counter(func(x *Stats) uint64 { return x.InvalidMsgs }))
	b.scalarDyn(oidMPDStats.child(3), gosnmp.Counter32, counter(func(x *Stats) uint64 { return x.UnknownPDUHandlers }))
	b.scalar(oidTargetObj.child(4), gosnmp.Counter32, uint32(0)) // snmpUnavailableContexts
	b.scalarDyn(oidTargetObj.child(5), gosnmp.Counter32, counter(func(x *Stats) uint64 { return x.UnknownContexts }))

	b.scalarDyn(oidUsmStats.child(usmUnsupportedSecLevels), gosnmp.Counter32, counter(func(x *Stats) uint64 { return x.UnsupportedSecLevels }))
	b.scalarDyn(oidUsmStats.child(usmNotInTimeWindows), gosnmp.Counter32, counter(func(x *Stats) uint64 { return x.NotInTimeWindows }))
	b.scalarDyn(oidUsmStats.child(usmUnknownUserNames), gosnmp.Counter32, counter(func(x *Stats) uint64 { return x.UnknownUserNames }))
	b.scalarDyn(oidUsmStats.child(usmUnknownEngineIDs), gosnmp.Counter32, counter(func(x *Stats) uint64 { return x.UnknownEngineIDs }))
	b.scalarDyn(oidUsmStats.child(usmWrongDigests), gosnmp.Counter32, counter(func(x *Stats) uint64 { return x.WrongDigests }))
	b.scalarDyn(oidUsmStats.child(usmDecryptionErrors), gosnmp.Counter32, counter(func(x *Stats) uint64 { return x.DecryptionErrors }))
}

// Cell constructors.
func str(v string) cell      { return cell{gosnmp.OctetString, v} }
func octets(v []byte) cell   { return cell{gosnmp.OctetString, v} }
func integer(v int) cell     { return cell{gosnmp.Integer, v} }
func gauge(v uint32) cell    { return cell{gosnmp.Gauge32, v} }
func objectID(v string) cell { return cell{gosnmp.ObjectIdentifier, v} }

// addEntity serves one entPhysicalEntry, class chassis, per stack member.
func addEntity(b *viewBuilder, st *agent.Status, ms []agent.Member) {
	t := &table{entry: oidEntPhysicalEntry, cols: []uint32{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}}
	for _, m := range ms {
		descr := st.Description
		if descr == "" {
			descr = m.PID
		}
		t.row(oid{u32(m.EntPhysicalIndex)},
			str(descr),
			objectID("0.0"), // entPhysicalVendorType: unknown
			integer(0),      // entPhysicalContainedIn: top level
			integer(3),      // entPhysicalClass: chassis(3)
			integer(-1),     // entPhysicalParentRelPos: not contained
			str(fmt.Sprintf("Device %d", m.Device)),
			str(""), str(""), // hardware and firmware revision
			str(st.Software),
			str(m.SN),
			str(""), // entPhysicalMfgName
			str(m.PID),
			str(""), str(""), // alias, asset ID
			integer(truth(false)), // entPhysicalIsFRU
		)
	}
	b.addTable(t)
}

// addLicenseMIB serves CISCO-LICENSE-MGMT-MIB. The license action and
// device credential tables are not implemented (licenses are installed
// through the CLI, SSH and call-home), so neither are their next-free
// index scalars.
func addLicenseMIB(b *viewBuilder, st *agent.Status, ms []agent.Member, active agent.Member) {
	stores := &table{entry: oidCLMStoreEntry, cols: []uint32{2, 3, 4}}
	devices := &table{entry: oidCLMDeviceEntry, cols: []uint32{1}}
	feats := &table{entry: oidCLMFeatEntry, cols: []uint32{featName, featVersion, featValidityRemain, featWhatIsCounted, featStartDate, featEndDate, featPeriodUsed}}
	for _, m := range ms {
		ent := u32(m.EntPhysicalIndex)
		for _, sto := range st.Stores {
			if sto.Index >= 0 {
				stores.row(oid{ent, storeIndexMIB(sto.Index)}, str(sto.Name), gauge(u32(sto.TotalSize)), gauge(u32(sto.Remaining)))
			}
		}
		devices.row(oid{ent}, gauge(storeIndexMIB(agent.StorePrimary)))
		for _, f := range st.Features {
			if f.Index > 0 {
				feats.row(oid{ent, u32(f.Index)}, str(f.Name), str(f.Version), gauge(u32(f.Remaining)), str(f.WhatIsCounted),
					octets(dateAndTime(f.Start)), octets(dateAndTime(f.End)), gauge(u32(f.Used)))
			}
		}
	}

	features := make(map[string]*agent.FeatureInfo, len(st.Features))
	for i := range st.Features {
		features[st.Features[i].Name] = &st.Features[i]
	}
	lics := &table{entry: oidCLMLicEntry}
	for c := uint32(licFeatureName); c <= licPeriodUsed; c++ {
		lics.cols = append(lics.cols, c)
	}
	b.v.comments = make(map[string]commentRow, len(st.Licenses))
	for i := range st.Licenses {
		l := &st.Licenses[i]
		if l.Index <= 0 || l.StoreIndex < 0 {
			continue
		}
		idx := oid{licenseEnt(l, active), storeIndexMIB(l.StoreIndex), u32(l.Index)}
		var period, remaining, expired agent.Seconds
		if license.Type(l.Type).Metered() {
			period, remaining, expired = l.Period, l.Remaining, l.Expired
		}
		var maxCount, countLeft uint32
		if l.Counted {
			maxCount = u32(l.Count)
			if f := features[l.Feature]; f != nil {
				countLeft = min(u32(f.Capacity-f.InUse), maxCount)
			}
		}
		lics.row(idx,
			str(l.Feature),
			str(l.Version),
			integer(license.Type(l.Type).MIB()),
			integer(truth(l.Counted)),
			gauge(u32(period)),
			gauge(u32(remaining)),
			gauge(u32(expired)),
			gauge(maxCount),
			gauge(countLeft),
			integer(truth(l.EULAAccepted)),
			str(l.Comment),
			integer(stateMIB(l.State)),
			octets(dateAndTime(l.Start)),
			octets(dateAndTime(l.End)),
			gauge(u32(l.Used)),
		)
		name := oidCLMLicEntry.child(licComments).child(idx...).String()
		if _, dup := b.v.comments[name]; !dup {
			b.v.comments[name] = commentRow{feature: l.Feature, current: l.Comment}
		}
	}
	b.addTable(stores)
	b.addTable(devices)
	b.addTable(lics)
	b.addTable(feats)

	n := st.Notifications
	b.scalar(oidCLMNotifObject.child(1), gosnmp.Integer, truth(n.Usage))
	b.scalar(oidCLMNotifObject.child(2), gosnmp.Integer, truth(n.Deployment))
	b.scalar(oidCLMNotifObject.child(3), gosnmp.Integer, truth(n.Error))
}

// bootModule is one row of cilmBootImageLevelTable.
type bootModule struct {
	name                      string
	current, configured, next string
}

// typeRank orders licenses the way the agent picks one for a feature:
// permanent, then the dated and granted kinds, then evaluations.
func typeRank(t string) int {
	switch license.Type(t) {
	case license.Permanent, license.PermanentRightToUse:
		return 0
	case license.Evaluation, license.EvalRightToUse:
		return 2
	}
	return 1
}

// servingLicense finds the license of member ent (or a built-in one) for
// feature whose state is one of states, best type first.
func servingLicense(st *agent.Status, ent uint32, active agent.Member, feature string, states ...featureset.State) *agent.LicenseInfo {
	var best *agent.LicenseInfo
	for i := range st.Licenses {
		l := &st.Licenses[i]
		if l.Feature != feature || licenseEnt(l, active) != ent || !slices.Contains(states, featureset.State(l.State)) {
			continue
		}
		if best == nil || typeRank(l.Type) < typeRank(best.Type) {
			best = l
		}
	}
	return best
}

// maxModuleName bounds cilmModuleName so an index stays within the SMI's
// 128 sub-identifiers.
const maxModuleName = 64

// addImageMIB serves CISCO-IMAGE-LICENSE-MGMT-MIB. Image-level platforms
// have one module per member named after the platform module; technology
// package platforms have one row per package, named after the technology.
func addImageMIB(b *viewBuilder, st *agent.Status, ms []agent.Member, active agent.Member) {
	none := func(s string) string {
		if strings.EqualFold(s, "none") {
			return ""
		}
		return s
	}
	boot := &table{entry: oidCILMBootEntry, cols: []uint32{2, 3, 4, 5, 6, 7, 8}}
	levels := &table{entry: oidCILMMapEntry, cols: []uint32{2, 3, 4}}
	for _, m := range ms {
		ent := u32(m.EntPhysicalIndex)
		var rows []bootModule
		switch {
		case featureset.Kind(st.Kind) == featureset.ImageLevels && st.Module != "":
			rows = append(rows, bootModule{name: st.Module, current: st.Level, configured: st.ConfiguredLevel, next: st.NextLevel})
		case featureset.Kind(st.Kind) == featureset.TechnologyPackages:
			for _, p := range st.Packages {
				rows = append(rows, bootModule{name: p.Technology, current: none(p.Current), configured: none(p.NextReboot), next: none(p.NextReboot)})
			}
		}
		for _, r := range rows {
			if r.name == "" || len(r.name) > maxModuleName {
				continue
			}
			var cs, ci, ns, ni uint32
			if l := servingLicense(st, ent, active, r.current, featureset.InUse, featureset.ExpiredInUse); r.current != "" && l != nil {
				cs, ci = storeIndexMIB(l.StoreIndex), u32(l.Index)
			}
			if l := servingLicense(st, ent, active, r.next, featureset.InUse, featureset.NotInUse); r.next != "" && l != nil {
				ns, ni = storeIndexMIB(l.StoreIndex), u32(l.Index)
			}
			boot.row(oid{ent}.appendString(r.name),
				str(r.current), str(r.configured), str(r.next), gauge(cs), gauge(ci), gauge(ns), gauge(ni))
		}
		if st.Module != "" && len(st.Module) <= maxModuleName {
			for k, lv := range st.Levels {
				levels.row(oid{ent}.appendString(st.Module).child(uint32(k+1)),
					str(lv.Level), str(strings.Join(lv.Licenses, ",")), gauge(uint32(min(max(lv.Priority, 1), 255))))
			}
		}
	}
	b.addTable(boot)
	b.addTable(levels)
	b.scalar(oidCILMEULA, gosnmp.Integer, truth(st.EULAAccepted))
	b.scalar(oidCILMNotifCntl, gosnmp.Integer, truth(st.Notifications.ImageLevel))
}

// bootRow is the instance OID of column col of the cilmBootImageLevelTable
// row (entPhysicalIndex, cilmModuleName).
func bootRow(col, ent uint32, module string) oid {
	return oidCILMBootEntry.child(col, ent).appendString(module)
}

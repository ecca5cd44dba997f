package agent

import (
	"strings"
	"time"

	"github.com/licensed-dev/licensed/featureset"
	"github.com/licensed-dev/licensed/license"
	"github.com/licensed-dev/licensed/licensestore"
)

const day = 24 * time.Hour

// warnAt are the expiry warnings, as time left: 4, 3 and 2 weeks before,
// then daily in the last week.
var warnAt = []time.Duration{28 * day, 21 * day, 14 * day, 7 * day, 6 * day, 5 * day, 4 * day, 3 * day, 2 * day, 1 * day}

// rtuWarnAt are the evaluation-to-right-to-use transition warnings.
var rtuWarnAt = []time.Duration{10 * day, 5 * day}

// expiredEvery is how often the expiry notice repeats while an expired
// license is still held.
const expiredEvery = 7 * day

// meterLocked adds the usage time since the last tick to every metered
// license that serves a running feature, raises the notices that came due,
// and keeps the wall-clock high-water mark.
func (a *Agent) meterLocked(now time.Time) {
	elapsed := now.Sub(a.lastTick) // monotonic when both readings carry it
	a.lastTick = now
	if elapsed < 0 {
		elapsed = 0
	}
	usage := time.Duration(float64(elapsed) * a.cfg.TimeScale)

	wall := now.Round(0)
	if wall.Before(a.highWater.Add(-a.cfg.RollbackTolerance)) {
		if !a.rolledBack {
			a.rolledBack = true
			a.noteTamper(EventClockRollback, "wall clock stepped back to "+wall.UTC().Format(time.RFC3339)+
				", behind "+a.highWater.UTC().Format(time.RFC3339)+"; calendar licenses are judged by the later time")
		}
	} else {
		a.rolledBack = false
	}
	if wall.After(a.highWater) {
		a.highWater = wall
	}

	before := make(map[string]featureset.LicenseState, len(a.state.Licenses))
	for _, ls := range a.state.Licenses {
		before[ls.ID] = ls
	}
	if usage > 0 {
		for _, ls := range a.state.Licenses {
			if ls.State != featureset.InUse && ls.State != featureset.ExpiredInUse {
				continue
			}
			l := a.licenseByID(ls.ID)
			if l == nil || !l.Type.Metered() {
				continue
			}
			a.used[ls.ID] += usage
		}
	}
	a.resolveLocked()
	for _, ls := range a.state.Licenses {
		a.noticesLocked(before[ls.ID], ls)
	}
}

// noticesLocked raises the warnings and expiry notices a license came due for.
func (a *Agent) noticesLocked(prev, cur featureset.LicenseState) {
	l := a.licenseByID(cur.ID)
	if l == nil || !l.Type.Metered() {
		return
	}
	serving := cur.State == featureset.InUse || cur.State == featureset.ExpiredInUse
	if l.Type == license.EvalRightToUse {
		if cur.RightToUse && !prev.RightToUse && prev.ID != "" {
			a.emitLocked(a.licenseEvent(EventRTUTransition, cur.ID))
		}
		if serving && !cur.RightToUse {
			a.thresholdLocked(cur, rtuWarnAt, EventRTUWarning)
		}
		return
	}
	if !serving {
		return
	}
	if !cur.Expired {
		a.thresholdLocked(cur, warnAt, EventExpiryWarning)
		return
	}
	// Expired but still held: the first notice at expiry, then weekly.
	past := cur.Used - l.Period
	due := int64(past/expiredEvery) + 1
	if due > a.expiredNotices[cur.ID] {
		a.expiredNotices[cur.ID] = due
		a.emitLocked(a.licenseEvent(EventExpired, cur.ID))
	}
}

// thresholdLocked raises one warning when the time left crossed a threshold
// not yet warned about (several crossed in one tick give one warning).
func (a *Agent) thresholdLocked(cur featureset.LicenseState, at []time.Duration, kind EventKind) {
	last, ok := a.warned[cur.ID]
	crossed := int64(-1)
	for _, t := range at {
		secs := int64(t / time.Second)
		if cur.Remaining <= t && (!ok || secs < last) {
			crossed = secs
		}
	}
	if crossed < 0 {
		return
	}
	a.warned[cur.ID] = crossed
	e := a.licenseEvent(kind, cur.ID)
	e.Remaining = Seconds(cur.Remaining / time.Second)
	a.emitLocked(e)
}

// checkpointLocked writes usage to the store.
func (a *Agent) checkpointLocked() error {
	a.lastCkpt = a.cfg.Now()
	a.stats.Checkpoints++
	return a.store.Update(func(tx *licensestore.Tx) error { return a.putUsageLocked(tx) })
}

// licenseByID finds an installed or built-in license.
func (a *Agent) licenseByID(id string) *license.License {
	for _, l := range a.licenses {
		if l.lic.ID == id {
			return l.lic
		}
	}
	for _, b := range a.builtins {
		if b.ID == id {
			return b
		}
	}
	return nil
}

// licenseEvent describes one license for SNMP and syslog.
func (a *Agent) licenseEvent(kind EventKind, id string) Event {
	l := a.licenseByID(id)
	e := Event{Kind: kind, LicenseID: id}
	if l == nil {
		// A counted feature with only its built-in units has no license.
		if f, ok := a.catalog.Feature(strings.TrimPrefix(id, featureset.BuiltInPrefix)); ok {
			e.Feature, e.Version, e.FeatureIndex = f.Name, f.Version, a.featureIndex(f.Name)
			e.StoreIndex, e.StoreName = StoreBuiltIn, BuiltInStoreName
			c := a.state.Counted[f.Name]
			e.Capacity, e.InUse, e.WhatIsCounted = c.Capacity, c.InUse, f.WhatIsCounted
		}
		return e
	}
	e.Feature, e.Version, e.Type, e.Comment = l.Feature, l.Version, string(l.Type), l.Comment
	e.StoreIndex, e.StoreName = StorePrimary, PrimaryStoreName
	if isBuiltin(l) {
		e.StoreIndex, e.StoreName = StoreBuiltIn, BuiltInStoreName
	}
	if c, ok := a.comments[l.Feature]; ok {
		e.Comment = c
	}
	if l.UDI != "" {
		for _, m := range a.members() {
			if m.UDI() == l.UDI {
				e.UDI, e.EntPhysicalIndex = l.UDI, m.EntPhysicalIndex
			}
		}
	}
	e.LicenseIndex, e.Slot = a.positionOf(id)
	e.FeatureIndex = a.featureIndex(l.Feature)
	if f, ok := a.catalog.Feature(l.Feature); ok && f.Counted {
		c := a.state.Counted[l.Feature]
		e.Capacity, e.InUse, e.WhatIsCounted = c.Capacity, c.InUse, f.WhatIsCounted
	}
	for _, ls := range a.state.Licenses {
		if ls.ID == id {
			e.Remaining = Seconds(ls.Remaining / time.Second)
		}
	}
	return e
}

// positionOf is a license's "Index N" (installed licenses in store order,
// then the built-ins) and its 0-based position within its own store.
func (a *Agent) positionOf(id string) (index, slot int) {
	for i, l := range a.licenses {
		if l.lic.ID == id {
			return i + 1, i
		}
	}
	for i, b := range a.builtins {
		if b.ID == id {
			return len(a.licenses) + i + 1, i
		}
	}
	return 0, 0
}

func (a *Agent) featureIndex(name string) int {
	for i, f := range a.catalog.Features {
		if f.Name == name {
			return i + 1
		}
	}
	return 0
}

func isBuiltin(l *license.License) bool { return l.UDI == "" && len(l.Signature) == 0 }

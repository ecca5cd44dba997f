package agent

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/licensed-dev/licensed/featureset"
	"github.com/licensed-dev/licensed/license"
	"github.com/licensed-dev/licensed/licensestore"
)

// Keys of the agent's records in the store's key-value bucket.
const (
	keySettings  = "settings"
	keyBoot      = "boot"
	keyHighWater = "highWater"
	keyWarned    = "warned"
	keyRehost    = "rehostTicket"
	keyComments  = "comments"
)

// bootRecord is this boot's decision, kept so that a daemon restart within
// the same boot keeps running what the boot decided.
type bootRecord struct {
	BootID  string             `json:"bootId"`
	Time    time.Time          `json:"time"`
	Running *featureset.Result `json:"running"`
}

// warnState remembers which notices were raised for each metered license,
// so a restart does not repeat them.
type warnState struct {
	Warned  map[string]int64 `json:"warned"`  // license ID -> smallest threshold (s) raised
	Expired map[string]int64 `json:"expired"` // license ID -> expiry notices raised
}

// boot loads everything from the store and decides the feature set. A
// reload (or a first start in a new boot) resolves afresh; a restart in the
// same boot keeps the stored decision.
func (a *Agent) boot(reload, rollback bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.cfg.Now()
	var (
		recs     []licensestore.LicenseRecord
		usage    map[string]licensestore.Usage
		usageErr error
		rec      bootRecord
		haveBoot bool
		ws       warnState
		stored   Settings
		haveSet  bool
	)
	err := a.store.View(func(tx *licensestore.Tx) error {
		var err error
		if recs, err = tx.Licenses(); err != nil {
			return err
		}
		usage, usageErr = tx.AllUsage()
		if haveSet, err = tx.Get(keySettings, &stored); err != nil {
			return err
		}
		if haveBoot, err = tx.Get(keyBoot, &rec); err != nil {
			return err
		}
		if _, err = tx.Get(keyHighWater, &a.highWater); err != nil {
			return err
		}
		if _, err = tx.Get(keyWarned, &ws); err != nil {
			return err
		}
		if _, err = tx.Get(keyComments, &a.comments); err != nil {
			return err
		}
		_, err = tx.Get(keyRehost, &a.rehost)
		return err
	})
	if err != nil {
		return fmt.Errorf("reading license store: %w", err)
	}

	// Settings: the configuration file seeds a new store; afterwards what
	// the operator saved at the prompt wins (SIGHUP applies the file again).
	if haveSet {
		a.settings = stored
		if a.cfg.Settings.Hostname != "" {
			a.settings.Hostname = a.cfg.Settings.Hostname
		}
	} else {
		a.settings = a.cfg.Settings
		if a.settings.Notifications == (NotifySettings{}) {
			a.settings.Notifications = NotifySettings{Usage: true, Deployment: true, Error: true, ImageLevel: true}
		}
	}
	if a.comments == nil {
		a.comments = map[string]string{}
	}
	a.warned = ws.Warned
	if a.warned == nil {
		a.warned = map[string]int64{}
	}
	a.expiredNotices = ws.Expired
	if a.expiredNotices == nil {
		a.expiredNotices = map[string]int64{}
	}

	// Licenses: a record that no longer verifies was altered after install.
	a.licenses = a.licenses[:0]
	lics, errs := a.verifyAll(recs)
	for i, r := range recs {
		if errs[i] != nil {
			a.noteTamper(EventTamper, fmt.Sprintf("installed license %s failed verification and is ignored: %v", r.ID, errs[i]))
			continue
		}
		a.licenses = append(a.licenses, installed{rec: r, lic: lics[i]})
	}

	// Usage: an edited or rolled-back counter cannot be trusted, so the
	// evaluations it metered count as used up. Signed licenses are unaffected.
	a.used = map[string]time.Duration{}
	switch {
	case usageErr != nil:
		a.noteTamper(EventTamper, fmt.Sprintf("evaluation usage record failed its integrity check (%v); evaluations are treated as used up", usageErr))
		a.exhaustMetered()
	case rollback:
		a.exhaustMetered()
	default:
		for id, u := range usage {
			a.used[id] = u.Used
		}
	}

	// Wall clock: judged against the high-water mark, never behind it.
	wall := now.Round(0)
	if !a.highWater.IsZero() && wall.Before(a.highWater.Add(-a.cfg.RollbackTolerance)) {
		a.noteTamper(EventClockRollback, fmt.Sprintf("wall clock %s is behind the last time seen %s; calendar licenses are judged by the later time",
			wall.UTC().Format(time.RFC3339), a.highWater.UTC().Format(time.RFC3339)))
	}
	if wall.After(a.highWater) {
		a.highWater = wall
	}

	bootID, err := a.readBootID()
	if err != nil {
		return err
	}
	newBoot := reload || !haveBoot || rec.BootID != bootID || rec.Running == nil
	if newBoot {
		a.running = nil
		res := featureset.Resolve(a.inputLocked(nil))
		a.running = &res
		rec = bootRecord{BootID: bootID, Time: wall, Running: a.running}
		a.inUse = map[string]int{}
	} else {
		a.running = rec.Running
		if a.inUse == nil {
			a.inUse = map[string]int{}
		}
	}
	a.bootID = bootID
	a.bootTime = rec.Time
	a.lastTick = now
	a.lastCkpt = now
	a.resolveLocked()
	// A restart in the same boot has nothing new to write (the
	// high-water mark goes out with the next checkpoint): spare the flash.
	if newBoot || !haveSet {
		if err := a.persistBootLocked(rec); err != nil {
			return err
		}
	}
	if err := a.publishFeaturesLocked(); err != nil {
		return fmt.Errorf("features file: %w", err)
	}
	a.emitLocked(a.levelEvent(EventStarted))
	return nil
}

// exhaustMetered marks every evaluation and metered license as used up.
func (a *Agent) exhaustMetered() {
	for _, b := range a.builtins {
		a.used[b.ID] = b.Period
	}
	for _, l := range a.licenses {
		if l.lic.Type.Metered() {
			a.used[l.lic.ID] = l.lic.Period
		}
	}
}

// verifyAll re-checks every stored license, spread over the CPUs: the
// signatures are most of the boot's work.
func (a *Agent) verifyAll(recs []licensestore.LicenseRecord) ([]*license.License, []error) {
	lics := make([]*license.License, len(recs))
	errs := make([]error, len(recs))
	workers := min(runtime.GOMAXPROCS(0), len(recs)/64+1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(recs); i += workers {
				lics[i], errs[i] = a.verifyRecord(recs[i])
			}
		})
	}
	wg.Wait()
	return lics, errs
}

// verifyRecord re-checks a stored license: its text parses to exactly one
// license signed by a trusted key and locked to this device.
func (a *Agent) verifyRecord(r licensestore.LicenseRecord) (*license.License, error) {
	ls, err := license.Parse(r.Raw)
	if err != nil {
		return nil, err
	}
	if len(ls) != 1 || ls[0].ID != r.ID {
		return nil, errors.New("record does not hold exactly the license it names")
	}
	if err := a.cfg.Trust.Verify(ls[0]); err != nil {
		return nil, err
	}
	if !a.validUDI(ls[0].UDI) {
		return nil, fmt.Errorf("locked to %s, not this device", ls[0].UDI)
	}
	return ls[0], nil
}

// inputLocked builds the resolution input from the current state.
func (a *Agent) inputLocked(running *featureset.Result) featureset.Input {
	lics := make([]*license.License, len(a.licenses))
	for i, l := range a.licenses {
		lics[i] = l.lic
	}
	now := a.cfg.Now().Round(0)
	if a.highWater.After(now) {
		now = a.highWater
	}
	return featureset.Input{
		Catalog:      a.catalog,
		Licenses:     lics,
		BootLevel:    a.settings.BootLevel,
		Packages:     a.settings.Packages,
		EULAAccepted: a.settings.EULAAccepted,
		Used:         a.used,
		Running:      running,
		InUse:        a.inUse,
		Now:          now,
	}
}

// resolveLocked recomputes every license's state for the running boot.
func (a *Agent) resolveLocked() {
	a.state = featureset.Resolve(a.inputLocked(a.running))
}

// nextBootLocked is what a reload now would run.
func (a *Agent) nextBootLocked() featureset.Result {
	return featureset.Resolve(a.inputLocked(nil))
}

func (a *Agent) persistBootLocked(rec bootRecord) error {
	return a.store.Update(func(tx *licensestore.Tx) error {
		if err := tx.Put(keyBoot, rec); err != nil {
			return err
		}
		if err := tx.Put(keySettings, a.settings); err != nil {
			return err
		}
		if err := tx.Put(keyHighWater, a.highWater); err != nil {
			return err
		}
		return a.putUsageLocked(tx)
	})
}

// putUsageLocked writes usage and notice state in tx.
func (a *Agent) putUsageLocked(tx *licensestore.Tx) error {
	for id, u := range a.used {
		if err := tx.PutUsage(id, licensestore.Usage{Used: u, Updated: a.cfg.Now().Round(0)}); err != nil {
			return err
		}
	}
	if err := tx.Put(keyHighWater, a.highWater); err != nil {
		return err
	}
	return tx.Put(keyWarned, warnState{Warned: a.warned, Expired: a.expiredNotices})
}

// levelEvent describes the running and next-boot image level.
func (a *Agent) levelEvent(kind EventKind) Event {
	next := a.nextBootLocked()
	e := Event{Kind: kind, Module: a.catalog.Module, Level: a.running.Level, NextLevel: next.Level}
	if a.catalog.Kind == featureset.TechnologyPackages {
		e.Level = joinOr(a.running.Enabled, "")
		e.NextLevel = joinOr(next.Enabled, "")
	}
	if id, ok := next.Serving[next.Level]; ok {
		e.License = a.featureOfLicense(id)
	} else if next.Level != "" {
		if f := a.catalog.Base(); f != nil && f.Name == next.Level {
			e.License = next.Level
		}
	}
	return e
}

func (a *Agent) featureOfLicense(id string) string {
	for _, l := range a.licenses {
		if l.lic.ID == id {
			return l.lic.Feature
		}
	}
	for _, b := range a.builtins {
		if b.ID == id {
			return b.Feature
		}
	}
	return ""
}

func joinOr(s []string, def string) string {
	if len(s) == 0 {
		return def
	}
	out := s[0]
	for _, x := range s[1:] {
		out += "," + x
	}
	return out
}

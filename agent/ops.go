package agent

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/licensed-dev/licensed/featureset"
	"github.com/licensed-dev/licensed/license"
	"github.com/licensed-dev/licensed/licensestore"
)

// MaxLicenses is how many licenses the primary store holds.
const MaxLicenses = 4096

// maxComment is the length of clmgmtLicenseComments.
const maxComment = 255

var _ API = (*Agent)(nil)

// mayChange refuses callers below privilege 15.
func mayChange(ctx context.Context, what string) error {
	if a := ActorFrom(ctx); a.Privilege < PrivAdmin {
		return Errorf(CauseAuthorization, "Authorization failed: %s needs privilege 15 (%s has %d)", what, a.Name, a.Privilege)
	}
	return nil
}

// auditLocked records a change (or a refused one) in tx.
func (a *Agent) audit(tx *licensestore.Tx, ctx context.Context, action, target string, err error, detail string) error {
	act := ActorFrom(ctx)
	res := "ok"
	if err != nil {
		res = string(CauseOf(err))
		if detail == "" {
			detail = err.Error()
		}
	}
	_, aerr := tx.AppendAudit(licensestore.AuditRecord{
		Time: a.cfg.Now().Round(0), Actor: act.Name, Source: act.Source,
		Action: action, Target: target, Result: res, Detail: detail,
	})
	return aerr
}

// auditFailure records a refused request in its own transaction.
func (a *Agent) auditFailure(ctx context.Context, action, target string, err error) {
	if uerr := a.store.Update(func(tx *licensestore.Tx) error {
		return a.audit(tx, ctx, action, target, err, "")
	}); uerr != nil {
		a.cfg.Logf("audit: %v", uerr)
	}
}

// Record adds an event of a surface (an SSH login, a file put into
// flash:) to the audit log, as the actor in ctx.
func (a *Agent) Record(ctx context.Context, action, target, result, detail string) {
	var err error
	if result != "" && result != "ok" {
		err = &Error{Cause: Cause(result), Message: detail}
	}
	if uerr := a.store.Update(func(tx *licensestore.Tx) error {
		return a.audit(tx, ctx, action, target, err, detail)
	}); uerr != nil {
		a.cfg.Logf("audit: %v", uerr)
	}
}

// Install verifies every license in a file and installs those that pass,
// all in one store transaction. Lines that fail are reported with their
// cause; the store is unchanged by them.
func (a *Agent) Install(ctx context.Context, req InstallRequest) (*InstallResult, error) {
	if err := mayChange(ctx, "license install"); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	lics, err := license.Parse(req.Data)
	if err != nil {
		e := parseError(err)
		a.stats.InstallFailures++
		a.auditFailure(ctx, "install", req.Source, e)
		return nil, e
	}
	res := &InstallResult{}
	var accepted []*license.License
	seen := map[string]bool{}
	for _, l := range lics {
		line := InstallLine{Feature: l.Feature, ID: l.ID}
		cause, detail := a.checkInstallLocked(l, accepted)
		switch {
		case cause == CauseLicenseAlreadyExists || seen[l.ID]:
			line.Result, line.Cause, line.Detail = "existing", CauseLicenseAlreadyExists, "license "+l.ID+" is already installed"
			res.Existing++
		case cause != "":
			line.Result, line.Cause, line.Detail = "failed", cause, detail
			res.Failed++
		default:
			line.Result = "successful"
			accepted = append(accepted, l)
			res.Installed++
		}
		seen[l.ID] = true
		res.Lines = append(res.Lines, line)
	}
	now := a.cfg.Now().Round(0)
	var added []installed
	err = a.store.Update(func(tx *licensestore.Tx) error {
		slot := 0
		for _, l := range a.licenses {
			slot = max(slot, l.rec.Slot)
		}
		for _, l := range accepted {
			slot++
			rec := licensestore.LicenseRecord{
				ID: l.ID, Raw: license.Encode(l), StoreIndex: StorePrimary, Slot: slot,
				Installed: now, Actor: ActorFrom(ctx).Name,
			}
			if err := tx.PutLicense(rec); err != nil {
				return err
			}
			added = append(added, installed{rec: rec, lic: l})
		}
		for _, line := range res.Lines {
			var lerr error
			if line.Result != "successful" {
				lerr = &Error{Cause: line.Cause, Message: line.Detail}
			}
			if err := a.audit(tx, ctx, "install", line.Feature+" "+line.ID, lerr, req.Source); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e := Errorf(CauseInvalidLicenseStore, "invalidLicenseStore: could not write the license store: %v", err)
		a.stats.InstallFailures++
		return nil, e
	}
	a.licenses = append(a.licenses, added...)
	a.stats.Installs += res.Installed
	a.stats.InstallFailures += res.Failed
	a.resolveLocked()
	for _, l := range added {
		a.emitLocked(a.licenseEvent(EventInstalled, l.lic.ID))
	}
	if len(added) > 0 {
		a.afterChangeLocked()
		a.backupLocked()
	}
	return res, nil
}

// parseError names the MIB cause of a license file that does not parse:
// a bad count or period has its own cause, anything else makes the file
// invalid.
func parseError(err error) *Error {
	var se *license.SyntaxError
	if errors.As(err, &se) {
		switch se.Field {
		case "count":
			return Errorf(CauseInvalidLicenseCount, "invalidLicenseCount: %v", err)
		case "period", "start", "end":
			return Errorf(CauseInvalidLicensePeriod, "invalidLicensePeriod: %v", err)
		}
	}
	return Errorf(CauseInvalidLicenseFile, "invalidLicenseFile: %v", err)
}

// checkInstallLocked returns why l cannot be installed, or "".
func (a *Agent) checkInstallLocked(l *license.License, batch []*license.License) (Cause, string) {
	if err := a.cfg.Trust.Verify(l); err != nil {
		switch {
		case errors.Is(err, license.ErrUnknownKey):
			return CauseInvalidLicenseFile, fmt.Sprintf("invalidLicenseFile: license %s is signed by key %s, which this device does not trust", l.ID, l.KeyID)
		default:
			return CauseInvalidLicenseLine, fmt.Sprintf("invalidLicenseLine: license %s failed signature verification: %v", l.ID, err)
		}
	}
	for _, x := range a.licenses {
		if x.lic.ID == l.ID {
			return CauseLicenseAlreadyExists, ""
		}
	}
	if l.UDI == "" {
		return CauseLicenseNotValidForDevice, fmt.Sprintf("licenseNotValidForDevice: license %s is not locked to a device", l.ID)
	}
	if !a.validUDI(l.UDI) {
		return CauseLicenseNotValidForDevice, fmt.Sprintf("licenseNotValidForDevice: license %s is for UDI %s; this device is %s", l.ID, l.UDI, strings.Join(a.UDIs(), ", "))
	}
	f, ok := a.catalog.Feature(l.Feature)
	if !ok || f.Base {
		return CauseLicenseNotValidForDevice, fmt.Sprintf("licenseNotValidForDevice: feature %s is not licensable on platform %s", l.Feature, a.catalog.Platform)
	}
	if l.Type == license.Evaluation {
		return CauseInvalidLicenseLine, "invalidLicenseLine: evaluation licenses are built in and cannot be installed"
	}
	if l.Type.Metered() && l.Period <= 0 {
		return CauseInvalidLicensePeriod, fmt.Sprintf("invalidLicensePeriod: %s license %s has no usage period", l.Type, l.ID)
	}
	if !l.End.IsZero() {
		judge := a.cfg.Now().Round(0)
		if a.highWater.After(judge) {
			judge = a.highWater
		}
		if !judge.Before(l.End) {
			return CauseInvalidLicensePeriod, fmt.Sprintf("invalidLicensePeriod: license %s ended on %s", l.ID, l.End.UTC().Format("2006-01-02"))
		}
		if !l.Start.IsZero() && !l.Start.Before(l.End) {
			return CauseInvalidLicensePeriod, fmt.Sprintf("invalidLicensePeriod: license %s ends before it starts", l.ID)
		}
	}
	if f.Counted {
		if l.Count <= 0 {
			return CauseInvalidLicenseCount, fmt.Sprintf("invalidLicenseCount: license %s for counted feature %s carries no units", l.ID, l.Feature)
		}
		total := int64(f.BuiltIn) + int64(l.Count)
		for _, x := range a.licenses {
			if x.lic.Feature == l.Feature {
				total += int64(x.lic.Count)
			}
		}
		for _, x := range batch {
			if x.Feature == l.Feature {
				total += int64(x.Count)
			}
		}
		if total > math.MaxInt32 {
			return CauseInvalidLicenseCount, fmt.Sprintf("invalidLicenseCount: license %s would raise %s beyond %d units", l.ID, l.Feature, math.MaxInt32)
		}
	} else if l.Count != 0 {
		return CauseInvalidLicenseCount, fmt.Sprintf("invalidLicenseCount: feature %s is not counted but license %s carries %d units", l.Feature, l.ID, l.Count)
	}
	if len(a.licenses)+len(batch) >= MaxLicenses {
		return CauseLicenseStorageFull, fmt.Sprintf("licenseStorageFull: the primary store holds at most %d licenses", MaxLicenses)
	}
	return "", ""
}

// afterChangeLocked publishes the features file after a change.
func (a *Agent) afterChangeLocked() {
	if err := a.publishFeaturesLocked(); err != nil {
		a.cfg.Logf("features file: %v", err)
	}
}

// backupLocked refreshes the store's last good copy after licenses
// changed, so a damaged store falls back to a copy that holds them.
func (a *Agent) backupLocked() {
	if err := a.store.Backup(); err != nil {
		a.cfg.Logf("license store backup: %v", err)
	}
}

// Clear removes the installed licenses of a feature. A license that serves a
// running feature, or whose units are in use, is refused: the operator must
// change the boot configuration and reload first.
func (a *Agent) Clear(ctx context.Context, feature string) (*ClearResult, error) {
	if err := mayChange(ctx, "license clear"); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	fail := func(e *Error) (*ClearResult, error) {
		a.auditFailure(ctx, "clear", feature, e)
		return nil, e
	}
	if _, ok := a.catalog.Feature(feature); !ok {
		return fail(Errorf(CauseUnknownFeature, "feature %s is not known on platform %s", feature, a.catalog.Platform))
	}
	var ids []string
	for _, l := range a.licenses {
		if l.lic.Feature == feature {
			ids = append(ids, l.lic.ID)
		}
	}
	if len(ids) == 0 {
		return fail(Errorf(CauseNotFound, "no installed license for feature %s (built-in evaluations cannot be cleared)", feature))
	}
	for _, ls := range a.state.Licenses {
		if slices.Contains(ids, ls.ID) && (ls.State == featureset.InUse || ls.State == featureset.ExpiredInUse) {
			return fail(Errorf(CauseLicenseInUse, "licenseInUse: license %s for feature %s is in use; change the boot level and reload before clearing it", ls.ID, feature))
		}
	}
	if c, ok := a.state.Counted[feature]; ok && c.InUse > 0 {
		keep := a.licenses[:0:0]
		for _, l := range a.licenses {
			if !slices.Contains(ids, l.lic.ID) {
				keep = append(keep, l)
			}
		}
		after := a.capacityWithout(keep, feature)
		if c.InUse > after {
			return fail(Errorf(CauseLicenseInUse, "licenseInUse: %d units of %s are in use; clearing would leave capacity %d", c.InUse, feature, after))
		}
	}
	err := a.store.Update(func(tx *licensestore.Tx) error {
		for _, id := range ids {
			if err := tx.DeleteLicense(id); err != nil {
				return err
			}
		}
		return a.audit(tx, ctx, "clear", feature, nil, strings.Join(ids, " "))
	})
	if err != nil {
		return nil, Errorf(CauseInvalidLicenseStore, "invalidLicenseStore: could not write the license store: %v", err)
	}
	var events []Event
	for _, id := range ids {
		events = append(events, a.licenseEvent(EventCleared, id))
	}
	a.licenses = slices.DeleteFunc(a.licenses, func(l installed) bool { return slices.Contains(ids, l.lic.ID) })
	a.stats.Clears += len(ids)
	a.resolveLocked()
	for _, e := range events {
		a.emitLocked(e)
	}
	a.afterChangeLocked()
	a.backupLocked()
	return &ClearResult{Feature: feature, Removed: ids}, nil
}

// capacityWithout is a counted feature's capacity with only keep installed.
func (a *Agent) capacityWithout(keep []installed, feature string) int {
	in := a.inputLocked(a.running)
	in.Licenses = nil
	for _, l := range keep {
		in.Licenses = append(in.Licenses, l.lic)
	}
	return featureset.Resolve(in).Counted[feature].Capacity
}

// SetBootLevel records the next-boot image level, or enables a technology
// package for the next boot.
func (a *Agent) SetBootLevel(ctx context.Context, level string) (*BootLevelResult, error) {
	if err := mayChange(ctx, "license boot level"); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	fail := func(e *Error) (*BootLevelResult, error) {
		a.auditFailure(ctx, "boot-level", level, e)
		return nil, e
	}
	next := a.settings
	switch a.catalog.Kind {
	case featureset.ImageLevels:
		if !slices.Contains(a.catalog.Levels(), level) {
			return fail(Errorf(CauseUnknownLevel, "unknownBootLevel: %s is not an image level of %s (levels: %s)", level, a.catalog.Platform, strings.Join(a.catalog.Levels(), ", ")))
		}
		next.BootLevel = level
	case featureset.TechnologyPackages:
		f, ok := a.catalog.Feature(level)
		if !ok {
			var names []string
			for _, f := range a.catalog.Features {
				if !f.Base {
					names = append(names, f.Name)
				}
			}
			return fail(Errorf(CauseUnknownLevel, "unknownBootLevel: %s is not a technology package of %s (packages: %s)", level, a.catalog.Platform, strings.Join(names, ", ")))
		}
		if !f.Base && !slices.Contains(next.Packages, level) {
			next.Packages = append(slices.Clone(next.Packages), level)
		}
	default:
		return fail(Errorf(CauseUnknownLevel, "unknownBootLevel: platform %s has no image levels", a.catalog.Platform))
	}
	old := a.settings
	a.settings = next
	if err := a.saveSettingsLocked(ctx, "boot-level", level); err != nil {
		a.settings = old
		return nil, err
	}
	ev := a.levelEvent(EventBootLevel)
	a.emitLocked(ev)
	res := &BootLevelResult{Configured: level, NextLevel: ev.NextLevel, License: ev.License}
	if res.License == "" {
		res.License = "No valid license found"
	}
	if f, ok := a.catalog.Feature(level); ok && f.Eval != "" && !a.settings.EULAAccepted && !a.hasPaidLocked(level) {
		res.NeedsEULA = true
	}
	return res, nil
}

// hasPaidLocked reports whether a usable installed license enables level.
func (a *Agent) hasPaidLocked(level string) bool {
	for _, ls := range a.nextBootLocked().Licenses {
		l := a.licenseByID(ls.ID)
		if l == nil || isBuiltin(l) || ls.Expired || ls.State == featureset.Inactive {
			continue
		}
		if l.Feature == level || featureset.EnablesLevel(a.catalog, l.Feature, level) {
			return true
		}
	}
	return false
}

func (a *Agent) saveSettingsLocked(ctx context.Context, action, target string) error {
	err := a.store.Update(func(tx *licensestore.Tx) error {
		if err := tx.Put(keySettings, a.settings); err != nil {
			return err
		}
		return a.audit(tx, ctx, action, target, nil, "")
	})
	if err != nil {
		return Errorf(CauseInvalidLicenseStore, "invalidLicenseStore: could not write the license store: %v", err)
	}
	a.resolveLocked()
	a.afterChangeLocked()
	return nil
}

// AcceptEULA accepts the end user agreement for every feature.
func (a *Agent) AcceptEULA(ctx context.Context) error {
	if err := mayChange(ctx, "license accept end user agreement"); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.settings.EULAAccepted {
		return nil
	}
	a.settings.EULAAccepted = true
	if err := a.saveSettingsLocked(ctx, "accept-eula", "all features"); err != nil {
		a.settings.EULAAccepted = false
		return err
	}
	for _, b := range a.builtins {
		a.emitLocked(a.licenseEvent(EventEULAAccepted, b.ID))
	}
	return nil
}

// Comment sets or removes the operator's comment on a feature's licenses.
func (a *Agent) Comment(ctx context.Context, feature, text string) error {
	if err := mayChange(ctx, "license comment"); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.catalog.Feature(feature); !ok {
		e := Errorf(CauseUnknownFeature, "feature %s is not known on platform %s", feature, a.catalog.Platform)
		a.auditFailure(ctx, "comment", feature, e)
		return e
	}
	if len(text) > maxComment || strings.ContainsAny(text, "\r\n\x00") {
		e := Errorf(CauseInvalidArgument, "a comment is one line of at most %d characters", maxComment)
		a.auditFailure(ctx, "comment", feature, e)
		return e
	}
	old, had := a.comments[feature]
	if text == "" {
		delete(a.comments, feature)
	} else {
		a.comments[feature] = text
	}
	err := a.store.Update(func(tx *licensestore.Tx) error {
		if err := tx.Put(keyComments, a.comments); err != nil {
			return err
		}
		return a.audit(tx, ctx, "comment", feature, nil, text)
	})
	if err != nil {
		if had {
			a.comments[feature] = old
		} else {
			delete(a.comments, feature)
		}
		return Errorf(CauseInvalidLicenseStore, "invalidLicenseStore: could not write the license store: %v", err)
	}
	return nil
}

// Save returns every installed license as one license file.
func (a *Agent) Save(ctx context.Context) ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	lics := make([]*license.License, len(a.licenses))
	for i, l := range a.licenses {
		lics[i] = l.lic
	}
	if len(lics) == 0 {
		return nil, Errorf(CauseNotFound, "no licenses are installed")
	}
	return license.Encode(lics...), nil
}

// Credential returns the device credential, signed with the device key.
func (a *Agent) Credential(ctx context.Context) ([]byte, error) {
	a.mu.Lock()
	host := a.hostnameLocked()
	a.mu.Unlock()
	c, err := license.NewCredential(a.UDIs(), host, a.devKey, a.cfg.Now().Round(0))
	if err != nil {
		return nil, Errorf(CauseGeneralFailure, "device credential: %v", err)
	}
	return c.Encode(), nil
}

// Revoke processes a permission ticket: it removes the licenses the ticket
// names, installs the grace licenses it carries, and returns the rehost
// ticket signed with the device key as proof.
func (a *Agent) Revoke(ctx context.Context, ticket []byte) (*RevokeResult, error) {
	if err := mayChange(ctx, "license revoke"); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	fail := func(e *Error) (*RevokeResult, error) {
		a.auditFailure(ctx, "revoke", "permission ticket", e)
		return nil, e
	}
	p, err := license.ParsePermissionTicket(ticket)
	if err != nil {
		return fail(Errorf(CauseInvalidPermissionTicket, "invalidPermissionTicket: %v", err))
	}
	if err := a.cfg.Trust.VerifyTicket(p); err != nil {
		return fail(Errorf(CauseInvalidPermissionTicket, "invalidPermissionTicket: %v", err))
	}
	if !a.validUDI(p.UDI) {
		return fail(Errorf(CauseInvalidPermissionTicket, "invalidPermissionTicket: ticket %s is for UDI %s, not this device", p.ID, p.UDI))
	}
	now := a.cfg.Now().Round(0)
	if !p.Expires.IsZero() && !now.Before(p.Expires) && !a.highWater.Before(p.Expires) {
		return fail(Errorf(CauseInvalidPermissionTicket, "invalidPermissionTicket: ticket %s expired on %s", p.ID, p.Expires.UTC().Format(time.RFC3339)))
	}
	for _, id := range p.LicenseIDs {
		if a.licenseByID(id) == nil || isBuiltin(a.licenseByID(id)) {
			return fail(Errorf(CauseInvalidPermissionTicket, "invalidPermissionTicket: license %s named by ticket %s is not installed", id, p.ID))
		}
	}
	var grace []*license.License
	for _, g := range p.Grace {
		if cause, detail := a.checkInstallLocked(g, grace); cause != "" && cause != CauseLicenseAlreadyExists {
			return fail(Errorf(CauseInvalidPermissionTicket, "invalidPermissionTicket: grace license: %s", detail))
		} else if cause == "" {
			grace = append(grace, g)
		}
	}
	rt, err := license.NewRehostTicket(p, p.LicenseIDs, a.devKey, now)
	if err != nil {
		return fail(Errorf(CauseGeneralFailure, "rehost ticket: %v", err))
	}
	out := rt.Encode()
	var events []Event
	for _, id := range p.LicenseIDs {
		events = append(events, a.licenseEvent(EventRevoked, id))
	}
	var added []installed
	err = a.store.Update(func(tx *licensestore.Tx) error {
		for _, id := range p.LicenseIDs {
			if err := tx.DeleteLicense(id); err != nil {
				return err
			}
		}
		slot := 0
		for _, l := range a.licenses {
			slot = max(slot, l.rec.Slot)
		}
		for _, g := range grace {
			slot++
			rec := licensestore.LicenseRecord{ID: g.ID, Raw: license.Encode(g), StoreIndex: StorePrimary, Slot: slot, Installed: now, Actor: ActorFrom(ctx).Name}
			if err := tx.PutLicense(rec); err != nil {
				return err
			}
			added = append(added, installed{rec: rec, lic: g})
		}
		if err := tx.Put(keyRehost, out); err != nil {
			return err
		}
		return a.audit(tx, ctx, "revoke", p.ID, nil, strings.Join(p.LicenseIDs, " "))
	})
	if err != nil {
		return nil, Errorf(CauseInvalidLicenseStore, "invalidLicenseStore: could not write the license store: %v", err)
	}
	a.licenses = slices.DeleteFunc(a.licenses, func(l installed) bool { return slices.Contains(p.LicenseIDs, l.lic.ID) })
	a.licenses = append(a.licenses, added...)
	a.rehost = out
	a.stats.Revokes += len(p.LicenseIDs)
	a.resolveLocked()
	for _, e := range events {
		a.emitLocked(e)
	}
	res := &RevokeResult{Ticket: out, Revoked: p.LicenseIDs}
	for _, g := range added {
		res.Grace = append(res.Grace, g.lic.ID)
		a.emitLocked(a.licenseEvent(EventInstalled, g.lic.ID))
	}
	a.backupLocked()
	a.afterChangeLocked()
	return res, nil
}

// Reload re-runs the boot sequence as after a power cycle, with a new boot
// id. Only a simulated device reloads in-process.
func (a *Agent) Reload(ctx context.Context) error {
	if err := mayChange(ctx, "reload"); err != nil {
		return err
	}
	if !a.cfg.Simulated {
		return Errorf(CauseInvalidArgument, "reload is only done in-process on a simulated device; reboot the device instead")
	}
	a.mu.Lock()
	a.meterLocked(a.cfg.Now())
	err := a.checkpointLocked()
	if err == nil {
		_, err = a.newBootID()
	}
	if err == nil {
		err = a.store.Update(func(tx *licensestore.Tx) error { return a.audit(tx, ctx, "reload", "", nil, "") })
	}
	a.stats.Reloads++
	a.emitLocked(Event{Kind: EventReload})
	a.mu.Unlock()
	if err != nil {
		return Errorf(CauseGeneralFailure, "reload: %v", err)
	}
	if err := a.boot(true, false); err != nil {
		return Errorf(CauseGeneralFailure, "reload: %v", err)
	}
	return nil
}

// Acquire takes units of a counted feature for device software. Units
// beyond capacity are granted but counted as a violation, as devices do.
func (a *Agent) Acquire(ctx context.Context, feature string, units int) (*CountResult, error) {
	return a.count(ctx, feature, units)
}

// Release gives units back.
func (a *Agent) Release(ctx context.Context, feature string, units int) (*CountResult, error) {
	return a.count(ctx, feature, -units)
}

func (a *Agent) count(ctx context.Context, feature string, delta int) (*CountResult, error) {
	if err := mayChange(ctx, "license feature acquire/release"); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	f, ok := a.catalog.Feature(feature)
	if !ok || !f.Counted {
		return nil, Errorf(CauseUnknownFeature, "%s is not a counted feature on platform %s", feature, a.catalog.Platform)
	}
	if delta == 0 || delta > 1_000_000 || delta < -1_000_000 {
		return nil, Errorf(CauseInvalidArgument, "units must be between 1 and 1000000")
	}
	cur := a.inUse[feature]
	if cur+delta < 0 {
		return nil, Errorf(CauseInvalidArgument, "cannot release %d units of %s: %d in use", -delta, feature, cur)
	}
	before := a.state.Counted[feature]
	a.inUse[feature] = cur + delta
	a.resolveLocked()
	c := a.state.Counted[feature]
	if delta > 0 && c.Capacity > 0 {
		id := a.countedLicenseID(feature)
		switch {
		case c.InUse > c.Capacity && before.InUse <= before.Capacity:
			a.stats.Violations++
			a.emitLocked(a.licenseEvent(EventCountExceeded, id))
		case c.InUse == c.Capacity && before.InUse < before.Capacity:
			a.emitLocked(a.licenseEvent(EventCountExceeded, id))
		case c.InUse*5 >= c.Capacity*4 && before.InUse*5 < before.Capacity*4:
			a.emitLocked(a.licenseEvent(EventCountAboutToExceed, id))
		}
	}
	a.afterChangeLocked()
	granted := delta
	if granted < 0 {
		granted = -granted
	}
	return &CountResult{Feature: feature, Granted: granted, Capacity: c.Capacity, InUse: c.InUse, Violation: c.Violation}, nil
}

// countedLicenseID names the license a count notice is about: the largest
// installed one for the feature, else its built-in.
func (a *Agent) countedLicenseID(feature string) string {
	best, n := "", -1
	for _, l := range a.licenses {
		if l.lic.Feature == feature && l.lic.Count > n {
			best, n = l.lic.ID, l.lic.Count
		}
	}
	if best == "" {
		return "builtin:" + feature
	}
	return best
}

// History returns the audit log.
func (a *Agent) History(ctx context.Context, limit int) ([]AuditEntry, error) {
	var recs []licensestore.AuditRecord
	err := a.store.View(func(tx *licensestore.Tx) error {
		var err error
		recs, err = tx.Audit(limit)
		return err
	})
	if err != nil {
		return nil, Errorf(CauseInvalidLicenseStore, "invalidLicenseStore: %v", err)
	}
	out := make([]AuditEntry, len(recs))
	for i, r := range recs {
		out[i] = AuditEntry{Seq: r.Seq, Time: r.Time, Actor: Actor{Name: r.Actor, Source: r.Source}, Action: r.Action, Target: r.Target, Result: r.Result, Detail: r.Detail}
	}
	return out, nil
}

// CallHome runs a call-home operation.
func (a *Agent) CallHome(ctx context.Context, req CallHomeRequest) (*CallHomeResult, error) {
	if req.Op != "show-pak" {
		if err := mayChange(ctx, "license call-home"); err != nil {
			return nil, err
		}
	}
	if a.cfg.CallHome == nil {
		return nil, Errorf(CauseUnavailable, "call-home is not configured: start licensed with --portal URL (or set 'license call-home url URL')")
	}
	return a.cfg.CallHome.Do(ctx, a, req)
}

package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/licensed-dev/licensed/featureset"
	"github.com/licensed-dev/licensed/license"
)

// Status returns a consistent snapshot of the device's license state.
func (a *Agent) Status(ctx context.Context) (*Status, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.meterLocked(a.cfg.Now())
	return a.statusLocked(ctx), nil
}

func (a *Agent) statusLocked(ctx context.Context) *Status {
	now := a.cfg.Now()
	next := a.nextBootLocked()
	s := &Status{
		Hostname:        a.hostnameLocked(),
		Platform:        a.catalog.Platform,
		Description:     a.catalog.Description,
		Module:          a.catalog.Module,
		Kind:            string(a.catalog.Kind),
		Software:        Version,
		Members:         a.members(),
		BootID:          a.bootID,
		BootTime:        a.bootTime,
		Now:             now.Round(0),
		Level:           a.running.Level,
		NextLevel:       next.Level,
		ConfiguredLevel: a.settings.BootLevel,
		EULAAccepted:    a.settings.EULAAccepted,
		Enabled:         slices.Clone(a.running.Enabled),
		Tamper:          slices.Clone(a.tamper),
		Notifications:   a.settings.Notifications,
		Statistics:      a.stats,
	}
	s.Statistics.EventsDropped = a.events.droppedCount()

	states := map[string]featureset.LicenseState{}
	for _, ls := range a.state.Licenses {
		states[ls.ID] = ls
	}
	active := a.activeMember()
	pos := 0
	add := func(l *license.License, storeIdx int, storeName string, slot int, rec *installed) {
		pos++
		ls := states[l.ID]
		info := LicenseInfo{
			Index: pos, StoreIndex: storeIdx, StoreName: storeName, StoreSlot: slot,
			EntPhysicalIndex: active.EntPhysicalIndex,
			ID:               l.ID, Feature: l.Feature, Version: l.Version,
			Type: string(l.Type), TypeDisplay: l.Type.Display(),
			State: string(ls.State), UDI: l.UDI, Count: l.Count,
			Addition: string(l.Addition), Priority: ls.Priority,
			EULARequired: l.Type == license.Evaluation || l.Type == license.EvalRightToUse || l.Type == license.Extension,
			EULAAccepted: a.settings.EULAAccepted,
			Start:        l.Start, End: l.End, Comment: l.Comment, Issued: l.Issued,
			PAK: l.PAK, KeyID: l.KeyID,
		}
		if ls.RightToUse {
			info.Type, info.TypeDisplay = string(license.RightToUse), license.RightToUse.Display()
		}
		if f, ok := a.catalog.Feature(l.Feature); ok && f.Counted {
			info.Counted = true
		}
		if l.UDI != "" {
			for _, m := range s.Members {
				if m.UDI() == l.UDI {
					info.EntPhysicalIndex = m.EntPhysicalIndex
				}
			}
		}
		if c, ok := a.comments[l.Feature]; ok {
			info.Comment = c
		}
		if l.Type.Metered() {
			info.Period = Seconds(l.Period / time.Second)
			info.Remaining = Seconds(ls.Remaining / time.Second)
			info.Used = Seconds(ls.Used / time.Second)
			info.Activated = ls.Used > 0 || ls.State == featureset.InUse
			if ls.Expired && ls.Used > l.Period {
				info.Expired = Seconds((ls.Used - l.Period) / time.Second)
			}
		}
		if rec != nil {
			info.Installed = rec.rec.Installed
		}
		info.StateDisplay = stateDisplay(info, ls)
		s.Licenses = append(s.Licenses, info)
	}
	for _, l := range a.licenses {
		add(l.lic, StorePrimary, PrimaryStoreName, l.rec.Slot, &l)
	}
	for i, b := range a.builtins {
		add(b, StoreBuiltIn, BuiltInStoreName, i+1, nil)
	}

	for i, f := range a.catalog.Features {
		fi := FeatureInfo{
			Index: i + 1, Name: f.Name, Version: f.Version, Description: f.Description,
			Enforced: !f.Base, Evaluation: f.Eval != "", RightToUse: f.Eval == license.EvalRightToUse,
			Enabled: slices.Contains(a.running.Enabled, f.Name), Counted: f.Counted, WhatIsCounted: f.WhatIsCounted,
		}
		if c, ok := a.state.Counted[f.Name]; ok {
			fi.Capacity, fi.InUse, fi.Violation = c.Capacity, c.InUse, c.Violation
		}
		for _, li := range s.Licenses {
			if li.Feature != f.Name {
				continue
			}
			fi.Remaining += li.Remaining
			fi.Used += li.Used
			if li.Type == string(license.PaidSubscription) {
				fi.Subscription = true
				fi.Start, fi.End = li.Start, li.End
			}
		}
		s.Features = append(s.Features, fi)
	}

	size, _ := a.store.Stats()
	s.Stores = []StoreInfo{
		{Index: StorePrimary, Name: PrimaryStoreName, TotalSize: max(size, 1<<20), Remaining: max(1<<20-size, 0)},
		{Index: StoreBuiltIn, Name: BuiltInStoreName},
	}

	switch a.catalog.Kind {
	case featureset.TechnologyPackages:
		for _, f := range a.catalog.Features {
			p := PackageInfo{Technology: technology(f.Name), Current: "None", Type: "None", NextReboot: "None"}
			if slices.Contains(a.running.Enabled, f.Name) {
				p.Current = f.Name
				if f.Base {
					p.Type = license.Permanent.Display()
				} else if id, ok := a.running.Serving[f.Name]; ok {
					for _, li := range s.Licenses {
						if li.ID == id {
							p.Type = li.TypeDisplay
						}
					}
				}
			}
			if slices.Contains(next.Enabled, f.Name) {
				p.NextReboot = f.Name
			}
			s.Packages = append(s.Packages, p)
		}
	case featureset.ImageLevels:
		for i, lv := range a.catalog.Levels() {
			li := LevelInfo{Level: lv, Priority: i + 1}
			for _, f := range a.catalog.Features {
				if f.Name == lv || featureset.EnablesLevel(a.catalog, f.Name, lv) {
					li.Licenses = append(li.Licenses, f.Name)
				}
			}
			slices.Reverse(li.Licenses)
			s.Levels = append(s.Levels, li)
		}
	}
	if a.cfg.CallHome != nil {
		a.mu.Unlock()
		s.CallHome = a.cfg.CallHome.Info(ctx, a)
		a.mu.Lock()
	}
	return s
}

// technology is the short name in the technology package table
// ("securityk9" → "security").
func technology(pkg string) string {
	t := strings.TrimSuffix(pkg, "k9")
	if t == "" {
		return pkg
	}
	return t
}

// stateDisplay is the text after "License State:".
func stateDisplay(info LicenseInfo, ls featureset.LicenseState) string {
	eula := ""
	if info.EULARequired && info.Type != string(license.RightToUse) {
		if info.EULAAccepted {
			eula = ", EULA accepted"
		} else {
			eula = ", EULA not accepted"
		}
	}
	switch ls.State {
	case featureset.InUse:
		return "Active, In Use"
	case featureset.NotInUse:
		return "Active, Not in Use" + eula
	case featureset.ExpiredInUse:
		return "Active, Expired, In Use"
	case featureset.ExpiredNotInUse:
		return "Expired, Not in Use"
	case featureset.UsageCountConsumed:
		return "Active, In Use, Usage Count Consumed"
	case featureset.Inactive:
		return "Inactive"
	}
	return string(ls.State)
}

// featuresFile is what device software reads to know what runs.
type featuresFile struct {
	UDI      string                    `json:"udi"`
	Platform string                    `json:"platform"`
	BootID   string                    `json:"bootId"`
	Level    string                    `json:"level,omitempty"`
	Enabled  []string                  `json:"enabled"`
	Counted  map[string]featureCounted `json:"counted,omitempty"`
	Updated  time.Time                 `json:"updated"`
}

type featureCounted struct {
	Capacity int `json:"capacity"`
	InUse    int `json:"inUse"`
}

func (a *Agent) publishFeaturesLocked() error {
	ff := featuresFile{
		UDI: a.activeMember().UDI(), Platform: a.catalog.Platform, BootID: a.bootID,
		Level: a.running.Level, Enabled: a.running.Enabled, Updated: a.cfg.Now().Round(0).UTC(),
	}
	if len(a.state.Counted) > 0 {
		ff.Counted = map[string]featureCounted{}
		for f, c := range a.state.Counted {
			ff.Counted[f] = featureCounted{Capacity: c.Capacity, InUse: c.InUse}
		}
	}
	data, err := json.MarshalIndent(ff, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(a.cfg.FeaturesFile, append(data, '\n'), 0o644)
}

// RunningConfig prints the effective configuration in IOS syntax.
func (a *Agent) RunningConfig(ctx context.Context) (string, error) {
	a.mu.Lock()
	var b strings.Builder
	fmt.Fprintf(&b, "hostname %s\n!\n", a.hostnameLocked())
	act := a.activeMember()
	fmt.Fprintf(&b, "license udi pid %s sn %s\n", act.PID, act.SN)
	if a.settings.EULAAccepted {
		b.WriteString("license accept end user agreement\n")
	}
	switch a.catalog.Kind {
	case featureset.ImageLevels:
		if a.settings.BootLevel != "" {
			fmt.Fprintf(&b, "license boot level %s\n", a.settings.BootLevel)
		}
	case featureset.TechnologyPackages:
		for _, p := range a.settings.Packages {
			fmt.Fprintf(&b, "license boot module %s technology-package %s\n", a.catalog.Module, p)
		}
	}
	for _, f := range a.catalog.Features {
		if c, ok := a.comments[f.Name]; ok {
			fmt.Fprintf(&b, "! license comment %s: %s\n", f.Name, c)
		}
	}
	a.mu.Unlock()
	if a.cfg.CallHome != nil {
		for _, l := range a.cfg.CallHome.RunningConfig() {
			b.WriteString(l + "\n")
		}
	}
	if a.cfg.ExtraConfig != nil {
		for _, l := range a.cfg.ExtraConfig() {
			b.WriteString(l + "\n")
		}
	}
	b.WriteString("end\n")
	return b.String(), nil
}

// ApplySettings applies the configuration file again (SIGHUP): its hostname,
// boot level, packages and EULA acceptance replace the saved ones.
func (a *Agent) ApplySettings(ctx context.Context, s Settings) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	old := a.settings
	next := old
	if s.Hostname != "" {
		next.Hostname = s.Hostname
	}
	if s.BootLevel != "" {
		if a.catalog.Kind != featureset.ImageLevels || !slices.Contains(a.catalog.Levels(), s.BootLevel) {
			return Errorf(CauseUnknownLevel, "unknownBootLevel: %s is not an image level of %s", s.BootLevel, a.catalog.Platform)
		}
		next.BootLevel = s.BootLevel
	}
	if len(s.Packages) > 0 {
		next.Packages = s.Packages
	}
	if s.EULAAccepted {
		next.EULAAccepted = true
	}
	if s.Notifications != (NotifySettings{}) {
		next.Notifications = s.Notifications
	}
	a.settings = next
	if err := a.saveSettingsLocked(ctx, "config", "configuration file"); err != nil {
		a.settings = old
		return err
	}
	return nil
}

package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/licensed-dev/licensed/agent"
	"github.com/licensed-dev/licensed/featureset"
	"github.com/licensed-dev/licensed/license"
)

// status fetches the snapshot the show commands print.
func (r *runner) status(ctx context.Context) (*agent.Status, error) {
	st, err := r.d.API.Status(ctx)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, errors.New("licensed returned no status")
	}
	return st, nil
}

// printer writes human output and keeps the first write error, which
// ends the command.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) write(s string) {
	if p.err == nil {
		_, p.err = io.WriteString(p.w, s)
	}
}

// byIndex returns the licenses in "Index N" order.
func byIndex(ls []agent.LicenseInfo) []agent.LicenseInfo {
	ls = slices.Clone(ls)
	slices.SortStableFunc(ls, func(a, b agent.LicenseInfo) int { return a.Index - b.Index })
	return ls
}

// UDI table columns, as devices print them.
const (
	udiDeviceWidth = 10
	udiPIDWidth    = 18
	udiSNWidth     = 16
	udiRule        = 68
)

func (r *runner) showUDI(ctx context.Context, _ *call) (any, error) {
	st, err := r.status(ctx)
	if err != nil {
		return nil, err
	}
	p := &printer{w: r.out}
	p.write(pad("Device#", udiDeviceWidth) + pad("PID", udiPIDWidth) + pad("SN", udiSNWidth) + "UDI\n")
	p.write(strings.Repeat("-", udiRule) + "\n")
	for _, m := range st.Members {
		p.write(pad(memberMark(m), udiDeviceWidth) + pad(m.PID, udiPIDWidth) + pad(m.SN, udiSNWidth) + m.UDI() + "\n")
	}
	return struct {
		Members []agent.Member `json:"members"`
	}{st.Members}, p.err
}

// memberMark is the Device# cell: "*" marks the active member.
func memberMark(m agent.Member) string {
	mark := " "
	if m.Active {
		mark = "*"
	}
	return mark + strconv.Itoa(m.Device)
}

type licensesJSON struct {
	Licenses []agent.LicenseInfo `json:"licenses"`
}

// showLicense prints the index blocks of bare "show license".
func (r *runner) showLicense(ctx context.Context, _ *call) (any, error) {
	st, err := r.status(ctx)
	if err != nil {
		return nil, err
	}
	ls := byIndex(st.Licenses)
	p := &printer{w: r.out}
	for _, l := range ls {
		p.printf("Index %d Feature: %s\n", l.Index, l.Feature)
		p.printf("\tPeriod left: %s\n", periodLeft(l, st.Now))
		if metered(l) {
			p.printf("\tPeriod Used: %s\n", periodShort(l.Used.Duration()))
		}
		p.printf("\tLicense Type: %s\n", typeDisplay(l))
		p.printf("\tLicense State: %s\n", stateDisplay(l))
		p.printf("\tLicense Count: %s\n", licenseCount(st, l))
		p.printf("\tLicense Priority: %s\n", priority(l))
	}
	return licensesJSON{nonNil(ls)}, p.err
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// knownFeature checks a FEATURE argument against the device's catalog.
func knownFeature(st *agent.Status, name string) error {
	names := make([]string, 0, len(st.Features))
	for _, f := range st.Features {
		if f.Name == name {
			return nil
		}
		names = append(names, f.Name)
	}
	return agent.Errorf(agent.CauseUnknownFeature, "feature %q is not licensable on this device (features: %s)",
		name, strings.Join(names, ", "))
}

// detailFeatureWidth is the width of the feature name in the first line of
// a detail block, before "Version:".
const detailFeatureWidth = 34

func (r *runner) showDetail(ctx context.Context, a *call) (any, error) {
	st, err := r.status(ctx)
	if err != nil {
		return nil, err
	}
	feature := a.arg("feature")
	if feature != "" {
		if err := knownFeature(st, feature); err != nil {
			return nil, err
		}
	}
	p := &printer{w: r.out}
	shown := []agent.LicenseInfo{}
	for _, l := range byIndex(st.Licenses) {
		if feature != "" && l.Feature != feature {
			continue
		}
		shown = append(shown, l)
		p.printf("Index: %d \tFeature: %sVersion: %s\n", l.Index, pad(l.Feature, detailFeatureWidth), l.Version)
		p.printf("\tLicense Type: %s\n", typeDisplay(l))
		p.printf("\tLicense State: %s\n", stateDisplay(l))
		if metered(l) {
			p.printf("\t    Evaluation total period: %s\n", period(l.Period.Duration()))
			p.printf("\t    Evaluation period left: %s\n", period(l.Remaining.Duration()))
			p.printf("\t    Period used: %s\n", period(l.Used.Duration()))
		}
		if !l.Start.IsZero() {
			p.printf("\t    Start date: %s\n", stamp(l.Start))
		}
		if !l.End.IsZero() {
			p.printf("\t    End date: %s\n", stamp(l.End))
		}
		if l.UDI != "" {
			p.write("\tLock type: Node locked\n")
		} else {
			p.write("\tLock type: Non Node locked\n")
		}
		p.printf("\tVendor info: %s\n", vendorInfo(l))
		if l.Addition != "" {
			p.printf("\tLicense Addition: %s\n", capitalize(l.Addition))
		}
		p.printf("\tLicense Count: %s\n", licenseCount(st, l))
		p.printf("\tLicense Priority: %s\n", priority(l))
		if l.Comment != "" {
			p.printf("\tComment: %s\n", l.Comment)
		}
		p.printf("\tStore Index: %d\n", l.StoreSlot)
		p.printf("\tStore Name: %s\n", l.StoreName)
	}
	return licensesJSON{shown}, p.err
}

// allFeatureWidth is the width of the feature name in show license all.
const allFeatureWidth = 27

func (r *runner) showAll(ctx context.Context, _ *call) (any, error) {
	st, err := r.status(ctx)
	if err != nil {
		return nil, err
	}
	// Stores in the order the agent lists them, then any store a license
	// names that the list lacks.
	type group struct {
		index int
		name  string
		ls    []agent.LicenseInfo
	}
	var groups []*group
	find := func(index int) *group {
		for _, g := range groups {
			if g.index == index {
				return g
			}
		}
		return nil
	}
	for _, s := range st.Stores {
		if find(s.Index) == nil {
			groups = append(groups, &group{index: s.Index, name: s.Name})
		}
	}
	for _, l := range byIndex(st.Licenses) {
		g := find(l.StoreIndex)
		if g == nil {
			g = &group{index: l.StoreIndex, name: l.StoreName}
			groups = append(groups, g)
		}
		g.ls = append(g.ls, l)
	}
	p := &printer{w: r.out}
	for _, g := range groups {
		p.printf("License Store: %s\n", g.name)
		slices.SortStableFunc(g.ls, func(a, b agent.LicenseInfo) int { return a.StoreSlot - b.StoreSlot })
		for _, l := range g.ls {
			p.printf("StoreIndex: %d\tFeature: %sVersion: %s\n", l.StoreSlot, pad(l.Feature, allFeatureWidth), l.Version)
			p.printf("\tLicense Type: %s\n", typeDisplay(l))
			p.printf("\tLicense State: %s\n", stateDisplay(l))
			if metered(l) {
				p.printf("\t    Evaluation total period: %s\n", period(l.Period.Duration()))
				p.printf("\t    Evaluation period left: %s\n", period(l.Remaining.Duration()))
			}
			p.printf("\tLicense Count: %s\n", licenseCount(st, l))
			p.printf("\tLicense Priority: %s\n", priority(l))
		}
	}
	return struct {
		Stores   []agent.StoreInfo   `json:"stores"`
		Licenses []agent.LicenseInfo `json:"licenses"`
	}{nonNil(st.Stores), nonNil(byIndex(st.Licenses))}, p.err
}

func (r *runner) showFeature(ctx context.Context, _ *call) (any, error) {
	st, err := r.status(ctx)
	if err != nil {
		return nil, err
	}
	p := &printer{w: r.out}
	row := func(name, enf, eval, sub, en, rtu string) {
		p.write(pad(name, 25) + pad(enf, 13) + pad(eval, 12) + pad(sub, 15) + pad(en, 9) + pad(rtu, 11) + "\n")
	}
	row("Feature name", "Enforcement", "Evaluation", "Subscription", "Enabled", "RightToUse")
	for _, f := range st.Features {
		row(f.Name, yesNo(f.Enforced), yesNo(f.Evaluation), yesNo(f.Subscription), yesNo(f.Enabled), yesNo(f.RightToUse))
	}
	if slices.ContainsFunc(st.Features, func(f agent.FeatureInfo) bool { return f.Counted }) {
		p.write("\n")
		rows := [][]string{{"Counted feature", "Capacity", "In-use", "Violation", "Counts"}}
		for _, f := range st.Features {
			if f.Counted {
				rows = append(rows, []string{f.Name, strconv.Itoa(f.Capacity), strconv.Itoa(f.InUse),
					strconv.Itoa(f.Violation), f.WhatIsCounted})
			}
		}
		p.write(table(rows))
	}
	return struct {
		Features []agent.FeatureInfo `json:"features"`
	}{nonNil(st.Features)}, p.err
}

// typeHelp describes a license type for show license status.
func typeHelp(t license.Type) string {
	switch t {
	case license.Permanent:
		return "Node locked, does not expire"
	case license.Evaluation:
		return "Built in, not node locked, metered usage time"
	case license.Extension:
		return "Node locked, metered usage time"
	case license.GracePeriod:
		return "Node locked, metered, issued with a rehost"
	case license.PaidSubscription:
		return "Node locked, valid between calendar dates"
	case license.EvalRightToUse:
		return "Not node locked, metered, then right to use"
	case license.RightToUse:
		return "Not node locked, does not expire"
	case license.PermanentRightToUse:
		return "Right to use from the start"
	}
	return ""
}

// statusJSON is the structured form of show license status.
type statusJSON struct {
	Types              []string             `json:"types"`
	Operations         []string             `json:"operations"`
	CallHomeOperations []string             `json:"callHomeOperations"`
	Members            []agent.Member       `json:"members"`
	EULAAccepted       bool                 `json:"eulaAccepted"`
	Tamper             []string             `json:"tamper"`
	CallHome           agent.CallHomeInfo   `json:"callHome"`
	Notifications      agent.NotifySettings `json:"notifications"`
}

func (r *runner) showStatus(ctx context.Context, _ *call) (any, error) {
	st, err := r.status(ctx)
	if err != nil {
		return nil, err
	}
	ops := [][2]string{
		{"install", "Install licenses from a file"},
		{"clear", "Clear the licenses of a feature"},
		{"annotate", "Add or delete a license comment"},
		{"save", "Save the licenses or the device credential"},
		{"revoke", "Revoke licenses with a permission ticket"},
		{"boot", "Set the license level of the next reload"},
		{"call-home", "Exchange licenses with the licensing portal"},
	}
	chOps := [][2]string{
		{"show pak", "Display what a PAK holds"},
		{"install", "Install the licenses of a PAK"},
		{"revoke", "Revoke licenses for a rehost"},
		{"resend", "Fetch the licenses of this device again"},
		{"url", "Set the licensing portal URL"},
	}
	var types [][2]string
	js := statusJSON{
		Members: nonNil(st.Members), EULAAccepted: st.EULAAccepted, Tamper: nonNil(st.Tamper),
		CallHome: st.CallHome, Notifications: st.Notifications,
	}
	for _, t := range license.Types {
		types = append(types, [2]string{string(t), typeHelp(t)})
		js.Types = append(js.Types, string(t))
	}
	for _, o := range ops {
		js.Operations = append(js.Operations, o[0])
	}
	for _, o := range chOps {
		js.CallHomeOperations = append(js.CallHomeOperations, o[0])
	}
	p := &printer{w: r.out}
	block := func(title string, rows [][2]string) {
		w := 0
		for _, x := range rows {
			w = max(w, len(x[0]))
		}
		p.printf("\t\t%s\n", title)
		for _, x := range rows {
			p.printf("\t%s%s\n", pad(x[0], max(w+1, 11)), x[1])
		}
	}
	block("License Type Supported", types)
	block("License Operation Supported", ops)
	block("Call-home Operation Supported", chOps)
	p.write("\t\tDevice status\n")
	for _, m := range st.Members {
		if m.Active {
			p.printf("\tDevice UDI: %s\n", m.UDI())
		}
	}
	if st.EULAAccepted {
		p.write("\tEnd user agreement: accepted\n")
	} else {
		p.write("\tEnd user agreement: not accepted\n")
	}
	if len(st.Tamper) == 0 {
		p.write("\tTamper findings: none\n")
	} else {
		p.write("\tTamper findings:\n")
		for _, t := range st.Tamper {
			p.printf("\t    %s\n", t)
		}
	}
	p.write("\nCall-home URL status\n")
	if st.CallHome.URL == "" {
		p.write("\tCall-home URL: not set\n")
	} else {
		p.printf("\tCall-home URL: %s\n", st.CallHome.URL)
	}
	return js, p.err
}

func (r *runner) showStatistics(ctx context.Context, _ *call) (any, error) {
	st, err := r.status(ctx)
	if err != nil {
		return nil, err
	}
	s := st.Statistics
	p := &printer{w: r.out}
	line := func(label string, n int) { p.printf("\t%s%d\n", pad(label+":", 32), n) }
	p.write("Administrative statistics\n")
	line("Install success count", s.Installs)
	line("Install failure count", s.InstallFailures)
	line("Clear count", s.Clears)
	line("Revoke count", s.Revokes)
	line("Reload count", s.Reloads)
	p.write("Usage statistics\n")
	line("Usage checkpoint count", s.Checkpoints)
	line("Count violation count", s.Violations)
	line("Tamper event count", s.TamperEvents)
	line("Dropped notification count", s.EventsDropped)
	return struct {
		Statistics agent.Statistics `json:"statistics"`
	}{s}, p.err
}

func (r *runner) showCallHome(ctx context.Context, _ *call) (any, error) {
	st, err := r.status(ctx)
	if err != nil {
		return nil, err
	}
	ch := st.CallHome
	p := &printer{w: r.out}
	url := ch.URL
	if url == "" {
		url = "not set"
	}
	p.printf("Call-home URL: %s\n", url)
	p.printf("Last contact: %s\n", stamp(ch.LastContact))
	if ch.LastResult != "" {
		p.printf("Last result: %s\n", ch.LastResult)
	}
	if len(ch.Pending) == 0 {
		p.write("Pending requests: none\n")
	} else {
		p.write("Pending requests:\n")
		for _, x := range ch.Pending {
			p.printf("\t%s\n", x)
		}
	}
	return struct {
		CallHome agent.CallHomeInfo `json:"callHome"`
	}{ch}, p.err
}

func (r *runner) showHistory(ctx context.Context, _ *call) (any, error) {
	es, err := r.d.API.History(ctx, 0)
	if err != nil {
		return nil, err
	}
	rows := [][]string{{"Seq", "Time", "User", "Source", "Action", "Target", "Result"}}
	detail := slices.ContainsFunc(es, func(e agent.AuditEntry) bool { return e.Detail != "" })
	if detail {
		rows[0] = append(rows[0], "Detail")
	}
	for _, e := range es {
		row := []string{strconv.FormatUint(e.Seq, 10), stamp(e.Time), e.Actor.Name, e.Actor.Source, e.Action, e.Target, e.Result}
		if detail {
			row = append(row, e.Detail)
		}
		rows = append(rows, row)
	}
	p := &printer{w: r.out}
	p.write(table(rows))
	return struct {
		History []agent.AuditEntry `json:"history"`
	}{nonNil(es)}, p.err
}

func (r *runner) showFile(ctx context.Context, _ *call) (any, error) {
	data, err := r.d.API.Save(ctx)
	if err != nil {
		return nil, err
	}
	p := &printer{w: r.out}
	p.write(string(data))
	if len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
		p.write("\n")
	}
	return struct {
		File string `json:"file"`
	}{string(data)}, p.err
}

func (r *runner) showRunningConfig(ctx context.Context, _ *call) (any, error) {
	cfg, err := r.d.API.RunningConfig(ctx)
	if err != nil {
		return nil, err
	}
	p := &printer{w: r.out}
	p.write(cfg)
	if cfg != "" && !strings.HasSuffix(cfg, "\n") {
		p.write("\n")
	}
	return struct {
		RunningConfig string `json:"runningConfig"`
	}{cfg}, p.err
}

// versionJSON is the structured form of show version.
type versionJSON struct {
	Hostname        string              `json:"hostname"`
	Platform        string              `json:"platform"`
	Description     string              `json:"description"`
	Module          string              `json:"module"`
	Kind            string              `json:"kind"`
	Software        string              `json:"software"`
	Members         []agent.Member      `json:"members"`
	BootID          string              `json:"bootId"`
	BootTime        string              `json:"bootTime"`
	Now             string              `json:"now"`
	Uptime          agent.Seconds       `json:"uptime"`
	Level           string              `json:"level,omitempty"`
	LevelType       string              `json:"levelType,omitempty"`
	NextLevel       string              `json:"nextLevel,omitempty"`
	ConfiguredLevel string              `json:"configuredLevel,omitempty"`
	Packages        []agent.PackageInfo `json:"packages,omitempty"`
	Counted         []agent.FeatureInfo `json:"counted,omitempty"`
}

func (r *runner) showVersion(ctx context.Context, _ *call) (any, error) {
	st, err := r.status(ctx)
	if err != nil {
		return nil, err
	}
	up := max(st.Now.Sub(st.BootTime), 0)
	js := versionJSON{
		Hostname: st.Hostname, Platform: st.Platform, Description: st.Description, Module: st.Module,
		Kind: st.Kind, Software: st.Software, Members: nonNil(st.Members), BootID: st.BootID,
		BootTime: st.BootTime.UTC().Format("2006-01-02T15:04:05Z07:00"),
		Now:      st.Now.UTC().Format("2006-01-02T15:04:05Z07:00"),
		Uptime:   agent.Seconds(up.Seconds()),
	}
	p := &printer{w: r.out}
	p.printf("licensed license agent, Version %s\n", st.Software)
	p.printf("Platform: %s (%s)\n", st.Description, st.Platform)
	p.write("\n")
	p.printf("%s uptime is %s\n", st.Hostname, uptime(up))
	p.printf("System booted at %s\n", stamp(st.BootTime))
	if st.BootID != "" {
		p.printf("Boot ID: %s\n", st.BootID)
	}
	switch featureset.Kind(st.Kind) {
	case featureset.ImageLevels:
		js.Level, js.NextLevel, js.ConfiguredLevel = st.Level, st.NextLevel, st.ConfiguredLevel
		js.LevelType = levelType(st)
		p.write("\n")
		p.printf("License Level: %s\n", st.Level)
		p.printf("License Type: %s\n", js.LevelType)
		p.printf("Next reload license Level: %s\n", st.NextLevel)
	case featureset.Counted:
		for _, f := range st.Features {
			if f.Counted {
				js.Counted = append(js.Counted, f)
			}
		}
	}
	p.write("\nLicense Info:\n\nLicense UDI:\n\n")
	rule := strings.Repeat("-", 49) + "\n"
	p.write(rule)
	p.write("Device#\t  PID\t\t\tSN\n")
	p.write(rule)
	for _, m := range st.Members {
		p.printf("%s\t  %s%s\n", pad(memberMark(m), 4), pad(m.PID, 22), pad(m.SN, 16))
	}
	switch featureset.Kind(st.Kind) {
	case featureset.TechnologyPackages:
		js.Packages = nonNil(st.Packages)
		p.write("\n\n")
		p.printf("Technology Package License Information for Module:'%s'\n\n", st.Module)
		rule := strings.Repeat("-", 72) + "\n"
		p.write(rule)
		p.write(pad("Technology", 14) + pad("Technology-package", 36) + "Technology-package\n")
		p.write(strings.Repeat(" ", 14) + pad("Current", 21) + pad("Type", 15) + "Next reboot  \n")
		p.write(rule)
		for _, pk := range st.Packages {
			p.write(pad(pk.Technology, 14) + pad(pk.Current, 21) + pad(pk.Type, 15) + pk.NextReboot + "\n")
		}
	case featureset.Counted:
		p.write("\n\n")
		p.printf("Counted License Information for Module:'%s'\n\n", st.Module)
		rows := [][]string{{"Feature", "Capacity", "In-use", "Violation"}}
		for _, f := range js.Counted {
			rows = append(rows, []string{f.Name, strconv.Itoa(f.Capacity), strconv.Itoa(f.InUse), strconv.Itoa(f.Violation)})
		}
		p.write(table(rows))
	}
	return js, p.err
}

// levelType is the "License Type:" of the running image level: the type of
// the license that serves it, or Permanent for the base level, which runs
// without one.
func levelType(st *agent.Status) string {
	var fallback string
	for _, l := range byIndex(st.Licenses) {
		if l.Feature != st.Level {
			continue
		}
		switch featureset.State(l.State) {
		case featureset.InUse, featureset.ExpiredInUse, featureset.UsageCountConsumed:
			return typeDisplay(l)
		}
		if fallback == "" {
			fallback = typeDisplay(l)
		}
	}
	for _, f := range st.Features {
		if f.Name == st.Level && !f.Enforced {
			return license.Permanent.Display()
		}
	}
	if fallback != "" {
		return fallback
	}
	return "None"
}

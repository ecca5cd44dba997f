package cli

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/licensed-dev/licensed/agent"
)

// The fixed clock of every fixture.
var (
	fixedNow  = time.Date(2026, 3, 3, 10, 30, 15, 0, time.UTC)
	fixedBoot = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
)

const (
	day      = 24 * time.Hour
	evalSecs = agent.Seconds(60 * 24 * 3600)
)

func secs(d time.Duration) agent.Seconds { return agent.Seconds(d / time.Second) }

func primary(slot int) (int, string, int) { return agent.StorePrimary, agent.PrimaryStoreName, slot }
func builtIn(slot int) (int, string, int) { return agent.StoreBuiltIn, agent.BuiltInStoreName, slot }

func stores() []agent.StoreInfo {
	return []agent.StoreInfo{
		{Index: agent.StorePrimary, Name: agent.PrimaryStoreName, TotalSize: 131072, Remaining: 126976},
		{Index: agent.StoreBuiltIn, Name: agent.BuiltInStoreName, TotalSize: 65536, Remaining: 61440},
	}
}

// lic builds a LicenseInfo in a store.
func lic(index int, store func(int) (int, string, int), slot int, l agent.LicenseInfo) agent.LicenseInfo {
	l.Index = index
	l.StoreIndex, l.StoreName, l.StoreSlot = store(slot)
	if l.Version == "" {
		l.Version = "1.0"
	}
	return l
}

func commonStatus(host, platform, desc, module, kind string, members []agent.Member) *agent.Status {
	return &agent.Status{
		Hostname: host, Platform: platform, Description: desc, Module: module, Kind: kind,
		Software: "0.9.0", Members: members,
		BootID: "5d0c3c1e-7a63-4a57-9a4e-1f0c2b7d9e11", BootTime: fixedBoot, Now: fixedNow,
		EULAAccepted: true,
		Stores:       stores(),
		Statistics:   agent.Statistics{Installs: 3, InstallFailures: 1, Clears: 1, Reloads: 2, Checkpoints: 42},
		CallHome: agent.CallHomeInfo{URL: "https://portal.example.net/licensing",
			LastContact: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC), LastResult: "ok"},
		Notifications: agent.NotifySettings{Usage: true, Deployment: true, Error: true},
	}
}

// c3750eStatus is a Catalyst 3750-E running ipservices on a permanent
// license, with members switches when stack is set.
func c3750eStatus(stack bool) *agent.Status {
	members := []agent.Member{{Device: 0, PID: "WS-C3750E-24TD-S", SN: "FDO1234X0AB", Active: true, EntPhysicalIndex: 1001}}
	if stack {
		members = []agent.Member{
			{Device: 1, PID: "WS-C3750E-24TD-S", SN: "FDO1234X0AB", EntPhysicalIndex: 1001},
			{Device: 2, PID: "WS-C3750E-48PD-SF", SN: "FDO1301Y1CD", Active: true, EntPhysicalIndex: 2001},
			{Device: 3, PID: "WS-C3750E-24PD-S", SN: "FDO1412Z2EF", EntPhysicalIndex: 3001},
		}
	}
	st := commonStatus("sw1", "c3750e", "Catalyst 3750-E switch", "c3750e", "image-levels", members)
	st.Level, st.NextLevel, st.ConfiguredLevel = "ipservices", "ipservices", "ipservices"
	st.Enabled = []string{"ipbase", "ipservices"}
	used := 12*day + 3*time.Hour + 4*time.Minute + 5*time.Second
	idx := 0
	for i, m := range members {
		idx++
		st.Licenses = append(st.Licenses, lic(idx, primary, i, agent.LicenseInfo{
			EntPhysicalIndex: m.EntPhysicalIndex, ID: fmt.Sprintf("LIC-%04d", 100+i), Feature: "ipservices",
			Type: "permanent", TypeDisplay: "Permanent", State: "inUse", StateDisplay: "Active, In Use",
			UDI: m.UDI(), Addition: "exclusive", Priority: "Medium",
			Issued: time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC), PAK: "3XK7Q9M2P1A", KeyID: "portal-2026",
			Comment: map[bool]string{true: "PO 4471 rack B3"}[i == 0],
		}))
	}
	active := members[0].EntPhysicalIndex
	for _, m := range members {
		if m.Active {
			active = m.EntPhysicalIndex
		}
	}
	idx++
	st.Licenses = append(st.Licenses, lic(idx, builtIn, 0, agent.LicenseInfo{
		EntPhysicalIndex: active, ID: "eval-advipservices", Feature: "advipservices",
		Type: "evaluation", TypeDisplay: "Evaluation", State: "notInUse", StateDisplay: "Active, Not in Use, EULA accepted",
		Addition: "additive", Priority: "Low", EULARequired: true, EULAAccepted: true,
		Period: evalSecs, Remaining: evalSecs,
	}))
	idx++
	st.Licenses = append(st.Licenses, lic(idx, builtIn, 1, agent.LicenseInfo{
		EntPhysicalIndex: active, ID: "eval-ipservices", Feature: "ipservices",
		Type: "evaluation", TypeDisplay: "Evaluation", State: "notInUse", StateDisplay: "Active, Not in Use, EULA accepted",
		Addition: "additive", Priority: "Low", EULARequired: true, EULAAccepted: true, Activated: true,
		Period: evalSecs, Used: secs(used), Remaining: evalSecs - secs(used),
	}))
	st.Features = []agent.FeatureInfo{
		{Index: 1, Name: "ipbase", Version: "1.0", Description: "IP Base", Enabled: true},
		{Index: 2, Name: "ipservices", Version: "1.0", Description: "IP Services", Enforced: true, Evaluation: true, Enabled: true},
		{Index: 3, Name: "advipservices", Version: "1.0", Description: "Advanced IP Services", Enforced: true, Evaluation: true},
	}
	st.Levels = []agent.LevelInfo{
		{Level: "advipservices", Licenses: []string{"advipservices"}, Priority: 3},
		{Level: "ipservices", Licenses: []string{"ipservices", "advipservices"}, Priority: 2},
		{Level: "ipbase", Licenses: []string{"ipbase"}, Priority: 1},
	}
	return st
}

// c2900Status is an ISR G2 2911 with ipbasek9, a securityk9 evaluation in
// use and datak9 configured for the next boot.
func c2900Status() *agent.Status {
	st := commonStatus("rtr1", "c2900", "Integrated services router 2900", "c2900", "technology-packages",
		[]agent.Member{{Device: 0, PID: "CISCO2911/K9", SN: "FTX1521ABCD", Active: true, EntPhysicalIndex: 1}})
	st.ConfiguredLevel = "datak9"
	st.Enabled = []string{"ipbasek9", "securityk9"}
	used := 3*day + 4*time.Hour + 30*time.Minute
	st.Licenses = []agent.LicenseInfo{
		lic(1, primary, 0, agent.LicenseInfo{EntPhysicalIndex: 1, ID: "LIC-2001", Feature: "ipbasek9",
			Type: "permanent", TypeDisplay: "Permanent", State: "inUse", StateDisplay: "Active, In Use",
			UDI: "CISCO2911/K9:FTX1521ABCD", Addition: "exclusive", Priority: "Medium"}),
		lic(2, builtIn, 0, agent.LicenseInfo{EntPhysicalIndex: 1, ID: "eval-securityk9", Feature: "securityk9",
			Type: "evalRightToUse", TypeDisplay: "EvalRightToUse", State: "inUse", StateDisplay: "Active, In Use",
			Addition: "additive", Priority: "Low", EULARequired: true, EULAAccepted: true, Activated: true,
			Period: evalSecs, Used: secs(used), Remaining: evalSecs - secs(used)}),
		lic(3, builtIn, 1, agent.LicenseInfo{EntPhysicalIndex: 1, ID: "eval-uck9", Feature: "uck9",
			Type: "evalRightToUse", TypeDisplay: "EvalRightToUse", State: "notInUse", StateDisplay: "Active, Not in Use, EULA accepted",
			Addition: "additive", Priority: "None", EULARequired: true, EULAAccepted: true,
			Period: evalSecs, Remaining: evalSecs}),
		lic(4, primary, 1, agent.LicenseInfo{EntPhysicalIndex: 1, ID: "LIC-2002", Feature: "datak9",
			Type: "permanent", TypeDisplay: "Permanent", State: "notInUse", StateDisplay: "Active, Not in Use",
			UDI: "CISCO2911/K9:FTX1521ABCD", Addition: "exclusive", Priority: "Medium"}),
	}
	st.Features = []agent.FeatureInfo{
		{Index: 1, Name: "ipbasek9", Version: "1.0", Description: "IP Base", Enabled: true},
		{Index: 2, Name: "securityk9", Version: "1.0", Description: "Security", Enforced: true, Evaluation: true, Enabled: true, RightToUse: true},
		{Index: 3, Name: "uck9", Version: "1.0", Description: "Unified communications", Enforced: true, Evaluation: true, RightToUse: true},
		{Index: 4, Name: "datak9", Version: "1.0", Description: "Data", Enforced: true, Evaluation: true, RightToUse: true},
	}
	st.Packages = []agent.PackageInfo{
		{Technology: "ipbase", Current: "ipbasek9", Type: "Permanent", NextReboot: "ipbasek9"},
		{Technology: "security", Current: "securityk9", Type: "EvalRightToUse", NextReboot: "securityk9"},
		{Technology: "uc", Current: "None", Type: "None", NextReboot: "None"},
		{Technology: "data", Current: "None", Type: "None", NextReboot: "datak9"},
	}
	return st
}

// uc500Status is a UC500 with 16 phone units (8 built in, 8 licensed),
// an extension of 4 more, a voicemail subscription and an expired
// evaluation.
func uc500Status() *agent.Status {
	st := commonStatus("uc1", "uc500", "UC500 unified communications", "uc500", "counted",
		[]agent.Member{{Device: 0, PID: "UC560-T1E1-K9", SN: "FTX1400Z0AB", Active: true, EntPhysicalIndex: 1}})
	st.Enabled = []string{"cme", "phones", "voicemail"}
	st.Tamper = []string{"clock moved back 2h0m0s at Mar 02 2026 03:00:00 UTC"}
	st.CallHome.Pending = []string{"resend"}
	st.Licenses = []agent.LicenseInfo{
		lic(1, primary, 0, agent.LicenseInfo{EntPhysicalIndex: 1, ID: "LIC-3001", Feature: "phones",
			Type: "permanent", TypeDisplay: "Permanent", State: "inUse", StateDisplay: "Active, In Use",
			UDI: "UC560-T1E1-K9:FTX1400Z0AB", Counted: true, Count: 8, Addition: "additive", Priority: "Medium"}),
		lic(2, primary, 1, agent.LicenseInfo{EntPhysicalIndex: 1, ID: "LIC-3002", Feature: "phones",
			Type: "extension", TypeDisplay: "Extension", State: "inUse", StateDisplay: "Active, In Use",
			UDI: "UC560-T1E1-K9:FTX1400Z0AB", Counted: true, Count: 4, Addition: "additive", Priority: "Medium",
			Activated: true, Period: secs(30 * day), Used: secs(20*day + 5*time.Hour), Remaining: secs(9*day + 19*time.Hour)}),
		lic(3, primary, 2, agent.LicenseInfo{EntPhysicalIndex: 1, ID: "LIC-3003", Feature: "voicemail",
			Type: "paidSubscription", TypeDisplay: "Paid Subscription", State: "inUse", StateDisplay: "Active, In Use",
			UDI: "UC560-T1E1-K9:FTX1400Z0AB", Addition: "exclusive", Priority: "Medium",
			Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)}),
		lic(4, builtIn, 0, agent.LicenseInfo{EntPhysicalIndex: 1, ID: "eval-voicemail", Feature: "voicemail",
			Type: "evaluation", TypeDisplay: "Evaluation", State: "expiredNotInUse", StateDisplay: "Expired, Not in Use, EULA accepted",
			Addition: "additive", Priority: "None", EULARequired: true, EULAAccepted: true, Activated: true,
			Period: evalSecs, Used: evalSecs, Expired: secs(3 * day)}),
	}
	st.Features = []agent.FeatureInfo{
		{Index: 1, Name: "cme", Version: "1.0", Description: "Call manager express", Enabled: true},
		{Index: 2, Name: "phones", Version: "1.0", Description: "IP phones", Enforced: true, Enabled: true,
			Counted: true, WhatIsCounted: "IP phones", Capacity: 20, InUse: 10},
		{Index: 3, Name: "voicemail", Version: "1.0", Description: "Voice mail", Enforced: true, Evaluation: true,
			Subscription: true, Enabled: true},
	}
	return st
}

// fakeAPI is an agent.API with canned answers. It records every call.
type fakeAPI struct {
	status func() *agent.Status
	fail   error // returned by every method when set

	mu    sync.Mutex
	calls []string
}

func newFake(status func() *agent.Status) *fakeAPI { return &fakeAPI{status: status} }

func (f *fakeAPI) record(format string, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
	return f.fail
}

func (f *fakeAPI) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeAPI) feature(name string) error {
	for _, x := range f.status().Features {
		if x.Name == name {
			return nil
		}
	}
	return agent.Errorf(agent.CauseUnknownFeature, "unknown feature %q", name)
}

func (f *fakeAPI) Status(ctx context.Context) (*agent.Status, error) {
	if err := f.record("Status"); err != nil {
		return nil, err
	}
	return f.status(), nil
}

// Install reads a toy file: each line "feature NAME [existing|fail]".
func (f *fakeAPI) Install(ctx context.Context, req agent.InstallRequest) (*agent.InstallResult, error) {
	if err := f.record("Install %s %q", req.Source, req.Data); err != nil {
		return nil, err
	}
	res := &agent.InstallResult{}
	for _, line := range strings.Split(string(req.Data), "\n") {
		w := strings.Fields(line)
		if len(w) < 2 || w[0] != "feature" {
			continue
		}
		l := agent.InstallLine{Feature: w[1], ID: "LIC-" + w[1]}
		switch {
		case len(w) > 2 && w[2] == "existing":
			l.Result = "existing"
			l.Cause = agent.CauseLicenseAlreadyExists
			res.Existing++
		case len(w) > 2 && w[2] == "fail":
			l.Result = "failed"
			l.Cause = agent.CauseLicenseNotValidForDevice
			l.Detail = "locked to WS-C3750E-24TD-S:FDO0000X0ZZ"
			res.Failed++
		default:
			l.Result = "successful"
			res.Installed++
		}
		res.Lines = append(res.Lines, l)
	}
	if len(res.Lines) == 0 {
		return nil, agent.Errorf(agent.CauseInvalidLicenseFile, "%s holds no license lines", req.Source)
	}
	return res, nil
}

func (f *fakeAPI) Clear(ctx context.Context, feature string) (*agent.ClearResult, error) {
	if err := f.record("Clear %s", feature); err != nil {
		return nil, err
	}
	if err := f.feature(feature); err != nil {
		return nil, err
	}
	return &agent.ClearResult{Feature: feature, Removed: []string{"LIC-0100", "LIC-0101"}, NeedsReload: true}, nil
}

func (f *fakeAPI) SetBootLevel(ctx context.Context, level string) (*agent.BootLevelResult, error) {
	if err := f.record("SetBootLevel %s", level); err != nil {
		return nil, err
	}
	if err := f.feature(level); err != nil {
		return nil, agent.Errorf(agent.CauseUnknownLevel, "unknown boot level %q", level)
	}
	res := &agent.BootLevelResult{Configured: level, NextLevel: level, License: level}
	if level == "advipservices" || level == "uck9" {
		res.NeedsEULA = true
		res.License = "eval-" + level
	}
	return res, nil
}

func (f *fakeAPI) AcceptEULA(ctx context.Context) error { return f.record("AcceptEULA") }

func (f *fakeAPI) Comment(ctx context.Context, feature, text string) error {
	if err := f.record("Comment %s %q", feature, text); err != nil {
		return err
	}
	return f.feature(feature)
}

const savedFile = "# licensed license file, version 1\nlicense LIC-0100 ipservices 1.0 permanent WS-C3750E-24TD-S:FDO1234X0AB sig=AAAA\n"

func (f *fakeAPI) Save(ctx context.Context) ([]byte, error) {
	if err := f.record("Save"); err != nil {
		return nil, err
	}
	return []byte(savedFile), nil
}

func (f *fakeAPI) Credential(ctx context.Context) ([]byte, error) {
	if err := f.record("Credential"); err != nil {
		return nil, err
	}
	return []byte("credential WS-C3750E-24TD-S:FDO1234X0AB ed25519 AAAA\n"), nil
}

func (f *fakeAPI) Revoke(ctx context.Context, ticket []byte) (*agent.RevokeResult, error) {
	if err := f.record("Revoke %q", ticket); err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(ticket, []byte("permission")) {
		return nil, agent.Errorf(agent.CauseInvalidPermissionTicket, "permission ticket signature does not verify")
	}
	return &agent.RevokeResult{Ticket: []byte("rehost ticket for LIC-0100\n"), Revoked: []string{"LIC-0100"}, Grace: []string{"LIC-G100"}}, nil
}

func (f *fakeAPI) Reload(ctx context.Context) error { return f.record("Reload") }

func (f *fakeAPI) RunningConfig(ctx context.Context) (string, error) {
	if err := f.record("RunningConfig"); err != nil {
		return "", err
	}
	return "hostname sw1\nlicense accept end user agreement\nlicense boot level ipservices\nlicense call-home url https://portal.example.net/licensing", nil
}

func (f *fakeAPI) History(ctx context.Context, limit int) ([]agent.AuditEntry, error) {
	if err := f.record("History %d", limit); err != nil {
		return nil, err
	}
	return []agent.AuditEntry{
		{Seq: 1, Time: time.Date(2026, 2, 20, 9, 15, 0, 0, time.UTC), Actor: agent.Actor{Name: "uid:0", Source: "socket", Privilege: 15},
			Action: "install", Target: "ipservices", Result: "ok"},
		{Seq: 2, Time: time.Date(2026, 2, 21, 14, 2, 33, 0, time.UTC), Actor: agent.Actor{Name: "admin", Source: "ssh 127.0.0.1:50122", Privilege: 15},
			Action: "install", Target: "advipservices", Result: "licenseNotValidForDevice", Detail: "locked to another UDI"},
		{Seq: 3, Time: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC), Actor: agent.Actor{Name: "system", Source: "boot", Privilege: 15},
			Action: "boot", Target: "ipservices", Result: "ok"},
	}, nil
}

func (f *fakeAPI) Acquire(ctx context.Context, feature string, units int) (*agent.CountResult, error) {
	if err := f.record("Acquire %s %d", feature, units); err != nil {
		return nil, err
	}
	if err := f.feature(feature); err != nil {
		return nil, err
	}
	in := 10 + units
	return &agent.CountResult{Feature: feature, Granted: units, Capacity: 20, InUse: in, Violation: max(in-20, 0)}, nil
}

func (f *fakeAPI) Release(ctx context.Context, feature string, units int) (*agent.CountResult, error) {
	if err := f.record("Release %s %d", feature, units); err != nil {
		return nil, err
	}
	if err := f.feature(feature); err != nil {
		return nil, err
	}
	return &agent.CountResult{Feature: feature, Granted: units, Capacity: 20, InUse: max(10-units, 0)}, nil
}

func (f *fakeAPI) CallHome(ctx context.Context, req agent.CallHomeRequest) (*agent.CallHomeResult, error) {
	if err := f.record("CallHome %s pak=%s url=%s target=%s confirm=%v", req.Op, req.PAK, req.URL, req.Target, req.Confirm); err != nil {
		return nil, err
	}
	skus := []agent.SKUInfo{
		{SKU: "c3750e-ipservices", Features: []string{"ipservices"}, Type: "permanent", Remaining: 1},
		{SKU: "c3750e-advipservices", Features: []string{"advipservices"}, Type: "extension", Days: 90, Remaining: 2},
	}
	switch req.Op {
	case "show-pak":
		return &agent.CallHomeResult{SKUs: skus}, nil
	case "install-pak":
		if req.PAK == "BADPAK00000" {
			return nil, agent.Errorf(agent.CausePortalRefused, "PAK %s is not known to the portal", req.PAK)
		}
		if !req.Confirm {
			return &agent.CallHomeResult{Message: "PAK " + req.PAK + " holds 2 SKUs", SKUs: skus}, nil
		}
		return &agent.CallHomeResult{Message: "Licenses of PAK " + req.PAK + " received", Install: &agent.InstallResult{
			Lines: []agent.InstallLine{
				{Feature: "ipservices", Result: "successful"},
				{Feature: "advipservices", Result: "successful"},
			}, Installed: 2}}, nil
	case "resend":
		return &agent.CallHomeResult{Message: "2 licenses received", Install: &agent.InstallResult{
			Lines: []agent.InstallLine{
				{Feature: "ipservices", Result: "existing", Cause: agent.CauseLicenseAlreadyExists},
				{Feature: "advipservices", Result: "failed", Cause: agent.CauseLicenseNotValidForDevice},
			}, Existing: 1, Failed: 1}}, nil
	case "revoke":
		return &agent.CallHomeResult{Message: "Licenses moved to " + req.Target}, nil
	case "url":
		return &agent.CallHomeResult{}, nil
	}
	return nil, agent.Errorf(agent.CauseInvalidArgument, "unknown call-home operation %q", req.Op)
}

// memFiles is an in-memory Files.
type memFiles struct {
	mu    sync.Mutex
	files map[string][]byte
}

func newFiles(kv ...string) *memFiles {
	m := &memFiles{files: map[string][]byte{}}
	for i := 0; i+1 < len(kv); i += 2 {
		m.files[kv[i]] = []byte(kv[i+1])
	}
	return m
}

func (m *memFiles) ReadFile(name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return slices.Clone(b), nil
}

func (m *memFiles) WriteFile(name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if strings.HasPrefix(name, "ro:") {
		return fmt.Errorf("%s: read-only file system", name)
	}
	m.files[name] = slices.Clone(data)
	return nil
}

func (m *memFiles) get(name string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[name]
	return string(b), ok
}

package agent

import (
	"context"
	"time"
)

// API is what every surface may ask of the agent. *Agent implements it
// in-process; *Client implements it over the control socket. The CLI is
// written against this interface only.
type API interface {
	// Status is a consistent snapshot of everything the show commands print.
	Status(ctx context.Context) (*Status, error)
	// Install verifies and installs the licenses in one license file.
	Install(ctx context.Context, req InstallRequest) (*InstallResult, error)
	// Clear removes the installed licenses of a feature.
	Clear(ctx context.Context, feature string) (*ClearResult, error)
	// SetBootLevel records the image level (or technology package) for the
	// next boot.
	SetBootLevel(ctx context.Context, level string) (*BootLevelResult, error)
	// AcceptEULA accepts the end user agreement for all features.
	AcceptEULA(ctx context.Context) error
	// Comment adds (text != "") or deletes (text == "") the operator's
	// comment on a feature's license.
	Comment(ctx context.Context, feature, text string) error
	// Save returns a license file with every installed license (license save).
	Save(ctx context.Context) ([]byte, error)
	// Credential returns the signed device credential (license save credential).
	Credential(ctx context.Context) ([]byte, error)
	// Revoke processes a permission ticket and returns the rehost ticket.
	Revoke(ctx context.Context, ticket []byte) (*RevokeResult, error)
	// Reload re-runs the boot sequence as after a power cycle.
	Reload(ctx context.Context) error
	// RunningConfig is the effective configuration in IOS syntax.
	RunningConfig(ctx context.Context) (string, error)
	// History is the audit log, newest last, at most limit entries (0 = all).
	History(ctx context.Context, limit int) ([]AuditEntry, error)
	// Acquire and Release take and give back units of a counted feature.
	Acquire(ctx context.Context, feature string, units int) (*CountResult, error)
	Release(ctx context.Context, feature string, units int) (*CountResult, error)
	// CallHome runs a call-home operation against the licensing portal.
	CallHome(ctx context.Context, req CallHomeRequest) (*CallHomeResult, error)
}

// Privilege levels, as on IOS.
const (
	PrivRead  = 1  // show commands only
	PrivAdmin = 15 // everything
)

// Actor is who asks: a local user by uid (SO_PEERCRED) or an SSH user.
type Actor struct {
	Name      string `json:"name"`             // "uid:0", "admin"
	Source    string `json:"source,omitempty"` // "socket", "ssh 127.0.0.1:5123", "boot"
	Privilege int    `json:"privilege"`
}

type actorKey struct{}

// WithActor returns a context that carries the caller's identity. The agent
// refuses changes from contexts whose actor has less than PrivAdmin.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the caller's identity; a context without one is the
// device itself (privilege 15).
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Name: "system", Source: "local", Privilege: PrivAdmin}
}

// Status is the snapshot behind every show command, SNMP and the features file.
type Status struct {
	Hostname    string    `json:"hostname"`
	Platform    string    `json:"platform"`    // catalog id: c3750e
	Description string    `json:"description"` // catalog description
	Module      string    `json:"module"`      // module name for show version
	Kind        string    `json:"kind"`        // featureset.Kind
	Software    string    `json:"software"`    // licensed version
	Members     []Member  `json:"members"`
	BootID      string    `json:"bootId"`
	BootTime    time.Time `json:"bootTime"`
	Now         time.Time `json:"now"`
	// Level is the running image level; NextLevel what the next boot will
	// run; ConfiguredLevel what `license boot level` set ("" = none).
	Level           string         `json:"level,omitempty"`
	NextLevel       string         `json:"nextLevel,omitempty"`
	ConfiguredLevel string         `json:"configuredLevel,omitempty"`
	Packages        []PackageInfo  `json:"packages,omitempty"` // technology packages
	EULAAccepted    bool           `json:"eulaAccepted"`
	Enabled         []string       `json:"enabled"` // features running now
	Licenses        []LicenseInfo  `json:"licenses"`
	Features        []FeatureInfo  `json:"features"`
	Stores          []StoreInfo    `json:"stores"`
	Statistics      Statistics     `json:"statistics"`
	CallHome        CallHomeInfo   `json:"callHome"`
	Tamper          []string       `json:"tamper,omitempty"` // tamper findings since boot
	Notifications   NotifySettings `json:"notifications"`
	Levels          []LevelInfo    `json:"levels,omitempty"` // image-level map
}

// Member is one stack member (one UDI).
type Member struct {
	Device           int    `json:"device"` // Device# in show license udi
	PID              string `json:"pid"`
	SN               string `json:"sn"`
	Active           bool   `json:"active"`
	EntPhysicalIndex int    `json:"entPhysicalIndex"`
}

// UDI returns "PID:SN".
func (m Member) UDI() string { return m.PID + ":" + m.SN }

// PackageInfo is one row of the technology package table in show version.
type PackageInfo struct {
	Technology string `json:"technology"` // "security"
	Current    string `json:"current"`    // "securityk9" or "None"
	Type       string `json:"type"`       // "Permanent", "EvalRightToUse", "None"
	NextReboot string `json:"nextReboot"` // "securityk9" or "None"
}

// LevelInfo maps an image level to the licenses that enable it.
type LevelInfo struct {
	Level    string   `json:"level"`
	Licenses []string `json:"licenses"` // feature names, best first
	Priority int      `json:"priority"`
}

// Store indices and names, as devices show them.
const (
	StorePrimary     = 0
	StoreBuiltIn     = 1
	PrimaryStoreName = "Primary License Storage"
	BuiltInStoreName = "Built-In License Storage"
)

// LicenseInfo is one license as show license prints it.
type LicenseInfo struct {
	Index      int    `json:"index"`      // "Index N" in show license, 1-based, stable while installed
	StoreIndex int    `json:"storeIndex"` // store the license lives in
	StoreName  string `json:"storeName"`
	StoreSlot  int    `json:"storeSlot"` // position within its store (StoreIndex: in show license all)
	// EntPhysicalIndex is the stack member the license belongs to.
	EntPhysicalIndex int       `json:"entPhysicalIndex"`
	ID               string    `json:"id"`
	Feature          string    `json:"feature"`
	Version          string    `json:"version"`
	Type             string    `json:"type"`         // license.Type
	TypeDisplay      string    `json:"typeDisplay"`  // "Permanent"
	State            string    `json:"state"`        // featureset.State
	StateDisplay     string    `json:"stateDisplay"` // "Active, In Use"
	UDI              string    `json:"udi,omitempty"`
	Counted          bool      `json:"counted"`
	Count            int       `json:"count"`
	Addition         string    `json:"addition"`
	Priority         string    `json:"priority"`
	EULARequired     bool      `json:"eulaRequired"`
	EULAAccepted     bool      `json:"eulaAccepted"`
	Period           Seconds   `json:"period"`    // validity of a metered license
	Remaining        Seconds   `json:"remaining"` // metered: usage left
	Used             Seconds   `json:"used"`
	Expired          Seconds   `json:"expired"`   // time since expiry, 0 if not expired
	Activated        bool      `json:"activated"` // metered: usage has started
	Start            time.Time `json:"start,omitzero"`
	End              time.Time `json:"end,omitzero"`
	Comment          string    `json:"comment,omitempty"`
	Issued           time.Time `json:"issued,omitzero"`
	Installed        time.Time `json:"installed,omitzero"`
	PAK              string    `json:"pak,omitempty"`
	KeyID            string    `json:"keyId,omitempty"`
}

// FeatureInfo is one licensable feature (show license feature, SNMP).
type FeatureInfo struct {
	Index         int       `json:"index"` // 1-based, catalog order
	Name          string    `json:"name"`
	Version       string    `json:"version"`
	Description   string    `json:"description"`
	Enforced      bool      `json:"enforced"`   // needs a license (false for the base)
	Evaluation    bool      `json:"evaluation"` // has a built-in evaluation
	Subscription  bool      `json:"subscription"`
	Enabled       bool      `json:"enabled"`
	RightToUse    bool      `json:"rightToUse"`
	Counted       bool      `json:"counted"`
	WhatIsCounted string    `json:"whatIsCounted,omitempty"`
	Capacity      int       `json:"capacity"`
	InUse         int       `json:"inUse"`
	Violation     int       `json:"violation"`
	Remaining     Seconds   `json:"remaining"` // validity left across its metered licenses
	Used          Seconds   `json:"used"`
	Start         time.Time `json:"start,omitzero"`
	End           time.Time `json:"end,omitzero"`
}

// StoreInfo describes one license store (clmgmtLicenseStoreInfoTable).
type StoreInfo struct {
	Index     int    `json:"index"`
	Name      string `json:"name"`
	TotalSize int64  `json:"totalSize"`
	Remaining int64  `json:"remaining"`
}

// Statistics counts what the agent did since it started (show license statistics).
type Statistics struct {
	Installs        int `json:"installs"`
	InstallFailures int `json:"installFailures"`
	Clears          int `json:"clears"`
	Revokes         int `json:"revokes"`
	Reloads         int `json:"reloads"`
	Checkpoints     int `json:"checkpoints"`
	Violations      int `json:"violations"`
	TamperEvents    int `json:"tamperEvents"`
	EventsDropped   int `json:"eventsDropped"`
}

// CallHomeInfo is the state of the call-home client (show license call-home).
type CallHomeInfo struct {
	URL         string    `json:"url"`
	LastContact time.Time `json:"lastContact,omitzero"`
	LastResult  string    `json:"lastResult,omitempty"`
	Pending     []string  `json:"pending,omitempty"`
}

// NotifySettings are the notification enables of the MIB.
type NotifySettings struct {
	Usage      bool `json:"usage"`
	Deployment bool `json:"deployment"`
	Error      bool `json:"error"`
	ImageLevel bool `json:"imageLevel"`
}

// Seconds is a duration carried as whole seconds in JSON.
type Seconds int64

// Duration converts to a time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(s) * time.Second }

// InstallRequest carries one license file.
type InstallRequest struct {
	Data   []byte `json:"data"`
	Source string `json:"source"` // what the operator typed, for messages: "flash:x.lic"
}

// InstallResult is the outcome per license line, in file order.
type InstallResult struct {
	Lines     []InstallLine `json:"lines"`
	Installed int           `json:"installed"`
	Existing  int           `json:"existing"`
	Failed    int           `json:"failed"`
}

// InstallLine is the outcome of one license in a file.
type InstallLine struct {
	Feature string `json:"feature"`
	ID      string `json:"id,omitempty"`
	Result  string `json:"result"` // "successful", "existing", "failed"
	Cause   Cause  `json:"cause,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// ClearResult lists what was removed.
type ClearResult struct {
	Feature string   `json:"feature"`
	Removed []string `json:"removed"` // license IDs
	// NeedsReload is set when the feature runs until the next reload.
	NeedsReload bool `json:"needsReload"`
}

// BootLevelResult says what the next boot will run.
type BootLevelResult struct {
	Configured string `json:"configured"`
	NextLevel  string `json:"nextLevel"`
	License    string `json:"license"` // the license that will serve it, or "No valid license found"
	NeedsEULA  bool   `json:"needsEula"`
}

// RevokeResult carries the rehost ticket.
type RevokeResult struct {
	Ticket  []byte   `json:"ticket"`
	Revoked []string `json:"revoked"`
	Grace   []string `json:"grace,omitempty"` // grace licenses installed
}

// CountResult is a counted feature's state after acquire or release.
type CountResult struct {
	Feature   string `json:"feature"`
	Granted   int    `json:"granted"`
	Capacity  int    `json:"capacity"`
	InUse     int    `json:"inUse"`
	Violation int    `json:"violation"`
}

// CallHomeRequest is one call-home operation.
type CallHomeRequest struct {
	Op     string   `json:"op"` // "install-pak", "resend", "revoke", "url", "show-pak"
	PAK    string   `json:"pak,omitempty"`
	SKUs   []string `json:"skus,omitempty"`
	Qty    int      `json:"qty,omitempty"`
	URL    string   `json:"url,omitempty"`
	Target string   `json:"target,omitempty"` // revoke: target UDI
	// Confirm is false for a dry run that only shows what the PAK holds.
	Confirm bool `json:"confirm"`
}

// CallHomeResult is the outcome of a call-home operation.
type CallHomeResult struct {
	Message string         `json:"message"`
	SKUs    []SKUInfo      `json:"skus,omitempty"`
	Install *InstallResult `json:"install,omitempty"`
}

// SKUInfo describes what a PAK holds.
type SKUInfo struct {
	SKU       string   `json:"sku"`
	Features  []string `json:"features"`
	Type      string   `json:"type"`
	Count     int      `json:"count,omitempty"`
	Days      int      `json:"days,omitempty"`
	Remaining int      `json:"remaining"` // units left on a partial PAK
}

// AuditEntry is one change recorded in the audit log.
type AuditEntry struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Actor  Actor     `json:"actor"`
	Action string    `json:"action"` // "install", "clear", ...
	Target string    `json:"target"` // feature, level, ...
	Result string    `json:"result"` // "ok" or the failure cause
	Detail string    `json:"detail,omitempty"`
}

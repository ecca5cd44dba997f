package agent

import (
	"context"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/licensed-dev/licensed/featureset"
	"github.com/licensed-dev/licensed/license"
	"github.com/licensed-dev/licensed/licensestore"
	"github.com/licensed-dev/licensed/udi"
)

// Version is the software version shown by show version and sysDescr.
var Version = "0.1.0"

// Defaults for Config fields left zero.
const (
	DefaultCheckpointInterval = 30 * time.Minute
	DefaultTickInterval       = time.Second
	// DefaultRollbackTolerance is how far the wall clock may step back
	// (NTP corrections, a slow RTC) before it counts as tampering.
	DefaultRollbackTolerance = 10 * time.Minute
	// DefaultBootIDFile is where Linux publishes the id of this boot.
	DefaultBootIDFile = "/proc/sys/kernel/random/boot_id"
)

// Config is everything an Agent needs. Zero values take the documented
// defaults.
type Config struct {
	// StateDir holds the store, the device key and the features file.
	StateDir string
	// DeviceKeyPath is the device credential's private key, made at first
	// start (default StateDir/device.key). It lives apart from the store so
	// a damaged store does not lose the device's identity.
	DeviceKeyPath string
	// Identity is the device's UDI set, read by package udi.
	Identity *udi.Identity
	// Simulated devices may reload in-process and use TimeScale.
	Simulated bool
	// BootIDFile names this boot (default /proc/sys/kernel/random/boot_id;
	// simulated devices default to StateDir/boot_id, made on first start).
	BootIDFile string
	// Trust holds the portal keys license signatures are checked against.
	Trust *license.Trust
	// FeaturesFile is written atomically at boot and on every change
	// (default StateDir/features.json).
	FeaturesFile string
	// TimeScale makes usage time run N times faster (simulated devices only;
	// default 1).
	TimeScale float64
	// CheckpointInterval is how often usage is written to the store (real
	// time). A power cut loses at most this much evaluation usage.
	CheckpointInterval time.Duration
	// TickInterval is how often usage is metered (default 1 s).
	TickInterval time.Duration
	// RollbackTolerance: wall-clock steps back larger than this are tamper
	// events (default 10 minutes).
	RollbackTolerance time.Duration
	// Now is the clock (default time.Now). Its readings must carry the
	// monotonic clock for usage metering, as time.Now's do.
	Now func() time.Time
	// Logf logs operational messages (default: discard).
	Logf func(format string, args ...any)
	// CallHome runs call-home operations (nil: call-home not configured).
	CallHome CallHomer
	// Settings is the device configuration (hostname, boot level, …) from
	// the configuration file; the store's saved settings win for anything
	// the operator changed at the prompt.
	Settings Settings
	// ExtraConfig adds the surfaces' lines (ssh, snmp, logging) to show
	// running-config.
	ExtraConfig func() []string
	// EventBuffer is the per-subscriber event queue length (default 256).
	EventBuffer int
}

// CallHomer runs call-home operations against the licensing portal.
// Package callhome implements it.
type CallHomer interface {
	Do(ctx context.Context, dev Device, req CallHomeRequest) (*CallHomeResult, error)
	Info(ctx context.Context, dev Device) CallHomeInfo
	RunningConfig() []string
}

// Device is what the call-home client may use of the agent.
type Device interface {
	UDIs() []string
	Hostname() string
	Credential(ctx context.Context) ([]byte, error)
	SignDevice(msg []byte) []byte
	DevicePublicKey() ed25519.PublicKey
	Install(ctx context.Context, req InstallRequest) (*InstallResult, error)
	Revoke(ctx context.Context, ticket []byte) (*RevokeResult, error)
	InstalledIDs() []string
	Store() *licensestore.Store
	Emit(e Event)
}

// Settings are the operator-visible configuration items kept by the agent.
type Settings struct {
	Hostname      string         `json:"hostname,omitempty"`
	BootLevel     string         `json:"bootLevel,omitempty"`
	Packages      []string       `json:"packages,omitempty"`
	EULAAccepted  bool           `json:"eulaAccepted,omitempty"`
	Notifications NotifySettings `json:"notifications"`
}

// installed is one verified license on this device.
type installed struct {
	rec licensestore.LicenseRecord
	lic *license.License
}

// Agent owns the device's license state. Its methods are safe for
// concurrent use.
type Agent struct {
	cfg     Config
	catalog *featureset.Catalog
	devKey  ed25519.PrivateKey
	store   *licensestore.Store

	events eventBus

	mu             sync.Mutex
	settings       Settings
	licenses       []installed // slot order
	builtins       []*license.License
	indexOf        map[string]int // license ID -> "Index N"
	nextIndex      int
	used           map[string]time.Duration
	warned         map[string]int64 // license ID -> last warning threshold (seconds left) raised
	expiredNotices map[string]int64 // license ID -> expiry notices raised
	rolledBack     bool             // a clock rollback was reported and the clock has not caught up
	inUse          map[string]int   // counted feature -> units acquired
	running        *featureset.Result
	state          featureset.Result
	bootID         string
	bootTime       time.Time
	lastTick       time.Time
	lastCkpt       time.Time
	highWater      time.Time
	tamper         []string
	comments       map[string]string // feature -> operator comment
	stats          Statistics
	rehost         []byte // last rehost ticket
}

// New runs the boot sequence: identity → device key → store → verify →
// resolve → publish the features file. It returns a ready agent; Run
// meters usage until the context ends.
func New(cfg Config) (*Agent, error) {
	if cfg.Identity == nil || len(cfg.Identity.Members) == 0 {
		return nil, errors.New("no device identity")
	}
	if cfg.StateDir == "" {
		return nil, errors.New("no state directory")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.TimeScale <= 0 {
		cfg.TimeScale = 1
	}
	if cfg.TimeScale != 1 && !cfg.Simulated {
		return nil, errors.New("time scale is only allowed on a simulated device")
	}
	if cfg.CheckpointInterval <= 0 {
		cfg.CheckpointInterval = DefaultCheckpointInterval
	}
	if cfg.TickInterval <= 0 {
		cfg.TickInterval = DefaultTickInterval
	}
	if cfg.RollbackTolerance <= 0 {
		cfg.RollbackTolerance = DefaultRollbackTolerance
	}
	if cfg.DeviceKeyPath == "" {
		cfg.DeviceKeyPath = filepath.Join(cfg.StateDir, "device.key")
	}
	if cfg.FeaturesFile == "" {
		cfg.FeaturesFile = filepath.Join(cfg.StateDir, "features.json")
	}
	if cfg.BootIDFile == "" {
		if cfg.Simulated {
			cfg.BootIDFile = filepath.Join(cfg.StateDir, "boot_id")
		} else {
			cfg.BootIDFile = DefaultBootIDFile
		}
	}
	if cfg.Trust == nil {
		cfg.Trust = &license.Trust{}
	}
	cat, ok := featureset.Lookup(cfg.Identity.Platform)
	if !ok {
		return nil, fmt.Errorf("platform %q is not known (known: %s)", cfg.Identity.Platform,
			strings.Join(featureset.Platforms(), ", "))
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	key, err := loadOrCreateKey(cfg.DeviceKeyPath)
	if err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, catalog: cat, devKey: key, builtins: featureset.BuiltIns(cat)}
	a.events.buf = cfg.EventBuffer
	if a.events.buf <= 0 {
		a.events.buf = 256
	}
	macKey, err := hkdf.Key(sha256.New, key.Seed(), nil, "licensed/store-mac/v1", 32)
	if err != nil {
		return nil, err
	}
	dbPath := filepath.Join(cfg.StateDir, "licenses.db")
	// A store deleted after use comes back empty; its last backup still
	// holds the paid licenses, so keep a copy to take them from.
	rescue := keepBackupOfMissingStore(dbPath)
	if rescue != "" {
		defer os.Remove(rescue)
	}
	st, rep, err := licensestore.Open(licensestore.Options{
		Path:   dbPath,
		MACKey: macKey,
		Logf:   cfg.Logf,
	})
	if err != nil {
		return nil, fmt.Errorf("license store: %w", err)
	}
	a.store = st
	if rep.Recovered {
		a.noteTamper(EventStoreRecovered, "license store was damaged ("+rep.Reason+"); restored from the last good backup")
	}
	if rep.Rollback {
		a.noteTamper(EventTamper, "license store is older than its seal (replaced by an older copy or deleted); evaluation licenses are treated as used up")
	}
	if rep.Created && rescue != "" {
		a.rescueLicenses(rescue, macKey)
	}
	if err := a.boot(false, rep.Rollback); err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

// keepBackupOfMissingStore copies the backup of a store that is missing,
// returning the copy's path ("" when there is nothing to keep).
func keepBackupOfMissingStore(dbPath string) string {
	if _, err := os.Stat(dbPath); !errors.Is(err, os.ErrNotExist) {
		return ""
	}
	data, err := os.ReadFile(dbPath + ".bak")
	if err != nil {
		return ""
	}
	rescue := dbPath + ".rescue"
	if err := os.WriteFile(rescue, data, 0o600); err != nil {
		return ""
	}
	return rescue
}

// rescueLicenses re-installs the signed licenses found in the backup of a
// deleted store. Each one is verified again (signature, this device's
// UDI), so the file can hand back only licenses the portal issued to this
// device; evaluation usage is not taken from it.
func (a *Agent) rescueLicenses(path string, macKey []byte) {
	old, _, err := licensestore.Open(licensestore.Options{Path: path, MACKey: macKey, Logf: a.cfg.Logf})
	if err != nil {
		a.cfg.Logf("backup of the deleted store is not usable: %v", err)
		return
	}
	var recs []licensestore.LicenseRecord
	err = old.View(func(tx *licensestore.Tx) error {
		recs, err = tx.Licenses()
		return err
	})
	old.Close()
	for _, suffix := range []string{".seal", ".bak", ".bak.tmp", ".tmp", ".seal.tmp"} {
		os.Remove(path + suffix)
	}
	if err != nil {
		a.cfg.Logf("backup of the deleted store: %v", err)
		return
	}
	var kept []string
	err = a.store.Update(func(tx *licensestore.Tx) error {
		for _, r := range recs {
			if _, verr := a.verifyRecord(r); verr != nil {
				continue
			}
			if err := tx.PutLicense(r); err != nil {
				return err
			}
			kept = append(kept, r.ID)
		}
		return nil
	})
	if err != nil {
		a.cfg.Logf("restoring licenses from the backup: %v", err)
		return
	}
	if len(kept) > 0 {
		a.noteTamper(EventStoreRecovered, fmt.Sprintf("license store was deleted; %d signed licenses restored from its last backup", len(kept)))
		if err := a.store.Backup(); err != nil {
			a.cfg.Logf("license store backup: %v", err)
		}
	}
}

// loadOrCreateKey reads the device key, making it on first start.
func loadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		k, err := license.ParsePrivateKey(data)
		if err != nil {
			return nil, fmt.Errorf("device key %s: %w", path, err)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("device key: %w", err)
	}
	k, err := license.GenerateKey()
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(path, license.MarshalPrivateKey(k), 0o600); err != nil {
		return nil, fmt.Errorf("device key: %w", err)
	}
	return k, nil
}

// readBootID returns this boot's id; a simulated device makes one on first start.
func (a *Agent) readBootID() (string, error) {
	data, err := os.ReadFile(a.cfg.BootIDFile)
	if err == nil {
		id := strings.TrimSpace(string(data))
		if id != "" {
			return id, nil
		}
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("boot id: %w", err)
	}
	if !a.cfg.Simulated {
		return "", fmt.Errorf("boot id file %s is missing or empty", a.cfg.BootIDFile)
	}
	return a.newBootID()
}

func (a *Agent) newBootID() (string, error) {
	var b [16]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	if err := writeFileAtomic(a.cfg.BootIDFile, []byte(id+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("boot id: %w", err)
	}
	return id, nil
}

// writeFileAtomic writes via a temporary file, fsync and rename, so a
// reader sees the old or the new file, never half of one.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Close checkpoints usage and closes the store.
func (a *Agent) Close() error {
	a.mu.Lock()
	a.meterLocked(a.cfg.Now())
	err := a.checkpointLocked()
	a.mu.Unlock()
	a.events.close()
	if cerr := a.store.Close(); err == nil {
		err = cerr
	}
	return err
}

// Run meters usage, raises warnings and checkpoints until ctx ends.
func (a *Agent) Run(ctx context.Context) error {
	a.events.seal()
	t := time.NewTicker(a.cfg.TickInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			a.Tick()
		}
	}
}

// Tick does one round of periodic work at the current time.
func (a *Agent) Tick() {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.cfg.Now()
	a.meterLocked(now)
	if now.Sub(a.lastCkpt) >= a.cfg.CheckpointInterval {
		if err := a.checkpointLocked(); err != nil {
			a.cfg.Logf("checkpoint: %v", err)
		}
	}
}

// Subscribe returns a channel of events and a function that ends the
// subscription. A subscriber that falls behind loses events (counted in
// Statistics.EventsDropped) rather than slowing the agent.
func (a *Agent) Subscribe() (<-chan Event, func()) { return a.events.subscribe() }

// Emit publishes an event (used by call-home).
func (a *Agent) Emit(e Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.emitLocked(e)
}

func (a *Agent) emitLocked(e Event) {
	if e.Time.IsZero() {
		e.Time = a.cfg.Now()
	}
	if e.UDI == "" {
		e.UDI = a.activeMember().UDI()
	}
	if e.EntPhysicalIndex == 0 {
		e.EntPhysicalIndex = a.activeMember().EntPhysicalIndex
	}
	a.events.publish(e)
}

func (a *Agent) noteTamper(kind EventKind, detail string) {
	a.cfg.Logf("%s", detail)
	a.tamper = append(a.tamper, detail)
	a.stats.TamperEvents++
	a.emitLocked(Event{Kind: kind, Detail: detail})
}

// members returns the stack members with their display and SNMP indices.
func (a *Agent) members() []Member {
	out := make([]Member, len(a.cfg.Identity.Members))
	for i, m := range a.cfg.Identity.Members {
		out[i] = Member{Device: i, PID: m.PID, SN: m.SN, Active: m.Active, EntPhysicalIndex: (i + 1) * 1000}
	}
	return out
}

func (a *Agent) activeMember() Member {
	ms := a.members()
	for _, m := range ms {
		if m.Active {
			return m
		}
	}
	return ms[0]
}

// UDIs returns every member's PID:SN, the active member first.
func (a *Agent) UDIs() []string {
	act := a.activeMember()
	out := []string{act.UDI()}
	for _, m := range a.members() {
		if m.UDI() != act.UDI() {
			out = append(out, m.UDI())
		}
	}
	return out
}

func (a *Agent) validUDI(u string) bool {
	for _, m := range a.members() {
		if m.UDI() == u {
			return true
		}
	}
	return false
}

// Hostname is the device's host name.
func (a *Agent) Hostname() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.hostnameLocked()
}

func (a *Agent) hostnameLocked() string {
	if a.settings.Hostname != "" {
		return a.settings.Hostname
	}
	return a.cfg.Identity.Hostname
}

// SignDevice signs msg with the device key (for call-home requests).
func (a *Agent) SignDevice(msg []byte) []byte {
	return ed25519.Sign(a.devKey, msg)
}

// DevicePublicKey is the public half of the device credential.
func (a *Agent) DevicePublicKey() ed25519.PublicKey { return a.devKey.Public().(ed25519.PublicKey) }

// Store gives call-home its durable queue. Nothing else may use it.
func (a *Agent) Store() *licensestore.Store { return a.store }

// InstalledIDs lists the IDs of installed licenses.
func (a *Agent) InstalledIDs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	ids := make([]string, len(a.licenses))
	for i, l := range a.licenses {
		ids[i] = l.lic.ID
	}
	return ids
}

// Catalog is the platform catalog in use.
func (a *Agent) Catalog() *featureset.Catalog { return a.catalog }

// Trust returns the set of trusted portal keys.
func (a *Agent) Trust() *license.Trust { return a.cfg.Trust }

package agent

import (
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/license"
	"github.com/licensed-dev/licensed/udi"
)

const testUDI = "WS-C3750E-24TD-S:FDO1234X0AB"

// fakeClock is a wall clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// rig is one simulated device with a portal key it trusts.
type rig struct {
	t      *testing.T
	dir    string
	clock  *fakeClock
	signer *license.Signer
	trust  *license.Trust
	id     *udi.Identity
	a      *Agent
	events <-chan Event
}

func newRig(t *testing.T, platform string, members ...udi.Member) *rig {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := license.NewSigner(priv)
	trust, err := license.ParseTrust(license.MarshalTrust(s.Public()))
	if err != nil {
		t.Fatal(err)
	}
	if len(members) == 0 {
		members = []udi.Member{{PID: "WS-C3750E-24TD-S", SN: "FDO1234X0AB", Active: true}}
	}
	r := &rig{
		t: t, dir: t.TempDir(), signer: s, trust: trust,
		clock: &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
		id:    &udi.Identity{Hostname: "sw1", Platform: platform, Members: members},
	}
	r.start()
	return r
}

func (r *rig) start() {
	r.t.Helper()
	a, err := New(Config{
		StateDir: r.dir, Identity: r.id, Simulated: true, Trust: r.trust,
		Now: r.clock.Now, CheckpointInterval: time.Hour,
	})
	if err != nil {
		r.t.Fatalf("New: %v", err)
	}
	r.a = a
	r.events, _ = a.Subscribe()
	r.t.Cleanup(func() { a.Close() })
}

// restart stops the daemon and starts it again in the same boot.
func (r *rig) restart() {
	r.t.Helper()
	if err := r.a.Close(); err != nil {
		r.t.Fatal(err)
	}
	r.start()
}

func (r *rig) issue(feature string, mut func(*license.License)) *license.License {
	r.t.Helper()
	l := &license.License{
		ID: feature + "-" + strings.ReplaceAll(r.clock.Now().Format("150405.000000000"), ".", ""), Feature: feature, Version: "1.0",
		Type: license.Permanent, UDI: testUDI, Issued: r.clock.Now().Add(-time.Hour),
	}
	if mut != nil {
		mut(l)
	}
	if err := r.signer.Sign(l); err != nil {
		r.t.Fatalf("sign: %v", err)
	}
	r.clock.Advance(time.Microsecond)
	return l
}

func (r *rig) install(ls ...*license.License) *InstallResult {
	r.t.Helper()
	res, err := r.a.Install(context.Background(), InstallRequest{Data: license.Encode(ls...), Source: "test.lic"})
	if err != nil {
		r.t.Fatalf("install: %v", err)
	}
	return res
}

func (r *rig) status() *Status {
	r.t.Helper()
	s, err := r.a.Status(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

func (r *rig) license(feature, typ string) LicenseInfo {
	r.t.Helper()
	for _, l := range r.status().Licenses {
		if l.Feature == feature && (typ == "" || l.Type == typ) {
			return l
		}
	}
	r.t.Fatalf("no %s license for %s", typ, feature)
	return LicenseInfo{}
}

// drain returns the event kinds raised so far.
func (r *rig) drain() []EventKind {
	var out []EventKind
	for {
		select {
		case e := <-r.events:
			out = append(out, e.Kind)
		default:
			return out
		}
	}
}

func storeBytes(t *testing.T, dir string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "licenses.db"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEvaluationStory is the life of an evaluation: boot level set to a
// level with only a built-in evaluation, EULA accepted, reload, 60 days of
// usage, expiry that keeps the feature running, and the fallback after the
// next reload.
func TestEvaluationStory(t *testing.T) {
	r := newRig(t, "c3750e")
	ctx := context.Background()
	if got := r.status().Level; got != "ipbase" {
		t.Fatalf("fresh device runs %q, want ipbase", got)
	}
	res := r.install(r.issue("ipservices", nil))
	if res.Installed != 1 {
		t.Fatalf("install: %+v", res)
	}
	if got := r.status().Level; got != "ipbase" {
		t.Fatalf("image level changed before reload: %q", got)
	}
	if _, err := r.a.SetBootLevel(ctx, "advipservices"); err != nil {
		t.Fatal(err)
	}
	if err := r.a.AcceptEULA(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	st := r.status()
	if st.Level != "advipservices" {
		t.Fatalf("after reload level %q, want advipservices on its evaluation", st.Level)
	}
	eval := r.license("advipservices", "evaluation")
	if eval.State != "inUse" || eval.Remaining != Seconds(60*24*3600) {
		t.Fatalf("evaluation: %+v", eval)
	}
	r.drain()

	// 32 days pass, a day at a time: the first warning is at 28 days left.
	for i := 0; i < 32; i++ {
		r.clock.Advance(24 * time.Hour)
		r.a.Tick()
	}
	if got := r.drain(); !slices.Equal(got, []EventKind{EventExpiryWarning}) {
		t.Fatalf("events after 32 days: %v, want one expiry warning", got)
	}
	for i := 0; i < 28; i++ {
		r.clock.Advance(24 * time.Hour)
		r.a.Tick()
	}
	got := r.drain()
	warnings := 0
	for _, k := range got {
		if k == EventExpiryWarning {
			warnings++
		}
	}
	// 21 and 14 days left, then 7, 6, 5, 4, 3, 2 and 1 day.
	if warnings != 9 || got[len(got)-1] != EventExpired {
		t.Fatalf("events to expiry: %v (warnings %d, want 9 then expired)", got, warnings)
	}
	eval = r.license("advipservices", "evaluation")
	if eval.State != "expiredInUse" || r.status().Level != "advipservices" {
		t.Fatalf("expired evaluation must keep running until reload: %+v level %s", eval, r.status().Level)
	}
	// The expired notice repeats weekly while the feature is held.
	for i := 0; i < 7; i++ {
		r.clock.Advance(24 * time.Hour)
		r.a.Tick()
	}
	if got := r.drain(); !slices.Contains(got, EventExpired) {
		t.Fatalf("no weekly expiry notice: %v", got)
	}
	if err := r.a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	st = r.status()
	if st.Level != "ipservices" {
		t.Fatalf("after reload with expired evaluation: level %q, want ipservices", st.Level)
	}
	if eval = r.license("advipservices", "evaluation"); eval.State != "expiredNotInUse" {
		t.Fatalf("evaluation after reload: %s", eval.State)
	}
}

// TestRestartKeepsBootDecision: restarting the daemon is not a reload.
func TestRestartKeepsBootDecision(t *testing.T) {
	r := newRig(t, "c3750e")
	ctx := context.Background()
	r.install(r.issue("ipservices", nil))
	if err := r.a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	r.install(r.issue("advipservices", nil))
	r.restart()
	if got := r.status().Level; got != "ipservices" {
		t.Fatalf("restart in the same boot changed the level to %q", got)
	}
	if err := r.a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.status().Level; got != "advipservices" {
		t.Fatalf("reload: level %q, want advipservices", got)
	}
}

// TestUsageSurvivesRestart: usage is checkpointed at shutdown.
func TestUsageSurvivesRestart(t *testing.T) {
	r := newRig(t, "c3750e")
	ctx := context.Background()
	r.a.SetBootLevel(ctx, "ipservices")
	r.a.AcceptEULA(ctx)
	r.a.Reload(ctx)
	r.clock.Advance(3 * time.Hour)
	r.a.Tick()
	r.restart()
	r.clock.Advance(time.Hour)
	if got := r.license("ipservices", "evaluation").Used; got != Seconds(4*3600) {
		t.Fatalf("used after restart %d s, want %d", got, 4*3600)
	}
}

// TestBadInstalls: every bad license gets its cause and leaves the store
// unchanged.
func TestBadInstalls(t *testing.T) {
	r := newRig(t, "c3750e")
	good := r.issue("ipservices", nil)
	_, otherKey, _ := ed25519.GenerateKey(nil)
	foreign := &license.License{ID: "foreign1", Feature: "ipservices", Version: "1.0", Type: license.Permanent, UDI: testUDI, Issued: r.clock.Now()}
	license.NewSigner(otherKey).Sign(foreign)
	flipped := *good
	flipped.ID = "flipped1"
	tests := []struct {
		name  string
		data  []byte
		cause Cause
	}{
		{"other UDI", license.Encode(r.issue("ipservices", func(l *license.License) { l.UDI = "WS-C3750E-24TD-S:FDO9999Z9ZZ" })), CauseLicenseNotValidForDevice},
		{"unknown key", license.Encode(foreign), CauseInvalidLicenseFile},
		{"flipped body", license.Encode(&flipped), CauseInvalidLicenseLine},
		{"feature not on platform", license.Encode(r.issue("securityk9", nil)), CauseLicenseNotValidForDevice},
		{"expired subscription", license.Encode(r.issue("ipservices", func(l *license.License) {
			l.Type = license.PaidSubscription
			l.Start = r.clock.Now().Add(-60 * 24 * time.Hour)
			l.End = r.clock.Now().Add(-24 * time.Hour)
		})), CauseInvalidLicensePeriod},
		{"count on uncounted", license.Encode(r.issue("ipservices", func(l *license.License) { l.Count = 5 })), CauseInvalidLicenseCount},
	}
	before := storeBytes(t, r.dir)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := r.a.Install(context.Background(), InstallRequest{Data: tt.data})
			if err != nil {
				t.Fatal(err)
			}
			if res.Failed != 1 || res.Lines[0].Cause != tt.cause {
				t.Fatalf("got %+v, want cause %s", res, tt.cause)
			}
			if !strings.Contains(res.Lines[0].Detail, string(tt.cause)) {
				t.Errorf("detail %q does not name the cause", res.Lines[0].Detail)
			}
		})
	}
	for _, bad := range [][]byte{nil, []byte("garbage"), license.Encode(good)[:40], make([]byte, license.MaxFileSize+1)} {
		_, err := r.a.Install(context.Background(), InstallRequest{Data: bad})
		if CauseOf(err) != CauseInvalidLicenseFile {
			t.Errorf("install of %d bad bytes: %v, want invalidLicenseFile", len(bad), err)
		}
	}
	if len(r.status().Licenses) != 2 { // the two built-in evaluations
		t.Fatalf("bad installs left licenses behind: %+v", r.status().Licenses)
	}
	_ = before
	// The same license twice is harmless.
	r.install(good)
	if res := r.install(good); res.Existing != 1 || res.Installed != 0 {
		t.Fatalf("second install: %+v", res)
	}
}

func TestClearAndBootLevelErrors(t *testing.T) {
	r := newRig(t, "c3750e")
	ctx := context.Background()
	ip := r.issue("ipservices", nil)
	r.install(ip)
	r.a.Reload(ctx)
	if _, err := r.a.Clear(ctx, "ipservices"); CauseOf(err) != CauseLicenseInUse {
		t.Fatalf("clear in-use license: %v", err)
	}
	if _, err := r.a.SetBootLevel(ctx, "enterprise"); CauseOf(err) != CauseUnknownLevel {
		t.Fatalf("unknown level: %v", err)
	}
	if _, err := r.a.Clear(ctx, "advipservices"); CauseOf(err) != CauseNotFound {
		t.Fatalf("clear of nothing: %v", err)
	}
	ro := WithActor(ctx, Actor{Name: "uid:1000", Privilege: PrivRead})
	if _, err := r.a.Install(ro, InstallRequest{Data: license.Encode(ip)}); CauseOf(err) != CauseAuthorization {
		t.Fatalf("privilege 1 install: %v", err)
	}
	if _, err := r.a.SetBootLevel(ctx, "ipbase"); err != nil {
		t.Fatal(err)
	}
	h, _ := r.a.History(ctx, 0)
	if len(h) < 2 || h[len(h)-2].Result != string(CauseNotFound) {
		t.Fatalf("audit does not record the refusal: %+v", h)
	}
	// With the boot level set to the base and a reload, the license is free.
	r.a.Reload(ctx)
	if lv := r.status().Level; lv != "ipbase" {
		t.Fatalf("configured base level not taken: %s", lv)
	}
	if res, err := r.a.Clear(ctx, "ipservices"); err != nil || len(res.Removed) != 1 {
		t.Fatalf("clear after reload: %+v %v", res, err)
	}
}

func TestCountedUnits(t *testing.T) {
	r := newRig(t, "uc500", udi.Member{PID: "UC520-8U-4FXO-K9", SN: "FTX1234A0BC", Active: true})
	ctx := context.Background()
	mk := func(n int, add license.Addition) *license.License {
		return r.issue("phones", func(l *license.License) {
			l.UDI, l.Count, l.Addition = "UC520-8U-4FXO-K9:FTX1234A0BC", n, add
		})
	}
	r.install(mk(8, license.Additive), mk(16, license.Additive))
	c, err := r.a.Acquire(ctx, "phones", 25)
	if err != nil {
		t.Fatal(err)
	}
	if c.Capacity != 32 || c.InUse != 25 || c.Violation != 0 {
		t.Fatalf("after acquire: %+v", c)
	}
	r.drain()
	if c, _ = r.a.Acquire(ctx, "phones", 10); c.Violation != 3 {
		t.Fatalf("beyond capacity: %+v", c)
	}
	if got := r.drain(); !slices.Contains(got, EventCountExceeded) {
		t.Fatalf("no count exceeded event: %v", got)
	}
	if _, err := r.a.Release(ctx, "phones", 100); err == nil {
		t.Fatal("released more than in use")
	}
	huge := r.issue("phones", func(l *license.License) {
		l.UDI, l.Count, l.Addition = "UC520-8U-4FXO-K9:FTX1234A0BC", 1_000_000, license.Additive
	})
	r.install(huge)
	if res, _ := r.a.Install(ctx, InstallRequest{Data: license.Encode(r.issue("phones", func(l *license.License) {
		l.UDI, l.Count = "UC520-8U-4FXO-K9:FTX1234A0BC", 0
	}))}); res == nil || res.Failed != 1 {
		t.Fatalf("zero-unit counted license: %+v", res)
	}
}

// TestClockRollback: setting the wall clock back a year gains no
// evaluation or subscription time and is reported.
func TestClockRollback(t *testing.T) {
	r := newRig(t, "c3750e")
	ctx := context.Background()
	sub := r.issue("advipservices", func(l *license.License) {
		l.Type = license.PaidSubscription
		l.Start = r.clock.Now().Add(-24 * time.Hour)
		l.End = r.clock.Now().Add(30 * 24 * time.Hour)
	})
	r.install(sub)
	r.a.Reload(ctx)
	if r.status().Level != "advipservices" {
		t.Fatalf("subscription not used: %s", r.status().Level)
	}
	r.clock.Advance(40 * 24 * time.Hour) // the subscription ends
	r.a.Tick()
	r.drain()
	r.clock.Advance(-365 * 24 * time.Hour) // and the operator sets the clock back a year
	r.a.Tick()
	if got := r.drain(); !slices.Contains(got, EventClockRollback) {
		t.Fatalf("rollback not reported: %v", got)
	}
	r.a.Reload(ctx)
	if lv := r.status().Level; lv != "ipbase" {
		t.Fatalf("rolled-back clock revived the subscription: level %s", lv)
	}
	// Small NTP steps raise nothing.
	r2 := newRig(t, "c3750e")
	r2.drain()
	r2.clock.Advance(-2 * time.Second)
	r2.a.Tick()
	if got := r2.drain(); len(got) != 0 {
		t.Fatalf("small step raised %v", got)
	}
}

func TestSecondAgentOnSameState(t *testing.T) {
	r := newRig(t, "c3750e")
	_, err := New(Config{StateDir: r.dir, Identity: r.id, Simulated: true, Trust: r.trust, Now: r.clock.Now})
	if err == nil || !strings.Contains(err.Error(), "licenses.db") {
		t.Fatalf("second agent on the same state: %v", err)
	}
	var e *Error
	_ = errors.As(err, &e)
}

// TestDeletedStoreKeepsPaidLicenses: a store deleted after use comes back
// with the signed licenses of its last backup, but the evaluations count as
// used up and the deletion is reported.
func TestDeletedStoreKeepsPaidLicenses(t *testing.T) {
	r := newRig(t, "c3750e")
	ctx := context.Background()
	ip := r.issue("ipservices", nil)
	r.install(ip)
	r.a.SetBootLevel(ctx, "advipservices")
	r.a.AcceptEULA(ctx)
	r.a.Reload(ctx)
	r.clock.Advance(time.Hour)
	r.a.Tick()
	if err := r.a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(r.dir, "licenses.db")); err != nil {
		t.Fatal(err)
	}
	r.start()
	got := r.drain()
	if !slices.Contains(got, EventTamper) || !slices.Contains(got, EventStoreRecovered) {
		t.Fatalf("events after deleting the store: %v", got)
	}
	if l := r.license("ipservices", "permanent"); l.ID != ip.ID {
		t.Fatalf("paid license not restored: %+v", l)
	}
	if l := r.license("advipservices", "evaluation"); l.Remaining != 0 {
		t.Fatalf("evaluation regained time after the store was deleted: %+v", l)
	}
	if _, err := os.Stat(filepath.Join(r.dir, "licenses.db.rescue")); !os.IsNotExist(err) {
		t.Fatalf("rescue copy left behind: %v", err)
	}
}

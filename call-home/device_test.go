package callhome

import (
	"context"
	"crypto/ed25519"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/agent"
	"github.com/licensed-dev/licensed/license"
	"github.com/licensed-dev/licensed/licensestore"
)

// fakeDevice is an agent.Device with a real store and real checks: it
// installs only licenses that verify against its trust and are locked to
// one of its UDIs, and processes permission tickets as the agent does.
type fakeDevice struct {
	t     testing.TB
	udis  []string
	key   ed25519.PrivateKey
	trust *license.Trust
	store *licensestore.Store
	now   func() time.Time

	mu        sync.Mutex
	installed map[string]*license.License
	installs  int // licenses installed (not counting existing ones)
	events    []agent.Event
	// failInstall makes Install fail with this error.
	failInstall error
}

func newFakeDevice(t testing.TB, trust *license.Trust, udis ...string) *fakeDevice {
	t.Helper()
	k, err := license.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	d := &fakeDevice{t: t, udis: udis, key: k, trust: trust, now: time.Now, installed: map[string]*license.License{}}
	d.store = openStore(t, filepath.Join(t.TempDir(), "licenses.db"))
	t.Cleanup(func() { d.store.Close() })
	return d
}

func openStore(t testing.TB, path string) *licensestore.Store {
	t.Helper()
	st, _, err := licensestore.Open(licensestore.Options{Path: path, MACKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (d *fakeDevice) UDIs() []string   { return slices.Clone(d.udis) }
func (d *fakeDevice) Hostname() string { return "fake" }

func (d *fakeDevice) Credential(context.Context) ([]byte, error) {
	c, err := license.NewCredential(d.udis, "fake", d.key, d.now())
	if err != nil {
		return nil, err
	}
	return c.Encode(), nil
}

func (d *fakeDevice) SignDevice(msg []byte) []byte       { return ed25519.Sign(d.key, msg) }
func (d *fakeDevice) DevicePublicKey() ed25519.PublicKey { return d.key.Public().(ed25519.PublicKey) }
func (d *fakeDevice) Store() *licensestore.Store         { return d.store }

func (d *fakeDevice) Emit(e agent.Event) {
	d.mu.Lock()
	d.events = append(d.events, e)
	d.mu.Unlock()
}

func (d *fakeDevice) Install(ctx context.Context, req agent.InstallRequest) (*agent.InstallResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failInstall != nil {
		return nil, d.failInstall
	}
	ls, err := license.Parse(req.Data)
	if err != nil {
		return nil, agent.Errorf(agent.CauseInvalidLicenseFile, "invalidLicenseFile: %v", err)
	}
	res := &agent.InstallResult{}
	for _, l := range ls {
		line := agent.InstallLine{Feature: l.Feature, ID: l.ID}
		switch {
		case d.trust.Verify(l) != nil:
			line.Result, line.Cause = "failed", agent.CauseInvalidLicenseLine
			res.Failed++
		case !slices.Contains(d.udis, l.UDI):
			line.Result, line.Cause = "failed", agent.CauseLicenseNotValidForDevice
			res.Failed++
		case d.installed[l.ID] != nil:
			line.Result, line.Cause = "existing", agent.CauseLicenseAlreadyExists
			res.Existing++
		default:
			line.Result = "successful"
			d.installed[l.ID] = l
			d.installs++
			res.Installed++
		}
		res.Lines = append(res.Lines, line)
	}
	return res, nil
}

// Revoke processes a permission ticket as the agent does and keeps the
// rehost ticket where the agent keeps it.
func (d *fakeDevice) Revoke(ctx context.Context, ticket []byte) (*agent.RevokeResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p, err := license.ParsePermissionTicket(ticket)
	if err != nil {
		return nil, agent.Errorf(agent.CauseInvalidPermissionTicket, "invalidPermissionTicket: %v", err)
	}
	if err := d.trust.VerifyTicket(p); err != nil {
		return nil, agent.Errorf(agent.CauseInvalidPermissionTicket, "invalidPermissionTicket: %v", err)
	}
	if !slices.Contains(d.udis, p.UDI) {
		return nil, agent.Errorf(agent.CauseInvalidPermissionTicket, "invalidPermissionTicket: not for this device")
	}
	for _, id := range p.LicenseIDs {
		if d.installed[id] == nil {
			return nil, agent.Errorf(agent.CauseInvalidPermissionTicket, "invalidPermissionTicket: license %s is not installed", id)
		}
	}
	rt, err := license.NewRehostTicket(p, p.LicenseIDs, d.key, d.now())
	if err != nil {
		return nil, err
	}
	out := rt.Encode()
	for _, id := range p.LicenseIDs {
		delete(d.installed, id)
	}
	res := &agent.RevokeResult{Ticket: out, Revoked: p.LicenseIDs}
	for _, g := range p.Grace {
		d.installed[g.ID] = g
		res.Grace = append(res.Grace, g.ID)
	}
	err = d.store.Update(func(tx *licensestore.Tx) error { return tx.Put(keyRehost, out) })
	return res, err
}

func (d *fakeDevice) InstalledIDs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var ids []string
	for id := range d.installed {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// features lists the installed licenses as "feature/type/count".
func (d *fakeDevice) features() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, l := range d.installed {
		s := l.Feature + "/" + string(l.Type)
		if l.Count > 0 {
			s += "/" + strconv.Itoa(l.Count)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func (d *fakeDevice) forget() {
	d.mu.Lock()
	clear(d.installed)
	d.mu.Unlock()
}

var _ agent.Device = (*fakeDevice)(nil)

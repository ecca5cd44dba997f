package portal_test

// Black-box stories: the real licportal, several real licensed daemons
// (simulated devices) and the real licensectl, on loopback.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	binDir    string
	buildOnce sync.Once
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// bin builds licensed, licensectl and licportal once per test run and
// returns the path of one of them. A tree that does not build fails the
// test: these stories are the acceptance test of call-home.
func bin(t *testing.T, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "licensed-e2e-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir+string(os.PathSeparator), "./cmd/licensed", "./cmd/licensectl", "./cmd/licportal")
		cmd.Dir = ".."
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building the binaries for the black-box stories failed:\n%v", buildErr)
	}
	return filepath.Join(binDir, name)
}

// syncBuffer collects a process's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// licportal runs one admin command and returns its output.
func licportal(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin(t, "licportal"), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errOut.String()
	} else if err != nil {
		t.Fatalf("licportal %v: %v", args, err)
	}
	return 0, out.String(), errOut.String()
}

func mustPortal(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := licportal(t, args...)
	if code != 0 {
		t.Fatalf("licportal %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// portalProc is a running licportal serve.
type portalProc struct {
	dir  string
	addr string
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{}
}

var serving = regexp.MustCompile(`serving call-home on https://(\S+) `)

// startPortal starts licportal serve; owner stops it at its end.
func startPortal(t, owner *testing.T, dir, addr string) *portalProc {
	t.Helper()
	p := &portalProc{dir: dir, log: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin(t, "licportal"), "serve", "--state-dir", dir, "--listen", addr)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	owner.Cleanup(p.stop)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if m := serving.FindStringSubmatch(p.log.String()); m != nil {
			p.addr = m[1]
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("licportal serve exited:\n%s", p.log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("licportal serve did not start:\n%s", p.log)
		}
	}
}

func (p *portalProc) url() string { return "https://" + p.addr }

func (p *portalProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// device is a simulated device: a licensed process and its files.
type device struct {
	t        *testing.T
	name     string
	udi      string
	dir      string
	socket   string
	identity string
	url, ca  string
	trust    string
	cmd      *exec.Cmd
	log      *syncBuffer
	done     chan struct{}
}

func newDevice(t *testing.T, name, pid, sn string, p *portalProc) *device {
	t.Helper()
	dir := t.TempDir()
	d := &device{t: t, name: name, udi: pid + ":" + sn, dir: dir, socket: filepath.Join(dir, "licensed.sock"),
		identity: filepath.Join(dir, "identity.json"), url: p.url(), ca: filepath.Join(p.dir, "ca.pem"), trust: filepath.Join(p.dir, "trust.pem")}
	id := fmt.Sprintf(`{"hostname":%q,"platform":"c3750e","members":[{"pid":%q,"sn":%q}]}`, name, pid, sn)
	if err := os.WriteFile(d.identity, []byte(id), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "boot_id"), []byte("boot-1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.stop)
	d.start(t)
	return d
}

// start runs licensed; t is the test asking, which fails if it cannot.
func (d *device) start(t *testing.T) {
	t.Helper()
	d.log, d.done = &syncBuffer{}, make(chan struct{})
	d.cmd = exec.Command(bin(t, "licensed"), "--identity", d.identity, "--state-dir", filepath.Join(d.dir, "state"),
		"--socket", d.socket, "--trust", d.trust, "--portal", d.url, "--portal-ca", d.ca,
		"--boot-id-file", filepath.Join(d.dir, "boot_id"))
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := d.done
	go func() { d.cmd.Wait(); close(done) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if code, _, _ := d.run(t, "show", "version"); code == 0 {
			return
		}
		select {
		case <-done:
			t.Fatalf("licensed %s exited:\n%s", d.name, d.log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("licensed %s did not start:\n%s", d.name, d.log)
		}
	}
}

func (d *device) stop() {
	select {
	case <-d.done:
		return
	default:
	}
	d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
	}
}

// run runs licensectl against the device.
func (d *device) run(t *testing.T, words ...string) (code int, stdout, stderr string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin(t, "licensectl"), append([]string{"--socket", d.socket}, words...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errOut.String()
	} else if err != nil {
		t.Fatalf("licensectl: %v", err)
	}
	return 0, out.String(), errOut.String()
}

func (d *device) ok(t *testing.T, words ...string) string {
	t.Helper()
	code, out, errOut := d.run(t, words...)
	if code != 0 {
		t.Fatalf("%s: licensectl %s: exit %d\nstdout: %s\nstderr: %s\nlicensed log:\n%s", d.name, strings.Join(words, " "), code, out, errOut, d.log)
	}
	return out
}

// fails runs a command that must fail with exit 1 and returns its output.
func (d *device) fails(t *testing.T, words ...string) string {
	t.Helper()
	code, out, errOut := d.run(t, words...)
	if code != 1 {
		t.Fatalf("%s: licensectl %s: exit %d; want 1\nstdout: %s\nstderr: %s", d.name, strings.Join(words, " "), code, out, errOut)
	}
	return out + errOut
}

type licenseJSON struct {
	ID      string `json:"id"`
	Feature string `json:"feature"`
	Type    string `json:"type"`
	PAK     string `json:"pak"`
	UDI     string `json:"udi"`
}

// licenses lists the device's installed licenses (built-ins excluded).
func (d *device) licenses(t *testing.T) []licenseJSON {
	t.Helper()
	var v struct {
		Licenses []licenseJSON `json:"licenses"`
	}
	if err := json.Unmarshal([]byte(d.ok(t, "--json", "show", "license")), &v); err != nil {
		t.Fatal(err)
	}
	var out []licenseJSON
	for _, l := range v.Licenses {
		if !strings.HasPrefix(l.ID, "builtin:") {
			out = append(out, l)
		}
	}
	return out
}

func (d *device) has(t *testing.T, feature, typ string) bool {
	t.Helper()
	for _, l := range d.licenses(t) {
		if l.Feature == feature && l.Type == typ {
			return true
		}
	}
	return false
}

func (d *device) level(t *testing.T) string {
	t.Helper()
	var v struct {
		Level string `json:"level"`
	}
	if err := json.Unmarshal([]byte(d.ok(t, "--json", "show", "version")), &v); err != nil {
		t.Fatal(err)
	}
	return v.Level
}

type callHomeJSON struct {
	CallHome struct {
		URL         string   `json:"url"`
		LastContact string   `json:"lastContact"`
		LastResult  string   `json:"lastResult"`
		Pending     []string `json:"pending"`
	} `json:"callHome"`
}

func (d *device) callHome(t *testing.T) callHomeJSON {
	t.Helper()
	var v callHomeJSON
	if err := json.Unmarshal([]byte(d.ok(t, "--json", "show", "license", "call-home")), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func pak(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out := strings.TrimSpace(mustPortal(t, append([]string{"pak", "create", "--state-dir", dir}, args...)...))
	if len(out) != 11 {
		t.Fatalf("pak create printed %q", out)
	}
	return out
}

func TestStories(t *testing.T) {
	if testing.Short() {
		t.Skip("black-box stories start real processes; not in -short")
	}
	pdir := filepath.Join(t.TempDir(), "portal")
	mustPortal(t, "init", "--state-dir", pdir)
	portal := startPortal(t, t, pdir, "127.0.0.1:0")
	top := t
	pid := "WS-C3750E-24TD-S"
	sw1 := newDevice(t, "sw1", pid, "FDO1111A0AA", portal)
	sw2 := newDevice(t, "sw2", pid, "FDO2222A0AA", portal)
	sw3 := newDevice(t, "sw3", pid, "FDO3333A0AA", portal)

	t.Run("1 PAK redeemed by call-home, active after reload", func(t *testing.T) {
		p := pak(t, pdir, "--sku", "c3750e-ipservices")
		// Without --yes the SKUs are shown and nothing is installed.
		out := sw1.fails(t, "license", "call-home", "install", "pak", p)
		if !strings.Contains(out, "c3750e-ipservices") || !strings.Contains(out, "--yes") || len(sw1.licenses(t)) != 0 {
			t.Fatalf("install without --yes:\n%s", out)
		}
		out = sw1.ok(t, "license", "call-home", "install", "pak", p, "--yes")
		if !strings.Contains(out, "Feature:ipservices...Successful") {
			t.Fatalf("install:\n%s", out)
		}
		if lv := sw1.level(t); lv != "ipbase" {
			t.Fatalf("level %q before the reload; the image level changes at a reload", lv)
		}
		sw1.ok(t, "reload")
		if lv := sw1.level(t); lv != "ipservices" {
			t.Fatalf("level after reload %q; want ipservices", lv)
		}
		ch := sw1.callHome(t)
		if ch.CallHome.URL != portal.url() || ch.CallHome.LastContact == "" || len(ch.CallHome.Pending) != 0 {
			t.Fatalf("show license call-home: %+v", ch)
		}
	})

	var partial string
	t.Run("2 partial-fulfilment PAK across three devices, a fourth refused", func(t *testing.T) {
		partial = pak(t, pdir, "--sku", "c3750e-advipservices", "--qty", "3")
		for _, d := range []*device{sw1, sw2, sw3} {
			out := d.ok(t, "license", "call-home", "install", "pak", partial, "--yes")
			if !strings.Contains(out, "Feature:advipservices...Successful") {
				t.Fatalf("%s:\n%s", d.name, out)
			}
		}
		sw4 := newDevice(t, "sw4", pid, "FDO4444A0AA", portal)
		out := sw4.fails(t, "license", "call-home", "install", "pak", partial, "--yes")
		if !strings.Contains(out, "fully redeemed") || len(sw4.licenses(t)) != 0 {
			t.Fatalf("fourth device:\n%s", out)
		}
		show := mustPortal(t, "pak", "show", "--state-dir", pdir, partial)
		if !strings.Contains(show, "exhausted (3 redemptions)") {
			t.Fatalf("pak show:\n%s", show)
		}
		sw4.stop()
	})

	t.Run("3 RMA: the replacement gets a dead device's licenses by resend", func(t *testing.T) {
		sw3.stop() // dead
		out := mustPortal(t, "rma", "--state-dir", pdir, "--from", sw3.udi, "--to", pid+":FDO5555A0AA")
		if !strings.Contains(out, "replaced by") {
			t.Fatalf("rma:\n%s", out)
		}
		sw5 := newDevice(t, "sw5", pid, "FDO5555A0AA", portal)
		out = sw5.ok(t, "license", "call-home", "resend")
		if !strings.Contains(out, "Feature:advipservices...Successful") || !sw5.has(t, "advipservices", "permanent") {
			t.Fatalf("resend on the replacement:\n%s", out)
		}
		// The dead device, should it come back, may not call home.
		sw3.start(t)
		out = sw3.fails(t, "license", "call-home", "resend")
		if !strings.Contains(out, "replaced by "+sw5.udi) {
			t.Fatalf("dead device:\n%s", out)
		}
	})

	t.Run("4 rehost between two living devices", func(t *testing.T) {
		sw6 := newDevice(t, "sw6", pid, "FDO6666A0AA", portal)
		out := sw2.ok(t, "license", "call-home", "revoke", sw6.udi)
		if !strings.Contains(out, "moved to "+sw6.udi) {
			t.Fatalf("revoke:\n%s", out)
		}
		if sw2.has(t, "advipservices", "permanent") || !sw2.has(t, "advipservices", "gracePeriod") {
			t.Fatalf("source after revoke: %+v", sw2.licenses(t))
		}
		sw6.ok(t, "license", "call-home", "resend")
		if !sw6.has(t, "advipservices", "permanent") {
			t.Fatalf("target after resend: %+v", sw6.licenses(t))
		}
		dev := mustPortal(t, "device", "show", "--state-dir", pdir, "--udi", sw2.udi)
		if !strings.Contains(dev, "rehosted -> ") || !strings.Contains(dev, "rehost ") {
			t.Fatalf("device show:\n%s", dev)
		}
	})

	t.Run("5 extension license for a longer trial", func(t *testing.T) {
		mustPortal(t, "extension", "issue", "--state-dir", pdir, "--udi", sw2.udi, "--feature", "ipservices", "--days", "120")
		sw2.ok(t, "license", "call-home", "resend")
		if !sw2.has(t, "ipservices", "extension") {
			t.Fatalf("after resend: %+v", sw2.licenses(t))
		}
	})

	t.Run("6 lost license recovered by resend", func(t *testing.T) {
		// advipservices is installed but not running (the level is
		// ipservices), so it may be cleared: the device lost it.
		sw1.ok(t, "license", "clear", "advipservices")
		if sw1.has(t, "advipservices", "permanent") {
			t.Fatal("license clear left the license")
		}
		out := sw1.ok(t, "license", "call-home", "resend")
		if !strings.Contains(out, "Feature:advipservices...Successful") || !strings.Contains(out, "Feature:ipservices...Skipped:Existing") ||
			!sw1.has(t, "advipservices", "permanent") {
			t.Fatalf("resend:\n%s", out)
		}
	})

	t.Run("7 fully offline: credential, portal, license file, install", func(t *testing.T) {
		sw7 := newDevice(t, "sw7", pid, "FDO7777A0AA", portal)
		cred := filepath.Join(t.TempDir(), "sw7.cred")
		sw7.ok(t, "license", "save", "credential", cred)
		p := pak(t, pdir, "--sku", "c3750e-ipservices")
		lic := filepath.Join(t.TempDir(), "sw7.lic")
		mustPortal(t, "redeem", "--state-dir", pdir, "--credential", cred, "--pak", p, "-o", lic)
		out := sw7.ok(t, "license", "install", lic)
		if !strings.Contains(out, "Feature:ipservices...Successful") {
			t.Fatalf("install:\n%s", out)
		}
	})

	t.Run("portal down: kept, survives a restart, completes once", func(t *testing.T) {
		p := pak(t, pdir, "--sku", "c3750e-advipservices", "--qty", "2")
		addr := portal.addr
		portal.stop()
		start := time.Now()
		out := sw1.fails(t, "license", "call-home", "install", "pak", p, "--yes")
		if !strings.Contains(out, "cannot reach the licensing portal") || !strings.Contains(out, "kept") {
			t.Fatalf("install with the portal down:\n%s", out)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Fatalf("an unreachable portal took %s", d)
		}
		if ch := sw1.callHome(t); len(ch.CallHome.Pending) != 1 || !strings.Contains(ch.CallHome.Pending[0], p) {
			t.Fatalf("pending: %+v", ch)
		}
		sw1.stop()
		portal = startPortal(t, top, pdir, addr)
		sw1.start(t)
		deadline := time.Now().Add(30 * time.Second)
		for len(sw1.callHome(t).CallHome.Pending) != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("the pending operation did not complete:\n%s", sw1.log)
			}
			time.Sleep(100 * time.Millisecond)
		}
		n := 0
		for _, l := range sw1.licenses(t) {
			if l.PAK == p {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d licenses from PAK %s; want 1", n, p)
		}
		if show := mustPortal(t, "pak", "show", "--state-dir", pdir, p); !strings.Contains(show, "(1 redemptions)") {
			t.Fatalf("pak show:\n%s", show)
		}
	})

	t.Run("wrong certificate", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other")
		mustPortal(t, "init", "--state-dir", other)
		d := newDevice(t, "sw8", pid, "FDO8888A0AA", portal)
		d.stop()
		d.ca = filepath.Join(other, "ca.pem")
		d.start(t)
		out := d.fails(t, "license", "call-home", "resend")
		if !strings.Contains(out, "does not trust") {
			t.Fatalf("resend:\n%s", out)
		}
	})

	t.Run("a device cannot take another UDI's licenses", func(t *testing.T) {
		impostor := newDevice(t, "imp", pid, "FDO1111A0AA", portal) // sw1's UDI, its own key
		out := impostor.fails(t, "license", "call-home", "resend")
		if !strings.Contains(out, "bound to device key") || len(impostor.licenses(t)) != 0 {
			t.Fatalf("impostor:\n%s", out)
		}
	})

	audit := mustPortal(t, "audit", "--state-dir", pdir, "--limit", "0")
	for _, a := range []string{"redeem", "rma", "permission-ticket", "rehost", "extension-issue", "device-key-bound"} {
		if !strings.Contains(audit, " "+a+" ") {
			t.Errorf("audit log has no %s", a)
		}
	}
	if strings.Contains(portal.log.String(), "panic") {
		t.Errorf("portal log:\n%s", portal.log)
	}
}

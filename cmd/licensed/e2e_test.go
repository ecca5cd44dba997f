package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/agent"
)

// binDir holds licensed, licensectl and licportal built once for the
// black-box tests.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "licensed-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	cmd := exec.Command("go", "build", "-o", dir+"/", "./cmd/licensed", "./cmd/licensectl", "./cmd/licportal")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the binaries: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func repoPath(rel string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", rel)
}

// device is one real licensed process on a simulated device.
type device struct {
	t      *testing.T
	dir    string
	socket string
	cmd    *exec.Cmd
	log    *bytes.Buffer
	args   []string
}

// portalDir makes a lab portal (signing key, trust file) with licportal init.
func portalDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "portal")
	if out, err := exec.Command(filepath.Join(binDir, "licportal"), "init", "--state-dir", dir).CombinedOutput(); err != nil {
		t.Fatalf("licportal init: %v\n%s", err, out)
	}
	return dir
}

func issue(t *testing.T, portal string, args ...string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(binDir, "licportal"), append([]string{"issue", "--state-dir", portal}, args...)...).Output()
	if err != nil {
		t.Fatalf("licportal issue %v: %v", args, err)
	}
	f := filepath.Join(t.TempDir(), "x.lic")
	if err := os.WriteFile(f, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func startDevice(t *testing.T, portal string, extra ...string) *device {
	t.Helper()
	dir := t.TempDir()
	d := &device{t: t, dir: dir, socket: filepath.Join(dir, "licensed.sock")}
	d.args = append([]string{
		"--identity", repoPath("testdata/identities/c3750e.json"),
		"--state-dir", filepath.Join(dir, "state"), "--socket", d.socket,
		"--trust", filepath.Join(portal, "trust.pem"),
	}, extra...)
	d.start()
	t.Cleanup(d.stop)
	return d
}

func (d *device) start() {
	d.t.Helper()
	d.log = &bytes.Buffer{}
	d.cmd = exec.Command(filepath.Join(binDir, "licensed"), d.args...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, code := d.ctl("show", "license", "udi"); code == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.t.Fatalf("licensed did not come up:\n%s", d.log)
}

func (d *device) stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	d.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-done
	}
	d.cmd = nil
}

// ctl runs licensectl against this device and returns its output and exit code.
func (d *device) ctl(words ...string) (string, int) {
	cmd := exec.Command(filepath.Join(binDir, "licensectl"), append([]string{"--socket", d.socket}, words...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	} else if err != nil {
		d.t.Fatalf("licensectl: %v", err)
	}
	return out.String(), 0
}

// must runs a command that has to succeed and returns its output.
func (d *device) must(words ...string) string {
	d.t.Helper()
	out, code := d.ctl(words...)
	if code != 0 {
		d.t.Fatalf("licensectl %s: exit %d\n%s\ndaemon log:\n%s", strings.Join(words, " "), code, out, d.log)
	}
	return out
}

func (d *device) status() *agent.Status {
	d.t.Helper()
	var s agent.Status
	if err := json.Unmarshal([]byte(d.must("--json", "show", "license")), &s); err != nil {
		d.t.Fatalf("status JSON: %v", err)
	}
	return &s
}

func (d *device) license(feature, typ string) agent.LicenseInfo {
	d.t.Helper()
	for _, l := range d.status().Licenses {
		if l.Feature == feature && l.Type == typ {
			return l
		}
	}
	d.t.Fatalf("no %s %s license", typ, feature)
	return agent.LicenseInfo{}
}

func wantLines(t *testing.T, out string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(out, l) {
			t.Fatalf("output lacks %q:\n%s", l, out)
		}
	}
}

// TestEvaluationStoryEndToEnd is the agent core's story through the real
// binaries: a permanent ipservices, boot level advipservices on its
// evaluation, 60 days of usage at --time-scale, expired but still in use,
// and back on ipservices after the next reload.
func TestEvaluationStoryEndToEnd(t *testing.T) {
	portal := portalDir(t)
	// 60 days of usage take 6 seconds.
	d := startDevice(t, portal, "--time-scale", "864000")

	wantLines(t, d.must("show", "license", "udi"), "*0", "WS-C3750E-24TD-S:FDO1234X0AB")
	lic := issue(t, portal, "--udi", "WS-C3750E-24TD-S:FDO1234X0AB", "--feature", "ipservices")
	wantLines(t, d.must("license", "install", lic),
		"Installing...Feature:ipservices...Successful:Supported",
		"1/1 licenses were successfully installed",
		"0/1 licenses were existing licenses",
		"0/1 licenses were failed to install")
	wantLines(t, d.must("show", "version"), "License Level: ipbase", "Next reload license Level: ipservices")

	d.must("license", "boot", "level", "advipservices")
	d.must("license", "accept", "end", "user", "agreement")
	d.must("reload")
	wantLines(t, d.must("show", "version"), "License Level: advipservices")
	if l := d.license("advipservices", "evaluation"); l.State != "inUse" {
		t.Fatalf("advipservices evaluation after reload: %s", l.State)
	}

	deadline := time.Now().Add(30 * time.Second)
	for d.license("advipservices", "evaluation").State != "expiredInUse" {
		if time.Now().After(deadline) {
			t.Fatalf("evaluation never expired: %+v", d.license("advipservices", "evaluation"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	wantLines(t, d.must("show", "version"), "License Level: advipservices")
	wantLines(t, d.must("show", "license", "detail", "advipservices"), "Active, Expired, In Use")

	d.must("reload")
	wantLines(t, d.must("show", "version"), "License Level: ipservices")
	if l := d.license("advipservices", "evaluation"); l.State != "expiredNotInUse" {
		t.Fatalf("after the next reload: %s", l.State)
	}
	if l := d.license("ipservices", "permanent"); l.State != "inUse" {
		t.Fatalf("permanent ipservices after fallback: %s", l.State)
	}
}

// TestBadInputEndToEnd: every bad input gets its cause, the store keeps what
// it had, and the daemon keeps serving.
func TestBadInputEndToEnd(t *testing.T) {
	portal := portalDir(t)
	d := startDevice(t, portal)
	good := issue(t, portal, "--udi", "WS-C3750E-24TD-S:FDO1234X0AB", "--feature", "ipservices")
	d.must("license", "install", good)
	before := d.must("show", "license", "file")

	other := issue(t, portal, "--udi", "WS-C3750E-24TD-S:FDO9999Z9ZZ", "--feature", "advipservices")
	foreignPortal := portalDir(t)
	foreign := issue(t, foreignPortal, "--udi", "WS-C3750E-24TD-S:FDO1234X0AB", "--feature", "advipservices")
	data, _ := os.ReadFile(good)
	flipped := filepath.Join(t.TempDir(), "flipped.lic")
	os.WriteFile(flipped, bytes.Replace(data, []byte("feature: ipservices"), []byte("feature: advipservices"), 1), 0o600)
	truncated := filepath.Join(t.TempDir(), "trunc.lic")
	os.WriteFile(truncated, data[:len(data)/2], 0o600)
	big := filepath.Join(t.TempDir(), "big.lic")
	os.WriteFile(big, bytes.Repeat([]byte("# padding\n"), 40000), 0o600)
	unknownFeature := issue(t, portal, "--udi", "WS-C3750E-24TD-S:FDO1234X0AB", "--feature", "securityk9")

	for _, tc := range []struct{ name, file, cause string }{
		{"other UDI", other, "licenseNotValidForDevice"},
		{"unknown key", foreign, "invalidLicenseFile"},
		{"flipped body", flipped, "invalidLicenseLine"},
		{"truncated", truncated, "invalidLicenseFile"},
		{"over the size limit", big, "invalidLicenseFile"},
		{"feature not on platform", unknownFeature, "licenseNotValidForDevice"},
	} {
		out, code := d.ctl("license", "install", tc.file)
		if code != 1 || !strings.Contains(out, tc.cause) {
			t.Errorf("%s: exit %d, want 1 and %s:\n%s", tc.name, code, tc.cause, out)
		}
	}
	out, code := d.ctl("license", "install", good)
	if code != 0 || !strings.Contains(out, "1/1 licenses were existing licenses") {
		t.Errorf("same license twice: exit %d\n%s", code, out)
	}
	if out, code := d.ctl("license", "boot", "level", "enterprise"); code != 1 || !strings.Contains(out, "unknownBootLevel") {
		t.Errorf("unknown boot level: exit %d\n%s", code, out)
	}
	d.must("reload")
	if out, code := d.ctl("license", "clear", "ipservices"); code != 1 || !strings.Contains(out, "licenseInUse") {
		t.Errorf("clear of an in-use license: exit %d\n%s", code, out)
	}
	if after := d.must("show", "license", "file"); after != before {
		t.Errorf("bad input changed the store:\n%s\nwas\n%s", after, before)
	}

	// A second daemon on the same state refuses to start and says why.
	second := exec.Command(filepath.Join(binDir, "licensed"), "--identity", repoPath("testdata/identities/c3750e.json"),
		"--state-dir", filepath.Join(d.dir, "state"), "--socket", filepath.Join(d.dir, "second.sock"))
	out2, err := second.CombinedOutput()
	if err == nil || !strings.Contains(string(out2), "licenses.db") {
		t.Errorf("second daemon on the same state: %v\n%s", err, out2)
	}
	d.must("show", "license", "udi") // still serving
}

func TestUnreachableDaemon(t *testing.T) {
	cmd := exec.Command(filepath.Join(binDir, "licensectl"), "--socket", filepath.Join(t.TempDir(), "none.sock"), "show", "license", "udi")
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 3 {
		t.Fatalf("unreachable daemon: %v\n%s", err, out)
	}
	cmd = exec.Command(filepath.Join(binDir, "licensectl"), "--socket", "/nonexistent", "sh", "lic", "bogus")
	out, err = cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("invalid command: %v\n%s", err, out)
	}
}

func runCmd(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}

// startBare starts licensed and waits for its socket to answer.
func startBare(tb testing.TB, args ...string) *exec.Cmd {
	tb.Helper()
	cmd := exec.Command(filepath.Join(binDir, "licensed"), args...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	socket := ""
	for i, a := range args {
		if a == "--socket" && i+1 < len(args) {
			socket = args[i+1]
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if err := exec.Command(filepath.Join(binDir, "licensectl"), "--socket", socket, "show", "license", "udi").Run(); err == nil {
			return cmd
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	tb.Fatalf("licensed did not come up:\n%s", log.String())
	return nil
}

package soak

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/agent"
	"github.com/licensed-dev/licensed/license"
	"github.com/licensed-dev/licensed/licensestore"
)

// binDir holds licensed, licensectl and licportal, built once.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "licensed-soak-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	cmd := exec.Command("go", "build", "-o", dir+"/", "./cmd/licensed", "./cmd/licensectl", "./cmd/licportal")
	cmd.Dir = repoPath(".")
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
	return filepath.Join(filepath.Dir(file), "..", rel)
}

func bin(name string) string { return filepath.Join(binDir, name) }

// long reports whether the long (make soak) versions run.
func long() bool { return os.Getenv("SOAK") == "1" }

// envInt reads a positive integer knob, or def.
func envInt(t testing.TB, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

// figure logs a measured figure and, under make soak, appends it to the
// figures file the script prints.
func figure(t testing.TB, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf(format, args...)
	t.Log("FIGURE " + line)
	path := os.Getenv("SOAK_FIGURES")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Errorf("figures file: %v", err)
		return
	}
	defer f.Close()
	mode := "short"
	if long() {
		mode = "long"
	}
	fmt.Fprintf(f, "%-6s %s: %s\n", mode, t.Name(), line)
}

// The simulated device every test runs.
const (
	devPID = "WS-C3750E-24TD-S"
	devSN  = "FDO1234X0AB"
	devUDI = devPID + ":" + devSN
)

// portal is a lab licensing portal made by licportal init; licenses are
// signed in-process with its key (the same bytes licportal issue prints).
type portal struct {
	dir    string
	signer *license.Signer
	seq    atomic.Int64
}

func newPortal(t testing.TB) *portal {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "portal")
	if out, err := exec.Command(bin("licportal"), "init", "--state-dir", dir).CombinedOutput(); err != nil {
		t.Fatalf("licportal init: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := license.ParsePrivateKey(raw)
	if err != nil {
		t.Fatalf("signing key: %v", err)
	}
	return &portal{dir: dir, signer: license.NewSigner(key)}
}

func (p *portal) trust() string { return filepath.Join(p.dir, "trust.pem") }

// license signs a license for the test device; mut may change it first.
func (p *portal) license(t testing.TB, feature string, mut func(*license.License)) *license.License {
	t.Helper()
	l := &license.License{
		ID:      fmt.Sprintf("soak-%s-%d-%d", feature, time.Now().UnixNano()%1e9, p.seq.Add(1)),
		Feature: feature, Version: "1.0", Type: license.Permanent, UDI: devUDI,
		Issued: time.Now().Add(-time.Hour).UTC().Truncate(time.Second),
	}
	if mut != nil {
		mut(l)
	}
	if err := p.signer.Sign(l); err != nil {
		t.Fatalf("sign: %v", err)
	}
	return l
}

// file writes licenses to a license file and returns its path.
func (p *portal) file(t testing.TB, ls ...*license.License) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "*.lic")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(license.Encode(ls...)); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// syncBuffer is a log the daemon writes while the test reads it.
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

// device is one simulated device: a state directory and, while running,
// its licensed process.
type device struct {
	t      testing.TB
	dir    string // the test's directory; state lives in dir/state
	state  string
	socket string
	args   []string

	cmd      *exec.Cmd
	log      *syncBuffer // this run's stderr (the local log)
	exited   chan struct{}
	lastExit *os.ProcessState // how the last run that exited on its own ended
	runs     int
}

// newDevice prepares a device trusting p (nil: no trust file); extra
// flags are appended to the command line.
func newDevice(t testing.TB, p *portal, extra ...string) *device {
	t.Helper()
	dir := t.TempDir()
	d := &device{t: t, dir: dir, state: filepath.Join(dir, "state"), socket: filepath.Join(dir, "licensed.sock")}
	d.args = []string{
		"--identity", repoPath("testdata/identities/c3750e.json"),
		"--state-dir", d.state, "--socket", d.socket,
	}
	if p != nil {
		d.args = append(d.args, "--trust", p.trust())
	}
	d.args = append(d.args, extra...)
	t.Cleanup(d.stop)
	return d
}

func (d *device) db() string { return filepath.Join(d.state, "licenses.db") }

// launch starts licensed and returns at once.
func (d *device) launch() {
	d.t.Helper()
	if d.cmd != nil {
		d.t.Fatal("licensed is already running")
	}
	d.log = &syncBuffer{}
	d.cmd = exec.Command(bin("licensed"), d.args...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.runs++
	d.exited = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { c.Wait(); close(done) }(d.cmd, d.exited)
}

// up waits until the control socket answers or the process exits. It
// returns nil when the daemon serves, else the exit status and log.
func (d *device) up(within time.Duration) error {
	deadline := time.Now().Add(within)
	c := d.client()
	for time.Now().Before(deadline) {
		select {
		case <-d.exited:
			d.lastExit = d.cmd.ProcessState
			d.cmd = nil
			return fmt.Errorf("licensed exited (%v):\n%s", d.lastExit, d.log)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := c.Status(ctx)
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("licensed did not answer within %v:\n%s", within, d.log)
}

// start starts licensed and waits until it serves: the control socket
// answers, and the SSH and SNMP surfaces, which start after it, are up
// (licensed prints its "… control socket PATH" line then).
func (d *device) start() {
	d.t.Helper()
	d.launch()
	if err := d.up(15 * time.Second); err != nil {
		d.t.Fatal(err)
	}
	if !d.waitLog("; control socket ") {
		d.t.Fatalf("licensed serves its socket but never finished starting:\n%s", d.log)
	}
}

// kill ends licensed with SIGKILL, as a power cut or OOM kill would.
func (d *device) kill() {
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.exited
	d.cmd = nil
}

// stop ends licensed cleanly (SIGINT), killing it after 10 s.
func (d *device) stop() {
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
		d.t.Errorf("licensed did not stop within 10 s of SIGINT")
		d.cmd.Process.Kill()
		<-d.exited
	}
	d.cmd = nil
}

func (d *device) pid() int { return d.cmd.Process.Pid }

// client is a Go client of the control socket (the API licensectl uses).
func (d *device) client() *agent.Client { return agent.NewClient(d.socket) }

// ctl runs licensectl and returns its output and exit code.
func (d *device) ctl(words ...string) (string, int) {
	return d.ctlAs(nil, words...)
}

// ctlAs runs licensectl with the given credentials (nil: as the test).
func (d *device) ctlAs(cred *syscall.Credential, words ...string) (string, int) {
	d.t.Helper()
	cmd := exec.Command(bin("licensectl"), append([]string{"--socket", d.socket}, words...)...)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), ee.ExitCode()
	case err != nil:
		d.t.Fatalf("licensectl: %v", err)
	}
	return out.String(), 0
}

// must runs a licensectl command that has to succeed.
func (d *device) must(words ...string) string {
	d.t.Helper()
	out, code := d.ctl(words...)
	if code != 0 {
		d.t.Fatalf("licensectl %s: exit %d\n%s\ndaemon log:\n%s", strings.Join(words, " "), code, out, d.log)
	}
	return out
}

// status reads the agent's whole status view over the control socket
// (licensectl --json show license prints its licenses part).
func (d *device) status() *agent.Status {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := d.client().Status(ctx)
	if err != nil {
		d.t.Fatalf("status: %v\ndaemon log:\n%s", err, d.log)
	}
	return st
}

// waitLog waits up to 5 s for the local log to contain all of subs (the
// log is written on its own goroutine).
func (d *device) waitLog(subs ...string) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if containsAll(d.log.String(), subs...) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// lic finds a license by feature and type in a status.
func lic(s *agent.Status, feature, typ string) (agent.LicenseInfo, bool) {
	for _, l := range s.Licenses {
		if l.Feature == feature && l.Type == typ {
			return l, true
		}
	}
	return agent.LicenseInfo{}, false
}

// ids returns the IDs of the installed (signed) licenses.
func ids(s *agent.Status) map[string]bool {
	out := map[string]bool{}
	for _, l := range s.Licenses {
		if l.Type != string(license.Evaluation) {
			out[l.ID] = true
		}
	}
	return out
}

// startEvaluation makes advipservices run on its built-in evaluation:
// boot level, EULA, reload.
func (d *device) startEvaluation() {
	d.t.Helper()
	d.must("license", "boot", "level", "advipservices")
	d.must("license", "accept", "end", "user", "agreement")
	d.must("reload")
	if l, ok := lic(d.status(), "advipservices", "evaluation"); !ok || l.State != "inUse" {
		d.t.Fatalf("advipservices evaluation not in use after reload: %+v", l)
	}
}

// openStore opens a stopped device's store the way licensed does: the MAC
// key is derived from the device key in the state directory. Tests use it
// to play a device whose own records say something (a clock that was
// ahead), never to check licensed's view.
func (d *device) openStore() *licensestore.Store {
	d.t.Helper()
	raw, err := os.ReadFile(filepath.Join(d.state, "device.key"))
	if err != nil {
		d.t.Fatal(err)
	}
	key, err := license.ParsePrivateKey(raw)
	if err != nil {
		d.t.Fatal(err)
	}
	mk, err := hkdf.Key(sha256.New, ed25519.PrivateKey(key).Seed(), nil, "licensed/store-mac/v1", 32)
	if err != nil {
		d.t.Fatal(err)
	}
	st, rep, err := licensestore.Open(licensestore.Options{Path: d.db(), MACKey: mk})
	if err != nil {
		d.t.Fatalf("open store: %v", err)
	}
	if rep.Recovered || rep.Rollback {
		d.t.Fatalf("the store needed repair when the test opened it: %+v", rep)
	}
	return st
}

// procStats are a process's resources from /proc.
type procStats struct {
	fds, threads int
	rssKiB       int64
}

func readProc(t testing.TB, pid int) procStats {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("/proc fd: %v", err)
	}
	st := procStats{fds: len(ents)}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "Threads:":
			st.threads, _ = strconv.Atoi(f[1])
		case "VmRSS:":
			st.rssKiB, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	return st
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB, network string) string {
	t.Helper()
	switch network {
	case "udp":
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	default:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
}

// syslogSink is a UDP syslog receiver on loopback.
type syslogSink struct {
	pc  net.PacketConn
	mu  sync.Mutex
	got []string
}

func newSyslogSink(t testing.TB) *syslogSink {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &syslogSink{pc: pc}
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.got = append(s.got, string(buf[:n]))
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() { pc.Close() })
	return s
}

func (s *syslogSink) url() string { return "udp://" + s.pc.LocalAddr().String() }

// wait returns the first message containing all of subs, waiting up to 5 s.
func (s *syslogSink) wait(subs ...string) (string, bool) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		for _, m := range s.got {
			if containsAll(m, subs...) {
				s.mu.Unlock()
				return m, true
			}
		}
		s.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	return "", false
}

func (s *syslogSink) all() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.got, "\n")
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

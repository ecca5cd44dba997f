package soak

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	gossh "golang.org/x/crypto/ssh"

	"github.com/licensed-dev/licensed/agent"
	"github.com/licensed-dev/licensed/license"
)

// sockClient speaks the control socket's HTTP/JSON like agent.Client, with
// a transport the test owns, so it can close its connections: the daemon's
// descriptors are then counted without the test's idle connections.
type sockClient struct {
	tr *http.Transport
	hc *http.Client
}

func newSockClient(socket string, keepAlive bool) *sockClient {
	tr := &http.Transport{
		DisableKeepAlives: !keepAlive,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
	}
	return &sockClient{tr: tr, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

func (c *sockClient) call(method string, req, out any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	resp, err := c.hc.Post("http://licensed/v1/"+method, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", method, resp.Status, bytes.TrimSpace(data))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

func (c *sockClient) close() { c.tr.CloseIdleConnections() }

// loadDevice is a device with every surface on: the socket, SSH with an
// authorized key and SNMP v2c, with a usage clock that ends a 60-day
// evaluation in about 2 s.
type loadDevice struct {
	*device
	signer   gossh.Signer
	sshAddr  string
	snmpAddr string
}

const loadCommunity = "soak-ro"

func newLoadDevice(t *testing.T, p *portal) *loadDevice {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(t.TempDir(), "authorized_keys")
	if err := os.WriteFile(keys, gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	ld := &loadDevice{signer: signer, sshAddr: freePort(t, "tcp"), snmpAddr: freePort(t, "udp")}
	ld.device = newDevice(t, p, "--time-scale", "2592000",
		"--ssh-listen", ld.sshAddr, "--ssh-authorized-keys", keys,
		"--snmp-listen", ld.snmpAddr, "--snmp-community", loadCommunity)
	return ld
}

// sshRun runs one exec session on conn and returns its output.
func sshRun(conn *gossh.Client, cmd string) (string, error) {
	s, err := conn.NewSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	return string(out), err
}

func sshDial(addr string, cfg *gossh.ClientConfig) (*gossh.Client, error) {
	return gossh.Dial("tcp", addr, cfg)
}

func (ld *loadDevice) sshConfig(user string) *gossh.ClientConfig {
	return &gossh.ClientConfig{
		User: user, Auth: []gossh.AuthMethod{gossh.PublicKeys(ld.signer)},
		// Loopback test server with a fresh host key.
		HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		Timeout:         10 * time.Second,
	}
}

func (ld *loadDevice) snmp(t testing.TB) *gosnmp.GoSNMP {
	t.Helper()
	host, port, _ := net.SplitHostPort(ld.snmpAddr)
	pn, _ := strconv.Atoi(port)
	g := &gosnmp.GoSNMP{Target: host, Port: uint16(pn), Community: loadCommunity, Version: gosnmp.Version2c,
		Timeout: 2 * time.Second, Retries: 2, MaxOids: gosnmp.MaxOids}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	return g
}

// loadTally counts requests and the ones that failed, per surface.
type loadTally struct {
	mu       sync.Mutex
	ok       map[string]int
	failures []string
	installs atomic.Int64
}

func (lt *loadTally) done(surface string, err error) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	if err != nil {
		if len(lt.failures) < 20 {
			lt.failures = append(lt.failures, surface+": "+err.Error())
		} else {
			lt.failures = append(lt.failures[:20], "…")
		}
		return
	}
	lt.ok[surface]++
}

// TestLoad runs clients on the socket API, SSH and SNMP at once while the
// evaluation runs out and licenses are installed, then checks that no
// request failed and that the daemon's descriptors, threads and memory
// came back. Short: 20 clients for 3 s. SOAK=1: SOAK_CLIENTS (default 200)
// for SOAK_LOAD_SECONDS (default 60). The time is split in two rounds:
// round two must not leave more behind than round one.
func TestLoad(t *testing.T) {
	clients, seconds := 20, 3
	if long() {
		clients, seconds = envInt(t, "SOAK_CLIENTS", 200), envInt(t, "SOAK_LOAD_SECONDS", 60)
	}
	// SSH runs at most 16 sessions at once (agent/sshd DefaultMaxSessions):
	// one client per session slot, a quarter of the rest on SNMP, the
	// others on the socket.
	sshN := min(16, max(1, clients/5))
	snmpN := max(1, (clients-sshN)/4)
	sockN := clients - sshN - snmpN

	p := newPortal(t)
	ld := newLoadDevice(t, p)
	ld.start()
	ld.startEvaluation()

	// Warm up every surface once, then take the baseline.
	tally := &loadTally{ok: map[string]int{}}
	round := func(d time.Duration) {
		var wg sync.WaitGroup
		deadline := time.Now().Add(d)
		for i := range sockN {
			wg.Go(func() { ld.sockLoad(t, p, i, deadline, tally) })
		}
		for range sshN {
			wg.Go(func() { ld.sshLoad(deadline, tally) })
		}
		for range snmpN {
			wg.Go(func() { ld.snmpLoad(t, deadline, tally) })
		}
		wg.Wait()
	}
	round(200 * time.Millisecond)
	if len(tally.failures) > 0 {
		t.Fatalf("warm-up requests failed:\n%s\ndaemon log:\n%s", strings.Join(tally.failures, "\n"), ld.log)
	}
	pid := ld.pid()
	base := settle(t, pid, nil)

	var peak procStats
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tk := time.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tk.C:
				s := readProc(t, pid)
				peak.fds, peak.threads, peak.rssKiB = max(peak.fds, s.fds), max(peak.threads, s.threads), max(peak.rssKiB, s.rssKiB)
			}
		}
	}()
	start := time.Now()
	half := time.Duration(seconds) * time.Second / 2
	round(half)
	after1 := settle(t, pid, &base)
	round(half)
	elapsed := time.Since(start)
	close(stopSampling)
	<-sampled
	after2 := settle(t, pid, &base)

	if len(tally.failures) > 0 {
		t.Fatalf("requests failed under load:\n%s\ndaemon log (tail):\n%s", strings.Join(tally.failures, "\n"), tail(ld.log.String(), 30))
	}
	st := ld.status()
	if l, _ := lic(st, "advipservices", "evaluation"); l.State != "expiredInUse" {
		t.Errorf("the evaluation did not run out under load: %s", l.State)
	}
	if !ld.waitLog("%LICENSE-1-EXPIRED") && !ld.waitLog("EXPIRED") {
		t.Errorf("no expiry message in the log")
	}
	tally.mu.Lock()
	total := tally.ok["socket"] + tally.ok["ssh"] + tally.ok["snmp"]
	counts := fmt.Sprintf("socket %d, ssh %d, snmp %d", tally.ok["socket"], tally.ok["ssh"], tally.ok["snmp"])
	tally.mu.Unlock()
	if tally.ok["ssh"] == 0 || tally.ok["snmp"] == 0 || tally.ok["socket"] == 0 || tally.installs.Load() == 0 {
		t.Fatalf("a surface served nothing: %s, %d installs", counts, tally.installs.Load())
	}

	// Leaks: descriptors back to the baseline after each round, and round
	// two leaves no more than round one (threads and memory included).
	if after1.fds > base.fds || after2.fds > base.fds {
		t.Errorf("descriptors leaked: %d before, %d after round 1, %d after round 2", base.fds, after1.fds, after2.fds)
	}
	if after2.threads > after1.threads+2 {
		t.Errorf("threads kept growing: %d after round 1, %d after round 2", after1.threads, after2.threads)
	}
	const rssLimitKiB = 256 << 10
	if peak.rssKiB > rssLimitKiB {
		t.Errorf("resident memory peaked at %d MiB, above the %d MiB bound", peak.rssKiB>>10, rssLimitKiB>>20)
	}
	if after2.rssKiB > after1.rssKiB+after1.rssKiB/4+8<<10 {
		t.Errorf("resident memory kept growing: %d KiB after round 1, %d KiB after round 2", after1.rssKiB, after2.rssKiB)
	}
	figure(t, "%d clients (%d socket, %d SSH, %d SNMP v2c) for %.0f s while the evaluation expired: %d requests (%s; %.0f/s), %d licenses installed, 0 failed; "+
		"fds %d before / %d peak / %d after, threads %d / %d / %d, RSS %.1f / %.1f / %.1f MiB",
		clients, sockN, sshN, snmpN, elapsed.Seconds(), total, counts, float64(total)/elapsed.Seconds(), tally.installs.Load(),
		base.fds, peak.fds, after2.fds, base.threads, peak.threads, after2.threads,
		float64(base.rssKiB)/1024, float64(peak.rssKiB)/1024, float64(after2.rssKiB)/1024)
}

// settle waits (up to 10 s) for the daemon's descriptors to come back to
// base after the clients closed, and returns what /proc shows then.
func settle(t *testing.T, pid int, base *procStats) procStats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := readProc(t, pid)
		if base == nil || s.fds <= base.fds || time.Now().After(deadline) {
			if base == nil {
				time.Sleep(200 * time.Millisecond)
				s = readProc(t, pid)
			}
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// maxLoadInstalls bounds the licenses installed in one load run, so the
// status the readers fetch stays the size a device has.
const maxLoadInstalls = 300

// sockLoad: status reads through the control socket; every eighth client
// is an installer; every fourth closes its connection after each request
// (connection churn) and the first runs licensectl (process churn).
func (ld *loadDevice) sockLoad(t *testing.T, p *portal, i int, deadline time.Time, lt *loadTally) {
	c := newSockClient(ld.socket, i%4 != 0)
	defer c.close()
	for time.Now().Before(deadline) {
		switch {
		case i%8 == 1 && lt.installs.Load() < maxLoadInstalls:
			l := p.license(t, "ipservices", nil)
			var res agent.InstallResult
			err := c.call("install", map[string]any{"install": agent.InstallRequest{Data: license.Encode(l), Source: "load"}}, &res)
			if err == nil && res.Installed != 1 {
				err = fmt.Errorf("install: %+v", res)
			}
			if err == nil {
				lt.installs.Add(1)
			}
			lt.done("socket", err)
			time.Sleep(50 * time.Millisecond)
		case i == 0:
			out, code := ld.ctl("show", "license", "udi")
			var err error
			if code != 0 || !strings.Contains(out, devUDI) {
				err = fmt.Errorf("licensectl show license udi: exit %d: %s", code, out)
			}
			lt.done("socket", err)
		default:
			var st agent.Status
			err := c.call("status", map[string]any{}, &st)
			if err == nil && (len(st.Members) == 0 || st.Members[0].SN != devSN) {
				err = fmt.Errorf("status names no device: %+v", st.Members)
			}
			lt.done("socket", err)
		}
	}
}

var sshCommands = []struct{ cmd, want string }{
	{"show license udi", devUDI},
	{"show version", "License Level"},
	{"sh lic feature", "advipservices"},
	{"show license statistics", ""},
}

// sshLoad: exec sessions, a new connection every 20 sessions.
func (ld *loadDevice) sshLoad(deadline time.Time, lt *loadTally) {
	var conn *gossh.Client
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for n := 0; time.Now().Before(deadline); n++ {
		if n%20 == 0 {
			if conn != nil {
				conn.Close()
			}
			var err error
			if conn, err = sshDial(ld.sshAddr, ld.sshConfig("admin")); err != nil {
				lt.done("ssh", fmt.Errorf("dial: %v", err))
				conn = nil
				time.Sleep(100 * time.Millisecond)
				continue
			}
		}
		c := sshCommands[n%len(sshCommands)]
		out, err := sshRun(conn, c.cmd)
		if err == nil && !strings.Contains(out, c.want) {
			err = fmt.Errorf("%s: output lacks %q: %s", c.cmd, c.want, out)
		} else if err != nil {
			err = fmt.Errorf("%s: %v: %s", c.cmd, err, out)
		}
		lt.done("ssh", err)
	}
}

// snmpLoad: GETs of the system group and GETBULKs of the license MIB.
func (ld *loadDevice) snmpLoad(t *testing.T, deadline time.Time, lt *loadTally) {
	g := ld.snmp(t)
	defer g.Conn.Close()
	for n := 0; time.Now().Before(deadline); n++ {
		var err error
		if n%2 == 0 {
			var r *gosnmp.SnmpPacket
			r, err = g.Get([]string{".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.1.3.0"})
			if err == nil && (len(r.Variables) != 2 || r.Variables[0].Type != gosnmp.OctetString) {
				err = fmt.Errorf("get sysDescr, sysUpTime: %+v", r.Variables)
			}
		} else {
			var r *gosnmp.SnmpPacket
			r, err = g.GetBulk([]string{".1.3.6.1.4.1.9.9.543"}, 0, 10)
			if err == nil && (len(r.Variables) == 0 || !strings.HasPrefix(r.Variables[0].Name, ".1.3.6.1.4.1.9.9.543.")) {
				err = fmt.Errorf("getbulk license MIB: %+v", r.Variables)
			}
		}
		lt.done("snmp", err)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

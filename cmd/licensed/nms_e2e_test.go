package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// freeUDPPort finds a loopback UDP port nobody uses right now.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// peer is a real receiver (snmptrapd, rsyslogd) writing to a log file.
type peer struct {
	log string
	cmd *exec.Cmd
}

func startPeer(t *testing.T, name string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, _ := os.Create(filepath.Join(t.TempDir(), name+".out"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

func lookTool(t *testing.T, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Skipf("%s not installed", names[0])
	return ""
}

// waitFor polls a file until it holds every string, for at most 20 s.
func waitFor(t *testing.T, file string, what ...string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		data, _ := os.ReadFile(file)
		missing := ""
		for _, w := range what {
			if !strings.Contains(string(data), w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return string(data)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never got %q:\n%s", filepath.Base(file), missing, data)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestNMSEndToEnd points stock net-snmp tools, snmptrapd and rsyslogd at
// the real daemon: the license table over SNMP, and a trap and a syslog
// line for each install, clear, EULA acceptance, boot-level change,
// warning and expiry.
func TestNMSEndToEnd(t *testing.T) {
	trapd := lookTool(t, "snmptrapd")
	rsyslogd := lookTool(t, "rsyslogd", "/usr/sbin/rsyslogd")
	snmpwalk := lookTool(t, "snmpwalk")
	dir := t.TempDir()

	trapPort := freeUDPPort(t)
	trapLog := filepath.Join(dir, "traps.log")
	os.WriteFile(filepath.Join(dir, "snmptrapd.conf"), []byte("authCommunity log public\n"), 0o600)
	startPeer(t, trapd, []string{"SNMP_PERSISTENT_DIR=" + dir, "MIBS="}, "-f", "-Lf", trapLog, "-C", "-c",
		filepath.Join(dir, "snmptrapd.conf"), "-On", fmt.Sprintf("udp:127.0.0.1:%d", trapPort))

	sysPort := freeUDPPort(t)
	sysLog := filepath.Join(dir, "syslog.log")
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="%d")
template(name="line" type="string" string="%%HOSTNAME%% %%syslogtag%%%%msg%%\n")
*.* action(type="omfile" file=%q template="line")
`, dir, sysPort, sysLog)
	os.WriteFile(filepath.Join(dir, "rsyslog.conf"), []byte(conf), 0o600)
	startPeer(t, rsyslogd, nil, "-n", "-f", filepath.Join(dir, "rsyslog.conf"), "-i", filepath.Join(dir, "rsyslog.pid"))

	snmpPort := freeUDPPort(t)
	portal := portalDir(t)
	d := startDevice(t, portal, "--time-scale", "864000",
		"--snmp-listen", fmt.Sprintf("127.0.0.1:%d", snmpPort), "--snmp-community", "public",
		"--trap-receiver", fmt.Sprintf("127.0.0.1:%d", trapPort),
		"--syslog", fmt.Sprintf("udp://127.0.0.1:%d", sysPort))
	// Let the receivers come up before anything is sent.
	waitFor(t, trapLog, ".1.3.6.1.6.3.1.1.5.1") // coldStart

	udi := "WS-C3750E-24TD-S:FDO1234X0AB"
	d.must("license", "install", issue(t, portal, "--udi", udi, "--feature", "ipservices"))
	d.must("license", "install", issue(t, portal, "--udi", udi, "--feature", "advipservices"))
	d.must("license", "clear", "advipservices")
	d.must("license", "boot", "level", "advipservices")
	d.must("license", "accept", "end", "user", "agreement")
	d.must("reload")

	// The license table: feature names, types and states as the MIB numbers them.
	walk := func() string {
		out, err := exec.Command(snmpwalk, "-v2c", "-c", "public", "-On", "-r1", "-t2",
			fmt.Sprintf("127.0.0.1:%d", snmpPort), "1.3.6.1.4.1.9.9.543.1.2.3").CombinedOutput()
		if err != nil {
			t.Fatalf("snmpwalk: %v\n%s", err, out)
		}
		return string(out)
	}
	table := walk()
	for _, want := range []string{`STRING: "ipservices"`, `STRING: "advipservices"`, "INTEGER: 4" /* permanent */, "INTEGER: 3" /* inUse */} {
		if !strings.Contains(table, want) {
			t.Fatalf("license table lacks %s:\n%s", want, table)
		}
	}

	// Wait for the evaluation to expire (60 days at 864000x is 6 s).
	traps := waitFor(t, trapLog,
		".1.3.6.1.4.1.9.9.543.0.5", // installed
		".1.3.6.1.4.1.9.9.543.0.6", // cleared
		".1.3.6.1.4.1.9.9.543.0.8", // EULA accepted
		".1.3.6.1.4.1.9.9.640.0.1", // boot image level changed
		".1.3.6.1.4.1.9.9.543.0.2", // expiry warning
		".1.3.6.1.4.1.9.9.543.0.1", // expired
	)
	_ = traps
	waitFor(t, sysLog,
		"%LICENSE-6-INSTALL: Feature ipservices 1.0 was installed in this device. UDI="+udi,
		"%LICENSE-6-REMOVE",
		"%LICENSE-6-EULA_ACCEPTED",
		"%IOS_LICENSE_IMAGE_APPLICATION-6-LICENSE_LEVEL: Module name = c3750e Next reboot level = advipservices",
		"%LICENSE-4-EXPIRE_WARNING",
		"%LICENSE-2-EXPIRED",
	)
	// State after expiry: clmgmtLicenseStatus (column 14) expiredInUse (4)
	// with no validity left (column 8) for the evaluation.
	table = walk()
	expired := false
	for _, line := range strings.Split(table, "\n") {
		if strings.HasPrefix(line, ".1.3.6.1.4.1.9.9.543.1.2.3.1.14.") && strings.HasSuffix(line, "INTEGER: 4") {
			row := strings.TrimPrefix(strings.Fields(line)[0], ".1.3.6.1.4.1.9.9.543.1.2.3.1.14.")
			expired = strings.Contains(table, ".1.3.6.1.4.1.9.9.543.1.2.3.1.8."+row+" = Gauge32: 0")
			if !expired {
				t.Fatalf("expired license %s still has validity left:\n%s", row, table)
			}
		}
	}
	if !expired {
		t.Fatalf("no expiredInUse license after expiry:\n%s", table)
	}
}

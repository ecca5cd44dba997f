package snmp

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// These tests drive a Server on loopback with the net-snmp command line
// tools, as an NMS operator would.

// netsnmp runs net-snmp tools against one served Server.
type netsnmp struct {
	t      *testing.T
	target string
	env    []string
	engine string // hex
}

func newNetSNMP(t *testing.T, s *Server, tools ...string) *netsnmp {
	t.Helper()
	for _, tool := range append([]string{"snmpget"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(tool + " not installed")
		}
	}
	dir := t.TempDir()
	port := serve(t, s)
	return &netsnmp{
		t:      t,
		target: fmt.Sprintf("127.0.0.1:%d", port),
		// No MIBs (numeric output, no loading noise); no user or system
		// configuration; state in the test's directory.
		env:    append(os.Environ(), "MIBS=", "HOME="+dir, "SNMPCONFPATH="+dir, "SNMP_PERSISTENT_DIR="+filepath.Join(dir, "persist")),
		engine: hex.EncodeToString(s.EngineID()),
	}
}

// run executes tool with the security arguments sec, the common options,
// the target and args.
func (n *netsnmp) run(env []string, tool string, sec []string, args ...string) (stdout, stderr string, err error) {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	argv := []string{"-r1", "-t2"}
	if tool != "snmptable" { // snmptable needs names to find the table's columns
		argv = append(argv, "-On")
	}
	argv = append(append(append(argv, sec...), n.target), args...) // sec may override -r/-t
	cmd := exec.CommandContext(ctx, tool, argv...)
	cmd.Env = append(append([]string{}, n.env...), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// ok runs a tool that must succeed and returns its output.
func (n *netsnmp) ok(tool string, sec []string, args ...string) string {
	n.t.Helper()
	out, errOut, err := n.run(nil, tool, sec, args...)
	if err != nil {
		n.t.Fatalf("%s %v: %v\n%s%s", tool, args, err, out, errOut)
	}
	return out
}

var (
	secV1      = []string{"-v1", "-c", "public"}
	secV2c     = []string{"-v2c", "-c", "public"}
	secNMS     = []string{"-v3", "-l", "authPriv", "-u", "nms", "-a", "SHA", "-A", "authpass123", "-x", "AES", "-X", "privpass123"}
	secNMS256  = []string{"-v3", "-l", "authPriv", "-u", "nms256", "-a", "SHA-256", "-A", "authpass256", "-x", "AES-256", "-X", "privpass256"}
	secMonitor = []string{"-v3", "-l", "authNoPriv", "-u", "monitor", "-a", "SHA-512", "-A", "authpass512"}
)

func TestNetSNMPGet(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	n := newNetSNMP(t, s, "snmpgetnext")
	want := `.1.3.6.1.2.1.1.5.0 = STRING: "sw-stack-1"
.1.3.6.1.4.1.9.9.543.1.2.3.1.3.1001.1.1 = STRING: "ipservices"
.1.3.6.1.4.1.9.9.543.1.2.3.1.5.3001.1.3 = INTEGER: 2
.1.3.6.1.2.1.47.1.1.1.1.11.2001 = STRING: "FDO1234X0CD"
`
	for name, sec := range map[string][]string{"v1": secV1, "v2c": secV2c, "SHA/AES": secNMS, "SHA-256/AES-256": secNMS256, "SHA-512 authNoPriv": secMonitor} {
		got := n.ok("snmpget", sec, sysName0, licName1, ".1.3.6.1.4.1.9.9.543.1.2.3.1.5.3001.1.3", ".1.3.6.1.2.1.47.1.1.1.1.11.2001")
		if got != want {
			t.Errorf("%s:\n%s\nwant\n%s", name, got, want)
		}
	}
	// GETNEXT from a column to its first row, and from the last object of
	// the license MIBs to the first of the SNMPv3 engine.
	got := n.ok("snmpgetnext", secNMS, ".1.3.6.1.4.1.9.9.543.1.2.3.1.14", ".1.3.6.1.4.1.9.9.640.1.4.1.0")
	if want := fmt.Sprintf(".1.3.6.1.4.1.9.9.543.1.2.3.1.14.1001.1.1 = INTEGER: 3\n.1.3.6.1.6.3.10.2.1.1.0 = Hex-STRING: %s\n",
		strings.ToUpper(regexp.MustCompile("..").ReplaceAllString(n.engine, "$0 "))); got != want {
		t.Errorf("snmpgetnext:\n%s\nwant\n%s", got, want)
	}
	// Exceptions in v2c, noSuchName in v1.
	got = n.ok("snmpget", secV2c, ".1.3.6.1.2.1.1.9.0", ".1.3.6.1.4.1.9.9.543.1.2.3.1.3.1001.1.9")
	for _, w := range []string{"No Such Object available on this agent at this OID", "No Such Instance currently exists at this OID"} {
		if !strings.Contains(got, w) {
			t.Errorf("v2c exceptions: %q lacks %q", got, w)
		}
	}
	_, errOut, err := n.run(nil, "snmpget", secV1, ".1.3.6.1.2.1.1.9.0")
	if err == nil || !strings.Contains(errOut, "noSuchName") || !strings.Contains(errOut, "Failed object: .1.3.6.1.2.1.1.9.0") {
		t.Errorf("v1 missing object: %v %s", err, errOut)
	}
}

func TestNetSNMPSecurityErrors(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	n := newNetSNMP(t, s)
	replace := func(sec []string, at int, v string) []string {
		c := append([]string{}, sec...)
		c[at] = v
		return c
	}
	for _, c := range []struct {
		name string
		sec  []string
		want string
	}{
		{"wrong community", []string{"-v2c", "-c", "private", "-r0", "-t1"}, "Timeout: No Response"},
		{"wrong auth pass", replace(secNMS, 8, "wrongpass123"), "Authentication failure"},
		{"wrong priv pass", replace(secNMS, 12, "wrongpriv123"), "Decryption error"},
		{"unknown user", replace(secNMS, 4, "stranger"), "Unknown user name"},
		{"auth-only user asking for privacy", append(replace(secMonitor, 2, "authPriv"), "-x", "AES", "-X", "privpass123"), "Unsupported security level"},
	} {
		out, errOut, err := n.run(nil, "snmpget", c.sec, sysName0)
		if err == nil || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: err %v, stdout %q, stderr %q; want %q", c.name, err, out, errOut, c.want)
		}
	}
	st := s.Stats()
	if st.BadCommunityNames == 0 || st.WrongDigests == 0 || st.DecryptionErrors == 0 || st.UnknownUserNames == 0 || st.UnsupportedSecLevels == 0 {
		t.Errorf("counters did not move: %+v", st)
	}
	// The counters are readable over SNMP too.
	got := n.ok("snmpget", secNMS, ".1.3.6.1.6.3.15.1.1.5.0", ".1.3.6.1.6.3.15.1.1.6.0")
	if want := fmt.Sprintf(".1.3.6.1.6.3.15.1.1.5.0 = Counter32: %d\n.1.3.6.1.6.3.15.1.1.6.0 = Counter32: %d\n", st.WrongDigests, st.DecryptionErrors); got != want {
		t.Errorf("usmStats over SNMP:\n%s\nwant\n%s", got, want)
	}
}

// A manager with stale engine boots and time (as after our restart) gets an
// authenticated notInTimeWindow report, re-synchronizes and succeeds.
func TestNetSNMPTimeWindowResync(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	n := newNetSNMP(t, s)
	for _, z := range []string{fmt.Sprintf("%d,0", testBoots-1), fmt.Sprintf("%d,100000", testBoots)} {
		before := s.Stats().NotInTimeWindows
		sec := append(append([]string{}, secNMS...), "-e", "0x"+n.engine, "-Z", z)
		if got := n.ok("snmpget", sec, sysName0); got != ".1.3.6.1.2.1.1.5.0 = STRING: \"sw-stack-1\"\n" {
			t.Errorf("-Z %s: %q", z, got)
		}
		if after := s.Stats().NotInTimeWindows; after != before+1 {
			t.Errorf("-Z %s: usmStatsNotInTimeWindows %d → %d", z, before, after)
		}
	}
}

func TestNetSNMPWalks(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	n := newNetSNMP(t, s, "snmpwalk", "snmpbulkwalk")
	roots := []string{".1.3.6.1.2.1.47", ".1.3.6.1.4.1.9.9.543", ".1.3.6.1.4.1.9.9.640"}
	var walked strings.Builder
	for _, root := range roots {
		walked.WriteString(n.ok("snmpwalk", secV2c, root))
	}
	golden(t, "netsnmp-walk.golden", walked.String())

	for _, root := range roots {
		want := n.ok("snmpwalk", secV2c, root)
		for name, sec := range map[string][]string{"v2c": secV2c, "SHA-256/AES-256": append(secNMS256, "-Cr50"), "authNoPriv": secMonitor} {
			if got := n.ok("snmpbulkwalk", sec, root); got != want {
				t.Errorf("snmpbulkwalk %s %s differs from snmpwalk:\n%s", name, root, diff(want, got))
			}
		}
		if got := n.ok("snmpwalk", secV1, root); got != want {
			t.Errorf("v1 snmpwalk %s differs:\n%s", root, diff(want, got))
		}
	}
	// A whole-agent walk covers every instance and ends at the end of the
	// MIB view, which net-snmp reports on a last line.
	all := strings.Split(strings.TrimSuffix(n.ok("snmpbulkwalk", secNMS, ".1"), "\n"), "\n")
	v, _ := s.snapshot(ctx)
	if len(all) != len(v.entries)+1 || !strings.Contains(all[len(all)-1], "No more variables left in this MIB View") {
		t.Errorf("walk of everything: %d lines for %d instances, ending %q", len(all), len(v.entries), all[len(all)-1])
	}
}

func TestNetSNMPTable(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	n := newNetSNMP(t, s, "snmptable")
	mibs, err := filepath.Abs(filepath.Join(fixtureDir, "mibs"))
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, err := n.run([]string{"MIBS=LICENSED-TEST-MIB", "MIBDIRS=" + mibs}, "snmptable",
		append([]string{"-Ci", "-Cf", "|"}, secNMS...), "LICENSED-TEST-MIB::licTestLicenseTable")
	if err != nil {
		t.Fatalf("snmptable: %v\n%s", err, errOut)
	}
	golden(t, "netsnmp-table.golden", out)
	if strings.Contains(errOut, "WARNING") {
		t.Errorf("snmptable warns: %s", errOut)
	}
}

func TestNetSNMPSet(t *testing.T) {
	src := newFakeSource(t)
	s := newServer(t, src, nil)
	n := newNetSNMP(t, s, "snmpset")
	got := n.ok("snmpset", secNMS256, licComment1, "s", "moved to rack 7")
	if got != licComment1+" = STRING: \"moved to rack 7\"\n" || src.comment("ipservices") != "moved to rack 7" {
		t.Errorf("snmpset: %q, comment %q", got, src.comment("ipservices"))
	}
	if got := n.ok("snmpget", secV2c, licComment1); !strings.Contains(got, "moved to rack 7") {
		t.Errorf("read back: %q", got)
	}
	for _, c := range []struct {
		sec  []string
		args []string
		want string
	}{
		{secV2c, []string{licComment1, "s", "x"}, "notWritable"},
		{secNMS, []string{licComment1, "i", "5"}, "wrongType"},
		{secNMS, []string{sysName0, "s", "x"}, "notWritable"},
		{secNMS, []string{".1.3.6.1.4.1.9.9.543.1.2.3.1.13.1001.1.99", "s", "x"}, "noCreation"},
	} {
		_, errOut, err := n.run(nil, "snmpset", c.sec, c.args...)
		if err == nil || !strings.Contains(errOut, c.want) {
			t.Errorf("snmpset %v: %v %q, want %s", c.args, err, errOut, c.want)
		}
	}
}

// golden compares got with testdata/snmp/name, rewriting it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(fixtureDir, name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n%s", name, diff(string(want), got))
	}
}

// diff shows the first differing lines.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n want %q\n  got %q", i+1, a, b)
		}
	}
	return "(equal)"
}

// The agent answers on IPv6 loopback too.
func TestNetSNMPIPv6(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	n := newNetSNMP(t, s)
	pc, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatalf("IPv6 loopback: %v", err)
	}
	cctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(cctx, pc) }()
	defer func() { cancel(); <-done; pc.Close() }()
	n.target = "udp6:" + pc.LocalAddr().String()
	if got := n.ok("snmpget", secNMS256, sysName0); got != ".1.3.6.1.2.1.1.5.0 = STRING: \"sw-stack-1\"\n" {
		t.Errorf("over IPv6: %q", got)
	}
}

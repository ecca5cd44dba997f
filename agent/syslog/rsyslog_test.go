package syslog

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/agent"
)

// rsyslogFields is the template of the receiver: one line per message with
// the properties the tests check, '|' between them, the text last.
const rsyslogFields = `%hostname%|%syslogfacility%|%syslogseverity%|%protocol-version%|%app-name%|%msgid%|` +
	`%timereported:::date-rfc3164%|%timereported:::date-rfc3339%|%syslogtag%|%msg%\n`

type rsyslogd struct {
	udpAddr, tcpAddr string
	out              string // file the receiver writes
}

// lockedBuffer collects the daemon's own output for failure reports.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startRsyslog runs rsyslogd in the foreground with UDP and TCP inputs on
// loopback and stops it when the test ends.
func startRsyslog(t *testing.T) rsyslogd {
	t.Helper()
	var bin string
	for _, name := range []string{"rsyslogd", "/usr/sbin/rsyslogd"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("rsyslogd not installed")
	}
	dir := t.TempDir()
	r := rsyslogd{out: filepath.Join(dir, "out.log")}
	udpPort, tcpPort := freeUDPPort(t), freeTCPPort(t)
	r.udpAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(udpPort))
	r.tcpAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(tcpPort))
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imudp")
module(load="imtcp")
input(type="imudp" address="127.0.0.1" port="%d")
input(type="imtcp" address="127.0.0.1" port="%d")
template(name="fields" type="string" string="%s")
if $inputname == "imudp" or $inputname == "imtcp" then {
  action(type="omfile" file=%q template="fields")
}
`, dir, udpPort, tcpPort, rsyslogFields, r.out)
	confPath := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-n", "-f", confPath, "-i", filepath.Join(dir, "rsyslogd.pid"))
	var output lockedBuffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		t.Fatalf("start rsyslogd: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("rsyslogd output:\n%s", output.String())
		}
	})

	// Ready when the TCP input accepts and a UDP probe comes out.
	deadline := time.Now().Add(10 * time.Second)
	ready := func(what string, try func() bool) {
		for !try() {
			select {
			case <-exited:
				t.Fatalf("rsyslogd exited while waiting for %s:\n%s", what, output.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("rsyslogd: no %s within 10s:\n%s", what, output.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	ready("TCP input", func() bool {
		c, err := net.DialTimeout("tcp", r.tcpAddr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	probe, err := net.Dial("udp", r.udpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	ready("UDP input", func() bool {
		probe.Write([]byte("<190>Mar  1 00:00:00 probe probe: ready"))
		b, _ := os.ReadFile(r.out)
		return bytes.Contains(b, []byte("probe|"))
	})
	return r
}

// received is one line the receiver wrote.
type received struct {
	host, facility, severity, version, appName, msgID, stamp3164, stamp3339, tag, msg string
}

func (r rsyslogd) lines(t *testing.T, host string) []received {
	t.Helper()
	b, err := os.ReadFile(r.out)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []received
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.SplitN(line, "|", 10)
		if len(f) != 10 || f[0] != host {
			continue
		}
		out = append(out, received{f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9]})
	}
	return out
}

// TestRsyslog sends every catalog message over UDP and TCP in both formats
// to a real rsyslogd and checks what it parsed: host, facility, severity,
// mnemonic and text.
func TestRsyslog(t *testing.T) {
	r := startRsyslog(t)
	var want []Message
	var events []agent.Event
	for _, c := range catalogCases() {
		events = append(events, c.e)
		want = append(want, Messages(c.e)...)
	}
	for _, network := range []string{NetworkUDP, NetworkTCP} {
		for _, format := range []string{FormatRFC3164, FormatRFC5424} {
			t.Run(network+"-"+format, func(t *testing.T) {
				host := "sw-" + network + "-" + format
				addr := r.udpAddr
				if network == NetworkTCP {
					addr = r.tcpAddr
				}
				target, err := ParseTarget(network + "://" + addr + "?format=" + format)
				if err != nil {
					t.Fatal(err)
				}
				cfg := baseConfig(target)
				cfg.Hostname = host
				cfg.Severity = SeverityDebugging
				l := New(cfg)
				ch := make(chan agent.Event)
				done := make(chan struct{})
				go func() {
					l.Run(context.Background(), ch)
					close(done)
				}()
				for i, e := range events {
					ch <- e
					if network == NetworkUDP && i%4 == 3 {
						// Pace datagrams so the receiver's socket buffer
						// never overflows; UDP has no flow control.
						waitFor(t, 5*time.Second, "datagrams to go out", func() bool {
							return l.Stats().Targets[0].Queued == 0
						})
					}
				}
				close(ch)
				<-done
				closeLogger(t, l)
				// A connect that times out on a loaded machine is retried;
				// what matters is that every message went out.
				if st := l.Stats().Targets[0]; st.Sent != uint64(len(want)) || st.Dropped != 0 {
					t.Fatalf("stats %+v, want %d sent", st, len(want))
				}

				var got []received
				waitFor(t, 10*time.Second, fmt.Sprintf("%d lines from %s", len(want), host), func() bool {
					got = r.lines(t, host)
					return len(got) >= len(want)
				})
				if len(got) != len(want) {
					t.Fatalf("%d lines, want %d", len(got), len(want))
				}
				byText := map[string]received{}
				for i, g := range got {
					text := g.tag + g.msg
					if format == FormatRFC5424 {
						text = g.msg
					}
					byText[text] = g
					if network == NetworkTCP && text != want[i].String() {
						t.Errorf("line %d out of order: %q, want %q", i, text, want[i].String())
					}
				}
				for _, m := range want {
					g, ok := byText[m.String()]
					if !ok {
						t.Errorf("rsyslog did not log %q; it has:\n%v", m.String(), got)
						continue
					}
					if g.facility != "23" || g.severity != strconv.Itoa(m.Severity) {
						t.Errorf("%s: facility %s severity %s, want 23 and %d", m.Tag(), g.facility, g.severity, m.Severity)
					}
					switch format {
					case FormatRFC3164:
						if g.version != "0" || g.tag != m.Tag()+":" || g.stamp3164 != testTime.Format(time.Stamp) {
							t.Errorf("%s: parsed as %+v", m.Tag(), g)
						}
					case FormatRFC5424:
						stamp, err := time.Parse(time.RFC3339Nano, g.stamp3339)
						if g.version != "1" || g.appName != DefaultAppName || g.msgID != m.Mnemonic || err != nil || !stamp.Equal(testTime) {
							t.Errorf("%s: parsed as %+v (timestamp error %v)", m.Tag(), g, err)
						}
					}
				}
			})
		}
	}
}

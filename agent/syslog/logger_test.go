package syslog

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/agent"
)

func fixedClock() time.Time { return testTime }

// baseConfig is a Config with short timeouts for tests.
func baseConfig(targets ...Target) Config {
	return Config{
		Targets:      targets,
		Hostname:     "sw1",
		Clock:        fixedClock,
		Location:     time.UTC,
		DialTimeout:  500 * time.Millisecond,
		WriteTimeout: 500 * time.Millisecond,
		RetryMin:     10 * time.Millisecond,
		RetryMax:     50 * time.Millisecond,
	}
}

func msg(sev int, text string) Message {
	return Message{Facility: "LICENSE", Severity: sev, Mnemonic: "TEST", Text: text}
}

// waitFor polls cond every few milliseconds for at most d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func closeLogger(t *testing.T, l *Logger) {
	t.Helper()
	start := time.Now()
	if err := l.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
}

// checkAccounting asserts that after Close every message was either sent
// or counted as dropped, for every target.
func checkAccounting(t *testing.T, l *Logger) {
	t.Helper()
	st := l.Stats()
	for _, ts := range st.Targets {
		if ts.Sent+ts.Dropped != st.Logged-st.Filtered || ts.Queued != 0 {
			t.Errorf("%s: sent %d + dropped %d != logged %d - filtered %d (queued %d)",
				ts.Target, ts.Sent, ts.Dropped, st.Logged, st.Filtered, ts.Queued)
		}
	}
}

// udpReceiver listens on loopback and returns its target and a read
// function.
func udpReceiver(t *testing.T, format string) (Target, func(time.Duration) (string, bool)) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	buf := make([]byte, 65536)
	read := func(d time.Duration) (string, bool) {
		pc.SetReadDeadline(time.Now().Add(d))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			return "", false
		}
		return string(buf[:n]), true
	}
	return Target{Network: NetworkUDP, Addr: pc.LocalAddr().String(), Format: format}, read
}

type frame struct {
	conn int // 0 for the first accepted connection
	text string
}

// tcpReceiver accepts connections and reads octet-counted frames; with
// closeAfter > 0 it closes the first connection after that many frames.
func tcpReceiver(t *testing.T, format string, closeAfter int) (Target, <-chan frame, <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	frames := make(chan frame, 1024)
	firstClosed := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func(n int, c net.Conn) {
				defer wg.Done()
				r := bufio.NewReader(c)
				for i := 0; ; i++ {
					if n == 0 && closeAfter > 0 && i == closeAfter {
						c.Close()
						close(firstClosed)
						return
					}
					text, err := readFrame(r)
					if err != nil {
						if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
							t.Errorf("connection %d: %v", n, err)
						}
						return
					}
					frames <- frame{n, text}
				}
			}(n, c)
		}
	}()
	return Target{Network: NetworkTCP, Addr: ln.Addr().String(), Format: format}, frames, firstClosed
}

// readFrame reads one RFC 6587 octet-counted frame.
func readFrame(r *bufio.Reader) (string, error) {
	lenStr, err := r.ReadString(' ')
	if err != nil {
		if lenStr == "" {
			return "", io.EOF
		}
		return "", err
	}
	n, err := strconv.Atoi(strings.TrimSuffix(lenStr, " "))
	if err != nil || n <= 0 || n > 1<<16 {
		return "", fmt.Errorf("bad frame length %q", lenStr)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("short frame: %w", err)
	}
	return string(b), nil
}

func nextFrame(t *testing.T, frames <-chan frame) frame {
	t.Helper()
	select {
	case f := <-frames:
		return f
	case <-time.After(5 * time.Second):
		t.Fatal("no frame within 5s")
		return frame{}
	}
}

func TestUDPDelivery(t *testing.T) {
	pid := strconv.Itoa(os.Getpid())
	m := Message{Facility: "LICENSE", Severity: 6, Mnemonic: "INSTALL",
		Text: "Feature ipservices 1.0 was installed in this device. UDI=WS-C3750E-24TD-S:FDO1234X0AB; StoreIndex=0:Primary License Storage"}
	for _, tt := range []struct {
		format, want string
	}{
		{FormatRFC3164, "<190>Mar  1 00:01:02 sw1 " + m.String()},
		{FormatRFC5424, "<190>1 2025-03-01T00:01:02.000Z sw1 licensed " + pid + " INSTALL - " + m.String()},
	} {
		t.Run(tt.format, func(t *testing.T) {
			target, read := udpReceiver(t, tt.format)
			cfg := baseConfig(target)
			cfg.Clock = func() time.Time { return testTime.Truncate(time.Second) }
			l := New(cfg)
			l.Log(m)
			got, ok := read(5 * time.Second)
			if !ok {
				t.Fatal("no datagram")
			}
			if got != tt.want {
				t.Errorf("datagram:\n got %q\nwant %q", got, tt.want)
			}
			closeLogger(t, l)
			checkAccounting(t, l)
			if st := l.Stats().Targets[0]; st.Sent != 1 || st.Errors != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestTCPFraming(t *testing.T) {
	for _, format := range []string{FormatRFC3164, FormatRFC5424} {
		t.Run(format, func(t *testing.T) {
			target, frames, _ := tcpReceiver(t, format, 0)
			l := New(baseConfig(target))
			msgs := []Message{
				msg(6, "first"),
				msg(4, "multi\nline\r\ntext"),
				msg(2, strings.Repeat("long ", 600)),
			}
			for _, m := range msgs {
				l.Log(m)
			}
			for i, m := range msgs {
				f := nextFrame(t, frames)
				want := string(l.hdr.line(format, testTime, m))
				if f.text != want {
					t.Errorf("frame %d:\n got %q\nwant %q", i, f.text, want)
				}
				if strings.ContainsAny(f.text, "\r\n") {
					t.Errorf("frame %d has a line break: %q", i, f.text)
				}
			}
			closeLogger(t, l)
			checkAccounting(t, l)
			if st := l.Stats().Targets[0]; st.Sent != 3 || st.Reconnects != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

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

func TestSeverityThreshold(t *testing.T) {
	for _, tt := range []struct {
		name      string
		threshold int
		want      []int // severities that reach the host
	}{
		{"default", 0, []int{0, 1, 2, 3, 4, 5, 6}},
		{"warnings", 4, []int{0, 1, 2, 3, 4}},
		{"critical", 2, []int{0, 1, 2}},
		{"debugging", 7, []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{"nothing", -1, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			target, read := udpReceiver(t, FormatRFC3164)
			cfg := baseConfig(target)
			cfg.Severity = tt.threshold
			local := &syncBuffer{}
			cfg.LocalLog = local
			l := New(cfg)
			for sev := 0; sev <= 7; sev++ {
				l.Log(msg(sev, "severity "+strconv.Itoa(sev)))
			}
			closeLogger(t, l)
			var got []int
			for {
				d, ok := read(100 * time.Millisecond)
				if !ok {
					break
				}
				var sev int
				if _, err := fmt.Sscanf(d, "<%d>", &sev); err != nil {
					t.Fatalf("datagram %q: %v", d, err)
				}
				got = append(got, sev-FacilityLocal7*8)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("host got severities %v, want %v", got, tt.want)
			}
			st := l.Stats()
			if st.Filtered != uint64(8-len(tt.want)) || st.Logged != 8 {
				t.Errorf("logged %d filtered %d, want 8 and %d", st.Logged, st.Filtered, 8-len(tt.want))
			}
			if n := strings.Count(local.String(), "\n"); n != 8 {
				t.Errorf("local log has %d lines, want all 8:\n%s", n, local.String())
			}
			checkAccounting(t, l)
		})
	}
}

// TestDeadReceiverNeverReads: the receiver accepts and never reads. Log
// must stay instant while the socket buffers fill, writes time out, and
// messages are dropped and counted.
func TestDeadReceiverNeverReads(t *testing.T) {
	ln := listenSmallBuffer(t)
	var mu sync.Mutex
	var held []net.Conn
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-accepted
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})

	cfg := baseConfig(Target{Network: NetworkTCP, Addr: ln.Addr().String(), Format: FormatRFC5424})
	cfg.QueueSize = 8
	cfg.WriteTimeout = time.Second
	l := New(cfg)
	big := msg(6, strings.Repeat("x", 2000))
	start := time.Now()
	var slowest time.Duration
	n := 0
	for ; time.Since(start) < 20*time.Second; n++ {
		t0 := time.Now()
		l.Log(big)
		if d := time.Since(t0); d > slowest {
			slowest = d
		}
		if n%64 == 0 {
			if st := l.Stats().Targets[0]; st.Errors > 0 && st.Dropped > 0 {
				break
			}
			time.Sleep(100 * time.Microsecond) // let the sender run
		}
	}
	st := l.Stats().Targets[0]
	t.Logf("%d messages in %v: %+v; slowest Log %v", n, time.Since(start), st, slowest)
	if st.Errors == 0 || st.Dropped == 0 {
		t.Fatalf("no write timeout or no drops after %d messages: %+v", n, st)
	}
	if st.Sent == 0 {
		t.Errorf("nothing sent before the buffers filled: %+v", st)
	}
	if !strings.Contains(st.LastError, "timeout") {
		t.Errorf("last error %q, want a write timeout", st.LastError)
	}
	if slowest > cfg.WriteTimeout/2 {
		// A Log that waited for the sender would take a whole write timeout.
		t.Errorf("a Log call took %v; it must not wait for the receiver", slowest)
	}
	closeLogger(t, l)
	checkAccounting(t, l)
}

// freePort returns a loopback TCP port with nothing listening.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestClosedPort(t *testing.T) {
	cfg := baseConfig(Target{Network: NetworkTCP, Addr: freePort(t)})
	cfg.QueueSize = 4
	l := New(cfg)
	start := time.Now()
	for i := range 50 {
		l.Log(msg(6, "m"+strconv.Itoa(i)))
	}
	if d := time.Since(start); d > cfg.DialTimeout {
		t.Errorf("50 Log calls took %v", d)
	}
	waitFor(t, 5*time.Second, "two failed connects", func() bool { return l.Stats().Targets[0].Errors >= 2 })
	st := l.Stats().Targets[0]
	if st.Sent != 0 || st.Connected || st.Dropped < 50-4-1 {
		t.Errorf("stats %+v: want nothing sent and at least 45 dropped", st)
	}
	if !strings.Contains(st.LastError, "refused") {
		t.Errorf("last error %q, want connection refused", st.LastError)
	}
	closeLogger(t, l)
	checkAccounting(t, l)
	if st := l.Stats().Targets[0]; st.Dropped != 50 {
		t.Errorf("after Close: %+v, want all 50 dropped", st)
	}
}

// TestReconnect: the receiver closes the connection after one message;
// the next message goes out on a new connection, none lost.
func TestReconnect(t *testing.T) {
	target, frames, firstClosed := tcpReceiver(t, FormatRFC3164, 1)
	l := New(baseConfig(target))
	l.Log(msg(6, "before"))
	if f := nextFrame(t, frames); f.conn != 0 || !strings.HasSuffix(f.text, "before") {
		t.Fatalf("first frame %+v", f)
	}
	select {
	case <-firstClosed:
	case <-time.After(5 * time.Second):
		t.Fatal("receiver did not close")
	}
	for i := range 5 {
		l.Log(msg(6, "after "+strconv.Itoa(i)))
	}
	for i := range 5 {
		f := nextFrame(t, frames)
		if f.conn != 1 || !strings.HasSuffix(f.text, "after "+strconv.Itoa(i)) {
			t.Fatalf("frame %d after the reconnect: %+v", i, f)
		}
	}
	closeLogger(t, l)
	checkAccounting(t, l)
	if st := l.Stats().Targets[0]; st.Reconnects != 1 || st.Sent != 6 {
		t.Errorf("stats %+v, want 1 reconnect and 6 sent", st)
	}
}

// TestSeveralTargets: a dead host does not hold up a live one.
func TestSeveralTargets(t *testing.T) {
	live, read := udpReceiver(t, FormatRFC5424)
	tcpLive, frames, _ := tcpReceiver(t, FormatRFC3164, 0)
	dead := Target{Network: NetworkTCP, Addr: freePort(t)}
	cfg := baseConfig(dead, live, tcpLive)
	cfg.QueueSize = 4
	l := New(cfg)
	for i := range 20 {
		l.Log(msg(5, "n"+strconv.Itoa(i)))
		// Pace the producer so the live queues of 4 never overflow.
		if i%2 == 1 {
			waitFor(t, 5*time.Second, "live hosts to catch up", func() bool {
				st := l.Stats()
				return st.Targets[1].Sent == uint64(i+1) && st.Targets[2].Sent == uint64(i+1)
			})
		}
	}
	for i := range 20 {
		d, ok := read(5 * time.Second)
		if !ok || !strings.HasSuffix(d, " n"+strconv.Itoa(i)) {
			t.Fatalf("udp datagram %d: %q %v", i, d, ok)
		}
		if f := nextFrame(t, frames); !strings.HasSuffix(f.text, " n"+strconv.Itoa(i)) {
			t.Fatalf("tcp frame %d: %q", i, f.text)
		}
	}
	closeLogger(t, l)
	checkAccounting(t, l)
	st := l.Stats()
	if st.Targets[0].Sent != 0 || st.Targets[0].Dropped != 20 || st.Targets[0].Errors == 0 {
		t.Errorf("dead target %+v", st.Targets[0])
	}
}

func TestCloseDrains(t *testing.T) {
	target, frames, _ := tcpReceiver(t, FormatRFC5424, 0)
	l := New(baseConfig(target))
	for i := range 100 {
		l.Log(msg(6, "q"+strconv.Itoa(i)))
	}
	closeLogger(t, l)
	for i := range 100 {
		if f := nextFrame(t, frames); !strings.HasSuffix(f.text, " q"+strconv.Itoa(i)) {
			t.Fatalf("frame %d: %q", i, f.text)
		}
	}
	if st := l.Stats().Targets[0]; st.Sent != 100 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
	// Close again is a no-op; Log after Close is dropped and counted.
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	l.Log(msg(6, "late"))
	if st := l.Stats(); st.Targets[0].Dropped != 1 || st.Logged != 100 {
		t.Errorf("after a late Log: %+v", st)
	}
}

func TestInvalidTargetAndMessage(t *testing.T) {
	local := &syncBuffer{}
	cfg := baseConfig(Target{Network: "sctp", Addr: "127.0.0.1:514"})
	cfg.LocalLog = local
	l := New(cfg)
	l.Log(msg(6, "ok"))
	l.Log(Message{Facility: "LICENSE", Severity: 9, Mnemonic: "BAD", Text: "x"})
	closeLogger(t, l)
	st := l.Stats()
	if ts := st.Targets[0]; ts.Dropped != 1 || !strings.Contains(ts.LastError, `unknown transport "sctp"`) {
		t.Errorf("invalid target stats %+v", ts)
	}
	if st.Invalid != 1 || !strings.Contains(st.LastInvalid, "severity 9 out of range") || st.Logged != 1 {
		t.Errorf("stats %+v", st)
	}
	if got := local.String(); got != "Mar  1 00:01:02.123 UTC: %LICENSE-6-TEST: ok\n" {
		t.Errorf("local log %q", got)
	}
	if st.Local.Sent != 1 {
		t.Errorf("local stats %+v", st.Local)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero Config: %v", err)
	}
	good, _ := ParseTarget("udp://127.0.0.1")
	if err := baseConfig(good).Validate(); err != nil {
		t.Errorf("good Config: %v", err)
	}
	for _, tt := range []struct {
		c    Config
		want string
	}{
		{Config{Targets: []Target{good, {Network: "tcp", Addr: "x"}}}, "target 2 (tcp://x)"},
		{Config{Severity: 8}, "severity 8 out of range"},
		{Config{Facility: 24}, "facility 24 out of range"},
		{Config{Facility: -1}, "facility -1 out of range"},
		{Config{QueueSize: -1}, "negative queue size"},
		{Config{DialTimeout: -time.Second}, "negative dial timeout"},
		{Config{RetryMin: time.Minute, RetryMax: time.Second}, "retry minimum 1m0s above retry maximum 1s"},
	} {
		err := tt.c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.c, err, tt.want)
		}
	}
}

func TestFacilityAndDefaults(t *testing.T) {
	target, read := udpReceiver(t, FormatRFC3164)
	cfg := baseConfig(target)
	cfg.Facility = 16 // local0
	cfg.Hostname = "core sw"
	l := New(cfg)
	l.Log(msg(3, "x"))
	d, ok := read(5 * time.Second)
	if !ok || !strings.HasPrefix(d, "<131>Mar  1 00:01:02 core-sw %LICENSE-3-TEST: x") {
		t.Errorf("datagram %q", d)
	}
	closeLogger(t, l)

	l = New(Config{})
	defer closeLogger(t, l)
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	if l.hdr.hostname != cleanHostname(host) || l.hdr.facility != FacilityLocal7 || l.threshold != DefaultSeverity ||
		l.hdr.appName != DefaultAppName || l.dialTimeout != DefaultDialTimeout || l.retryMax != DefaultRetryMax {
		t.Errorf("defaults: %+v", l.hdr)
	}
}

func TestRun(t *testing.T) {
	local := &syncBuffer{}
	cfg := baseConfig()
	cfg.LocalLog = local
	cfg.Clock = func() time.Time { return time.Date(2025, time.June, 25, 11, 18, 20, 234_000_000, time.UTC) }
	l := New(cfg)
	events := make(chan agent.Event)
	done := make(chan struct{})
	go func() {
		l.Run(context.Background(), events)
		close(done)
	}()
	events <- agent.Event{Time: testTime, Kind: agent.EventInstalled, Feature: "datak9", Version: "1.0",
		UDI: "CISCO2951:FHH1216P07R", Slot: 0, StoreName: "Primary License Storage"}
	events <- agent.Event{Kind: "noSuchKind"}
	events <- agent.Event{Kind: agent.EventBootLevel, Module: "c2951", NextLevel: "datak9", License: "datak9"}
	events <- agent.Event{Kind: agent.EventStarted, Module: "c2900", NextLevel: "ipbasek9,securityk9"}
	close(events)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return when the channel closed")
	}
	closeLogger(t, l)
	want := "Mar  1 00:01:02.123 UTC: %LICENSE-6-INSTALL: Feature datak9 1.0 was installed in this device. UDI=CISCO2951:FHH1216P07R; StoreIndex=0:Primary License Storage\n" +
		"Jun 25 11:18:20.234 UTC: %IOS_LICENSE_IMAGE_APPLICATION-6-LICENSE_LEVEL: Module name = c2951 Next reboot level = datak9 and License = datak9\n" +
		"Jun 25 11:18:20.234 UTC: %IOS_LICENSE_IMAGE_APPLICATION-6-LICENSE_LEVEL: Module name = c2900 Next reboot level = ipbasek9 and License = ipbasek9\n" +
		"Jun 25 11:18:20.234 UTC: %IOS_LICENSE_IMAGE_APPLICATION-6-LICENSE_LEVEL: Module name = c2900 Next reboot level = securityk9 and License = securityk9\n"
	if got := local.String(); got != want {
		t.Errorf("local log:\n%s\nwant:\n%s", got, want)
	}
}

func TestRunStopsOnContext(t *testing.T) {
	l := New(baseConfig())
	defer closeLogger(t, l)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		l.Run(ctx, make(chan agent.Event))
		close(done)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return when the context ended")
	}
}

// blockingWriter never returns from Write until released.
type blockingWriter struct{ release chan struct{} }

func (w blockingWriter) Write(p []byte) (int, error) {
	<-w.release
	return len(p), nil
}

func TestCloseStuckLocalLog(t *testing.T) {
	w := blockingWriter{release: make(chan struct{})}
	defer close(w.release)
	cfg := baseConfig()
	cfg.LocalLog = w
	cfg.DialTimeout, cfg.WriteTimeout = 50*time.Millisecond, 50*time.Millisecond
	cfg.QueueSize = 2
	l := New(cfg)
	for range 10 {
		l.Log(msg(6, "x"))
	}
	start := time.Now()
	err := l.Close()
	if err == nil || !strings.Contains(err.Error(), "local log") {
		t.Errorf("Close = %v, want an error naming the local log", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v with a stuck writer", d)
	}
	if st := l.Stats().Local; st.Dropped < 10-2-1 {
		t.Errorf("local stats %+v, want drops", st)
	}
}

func TestLocalLogErrors(t *testing.T) {
	cfg := baseConfig()
	cfg.LocalLog = errWriter{}
	l := New(cfg)
	l.Log(msg(6, "x"))
	closeLogger(t, l)
	if st := l.Stats().Local; st.Errors != 1 || st.Sent != 0 || !strings.Contains(st.LastError, "disk full") {
		t.Errorf("local stats %+v", st)
	}
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestBackoff(t *testing.T) {
	l := &Logger{retryMin: 100 * time.Millisecond, retryMax: time.Second}
	for _, tt := range []struct {
		n    int
		full time.Duration
	}{{1, 100 * time.Millisecond}, {2, 200 * time.Millisecond}, {4, 800 * time.Millisecond}, {5, time.Second}, {60, time.Second}} {
		for range 50 {
			d := l.backoff(tt.n)
			if d < tt.full/2 || d > tt.full {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", tt.n, d, tt.full/2, tt.full)
			}
		}
	}
}

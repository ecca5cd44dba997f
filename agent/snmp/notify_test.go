package snmp

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/licensed-dev/licensed/agent"
)

// events has one event of every kind with a notification, in the order
// the tests send them, and the notification OID each maps to.
var events = []struct {
	ev  agent.Event
	oid string
}{
	{agent.Event{Kind: agent.EventInstalled, Feature: "ipservices", Version: "1.0", Type: "permanent", EntPhysicalIndex: 1001, StoreIndex: 0, LicenseIndex: 1, Comment: "PO 4711"}, ".1.3.6.1.4.1.9.9.543.0.5"},
	{agent.Event{Kind: agent.EventCleared, Feature: "ipservices", Version: "1.0", Type: "extension", EntPhysicalIndex: 3001, LicenseIndex: 3}, ".1.3.6.1.4.1.9.9.543.0.6"},
	{agent.Event{Kind: agent.EventRevoked, Feature: "ipservices", Version: "1.0", Type: "permanent", EntPhysicalIndex: 2001, LicenseIndex: 2}, ".1.3.6.1.4.1.9.9.543.0.7"},
	{agent.Event{Kind: agent.EventEULAAccepted, Feature: "advipservices", Version: "1.0", FeatureIndex: 3}, ".1.3.6.1.4.1.9.9.543.0.8"},
	{agent.Event{Kind: agent.EventExpiryWarning, Feature: "advipservices", Version: "1.0", FeatureIndex: 3, Remaining: 1209600}, ".1.3.6.1.4.1.9.9.543.0.2"},
	{agent.Event{Kind: agent.EventExpired, Feature: "advipservices", Version: "1.0", FeatureIndex: 3}, ".1.3.6.1.4.1.9.9.543.0.1"},
	{agent.Event{Kind: agent.EventCountAboutToExceed, Feature: "phones", Version: "1.0", LicenseIndex: 7, StoreIndex: 0, FeatureIndex: 2, Capacity: 10, InUse: 8, WhatIsCounted: "IP phones"}, ".1.3.6.1.4.1.9.9.543.0.4"},
	{agent.Event{Kind: agent.EventCountExceeded, Feature: "phones", Version: "1.0", LicenseIndex: 7, FeatureIndex: 2, Capacity: 10, InUse: 10, WhatIsCounted: "IP phones"}, ".1.3.6.1.4.1.9.9.543.0.3"},
	{agent.Event{Kind: agent.EventRTUWarning, Feature: "securityk9", Version: "1.0", FeatureIndex: 2, Remaining: 864000}, ".1.3.6.1.4.1.9.9.543.0.13"},
	{agent.Event{Kind: agent.EventRTUTransition, Feature: "securityk9", Version: "1.0", FeatureIndex: 2}, ".1.3.6.1.4.1.9.9.543.0.14"},
	{agent.Event{Kind: agent.EventBootLevel, Module: "c3750e", Level: "ipservices", NextLevel: "advipservices"}, ".1.3.6.1.4.1.9.9.640.0.1"},
}

// The varbinds of each notification: the objects of its NOTIFICATION-TYPE
// with the instance of the row the event is about.
func TestNotificationVarbinds(t *testing.T) {
	s := newServer(t, newFakeSource(t), nil)
	want := map[string][]string{
		".1.3.6.1.4.1.9.9.543.0.5": {
			".1.3.6.1.4.1.9.9.543.1.2.3.1.3.1001.1.1=ipservices", ".1.3.6.1.4.1.9.9.543.1.2.3.1.4.1001.1.1=1.0",
			".1.3.6.1.4.1.9.9.543.1.2.3.1.5.1001.1.1=4", ".1.3.6.1.4.1.9.9.543.1.2.3.1.13.1001.1.1=PO 4711"},
		".1.3.6.1.4.1.9.9.543.0.6": {
			".1.3.6.1.4.1.9.9.543.1.2.3.1.3.3001.1.3=ipservices", ".1.3.6.1.4.1.9.9.543.1.2.3.1.4.3001.1.3=1.0",
			".1.3.6.1.4.1.9.9.543.1.2.3.1.5.3001.1.3=2", ".1.3.6.1.4.1.9.9.543.1.2.3.1.13.3001.1.3="},
		".1.3.6.1.4.1.9.9.543.0.8": {".1.3.6.1.4.1.9.9.543.1.2.4.1.2.1001.3=advipservices", ".1.3.6.1.4.1.9.9.543.1.2.4.1.3.1001.3=1.0"},
		".1.3.6.1.4.1.9.9.543.0.2": {
			".1.3.6.1.4.1.9.9.543.1.2.4.1.2.1001.3=advipservices", ".1.3.6.1.4.1.9.9.543.1.2.4.1.3.1001.3=1.0",
			".1.3.6.1.4.1.9.9.543.1.2.4.1.4.1001.3=1209600"},
		".1.3.6.1.4.1.9.9.543.0.4": {
			".1.3.6.1.4.1.9.9.543.1.2.3.1.3.1001.1.7=phones", ".1.3.6.1.4.1.9.9.543.1.2.3.1.4.1001.1.7=1.0",
			".1.3.6.1.4.1.9.9.543.1.2.3.1.10.1001.1.7=10", ".1.3.6.1.4.1.9.9.543.1.2.4.1.5.1001.2=IP phones",
			".1.3.6.1.4.1.9.9.543.1.2.3.1.13.1001.1.7=", ".1.3.6.1.4.1.9.9.543.1.2.3.1.11.1001.1.7=2"},
		".1.3.6.1.4.1.9.9.543.0.3": {
			".1.3.6.1.4.1.9.9.543.1.2.3.1.3.1001.1.7=phones", ".1.3.6.1.4.1.9.9.543.1.2.3.1.4.1001.1.7=1.0",
			".1.3.6.1.4.1.9.9.543.1.2.3.1.10.1001.1.7=10", ".1.3.6.1.4.1.9.9.543.1.2.4.1.5.1001.2=IP phones",
			".1.3.6.1.4.1.9.9.543.1.2.3.1.13.1001.1.7="},
		".1.3.6.1.4.1.9.9.543.0.14": {".1.3.6.1.4.1.9.9.543.1.2.4.1.2.1001.2=securityk9", ".1.3.6.1.4.1.9.9.543.1.2.4.1.3.1001.2=1.0"},
		".1.3.6.1.4.1.9.9.640.0.1": {
			// cilmCurrentImageLevel and cilmConfiguredBootImageLevel of row (1001, "c3750e").
			".1.3.6.1.4.1.9.9.640.1.1.1.2.1001.6.99.51.55.53.48.101=ipservices",
			".1.3.6.1.4.1.9.9.640.1.1.1.3.1001.6.99.51.55.53.48.101=ipservices"},
	}
	for _, e := range events {
		n, ok := s.notification(ctx, e.ev)
		if !ok {
			t.Errorf("%s: no notification", e.ev.Kind)
			continue
		}
		if len(n.vbs) < 2 || n.vbs[0].Name != sysUpTime0 || n.vbs[0].Type != gosnmp.TimeTicks ||
			n.vbs[1].Name != ".1.3.6.1.6.3.1.1.4.1.0" || n.vbs[1].Value != e.oid {
			t.Errorf("%s: header %v", e.ev.Kind, n.vbs[:min(2, len(n.vbs))])
			continue
		}
		if _, ok := n.vbs[0].Value.(uint32); !ok {
			t.Errorf("%s: sysUpTime is %T, want uint32", e.ev.Kind, n.vbs[0].Value)
		}
		w, ok := want[e.oid]
		if !ok {
			continue
		}
		var got []string
		for _, vb := range n.vbs[2:] {
			got = append(got, fmt.Sprintf("%s=%v", vb.Name, vb.Value))
		}
		if !slices.Equal(got, w) {
			t.Errorf("%s:\n got %v\nwant %v", e.ev.Kind, got, w)
		}
	}
	for _, k := range []agent.EventKind{agent.EventStarted, agent.EventTamper, agent.EventClockRollback, agent.EventStoreRecovered, agent.EventReload} {
		if _, ok := s.notification(ctx, agent.Event{Kind: k}); ok {
			t.Errorf("%s has a notification", k)
		}
	}
}

// Notification enables of the MIB and Config.Traps decide what is sent.
func TestNotificationEnables(t *testing.T) {
	for _, c := range []struct {
		name    string
		enables agent.NotifySettings
		traps   []string
		want    []string // notification OIDs sent, of all events
	}{
		{"all on", agent.NotifySettings{Usage: true, Deployment: true, ImageLevel: true}, nil, nil},
		{"usage off", agent.NotifySettings{Deployment: true, ImageLevel: true}, nil,
			[]string{".1.3.6.1.4.1.9.9.543.0.5", ".1.3.6.1.4.1.9.9.543.0.6", ".1.3.6.1.4.1.9.9.543.0.7", ".1.3.6.1.4.1.9.9.543.0.8", ".1.3.6.1.4.1.9.9.640.0.1"}},
		{"deployment off", agent.NotifySettings{Usage: true}, nil,
			[]string{".1.3.6.1.4.1.9.9.543.0.2", ".1.3.6.1.4.1.9.9.543.0.1", ".1.3.6.1.4.1.9.9.543.0.4", ".1.3.6.1.4.1.9.9.543.0.3", ".1.3.6.1.4.1.9.9.543.0.13", ".1.3.6.1.4.1.9.9.543.0.14"}},
		{"only image level", agent.NotifySettings{Usage: true, Deployment: true, ImageLevel: true}, []string{TrapsImageLevel},
			[]string{".1.3.6.1.4.1.9.9.640.0.1"}},
		{"image level MIB default off", agent.NotifySettings{Usage: true, Deployment: true}, []string{TrapsImageLevel}, []string{}},
	} {
		src := newFakeSource(t)
		src.st.Notifications = c.enables
		s := newServer(t, src, func(cfg *Config) { cfg.Traps = c.traps })
		got := []string{}
		for _, e := range events {
			if n, ok := s.notification(ctx, e.ev); ok {
				got = append(got, n.vbs[1].Value.(string))
			}
		}
		want := c.want
		if want == nil {
			for _, e := range events {
				want = append(want, e.oid)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", c.name, got, want)
		}
	}
}

// Traps on the wire: gosnmp decodes what a receiver gets.
func TestNotifyV2cOnTheWire(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s := newServer(t, newFakeSource(t), func(c *Config) {
		c.Receivers = []Receiver{{Addr: pc.LocalAddr().String(), Version: "2c", Community: "traps"}}
	})
	cctx, cancel := context.WithCancel(ctx)
	ev := make(chan agent.Event, 1)
	done := make(chan struct{})
	go func() { s.Notify(cctx, ev); close(done) }()
	ev <- events[0].ev

	var got []*gosnmp.SnmpPacket
	buf := make([]byte, 65536)
	for len(got) < 2 {
		_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("after %d notifications: %v", len(got), err)
		}
		p, err := (&gosnmp.GoSNMP{Version: gosnmp.Version2c}).SnmpDecodePacket(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p)
	}
	cancel()
	<-done
	for i, wantOID := range []string{oidColdStart, events[0].oid} {
		p := got[i]
		if p.PDUType != gosnmp.SNMPv2Trap || p.Community != "traps" {
			t.Errorf("notification %d: %v community %q", i, p.PDUType, p.Community)
		}
		if p.Variables[0].Name != sysUpTime0 || p.Variables[0].Type != gosnmp.TimeTicks || p.Variables[1].Value != wantOID {
			t.Errorf("notification %d: %v", i, p.Variables[:2])
		}
	}
	if st := s.Stats(); st.TrapsSent != 2 || st.TrapsFailed != 0 {
		t.Errorf("stats %+v", st)
	}
}

// An inform receiver that never answers costs its own queue, never the
// event stream.
func TestNotifyUnreachableReceiver(t *testing.T) {
	black, err := net.ListenPacket("udp", "127.0.0.1:0") // reads nothing, answers nothing
	if err != nil {
		t.Fatal(err)
	}
	defer black.Close()
	s := newServer(t, newFakeSource(t), func(c *Config) {
		c.Receivers = []Receiver{{Addr: black.LocalAddr().String(), Version: "2c", Inform: true}}
		c.QueueSize, c.InformTimeout, c.InformRetries = 2, 200*time.Millisecond, 1
	})
	cctx, cancel := context.WithCancel(ctx)
	ev := make(chan agent.Event) // unbuffered: every send waits for Notify
	done := make(chan struct{})
	go func() { s.Notify(cctx, ev); close(done) }()
	start := time.Now()
	for i := range 30 {
		select {
		case ev <- events[i%len(events)].ev:
		case <-time.After(2 * time.Second):
			t.Fatalf("event %d not taken for 2s: the receiver stalls the agent", i)
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("30 events took %v", d)
	}
	if st := s.Stats(); st.TrapsDropped == 0 {
		t.Errorf("nothing dropped: %+v", st)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Notify did not return after cancel")
	}
}

// snmptrapd receives every notification in v2c and v3, as trap and inform,
// and acknowledges the informs.
func TestNotifySnmptrapd(t *testing.T) {
	if _, err := exec.LookPath("snmptrapd"); err != nil {
		t.Skip("snmptrapd not installed")
	}
	dir := t.TempDir()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()

	trapUser := User{Name: "trapuser", Auth: "SHA-256", AuthPass: "trappass256", Priv: "AES-256", PrivPass: "trappriv256"}
	informUser := User{Name: "informuser", Auth: "SHA", AuthPass: "informpass1", Priv: "AES", PrivPass: "informpriv1"}
	s := newServer(t, newFakeSource(t), func(c *Config) {
		c.Receivers = []Receiver{
			{Addr: addr, Version: "2c"},
			{Addr: addr, Version: "2c", Inform: true},
			{Addr: addr, Version: "3", User: &trapUser},
			{Addr: addr, Version: "3", User: &informUser, Inform: true},
		}
	})
	// v3 traps come from our engine: the receiver knows the trap user by
	// our engine ID. Informs are sent to snmptrapd's own engine.
	conf := fmt.Sprintf(`authCommunity log public
createUser -e 0x%x trapuser SHA-256 trappass256 AES-256 trappriv256
createUser informuser SHA informpass1 AES informpriv1
authUser log trapuser
authUser log informuser
`, s.EngineID())
	if err := os.WriteFile(filepath.Join(dir, "snmptrapd.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, "traps.log")
	cmd := exec.Command("snmptrapd", "-f", "-Lf", logFile, "-C", "-c", filepath.Join(dir, "snmptrapd.conf"),
		"-On", "-F", "%P|%v\n", "udp:"+addr)
	cmd.Env = append(os.Environ(), "MIBS=", "HOME="+dir, "SNMPCONFPATH="+dir, "SNMP_PERSISTENT_DIR="+filepath.Join(dir, "persist"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	pollFile(t, logFile, 10*time.Second, "NET-SNMP version")

	cctx, cancel := context.WithCancel(ctx)
	ev := make(chan agent.Event)
	done := make(chan struct{})
	go func() { s.Notify(cctx, ev); close(done) }()
	for _, e := range events {
		ev <- e.ev
	}
	senders := []string{"TRAP2, SNMP v2c, community public|", "INFORM, SNMP v2c, community public|",
		"TRAP2, SNMP v3, user trapuser, context |", "INFORM, SNMP v3, user informuser, context |"}
	text := pollFile(t, logFile, 10*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	wantLines := len(senders) * (len(events) + 1)
	for countNotifications(text, senders) < wantLines && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		text = pollFile(t, logFile, time.Second)
	}
	cancel()
	<-done
	if n := countNotifications(text, senders); n != wantLines {
		t.Fatalf("snmptrapd logged %d notifications, want %d:\n%s", n, wantLines, text)
	}
	for _, e := range append([]struct {
		ev  agent.Event
		oid string
	}{{oid: oidColdStart}}, events...) {
		for _, sender := range senders {
			if !hasLine(text, sender, "= OID: "+e.oid+"\t", "= OID: "+e.oid+"\n") {
				t.Errorf("no %s from %q", e.oid, sender)
			}
		}
	}
	// A sample of the payload as the receiver decoded it.
	for _, w := range []string{
		`.1.3.6.1.4.1.9.9.543.1.2.3.1.3.1001.1.1 = STRING: "ipservices"`,
		`.1.3.6.1.4.1.9.9.543.1.2.3.1.13.1001.1.1 = STRING: "PO 4711"`,
		`.1.3.6.1.4.1.9.9.543.1.2.4.1.4.1001.3 = Gauge32: 1209600`,
		`.1.3.6.1.4.1.9.9.640.1.1.1.2.1001.6.99.51.55.53.48.101 = STRING: "ipservices"`,
	} {
		if strings.Count(text, w) != len(senders) {
			t.Errorf("%q logged %d times, want %d", w, strings.Count(text, w), len(senders))
		}
	}
	st := s.Stats()
	if st.InformsAcked != uint64(2*(len(events)+1)) || st.TrapsSent != uint64(wantLines) || st.TrapsFailed != 0 || st.TrapsDropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

func countNotifications(text string, senders []string) int {
	n := 0
	for _, line := range strings.Split(text, "\n") {
		for _, s := range senders {
			if strings.HasPrefix(line, s) {
				n++
			}
		}
	}
	return n
}

// hasLine reports whether a line starts with prefix and contains one of
// the alternatives.
func hasLine(text, prefix string, alts ...string) bool {
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		for _, a := range alts {
			if strings.Contains(line+"\n", a) {
				return true
			}
		}
	}
	return false
}

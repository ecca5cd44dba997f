package soak

import (
	"strings"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/license"
	"github.com/licensed-dev/licensed/licensestore"
)

// TestClockRolledBackDaemon plays clock games on the real daemon. Its
// clock cannot be stepped from a test (it is the host's clock, and
// libfaketime does not reach a Go binary, which reads the clock through
// the vDSO), so each case sets the high-water mark the device keeps in
// its store, written with the device's own store key, to the time the
// clock showed before being set back. From the daemon's side that is the
// same as its clock having been stepped back by that much while it was
// down. The injected-clock tests in agent/clock_reliability_test.go cover
// steps while it runs.
func TestClockRolledBackDaemon(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	cases := []struct {
		name     string
		ahead    time.Duration // how far the clock was ahead of now
		start    time.Duration // subscription start and end, from now
		end      time.Duration
		alarm    bool
		activeOK bool // the subscription may serve
	}{
		{"NTP step of 2 minutes", 2 * time.Minute, -24 * time.Hour, 30 * 24 * time.Hour, false, true},
		{"9 minutes (inside the tolerance)", 9 * time.Minute, -24 * time.Hour, 30 * 24 * time.Hour, false, true},
		{"back a year, subscription ended meanwhile", 365 * 24 * time.Hour, -24 * time.Hour, 30 * 24 * time.Hour, true, false},
		{"back 20 days, subscription started meanwhile", 20 * 24 * time.Hour, 10 * 24 * time.Hour, 40 * 24 * time.Hour, true, true},
	}
	p := newPortal(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sink := newSyslogSink(t)
			d := newDevice(t, p, "--syslog", sink.url())
			d.start()
			sub := p.license(t, "ipservices", func(l *license.License) {
				l.Type = license.PaidSubscription
				l.Start = now.Add(c.start)
				l.End = now.Add(c.end)
			})
			d.must("license", "install", p.file(t, sub))
			d.stop()

			st := d.openStore()
			err := st.Update(func(tx *licensestore.Tx) error {
				var hw time.Time
				if ok, err := tx.Get("highWater", &hw); err != nil || !ok {
					t.Errorf("no high-water mark in the store (%v)", err)
				}
				return tx.Put("highWater", now.Add(c.ahead))
			})
			st.Close()
			if err != nil {
				t.Fatal(err)
			}

			d.start()
			d.waitLog("LICENSE_LEVEL")
			alarmed := strings.Contains(d.log.String(), "CLOCK_ROLLBACK")
			if alarmed != c.alarm {
				t.Fatalf("clock rollback alarm %v, want %v:\n%s", alarmed, c.alarm, d.log)
			}
			if c.alarm {
				if _, ok := sink.wait("CLOCK_ROLLBACK", devUDI); !ok {
					t.Fatalf("no CLOCK_ROLLBACK message at the syslog receiver:\n%s", sink.all())
				}
			}
			l, ok := lic(d.status(), "ipservices", "paidSubscription")
			if !ok {
				t.Fatal("subscription gone")
			}
			if active := l.State == "inUse" || l.State == "notInUse"; active != c.activeOK {
				t.Fatalf("subscription %s (from %s to %s, clock %s, high-water %s): active %v, want %v",
					l.State, sub.Start, sub.End, now, now.Add(c.ahead), active, c.activeOK)
			}
		})
	}
}

package agent

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/license"
)

// The clock games of docs/RELIABILITY.md, played on the rig's fake wall
// clock. The fake clock's readings carry no monotonic reading, so usage is
// metered from wall-clock differences here: the harshest case, since the
// real clock meters usage on the monotonic clock, which a wall-clock step
// does not move at all. (libfaketime cannot move a Go binary's clock, which
// reads the vDSO directly, so the daemon's real clock cannot be stepped
// from a test; soak/clock_test.go covers the daemon's side through its
// stored high-water mark.)

const year = 365 * day

// evalRig is a device running advipservices on its evaluation, with a
// paid subscription for ipservices valid from a day ago for 90 days.
func evalRig(t *testing.T) (*rig, *license.License) {
	t.Helper()
	r := newRig(t, "c3750e")
	ctx := context.Background()
	sub := r.issue("ipservices", func(l *license.License) {
		l.Type = license.PaidSubscription
		l.Start = r.clock.Now().Add(-day)
		l.End = r.clock.Now().Add(90 * day)
	})
	r.install(sub)
	if _, err := r.a.SetBootLevel(ctx, "advipservices"); err != nil {
		t.Fatal(err)
	}
	if err := r.a.AcceptEULA(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if l := r.license("advipservices", "evaluation"); l.State != "inUse" {
		t.Fatalf("evaluation not in use: %+v", l)
	}
	// Some usage first, a day at a time.
	for range 3 {
		r.clock.Advance(day)
		r.a.Tick()
	}
	r.drain()
	return r, sub
}

// active: the license may serve (not before its start, not expired).
func active(l LicenseInfo) bool { return l.State == "inUse" || l.State == "notInUse" }

func count(kinds []EventKind, k EventKind) int {
	n := 0
	for _, x := range kinds {
		if x == k {
			n++
		}
	}
	return n
}

// TestClockBackAYearReliability: the wall clock set back a year gains the
// evaluation nothing, raises one rollback alarm (again at the next start),
// and the subscription is judged against the high-water mark: a clock now
// before the subscription's start does not stop it, and after its end a
// rolled-back clock does not revive it.
func TestClockBackAYearReliability(t *testing.T) {
	r, sub := evalRig(t)
	before := r.license("advipservices", "evaluation")
	subBefore := r.license("ipservices", "paidSubscription")
	if !active(subBefore) {
		t.Fatalf("subscription not active to begin with: %+v", subBefore)
	}

	r.clock.Advance(-year)
	for range 5 {
		r.a.Tick()
	}
	ev := r.drain()
	if n := count(ev, EventClockRollback); n != 1 {
		t.Fatalf("clock back a year: %d rollback alarms (events %v), want exactly 1", n, ev)
	}
	after := r.license("advipservices", "evaluation")
	if after.Used < before.Used || after.Remaining > before.Remaining {
		t.Fatalf("the evaluation gained time: before %+v, after %+v", before, after)
	}
	// The subscription started a day before the high-water mark and the
	// wall clock is now a year before its start: still active.
	if l := r.license("ipservices", "paidSubscription"); l.State != subBefore.State {
		t.Fatalf("subscription judged by the rolled-back clock: %s, was %s", l.State, subBefore.State)
	}

	// A day of use on the rolled-back clock is a day of use.
	r.clock.Advance(day)
	r.a.Tick()
	if got := r.license("advipservices", "evaluation").Used; got != after.Used+Seconds(day/time.Second) {
		t.Fatalf("usage after a day on the rolled-back clock: %d s, want %d s", got, after.Used+Seconds(day/time.Second))
	}

	// A restart with the clock still behind reports it again and keeps
	// the usage.
	used := r.license("advipservices", "evaluation").Used
	r.restart()
	if ev := r.drain(); count(ev, EventClockRollback) != 1 {
		t.Fatalf("restart on a rolled-back clock: events %v, want one rollback alarm", ev)
	}
	if got := r.license("advipservices", "evaluation").Used; got < used {
		t.Fatalf("restart on a rolled-back clock: used %d s, was %d s", got, used)
	}

	// Past the subscription's end by the high-water mark, then back a year:
	// it stays ended, and a reload does not bring it back.
	r.clock.Advance(year + 100*day)
	r.a.Tick()
	r.clock.Advance(-year)
	r.a.Tick()
	if err := r.a.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, l := range r.status().Licenses {
		if l.ID == sub.ID && active(l) {
			t.Fatalf("ended subscription revived by the rolled-back clock: %s", l.State)
		}
	}
}

// TestClockForwardAYearReliability: the wall clock set forward a year (a
// bad RTC) gains the evaluation nothing and raises no rollback alarm.
// Setting it right again is a step back past the high-water mark: that is
// alarmed, and calendar licenses stay judged by the later time.
func TestClockForwardAYearReliability(t *testing.T) {
	r, _ := evalRig(t)
	before := r.license("advipservices", "evaluation")
	r.clock.Advance(year)
	r.a.Tick()
	ev := r.drain()
	if count(ev, EventClockRollback) != 0 || count(ev, EventTamper) != 0 {
		t.Fatalf("a forward step raised %v", ev)
	}
	after := r.license("advipservices", "evaluation")
	if after.Used < before.Used || after.Remaining > before.Remaining {
		t.Fatalf("the evaluation gained time: before %+v, after %+v", before, after)
	}
	// The subscription ends 90 days after install; a year on it has ended.
	if l := r.license("ipservices", "paidSubscription"); active(l) {
		t.Fatalf("subscription a year after its end: %s", l.State)
	}
	r.clock.Advance(-year)
	r.a.Tick()
	if ev := r.drain(); count(ev, EventClockRollback) != 1 {
		t.Fatalf("setting the clock right after a year ahead: events %v, want one rollback alarm", ev)
	}
	if l := r.license("ipservices", "paidSubscription"); active(l) {
		t.Fatalf("subscription judged by the corrected clock, not the high-water mark: %s", l.State)
	}
}

// TestClockNTPStepsReliability: small corrections either way raise no
// alarm and never take usage back; a step back beyond the tolerance raises
// one alarm, which re-arms once the clock has caught up.
func TestClockNTPStepsReliability(t *testing.T) {
	r, _ := evalRig(t)
	steps := []time.Duration{
		500 * time.Millisecond, -500 * time.Millisecond, -2 * time.Second, 30 * time.Second,
		-time.Second, -5 * time.Minute, time.Hour, -DefaultRollbackTolerance + time.Second, 2 * time.Hour,
	}
	last := r.license("advipservices", "evaluation").Used
	for _, s := range steps {
		r.clock.Advance(s)
		r.a.Tick()
		r.clock.Advance(time.Second)
		r.a.Tick()
		if ev := r.drain(); len(ev) != 0 {
			t.Fatalf("step %v raised %v", s, ev)
		}
		used := r.license("advipservices", "evaluation").Used
		if used < last {
			t.Fatalf("step %v took usage back from %d s to %d s", s, last, used)
		}
		last = used
	}
	if len(r.status().Tamper) != 0 {
		t.Fatalf("small steps left tamper findings: %v", r.status().Tamper)
	}

	// Beyond the tolerance: one alarm, however many ticks it stays behind.
	r.clock.Advance(-DefaultRollbackTolerance - time.Minute)
	for range 10 {
		r.a.Tick()
	}
	if ev := r.drain(); !slices.Equal(ev, []EventKind{EventClockRollback}) {
		t.Fatalf("step back beyond the tolerance: %v, want one rollback alarm", ev)
	}
	// Caught up: the next rollback is a new alarm.
	r.clock.Advance(DefaultRollbackTolerance + 2*time.Minute)
	r.a.Tick()
	r.clock.Advance(-DefaultRollbackTolerance - time.Minute)
	r.a.Tick()
	if ev := r.drain(); count(ev, EventClockRollback) != 1 {
		t.Fatalf("second rollback: %v, want one alarm", ev)
	}
}

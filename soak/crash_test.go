package soak

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/licensed-dev/licensed/agent"
)

// crashScale is the usage clock of the crash harness: above 1000, so
// licensed checkpoints usage every 5 s of real time (cmd/licensed), and
// slow enough that the evaluation lasts 3456 s of real running time,
// longer than 500 cycles take.
const (
	crashScale      = 1500
	crashCheckpoint = 5 * time.Second // licensed's checkpoint interval at this scale
	crashTick       = 100 * time.Millisecond
)

// opState is what the test knows about one license.
type opState int

const (
	present opState = iota // install acknowledged, no clear acknowledged since
	gone                   // clear acknowledged
	unknown                // an install or clear was in flight at the kill
)

// crashModel is the clients' view: every acknowledged install and clear.
type crashModel struct {
	mu    sync.Mutex
	state map[string]opState
	// killing is set just before SIGKILL: a request that fails after it
	// was cut by the kill; one that fails before it is a bug.
	killing atomic.Bool
	failed  []string

	installs, clears, cut atomic.Int64
}

// TestCrashCycles kills licensed with SIGKILL at random moments while
// clients install and clear licenses and while it checkpoints evaluation
// usage, and checks after every restart that the store opens cleanly and
// passes bbolt's check, that every acknowledged install is there and every
// acknowledged clear stuck, that no license is half installed, and that
// evaluation usage went back by at most one checkpoint interval.
//
// Short: 15 cycles. SOAK=1: SOAK_CYCLES (default 500). SOAK_SEED repeats a
// run.
func TestCrashCycles(t *testing.T) {
	cycles := 15
	if long() {
		cycles = envInt(t, "SOAK_CYCLES", 500)
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SOAK_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("SOAK_SEED: %v", err)
		}
	}
	t.Logf("SOAK_SEED=%d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	p := newPortal(t)
	d := newDevice(t, p, "--time-scale", strconv.Itoa(crashScale))
	d.start()
	d.startEvaluation()

	m := &crashModel{state: map[string]opState{}}
	eval := func(what string) agent.LicenseInfo {
		l, ok := lic(d.status(), "advipservices", "evaluation")
		if !ok {
			t.Fatalf("%s: no advipservices evaluation", what)
		}
		return l
	}
	eval("start")
	var persisted agent.Seconds // usage the store holds at least
	started := time.Now()
	var (
		checkpointCycles, checkpointSaved int
		maxLost                           agent.Seconds
		restartTotal                      time.Duration
		restartMax                        time.Duration
	)
	for cycle := 1; cycle <= cycles; cycle++ {
		// One cycle in ten (only the third of the short run) lets the
		// daemon run past its first checkpoint and kills it around it.
		atCheckpoint := cycle%10 == 3 && (long() || cycle < 10)
		var delay time.Duration
		switch {
		case atCheckpoint && long():
			// From just before the checkpoint to well after it, so some
			// kills land while it is being written.
			delay = crashCheckpoint - 200*time.Millisecond + time.Duration(rng.Int64N(int64(800*time.Millisecond)))
			checkpointCycles++
		case atCheckpoint:
			// Past the checkpoint: the bound on lost usage below fails
			// unless it reached the store.
			delay = crashCheckpoint + 500*time.Millisecond + time.Duration(rng.Int64N(int64(300*time.Millisecond)))
			checkpointCycles++
		default:
			delay = time.Duration(rng.Int64N(int64(400 * time.Millisecond)))
		}
		upAt := time.Now()
		m.killing.Store(false)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); m.work(t, d, p, rng.Uint64(), stop) }()

		time.Sleep(time.Until(upAt.Add(delay)))
		before := eval(fmt.Sprintf("cycle %d before the kill", cycle))
		observedAt := time.Now()
		m.killing.Store(true)
		d.kill()
		killedAt := time.Now()
		close(stop)
		wg.Wait()

		stored, err := boltCheck(d.db(), before.ID)
		if err != nil {
			t.Fatalf("cycle %d: after SIGKILL the store fails bbolt's check: %v", cycle, err)
		}
		t0 := time.Now()
		d.start()
		took := time.Since(t0)
		restartTotal += took
		restartMax = max(restartMax, took)
		if log := d.log.String(); containsAny(log, "STORE_RECOVERED", "TAMPER", "CLOCK_ROLLBACK", "damaged", "failed verification") {
			t.Fatalf("cycle %d: the restart after SIGKILL found trouble:\n%s", cycle, log)
		}

		st := d.status()
		m.check(t, cycle, st)
		after, _ := lic(st, "advipservices", "evaluation")
		if after.State != "inUse" && after.State != "expiredInUse" {
			t.Fatalf("cycle %d: evaluation %s after restart, want it still serving", cycle, after.State)
		}
		// The usage the killed daemon left in the store never goes below
		// what the store held before, never exceeds what ran before the
		// kill, and lags what was metered by at most one checkpoint
		// interval (plus a tick). The restarted daemon starts from it.
		if stored < persisted {
			t.Fatalf("cycle %d: stored usage went back from %d s to %d s", cycle, persisted, stored)
		}
		// (The daemon meters at its ticks: a second of slack covers a tick
		// delayed by a busy machine.)
		gainBound := before.Used + agent.Seconds((killedAt.Sub(observedAt)+time.Second).Seconds()*crashScale)
		if stored > gainBound {
			t.Fatalf("cycle %d: stored usage %d s exceeds the %d s that can have run", cycle, stored, gainBound)
		}
		lostBound := agent.Seconds((crashCheckpoint+crashTick).Seconds()*crashScale) + 1
		if lost := before.Used - stored; lost > lostBound {
			t.Fatalf("cycle %d: %d s of usage lost, more than one checkpoint interval (%d s)", cycle, lost, lostBound)
		} else if lost > maxLost {
			maxLost = lost
		}
		if after.Used < stored {
			t.Fatalf("cycle %d: the restarted daemon shows %d s used, below the %d s stored", cycle, after.Used, stored)
		}
		if atCheckpoint && stored > persisted {
			checkpointSaved++
		}
		persisted = stored
		if cycle%50 == 0 {
			t.Logf("%d/%d cycles, %.0f s: %d installs and %d clears acknowledged, %d cut", cycle, cycles,
				time.Since(started).Seconds(), m.installs.Load(), m.clears.Load(), m.cut.Load())
		}
	}
	if m.installs.Load() == 0 || m.clears.Load() == 0 || checkpointCycles == 0 {
		t.Fatalf("the cycles did not exercise everything: %d installs, %d clears, %d checkpoint cycles",
			m.installs.Load(), m.clears.Load(), checkpointCycles)
	}
	if len(m.failed) > 0 {
		t.Fatalf("requests failed while licensed was up:\n%s", strings.Join(m.failed, "\n"))
	}
	figure(t, "%d kill -9 cycles survived in %.0f s: %d installs and %d clears acknowledged, %d requests cut by the kill, "+
		"0 lost or half-installed licenses; usage lost at most %d s of %d s allowed (one %v checkpoint at scale %d); "+
		"%d/%d kills after a checkpoint kept its usage; restart mean %v, max %v",
		cycles, time.Since(started).Seconds(), m.installs.Load(), m.clears.Load(), m.cut.Load(),
		maxLost, agent.Seconds((crashCheckpoint+crashTick).Seconds()*crashScale), crashCheckpoint, crashScale,
		checkpointSaved, checkpointCycles, (restartTotal / time.Duration(cycles)).Round(time.Millisecond), restartMax.Round(time.Millisecond))
	if checkpointSaved == 0 && (checkpointCycles >= 5 || !long()) {
		t.Errorf("no kill after a checkpoint found its usage in the store")
	}
}

// work installs and clears licenses through licensectl, one at a time,
// until stop closes or a request is cut by the kill.
func (m *crashModel) work(t *testing.T, d *device, p *portal, seed uint64, stop chan struct{}) {
	rng := rand.New(rand.NewPCG(seed, 2))
	for {
		select {
		case <-stop:
			return
		default:
		}
		if rng.IntN(4) == 0 {
			m.mu.Lock()
			var ids []string
			for id, s := range m.state {
				if s != gone && strings.Contains(id, "-ipservices-") {
					ids = append(ids, id)
				}
			}
			m.mu.Unlock()
			if len(ids) == 0 {
				continue
			}
			out, code := d.ctl("license", "clear", "ipservices")
			m.mu.Lock()
			switch {
			case code == 0:
				m.clears.Add(1)
				for _, id := range ids {
					m.state[id] = gone
				}
			case m.killing.Load():
				m.cut.Add(1)
				for _, id := range ids {
					m.state[id] = unknown
				}
			default:
				m.failed = append(m.failed, fmt.Sprintf("license clear: exit %d: %s", code, out))
			}
			m.mu.Unlock()
			if code != 0 {
				return
			}
			continue
		}
		feature := "ipservices"
		l := p.license(t, feature, nil)
		file := p.file(t, l)
		m.mu.Lock()
		m.state[l.ID] = unknown
		m.mu.Unlock()
		out, code := d.ctl("license", "install", file)
		os.Remove(file)
		m.mu.Lock()
		switch {
		case code == 0 && strings.Contains(out, "1/1 licenses were successfully installed"):
			m.installs.Add(1)
			m.state[l.ID] = present
		case m.killing.Load():
			m.cut.Add(1)
		default:
			m.failed = append(m.failed, fmt.Sprintf("license install: exit %d: %s", code, out))
		}
		m.mu.Unlock()
		if code != 0 {
			return
		}
	}
}

// check compares the restarted daemon's licenses with the model and
// settles the unknown ones to what the store kept.
func (m *crashModel) check(t *testing.T, cycle int, st *agent.Status) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	have := map[string]agent.LicenseInfo{}
	for _, l := range st.Licenses {
		if l.Type != "evaluation" {
			have[l.ID] = l
		}
	}
	for id, s := range m.state {
		_, ok := have[id]
		switch {
		case s == present && !ok:
			t.Fatalf("cycle %d: acknowledged install %s is missing after the restart", cycle, id)
		case s == gone && ok:
			t.Fatalf("cycle %d: license %s came back after an acknowledged clear", cycle, id)
		case s == unknown && ok:
			m.state[id] = present
		case s == unknown:
			m.state[id] = gone
		}
	}
	for id, l := range have {
		if _, known := m.state[id]; !known {
			t.Fatalf("cycle %d: license %s appeared that no client installed", cycle, id)
		}
		// A license is whole: it verified at boot (else it would not be
		// listed) and carries everything its signed text said.
		if l.Feature != "ipservices" || l.Type != "permanent" || l.UDI != devUDI || l.KeyID == "" || l.Index == 0 {
			t.Fatalf("cycle %d: license %s is not whole after the restart: %+v", cycle, id, l)
		}
	}
}

// boltCheck opens the store read-only with bbolt itself, runs its
// consistency check (an independent judge of the file licensed left) and
// returns the usage stored for usageID, read from the raw record.
func boltCheck(path, usageID string) (agent.Seconds, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var used agent.Seconds
	err = db.View(func(tx *bolt.Tx) error {
		var errs []string
		for err := range tx.Check() {
			errs = append(errs, err.Error())
		}
		if len(errs) > 0 {
			return fmt.Errorf("%d problems: %s", len(errs), strings.Join(errs, "; "))
		}
		u, err := rawUsage(tx, usageID)
		used = agent.Seconds(u / time.Second)
		return err
	})
	return used, err
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

package licensestore

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as a second licensed process: TestMain runs it in
// one of the modes below when LICENSESTORE_CHILD is set.
const (
	childEnv  = "LICENSESTORE_CHILD"
	childPath = "LICENSESTORE_CHILD_PATH"
)

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "open":
		os.Exit(childOpen())
	case "hold":
		os.Exit(childHold())
	}
	os.Exit(m.Run())
}

type childResult struct {
	Locked  bool   `json:"locked"`
	Err     string `json:"err"`
	Elapsed int64  `json:"elapsed_ms"`
}

// childOpen tries to open the store once and reports how it went.
func childOpen() int {
	start := time.Now()
	s, _, err := Open(Options{Path: os.Getenv(childPath), MACKey: testKey, Timeout: 300 * time.Millisecond})
	if err == nil {
		s.Close()
	}
	r := childResult{Locked: errors.Is(err, ErrLocked), Elapsed: time.Since(start).Milliseconds()}
	if err != nil {
		r.Err = err.Error()
	}
	json.NewEncoder(os.Stdout).Encode(r)
	return 0
}

// childHold opens the store and holds it until stdin closes.
func childHold() int {
	s, _, err := Open(Options{Path: os.Getenv(childPath), MACKey: testKey, Timeout: 2 * time.Second})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer s.Close()
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	return 0
}

func childCmd(ctx context.Context, mode, path string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, childPath+"="+path)
	return cmd
}

func checkLockedErr(t *testing.T, err error, path string) {
	t.Helper()
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	for _, want := range []string{"another licensed holds the store", path} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestLockSameProcess(t *testing.T) {
	o := testOptions(t)
	s, _ := mustOpen(t, o)
	fill(t, s, 1)

	start := time.Now()
	_, _, err := Open(o)
	elapsed := time.Since(start)
	checkLockedErr(t, err, o.Path)
	if elapsed < o.Timeout-50*time.Millisecond || elapsed > o.Timeout+time.Second {
		t.Errorf("gave up after %v with Timeout %v", elapsed, o.Timeout)
	}

	once := o
	once.Timeout = -1
	start = time.Now()
	_, _, err = Open(once)
	checkLockedErr(t, err, o.Path)
	if elapsed := time.Since(start); elapsed > 200*time.Millisecond {
		t.Errorf("negative Timeout still waited %v", elapsed)
	}

	// The refused opener touched nothing; the holder carries on.
	mustUpdate(t, s, func(tx *Tx) error { return tx.Put("still", "mine") })
	s.Close()
	s, rep := mustOpen(t, o)
	defer s.Close()
	if rep.Recovered || rep.Rollback || rep.Created {
		t.Fatalf("open after the holder closed: %+v", rep)
	}
}

func TestLockOtherProcess(t *testing.T) {
	o := testOptions(t)
	s, _ := mustOpen(t, o)
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	out, err := childCmd(ctx, "open", o.Path).Output()
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	var r childResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("child said %q: %v", out, err)
	}
	if !r.Locked || !strings.Contains(r.Err, "another licensed holds the store "+o.Path) {
		t.Fatalf("child result %+v, want ErrLocked naming %s", r, o.Path)
	}
	if r.Elapsed < 250 || r.Elapsed > 1300 {
		t.Errorf("child gave up after %d ms with a 300 ms timeout", r.Elapsed)
	}
}

// A holder killed with SIGKILL releases the lock (the kernel drops the
// flock with the process) and leaves a store that opens cleanly.
func TestLockHolderKilled(t *testing.T) {
	o := testOptions(t)
	s, _ := mustOpen(t, o)
	fill(t, s, 2)
	want := readAll(t, s)
	s.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := childCmd(ctx, "hold", o.Path)
	stdin, _ := cmd.StdinPipe()
	defer stdin.Close()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child: %q, %v", line, err)
	}

	_, _, err = Open(o)
	checkLockedErr(t, err, o.Path)

	cmd.Process.Kill()
	cmd.Wait()
	s, rep := mustOpen(t, o)
	defer s.Close()
	if rep.Recovered || rep.Created || rep.Rollback {
		t.Fatalf("open after the holder was killed: %+v", rep)
	}
	if got := readAll(t, s); !sameData(got, want) {
		t.Fatalf("contents changed:\n%s", diff(got, want))
	}
}

// Openers racing on a missing or damaged store: exactly one wins and does
// the work once; the rest are refused with ErrLocked.
func TestConcurrentOpenRaces(t *testing.T) {
	fx := makeFixture(t)
	tests := []struct {
		name  string
		setup func(t *testing.T) Options
		check func(t *testing.T, rep OpenReport)
	}{
		{"missing store", func(t *testing.T) Options { return testOptions(t) }, func(t *testing.T, rep OpenReport) {
			if !rep.Created {
				t.Errorf("winner's report %+v, want Created", rep)
			}
		}},
		{"damaged store", func(t *testing.T) Options {
			o := fx.clone(t, true)
			os.Truncate(o.Path, 8192)
			return o
		}, func(t *testing.T, rep OpenReport) {
			if !rep.Recovered {
				t.Errorf("winner's report %+v, want Recovered", rep)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.setup(t)
			const n = 6
			type result struct {
				s   *Store
				rep OpenReport
				err error
			}
			results := make(chan result, n)
			for i := 0; i < n; i++ {
				go func() {
					s, rep, err := Open(o)
					results <- result{s, rep, err}
				}()
			}
			var winners []result
			for i := 0; i < n; i++ {
				r := <-results
				switch {
				case r.err == nil:
					winners = append(winners, r)
				case !errors.Is(r.err, ErrLocked):
					t.Errorf("loser: %v, want ErrLocked", r.err)
				}
			}
			if len(winners) != 1 {
				t.Fatalf("%d openers won", len(winners))
			}
			tt.check(t, winners[0].rep)
			winners[0].s.Close()
			if d := damagedFiles(t, o); len(d) > 1 {
				t.Errorf("the damage was handled more than once: %v", d)
			}
			s, rep := mustOpen(t, o)
			s.Close()
			if rep.Recovered || rep.Created {
				t.Fatalf("reopen: %+v", rep)
			}
		})
	}
}

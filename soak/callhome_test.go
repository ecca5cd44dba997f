package soak

import (
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// startPortalServer runs licportal serve on p's state directory.
func startPortalServer(t *testing.T, p *portal) string {
	t.Helper()
	addr := freePort(t, "tcp")
	cmd := exec.Command(bin("licportal"), "serve", "--state-dir", p.dir, "--listen", addr)
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "https://" + addr
		}
		select {
		case <-done:
			t.Fatalf("licportal serve exited:\n%s", log)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("licportal serve did not listen on %s:\n%s", addr, log)
	return ""
}

// TestCrashCallHome kills licensed while it redeems PAKs at the portal
// (license call-home install pak), and checks after every restart that the
// store is sound, every acknowledged redemption is installed, and no PAK
// was installed twice; at the end a resend brings nothing new twice either.
//
// Short: 5 cycles; SOAK=1: 100.
func TestCrashCallHome(t *testing.T) {
	p := newPortal(t)
	url := startPortalServer(t, p)
	d := newDevice(t, p, "--portal", url, "--portal-ca", filepath.Join(p.dir, "ca.pem"))
	d.launch()
	if err := d.up(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	d.waitLog("; control socket ")

	cycles := 5
	if long() {
		cycles = 100
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	acked := map[string]bool{}
	var paks []string
	cut := 0
	var took time.Duration
	for cycle := 1; cycle <= cycles; cycle++ {
		out, err := exec.Command(bin("licportal"), "pak", "create", "--state-dir", p.dir, "--sku", "c3750e-ipservices").Output()
		if err != nil {
			t.Fatalf("licportal pak create: %v", err)
		}
		pak := strings.TrimSpace(string(out))
		paks = append(paks, pak)
		var wg sync.WaitGroup
		var code int
		var res string
		began := time.Now()
		wg.Go(func() { res, code = d.ctl("license", "call-home", "install", "pak", pak, "--yes") })
		if cycle == 1 {
			// The first redemption runs to the end: its time sizes the
			// window the later kills fall in.
			wg.Wait()
			took = time.Since(began)
			t.Logf("a redemption takes %v", took)
		} else {
			time.Sleep(time.Duration(rng.Int64N(int64(took*3/2) + 1)))
		}
		d.kill()
		wg.Wait()
		switch {
		case code == 0:
			acked[pak] = true
		case code == 3 || code == 1:
			cut++
		default:
			t.Fatalf("cycle %d: call-home install pak: exit %d\n%s", cycle, code, res)
		}
		if _, err := boltCheck(d.db(), "builtin:advipservices"); err != nil {
			t.Fatalf("cycle %d: store after SIGKILL: %v", cycle, err)
		}
		d.start()
		if containsAny(d.log.String(), "STORE_RECOVERED", "TAMPER") {
			t.Fatalf("cycle %d: restart found trouble:\n%s", cycle, d.log)
		}
		checkPAKs(t, d, paks, acked, 5*time.Second)
	}
	// The portal limits each device to 2 requests a second (bursts of
	// 20): after many quick cycles the resend may be told to wait.
	for deadline := time.Now().Add(30 * time.Second); ; {
		out, code := d.ctl("license", "call-home", "resend")
		if code == 0 {
			break
		}
		if !strings.Contains(out, "rate-limited") || time.Now().After(deadline) {
			t.Fatalf("license call-home resend: exit %d\n%s", code, out)
		}
		time.Sleep(time.Second)
	}
	n := checkPAKs(t, d, paks, acked, 30*time.Second)
	settled := 0
	for _, pak := range paks {
		if !acked[pak] && n[pak] == 1 {
			settled++
		}
		// A PAK the device does not hold was never redeemed: the portal
		// handed out nothing the device lost.
		if n[pak] == 0 {
			out, err := exec.Command(bin("licportal"), "pak", "show", "--state-dir", p.dir, pak).Output()
			if err != nil {
				t.Fatalf("licportal pak show %s: %v", pak, err)
			}
			if !strings.Contains(string(out), "(0 redemptions)") {
				t.Fatalf("PAK %s was redeemed at the portal but its license is not on the device:\n%s", pak, out)
			}
		}
	}
	figure(t, "%d kill -9 cycles during call-home PAK redemption: %d acknowledged, %d cut (%d of these installed after the restart or the resend, the others never redeemed at the portal); every acknowledged PAK installed, none twice, none lost",
		cycles, len(acked), cut, settled)
}

// checkPAKs waits for the call-home queue to drain, then checks every
// acknowledged PAK is installed and none more than once. It returns how
// many licenses each PAK brought.
func checkPAKs(t *testing.T, d *device, paks []string, acked map[string]bool, wait time.Duration) map[string]int {
	t.Helper()
	deadline := time.Now().Add(wait)
	for len(d.status().CallHome.Pending) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	n := map[string]int{}
	for _, l := range d.status().Licenses {
		if l.PAK != "" {
			n[l.PAK]++
		}
	}
	for _, pak := range paks {
		if n[pak] > 1 {
			t.Fatalf("PAK %s installed %d times", pak, n[pak])
		}
		if acked[pak] && n[pak] == 0 {
			t.Fatalf("acknowledged PAK %s is not installed", pak)
		}
	}
	return n
}

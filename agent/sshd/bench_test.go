package sshd

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// benchExec runs b.N `show license udi` commands from 50 concurrent
// clients and reports latency percentiles. With reuse, each client keeps
// its connection and opens a session per command; without, every command
// is a new connection (as `ssh sw1 show ...` from 50 scripts).
func benchExec(b *testing.B, reuse bool) {
	const clients = 50
	ts := startServer(b, func(c *Config) {
		c.MaxSessions = clients + 10
		c.Logf = func(string, ...any) {}
	})
	cfg := &gossh.ClientConfig{
		User:            "admin",
		Auth:            []gossh.AuthMethod{gossh.PublicKeys(ts.admin.Signer)},
		HostKeyCallback: gossh.FixedHostKey(ts.HostKey()),
		Timeout:         10 * time.Second,
	}
	var conns []*gossh.Client
	if reuse {
		for range clients {
			c, err := gossh.Dial("tcp", ts.addr(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			conns = append(conns, c)
		}
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
	}
	var next atomic.Int64
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	var failed atomic.Value
	b.ResetTimer()
	for w := range clients {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				start := time.Now()
				out, err := func() ([]byte, error) {
					c := (*gossh.Client)(nil)
					if reuse {
						c = conns[w]
					} else {
						var err error
						if c, err = gossh.Dial("tcp", ts.addr(), cfg); err != nil {
							return nil, err
						}
						defer c.Close()
					}
					s, err := c.NewSession()
					if err != nil {
						return nil, err
					}
					defer s.Close()
					return s.Output("show license udi")
				}()
				if err != nil || !bytes.Contains(out, []byte("TEST-PID:TST0001")) {
					failed.Store(fmt.Sprintf("%v %q", err, out))
					return
				}
				lat[w] = append(lat[w], time.Since(start))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if f := failed.Load(); f != nil {
		b.Fatal(f)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(p*float64(len(all))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkExec50: 50 concurrent clients, a new connection per command.
func BenchmarkExec50(b *testing.B) { benchExec(b, false) }

// BenchmarkExec50Reuse: 50 concurrent clients on open connections.
func BenchmarkExec50Reuse(b *testing.B) { benchExec(b, true) }

// BenchmarkInteractiveSessionMemory opens 100 interactive PTY sessions
// from a separate client process (so only the server's memory is measured)
// and reports the server's heap, stack and goroutines per session. Each
// iteration opens all 100 sessions (about a quarter of a second), so run it
// with the default -benchtime or a small count such as -benchtime 5x.
func BenchmarkInteractiveSessionMemory(b *testing.B) {
	const sessions = 100
	ts := startServer(b, func(c *Config) {
		c.MaxSessions = sessions
		c.Logf = func(string, ...any) {}
	})
	hostKey := string(gossh.MarshalAuthorizedKey(ts.HostKey()))
	var heap, stack, goroutines float64
	for range b.N {
		b.StopTimer()
		before := memNow()
		b.StartTimer()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestShellClientsProcess$")
		cmd.Env = append(os.Environ(),
			"SSHD_CLIENTS_ADDR="+ts.addr(), "SSHD_CLIENTS_KEY="+ts.admin.Path,
			"SSHD_CLIENTS_HOSTKEY="+hostKey, "SSHD_CLIENTS_N="+strconv.Itoa(sessions))
		stdin, err := cmd.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		ready := false
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready = true
				break
			}
		}
		if !ready {
			b.Fatalf("client process did not open its sessions")
		}
		b.StopTimer()
		if n := ts.Sessions(); n != sessions {
			b.Fatalf("%d sessions open, want %d", n, sessions)
		}
		after := memNow()
		heap += float64(after.heap-before.heap) / sessions
		stack += float64(after.stack-before.stack) / sessions
		goroutines += float64(after.goroutines-before.goroutines) / sessions
		stdin.Close()
		_, _ = io.Copy(io.Discard, stdout)
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
		cancel()
		deadline := time.Now().Add(10 * time.Second)
		for ts.Sessions() != 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		b.StartTimer()
	}
	b.ReportMetric(heap/float64(b.N), "heap-B/session")
	b.ReportMetric(stack/float64(b.N), "stack-B/session")
	b.ReportMetric(goroutines/float64(b.N), "goroutines/session")
}

type memSample struct {
	heap, stack uint64
	goroutines  int
}

func memNow() memSample {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memSample{m.HeapInuse, m.StackInuse, runtime.NumGoroutine()}
}

// TestShellClientsProcess is the client process of
// BenchmarkInteractiveSessionMemory; run directly it does nothing.
func TestShellClientsProcess(t *testing.T) {
	addr := os.Getenv("SSHD_CLIENTS_ADDR")
	if addr == "" {
		return // not started as the benchmark's client process
	}
	n, _ := strconv.Atoi(os.Getenv("SSHD_CLIENTS_N"))
	keyPEM, err := os.ReadFile(os.Getenv("SSHD_CLIENTS_KEY"))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.ParsePrivateKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	hostKey, _, _, _, err := gossh.ParseAuthorizedKey([]byte(os.Getenv("SSHD_CLIENTS_HOSTKEY")))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &gossh.ClientConfig{User: "admin", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.FixedHostKey(hostKey), Timeout: 10 * time.Second}
	var clients []*gossh.Client
	for range n {
		c, err := gossh.Dial("tcp", addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RequestPty("xterm", 30, 100, gossh.TerminalModes{}); err != nil {
			t.Fatal(err)
		}
		out, err := s.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		// Keep stdin open: a closed stdin ends the shell like Ctrl-D.
		if _, err := s.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		if err := s.Shell(); err != nil {
			t.Fatal(err)
		}
		var seen []byte
		buf := make([]byte, 256)
		for !strings.Contains(string(seen), "sw1#") {
			k, err := out.Read(buf)
			if err != nil {
				t.Fatalf("waiting for the prompt: %v", err)
			}
			seen = append(seen, buf[:k]...)
		}
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range clients {
		c.Close()
	}
}

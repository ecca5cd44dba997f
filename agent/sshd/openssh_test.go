package sshd

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

func TestExecOpenSSH(t *testing.T) {
	ts := startServer(t, nil)
	stranger := newClientKey(t, ts.dir, "id_stranger")
	tests := []struct {
		name       string
		key        string
		user       string
		command    string
		wantCode   int
		wantStdout string
		wantStderr string
		wantCall   *call // nil: the shell must not run
	}{
		{"show with authorized key", ts.admin.Path, "anyone", "show license udi", 0, "TEST-PID:TST0001", "",
			&call{Line: "show license udi", User: "anyone", Privilege: 15, HasFiles: true}},
		{"failure goes to stderr with status 1", ts.admin.Path, "admin", "fail", 1, "partial output", "% the command failed",
			&call{Line: "fail", User: "admin", Privilege: 15, HasFiles: true}},
		{"usage error status 2", ts.admin.Path, "admin", "usage", 2, "", "% Incomplete command.",
			&call{Line: "usage", User: "admin", Privilege: 15, HasFiles: true}},
		{"user key gives the user's privilege", ts.oper.Path, "oper", "whoami", 0, "user=oper priv=1 interactive=false", "",
			&call{Line: "whoami", User: "oper", Privilege: 1, HasFiles: true}},
		{"quoted words reach the shell as typed", ts.admin.Path, "admin", `show   license  "udi"`, 2, "", "Invalid input",
			&call{Line: `show   license  "udi"`, User: "admin", Privilege: 15, HasFiles: true}},
		{"user key for another user name", ts.oper.Path, "root", "whoami", 255, "", "Permission denied", nil},
		{"unknown key", stranger.Path, "admin", "whoami", 255, "", "Permission denied", nil},
		{"legacy scp refused", ts.admin.Path, "admin", "scp -t /x.lic", 1, "", "legacy scp protocol", nil},
		{"panic in a command", ts.admin.Path, "admin", "panic", 1, "", "Internal error",
			&call{Line: "panic", User: "admin", Privilege: 15, HasFiles: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(ts.shell.Calls())
			ts.t = t
			r := ts.ssh(tt.key, tt.user, tt.command, nil)
			if r.Code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", r.Code, tt.wantCode, r.Stdout, r.Stderr)
			}
			if !strings.Contains(r.Stdout, tt.wantStdout) {
				t.Errorf("stdout %q, want it to contain %q", r.Stdout, tt.wantStdout)
			}
			if !strings.Contains(r.Stderr, tt.wantStderr) {
				t.Errorf("stderr %q, want it to contain %q", r.Stderr, tt.wantStderr)
			}
			if tt.wantStderr == "" && strings.Contains(r.Stdout, "%") {
				t.Errorf("error text on stdout: %q", r.Stdout)
			}
			calls := ts.shell.Calls()[before:]
			if tt.wantCall == nil {
				if len(calls) != 0 {
					t.Fatalf("shell ran %+v", calls)
				}
				return
			}
			if len(calls) != 1 {
				t.Fatalf("shell calls %+v, want one", calls)
			}
			got := calls[0]
			if !strings.HasPrefix(got.Remote, "127.0.0.1:") {
				t.Errorf("remote %q", got.Remote)
			}
			got.Remote = ""
			if got != *tt.wantCall {
				t.Errorf("call %+v, want %+v", got, *tt.wantCall)
			}
		})
	}
	// The server survived the panic.
	ts.t = t
	if r := ts.ssh(ts.admin.Path, "admin", "whoami", nil); r.Code != 0 {
		t.Fatalf("after panic: %+v", r)
	}
	want := "anyone@127.0.0.1: login ok (publickey " + gossh.FingerprintSHA256(ts.admin.Pub) + ", privilege 15)"
	if a := ts.audit.list(); !slices.Contains(a, want) {
		t.Errorf("audit %q lacks %q", a, want)
	}
	if a := strings.Join(ts.audit.list(), "\n"); !strings.Contains(a, "root@127.0.0.1: login failed (publickey)") {
		t.Errorf("audit lacks the refused key:\n%s", a)
	}
}

func TestExecStdinInstall(t *testing.T) {
	ts := startServer(t, nil)
	data := make([]byte, 300<<10) // larger than one channel window packet
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	r := ts.ssh(ts.admin.Path, "admin", "install -", bytes.NewReader(data))
	want := fmt.Sprintf("read %d bytes sha256=%x", len(data), sha256.Sum256(data))
	if r.Code != 0 || !strings.Contains(r.Stdout, want) {
		t.Fatalf("got %+v, want %q", r, want)
	}
}

func TestPasswordLogin(t *testing.T) {
	keyOnly := newClientKey(t, t.TempDir(), "id_keyonly")
	ts := startServer(t, func(c *Config) {
		c.Users = append(c.Users, User{Name: "keyonly", Privilege: 15, Keys: []gossh.PublicKey{keyOnly.Pub}})
	})
	tests := []struct {
		user, password string
		wantCode       int
		want           string
		wantAudit      string
	}{
		{"oper", operPassword, 0, "user=oper priv=1", "oper@127.0.0.1: login ok (password, privilege 1)"},
		{"root", adminPassword, 0, "user=root priv=15", "root@127.0.0.1: login ok (password, privilege 15)"},
		{"oper", adminPassword, 255, "", "oper@127.0.0.1: login failed (password)"},
		{"nobody", operPassword, 255, "", "nobody@127.0.0.1: login failed (password)"},
		// A user without a password cannot log in with any password.
		{"keyonly", "", 255, "", "keyonly@127.0.0.1: login failed (password)"},
	}
	for _, tt := range tests {
		t.Run(tt.user+"/"+tt.password, func(t *testing.T) {
			ts.t = t
			r := ts.sshPassword(tt.user, tt.password, "whoami")
			if r.Code != tt.wantCode || !strings.Contains(r.Stdout, tt.want) {
				t.Fatalf("got %+v, want exit %d and %q", r, tt.wantCode, tt.want)
			}
			if !slices.Contains(ts.audit.list(), tt.wantAudit) {
				t.Errorf("audit %q lacks %q", ts.audit.list(), tt.wantAudit)
			}
		})
	}
}

// An OpenSSH client offered the admin's public key without holding the
// private key, then logged in as oper by password: the session must be
// oper's, at privilege 1.
func TestOfferedKeyNotProven(t *testing.T) {
	ts := startServer(t, nil)
	pubOnly := filepath.Join(ts.dir, "pubonly")
	if err := os.Mkdir(pubOnly, 0o700); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(ts.admin.Path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pubOnly, "k.pub"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	args := append(ts.commonOpts(), "-o", "BatchMode=no", "-o", "PreferredAuthentications=publickey,password",
		"-v", "-o", "NumberOfPasswordPrompts=1", "-i", filepath.Join(pubOnly, "k.pub"),
		"-p", ts.port, "oper@"+ts.host, "whoami")
	r := run(t, "ssh", args, nil, askpass(t, ts.dir, operPassword), true)
	if r.Code != 0 || !strings.Contains(r.Stdout, "user=oper priv=1") {
		t.Fatalf("got %+v", r)
	}
	// -v shows the key query this test is about really happened.
	if !strings.Contains(r.Stderr, "Server accepts key") {
		t.Fatalf("the server never accepted the offered key; stderr:\n%s", r.Stderr)
	}
	if a := ts.audit.list(); !slices.Contains(a, "oper@127.0.0.1: login ok (password, privilege 1)") {
		t.Errorf("audit %q", a)
	}
}

func TestHostKeyStable(t *testing.T) {
	keyscan := needTool(t, "ssh-keyscan")
	_ = keyscan
	dir := t.TempDir()
	hostKey := filepath.Join(dir, "state", "ssh_host_ed25519_key")
	var scans []string
	for i := range 2 {
		ts := startServer(t, func(c *Config) { c.HostKeyPath = hostKey })
		if got, want := ts.HostKeyCreated(), i == 0; got != want {
			t.Errorf("start %d: HostKeyCreated %v, want %v", i, got, want)
		}
		r := run(t, "ssh-keyscan", []string{"-t", "ed25519", "-p", ts.port, ts.host}, nil, nil, false)
		if r.Code != 0 {
			t.Fatalf("ssh-keyscan: %+v", r)
		}
		line := strings.TrimSpace(r.Stdout)
		fields := strings.Fields(line)
		if len(fields) != 3 || fields[1] != "ssh-ed25519" {
			t.Fatalf("ssh-keyscan output %q", line)
		}
		if want := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(ts.HostKey()))); fields[1]+" "+fields[2] != want {
			t.Errorf("scanned %q, server has %q", line, want)
		}
		scans = append(scans, fields[1]+" "+fields[2])
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := ts.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	if scans[0] != scans[1] {
		t.Errorf("host key changed across restarts:\n%s\n%s", scans[0], scans[1])
	}
	st, err := os.Stat(hostKey)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("host key mode %v, want 0600", st.Mode().Perm())
	}
}

func TestShellNeedsTerminal(t *testing.T) {
	ts := startServer(t, nil)
	args := append(ts.keyOpts(ts.admin.Path), "-T", "-p", ts.port, "admin@"+ts.host)
	r := run(t, "ssh", args, strings.NewReader(""), nil, false)
	if r.Code != 1 || !strings.Contains(r.Stderr, "needs a terminal") {
		t.Fatalf("got %+v", r)
	}
}

func TestLoginBanner(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Banner = "Authorized access only" })
	r := ts.ssh(ts.admin.Path, "admin", "whoami", nil)
	if r.Code != 0 || !strings.Contains(r.Stderr, "Authorized access only") {
		t.Fatalf("got %+v", r)
	}
}

func TestMaxSessions(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxSessions = 2 })
	ts.shell.running = make(chan struct{}, 2)
	var clients []*gossh.Client
	for range 2 {
		c, err := ts.goClient(t, "admin", ts.admin.Signer)
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start("block"); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		select {
		case <-ts.shell.running:
		case <-time.After(10 * time.Second):
			t.Fatal("blocking sessions did not start")
		}
	}
	r := ts.ssh(ts.admin.Path, "admin", "whoami", nil)
	if r.Code != 1 || !strings.Contains(r.Stderr, "Too many sessions: 2 of 2") {
		t.Fatalf("third session: %+v", r)
	}
	// SFTP counts too.
	r = run(t, "sftp", append(ts.keyOpts(ts.admin.Path), "-b", "-", "-P", ts.port, "admin@"+ts.host),
		strings.NewReader("ls\n"), nil, false)
	if r.Code == 0 {
		t.Fatalf("sftp beyond the limit: %+v", r)
	}
	for _, c := range clients {
		c.Close()
	}
	waitFor(t, "sessions to end", func() bool { return ts.Sessions() == 0 })
	if r := ts.ssh(ts.admin.Path, "admin", "whoami", nil); r.Code != 0 {
		t.Fatalf("after the others ended: %+v", r)
	}
}

func TestLoginRateLimit(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		c.LoginRate = LoginRate{Attempts: 3, Within: time.Minute, BlockFor: 2 * time.Minute}
	})
	stranger := newClientKey(t, ts.dir, "id_stranger")
	// Two wrong passwords and one connection with an unknown key.
	for range 2 {
		if r := ts.sshPassword("oper", "wrong", "whoami"); r.Code != 255 {
			t.Fatalf("wrong password accepted: %+v", r)
		}
	}
	if r := ts.ssh(stranger.Path, "admin", "whoami", nil); r.Code != 255 {
		t.Fatalf("unknown key accepted: %+v", r)
	}
	waitFor(t, "the refused key to count", func() bool {
		blocked, _ := ts.lim.blocked("127.0.0.1", ts.clock.Now())
		return blocked
	})
	// Now even good credentials are refused, with a reason.
	r := ts.sshPassword("oper", operPassword, "whoami")
	if r.Code != 255 || !strings.Contains(r.Stderr, "blocked") {
		t.Fatalf("blocked source logged in by password: %+v", r)
	}
	if r := ts.ssh(ts.admin.Path, "admin", "whoami", nil); r.Code != 255 {
		t.Fatalf("blocked source logged in by key: %+v", r)
	}
	if !slices.Contains(ts.audit.list(), "oper@127.0.0.1: login refused (source blocked)") {
		t.Errorf("audit %q", ts.audit.list())
	}
	// Refusals while blocked do not extend the block.
	ts.clock.Advance(2*time.Minute + time.Second)
	if r := ts.ssh(ts.admin.Path, "admin", "whoami", nil); r.Code != 0 {
		t.Fatalf("after the block: %+v", r)
	}
	// Failures older than the window are forgotten.
	for range 2 {
		ts.sshPassword("oper", "wrong", "whoami")
	}
	ts.clock.Advance(time.Minute + time.Second)
	ts.sshPassword("oper", "wrong", "whoami")
	if r := ts.sshPassword("oper", operPassword, "whoami"); r.Code != 0 {
		t.Fatalf("old failures still counted: %+v", r)
	}
}

// A key rejected before the accepted one (SSH agents offer several) does
// not count as a failed login.
func TestRejectedKeyBeforeAcceptedOneIsNoFailure(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		c.LoginRate = LoginRate{Attempts: 2, Within: time.Minute, BlockFor: time.Minute}
	})
	stranger := newClientKey(t, ts.dir, "id_stranger")
	for range 4 {
		args := append(ts.keyOpts(stranger.Path), "-i", ts.admin.Path, "-p", ts.port, "admin@"+ts.host, "whoami")
		if r := run(t, "ssh", args, nil, nil, false); r.Code != 0 {
			t.Fatalf("got %+v", r)
		}
	}
	if n := ts.lim.failures("127.0.0.1", ts.clock.Now()); n != 0 {
		t.Errorf("%d failures counted", n)
	}
}

func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.IdleTimeout = 300 * time.Millisecond })
	c, err := ts.goClient(t, "admin", ts.admin.Signer)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("block"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("idle connection was not closed")
	}
	waitFor(t, "the session to end", func() bool { return ts.Sessions() == 0 })
}

func TestLoginGraceTime(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.LoginGraceTime = 200 * time.Millisecond })
	conn, err := net.Dial("tcp", ts.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	// Send our version, then nothing: the server must hang up.
	if _, err := io.WriteString(conn, "SSH-2.0-test\r\n"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = io.Copy(io.Discard, conn)
	if err != nil {
		t.Fatalf("connection not closed by the server: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("closed after %v", d)
	}
}

// A client that stops reading blocks only its own session.
func TestSlowClientBlocksOnlyItself(t *testing.T) {
	ts := startServer(t, nil)
	slow, err := ts.goClient(t, "admin", ts.admin.Signer)
	if err != nil {
		t.Fatal(err)
	}
	s, err := slow.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	// Nobody reads this session's stdout: once the channel window is full,
	// the command's writes block.
	if _, err := s.StdoutPipe(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("lines 1000000"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the slow session to start", func() bool { return ts.Sessions() == 1 })
	if r := ts.ssh(ts.admin.Path, "admin", "show license udi", nil); r.Code != 0 {
		t.Fatalf("other session while one is stuck: %+v", r)
	}
	slow.Close()
	waitFor(t, "the stuck command to end", func() bool { return ts.Sessions() == 0 })
}

func TestShutdownClosesSessions(t *testing.T) {
	ts := startServer(t, nil)
	ts.shell.running = make(chan struct{}, 1)
	c, err := ts.goClient(t, "admin", ts.admin.Signer)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("block"); err != nil {
		t.Fatal(err)
	}
	<-ts.shell.running
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := ts.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with an open session: %v", err)
	}
	waitFor(t, "the session to end", func() bool { return ts.Sessions() == 0 })
	if _, err := net.DialTimeout("tcp", ts.addr(), time.Second); err == nil {
		t.Errorf("still accepting connections")
	}
}

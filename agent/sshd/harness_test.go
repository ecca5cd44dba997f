package sshd

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
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

	"golang.org/x/crypto/bcrypt"
	gossh "golang.org/x/crypto/ssh"
)

// --- a fake Shell ---

// call is one RunLine the fake shell saw.
type call struct {
	Line        string
	User        string
	Remote      string
	Privilege   int
	Interactive bool
	HasFiles    bool
}

// fakeShell runs a handful of commands that exercise every part of the
// Session, and records what it ran.
type fakeShell struct {
	mu      sync.Mutex
	calls   []call
	running chan struct{} // "block" signals here once it runs, if set
}

func (f *fakeShell) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *fakeShell) RunLine(ctx context.Context, s Session, line string) int {
	f.mu.Lock()
	f.calls = append(f.calls, call{line, s.User, s.Remote, s.Privilege, s.Interactive, s.Files != nil})
	f.mu.Unlock()
	words := strings.Fields(line)
	switch {
	case line == "show license udi":
		fmt.Fprintln(s.Out, "Device#   PID                   SN              UDI")
		fmt.Fprintln(s.Out, "*0        TEST-PID              TST0001         TEST-PID:TST0001")
		return 0
	case line == "whoami":
		fmt.Fprintf(s.Out, "user=%s priv=%d interactive=%v\n", s.User, s.Privilege, s.Interactive)
		return 0
	case line == "fail":
		fmt.Fprintln(s.Out, "partial output")
		fmt.Fprintln(s.Err, "% the command failed")
		return 1
	case line == "usage":
		fmt.Fprintln(s.Err, "% Incomplete command.")
		return 2
	case len(words) == 2 && words[0] == "lines":
		n, _ := strconv.Atoi(words[1])
		for i := 1; i <= n; i++ {
			fmt.Fprintf(s.Out, "line %d\n", i)
		}
		return 0
	case line == "install -":
		data, err := io.ReadAll(s.In)
		if err != nil {
			fmt.Fprintf(s.Err, "%% read: %v\n", err)
			return 1
		}
		fmt.Fprintf(s.Out, "read %d bytes sha256=%x\n", len(data), sha256.Sum256(data))
		return 0
	case len(words) == 2 && words[0] == "install":
		if s.Files == nil {
			fmt.Fprintln(s.Err, "% no flash")
			return 1
		}
		data, err := s.Files.ReadFile(words[1])
		if err != nil {
			fmt.Fprintf(s.Err, "%% %v\n", err)
			return 1
		}
		fmt.Fprintf(s.Out, "installed %d bytes sha256=%x\n", len(data), sha256.Sum256(data))
		return 0
	case len(words) == 2 && words[0] == "save":
		if err := s.Files.WriteFile(words[1], []byte("saved by "+s.User+"\n")); err != nil {
			fmt.Fprintf(s.Err, "%% %v\n", err)
			return 1
		}
		return 0
	case line == "ask":
		fmt.Fprint(s.Out, "Proceed? [yes/no]: ")
		answer, err := bufio.NewReader(s.In).ReadString('\n')
		if err != nil {
			fmt.Fprintf(s.Out, "aborted: %v ctx=%v\n", err, ctx.Err())
			return 1
		}
		fmt.Fprintf(s.Out, "answer=%q\n", strings.TrimSuffix(answer, "\n"))
		return 0
	case line == "block":
		if f.running != nil {
			f.running <- struct{}{}
		}
		<-ctx.Done()
		return 1
	case line == "panic":
		panic("boom")
	}
	fmt.Fprintf(s.Err, "%% Invalid input detected at '^' marker.\n")
	return 2
}

// fakeTree is the fake shell's grammar for completion.
type fakeNode struct {
	word, help string
	admin      bool
	kids       []*fakeNode
}

var fakeGrammar = &fakeNode{kids: []*fakeNode{
	{word: "show", help: "Show running system information", kids: []*fakeNode{
		{word: "license", help: "Show license information", kids: []*fakeNode{
			{word: "all", help: "Show all license information", kids: []*fakeNode{{word: "<cr>"}}},
			{word: "udi", help: "Show the device's UDI", kids: []*fakeNode{{word: "<cr>"}}},
			{word: "usage", help: "Show license usage", kids: []*fakeNode{{word: "<cr>"}}},
		}},
		{word: "version", help: "Show the software version", kids: []*fakeNode{{word: "<cr>"}}},
	}},
	{word: "license", help: "License commands", admin: true, kids: []*fakeNode{
		{word: "install", help: "Install a license file"},
	}},
	{word: "lines", help: "Print numbered lines"},
	{word: "whoami", help: "Who am I"},
}}

func (f *fakeShell) Complete(line string, priv int) ([]Candidate, error) {
	words := strings.Fields(line)
	partial := ""
	if line != "" && !strings.HasSuffix(line, " ") {
		partial, words = words[len(words)-1], words[:len(words)-1]
	}
	n := fakeGrammar
	for _, w := range words {
		var next *fakeNode
		for _, k := range n.kids {
			if strings.HasPrefix(k.word, w) && (!k.admin || priv == 15) {
				if next != nil {
					return nil, fmt.Errorf("%% Ambiguous command:  %q", line)
				}
				next = k
			}
		}
		if next == nil {
			return nil, errors.New("% Invalid input detected at '^' marker.")
		}
		n = next
	}
	var out []Candidate
	for _, k := range n.kids {
		if strings.HasPrefix(k.word, partial) && (!k.admin || priv == 15) {
			out = append(out, Candidate{Word: k.word, Help: k.help})
		}
	}
	return out, nil
}

// --- clock, audit ---

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type auditLog struct {
	mu     sync.Mutex
	events []string
}

func (a *auditLog) add(user, remote, event string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	host, _, _ := net.SplitHostPort(remote)
	a.events = append(a.events, user+"@"+host+": "+event)
}

func (a *auditLog) list() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.events...)
}

// --- keys ---

// clientKey is a key pair written for OpenSSH: Path is the private key,
// Path+".pub" the public key.
type clientKey struct {
	Path   string
	Pub    gossh.PublicKey
	Signer gossh.Signer
}

func newClientKey(t testing.TB, dir, name string) clientKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, name)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".pub", gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o644); err != nil {
		t.Fatal(err)
	}
	return clientKey{Path: path, Pub: signer.PublicKey(), Signer: signer}
}

// mustHash is a bcrypt hash at the lowest cost, to keep tests fast.
func mustHash(t testing.TB, pw string) string {
	t.Helper()
	h, err := bcryptLow(pw)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func bcryptLow(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	return string(h), err
}

// --- a running server ---

type testServer struct {
	*Server
	t        testing.TB
	dir      string
	host     string
	port     string
	shell    *fakeShell
	clock    *fakeClock
	audit    *auditLog
	admin    clientKey // in AuthorizedKeys
	oper     clientKey // user oper's key, privilege 1
	known    string    // known_hosts file for the clients
	serveErr chan error
}

const (
	operPassword  = "oper-secret"
	adminPassword = "admin-secret"
)

// startServer runs a server on 127.0.0.1 with an authorized key (admin),
// a privilege-1 user "oper" with a key and a password, a privilege-15 user
// "root" with a password, a fake shell, a flash folder and a fake clock.
// mod may change the Config before New.
func startServer(t testing.TB, mod func(*Config)) *testServer {
	t.Helper()
	dir := t.TempDir()
	ts := &testServer{t: t, dir: dir, shell: &fakeShell{}, clock: newFakeClock(), audit: &auditLog{}, known: filepath.Join(dir, "known_hosts")}
	ts.admin = newClientKey(t, dir, "id_admin")
	ts.oper = newClientKey(t, dir, "id_oper")
	cfg := Config{
		HostKeyPath:    filepath.Join(dir, "state", "ssh_host_ed25519_key"),
		AuthorizedKeys: []gossh.PublicKey{ts.admin.Pub},
		Users: []User{
			{Name: "oper", Privilege: 1, Keys: []gossh.PublicKey{ts.oper.Pub}, PasswordHash: mustHash(t, operPassword)},
			{Name: "root", Privilege: 15, PasswordHash: mustHash(t, adminPassword)},
		},
		Hostname:    "sw1",
		Shell:       ts.shell,
		FlashDir:    filepath.Join(dir, "flash"),
		Clock:       ts.clock.Now,
		Logf:        t.Logf,
		Audit:       ts.audit.add,
		IdleTimeout: time.Minute,
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.Server = s
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.host, ts.port, _ = net.SplitHostPort(ln.Addr().String())
	ts.serveErr = make(chan error, 1)
	go func() { ts.serveErr <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		select {
		case err := <-ts.serveErr:
			if !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Serve did not return after Shutdown")
		}
	})
	return ts
}

func (ts *testServer) addr() string { return net.JoinHostPort(ts.host, ts.port) }

func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skip(name + " not installed")
	}
	return p
}

// commonOpts are the OpenSSH options every client here uses.
func (ts *testServer) commonOpts() []string {
	return []string{
		"-F", "/dev/null",
		"-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=" + ts.known,
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "IdentitiesOnly=yes",
		"-o", "IdentityAgent=none",
		"-o", "ConnectTimeout=5",
	}
}

// keyOpts log in with key.
func (ts *testServer) keyOpts(key string) []string {
	return append(ts.commonOpts(), "-o", "BatchMode=yes", "-o", "PasswordAuthentication=no",
		"-o", "KbdInteractiveAuthentication=no", "-i", key)
}

// sshResult is what an OpenSSH client run produced.
type sshResult struct {
	Stdout, Stderr string
	Code           int
}

// run runs an OpenSSH tool with a 10 s bound. env adds variables.
func run(t testing.TB, tool string, args []string, stdin io.Reader, env []string, setsid bool) sshResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, needTool(t, tool), args...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errb
	cmd.Env = append(os.Environ(), env...)
	if setsid {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %v: timed out; stderr: %s", tool, args, errb.String())
	}
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("%s: %v", tool, err)
		}
		code = ee.ExitCode()
	}
	return sshResult{out.String(), errb.String(), code}
}

// ssh runs `ssh -p PORT user@127.0.0.1 command` with key.
func (ts *testServer) ssh(key, user, command string, stdin io.Reader) sshResult {
	args := append(ts.keyOpts(key), "-p", ts.port, user+"@"+ts.host)
	if command != "" {
		args = append(args, command)
	}
	return run(ts.t, "ssh", args, stdin, nil, false)
}

// askpass writes a script that prints password and returns the environment
// that makes OpenSSH use it.
func askpass(t testing.TB, dir, password string) []string {
	t.Helper()
	p := filepath.Join(dir, fmt.Sprintf("askpass-%d", time.Now().UnixNano()))
	if err := os.WriteFile(p, []byte("#!/bin/sh\nprintf '%s\\n' '"+password+"'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return []string{"SSH_ASKPASS=" + p, "SSH_ASKPASS_REQUIRE=force", "DISPLAY=:0"}
}

// sshPassword runs a command logging in with a password. extra options go
// before the destination.
func (ts *testServer) sshPassword(user, password, command string, extra ...string) sshResult {
	args := append(ts.commonOpts(), "-o", "BatchMode=no", "-o", "PubkeyAuthentication=no",
		"-o", "PreferredAuthentications=password", "-o", "NumberOfPasswordPrompts=1")
	args = append(args, extra...)
	args = append(args, "-p", ts.port, user+"@"+ts.host, command)
	return run(ts.t, "ssh", args, nil, askpass(ts.t, ts.dir, password), true)
}

// waitFor polls cond every 20 ms for up to 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// goClient dials the server with x/crypto/ssh as user with signer.
func (ts *testServer) goClient(t testing.TB, user string, signer gossh.Signer) (*gossh.Client, error) {
	return gossh.Dial("tcp", ts.addr(), &gossh.ClientConfig{
		User:            user,
		Auth:            []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.FixedHostKey(ts.HostKey()),
		Timeout:         5 * time.Second,
	})
}

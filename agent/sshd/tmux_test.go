package sshd

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tmuxPane is an OpenSSH client running in a detached tmux session, so the
// interactive shell can be driven with real keys on a real terminal.
type tmuxPane struct {
	t    *testing.T
	sock string
}

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// startTmux runs `ssh -t` for user with key in a 100x30 tmux window.
func startTmux(t *testing.T, ts *testServer, key, user string) *tmuxPane {
	t.Helper()
	needTool(t, "tmux")
	sshPath := needTool(t, "ssh")
	dir, err := os.MkdirTemp("", "tmx") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &tmuxPane{t: t, sock: filepath.Join(dir, "s")}
	args := append([]string{sshPath, "-t"}, ts.keyOpts(key)...)
	args = append(args, "-o", "LogLevel=ERROR", "-p", ts.port, user+"@"+ts.host)
	p.tmux("-f", "/dev/null", "new-session", "-d", "-x", "100", "-y", "30", shellQuote(args))
	p.tmux("set-option", "-g", "window-size", "manual")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = exec.CommandContext(ctx, "tmux", "-S", p.sock, "kill-server").Run()
	})
	return p
}

func (p *tmuxPane) tmux(args ...string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "tmux", append([]string{"-S", p.sock}, args...)...)
	cmd.Env = append(os.Environ(), "TERM=xterm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %v: %v: %s", args, err, out)
	}
	return string(out)
}

// keys sends tmux key names (Enter, Tab, C-c, Up, Space).
func (p *tmuxPane) keys(keys ...string) { p.tmux(append([]string{"send-keys"}, keys...)...) }

// typ types text literally.
func (p *tmuxPane) typ(text string) { p.tmux("send-keys", "-l", text) }

func (p *tmuxPane) screen() string { return p.tmux("capture-pane", "-p") }

// lastLine is the screen's last non-blank line.
func lastLine(screen string) string {
	lines := strings.Split(strings.TrimRight(screen, "\n "), "\n")
	return strings.TrimRight(lines[len(lines)-1], " ")
}

// wait polls the screen until cond holds, for at most 10 s.
func (p *tmuxPane) wait(what string, cond func(screen string) bool) string {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := p.screen()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out waiting for %s; screen:\n%s", what, s)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// waitLast waits until the last line reads want.
func (p *tmuxPane) waitLast(want string) string {
	p.t.Helper()
	return p.wait("last line "+want, func(s string) bool { return lastLine(s) == want })
}

// clear empties the screen between steps so old output cannot satisfy a
// later wait.
func (p *tmuxPane) clear() {
	p.keys("C-l")
	p.waitLast("sw1#")
	p.wait("a clear screen", func(s string) bool { return strings.Count(strings.TrimSpace(s), "\n") == 0 })
}

func countCalls(ts *testServer, line string) int {
	n := 0
	for _, c := range ts.shell.Calls() {
		if c.Line == line {
			n++
		}
	}
	return n
}

func TestInteractiveShell(t *testing.T) {
	ts := startServer(t, nil)
	p := startTmux(t, ts, ts.admin.Path, "admin")
	p.waitLast("sw1#")

	t.Run("question mark lists commands", func(t *testing.T) {
		p.t = t
		p.typ("?")
		s := p.wait("help", func(s string) bool { return strings.Contains(s, "whoami") && lastLine(s) == "sw1#" })
		for _, want := range []string{"sw1#?", "  exit      End this session", "  license   License commands",
			"  show      Show running system information", "  terminal  Set terminal parameters for this session"} {
			if !strings.Contains(s, want) {
				t.Errorf("screen lacks %q:\n%s", want, s)
			}
		}
		p.clear()
		p.typ("show ?")
		s = p.wait("the help for show", func(s string) bool {
			return strings.Contains(s, "Show the software version") && lastLine(s) == "sw1#show"
		})
		for _, want := range []string{"sw1#show ?", "  license  Show license information", "  version  Show the software version"} {
			if !strings.Contains(s, want) {
				t.Errorf("screen lacks %q:\n%s", want, s)
			}
		}
		p.typ("lic u?")
		s = p.wait("the partial word help", func(s string) bool {
			return strings.Contains(s, "udi  usage") && lastLine(s) == "sw1#show lic u"
		})
		if !strings.Contains(s, "sw1#show lic u?\nudi  usage\n\nsw1#show lic u") {
			t.Errorf("partial word help:\n%s", s)
		}
		p.keys("C-c")
		p.waitLast("sw1#")
	})

	t.Run("Ctrl-C clears the line", func(t *testing.T) {
		p.t = t
		p.clear()
		p.typ("show lic")
		p.waitLast("sw1#show lic")
		p.keys("Left", "Left", "C-c")
		p.waitLast("sw1#")
		p.typ("whoami")
		p.keys("Enter")
		p.wait("whoami output", func(s string) bool { return strings.Contains(s, "user=admin priv=15 interactive=true") })
		if n := countCalls(ts, "show lic"); n != 0 {
			t.Errorf("the cleared line ran %d times", n)
		}
	})

	t.Run("Tab completes", func(t *testing.T) {
		p.t = t
		p.clear()
		p.typ("sh")
		p.keys("Tab")
		p.waitLast("sw1#show")
		p.typ("li")
		p.keys("Tab")
		p.waitLast("sw1#show license")
		p.typ("u")
		p.keys("Tab") // udi and usage: listed, then the line again
		// The typed "u" alone already ends the screen with this line, so
		// wait for the list as well.
		p.wait("the candidate list", func(s string) bool {
			return strings.Contains(s, "udi  usage") && lastLine(s) == "sw1#show license u"
		})
		p.typ("d")
		p.keys("Tab")
		p.waitLast("sw1#show license udi")
		p.keys("Enter")
		p.wait("show output", func(s string) bool { return strings.Contains(s, "TEST-PID:TST0001") })
		p.waitLast("sw1#")
		p.typ("te")
		p.keys("Tab")
		p.waitLast("sw1#terminal")
		p.keys("C-c")
	})

	t.Run("history", func(t *testing.T) {
		p.t = t
		p.clear()
		before := countCalls(ts, "show license udi")
		p.keys("Up")
		p.waitLast("sw1#show license udi")
		p.keys("Enter")
		waitFor(t, "the command to run again", func() bool { return countCalls(ts, "show license udi") == before+1 })
	})

	t.Run("paging at the window height", func(t *testing.T) {
		p.t = t
		p.clear()
		p.typ("lines 100")
		p.keys("Enter")
		s := p.wait("--More--", func(s string) bool { return strings.Contains(s, "--More--") })
		if !strings.Contains(s, "line 29\n") || strings.Contains(s, "line 30") {
			t.Fatalf("first page of a 30-line window:\n%s", s)
		}
		p.keys("Space")
		s = p.wait("second page", func(s string) bool { return strings.Contains(s, "line 58\n") && strings.Contains(s, "--More--") })
		if strings.Contains(s, "line 59") {
			t.Fatalf("second page too long:\n%s", s)
		}
		p.keys("Enter")
		s = p.wait("one more line", func(s string) bool { return strings.Contains(s, "line 59\n") && strings.Contains(s, "--More--") })
		if strings.Contains(s, "line 60") {
			t.Fatalf("Enter showed more than a line:\n%s", s)
		}
		p.typ("q")
		s = p.waitLast("sw1#")
		if strings.Contains(s, "line 60") || strings.Contains(s, "--More--") {
			t.Fatalf("output after q:\n%s", s)
		}
	})

	t.Run("terminal length", func(t *testing.T) {
		p.t = t
		p.clear()
		p.typ("term len 0")
		p.keys("Enter")
		p.waitLast("sw1#")
		p.typ("lines 100")
		p.keys("Enter")
		s := p.wait("all lines", func(s string) bool { return strings.Contains(s, "line 100\nsw1#") })
		if strings.Contains(s, "--More--") {
			t.Errorf("paged with terminal length 0:\n%s", s)
		}
		p.clear()
		p.typ("terminal length 5")
		p.keys("Enter")
		p.waitLast("sw1#")
		p.typ("lines 10")
		p.keys("Enter")
		s = p.wait("--More--", func(s string) bool { return strings.Contains(s, "--More--") })
		if !strings.Contains(s, "line 4\n") || strings.Contains(s, "line 5") {
			t.Errorf("terminal length 5:\n%s", s)
		}
		p.keys("C-c")
		p.waitLast("sw1#")
		p.clear()
		p.typ("terminal length 600")
		p.keys("Enter")
		s = p.wait("error", func(s string) bool { return strings.Contains(s, "% Invalid input") })
		if !strings.Contains(s, "sw1#terminal length 600\n                    ^\n% Invalid input detected at '^' marker.") {
			t.Errorf("caret:\n%s", s)
		}
		p.typ("terminal no length")
		p.keys("Enter")
		p.waitLast("sw1#")
		if n := countCalls(ts, "terminal length 600") + countCalls(ts, "term len 0"); n != 0 {
			t.Errorf("terminal commands reached the shell")
		}
	})

	t.Run("paging follows window changes", func(t *testing.T) {
		p.t = t
		p.tmux("resize-window", "-x", "100", "-y", "12")
		p.clear()
		p.typ("lines 40")
		p.keys("Enter")
		s := p.wait("--More--", func(s string) bool { return strings.Contains(s, "--More--") })
		if !strings.Contains(s, "line 11\n") || strings.Contains(s, "line 12") {
			t.Errorf("12-line window:\n%s", s)
		}
		p.typ("q")
		p.waitLast("sw1#")
		p.tmux("resize-window", "-x", "100", "-y", "30")
	})

	t.Run("answers", func(t *testing.T) {
		p.t = t
		p.clear()
		p.typ("ask")
		p.keys("Enter")
		p.waitLast("Proceed? [yes/no]:")
		p.typ("yez")
		p.keys("BSpace")
		p.typ("s")
		p.keys("Enter")
		p.wait("the answer", func(s string) bool { return strings.Contains(s, `answer="yes"`) })
		p.waitLast("sw1#")
		p.typ("ask")
		p.keys("Enter")
		p.waitLast("Proceed? [yes/no]:")
		p.keys("C-c")
		p.wait("the interruption", func(s string) bool {
			return strings.Contains(s, "aborted: interrupted ctx=context canceled")
		})
		p.waitLast("sw1#")
		// Answers are not history.
		p.keys("Up")
		p.waitLast("sw1#ask")
		p.keys("C-c")
	})

	t.Run("exit", func(t *testing.T) {
		p.t = t
		p.typ("exit")
		p.keys("Enter")
		waitFor(t, "the ssh client to exit", func() bool {
			cmd := exec.Command("tmux", "-S", p.sock, "has-session")
			return cmd.Run() != nil
		})
		waitFor(t, "the session to end", func() bool { return ts.Sessions() == 0 })
	})
}

func TestInteractiveReadOnlyUser(t *testing.T) {
	ts := startServer(t, nil)
	p := startTmux(t, ts, ts.oper.Path, "oper")
	p.waitLast("sw1>")
	p.typ("?")
	s := p.wait("help", func(s string) bool { return strings.Contains(s, "whoami") && lastLine(s) == "sw1>" })
	if strings.Contains(s, "license") || !strings.Contains(s, "show") {
		t.Errorf("privilege 1 help:\n%s", s)
	}
	p.typ("whoami")
	p.keys("Enter")
	p.wait("whoami", func(s string) bool { return strings.Contains(s, "user=oper priv=1 interactive=true") })
	p.keys("C-d")
	waitFor(t, "Ctrl-D to end the session", func() bool {
		return exec.Command("tmux", "-S", p.sock, "has-session").Run() != nil
	})
}

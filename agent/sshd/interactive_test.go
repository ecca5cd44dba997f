package sshd

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/sshd")

// goldenDir holds this package's fixtures and golden files.
const goldenDir = "../../testdata/sshd"

// syncBuffer is an output buffer safe to read while the shell writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testShell is a shellSession without a network: the test types into in
// and reads out.
func testShell(t *testing.T, priv int, input io.Reader) (*shellSession, *syncBuffer) {
	t.Helper()
	srv := &Server{cfg: Config{Shell: &fakeShell{}, Hostname: "sw1", Logf: t.Logf}}
	out := &syncBuffer{}
	sh := newShellSession(srv, nil, &identity{user: "admin", priv: priv}, struct {
		io.Reader
		io.Writer
	}{input, out})
	return sh, out
}

func TestLocalCommands(t *testing.T) {
	tests := []struct {
		line       string
		wantAction int
		wantLength int64
		wantOut    string
	}{
		{"terminal length 0", localDone, 0, ""},
		{"term len 40", localDone, 40, ""},
		{"TERMINAL LENGTH 512", localDone, 512, ""},
		{"t l 7", localDone, 7, ""},
		{"terminal length 513", localDone, followWindow, "                    ^\n" + msgInvalid + "\n"},
		{"terminal length -1", localDone, followWindow, "                    ^\n" + msgInvalid + "\n"},
		{"terminal length x", localDone, followWindow, "                    ^\n" + msgInvalid + "\n"},
		{"terminal length 5 6", localDone, followWindow, "                      ^\n" + msgInvalid + "\n"},
		{"terminal", localDone, followWindow, msgIncomplete + "\n"},
		{"terminal length", localDone, followWindow, msgIncomplete + "\n"},
		{"terminal no", localDone, followWindow, msgIncomplete + "\n"},
		{"terminal no length", localDone, followWindow, ""},
		{"terminal no height", localDone, followWindow, strings.Repeat(" ", 16) + "^\n" + msgInvalid + "\n"},
		{"terminal height 80", localDone, followWindow, strings.Repeat(" ", 13) + "^\n" + msgInvalid + "\n"},
		{"terminal no length 5", localDone, followWindow, strings.Repeat(" ", 23) + "^\n" + msgInvalid + "\n"},
		{"exit", localExit, followWindow, ""},
		{"  exit  ", localExit, followWindow, ""},
		{"quit", localExit, followWindow, ""},
		{"q", localExit, followWindow, ""},
		{"logout", localExit, followWindow, ""},
		{"exit now", localDone, followWindow, "         ^\n" + msgInvalid + "\n"},
		{"l", localDone, followWindow, `% Ambiguous command:  "l"` + "\n"}, // license, lines, logout
		{"lo", localExit, followWindow, ""},
		{"show license udi", localNone, followWindow, ""},
		{"sh", localNone, followWindow, ""},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			sh, out := testShell(t, 15, strings.NewReader(""))
			if got := sh.local(tt.line); got != tt.wantAction {
				t.Errorf("action %d, want %d", got, tt.wantAction)
			}
			if got := sh.length.Load(); got != tt.wantLength {
				t.Errorf("length %d, want %d", got, tt.wantLength)
			}
			if got := out.String(); got != tt.wantOut {
				t.Errorf("output %q, want %q", got, tt.wantOut)
			}
		})
	}
	// Whatever the first word is, the pager's height follows the setting.
	sh, _ := testShell(t, 15, strings.NewReader(""))
	sh.resize(120, 40)
	if got := sh.pageLines(); got != 40 {
		t.Errorf("following a 40-line window: %d", got)
	}
	sh.resize(120, 0)
	if got := sh.pageLines(); got != defaultTermLength {
		t.Errorf("no window height: %d", got)
	}
	sh.local("terminal length 0")
	if got := sh.pageLines(); got != 0 {
		t.Errorf("terminal length 0: %d", got)
	}
	if got := sh.pageWidth(); got != 120 {
		t.Errorf("following a 120-column window: %d", got)
	}
	sh.local("terminal width 0")
	if got := sh.pageWidth(); got != 0 {
		t.Errorf("terminal width 0: %d", got)
	}
	sh.local("term wid 132")
	if got := sh.pageWidth(); got != 132 {
		t.Errorf("terminal width 132: %d", got)
	}
	sh.local("terminal no width")
	if got := sh.pageWidth(); got != 120 {
		t.Errorf("terminal no width: %d", got)
	}
}

func words(c []Candidate) string {
	var w []string
	for _, x := range c {
		w = append(w, x.Word)
	}
	return strings.Join(w, " ")
}

func TestCandidates(t *testing.T) {
	tests := []struct {
		prefix  string
		priv    int
		want    string
		wantErr string
	}{
		{"", 15, "exit license lines logout quit show terminal whoami", ""},
		{"terminal no ", 15, "length width", ""},
		{"terminal width ", 15, "<0-512>", ""},
		{"terminal no width ", 15, "<cr>", ""},
		{"", 1, "exit lines logout quit show terminal whoami", ""},
		{"l", 15, "license lines logout", ""},
		{"te", 15, "terminal", ""},
		{"xyz", 15, "", ""},
		{"terminal ", 15, "length no width", ""},
		{"term l", 15, "length", ""},
		{"terminal length ", 15, "<0-512>", ""},
		{"terminal length 4", 15, "<0-512>", ""},
		{"terminal length 4 ", 15, "<cr>", ""},
		{"terminal no length ", 15, "<cr>", ""},
		{"terminal x ", 15, "", msgInvalid},
		{"exit ", 15, "<cr>", ""},
		{"exit x ", 15, "", msgInvalid},
		{"show ", 15, "license version", ""},
		{"sh lic u", 15, "udi usage", ""},
		{"l x", 15, "", "Ambiguous"},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			sh, _ := testShell(t, tt.priv, strings.NewReader(""))
			c, err := sh.candidates(tt.prefix)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := words(c); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTab(t *testing.T) {
	tests := []struct {
		line    string
		pos     int // -1: end of line
		want    string
		wantPos int
		wantOut string
	}{
		{"sh", -1, "show ", 5, ""},
		{"sh lic", -1, "sh license ", 11, ""},
		{"sh lic u", -1, "sh lic u", 8, "sw1#sh lic u\nudi  usage\n\n"},
		{"sh lic us", -1, "sh lic usage ", 13, ""},
		{"te", -1, "terminal ", 9, ""},
		{"terminal l", -1, "terminal length ", 16, ""},
		{"terminal length ", -1, "terminal length ", 16, ""}, // <0-512> is never inserted
		{"sh  udi", 2, "show udi", 5, ""},
		{"xyz", -1, "xyz", 3, ""},
		{"", -1, "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			sh, out := testShell(t, 15, strings.NewReader(""))
			pos := tt.pos
			if pos < 0 {
				pos = len(tt.line)
			}
			got, gotPos, ok := sh.tab(tt.line, pos)
			if !ok || got != tt.want || gotPos != tt.wantPos {
				t.Errorf("tab(%q, %d) = %q, %d, %v; want %q, %d", tt.line, pos, got, gotPos, ok, tt.want, tt.wantPos)
			}
			if o := out.String(); o != strings.ReplaceAll(tt.wantOut, "\n", "\r\n") {
				t.Errorf("output %q, want %q", o, tt.wantOut)
			}
		})
	}
}

func TestIsPlaceholder(t *testing.T) {
	for w, want := range map[string]bool{"<cr>": true, "<0-512>": true, "FILE": true, "LINE": true, "": true, "5": true,
		"show": false, "|": false, "license": false, "Show": false} {
		if got := isPlaceholder(w); got != want {
			t.Errorf("isPlaceholder(%q) = %v", w, got)
		}
	}
}

func TestOnKey(t *testing.T) {
	sh, _ := testShell(t, 15, strings.NewReader(""))
	if l, p, ok := sh.onKey("show lic", 4, keyClearLine); !ok || l != "" || p != 0 {
		t.Errorf("Ctrl-C: %q %d %v", l, p, ok)
	}
	if _, _, ok := sh.onKey("show", 4, 'x'); ok {
		t.Errorf("a plain key was taken")
	}
	// Ctrl-V then ? inserts a literal ?.
	if l, p, ok := sh.onKey("a", 1, keyCtrlV); !ok || l != "a" || p != 1 {
		t.Errorf("Ctrl-V: %q %d %v", l, p, ok)
	}
	if l, p, ok := sh.onKey("a", 1, '?'); !ok || l != "a?" || p != 2 {
		t.Errorf("Ctrl-V ?: %q %d %v", l, p, ok)
	}
	// Without it, ? shows help and leaves the line alone.
	if l, p, ok := sh.onKey("a", 1, '?'); !ok || l != "a" || p != 1 {
		t.Errorf("?: %q %d %v", l, p, ok)
	}
}

// The layout of `?` help is for people: golden file.
func TestHelpLayoutGolden(t *testing.T) {
	var b strings.Builder
	for _, prefix := range []string{"", "show ", "show license ", "sh lic u", "terminal ", "terminal length ", "terminal width ", "terminal length 5 ", "xyz", "show xyz "} {
		sh, out := testShell(t, 15, strings.NewReader(""))
		sh.help(prefix)
		fmt.Fprintf(&b, "=== %q\n%s", prefix, strings.ReplaceAll(out.String(), "\r\n", "\n"))
	}
	sh, out := testShell(t, 15, strings.NewReader(""))
	sh.winWidth.Store(20)
	sh.help("l")
	fmt.Fprintf(&b, "=== %q at width 20\n%s", "l", strings.ReplaceAll(out.String(), "\r\n", "\n"))
	checkGolden(t, "help.golden", b.String())
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestPager(t *testing.T) {
	numbered := func(n int) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "l%d\n", i)
		}
		return b.String()
	}
	erase := "\r" + strings.Repeat(" ", len(moreText)) + "\r"
	tests := []struct {
		name   string
		lines  int
		width  int
		output string
		keys   string
		want   string
	}{
		{"no paging", 0, 80, numbered(10), "", numbered(10)},
		{"fits on one screen", 5, 80, numbered(4), "", numbered(4)},
		{"no pause without more output", 5, 80, numbered(4) + "", "", numbered(4)},
		{"space then q", 5, 80, numbered(10), " q",
			numbered(4) + moreText + erase + "l5\nl6\nl7\nl8\n" + moreText + erase},
		{"enter shows one line", 5, 80, numbered(6), "\r ",
			numbered(4) + moreText + erase + "l5\n" + moreText + erase + "l6\n"},
		{"Ctrl-C stops", 3, 80, numbered(5), "\x03", "l1\nl2\n" + moreText + erase},
		{"long lines count their rows", 4, 10, strings.Repeat("x", 25) + "\nshort\n", " ",
			strings.Repeat("x", 25) + "\n" + moreText + erase + "short\n"},
		{"height 1 still shows a line per page", 1, 80, "a\nb\n", " ", "a\n" + moreText + erase + "b\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			keys := strings.NewReader(tt.keys)
			p := &pager{w: &out, in: &input{r: iotest.OneByteReader(keys)},
				lines: func() int { return tt.lines }, width: func() int { return tt.width }}
			// Write in uneven pieces, as commands do.
			data := []byte(tt.output)
			for len(data) > 0 {
				n := min(len(data), 7)
				if w, err := p.Write(data[:n]); err != nil || w != n {
					t.Fatalf("Write = %d, %v", w, err)
				}
				data = data[n:]
			}
			if got := out.String(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if keys.Len() != 0 {
				t.Errorf("%d keys unread", keys.Len())
			}
		})
	}
}

func TestPagerKeyboardGone(t *testing.T) {
	var out bytes.Buffer
	p := &pager{w: &out, in: &input{r: strings.NewReader("")}, lines: func() int { return 2 }, width: func() int { return 80 }}
	if _, err := p.Write([]byte("a\nb\nc\n")); err == nil {
		t.Fatal("no error when the keyboard is gone")
	}
	if n, err := p.Write([]byte("d\n")); err != nil || n != 2 || strings.Contains(out.String(), "d") {
		t.Errorf("after the keyboard went away: %d %v %q", n, err, out.String())
	}
}

func TestAnswerReader(t *testing.T) {
	tests := []struct {
		name      string
		input     string
		wantLines []string
		wantErr   error
		wantEcho  string
	}{
		{"one line", "yes\r", []string{"yes"}, io.EOF, "yes\r\n"},
		{"backspace", "yez\x7fs\r", []string{"yes"}, io.EOF, "yez\b \bs\r\n"},
		{"backspace on empty", "\x7f\x08a\r", []string{"a"}, io.EOF, "a\r\n"},
		{"Ctrl-U", "abc\x15xy\r", []string{"xy"}, io.EOF, "abc\b \b\b \b\b \bxy\r\n"},
		{"Ctrl-C interrupts", "ye\x03s\r", nil, errInterrupted, "ye^C\r\n"},
		{"Ctrl-D ends input", "a\rb\r\x04more", []string{"a", "b"}, io.EOF, "a\r\nb\r\n"},
		{"Ctrl-D inside a line is ignored", "a\x04b\r", []string{"ab"}, io.EOF, "ab\r\n"},
		{"CR LF is one line end", "a\r\nb\n\nc\r", []string{"a", "b", "", "c"}, io.EOF, "a\r\nb\r\n\r\nc\r\n"},
		{"escape sequences dropped", "\x1b[Ax\x1bOB\r", []string{"x"}, io.EOF, "x\r\n"},
		{"UTF-8", "été\r", []string{"été"}, io.EOF, "été\r\n"},
		{"control characters dropped", "a\x01\x02b\tc\r", []string{"ab\tc"}, io.EOF, "ab\tc\r\n"},
		{"a pasted license", "line 1\rline 2\r\x04", []string{"line 1", "line 2"}, io.EOF, "line 1\r\nline 2\r\n"},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/onebyte=%v", tt.name, oneByte), func(t *testing.T) {
				var r io.Reader = strings.NewReader(tt.input)
				if oneByte {
					r = iotest.OneByteReader(r)
				}
				sh, out := testShell(t, 15, r)
				ar := &answerReader{sh: sh}
				var lines []string
				var err error
				br := &lineSplitter{r: ar}
				for range 10 {
					var l string
					if l, err = br.line(); err != nil {
						break
					}
					lines = append(lines, l)
				}
				if fmt.Sprint(lines) != fmt.Sprint(tt.wantLines) {
					t.Errorf("lines %q, want %q", lines, tt.wantLines)
				}
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("error %v, want %v", err, tt.wantErr)
				}
				if got := out.String(); got != tt.wantEcho {
					t.Errorf("echo %q, want %q", got, tt.wantEcho)
				}
			})
		}
	}
}

// lineSplitter reads lines from an io.Reader a few bytes at a time, as a
// command with a small buffer would.
type lineSplitter struct {
	r   io.Reader
	buf []byte
}

func (l *lineSplitter) line() (string, error) {
	for {
		if i := bytes.IndexByte(l.buf, '\n'); i >= 0 {
			s := string(l.buf[:i])
			l.buf = l.buf[i+1:]
			return s, nil
		}
		var b [3]byte
		n, err := l.r.Read(b[:])
		l.buf = append(l.buf, b[:n]...)
		if err != nil {
			return "", err
		}
	}
}

// The whole loop over a pipe: a command that asks, Ctrl-C on the prompt
// line, history, and exit.
func TestShellLoop(t *testing.T) {
	pr, pw := io.Pipe()
	sh, out := testShell(t, 15, pr)
	done := make(chan struct{})
	go func() {
		sh.run(t.Context())
		close(done)
	}()
	typ := func(s string) {
		t.Helper()
		if _, err := pw.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	waitOut := func(want string) {
		t.Helper()
		waitFor(t, fmt.Sprintf("%q in the output", want), func() bool { return strings.Contains(out.String(), want) })
	}
	waitOut("sw1#")
	typ("ask\r")
	waitOut("Proceed? [yes/no]: ")
	typ("no\r")
	waitOut(`answer="no"`)
	typ("show lic\x03whoami   \r")
	waitOut("user=admin priv=15 interactive=true")
	typ("fail\r")
	waitOut("% the command failed")
	typ("exit\r")
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("exit did not end the loop")
	}
	calls := sh.srv.cfg.Shell.(*fakeShell).Calls()
	var lines []string
	for _, c := range calls {
		lines = append(lines, c.Line)
	}
	if fmt.Sprint(lines) != "[ask whoami fail]" {
		t.Errorf("shell ran %q", lines)
	}
	if h := sh.hist; h.Len() != 4 || h.At(0) != "exit" || h.At(3) != "ask" {
		t.Errorf("history %q", h.entries)
	}
}

func FuzzAnswerReader(f *testing.F) {
	for _, s := range []string{"yes\r", "a\x7fb\x15c\r\n", "\x1b[A\x1bOBx\r", "été\r\x04", "\x03", "\xe9\xff\r"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sh, _ := testShell(t, 15, iotest.OneByteReader(bytes.NewReader(data)))
		ar := &answerReader{sh: sh}
		ls := &lineSplitter{r: ar}
		for range len(data) + 2 {
			line, err := ls.line()
			if err != nil {
				return
			}
			for _, r := range line {
				if r != '\t' && (r < 0x20 || r == 0x7f || r == utf8.RuneError) {
					t.Fatalf("line %q holds %U", line, r)
				}
			}
		}
		t.Fatalf("more lines than input bytes from %q", data)
	})
}

func FuzzPager(f *testing.F) {
	f.Add([]byte("a\nb\nc\nd\n"), []byte(" q"), uint8(3), uint8(80))
	f.Add([]byte("long line without end"), []byte("\r\r\r"), uint8(2), uint8(5))
	f.Add([]byte("x\ny\n"), []byte{}, uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, data, keys []byte, lines, width uint8) {
		var out bytes.Buffer
		p := &pager{w: &out, in: &input{r: iotest.OneByteReader(bytes.NewReader(keys))},
			lines: func() int { return int(lines) }, width: func() int { return int(width) }}
		n, err := p.Write(data)
		if err == nil && n != len(data) {
			t.Fatalf("Write = %d without error, want %d", n, len(data))
		}
		shown := strings.ReplaceAll(out.String(), moreText+"\r"+strings.Repeat(" ", len(moreText))+"\r", "")
		shown = strings.TrimSuffix(shown, moreText)
		if !strings.HasPrefix(string(data), shown) {
			t.Fatalf("output %q is not a prefix of %q", shown, data)
		}
		if lines == 0 && shown != string(data) {
			t.Fatalf("no paging, yet output %q differs from %q", shown, data)
		}
	})
}

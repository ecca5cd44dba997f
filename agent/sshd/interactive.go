package sshd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/gliderlabs/ssh"
	"golang.org/x/term"
)

// Terminal length, as `terminal length` sets it.
const (
	defaultTermLength = 24  // when the client reports no window height
	maxTermLength     = 512 // as IOS
	followWindow      = -1  // page at the window's height
	historySize       = 100
)

// Messages in IOS style.
const (
	msgIncomplete   = "% Incomplete command."
	msgInvalid      = "% Invalid input detected at '^' marker."
	msgUnrecognized = "% Unrecognized command"
)

// localCommands are the commands the shell session handles itself.
func localCommands() []Candidate {
	return []Candidate{
		{Word: "exit", Help: "End this session"},
		{Word: "logout", Help: "End this session"},
		{Word: "quit", Help: "End this session"},
		{Word: "terminal", Help: "Set terminal parameters for this session"},
	}
}

// shellSession is one interactive shell.
type shellSession struct {
	srv    *Server
	sess   ssh.Session
	id     *identity
	prompt string
	in     *input
	term   *term.Terminal
	pager  *pager
	hist   *history

	winWidth, winHeight atomic.Int64
	length              atomic.Int64 // followWindow or lines per screen (0: no paging)
	width               atomic.Int64 // followWindow or columns per line (0: lines never wrap)

	ctrlV bool // the next ? is inserted literally; the session's goroutine only
}

func (s *Server) interactive(sess ssh.Session, id *identity) {
	pty, winCh, ok := sess.Pty()
	if !ok {
		fmt.Fprintln(sess.Stderr(), "% The interactive shell needs a terminal: use ssh -t, or give the command to run (ssh HOST show license udi).")
		_ = sess.Exit(1)
		return
	}
	sh := newShellSession(s, sess, id, sess)
	sh.resize(pty.Window.Width, pty.Window.Height)
	go func() {
		for w := range winCh {
			sh.resize(w.Width, w.Height)
		}
	}()
	sh.run(sess.Context())
}

// newShellSession builds the shell over rw (the session, or a test pipe).
func newShellSession(s *Server, sess ssh.Session, id *identity, rw io.ReadWriter) *shellSession {
	sh := &shellSession{srv: s, sess: sess, id: id, hist: &history{max: historySize}}
	sh.prompt = s.cfg.Hostname + ">"
	if id.priv > MinPrivilege {
		sh.prompt = s.cfg.Hostname + "#"
	}
	sh.in = &input{r: rw}
	sh.term = term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{editorInput{sh.in}, rw}, sh.prompt)
	sh.term.History = sh.hist
	sh.term.AutoCompleteCallback = sh.onKey
	sh.length.Store(followWindow)
	sh.width.Store(followWindow)
	sh.winWidth.Store(80)
	sh.pager = &pager{w: rw, in: sh.in, lines: sh.pageLines, width: sh.pageWidth}
	return sh
}

func (sh *shellSession) resize(w, h int) {
	if w > 0 {
		sh.winWidth.Store(int64(w))
	}
	sh.winHeight.Store(int64(max(h, 0)))
	_ = sh.term.SetSize(int(sh.winWidth.Load()), max(h, 1))
}

// pageLines is the screen height the pager uses; 0 means no paging.
func (sh *shellSession) pageLines() int {
	n := sh.length.Load()
	if n == followWindow {
		if h := sh.winHeight.Load(); h > 0 {
			return int(h)
		}
		return defaultTermLength
	}
	return int(n)
}

// pageWidth is the line width the pager counts wrapped rows with; 0 means
// lines never wrap.
func (sh *shellSession) pageWidth() int {
	if n := sh.width.Load(); n != followWindow {
		return int(n)
	}
	return int(sh.winWidth.Load())
}

func (sh *shellSession) session(cancel context.CancelFunc) Session {
	return Session{
		User:        sh.id.user,
		Remote:      sh.remote(),
		Privilege:   sh.id.priv,
		In:          &answerReader{sh: sh, cancel: cancel},
		Out:         sh.pager,
		Err:         sh.pager,
		Interactive: true,
		Files:       sh.srv.flash,
	}
}

func (sh *shellSession) remote() string {
	if sh.sess == nil {
		return ""
	}
	return sh.sess.RemoteAddr().String()
}

// run reads and runs lines until exit or until the client goes away.
func (sh *shellSession) run(ctx context.Context) {
	for ctx.Err() == nil {
		line, err := sh.term.ReadLine()
		if err != nil && err != term.ErrPasteIndicator {
			return // Ctrl-D on an empty line, or the connection ended
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		sh.pager.reset()
		switch sh.local(line) {
		case localExit:
			return
		case localDone:
			continue
		}
		cmdCtx, cancel := context.WithCancel(ctx)
		sh.srv.runLine(cmdCtx, sh.session(cancel), strings.TrimSpace(line))
		cancel()
		if sh.pager.endLine() {
			_, _ = io.WriteString(sh.pager.w, "\n")
		}
	}
}

// --- local commands ---

// word is one word of a line and where it starts.
type word struct {
	text string
	off  int
}

func splitWords(line string) []word {
	var ws []word
	for i := 0; i < len(line); {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		if j > i {
			ws = append(ws, word{line[i:j], i})
		}
		i = j
	}
	return ws
}

// matchKeyword returns the keywords of which w is a case-insensitive prefix;
// an exact match alone if there is one.
func matchKeyword(w string, keywords ...string) []string {
	lw := strings.ToLower(w)
	var out []string
	for _, k := range keywords {
		if k == lw {
			return []string{k}
		}
		if strings.HasPrefix(k, lw) {
			out = append(out, k)
		}
	}
	return out
}

// resolveFirst decides whether the first word w names a local command.
// It returns the command, or "" for the Shell; ambiguous is set when w
// abbreviates both a local command and a Shell command, or several local
// ones.
func (sh *shellSession) resolveFirst(w string) (cmd string, ambiguous bool) {
	var words []string
	for _, c := range localCommands() {
		words = append(words, c.Word)
	}
	m := matchKeyword(w, words...)
	switch {
	case len(m) == 0:
		return "", false
	case len(m) == 1 && m[0] == strings.ToLower(w):
		return m[0], false
	case len(m) > 1:
		return "", true
	}
	ambiguous = false
	for _, c := range sh.shellCandidates(w) {
		switch word := strings.ToLower(c.Word); {
		case word == strings.ToLower(w):
			return "", false // the Shell's own command of that name
		case strings.HasPrefix(word, strings.ToLower(w)) && !isPlaceholder(c.Word):
			ambiguous = true
		}
	}
	if ambiguous {
		return "", true
	}
	return m[0], false
}

// shellCandidates asks the Shell, ignoring its errors.
func (sh *shellSession) shellCandidates(line string) []Candidate {
	c, err := sh.srv.complete(line, sh.id.priv)
	if err != nil {
		return nil
	}
	return c
}

// What local did with a line.
const (
	localNone = iota // not a local command: the Shell runs it
	localDone        // handled here
	localExit        // end the session
)

// local runs exit, quit, logout and `terminal ...`, and reports ambiguous
// or malformed local commands.
func (sh *shellSession) local(line string) int {
	ws := splitWords(line)
	cmd, amb := sh.resolveFirst(ws[0].text)
	switch {
	case amb:
		fmt.Fprintf(sh.pager, "%% Ambiguous command:  %q\n", strings.TrimSpace(line))
		return localDone
	case cmd == "":
		return localNone
	case cmd == "terminal":
		sh.terminal(line, ws)
		return localDone
	case len(ws) > 1: // exit, logout, quit take no arguments
		sh.invalidAt(ws[1].off)
		return localDone
	}
	return localExit
}

func (sh *shellSession) invalidAt(off int) {
	fmt.Fprintf(sh.pager, "%s^\n%s\n", strings.Repeat(" ", len(sh.prompt)+off), msgInvalid)
}

// terminal handles `terminal length N`, `terminal width N` and their `no`
// forms, which return to the window's size.
func (sh *shellSession) terminal(line string, ws []word) {
	if len(ws) < 2 {
		fmt.Fprintln(sh.pager, msgIncomplete)
		return
	}
	sub := matchKeyword(ws[1].text, "length", "no", "width")
	if len(sub) != 1 {
		if len(sub) > 1 {
			fmt.Fprintf(sh.pager, "%% Ambiguous command:  %q\n", strings.TrimSpace(line))
		} else {
			sh.invalidAt(ws[1].off)
		}
		return
	}
	undo := sub[0] == "no"
	args := ws[1:]
	if undo {
		args = ws[2:]
	}
	if len(args) == 0 {
		fmt.Fprintln(sh.pager, msgIncomplete)
		return
	}
	setting := matchKeyword(args[0].text, "length", "width")
	if len(setting) != 1 {
		sh.invalidAt(args[0].off)
		return
	}
	target := &sh.length
	if setting[0] == "width" {
		target = &sh.width
	}
	if undo {
		if len(args) > 1 {
			sh.invalidAt(args[1].off)
			return
		}
		target.Store(followWindow)
		return
	}
	if len(args) < 2 {
		fmt.Fprintln(sh.pager, msgIncomplete)
		return
	}
	n, err := strconv.Atoi(args[1].text)
	if err != nil || n < 0 || n > maxTermLength {
		sh.invalidAt(args[1].off)
		return
	}
	if len(args) > 2 {
		sh.invalidAt(args[2].off)
		return
	}
	target.Store(int64(n))
}

// --- completion ---

// isPlaceholder reports whether a candidate describes input ("<cr>",
// "<0-512>", "FILE") rather than being a keyword Tab may insert.
func isPlaceholder(w string) bool {
	return w == "" || w[0] == '<' || w != "|" && w == strings.ToUpper(w)
}

// onKey is the line editor's hook for every key it does not handle itself.
func (sh *shellSession) onKey(line string, pos int, key rune) (string, int, bool) {
	if key == keyClearLine {
		sh.ctrlV = false
		return "", 0, true
	}
	if sh.ctrlV {
		sh.ctrlV = false
		if key == '?' {
			return line[:pos] + "?" + line[pos:], pos + 1, true
		}
	}
	switch key {
	case keyCtrlV:
		sh.ctrlV = true
		return line, pos, true
	case '?':
		sh.help(line[:pos])
		return line, pos, true
	case '\t':
		return sh.tab(line, pos)
	}
	return "", 0, false
}

// candidates lists what may come at the end of prefix: the Shell's words
// plus the local commands.
func (sh *shellSession) candidates(prefix string) ([]Candidate, error) {
	ws := splitWords(prefix)
	atWordEnd := prefix != "" && !strings.HasSuffix(prefix, " ") && !strings.HasSuffix(prefix, "\t")
	partial := ""
	if atWordEnd {
		partial = ws[len(ws)-1].text
		ws = ws[:len(ws)-1]
	}
	if len(ws) == 0 {
		c, err := sh.srv.complete(prefix, sh.id.priv)
		var local []Candidate
		for _, l := range localCommands() {
			if strings.HasPrefix(l.Word, strings.ToLower(partial)) {
				local = append(local, l)
			}
		}
		if err != nil {
			// The Shell knows no such word; a local command may still fit.
			if len(local) == 0 {
				return nil, err
			}
			c = nil
		}
		c = append(slices.Clone(c), local...)
		slices.SortStableFunc(c, func(a, b Candidate) int { return strings.Compare(a.Word, b.Word) })
		c = slices.CompactFunc(c, func(a, b Candidate) bool { return a.Word == b.Word })
		return c, nil
	}
	cmd, amb := sh.resolveFirst(ws[0].text)
	if amb {
		return nil, fmt.Errorf("%% Ambiguous command:  %q", strings.TrimSpace(prefix))
	}
	if cmd == "" {
		return sh.srv.complete(prefix, sh.id.priv)
	}
	return localCandidates(cmd, ws[1:], partial)
}

// localCandidates completes the arguments of a local command.
func localCandidates(cmd string, args []word, partial string) ([]Candidate, error) {
	cr := []Candidate{{Word: "<cr>"}}
	settings := []Candidate{
		{Word: "length", Help: "Lines per screen"},
		{Word: "width", Help: "Characters per line"},
	}
	var next []Candidate
	switch {
	case cmd != "terminal":
		if len(args) > 0 {
			return nil, fmt.Errorf("%s", msgInvalid)
		}
		next = cr
	case len(args) == 0:
		next = []Candidate{settings[0], {Word: "no", Help: "Follow the window's size again"}, settings[1]}
	default:
		first := matchKeyword(args[0].text, "length", "no", "width")
		undo := len(first) == 1 && first[0] == "no"
		rest := args
		if undo {
			rest = args[1:]
		}
		switch {
		case len(rest) == 0:
			next = settings
		case len(matchKeyword(rest[0].text, "length", "width")) != 1:
			return nil, fmt.Errorf("%s", msgInvalid)
		case undo && len(rest) == 1, !undo && len(rest) == 2:
			next = cr
		case !undo && len(rest) == 1:
			help := "Lines per screen, 0 for no pausing"
			if matchKeyword(rest[0].text, "length", "width")[0] == "width" {
				help = "Characters per line, 0 for no wrapping"
			}
			next = []Candidate{{Word: fmt.Sprintf("<0-%d>", maxTermLength), Help: help}}
		default:
			return nil, fmt.Errorf("%s", msgInvalid)
		}
	}
	if partial == "" {
		return next, nil
	}
	var out []Candidate
	for _, c := range next {
		if isPlaceholder(c.Word) {
			if _, err := strconv.Atoi(partial); err == nil && strings.HasPrefix(c.Word, "<0-") {
				out = append(out, c)
			}
			continue
		}
		if strings.HasPrefix(c.Word, strings.ToLower(partial)) {
			out = append(out, c)
		}
	}
	return out, nil
}

// help answers `?`: it shows the line with the ?, the candidates, and the
// line again, without the ?.
func (sh *shellSession) help(prefix string) {
	c, err := sh.candidates(prefix)
	atWordEnd := prefix != "" && !strings.HasSuffix(prefix, " ") && !strings.HasSuffix(prefix, "\t")
	var b strings.Builder
	b.WriteString(sh.prompt + prefix + "?\n")
	switch {
	case err != nil:
		b.WriteString(err.Error() + "\n")
	case len(c) == 0:
		b.WriteString(msgUnrecognized + "\n")
	case atWordEnd:
		b.WriteString(formatWords(c, int(sh.winWidth.Load())))
	default:
		b.WriteString(formatHelp(c))
	}
	b.WriteString("\n")
	_, _ = sh.term.Write([]byte(b.String()))
}

// tab completes the word before the cursor: the whole word when only one
// fits, the common start when several do (or lists them when that adds
// nothing).
func (sh *shellSession) tab(line string, pos int) (string, int, bool) {
	prefix := line[:pos]
	if strings.HasSuffix(prefix, " ") || prefix == "" {
		return line, pos, true
	}
	ws := splitWords(prefix)
	partial := ws[len(ws)-1].text
	all, err := sh.candidates(prefix)
	if err != nil {
		return line, pos, true
	}
	var words []string
	for _, c := range all {
		if !isPlaceholder(c.Word) && strings.HasPrefix(strings.ToLower(c.Word), strings.ToLower(partial)) {
			words = append(words, c.Word)
		}
	}
	head := prefix[:len(prefix)-len(partial)]
	switch len(words) {
	case 0:
		return line, pos, true
	case 1:
		n := head + words[0] + " "
		rest := strings.TrimLeft(line[pos:], " ")
		return n + rest, len(n), true
	}
	common := commonPrefix(words)
	if len(common) > len(partial) {
		n := head + common
		return n + line[pos:], len(n), true
	}
	cands := make([]Candidate, len(words))
	for i, w := range words {
		cands[i] = Candidate{Word: w}
	}
	_, _ = sh.term.Write([]byte(sh.prompt + line + "\n" + formatWords(cands, int(sh.winWidth.Load())) + "\n"))
	return line, pos, true
}

func commonPrefix(words []string) string {
	p := strings.ToLower(words[0])
	for _, w := range words[1:] {
		w = strings.ToLower(w)
		for !strings.HasPrefix(w, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}

// formatHelp lays out candidates with their help, one per line.
func formatHelp(c []Candidate) string {
	width := 0
	for _, x := range c {
		width = max(width, len(x.Word))
	}
	var b strings.Builder
	for _, x := range c {
		if x.Help == "" {
			fmt.Fprintf(&b, "  %s\n", x.Word)
		} else {
			fmt.Fprintf(&b, "  %-*s  %s\n", width, x.Word, x.Help)
		}
	}
	return b.String()
}

// formatWords lists the words two spaces apart, wrapped to width.
func formatWords(c []Candidate, width int) string {
	var b strings.Builder
	col := 0
	for i, x := range c {
		if i > 0 {
			if width > 0 && col+2+len(x.Word) > width {
				b.WriteString("\n")
				col = 0
			} else {
				b.WriteString("  ")
				col += 2
			}
		}
		b.WriteString(x.Word)
		col += len(x.Word)
	}
	b.WriteString("\n")
	return b.String()
}

// --- answers and history ---

// errInterrupted is what a command reading an answer gets on Ctrl-C.
var errInterrupted = errors.New("interrupted")

// maxAnswerLine bounds one line of an answer.
const maxAnswerLine = 4096

// answerReader gives a command the lines the user types while it runs: a
// confirmation, or a license pasted for `license install -` and ended with
// Ctrl-D on an empty line. Keys: Backspace, Ctrl-U (clear), Ctrl-C
// (interrupt: the command's context ends and reads fail), Ctrl-D. Answers
// never enter the command history.
type answerReader struct {
	sh     *shellSession
	cancel context.CancelFunc
	buf    []byte
	err    error
	lastCR bool
}

func (r *answerReader) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		line, err := r.readLine()
		r.sh.pager.answered()
		if err != nil {
			r.err = err
			if errors.Is(err, errInterrupted) && r.cancel != nil {
				r.cancel()
			}
			return 0, err
		}
		r.buf = append([]byte(line), '\n')
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// readLine reads one line with echo, like a terminal in cooked mode.
func (r *answerReader) readLine() (string, error) {
	in, w := r.sh.in, r.sh.pager.w
	var line []rune
	var chunk [512]byte
	var esc int   // 0: none, 1: after ESC, 2: inside a CSI sequence
	var carry int // bytes of a partial character at the start of chunk
	for {
		n, err := in.Read(chunk[carry:])
		if n == 0 {
			if err == nil {
				err = io.ErrNoProgress
			}
			return "", err
		}
		var echo []byte
		b := chunk[:carry+n]
		carry = 0
		for i := 0; i < len(b); {
			c := b[i]
			ru, size := rune(c), 1
			if c >= utf8.RuneSelf {
				if !utf8.FullRune(b[i:]) {
					// Complete the character with the next read.
					carry = copy(chunk[:], b[i:])
					break
				}
				ru, size = utf8.DecodeRune(b[i:])
			}
			i += size
			cr := r.lastCR
			r.lastCR = false
			switch {
			case esc == 1:
				esc = 0
				if c == '[' || c == 'O' {
					esc = 2
				}
				continue
			case esc == 2:
				if c >= 0x40 && c <= 0x7e {
					esc = 0
				}
				continue
			}
			switch c {
			case '\n':
				if cr {
					continue // the LF of a CR LF
				}
				fallthrough
			case '\r':
				r.lastCR = c == '\r'
				_, _ = w.Write(append(echo, '\r', '\n'))
				in.unread(b[i:])
				return string(line), nil
			case 0x1b:
				esc = 1
			case keyCtrlC:
				_, _ = w.Write(append(echo, "^C\r\n"...))
				return "", errInterrupted
			case 0x04: // Ctrl-D
				if len(line) == 0 {
					_, _ = w.Write(echo)
					in.unread(b[i:])
					return "", io.EOF
				}
			case 0x7f, 0x08:
				if len(line) > 0 {
					line = line[:len(line)-1]
					echo = append(echo, "\b \b"...)
				}
			case 0x15: // Ctrl-U
				for range line {
					echo = append(echo, "\b \b"...)
				}
				line = line[:0]
			default:
				if ru == '\t' || ru >= 0x20 && ru != 0x7f && ru != utf8.RuneError && len(line) < maxAnswerLine {
					line = append(line, ru)
					echo = utf8.AppendRune(echo, ru)
				}
			}
		}
		if len(echo) > 0 {
			if _, err := w.Write(echo); err != nil {
				return "", err
			}
		}
		if err != nil {
			return "", err
		}
	}
}

// history keeps the last commands for Up and Down, without blank lines or
// repeats. Answers typed to commands never reach it (the line editor does not
// read them).
type history struct {
	entries []string // oldest first
	max     int
}

func (h *history) Add(e string) {
	e = strings.TrimSpace(e)
	if e == "" {
		return
	}
	if n := len(h.entries); n > 0 && h.entries[n-1] == e {
		return
	}
	h.entries = append(h.entries, e)
	if len(h.entries) > h.max {
		h.entries = slices.Delete(h.entries, 0, len(h.entries)-h.max)
	}
}

func (h *history) Len() int { return len(h.entries) }

func (h *history) At(i int) string { return h.entries[len(h.entries)-1-i] }

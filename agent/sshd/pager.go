package sshd

import (
	"io"
	"strings"
	"sync"
)

// keyClearLine is what Ctrl-C reaches the line editor as. x/term's ReadLine
// ends with io.EOF on Ctrl-C; 0x1F (Ctrl-_) has no meaning there, so the
// completion callback can turn it into "clear the line".
const (
	keyCtrlC     = 0x03
	keyClearLine = 0x1f
	keyCtrlV     = 0x16
)

// input is the session's keyboard. The line editor, the pager and the
// answer reader read it one after another, never at the same time; bytes
// the answer reader read past the end of a line are kept for the next read.
type input struct {
	r       io.Reader
	pending []byte
}

func (in *input) Read(p []byte) (int, error) {
	if len(in.pending) > 0 {
		n := copy(p, in.pending)
		in.pending = in.pending[n:]
		return n, nil
	}
	return in.r.Read(p)
}

// unread puts b back in front of what is still to be read.
func (in *input) unread(b []byte) {
	if len(b) > 0 {
		in.pending = append(append([]byte(nil), b...), in.pending...)
	}
}

// editorInput is the line editor's view of the keyboard: Ctrl-C becomes
// keyClearLine.
type editorInput struct{ in *input }

func (e editorInput) Read(p []byte) (int, error) {
	n, err := e.in.Read(p)
	mapCtrlC(p[:n])
	return n, err
}

func mapCtrlC(p []byte) {
	for i, b := range p {
		if b == keyCtrlC {
			p[i] = keyClearLine
		}
	}
}

// moreText is the pager's pause prompt.
const moreText = " --More-- "

// pager writes a command's output to the terminal and pauses with --More--
// after each screenful. Keys at the pause: space shows the next screen,
// Enter one more line, anything else (q, Ctrl-C) drops the rest of the
// output. A dropped write still reports success, so the command finishes
// normally and quickly.
type pager struct {
	w  io.Writer
	in *input
	// lines is the screen height in lines; 0 means no paging.
	lines func() int
	width func() int

	mu      sync.Mutex
	rows    int // rows shown since the last pause
	col     int // column of the cursor in the current row
	stopped bool
}

// reset prepares for the next command.
func (p *pager) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rows, p.col, p.stopped = 0, 0, false
}

// endLine reports whether output ended mid-line (then the caller moves to
// a new line before the prompt).
func (p *pager) endLine() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.stopped && p.col > 0
}

func (p *pager) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return len(b), nil
	}
	page := 0
	if h := p.lines(); h > 0 {
		page = max(h-1, 1)
	}
	width := p.width()
	start := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if page > 0 && p.col == 0 && p.rows >= page {
			if i > start {
				if _, err := p.w.Write(b[start:i]); err != nil {
					return start, err
				}
			}
			start = i
			if err := p.pauseLocked(page); err != nil {
				p.stopped = true
				return i, err
			}
			if p.stopped {
				return len(b), nil
			}
		}
		switch {
		case c == '\n':
			p.rows++
			p.col = 0
		case c == '\r':
			p.col = 0
		case c&0xc0 != 0x80: // first byte of a character
			if width > 0 && p.col >= width {
				p.rows++
				p.col = 0
			}
			p.col++
		}
	}
	if start < len(b) {
		if _, err := p.w.Write(b[start:]); err != nil {
			return start, err
		}
	}
	return len(b), nil
}

// answered notes that the user typed an answer: the screen has moved on, so
// paging starts over.
func (p *pager) answered() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rows, p.col = 0, 0
}

// pauseLocked shows --More-- and waits for a key.
func (p *pager) pauseLocked(page int) error {
	if _, err := io.WriteString(p.w, moreText); err != nil {
		return err
	}
	var buf [16]byte
	n, err := p.in.Read(buf[:])
	if n == 0 {
		if err == nil {
			err = io.ErrNoProgress
		}
		return err
	}
	if _, err := io.WriteString(p.w, "\r"+strings.Repeat(" ", len(moreText))+"\r"); err != nil {
		return err
	}
	switch buf[0] {
	case ' ':
		p.rows = 0
	case '\r', '\n':
		p.rows = page - 1
	default:
		p.stopped = true
	}
	return nil
}

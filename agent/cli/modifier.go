package cli

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"regexp/syntax"
)

// lineFilter applies an output modifier line by line as the command
// writes, so long output streams.
type lineFilter struct {
	kind  string
	re    *regexp.Regexp // nil for count without a regular expression
	w     io.Writer
	buf   []byte
	begun bool
	n     int
	err   error
}

// parseModifier reads the output modifier after the "|", if any. The
// result for "| json" carries only its kind.
func parseModifier(in *input) (*lineFilter, error) {
	if in.pipe == nil {
		return nil, nil
	}
	if len(in.mod) == 0 {
		return nil, &SyntaxError{Kind: Incomplete, Line: in.line}
	}
	kw, err := modKeyword(in.line, in.mod[0])
	if err != nil {
		return nil, err
	}
	f := &lineFilter{kind: kw}
	switch kw {
	case modJSON:
		if len(in.mod) > 1 {
			return nil, &SyntaxError{Kind: InvalidInput, Line: in.line, Pos: in.mod[1].start}
		}
		return f, nil
	case modCount:
		if in.modRaw == "" {
			return f, nil
		}
	default:
		if in.modRaw == "" {
			return nil, &SyntaxError{Kind: Incomplete, Line: in.line}
		}
	}
	re, err := regexp.Compile(in.modRaw)
	if err != nil {
		msg := err.Error()
		if se, ok := err.(*syntax.Error); ok {
			msg = se.Code.String()
			if se.Expr != "" && se.Expr != in.modRaw {
				msg += " at " + fmt.Sprintf("%q", se.Expr)
			}
		}
		return nil, usagef("Invalid regular expression %q: %s", in.modRaw, msg)
	}
	f.re = re
	return f, nil
}

func (f *lineFilter) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	f.buf = append(f.buf, p...)
	for {
		i := bytes.IndexByte(f.buf, '\n')
		if i < 0 {
			break
		}
		f.line(f.buf[:i+1])
		f.buf = f.buf[i+1:]
	}
	if len(f.buf) == 0 {
		f.buf = nil // let the consumed backing array go
	}
	return len(p), f.err
}

func (f *lineFilter) line(l []byte) {
	text := bytes.TrimRight(l, "\r\n")
	match := f.re == nil || f.re.Match(text)
	var keep bool
	switch f.kind {
	case modInclude:
		keep = match
	case modExclude:
		keep = !match
	case modBegin:
		f.begun = f.begun || match
		keep = f.begun
	case modCount:
		if match {
			f.n++
		}
	}
	if keep && f.err == nil {
		_, f.err = f.w.Write(l)
	}
}

// Close filters a last line without a newline and, for count, prints the
// count.
func (f *lineFilter) Close() error {
	if len(f.buf) > 0 {
		l := append(f.buf, '\n')
		f.buf = nil
		f.line(l)
	}
	if f.kind == modCount && f.err == nil {
		_, f.err = fmt.Fprintf(f.w, "Number of lines which match regexp = %d\n", f.n)
	}
	return f.err
}

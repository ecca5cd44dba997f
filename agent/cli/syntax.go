package cli

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// SyntaxKind tells which IOS syntax error a line has.
type SyntaxKind int

// Syntax errors, as IOS names them.
const (
	// InvalidInput: a word is not allowed where it stands. Line and Pos say
	// where the caret goes.
	InvalidInput SyntaxKind = iota + 1
	// Ambiguous: an abbreviation matches more than one keyword.
	Ambiguous
	// Incomplete: the line stops before the command is complete.
	Incomplete
)

// SyntaxError is a line the grammar rejects. Its Error text is the IOS
// message; Run prints it with ExitUsage.
type SyntaxError struct {
	Kind SyntaxKind
	// Line is the line as echoed: the typed line for RunLine and Complete,
	// the words joined by spaces for Run.
	Line string
	// Pos is the byte offset in Line the caret points at (InvalidInput).
	Pos int
	// Input is the line up to and including the ambiguous word (Ambiguous).
	Input string
}

func (e *SyntaxError) Error() string {
	switch e.Kind {
	case InvalidInput:
		return "% Invalid input detected at '^' marker."
	case Ambiguous:
		return `% Ambiguous command: "` + e.Input + `"`
	default:
		return "% Incomplete command."
	}
}

// Caret returns the caret line: spaces up to the column of Pos, after
// indent columns (the width of a prompt, when the line is on screen after
// one), then "^".
func (e *SyntaxError) Caret(indent int) string {
	pos := min(max(e.Pos, 0), len(e.Line))
	return strings.Repeat(" ", indent+utf8.RuneCountInString(e.Line[:pos])) + "^"
}

// usageError is a bad output modifier or option: ExitUsage with a message.
type usageError struct{ msg string }

func (e *usageError) Error() string { return "% " + e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// token is one word of a line.
type token struct {
	text   string
	start  int // offset of the token in the line (its opening quote, if quoted)
	pos    int // offset of the text itself
	end    int // offset just after the token
	quoted bool
}

// input is a line split into the command words and an output modifier.
type input struct {
	line  string  // the line as echoed
	words []token // before the "|"
	pipe  *token  // the "|", nil if none
	mod   []token // words after the "|"
	// modRaw is the text after the modifier keyword: the regular
	// expression, taken as typed.
	modRaw string
	// open: the line ends inside a quoted word (only when lexing leniently
	// for completion).
	open bool
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// lexLine splits a typed line the way the IOS parser does: words are
// separated by blanks, a word that starts with a double quote runs to the
// next double quote (so comment text can hold blanks), and an unquoted "|"
// starts the output modifier. After the "|" the text is split on blanks
// only, and the regular expression is the rest of the line as typed.
// Tabs are echoed as spaces so the caret lines up. An unterminated quote is
// an error unless lenient, which completion uses for a line still being
// typed.
func lexLine(line string, lenient bool) (*input, error) {
	line = strings.ReplaceAll(line, "\t", " ")
	in := &input{line: line}
	i := 0
	for i < len(line) {
		c := line[i]
		switch {
		case isSpace(c):
			i++
		case c == '|':
			in.pipe = &token{text: "|", start: i, pos: i, end: i + 1}
			in.lexModifier(i + 1)
			return in, nil
		case c == '"':
			j := strings.IndexByte(line[i+1:], '"')
			if j < 0 {
				if !lenient {
					return in, &SyntaxError{Kind: InvalidInput, Line: line, Pos: i}
				}
				in.words = append(in.words, token{text: line[i+1:], start: i, pos: i + 1, end: len(line), quoted: true})
				in.open = true
				return in, nil
			}
			end := i + 1 + j + 1
			in.words = append(in.words, token{text: line[i+1 : i+1+j], start: i, pos: i + 1, end: end, quoted: true})
			i = end
		default:
			j := i
			for j < len(line) && !isSpace(line[j]) && line[j] != '|' {
				j++
			}
			in.words = append(in.words, token{text: line[i:j], start: i, pos: i, end: j})
			i = j
		}
	}
	return in, nil
}

// lexModifier splits the text after the "|" that starts at from.
func (in *input) lexModifier(from int) {
	line := in.line
	i := from
	for i < len(line) {
		if isSpace(line[i]) {
			i++
			continue
		}
		j := i
		for j < len(line) && !isSpace(line[j]) {
			j++
		}
		in.mod = append(in.mod, token{text: line[i:j], start: i, pos: i, end: j})
		i = j
	}
	if len(in.mod) > 0 {
		raw := strings.TrimLeft(line[in.mod[0].end:], " ")
		// A regular expression typed in quotes is taken without them.
		if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && !strings.Contains(raw[1:len(raw)-1], `"`) {
			raw = raw[1 : len(raw)-1]
		}
		in.modRaw = raw
	}
}

// lexWords turns words as given on a command line into an input, echoing
// them joined by spaces (in double quotes where a word is empty or holds
// blanks). With pipes, a word "|", or a word that starts with "|", starts
// the output modifier; the regular expression is the later words joined by
// spaces.
func lexWords(words []string, pipes bool) *input {
	in := &input{}
	var b strings.Builder
	add := func(w string, cmdPart bool) token {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		t := token{start: b.Len(), text: w}
		quote := cmdPart && (w == "" || strings.ContainsAny(w, " \t")) && !strings.Contains(w, `"`)
		if quote {
			b.WriteByte('"')
			t.quoted = true
		}
		t.pos = b.Len()
		b.WriteString(w)
		if quote {
			b.WriteByte('"')
		}
		t.end = b.Len()
		return t
	}
	for _, w := range words {
		switch {
		case pipes && in.pipe == nil && strings.HasPrefix(w, "|"):
			t := add("|", false)
			in.pipe = &t
			if rest := w[1:]; rest != "" {
				in.mod = append(in.mod, add(rest, false))
			}
		case in.pipe == nil:
			in.words = append(in.words, add(w, true))
		default:
			in.mod = append(in.mod, add(w, false))
		}
	}
	in.line = b.String()
	if len(in.mod) > 1 {
		parts := make([]string, 0, len(in.mod)-1)
		for _, t := range in.mod[1:] {
			parts = append(parts, t.text)
		}
		in.modRaw = strings.Join(parts, " ")
	}
	return in
}

// hasPrefixFold reports whether word is a prefix of keyword, ignoring case.
func hasPrefixFold(keyword, word string) bool {
	return len(word) <= len(keyword) && strings.EqualFold(keyword[:len(word)], word)
}

// matchLen is how many leading bytes of word match some keyword, ignoring
// case: where IOS puts the caret in a word it cannot take.
func matchLen(word string, keywords []string) int {
	best := 0
	for _, k := range keywords {
		n := 0
		for n < len(word) && n < len(k) && lower(word[n]) == lower(k[n]) {
			n++
		}
		best = max(best, n)
	}
	return min(best, max(len(word)-1, 0))
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

package cli

import (
	"slices"
	"strconv"
	"strings"

	"github.com/licensed-dev/licensed/agent"
)

// parser walks the grammar one word at a time: keywords first, by unique
// prefix, then the arguments of the command reached.
type parser struct {
	line string
	cmd  *command
	// inArgs: the words now fill the command's argument positions; no
	// further keyword of the tree can follow.
	inArgs bool
	pi     int      // next argument position
	text   []string // words of a pText argument so far
	args   map[string]string
	yes    bool
	// hideAdmin keeps commands that change the device out of reach, as
	// "?" and Tab show them to a read-only user.
	hideAdmin bool
}

func newParser(root *command, line string) *parser {
	return &parser{line: line, cmd: root, args: map[string]string{}}
}

func (p *parser) invalidAt(pos int) error {
	return &SyntaxError{Kind: InvalidInput, Line: p.line, Pos: pos}
}

// invalid rejects t; the caret goes to the first character no keyword in
// keywords can take.
func (p *parser) invalid(t token, keywords []string) error {
	if t.text == "" || t.quoted || len(keywords) == 0 {
		return p.invalidAt(t.start)
	}
	return p.invalidAt(t.pos + matchLen(t.text, keywords))
}

// visible reports whether k is offered at this point.
func (p *parser) visible(k *command) bool {
	return !k.hidden && !(p.hideAdmin && k.admin && !p.cmd.admin)
}

// keywords lists the names of the visible children of the current command.
func (p *parser) keywords() []string {
	var ks []string
	for _, k := range p.cmd.children {
		if p.visible(k) {
			ks = append(ks, k.name)
		}
	}
	return ks
}

// child finds the keyword t names: an exact name wins, else the one
// visible keyword t abbreviates. It returns nil when t names none.
func (p *parser) child(t token) (*command, error) {
	if t.quoted || t.text == "" {
		return nil, nil
	}
	var found []*command
	for _, k := range p.cmd.children {
		if p.hideAdmin && k.admin && !p.cmd.admin {
			continue
		}
		if strings.EqualFold(k.name, t.text) {
			return k, nil
		}
		if !k.hidden && hasPrefixFold(k.name, t.text) {
			found = append(found, k)
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return found[0], nil
	}
	return nil, &SyntaxError{Kind: Ambiguous, Line: p.line, Input: strings.TrimLeft(p.line[:t.end], " ")}
}

// step takes one word.
func (p *parser) step(t token) error {
	c := p.cmd
	if !p.inArgs && len(c.children) > 0 {
		k, err := p.child(t)
		if err != nil {
			return err
		}
		if k != nil {
			p.cmd = k
			return nil
		}
		if len(c.params) == 0 && !c.yes {
			return p.invalid(t, p.keywords())
		}
	}
	p.inArgs = true
	if c.yes && !t.quoted && strings.EqualFold(t.text, "--yes") {
		p.yes = true
		return nil
	}
	if p.pi >= len(c.params) {
		return p.invalid(t, nil)
	}
	prm := c.params[p.pi]
	switch prm.kind {
	case pKeyword:
		if t.quoted || t.text == "" || !hasPrefixFold(prm.keyword, t.text) {
			return p.invalid(t, []string{prm.keyword})
		}
		p.pi++
	case pWord:
		if t.text == "" {
			return p.invalid(t, nil)
		}
		p.args[prm.name] = t.text
		p.pi++
	case pNumber:
		n, off := number(t.text)
		if off >= 0 {
			return p.invalidAt(t.pos + off)
		}
		p.args[prm.name] = strconv.Itoa(n)
		p.pi++
	case pText:
		p.text = append(p.text, t.text)
	}
	return nil
}

// values returns the parsed arguments by name, a text argument joined by
// single blanks.
func (p *parser) values() map[string]string {
	if len(p.text) > 0 {
		for _, prm := range p.cmd.params {
			if prm.kind == pText {
				p.args[prm.name] = strings.Join(p.text, " ")
			}
		}
	}
	return p.args
}

// number parses a count from 1 to 2147483647. When s is not one, off is
// where the caret goes: the first character that is not a digit, or the
// start when the digits are out of range.
func number(s string) (n int, off int) {
	if s == "" {
		return 0, 0
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, i
		}
	}
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil || v < 1 {
		return 0, 0
	}
	return int(v), -1
}

// finish reports whether the words so far make a complete command.
func (p *parser) finish() error {
	c := p.cmd
	incomplete := &SyntaxError{Kind: Incomplete, Line: p.line}
	if c.run == nil {
		return incomplete
	}
	if p.pi < len(c.params) {
		prm := c.params[p.pi]
		if prm.kind == pText && len(p.text) > 0 {
			return nil
		}
		if !prm.optional {
			return incomplete
		}
	}
	return nil
}

// words returns the arguments in canonical form: keywords in full, a text
// argument as one word.
func (p *parser) words() []string {
	var w []string
	for i, prm := range p.cmd.params {
		if i >= p.pi && !(prm.kind == pText && len(p.text) > 0) {
			break
		}
		switch prm.kind {
		case pKeyword:
			w = append(w, prm.keyword)
		default:
			w = append(w, p.values()[prm.name])
		}
	}
	return w
}

// cand is a completion candidate with what shell completion needs to know.
type cand struct {
	Candidate
	file bool // an argument naming a file
}

// candidates lists what may stand at the next word, which begins with
// partial: keywords in alphabetical order, then the argument, then "|" and
// "<cr>" when the command is complete. A quoted partial word can only be an
// argument.
func (p *parser) candidates(partial string, quoted bool) []cand {
	c := p.cmd
	var out []cand
	if !p.inArgs && !quoted {
		var ks []cand
		for _, k := range c.children {
			if p.visible(k) && hasPrefixFold(k.name, partial) {
				ks = append(ks, cand{Candidate: Candidate{Word: k.name, Help: k.help}})
			}
		}
		slices.SortFunc(ks, func(a, b cand) int { return strings.Compare(a.Word, b.Word) })
		out = append(out, ks...)
	}
	if p.inArgs || len(c.children) == 0 || len(c.params) > 0 {
		switch {
		case p.pi < len(c.params):
			prm := c.params[p.pi]
			switch prm.kind {
			case pKeyword:
				if !quoted && hasPrefixFold(prm.keyword, partial) {
					out = append(out, cand{Candidate: Candidate{Word: prm.keyword, Help: prm.help}})
				}
			case pWord:
				out = append(out, cand{Candidate: Candidate{Word: wordWORD, Help: prm.help}, file: prm.file})
			case pNumber:
				if _, off := number(partial); partial == "" || off < 0 {
					out = append(out, cand{Candidate: Candidate{Word: wordNumber, Help: prm.help}})
				}
			case pText:
				out = append(out, cand{Candidate: Candidate{Word: wordLINE, Help: prm.help}})
			}
		}
		if c.yes && !p.yes && !quoted && (p.pi > 0 || strings.HasPrefix(partial, "-")) && hasPrefixFold("--yes", partial) {
			out = append(out, cand{Candidate: Candidate{Word: "--yes", Help: "Do not ask to confirm"}})
		}
	}
	if partial == "" && p.finish() == nil {
		out = append(out,
			cand{Candidate: Candidate{Word: wordPipe, Help: "Output modifiers"}},
			cand{Candidate: Candidate{Word: wordCR}})
	}
	return out
}

// Output modifiers.
const (
	modBegin   = "begin"
	modCount   = "count"
	modExclude = "exclude"
	modInclude = "include"
	modJSON    = "json"
)

type modInfo struct{ name, help string }

func modifiers() []modInfo {
	return []modInfo{
		{modBegin, "Begin with the line that matches"},
		{modCount, "Count number of lines which match regexp"},
		{modExclude, "Exclude lines that match"},
		{modInclude, "Include lines that match"},
		{modJSON, "Structured output in JSON"},
	}
}

// modKeyword resolves the modifier keyword t abbreviates.
func modKeyword(line string, t token) (string, error) {
	var found, all []string
	for _, m := range modifiers() {
		all = append(all, m.name)
		if hasPrefixFold(m.name, t.text) {
			found = append(found, m.name)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		p := &parser{line: line}
		return "", p.invalid(t, all)
	}
	return "", &SyntaxError{Kind: Ambiguous, Line: line, Input: strings.TrimLeft(line[:t.end], " ")}
}

// Complete lists what may follow line, for "?" and Tab in the SSH shell:
// the candidates for its last word (the empty word when line ends in a
// blank), each with a one-line help. "<cr>" is offered when the command is
// complete as it stands, "|" before it for the output modifiers. Argument
// positions are offered as IOS placeholders (WORD, LINE, <1-2147483647>);
// Candidate.Placeholder tells them from words to insert. At a privilege
// below agent.PrivAdmin the commands that change the device are not
// offered. err is a *SyntaxError when the line is already invalid,
// ambiguous or, before a "|", incomplete.
func Complete(line string, priv int) ([]Candidate, error) {
	cs, err := complete(line, priv)
	if err != nil {
		return nil, err
	}
	out := make([]Candidate, len(cs))
	for i, c := range cs {
		out[i] = c.Candidate
	}
	return out, nil
}

// Placeholder reports whether c stands for an argument or for the end of
// the line rather than being a word to insert: Tab completes only the
// others.
func (c Candidate) Placeholder() bool {
	w := c.Word
	return w == "" || w[0] == '<' || (w != wordPipe && w == strings.ToUpper(w))
}

func complete(line string, priv int) ([]cand, error) {
	in, _ := lexLine(line, true)
	p := newParser(grammar(), in.line)
	p.hideAdmin = priv < agent.PrivAdmin
	ends := line == "" || isSpace(line[len(line)-1])
	words := in.words
	var last *token
	if in.pipe == nil && !ends && len(words) > 0 {
		last = &words[len(words)-1]
		words = words[:len(words)-1]
	}
	for _, t := range words {
		if err := p.step(t); err != nil {
			return nil, err
		}
	}
	if in.pipe != nil {
		return completeModifier(p, in, ends)
	}
	partial, quoted := "", false
	if last != nil {
		partial, quoted = last.text, last.quoted
	}
	cs := p.candidates(partial, quoted)
	if len(cs) == 0 && last != nil {
		var ks []string
		if !p.inArgs {
			ks = p.keywords()
		}
		return nil, p.invalid(*last, ks)
	}
	return cs, nil
}

func completeModifier(p *parser, in *input, ends bool) ([]cand, error) {
	if err := p.finish(); err != nil {
		return nil, err
	}
	list := func(partial string) []cand {
		var cs []cand
		for _, m := range modifiers() {
			if hasPrefixFold(m.name, partial) {
				cs = append(cs, cand{Candidate: Candidate{Word: m.name, Help: m.help}})
			}
		}
		return cs
	}
	if len(in.mod) == 0 {
		return list(""), nil
	}
	if len(in.mod) == 1 && !ends {
		cs := list(in.mod[0].text)
		if len(cs) == 0 {
			_, err := modKeyword(in.line, in.mod[0])
			return nil, err
		}
		return cs, nil
	}
	kw, err := modKeyword(in.line, in.mod[0])
	if err != nil {
		return nil, err
	}
	re := cand{Candidate: Candidate{Word: wordLINE, Help: "Regular expression"}}
	cr := cand{Candidate: Candidate{Word: wordCR}}
	switch kw {
	case modJSON:
		if len(in.mod) > 1 {
			return nil, &SyntaxError{Kind: InvalidInput, Line: in.line, Pos: in.mod[1].start}
		}
		return []cand{cr}, nil
	case modCount:
		if len(in.mod) == 1 {
			return []cand{re, cr}, nil
		}
	default:
		if len(in.mod) == 1 {
			return []cand{re}, nil
		}
	}
	if ends {
		return []cand{re, cr}, nil
	}
	return []cand{re}, nil
}

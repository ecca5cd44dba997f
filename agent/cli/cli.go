package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/licensed-dev/licensed/agent"
)

// Exit status of Run and RunLine.
const (
	ExitOK          = 0 // the command succeeded
	ExitFailed      = 1 // the command ran and failed
	ExitUsage       = 2 // invalid, ambiguous or incomplete command
	ExitUnreachable = 3 // licensed cannot be reached
)

// Files is where FILE arguments resolve: the local file system for
// licensectl, the flash: folder in the SSH shell.
type Files interface {
	ReadFile(name string) ([]byte, error)
	WriteFile(name string, data []byte) error
}

// Deps is what one command invocation runs against.
type Deps struct {
	API agent.API
	// Files resolves FILE arguments; nil refuses every command that names
	// a file other than "-".
	Files Files
	// In is standard input: "license install -" reads the license file
	// from it, and confirmations read their answers from it when
	// Interactive. Nil is empty.
	In io.Reader
	// Out receives command output, Err the "% ..." messages. Nil discards.
	Out, Err io.Writer
	// JSON prints the structured result, as "| json" does (licensectl
	// --json).
	JSON bool
	// Interactive: a person at a prompt, who is asked to confirm reload,
	// the end user agreement and a call-home PAK install. Otherwise
	// reload and the agreement go ahead (typing the command is the
	// consent) and a PAK install needs --yes.
	Interactive bool
	// Privilege is agent.PrivRead or agent.PrivAdmin. Commands other than
	// show are refused below PrivAdmin with "% Authorization failed." (the
	// agent refuses them too; this saves a round trip). Zero is PrivRead.
	Privilege int
	// Prompt is the shell's prompt, set when the typed line is already on
	// screen after it: a syntax error then prints only the caret line,
	// indented past the prompt, instead of echoing the line first.
	Prompt string
}

// Candidate is one possible next word, for "?" and Tab.
type Candidate struct {
	Word string // keyword, or a placeholder: WORD, LINE, <1-2147483647>, <cr>
	Help string // one line
}

func (d Deps) withDefaults() Deps {
	if d.In == nil {
		d.In = strings.NewReader("")
	}
	if d.Out == nil {
		d.Out = io.Discard
	}
	if d.Err == nil {
		d.Err = io.Discard
	}
	return d
}

// runner carries one invocation's dependencies to the command functions.
// Every tree has its own.
type runner struct {
	d    Deps
	out  io.Writer // human output: Deps.Out, through the modifier; discarded under JSON
	json bool
}

// NewRoot returns a fresh command tree over d. Run uses it for every
// command; licensectl also uses it to generate shell completion scripts
// (the root is named "licensectl"; completion requests, "__complete ...",
// are answered by Run with the IOS grammar). Executing the tree directly
// runs commands by their full keywords, without abbreviations or output
// modifiers.
func NewRoot(d Deps) *cobra.Command {
	root, _ := newTree(d)
	return root
}

func newTree(d Deps) (*cobra.Command, *runner) {
	d = d.withDefaults()
	r := &runner{d: d, out: d.Out, json: d.JSON}
	if r.json {
		r.out = io.Discard
	}
	root := r.build(grammar())
	root.Long = "licensectl runs license agent commands in the IOS grammar: keywords may be\n" +
		"abbreviated, \"?\" lists what may follow, and \"| include RE\", \"| exclude RE\",\n" +
		"\"| begin RE\", \"| count [RE]\" or \"| json\" filter the output.\n\n" +
		"Exit status: 0 success, 1 the command failed, 2 invalid, ambiguous or\n" +
		"incomplete command, 3 licensed cannot be reached."
	root.SilenceErrors = true
	root.SilenceUsage = true
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetIn(d.In)
	root.SetOut(d.Out)
	root.SetErr(d.Err)
	return root, r
}

func (r *runner) build(c *command) *cobra.Command {
	use := c.name
	for _, p := range c.params {
		u := strings.ToUpper(p.name)
		switch {
		case p.kind == pKeyword:
			u = p.keyword
		case p.kind == pText:
			u += "..."
		}
		if p.optional {
			u = "[" + u + "]"
		}
		use += " " + u
	}
	cc := &cobra.Command{
		Use:                   use,
		Short:                 c.help,
		Hidden:                c.hidden,
		Args:                  cobra.ArbitraryArgs,
		DisableFlagsInUseLine: true,
	}
	if c.run != nil {
		cc.RunE = func(cmd *cobra.Command, args []string) error {
			return r.exec(cmd.Context(), c, cmd, args)
		}
	}
	if c.yes {
		cc.Flags().Bool("yes", false, "Do not ask to confirm")
	}
	for _, k := range c.children {
		cc.AddCommand(r.build(k))
	}
	return cc
}

// exec runs c with its arguments as cobra passes them.
func (r *runner) exec(ctx context.Context, c *command, cmd *cobra.Command, args []string) error {
	in := lexWords(args, false)
	p := newParser(nil, in.line)
	p.cmd, p.inArgs = c, true
	for _, t := range in.words {
		if err := p.step(t); err != nil {
			return err
		}
	}
	if err := p.finish(); err != nil {
		return err
	}
	a := &call{cmd: c, args: p.values(), yes: p.yes}
	if c.yes {
		if y, err := cmd.Flags().GetBool("yes"); err == nil && y {
			a.yes = true
		}
	}
	if c.admin && r.d.Privilege < agent.PrivAdmin {
		return errAuthorization
	}
	if r.d.API == nil {
		return fmt.Errorf("%w: no agent connection", agent.ErrUnreachable)
	}
	v, err := c.run(r, ctx, a)
	if r.json && v != nil {
		if werr := writeJSON(r.d.Out, v); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

var (
	// errAuthorization: the command needs PrivAdmin.
	errAuthorization = errors.New("authorization failed")
	// errQuiet: the command failed and has said why in its output, or a
	// confirmation was declined.
	errQuiet = errors.New("command failed")
)

// Run runs one command given as words, as typed after licensectl: keywords
// may be abbreviated, a word "|" starts an output modifier, and a last word
// "?" (or ending in "?") lists what may follow instead. Errors go to d.Err
// in IOS style. It returns the exit status.
func Run(ctx context.Context, d Deps, words []string) int {
	d = d.withDefaults()
	if len(words) > 0 && (words[0] == cobra.ShellCompRequestCmd || words[0] == cobra.ShellCompNoDescRequestCmd) {
		return shellComplete(d, words)
	}
	return run(ctx, d, lexWords(words, true))
}

// RunLine runs one typed line: it is split as the IOS parser splits it
// (double quotes group words, for comment text), then run as by Run. A
// blank line does nothing.
func RunLine(ctx context.Context, d Deps, line string) int {
	d = d.withDefaults()
	if strings.TrimSpace(line) == "" {
		return ExitOK
	}
	in, err := lexLine(line, false)
	if err != nil {
		return report(d, err)
	}
	return run(ctx, d, in)
}

func run(ctx context.Context, d Deps, in *input) int {
	if last := helpAsked(in); last != nil {
		return help(d, in, last)
	}
	root, r := newTree(d)
	p := newParser(grammar(), in.line)
	for _, t := range in.words {
		if err := p.step(t); err != nil {
			return report(d, err)
		}
	}
	if err := p.finish(); err != nil {
		return report(d, err)
	}
	f, err := parseModifier(in)
	if err != nil {
		return report(d, err)
	}
	if f != nil && f.kind == modJSON {
		r.json, r.out, f = true, io.Discard, nil
	}
	if f != nil && d.JSON {
		return report(d, usagef("JSON output cannot be combined with \"| %s\"", f.kind))
	}
	if f != nil {
		f.w = d.Out
		r.out = f
	}
	args := p.cmd.path()
	if p.yes {
		args = append(args, "--yes")
	}
	args = append(args, "--")
	args = append(args, p.words()...)
	root.SetArgs(args)
	err = root.ExecuteContext(ctx)
	if f != nil {
		if ferr := f.Close(); ferr != nil && err == nil {
			err = ferr
		}
	}
	return report(d, err)
}

// report prints err the IOS way and returns the exit status for it.
func report(d Deps, err error) int {
	if err == nil {
		return ExitOK
	}
	var se *SyntaxError
	var ue *usageError
	switch {
	case errors.As(err, &se):
		if se.Kind == InvalidInput {
			if d.Prompt == "" {
				fmt.Fprintln(d.Err, se.Line)
			}
			fmt.Fprintln(d.Err, se.Caret(utf8.RuneCountInString(d.Prompt)))
		}
		fmt.Fprintln(d.Err, se.Error())
		return ExitUsage
	case errors.As(err, &ue):
		fmt.Fprintln(d.Err, ue.Error())
		return ExitUsage
	case errors.Is(err, errAuthorization):
		fmt.Fprintln(d.Err, "% Authorization failed.")
		return ExitFailed
	case errors.Is(err, errQuiet):
		return ExitFailed
	case errors.Is(err, agent.ErrUnreachable):
		msg := err.Error()
		if !strings.HasPrefix(msg, agent.ErrUnreachable.Error()) {
			msg = agent.ErrUnreachable.Error() + ": " + msg
		}
		fmt.Fprintln(d.Err, "% "+msg)
		return ExitUnreachable
	}
	fmt.Fprintln(d.Err, "% "+strings.TrimPrefix(err.Error(), "% "))
	return ExitFailed
}

// helpAsked returns the last word when it asks for help: "?" alone, or a
// word ending in "?", unquoted.
func helpAsked(in *input) *token {
	var last *token
	switch {
	case in.pipe != nil && len(in.mod) > 0:
		last = &in.mod[len(in.mod)-1]
	case in.pipe == nil && len(in.words) > 0:
		last = &in.words[len(in.words)-1]
	}
	if last != nil && !last.quoted && strings.HasSuffix(last.text, "?") {
		return last
	}
	return nil
}

// help prints the candidates for the word that ends in "?", as IOS does.
func help(d Deps, in *input, last *token) int {
	cs, err := complete(in.line[:last.end-1], d.Privilege)
	if err != nil {
		return report(d, err)
	}
	width := 0
	for _, c := range cs {
		width = max(width, utf8.RuneCountInString(c.Word))
	}
	var b bytes.Buffer
	for _, c := range cs {
		if c.Help == "" {
			fmt.Fprintf(&b, "  %s\n", c.Word)
			continue
		}
		fmt.Fprintf(&b, "  %-*s  %s\n", width, c.Word, c.Help)
	}
	if _, err := d.Out.Write(b.Bytes()); err != nil {
		return report(d, err)
	}
	return ExitOK
}

// shellComplete answers cobra's completion protocol ("__complete WORDS...
// PARTIAL") from the IOS grammar, so licensectl's generated completion
// scripts know abbreviations. Argument positions that name a file let the
// shell complete file names.
func shellComplete(d Deps, words []string) int {
	noDesc := words[0] == cobra.ShellCompNoDescRequestCmd
	cs, err := complete(strings.Join(words[1:], " "), d.Privilege)
	if err != nil {
		fmt.Fprintf(d.Out, ":%d\n", cobra.ShellCompDirectiveError)
		return ExitOK
	}
	directive := cobra.ShellCompDirectiveNoFileComp
	for _, c := range cs {
		if c.file {
			directive = cobra.ShellCompDirectiveDefault
		}
		if c.Placeholder() || c.Word == wordPipe {
			continue
		}
		if noDesc || c.Help == "" {
			fmt.Fprintln(d.Out, c.Word)
		} else {
			fmt.Fprintf(d.Out, "%s\t%s\n", c.Word, c.Help)
		}
	}
	fmt.Fprintf(d.Out, ":%d\n", directive)
	return ExitOK
}

package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/licensed-dev/licensed/agent"
)

// FuzzRunLine sends arbitrary lines through RunLine, Run and Complete
// against the fake agent: nothing may panic, the exit code is one of the
// four, and a usage error always says why.
func FuzzRunLine(f *testing.F) {
	for _, s := range []string{
		"show license udi", "sh lic det ipservices | json", "sh lic | i ipserv", "sh lic | count",
		"show license | begin Index 2", "show version | exclude ^$", "sh l", "sh lic f", "show licnse",
		"license install -", `license comment add ipservices "a b"`, `license comment add x "open`,
		"license boot module c3750e technology-package ipservices", "license call-home install pak P --yes",
		"license feature acquire phones 2147483648", "reload", "sh lic ?", "| include", "\"\" | json",
		"show license | include (", "lic sa cred -", "lic rev - -", "license accept end user agreement",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		for _, interactive := range []bool{false, true} {
			api := newFake(c3750e())
			var out, errb bytes.Buffer
			d := Deps{API: api, Files: newFiles("good.lic", "feature ipservices\n", "perm.tkt", "permission\n"),
				In: strings.NewReader("feature ipservices\nyes\n"), Out: &out, Err: &errb,
				Interactive: interactive, Privilege: agent.PrivAdmin}
			code := RunLine(context.Background(), d, line)
			checkExit(t, line, code, errb.String())
			out.Reset()
			errb.Reset()
			d.In = strings.NewReader("")
			code = Run(context.Background(), d, strings.Fields(line))
			checkExit(t, line, code, errb.String())
		}
		for _, priv := range []int{agent.PrivRead, agent.PrivAdmin} {
			cs, err := Complete(line, priv)
			var se *SyntaxError
			switch {
			case err == nil && len(cs) == 0:
				t.Errorf("Complete(%q): no candidates and no error", line)
			case err != nil && !errors.As(err, &se):
				t.Errorf("Complete(%q): %T %v", line, err, err)
			case se != nil && (se.Pos < 0 || se.Pos > len(se.Line)):
				t.Errorf("Complete(%q): caret %d outside %q", line, se.Pos, se.Line)
			}
		}
	})
}

func checkExit(t *testing.T, line string, code int, stderr string) {
	t.Helper()
	if code < ExitOK || code > ExitUnreachable {
		t.Fatalf("%q: exit %d", line, code)
	}
	if code == ExitUsage {
		lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
		if !strings.HasPrefix(lines[len(lines)-1], "% ") {
			t.Fatalf("%q: usage error without a message: %q", line, stderr)
		}
	}
	if stderr != "" && !strings.HasSuffix(stderr, "\n") {
		t.Fatalf("%q: stderr not ended by a newline: %q", line, stderr)
	}
}

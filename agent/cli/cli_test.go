package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/licensed-dev/licensed/agent"
)

func c3750e() func() *agent.Status { return func() *agent.Status { return c3750eStatus(false) } }

// TestGrammar checks abbreviations, the three IOS syntax errors and their
// exit codes, and which API call each accepted line makes.
func TestGrammar(t *testing.T) {
	cases := []struct {
		line   string
		code   int
		stderr string // exact
		call   string // the last API call, "" for none
	}{
		// Abbreviations and case.
		{line: "sh lic udi", call: "Status"},
		{line: "SH LIC UDI", call: "Status"},
		{line: "s l u", call: "Status"},
		{line: "show license", call: "Status"},
		{line: "sh lic det", call: "Status"},
		{line: "sh lic det ipservices", call: "Status"},
		{line: "sh lic statu", call: "Status"},
		{line: "sh lic stati", call: "Status"},
		{line: "sh lic c", call: "Status"},
		{line: "sh lic h", call: "History 0"},
		{line: "sh lic fi", call: "Save"},
		{line: "sh lic fe", call: "Status"},
		{line: "sh ver", call: "Status"},
		{line: "sh run", call: "RunningConfig"},
		{line: "lic inst good.lic", call: `Install good.lic "feature ipservices\n"`},
		{line: "lic cl ipservices", call: "Clear ipservices"},
		{line: "lic sa x.lic", call: "Save"},
		{line: "lic sa cred x.txt", call: "Credential"},
		{line: "lic sa credential x.txt", call: "Credential"},
		{line: "lic b l ipbase", call: "SetBootLevel ipbase"},
		{line: "lic b m c3750e t ipservices", call: "SetBootLevel ipservices"},
		{line: "lic b m c3750e TECHNOLOGY-PACKAGE ipservices", call: "SetBootLevel ipservices"},
		{line: "lic a e u a", call: "AcceptEULA"},
		{line: `lic com a ipservices "two  spaces"`, call: `Comment ipservices "two  spaces"`},
		{line: `lic com a ipservices one "two three" four`, call: `Comment ipservices "one two three four"`},
		{line: `lic com a ipservices Ünïcode`, call: `Comment ipservices "Ünïcode"`},
		{line: `lic com a ipservices "|piped" "-h" --help`, call: `Comment ipservices "|piped -h --help"`},
		{line: `lic install "--"`, call: `Install -- "feature ipservices\n"`},
		{line: "lic com d ipservices", call: `Comment ipservices ""`},
		{line: "lic rev perm.tkt out.tkt", call: `Revoke "permission ticket\n"`},
		{line: "lic call i p ABCDEFGHIJK --yes", call: "CallHome install-pak pak=ABCDEFGHIJK url= target= confirm=true"},
		{line: "lic call i p --yes ABCDEFGHIJK", call: "CallHome install-pak pak=ABCDEFGHIJK url= target= confirm=true"},
		{line: "lic call res", code: ExitFailed, call: "CallHome resend pak= url= target= confirm=true"}, // a license failed
		{line: "lic call rev A:B", call: "CallHome revoke pak= url= target=A:B confirm=true"},
		{line: "lic call u https://x", call: "CallHome url pak= url=https://x target= confirm=true"},
		{line: "lic call sh p ABCDEFGHIJK", call: "CallHome show-pak pak=ABCDEFGHIJK url= target= confirm=false"},
		{line: "lic feature acq ipservices 3", call: "Acquire ipservices 3"},
		{line: "lic feature rel ipservices 2147483647", call: "Release ipservices 2147483647"},
		{line: "rel", call: "Reload"},
		{line: "  show   license   udi  ", call: "Status"},
		{line: "\tshow\tlicense\tudi", call: "Status"},

		// Ambiguous.
		{line: "sh lic s", code: ExitUsage, stderr: "% Ambiguous command: \"sh lic s\"\n"},
		{line: "show license f", code: ExitUsage, stderr: "% Ambiguous command: \"show license f\"\n"},
		{line: "lic c", code: ExitUsage, stderr: "% Ambiguous command: \"lic c\"\n"},
		{line: "sh lic stat", code: ExitUsage, stderr: "% Ambiguous command: \"sh lic stat\"\n"},
		{line: "  lic c x y", code: ExitUsage, stderr: "% Ambiguous command: \"lic c\"\n"},
		{line: "lic call-home re", code: ExitUsage, stderr: "% Ambiguous command: \"lic call-home re\"\n"},

		// Incomplete.
		{line: "show", code: ExitUsage, stderr: "% Incomplete command.\n"},
		{line: "license", code: ExitUsage, stderr: "% Incomplete command.\n"},
		{line: "lic install", code: ExitUsage, stderr: "% Incomplete command.\n"},
		{line: "lic save", code: ExitUsage, stderr: "% Incomplete command.\n"},
		{line: "lic save cred", code: ExitUsage, stderr: "% Incomplete command.\n"},
		{line: "lic boot", code: ExitUsage, stderr: "% Incomplete command.\n"},
		{line: "lic boot module c3750e", code: ExitUsage, stderr: "% Incomplete command.\n"},
		{line: "lic boot module c3750e technology-package", code: ExitUsage, stderr: "% Incomplete command.\n"},
		{line: "lic accept end user", code: ExitUsage, stderr: "% Incomplete command.\n"},
		{line: "lic comment add ipservices", code: ExitUsage, stderr: "% Incomplete command.\n"},
		{line: "lic revoke a", code: ExitUsage, stderr: "% Incomplete command.\n"},
		{line: "lic call install pak --yes", code: ExitUsage, stderr: "% Incomplete command.\n"},
		{line: "lic feature acquire ipservices", code: ExitUsage, stderr: "% Incomplete command.\n"},
		{line: "sh lic |", code: ExitUsage, stderr: "% Incomplete command.\n"},
		{line: "sh lic | exclude", code: ExitUsage, stderr: "% Incomplete command.\n"},
		{line: "sh lic | begin   ", code: ExitUsage, stderr: "% Incomplete command.\n"},

		// Invalid input, with the caret under the first character no
		// keyword takes.
		{line: "shw license", code: ExitUsage, stderr: "shw license\n  ^\n% Invalid input detected at '^' marker.\n"},
		{line: "show licnse", code: ExitUsage, stderr: "show licnse\n        ^\n% Invalid input detected at '^' marker.\n"},
		{line: "show license udx", code: ExitUsage, stderr: "show license udx\n               ^\n% Invalid input detected at '^' marker.\n"},
		{line: "show license zzz", code: ExitUsage, stderr: "show license zzz\n             ^\n% Invalid input detected at '^' marker.\n"},
		{line: "show license udi udi", code: ExitUsage, stderr: "show license udi udi\n                 ^\n% Invalid input detected at '^' marker.\n"},
		{line: "show license detail a b", code: ExitUsage, stderr: "show license detail a b\n                      ^\n% Invalid input detected at '^' marker.\n"},
		{line: "reload now", code: ExitUsage, stderr: "reload now\n       ^\n% Invalid input detected at '^' marker.\n"},
		{line: "lic save x.lic credential", code: ExitUsage, stderr: "lic save x.lic credential\n               ^\n% Invalid input detected at '^' marker.\n"},
		{line: "lic boot module c3750e techx p", code: ExitUsage, stderr: "lic boot module c3750e techx p\n                           ^\n% Invalid input detected at '^' marker.\n"},
		{line: "lic feature acquire f 0", code: ExitUsage, stderr: "lic feature acquire f 0\n                      ^\n% Invalid input detected at '^' marker.\n"},
		{line: "lic feature acquire f 2147483648", code: ExitUsage, stderr: "lic feature acquire f 2147483648\n                      ^\n% Invalid input detected at '^' marker.\n"},
		{line: "lic feature acquire f -1", code: ExitUsage, stderr: "lic feature acquire f -1\n                      ^\n% Invalid input detected at '^' marker.\n"},
		{line: `lic clear ""`, code: ExitUsage, stderr: "lic clear \"\"\n          ^\n% Invalid input detected at '^' marker.\n"},
		{line: `"show" license`, code: ExitUsage, stderr: "\"show\" license\n^\n% Invalid input detected at '^' marker.\n"},
		{line: "lic install a.lic --yes", code: ExitUsage, stderr: "lic install a.lic --yes\n                  ^\n% Invalid input detected at '^' marker.\n"},
		{line: "sh lic | foo", code: ExitUsage, stderr: "sh lic | foo\n         ^\n% Invalid input detected at '^' marker.\n"},
		{line: "sh lic | inx x", code: ExitUsage, stderr: "sh lic | inx x\n           ^\n% Invalid input detected at '^' marker.\n"},
		{line: "sh lic | json x", code: ExitUsage, stderr: "sh lic | json x\n              ^\n% Invalid input detected at '^' marker.\n"},
		// Hidden keywords are matched only in full.
		{line: "lic feat acquire ipservices 1", code: ExitUsage, stderr: "lic feat acquire ipservices 1\n    ^\n% Invalid input detected at '^' marker.\n"},
		// Unicode before the caret counts as one column per character.
		{line: "show lïcense", code: ExitUsage, stderr: "show lïcense\n      ^\n% Invalid input detected at '^' marker.\n"},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			api := newFake(c3750e())
			d := adminDeps(api)
			d.Files = newFiles("good.lic", "feature ipservices\n", "perm.tkt", "permission ticket\n", "--", "feature ipservices\n")
			r := runLine(d, c.line)
			if r.code != c.code {
				t.Fatalf("exit %d, want %d\n%v", r.code, c.code, r)
			}
			if c.code != ExitOK && r.err != c.stderr {
				t.Errorf("stderr:\n%q\nwant\n%q", r.err, c.stderr)
			}
			if c.code == ExitOK && r.err != "" {
				t.Errorf("stderr: %q", r.err)
			}
			calls := api.Calls()
			switch {
			case c.call == "" && len(calls) > 0:
				t.Errorf("calls %q, want none", calls)
			case c.call != "" && (len(calls) == 0 || calls[len(calls)-1] != c.call):
				t.Errorf("calls %q, want last %q", calls, c.call)
			}
		})
	}
}

// TestRunWords runs licensectl-style argument lists.
func TestRunWords(t *testing.T) {
	cases := []struct {
		words []string
		code  int
		out   string // substring of stdout
		err   string // exact stderr
	}{
		{words: []string{"sh", "lic", "udi"}, out: "*0        WS-C3750E-24TD-S"},
		{words: []string{"sh", "lic", "udi", "|", "include", "FDO"}, out: "*0        WS-C3750E-24TD-S  FDO1234X0AB"},
		{words: []string{"sh", "lic", "|inc", "Feature"}, out: "Index 1 Feature: ipservices\nIndex 2"},
		{words: []string{"sh", "lic", "|", "i", "Index", "[13]"}, out: "Index 1 Feature: ipservices\nIndex 3 Feature: ipservices\n"},
		{words: []string{"sh", "lic", "|", "i", "Index", " 9"}, out: "Number"}, // "Index  9" matches nothing
		{words: []string{"sh", "lic", "|", "count", "Index [12]"}, out: "Number of lines which match regexp = 2\n"},
		{words: []string{"lic", "comment", "add", "ipservices", "a b", "c"}, out: "% Comment added"},
		{words: []string{}, code: ExitUsage, err: "% Incomplete command.\n"},
		{words: []string{"show", ""}, code: ExitUsage, err: "show \"\"\n     ^\n% Invalid input detected at '^' marker.\n"},
		{words: []string{"show", "license", "bad word"}, code: ExitUsage, err: "show license \"bad word\"\n             ^\n% Invalid input detected at '^' marker.\n"},
		{words: []string{"sh", "l", "?"}, out: "  udi         UDI information\n"},
		{words: []string{"sh", "lic", "u?"}, out: "  udi  UDI information\n"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.words, " "), func(t *testing.T) {
			api := newFake(c3750e())
			r := runWords(adminDeps(api), c.words...)
			if r.code != c.code {
				t.Fatalf("exit %d, want %d\n%v", r.code, c.code, r)
			}
			if c.code == ExitOK && c.out != "Number" && !strings.Contains(r.out, c.out) {
				t.Errorf("stdout %q does not contain %q", r.out, c.out)
			}
			if c.out == "Number" && r.out != "" {
				t.Errorf("stdout %q, want empty", r.out)
			}
			if r.err != c.err {
				t.Errorf("stderr %q, want %q", r.err, c.err)
			}
		})
	}
	// The comment words after the feature are joined with single blanks.
	api := newFake(c3750e())
	runWords(adminDeps(api), "lic", "comment", "add", "ipservices", "a  b", "c")
	if calls := api.Calls(); len(calls) != 1 || calls[0] != `Comment ipservices "a  b c"` {
		t.Errorf("calls %q", calls)
	}
}

// TestModifiers checks the output modifiers on one known output.
func TestModifiers(t *testing.T) {
	cases := []struct {
		line string
		code int
		out  string
		err  string
	}{
		{line: "show license | include Feature", out: "Index 1 Feature: ipservices\nIndex 2 Feature: advipservices\nIndex 3 Feature: ipservices\n"},
		{line: "show license | i ipserv", out: "Index 1 Feature: ipservices\nIndex 2 Feature: advipservices\nIndex 3 Feature: ipservices\n"},
		{line: "show license | inc ^Index [23]", out: "Index 2 Feature: advipservices\nIndex 3 Feature: ipservices\n"},
		{line: `show license | inc "Index 2"`, out: "Index 2 Feature: advipservices\n"},
		{line: "show license | include Period left|Priority", out: "\tPeriod left: Life time\n\tLicense Priority: Medium\n" +
			"\tPeriod left: Not Activated\n\tLicense Priority: Low\n\tPeriod left: 6  weeks 5  days\n\tLicense Priority: Low\n"},
		{line: "show license udi | exclude ^[-D]", out: "*0        WS-C3750E-24TD-S  FDO1234X0AB     WS-C3750E-24TD-S:FDO1234X0AB\n"},
		{line: "show license | begin Index 3", out: "Index 3 Feature: ipservices\n\tPeriod left: 6  weeks 5  days\n\tPeriod Used: 1  week  5  days\n" +
			"\tLicense Type: Evaluation\n\tLicense State: Active, Not in Use, EULA accepted\n\tLicense Count: Non-Counted\n\tLicense Priority: Low\n"},
		{line: "show license | be nomatch", out: ""},
		{line: "show license | count", out: "Number of lines which match regexp = 20\n"},
		{line: "show license | c Index", out: "Number of lines which match regexp = 3\n"},
		{line: "show license | count nomatch", out: "Number of lines which match regexp = 0\n"},
		{line: "show running-config | count", out: "Number of lines which match regexp = 4\n"}, // last line has no newline
		{line: "show running-config | include url", out: "license call-home url https://portal.example.net/licensing\n"},
		{line: "show license | include (", code: ExitUsage, err: "% Invalid regular expression \"(\": missing closing )\n"},
		{line: "show license | include a**", code: ExitUsage, err: "% Invalid regular expression \"a**\": invalid nested repetition operator at \"**\"\n"},
		{line: "show license | x", code: ExitUsage, err: "show license | x\n               ^\n% Invalid input detected at '^' marker.\n"},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			r := runLine(Deps{API: newFake(c3750e())}, c.line)
			if r.code != c.code || r.out != c.out || r.err != c.err {
				t.Errorf("got\n%v\nwant exit %d stdout %q stderr %q", r, c.code, c.out, c.err)
			}
		})
	}
	// The modifier applies to human output only; JSON has its own.
	r := runLine(Deps{API: newFake(c3750e()), JSON: true}, "show license udi | include x")
	if r.code != ExitUsage || r.err != "% JSON output cannot be combined with \"| include\"\n" {
		t.Errorf("--json with | include: %v", r)
	}
	// Filtered output still streams: a command that fails half way has
	// written what it had.
	api := newFake(c3750e())
	var out, errb bytes.Buffer
	code := RunLine(context.Background(), Deps{API: api, Out: &out, Err: &errb}, "sh lic | begin Index 2")
	if code != ExitOK || !strings.HasPrefix(out.String(), "Index 2 Feature: advipservices\n") {
		t.Errorf("begin: %d %q %q", code, out.String(), errb.String())
	}
}

// TestJSON checks the structured output of every show command and of a
// few changes.
func TestJSON(t *testing.T) {
	decode := func(t *testing.T, s string) map[string]any {
		t.Helper()
		var m map[string]any
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, s)
		}
		if !strings.HasPrefix(s, "{\n  \"") || !strings.HasSuffix(s, "}\n") {
			t.Errorf("not indented JSON: %q", s)
		}
		return m
	}
	type check func(t *testing.T, m map[string]any)
	get := func(t *testing.T, m map[string]any, path string) any {
		t.Helper()
		var v any = m
		for _, k := range strings.Split(path, ".") {
			switch x := v.(type) {
			case map[string]any:
				v = x[k]
			case []any:
				var i int
				fmt.Sscan(k, &i)
				if i >= len(x) {
					t.Fatalf("%s: index %d out of %d", path, i, len(x))
				}
				v = x[i]
			default:
				t.Fatalf("%s: no %s in %v", path, k, v)
			}
		}
		return v
	}
	length := func(path string, n int) check {
		return func(t *testing.T, m map[string]any) {
			t.Helper()
			a, ok := get(t, m, path).([]any)
			if !ok || len(a) != n {
				t.Errorf("%s: %v, want %d entries", path, a, n)
			}
		}
	}
	field := func(path string, want any) check {
		return func(t *testing.T, m map[string]any) {
			t.Helper()
			v := get(t, m, path)
			if fmt.Sprint(v) != fmt.Sprint(want) {
				t.Errorf("%s = %v, want %v", path, v, want)
			}
		}
	}
	cases := []struct {
		line   string
		status func() *agent.Status
		checks []check
	}{
		{"show license udi | json", c3750e(), []check{length("members", 1), field("members.0.pid", "WS-C3750E-24TD-S"), field("members.0.active", true)}},
		{"show license udi | json", func() *agent.Status { return c3750eStatus(true) }, []check{length("members", 3), field("members.1.sn", "FDO1301Y1CD")}},
		{"show license | json", c3750e(), []check{length("licenses", 3), field("licenses.2.used", 1047845), field("licenses.0.typeDisplay", "Permanent")}},
		{"show license all | js", c3750e(), []check{length("licenses", 3), length("stores", 2), field("stores.1.name", agent.BuiltInStoreName)}},
		{"show license detail ipservices | json", c3750e(), []check{length("licenses", 2), field("licenses.1.id", "eval-ipservices")}},
		{"show license detail advipservices | json", c3750e(), []check{length("licenses", 1)}},
		{"show license feature | json", c2900Status, []check{length("features", 4), field("features.1.rightToUse", true)}},
		{"show license status | json", uc500Status, []check{length("types", 8), field("callHome.url", "https://portal.example.net/licensing"), length("tamper", 1), field("operations.0", "install")}},
		{"show license statistics | json", c3750e(), []check{field("statistics.checkpoints", 42)}},
		{"show license call-home | json", uc500Status, []check{field("callHome.lastResult", "ok"), length("callHome.pending", 1)}},
		{"show license history | json", c3750e(), []check{length("history", 3), field("history.1.actor.name", "admin")}},
		{"show license file | json", c3750e(), []check{field("file", savedFile)}},
		{"show version | json", c3750e(), []check{field("level", "ipservices"), field("levelType", "Permanent"), field("uptime", 181815), field("bootTime", "2026-03-01T08:00:00Z")}},
		{"show version | json", c2900Status, []check{length("packages", 4), field("packages.1.current", "securityk9")}},
		{"show version | json", uc500Status, []check{length("counted", 1), field("counted.0.capacity", 20)}},
		{"show running-config | json", c3750e(), []check{field("runningConfig", "hostname sw1\nlicense accept end user agreement\nlicense boot level ipservices\nlicense call-home url https://portal.example.net/licensing")}},
		{"license install good.lic | json", c3750e(), []check{length("lines", 1), field("installed", 1), field("lines.0.result", "successful")}},
		{"license clear ipservices | json", c3750e(), []check{length("removed", 2), field("needsReload", true)}},
		{"license boot level advipservices | json", c3750e(), []check{field("configured", "advipservices"), field("needsEula", true)}},
		{"license save - | json", c3750e(), []check{field("file", "-"), field("data", savedFile)}},
		{"license revoke perm.tkt - | json", c3750e(), []check{field("output", "-"), length("revoked", 1)}},
		{"license call-home show pak P | json", c3750e(), []check{length("skus", 2), field("skus.1.days", 90)}},
		{"license feature acquire phones 2 | json", uc500Status, []check{field("inUse", 12), field("granted", 2)}},
		{"reload | json", c3750e(), []check{field("reloaded", true)}},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			d := adminDeps(newFake(c.status))
			d.Files = newFiles("good.lic", "feature ipservices\n", "perm.tkt", "permission ticket\n")
			r := runLine(d, c.line)
			if r.code != ExitOK || r.err != "" {
				t.Fatalf("%v", r)
			}
			m := decode(t, r.out)
			for _, ck := range c.checks {
				ck(t, m)
			}
			// --json gives the same document.
			d.JSON = true
			r2 := runLine(d, strings.Split(c.line, " |")[0])
			if r2.out != r.out {
				t.Errorf("--json differs from | json:\n%s\n%s", r2.out, r.out)
			}
		})
	}
	// A failed install still prints its JSON, and exits 1.
	d := adminDeps(newFake(c3750e()))
	d.In = strings.NewReader("feature ipbase fail\n")
	r := runLine(d, "license install - | json")
	if r.code != ExitFailed {
		t.Errorf("exit %d", r.code)
	}
	if m := decode(t, r.out); fmt.Sprint(m["failed"]) != "1" {
		t.Errorf("failed = %v", m["failed"])
	}
	// Questions go to stderr so stdout stays JSON.
	d = adminDeps(newFake(c3750e()))
	d.Interactive, d.In = true, strings.NewReader("yes\n")
	r = runLine(d, "license accept end user agreement | json")
	if r.code != ExitOK || !strings.Contains(r.err, "ACCEPT? [yes/no]: ") {
		t.Errorf("%v", r)
	}
	decode(t, r.out)
}

// TestErrors checks how failures map to messages and exit codes.
func TestErrors(t *testing.T) {
	cases := []struct {
		name string
		fail error
		code int
		err  string
	}{
		{"agent error", agent.Errorf(agent.CauseLicenseInUse, "feature ipservices is in use"), ExitFailed, "% feature ipservices is in use\n"},
		{"agent error without message", &agent.Error{Cause: agent.CauseNotFound}, ExitFailed, "% notFound\n"},
		{"unreachable", fmt.Errorf("%w: dial unix /run/licensed.sock: connect: no such file or directory", agent.ErrUnreachable),
			ExitUnreachable, "% cannot reach licensed: dial unix /run/licensed.sock: connect: no such file or directory\n"},
		{"unreachable wrapped", fmt.Errorf("status: %w", agent.ErrUnreachable), ExitUnreachable, "% cannot reach licensed: status: cannot reach licensed\n"},
		{"plain error", errors.New("connection reset"), ExitFailed, "% connection reset\n"},
		{"canceled", context.Canceled, ExitFailed, "% context canceled\n"},
	}
	for _, c := range cases {
		for _, line := range []string{"show license udi", "license clear ipservices", "reload", "show license history"} {
			t.Run(c.name+"/"+line, func(t *testing.T) {
				api := newFake(c3750e())
				api.fail = c.fail
				r := runLine(adminDeps(api), line)
				if r.code != c.code || r.err != c.err || r.out != "" {
					t.Errorf("%v\nwant exit %d stderr %q", r, c.code, c.err)
				}
			})
		}
	}
	// No API at all is an unreachable agent.
	r := runLine(Deps{}, "show license udi")
	if r.code != ExitUnreachable || r.err != "% cannot reach licensed: no agent connection\n" {
		t.Errorf("nil API: %v", r)
	}
	// No file system: FILE arguments are refused with a reason, "-" works.
	d := adminDeps(newFake(c3750e()))
	d.Files = nil
	r = runLine(d, "license install x.lic")
	if r.code != ExitFailed || r.err != "% cannot read x.lic: no file system here; use - for standard input\n" {
		t.Errorf("nil Files: %v", r)
	}
	r = runLine(d, "license save x.lic")
	if r.code != ExitFailed || r.err != "% cannot write x.lic: no file system here; use - for standard output\n" {
		t.Errorf("nil Files: %v", r)
	}
	// A feature the device does not have.
	r = runLine(d, "show license detail nosuch")
	if r.code != ExitFailed || r.err != "% feature \"nosuch\" is not licensable on this device (features: ipbase, ipservices, advipservices)\n" {
		t.Errorf("unknown feature: %v", r)
	}
	// Standard input larger than any license file.
	d.In = io.LimitReader(zeros{}, maxInput+10)
	r = runLine(d, "license install -")
	if r.code != ExitFailed || !strings.Contains(r.err, "standard input holds more than") {
		t.Errorf("huge stdin: %v", r)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestPrivilege checks that a read-only user may show but not change, and
// that the refusal happens before any call to the agent.
func TestPrivilege(t *testing.T) {
	changes := []string{
		"license install good.lic", "license install -", "license clear ipservices", "license save x.lic",
		"license save credential x", "license boot level ipbase", "license boot module c3750e technology-package ipbase",
		"license accept end user agreement", "license comment add ipservices x", "license comment delete ipservices",
		"license revoke perm.tkt out.tkt", "license call-home install pak P --yes", "license call-home resend",
		"license call-home revoke A:B", "license call-home url u", "license call-home show pak P",
		"license feature acquire ipservices 1", "license feature release ipservices 1", "reload",
	}
	for _, priv := range []int{0, agent.PrivRead} {
		for _, line := range changes {
			t.Run(fmt.Sprintf("%d/%s", priv, line), func(t *testing.T) {
				api := newFake(c3750e())
				d := Deps{API: api, Files: newFiles("good.lic", "feature x\n"), Privilege: priv, In: strings.NewReader("feature x\n")}
				r := runLine(d, line)
				if r.code != ExitFailed || r.err != "% Authorization failed.\n" || r.out != "" {
					t.Errorf("%v", r)
				}
				if calls := api.Calls(); len(calls) != 0 {
					t.Errorf("calls %q", calls)
				}
			})
		}
	}
	// Syntax errors come before the privilege check.
	r := runLine(Deps{API: newFake(c3750e())}, "license clear")
	if r.code != ExitUsage {
		t.Errorf("incomplete at privilege 1: %v", r)
	}
	// Show commands run at privilege 1.
	r = runLine(Deps{API: newFake(c3750e()), Privilege: agent.PrivRead}, "show license udi")
	if r.code != ExitOK {
		t.Errorf("show at privilege 1: %v", r)
	}
}

// TestPrompt checks that a shell with its own prompt gets only the caret
// line, indented past the prompt.
func TestPrompt(t *testing.T) {
	d := Deps{API: newFake(c3750e()), Prompt: "sw1#"}
	r := runLine(d, "show licnse")
	want := "            ^\n% Invalid input detected at '^' marker.\n"
	if r.code != ExitUsage || r.err != want {
		t.Errorf("got %q, want %q", r.err, want)
	}
}

// TestConcurrentTrees runs 200 fresh trees at once over one agent, as
// concurrent SSH sessions do.
func TestConcurrentTrees(t *testing.T) {
	api := newFake(c3750e())
	want := runLine(Deps{API: api}, "show license udi").out
	lines := []string{"show license udi", "sh lic udi | i FDO", "sh lic | count", "show version | json", "license clear ipservices", "sh l s?"}
	var wg sync.WaitGroup
	errs := make(chan string, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := adminDeps(api)
			line := lines[i%len(lines)]
			r := runLine(d, line)
			switch {
			case r.code != ExitOK:
				errs <- fmt.Sprintf("%q: %v", line, r)
			case i%len(lines) == 0 && r.out != want:
				errs <- fmt.Sprintf("%q: %q", line, r.out)
			}
			root := NewRoot(d)
			root.SetArgs([]string{"show", "license", "udi"})
			var out bytes.Buffer
			root.SetOut(&out)
			if err := root.Execute(); err != nil {
				errs <- err.Error()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestNewRoot executes the cobra tree directly, by full keywords.
func TestNewRoot(t *testing.T) {
	api := newFake(c3750e())
	var out, errb bytes.Buffer
	d := adminDeps(api)
	d.Out, d.Err = &out, &errb
	root := NewRoot(d)
	if root.Name() != "licensectl" {
		t.Errorf("root name %q", root.Name())
	}
	root.SetArgs([]string{"license", "comment", "add", "ipservices", "a", "b"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if calls := api.Calls(); len(calls) != 1 || calls[0] != `Comment ipservices "a b"` {
		t.Errorf("calls %q", calls)
	}
	root = NewRoot(d)
	root.SetArgs([]string{"license", "call-home", "install", "pak", "P", "--yes"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if calls := api.Calls(); calls[len(calls)-1] != "CallHome install-pak pak=P url= target= confirm=true" {
		t.Errorf("calls %q", calls)
	}
	// Bad arguments are refused with the IOS error.
	root = NewRoot(d)
	root.SetArgs([]string{"license", "feature", "acquire", "phones", "x"})
	var se *SyntaxError
	if err := root.Execute(); !errors.As(err, &se) || se.Kind != InvalidInput {
		t.Errorf("bad number: %v", err)
	}
	// The privilege holds here too.
	d.Privilege = agent.PrivRead
	root = NewRoot(d)
	root.SetArgs([]string{"reload"})
	if err := root.Execute(); !errors.Is(err, errAuthorization) {
		t.Errorf("reload at privilege 1: %v", err)
	}
	// Completion scripts name the binary and the hidden command stays out.
	var script bytes.Buffer
	if err := NewRoot(d).GenBashCompletionV2(&script, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(script.String(), "__licensectl_") || !strings.Contains(script.String(), "${words[0]} __complete") {
		t.Errorf("bash completion script is not for licensectl or does not call __complete")
	}
	var names []string
	for _, c := range NewRoot(d).Commands() {
		names = append(names, c.Name())
	}
	if !slices.Equal(names, []string{"license", "reload", "show"}) {
		t.Errorf("root commands %q", names)
	}
}

// TestShellComplete checks the cobra completion protocol licensectl's
// scripts use.
func TestShellComplete(t *testing.T) {
	cases := []struct {
		words []string
		out   string
	}{
		{[]string{cobra.ShellCompRequestCmd, ""}, "license\tLicense operations\nreload\tReload the license agent\nshow\tShow running system information\n:4\n"},
		{[]string{cobra.ShellCompNoDescRequestCmd, "sh", "lic", "s"}, "statistics\nstatus\n:4\n"},
		{[]string{cobra.ShellCompNoDescRequestCmd, "sh", "lic", "udi", ""}, ":4\n"},
		{[]string{cobra.ShellCompNoDescRequestCmd, "lic", "install", ""}, ":0\n"},
		{[]string{cobra.ShellCompNoDescRequestCmd, "lic", "boot", "module", "c2900", ""}, "technology-package\n:4\n"},
		{[]string{cobra.ShellCompNoDescRequestCmd, "sh", "x", ""}, ":1\n"},
	}
	for _, c := range cases {
		r := runWords(adminDeps(newFake(c3750e())), c.words...)
		if r.code != ExitOK || r.out != c.out {
			t.Errorf("%q: %v, want %q", c.words, r, c.out)
		}
	}
}

// TestComplete checks the candidates for "?" and Tab.
func TestComplete(t *testing.T) {
	words := func(cs []Candidate) string {
		var w []string
		for _, c := range cs {
			w = append(w, c.Word)
		}
		return strings.Join(w, " ")
	}
	cases := []struct {
		line string
		priv int
		want string // candidate words
		err  string // error text
		pos  int    // caret offset for invalid input
	}{
		{line: "", want: "license reload show"},
		{line: "", priv: agent.PrivRead, want: "show"},
		{line: "s", want: "show"},
		{line: "sh", want: "show"},
		{line: "sh ", want: "license running-config version"},
		{line: "sh lic ", want: "all call-home detail feature file history statistics status udi | <cr>"},
		{line: "sh lic u", want: "udi"},
		{line: "sh lic s", want: "statistics status"},
		{line: "SH LIC ST", want: "statistics status"},
		{line: "show license udi ", want: "| <cr>"},
		{line: "show license udi", want: "udi"},
		{line: "show license detail ", want: "WORD | <cr>"},
		{line: "show license detail ip", want: "WORD"},
		{line: "show license detail ipservices ", want: "| <cr>"},
		{line: "lic ", want: "accept boot call-home clear comment install revoke save"},
		{line: "lic ", priv: agent.PrivRead, err: "% Invalid input detected at '^' marker.", pos: 0},
		{line: "lic save ", want: "credential WORD"},
		{line: "lic save c", want: "credential WORD"},
		{line: "lic save x ", want: "| <cr>"},
		{line: "lic boot module ", want: "WORD"},
		{line: "lic boot module c2900 ", want: "technology-package"},
		{line: "lic boot module c2900 t", want: "technology-package"},
		{line: "lic boot module c2900 technology-package ", want: "WORD"},
		{line: "lic boot module c2900 x", err: "% Invalid input detected at '^' marker.", pos: 22},
		{line: "lic comment add f ", want: "LINE"},
		{line: "lic comment add f some ", want: "LINE | <cr>"},
		{line: `lic comment add f "some te`, want: "LINE"},
		{line: `"sh`, err: "% Invalid input detected at '^' marker.", pos: 0},
		{line: `show license detail "ip`, want: "WORD"},
		{line: "lic call install pak ", want: "WORD"},
		{line: "lic call install pak P ", want: "--yes | <cr>"},
		{line: "lic call install pak P -", want: "--yes"},
		{line: "lic call install pak P --yes ", want: "| <cr>"},
		{line: "lic feature ", want: "acquire release"},
		{line: "lic fea", err: "% Invalid input detected at '^' marker.", pos: 4},
		{line: "lic feature acquire f ", want: "<1-2147483647>"},
		{line: "lic feature acquire f 1", want: "<1-2147483647>"},
		{line: "lic feature acquire f x", err: "% Invalid input detected at '^' marker.", pos: 22},
		{line: "lic accept ", want: "end"},
		{line: "reload ", want: "| <cr>"},
		{line: "sh lic udi |", want: "begin count exclude include json"},
		{line: "sh lic udi | ", want: "begin count exclude include json"},
		{line: "sh lic udi | e", want: "exclude"},
		{line: "sh lic udi | include ", want: "LINE"},
		{line: "sh lic udi | include x", want: "LINE"},
		{line: "sh lic udi | include x ", want: "LINE <cr>"},
		{line: "sh lic udi | count ", want: "LINE <cr>"},
		{line: "sh lic udi | json ", want: "<cr>"},
		{line: "sh lic udi | json x", err: "% Invalid input detected at '^' marker.", pos: 18},
		{line: "sh lic udi | z", err: "% Invalid input detected at '^' marker.", pos: 13},
		{line: "sh | ", err: "% Incomplete command."},
		{line: "sh l", want: "license"},
		{line: "sh lic f ", err: `% Ambiguous command: "sh lic f"`},
		{line: "sh x", err: "% Invalid input detected at '^' marker.", pos: 3},
		{line: "sh xyz ", err: "% Invalid input detected at '^' marker.", pos: 3},
		{line: "show license udi x", err: "% Invalid input detected at '^' marker.", pos: 17},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			priv := c.priv
			if priv == 0 {
				priv = agent.PrivAdmin
			}
			cs, err := Complete(c.line, priv)
			if c.err != "" {
				var se *SyntaxError
				if !errors.As(err, &se) || se.Error() != c.err {
					t.Fatalf("err %v, want %q (candidates %q)", err, c.err, words(cs))
				}
				if se.Kind == InvalidInput && se.Pos != c.pos {
					t.Errorf("pos %d, want %d", se.Pos, c.pos)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := words(cs); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
			for _, x := range cs {
				if x.Word != wordCR && x.Help == "" {
					t.Errorf("%q has no help", x.Word)
				}
			}
		})
	}
	// Placeholders are not words to insert.
	for w, want := range map[string]bool{"WORD": true, "LINE": true, "<cr>": true, "<1-2147483647>": true,
		"udi": false, "|": false, "--yes": false, "technology-package": false, "call-home": false} {
		if got := (Candidate{Word: w}).Placeholder(); got != want {
			t.Errorf("Placeholder(%q) = %v", w, got)
		}
	}
}

// TestHelpTextStyle keeps "?" help terse: one line, capitalized, no
// final period.
func TestHelpTextStyle(t *testing.T) {
	var walk func(c *command)
	walk = func(c *command) {
		for _, k := range c.children {
			h := k.help
			if h == "" || strings.ContainsAny(h, "\n.") || h[:1] != strings.ToUpper(h[:1]) || len(h) > 50 {
				t.Errorf("%s: help %q", strings.Join(k.path(), " "), h)
			}
			for _, p := range k.params {
				if p.help == "" || len(p.help) > 60 {
					t.Errorf("%s %s: help %q", strings.Join(k.path(), " "), p.name, p.help)
				}
			}
			walk(k)
		}
	}
	walk(grammar())
}

// TestPeriod checks the period formatter against the device samples and
// its own rules.
func TestPeriod(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "0  minute  0  second  "},
		{-time.Hour, "0  minute  0  second  "},
		{time.Second, "0  minute  1  second  "},
		{59 * time.Second, "0  minute  59 seconds "},
		{time.Minute, "1  minute  0  second  "},
		{10*time.Minute + 2*time.Second, "10 minutes 2  seconds "},
		{59*time.Minute + 59*time.Second, "59 minutes 59 seconds "},
		{time.Hour, "1  hour  0  minute  "},
		{23*time.Hour + 59*time.Minute, "23 hours 59 minutes "},
		{day, "1  day  0  hour  "},
		{day + 5*time.Hour + 30*time.Minute, "1  day  5  hours "},
		{6*day + 23*time.Hour, "6  days 23 hours "},
		{7 * day, "1  week  0  day  "},
		{60 * day, "8  weeks 4  days "}, // the built-in evaluation
		{60*day - time.Second, "8  weeks 3  days "},
		{208*7*day + 2*day, "208 weeks 2  days "},
	}
	for _, c := range cases {
		if got := period(c.d); got != c.want {
			t.Errorf("period(%v) = %q, want %q", c.d, got, c.want)
		}
	}
	if got := periodShort(60 * day); got != "8  weeks 4  days" {
		t.Errorf("periodShort = %q", got)
	}
}

func TestUptime(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "0 minutes"},
		{59 * time.Second, "0 minutes"},
		{time.Minute, "1 minute"},
		{2*time.Hour + time.Minute, "2 hours, 1 minute"},
		{day, "1 day"},
		{8*day + 3*time.Minute, "1 week, 1 day, 3 minutes"},
		{400 * day, "1 year, 5 weeks"},
		{-time.Hour, "0 minutes"},
	}
	for _, c := range cases {
		if got := uptime(c.d); got != c.want {
			t.Errorf("uptime(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

// TestStateFallback covers licenses whose display texts the agent left
// empty.
func TestStateFallback(t *testing.T) {
	cases := []struct {
		l    agent.LicenseInfo
		want string
	}{
		{agent.LicenseInfo{State: "inUse"}, "Active, In Use"},
		{agent.LicenseInfo{State: "notInUse", EULARequired: true}, "Active, Not in Use, EULA not accepted"},
		{agent.LicenseInfo{State: "notInUse", EULARequired: true, EULAAccepted: true}, "Active, Not in Use, EULA accepted"},
		{agent.LicenseInfo{State: "inactive"}, "Inactive"},
		{agent.LicenseInfo{State: "expiredInUse"}, "Active, In Use, Expired"},
		{agent.LicenseInfo{State: "expiredNotInUse"}, "Expired, Not in Use"},
		{agent.LicenseInfo{State: "usageCountConsumed"}, "Active, In Use, Usage Count Consumed"},
		{agent.LicenseInfo{State: "odd"}, "odd"},
	}
	for _, c := range cases {
		if got := stateDisplay(c.l); got != c.want {
			t.Errorf("%v: %q, want %q", c.l.State, got, c.want)
		}
	}
	if got := typeDisplay(agent.LicenseInfo{Type: "gracePeriod"}); got != "Grace Period" {
		t.Errorf("typeDisplay = %q", got)
	}
	l := agent.LicenseInfo{Type: "rightToUse", UDI: "A<B:C&D"}
	if got := vendorInfo(l); got != "<UDI><PID>A&lt;B</PID><SN>C&amp;D</SN></UDI><T>RTU</T>" {
		t.Errorf("vendorInfo = %q", got)
	}
}

// TestAnswers checks confirmations read one line at a time and leave the
// rest of the input alone.
func TestAnswers(t *testing.T) {
	in := strings.NewReader("  YES \r\nnext line\n")
	r := &runner{d: Deps{In: in, Out: io.Discard}.withDefaults()}
	ok, err := r.askYesNo("? ")
	if err != nil || !ok {
		t.Fatalf("%v %v", ok, err)
	}
	rest, _ := io.ReadAll(in)
	if string(rest) != "next line\n" {
		t.Errorf("rest %q", rest)
	}
	r = &runner{d: Deps{In: strings.NewReader("a\nb\nc\nyes\n"), Out: io.Discard}.withDefaults()}
	if ok, _ := r.askYesNo("? "); ok {
		t.Error("three unclear answers must be no")
	}
	r = &runner{d: Deps{In: strings.NewReader("no"), Out: io.Discard}.withDefaults()}
	if ok, _ := r.askYesNo("? "); ok {
		t.Error("no without newline")
	}
	r = &runner{d: Deps{In: strings.NewReader("\n"), Out: io.Discard}.withDefaults()}
	if ok, _ := r.askConfirm("? "); !ok {
		t.Error("Return confirms")
	}
	r = &runner{d: Deps{In: errReader{}, Out: io.Discard}.withDefaults()}
	if _, err := r.askConfirm("? "); err == nil || !strings.Contains(err.Error(), "cannot read the answer") {
		t.Errorf("read error: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("broken pipe") }

// TestBlankLine: pressing Return does nothing.
func TestBlankLine(t *testing.T) {
	api := newFake(c3750e())
	for _, line := range []string{"", "   ", "\t"} {
		if r := runLine(Deps{API: api}, line); r.code != ExitOK || r.out != "" || r.err != "" {
			t.Errorf("%q: %v", line, r)
		}
	}
	if calls := api.Calls(); len(calls) != 0 {
		t.Errorf("calls %q", calls)
	}
}

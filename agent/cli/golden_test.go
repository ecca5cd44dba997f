package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/licensed-dev/licensed/agent"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

type platform struct {
	name   string
	status func() *agent.Status
}

func platforms() []platform {
	return []platform{
		{"c3750e", func() *agent.Status { return c3750eStatus(false) }},
		{"c3750e-stack", func() *agent.Status { return c3750eStatus(true) }},
		{"c2900", c2900Status},
		{"uc500", uc500Status},
	}
}

// result is what one command did.
type result struct {
	code     int
	out, err string
}

func (r result) String() string {
	return fmt.Sprintf("exit: %d\n-- stdout --\n%s-- stderr --\n%s", r.code, r.out, r.err)
}

// runLine runs line against d with captured output.
func runLine(d Deps, line string) result {
	var out, errb bytes.Buffer
	d.Out, d.Err = &out, &errb
	code := RunLine(context.Background(), d, line)
	return result{code, out.String(), errb.String()}
}

func runWords(d Deps, words ...string) result {
	var out, errb bytes.Buffer
	d.Out, d.Err = &out, &errb
	code := Run(context.Background(), d, words)
	return result{code, out.String(), errb.String()}
}

func adminDeps(api agent.API) Deps {
	return Deps{API: api, Files: newFiles(), Privilege: agent.PrivAdmin}
}

// checkGolden compares got with testdata/golden/name.golden, or rewrites
// the file under -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./agent/cli -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n%s", name, path, lineDiff(string(want), got))
	}
}

// lineDiff shows the first lines that differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 8; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %q\n  got  %q\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

func goldenName(s string) string {
	r := strings.NewReplacer(" ", "_", "|", "pipe", "?", "help", "\"", "", "/", "-")
	return r.Replace(s)
}

// TestShowGolden prints every show command on every platform.
func TestShowGolden(t *testing.T) {
	cmds := []string{
		"show license", "show license udi", "show license all", "show license detail",
		"show license feature", "show license status", "show license file", "show license statistics",
		"show license call-home", "show license history", "show version", "show running-config",
	}
	for _, p := range platforms() {
		for _, c := range cmds {
			t.Run(p.name+"/"+c, func(t *testing.T) {
				d := Deps{API: newFake(p.status), Privilege: agent.PrivRead}
				r := runLine(d, c)
				if r.code != ExitOK || r.err != "" {
					t.Fatalf("%q: %v", c, r)
				}
				checkGolden(t, p.name+"/"+goldenName(c), r.out)
			})
		}
	}
}

// TestDetailFeatureGolden prints show license detail for one feature.
func TestDetailFeatureGolden(t *testing.T) {
	d := Deps{API: newFake(c2900Status), Privilege: agent.PrivRead}
	r := runLine(d, "sh lic det securityk9")
	if r.code != ExitOK {
		t.Fatal(r)
	}
	checkGolden(t, "c2900/show_license_detail_securityk9", r.out)
}

// TestCommandGolden runs the commands that change the device and the
// error paths, with their messages.
func TestCommandGolden(t *testing.T) {
	files := func() *memFiles {
		return newFiles(
			"good.lic", "feature ipservices\n",
			"mixed.lic", "feature ipservices\nfeature advipservices existing\nfeature ipbase fail\n",
			"empty.lic", "nothing here\n",
			"perm.tkt", "permission ticket\n",
		)
	}
	cases := []struct {
		name, line  string
		in          string
		interactive bool
		priv        int
		status      func() *agent.Status
	}{
		{name: "install", line: "license install good.lic"},
		{name: "install_mixed", line: "lic inst mixed.lic"},
		{name: "install_stdin", line: "license install -", in: "feature advipservices\n"},
		{name: "install_invalid_file", line: "license install empty.lic"},
		{name: "install_missing_file", line: "license install nosuch.lic"},
		{name: "clear", line: "license clear ipservices"},
		{name: "clear_unknown", line: "license clear nosuch"},
		{name: "save", line: "license save all.lic"},
		{name: "save_stdout", line: "license save -"},
		{name: "save_readonly", line: "license save ro:all.lic"},
		{name: "save_credential", line: "license save credential cred.txt"},
		{name: "boot_level", line: "license boot level ipservices"},
		{name: "boot_level_eula", line: "license boot level advipservices"},
		{name: "boot_level_eula_interactive", line: "license boot level advipservices", in: "yes\n", interactive: true},
		{name: "boot_level_unknown", line: "license boot level enterprise"},
		{name: "boot_module", line: "license boot module c3750e technology-package ipservices"},
		{name: "boot_module_wrong", line: "license boot module c2900 tech securityk9"},
		{name: "accept_eula", line: "license accept end user agreement"},
		{name: "accept_eula_interactive", line: "lic acc end us agr", in: "maybe\ny\n", interactive: true},
		{name: "accept_eula_declined", line: "license accept end user agreement", in: "no\n", interactive: true},
		{name: "comment_add", line: `license comment add ipservices "PO 4471  rack B3"`},
		{name: "comment_add_words", line: `license comment add ipservices bought with the stack`},
		{name: "comment_delete", line: "license comment delete ipservices"},
		{name: "revoke", line: "license revoke perm.tkt rehost.tkt"},
		{name: "revoke_stdout", line: "license revoke perm.tkt -"},
		{name: "revoke_bad_ticket", line: "license revoke good.lic rehost.tkt"},
		{name: "revoke_unwritable", line: "license revoke perm.tkt ro:rehost.tkt"},
		{name: "callhome_pak_yes", line: "license call-home install pak 3XK7Q9M2P1A --yes"},
		{name: "callhome_pak_noninteractive", line: "license call-home install pak 3XK7Q9M2P1A"},
		{name: "callhome_pak_interactive", line: "license call-home install pak 3XK7Q9M2P1A", in: "yes\n", interactive: true},
		{name: "callhome_pak_declined", line: "license call-home install pak 3XK7Q9M2P1A", in: "no\n", interactive: true},
		{name: "callhome_pak_refused", line: "license call-home install pak BADPAK00000 --yes"},
		{name: "callhome_resend", line: "license call-home resend"},
		{name: "callhome_revoke", line: "license call-home revoke WS-C3750E-24TD-S:FDO9999X9ZZ"},
		{name: "callhome_url", line: "license call-home url https://portal2.example.net/licensing"},
		{name: "callhome_show_pak", line: "license call-home show pak 3XK7Q9M2P1A"},
		{name: "reload", line: "reload"},
		{name: "reload_interactive", line: "reload", in: "\n", interactive: true},
		{name: "reload_declined", line: "reload", in: "n\n", interactive: true},
		{name: "reload_eof", line: "reload", interactive: true},
		{name: "acquire", line: "license feature acquire phones 12", status: uc500Status},
		{name: "acquire_unknown", line: "lic feature acq nosuch 1"},
		{name: "release", line: "license feature release phones 4", status: uc500Status},
		{name: "refused_read_only", line: "license clear ipservices", priv: agent.PrivRead},
		{name: "invalid", line: "show licnse udi"},
		{name: "invalid_leaf_arg", line: "show license udi extra"},
		{name: "invalid_number", line: "license feature acquire phones 12x"},
		{name: "invalid_quote", line: `license comment add ipservices "open`},
		{name: "ambiguous", line: "sh lic f"},
		{name: "incomplete", line: "show license detail ipservices | include"},
		{name: "incomplete_show", line: "show"},
		{name: "bad_regexp", line: "show license | include (ip"},
		{name: "help_root", line: "?"},
		{name: "help_show_license", line: "show license ?"},
		{name: "help_partial", line: "sh lic s?"},
		{name: "help_pipe", line: "show license udi | ?"},
		{name: "help_read_only", line: "?", priv: agent.PrivRead},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := files()
			status := c.status
			if status == nil {
				status = func() *agent.Status { return c3750eStatus(false) }
			}
			d := Deps{API: newFake(status), Files: fs,
				In: strings.NewReader(c.in), Interactive: c.interactive, Privilege: agent.PrivAdmin}
			if c.priv != 0 {
				d.Privilege = c.priv
			}
			r := runLine(d, c.line)
			got := "$ " + c.line + "\n" + r.String()
			for _, name := range []string{"all.lic", "cred.txt", "rehost.tkt"} {
				if s, ok := fs.get(name); ok {
					got += "-- file " + name + " --\n" + s
				}
			}
			checkGolden(t, "commands/"+c.name, got)
		})
	}
}

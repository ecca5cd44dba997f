package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// now is the fixed wall clock of the tests.
var now = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// licportal runs one command line in-process.
func licportal(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &env{Stdout: &out, Stderr: &errOut, Now: func() time.Time { return now }})
	return code, out.String(), errOut.String()
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "a command is required (audit, device, extension, init, issue, pak, permission-ticket, redeem, rehost, rma, serve, sku)"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown flag", []string{"init", "--state-dir", dir, "--colour"}, "unknown flag: --colour"},
		{"init without state dir", []string{"init"}, `required flag(s) "state-dir" not set`},
		{"init empty state dir", []string{"init", "--state-dir="}, "state directory: empty path"},
		{"init extra argument", []string{"init", "--state-dir", dir, "extra"}, `unknown command "extra"`},
		{"init bad listen name", []string{"init", "--state-dir", dir, "--listen-name", "bad_name.example"}, `--listen-name "bad_name.example": not an IP address or DNS name`},
		{"init empty listen name", []string{"init", "--state-dir", dir, "--listen-name", ""}, `--listen-name "": empty name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := licportal(t, tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d; want %d", code, exitUsage)
			}
			if !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, "--help' for usage") {
				t.Errorf("stderr %q; want it to contain %q and a usage hint", errOut, tt.want)
			}
			if out != "" {
				t.Errorf("stdout %q; want nothing", out)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("usage errors left files behind: %v", entries)
	}
}

// TestHelp keeps the help texts, which are documentation, under review.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"init", "--help"}, {"issue", "--help"}} {
		name := strings.Join(append([]string{"help"}, args[:len(args)-1]...), "-") + ".golden"
		t.Run(name, func(t *testing.T) {
			code, out, errOut := licportal(t, args...)
			if code != exitOK || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			path := filepath.Join("testdata", name)
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if out != string(want) {
				t.Errorf("help differs from %s (run go test -update after checking):\n%s", path, out)
			}
		})
	}
}

package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/license"
)

const udi = "WS-C3750E-24TD-S:FDO1234X0AB"

// initDir makes a state directory for issue tests.
func initDir(t *testing.T) (string, *license.Trust) {
	t.Helper()
	dir := t.TempDir()
	if code, _, errOut := licportal(t, "init", "--state-dir", dir); code != exitOK {
		t.Fatalf("init: %s", errOut)
	}
	data, err := os.ReadFile(filepath.Join(dir, "trust.pem"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := license.ParseTrust(data)
	if err != nil {
		t.Fatal(err)
	}
	return dir, tr
}

func TestIssue(t *testing.T) {
	dir, tr := initDir(t)
	day := 24 * time.Hour
	tests := []struct {
		name  string
		flags []string
		want  license.License // ID, Issued, KeyID and Signature are not compared
	}{
		{"permanent by default", []string{"--feature", "ipservices"},
			license.License{Feature: "ipservices", Version: "1.0", Type: license.Permanent, UDI: udi, Addition: license.Exclusive}},
		{"extension, default 60 days", []string{"--feature", "advipservices", "--type", "extension"},
			license.License{Feature: "advipservices", Version: "1.0", Type: license.Extension, UDI: udi, Addition: license.Exclusive, Period: 60 * day}},
		{"grace period of 30 days", []string{"--feature", "ipservices", "--type", "gracePeriod", "--days", "30"},
			license.License{Feature: "ipservices", Version: "1.0", Type: license.GracePeriod, UDI: udi, Addition: license.Exclusive, Period: 30 * day}},
		{"evaluation", []string{"--feature", "ipservices", "--type", "evaluation", "--days", "7"},
			license.License{Feature: "ipservices", Version: "1.0", Type: license.Evaluation, UDI: udi, Addition: license.Exclusive, Period: 7 * day}},
		{"subscription, default one year", []string{"--feature", "securityk9", "--type", "paidSubscription"},
			license.License{Feature: "securityk9", Version: "1.0", Type: license.PaidSubscription, UDI: udi, Addition: license.Exclusive,
				Start: now, End: now.AddDate(0, 0, 365)}},
		{"subscription of 90 days", []string{"--feature", "securityk9", "--type", "paidSubscription", "--days", "90"},
			license.License{Feature: "securityk9", Version: "1.0", Type: license.PaidSubscription, UDI: udi, Addition: license.Exclusive,
				Start: now, End: now.AddDate(0, 0, 90)}},
		{"counted is additive", []string{"--feature", "phones", "--count", "16"},
			license.License{Feature: "phones", Version: "1.0", Type: license.Permanent, UDI: udi, Count: 16, Addition: license.Additive}},
		{"counted exclusive", []string{"--feature", "phones", "--count", "16", "--addition", "exclusive"},
			license.License{Feature: "phones", Version: "1.0", Type: license.Permanent, UDI: udi, Count: 16, Addition: license.Exclusive}},
		{"comment and version", []string{"--feature", "uck9", "--comment", "order 42\nrack: B", "--version", "2.0"},
			license.License{Feature: "uck9", Version: "2.0", Type: license.Permanent, UDI: udi, Addition: license.Exclusive, Comment: "order 42\nrack: B"}},
		{"right to use", []string{"--feature", "ipservices", "--type", "rightToUse"},
			license.License{Feature: "ipservices", Version: "1.0", Type: license.RightToUse, UDI: udi, Addition: license.Exclusive}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"issue", "--state-dir", dir, "--udi", udi}, tt.flags...)
			code, out, errOut := licportal(t, args...)
			if code != exitOK || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			ls, err := license.Parse([]byte(out))
			if err != nil {
				t.Fatalf("output does not parse: %v\n%s", err, out)
			}
			if len(ls) != 1 {
				t.Fatalf("%d licenses", len(ls))
			}
			l := ls[0]
			if err := tr.Verify(l); err != nil {
				t.Errorf("not signed by the portal key: %v", err)
			}
			if len(l.ID) != 16 || seen[l.ID] {
				t.Errorf("license id %q is not a fresh 16-digit id", l.ID)
			}
			seen[l.ID] = true
			if !l.Issued.Equal(now) {
				t.Errorf("issued %v; want %v", l.Issued, now)
			}
			got := *l
			got.ID, got.Issued, got.KeyID, got.Signature = "", time.Time{}, "", nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("license\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestIssueErrors(t *testing.T) {
	dir, _ := initDir(t)
	base := []string{"issue", "--state-dir", dir, "--udi", udi, "--feature", "ipservices"}
	with := func(extra ...string) []string { return append(append([]string{}, base...), extra...) }
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no udi", []string{"issue", "--state-dir", dir, "--feature", "ipservices"}, exitUsage, `required flag(s) "udi" not set`},
		{"no feature", []string{"issue", "--state-dir", dir, "--udi", udi}, exitUsage, `required flag(s) "feature" not set`},
		{"bad udi", []string{"issue", "--state-dir", dir, "--udi", "FDO1234X0AB", "--feature", "ipservices"}, exitUsage, `--udi: UDI "FDO1234X0AB": want PID:SN`},
		{"empty feature", []string{"issue", "--state-dir", dir, "--udi", udi, "--feature", ""}, exitUsage, `--feature "": want a lowercase token`},
		{"upper-case feature", []string{"issue", "--state-dir", dir, "--udi", udi, "--feature", "IPServices"}, exitUsage, `--feature "IPServices": want a lowercase token`},
		{"feature with space", []string{"issue", "--state-dir", dir, "--udi", udi, "--feature", "ip services"}, exitUsage, "want a lowercase token"},
		{"unknown type", with("--type", "demo"), exitUsage, `--type "demo": want one of evaluation, extension`},
		{"negative count", with("--count", "-1"), exitUsage, "--count -1: want 0 to 1000000"},
		{"count too large", with("--count", "1000001"), exitUsage, "--count 1000001: want 0 to 1000000"},
		{"count not a number", with("--count", "many"), exitUsage, `invalid argument "many" for "--count"`},
		{"days on permanent", with("--days", "30"), exitUsage, "--days does not apply to type permanent"},
		{"negative days", with("--type", "extension", "--days", "-5"), exitUsage, "--days -5: want 1 to 36500"},
		{"too many days", with("--type", "extension", "--days", "40000"), exitUsage, "--days 40000: want 1 to 36500"},
		{"bad addition", with("--addition", "both"), exitUsage, `--addition "both": want exclusive or additive`},
		{"long comment", with("--comment", strings.Repeat("x", 256)), exitUsage, "--comment: 256 bytes; at most 255"},
		{"bad version", with("--version", "1 0"), exitUsage, `--version: "1 0": want`},
		{"extra argument", with("extra"), exitUsage, `unknown command "extra"`},
		{"no state", []string{"issue", "--state-dir", filepath.Join(dir, "missing"), "--udi", udi, "--feature", "ipservices"}, exitFailure, "no signing key at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := licportal(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d; want %d (stderr %q)", code, tt.code, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q; want it to contain %q", errOut, tt.want)
			}
			if out != "" {
				t.Errorf("stdout %q; want nothing", out)
			}
		})
	}
}

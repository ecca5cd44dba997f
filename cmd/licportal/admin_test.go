package main

import (
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/licensed-dev/licensed/call-home/protocol"
	"github.com/licensed-dev/licensed/cmd/licportal/internal/statedir"
	"github.com/licensed-dev/licensed/license"
	"github.com/licensed-dev/licensed/portal"
)

const (
	udiA = "WS-C3750E-24TD-S:FDO1234X0AB"
	udiB = "WS-C3750E-24TD-S:FDO1234X0CD"
)

// portalDir is an initialised state directory and the portal's trust.
func portalDir(t *testing.T) (string, *license.Trust) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "portal")
	if code, out, errOut := licportal(t, "init", "--state-dir", dir); code != exitOK || !strings.Contains(out, "SKU catalog:     6 SKUs") {
		t.Fatalf("init: exit %d: %s%s", code, out, errOut)
	}
	data, err := os.ReadFile(filepath.Join(dir, statedir.TrustFile))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := license.ParseTrust(data)
	if err != nil {
		t.Fatal(err)
	}
	return dir, tr
}

func ok(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := licportal(t, args...)
	if code != exitOK {
		t.Fatalf("licportal %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// deviceKey makes a device key and writes its credential file.
func deviceKey(t *testing.T, udis ...string) (key ed25519.PrivateKey, credFile string) {
	t.Helper()
	k, err := license.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	c, err := license.NewCredential(udis, "sw", k, now)
	if err != nil {
		t.Fatal(err)
	}
	credFile = filepath.Join(t.TempDir(), "cred.txt")
	if err := os.WriteFile(credFile, c.Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
	return k, credFile
}

func parseLicenses(t *testing.T, tr *license.Trust, data string) []*license.License {
	t.Helper()
	ls, err := license.Parse([]byte(data))
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	for _, l := range ls {
		if err := tr.Verify(l); err != nil {
			t.Fatal(err)
		}
	}
	return ls
}

// golden compares human output with testdata/NAME.golden after replacing
// what changes from run to run (PAKs) by fixed text: pairs of old, new.
func golden(t *testing.T, name, out string, replace ...string) {
	t.Helper()
	out = strings.NewReplacer(replace...).Replace(out)
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("%s differs from %s (run go test -update after checking):\n%s", name, path, out)
	}
}

func TestCatalogAndPAKs(t *testing.T) {
	dir, _ := portalDir(t)
	golden(t, "sku-list", ok(t, "sku", "list", "--state-dir", dir))
	ok(t, "sku", "add", "--state-dir", dir, "--name", "c2900-sec-trial", "--feature", "securityk9", "--type", "extension", "--days", "120")
	if out := ok(t, "sku", "list", "--state-dir", dir); !strings.Contains(out, "c2900-sec-trial") {
		t.Errorf("sku list after add:\n%s", out)
	}
	pak := ok(t, "pak", "create", "--state-dir", dir, "--sku", "c3750e-ipservices", "--qty", "3", "--order", "SO-7")
	if p := strings.TrimSuffix(pak, "\n"); len(p) != protocol.PAKLength || strings.Contains(p, "\n") {
		t.Fatalf("pak create printed %q; want the PAK alone", pak)
	}
	pak = strings.TrimSpace(pak)
	if _, err := protocol.NormalizePAK(pak); err != nil {
		t.Fatal(err)
	}
	golden(t, "pak-show", ok(t, "pak", "show", "--state-dir", dir, strings.ToLower(pak)), pak, "PAK0000000X")
	many := strings.Fields(ok(t, "pak", "create", "--state-dir", dir, "--sku", "c2900-uck9", "--sku", "c2900-datak9", "--count", "3"))
	if len(many) != 3 {
		t.Fatalf("--count 3 printed %v", many)
	}
	code, _, errOut := licportal(t, "pak", "create", "--state-dir", dir, "--sku", "nope")
	if code != exitFailure || !strings.Contains(errOut, "SKU nope is not in the catalog") {
		t.Errorf("unknown SKU: exit %d: %s", code, errOut)
	}
}

func TestOfflinePaths(t *testing.T) {
	dir, tr := portalDir(t)
	key, cred := deviceKey(t, udiA)
	pak := strings.TrimSpace(ok(t, "pak", "create", "--state-dir", dir, "--sku", "c3750e-ipservices", "--sku", "c3750e-advipservices"))

	// Credential file → license file.
	lic := filepath.Join(t.TempDir(), "a.lic")
	code, _, errOut := licportal(t, "redeem", "--state-dir", dir, "--credential", cred, "--pak", pak, "--sku", "c3750e-ipservices", "-o", lic)
	if code != exitOK || !strings.Contains(errOut, "c3750e-ipservices x1 (0 left)") {
		t.Fatalf("redeem: exit %d: %s", code, errOut)
	}
	data, _ := os.ReadFile(lic)
	ls := parseLicenses(t, tr, string(data))
	if len(ls) != 1 || ls[0].UDI != udiA || ls[0].Feature != "ipservices" || ls[0].PAK != pak {
		t.Fatalf("redeemed %+v", ls)
	}
	ok(t, "redeem", "--state-dir", dir, "--credential", cred, "--pak", pak)
	code, _, errOut = licportal(t, "redeem", "--state-dir", dir, "--credential", cred, "--pak", pak)
	if code != exitFailure || !strings.Contains(errOut, "fully redeemed") {
		t.Fatalf("redeem of an exhausted PAK: exit %d: %s", code, errOut)
	}

	ext := parseLicenses(t, tr, ok(t, "extension", "issue", "--state-dir", dir, "--udi", udiA, "--feature", "ipservices", "--days", "120"))
	if ext[0].Type != license.Extension || ext[0].Period.Hours() != 120*24 {
		t.Fatalf("extension %+v", ext[0])
	}

	// Rehost by hand: permission ticket → device → rehost ticket → target.
	pt, err := license.ParsePermissionTicket([]byte(ok(t, "permission-ticket", "--state-dir", dir, "--udi", udiA, "--target", udiB)))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.VerifyTicket(pt); err != nil || len(pt.LicenseIDs) != 3 || len(pt.Grace) != 3 {
		t.Fatalf("permission ticket %+v, %v", pt, err)
	}
	rt, err := license.NewRehostTicket(pt, pt.LicenseIDs, key, now)
	if err != nil {
		t.Fatal(err)
	}
	rtFile := filepath.Join(t.TempDir(), "rehost.txt")
	os.WriteFile(rtFile, rt.Encode(), 0o644)
	code, out, errOut := licportal(t, "rehost", "--state-dir", dir, "--rehost-ticket", rtFile)
	if code != exitOK || !strings.Contains(errOut, "moved from "+udiA+" to "+udiB) {
		t.Fatalf("rehost: exit %d: %s", code, errOut)
	}
	if moved := parseLicenses(t, tr, out); len(moved) != 3 || moved[0].UDI != udiB {
		t.Fatalf("rehosted %+v", moved)
	}
	show := ok(t, "device", "show", "--state-dir", dir, "--udi", udiA)
	for _, want := range []string{"Device key:  " + license.KeyID(key.Public().(ed25519.PublicKey)), "First seen:  2026-11-01T12:00:00Z",
		"rehosted -> ", "gracePeriod", "extension", "used", "device-key-bound", "permission-ticket", "rehost "} {
		if !strings.Contains(show, want) {
			t.Errorf("device show lacks %q:\n%s", want, show)
		}
	}

	// RMA of the target, with the replacement's license file.
	repl := "WS-C3750E-24TD-S:FDO9999Z0ZZ"
	rmaFile := filepath.Join(t.TempDir(), "repl.lic")
	out = ok(t, "rma", "--state-dir", dir, "--from", udiB, "--to", repl, "--license-file", rmaFile)
	if !strings.Contains(out, udiB+" replaced by "+repl) || strings.Count(out, " -> ") != 3 {
		t.Fatalf("rma:\n%s", out)
	}
	data, _ = os.ReadFile(rmaFile)
	if r := parseLicenses(t, tr, string(data)); len(r) != 3 || r[0].UDI != repl {
		t.Fatalf("replacement file %+v", r)
	}
	code, _, errOut = licportal(t, "rma", "--state-dir", dir, "--from", udiB, "--to", repl)
	if code != exitFailure || !strings.Contains(errOut, "already replaced") {
		t.Fatalf("second rma: exit %d: %s", code, errOut)
	}
	ok(t, "device", "reset-key", "--state-dir", dir, "--udi", udiA)
	audit := ok(t, "audit", "--state-dir", dir, "--limit", "0")
	for _, a := range []string{"sku-add", "pak-create", "device-key-bound", "redeem", "extension-issue", "permission-ticket", "rehost", "rma", "device-key-reset"} {
		if !strings.Contains(audit, " "+a+" ") {
			t.Errorf("audit has no %s:\n%s", a, audit)
		}
	}
	if n := strings.Count(ok(t, "audit", "--state-dir", dir, "--limit", "2"), "\n"); n != 3 {
		t.Errorf("--limit 2 printed %d lines", n)
	}
}

// TestThroughAdminSocket: with a server holding the store, commands go
// through its admin socket.
func TestThroughAdminSocket(t *testing.T) {
	dir, _ := portalDir(t)
	d := statedir.Dir{Path: dir}
	st, err := portal.OpenBolt(d.File(storeFile), portal.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	signer, _ := d.LoadSigner()
	p, err := portal.New(portal.Config{Store: st, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := portal.ListenAdmin(d.File(adminSocketFile))
	if err != nil {
		t.Fatal(err)
	}
	srv := portal.NewAdminServer(p)
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	if fi, err := os.Stat(d.File(adminSocketFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin socket mode %v, %v", fi.Mode().Perm(), err)
	}
	pak := strings.TrimSpace(ok(t, "pak", "create", "--state-dir", dir, "--sku", "uc500-phones", "--qty", "4"))
	if out := ok(t, "pak", "show", "--state-dir", dir, pak); !strings.Contains(out, "uc500-phones") {
		t.Fatalf("pak show:\n%s", out)
	}
	// The store is held by the server, so this went through the socket.
	if _, err := portal.OpenBolt(d.File(storeFile), portal.BoltOptions{Timeout: -1}); err == nil {
		t.Fatal("the store was not held by the server")
	}
	if out := ok(t, "audit", "--state-dir", dir, "--limit", "1"); !strings.Contains(out, "pak-create") {
		t.Fatalf("audit:\n%s", out)
	}
}

// TestOldStateDirGetsCatalog: a state directory made before the portal
// had a store gets the built-in SKUs on first use.
func TestOldStateDirGetsCatalog(t *testing.T) {
	dir, _ := portalDir(t)
	for _, f := range []string{storeFile} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	if out := ok(t, "pak", "create", "--state-dir", dir, "--sku", "c3750e-ipservices"); len(strings.TrimSpace(out)) != protocol.PAKLength {
		t.Fatalf("pak create: %q", out)
	}
}

func TestAdminUsageErrors(t *testing.T) {
	dir, _ := portalDir(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"pak", "create", "--state-dir", dir}, `required flag(s) "sku" not set`},
		{[]string{"pak", "create", "--state-dir", dir, "--sku", "x", "--qty", "0"}, "--qty 0"},
		{[]string{"pak", "show", "--state-dir", dir, "SHORT"}, "11 characters"},
		{[]string{"pak"}, "a subcommand is required"},
		{[]string{"sku", "add", "--state-dir", dir, "--name", "x", "--feature", "Y"}, "lowercase"},
		{[]string{"redeem", "--state-dir", dir, "--credential", "c", "--pak", "nope"}, "invalid PAK"},
		{[]string{"rma", "--state-dir", dir, "--from", "bad", "--to", udiB}, "--from"},
		{[]string{"device", "show", "--state-dir", dir, "--udi", "x"}, "--udi"},
		{[]string{"extension", "issue", "--state-dir", dir, "--udi", udiA, "--feature", "IP"}, "--feature"},
		{[]string{"permission-ticket", "--state-dir", dir, "--udi", udiA, "--grace-days", "-2"}, "--grace-days"},
		{[]string{"serve", "--state-dir", dir, "--listen", "nocolon"}, "--listen"},
		{[]string{"audit", "--state-dir", dir, "--limit", "-1"}, "--limit"},
	} {
		code, _, errOut := licportal(t, tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 with %q", tc.args, code, errOut, tc.want)
		}
	}
	// Failures that are not the command line's fault exit 1.
	code, _, errOut := licportal(t, "device", "show", "--state-dir", dir, "--udi", udiA)
	if code != exitFailure || !strings.Contains(errOut, "knows nothing of UDI") {
		t.Errorf("unknown device: exit %d, %q", code, errOut)
	}
	code, _, errOut = licportal(t, "sku", "list", "--state-dir", filepath.Join(t.TempDir(), "none"))
	if code != exitFailure || !strings.Contains(errOut, "run licportal init") {
		t.Errorf("uninitialised directory: exit %d, %q", code, errOut)
	}
}

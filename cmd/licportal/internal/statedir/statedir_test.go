package statedir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/licensed-dev/licensed/license"
)

func TestCreateAndWrite(t *testing.T) {
	root := t.TempDir()
	d, err := New(filepath.Join(root, "state", "nested"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Create(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(d.Path); err != nil || fi.Mode().Perm() != DirPerm {
		t.Fatalf("directory mode %v, %v; want %v", fi.Mode().Perm(), err, DirPerm)
	}
	// An existing directory with loose permissions is tightened.
	if err := os.Chmod(d.Path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := d.Create(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(d.Path); fi.Mode().Perm() != DirPerm {
		t.Errorf("existing directory left at %v", fi.Mode().Perm())
	}

	for _, perm := range []os.FileMode{SecretPerm, PublicPerm} {
		if err := d.WriteFile("f", []byte("v"+perm.String()), perm); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(d.File("f"))
		if err != nil || fi.Mode().Perm() != perm {
			t.Errorf("file mode %v, %v; want %v", fi.Mode().Perm(), err, perm)
		}
		if got, _ := os.ReadFile(d.File("f")); string(got) != "v"+perm.String() {
			t.Errorf("content %q", got)
		}
	}
	entries, _ := os.ReadDir(d.Path)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if ok, err := d.Exists("f"); !ok || err != nil {
		t.Errorf("Exists(f) = %v, %v", ok, err)
	}
	if ok, err := d.Exists("g"); ok || err != nil {
		t.Errorf("Exists(g) = %v, %v", ok, err)
	}
	if _, err := New(""); err == nil {
		t.Error("New(\"\") accepted an empty path")
	}
}

func TestLoadSigner(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	_, err := d.LoadSigner()
	if err == nil || !strings.Contains(err.Error(), "run licportal init") {
		t.Errorf("missing key: %v", err)
	}
	if err := d.WriteFile(SigningKeyFile, []byte("junk"), SecretPerm); err != nil {
		t.Fatal(err)
	}
	if _, err := d.LoadSigner(); err == nil || !strings.Contains(err.Error(), SigningKeyFile) {
		t.Errorf("damaged key: %v", err)
	}
	k, err := license.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.WriteFile(SigningKeyFile, license.MarshalPrivateKey(k), SecretPerm); err != nil {
		t.Fatal(err)
	}
	s, err := d.LoadSigner()
	if err != nil || !s.Public().Equal(k.Public()) {
		t.Errorf("LoadSigner = %v, %v", s, err)
	}
}

package sshd

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func (ts *testServer) sftp(key, user, batch string) sshResult {
	args := append(ts.keyOpts(key), "-b", "-", "-P", ts.port, user+"@"+ts.host)
	return run(ts.t, "sftp", args, strings.NewReader(batch), nil, false)
}

func (ts *testServer) scp(key string, args ...string) sshResult {
	return run(ts.t, "scp", append(append(ts.keyOpts(key), "-P", ts.port), args...), nil, nil, false)
}

func randomFile(t *testing.T, path string, n int) []byte {
	t.Helper()
	data := make([]byte, n)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return data
}

// flashNames lists the real folder, hidden files included.
func flashNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestSFTP(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.FlashMaxFile = 64 << 10 })
	local := t.TempDir()
	data := randomFile(t, filepath.Join(local, "a.lic"), 5000)
	randomFile(t, filepath.Join(local, "x.txt"), 10)
	randomFile(t, filepath.Join(local, "big.lic"), 100<<10)
	flashDir := filepath.Join(ts.dir, "flash")
	if err := os.Symlink("/etc/passwd", filepath.Join(flashDir, "evil.lic")); err != nil {
		t.Fatal(err)
	}
	in := func(name string) string { return filepath.Join(local, name) }

	tests := []struct {
		name     string
		user     string
		batch    string
		wantOK   bool
		wantOut  string // in stdout
		notOut   string // never in stdout
		wantErr  string // in stderr
		wantDir  []string
		checkGet string // local file that must equal data
	}{
		{name: "put", batch: "put " + in("a.lic") + "\n", wantOK: true, wantDir: []string{"a.lic", "evil.lic"}},
		{name: "ls lists license files but not links", batch: "ls -l\n", wantOK: true, wantOut: "a.lic", notOut: "evil"},
		{name: "get", batch: "get a.lic " + in("back.lic") + "\n", wantOK: true, checkGet: "back.lic"},
		{name: "get through a link", batch: "get evil.lic " + in("evil.lic") + "\n", wantErr: "evil.lic"},
		{name: "put a text file", batch: "put " + in("x.txt") + "\n", wantErr: "Permission denied", wantDir: []string{"a.lic", "evil.lic"}},
		{name: "put above the folder", batch: "put " + in("a.lic") + " ../x\n", wantErr: "Permission denied"},
		{name: "put into a subfolder", batch: "put " + in("a.lic") + " ../../etc/x.lic\n", wantErr: "Permission denied"},
		{name: "get outside", batch: "get ../../etc/passwd " + in("passwd") + "\n", wantErr: "passwd"},
		{name: "mkdir", batch: "mkdir d\n", wantErr: "Permission denied"},
		{name: "too large is refused while writing", batch: "put " + in("big.lic") + "\n", wantErr: "big.lic",
			wantDir: []string{"a.lic", "evil.lic"}},
		{name: "read-only user may get", user: "oper", batch: "get a.lic " + in("oper.lic") + "\n", wantOK: true, checkGet: "oper.lic"},
		{name: "read-only user may not put", user: "oper", batch: "put " + in("a.lic") + " c.lic\n", wantErr: "Permission denied",
			wantDir: []string{"a.lic", "evil.lic"}},
		{name: "read-only user may not remove", user: "oper", batch: "rm a.lic\n", wantErr: "Permission denied"},
		{name: "rename", batch: "rename a.lic b.lic\n", wantOK: true, wantDir: []string{"b.lic", "evil.lic"}},
		{name: "rename to another type", batch: "rename b.lic b.txt\n", wantErr: "Permission denied", wantDir: []string{"b.lic", "evil.lic"}},
		{name: "rm", batch: "rm b.lic\n", wantOK: true, wantDir: []string{"evil.lic"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts.t = t
			user, key := "admin", ts.admin.Path
			if tt.user == "oper" {
				user, key = "oper", ts.oper.Path
			}
			r := ts.sftp(key, user, tt.batch)
			if (r.Code == 0) != tt.wantOK {
				t.Fatalf("exit %d, want success %v; stdout %q stderr %q", r.Code, tt.wantOK, r.Stdout, r.Stderr)
			}
			if !strings.Contains(r.Stdout, tt.wantOut) || tt.notOut != "" && strings.Contains(r.Stdout, tt.notOut) {
				t.Errorf("stdout %q: want %q, not %q", r.Stdout, tt.wantOut, tt.notOut)
			}
			if !strings.Contains(r.Stderr, tt.wantErr) {
				t.Errorf("stderr %q, want %q", r.Stderr, tt.wantErr)
			}
			if tt.wantDir != nil {
				if got := flashNames(t, flashDir); fmt.Sprint(got) != fmt.Sprint(tt.wantDir) {
					t.Errorf("flash folder holds %q, want %q", got, tt.wantDir)
				}
			}
			if tt.checkGet != "" {
				got, err := os.ReadFile(in(tt.checkGet))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, data) {
					t.Errorf("got %d bytes back, not what was put", len(got))
				}
			}
		})
	}
}

// OpenSSH ≥ 9 scp speaks SFTP; a file copied in can then be installed from
// flash: by the shell.
func TestSCPAndInstallFromFlash(t *testing.T) {
	ts := startServer(t, nil)
	ts.t = t
	local := t.TempDir()
	data := randomFile(t, filepath.Join(local, "x.lic"), 20000)
	randomFile(t, filepath.Join(local, "x"), 10)
	dest := "admin@" + ts.host + ":"

	if r := ts.scp(ts.admin.Path, filepath.Join(local, "x.lic"), dest+"r.lic"); r.Code != 0 {
		t.Fatalf("scp to device: %+v", r)
	}
	if r := ts.scp(ts.admin.Path, dest+"r.lic", filepath.Join(local, "back.lic")); r.Code != 0 {
		t.Fatalf("scp from device: %+v", r)
	}
	back, err := os.ReadFile(filepath.Join(local, "back.lic"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, data) {
		t.Fatalf("round trip changed the file")
	}
	want := fmt.Sprintf("installed %d bytes sha256=%x", len(data), sha256.Sum256(data))
	for _, name := range []string{"flash:r.lic", "flash:/r.lic", "r.lic"} {
		if r := ts.ssh(ts.admin.Path, "admin", "install "+name, nil); r.Code != 0 || !strings.Contains(r.Stdout, want) {
			t.Errorf("install %s: %+v", name, r)
		}
	}
	for _, target := range []string{"../x", "x", "../../etc/x.lic", "sub/x.lic"} {
		src := filepath.Join(local, "x.lic")
		if target == "x" {
			src = filepath.Join(local, "x")
		}
		if r := ts.scp(ts.admin.Path, src, dest+target); r.Code == 0 {
			t.Errorf("scp to %s succeeded", target)
		}
	}
	if got := flashNames(t, filepath.Join(ts.dir, "flash")); fmt.Sprint(got) != "[r.lic]" {
		t.Errorf("flash folder holds %q", got)
	}
	if r := ts.ssh(ts.admin.Path, "admin", "install flash:../x.lic", nil); r.Code != 1 || !strings.Contains(r.Stderr, "invalid file name") {
		t.Errorf("install flash:../x.lic: %+v", r)
	}
	if a := ts.audit.list(); !strings.Contains(strings.Join(a, "\n"), "admin@127.0.0.1: sftp put flash:r.lic (20000 bytes)") {
		t.Errorf("audit %q", a)
	}
}
